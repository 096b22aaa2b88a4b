"""Resolve points to their grid, building and chiefs.

Points are brought to EPSG:4490 (from any EPSG CRS, or from GCJ-02, by
:func:`gridmap.crs.to_storage_xy`) and looked up in the current grids in one round trip for
any number of points. A point on an edge shared by several grids belongs to the grid with the
lowest code (``on_boundary`` says so); a point in no grid gets the nearest grid and its
geodesic distance instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gridmap.crs import to_storage_xy
from gridmap.db import lookup
from gridmap.errors import GridmapError
from gridmap.resolve.index import NONE, Locator, PointIndex
from gridmap.resolve.rows import building_ref, chief_from_row, grid_ref
from gridmap.results import LonLat, Nearest, Resolution

if TYPE_CHECKING:
    from collections.abc import Container, Sequence

    import psycopg

    Conn = psycopg.Connection[Any]
else:
    Conn = Any

__all__ = [
    "IN_MEMORY_FROM", "Combo", "aresolve_point", "locate_resolutions", "resolve_point",
    "resolve_points",
]  # fmt: skip

#: from how many points a batch is located in memory rather than by the database's query
IN_MEMORY_FROM = 200
#: the widest box (degrees, each way) whose grids and footprints a batch loads for itself;
#: points spread wider (across a province) take the database's query instead
IN_MEMORY_SPAN = 0.5


def _bbox(
    lon: np.ndarray[Any, Any], lat: np.ndarray[Any, Any]
) -> tuple[float, float, float, float]:
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


#: a distinct answer of points located in memory: (grid, building, grids covering), by the
#: index's positions (building -1: none)
Combo = tuple[int, int, int]


def locate_resolutions(
    conn: Conn,
    index: Locator,
    lon: np.ndarray[Any, Any],
    lat: np.ndarray[Any, Any],
    *,
    authorised: bool = False,
    known: Container[Combo] = (),
) -> tuple[np.ndarray[Any, Any], list[Combo], dict[Combo, Resolution]]:
    """Locate EPSG:4490 points in ``index``: ``(inside, combos, made)``.

    ``inside`` are the positions of the points that lie in a grid, and ``combos[k]`` is the
    distinct answer of point ``inside[k]``. ``made`` holds the resolution of every combo not
    in ``known``, made once from one query for all of them, its ``location`` that of its
    first point. The points not in ``inside`` need the nearest grid, which only the
    database's query gives.
    """
    found = index.locate(lon, lat)
    inside = np.flatnonzero(found.grid != NONE)
    if not len(inside):
        return inside, [], {}
    keys = np.stack([found.grid, found.building, found.n_covering], axis=1)[inside]
    distinct, which, first = _unique_rows(keys)
    combos: list[Combo] = [(int(g), int(b), int(n)) for g, b, n in distinct.tolist()]
    new = [k for k, combo in enumerate(combos) if combo not in known]
    pairs = [
        (str(index.grid_codes[combos[k][0]]),
         int(index.building_ids[combos[k][1]]) if combos[k][1] != NONE else None)
        for k in new
    ]  # fmt: skip
    rows = lookup.point_contexts(conn, pairs) if new else []
    made: dict[Combo, Resolution] = {}
    for k, row in zip(new, rows, strict=True):
        row = {**row, "hit_code": row["grid_code"], "distance_m": None, "n_covering": combos[k][2]}
        i = inside[first[k]]
        made[combos[k]] = _point_resolution(row, authorised, float(lon[i]), float(lat[i]))
    return inside, [combos[k] for k in which.tolist()], made


def _unique_rows(
    keys: np.ndarray[Any, Any],
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The distinct rows of ``keys`` (non-negative but for -1), each row's place among
    them, and the first row of each: one key per row, ``np.unique`` on a 1-D array."""
    shifted = keys.astype(np.int64) + 1
    span = shifted.max(axis=0) + 1
    code = (shifted[:, 0] * span[1] + shifted[:, 1]) * span[2] + shifted[:, 2]
    _, first, which = np.unique(code, return_index=True, return_inverse=True)
    return keys[first], which.reshape(-1), first


def _resolve_in_memory(
    conn: Conn,
    index: Locator,
    todo: list[int],
    lon: np.ndarray[Any, Any],
    lat: np.ndarray[Any, Any],
    out: list[Resolution | GridmapError | None],
    authorised: bool,
) -> list[int]:
    """Answer the points of ``todo`` that lie in a grid of ``index`` (in ``out``); the
    points left (in no grid) are returned."""
    idx = np.asarray(todo, dtype=np.int64)
    inside, combos, made = locate_resolutions(
        conn, index, lon[idx], lat[idx], authorised=authorised
    )
    for pos, combo in zip(inside.tolist(), combos, strict=True):
        i = int(idx[pos])
        res = made[combo]
        if res.location is None or (res.location.lon, res.location.lat) != (lon[i], lat[i]):
            res = res.model_copy(
                update={"location": LonLat.model_construct(lon=float(lon[i]), lat=float(lat[i]))}
            )
        out[i] = res
    left = np.ones(len(idx), dtype=bool)
    left[inside] = False
    return [int(i) for i in idx[left]]


