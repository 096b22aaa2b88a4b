"""Rebalancing plans: draft, read, compare, activate, roll back; and restoring a generation.

Drafting needs a planner key (or admin); activating, rolling back and restoring change the
grids in force and need an admin key. A plan holds no personal data (grid chiefs appear only in an activation's review
list, which goes to the caller who activated), so reading plans is open like the maps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.deps import GridmapDep, RequireAdmin, RequirePlanner
from api.errors import FORBIDDEN, INVALID, UNAUTHORISED, UNAVAILABLE, documented, not_found
from gridmap.access import Caller

router = APIRouter(prefix="/v1", tags=["plans"])

PLAN_404 = not_found("unknown_plan", "no rebalancing plan with id 99")
CONFLICT = documented(
    409,
    "stale_plan",
    "plan 3 was drafted against generation 4, but generation 5 is now in force: draft the "
    "plan again",
    "`stale_plan`: the plan was drafted against a generation no longer in force; "
    "`plan_not_draft`: only a draft can be activated, only an active plan rolled back.",
)

PlanId = Annotated[int, Path(ge=1, le=2**62, examples=[1], description="A plan's id.")]
DIVISION_PATTERN = r"^[0-9]{12}$"
GRID_PATTERN = r"^[0-9]{15}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Band(_Model):
    low: int = Field(ge=1, le=100_000, description="Fewest households a grid should have.")
    high: int = Field(ge=1, le=100_000, description="Most households a grid should have.")

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.low > self.high:
            raise ValueError(f"band low {self.low} is above high {self.high}; expected low <= high")
        return self


class PlanRequest(_Model):
    division: str = Field(
        pattern=DIVISION_PATTERN,
        examples=["220102005004"],
        description="The 12-digit code of a community, street or district; a street or "
        "district is solved community by community.",
    )
    band: Band = Field(default_factory=lambda: Band(low=300, high=500),
                       description="Households per urban grid.")  # fmt: skip
    rural_band: Band | None = Field(
        default=None,
        description="Households per rural grid. Without it rural communities (grids that "
        "follow hamlets and villagers' groups) are left as they are.",
    )
    locked: list[Annotated[str, Field(pattern=GRID_PATTERN)]] = Field(
        default_factory=list, max_length=10_000, description="Grid codes to leave as they are."
    )


class PlanMetrics(BaseModel):
    """A plan's figures (for the grids in force only those that can be counted from the
    plan's own assignment are given)."""

    grids: int
    grids_with_households: int | None = None
    ideal: float | None = Field(None, description="Mean households of grids with households.")
    in_band: float = Field(description="Share of grids with households that are in the band.")
    deviation_range: float | None = None
    deviation_mean_abs: float | None = None
    deviation_std: float | None = None
    deviation_pct_max: float | None = None
    polsby_popper_mean: float | None = None
    contiguous: bool | None = None
    compounds_split: int | None = None
    hamlets_split: int | None = None
    households_moved: int
    households_total: int
    households_moved_pct: float | None = None
    codes_kept: int | None = None
    codes_new: int | None = None
    codes_retired: int | None = None


class PlanGrid(BaseModel):
    code: str
    community: str
    households: int
    status: Literal["kept", "new"]
    deviation_pct: float | None = Field(None, description="From the plan's mean, in %.")
    in_band: bool | None = None
    polsby_popper: float | None = None
    contiguous: bool | None = None


class Plan(BaseModel):
    id: int
    division: str
    status: Literal["draft", "active", "rolled_back"]
    base_generation: int = Field(description="The generation in force when it was drafted.")
    activated_generation: int | None = None
    band: Band
    metrics: PlanMetrics
    grids: list[PlanGrid]
    retired: list[str] = Field(description="Codes the plan retires (never reissued).")
    infeasible: list[str] = Field(description="Why some grids cannot be brought into the band.")
    skipped: list[str] = Field(description="Communities left as they are, and why.")
    map: str = Field(description="The plan map's path.")
    created_at: datetime
    activated_at: datetime | None = None


