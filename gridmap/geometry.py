"""Small geometry helpers shared by the importer, the merge, the service and the sample generator."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

LOG = logging.getLogger(__name__)

POLYGONAL = ("Polygon", "MultiPolygon")
#: shapely type ids of Polygon and MultiPolygon
POLYGON_TYPE_IDS = (3, 6)
#: metres per degree of latitude, for tolerances in metres on a geographic CRS
METRES_PER_DEGREE = 111_320.0


def polygonal(geom: BaseGeometry, fallback: BaseGeometry | None = None) -> BaseGeometry:
    """The polygonal part of ``geom``: itself if it is a (Multi)Polygon, else the union of its
    polygon parts (``make_valid`` can turn a polygon into a collection with stray lines).

    Without polygon parts, ``fallback`` is returned (default: an empty Polygon).

    >>> from shapely import GeometryCollection, LineString, box
    >>> polygonal(GeometryCollection([box(0, 0, 1, 1), LineString([(1, 1), (2, 2)])])).wkt
    'POLYGON ((1 0, 1 1, 0 1, 0 0, 1 0))'
    >>> polygonal(LineString([(0, 0), (1, 1)])).is_empty
    True
    """
    if geom.geom_type in POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in POLYGONAL]
    if parts:
        return shapely.union_all(parts)
    return fallback if fallback is not None else shapely.Polygon()


def storage_valid(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The grids with geometries valid in storage coordinates.

    The merge works in metres; a valid polygon can pick up a self-touching ring at the
    nanodegree scale when brought back to EPSG:4490. Such grids are repaired with
    ``make_valid`` (keeping the polygonal part) and named in the log, so that the database's
    validity check never rejects a whole merge for a rounding artefact.
    """
    stored = grids.to_crs("EPSG:4490")
    geoms = np.asarray(stored.geometry.values, dtype=object)
    bad = ~shapely.is_valid(geoms)
    if not bad.any():
        return stored
    geoms[bad] = [polygonal(g, fallback=g) for g in shapely.make_valid(geoms[bad])]
    LOG.warning(
        "repaired %d grid geometr%s made invalid by reprojection: %s",
        int(bad.sum()),
        "y" if bad.sum() == 1 else "ies",
        ", ".join(map(str, grids["code"].to_numpy()[bad][:10])),
    )
    return stored.set_geometry(gpd.GeoSeries(geoms, index=stored.index, crs="EPSG:4490"))


#: the longest edge a stored boundary keeps, in degrees (about 110 m north-south, 80 m east-
#: west in Jilin): a straight edge in degrees is a curve in metres and on the ellipsoid, and
#: on an edge this short the two lie within a millimetre of each other
MAX_EDGE_DEG = 0.001


def densify_coverage(geoms: Any, max_length: float = MAX_EDGE_DEG) -> tuple[Any, int]:
    """Polygons with every edge longer than ``max_length`` broken into equal pieces.

    The points put into an edge depend only on its two ends, not on which way it runs, so
    two polygons that share an edge share the same new vertices: a valid coverage stays
    valid. Shapes do not change (every point lies on the edge it breaks). Returns the
    polygons and the number of edges broken; other geometries pass through.

    >>> a, b = shapely.box(0, 0, 0.003, 0.001), shapely.box(0.003, 0, 0.005, 0.001)
    >>> (da, db), n = densify_coverage([a, b])
    >>> n, int(shapely.get_num_coordinates(da)), bool(shapely.coverage_is_valid([da, db]))
    (4, 9, True)
    >>> bool(da.equals(a))
    True
    """
    arr = np.asarray(geoms, dtype=object)
    out = arr.copy()
    broken = 0
    for k, geom in enumerate(arr.tolist()):
        if geom is None or shapely.get_type_id(geom) not in POLYGON_TYPE_IDS or geom.is_empty:
            continue
        polys = []
        changed = False
        for poly in shapely.get_parts(geom).tolist():
            rings = [poly.exterior, *poly.interiors]
            dense = []
            for ring in rings:
                xy, n = _densify_ring(np.asarray(ring.coords), max_length)
                broken += n
                changed = changed or n > 0
                dense.append(xy)
            polys.append(shapely.Polygon(dense[0], dense[1:]))
        if changed:
            out[k] = shapely.MultiPolygon(polys) if geom.geom_type == "MultiPolygon" else polys[0]
    return out, broken


