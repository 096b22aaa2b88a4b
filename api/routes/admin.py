"""Operations for those holding an API key."""

from __future__ import annotations

from fastapi import APIRouter
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
