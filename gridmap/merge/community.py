"""The merge of one community (社区/村): legacy layers -> one coverage of unified grids.

Works in EPSG:4551 metres on plain arrays, so a worker process can run it alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gridmap.merge import finish, steps
from gridmap.merge.frame import fit_grids

if TYPE_CHECKING:
    from gridmap.merge.atoms import Geoms, Ints
    from gridmap.merge.model import Feature, MergeOptions


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
    #: the community's boundary as the divisions layer has it, in ``out_crs``
    frame_out: Any = None
    out_crs: Any = "EPSG:4490"


@dataclass
class CommunityPart:
    """What one community's merge gives back for the province-wide assembly."""

    code: str
    grid_code: list[str]
    grid_name: list[str]
    grid_households: list[int]
    #: in the frames' own CRS (``out_crs``), fitted to the frame
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
    work = steps.base_grids(task)
    if task.kind == "urban":
        steps.balance_households(work)
    elif task.kind == "rural" and len(task.b_idx):
        steps.follow_hamlets(work)
    keys = steps.building_keys(work)
    faces, in_base, face_keys = steps.keep_buildings_whole(work, keys)
    grids = finish.dissolve_grids(work, faces, face_keys, keys)
    legacy_of = finish.legacy_by_atom(work)
    area_rows = finish.area_crosswalk(work, legacy_of, faces, in_base, grids)
    hh_rows, building_legacy = finish.building_crosswalk(work, legacy_of, grids)
    work.report.update(finish.household_report(work, grids))
    crosses, outside = finish.frame_checks(task, work.is_poly)
    return CommunityPart(
        b_cross_frame=task.b_idx[crosses].tolist(),
        b_outside_frame=task.b_idx[outside].tolist(),
        code=task.code,
        grid_code=grids.codes,
        grid_name=grids.names,
        grid_households=[int(x) for x in grids.households.tolist()],
        grid_geom=fit_grids(grids.polys, task.frame_out, task.out_crs, task.code),
        assign_idx=task.b_idx,
        assign_code=[grids.codes[i] for i in grids.building_grid.tolist()],
        building_legacy=building_legacy,
        xwalk_area=[(g, c, a) for (g, c), a in area_rows.items()],
        xwalk_households=[(g, c, h) for (g, c), h in hh_rows.items()],
        report=work.report,
        features=work.features,
    )
