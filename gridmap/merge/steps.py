"""The steps of one community's merge that draw its grids, in the order of ``docs/merge.md``.

:func:`gridmap.merge.community.merge_community_arrays` runs them in turn on a
:class:`CommunityWork`, the working state of one community; :mod:`gridmap.merge.finish`
holds the last steps (dissolve, number and name the grids, crosswalk, report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from gridmap.merge.atoms import Atoms, Floats, Ints, build_atoms, dissolve
from gridmap.merge.households import bisect, merge_small, parts_needed
from gridmap.merge.labels import base_labels, layer_claims, layer_defects, snap_layers
from gridmap.merge.territory import clusters, hamlet_keys, territory_lines, unit_keys

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from gridmap.merge.community import CommunityTask
    from gridmap.merge.model import Feature

__all__ = [
    "CommunityWork",
    "balance_households",
    "base_grids",
    "building_keys",
    "follow_hamlets",
    "keep_buildings_whole",
]

#: (base grid label, part) of a unified grid; the label is -1 for a village's hamlet
Key = tuple[int, int]


@dataclass
class CommunityWork:
    """One community's working state: its atoms, base grids and where its buildings go."""

    task: CommunityTask
    #: the layers in priority order, those outside ``layer_priority`` last
    layers: list[str]
    atoms: Atoms
    #: per atom and layer, the local indices of the legacy grids holding the atom
    claims: list[list[list[int]]]
    #: (atom, legacy grid) pairs, as parallel arrays
    p_atom: Ints
    p_leg: Ints
    #: per atom, its grid: a legacy grid, a new label for an orphan gap, or a merged root
    label: Ints
    report: dict[str, Any]
    features: list[Feature]
    #: per building: its atom, its grid label, its cluster and the cluster's main building
    loc: Ints
    base: Ints
    cluster: Ints
    main: Ints
    #: per building, its representative point as x, y
    xy: Floats
    #: per building, whether it has a footprint (not just a point)
    is_poly: NDArray[np.bool_]
    #: per building, its part of a split grid or its hamlet
    group: Ints
    split_labels: set[int] = field(default_factory=set)
    #: the lines between the parts of split grids or between hamlets
    territory: list[Any] = field(default_factory=list)
    #: per building, its hamlet or villager group, when the village has them
    rural_keys: list[str] | None = None
    #: why a grid could not be balanced (``("L", label)``) or a village kept its grids
    reasons: dict[Any, str] = field(default_factory=dict)

    def key(self, lab: int, g: int) -> Key:
        """The unified grid of something on base grid ``lab`` in part or hamlet ``g``."""
        if self.rural_keys is not None:
            return (-1, g)
        return (lab, g if lab in self.split_labels else 0)


def base_grids(task: CommunityTask) -> CommunityWork:
    """Snap, node and label the legacy layers into base grids, and put the buildings on them."""
    opt = task.options
    layers = [*opt.layer_priority, *sorted(set(task.legacy_layer) - set(opt.layer_priority))]
    rank = {layer: i for i, layer in enumerate(layers)}
    nl = len(task.legacy_gidx)
    leg_rank = np.array([rank[x] for x in task.legacy_layer], dtype=np.int64)

    snapped = snap_layers(task.legacy_geom, leg_rank, len(layers), task.frame, opt.snap_tolerance)
    atoms = build_atoms(task.frame, shapely.boundary(snapped) if nl else [], opt.grid_size)
    claims, p_atom, p_leg = layer_claims(atoms, snapped, leg_rank, len(layers))
    report: dict[str, Any] = {"code": task.code, "name": task.name, "kind": task.kind}
    report["legacy"], features = layer_defects(atoms, claims, layers, leg_rank)
    label, label_report, more = base_labels(atoms, claims, nl, opt)
    report.update(label_report)
    features += more

    nb = len(task.b_idx)
    loc = atoms.locate(task.b_rep) if nb else np.zeros(0, dtype=np.int64)
    base = label[loc] if len(atoms) else np.zeros(nb, dtype=np.int64)
    cluster, main = clusters(task.b_geom, task.b_households)
    return CommunityWork(
        task=task,
        layers=layers,
        atoms=atoms,
        claims=claims,
        p_atom=p_atom,
        p_leg=p_leg,
        label=label,
        report=report,
        features=features,
        loc=loc,
        base=base[main],
        cluster=cluster,
        main=main,
        xy=shapely.get_coordinates(task.b_rep) if nb else np.zeros((0, 2)),
        is_poly=np.isin(shapely.get_type_id(task.b_geom), (3, 6)) if nb else np.zeros(0, bool),
        group=np.zeros(nb, dtype=np.int64),
    )


