"""Grids that follow their community's frame exactly, and one coverage across community lines.

The merge works in metres (EPSG:4551) on a precision grid, so a grid's outer edge comes back
within a few millimetres of its community's boundary, not on it, and a line that meets the
boundary from one side adds a vertex that the other side lacks. Two steps mend that:

1. :func:`fit_to_frame` rebuilds one community's grids from its frame: the outer edges are
   the frame's own vertices (taken from the divisions layer), the inner edges are the
   grids' own, extended onto the frame where they meet it (onto a frame vertex when one is
   near, else onto the frame's edge, which then gains that point as a vertex).
2. :func:`stitch` gives each grid on a community line the points that the grids across
   the line added there. Because the divisions layer is itself a valid coverage, the
   shared frame vertices are identical on both sides, and after the stitch every shared
   edge has the same vertices on both sides: ``shapely.coverage_is_valid`` holds over the
   whole area, not only inside each community.

Both run in the frames' own CRS (EPSG:4490 as stored), where the divisions layer is exact:
a point added to a frame edge lies on that edge as the CRS draws it. The import breaks
division edges longer than about 100 m (``gridmap.io.densify``), so an edge means the same
line in degrees, in metres and on the ellipsoid, and the grids of a community sum to its
area however it is measured.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
import shapely.errors
from pyproj import CRS

from gridmap.crs import transformer
from gridmap.geometry import METRES_PER_DEGREE, polygonal, stitch
from gridmap.merge.model import MEASURE_CRS

if TYPE_CHECKING:
    from collections.abc import Sequence

LOG = logging.getLogger(__name__)

#: how far a merged grid's outer edge may lie from its frame (the merge rounds to 1 mm)
FIT_BAND_M = 0.02
#: how near a point must lie to an edge to be put into it when stitching (1 µm)
STITCH_TOLERANCE_M = 1e-6


def fit_to_frame(grids: Any, frame: Any, band: float, snap: float) -> np.ndarray[Any, Any]:
    """One community's grids rebuilt so that together they are exactly ``frame``.

    ``grids`` cover the frame up to ``band`` (a few millimetres of rounding, in the frame's
    units); pieces outside the frame are dropped and gaps inside it go to the grid they
    share most edge with. An inner edge that ends within ``band`` of the frame is extended
    onto it: onto the nearest frame vertex within ``snap``, else onto the frame's edge.

    The result has one polygon (or multipolygon) per input grid, in the same order; a grid
    the frame leaves no ground to comes back empty.

    >>> frame = shapely.box(0, 0, 10, 10)
    >>> left, right = shapely.box(0, 0, 4.0001, 10.0002), shapely.box(4.0001, -0.0001, 10, 10)
    >>> fitted = fit_to_frame([left, right], frame, band=0.001, snap=0.001)
    >>> [round(g.area, 6) for g in fitted], bool(shapely.union_all(fitted).equals(frame))
    ([40.001, 59.999], True)
    """
    geoms = np.asarray(grids, dtype=object)
    if len(geoms) == 0 or frame is None or shapely.is_empty(frame):
        return geoms
    edge = shapely.boundary(frame)
    near = shapely.buffer(edge, band, quad_segs=2)
    inner = shapely.difference(shapely.union_all(shapely.boundary(geoms)), near)
    pieces: Any = shapely.get_parts(shapely.line_merge(inner)) if not inner.is_empty else []
    connectors = _connectors(np.asarray(pieces, dtype=object), edge, band, snap)
    noded = shapely.union_all(
        np.concatenate([[edge], np.asarray(pieces, dtype=object), connectors])
    )
    faces = np.asarray(
        shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))), dtype=object
    )
    if len(faces) == 0:
        return np.asarray([shapely.intersection(g, frame) for g in geoms], dtype=object)
    faces = faces[shapely.covered_by(shapely.point_on_surface(faces), frame)]
    owner = _owners(faces, geoms)
    out = np.empty(len(geoms), dtype=object)
    for g in range(len(geoms)):
        mine = faces[owner == g]
        out[g] = shapely.coverage_union_all(mine) if len(mine) else shapely.Polygon()
    return out


def _connectors(pieces: Any, edge: Any, band: float, snap: float) -> Any:
    """Segments from each inner line's loose ends near the frame onto the frame."""
    if len(pieces) == 0:
        return np.asarray([], dtype=object)
    ends = np.concatenate([shapely.get_point(pieces, 0), shapely.get_point(pieces, -1)])
    # the loose ends: those the band around the frame cut off
    close = shapely.dwithin(ends, edge, 2 * band)
    ends = ends[close]
    if len(ends) == 0:
        return np.asarray([], dtype=object)
    vertices = np.asarray(
        shapely.points(np.unique(shapely.get_coordinates(edge), axis=0)), dtype=object
    )
    tree = shapely.STRtree(vertices)
    src, hit = tree.query_nearest(ends, max_distance=snap, all_matches=False)
    xy0 = shapely.get_coordinates(ends)
    # onto the edge: a little beyond it, so that noding meets the edge where the line
    # crosses it (a point computed on the edge may miss it by a rounding error); the
    # overshoot outside the frame is a dangle that polygonize drops
    xy1 = shapely.get_coordinates(shapely.get_point(shapely.shortest_line(ends, edge), 1))
    step = xy1 - xy0
    length = np.hypot(step[:, 0], step[:, 1])
    ok = length > 0
    xy1[ok] += step[ok] / length[ok, None] * (band / 2)
    # onto a frame vertex when one is near: exactly
    xy1[src] = shapely.get_coordinates(vertices[hit])
    moved = np.any(xy0 != xy1, axis=1)
    return np.asarray(shapely.linestrings(np.stack([xy0[moved], xy1[moved]], axis=1)), dtype=object)


