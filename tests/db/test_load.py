"""Importing interchange data into PostGIS: all or nothing, idempotent, round trip."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
from shapely import LineString, Polygon, box
from shapely.geometry import Point

from gridmap.crs import METRIC, STORAGE
from gridmap.db.dump import dump_interchange
from gridmap.db.load import load_interchange
from gridmap.errors import ImportValidationError, InvalidInput
from gridmap.io import Interchange, read_interchange, write_interchange
from gridmap.service import Gridmap

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.postgis

X0, Y0 = 125.33, 43.88
D = 0.002  # about 160 m


def cell(i: int, j: int, w: int = 1, h: int = 1) -> Any:
    return box(X0 + i * D, Y0 + j * D, X0 + (i + w) * D, Y0 + (j + h) * D)


def small_region() -> Interchange:
    """One street with two communities side by side, two grids each, a few buildings."""
    divisions = gpd.GeoDataFrame(
        {
            "code": [
                "220000000000",
                "220100000000",
                "220102000000",
                "220102005000",
                "220102005004",
                "220102005003",
            ],
            "name": ["吉林省", "长春市", "南关区", "长通街道", "龙兴社区", "明珠社区"],
            "level": ["province", "city", "county", "township", "village", "village"],
            "parent_code": [
                None,
                "220000000000",
                "220100000000",
                "220102000000",
                "220102005000",
                "220102005000",
            ],
            "official_name": [None, None, None, "长通街道办事处", "龙兴社区居委会", None],
        },
        geometry=[None, None, None, cell(0, 0, 4, 2), cell(0, 0, 2, 2), cell(2, 0, 2, 2)],
        crs="EPSG:4490",
    )
    grids = gpd.GeoDataFrame(
        {
            "code": ["220102005004001", "220102005004002", "220102005003001", "220102005003002"],
            "name": ["龙兴一网格", "龙兴二网格", "明珠一网格", "明珠二网格"],
            "community_code": ["220102005004"] * 2 + ["220102005003"] * 2,
            "kind": ["urban"] * 4,
        },
        geometry=[cell(0, 1, 2, 1), cell(0, 0, 2, 1), cell(2, 1, 2, 1), cell(2, 0, 2, 1)],
        crs="EPSG:4490",
    )
    buildings = gpd.GeoDataFrame(
        {
            "building_id": ["B1", "B2", "B3"],
            "community_code": ["220102005004", "220102005004", "220102005003"],
            "road": ["人民大街", "人民大街", "亚泰大街"],
            "house_number": ["1001", "1003", "2001"],
            "compound": ["明珠花园", "明珠花园", "东方家园"],
            "building_no": ["1", "2", "1"],
            "households": [72, 36, 240],
        },
        geometry=[
            box(X0 + 0.0005, Y0 + 0.0025, X0 + 0.0008, Y0 + 0.0027),
            box(X0 + 0.0005, Y0 + 0.0005, X0 + 0.0008, Y0 + 0.0007),
            Point(X0 + 0.005, Y0 + 0.003),
        ],
        crs="EPSG:4490",
    )
    units = pd.DataFrame(
        {
            "building_id": ["B1"] * 6 + ["B2"] * 3 + ["B3"] * 2,
            "unit_no": ["1", "2", "3", "4", "5", "6", "1", "2", "3", "1", "2"],
            "households": [12] * 9 + [120, 120],
        }
    )
    people = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3"],
            "name": ["王芳", "李强", "张伟"],
            "phone": ["10000000001", "10000000002", None],
        }
    )
    assignments = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3", "P2"],
            "role": ["grid_chief", "building_chief", "unit_chief", "grid_chief"],
            "grid_code": ["220102005004001", None, None, "220102005004001"],
            "building_id": [None, "B1", "B1", None],
            "unit_no": [None, None, "2", None],
            "since": ["2024-01-01", "2023-05-01", "2023-05-01", "2021-01-01"],
            "until": [None, None, None, "2023-12-31"],
        }
    )
    return Interchange.from_frames(
        divisions=divisions,
        grids=grids,
        buildings=buildings,
        units=units,
        people=people,
        assignments=assignments,
    )


def counts(db: psycopg.Connection[Any]) -> dict[str, int]:
    out = {}
    for t in (
        "division",
        "division_alias",
        "grid",
        "grid_code",
        "generation",
        "building",
        "unit",
        "person",
        "assignment",
    ):
        row = db.execute(f"SELECT count(*) FROM {t}").fetchone()
        out[t] = int(row[0]) if row else -1
    return out


def test_import_writes_every_layer(db: psycopg.Connection[Any]) -> None:
    report = load_interchange(db, small_region())
    assert counts(db) == {
        "division": 6,
        "division_alias": 2,
        "grid": 4,
        "grid_code": 4,
        "generation": 1,
        "building": 3,
        "unit": 11,
        "person": 3,
        "assignment": 4,
    }
    assert report.generation == 1
    # households are counted from the buildings each grid covers
    hh = dict(db.execute("SELECT code, households FROM grid").fetchall())
    assert hh == {
        "220102005004001": 72,
        "220102005004002": 36,
        "220102005003001": 240,
        "220102005003002": 0,
    }
    # a point building gets no footprint; a footprint gets a point inside it
    row = db.execute(
        "SELECT bool_and(ST_Within(point, footprint)) FILTER (WHERE footprint IS NOT NULL), "
        "count(*) FILTER (WHERE footprint IS NULL) FROM building"
    ).fetchone()
    assert row == (True, 1)
    current = db.execute(
        "SELECT p.name FROM assignment a JOIN person p ON p.id = a.person_id "
        "WHERE a.grid_code = '220102005004001' AND a.until IS NULL"
    ).fetchall()
    assert current == [("王芳",)]


def test_reimport_is_idempotent(db: psycopg.Connection[Any]) -> None:
    load_interchange(db, small_region())
    before = counts(db)
    report = load_interchange(db, small_region())
    assert counts(db) == before
    assert report.generation is None
    assert sum(report.inserted.values()) == 0
    assert sum(report.updated.values()) == 0


def test_a_boundary_that_differs_only_by_rounding_is_unchanged(
    db: psycopg.Connection[Any],
) -> None:
    """Noding a neighbour's new edge can put a vertex on an old edge, off it by rounding
    only: that grid keeps its row. A shift of 1 mm is a change."""
    load_interchange(db, small_region())
    data = small_region()
    g = data.grids.geometry.iloc[0]
    (x0, y0), (x1, y1) = g.exterior.coords[0], g.exterior.coords[1]
    mid = ((x0 + x1) / 2 + 1e-13, (y0 + y1) / 2 + 1e-13)
    ring = [g.exterior.coords[0], mid, *g.exterior.coords[1:]]
    data.grids.loc[data.grids.index[0], "geometry"] = Polygon(ring)
    report = load_interchange(db, data)
    assert report.generation is None
    assert db.execute("SELECT max(generation_low) FROM grid").fetchone() == (1,)
    ring[1] = ((x0 + x1) / 2 + 1e-8, (y0 + y1) / 2 + 1e-8)  # about 1 mm
    data.grids.loc[data.grids.index[0], "geometry"] = Polygon(ring)
    assert load_interchange(db, data).generation == 2


def test_changed_grids_make_a_new_generation_and_keep_the_old(db: psycopg.Connection[Any]) -> None:
    load_interchange(db, small_region())
    data = small_region()
    # move the boundary between the two 龙兴 grids south, and drop a 明珠 grid
    data.grids.loc[0, "geometry"] = box(X0, Y0 + 0.0015, X0 + 2 * D, Y0 + 2 * D)
    data.grids.loc[1, "geometry"] = box(X0, Y0, X0 + 2 * D, Y0 + 0.0015)
    data.grids = data.grids[data.grids.code != "220102005003002"]
    data.grids.loc[2, "geometry"] = cell(2, 0, 2, 2)
    report = load_interchange(db, data)
    assert report.generation == 2
    assert report.retired_grids == 1
    assert db.execute("SELECT count(*) FROM current_grid").fetchone() == (3,)
    # generation 1 is still there, whole
    assert db.execute(
        "SELECT count(*) FROM grid WHERE generation_low <= 1 "
        "AND (generation_high IS NULL OR generation_high >= 1)"
    ).fetchone() == (4,)
    assert db.execute(
        "SELECT retired_in FROM grid_code WHERE code = '220102005003002'"
    ).fetchone() == (2,)
    # the retired code may not come back
    with pytest.raises(InvalidInput, match="220102005003002"):
        load_interchange(db, small_region())
    assert db.execute("SELECT count(*) FROM current_grid").fetchone() == (3,)


def test_a_failing_import_writes_nothing(db: psycopg.Connection[Any]) -> None:
    data = small_region()
    # a grid chief for a grid that doesn't exist: the FK fails at the very end
    data.assignments.loc[0, "grid_code"] = "220102005004009"
    with pytest.raises(ImportValidationError, match="foreign key violation") as info:
        load_interchange(db, data)
    assert "assignment" in str(info.value)
    assert "220102005004009" not in str(info.value)  # DETAIL: Key (grid_code)=(…) is not shown
    assert all(n == 0 for n in counts(db).values())


def test_a_row_the_database_refuses_is_reported_without_its_values(
    db: psycopg.Connection[Any],
) -> None:
    """Past validation (load_interchange alone), the database's CHECK is the last line: its
    refusal names the constraint, never the row (PostgreSQL's DETAIL prints it whole)."""
    data = small_region()
    data.people.loc[0, "phone"] = "100 0000 0001"
    with pytest.raises(ImportValidationError) as info:
        load_interchange(db, data)
    text = str(info.value) + "".join(str(p) for p in info.value.problems)
    assert "person_phone_check" in text
    assert "people" in text
    for personal in ("100 0000 0001", "王芳", "P1", "Failing row", "DETAIL"):
        assert personal not in text
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    assert all(n == 0 for n in counts(db).values())


def test_the_import_commits_durably(db: psycopg.Connection[Any]) -> None:
    """The import's transaction runs with the server's synchronous_commit: a crash after
    "imported" cannot lose it."""
    outside = db.execute("SHOW synchronous_commit").fetchone()
    seen: set[Any] = set()

    def progress(layer: str, done: int, total: int) -> None:
        seen.add(db.execute("SHOW synchronous_commit").fetchone())

    load_interchange(db, small_region(), progress=progress)
    assert outside == ("on",)
    assert seen == {outside}
    assert counts(db)["person"] == 3


def _edit(layer: str, row: int, col: str, value: Any) -> Any:
    def edit(data: Interchange) -> None:
        frame = getattr(data, layer)
        if col != "geometry":
            frame[col] = frame[col].astype(object)
        frame.loc[row, col] = value

    return edit


def _grow_grid(metres: float) -> Any:
    """龙兴 grid 001 grown by ``metres`` into its neighbour 002, inside the community."""

    def edit(data: Interchange) -> None:
        grids = data.grids.to_crs(METRIC)
        community = gpd.GeoSeries([cell(0, 0, 2, 2)], crs=STORAGE).to_crs(METRIC).iloc[0]
        grown = grids.geometry.iloc[0].buffer(metres, join_style="mitre").intersection(community)
        data.grids.loc[0, "geometry"] = gpd.GeoSeries([grown], crs=METRIC).to_crs(STORAGE).iloc[0]

    return edit


def _second_current_chief(data: Interchange) -> None:
    data.assignments["until"] = data.assignments["until"].astype(object)
    data.assignments.loc[3, "until"] = None  # P2's past term of grid 001 left open


#: files the database would refuse (a CHECK, a unique index, a column type), each with the
#: layer and field validation must name instead
REFUSED = {
    "phone with spaces": (_edit("people", 1, "phone", "100 0000 0002"), "people", "phone"),
    "no floors": (_edit("buildings", 0, "floors", 0), "buildings", "floors"),
    "households past integer": (
        _edit("units", 0, "households", 3_000_000_000),
        "units",
        "households",
    ),
    "ISO week date": (_edit("assignments", 0, "since", "2024-W01-1"), "assignments", "since"),
    "point grid": (
        _edit("grids", 1, "geometry", Point(X0 + 0.001, Y0 + 0.001)),
        "grids",
        "geometry",
    ),
    "line building": (
        _edit(
            "buildings",
            2,
            "geometry",
            LineString([(X0 + 0.005, Y0 + 0.003), (X0 + 0.0051, Y0 + 0.003)]),
        ),
        "buildings",
        "geometry",
    ),
    "NUL in text": (_edit("buildings", 0, "house_number", "1001\x00"), "buildings", "house_number"),
    "two current grid chiefs": (_second_current_chief, "assignments", "until"),
}


@pytest.mark.parametrize(("edit", "layer", "field"), REFUSED.values(), ids=list(REFUSED))
def test_validation_catches_what_the_database_would_refuse(
    db: psycopg.Connection[Any], edit: Any, layer: str, field: str
) -> None:
    data = small_region()
    edit(data)
    with pytest.raises(ImportValidationError) as info:
        Gridmap(db).import_data(data)
    named = [(p.layer, p.field) for p in info.value.problems if p.row is not None]
    assert (layer, field) in named, info.value.problems
    assert all(n == 0 for n in counts(db).values())


def test_overlapping_grids_are_refused_and_nothing_is_written(db: psycopg.Connection[Any]) -> None:
    data = small_region()
    _grow_grid(20)(data)
    with pytest.raises(ImportValidationError) as info:
        Gridmap(db).import_data(data)
    (p,) = info.value.problems
    assert (p.layer, p.row, p.field) == ("grids", 1, "geometry")
    assert "220102005004002 overlaps grid 220102005004001" in p.message
    assert " m²" in p.message
    assert all(n == 0 for n in counts(db).values())


def test_a_grid_shrunk_from_its_neighbour_imports_with_a_gap_warning(
    db: psycopg.Connection[Any],
) -> None:
    data = small_region()
    _grow_grid(-20)(data)
    result = Gridmap(db).import_data(data)
    assert [(n.layer, n.severity) for n in result.notes] == [("grids", "warning")]
    assert "community 220102005004: a gap of" in result.notes[0].message
    assert counts(db)["grid"] == 4


def test_round_trip_through_file_and_database(db: psycopg.Connection[Any], tmp_path: Path) -> None:
    original = small_region()
    path = write_interchange(original, tmp_path / "in.gpkg")
    load_interchange(db, read_interchange(path))
    dumped, _ = dump_interchange(db)
    for layer in ("divisions", "grids", "buildings", "units", "people", "assignments"):
        a = original.layers()[layer]
        b = dumped.layers()[layer]
        assert len(a) == len(b), layer
        key = a.columns[0]
        a = a.sort_values(list(a.columns[:3])).reset_index(drop=True)
        b = b.sort_values(list(a.columns[:3])).reset_index(drop=True)
        assert list(a[key]) == list(b[key]), layer
        if isinstance(a, gpd.GeoDataFrame) and layer != "divisions":
            assert all(
                ga.equals_exact(gb, 1e-9) or ga.equals(gb)
                for ga, gb in zip(a.geometry, b.geometry, strict=True)
            ), layer
    assert list(dumped.grids.sort_values("code")["households"]) == [240, 0, 72, 36]


def test_cli_import_and_export(db_url: str, tmp_path: Path) -> None:
    path = write_interchange(small_region(), tmp_path / "region")
    env = {"GRIDMAP_DATABASE_URL": db_url}
    import os

    env = {**os.environ, **env}
    run = subprocess.run(
        [sys.executable, "-m", "gridmap", "import", str(path)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "building: +3" in run.stdout
    out = tmp_path / "out.gpkg"
    run = subprocess.run(
        [sys.executable, "-m", "gridmap", "export", str(out), "--layers", "grids,crosswalk"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    back = gpd.read_file(out, layer="grids")
    assert sorted(back["code"]) == sorted(small_region().grids["code"])
    assert "households" in back.columns


def test_cli_import_if_empty_imports_once_and_then_leaves_the_data_alone(
    db_url: str, tmp_path: Path
) -> None:
    import os

    path = write_interchange(small_region(), tmp_path / "region")
    env = {**os.environ, "GRIDMAP_DATABASE_URL": db_url}
    cmd = [sys.executable, "-m", "gridmap", "import", str(path), "--if-empty"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "building: +3" in first.stdout
    with psycopg.connect(db_url) as conn:
        before = conn.execute("SELECT count(*), max(id) FROM generation").fetchone()
    again = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "skipped" in again.stdout
    assert "divisions" in again.stdout
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*), max(id) FROM generation").fetchone() == before


def test_cli_import_rejects_a_bad_file_and_writes_nothing(db_url: str, tmp_path: Path) -> None:
    import os

    data = small_region()
    data.buildings["households"] = data.buildings["households"].astype(object)
    data.buildings.loc[1, "households"] = "many"
    path = write_interchange(data, tmp_path / "bad")
    run = subprocess.run(
        [sys.executable, "-m", "gridmap", "import", str(path)],
        env={**os.environ, "GRIDMAP_DATABASE_URL": db_url},
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert "many" in run.stderr
    assert "households" in run.stderr
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM division").fetchone() == (0,)


def test_cli_names_a_malformed_phone_by_person_without_showing_it(
    db_url: str, tmp_path: Path
) -> None:
    import os

    data = small_region()
    data.people.loc[1, "phone"] = "(100) 0000-0002"
    path = write_interchange(data, tmp_path / "bad")
    run = subprocess.run(
        [sys.executable, "-m", "gridmap", "import", str(path)],
        env={**os.environ, "GRIDMAP_DATABASE_URL": db_url},
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2, run.stderr
    assert "people row 1 phone: person P2: not a phone number" in run.stderr
    assert "5 to 20 characters" in run.stderr
    for personal in ("(100) 0000-0002", "0000-0002", "李强"):
        assert personal not in run.stderr + run.stdout
    assert "Traceback" not in run.stderr
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM person").fetchone() == (0,)


def test_stored_division_kinds_follow_the_code_rule(db: psycopg.Connection[Any]) -> None:
    from gridmap.codes import division_kind

    load_interchange(db, small_region())
    rows = db.execute("SELECT code, kind FROM division ORDER BY code").fetchall()
    assert rows
    assert all(kind == division_kind(code) for code, kind in rows), rows
    assert {kind for _, kind in rows} >= {None, "street", "community"}