def balance_households(work: CommunityWork) -> None:
    """Join small urban grids to a neighbour, then split large ones by whole compounds."""
    opt = work.task.options
    pairs = _shared_edges(work.atoms, work.label)
    base_hh = {lab: 0 for lab in sorted(set(work.label.tolist()))}
    for lab, h in zip(work.base.tolist(), work.task.b_households.tolist(), strict=True):
        base_hh[lab] = base_hh.get(lab, 0) + int(h)
    root = merge_small(base_hh, pairs, opt.households_min, opt.households_max)
    work.label = np.array([root[x] for x in work.label.tolist()], dtype=np.int64)
    work.base = np.array([root[x] for x in work.base.tolist()], dtype=np.int64)
    keys = unit_keys(work.task.b_compound, work.cluster, work.main)
    for lab in sorted(set(work.base.tolist())):
        _split_grid(work, lab, keys)


def _shared_edges(atoms: Atoms, label: Ints) -> dict[tuple[int, int], float]:
    """Length of edge each pair of grids (lower label first) shares."""
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
    return pairs


def _split_grid(work: CommunityWork, lab: int, keys: list[str]) -> None:
    """Bisect grid ``lab`` into as many parts as its households need, or note why not."""
    opt = work.task.options
    hh = work.task.b_households
    sel = np.flatnonzero(work.base == lab)
    total = int(hh[sel].sum())
    k = parts_needed(total, opt.households_min, opt.households_max)
    if k is None:
        work.reasons[("L", lab)] = (
            f"{total} households cannot split into grids of "
            f"{opt.households_min}-{opt.households_max}"
        )
        return
    if k == 1:
        return
    ukeys, uinv = np.unique(np.array([keys[i] for i in sel]), return_inverse=True)
    uxy = np.zeros((len(ukeys), 2))
    np.add.at(uxy, uinv, work.xy[sel])
    uxy /= np.bincount(uinv)[:, None]
    uhh = np.bincount(uinv, hh[sel]).astype(np.int64)
    region = dissolve(work.atoms.faces[work.label == lab])
    # a first cut by bisection, evened out by the balancing engine of ``gridmap rebalance``
    from gridmap.rebalance.split import split_units

    labels, why = split_units(
        uxy, uhh, opt.households_min, opt.households_max, region, start=bisect(uxy, uhh, k)
    )
    if why:
        work.reasons[("L", lab)] = "; ".join(r.partition(": ")[2] or r for r in why)
    if len(np.unique(labels)) < 2:
        return
    work.group[sel] = labels[uinv]
    work.split_labels.add(lab)
    work.territory += territory_lines(region, work.xy[sel], work.group[sel])


def follow_hamlets(work: CommunityWork) -> None:
    """Group a village's buildings by hamlet or villager group, the nearest known for the rest."""
    task = work.task
    raw = hamlet_keys(task.b_hamlet, task.b_group)
    known = np.array([k is not None for k in raw])
    if not known.any():
        work.reasons["rural"] = "no hamlet or villager group on any building; legacy grids kept"
        return
    kidx = np.flatnonzero(known)
    _, near = shapely.STRtree(task.b_rep[kidx]).query_nearest(task.b_rep, all_matches=False)
    rural_keys = [
        str(raw[i] if raw[i] is not None else raw[kidx[n]]) for i, n in enumerate(near.tolist())
    ]
    _, group_arr = np.unique(np.array(rural_keys), return_inverse=True)
    work.rural_keys = rural_keys
    work.group = group_arr.astype(np.int64)[work.main]
    work.territory += territory_lines(task.frame, work.xy, work.group)


