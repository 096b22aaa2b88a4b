"""Province-wide assembly: split the inputs by community, merge each, join the results."""

from __future__ import annotations

import logging
import multiprocessing
import statistics
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.codes import parse_division_code
from gridmap.errors import InvalidCRS, InvalidInput
from gridmap.merge.community import CommunityPart, CommunityTask, merge_community_arrays
from gridmap.merge.model import LAYERS, MEASURE_CRS, STORE_CRS, MergeOptions, MergeResult
from gridmap.merge.report import features_geojson

LOG = logging.getLogger(__name__)

KIND_OF_VILLAGE = {"community": "urban", "village": "rural", "special": "special"}


def _require(frame: gpd.GeoDataFrame, what: str, columns: Iterable[str]) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InvalidInput(f"{what} must be a GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        raise InvalidCRS(f"{what} has no CRS; set .crs (e.g. EPSG:4490) before merging")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{what} lacks column(s) {missing}; expected {list(columns)}")


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _rep_points(geoms: Any) -> Any:
    is_point = shapely.get_type_id(geoms) == 0
    return np.where(is_point, geoms, shapely.point_on_surface(geoms))


def merge_layers(
    communities: gpd.GeoDataFrame,
    legacy: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    options: MergeOptions | None = None,
) -> MergeResult:
    """Merge the party, governance and civil grid layers into one grid set per community.

    Returns the unified grids (a gap- and overlap-free coverage of every community, each
    building inside exactly one grid, footprints never cut), the building assignment, the
    crosswalk from every legacy grid and the QA report. The grids come back in the CRS of
    ``communities``. The strategy is set out in ``docs/merge.md``.

    >>> from gridmap.merge.synthetic import synthetic_layout
    >>> comm, leg, bld = synthetic_layout(seed=1, rows=1, cols=2)
    >>> result = merge_layers(comm, leg, bld)
    >>> bool(shapely.coverage_is_valid(result.grids.to_crs("EPSG:4551").geometry.values))
    True
    >>> len(result.assignment) == len(bld)
    True
    """
    opt = (options or MergeOptions()).validate()
    _require(communities, "communities", ("code", "name", "geometry"))
    _require(legacy, "legacy", ("layer", "source_code", "name", "community_code", "geometry"))
    _require(
        buildings,
        "buildings",
        ("building_id", "community_code", "households", "compound", "hamlet", "group_no"),
    )
    bad_layers = sorted(set(legacy["layer"].astype(str)) - set(LAYERS))
    if bad_layers:
        raise InvalidInput(f"legacy layer(s) {bad_layers} are not one of {list(LAYERS)}")
    if buildings["building_id"].duplicated().any():
        dup = buildings.loc[buildings["building_id"].duplicated(), "building_id"].iloc[0]
        raise InvalidInput(f"building_id {dup!r} occurs more than once; ids must be unique")
    out_crs = communities.crs

    comm = communities.to_crs(MEASURE_CRS).reset_index(drop=True)
    leg = legacy.to_crs(MEASURE_CRS).reset_index(drop=True)
    leg = leg[~(leg.geometry.isna() | leg.geometry.is_empty)].reset_index(drop=True)
    bld = buildings.to_crs(MEASURE_CRS).reset_index(drop=True)
    codes = [str(c) for c in comm["code"]]
    kinds = [KIND_OF_VILLAGE[parse_division_code(c).village_kind or "special"] for c in codes]
    frames = np.asarray(shapely.make_valid(comm.geometry.values), dtype=object)
    ctree = shapely.STRtree(frames)

    # legacy grids against the community frame
    lgeom = np.asarray(shapely.make_valid(leg.geometry.values), dtype=object)
    larea = np.asarray(shapely.area(lgeom), dtype=np.float64)
    li, ci = ctree.query(lgeom, predicate="intersects")
    within = shapely.within(lgeom[li], frames[ci])
    inter: Any = np.where(within, lgeom[li], None)
    cut = ~within
    inter[cut] = shapely.intersection(lgeom[li[cut]], frames[ci[cut]])
    inter_area = np.asarray(shapely.area(inter), dtype=np.float64)
    inter_perim = np.asarray(shapely.length(shapely.boundary(inter)), dtype=np.float64)
    inside = np.bincount(li, inter_area, minlength=len(leg))
    outside_area = np.clip(larea - inside, 0.0, None)
    outside_share = np.where(larea > 0, np.clip(outside_area / np.maximum(larea, 1e-12), 0, 1), 1.0)

    # buildings to their community: by code, else by position
    brep = np.asarray(_rep_points(np.asarray(bld.geometry.values, dtype=object)), dtype=object)
    index_of = {c: i for i, c in enumerate(codes)}
    bci = np.array(
        [index_of.get(_text(c) or "", -1) for c in bld["community_code"]], dtype=np.int64
    )
    lost = np.flatnonzero(bci < 0)
    if len(lost):
        src, hit = ctree.query(brep[lost], predicate="within")
        bci[lost[src[::-1]]] = hit[::-1]
        still = lost[bci[lost] < 0]
        if len(still):
            s2, h2 = ctree.query_nearest(brep[still], all_matches=False)
            bci[still[s2]] = h2

    hh_all = pd.to_numeric(bld["households"], errors="coerce").fillna(0).astype(np.int64).to_numpy()
    compound = [_text(x) for x in bld["compound"]]
    hamlet = [_text(x) for x in bld["hamlet"]]
    group_no = [_text(x) for x in bld["group_no"]]
    bgeom = np.asarray(bld.geometry.values, dtype=object)
    l_by_c = pd.Series(li).groupby(ci).groups
    b_by_c = pd.Series(np.arange(len(bld))).groupby(bci).groups
    llayer = leg["layer"].astype(str).tolist()
    lname = [_text(x) or str(s) for x, s in zip(leg["name"], leg["source_code"], strict=True)]
    tasks = []
    for c, code in enumerate(codes):
        lsel = np.sort(li[np.asarray(l_by_c.get(c, []), dtype=np.int64)])
        bsel = np.asarray(b_by_c.get(c, []), dtype=np.int64)
        tasks.append(
            CommunityTask(
                code=code,
                name=str(comm["name"].iloc[c]),
                kind=kinds[c],
                frame=frames[c],
                legacy_gidx=lsel,
                legacy_layer=[llayer[i] for i in lsel],
                legacy_name=[lname[i] for i in lsel],
                legacy_geom=lgeom[lsel],
                b_idx=bsel,
                b_households=hh_all[bsel],
                b_rep=brep[bsel],
                b_geom=bgeom[bsel],
                b_compound=[compound[i] for i in bsel],
                b_hamlet=[hamlet[i] for i in bsel],
                b_group=[group_no[i] for i in bsel],
                used=[int(s) for s in opt.used_serials.get(code, ())],
                options=opt,
            )
        )
    LOG.info(
        "merging %d communities, %d legacy grids, %d buildings", len(tasks), len(leg), len(bld)
    )
    parts = _run(tasks, opt.workers)
    return _assemble(
        parts,
        comm,
        leg,
        bld,
        out_crs,
        opt,
        outside_share,
        outside_area,
        li,
        ci,
        inter_area,
        inter_perim,
    )


