"""Resolution of points and addresses against a small real PostGIS region (tests/region.py)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from gridmap.crs import METRIC, transformer, wgs84_to_gcj02
from gridmap.errors import InvalidCoordinate, InvalidCRS
from gridmap.resolve.batch import queries_from_records
from gridmap.resolve.matching import name_score, number_key
from gridmap.service import Gridmap
from tests.region import GRID_A, GRID_B, GRID_C, XINFA, Region, box, region

pytestmark = pytest.mark.postgis
__all__ = ["region"]

INSIDE_A = (125.305, 43.885)


# ---------------------------------------------------------------------------- pure matching


def test_name_score_typos_but_never_numbers() -> None:
    assert name_score("明珠花园", "明珠花园小区") == 1.0
    assert name_score("明珠花圆", "明珠花园") == 0.85
    assert name_score("明珠佳园", "明珠家园") == 0.85
    assert name_score("幸福小区2期", "幸福小区3期") == 0.0
    assert name_score("一汽8街区", "一汽9街区") == 0.0
    assert name_score("一汽三街区", "一汽五街区") == 0.0
    assert name_score("A区花园", "B区花园") == 0.0
    assert name_score("金域", "金玉") == 0.0  # too short to forgive a typo
    assert name_score("人民大路", "人民大街", road=True) == 0.0  # another road
    assert name_score("人明大街", "人民大街", road=True) == 0.85


def test_number_key_spellings() -> None:
    assert number_key("3") == number_key("3栋") == number_key("3号楼") == number_key("三栋")
    assert number_key("3") != number_key("8")


# ---------------------------------------------------------------------------- points


def test_point_in_grid(region: Region) -> None:
    res = region.gm.resolve_point(*INSIDE_A)
    assert res.status == "ok"
    assert res.match_level == "grid"
    assert res.grid is not None
    assert res.grid.code == GRID_A
    assert res.grid.community is not None
    assert res.grid.community.code == XINFA
    assert res.grid.street is not None
    assert res.grid.street.name == "新发街道"
    assert res.grid.county is not None
    assert res.grid.county.name == "宽城区"
    assert res.grid_chief is not None
    assert res.grid_chief.name == "王网格"
    assert not res.on_boundary


def test_point_in_building_footprint(region: Region) -> None:
    res = region.gm.resolve_point(125.3026, 43.8851)
    assert res.match_level == "building"
    assert res.building is not None
    assert res.building.id == "B-MZ-3"
    assert res.building_chief is not None
    assert res.building_chief.name == "李楼栋"


def test_point_on_shared_edge_takes_lowest_code(region: Region) -> None:
    for _ in range(3):
        res = region.gm.resolve_point(125.310, 43.885)
        assert res.grid is not None
        assert res.grid.code == GRID_A
        assert res.on_boundary
    corner = region.gm.resolve_point(125.310, 43.880)
    assert corner.grid is not None
    assert corner.grid.code == GRID_A


def test_point_outside_gives_nearest_grid_and_distance(region: Region) -> None:
    res = region.gm.resolve_point(125.325, 43.885)
    assert res.status == "not_found"
    assert res.grid is None
    assert res.match_level == "none"
    assert res.nearest is not None
    assert res.nearest.grid.code == GRID_B
    # 0.005° of longitude at 43.885°N is about 401 m
    assert res.nearest.distance_m == pytest.approx(401.5, abs=2)


def test_gcj02_and_projected_inputs_land_in_the_same_grid(region: Region) -> None:
    for lon, lat in (INSIDE_A, (125.3152, 43.8811), (125.3099, 43.8899)):
        wgs = region.gm.resolve_point(lon, lat, "EPSG:4326")
        gx, gy = wgs84_to_gcj02(lon, lat)
        gcj = region.gm.resolve_point(float(gx), float(gy), "GCJ02")
        ex, ny = transformer(4490, METRIC).transform(lon, lat)
        gk = region.gm.resolve_point(ex, ny, "EPSG:4551")
        assert wgs.grid is not None
        assert gcj.grid == wgs.grid == gk.grid
        assert gcj.location is not None
        assert gcj.location.lon == pytest.approx(lon, abs=1e-8)
    # the raw GCJ-02 numbers, misread as WGS84, are hundreds of metres off
    gx, gy = wgs84_to_gcj02(125.3085, 43.885)
    misread = region.gm.resolve_point(float(gx), float(gy), "EPSG:4326")
    assert misread.grid is not None
    assert misread.grid.code == GRID_B


def test_bad_points_are_errors_in_place(region: Region) -> None:
    out = region.gm.resolve_points(
        [
            (*INSIDE_A, "EPSG:4490"),
            (43.9, 125.3, "EPSG:4326"),
            (1.0, 2.0, "EPSG:0"),
            (*INSIDE_A, 4326),
        ],
    )
    assert [type(r).__name__ for r in out] == [
        "Resolution",
        "InvalidCoordinate",
        "InvalidCRS",
        "Resolution",
    ]
    with pytest.raises(InvalidCoordinate, match="swapped"):
        region.gm.resolve_point(43.9, 125.3)
    with pytest.raises(InvalidCRS):
        region.gm.resolve_point(1, 2, "Mars")


# ---------------------------------------------------------------------------- addresses

FULL = "吉林省长春市宽城区新发街道新发社区明珠花园3栋1单元402室"


def test_exact_address_resolves_to_unit_with_all_three_chiefs(region: Region) -> None:
    res = region.gm.resolve_address(FULL)
    assert res.status == "ok"
    assert res.match_level == "unit"
    assert res.confidence >= 0.95
    assert res.grid is not None
    assert res.grid.code == GRID_A
    assert res.building is not None
    assert res.building.id == "B-MZ-3"
    assert res.unit is not None
    assert res.unit.unit_no == "1"
    assert res.grid_chief is not None
    assert res.grid_chief.name == "王网格"
    assert res.building_chief is not None
    assert res.building_chief.name == "李楼栋"
    assert res.unit_chief is not None
    assert res.unit_chief.name == "张单元"
    assert res.unit_chief.phone == "136****2222"
    unmasked = region.gm.resolve_address(FULL, authorised=True)
    assert unmasked.unit_chief is not None
    assert unmasked.unit_chief.phone == "13611112222"


def test_vacant_post_is_null_and_past_terms_ignored(region: Region) -> None:
    res = region.gm.resolve_address("长春市宽城区明珠花园三栋二单元")
    assert res.match_level == "unit"
    assert res.unit is not None
    assert res.unit.unit_no == "2"
    assert res.unit_chief is None  # 刘离任's term ended
    in_b = region.gm.resolve_address("宽城区长城小区7栋")
    assert in_b.grid is not None
    assert in_b.grid.code == GRID_B
    assert in_b.grid_chief is None  # 赵离任's term ended


def test_road_and_house_number(region: Region) -> None:
    res = region.gm.resolve_address("长春市宽城区人民大街1234号")
    assert res.match_level == "building"
    assert res.building is not None
    assert res.building.id == "B-MZ-3"
    typo_in_number = region.gm.resolve_address("长春市宽城区人民大街1235号")
    assert typo_in_number.grid is None
    assert typo_in_number.building is None
    assert any("1235" in n for n in typo_in_number.notes)
    other_road = region.gm.resolve_address("长春市宽城区人民大路1234号")
    assert other_road.building is None
    assert other_road.grid is None


def test_unknown_building_in_compound_within_one_grid_gives_compound_level(
    region: Region,
) -> None:
    res = region.gm.resolve_address("宽城区长城小区9栋")
    assert res.match_level == "compound"
    assert res.building is None
    assert res.grid is not None
    assert res.grid.code == GRID_B
    assert res.confidence < 0.9


def test_unknown_building_in_compound_across_grids_never_guesses(region: Region) -> None:
    res = region.gm.resolve_address("宽城区新发街道幸福小区9栋")
    assert res.match_level == "compound"
    assert res.grid is None
    assert res.building is None
    assert res.status == "ambiguous"
    assert sorted(c.grid.code for c in res.candidates if c.grid) == [GRID_A, GRID_B]


def test_number_typo_is_not_matched_to_a_neighbour(region: Region) -> None:
    res = region.gm.resolve_address("宽城区明珠花园8栋")
    assert res.building is None
    assert res.match_level == "compound"


def test_one_character_typo_in_compound_name_is_matched(region: Region) -> None:
    res = region.gm.resolve_address("宽城区明珠花圆3栋")
    assert res.status == "ok"
    assert res.match_level == "building"
    assert res.building is not None
    assert res.building.id == "B-MZ-3"
    assert res.confidence < region.gm.resolve_address("宽城区明珠花园3栋").confidence


def test_equally_good_matches_are_ambiguous(region: Region) -> None:
    # 明珠佳园 is one typo from both 明珠花园 (grid A) and 明珠家园 (grid C), both with a 3栋
    res = region.gm.resolve_address("宽城区明珠佳园3栋")
    assert res.status == "ambiguous"
    assert res.grid is None
    assert res.grid_chief is None
    found = {
        (c.building.id if c.building else None, c.grid.code if c.grid else None)
        for c in res.candidates
    }
    assert found == {("B-MZ-3", GRID_A), ("B-JY-3", GRID_C)}
    assert res.confidence <= 0.5
    assert res.match_level == "township"  # the finest level the two readings share
    # the exact name wins over the typo reading
    exact = region.gm.resolve_address("宽城区明珠家园3栋")
    assert exact.grid is not None
    assert exact.grid.code == GRID_C


def test_same_building_in_two_communities_without_division_is_ambiguous(region: Region) -> None:
    region.add_building(
        "B-MZ2-3",
        125.3390,
        43.8860,
        community_code="220103001002",
        compound="明珠花园",
        building_no="3",
    )
    res = region.gm.resolve_address("明珠花园3栋")
    assert res.status == "ambiguous"
    assert res.grid is None
    narrowed = region.gm.resolve_address("宽城区新发街道春华社区明珠花园3栋")
    assert narrowed.building is not None
    assert narrowed.building.id == "B-MZ2-3"


def test_duplicate_buildings_in_one_grid_give_the_grid_not_a_building(region: Region) -> None:
    region.add_building("B-MZ-5b", 125.3045, 43.8865, compound="明珠花园", building_no="5")
    res = region.gm.resolve_address("宽城区明珠花园5栋")
    assert res.status == "ok"
    assert res.building is None
    assert res.match_level == "compound"
    assert res.grid is not None
    assert res.grid.code == GRID_A


def test_rural_hamlet_and_house_number(region: Region) -> None:
    grid = region.add_village("220103001003", "兴隆村", box(125.345, 43.880, 125.355, 43.890))
    for no, group, lon in (("5", "1", 125.347), ("6", "1", 125.348), ("7", "2", 125.349)):
        region.add_building(
            f"R-{no}", lon, 43.885, community_code="220103001003", hamlet="李家屯",
            house_number=no, group_no=group,
        )  # fmt: skip
    res = region.gm.resolve_address("长春市宽城区新发街道兴隆村李家屯5号")
    assert res.match_level == "building"
    assert res.building is not None
    assert res.building.id == "R-5"
    assert res.grid is not None
    assert res.grid.code == grid
    assert region.gm.resolve_address("宽城区新发街道兴隆村李家屯6号").building.id == "R-6"  # type: ignore[union-attr]
    unknown = region.gm.resolve_address("宽城区新发街道兴隆村李家屯9号")
    assert unknown.building is None
    assert unknown.match_level == "compound"
    assert unknown.grid is not None
    assert unknown.grid.code == grid
    wrong_group = region.gm.resolve_address("宽城区新发街道兴隆村李家屯2组5号")
    assert wrong_group.building is None


def test_number_under_a_community_alone(region: Region) -> None:
    region.add_village("220103001003", "兴隆村", box(125.345, 43.880, 125.355, 43.890))
    for no, group in (("7", "5"), ("7", "6"), ("8", "5")):
        region.add_building(
            f"G{group}-{no}", 125.35, 43.885, community_code="220103001003",
            house_number=no, group_no=group,
        )  # fmt: skip
    res = region.gm.resolve_address("宽城区新发街道兴隆村5社7号")
    assert res.building is not None
    assert res.building.id == "G5-7"
    both = region.gm.resolve_address("宽城区新发街道兴隆村7号")  # groups 5 and 6
    assert both.building is None
    assert both.grid is not None
    # 7栋 is 长城小区's only: found without the compound; 3栋 is not (no such number here)
    seven = region.gm.resolve_address("宽城区新发街道新发社区7栋")
    assert seven.building is not None
    assert seven.building.id == "B-CC-7"
    # a written compound that does not exist never borrows another compound's building
    unknown = region.gm.resolve_address("宽城区新发街道新发社区向阳小区7栋")
    assert unknown.building is None
    assert unknown.grid is None


def test_compound_named_after_its_community(region: Region) -> None:
    region.add_building("B-XFJY-1", 125.3170, 43.8890, compound="新发家园", building_no="1")
    res = region.gm.resolve_address("宽城区新发家园1栋")
    assert res.building is not None
    assert res.building.id == "B-XFJY-1"
    assert res.grid is not None
    assert res.grid.code == GRID_B


def test_division_only_addresses(region: Region) -> None:
    res = region.gm.resolve_address("长春市宽城区新发街道春华社区")
    assert res.match_level == "community"
    assert res.grid is not None
    assert res.grid.code == GRID_C
    township = region.gm.resolve_address("长春市宽城区新发街道")
    assert township.match_level == "township"
    assert township.grid is None
    assert township.division is not None
    assert township.division.name == "新发街道"
    nothing = region.gm.resolve_address("火星大道9号")
    assert nothing.status == "not_found"
    assert nothing.match_level == "none"


def test_gazetteer_is_kept_per_service_and_reloadable(region: Region) -> None:
    first = region.gm.gazetteer
    assert region.gm.gazetteer is first
    region.conn.execute(
        "INSERT INTO division (code, name, level, parent_code) VALUES "
        "('220103001003', '新村社区', 'village', '220103001000')"
    )
    assert region.gm.gazetteer.get("220103001003") is None
    # another service over the same database builds its own: no process-wide cache
    assert Gridmap(region.conn).gazetteer.get("220103001003") is not None
    assert region.gm.reload_gazetteer().get("220103001003") is not None
    assert region.gm.gazetteer.get("220103001003") is not None


# ---------------------------------------------------------------------------- batch


def test_batch_mixes_rows_and_keeps_bad_rows_apart(region: Region) -> None:
    records: list[Any] = [
        {"id": "a", "address": FULL},
        {"id": "p", "lon": 125.315, "lat": 43.885},
        {"id": "bad", "lon": 125.3},
        {"id": "swap", "lon": 43.885, "lat": 125.3},
        {"id": "far", "lon": 125.5, "lat": 43.885},
        "not an object",
    ]
    rows = region.gm.resolve_batch(queries_from_records(records))
    assert [(r.id, r.status) for r in rows] == [
        ("a", "ok"),
        ("p", "ok"),
        ("bad", "error"),
        ("swap", "error"),
        ("far", "not_found"),
        (None, "error"),
    ]
    assert rows[2].error is not None
    assert rows[2].error.field is not None
    assert rows[3].error is not None
    assert rows[3].error.code == "invalid_coordinate"


def test_batch_of_addresses_answers_as_one_by_one(region: Region) -> None:
    texts = [FULL, "宽城区明珠佳园3栋", FULL, "宽城区幸福小区9栋", "  ", "宽城区长城小区7栋", FULL]
    single = [region.gm.resolve_address(t) if t.strip() else None for t in texts]
    batch = region.gm.resolve_addresses(texts)
    for one, many in zip(single, batch, strict=True):
        if one is None:
            assert type(many).__name__ == "InvalidAddress"
        else:
            assert many == one


def test_resolve_csv_streams_in_chunks(region: Region) -> None:
    lines = ["id,address"] + [f"r{i},宽城区明珠花园3栋1单元" for i in range(7)] + ["r7,"]
    sink = io.StringIO()
    chunks: list[int] = []
    counts = region.gm.resolve_csv(
        io.StringIO("\n".join(lines)), sink, chunk_size=3, on_chunk=chunks.append
    )
    assert counts == {"ok": 7, "not_found": 0, "ambiguous": 0, "error": 1}
    assert chunks == [3, 3, 2]
    out = sink.getvalue().splitlines()
    assert out[0].startswith("id,status,grid_code")
    assert out[1].startswith(f"r0,ok,{GRID_A},")
    assert out[-1].startswith("r7,error")
    points = io.StringIO("id,x,y\n1,125.305,43.885\n")
    sink = io.StringIO()
    counts = region.gm.resolve_csv(
        points, sink, address_column=None, lon_column="x", lat_column="y"
    )
    assert counts["ok"] == 1
    assert GRID_A in sink.getvalue()


def test_cli_resolve(region: Region, db_url: str, tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from gridmap.cli import app

    src = tmp_path / "in.csv"
    src.write_text("id,address\n1,宽城区明珠花园3栋1单元\n2,宽城区明珠佳园3栋\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        app, ["resolve", str(src), "--out", str(out), "--database-url", db_url, "--show-phones"]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith(f"1,ok,{GRID_A},新发社区第一网格,王网格,13912345678,")
    assert lines[2].startswith("2,ambiguous,,")
