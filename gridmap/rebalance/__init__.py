"""Rebalancing grid boundaries: plans that are balanced, contiguous, compact and
building-atomic, and move as few households as possible.

Pure: GeoDataFrames in (EPSG:4490), GeoDataFrames out, no database. One community at a
time (:func:`rebalance_community`); a street or district is its communities in turn, put
together by :func:`combine`, so a community line is never crossed.

>>> import geopandas as gpd
>>> from shapely import box, Point
>>> grids = gpd.GeoDataFrame({"code": ["220102005004001"]},
...                          geometry=[box(125.30, 43.80, 125.31, 43.81)], crs=4490)
>>> b = gpd.GeoDataFrame({"id": ["a", "b"], "households": [200, 250],
...     "grid_code": ["220102005004001"] * 2},
...     geometry=[Point(125.302, 43.805), Point(125.308, 43.805)], crs=4490)
>>> plan = rebalance_community("220102005004", grids, b)
>>> plan.summary["in_band"], plan.summary["households_moved"]
(1.0, 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.codes import compose_grid_code, next_serials, reading_order
from gridmap.crs import METRIC, STORAGE, transformer
from gridmap.errors import InvalidInput
from gridmap.lineage import inherit_by_households
from gridmap.merge.atoms import dissolve
from gridmap.rebalance.engine import Problem, solve
from gridmap.rebalance.graph import build_graph
from gridmap.rebalance.metrics import grid_table, split_count, summary

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = ["URBAN_BAND", "Plan", "combine", "parse_band", "rebalance_community"]

#: households per urban grid
URBAN_BAND: tuple[int, int] = (300, 500)


@dataclass
class Plan:
    """A proposed grid set for one or more communities."""

    #: code, community_code, households, status (kept/new); geometry (EPSG:4490)
    grids: gpd.GeoDataFrame
    #: building id, community_code, households, from_code, grid_code, moved
    assignment: pd.DataFrame
    retired: list[str]
    infeasible: list[str]
    band: tuple[int, int]
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The plan as one JSON object (``gridmap rebalance --json``)."""
        return {
            "band": list(self.band),
            "grids": [
                {"code": r["code"], "households": r["households"], "status": r["status"]}
                for r in self.rows
            ],
            "in_band": self.summary.get("in_band", 1.0),
            "contiguous": self.summary.get("contiguous", True),
            "households_moved": self.summary.get("households_moved", 0),
            "households_total": self.summary.get("households_total", 0),
            "assignment": dict(
                zip(self.assignment["id"].astype(str), self.assignment["grid_code"], strict=True)
            ),
            "retired": self.retired,
            "infeasible": self.infeasible,
            "metrics": self.summary,
            "table": self.rows,
        }


def parse_band(text: str) -> tuple[int, int]:
    """``"300-500"`` as (300, 500).

    >>> parse_band("300-500")
    (300, 500)
    >>> parse_band("500-300")
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidInput: household band '500-300' must be LOW-HIGH with 0 < LOW <= HIGH, e.g. 300-500
    """
    parts = text.replace("–", "-").split("-")
    try:
        low, high = (int(p) for p in parts)
    except ValueError:
        low, high = 0, -1
    if not 0 < low <= high:
        raise InvalidInput(
            f"household band {text!r} must be LOW-HIGH with 0 < LOW <= HIGH, e.g. 300-500",
            value=text,
        )
    return low, high


def _check(grids: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, band: tuple[int, int]) -> None:
    if not 0 < band[0] <= band[1]:
        raise InvalidInput(f"household band {band!r} must be (low, high) with 0 < low <= high")
    for name, frame, cols in (("grids", grids, ("code",)),
                              ("buildings", buildings, ("id", "households", "grid_code"))):  # fmt: skip
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise InvalidInput(f"{name} lack column(s) {missing}: expected {list(cols)}")
        if frame.crs is None:
            raise InvalidInput(f"{name} have no CRS")
    unknown = sorted(set(buildings["grid_code"].dropna().astype(str)) - set(grids["code"]))
    if unknown:
        raise InvalidInput(
            f"buildings name grid(s) {unknown[:5]} that are not current grids of the community",
            value=unknown[0],
        )
    hh = pd.to_numeric(buildings["households"], errors="coerce")
    if hh.isna().any() or (hh < 0).any():
        bad = buildings.loc[hh.isna() | (hh < 0), "households"].iloc[0]
        raise InvalidInput(f"households {bad!r} must be a whole number >= 0", value=str(bad))


