"""Tests of the 多网合一 merge: hand-built layouts with exact outcomes, then invariants.

Coordinates are EPSG:4551 metres relative to (500000, 4860000); ``B(x0, y0, x1, y1)``
makes a box there. Households limits are opened up (``GEOMETRY``) where a test is about
geometry only, so no grid is merged or split for its household count.
"""

from __future__ import annotations

import json
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap.errors import InvalidCRS, InvalidInput, UnknownDivision
from gridmap.merge import (
    MergeOptions,
    MergeResult,
    merge_community,
    merge_layers,
    render_report_markdown,
)
from gridmap.merge.synthetic import synthetic_layout

X0, Y0 = 500000.0, 4860000.0
CRS = "EPSG:4551"
A, B_ = "220102001001", "220102001002"
VILLAGE = "220102001201"
GEOMETRY = MergeOptions(households_min=0, households_max=100_000)


def B(x0: float, y0: float, x1: float, y1: float) -> Any:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def P(x: float, y: float) -> Any:
    return shapely.Point(X0 + x, Y0 + y)


def communities(*rows: tuple[str, Any]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [f"社区{r[0][-3:]}" for r in rows]},
        geometry=[r[1] for r in rows],
        crs=CRS,
    )


def legacy(*rows: tuple[str, str, Any]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "layer": [r[0] for r in rows],
            "source_code": [r[1] for r in rows],
            "name": [r[1] for r in rows],
            "community_code": [None] * len(rows),
        },
        geometry=[r[2] for r in rows],
        crs=CRS,
    )


def buildings(*rows: dict[str, Any]) -> gpd.GeoDataFrame:
    defaults: dict[str, Any] = {
        "community_code": A,
        "households": 10,
        "compound": None,
        "hamlet": None,
        "group_no": None,
    }
    full = [{**defaults, **r} for r in rows]
    return gpd.GeoDataFrame(
        pd.DataFrame(
            [{k: v for k, v in r.items() if k != "geometry"} for r in full],
            columns=["building_id", *defaults],
        ),
        geometry=[r["geometry"] for r in full],
        crs=CRS,
    )


def by_name(result: MergeResult, name: str) -> Any:
    rows = result.grids[result.grids["name"] == name]
    assert len(rows) == 1, f"{name}: {list(result.grids['name'])}"
    return rows.iloc[0]


def grid_of(result: MergeResult, building_id: str) -> str:
    a = result.assignment.set_index("building_id")["grid_code"]
    return str(a[building_id])


def same_shape(geom: Any, expected: Any) -> bool:
    return bool(shapely.equals(shapely.normalize(geom), shapely.normalize(expected))) or (
        abs(shapely.area(shapely.symmetric_difference(geom, expected))) < 0.01
    )


def check_invariants(result: MergeResult, comm: gpd.GeoDataFrame, bld: gpd.GeoDataFrame) -> None:
    grids = result.grids.to_crs(CRS)
    frames = comm.to_crs(CRS).set_index("code").geometry
    for code, sub in grids.groupby("community_code"):
        assert shapely.coverage_is_valid(sub.geometry.values), code
        assert math.isclose(sub.area.sum(), frames[code].area, rel_tol=1e-4), code
        assert shapely.covers(frames[code].buffer(0.01), shapely.union_all(sub.geometry.values))
    assert set(grids["community_code"]) <= set(frames.index)
    assert grids["code"].str.fullmatch(r"[0-9]{15}").all()
    assert grids["code"].is_unique
    # every building in exactly one grid, its footprint never cut
    a = result.assignment
    assert len(a) == len(bld)
    assert a["building_id"].is_unique
    assert a["grid_code"].notna().all()
    geom_of = grids.set_index("code").geometry
    for bid, code, fp, ccode in zip(
        a["building_id"],
        a["grid_code"],
        bld.to_crs(CRS).geometry,
        bld["community_code"],
        strict=True,
    ):
        grid = geom_of[code]
        inside = shapely.intersection(fp, frames[code[:12]])
        if fp.geom_type == "Point":
            assert shapely.distance(grid, fp) < 0.01, bid
        else:
            assert shapely.area(shapely.difference(inside, grid)) < 1e-3 * fp.length, bid
        assert pd.isna(ccode) or code.startswith(ccode)
    # crosswalk shares + outside share = 1 per legacy grid
    outside: dict[Any, float] = {
        r["legacy_index"]: r["outside_share"] for r in result.report["legacy_outside"]
    }
    sums = result.crosswalk.groupby("legacy_index")["area_share"].sum()
    for key, total in sums.items():
        assert math.isclose(total + outside.get(key, 0.0), 1.0, abs_tol=1e-5), key
    json.dumps(result.report)


