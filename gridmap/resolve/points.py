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
from gridmap.resolve.rows import building_ref, chief_from_row, grid_ref
from gridmap.results import LonLat, Nearest, Resolution

if TYPE_CHECKING:
    from collections.abc import Sequence

    import psycopg

    Conn = psycopg.Connection[Any]
else:
    Conn = Any

__all__ = ["resolve_point", "resolve_points"]


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
) -> list[Resolution | GridmapError]:
    """Resolve many ``(x, y, crs)`` points with one query; a bad point gives its error in place.

    Each point's CRS may differ; points are transformed per CRS group in one vectorised call.
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