def _run(tasks: list[CommunityTask], workers: int) -> list[CommunityPart]:
    if workers <= 1 or len(tasks) < 2:
        return [merge_community_arrays(t) for t in tasks]
    with multiprocessing.get_context().Pool(workers) as pool:
        return pool.map(
            merge_community_arrays, tasks, chunksize=max(1, len(tasks) // (workers * 8))
        )


def _assemble(
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
    stitched = _stitch([r[5] for r in grid_rows], [r[2] for r in grid_rows], opt.grid_size)
    grids = gpd.GeoDataFrame(
        pd.DataFrame(
            [r[:5] for r in grid_rows],
            columns=["code", "name", "community_code", "kind", "households"],
        ).astype({"households": "int64"}),
        geometry=stitched,
        crs=MEASURE_CRS,
    ).to_crs(out_crs)

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
    xw = xw.sort_values(["layer", "source_code", "grid_code"], kind="stable")
    crosswalk = xw[
        ["layer", "source_code", "grid_code", "area_share", "household_share"]
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
    for p, collection in zip(parts, features_geojson([p.features for p in parts]), strict=True):
        p.report["crossing"] = [
            c for c in crossing if p.code in {q["community_code"] for q in c["parts"]}
        ]
        p.report["features"] = collection
    legacy_outside = [
        {
            "layer": layer_of[i],
            "source_code": src[i],
            "outside_share": round(float(outside_share[i]), 6),
            "outside_area_m2": round(float(outside_area[i]), 1),
        }
        for i in np.flatnonzero(outside_area > 0.01).tolist()
    ]
    hh_all = grids["households"].tolist()
    stitched_geoms = np.asarray(stitched, dtype=object)
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
            "province_coverage_valid": bool(shapely.coverage_is_valid(stitched_geoms)),
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
        "legacy_outside": legacy_outside,
        "communities": [p.report for p in parts],
    }
    LOG.info("merged into %d grids", len(grids))
    return MergeResult(grids=grids, assignment=assignment, crosswalk=crosswalk, report=report)


def _stitch(geoms: list[Any], community: list[str], grid_size: float) -> Any:
    """Give grids on a community line the vertices the grids across it have there.

    Each community is noded on its own, so a line meeting the frame from one side adds a
    vertex the other side lacks, and both sides round to the grid on their own. Across
    each line the community with the higher code snaps to the lower one's vertices
    (within two grid steps: moved or inserted), and the lower one takes in only the
    higher one's vertices that are not near one of its own (inserted, nothing moves).
    A community whose own coverage this would break keeps its unstitched grids; the
    report's ``province_coverage_valid`` says whether the province is one coverage.
    """
    arr = np.asarray(geoms, dtype=object)
    if len(arr) < 2:
        return arr
    tol = 2 * grid_size
    comm = np.asarray(community, dtype=object)
    i, j = shapely.STRtree(arr).query(arr, predicate="dwithin", distance=tol)
    keep = i != j
    i, j = i[keep], j[keep]
    out = arr.copy()
    for k in np.unique(i[comm[i] != comm[j]]).tolist():
        nbrs = j[i == k]
        lower = nbrs[comm[nbrs] < comm[k]]
        higher = nbrs[comm[nbrs] > comm[k]]
        same = nbrs[comm[nbrs] == comm[k]]
        ref = [shapely.get_coordinates(arr[lower])]
        if len(higher):
            cand = np.unique(shapely.get_coordinates(arr[higher]), axis=0)
            own = shapely.multipoints(shapely.get_coordinates(arr[[k, *same.tolist()]]))
            fresh = ~shapely.dwithin(own, shapely.points(cand), tol)
            ref.append(cand[fresh])
        points = np.concatenate(ref)
        if len(points):
            out[k] = shapely.snap(arr[k], shapely.multipoints(points), tol)
    for code in np.unique(comm[np.unique(i)]).tolist():
        sel = comm == code
        if not (shapely.is_valid(out[sel]).all() and shapely.coverage_is_valid(out[sel])):
            LOG.warning("community %s: stitching to its neighbours skipped", code)
            out[sel] = arr[sel]
    return out


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
        declared = _text(leg["community_code"].iloc[g])
        main = max(parts, key=lambda q: q["area_m2"])["community_code"]
        out.append(
            {
                "layer": str(leg["layer"].iloc[g]),
                "source_code": str(leg["source_code"].iloc[g]),
                "name": str(leg["name"].iloc[g]),
                "declared_community": declared,
                "main_community": main,
                "parts": parts,
                "resolution": "split at the community line; each part went to the grids of "
                "its own community (parts below the sliver limits merged as slivers)",
            }
        )
    return out


def merge_community(
    communities: gpd.GeoDataFrame,
    legacy: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    code: str,
    options: MergeOptions | None = None,
) -> MergeResult:
    """Merge one community (社区/村) alone: the legacy grids touching it, its buildings.

    Buildings are those whose ``community_code`` is ``code``, or whose code is missing and
    whose position lies in the community.

    >>> from gridmap.merge.synthetic import synthetic_layout
    >>> comm, leg, bld = synthetic_layout(seed=2, rows=1, cols=2)
    >>> one = merge_community(comm, leg, bld, comm["code"].iloc[0])
    >>> sorted(set(one.grids["community_code"])) == [comm["code"].iloc[0]]
    True
    """
    sel = communities[communities["code"].astype(str) == code]
    if sel.empty:
        from gridmap.errors import UnknownDivision

        raise UnknownDivision(code)
    frame = sel.to_crs(legacy.crs).geometry.union_all()
    leg = legacy[legacy.intersects(frame)]
    bframe = sel.to_crs(buildings.crs).geometry.union_all()
    codes = buildings["community_code"].map(_text)
    bld = buildings[(codes == code) | (codes.isna() & buildings.intersects(bframe))]
    return merge_layers(sel, leg, bld, options)


__all__ = ["STORE_CRS", "merge_community", "merge_layers"]
