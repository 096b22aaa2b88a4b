"""The numbers planners judge a grid plan by.

Per grid: households, deviation and percentage deviation from the ideal (the community's
households over its grids with households), Polsby-Popper compactness (4πA/P², 1 for a
circle) and whether it is in one piece. For the plan: the range, mean and standard deviation
of the deviations, the share of grids in the band, mean Polsby-Popper, contiguity,
compounds (小区) and hamlets split across grids, households moved, and codes kept, new and
retired. Pure: plain values and GeoDataFrames in, dicts out.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd


def polsby_popper(geom: Any) -> float:
    """4πA/P² of a polygon in a metric CRS: 1 for a circle, about 0.785 for a square.

    >>> round(polsby_popper(shapely.box(0, 0, 10, 10)), 3)
    0.785
    >>> polsby_popper(shapely.Polygon())
    0.0
    """
    perimeter = float(shapely.length(geom))
    if perimeter == 0:
        return 0.0
    return 4 * math.pi * float(shapely.area(geom)) / perimeter**2


def in_band(households: int, low: int, high: int) -> bool:
    """Whether a grid's households are within the band (ends included).

    >>> in_band(300, 300, 500), in_band(501, 300, 500)
    (True, False)
    """
    return low <= households <= high


def split_count(groups: Sequence[Any], labels: Sequence[Any]) -> int:
    """How many named groups (compounds, hamlets) have buildings in more than one grid.

    Empty names (no compound, no hamlet) are not groups.

    >>> split_count(["明珠花园", "明珠花园", None, "富苑小区"], ["001", "002", "003", "003"])
    1
    """
    seen: dict[Any, set[Any]] = {}
    for g, lab in zip(groups, labels, strict=True):
        if g is None or (isinstance(g, float) and math.isnan(g)) or g == "":
            continue
        seen.setdefault(g, set()).add(lab)
    return sum(1 for v in seen.values() if len(v) > 1)


def grid_table(
    grids: gpd.GeoDataFrame, low: int, high: int, metric_crs: Any
) -> list[dict[str, Any]]:
    """One row per grid of ``grids`` (``code``, ``households``, ``status``; geometry):
    households, deviation from the ideal, % deviation, in band, Polsby-Popper, contiguous."""
    geoms = grids.to_crs(metric_crs).geometry.to_numpy()
    hh = [int(h) for h in grids["households"]]
    with_households = [h for h in hh if h > 0]
    ideal = sum(with_households) / len(with_households) if with_households else 0.0
    rows = []
    for code, status, h, g in zip(grids["code"], grids["status"], hh, geoms, strict=True):
        dev = h - ideal
        rows.append(
            {
                "code": str(code),
                "status": str(status),
                "households": h,
                "deviation": round(dev, 1),
                "deviation_pct": round(100 * dev / ideal, 1) if ideal else 0.0,
                "in_band": in_band(h, low, high),
                "polsby_popper": round(polsby_popper(g), 3),
                "contiguous": len(shapely.get_parts(g)) == 1,
            }
        )
    return rows


def summary(
    rows: Sequence[dict[str, Any]],
    *,
    households_moved: int,
    households_total: int,
    compounds_split: int,
    hamlets_split: int,
    retired: Sequence[str],
) -> dict[str, Any]:
    """The plan's figures from its :func:`grid_table` rows. Grids without households (a
    park, a works yard) are left out of the balance figures."""
    loaded = [r for r in rows if r["households"] > 0]
    devs = np.array([r["deviation"] for r in loaded], dtype=float)
    pcts = np.array([r["deviation_pct"] for r in loaded], dtype=float)
    return {
        "grids": len(rows),
        "grids_with_households": len(loaded),
        "ideal": round(float(np.mean([r["households"] for r in loaded])), 1) if loaded else 0.0,
        "in_band": round(sum(r["in_band"] for r in loaded) / len(loaded), 4) if loaded else 1.0,
        "deviation_range": round(float(devs.max() - devs.min()), 1) if len(devs) else 0.0,
        "deviation_mean_abs": round(float(np.abs(devs).mean()), 1) if len(devs) else 0.0,
        "deviation_std": round(float(devs.std()), 1) if len(devs) else 0.0,
        "deviation_pct_max": round(float(np.abs(pcts).max()), 1) if len(pcts) else 0.0,
        "polsby_popper_mean": (
            round(float(np.mean([r["polsby_popper"] for r in rows])), 3) if rows else 0.0
        ),
        "contiguous": all(r["contiguous"] for r in rows),
        "compounds_split": compounds_split,
        "hamlets_split": hamlets_split,
        "households_moved": households_moved,
        "households_total": households_total,
        "households_moved_pct": (
            round(100 * households_moved / households_total, 2) if households_total else 0.0
        ),
        "codes_kept": sum(1 for r in rows if r["status"] == "kept"),
        "codes_new": sum(1 for r in rows if r["status"] == "new"),
        "codes_retired": len(retired),
    }