class PlanListItem(BaseModel):
    id: int
    division: str
    status: Literal["draft", "active", "rolled_back"]
    base_generation: int
    activated_generation: int | None = None
    metrics: PlanMetrics | None
    created_at: datetime


class Move(BaseModel):
    building: str = Field(description="The building's id as imported.")
    from_: str = Field(alias="from", description="Its grid in the other plan (or now).")
    to: str = Field(description="Its grid in this plan.")
    households: int


class Comparison(BaseModel):
    plan: int
    with_: str = Field(alias="with", description="`current` or `plan N`.")
    metrics: dict[str, PlanMetrics] = Field(description="Both plans' figures, by name.")
    moved: list[Move]


class ReviewItem(BaseModel):
    code: str
    reason: str
    person: str | None = Field(None, description="The grid chief whose term was ended.")
    successor: str | None = Field(None, description="The grid most of its households went to.")


class Activation(BaseModel):
    plan_id: int
    generation: int = Field(description="The generation the plan became.")
    retired: int = Field(description="Grids retired.")
    review: list[ReviewItem] = Field(description="Grids whose chiefs need attention.")


class Restored(BaseModel):
    generation: int = Field(description="The new generation, equal to the one restored.")
    restored: int = Field(description="The generation whose grids are back.")
    division: str


def _plan(gm: Any, plan_id: int) -> Plan:
    p = gm.plan(plan_id)
    table = {r["code"]: r for r in p["metrics"].get("table", [])}
    cols = zip(p["grids"]["code"], p["grids"]["community_code"], p["grids"]["households"],
               p["grids"]["status"], strict=True)  # fmt: skip
    keys = ("deviation_pct", "in_band", "polsby_popper", "contiguous")
    grids = [
        PlanGrid.model_validate({"code": c, "community": cc, "households": int(h), "status": s,
                                 **{k: table.get(str(c), {}).get(k) for k in keys}})
        for c, cc, h, s in cols
    ]  # fmt: skip
    return Plan(
        id=p["id"],
        division=p["division_code"],
        status=p["status"],
        base_generation=p["base_generation"],
        activated_generation=p["activated_generation"],
        band=Band(low=p["band_low"], high=p["band_high"]),
        metrics=PlanMetrics(**p["metrics"]["summary"]),
        grids=grids,
        retired=list(p["retired"]),
        infeasible=list(p["infeasible"]),
        skipped=list((p["params"] or {}).get("skipped", [])),
        map=f"/maps/plans/{plan_id}",
        created_at=p["created_at"],
        activated_at=p["activated_at"],
    )


@router.post(
    "/plans",
    response_model=Plan,
    status_code=201,
    responses={**INVALID, **UNAUTHORISED, **FORBIDDEN, **UNAVAILABLE,
               404: not_found("unknown_division", "no division with code '220103099000'")[404]},
    summary="Draft a rebalancing plan for a community, street or district",
)  # fmt: skip
def draft_plan(
    body: PlanRequest,
    gm: GridmapDep,
    response: Response,
    caller: Annotated[Caller, RequirePlanner],
) -> Plan:
    """Redraw the division's grids so that every grid's households fall in the band where
    that is feasible, moving as few households as possible, and store the result as a draft
    against the generation in force. Nothing changes until the plan is activated."""
    drafted = gm.rebalance(
        body.division,
        band=(body.band.low, body.band.high),
        rural_band=(body.rural_band.low, body.rural_band.high) if body.rural_band else None,
        locked=body.locked,
        save=True,
        actor=caller.actor,
    )
    assert drafted.plan_id is not None
    response.headers["Location"] = f"/v1/plans/{drafted.plan_id}"
    return _plan(gm, drafted.plan_id)


@router.get(
    "/plans",
    response_model=list[PlanListItem],
    responses={
        **INVALID,
        **UNAVAILABLE,
        404: not_found("unknown_division", "no division with code '220103099000'")[404],
    },
    summary="Every plan, newest last",
)
def list_plans(
    gm: GridmapDep,
    division: Annotated[
        str | None,
        Query(pattern=DIVISION_PATTERN, description="Only plans for this division or under it."),
    ] = None,
) -> list[PlanListItem]:
    rows = gm.plans(within=division)
    return [
        PlanListItem(
            id=r["id"], division=r["division_code"], status=r["status"],
            base_generation=r["base_generation"], activated_generation=r["activated_generation"],
            metrics=PlanMetrics(**r["summary"]) if r["summary"] else None,
            created_at=r["created_at"],
        )
        for r in rows
    ]  # fmt: skip


