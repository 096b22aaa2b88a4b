"""One valid coverage across community lines: grids follow their frame exactly.

The layouts here are built by hand in EPSG:4490 degrees (as the database stores them), with
long straight community lines that legacy grid lines meet at different places from each
side, and legacy grids that miss the frame by millimetres or reach over it.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from gridmap.geometry import coverage_faults, densify_coverage, stitch
from gridmap.merge import MergeOptions, merge_layers
from gridmap.merge.frame import fit_to_frame

GEOD = Geod(ellps="GRS80")
LON, LAT = 125.30, 43.86
WEST, EAST, NORTH = "220102001001", "220102001002", "220102001003"
GEOMETRY = MergeOptions(households_min=0, households_max=100_000)


def geodesic_area(geom: Any) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def box(x0: float, y0: float, x1: float, y1: float) -> Any:
    return shapely.box(LON + x0, LAT + y0, LON + x1, LAT + y1)


def layout(cuts_west: list[float], cuts_east: list[float], wobble: float = 0.0) -> tuple[Any, ...]:
    """West and east communities 0.03° (about 2.4 km) wide, 0.06° (6.7 km) tall, meeting on
    one straight line of 6.7 km; a north community spans both. Each of west and east has
    one legacy grid per band between its ``cuts`` (latitudes, as fractions of the height),
    so its grid lines meet the shared line where that side's cuts are. ``wobble`` moves
    the legacy grids' edges on the shared line by that many degrees."""
    h = 0.06
    frames = {
        WEST: box(0, 0, 0.03, h),
        EAST: box(0.03, 0, 0.06, h),
        NORTH: box(0, h, 0.06, h + 0.02),
    }
    rows = []
    for code, cuts, x0, x1 in (
        (WEST, cuts_west, 0, 0.03 + wobble),
        (EAST, cuts_east, 0.03 - wobble, 0.06),
    ):
        ys = [0.0, *cuts, 1.0]
        for k in range(len(ys) - 1):
            rows.append(("governance", f"{code[-3:]}-{k}", box(x0, ys[k] * h, x1, ys[k + 1] * h)))
    rows.append(("governance", "north-0", box(0, h, 0.06, h + 0.02)))
    comm = gpd.GeoDataFrame(
        {"code": list(frames), "name": ["西", "东", "北"]}, geometry=list(frames.values()), crs=4490
    )
    leg = gpd.GeoDataFrame(
        {
            "layer": [r[0] for r in rows],
            "source_code": [r[1] for r in rows],
            "name": [r[1] for r in rows],
            "community_code": [None] * len(rows),
        },
        geometry=[r[2] for r in rows],
        crs=4490,
    )
    bld = gpd.GeoDataFrame(
        pd.DataFrame(
            {
                "building_id": pd.Series([], dtype=str),
                "community_code": pd.Series([], dtype=str),
                "households": pd.Series([], dtype=int),
                "compound": pd.Series([], dtype=object),
                "hamlet": pd.Series([], dtype=object),
                "group_no": pd.Series([], dtype=object),
            }
        ),
        geometry=[],
        crs=4490,
    )
    return comm, leg, bld


def check_one_coverage(grids: gpd.GeoDataFrame, comm: gpd.GeoDataFrame) -> None:
    geoms = grids.geometry.values
    edges, a, _b, _shared = coverage_faults(geoms)
    assert [str(c) for c in grids["code"][edges != None]] == []  # noqa: E711
    assert len(a) == 0
    assert shapely.coverage_is_valid(geoms)
    frames = comm.set_index("code").geometry
    for code, sub in grids.groupby("community_code"):
        frame = frames[code]
        # exactly the frame in degrees, and the same area on the ellipsoid
        assert (
            shapely.symmetric_difference(shapely.union_all(sub.geometry.values), frame).area < 1e-14
        )
        total = sum(geodesic_area(g) for g in sub.geometry)
        assert total == pytest.approx(geodesic_area(frame), rel=1e-6), code
        # every frame vertex is a vertex of the grids, with its own coordinates
        have = {tuple(p) for p in shapely.get_coordinates(sub.geometry.values).tolist()}
        assert {tuple(p) for p in shapely.get_coordinates(frame).tolist()} <= have, code


