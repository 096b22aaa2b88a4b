"""The merge of one community (社区/村): legacy layers -> one coverage of unified grids.

Works in EPSG:4551 metres on plain arrays, so a worker process can run it alone.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from gridmap.codes import compose_grid_code, next_serials, reading_order
from gridmap.merge.atoms import Geoms, Ints, build_atoms, dissolve
from gridmap.merge.households import bisect, merge_small, parts_needed
from gridmap.merge.labels import base_labels, layer_claims, layer_defects, snap_layers
from gridmap.merge.model import Feature, MergeOptions
from gridmap.merge.territory import clusters, hamlet_keys, territory_lines, unit_keys


@dataclass
class CommunityTask:
    """Everything one community's merge needs, in EPSG:4551."""

    code: str
    name: str
    kind: str
    frame: Any
    legacy_gidx: Ints
    legacy_layer: list[str]
    legacy_name: list[str]
    legacy_geom: Geoms
    b_idx: Ints
    b_households: Ints
    b_rep: Geoms
    b_geom: Geoms
    b_compound: list[str | None]
    b_hamlet: list[str | None]
    b_group: list[str | None]
    used: list[int]
    options: MergeOptions


@dataclass
class CommunityPart:
    """What one community's merge gives back for the province-wide assembly."""

    code: str
    grid_code: list[str]
    grid_name: list[str]
    grid_households: list[int]
    grid_geom: list[Any]
    assign_idx: Ints
    assign_code: list[str]
    #: per layer, the global legacy index of the grid each building was in (-1: none)
    building_legacy: dict[str, Ints]
    #: rows (legacy global index, grid code, area m² / households)
    xwalk_area: list[tuple[int, str, float]]
    xwalk_households: list[tuple[int, str, int]]
    report: dict[str, Any]
    features: list[Feature] = field(default_factory=list)
    #: global indices of buildings whose footprint crosses the frame / whose point is outside
    b_cross_frame: list[int] = field(default_factory=list)
    b_outside_frame: list[int] = field(default_factory=list)


