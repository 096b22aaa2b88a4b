"""The plan metrics planners read: compactness, the band, split compounds, the grid table and
the plan summary, on small hand-drawn plans whose figures are worked out by hand."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import pytest
import shapely
from shapely import box

from gridmap.crs import METRIC, STORAGE, transformer
from gridmap.rebalance.metrics import grid_table, in_band, polsby_popper, split_count, summary

C = "220102005004"
BAND = (300, 500)


def plan(grids: list[tuple[str, str, int, Any]]) -> gpd.GeoDataFrame:
    """Grids as (serial, status, households, geometry in metres of EPSG:4551)."""
    return gpd.GeoDataFrame(
        {
            "code": [f"{C}{s}" for s, *_ in grids],
            "status": [st for _, st, _, _ in grids],
            "households": [h for _, _, h, _ in grids],
        },
        geometry=[g for *_, g in grids],
        crs=METRIC,
    )


# A row of 100 m cells west to east: two kept grids, a new one over the band and a park.
#   001 kept  300 hh  100 x 100 m   (at the band's low end)
#   002 kept  450 hh  200 x 100 m
#   003 new   610 hh  100 x 100 m   (over the band)
#   004 new     0 hh  100 x 100 m   (a park: left out of the ideal)
# ideal = (300 + 450 + 610) / 3 = 453.33; deviations -153.3, -3.3, 156.7 (and -453.3)
ROW = [
    ("001", "kept", 300, box(0, 0, 100, 100)),
    ("002", "kept", 450, box(100, 0, 300, 100)),
    ("003", "new", 610, box(300, 0, 400, 100)),
    ("004", "new", 0, box(400, 0, 500, 100)),
]


def row_summary(rows: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "households_moved": 0,
        "households_total": 1360,
        "compounds_split": 0,
        "hamlets_split": 0,
        "retired": [],
    }
    return summary(rows, **(args | kw))


# ----------------------------------------------------------------------------- Polsby-Popper


def test_polsby_popper_is_one_for_a_circle_and_lower_for_elongated_shapes() -> None:
    circle = shapely.Point(0, 0).buffer(100, quad_segs=256)
    assert polsby_popper(circle) == pytest.approx(1.0, abs=1e-4)
    assert polsby_popper(box(0, 0, 10, 10)) == pytest.approx(math.pi / 4)
    # 2:1 rectangle: 4π·200/36² = 0.698
    assert polsby_popper(box(0, 0, 20, 10)) == pytest.approx(0.6981, abs=1e-4)


def test_polsby_popper_does_not_depend_on_size() -> None:
    # a quarter-metre square has a perimeter of exactly 1 m
    for side in (0.25, 1.0, 1000.0):
        assert polsby_popper(box(0, 0, side, side)) == pytest.approx(math.pi / 4)


def test_polsby_popper_of_shapes_without_area_is_zero() -> None:
    assert polsby_popper(shapely.Polygon()) == 0.0
    assert polsby_popper(shapely.LineString([(0, 0), (10, 0)])) == 0.0


# ----------------------------------------------------------------------------- the band


@pytest.mark.parametrize(
    ("households", "inside"), [(299, False), (300, True), (400, True), (500, True), (501, False)]
)
def test_the_band_includes_both_ends(households: int, inside: bool) -> None:
    assert in_band(households, 300, 500) is inside


# ----------------------------------------------------------------------------- split groups


def test_a_group_in_two_grids_is_split_and_one_in_a_single_grid_is_not() -> None:
    groups = ["明珠花园", "明珠花园", "富苑小区", "富苑小区", "长青园", "长青园"]
    labels = ["001", "002", "003", "003", "001", "004"]
    assert split_count(groups, labels) == 2


def test_buildings_without_a_compound_are_not_a_group() -> None:
    # None, NaN (pandas' missing value) and "" each span two grids, and are not counted;
    # the compound listed after them still is
    groups = [None, None, math.nan, math.nan, "", "", "明珠花园", "明珠花园"]
    labels = ["001", "002", "001", "002", "001", "002", "001", "002"]
    assert split_count(groups, labels) == 1


def test_no_buildings_no_splits() -> None:
    assert split_count([], []) == 0


def test_split_count_refuses_groups_and_labels_of_different_lengths() -> None:
    with pytest.raises(ValueError, match=r"shorter|longer"):
        split_count(["明珠花园", "明珠花园"], ["001"])


# ----------------------------------------------------------------------------- grid table


def test_grid_table_rows_carry_deviation_from_the_ideal_of_grids_with_households() -> None:
    rows = grid_table(plan(ROW), *BAND, METRIC)
    assert [r["code"] for r in rows] == [f"{C}001", f"{C}002", f"{C}003", f"{C}004"]
    assert [r["status"] for r in rows] == ["kept", "kept", "new", "new"]
    assert [r["households"] for r in rows] == [300, 450, 610, 0]
    assert [r["deviation"] for r in rows] == [-153.3, -3.3, 156.7, -453.3]
    # -153.33 / 453.33 = -33.8 %, ...; the park is 100 % under
    assert [r["deviation_pct"] for r in rows] == [-33.8, -0.7, 34.6, -100.0]
    assert [r["in_band"] for r in rows] == [True, True, False, False]
    assert [r["polsby_popper"] for r in rows] == [0.785, 0.698, 0.785, 0.785]
    assert all(r["contiguous"] for r in rows)


def test_grid_table_counts_a_one_household_grid_in_the_ideal() -> None:
    rows = grid_table(
        plan(
            [("001", "kept", 1, box(0, 0, 100, 100)), ("002", "kept", 399, box(100, 0, 200, 100))]
        ),
        *BAND,
        METRIC,
    )
    # ideal (1 + 399) / 2 = 200
    assert [r["deviation"] for r in rows] == [-199.0, 199.0]
    assert [r["deviation_pct"] for r in rows] == [-99.5, 99.5]


def test_a_grid_in_two_pieces_is_not_contiguous() -> None:
    two_pieces = shapely.MultiPolygon([box(0, 0, 100, 100), box(200, 0, 300, 100)])
    rows = grid_table(
        plan([("001", "kept", 400, two_pieces), ("002", "new", 400, box(100, 0, 200, 100))]),
        *BAND,
        METRIC,
    )
    assert [r["contiguous"] for r in rows] == [False, True]


def test_grid_table_measures_in_the_metric_crs() -> None:
    # a 100 m square drawn in lon/lat is a square again in metres, not a 1.4:1 rectangle
    to_lonlat = transformer(METRIC, STORAGE)
    ring = [to_lonlat.transform(x, y) for x, y in [(5e5, 4.8e6), (5e5 + 100, 4.8e6),
            (5e5 + 100, 4.8e6 + 100), (5e5, 4.8e6 + 100)]]  # fmt: skip
    grids = plan([("001", "kept", 400, shapely.Polygon(ring))]).set_crs(
        STORAGE, allow_override=True
    )
    assert grid_table(grids, *BAND, METRIC)[0]["polsby_popper"] == 0.785


def test_a_community_without_households_has_no_deviations() -> None:
    rows = grid_table(
        plan([("001", "new", 0, box(0, 0, 100, 100)), ("002", "new", 0, box(100, 0, 200, 100))]),
        *BAND,
        METRIC,
    )
    assert [(r["deviation"], r["deviation_pct"]) for r in rows] == [(0.0, 0.0), (0.0, 0.0)]


# ----------------------------------------------------------------------------- plan summary


def test_summary_balance_figures_leave_out_grids_without_households() -> None:
    figures = row_summary(grid_table(plan(ROW), *BAND, METRIC))
    assert figures["grids"] == 4
    assert figures["grids_with_households"] == 3
    assert figures["ideal"] == 453.3
    # 001 and 002 of the three loaded grids
    assert figures["in_band"] == 0.6667
    # 156.7 - (-153.3)
    assert figures["deviation_range"] == 310.0
    # (153.3 + 3.3 + 156.7) / 3 = 104.43
    assert figures["deviation_mean_abs"] == 104.4
    # population standard deviation of -153.3, -3.3, 156.7
    assert figures["deviation_std"] == 126.6
    assert figures["deviation_pct_max"] == 34.6


def test_summary_shape_figures_include_every_grid() -> None:
    figures = row_summary(grid_table(plan(ROW), *BAND, METRIC))
    # (0.785 + 0.698 + 0.785 + 0.785) / 4 = 0.76325, the park included
    assert figures["polsby_popper_mean"] == 0.763
    assert figures["contiguous"] is True


def test_summary_is_not_contiguous_when_one_grid_is_in_pieces() -> None:
    two_pieces = shapely.MultiPolygon([box(0, 0, 100, 100), box(200, 0, 300, 100)])
    rows = grid_table(
        plan([("001", "kept", 400, box(100, 0, 200, 100)), ("002", "new", 400, two_pieces)]),
        *BAND,
        METRIC,
    )
    assert row_summary(rows)["contiguous"] is False


def test_summary_counts_codes_moves_and_splits() -> None:
    # 001, 002 and the park keep their codes; 003 is new
    kept_park = [(s, "kept" if s == "004" else st, h, g) for s, st, h, g in ROW]
    figures = row_summary(
        grid_table(plan(kept_park), *BAND, METRIC),
        households_moved=120,
        households_total=1360,
        compounds_split=2,
        hamlets_split=1,
        retired=[f"{C}009"],
    )
    assert figures["codes_kept"] == 3
    assert figures["codes_new"] == 1
    assert figures["codes_retired"] == 1
    assert figures["compounds_split"] == 2
    assert figures["hamlets_split"] == 1
    assert figures["households_moved"] == 120
    assert figures["households_total"] == 1360
    # 120 / 1360 = 8.8235 %
    assert figures["households_moved_pct"] == 8.82


def test_summary_counts_a_one_household_grid_as_loaded() -> None:
    rows = grid_table(
        plan(
            [("001", "kept", 1, box(0, 0, 100, 100)), ("002", "kept", 399, box(100, 0, 200, 100))]
        ),
        *BAND,
        METRIC,
    )
    figures = row_summary(rows)
    assert figures["grids_with_households"] == 2
    assert figures["ideal"] == 200.0
    assert figures["in_band"] == 0.5


def test_summary_of_a_plan_without_households_or_moves() -> None:
    rows = grid_table(plan([("001", "new", 0, box(0, 0, 100, 100))]), *BAND, METRIC)
    figures = row_summary(rows, households_total=0)
    assert figures["grids"] == 1
    assert figures["grids_with_households"] == 0
    assert figures["ideal"] == 0.0
    # nothing to balance counts as balanced
    assert figures["in_band"] == 1.0
    assert figures["deviation_range"] == 0.0
    assert figures["deviation_mean_abs"] == 0.0
    assert figures["deviation_std"] == 0.0
    assert figures["deviation_pct_max"] == 0.0
    assert figures["households_moved_pct"] == 0.0
    assert figures["polsby_popper_mean"] == 0.785


def test_summary_of_an_empty_plan() -> None:
    figures = row_summary([], households_total=0)
    assert figures["grids"] == 0
    assert figures["polsby_popper_mean"] == 0.0
    assert figures["contiguous"] is True
    assert figures["codes_kept"] == figures["codes_new"] == figures["codes_retired"] == 0
