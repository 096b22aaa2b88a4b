"""The roster over HTTP: assign, end and replace chiefs (admin keys), a post's history and
the vacancies of a division."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CallerDep, GridmapDep, RequireAdmin, RequirePlanner
from api.errors import CONFLICT_ROSTER, FORBIDDEN, INVALID, UNAUTHORISED, UNAVAILABLE, not_found
from gridmap.access import Caller
from gridmap.roster import Post

router = APIRouter(prefix="/v1/roster", tags=["roster"])

Role = Literal["grid_chief", "building_chief", "unit_chief"]
NOT_FOUND = not_found("unknown_grid", "no grid with code '220103001001999'")


class PostRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    grid: str | None = Field(None, pattern=r"^[0-9]{15}$", description="Grid code (grid_chief).")
    building: str | None = Field(None, max_length=100, description="Building id as imported.")
    unit: str | None = Field(None, max_length=20, description="Unit number (unit_chief).")

    def post(self) -> Post:
        return Post(self.role, self.grid, self.building, self.unit).checked()


class AssignBody(PostRef):
    person_id: str = Field(min_length=1, max_length=100)
    name: str | None = Field(None, max_length=100, description="Needed for a new person.")
    phone: str | None = Field(None, max_length=20, description="5-20 digits, + or -.")
    since: date | None = Field(None, description="First day (default today).")


class EndBody(PostRef):
    until: date | None = Field(None, description="Last day (default today).")


class Change(BaseModel):
    post: str
    person_id: str
    since: str | None = None
    until: str | None = None
    replaced: dict[str, Any] | None = None


class Term(BaseModel):
    person_id: str
    name: str
    phone: str | None = Field(description="Masked unless the key may see it.")
    since: date
    until: date | None


class Vacancy(BaseModel):
    role: Role
    grid_code: str | None
    building_id: str | None
    unit_no: str | None
    name: str | None
    community_code: str


_WRITE = {**INVALID, **UNAUTHORISED, **FORBIDDEN, **CONFLICT_ROSTER, **NOT_FOUND, **UNAVAILABLE}


@router.post("/assign", response_model=Change, responses=_WRITE,
             summary="Give a vacant post to a person (admin key)")  # fmt: skip
def assign(body: AssignBody, gm: GridmapDep, caller: Annotated[Caller, RequireAdmin]) -> Change:
    """409 when the post is held: end that term first, or replace the chief."""
    return Change.model_validate(gm.assign(body.post(), body.person_id, since=body.since,
                                           name=body.name, phone=body.phone, actor=caller.actor))  # fmt: skip


@router.post("/end", response_model=Change, responses=_WRITE,
             summary="End the current term of a post (admin key)")  # fmt: skip
def end(body: EndBody, gm: GridmapDep, caller: Annotated[Caller, RequireAdmin]) -> Change:
    """The term keeps its history; the post is vacant afterwards."""
    return Change.model_validate(gm.end_term(body.post(), until=body.until, actor=caller.actor))


@router.post("/replace", response_model=Change, responses=_WRITE,
             summary="Replace a chief: one term ends, the next begins (admin key)")  # fmt: skip
def replace(body: AssignBody, gm: GridmapDep, caller: Annotated[Caller, RequireAdmin]) -> Change:
    """In one transaction: the current term ends the day before ``since``."""
    return Change.model_validate(gm.replace_chief(body.post(), body.person_id, since=body.since,
                                                  name=body.name, phone=body.phone,
                                                  actor=caller.actor))  # fmt: skip


@router.get("/history", response_model=list[Term],
            responses={**INVALID, **UNAUTHORISED, **NOT_FOUND, **UNAVAILABLE},
            summary="Every term of a post, oldest first")  # fmt: skip
def history(
    gm: GridmapDep,
    caller: CallerDep,
    role: Annotated[Role, Query()],
    grid: Annotated[str | None, Query(pattern=r"^[0-9]{15}$")] = None,
    building: Annotated[str | None, Query(max_length=100)] = None,
    unit: Annotated[str | None, Query(max_length=20)] = None,
) -> list[Term]:
    post = PostRef(role=role, grid=grid, building=building, unit=unit).post()
    rows = gm.post_history(post, authorised=caller.sees_contacts(grid))
    return [Term.model_validate(r) for r in rows]


@router.get(
    "/vacancies",
    response_model=list[Vacancy],
    responses={200: {"content": {"text/csv": {}}}, **INVALID, **UNAUTHORISED, **FORBIDDEN,
               **UNAVAILABLE,
               404: not_found("unknown_division", "no division with code '220103099000'")[404]},
    summary="Vacant posts of a division: grids, buildings and units with no chief (planner key)",
)  # fmt: skip
def vacancies(
    gm: GridmapDep,
    _caller: Annotated[Caller, RequirePlanner],
    division: Annotated[str, Query(pattern=r"^[0-9]{12}$")],
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    rows = [{k: v for k, v in r.items() if k != "geom"} for r in gm.vacancies(division)]
    if format == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, ["role", "grid_code", "building_id", "unit_no", "name",
                                 "community_code"])  # fmt: skip
        w.writeheader()
        w.writerows(rows)
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8")
    return [Vacancy.model_validate(r) for r in rows]
