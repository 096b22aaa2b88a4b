"""What every ``gridmap`` command shares: the app, consoles, options and the database URL.

Configuration is read here and in ``api/`` only: ``GRIDMAP_DATABASE_URL`` names the database;
without it gridmap finds or starts a local PostgreSQL with PostGIS and creates the
``gridmap`` database itself.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler

if TYPE_CHECKING:
    from gridmap.service import Gridmap

LOG = logging.getLogger("gridmap.cli")

app = typer.Typer(
    name="gridmap",
    help="Grid management for grassroots governance: unified grid codes, 多网合一 merge, "
    "address and point resolution to grid and chiefs, maps, on PostGIS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="GRIDMAP_DATABASE_URL",
        help="PostgreSQL URL; default: find or start a local server and use database 'gridmap'.",
        show_envvar=True,
    ),
]


@app.callback()
def _setup(
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=verbose > 0, rich_tracebacks=False)],
        force=True,
    )
    logging.getLogger("pyogrio").setLevel(logging.WARNING)


def actor() -> str:
    """How the audit trail names a command-line user: ``cli (login name)``."""
    import getpass

    try:
        return f"cli ({getpass.getuser()})"
    except (KeyError, OSError):  # no login name in a bare container
        return "cli"


def open_service(url: str | None) -> Gridmap:
    """The :class:`~gridmap.service.Gridmap` every command works through (close it after)."""
    from gridmap.service import Gridmap

    return Gridmap.connect(database_url(url))


def database_url(url: str | None, migrate: bool = True) -> str:
    """The URL to work with: the given one, or the local default, provisioned and migrated."""
    from gridmap.db import provision

    res = provision(url=url, run_migrations=migrate)
    LOG.debug("using %s (%s)", res.url, res.how)
    return res.url


# ------------------------------------------------------------------------------ db


def progress_bar() -> tuple[Any, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def update(label: str, done: int, total: int) -> None:
        if label not in tasks:
            tasks[label] = bar.add_task(label, total=total or 1)
        bar.update(tasks[label], completed=done if total else 1, total=total or 1)

    return bar, update