def _owners(faces: Any, geoms: Any) -> np.ndarray[Any, Any]:
    """The grid each face belongs to: the one holding most of it, else a neighbour's."""
    owner = np.full(len(faces), -1, dtype=np.int64)
    tree = shapely.STRtree(geoms)
    fi, gi = tree.query(faces, predicate="intersects")
    if len(fi):
        share = shapely.area(shapely.intersection(faces[fi], geoms[gi]))
        frame = pd.DataFrame({"f": fi, "g": gi, "a": share})
        frame = frame[frame["a"] > 0].sort_values(["f", "a"], ascending=[True, False])
        best = frame.drop_duplicates("f")
        owner[best["f"].to_numpy()] = best["g"].to_numpy()
    # faces no grid holds (gaps within the rounding band): join the neighbour with most edge
    for _ in range(len(faces)):
        loose = np.flatnonzero(owner < 0)
        if not len(loose):
            break
        ftree = shapely.STRtree(faces)
        li, nj = ftree.query(faces[loose], predicate="touches")
        done = False
        for k in range(len(loose)):
            nbrs = nj[li == k]
            nbrs = nbrs[owner[nbrs] >= 0]
            if not len(nbrs):
                continue
            shared = shapely.length(shapely.intersection(faces[loose[k]], faces[nbrs]))
            owner[loose[k]] = owner[nbrs[int(np.argmax(shared))]]
            done = True
        if not done:
            owner[loose] = 0
            break
    return owner


def fit_grids(polys_m: Sequence[Any], frame: Any, crs: Any, code: str = "") -> list[Any]:
    """One community's merged grids (``polys_m``, in :data:`MEASURE_CRS` metres) in ``crs``,
    fitted to ``frame`` (the community's boundary in ``crs``, as the divisions layer has it).

    Where fitting fails (it never has on real or generated data) the grids come back only
    reprojected, with a warning; the whole area's coverage check then reports the faults.
    """
    fwd = transformer(MEASURE_CRS, crs)

    def apply(xy: Any) -> Any:
        return np.column_stack(fwd.transform(xy[:, 0], xy[:, 1]))

    geoms = np.asarray(shapely.transform(np.asarray(polys_m, dtype=object), apply), dtype=object)
    if frame is None or not len(geoms):
        return list(geoms)
    # a valid polygon can come back from metres with a ring touching itself at the
    # nanodegree scale: repaired before it is cut
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms[bad] = [polygonal(g, fallback=g) for g in shapely.make_valid(geoms[bad])]
    unit = METRES_PER_DEGREE if CRS.from_user_input(crs).is_geographic else 1.0
    try:
        fitted = fit_to_frame(geoms, frame, FIT_BAND_M / unit, FIT_BAND_M / unit)
    except shapely.errors.GEOSException as exc:
        LOG.warning("community %s: its grids could not be fitted to its frame: %s", code, exc)
        return list(geoms)
    if not all(shapely.is_valid(fitted)) or any(shapely.is_empty(fitted)):
        LOG.warning("community %s: its grids could not be fitted to its frame", code)
        return list(geoms)
    return list(fitted)


def stitch_communities(geoms: Sequence[Any], community: Sequence[str], crs: Any) -> Any:
    """:func:`gridmap.geometry.stitch` across community lines, at
    :data:`STITCH_TOLERANCE_M` in the units of ``crs``."""
    unit = METRES_PER_DEGREE if CRS.from_user_input(crs).is_geographic else 1.0
    return stitch(geoms, community, STITCH_TOLERANCE_M / unit)


__all__ = ["fit_grids", "fit_to_frame", "stitch_communities"]
