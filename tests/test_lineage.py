"""Stable grid codes across grid generations."""

from __future__ import annotations

import geopandas as gpd
from shapely import box

from gridmap.lineage import inherit_codes

C = "220102005004"
X, Y, D = 125.30, 43.85, 0.004


def frame(codes: list[str], boxes: list[tuple[float, float, float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": codes, "community_code": [C] * len(codes)},
        geometry=[box(X + a * D, Y + b * D, X + c * D, Y + d * D) for a, b, c, d in boxes],
        crs="EPSG:4490",
    )


def test_unchanged_and_slightly_moved_grids_keep_their_codes() -> None:
    old = frame([f"{C}001", f"{C}002"], [(0, 0, 1, 1), (1, 0, 2, 1)])
    new = frame(["a", "b"], [(1.1, 0, 2, 1), (0, 0, 1.1, 1)])
    lin = inherit_codes(new, old, {C: [1, 2]})
    assert list(lin.grids["code"]) == [f"{C}002", f"{C}001"]
    assert lin.fresh == []


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
