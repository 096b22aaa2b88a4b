"""The last steps of one community's merge: dissolve, number and name the grids, then the
crosswalk to the legacy layers, the household figures and the frame checks."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from gridmap.codes import compose_grid_code, next_serials, reading_order
from gridmap.merge.atoms import dissolve

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from gridmap.merge.atoms import Atoms, Ints
    from gridmap.merge.community import CommunityTask
    from gridmap.merge.steps import CommunityWork, Key

__all__ = [
    "UnifiedGrids",
    "area_crosswalk",
    "building_crosswalk",
    "dissolve_grids",
    "frame_checks",
    "household_report",
    "legacy_by_atom",
]


@dataclass
class UnifiedGrids:
    """The unified grids of one community and the grid each atom and building is in."""

    keys: list[Key]
    #: per atom of the building-atomic faces, its grid
    atom_grid: Ints
    polys: list[Any]
    #: per building, its grid
    building_grid: Ints
    codes: list[str]
    names: list[str]
    households: Ints


def dissolve_grids(
    work: CommunityWork, atoms2: Atoms, keys2: list[Key], b_key: list[Key]
) -> UnifiedGrids:
    """Dissolve the atoms of each unified grid, and number and name the grids."""
    task = work.task
    uniq_keys = sorted(set(keys2))
    key_index = {k: i for i, k in enumerate(uniq_keys)}
    akey = np.array([key_index[k] for k in keys2], dtype=np.int64)
    polys = [dissolve(atoms2.faces[akey == i]) for i in range(len(uniq_keys))]
    b_final = np.array([key_index.get(k, -1) for k in b_key], dtype=np.int64)
    lost = np.flatnonzero(b_final < 0)
    if len(lost):
        b_final[lost] = akey[atoms2.locate(task.b_rep[lost])]
    return UnifiedGrids(
        keys=uniq_keys,
        atom_grid=akey,
        polys=polys,
        building_grid=b_final,
        codes=_grid_codes(task, polys),
        names=_grid_names(work, uniq_keys),
        households=np.bincount(b_final, task.b_households, minlength=len(polys)).astype(np.int64),
    )


def _grid_codes(task: CommunityTask, polys: list[Any]) -> list[str]:
    """Grid codes in reading order, continuing after the serials already used."""
    reps = shapely.get_coordinates(shapely.point_on_surface(np.asarray(polys, dtype=object)))
    order = reading_order([(float(x), float(y)) for x, y in reps])
    serials = next_serials(task.used, len(polys))
    codes = [""] * len(polys)
    for pos, i in enumerate(order):
        codes[i] = compose_grid_code(task.code, serials[pos])
    return codes


def _grid_names(work: CommunityWork, uniq_keys: list[Key]) -> list[str]:
    """Names after the hamlet, or the legacy grid with a part suffix, or the community."""
    task = work.task
    nl = len(task.legacy_gidx)
    names = []
    for lab, g in uniq_keys:
        if work.rural_keys is not None:
            names.append(sorted(set(work.rural_keys))[g])
        elif 0 <= lab < nl:
            suffix = f"-{g + 1}" if lab in work.split_labels else ""
            names.append(f"{task.legacy_name[lab]}{suffix}")
        else:
            names.append(f"{task.name}网格")
    return names


def legacy_by_atom(work: CommunityWork) -> dict[int, list[int]]:
    """The legacy grids (local indices) holding each base atom."""
    by_atom1: dict[int, list[int]] = {}
    pa1 = np.asarray(work.p_atom, dtype=np.int64)
    pleg = np.asarray(work.p_leg, dtype=np.int64)
    for a, g in zip(pa1.tolist(), pleg.tolist(), strict=True):
        by_atom1.setdefault(a, []).append(g)
    return by_atom1


def area_crosswalk(
    work: CommunityWork,
    by_atom1: dict[int, list[int]],
    atoms2: Atoms,
    a1: Ints,
    grids: UnifiedGrids,
) -> dict[tuple[int, str], float]:
    """Area (m²) each legacy grid (global index) shares with each unified grid."""
    area_rows: dict[tuple[int, str], float] = {}
    for i, (a, ar) in enumerate(zip(a1.tolist(), atoms2.area.tolist(), strict=True)):
        for g in by_atom1.get(a, ()):
            k2 = (int(work.task.legacy_gidx[g]), grids.codes[grids.atom_grid[i]])
            area_rows[k2] = area_rows.get(k2, 0.0) + ar
    return area_rows


def building_crosswalk(
    work: CommunityWork, by_atom1: dict[int, list[int]], grids: UnifiedGrids
) -> tuple[dict[tuple[int, str], int], dict[str, Ints]]:
    """Households each legacy grid shares with each unified grid; each building's legacy grids."""
    task = work.task
    hh = task.b_households
    hh_rows: dict[tuple[int, str], int] = {}
    building_legacy = {layer: np.full(len(task.b_idx), -1, dtype=np.int64) for layer in work.layers}
    for bi, a in enumerate(work.loc.tolist()):
        for g in by_atom1.get(a, ()):
            k2 = (int(task.legacy_gidx[g]), grids.codes[grids.building_grid[bi]])
            hh_rows[k2] = hh_rows.get(k2, 0) + int(hh[bi])
        for r, layer in enumerate(work.layers):
            if work.claims[a][r]:
                building_legacy[layer][bi] = task.legacy_gidx[work.claims[a][r][0]]
    return hh_rows, building_legacy


def household_report(work: CommunityWork, grids: UnifiedGrids) -> dict[str, Any]:
    """The community's grid and household figures for the QA report."""
    out_of_range = _out_of_range(work, grids) if work.task.kind == "urban" else []
    hh_list = grids.households.tolist()
    return {
        "grids": len(grids.polys),
        "buildings": len(work.task.b_idx),
        "households": {
            "total": int(sum(hh_list)),
            "min": int(min(hh_list)) if hh_list else 0,
            "median": float(statistics.median(hh_list)) if hh_list else 0.0,
            "max": int(max(hh_list)) if hh_list else 0,
        },
        "out_of_range": sorted(out_of_range, key=lambda x: x["grid_code"]),
        "notes": [work.reasons["rural"]] if "rural" in work.reasons else [],
    }


def _out_of_range(work: CommunityWork, grids: UnifiedGrids) -> list[dict[str, Any]]:
    """Urban grids outside the household range, each with the reason it could not be met."""
    opt = work.task.options
    out: list[dict[str, Any]] = []
    for i, h in enumerate(grids.households.tolist()):
        if opt.households_min <= h <= opt.households_max:
            continue
        lab, _ = grids.keys[i]
        reason = work.reasons.get(("L", lab))
        if reason is None and h < opt.households_min:
            reason = (
                "a part of a split grid: compounds could not be balanced"
                if lab in work.split_labels
                else f"no neighbour can absorb it within {opt.households_max} households"
            )
        if reason is None:
            reason = "a compound or building too large to balance by whole units"
        out.append({"grid_code": grids.codes[i], "households": h, "reason": reason})
    return out


def frame_checks(
    task: CommunityTask, is_poly: NDArray[np.bool_]
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Buildings whose footprint crosses the frame, and those whose point lies outside it."""
    frame = task.frame
    shapely.prepare(frame)
    nb = len(task.b_idx)
    outside = ~shapely.contains(frame, task.b_rep) if nb else np.zeros(0, dtype=bool)
    crosses = is_poly & ~outside
    crosses[crosses] = ~shapely.covers(frame, task.b_geom[crosses])
    return crosses, outside
