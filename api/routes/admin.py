"""Operations for those holding an API key."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ConnDep, RequireKey
from api.errors import UNAUTHORISED
from gridmap.resolve import load_gazetteer

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[RequireKey])


class Reloaded(BaseModel):
    divisions: int = Field(description="Divisions in the reloaded gazetteer.")


@router.post(
    "/gazetteer/reload",
    response_model=Reloaded,
    responses={**UNAUTHORISED},
    summary="Reload the address gazetteer after divisions or aliases changed",
)
def reload_gazetteer(conn: ConnDep) -> Reloaded:
    """Rebuild this worker's gazetteer from the ``division`` and ``division_alias`` tables
    (each worker process holds its own; call once per worker, or restart)."""
    return Reloaded(divisions=len(load_gazetteer(conn, reload=True)))
