"""Liveness and readiness."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import ConnDep
from api.errors import UNAVAILABLE
from gridmap.db import lookup

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    database: Literal["ok"] = "ok"


@router.get("/healthz", response_model=Health, responses={**UNAVAILABLE}, summary="Health check")
def healthz(conn: ConnDep) -> Health:
    """``ok`` when the service can query its database."""
    lookup.ping(conn)
    return Health()