@router.get(
    "/plans/{plan_id}",
    response_model=Plan,
    responses={**PLAN_404, **INVALID, **UNAVAILABLE},
    summary="A plan: its band, metrics, grids and status",
)
def read_plan(plan_id: PlanId, gm: GridmapDep) -> Plan:
    """The plan's figures (as planners know them: deviation, share in band,
    Polsby-Popper, contiguity, splits, households moved, codes kept, new and retired) and
    one row per grid. Its map is at ``map``."""
    return _plan(gm, plan_id)


@router.get(
    "/plans/{plan_id}/compare",
    response_model=Comparison,
    response_model_by_alias=True,
    responses={**PLAN_404, **INVALID, **UNAVAILABLE},
    summary="A plan beside the grids in force or another plan",
)
def compare(
    plan_id: PlanId,
    gm: GridmapDep,
    with_: Annotated[
        str,
        Query(alias="with", pattern=r"^(current|[1-9][0-9]{0,17})$",
              description="`current` (the grids the plan was drafted from) or a plan id."),
    ] = "current",
) -> Comparison:  # fmt: skip
    """Both sets of figures side by side, and every building whose grid differs."""
    other = None if with_ == "current" else int(with_)
    return Comparison.model_validate(gm.compare(plan_id, other))


@router.post(
    "/plans/{plan_id}/activate",
    response_model=Activation,
    responses={**PLAN_404, **CONFLICT, **INVALID, **UNAUTHORISED, **FORBIDDEN, **UNAVAILABLE},
    summary="Make a draft plan the grids in force",
)
def activate(
    plan_id: PlanId, gm: GridmapDep, caller: Annotated[Caller, RequireAdmin]
) -> Activation:
    """In one transaction: the plan's grids become a new generation, where each old grid's
    households went is recorded, the grid chiefs of retired grids are ended, and grids
    that need a chief are listed for review. A plan drafted against an older generation is
    refused (409 ``stale_plan``)."""
    return Activation.model_validate(gm.activate(plan_id, actor=caller.actor))


@router.post(
    "/plans/{plan_id}/rollback",
    response_model=Restored,
    responses={**PLAN_404, **CONFLICT, **INVALID, **UNAUTHORISED, **FORBIDDEN, **UNAVAILABLE},
    summary="Bring back the grids an active plan replaced",
)
def rollback(plan_id: PlanId, gm: GridmapDep, caller: Annotated[Caller, RequireAdmin]) -> Restored:
    """The generation the plan was drafted against comes back as a new generation (its
    codes and the grid chiefs the activation ended return)."""
    p = gm.plan(plan_id)
    gen = gm.rollback(plan_id, actor=caller.actor)
    return Restored(generation=gen, restored=p["base_generation"], division=p["division_code"])


@router.post(
    "/generations/{generation}/restore",
    response_model=Restored,
    responses={**INVALID, **UNAUTHORISED, **FORBIDDEN, **UNAVAILABLE,
               404: not_found("not_found", "no activated generation 99")[404]},
    summary="Bring back a generation's grids for a division",
)  # fmt: skip
def restore(
    generation: Annotated[int, Path(ge=1, le=2**31 - 1, description="A generation's id.")],
    gm: GridmapDep,
    division: Annotated[
        str, Query(pattern=DIVISION_PATTERN, description="The division whose grids come back.")
    ],
    caller: Annotated[Caller, RequireAdmin],
) -> Restored:
    """The grids ``generation`` had under ``division`` become the grids in force again, as a
    new generation: their codes return, codes issued since are retired, and active plans
    since then are marked rolled back."""
    gen = gm.restore(generation, division, actor=caller.actor)
    return Restored(generation=gen, restored=generation, division=division)


__all__ = ["PLAN_404", "PlanId", "router"]
