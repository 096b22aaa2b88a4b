"""The audit trail: who changed grids, generations, plans, the roster, keys and imports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import GridmapDep, RequireAdmin
from api.errors import FORBIDDEN, INVALID, UNAUTHORISED, UNAVAILABLE

router = APIRouter(prefix="/v1", tags=["admin"], dependencies=[RequireAdmin])


class AuditEvent(BaseModel):
    id: int
    at: datetime
    actor: str = Field(description="Who: `key N (name)`, `cli (login)`, or `GRIDMAP_API_KEYS`.")
    action: str = Field(examples=["plan.activate"])
    target: str | None = Field(None, examples=["plan 3"])
    before: Any = None
    after: Any = None


@router.get(
    "/audit",
    response_model=list[AuditEvent],
    responses={**INVALID, **UNAUTHORISED, **FORBIDDEN, **UNAVAILABLE},
    summary="The audit trail, newest first (admin key)",
)
def audit(
    gm: GridmapDep,
    target: Annotated[
        str | None,
        Query(max_length=100, description="A grid code, person id, division or `plan N`: "
              "events about it, or mentioning it before or after."),
    ] = None,
    actor: Annotated[str | None, Query(max_length=100, description="Who (part of).")] = None,
    since: Annotated[datetime | None, Query(description="From this time (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Before this time (ISO 8601).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEvent]:  # fmt: skip
    """Append-only: nothing in it can be changed or deleted, through the API or in the
    database (a trigger refuses)."""
    rows = gm.audit_events(target=target, actor=actor, since=since, until=until, limit=limit)
    return [AuditEvent.model_validate(r) for r in rows]
