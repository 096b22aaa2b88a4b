"""Province-wide assembly of the per-community results: grids, assignment, crosswalk, report."""

from __future__ import annotations

import logging
import statistics
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmap.merge.frame import stitch_communities
from gridmap.merge.model import LAYERS, MergeOptions, MergeResult
from gridmap.merge.report import coverage_check, features_geojson

if TYPE_CHECKING:
    from gridmap.merge.community import CommunityPart

LOG = logging.getLogger(__name__)


def text_or_none(value: Any) -> str | None:
    """The stripped text of a cell, None for null, NaN or blank."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def assemble(
    parts: list[CommunityPart],
    comm: gpd.GeoDataFrame,
    leg: gpd.GeoDataFrame,
    bld: gpd.GeoDataFrame,
    out_crs: Any,
    opt: MergeOptions,
    outside_share: Any,
    outside_area: Any,
    li: Any,
    ci: Any,
    inter_area: Any,
    inter_perim: Any,
) -> MergeResult:
    kinds = {p.code: p.report["kind"] for p in parts}
    grid_rows = [
        (code, name, p.code, kinds[p.code], h, geom)
        for p in parts
        for code, name, h, geom in zip(
            p.grid_code, p.grid_name, p.grid_households, p.grid_geom, strict=True
        )
    ]
    # each community came back fitted to its frame: across community lines, one coverage
    stitched = stitch_communities([r[5] for r in grid_rows], [r[2] for r in grid_rows], out_crs)
    grids = gpd.GeoDataFrame(
        pd.DataFrame(
            [r[:5] for r in grid_rows],
            columns=["code", "name", "community_code", "kind", "households"],
        ).astype({"households": "int64"}),
        geometry=stitched,
        crs=out_crs,
    )

    coverage = _coverage(grids, parts)

    final = np.empty(len(bld), dtype=object)
    for p in parts:
        final[p.assign_idx] = p.assign_code
    assignment = pd.DataFrame({"building_id": bld["building_id"].to_numpy(), "grid_code": final})

    area_df = pd.DataFrame(
        [r for p in parts for r in p.xwalk_area], columns=["gidx", "grid_code", "area"]
    )
    hh_df = pd.DataFrame(
        [r for p in parts for r in p.xwalk_households], columns=["gidx", "grid_code", "hh"]
    )
    xw = area_df.merge(hh_df, on=["gidx", "grid_code"], how="outer").fillna({"area": 0.0, "hh": 0})
    tot_area = xw.groupby("gidx")["area"].transform("sum")
    tot_hh = xw.groupby("gidx")["hh"].transform("sum")
    inside_share = 1.0 - outside_share[xw["gidx"].to_numpy(dtype=np.int64)]
    xw["area_share"] = np.where(
        tot_area > 0, xw["area"] / tot_area.where(tot_area > 0, 1) * inside_share, 0.0
    )
    xw["household_share"] = np.where(tot_hh > 0, xw["hh"] / tot_hh.where(tot_hh > 0, 1), np.nan)
    gidx = xw["gidx"].to_numpy(dtype=np.int64)
    xw["layer"] = leg["layer"].astype(str).to_numpy()[gidx]
    xw["source_code"] = leg["source_code"].astype(str).to_numpy()[gidx]
    xw["legacy_index"] = leg["legacy_index"].to_numpy()[gidx]
    xw = xw.sort_values(["layer", "source_code", "gidx", "grid_code"], kind="stable")
    crosswalk = xw[
        ["layer", "source_code", "legacy_index", "grid_code", "area_share", "household_share"]
    ].reset_index(drop=True)
    successor: dict[Any, Any] = (
        xw.sort_values(["gidx", "area", "grid_code"], ascending=[True, False, True])
        .drop_duplicates("gidx")
        .set_index("gidx")["grid_code"]
        .to_dict()
    )

    bids = bld["building_id"].astype(str).to_numpy()
    src = leg["source_code"].astype(str).tolist()
    layer_of = leg["layer"].astype(str).tolist()
    overall_changed: dict[str, int] = {}
    for p in parts:
        changed: dict[str, Any] = {}
        for layer, gl in p.building_legacy.items():
            succ = np.array([successor.get(int(g), "") if g >= 0 else "" for g in gl], dtype=object)
            moved = np.flatnonzero(succ != np.asarray(p.assign_code, dtype=object))
            ids = sorted(bids[p.assign_idx[moved]].tolist())
            changed[layer] = {"count": len(ids), "building_ids": ids}
            overall_changed[layer] = overall_changed.get(layer, 0) + len(ids)
        p.report["buildings_changed"] = changed
        p.report["buildings_crossing_frame"] = sorted(bids[p.b_cross_frame].tolist())
        p.report["buildings_outside_frame"] = sorted(bids[p.b_outside_frame].tolist())

    crossing = _crossing(leg, comm, li, ci, inter_area, inter_perim, xw, opt)
    crossing_of: dict[str, list[dict[str, Any]]] = {}
    for c in crossing:
        for code in dict.fromkeys(q["community_code"] for q in c["parts"]):
            crossing_of.setdefault(code, []).append(c)
    for p, collection in zip(parts, features_geojson([p.features for p in parts]), strict=True):
        p.report["crossing"] = crossing_of.get(p.code, [])
        p.report["features"] = collection
    legacy_index = leg["legacy_index"].tolist()
    legacy_outside = [
        {
            "layer": layer_of[i],
            "source_code": src[i],
            "legacy_index": legacy_index[i],
            "outside_share": round(float(outside_share[i]), 6),
            "outside_area_m2": round(float(outside_area[i]), 1),
        }
        for i in np.flatnonzero(outside_area > 0.01).tolist()
    ]
    hh_all = grids["households"].tolist()
    report: dict[str, Any] = {
        "options": {
            "snap_tolerance_m": opt.snap_tolerance,
            "sliver_area_m2": opt.sliver_area,
            "sliver_width_m": opt.sliver_width,
            "households_min": opt.households_min,
            "households_max": opt.households_max,
            "layer_priority": list(opt.layer_priority),
        },
        "overall": {
            "communities": len(parts),
            "province_coverage_valid": coverage["valid"],
            "legacy_grids": {layer: int((leg["layer"] == layer).sum()) for layer in LAYERS},
            "grids": len(grids),
            "buildings": len(bld),
            "households": {
                "total": int(sum(hh_all)),
                "min": int(min(hh_all)) if hh_all else 0,
                "median": float(statistics.median(hh_all)) if hh_all else 0.0,
                "max": int(max(hh_all)) if hh_all else 0,
            },
            "gaps": _sum_legacy(parts, "gaps"),
            "overlaps": _sum_legacy(parts, "overlaps"),
            "slivers_removed": {
                "count": sum(p.report["slivers_removed"]["count"] for p in parts),
                "area_m2": round(sum(p.report["slivers_removed"]["area_m2"] for p in parts), 1),
            },
            "out_of_range": sum(len(p.report["out_of_range"]) for p in parts),
            "crossing": len(crossing),
            "buildings_changed": overall_changed,
        },
        "crossing": crossing,
        "coverage": coverage,
        "legacy_outside": legacy_outside,
        "communities": [p.report for p in parts],
    }
    LOG.info("merged into %d grids", len(grids))
    return MergeResult(grids=grids, assignment=assignment, crosswalk=crosswalk, report=report)


def _coverage(grids: gpd.GeoDataFrame, parts: list[CommunityPart]) -> dict[str, Any]:
    """The whole area's coverage check, its findings added to their communities' parts."""
    summary, features = coverage_check(grids)
    part_of = {p.code: p for p in parts}
    for community, feature in features:
        part_of[community].features.append(feature)
    return summary


def _sum_legacy(parts: list[CommunityPart], what: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for p in parts:
        for layer, entry in p.report["legacy"].items():
            acc = out.setdefault(layer, {"count": 0, "area_m2": 0.0})
            acc["count"] += entry[what]["count"]
            acc["area_m2"] = round(acc["area_m2"] + entry[what]["area_m2"], 1)
    return out


def _crossing(
    leg: gpd.GeoDataFrame,
    comm: gpd.GeoDataFrame,
    li: Any,
    ci: Any,
    inter_area: Any,
    inter_perim: Any,
    xw: pd.DataFrame,
    opt: MergeOptions,
) -> list[dict[str, Any]]:
    """Legacy grids with a real (non-sliver) part in more than one community."""
    width = np.where(inter_perim > 0, 2 * inter_area / np.maximum(inter_perim, 1e-9), 0.0)
    real = (inter_area >= opt.sliver_area) & (width >= opt.sliver_width)
    n_real = np.bincount(li[real], minlength=len(leg))
    codes = comm["code"].astype(str).to_numpy()
    legacy_index = leg["legacy_index"].tolist()
    out = []
    by_g = xw.groupby("gidx")
    for g in np.flatnonzero(n_real >= 2).tolist():
        rows = by_g.get_group(g) if g in by_g.groups else xw.iloc[0:0]
        parts: list[dict[str, Any]] = []
        for k in np.flatnonzero(li == g).tolist():
            code = str(codes[ci[k]])
            mine = rows[rows["grid_code"].str.startswith(code)]
            parts.append(
                {
                    "community_code": code,
                    "area_m2": round(float(inter_area[k]), 1),
                    "kept": bool(real[k]),
                    "grids": {
                        str(c): round(float(s), 4)
                        for c, s in zip(mine["grid_code"], mine["area_share"], strict=True)
                    },
                }
            )
        declared = text_or_none(leg["community_code"].iloc[g])
        main = max(parts, key=lambda q: q["area_m2"])["community_code"]
        out.append(
            {
                "layer": str(leg["layer"].iloc[g]),
                "source_code": str(leg["source_code"].iloc[g]),
                "legacy_index": legacy_index[g],
                "name": str(leg["name"].iloc[g]),
                "declared_community": declared,
                "main_community": main,
                "parts": parts,
                "resolution": "split at the community line; each part went to the grids of "
                "its own community (parts below the sliver limits merged as slivers)",
            }
        )
    return out
