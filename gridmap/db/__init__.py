"""The PostGIS edge of gridmap: provisioning, migrations and queries (the only place with SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from gridmap.db.migrate import current_version, latest_version, migrate
from gridmap.db.provision import Provisioned, provision, redact
from gridmap.io.layers import LAYERS

__all__ = [
    "DbStatus",
    "Provisioned",
    "connect",
    "current_version",
    "latest_version",
    "migrate",
    "provision",
    "redact",
    "status",
]


def connect(url: str, autocommit: bool = False) -> psycopg.Connection[Any]:
    """Open a connection to the gridmap database at ``url``."""
    conn = psycopg.connect(url, autocommit=autocommit, application_name="gridmap")
    return conn


@dataclass(frozen=True)
class DbStatus:
    url: str
    server_version: str
    postgis: str | None
    geos: str | None
    proj: str | None
    migration_level: int
    latest_migration: int
    ctype: str
    counts: dict[str, int]


def status(conn: psycopg.Connection[Any]) -> DbStatus:
    """What database is in use, its PostGIS/GEOS/PROJ versions and its migration level."""
    server = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    ctype = str(
        conn.execute(
            "SELECT datctype FROM pg_database WHERE datname = current_database()"
        ).fetchone()[0]  # type: ignore[index]
    )
    has_postgis = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
    postgis = geos = proj = None
    if has_postgis:
        row = conn.execute(
            "SELECT postgis_lib_version(), postgis_geos_version(), postgis_proj_version()"
        ).fetchone()
        assert row is not None
        postgis, geos, proj = (str(v) if v is not None else None for v in row)
    level = current_version(conn)
    counts: dict[str, int] = {}
    if level >= 1:
        for table in (spec.table for spec in LAYERS.values()):
            row = conn.execute(
                psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(table))
            ).fetchone()
            counts[table] = int(row[0]) if row else 0
        row = conn.execute("SELECT count(*) FROM current_grid").fetchone()
        counts["current_grid"] = int(row[0]) if row else 0
    return DbStatus(
        url=redact(conn.info.dsn),
        server_version=server,
        postgis=postgis,
        geos=geos,
        proj=proj,
        migration_level=level,
        latest_migration=latest_version(),
        ctype=ctype,
        counts=counts,
    )