def rebalance_community(
    community_code: str,
    grids: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    frame: Any = None,
    band: tuple[int, int] = URBAN_BAND,
    locked: Iterable[str] = (),
    barriers: Sequence[Any] = (),
    used_serials: Sequence[int] = (),
) -> Plan:
    """A plan for one community: ``grids`` (``code``; the current polygons) and
    ``buildings`` (``id``, ``households``, ``grid_code``; optional ``compound`` and
    ``hamlet``; footprints or points). ``frame`` is the community's boundary (default: the
    union of its grids); ``barriers`` are lines (EPSG:4490) no grid may straddle;
    ``locked`` grids keep their buildings; ``used_serials`` are every serial the community
    has ever issued, so that retired codes are never reissued."""
    _check(grids, buildings, band)
    codes = [str(c) for c in grids["code"]]
    index = {c: i for i, c in enumerate(codes)}
    bm = buildings.to_crs(METRIC)
    grid_geoms = grids.to_crs(STORAGE).geometry.to_numpy()
    frame_s = shapely.coverage_union_all(grid_geoms) if frame is None else frame
    points = shapely.point_on_surface(buildings.to_crs(STORAGE).geometry.to_numpy())
    b_grid = _grid_of_buildings(buildings, grid_geoms, points, index)
    hh = pd.to_numeric(buildings["households"]).astype(np.int64).to_numpy()
    fwd, back = transformer(STORAGE, METRIC), transformer(METRIC, STORAGE)
    graph = build_graph(
        frame_s, grid_geoms, points, b_grid, hh, list(barriers),
        metric_xy=shapely.get_coordinates(shapely.point_on_surface(bm.geometry.to_numpy())),
        to_metric=lambda g: shapely.transform(g, lambda c: np.column_stack(fwd.transform(c[:, 0], c[:, 1]))),
        from_metric=lambda g: shapely.transform(g, lambda c: np.column_stack(back.transform(c[:, 0], c[:, 1]))),
    )  # fmt: skip
    locked_idx = {index[c] for c in locked if c in index}
    empty_grids = {graph.grid[s] for s in graph.empty}
    problem = Problem(
        households=graph.households,
        neighbours=graph.neighbours,
        start=graph.grid,
        low=band[0],
        high=band[1],
        locked=frozenset(locked_idx | empty_grids),
        fixed=frozenset(graph.empty),
    )
    solution = solve(problem)
    site_label = np.asarray(solution.labels, dtype=np.int64)
    b_label = site_label[graph.building_site]
    polys = _polygons(graph, site_label)
    labels = sorted(polys)
    from_codes = [codes[g] for g in b_grid.tolist()]
    # empty grids stay as they are: give them their own code by one phantom building
    match = inherit_by_households(
        [*b_label.tolist(), *empty_grids], [*from_codes, *(codes[g] for g in empty_grids)],
        [*hh.tolist(), *(0 for _ in empty_grids)],
    )  # fmt: skip
    final = _final_codes(community_code, labels, polys, match, used_serials)
    grid_hh = {lab: int(hh[b_label == lab].sum()) for lab in labels}
    out = gpd.GeoDataFrame(
        {
            "code": [final[lab] for lab in labels],
            "community_code": community_code,
            "households": [grid_hh[lab] for lab in labels],
            "status": ["kept" if lab in match else "new" for lab in labels],
        },
        geometry=[polys[lab] for lab in labels],
        crs=STORAGE,
    )
    out = out.sort_values("code", ignore_index=True)
    new_codes = [final[lab] for lab in b_label.tolist()]
    assignment = pd.DataFrame(
        {
            "id": buildings["id"].astype(str).to_numpy(),
            "community_code": community_code,
            "households": hh,
            "from_code": from_codes,
            "grid_code": new_codes,
        }
    )
    assignment["moved"] = assignment["from_code"] != assignment["grid_code"]
    retired = sorted(set(codes) - set(out["code"]))
    infeasible = [_rename(r, final) for r in solution.infeasible]
    if 0 < hh.sum() < band[0]:
        infeasible.append(f"community {community_code} has {int(hh.sum())} households in all, "
                          f"under the band's minimum of {band[0]}: one grid is the best it can do")  # fmt: skip
    return _finish(out, assignment, retired, infeasible, band, _splits(buildings, new_codes))


