"""Keep grid codes stable when a new grid set replaces the current one.

A new grid inherits the code of a current grid of its community when the two are mostly the
same place: more than ``min_share`` of each one's area lies in the other (mutual majority, so
at most one new grid can claim an old code). Every other new grid gets a fresh serial after
every serial the community has ever used, in reading order, so a retired code is never
reissued. Pure: GeoDataFrames in, GeoDataFrame and a code mapping out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from gridmap.codes import compose_grid_code, next_serials, reading_order
from gridmap.errors import InvalidInput

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import geopandas as gpd
    import pandas as pd

METRIC = "EPSG:4551"


@dataclass
class Lineage:
    """The new grids with their final codes, and where each code came from."""

    grids: gpd.GeoDataFrame
    renamed: dict[str, str]  # provisional code -> final code
    inherited: dict[str, str]  # final code -> the current grid code it continues (same code)
    fresh: list[str]  # codes issued for the first time


def inherit_codes(
    new: gpd.GeoDataFrame,
    current: gpd.GeoDataFrame,
    used_serials: Mapping[str, Sequence[int]],
    min_share: float = 0.5,
) -> Lineage:
    """Give ``new`` grids (columns ``code``, ``community_code``) stable codes.

    ``current`` holds the grids in force (``code``, ``community_code``, geometry);
    ``used_serials`` every serial ever issued per community, retired ones included.

    >>> import geopandas as gpd
    >>> from shapely import box
    >>> old = gpd.GeoDataFrame({"code": ["220102005004007"], "community_code": ["220102005004"]},
    ...                        geometry=[box(125.30, 43.85, 125.31, 43.86)], crs="EPSG:4490")
    >>> new = gpd.GeoDataFrame({"code": ["x1", "x2"], "community_code": ["220102005004"] * 2},
    ...                        geometry=[box(125.30, 43.85, 125.3105, 43.86),
    ...                                  box(125.3105, 43.85, 125.32, 43.86)], crs="EPSG:4490")
    >>> lin = inherit_codes(new, old, {"220102005004": [1, 2, 7]})
    >>> list(lin.grids["code"])
    ['220102005004007', '220102005004008']
    """
    if not 0.5 <= min_share < 1:
        raise InvalidInput(f"min_share {min_share!r} must be in [0.5, 1) to keep matches unique")
    if new.crs is None or current.crs is None:
        raise InvalidInput("both grid sets need a CRS to compare them")
    out = new.copy()
    nm = new.to_crs(METRIC)
    cm = current.to_crs(METRIC) if len(current) else current
    renamed: dict[str, str] = {}
    inherited: dict[str, str] = {}
    fresh: list[str] = []
    final = np.empty(len(new), dtype=object)
    for community, idx in nm.groupby("community_code").indices.items():
        idx = np.asarray(idx)
        new_geoms = nm.geometry.values[idx]
        taken: set[int] = set()
        if len(cm):
            old_mask = (cm["community_code"] == community).to_numpy()
            old_codes = cm["code"].to_numpy()[old_mask]
            old_geoms = cm.geometry.values[old_mask]
            if len(old_geoms):
                tree = shapely.STRtree(old_geoms)
                pairs = tree.query(new_geoms, predicate="intersects")
                if pairs.size:
                    inter = shapely.area(
                        shapely.intersection(new_geoms[pairs[0]], old_geoms[pairs[1]])
                    )
                    share_new = inter / shapely.area(new_geoms[pairs[0]])
                    share_old = inter / shapely.area(old_geoms[pairs[1]])
                    ok = (share_new > min_share) & (share_old > min_share)
                    for a, b in zip(pairs[0][ok], pairs[1][ok], strict=True):
                        code = str(old_codes[b])
                        final[idx[a]] = code
                        inherited[code] = code
                        taken.add(int(a))
        rest = [i for i in range(len(idx)) if i not in taken]
        if rest:
            pts = shapely.point_on_surface(new_geoms[rest])
            order = reading_order(list(zip(shapely.get_x(pts), shapely.get_y(pts), strict=True)))
            serials = next_serials(used_serials.get(str(community), ()), len(rest))
            for serial, k in zip(serials, order, strict=True):
                code = compose_grid_code(str(community), serial)
                final[idx[rest[k]]] = code
                fresh.append(code)
    for old_code, code in zip(new["code"], final, strict=True):
        renamed[str(old_code)] = str(code)
    out["code"] = final.astype(str)
    return Lineage(grids=out, renamed=renamed, inherited=inherited, fresh=fresh)


def rename_crosswalk(crosswalk: pd.DataFrame, lineage: Lineage) -> pd.DataFrame:
    """The crosswalk with each provisional grid code replaced by its final one.

    >>> import geopandas as gpd, pandas as pd
    >>> lin = Lineage(gpd.GeoDataFrame(), {"p1": "220102005004001"}, {}, [])
    >>> rename_crosswalk(pd.DataFrame({"grid_code": ["p1", "x"]}), lin)["grid_code"].tolist()
    ['220102005004001', 'x']
    """
    out = crosswalk.copy()
    out["grid_code"] = out["grid_code"].map(lambda c: lineage.renamed.get(str(c), str(c)))
    return out


def inherit_by_households(
    new_label: Sequence[int],
    old_code: Sequence[str],
    households: Sequence[int],
    min_share: float = 0.5,
) -> dict[int, str]:
    """The current code each new grid continues, matched by the households they share.

    A new grid (``new_label`` of each building) continues old code ``old_code`` of each
    building when more than ``min_share`` of the new grid's households and of the old
    grid's are the same households (mutual majority, so one old code goes to at most one new
    grid). Grids without households are matched by their buildings. New grids left
    out of the result need fresh serials.

    >>> inherit_by_households([0, 0, 1, 1], ["a", "a", "a", "b"], [100, 100, 50, 300])
    {0: 'a', 1: 'b'}
    >>> inherit_by_households([0, 1], ["a", "a"], [100, 100])  # an even split keeps neither
    {}
    """
    if not 0.5 <= min_share < 1:
        raise InvalidInput(f"min_share {min_share!r} must be in [0.5, 1) to keep matches unique")
    # (households, buildings): grids of empty buildings are matched by their buildings
    shared: dict[tuple[int, str], tuple[int, int]] = {}
    new_total: dict[int, tuple[int, int]] = {}
    old_total: dict[str, tuple[int, int]] = {}

    def add(d: dict[Any, tuple[int, int]], k: Any, h: int) -> None:
        a, n = d.get(k, (0, 0))
        d[k] = (a + h, n + 1)

    for lab, code, h in zip(new_label, old_code, households, strict=True):
        add(shared, (lab, code), int(h))
        add(new_total, lab, int(h))
        add(old_total, code, int(h))

    def majority(part: tuple[int, int], whole: tuple[int, int]) -> bool:
        i = 0 if whole[0] else 1
        return part[i] > min_share * whole[i]

    out: dict[int, str] = {}
    for (lab, code), w in sorted(shared.items()):
        if majority(w, new_total[lab]) and majority(w, old_total[code]):
            out[lab] = code
    return out
