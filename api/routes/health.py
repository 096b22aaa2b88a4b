"""Liveness and readiness."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import GridmapDep
from api.errors import UNAVAILABLE

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    database: Literal["ok"] = "ok"


@router.get("/healthz", response_model=Health, responses={**UNAVAILABLE}, summary="Health check")
async def healthz(gm: GridmapDep) -> Health:
    """``ok`` when the service can query its database."""
    await gm.aping()
    return Health()