def test_lines_meeting_a_community_line_at_different_places_make_one_coverage() -> None:
    comm, leg, bld = layout([0.3, 0.61], [0.45, 0.8])
    # the divisions as the import stores them: long edges broken into pieces
    comm["geometry"] = densify_coverage(comm.geometry.values)[0]
    result = merge_layers(comm, leg, bld, GEOMETRY)
    assert len(result.grids) == 3 + 3 + 1
    check_one_coverage(result.grids, comm)
    assert result.report["coverage"] == {"valid": True, "invalid_edges": [], "overlaps": []}
    assert result.report["overall"]["province_coverage_valid"] is True


def test_a_long_community_line_keeps_its_area_on_the_ellipsoid() -> None:
    """Without densified divisions a grid line meeting a 6.7 km edge puts a vertex on it;
    the merge still makes one valid coverage in degrees, where the frame is exact."""
    comm, leg, bld = layout([0.5], [0.25])
    result = merge_layers(comm, leg, bld, GEOMETRY)
    edges, a, _b, _s = coverage_faults(result.grids.geometry.values)
    assert all(e is None for e in edges)
    assert len(a) == 0


def test_legacy_grids_reaching_over_the_line_or_short_of_it_are_cut_to_the_frame() -> None:
    for wobble in (2e-7, -2e-7, 3e-5):  # 2 cm over, 2 cm short, 2.4 m over
        comm, leg, bld = layout([0.3, 0.6], [0.3, 0.6], wobble=wobble)
        comm["geometry"] = densify_coverage(comm.geometry.values)[0]
        result = merge_layers(comm, leg, bld, GEOMETRY)
        check_one_coverage(result.grids, comm)


def test_fit_to_frame_gives_gaps_to_a_neighbour_and_drops_what_lies_outside() -> None:
    frame = shapely.box(0, 0, 100, 100)
    left = shapely.box(0, 0, 50.004, 100.01)  # over the frame by 1 cm at the top
    right = shapely.box(50.004, 0.005, 99.996, 100)  # 4 mm short of the east and south edges
    fitted = fit_to_frame([left, right], frame, band=0.02, snap=0.02)
    assert shapely.union_all(fitted).equals(frame)
    assert shapely.coverage_is_valid(fitted)
    assert fitted[0].area == pytest.approx(50.004 * 100)
    assert fitted[1].area == pytest.approx(100 * 100 - 50.004 * 100)
    # an inner line's end a few millimetres from a frame vertex goes onto the vertex
    near_corner = shapely.box(0, 0, 100.003, 50)
    fitted = fit_to_frame([near_corner, shapely.box(0, 50, 100, 100)], frame, 0.02, 0.02)
    corners = {tuple(p) for p in shapely.get_coordinates(fitted[0]).tolist()}
    assert (100.0, 50.0) in corners
    assert max(x for x, _y in corners) == 100.0
    assert fitted[0].area == pytest.approx(100 * 50)


def test_stitch_gives_both_sides_the_same_vertices() -> None:
    west = shapely.Polygon([(0, 0), (1, 0), (1, 0.3), (1, 1), (0, 1)])  # a T-point at y=0.3
    east = shapely.Polygon([(1, 0), (2, 0), (2, 1), (1, 1), (1, 0.7)])  # and one at y=0.7
    a_hair = shapely.Polygon([(1, 1), (2, 1), (2, 2), (1, 2), (1, 1.5 + 1e-12)])
    a_hair_b = shapely.Polygon([(0, 1), (1, 1), (1, 1.5), (1, 2), (0, 2)])
    out = stitch([west, east, a_hair, a_hair_b], ["w", "e", "e2", "w2"], 1e-9)
    assert shapely.coverage_is_valid(out)
    assert all(
        shapely.equals(o, g) for o, g in zip(out, [west, east, a_hair, a_hair_b], strict=True)
    )
    # the near-duplicate point became one: the higher group ("w2") moved onto the lower's
    moved = {tuple(p) for p in shapely.get_coordinates(out[3]).tolist()}
    assert (1.0, 1.5 + 1e-12) in moved
    assert (1.0, 1.5) not in moved


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.05, 0.95), min_size=1, max_size=4, unique=True),
    st.lists(st.floats(0.05, 0.95), min_size=1, max_size=4, unique=True),
)
def test_any_cuts_on_either_side_give_one_coverage(west: list[float], east: list[float]) -> None:
    cuts_w, cuts_e = sorted(west), sorted(east)
    if min(np.diff([0, *cuts_w, 1]).min(), np.diff([0, *cuts_e, 1]).min()) < 0.02:
        return  # bands thinner than the merge's sliver limits are merged away: another test
    comm, leg, bld = layout(cuts_w, cuts_e)
    comm["geometry"] = densify_coverage(comm.geometry.values)[0]
    result = merge_layers(comm, leg, bld, GEOMETRY)
    check_one_coverage(result.grids, comm)


