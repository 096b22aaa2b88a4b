"""The PostGIS store: migrations, constraints and provisioning, on a real PostGIS."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from gridmap.db.migrate import available_migrations, current_version, latest_version, migrate
from gridmap.db.provision import provision, start_private_cluster, stop_private_cluster
from gridmap.service import Gridmap

pytestmark = pytest.mark.postgis

SQUARE = (
    "SRID=4490;MULTIPOLYGON(((125.30 43.85,125.32 43.85,125.32 43.87,125.30 43.87,125.30 43.85)))"
)
HALF = (
    "SRID=4490;MULTIPOLYGON(((125.30 43.85,125.31 43.85,125.31 43.87,125.30 43.87,125.30 43.85)))"
)
BOWTIE = (
    "SRID=4490;MULTIPOLYGON(((125.30 43.85,125.32 43.87,125.32 43.85,125.30 43.87,125.30 43.85)))"
)

FRAME = [
    ("220000000000", "吉林省", "province", None),
    ("220100000000", "长春市", "city", "220000000000"),
    ("220102000000", "南关区", "county", "220100000000"),
    ("220102005000", "长通街道", "township", "220102000000"),
    ("220102005004", "龙兴社区", "village", "220102005000"),
    ("220102005003", "另一社区", "village", "220102005000"),
]


def add_frame(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        for code, name, level, parent in FRAME:
            conn.execute(
                "INSERT INTO division (code, name, level, parent_code, boundary) "
                "VALUES (%s, %s, %s, %s, %s::geometry)",
                (code, name, level, parent, SQUARE if level in ("township", "village") else None),
            )
        conn.execute("INSERT INTO generation (id, source, activated_at) VALUES (1, 'test', now())")


def add_grid(
    conn: psycopg.Connection[Any],
    code: str = "220102005004001",
    community: str = "220102005004",
    boundary: str = HALF,
) -> None:
    with conn.transaction():
        conn.execute(
            "INSERT INTO grid_code (code, community_code, issued_in) VALUES (%s, %s, 1) "
            "ON CONFLICT DO NOTHING",
            (code, community),
        )
        conn.execute(
            "INSERT INTO grid (code, community_code, kind, boundary, generation_low) "
            "VALUES (%s, %s, 'urban', %s::geometry, 1)",
            (code, community, boundary),
        )


def test_migrations_run_up_from_an_empty_database(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        assert current_version(conn) == 0
        applied = migrate(conn)
        assert applied == [m.version for m in available_migrations()]
        assert current_version(conn) == latest_version()
        assert migrate(conn) == []  # idempotent
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT f_table_name FROM geometry_columns WHERE f_table_schema = 'public'"
            )
        }
    assert {"division", "grid", "legacy_grid", "building"} <= tables


def test_every_spatial_table_is_qgis_ready(db: psycopg.Connection[Any]) -> None:
    rows = db.execute(
        "SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns g "
        "JOIN information_schema.tables t ON t.table_name = g.f_table_name "
        "AND t.table_schema = g.f_table_schema "
        "WHERE f_table_schema = 'public' AND t.table_type = 'BASE TABLE'"
    ).fetchall()
    assert rows
    for table, column, srid, gtype in rows:
        assert srid == 4490, (table, column)
        assert gtype in ("MULTIPOLYGON", "POINT"), (table, gtype)
        pk = db.execute(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "WHERE c.relname = %s AND i.indisprimary",
            (table,),
        ).fetchone()
        assert pk, f"{table} has no primary key"
        gist = db.execute(
            "SELECT 1 FROM pg_indexes WHERE tablename = %s AND indexdef ILIKE %s",
            (table, f"%gist ({column})%"),
        ).fetchone()
        assert gist, f"{table}.{column} has no GiST index"


def test_grid_prefix_must_match_its_community(db: psycopg.Connection[Any]) -> None:
    add_frame(db)
    with pytest.raises(psycopg.errors.CheckViolation, match="grid_code_prefix_is_community"):
        add_grid(db, code="220102005003001", community="220102005004")


def test_grid_rejects_an_invalid_polygon(db: psycopg.Connection[Any]) -> None:
    add_frame(db)
    with pytest.raises(psycopg.errors.CheckViolation, match="grid_boundary_valid"):
        add_grid(db, boundary=BOWTIE)
    assert db.execute("SELECT count(*) FROM grid").fetchone() == (0,)


def test_only_one_current_grid_per_code(db: psycopg.Connection[Any]) -> None:
    add_frame(db)
    add_grid(db)
    with pytest.raises(psycopg.errors.IntegrityError):
        add_grid(db)
    assert db.execute("SELECT count(*) FROM grid").fetchone() == (1,)


def test_a_code_may_recur_in_disjoint_generations(
    db: psycopg.Connection[Any],
) -> None:
    add_frame(db)
    add_grid(db)
    with db.transaction():
        db.execute("INSERT INTO generation (id, source, activated_at) VALUES (2, 'test', now())")
        db.execute("UPDATE grid SET generation_high = 1")
        db.execute(
            "INSERT INTO grid (code, community_code, kind, boundary, generation_low) "
            "VALUES ('220102005004001', '220102005004', 'urban', %s::geometry, 2)",
            (SQUARE,),
        )
    # generation 1 still answers with the old boundary
    rows = db.execute(
        "SELECT generation_low, round(ST_Area(boundary)::numeric, 4) FROM grid ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in rows] == [1, 2]
    assert rows[0][1] < rows[1][1]
    assert db.execute("SELECT count(*) FROM current_grid").fetchone() == (1,)


def test_grid_must_belong_to_a_village_level_division(
    db: psycopg.Connection[Any],
) -> None:
    add_frame(db)
    with pytest.raises(psycopg.errors.CheckViolation):
        add_grid(db, code="220102005000001", community="220102005000")


def test_division_code_level_and_nesting_are_checked(
    db: psycopg.Connection[Any],
) -> None:
    add_frame(db)
    with pytest.raises(psycopg.errors.CheckViolation, match="division_level_matches_code"):
        db.execute(
            "INSERT INTO division (code, name, level, parent_code) "
            "VALUES ('220102005009', 'x', 'township', '220102005000')"
        )
    with pytest.raises(psycopg.errors.CheckViolation, match="division_nests_in_parent"):
        db.execute(
            "INSERT INTO division (code, name, level, parent_code) "
            "VALUES ('220103005009', 'x', 'village', '220102005000')"
        )
    with pytest.raises(psycopg.errors.CheckViolation, match="division_code_format"):
        db.execute(
            "INSERT INTO division (code, name, level, parent_code) "
            "VALUES ('22010200500A', 'x', 'village', '220102005000')"
        )


def test_assignment_target_must_match_role(db: psycopg.Connection[Any]) -> None:
    add_frame(db)
    add_grid(db)
    db.execute("INSERT INTO person (external_id, name, phone) VALUES ('p1', '王芳', '10012345678')")
    with pytest.raises(psycopg.errors.CheckViolation, match="assignment_target_matches_role"):
        db.execute(
            "INSERT INTO assignment (person_id, role, since) "
            "SELECT id, 'grid_chief', '2024-01-01' FROM person"
        )
    db.execute(
        "INSERT INTO assignment (person_id, role, grid_code, since) "
        "SELECT id, 'grid_chief', '220102005004001', '2024-01-01' FROM person"
    )
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute(
            "INSERT INTO assignment (person_id, role, grid_code, since) "
            "SELECT id, 'grid_chief', '220102005004001', '2024-06-01' FROM person"
        )


def test_trigram_search_keeps_chinese(db: psycopg.Connection[Any]) -> None:
    row = db.execute(
        "SELECT similarity('明珠花园', '明珠家园'), similarity('明珠花园', '东方小区'), "
        "show_trgm('明珠花园')"
    ).fetchone()
    assert row is not None
    close, far, trigrams = row
    assert close > 0.2 > far  # in a C-locale database both would be 0
    assert len(trigrams) >= 4  # type: ignore[arg-type]


def test_status_reports_postgis_and_migration_level(db_url: str) -> None:
    with Gridmap.connect(db_url) as gm:
        st = gm.status()
    assert st.postgis is not None
    assert st.postgis.startswith("3.")
    assert st.geos
    assert st.proj
    assert st.migration_level == latest_version()
    assert st.ctype == "C.UTF-8"


def test_database_url_is_honoured(pg_server: str, empty_db_url: str) -> None:
    """An explicit URL is used as it is: extensions and migrations land in that database."""
    res = provision(url=empty_db_url)
    assert res.how == "url"
    assert res.url == empty_db_url
    with psycopg.connect(empty_db_url) as conn:
        assert current_version(conn) == latest_version()


def test_cli_honours_gridmap_database_url(empty_db_url: str) -> None:
    env = dict(os.environ, GRIDMAP_DATABASE_URL=empty_db_url)
    before = subprocess.run(
        [sys.executable, "-m", "gridmap", "db", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"migration_level": 0' in before.stdout
    subprocess.run(
        [sys.executable, "-m", "gridmap", "db", "init"], env=env, check=True, capture_output=True
    )
    out = subprocess.run(
        [sys.executable, "-m", "gridmap", "db", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert f'"migration_level": {latest_version()}' in out.stdout
    assert str(conninfo_to_dict(empty_db_url)["dbname"]) in out.stdout


@pytest.mark.slow
def test_private_cluster_is_initialised_and_started() -> None:
    """With no server to use, gridmap runs its own cluster under its data directory."""
    if shutil.which("initdb") is None and not list(
        Path("/usr/lib/postgresql").glob("*/bin/initdb")
    ):
        pytest.fail("initdb is not installed")
    # not pytest's tmp_path: other pytest runs may rotate those folders away meanwhile
    base = Path(tempfile.mkdtemp(prefix="gridmap-cluster-test-"))
    datadir = base / "pgdata"
    conninfo = start_private_cluster(datadir, port=54399)
    try:
        assert (datadir / "PG_VERSION").exists()
        res = provision(url=conninfo.replace("dbname=postgres", "dbname=gridmap"))
        with psycopg.connect(res.url) as conn:
            assert current_version(conn) == latest_version()
            row = conn.execute("SELECT postgis_lib_version()").fetchone()
            assert row
            assert str(row[0]).startswith("3.")
    finally:
        stop_private_cluster(datadir)
        shutil.rmtree(base, ignore_errors=True)


def test_local_default_finds_the_server_and_creates_the_database(pg_server: str) -> None:
    """Without a URL, gridmap uses the server listening here and sets the database up."""
    name = f"gridmap_test_default_{os.getpid()}"
    try:
        res = provision(url=None, dbname=name)
        assert res.how == "local-server"
        with Gridmap.connect(res.url) as gm:
            st = gm.status()
        assert st.migration_level == latest_version()
        assert st.ctype == "C.UTF-8"
        assert st.postgis is not None
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