# ----------------------------------------------------------------------------- gap
def test_gap_goes_to_the_neighbour_with_the_longest_shared_edge() -> None:
    """
    0   200 230   400
    +----+ . +-----+ 200
    | G1 | . | G3  |
    |    | . +-----+ 150
    |    | . | G2  |
    +----+ . +-----+ 0     the 30 m gap shares 200 m with G1, 150 with G2, 50 with G3
    """
    comm = communities((A, B(0, 0, 400, 200)))
    leg = legacy(
        ("governance", "G1", B(0, 0, 200, 200)),
        ("governance", "G2", B(230, 0, 400, 150)),
        ("governance", "G3", B(230, 150, 400, 200)),
    )
    bld = buildings({"building_id": "gap", "geometry": P(215, 100)})
    r = merge_layers(comm, leg, bld, GEOMETRY)
    assert same_shape(by_name(r, "G1").geometry, B(0, 0, 230, 200))
    assert same_shape(by_name(r, "G2").geometry, B(230, 0, 400, 150))
    assert same_shape(by_name(r, "G3").geometry, B(230, 150, 400, 200))
    assert grid_of(r, "gap") == by_name(r, "G1")["code"]
    gaps = r.report["communities"][0]["legacy"]["governance"]["gaps"]
    assert gaps == {"count": 1, "area_m2": 6000.0}
    check_invariants(r, comm, bld)


# ----------------------------------------------------------------------------- overlap
def test_overlap_within_a_layer_goes_to_the_claimant_sharing_more_edge() -> None:
    """
    0     200  240    400
    +------+----+------+ 200
    | G1   :    |  G3  |
    |      +----+------+ 100   G1 reaches to x=240; G2 starts at x=200:
    |      :////|  G2  |       the overlap //// touches G1 on 140 m, G2 on 100 m
    +------+----+------+ 0
    """
    comm = communities((A, B(0, 0, 400, 200)))
    leg = legacy(
        ("governance", "G1", B(0, 0, 240, 200)),
        ("governance", "G2", B(200, 0, 400, 100)),
        ("governance", "G3", B(240, 100, 400, 200)),
    )
    bld = buildings({"building_id": "ov", "geometry": P(220, 50)})
    r = merge_layers(comm, leg, bld, GEOMETRY)
    assert same_shape(by_name(r, "G1").geometry, B(0, 0, 240, 200))
    assert same_shape(by_name(r, "G2").geometry, B(240, 0, 400, 100))
    assert grid_of(r, "ov") == by_name(r, "G1")["code"]
    assert r.report["communities"][0]["legacy"]["governance"]["overlaps"] == {
        "count": 1,
        "area_m2": 4000.0,
    }
    check_invariants(r, comm, bld)