def _densify_ring(xy: Any, max_length: float) -> tuple[Any, int]:
    a, b = xy[:-1, :2], xy[1:, :2]
    pieces = np.ceil(np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]) / max_length).astype(int)
    long = np.flatnonzero(pieces > 1)
    if not len(long):
        return xy, 0
    out = []
    start = 0
    for s in long.tolist():
        out.append(xy[start : s + 1, :2])
        p, q = a[s], b[s]
        # from the lower end to the higher one, whichever way this ring runs
        flip = (q[0], q[1]) < (p[0], p[1])
        lo, hi = (q, p) if flip else (p, q)
        t = np.arange(1, pieces[s]) / pieces[s]
        mids = lo + (hi - lo) * t[:, None]
        out.append(mids[::-1] if flip else mids)
        start = s + 1
    out.append(xy[start:, :2])
    return np.concatenate(out), len(long)


def coverage_faults(geoms: Any) -> tuple[Any, Any, Any, Any]:
    """Where polygons fail to be one valid coverage: ``(edges, a, b, shared)``.

    ``edges[i]`` is the part of polygon ``i``'s boundary that does not match its
    neighbours' vertices exactly (None where all of it does, as
    :func:`shapely.coverage_invalid_edges` finds it); ``a``, ``b`` (``a < b``) are the
    pairs whose interiors overlap, and ``shared`` what they share. Checked over all the
    polygons together, so the edges between two communities count as much as those inside
    one. Missing, empty or non-polygonal entries are skipped.

    >>> from shapely import box
    >>> edges, a, b, shared = coverage_faults([box(0, 0, 2, 1), box(1, 0, 3, 1), box(3, 0, 4, 1)])
    >>> a.tolist(), b.tolist(), [round(s.area, 3) for s in shared], edges[2] is None
    ([0], [1], [1.0], True)
    """
    arr = np.asarray(geoms, dtype=object)
    ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    ok &= np.isin(shapely.get_type_id(arr), POLYGON_TYPE_IDS)
    ok &= shapely.is_valid(arr)
    idx = np.flatnonzero(ok)
    edges = np.full(len(arr), None, dtype=object)
    empty = np.asarray([], dtype=np.int64)
    if len(idx) < 2:
        return edges, empty, empty, np.asarray([], dtype=object)
    found = np.asarray(shapely.coverage_invalid_edges(arr[idx]), dtype=object)
    bad = ~(shapely.is_missing(found) | shapely.is_empty(found))
    edges[idx[bad]] = found[bad]
    i, j = shapely.STRtree(arr[idx]).query(arr[idx], predicate="intersects")
    keep = i < j
    i, j = idx[i[keep]], idx[j[keep]]
    # neighbours only touch: only pairs whose interiors meet are cut (the costly part)
    inner = ~shapely.touches(arr[i], arr[j])
    i, j = i[inner], j[inner]
    shared = np.asarray(shapely.intersection(arr[i], arr[j]), dtype=object)
    some = shapely.area(shared) > 0  # touching along an edge or at a point shares no area
    return edges, i[some], j[some], shared[some]


