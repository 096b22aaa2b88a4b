"""Shared fixtures: a real PostGIS for every test that needs one.

:func:`unavailable` is the one place where a missing service or tool (PostGIS, Chromium,
Leaflet, docker-compose, nbclient) is decided: a skip on a developer's machine, a failure
when CI=true, because CI must run every test for real. Under CI hypothesis runs
derandomised (the ``ci`` profile), so a red run can be repeated exactly.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Any, NoReturn

import psycopg
import pytest
from hypothesis import settings
from psycopg.conninfo import make_conninfo

from gridmap.db.migrate import migrate
from gridmap.db.provision import (
    conninfo_to_url,
    create_database,
    drop_database,
    ensure_extensions,
    find_server,
)
from gridmap.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEMPLATE = f"gridmap_test_template_{os.getpid()}"

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if IN_CI else "dev")


def unavailable(reason: str) -> NoReturn:
    """Skip a test that needs what this machine lacks; fail it under CI=true."""
    if IN_CI:
        pytest.fail(f"CI=true and a required service is unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A conninfo to the ``postgres`` database of a PostgreSQL server with PostGIS."""
    url = os.environ.get("GRIDMAP_TEST_SERVER_URL")
    try:
        if url:
            server = make_conninfo(url, dbname="postgres")
        else:
            server, _ = find_server(allow_private=True)
    except DatabaseUnavailable as exc:
        unavailable(str(exc))
    drop_database(server, TEMPLATE)
    create_database(server, TEMPLATE)
    tmpl = make_conninfo(server, dbname=TEMPLATE)
    try:
        ensure_extensions(tmpl, install=True)
    except DatabaseUnavailable as exc:
        unavailable(str(exc))
    with psycopg.connect(tmpl, autocommit=True) as conn:
        migrate(conn)
    yield server
    drop_database(server, TEMPLATE)


def _create_db(server: str, template: str | None = None) -> str:
    name = f"gridmap_test_{uuid.uuid4().hex[:10]}"
    create_database(server, name, template=template)
    return name


@pytest.fixture
def db_url(pg_server: str) -> Iterator[str]:
    """URL of a fresh, migrated, empty gridmap database, dropped afterwards."""
    name = _create_db(pg_server, TEMPLATE)
    try:
        yield conninfo_to_url(make_conninfo(pg_server, dbname=name))
    finally:
        drop_database(pg_server, name)


@pytest.fixture
def db(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to a fresh, migrated, empty gridmap database."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def empty_db_url(pg_server: str) -> Iterator[str]:
    """URL of a fresh database with nothing in it (no extensions, no migrations)."""
    name = _create_db(pg_server)
    try:
        yield conninfo_to_url(make_conninfo(pg_server, dbname=name))
    finally:
        drop_database(pg_server, name)