def test_overlap_between_layers_goes_by_priority() -> None:
    """Governance cuts at x=200, civil at x=260: governance wins, civil only moves buildings."""
    comm = communities((A, B(0, 0, 400, 200)))
    leg = legacy(
        ("governance", "G1", B(0, 0, 200, 200)),
        ("governance", "G2", B(200, 0, 400, 200)),
        ("civil", "C1", B(0, 0, 260, 200)),
        ("civil", "C2", B(260, 0, 400, 200)),
    )
    bld = buildings({"building_id": "x", "geometry": P(230, 100)})
    r = merge_layers(comm, leg, bld, GEOMETRY)
    assert sorted(r.grids["name"]) == ["G1", "G2"]
    assert same_shape(by_name(r, "G2").geometry, B(200, 0, 400, 200))
    assert grid_of(r, "x") == by_name(r, "G2")["code"]
    changed = r.report["communities"][0]["buildings_changed"]
    assert changed["governance"]["count"] == 0
    assert changed["civil"] == {"count": 1, "building_ids": ["x"]}
    xw = r.crosswalk.set_index(["source_code", "grid_code"])["area_share"]
    assert xw[("C1", by_name(r, "G1")["code"])] == pytest.approx(200 / 260)
    assert xw[("C1", by_name(r, "G2")["code"])] == pytest.approx(60 / 260)
    # the other order of priority lets civil win
    r2 = merge_layers(
        comm,
        leg,
        bld,
        MergeOptions(
            households_min=0, households_max=10**5, layer_priority=("civil", "governance", "party")
        ),
    )
    assert sorted(r2.grids["name"]) == ["C1", "C2"]


# ----------------------------------------------------------------------------- sliver
def test_sliver_merges_into_the_neighbour_with_the_longest_shared_edge() -> None:
    """
    0        250     400
    +................+ 220   civil C1 fills a 20 m strip governance left open:
    +--------+-------+ 200   mean width 19 m < 35 m, so it is a sliver and goes to
    |   G1   |  G2   |       G1 (250 m of shared edge against 150 m)
    +--------+-------+ 0
    """
    comm = communities((A, B(0, 0, 400, 220)))
    leg = legacy(
        ("governance", "G1", B(0, 0, 250, 200)),
        ("governance", "G2", B(250, 0, 400, 200)),
        ("civil", "C1", B(0, 0, 400, 220)),
    )
    bld = buildings({"building_id": "top", "geometry": P(300, 210)})
    r = merge_layers(comm, leg, bld, GEOMETRY)
    assert sorted(r.grids["name"]) == ["G1", "G2"]
    assert same_shape(by_name(r, "G1").geometry, B(0, 0, 250, 220) | B(250, 200, 400, 220))
    assert grid_of(r, "top") == by_name(r, "G1")["code"]
    assert r.report["communities"][0]["slivers_removed"] == {"count": 1, "area_m2": 8000.0}
    kinds = {f["properties"]["kind"] for f in r.report["communities"][0]["features"]["features"]}
    assert "sliver" in kinds
    check_invariants(r, comm, bld)


def test_misalignment_within_tolerance_is_snapped_away() -> None:
    """Governance stops 6 m short of the frame: snapped to it, no gap, no sliver."""
    comm = communities((A, B(0, 0, 400, 200)))
    leg = legacy(
        ("governance", "G1", B(0, 0, 200, 194)),
        ("governance", "G2", B(200, 0, 400, 194)),
    )
    r = merge_layers(comm, leg, buildings(), GEOMETRY)
    assert same_shape(by_name(r, "G1").geometry, B(0, 0, 200, 200))
    assert r.report["communities"][0]["legacy"]["governance"]["gaps"]["count"] == 0