def building_keys(work: CommunityWork) -> list[Key]:
    """The unified grid of each building."""
    return [
        work.key(lab, g) for lab, g in zip(work.base.tolist(), work.group.tolist(), strict=True)
    ]


def keep_buildings_whole(work: CommunityWork, b_key: list[Key]) -> tuple[Atoms, Ints, list[Key]]:
    """Node again with the split lines and the footprints they cross, so none is cut.

    Returns the new atoms, the base atom each lies in, and the unified grid of each.
    """
    task = work.task
    fp_idx = _footprints_to_node(work)
    atoms2 = build_atoms(
        task.frame,
        [work.atoms.lines, *work.territory, *shapely.boundary(task.b_geom[fp_idx])],
        task.options.grid_size,
        adjacency=False,
    )
    a1 = work.atoms.locate(atoms2.reps)
    lab2 = work.label[a1]
    keys2 = _footprint_keys(task, atoms2, fp_idx, b_key)
    _nearest_building_keys(work, atoms2, lab2, keys2, b_key)
    return (
        atoms2,
        a1,
        [k if k is not None else work.key(int(lab2[i]), 0) for i, k in enumerate(keys2)],
    )


def _footprints_to_node(work: CommunityWork) -> Ints:
    """Footprints that a grid boundary or split line crosses, or that share their cluster."""
    task = work.task
    nb = len(task.b_idx)
    base_polys = [
        dissolve(work.atoms.faces[work.label == lab]) for lab in sorted(set(work.label.tolist()))
    ]
    fp_idx = np.flatnonzero(work.is_poly)
    if len(fp_idx):
        probe = _line_parts_list(
            [*shapely.boundary(np.asarray(base_polys, dtype=object)), *work.territory]
        )
        hit = shapely.STRtree(task.b_geom[fp_idx]).query(probe, predicate="intersects")[1]
        shared = np.bincount(work.cluster, minlength=nb)[work.cluster] > 1
        fp_idx = np.union1d(fp_idx[np.unique(hit)], fp_idx[shared[fp_idx]])
    return fp_idx


def _footprint_keys(
    task: CommunityTask, atoms2: Atoms, fp_idx: Ints, b_key: list[Key]
) -> list[Key | None]:
    """Per atom, the grid of the footprint it lies within, if any."""
    keys2: list[Key | None] = [None] * len(atoms2)
    if len(fp_idx):
        s, f = shapely.STRtree(task.b_geom[fp_idx]).query(atoms2.reps, predicate="within")
        for si, fi in zip(s.tolist(), f.tolist(), strict=True):
            if keys2[si] is None:
                keys2[si] = b_key[fp_idx[fi]]
    return keys2


def _nearest_building_keys(
    work: CommunityWork, atoms2: Atoms, lab2: Ints, keys2: list[Key | None], b_key: list[Key]
) -> None:
    """Give each open atom of a split grid or village the grid of its nearest building."""
    if work.rural_keys is None and not work.split_labels:
        return
    task = work.task
    scope: list[int | None] = (
        [None] if work.rural_keys is not None else [*sorted(work.split_labels)]
    )
    for lab in scope:
        bsel = np.arange(len(task.b_idx)) if lab is None else np.flatnonzero(work.base == lab)
        asel = [
            i for i in range(len(atoms2)) if keys2[i] is None and (lab is None or lab2[i] == lab)
        ]
        if not asel or not len(bsel):
            continue
        _, near = shapely.STRtree(task.b_rep[bsel]).query_nearest(
            atoms2.reps[asel], all_matches=False
        )
        for i, n in zip(asel, near.tolist(), strict=True):
            keys2[i] = b_key[bsel[n]]


def _line_parts_list(geoms: Sequence[Any]) -> Any:
    """The parts of the non-empty ``geoms``, ``None`` dropped."""
    arr = np.asarray([g for g in geoms if g is not None], dtype=object)
    if len(arr) == 0:
        return arr
    return shapely.get_parts(arr[~shapely.is_empty(arr)])
