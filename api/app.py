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

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

import gridmap
from api.errors import honest_openapi, register
from api.middleware import Admission, BodyLimit, Gate, NoNul
from api.routes import (
    admin,
    appeals,
    audit,
    docs,
    health,
    maps,
    open311,
    places,
    plans,
    resolve,
    roster,
    tiles,
)  # fmt: skip
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


def _open_service(settings: Settings) -> Gridmap:
    gm = Gridmap.pooled(
        settings.database_url or None,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=settings.pool_timeout_s,
    )
    # the gazetteer and its national names are built now, not by the first addresses callers
    # send (a burst of them at start-up would each wait a second of CPU)
    _ = gm.reload_gazetteer().world
    if settings.photo_dir:
        from pathlib import Path

        gm.photo_dir = Path(settings.photo_dir)
    gm.photo_max_bytes = settings.photo_max_bytes
    gm.duplicate_metres = settings.duplicate_metres
    return gm


def create_app(settings: Settings | None = None) -> FastAPI:
    """The gridmap HTTP API, configured by ``settings`` (default: ``GRIDMAP_*`` variables)."""
    settings = settings if settings is not None else Settings()
    gate = Gate(settings.in_flight_limit, settings.admission_wait_s, settings.retry_after_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gate.open()
        # an admitted request must never wait for a worker thread: leave room for all of
        # them and for the dependencies they run in threads too
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, 2 * gate.limit + 8)
        gm = await run_in_threadpool(_open_service, settings)
        try:
            # the point look-up and the health check run as coroutines on a pool of their own
            await gm.open_async(
                min_size=settings.pool_min_size,
                max_size=settings.pool_max_size,
                timeout=settings.pool_timeout_s,
            )
        except BaseException:
            await run_in_threadpool(gm.close)
            raise
        app.state.gridmap = gm
        try:
            yield
        finally:
            await gm.close_async()
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
    app.state.gate = gate
    register(app)
    for module in (resolve, places, plans, roster, appeals, open311, maps, tiles, admin, audit,
                   health, docs):  # fmt: skip
        app.include_router(module.router)
    static = importlib.resources.files("fastapi_standalone_docs") / "static"
    app.mount(docs.STATIC, StaticFiles(directory=str(static)), name="docs-static")
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(NoNul)
    # outermost: a request beyond capacity is turned away before anything else runs
    docs_paths = (docs.STATIC, "/docs", "/redoc", "/openapi.json")
    app.add_middleware(Admission, gate=gate, exempt=docs_paths)
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
