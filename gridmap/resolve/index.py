"""Points located in memory: the current grids and building footprints in two STRtrees.

:class:`PointIndex` answers, for any number of EPSG:4490 points in one vectorised
``STRtree.query(..., predicate="intersects")`` per layer, which grid covers each point (the
lowest code on a shared edge, and how many grids cover it) and which building footprint
(the lowest external id). Those are the rules of :func:`gridmap.db.lookup.points`; the
index holds each layer in the database's own order, so "lowest" means the same thing.

For a point, *intersects* is *covers*: a point on a polygon's edge intersects it. The
index knows only geometry: names, divisions and chiefs are fetched afterwards for the
distinct grids and buildings hit, in one query (:func:`gridmap.db.lookup.point_contexts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import shapely

if TYPE_CHECKING:
    from collections.abc import Sequence

    import psycopg

__all__ = ["Located", "Locator", "PointIndex"]

NONE = -1


@dataclass(frozen=True)
class Located:
    """Per point: the index of its grid and building in the :class:`PointIndex` (``-1``:
    none) and how many grids cover it (0 outside every grid)."""

    grid: np.ndarray[Any, np.dtype[np.int64]]
    n_covering: np.ndarray[Any, np.dtype[np.int64]]
    building: np.ndarray[Any, np.dtype[np.int64]]


def _first_hit(
    pairs: np.ndarray[Any, Any], n: int
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.int64]]]:
    """From ``STRtree.query`` pairs (row 0: input, row 1: tree), the lowest tree index hit
    by each input (``-1`` for none) and the number of hits."""
    first = np.full(n, NONE, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    if pairs.shape[1] == 0:
        return first, count
    inputs, targets = pairs[0], pairs[1]
    if np.any(inputs[1:] < inputs[:-1]):  # STRtree gives them by input; sort if ever not
        order = np.argsort(inputs, kind="stable")
        inputs, targets = inputs[order], targets[order]
    starts = np.flatnonzero(np.r_[True, inputs[1:] != inputs[:-1]])
    first[inputs[starts]] = np.minimum.reduceat(targets, starts)
    count[inputs[starts]] = np.diff(np.r_[starts, len(inputs)])
    return first, count


class Locator(Protocol):
    """What locates points: a :class:`PointIndex`, or one spread over a cluster."""

    grid_codes: np.ndarray[Any, Any]
    building_ids: np.ndarray[Any, Any]

    def locate(
        self,
        lon: np.ndarray[Any, Any] | Sequence[float],
        lat: np.ndarray[Any, Any] | Sequence[float],
    ) -> Located: ...


class PointIndex:
    """The current grids and footprints of a database (or of a box of it), as STRtrees."""

    def __init__(
        self,
        grid_codes: Sequence[str],
        grid_shapes: np.ndarray[Any, Any],
        building_ids: Sequence[int],
        building_shapes: np.ndarray[Any, Any],
    ) -> None:
        self.grid_codes = np.asarray(grid_codes, dtype=object)
        self.grid_shapes = np.asarray(grid_shapes, dtype=object)
        self.building_ids = np.asarray(building_ids, dtype=np.int64)
        self._grids = shapely.STRtree(grid_shapes)
        self._buildings = shapely.STRtree(building_shapes)

    @classmethod
    def from_wkb(
        cls, grids: Sequence[tuple[str, bytes]], footprints: Sequence[tuple[int, bytes]]
    ) -> PointIndex:
        """An index over ``(code, WKB)`` grids and ``(id, WKB)`` footprints, each already in
        the order that decides ties (grids by code, buildings by external id)."""
        return cls(
            [c for c, _ in grids],
            shapely.from_wkb([w for _, w in grids]),
            [i for i, _ in footprints],
            shapely.from_wkb([w for _, w in footprints]),
        )

    @classmethod
    def load(cls, conn: psycopg.Connection[Any], bbox: Sequence[float] | None = None) -> PointIndex:
        """The current grids and footprints of the database, or those meeting ``bbox``."""
        from gridmap.db import lookup  # the index itself needs no database

        return cls.from_wkb(*lookup.index_layers(conn, bbox))

    def __len__(self) -> int:
        return len(self.grid_codes)

    def locate(
        self,
        lon: np.ndarray[Any, Any] | Sequence[float],
        lat: np.ndarray[Any, Any] | Sequence[float],
    ) -> Located:
        """The grid and building of each EPSG:4490 point, in one query per layer."""
        pts = np.asarray(
            shapely.points(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
        ).reshape(-1)
        n = len(pts)
        grid, count = _first_hit(self._grids.query(pts, predicate="intersects"), n)
        building, _ = _first_hit(self._buildings.query(pts, predicate="intersects"), n)
        return Located(grid=grid, n_covering=count, building=building)