def stitch(geoms: Any, groups: Any, tol: float) -> np.ndarray[Any, Any]:
    """Give each polygon the vertices that polygons of other groups have on its edges.

    Across each line the group with the higher code snaps to the lower one's vertices
    (moved within ``tol``, or inserted into an edge), and the lower one takes in only the
    higher one's vertices that are not near one of its own (inserted: nothing moves). So
    both sides end with the same vertices. A group whose own coverage this would break
    keeps its polygons as they were, and the caller's coverage check reports it.

    >>> a, b = shapely.box(0, 0, 1, 2), shapely.Polygon([(1, 0), (2, 0), (2, 2), (1, 2), (1, 1)])
    >>> bool(shapely.coverage_is_valid([a, b]))
    False
    >>> bool(shapely.coverage_is_valid(stitch([a, b], ["x", "y"], 1e-9)))
    True
    """
    arr = np.asarray(geoms, dtype=object)
    if len(arr) < 2:
        return arr
    group = np.asarray([str(g) for g in groups], dtype=object)
    i, j = shapely.STRtree(arr).query(arr, predicate="dwithin", distance=tol)
    keep = (i != j) & (group[i] != group[j])
    i, j = i[keep], j[keep]
    order = np.argsort(i, kind="stable")
    i, j = i[order], j[order]
    starts = np.searchsorted(i, np.arange(len(arr) + 1))
    out = arr.copy()
    members = pd.Series(np.arange(len(arr))).groupby(group).groups
    for code in np.unique(group[i]).tolist():
        sel = np.asarray(members[code], dtype=np.int64)
        mine = [k for k in sel.tolist() if starts[k + 1] > starts[k]]
        nbrs = np.unique(np.concatenate([j[starts[k] : starts[k + 1]] for k in mine]))
        lower = np.unique(shapely.get_coordinates(arr[nbrs[group[nbrs] < code]]), axis=0)
        higher = np.unique(shapely.get_coordinates(arr[nbrs[group[nbrs] > code]]), axis=0)
        own = np.unique(shapely.get_coordinates(arr[mine]), axis=0)
        # one move per vertex for the whole group: a vertex two of its grids share moves in both
        moves = _moves(own, lower, tol)
        moved = _apply(arr[sel], moves) if moves else arr[sel].copy()
        # insert only points off every vertex the group now has: a point near one of them
        # is that vertex (moved onto it, or the higher side moves onto ours)
        have = shapely.multipoints(np.unique(shapely.get_coordinates(moved), axis=0))
        points = np.concatenate([lower, higher])
        if len(points):
            points = points[~shapely.dwithin(have, shapely.points(points), tol)]
        for n, k in enumerate(sel.tolist()):
            if k in mine and len(points):
                moved[n] = shapely.snap(moved[n], shapely.multipoints(points), tol)
        if shapely.is_valid(moved).all() and shapely.coverage_is_valid(moved):
            out[sel] = moved
        else:
            LOG.warning("%s: stitching to its neighbours skipped", code)
    return out


def _moves(own: Any, lower: Any, tol: float) -> dict[tuple[float, float], tuple[float, float]]:
    """Own vertices within ``tol`` of a lower group's vertex (not on it), to that vertex."""
    if not len(own) or not len(lower):
        return {}
    tree = shapely.STRtree(shapely.points(lower))
    src, hit = tree.query_nearest(shapely.points(own), max_distance=tol, all_matches=False)
    out = {}
    for s, h in zip(src.tolist(), hit.tolist(), strict=True):
        a, b = tuple(own[s].tolist()), tuple(lower[h].tolist())
        if a != b:
            out[a] = b
    return out


def _apply(geoms: Any, moves: dict[tuple[float, float], tuple[float, float]]) -> Any:
    """The polygons with every vertex in ``moves`` moved, exactly."""
    old = np.asarray(list(moves), dtype=np.float64)
    new = np.asarray(list(moves.values()), dtype=np.float64)

    def move(xy: Any) -> Any:
        xy = xy.copy()
        for a, b in zip(old, new, strict=True):
            xy[(xy[:, 0] == a[0]) & (xy[:, 1] == a[1])] = b
        return xy

    return np.asarray([shapely.transform(g, move) for g in geoms], dtype=object)