def _grid_of_buildings(
    buildings: gpd.GeoDataFrame, grid_geoms: Any, points: Any, index: Mapping[str, int]
) -> np.ndarray[Any, Any]:
    """Each building's current grid index: its ``grid_code``, else the grid it stands in
    (the nearest where it stands in none)."""
    out = np.array([index.get(str(c), -1) if isinstance(c, str) else -1
                    for c in buildings["grid_code"]], dtype=np.int64)  # fmt: skip
    lost = np.flatnonzero(out < 0)
    if len(lost):
        _, near = shapely.STRtree(grid_geoms).query_nearest(points[lost], all_matches=False)
        out[lost] = near
    return out


def _polygons(graph: Any, site_label: np.ndarray[Any, Any]) -> dict[int, Any]:
    owned = graph.face_site >= 0
    face_label = np.full(len(graph.atoms), -1, dtype=np.int64)
    face_label[owned] = site_label[graph.face_site[owned]]
    out: dict[int, Any] = {}
    for lab in np.unique(face_label[face_label >= 0]).tolist():
        out[lab] = dissolve(graph.atoms.faces[face_label == lab])
    return out


def _final_codes(
    community: str,
    labels: Sequence[int],
    polys: Mapping[int, Any],
    match: Mapping[int, str],
    used_serials: Sequence[int],
) -> dict[int, str]:
    out = {lab: match[lab] for lab in labels if lab in match}
    fresh = [lab for lab in labels if lab not in match]
    if fresh:
        pts = gpd.GeoSeries([shapely.point_on_surface(polys[lab]) for lab in fresh], crs=STORAGE)
        pm = pts.to_crs(METRIC)
        order = reading_order(list(zip(pm.x, pm.y, strict=True)))
        used = [*used_serials, *(int(c[-3:]) for c in match.values())]
        for serial, k in zip(next_serials(used, len(fresh)), order, strict=True):
            out[fresh[k]] = compose_grid_code(community, serial)
    return out


def _rename(reason: str, final: Mapping[int, str]) -> str:
    head, _, rest = reason.partition(":")
    if head.startswith("grid "):
        lab = int(head.removeprefix("grid "))
        return f"grid {final.get(lab, '?')}:{rest}"
    return reason


def _finish(
    grids: gpd.GeoDataFrame,
    assignment: pd.DataFrame,
    retired: list[str],
    infeasible: list[str],
    band: tuple[int, int],
    splits: tuple[int, int],
) -> Plan:
    rows = grid_table(grids, band[0], band[1], METRIC)
    figures = summary(
        rows,
        households_moved=int(assignment.loc[assignment["moved"], "households"].sum()),
        households_total=int(assignment["households"].sum()),
        compounds_split=splits[0],
        hamlets_split=splits[1],
        retired=retired,
    )
    return Plan(grids, assignment, retired, infeasible, band, rows, figures)


def _splits(buildings: pd.DataFrame, labels: Sequence[str]) -> tuple[int, int]:
    """(compounds, hamlets) whose buildings the plan puts in more than one grid."""

    def col(name: str) -> list[Any]:
        return buildings[name].tolist() if name in buildings else [None] * len(buildings)

    return split_count(col("compound"), labels), split_count(col("hamlet"), labels)


def combine(plans: Sequence[Plan], band: tuple[int, int]) -> Plan:
    """One plan from the plans of several communities (each solved on its own, so that a
    community line is never crossed)."""
    if not plans:
        raise InvalidInput("no community with grids to rebalance")
    if len(plans) == 1:
        return plans[0]
    grids = gpd.GeoDataFrame(pd.concat([p.grids for p in plans], ignore_index=True), crs=STORAGE)
    return _finish(
        grids,
        pd.concat([p.assignment for p in plans], ignore_index=True),
        sorted(c for p in plans for c in p.retired),
        [r for p in plans for r in p.infeasible],
        band,
        (sum(p.summary["compounds_split"] for p in plans),
         sum(p.summary["hamlets_split"] for p in plans)),
    )  # fmt: skip
