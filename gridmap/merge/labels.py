"""Base grids from the legacy layers: snap, find gaps and overlaps, resolve them, drop slivers.

All of it labels the atoms (faces) of one community; see :mod:`gridmap.merge.atoms`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from gridmap.merge.atoms import (
    Atoms,
    Geoms,
    Ints,
    components,
    dissolve,
    label_components,
    shared_lengths,
)
from gridmap.merge.model import Feature, MergeOptions


def _polygonal(geoms: Geoms) -> Geoms:
    """Keep the polygonal part of each geometry (snapping can leave lines behind)."""
    out = np.asarray(shapely.make_valid(geoms), dtype=object)
    types = shapely.get_type_id(out)
    for i in np.flatnonzero(~np.isin(types, (3, 6))):
        parts = shapely.get_parts(out[i])
        polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        out[i] = shapely.union_all(polys) if len(polys) else shapely.Polygon()
    return out


def snap(geoms: Geoms, ref_parts: list[Any], tol: float) -> Geoms:
    """Snap ``geoms`` onto the reference lines within ``tol``.

    ``shapely.snap`` only moves vertices onto reference *vertices*, so the reference is
    given the feet of the perpendiculars from nearby vertices too: a grid corner 6 m short
    of a frame edge lands on the edge, not on the frame's next corner.
    """
    lines = shapely.multilinestrings(shapely.get_parts(np.asarray(ref_parts, dtype=object)))
    pts = shapely.points(shapely.get_coordinates(geoms))
    feet: Any = shapely.get_point(shapely.shortest_line(pts, lines), 1)
    near = shapely.distance(pts, feet) <= tol
    anchors = np.concatenate([shapely.get_coordinates(lines), shapely.get_coordinates(feet[near])])
    ref = shapely.multipoints(anchors)
    return _polygonal(shapely.snap(geoms, ref, tol))


def is_sliver(area: Any, perimeter: Any, opt: MergeOptions) -> Any:
    width = np.where(perimeter > 0, 2 * area / np.maximum(perimeter, 1e-9), 0.0)
    return (area < opt.sliver_area) | (width < opt.sliver_width)


def in_set_components(atoms: Atoms, member: Any) -> tuple[Ints, int]:
    """Component ids (-1 outside ``member``) of the atoms where ``member`` is true."""
    both = member[atoms.adj_i] & member[atoms.adj_j]
    comp = components(len(atoms), atoms.adj_i[both], atoms.adj_j[both])
    comp = np.where(member, comp, -1)
    ids = np.unique(comp[comp >= 0])
    remap = {int(c): k for k, c in enumerate(ids.tolist())}
    return np.array([remap.get(int(c), -1) for c in comp], dtype=np.int64), len(ids)


def snap_layers(geoms: Geoms, leg_rank: Ints, n_layers: int, frame: Any, tol: float) -> Geoms:
    """Snap each layer, in priority order, onto the frame and the layers above it."""
    snapped = np.empty(len(geoms), dtype=object)
    ref_parts: list[Any] = list(shapely.get_parts(shapely.boundary(frame)))
    for r in range(n_layers):
        sel = np.flatnonzero(leg_rank == r)
        if len(sel) == 0:
            continue
        snapped[sel] = snap(geoms[sel], ref_parts, tol)
        ref_parts.extend(shapely.get_parts(shapely.boundary(snapped[sel])))
    return snapped


def layer_claims(
    atoms: Atoms, snapped: Geoms, leg_rank: Ints, n_layers: int
) -> tuple[list[list[list[int]]], Ints, Ints]:
    """Per atom and layer, the legacy grids holding the atom; and the (atom, grid) pairs."""
    na = len(atoms)
    if len(snapped) and na:
        p_atom, p_leg = shapely.STRtree(snapped).query(atoms.reps, predicate="within")
    else:
        p_atom = p_leg = np.zeros(0, dtype=np.int64)
    claims: list[list[list[int]]] = [[[] for _ in range(n_layers)] for _ in range(na)]
    for a, g in sorted(zip(p_atom.tolist(), p_leg.tolist(), strict=True)):
        claims[a][leg_rank[g]].append(g)
    return claims, np.asarray(p_atom, dtype=np.int64), np.asarray(p_leg, dtype=np.int64)


def layer_defects(
    atoms: Atoms, claims: list[list[list[int]]], order_layers: list[str], leg_rank: Ints
) -> tuple[dict[str, Any], list[Feature]]:
    """Gaps and overlaps of each layer inside the frame: counts, areas and features."""
    features: list[Feature] = []
    legacy_stats: dict[str, Any] = {}
    for r, layer in enumerate(order_layers):
        count = np.array([len(c[r]) for c in claims], dtype=np.int64)
        entry: dict[str, Any] = {"grids": int(np.sum(leg_rank == r))}
        for what, member in (("gaps", count == 0), ("overlaps", count >= 2)):
            comp, ncomp = in_set_components(atoms, member)
            entry[what] = {"count": ncomp, "area_m2": round(float(atoms.area[member].sum()), 1)}
            for c in range(ncomp):
                m = comp == c
                features.append(
                    Feature(what[:-1], layer, dissolve(atoms.faces[m]), float(atoms.area[m].sum()))
                )
        legacy_stats[layer] = entry

    return legacy_stats, features


def base_labels(
    atoms: Atoms, claims: list[list[list[int]]], nl: int, opt: MergeOptions
) -> tuple[Ints, dict[str, Any], list[Feature]]:
    """Label each atom with a legacy grid (or a new label >= ``nl`` for an orphan gap).

    Layer priority first; an overlap inside the winning layer goes to the claimant sharing
    the longest edge with it, a gap to the neighbour sharing the longest edge, and then
    slivers to the neighbour sharing the longest edge.
    """
    na = len(atoms)
    report: dict[str, Any] = {}
    features: list[Feature] = []
    label = np.full(na, -1, dtype=np.int64)
    overlap_cands: dict[int, list[int]] = {}
    for a in range(na):
        for cands in claims[a]:
            if len(cands) == 1:
                label[a] = cands[0]
                break
            if cands:
                overlap_cands[a] = cands
                break
    pending = np.zeros(na, dtype=bool)
    pending[list(overlap_cands)] = True
    comp, ncomp = in_set_components(atoms, pending)
    resolved_area = 0.0
    for c in range(ncomp):
        members = np.flatnonzero(comp == c)
        cands = sorted({g for a in members.tolist() for g in overlap_cands[a]})
        lengths = shared_lengths(atoms, members, label)
        label[members] = max(cands, key=lambda g: (lengths.get(g, 0.0), -g))
        resolved_area += float(atoms.area[members].sum())
    report["overlaps_resolved"] = {"count": ncomp, "area_m2": round(resolved_area, 1)}

    new_labels = nl
    comp, ncomp = in_set_components(atoms, label < 0)
    gap_area = 0.0
    for c in range(ncomp):
        members = np.flatnonzero(comp == c)
        lengths = {k: v for k, v in shared_lengths(atoms, members, label).items() if k >= 0}
        if lengths:
            label[members] = max(lengths, key=lambda g: (lengths[g], -g))
        else:
            label[members] = new_labels
            new_labels += 1
        gap_area += float(atoms.area[members].sum())
    report["gaps_filled"] = {"count": ncomp, "area_m2": round(gap_area, 1)}

    sliver_count, sliver_area = 0, 0.0
    for _ in range(8):
        comp = label_components(atoms, label)
        ncomp = int(comp.max()) + 1 if na else 0
        c_area = np.bincount(comp, atoms.area, minlength=ncomp)
        same = comp[atoms.adj_i] == comp[atoms.adj_j]
        inner = np.bincount(comp[atoms.adj_i[same]], atoms.adj_len[same], minlength=ncomp)
        c_perim = np.bincount(comp, atoms.perimeter, minlength=ncomp) - 2 * inner
        slivers = np.flatnonzero(is_sliver(c_area, c_perim, opt))
        touched = np.zeros(na, dtype=bool)
        changed = False
        for c in slivers[np.argsort(c_area[slivers], kind="stable")].tolist():
            members = np.flatnonzero(comp == c)
            lengths = shared_lengths(atoms, members, label)
            lengths.pop(int(label[members[0]]), None)
            if not lengths:
                continue
            near = np.concatenate(
                [
                    atoms.adj_j[np.isin(atoms.adj_i, members)],
                    atoms.adj_i[np.isin(atoms.adj_j, members)],
                ]
            )
            if touched[near].any():
                continue
            into = max(lengths, key=lambda g: (lengths[g], -g))
            label[members] = into
            touched[members] = True
            sliver_count += 1
            sliver_area += float(c_area[c])
            features.append(
                Feature("sliver", None, dissolve(atoms.faces[members]), float(c_area[c]))
            )
            changed = True
        if not changed:
            break
    report["slivers_removed"] = {"count": sliver_count, "area_m2": round(sliver_area, 1)}
    return label, report, features
