"""The ``gridmap`` command: one module per group of subcommands, all on one typer app."""

from __future__ import annotations

import sys

from gridmap.cli import (  # noqa: F401  (they register commands)
    access,
    appeals,
    data,
    db,
    maps,
    merge,
    plans,
    roster,
    service,
)
from gridmap.cli.common import app, database_url, err
from gridmap.errors import GridmapError

__all__ = ["app", "database_url", "main"]


def main() -> None:
    """Console entry point: library errors become one clear line and exit status 2."""
    try:
        app()
    except GridmapError as exc:
        err.print(f"[red]error[/red] ({exc.code}): {exc}", highlight=False, markup=True)
        problems = getattr(exc, "problems", None)
        if problems:
            for p in problems[:50]:
                err.print(f"  - {p}", highlight=False, markup=False)
            if len(problems) > 50:
                err.print(f"  ... and {len(problems) - 50} more", markup=False)
        sys.exit(2)
