"""Backup and restore: a round trip gives the same rows in every table, a database that holds
data is replaced only with --force, and a file that is not a backup is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg
import pytest
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.db.backup import table_fingerprints
from gridmap.errors import Conflict, InvalidInput
from tests.region import Region, region

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.postgis
__all__ = ["region"]


def fingerprints(url: str) -> dict[str, tuple[int, str]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return table_fingerprints(conn)


def test_a_backup_restores_every_table_as_it_was(
    region: Region, db_url: str, empty_db_url: str, tmp_path: Path
) -> None:
    run = CliRunner()
    file = tmp_path / "gridmap.dump"
    res = run.invoke(app, ["db", "backup", str(file), "--database-url", db_url])
    assert res.exit_code == 0, res.output
    assert file.read_bytes()[:5] == b"PGDMP"
    before = fingerprints(db_url)
    assert before["grid"][0] > 0
    assert before["person"][0] > 0

    res = run.invoke(app, ["db", "restore", str(file), "--database-url", empty_db_url])
    assert res.exit_code == 0, res.output
    assert fingerprints(empty_db_url) == before

    # the copy now holds data: a second restore needs --force, and changes nothing without it
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute("DELETE FROM assignment WHERE role = 'unit_chief'")
    changed = fingerprints(empty_db_url)
    assert changed != before
    res = run.invoke(app, ["db", "restore", str(file), "--database-url", empty_db_url])
    assert isinstance(res.exception, Conflict)
    assert "--force" in str(res.exception)
    assert fingerprints(empty_db_url) == changed
    res = run.invoke(app, ["db", "restore", str(file), "--force", "--database-url", empty_db_url])
    assert res.exit_code == 0, res.output
    assert fingerprints(empty_db_url) == before


def test_a_file_that_is_not_a_backup_is_refused(db_url: str, tmp_path: Path) -> None:
    bogus = tmp_path / "grids.csv"
    bogus.write_text("code,name\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["db", "restore", str(bogus), "--database-url", db_url])
    assert isinstance(res.exception, InvalidInput)
    assert "grids.csv" in str(res.exception)
    assert "not a gridmap backup" in str(res.exception)
    res = CliRunner().invoke(
        app, ["db", "restore", str(tmp_path / "missing.dump"), "--database-url", db_url]
    )
    assert isinstance(res.exception, InvalidInput)
    assert "does not exist" in str(res.exception)
