"""Grids, divisions and buildings by code or id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import AuthorisedDep, CallerDep, GridmapDep
from api.errors import INVALID, UNAUTHORISED, not_found
from gridmap.results import BuildingDetail, Division, GridCollection, GridFeature
from gridmap.service import MAX_PAGE

router = APIRouter(prefix="/v1")

GRID_404 = not_found("unknown_grid", "no grid with code '220103001001999'")
DIVISION_404 = not_found("unknown_division", "no division with code '220103099000'")
BUILDING_404 = not_found("unknown_building", "no building with id 'B-000999'")

# the patterns are documented, not enforced by FastAPI: gridmap checks codes itself and
# says what is wrong with one (422 ``invalid_code``)
GridCode = Annotated[
    str,
    Path(examples=["220103001001001"], description="15-digit grid code.",
         json_schema_extra={"pattern": "^[0-9]{15}$"}),
]  # fmt: skip
WithinQuery = Query(
    examples=["220103001000"],
    description="A 12-digit division code.",
    json_schema_extra={"pattern": "^[0-9]{12}$"},
)
DivisionCode = Annotated[
    str,
    Path(examples=["220103001000"], description="12-digit division code.",
         json_schema_extra={"pattern": "^[0-9]{12}$"}),
]  # fmt: skip


@router.get(
    "/grids/{code}",
    response_model=GridFeature,
    responses={**GRID_404, **INVALID, **UNAUTHORISED},
    tags=["grids"],
    summary="A grid as a GeoJSON Feature",
)
def grid(code: GridCode, gm: GridmapDep, caller: CallerDep) -> GridFeature:
    """The current grid with this code: boundary in lon/lat, its chief, household counts and
    its community, street and county."""
    return gm.grid(code, authorised=caller.sees_contacts(code))


@router.get(
    "/grids",
    response_model=GridCollection,
    responses={**DIVISION_404, **INVALID, **UNAUTHORISED},
    tags=["grids"],
    summary="The grids inside a division, one page at a time",
)
def grids(
    gm: GridmapDep,
    caller: CallerDep,
    within: Annotated[str, WithinQuery],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> GridCollection:
    """A GeoJSON FeatureCollection of the current grids in a division, ordered by code."""
    authorised = caller.covers(within) if within.isdigit() and len(within) == 12 else False
    return gm.grids_within(within, limit=limit, offset=offset, authorised=authorised)


@router.get(
    "/divisions/{code}",
    response_model=Division,
    responses={**DIVISION_404, **INVALID},
    tags=["divisions"],
    summary="A division",
)
def division(code: DivisionCode, gm: GridmapDep) -> Division:
    return gm.division(code)


@router.get(
    "/divisions/{code}/children",
    response_model=list[Division],
    responses={**DIVISION_404, **INVALID},
    tags=["divisions"],
    summary="The divisions directly under a division",
)
def division_children(code: DivisionCode, gm: GridmapDep) -> list[Division]:
    return gm.division_children(code)


@router.get(
    "/buildings/{building_id}",
    response_model=BuildingDetail,
    responses={**BUILDING_404, **UNAUTHORISED},
    tags=["buildings"],
    summary="A building with its units and chiefs",
)
def building(
    building_id: Annotated[str, Path(description="The building's external id.")],
    gm: GridmapDep,
    authorised: AuthorisedDep,
    caller: CallerDep,
) -> BuildingDetail:
    found = gm.building(building_id, authorised=authorised)
    if not authorised and found.grid is not None and caller.sees_contacts(found.grid.code):
        found = gm.building(building_id, authorised=True)  # a grid worker's own grid
    return found