# ----------------------------------------------------------------------------- crossing
def test_grid_crossing_a_community_line_is_split_at_it() -> None:
    """
    A: 0..200, B: 200..400. GA reaches 60 m into B; GB pokes 20 m out of everything.
    0        200   260       400 420
    +---------+-----+---------+--+
    |   GA    : GA  |   GB    :  |
    +---------+-----+---------+--+
    """
    comm = communities((A, B(0, 0, 200, 200)), (B_, B(200, 0, 400, 200)))
    leg = legacy(
        ("governance", "GA", B(0, 0, 260, 200)),
        ("governance", "GB", B(260, 0, 420, 200)),
    )
    bld = buildings(
        {"building_id": "a", "geometry": P(100, 100)},
        {"building_id": "b", "geometry": P(230, 100), "community_code": B_},
        {"building_id": "c", "geometry": P(300, 100), "community_code": None},
    )
    r = merge_layers(comm, leg, bld, GEOMETRY)
    in_a = r.grids[r.grids["community_code"] == A]
    in_b = r.grids[r.grids["community_code"] == B_].set_index("name")
    assert list(in_a["name"]) == ["GA"]
    assert same_shape(in_a.geometry.iloc[0], B(0, 0, 200, 200))
    assert same_shape(in_b.geometry["GA"], B(200, 0, 260, 200))
    assert same_shape(in_b.geometry["GB"], B(260, 0, 400, 200))
    assert grid_of(r, "b") == in_b.loc["GA", "code"]
    assert grid_of(r, "c") == in_b.loc["GB", "code"]
    (cross,) = r.report["crossing"]
    assert cross["source_code"] == "GA"
    assert cross["main_community"] == A
    assert {p["community_code"]: p["area_m2"] for p in cross["parts"]} == {A: 40000.0, B_: 12000.0}
    xw = r.crosswalk.set_index(["source_code", "grid_code"])["area_share"]
    assert xw[("GA", in_a["code"].iloc[0])] == pytest.approx(200 / 260)
    assert xw[("GB", in_b.loc["GB", "code"])] == pytest.approx(140 / 160)
    (out,) = r.report["legacy_outside"]
    assert out["source_code"] == "GB"
    assert out["outside_share"] == pytest.approx(20 / 160)
    check_invariants(r, comm, bld)


# ----------------------------------------------------------------------------- buildings
def test_a_footprint_on_a_boundary_goes_whole_to_the_grid_of_its_representative_point() -> None:
    comm = communities((A, B(0, 0, 400, 200)))
    leg = legacy(
        ("governance", "G1", B(0, 0, 200, 200)),
        ("governance", "G2", B(200, 0, 400, 200)),
    )
    fp = B(190, 90, 230, 110)
    bld = buildings({"building_id": "straddle", "geometry": fp})
    r = merge_layers(comm, leg, bld, GEOMETRY)
    g2 = by_name(r, "G2")
    assert grid_of(r, "straddle") == g2["code"]
    assert same_shape(g2.geometry, B(200, 0, 400, 200) | B(190, 90, 200, 110))
    assert by_name(r, "G1").geometry.area == pytest.approx(40000 - 200)
    check_invariants(r, comm, bld)


def test_large_grid_is_bisected_by_whole_compounds() -> None:
    """Eight 120-household buildings, two compounds per side: 960 -> 2 x 480."""
    comm = communities((A, B(0, 0, 400, 200)))
    leg = legacy(("governance", "G", B(0, 0, 400, 200)))
    rows = [
        {
            "building_id": f"b{i}",
            "households": 120,
            "compound": f"小区{i // 2}",
            "geometry": B(20 + 48 * i, 80, 50 + 48 * i, 120),
        }
        for i in range(8)
    ]
    bld = buildings(*rows)
    r = merge_layers(comm, leg, bld)
    assert sorted(r.grids["households"]) == [480, 480]
    assert sorted(r.grids["name"]) == ["G-1", "G-2"]
    west = grid_of(r, "b0")
    assert [grid_of(r, f"b{i}") == west for i in range(8)] == [True] * 4 + [False] * 4
    assert r.report["communities"][0]["out_of_range"] == []
    check_invariants(r, comm, bld)


def test_small_grid_joins_the_neighbour_it_shares_most_edge_with_within_max() -> None:
    """G1 (100 hh) touches G2 (450 hh) on 200 m and G3 (250 hh) on 100 m: 450 + 100 > 500."""
    comm = communities((A, B(0, 0, 300, 200)))
    leg = legacy(
        ("governance", "G1", B(0, 0, 100, 200)),
        ("governance", "G2", B(100, 0, 300, 100)),
        ("governance", "G3", B(100, 100, 300, 200)),
    )
    bld = buildings(
        {"building_id": "one", "households": 100, "geometry": P(50, 50)},
        {"building_id": "two", "households": 450, "geometry": P(200, 50)},
        {"building_id": "three", "households": 250, "geometry": P(200, 150)},
    )
    r = merge_layers(comm, leg, bld)
    assert grid_of(r, "one") == grid_of(r, "three") == by_name(r, "G3")["code"]
    assert sorted(r.grids["households"]) == [350, 450]
    check_invariants(r, comm, bld)


