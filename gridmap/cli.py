"""The ``gridmap`` command.

Configuration is read here and in ``api/`` only: ``GRIDMAP_DATABASE_URL`` names the database;
without it gridmap finds or starts a local PostgreSQL with PostGIS and creates the
``gridmap`` database itself.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from gridmap.errors import GridmapError

LOG = logging.getLogger("gridmap.cli")

app = typer.Typer(
    name="gridmap",
    help="Grid management for grassroots governance: unified grid codes, 多网合一 merge, "
    "address and point resolution to grid and chiefs, maps, on PostGIS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Set up and inspect the PostGIS database.", no_args_is_help=True)
code_app = typer.Typer(help="Parse, validate, compose and explain codes.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(code_app, name="code")

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


def database_url(url: str | None, migrate: bool = True) -> str:
    """The URL to work with: the given one, or the local default, provisioned and migrated."""
    from gridmap.db import provision

    res = provision(url=url, run_migrations=migrate)
    LOG.debug("using %s (%s)", res.url, res.how)
    return res.url


# ------------------------------------------------------------------------------ db


@db_app.command("init")
def db_init(url: DbUrl = None) -> None:
    """Create the database (and a local server if needed), install PostGIS, migrate."""
    from gridmap.db import provision, status

    res = provision(url=url)
    st = status(res.url)
    out.print(f"database ready: {st.url} ({res.how}), migration level {st.migration_level}")


@db_app.command("migrate")
def db_migrate(
    url: DbUrl = None,
    target: Annotated[int | None, typer.Option(help="Stop at this migration.")] = None,
) -> None:
    """Apply pending migrations."""
    from gridmap.db import connect, migrate

    target_url = database_url(url, migrate=False)
    with connect(target_url, autocommit=True) as conn:
        applied = migrate(conn, target=target)
    out.print(f"applied migrations: {applied or 'none (up to date)'}")


@db_app.command("status")
def db_status(
    url: DbUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Which database is in use, its PostGIS/GEOS/PROJ versions and migration level."""
    from gridmap.db import status

    st = status(database_url(url, migrate=False))
    if as_json:
        sys.stdout.write(json.dumps(asdict(st), ensure_ascii=False, indent=2) + "\n")
        return
    out.print(f"database         {st.url}")
    out.print(f"PostgreSQL       {st.server_version} (LC_CTYPE {st.ctype})")
    out.print(f"PostGIS          {st.postgis or 'not installed'}")
    out.print(f"GEOS / PROJ      {st.geos} / {st.proj}")
    out.print(f"migration level  {st.migration_level} of {st.latest_migration}")
    for table, n in st.counts.items():
        out.print(f"  {table:<15}{n:>10,}")


# ------------------------------------------------------------------------------ code


@code_app.command("explain")
def code_explain(
    code: Annotated[str, typer.Argument(help="A 12-digit division or 15-digit grid code.")],
    url: DbUrl = None,
    offline: Annotated[bool, typer.Option(help="Do not look names up in the database.")] = False,
) -> None:
    """Name each level of a code and, where the database knows them, the places."""
    from gridmap.codes import explain, explain_text

    explain(code)  # validates before touching the database
    names: dict[str, str] = {}
    if not offline:
        try:
            from gridmap.db import queries

            names = queries.division_names_for_code(database_url(url), code)
        except GridmapError as exc:
            LOG.warning("place names unavailable: %s", exc)
    for part in explain(code, names):
        out.print(f"{part.digits:>4}  {part.meaning:<24} {part.name or ''}")
    out.print(explain_text(code, names))


@code_app.command("validate")
def code_validate(codes: Annotated[list[str], typer.Argument(help="Codes to check.")]) -> None:
    """Check codes; exit 1 if any is invalid, naming the bad digit group."""
    from gridmap.codes import parse_division_code, parse_grid_code

    bad = 0
    for code in codes:
        try:
            if len(code) == 15:
                parse_grid_code(code)
                out.print(f"{code}  valid grid code")
            else:
                parsed = parse_division_code(code)
                out.print(f"{code}  valid {parsed.level} code")
        except GridmapError as exc:
            bad += 1
            out.print(f"{code}  {exc}")
    if bad:
        raise typer.Exit(1)


@code_app.command("compose")
def code_compose(
    community: Annotated[str, typer.Argument(help="12-digit community/village code.")],
    serial: Annotated[int, typer.Argument(help="Grid serial 1-999.")],
) -> None:
    """Compose a 15-digit grid code."""
    from gridmap.codes import compose_grid_code

    out.print(compose_grid_code(community, serial))


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


if __name__ == "__main__":  # pragma: no cover
    main()
