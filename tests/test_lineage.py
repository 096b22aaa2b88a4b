"""Stable grid codes across grid generations."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import box

from gridmap.errors import InvalidInput
from gridmap.lineage import inherit_by_households, inherit_codes

C = "220102005004"
X, Y, D = 125.30, 43.85, 0.004


def frame(codes: list[str], boxes: list[tuple[float, float, float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": codes, "community_code": [C] * len(codes)},
        geometry=[box(X + a * D, Y + b * D, X + c * D, Y + d * D) for a, b, c, d in boxes],
        crs="EPSG:4490",
    )


def metric_frame(
    codes: list[str], boxes: list[tuple[float, float, float, float]]
) -> gpd.GeoDataFrame:
    """Grids drawn in metres of the measuring CRS, so shares of area come out exact."""
    return gpd.GeoDataFrame(
        {"code": codes, "community_code": [C] * len(codes)},
        geometry=[box(5e5 + a * 100, 4.86e6 + b * 100, 5e5 + c * 100, 4.86e6 + d * 100)
                  for a, b, c, d in boxes],
        crs="EPSG:4551",
    )  # fmt: skip


def test_unchanged_and_slightly_moved_grids_keep_their_codes() -> None:
    old = frame([f"{C}001", f"{C}002"], [(0, 0, 1, 1), (1, 0, 2, 1)])
    new = frame(["a", "b"], [(1.1, 0, 2, 1), (0, 0, 1.1, 1)])
    lin = inherit_codes(new, old, {C: [1, 2]})
    assert list(lin.grids["code"]) == [f"{C}002", f"{C}001"]
    assert lin.fresh == []


def test_codes_follow_the_grids_whatever_order_they_are_listed_in() -> None:
    old = frame([f"{C}001", f"{C}002"], [(0, 0, 1, 1), (1, 0, 4, 1)])
    # the same two grids, listed the other way round
    new = frame(["long", "short"], [(1, 0, 4, 1), (0, 0, 1, 1)])
    lin = inherit_codes(new, old, {C: [1, 2]})
    assert lin.renamed == {"long": f"{C}002", "short": f"{C}001"}


def test_a_split_keeps_the_code_on_the_majority_part_and_issues_a_new_one() -> None:
    old = frame([f"{C}001"], [(0, 0, 2, 1)])
    # west part 60 %, east part 40 %: the west part continues 001, the east is new
    new = frame(["w", "e"], [(0, 0, 1.2, 1), (1.2, 0, 2, 1)])
    lin = inherit_codes(new, old, {C: [1, 2, 3]})
    assert lin.renamed == {"w": f"{C}001", "e": f"{C}004"}


def test_an_even_split_gives_both_halves_fresh_codes_and_retired_serials_are_skipped() -> None:
    old = frame([f"{C}005"], [(0, 0, 2, 2)])
    new = frame(["sw", "ne", "nw", "se"], [(0, 0, 1, 1), (1, 1, 2, 2), (0, 1, 1, 2), (1, 0, 2, 1)])
    lin = inherit_codes(new, old, {C: [1, 5, 9]})
    # no quarter holds a majority of the old grid; fresh serials follow 9 in reading order
    assert lin.renamed == {"nw": f"{C}010", "ne": f"{C}011", "sw": f"{C}012", "se": f"{C}013"}
    assert lin.inherited == {}


def test_first_grids_of_a_community_are_numbered_in_reading_order() -> None:
    empty = frame([], [])
    new = frame(["a", "b", "c"], [(1, 0, 2, 1), (0, 1, 1, 2), (0, 0, 1, 1)])
    lin = inherit_codes(new, empty, {})
    assert lin.renamed == {"b": f"{C}001", "a": f"{C}003", "c": f"{C}002"}


def test_the_lineage_lists_inherited_and_fresh_codes() -> None:
    old = frame([f"{C}001"], [(0, 0, 2, 1)])
    new = frame(["w", "e"], [(0, 0, 1.2, 1), (1.2, 0, 2, 1)])
    lin = inherit_codes(new, old, {C: [1, 2, 3]})
    assert lin.inherited == {f"{C}001": f"{C}001"}
    assert lin.fresh == [f"{C}004"]


def test_a_new_grid_that_swallows_an_old_one_and_much_more_does_not_continue_it() -> None:
    # the old grid lies wholly inside the new one, but is only a third of it
    old = frame([f"{C}001"], [(0, 0, 1, 1)])
    new = frame(["big"], [(0, 0, 3, 1)])
    lin = inherit_codes(new, old, {C: [1]})
    assert lin.renamed == {"big": f"{C}002"}
    assert lin.inherited == {}


def test_exactly_half_is_not_a_majority() -> None:
    old = metric_frame([f"{C}001", f"{C}002"], [(0, 0, 1, 1), (4, 0, 6, 1)])
    # "twice" holds all of 001 but 001 is exactly half of it; "half" is exactly half of 002
    new = metric_frame(["twice", "half"], [(0, 0, 2, 1), (4, 0, 5, 1)])
    lin = inherit_codes(new, old, {C: [1, 2]})
    assert lin.inherited == {}
    assert sorted(lin.renamed.values()) == [f"{C}003", f"{C}004"]


def test_a_stricter_min_share_turns_a_60_40_split_into_two_new_codes() -> None:
    old = frame([f"{C}001"], [(0, 0, 2, 1)])
    new = frame(["w", "e"], [(0, 0, 1.2, 1), (1.2, 0, 2, 1)])
    lin = inherit_codes(new, old, {C: [1]}, min_share=0.7)
    assert lin.inherited == {}
    assert lin.fresh == [f"{C}002", f"{C}003"]


@pytest.mark.parametrize("share", [0.49, 1, 1.5])
def test_min_share_outside_half_to_one_is_refused_naming_it(share: float) -> None:
    old = frame([f"{C}001"], [(0, 0, 1, 1)])
    with pytest.raises(InvalidInput, match=rf"min_share {share} must be in \[0.5, 1\)"):
        inherit_codes(old, old, {C: [1]}, min_share=share)
    with pytest.raises(InvalidInput, match=rf"min_share {share} must be in \[0.5, 1\)"):
        inherit_by_households([0], ["a"], [10], min_share=share)


def test_min_share_of_one_half_is_allowed() -> None:
    old = frame([f"{C}001"], [(0, 0, 1, 1)])
    assert inherit_codes(old, old, {C: [1]}, min_share=0.5).inherited == {f"{C}001": f"{C}001"}


@pytest.mark.parametrize("side", ["new", "current"])
def test_grid_sets_without_a_crs_are_refused(side: str) -> None:
    grids = frame([f"{C}001"], [(0, 0, 1, 1)])
    unset = grids.set_crs(None, allow_override=True)
    new, current = (unset, grids) if side == "new" else (grids, unset)
    with pytest.raises(InvalidInput, match=r"^both grid sets need a CRS to compare them$"):
        inherit_codes(new, current, {C: [1]})


# ----------------------------------------------------------------------------- by households


def test_grids_of_empty_buildings_are_matched_by_their_buildings() -> None:
    # new grid 0 holds two of the three empty buildings of "a"
    assert inherit_by_households([0, 0, 1], ["a", "a", "a"], [0, 0, 0]) == {0: "a"}


def test_an_even_split_of_empty_buildings_keeps_neither() -> None:
    assert inherit_by_households([0, 1], ["a", "a"], [0, 0]) == {}


def test_households_outweigh_building_counts() -> None:
    # grid 0 has one building of "a" but 300 of its 350 households
    assert inherit_by_households([0, 1, 1], ["a", "a", "a"], [300, 25, 25]) == {0: "a"}


def test_inherit_by_households_refuses_columns_of_different_lengths() -> None:
    with pytest.raises(ValueError, match=r"shorter|longer"):
        inherit_by_households([0, 0], ["a", "a"], [100])
