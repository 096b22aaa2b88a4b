"""Who goes with whom: building clusters, balancing units, hamlets, and the territories
between groups of buildings.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from gridmap.merge.atoms import Geoms, Ints, components


def hamlet_keys(hamlets: list[str | None], groups: list[str | None]) -> list[str | None]:
    """Hamlet of each building; without one, the hamlet most of its group lives in, else
    the villager group itself.

    >>> hamlet_keys(["王家屯", None, None, "李家屯"], ["1", "1", "2", None])
    ['王家屯', '王家屯', '2组', '李家屯']
    """
    votes: dict[str, dict[str, int]] = {}
    for h, g in zip(hamlets, groups, strict=True):
        if h and g:
            votes.setdefault(g, {})[h] = votes.setdefault(g, {}).get(h, 0) + 1
    out: list[str | None] = []
    for h, g in zip(hamlets, groups, strict=True):
        if h:
            out.append(h)
        elif g and g in votes:
            out.append(max(votes[g], key=lambda x: (votes[g][x], x)))
        else:
            out.append(f"{g}组" if g else None)
    return out


def clusters(geoms: Geoms, households: Ints) -> tuple[Ints, Ints]:
    """Cluster id of each building and the main building of its cluster.

    Footprints whose interiors overlap, and points inside a footprint or on one spot, can
    only move together; the main building is the one with most households.

    >>> from shapely import box, Point
    >>> g = np.array([box(0, 0, 2, 2), box(1, 1, 3, 3), box(5, 5, 6, 6), Point(5.5, 5.5)])
    >>> c, main = clusters(g, np.array([1, 5, 2, 1]))
    >>> c.tolist(), main.tolist()
    ([0, 0, 1, 1], [1, 1, 2, 2])
    """
    n = len(geoms)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    inner = shapely.relate_pattern(geoms[i], geoms[j], "T********")
    comp = components(n, i[inner], j[inner])
    order = np.lexsort((np.arange(n), -households, comp))
    first = order[np.unique(comp[order], return_index=True)[1]]
    return comp, first[comp]


def unit_keys(compounds: list[str | None], cluster: Ints, main: Ints) -> list[str]:
    """The balancing unit of each building: its cluster's compound, else the cluster."""
    return [
        f"c:{compounds[m]}" if compounds[m] else f"k:{c}"
        for c, m in zip(cluster.tolist(), main.tolist(), strict=True)
    ]


def territory_lines(region: Any, xy: Any, group: Ints) -> list[Any]:
    """Boundaries between the nearest-building territories of different groups."""
    uniq, first = np.unique(np.round(xy, 1), axis=0, return_index=True)
    if len(uniq) < 2 or len(np.unique(group)) < 2:
        return []
    cells = np.asarray(
        shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(uniq), extend_to=region)),
        dtype=object,
    )
    tree = shapely.STRtree(np.asarray(shapely.points(uniq), dtype=object))
    _, near = tree.query_nearest(shapely.point_on_surface(cells), all_matches=False)
    cell_group = group[first[near]]
    lines = []
    for g in np.unique(cell_group).tolist():
        try:
            poly = shapely.coverage_union_all(cells[cell_group == g])
        except shapely.errors.GEOSException:
            poly = shapely.union_all(cells[cell_group == g])
        lines.append(shapely.intersection(shapely.boundary(poly), region))
    return lines