def _point_resolution(row: dict[str, Any], authorised: bool, lon: float, lat: float) -> Resolution:
    grid = grid_ref(row)
    building = building_ref(row)
    location = LonLat(lon=lon, lat=lat)
    if row["hit_code"] is None:
        nearest = (
            Nearest(grid=grid, distance_m=round(float(row["distance_m"]), 2))
            if grid is not None
            else None
        )
        return Resolution(
            status="not_found",
            match_level="none",
            confidence=0.0,
            nearest=nearest,
            location=location,
            notes=["the point lies in no current grid"],
        )
    n_covering = int(row["n_covering"])
    notes = []
    if n_covering > 1:
        notes.append(f"on the edge of {n_covering} grids: the lowest code is taken")
    return Resolution(
        status="ok",
        match_level="building" if building is not None else "grid",
        confidence=1.0,
        grid=grid,
        grid_chief=chief_from_row(row, "grid_chief", authorised),
        building=building,
        building_chief=chief_from_row(row, "building_chief", authorised) if building else None,
        on_boundary=n_covering > 1,
        location=location,
        notes=notes,
    )


def resolve_points(
    conn: Conn,
    points: Sequence[tuple[float, float, str | int]],
    *,
    authorised: bool = False,
    index: Locator | None = None,
) -> list[Resolution | GridmapError]:
    """Resolve many ``(x, y, crs)`` points; a bad point gives its error in place.

    Each point's CRS may differ; points are transformed per CRS group in one vectorised call.
    From :data:`IN_MEMORY_FROM` points on within a box of :data:`IN_MEMORY_SPAN` degrees
    (or with an ``index`` given), the points are located in a :class:`PointIndex` of the
    grids and footprints in their box, and only
    the points in no grid (which need the nearest grid) go to the database's query;
    fewer points take that query alone, in one round trip. Both give the same answers.
    """
    out: list[Resolution | GridmapError | None] = [None] * len(points)
    lon = np.full(len(points), np.nan)
    lat = np.full(len(points), np.nan)
    groups: dict[str, list[int]] = {}
    for i, (_, _, crs) in enumerate(points):
        groups.setdefault(str(crs), []).append(i)
    for crs, idx in groups.items():
        try:
            gx, gy = to_storage_xy([points[i][0] for i in idx], [points[i][1] for i in idx], crs)
            lon[idx], lat[idx] = gx, gy
        except GridmapError:
            for i in idx:  # find which of the group fail, one by one
                try:
                    (lon[i],), (lat[i],) = to_storage_xy([points[i][0]], [points[i][1]], crs)
                except GridmapError as exc:
                    out[i] = exc
    todo = [i for i in range(len(points)) if out[i] is None]
    if index is None and len(todo) >= IN_MEMORY_FROM:
        box = _bbox(lon[todo], lat[todo])
        if box[2] - box[0] <= IN_MEMORY_SPAN and box[3] - box[1] <= IN_MEMORY_SPAN:
            index = PointIndex.load(conn, box)
    if index is not None and todo:
        todo = _resolve_in_memory(conn, index, todo, lon, lat, out, authorised)
    if todo:
        rows = lookup.points(conn, lon[todo].tolist(), lat[todo].tolist())
        for i, row in zip(todo, rows, strict=True):
            out[i] = _point_resolution(row, authorised, float(lon[i]), float(lat[i]))
    return [r for r in out if r is not None]


def resolve_point(
    conn: Conn, x: float, y: float, crs: str | int = "EPSG:4490", *, authorised: bool = False
) -> Resolution:
    """The grid (and building) at a point given in ``crs``; the nearest grid when outside all.

    ``x``/``y`` are lon/lat for geographic CRSs and GCJ-02, easting/northing otherwise.
    """
    (res,) = resolve_points(conn, [(x, y, crs)], authorised=authorised)
    if isinstance(res, GridmapError):
        raise res
    return res


async def aresolve_point(
    conn: psycopg.AsyncConnection[Any],
    x: float,
    y: float,
    crs: str | int = "EPSG:4490",
    *,
    authorised: bool = False,
) -> Resolution:
    """:func:`resolve_point` over an async connection: the same query, one statement
    (grid, divisions, grid chief, building and building chief together)."""
    (lon,), (lat,) = to_storage_xy([x], [y], crs)
    (row,) = await lookup.apoints(conn, [float(lon)], [float(lat)])
    return _point_resolution(row, authorised, float(lon), float(lat))