def test_densify_breaks_shared_edges_alike_from_both_sides() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        x, y = rng.uniform(120, 130), rng.uniform(40, 46)
        dx, dy = rng.uniform(0.0005, 0.02, 2)
        mid = x + rng.uniform(0.2, 0.8) * dx
        # two quadrilaterals sharing a slanted edge, traced in opposite directions
        left = shapely.Polygon([(x, y), (mid, y - dy / 3), (mid + dx / 5, y + dy), (x, y + dy)])
        right = shapely.Polygon(
            [(mid, y - dy / 3), (x + 2 * dx, y), (x + 2 * dx, y + dy), (mid + dx / 5, y + dy)]
        )
        assert shapely.coverage_is_valid([left, right])
        (dl, dr), broken = densify_coverage([left, right], max_length=0.001)
        assert broken > 0
        assert shapely.coverage_is_valid([dl, dr])
        # the same shapes: every new point lies on the edge it breaks (to rounding)
        assert shapely.hausdorff_distance(dl, left) < 1e-12
        assert shapely.hausdorff_distance(dr, right) < 1e-12
        assert max(_edge_lengths(dl).max(), _edge_lengths(dr).max()) <= 0.001 + 1e-12


def _edge_lengths(poly: Any) -> Any:
    xy = np.asarray(poly.exterior.coords)
    return np.hypot(*(xy[1:] - xy[:-1]).T)


def test_overlapping_frames_are_reported_as_coverage_faults_and_drawn() -> None:
    """Frames that overlap (refused at import, but merge_layers takes any frames) give grids
    that overlap: the report names them and the QA layers draw them."""
    from gridmap.merge.report import findings_from_report

    comm, leg, bld = layout([0.5], [0.5])
    comm.loc[comm.code == EAST, "geometry"] = box(0.03 - 1e-5, 0, 0.06, 0.06)  # 0.8 m over
    result = merge_layers(comm, leg, bld, GEOMETRY)
    coverage = result.report["coverage"]
    assert coverage["valid"] is False
    assert result.report["overall"]["province_coverage_valid"] is False
    pairs = {tuple(sorted(c[:12] for c in v["grids"])) for v in coverage["overlaps"]}
    assert pairs == {(WEST, EAST)}
    # 0.8 m by 6.7 km, in two pairs of grids
    assert sum(v["area_m2"] for v in coverage["overlaps"]) == pytest.approx(0.81 * 6670, rel=0.05)
    kinds = set(findings_from_report(result.report)["kind"])
    assert "grid_overlap" in kinds


def test_a_grid_made_invalid_by_reprojection_is_repaired_before_it_is_fitted() -> None:
    """On the province sample a grid came back from metres with a ring touching itself,
    and cutting it stopped a county's merge (a GEOS side location conflict)."""
    from pyproj import Transformer

    from gridmap.merge.frame import fit_grids

    to_m = Transformer.from_crs(4490, "EPSG:4551", always_xy=True)
    x0, y0 = to_m.transform(LON, LAT)
    x1, y1 = to_m.transform(LON + 0.01, LAT + 0.01)
    # a bow-tie over the west half, and the east half: together the frame
    west = shapely.Polygon([(x0, y0), ((x0 + x1) / 2, y1), ((x0 + x1) / 2, y0), (x0, y1)])
    east = shapely.box((x0 + x1) / 2, y0, x1, y1)
    assert not west.is_valid
    frame = box(0, 0, 0.01, 0.01)
    fitted = fit_grids([west, east], frame, "EPSG:4490", "220102001001")
    assert all(g.is_valid and not g.is_empty for g in fitted)
    assert shapely.coverage_is_valid(fitted)
