"""Versioned schema migrations, recorded in the database.

Migrations are the ``NNNN_name.sql`` files packaged in ``gridmap/db/migrations``. Each runs
in its own transaction together with the row that records it in ``gridmap_migration``, so
a database is always at a whole migration level.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg

from gridmap.errors import MigrationError

LOG = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """Every packaged migration, in version order."""
    out: list[Migration] = []
    for entry in resources.files("gridmap.db").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            out.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    out.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in out]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {versions}")
    return out


def latest_version() -> int:
    migs = available_migrations()
    return migs[-1].version if migs else 0


_CREATE_LOG = """
CREATE TABLE IF NOT EXISTS gridmap_migration (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


def current_version(conn: psycopg.Connection[Any]) -> int:
    """The migration level recorded in the database (0 for an empty one)."""
    row = conn.execute("SELECT to_regclass('gridmap_migration') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM gridmap_migration").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection[Any], target: int | None = None) -> list[int]:
    """Apply every migration above the database's level, up to ``target`` (default: all).

    Returns the versions applied. A failing migration is rolled back whole and raised as a
    :class:`MigrationError` naming it.
    """
    migs = available_migrations()
    target = migs[-1].version if target is None and migs else (target or 0)
    with conn.transaction():
        conn.execute(_CREATE_LOG)
        # one migrator at a time
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('gridmap_migration'))")
    level = current_version(conn)
    if level > latest_version():
        raise MigrationError(
            f"database is at migration {level}, newer than this gridmap knows ({latest_version()}); "
            "upgrade gridmap"
        )
    applied: list[int] = []
    for mig in migs:
        if mig.version <= level or mig.version > target:
            continue
        LOG.info("applying migration %04d_%s", mig.version, mig.name)
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext('gridmap_migration'))")
                conn.execute(mig.sql.encode("utf-8"))
                conn.execute(
                    "INSERT INTO gridmap_migration (version, name) VALUES (%(v)s, %(n)s)",
                    {"v": mig.version, "n": mig.name},
                )
        except psycopg.Error as exc:
            raise MigrationError(
                f"migration {mig.version:04d}_{mig.name} failed and was rolled back: {exc}"
            ) from exc
        applied.append(mig.version)
    return applied
