"""One over-full grid split into grids in the band, by the balancing engine.

This is the merge's balancing step (:func:`gridmap.merge.steps.balance_households`): the
merge hands over the units of one grid (compounds, or buildings outside any compound, which
are never split) with their points and households, and gets back the grid each unit goes
to. The units' neighbours are their nearest-unit territories that share an edge, so the
grids drawn from the answer are contiguous. The engine is the one ``gridmap rebalance``
uses (:mod:`gridmap.rebalance.engine`), started from one grid holding everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from gridmap.rebalance.engine import Problem, solve

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

__all__ = ["split_units", "unit_neighbours"]


def unit_neighbours(xy: NDArray[np.float64], region: Any = None) -> list[dict[int, float]]:
    """For each unit at ``xy``, the units whose nearest-unit territories (Voronoi cells,
    clipped to ``region`` when given) share an edge with its own, and that edge's length.
    Units on one spot are neighbours of each other.

    >>> nb = unit_neighbours(np.array([[0.0, 0], [1, 0], [2, 0]]))
    >>> sorted(nb[0]), sorted(nb[1]), sorted(nb[2])
    ([1], [0, 2], [1])
    """
    n = len(xy)
    out: list[dict[int, float]] = [{} for _ in range(n)]
    if n < 2:
        return out
    spots, spot_of = np.unique(np.round(xy, 9), axis=0, return_inverse=True)
    spot_of = np.asarray(spot_of).ravel()
    for s in range(len(spots)):
        same = np.flatnonzero(spot_of == s).tolist()
        for a in same:
            for b in same:
                if a != b:
                    out[a][b] = 1.0
    if len(spots) < 2:
        return out
    points = np.asarray(shapely.points(spots), dtype=object)
    extent = region if region is not None else shapely.envelope(shapely.multipoints(spots))
    cells = np.asarray(
        shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(spots), extend_to=extent)),
        dtype=object,
    )
    _, near = shapely.STRtree(points).query_nearest(shapely.point_on_surface(cells),
                                                    all_matches=False)  # fmt: skip
    cell_of = np.empty(len(spots), dtype=np.int64)
    cell_of[near] = np.arange(len(cells))
    edges = shapely.get_parts(shapely.delaunay_triangles(shapely.multipoints(spots),
                                                         only_edges=True))  # fmt: skip
    index = {(float(x), float(y)): k for k, (x, y) in enumerate(spots.tolist())}
    for edge in edges:
        (x0, y0), (x1, y1) = shapely.get_coordinates(edge).tolist()
        ia, ib = index.get((x0, y0)), index.get((x1, y1))
        if ia is None or ib is None:
            continue
        a, b = ia, ib
        ca, cb = cells[cell_of[a]], cells[cell_of[b]]
        length = float(shapely.length(shapely.intersection(shapely.boundary(ca),
                                                           shapely.boundary(cb))))  # fmt: skip
        if length <= 0:
            continue
        for ua in np.flatnonzero(spot_of == a).tolist():
            for ub in np.flatnonzero(spot_of == b).tolist():
                out[ua][ub] = out[ub][ua] = length
    return out


def split_units(
    xy: NDArray[np.float64],
    households: NDArray[np.int64],
    low: int,
    high: int,
    region: Any = None,
    start: Sequence[int] | NDArray[np.int64] | None = None,
) -> tuple[NDArray[np.int64], list[str]]:
    """The grid (0, 1, …, numbered in the order of their first unit) of each unit, and the
    engine's reasons where some grid could not be brought into ``low``–``high``
    households. The engine starts from ``start`` (a first cut, say by bisection), or from
    one grid holding every unit; it only ever lowers the band violation of its start.

    >>> xy = np.array([[0.0, 0], [1, 0], [2, 0], [3, 0]])
    >>> labels, why = split_units(xy, np.array([240, 240, 240, 240]), 300, 500)
    >>> labels.tolist(), why
    ([0, 0, 1, 1], [])
    """
    n = len(xy)
    if n == 0:
        return np.zeros(0, dtype=np.int64), []
    problem = Problem(
        households=[int(h) for h in households],
        neighbours=unit_neighbours(xy, region),
        start=[int(v) for v in start] if start is not None else [0] * n,
        low=low,
        high=high,
    )
    solution = solve(problem)
    # number the grids in the order of their first unit, so the answer does not depend on
    # the engine's internal labels
    _, first, dense = np.unique(solution.labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    labels = order[np.asarray(dense).ravel()].astype(np.int64)
    return labels, list(solution.infeasible)
