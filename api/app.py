"""The HTTP API: ``create_app(settings)`` builds a FastAPI app over the gridmap library.

Routes are thin: they parse parameters and call the app's :class:`gridmap.service.Gridmap`;
errors become problem+json in :mod:`api.errors`. The Gridmap (with its connection pool and
address gazetteer) is opened in the lifespan.
"""

from __future__ import annotations

import importlib.resources
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import gridmap
from api.errors import PROBLEM_JSON, Problem, honest_openapi, register
from api.routes import admin, docs, health, places, resolve
from api.settings import Settings
from gridmap.service import Gridmap

LOG = logging.getLogger(__name__)

DESCRIPTION = """
Resolve an address or a point to its unified grid (统一网格) and its three chiefs: the grid
chief (网格长), the building chief (楼栋长) and the unit chief (单元长).

Chiefs' phone numbers are masked (`139****5678`) unless the request carries an API key,
as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Errors are
`application/problem+json` (RFC 9457) with a stable `code`.
"""


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413 problem+json, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = (
            Problem(
                type="urn:gridmap:problem:limit_exceeded",
                title="Content Too Large",
                status=413,
                detail=f"the request body is larger than {self.max_bytes} bytes",
                instance=scope.get("path"),
                code="limit_exceeded",
            )
            .model_dump_json(exclude_none=True)
            .encode()
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def _open_service(settings: Settings) -> Gridmap:
    gm = Gridmap.pooled(
        settings.database_url or None,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
    )
    gm.reload_gazetteer()
    return gm


def create_app(settings: Settings | None = None) -> FastAPI:
    """The gridmap HTTP API, configured by ``settings`` (default: ``GRIDMAP_*`` variables)."""
    settings = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gm = await run_in_threadpool(_open_service, settings)
        app.state.gridmap = gm
        try:
            yield
        finally:
            await run_in_threadpool(gm.close)

    app = FastAPI(
        title="gridmap",
        version=getattr(gridmap, "__version__", "0"),
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    register(app)
    for module in (resolve, places, admin, health, docs):
        app.include_router(module.router)
    static = importlib.resources.files("fastapi_standalone_docs") / "static"
    app.mount(docs.STATIC, StaticFiles(directory=str(static)), name="docs-static")
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = honest_openapi(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def openapi_json(app: FastAPI) -> str:
    """The app's OpenAPI document as JSON text (for docs and checks)."""
    return json.dumps(app.openapi(), ensure_ascii=False, indent=2)