def merge_community_arrays(task: CommunityTask) -> CommunityPart:
    """Merge the legacy grids of one community into unified grids (see docs/merge.md)."""
    opt = task.options
    frame = task.frame
    order_layers = [*opt.layer_priority, *sorted(set(task.legacy_layer) - set(opt.layer_priority))]
    rank = {layer: i for i, layer in enumerate(order_layers)}
    nl = len(task.legacy_gidx)
    leg_rank = np.array([rank[x] for x in task.legacy_layer], dtype=np.int64)

    # 1-4. snap, atoms, layer defects, owner by priority, gaps, slivers
    snapped = snap_layers(task.legacy_geom, leg_rank, len(order_layers), frame, opt.snap_tolerance)
    atoms = build_atoms(frame, shapely.boundary(snapped) if nl else [], opt.grid_size)
    na = len(atoms)
    claims, p_atom, p_leg = layer_claims(atoms, snapped, leg_rank, len(order_layers))
    report: dict[str, Any] = {"code": task.code, "name": task.name, "kind": task.kind}
    report["legacy"], features = layer_defects(atoms, claims, order_layers, leg_rank)
    label, steps, more = base_labels(atoms, claims, nl, opt)
    report.update(steps)
    features += more

    # 5. buildings onto base grids, then household rules (urban) or hamlets (rural)
    nb = len(task.b_idx)
    loc = atoms.locate(task.b_rep) if nb else np.zeros(0, dtype=np.int64)
    base = label[loc] if na else np.zeros(nb, dtype=np.int64)
    cluster, main = clusters(task.b_geom, task.b_households)
    base = base[main]
    xy = shapely.get_coordinates(task.b_rep) if nb else np.zeros((0, 2))
    hh = task.b_households
    reasons: dict[Any, str] = {}

    pairs: dict[tuple[int, int], float] = {}
    diff = label[atoms.adj_i] != label[atoms.adj_j]
    for a, b, length in zip(
        label[atoms.adj_i[diff]].tolist(),
        label[atoms.adj_j[diff]].tolist(),
        atoms.adj_len[diff].tolist(),
        strict=True,
    ):
        key = (min(a, b), max(a, b))
        pairs[key] = pairs.get(key, 0.0) + length
    labels_present = sorted(set(label.tolist()))
    base_hh = {lab: 0 for lab in labels_present}
    for lab, h in zip(base.tolist(), hh.tolist(), strict=True):
        base_hh[lab] = base_hh.get(lab, 0) + int(h)

    group = np.zeros(nb, dtype=np.int64)
    split_labels: set[int] = set()
    territory: list[Any] = []
    rural_keys: list[str] | None = None
    if task.kind == "urban":
        root = merge_small(base_hh, pairs, opt.households_min, opt.households_max)
        label = np.array([root[x] for x in label.tolist()], dtype=np.int64)
        base = np.array([root[x] for x in base.tolist()], dtype=np.int64)
        keys = unit_keys(task.b_compound, cluster, main)
        for lab in sorted(set(base.tolist())):
            sel = np.flatnonzero(base == lab)
            total = int(hh[sel].sum())
            k = parts_needed(total, opt.households_min, opt.households_max)
            if k is None:
                reasons[("L", lab)] = (
                    f"{total} households cannot split into grids of "
                    f"{opt.households_min}-{opt.households_max}"
                )
                continue
            if k == 1:
                continue
            ukeys, uinv = np.unique(np.array([keys[i] for i in sel]), return_inverse=True)
            uxy = np.zeros((len(ukeys), 2))
            np.add.at(uxy, uinv, xy[sel])
            uxy /= np.bincount(uinv)[:, None]
            uhh = np.bincount(uinv, hh[sel]).astype(np.int64)
            group[sel] = bisect(uxy, uhh, k)[uinv]
            split_labels.add(lab)
            region = dissolve(atoms.faces[label == lab])
            territory += territory_lines(region, xy[sel], group[sel])
    elif task.kind == "rural" and nb:
        raw = hamlet_keys(task.b_hamlet, task.b_group)
        known = np.array([k is not None for k in raw])
        if known.any():
            kidx = np.flatnonzero(known)
            _, near = shapely.STRtree(task.b_rep[kidx]).query_nearest(task.b_rep, all_matches=False)
            rural_keys = [
                str(raw[i] if raw[i] is not None else raw[kidx[n]])
                for i, n in enumerate(near.tolist())
            ]
            _, group_arr = np.unique(np.array(rural_keys), return_inverse=True)
            group = group_arr.astype(np.int64)[main]
            territory += territory_lines(frame, xy, group)
        else:
            reasons["rural"] = "no hamlet or villager group on any building; legacy grids kept"

    def final_key(lab: int, g: int) -> tuple[int, int]:
        if rural_keys is not None:
            return (-1, g)
        return (lab, g if lab in split_labels else 0)

    b_key = [final_key(lab, g) for lab, g in zip(base.tolist(), group.tolist(), strict=True)]

    # 6. atoms again, with the split lines and the footprints those lines cross
    base_polys = [dissolve(atoms.faces[label == lab]) for lab in sorted(set(label.tolist()))]
    is_poly = np.isin(shapely.get_type_id(task.b_geom), (3, 6)) if nb else np.zeros(0, bool)
    fp_idx = np.flatnonzero(is_poly)
    if len(fp_idx):
        probe = _line_parts_list(
            [*shapely.boundary(np.asarray(base_polys, dtype=object)), *territory]
        )
        hit = shapely.STRtree(task.b_geom[fp_idx]).query(probe, predicate="intersects")[1]
        shared = np.bincount(cluster, minlength=nb)[cluster] > 1
        fp_idx = np.union1d(fp_idx[np.unique(hit)], fp_idx[shared[fp_idx]])
    atoms2 = build_atoms(
        frame,
        [atoms.lines, *territory, *shapely.boundary(task.b_geom[fp_idx])],
        opt.grid_size,
        adjacency=False,
    )
    a1 = atoms.locate(atoms2.reps)
    lab2 = label[a1]
    keys2: list[tuple[int, int] | None] = [None] * len(atoms2)
    if len(fp_idx):
        s, f = shapely.STRtree(task.b_geom[fp_idx]).query(atoms2.reps, predicate="within")
        for si, fi in zip(s.tolist(), f.tolist(), strict=True):
            if keys2[si] is None:
                keys2[si] = b_key[fp_idx[fi]]
    if rural_keys is not None or split_labels:
        scope = [None] if rural_keys is not None else sorted(split_labels)
        for lab in scope:
            bsel = np.arange(nb) if lab is None else np.flatnonzero(base == lab)
            asel = [
                i
                for i in range(len(atoms2))
                if keys2[i] is None and (lab is None or lab2[i] == lab)
            ]
            if not asel or not len(bsel):
                continue
            _, near = shapely.STRtree(task.b_rep[bsel]).query_nearest(
                atoms2.reps[asel], all_matches=False
            )
            for i, n in zip(asel, near.tolist(), strict=True):
                keys2[i] = b_key[bsel[n]]
    for i in range(len(atoms2)):
        if keys2[i] is None:
            keys2[i] = final_key(int(lab2[i]), 0)

    # 7. dissolve, number in reading order, name
    uniq_keys = sorted({k for k in keys2 if k is not None})
    key_index = {k: i for i, k in enumerate(uniq_keys)}
    akey = np.array([key_index[k] for k in keys2 if k is not None], dtype=np.int64)
    polys = [dissolve(atoms2.faces[akey == i]) for i in range(len(uniq_keys))]
    b_final = np.array([key_index.get(k, -1) for k in b_key], dtype=np.int64)
    lost = np.flatnonzero(b_final < 0)
    if len(lost):
        b_final[lost] = akey[atoms2.locate(task.b_rep[lost])]
    reps = shapely.get_coordinates(shapely.point_on_surface(np.asarray(polys, dtype=object)))
    order = reading_order([(float(x), float(y)) for x, y in reps])
    serials = next_serials(task.used, len(polys))
    codes = [""] * len(polys)
    for pos, i in enumerate(order):
        codes[i] = compose_grid_code(task.code, serials[pos])
    names = []
    for lab, g in uniq_keys:
        if rural_keys is not None:
            names.append(sorted(set(rural_keys))[g])
        elif 0 <= lab < nl:
            suffix = f"-{g + 1}" if lab in split_labels else ""
            names.append(f"{task.legacy_name[lab]}{suffix}")
        else:
            names.append(f"{task.name}网格")
    grid_hh = np.bincount(b_final, hh, minlength=len(polys)).astype(np.int64)

    # 8. crosswalk rows, building legacy membership, household figures
    pa1 = np.asarray(p_atom, dtype=np.int64)
    pleg = np.asarray(p_leg, dtype=np.int64)
    by_atom1: dict[int, list[int]] = {}
    for a, g in zip(pa1.tolist(), pleg.tolist(), strict=True):
        by_atom1.setdefault(a, []).append(g)
    area_rows: dict[tuple[int, str], float] = {}
    for i, (a, ar) in enumerate(zip(a1.tolist(), atoms2.area.tolist(), strict=True)):
        for g in by_atom1.get(a, ()):
            k2 = (int(task.legacy_gidx[g]), codes[akey[i]])
            area_rows[k2] = area_rows.get(k2, 0.0) + ar
    hh_rows: dict[tuple[int, str], int] = {}
    building_legacy = {layer: np.full(nb, -1, dtype=np.int64) for layer in order_layers}
    for bi, a in enumerate(loc.tolist()):
        for g in by_atom1.get(a, ()):
            k2 = (int(task.legacy_gidx[g]), codes[b_final[bi]])
            hh_rows[k2] = hh_rows.get(k2, 0) + int(hh[bi])
        for r, layer in enumerate(order_layers):
            if claims[a][r]:
                building_legacy[layer][bi] = task.legacy_gidx[claims[a][r][0]]

    out_of_range = []
    if task.kind == "urban":
        for i, h in enumerate(grid_hh.tolist()):
            if opt.households_min <= h <= opt.households_max:
                continue
            lab, g = uniq_keys[i]
            reason = reasons.get(("L", lab))
            if reason is None and h < opt.households_min:
                reason = (
                    "a part of a split grid: compounds could not be balanced"
                    if lab in split_labels
                    else f"no neighbour can absorb it within {opt.households_max} households"
                )
            if reason is None:
                reason = "a compound or building too large to balance by whole units"
            out_of_range.append({"grid_code": codes[i], "households": h, "reason": reason})
    hh_list = grid_hh.tolist()
    report.update(
        {
            "grids": len(polys),
            "buildings": nb,
            "households": {
                "total": int(sum(hh_list)),
                "min": int(min(hh_list)) if hh_list else 0,
                "median": float(statistics.median(hh_list)) if hh_list else 0.0,
                "max": int(max(hh_list)) if hh_list else 0,
            },
            "out_of_range": sorted(out_of_range, key=lambda x: x["grid_code"]),
            "notes": [reasons["rural"]] if "rural" in reasons else [],
        }
    )
    shapely.prepare(frame)
    outside = ~shapely.contains(frame, task.b_rep) if nb else np.zeros(0, dtype=bool)
    crosses = is_poly & ~outside
    crosses[crosses] = ~shapely.covers(frame, task.b_geom[crosses])
    return CommunityPart(
        b_cross_frame=task.b_idx[crosses].tolist(),
        b_outside_frame=task.b_idx[outside].tolist(),
        code=task.code,
        grid_code=codes,
        grid_name=names,
        grid_households=[int(x) for x in hh_list],
        grid_geom=polys,
        assign_idx=task.b_idx,
        assign_code=[codes[i] for i in b_final.tolist()],
        building_legacy=building_legacy,
        xwalk_area=[(g, c, a) for (g, c), a in area_rows.items()],
        xwalk_households=[(g, c, h) for (g, c), h in hh_rows.items()],
        report=report,
        features=features,
    )


def _line_parts_list(geoms: Sequence[Any]) -> Any:
    arr = np.asarray([g for g in geoms if g is not None], dtype=object)
    if len(arr) == 0:
        return arr
    return shapely.get_parts(arr[~shapely.is_empty(arr)])
