"""``gridmap db`` and ``gridmap code``: the database and the unified codes."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from gridmap.cli.common import LOG, DbUrl, app, database_url, open_service, out
from gridmap.errors import GridmapError

db_app = typer.Typer(help="Set up and inspect the PostGIS database.", no_args_is_help=True)
code_app = typer.Typer(help="Parse, validate, compose and explain codes.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(code_app, name="code")


@db_app.command("init")
def db_init(url: DbUrl = None) -> None:
    """Create the database (and a local server if needed), install PostGIS, migrate."""
    from gridmap.db import provision
    from gridmap.service import Gridmap

    res = provision(url=url)
    with Gridmap.connect(res.url) as gm:
        st = gm.status()
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
    from gridmap.service import Gridmap

    with Gridmap.connect(database_url(url, migrate=False)) as gm:
        st = gm.status()
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


@db_app.command("backup")
def db_backup(
    path: Annotated[Path, typer.Argument(help="The backup file to write (pg_dump custom format).")],
    url: DbUrl = None,
) -> None:
    """Write the whole database to one file: every table, the migration level, extensions."""
    from gridmap.db.backup import backup

    written = backup(database_url(url, migrate=False), path, progress=LOG.info)
    out.print(f"backup written: {written} ({written.stat().st_size // 1024:,} kB)")


@db_app.command("restore")
def db_restore(
    path: Annotated[Path, typer.Argument(help="A file made by gridmap db backup.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace everything in a database that holds data.")
    ] = False,
    url: DbUrl = None,
) -> None:
    """Replay a backup into the database (created if missing), in one transaction, then bring
    it to the latest migration."""
    from gridmap.db import connect, migrate
    from gridmap.db.backup import restore, table_fingerprints

    target = database_url(url, migrate=False)
    restore(target, path, force=force, progress=LOG.info)
    with connect(target, autocommit=True) as conn:
        applied = migrate(conn)
        counts = table_fingerprints(conn)
    rows = sum(n for n, _ in counts.values())
    out.print(f"restored {path}: {len(counts)} tables, {rows:,} rows"
              + (f"; then migrations {applied}" if applied else ""))  # fmt: skip


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
            with open_service(url) as gm:
                names = gm.division_names(code)
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
