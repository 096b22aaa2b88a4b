"""Province-wide assembly: split the inputs by community, merge each, join the results."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.codes import parse_division_code
from gridmap.errors import InvalidCRS, InvalidInput, UnknownDivision
from gridmap.merge.assemble import assemble, text_or_none
from gridmap.merge.community import CommunityPart, CommunityTask, merge_community_arrays
from gridmap.merge.model import LAYERS, MEASURE_CRS, STORE_CRS, MergeOptions, MergeResult

LOG = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

KIND_OF_VILLAGE = {"community": "urban", "village": "rural", "special": "special"}


def _require(frame: gpd.GeoDataFrame, what: str, columns: Iterable[str]) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InvalidInput(f"{what} must be a GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        raise InvalidCRS(f"{what} has no CRS; set .crs (e.g. EPSG:4490) before merging")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{what} lacks column(s) {missing}; expected {list(columns)}")


def _rep_points(geoms: Any) -> Any:
    is_point = shapely.get_type_id(geoms) == 0
    return np.where(is_point, geoms, shapely.point_on_surface(geoms))


def merge_layers(
    communities: gpd.GeoDataFrame,
    legacy: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    options: MergeOptions | None = None,
    progress: Progress | None = None,
) -> MergeResult:
    """Merge the party, governance and civil grid layers into one grid set per community.

    ``progress(done, total)`` is called as each community is merged.

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

    # the merge's own steps (snapping, noding) work on the frames without the points the
    # import put on long straight edges (collinear, so dropping them changes nothing there
    # and spares every step their cost); the grids are fitted to the frames as given
    unit = 1e-10 if communities.crs.is_geographic else 1e-5
    plain = communities.set_geometry(
        shapely.simplify(np.asarray(communities.geometry.values, dtype=object), unit)
    )
    comm = plain.to_crs(MEASURE_CRS).reset_index(drop=True)
    leg = legacy.to_crs(MEASURE_CRS)
    leg["legacy_index"] = [x.item() if isinstance(x, np.generic) else x for x in legacy.index]
    leg = leg.reset_index(drop=True)
    leg = leg[~(leg.geometry.isna() | leg.geometry.is_empty)].reset_index(drop=True)
    bld = buildings.to_crs(MEASURE_CRS).reset_index(drop=True)
    codes = [str(c) for c in comm["code"]]
    kinds = [KIND_OF_VILLAGE[parse_division_code(c).village_kind or "special"] for c in codes]
    frames = np.asarray(shapely.make_valid(comm.geometry.values), dtype=object)
    ctree = shapely.STRtree(frames)
    exact = np.asarray(shapely.make_valid(communities.geometry.values), dtype=object)

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
        [index_of.get(text_or_none(c) or "", -1) for c in bld["community_code"]], dtype=np.int64
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
    compound = [text_or_none(x) for x in bld["compound"]]
    hamlet = [text_or_none(x) for x in bld["hamlet"]]
    group_no = [text_or_none(x) for x in bld["group_no"]]
    bgeom = np.asarray(bld.geometry.values, dtype=object)
    l_by_c = pd.Series(li).groupby(ci).groups
    b_by_c = pd.Series(np.arange(len(bld))).groupby(bci).groups
    llayer = leg["layer"].astype(str).tolist()
    lname = [
        text_or_none(x) or str(s) for x, s in zip(leg["name"], leg["source_code"], strict=True)
    ]
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
                frame_out=exact[c],
                out_crs=out_crs.to_wkt(),
            )
        )
    LOG.info(
        "merging %d communities, %d legacy grids, %d buildings", len(tasks), len(leg), len(bld)
    )
    parts = _run(tasks, opt.workers, progress)
    return assemble(
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


def _run(
    tasks: list[CommunityTask], workers: int, progress: Progress | None = None
) -> list[CommunityPart]:
    n = len(tasks)
    if workers <= 1 or n < 2:
        parts = []
        for i, task in enumerate(tasks):
            parts.append(merge_community_arrays(task))
            if progress:
                progress(i + 1, n)
        return parts
    with multiprocessing.get_context().Pool(workers) as pool:
        results = pool.imap(merge_community_arrays, tasks, chunksize=max(1, n // (workers * 8)))
        parts = []
        for i, part in enumerate(results):
            parts.append(part)
            if progress:
                progress(i + 1, n)
        return parts


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
        raise UnknownDivision(code)
    frame = sel.to_crs(legacy.crs).geometry.union_all()
    leg = legacy[legacy.intersects(frame)]
    bframe = sel.to_crs(buildings.crs).geometry.union_all()
    codes = buildings["community_code"].map(text_or_none)
    bld = buildings[(codes == code) | (codes.isna() & buildings.intersects(bframe))]
    return merge_layers(sel, leg, bld, options)


__all__ = ["STORE_CRS", "merge_community", "merge_layers"]