def test_infeasible_household_count_is_reported_with_a_reason() -> None:
    comm = communities((A, B(0, 0, 200, 200)))
    leg = legacy(("governance", "G", B(0, 0, 200, 200)))
    bld = buildings(
        {"building_id": "x", "households": 260, "geometry": P(50, 50)},
        {"building_id": "y", "households": 260, "geometry": P(150, 50)},
    )
    r = merge_layers(comm, leg, bld)
    (bad,) = r.report["communities"][0]["out_of_range"]
    assert bad["households"] == 520
    assert "cannot split" in bad["reason"]


def test_rural_grids_follow_hamlets() -> None:
    comm = communities((VILLAGE, B(0, 0, 400, 200)))
    leg = legacy(("governance", "G", B(0, 0, 400, 200)))
    bld = buildings(
        *[
            {
                "building_id": f"w{i}",
                "community_code": VILLAGE,
                "hamlet": "王家屯",
                "group_no": "1",
                "geometry": P(30 + 20 * i, 100),
            }
            for i in range(3)
        ],
        *[
            {
                "building_id": f"e{i}",
                "community_code": VILLAGE,
                "hamlet": None,
                "group_no": "2",
                "geometry": P(300 + 20 * i, 100),
            }
            for i in range(3)
        ],
    )
    r = merge_layers(comm, leg, bld)
    assert sorted(r.grids["name"]) == ["2组", "王家屯"]
    assert set(r.grids["kind"]) == {"rural"}
    assert grid_of(r, "w0") == by_name(r, "王家屯")["code"]
    assert grid_of(r, "e2") == by_name(r, "2组")["code"]
    check_invariants(r, comm, bld)


def test_codes_are_in_reading_order_and_continue_after_used_serials() -> None:
    comm = communities((A, B(0, 0, 400, 400)))
    leg = legacy(
        ("governance", "SW", B(0, 0, 200, 200)),
        ("governance", "SE", B(200, 0, 400, 200)),
        ("governance", "NW", B(0, 200, 200, 400)),
        ("governance", "NE", B(200, 200, 400, 400)),
    )
    opt = MergeOptions(households_min=0, households_max=10**5, used_serials={A: [1, 2, 7]})
    r = merge_layers(comm, leg, buildings(), opt)
    codes = r.grids.set_index("name")["code"]
    assert [codes[n] for n in ("NW", "NE", "SW", "SE")] == [
        A + s for s in ("008", "009", "010", "011")
    ]


def test_output_comes_back_in_the_input_crs() -> None:
    comm = communities((A, B(0, 0, 400, 200))).to_crs("EPSG:4490")
    leg = legacy(("governance", "G", B(0, 0, 400, 200))).to_crs("EPSG:4490")
    r = merge_layers(comm, leg, buildings().to_crs("EPSG:4490"), GEOMETRY)
    assert r.grids.crs.to_epsg() == 4490


def test_bad_inputs_raise_named_errors() -> None:
    comm = communities((A, B(0, 0, 400, 200)))
    leg = legacy(("governance", "G", B(0, 0, 400, 200)))
    with pytest.raises(InvalidInput, match="lacks column"):
        merge_layers(comm, leg.drop(columns=["layer"]), buildings(), GEOMETRY)
    with pytest.raises(InvalidCRS):
        merge_layers(comm.set_crs(None, allow_override=True), leg, buildings(), GEOMETRY)
    bad = leg.assign(layer="police")
    with pytest.raises(InvalidInput, match="police"):
        merge_layers(comm, bad, buildings(), GEOMETRY)


