"""Backup and restore of a whole gridmap database, in pg_dump's custom format.

A backup is one file (``pg_dump -Fc``): every table, the migration level, the extensions
in use. A restore replays it in one transaction (``pg_restore --single-transaction``), so a
failed restore leaves the target as it was. Restoring over a database that holds any
gridmap data needs ``force`` (the old objects are dropped first).

The client programs are the server's own major version where installed
(``/usr/lib/postgresql/N/bin``), since pg_dump refuses a newer server than itself.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from gridmap.errors import Conflict, GridmapError, InvalidInput

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["BackupError", "backup", "restore", "table_fingerprints"]

LOG = logging.getLogger(__name__)

#: the first bytes of a pg_dump custom-format archive
MAGIC = b"PGDMP"


class BackupError(GridmapError):
    """pg_dump or pg_restore failed."""

    code = "backup_failed"


def _tool(name: str, conn: psycopg.Connection[Any]) -> str:
    major = conn.info.server_version // 10000
    own = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    if own.exists():
        return str(own)
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed (Debian: apt install postgresql-client-{major})"
        )
    return found


def _run(args: list[str], what: str) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        # the tools' messages name objects and files, never row values
        raise BackupError(f"{what} failed: {proc.stderr.strip()[-1500:]}")


def backup(url: str, path: Path, progress: Callable[[str], None] | None = None) -> Path:
    """Write the database at ``url`` to ``path`` (custom format); the path."""
    with psycopg.connect(url, autocommit=True) as conn:
        pg_dump = _tool("pg_dump", conn)
    path.parent.mkdir(parents=True, exist_ok=True)
    if progress:
        progress(f"pg_dump → {path}")
    _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--file={path}",
          f"--dbname={url}"], "pg_dump")  # fmt: skip
    LOG.info("backup written: %s (%d kB)", path, path.stat().st_size // 1024)
    return path


def _holds_data(conn: psycopg.Connection[Any]) -> list[str]:
    """Tables of the public schema that hold rows (PostGIS's own reference table aside)."""
    tables = [r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'spatial_ref_sys'"
        " ORDER BY 1"
    ).fetchall()]  # fmt: skip
    full = []
    for t in tables:
        row = conn.execute(
            psycopg.sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(psycopg.sql.Identifier(t))
        ).fetchone()
        if row and row[0] and t != "schema_migration":
            full.append(t)
    return full


def restore(
    url: str, path: Path, *, force: bool = False, progress: Callable[[str], None] | None = None
) -> None:
    """Replay the backup at ``path`` into the database at ``url`` in one transaction.

    Raises :class:`~gridmap.errors.InvalidInput` when ``path`` is not a pg_dump custom
    archive and :class:`~gridmap.errors.Conflict` when the target holds data and ``force``
    is not given.
    """
    if not path.is_file():
        raise InvalidInput(f"backup file {str(path)!r} does not exist", value=str(path))
    with path.open("rb") as f:
        head = f.read(len(MAGIC))
    if head != MAGIC:
        raise InvalidInput(
            f"{str(path)!r} is not a gridmap backup: expected a pg_dump custom-format archive "
            "(made by gridmap db backup)",
            value=str(path),
        )
    with psycopg.connect(url, autocommit=True) as conn:
        pg_restore = _tool("pg_restore", conn)
        full = _holds_data(conn)
        dbname = conn.info.dbname
    if full and not force:
        shown = ", ".join(full[:6]) + (" …" if len(full) > 6 else "")
        raise Conflict(
            f"database {dbname!r} already holds data ({shown}): restore into an empty "
            "database, or give --force to replace everything in it",
            value=dbname,
        )
    if progress:
        progress(f"pg_restore {path} → {dbname}")
    _run([pg_restore, "--clean", "--if-exists", "--single-transaction", "--exit-on-error",
          "--no-owner", "--no-privileges", f"--dbname={url}", str(path)],
         "pg_restore")  # fmt: skip
    LOG.info("restored %s into %s", path, dbname)


def table_fingerprints(conn: psycopg.Connection[Any]) -> dict[str, tuple[int, str]]:
    """Rows and an md5 of the sorted rows of every table in the public schema."""
    tables = [r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1"
    ).fetchall()]  # fmt: skip
    out = {}
    for t in tables:
        q = psycopg.sql.SQL(
            "SELECT count(*), coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '')"
            " FROM {} r"
        ).format(psycopg.sql.Identifier(t))
        row = conn.execute(q).fetchone()
        assert row is not None
        out[str(t)] = (int(row[0]), str(row[1]))
    return out
