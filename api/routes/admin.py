"""Operations for those holding an API key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.deps import GridmapDep, RequireKey
from api.errors import UNAUTHORISED

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[RequireKey])


class Reloaded(BaseModel):
    divisions: int = Field(description="Divisions in the reloaded gazetteer.")


@router.post(
    "/gazetteer/reload",
    response_model=Reloaded,
    responses={**UNAUTHORISED},
    summary="Reload the address gazetteer after divisions or aliases changed",
)
def reload_gazetteer(gm: GridmapDep) -> Reloaded:
    """Rebuild this worker's gazetteer from the ``division`` and ``division_alias`` tables
    (each worker process holds its own; call once per worker, or restart)."""
    return Reloaded(divisions=len(gm.reload_gazetteer()))


class PoolLoad(BaseModel):
    size: int = Field(description="Connections open now.")
    max_size: int = Field(description="Most connections the pool may open.")
    available: int = Field(description="Open connections idle in the pool.")
    waiting: int = Field(description="Requests waiting for a connection.")
    queued: int = Field(description="Connection requests that had to wait, since start.")
    errors: int = Field(description="Connection requests that failed or timed out, since start.")


class AdmissionLoad(BaseModel):
    limit: int = Field(description="Requests let in to work at once.")
    wait_s: float = Field(description="Longest wait for a slot before a 503.")
    in_flight: int = Field(description="Requests at work now.")
    waiting: int = Field(description="Requests waiting for a slot now.")
    admitted: int = Field(description="Requests let in since start.")
    rejected: int = Field(description="Requests refused with 503 since start.")


class Load(BaseModel):
    pool: PoolLoad | None = Field(description="The connection pool (none on a single connection).")
    admission: AdmissionLoad


@router.get(
    "/load",
    response_model=Load,
    responses={**UNAUTHORISED},
    summary="This worker's connection pool and admission control, now and since start",
)
def load(gm: GridmapDep, request: Request) -> Load:
    """What this worker is doing: connections open, idle and awaited, and requests at work,
    waiting and refused. The request asking counts itself as one at work."""
    gate = request.app.state.gate
    pool = None
    if gm.pool is not None:
        s = gm.pool.get_stats()
        pool = PoolLoad(
            size=s.get("pool_size", 0),
            max_size=s.get("pool_max", 0),
            available=s.get("pool_available", 0),
            waiting=s.get("requests_waiting", 0),
            queued=s.get("requests_queued", 0),
            errors=s.get("requests_errors", 0),
        )
    return Load(
        pool=pool,
        admission=AdmissionLoad(
            limit=gate.limit,
            wait_s=gate.wait_s,
            in_flight=gate.in_flight,
            waiting=gate.waiting,
            admitted=gate.admitted,
            rejected=gate.rejected,
        ),
    )