# ----------------------------------------------------------------------------- invariants
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_invariants_on_a_random_layout(seed: int) -> None:
    comm, leg, bld = synthetic_layout(seed=seed, rows=2, cols=3)
    r = merge_layers(comm, leg, bld)
    check_invariants(r, comm, bld)
    opt = MergeOptions()
    urban = r.grids[r.grids["kind"] == "urban"]
    in_range = urban["households"].between(opt.households_min, opt.households_max)
    # where the range is not met, the report says why
    flagged = {q["grid_code"] for c in r.report["communities"] for q in c["out_of_range"]}
    assert set(urban.loc[~in_range, "code"]) == flagged
    assert in_range.mean() >= 0.75
    assert render_report_markdown(r.report).startswith("# 多网合一 merge report")


def test_merge_community_matches_the_whole_run_for_that_community() -> None:
    comm, leg, bld = synthetic_layout(seed=5, rows=1, cols=2)
    code = comm["code"].iloc[1]
    whole = merge_layers(comm, leg, bld)
    one = merge_community(comm, leg, bld, code)
    mine = whole.grids[whole.grids["community_code"] == code]
    assert sorted(one.grids["households"]) == sorted(mine["households"])
    assert one.grids.area.sum() == pytest.approx(mine.area.sum())


def test_two_workers_give_the_same_grids() -> None:
    comm, leg, bld = synthetic_layout(seed=6, rows=1, cols=3)
    one = merge_layers(comm, leg, bld)
    two = merge_layers(comm, leg, bld, MergeOptions(workers=2))
    assert list(one.grids["code"]) == list(two.grids["code"])
    assert np.allclose(one.grids.area, two.grids.area)


def test_footprint_across_a_community_line_stays_whole_on_its_own_side() -> None:
    """A footprint coded to A pokes 10 m into B: A's part is whole in one grid, B keeps the rest."""
    comm = communities((A, B(0, 0, 200, 200)), (B_, B(200, 0, 400, 200)))
    leg = legacy(("governance", "GA", B(0, 0, 200, 200)), ("governance", "GB", B(200, 0, 400, 200)))
    bld = buildings({"building_id": "wall", "geometry": B(170, 90, 210, 110)})
    r = merge_layers(comm, leg, bld, GEOMETRY)
    assert grid_of(r, "wall") == by_name(r, "GA")["code"]
    assert same_shape(by_name(r, "GB").geometry, B(200, 0, 400, 200))
    (a,) = [c for c in r.report["communities"] if c["code"] == A]
    assert a["buildings_crossing_frame"] == ["wall"]
    assert "wall" in render_report_markdown(r.report)
    check_invariants(r, comm, bld)


def test_overlapping_footprints_and_a_point_inside_one_move_together() -> None:
    """Dirty data: two footprints overlap across the G1|G2 line, a point sits in one."""
    comm = communities((A, B(0, 0, 400, 200)))
    leg = legacy(("governance", "G1", B(0, 0, 200, 200)), ("governance", "G2", B(200, 0, 400, 200)))
    bld = buildings(
        {"building_id": "big", "households": 50, "geometry": B(150, 90, 195, 110)},
        {"building_id": "small", "households": 5, "geometry": B(190, 95, 230, 105)},
        {"building_id": "shop", "households": 1, "geometry": P(220, 100)},
    )
    r = merge_layers(comm, leg, bld, GEOMETRY)
    g1 = by_name(r, "G1")["code"]
    assert {grid_of(r, b) for b in ("big", "small", "shop")} == {g1}
    assert same_shape(by_name(r, "G1").geometry, B(0, 0, 200, 200) | B(200, 95, 230, 105))
    check_invariants(r, comm, bld)


def test_options_and_unknown_community_are_checked() -> None:
    with pytest.raises(InvalidInput, match="households_min"):
        merge_layers(
            communities((A, B(0, 0, 10, 10))),
            legacy(),
            buildings(),
            MergeOptions(households_min=9, households_max=1),
        )
    with pytest.raises(InvalidInput, match="layer_priority"):
        MergeOptions(layer_priority=("governance", "governance")).validate()
    with pytest.raises(UnknownDivision):
        merge_community(communities((A, B(0, 0, 10, 10))), legacy(), buildings(), B_)
