"""The interchange format: round trips, encodings, CRS handling and validation problems."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely import wkt

from geodata.sample import generate_sample
from gridmap.crs import METRIC, STORAGE, wgs84_to_gcj02
from gridmap.errors import ImportValidationError, InvalidInput
from gridmap.io import (
    Interchange,
    Problem,
    export_qgis,
    read_interchange,
    validate,
    validate_or_raise,
    write_interchange,
)

if TYPE_CHECKING:
    from pathlib import Path

# A street 220102005000 with one community 220102005004 (a 400 m square near 125.34E 43.90N)
# holding two buildings and their units, one grid, and a grid chief.
#
#   +-------------------+  community 220102005004 = grid 220102005004001
#   |  [B1]      [B2]   |
#   +-------------------+
X0, Y0, D = 125.340, 43.898, 0.004


def _sq(x: float, y: float, d: float) -> shapely.Polygon:
    return shapely.box(x, y, x + d, y + d)


@pytest.fixture
def tiny() -> Interchange:
    divisions = gpd.GeoDataFrame(
        {
            "code": ["220102005000", "220102005004"],
            "name": ["长通街道", "龙兴社区"],
            "level": ["township", "village"],
            "parent_code": ["220102000000", "220102005000"],
        },
        geometry=[shapely.MultiPolygon([_sq(X0, Y0, D)]), shapely.MultiPolygon([_sq(X0, Y0, D)])],
        crs=STORAGE,
    )
    grids = gpd.GeoDataFrame(
        {
            "code": ["220102005004001"],
            "name": ["龙兴社区第一网格"],
            "community_code": ["220102005004"],
            "kind": ["urban"],
        },
        geometry=[_sq(X0, Y0, D)],
        crs=STORAGE,
    )
    buildings = gpd.GeoDataFrame(
        {
            "building_id": ["B1", "B2"],
            "community_code": ["220102005004"] * 2,
            "road": ["长通路"] * 2,
            "house_number": ["18", "18"],
            "compound": ["明珠花园"] * 2,
            "building_no": ["1", "2"],
            "households": [24, 36],
            "floors": [6, 6],
        },
        geometry=[_sq(X0 + 0.001, Y0 + 0.001, 0.0003), _sq(X0 + 0.002, Y0 + 0.001, 0.0003)],
        crs=STORAGE,
    )
    units = pd.DataFrame(
        {
            "building_id": ["B1", "B1", "B2", "B2", "B2"],
            "unit_no": ["1", "2", "1", "2", "3"],
            "households": [12, 12, 12, 12, 12],
        }
    )
    people = pd.DataFrame(
        {
            "person_id": ["P1", "P2"],
            "name": ["王秀英", "栗建国"],
            "phone": ["10000000001", "10000000002"],
        }
    )
    assignments = pd.DataFrame(
        {
            "person_id": ["P1", "P2"],
            "role": ["grid_chief", "building_chief"],
            "grid_code": ["220102005004001", None],
            "building_id": [None, "B1"],
            "since": ["2022-03-01", "2023-01-15"],
            "until": [None, None],
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


@pytest.fixture
def known() -> list[str]:
    return ["220102000000", "220100000000", "220000000000"]


def _assert_same(a: Interchange, b: Interchange, exact: bool = True) -> None:
    """Equal layers; ``exact=False`` allows ring order and Polygon/MultiPolygon changes
    (Shapefiles store neither)."""
    for name, left in a.layers().items():
        right = b.layers()[name]
        assert len(left) == len(right), name
        if isinstance(left, gpd.GeoDataFrame):
            lg, rg = left.geometry, right.geometry
            equal = lg.geom_equals_exact(rg, 1e-9) if exact else lg.geom_equals(rg)
            same = (lg.isna() & rg.isna()) | equal
            assert bool(same.all()), name
            assert right.crs is not None, name
            assert right.crs.equals(STORAGE), name
            left, right = (
                pd.DataFrame(left.drop(columns="geometry")),
                pd.DataFrame(right.drop(columns="geometry")),
            )
        pd.testing.assert_frame_equal(
            left.reset_index(drop=True), right.reset_index(drop=True), obj=name
        )


def test_tiny_is_valid(tiny: Interchange, known: list[str]) -> None:
    assert validate(tiny, known_codes=known) == []


def test_dtypes_follow_the_schema(tiny: Interchange) -> None:
    assert str(tiny.buildings["households"].dtype) == "Int64"
    assert str(tiny.buildings["building_id"].dtype) == "string"
    assert str(tiny.assignments["since"].dtype) == "string"
    assert tiny.buildings.crs.equals(STORAGE)
    assert list(tiny.units.columns) == ["building_id", "unit_no", "households"]


@pytest.mark.parametrize("target", ["sample.gpkg", "folder"])
def test_write_read_round_trip(tmp_path: Path, target: str) -> None:
    data = generate_sample("community")
    write_interchange(data, tmp_path / target)
    back = read_interchange(tmp_path / target)
    _assert_same(data, back)
    assert validate(back) == []


def test_gbk_shapefile_round_trip_keeps_chinese_text(tmp_path: Path) -> None:
    data = generate_sample("community")
    export_qgis(data, tmp_path, fmt="shapefile", encoding="GBK")
    assert (tmp_path / "buildings.cpg").read_text().strip().upper() == "GBK"
    raw = (tmp_path / "divisions.dbf").read_bytes()
    assert "龙兴社区".encode("gbk") in raw
    for cpg in tmp_path.glob("*.cpg"):
        cpg.unlink()  # as many legacy files arrive: GBK bytes and no .cpg at all
    back = read_interchange(tmp_path)
    _assert_same(data, back, exact=False)
    assert "龙兴社区" in set(back.divisions["name"])
    assert validate(back) == []


def test_utf8_shapefile_with_cpg(tmp_path: Path) -> None:
    data = generate_sample("community")
    export_qgis(data, tmp_path, fmt="shapefile")
    back = read_interchange(tmp_path)
    assert set(back.buildings["compound"]) == set(data.buildings["compound"])


def test_explicit_encoding_wins(tmp_path: Path, tiny: Interchange) -> None:
    export_qgis(tiny, tmp_path, fmt="shapefile", encoding="GBK")
    (tmp_path / "buildings.cpg").unlink()
    back = read_interchange(tmp_path, encoding="GBK")
    assert back.buildings["compound"].tolist() == ["明珠花园", "明珠花园"]


def test_shapefile_refuses_mixed_geometry(tmp_path: Path, tiny: Interchange) -> None:
    tiny.buildings.loc[1, "geometry"] = shapely.Point(X0 + 0.002, Y0 + 0.001)
    with pytest.raises(InvalidInput, match="mixes"):
        export_qgis(tiny, tmp_path, fmt="shapefile")


def test_gcj02_source_crs_is_converted(tmp_path: Path, tiny: Interchange) -> None:
    gcj = tiny.buildings.copy()
    gcj["geometry"] = shapely.transform(
        np.asarray(gcj.geometry.values), lambda c: np.column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1]))
    )
    gcj = gcj.set_crs(4326, allow_override=True)  # Amap exports say WGS84; they are not
    write_interchange(Interchange.from_frames(buildings=gcj), tmp_path)
    as_declared = read_interchange(tmp_path)
    converted = read_interchange(tmp_path, source_crs="GCJ02")
    a = as_declared.buildings.to_crs(METRIC).centroid.distance(
        tiny.buildings.to_crs(METRIC).centroid
    )
    b = converted.buildings.to_crs(METRIC).centroid.distance(tiny.buildings.to_crs(METRIC).centroid)
    assert a.min() > 300
    assert b.max() < 0.01


def test_declared_metric_crs_is_honoured(tmp_path: Path, tiny: Interchange) -> None:
    write_interchange(
        Interchange.from_frames(buildings=tiny.buildings.to_crs(METRIC)), tmp_path / "m.gpkg"
    )
    back = read_interchange(tmp_path / "m.gpkg")
    assert back.buildings.crs.equals(STORAGE)
    moved = shapely.hausdorff_distance(
        back.buildings.geometry.values, tiny.buildings.geometry.values
    )
    assert float(moved.max()) < 1e-8


def test_csv_with_lon_lat_and_no_crs_is_reported(tmp_path: Path) -> None:
    pd.DataFrame(
        {
            "building_id": ["B1"],
            "community_code": ["220102005004"],
            "households": ["12"],
            "lon": ["125.341"],
            "lat": ["43.899"],
        }
    ).to_csv(tmp_path / "buildings.csv", index=False)
    data = read_interchange(tmp_path)
    assert data.buildings.crs is None
    assert any(p.layer == "buildings" and "unknown CRS" in p.message for p in validate(data))
    fixed = read_interchange(tmp_path, source_crs="EPSG:4490")
    assert not any("unknown CRS" in p.message for p in validate(fixed))


def test_shapefile_without_prj_is_unknown_crs(tmp_path: Path, tiny: Interchange) -> None:
    export_qgis(tiny, tmp_path, fmt="shapefile")
    (tmp_path / "grids.prj").unlink()
    problems = validate(read_interchange(tmp_path))
    assert [str(p) for p in problems if "CRS" in p.message] == [
        "grids: unknown CRS: the file declares none; give source_crs (e.g. 'EPSG:4490' or 'GCJ02')"
    ]


def test_gbk_csv_is_decoded(tmp_path: Path) -> None:
    pd.DataFrame({"person_id": ["P1"], "name": ["栗建国"], "phone": ["10000000001"]}).to_csv(
        tmp_path / "people.csv", index=False, encoding="gbk"
    )
    assert read_interchange(tmp_path).people["name"].tolist() == ["栗建国"]


def test_not_a_gpkg_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(InvalidInput, match=r"expected a \.gpkg"):
        read_interchange(tmp_path / "x.txt")


# ----------------------------------------------------------------------------- problems

Edit = Callable[[Interchange], None]


def _set(layer: str, row: int, col: str, value: Any) -> Edit:
    def edit(data: Interchange) -> None:
        frame = getattr(data, layer)
        if col not in ("geometry",) and str(frame[col].dtype) in ("Int64", "string"):
            frame[col] = frame[col].astype(object)
        frame.loc[row, col] = value

    return edit


CASES: list[tuple[str, Edit, str]] = [
    (
        "bowtie",
        _set("buildings", 0, "geometry", wkt.loads("POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))")),
        "buildings row 0 geometry: invalid geometry: Self-intersection",
    ),
    (
        "empty geometry",
        _set("grids", 0, "geometry", shapely.Polygon()),
        "grids row 0 geometry: geometry is empty or missing",
    ),
    (
        "duplicate id",
        _set("buildings", 1, "building_id", "B1"),
        "buildings row 1 building_id: 'B1' is a duplicate of an earlier row",
    ),
    (
        "bad parent",
        _set("divisions", 1, "parent_code", "220102003000"),
        "divisions row 1 parent_code: '220102003000' does not nest: the parent of 220102005004 is 220102005000",
    ),
    (
        "missing parent",
        _set("divisions", 1, "code", "220102006004"),
        "divisions row 1 parent_code: '220102005000' does not nest: the parent of 220102006004 is 220102006000",
    ),
    (
        "bad division code",
        _set("divisions", 1, "code", "22010200500X"),
        "divisions row 1 code: '22010200500X' is not a 12-digit division code",
    ),
    (
        "grid outside its community",
        _set("grids", 0, "code", "220102005005001"),
        "grids row 0 code: '220102005005001' does not nest in its community 220102005004",
    ),
    (
        "building far away",
        _set("buildings", 1, "geometry", _sq(X0 + 0.01, Y0, 0.0003)),
        "buildings row 1 geometry: lies outside its community 220102005004 (by more than 2 m)",
    ),
    (
        "unknown community",
        _set("buildings", 0, "community_code", "220102005099"),
        "buildings row 0 community_code: '220102005099' is not a known community or village",
    ),
    (
        "households abc",
        _set("buildings", 0, "households", "abc"),
        "buildings row 0 households: 'abc' is not a whole number",
    ),
    (
        "negative households",
        _set("units", 2, "households", -3),
        "units row 2 households: -3 is negative; expected 0 or more",
    ),
    (
        "unknown person",
        _set("assignments", 0, "person_id", "P9"),
        "assignments row 0 person_id: 'P9' is not a person in the people layer",
    ),
    (
        "unknown grid",
        _set("assignments", 0, "grid_code", "220102005004009"),
        "assignments row 0 grid_code: '220102005004009' is not a grid in the grids layer",
    ),
    (
        "unknown building",
        _set("assignments", 1, "building_id", "B7"),
        "assignments row 1 building_id: 'B7' is not a building in the buildings layer",
    ),
    (
        "unit of nothing",
        _set("units", 0, "building_id", "B7"),
        "units row 0 building_id: 'B7' is not a building in the buildings layer",
    ),
    (
        "role without target",
        _set("assignments", 1, "role", "unit_chief"),
        "assignments row 1 unit_no: is empty; a unit_chief needs it",
    ),
    (
        "target for wrong role",
        _set("assignments", 0, "building_id", "B1"),
        "assignments row 0 building_id: 'B1' does not fit role grid_chief, which needs only grid_code",
    ),
    (
        "unknown role",
        _set("assignments", 0, "role", "mayor"),
        "assignments row 0 role: 'mayor' is not one of ['grid_chief', 'building_chief', 'unit_chief']",
    ),
    (
        "bad date",
        _set("assignments", 0, "since", "2022-13-01"),
        "assignments row 0 since: '2022-13-01' is not a date (YYYY-MM-DD)",
    ),
    (
        "until before since",
        _set("assignments", 0, "until", "2021-01-01"),
        "assignments row 0 until: '2021-01-01' is before since (2022-03-01)",
    ),
    (
        "mojibake",
        _set("buildings", 0, "compound", "鏄庣彔鑺卞洯"),
        "buildings row 0 compound: '鏄庣彔鑺卞洯' text-encoding error: looks like UTF-8 read as GBK (meant '明珠花园')",
    ),
    (
        "replacement char",  # a name is personal data: named by person_id, never shown
        _set("people", 0, "name", "王\ufffd英"),
        "people row 0 name: person P1: text-encoding error: contains the replacement character",
    ),
    (
        "required empty",
        _set("grids", 0, "kind", None),
        "grids row 0 kind: is empty; a value is required",
    ),
    # what the database's constraints and column types would refuse, caught before it
    (
        "phone with spaces",  # CHECK person_phone_check
        _set("people", 1, "phone", "100 0000 0002"),
        "people row 1 phone: person P2: not a phone number: expected 5 to 20 characters, "
        "each a digit 0-9, '+' or '-'",
    ),
    (
        "no floors",  # CHECK building_floors_check (floors > 0)
        _set("buildings", 0, "floors", 0),
        "buildings row 0 floors: 0 is not a number of floors: expected 1 or more",
    ),
    (
        "households past integer",
        _set("units", 1, "households", 3_000_000_000),
        "units row 1 households: 3000000000 is too large; expected at most 2,147,483,647",
    ),
    (
        "ISO week date",  # Python reads it, PostgreSQL does not
        _set("assignments", 1, "since", "2023-W03-1"),
        "assignments row 1 since: '2023-W03-1' is not a date (YYYY-MM-DD)",
    ),
    (
        "point grid",  # CHECK grid_boundary_valid: no polygon, an empty boundary
        _set("grids", 0, "geometry", shapely.Point(X0 + 0.001, Y0 + 0.001)),
        "grids row 0 geometry: is a Point; expected Polygon or MultiPolygon",
    ),
    (
        "line building",  # the building's point column takes no line
        _set("buildings", 1, "geometry", shapely.LineString([(X0, Y0), (X0 + 0.001, Y0)])),
        "buildings row 1 geometry: is a LineString; expected Polygon, MultiPolygon, Point or "
        "MultiPoint",
    ),
    (
        "NUL in text",  # PostgreSQL text cannot hold it
        _set("buildings", 0, "house_number", "18\x00"),
        "buildings row 0 house_number: '18\\x00' text-encoding error: contains a NUL character",
    ),
]


@pytest.mark.parametrize(
    ("edit", "expected"), [(e, x) for _, e, x in CASES], ids=[c[0] for c in CASES]
)
def test_each_bad_input_is_named(
    tiny: Interchange, known: list[str], edit: Edit, expected: str
) -> None:
    edit(tiny)
    problems = [str(p) for p in validate(tiny, known_codes=known)]
    assert any(p.startswith(expected) for p in problems), problems


def test_every_problem_is_reported_at_once(tiny: Interchange, known: list[str]) -> None:
    for _, edit, _ in CASES[:12]:
        edit(tiny)
    problems = validate(tiny, known_codes=known)
    assert len({(p.layer, p.row, p.field) for p in problems}) >= 10


def test_fix_repairs_geometry_and_says_so(tiny: Interchange, known: list[str]) -> None:
    _set(
        "buildings",
        0,
        "geometry",
        wkt.loads(
            "POLYGON ((125.341 43.899, 125.3413 43.8993, 125.3413 43.899, 125.341 43.8993, 125.341 43.899))"
        ),
    )(tiny)
    problems = validate(tiny, fix=True, known_codes=known)
    assert [p.severity for p in problems if p.field == "geometry"] == ["fixed"]
    assert bool(tiny.buildings.geometry.is_valid.all())
    assert validate(tiny, known_codes=known) == []


def test_validate_or_raise(tiny: Interchange, known: list[str]) -> None:
    assert validate_or_raise(tiny, known_codes=known) == []
    _set("buildings", 0, "households", "abc")(tiny)
    with pytest.raises(ImportValidationError) as info:
        validate_or_raise(tiny, known_codes=known)
    assert info.value.code == "import_invalid"
    assert "buildings row 0 households: 'abc' is not a whole number" in str(info.value)
    assert all(isinstance(p, Problem) for p in info.value.problems)


def test_households_mismatch_is_a_warning(tiny: Interchange, known: list[str]) -> None:
    _set("units", 0, "households", 20)(tiny)
    problems = validate_or_raise(tiny, known_codes=known)
    assert [p.severity for p in problems] == ["warning"]
    assert "differs from the sum over its units (32)" in str(problems[0])


def test_gpkg_layer_without_srs_is_unknown_crs(tmp_path: Path, tiny: Interchange) -> None:
    path = tmp_path / "x.gpkg"
    frame = tiny.grids.set_crs(None, allow_override=True)
    frame = frame.astype({c: object for c in ["code", "name", "community_code", "kind"]})
    with pytest.warns(UserWarning, match="crs"):
        pyogrio.write_dataframe(frame, path, layer="grids")
    problems = validate(read_interchange(path))
    assert any(
        p.layer == "grids" and p.row is None and "unknown CRS" in p.message for p in problems
    )
