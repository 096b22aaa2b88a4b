"""Admission control: beyond its capacity the API refuses quickly with 503 and Retry-After.

The gate is exercised over a real ASGI app whose requests finish only when the test says so,
so "at capacity" is a state the test holds, not a race it hopes to win; the full app then
shows the gate and the pool in ``/v1/admin/load``.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from typing import TYPE_CHECKING

import httpx
import pytest

from api.app import create_app
from api.middleware import Admission, Gate
from api.settings import Settings
from tests.region import Region, region

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["region"]


class Held:
    """An ASGI app whose ``/hold`` requests answer only once :attr:`release` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.started += 1
        if scope["path"] == "/hold":
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})


def _client(app: Admission) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def test_beyond_capacity_a_request_waits_at_most_the_wait_then_gets_503() -> None:
    async def run() -> None:
        inner = Held()
        gate = Gate(limit=2, wait_s=0.3, retry_after_s=7)
        app = Admission(inner, gate, exempt=("/docs",))
        async with _client(app) as c:
            held = [asyncio.create_task(c.get("/hold")) for _ in range(2)]
            while gate.in_flight < 2:
                await asyncio.sleep(0.01)
            t0 = time.perf_counter()
            refused = await c.get("/v1/resolve")
            waited = time.perf_counter() - t0
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "7"
            assert refused.headers["content-type"] == "application/problem+json"
            body = refused.json()
            assert body["code"] == "overloaded"
            assert "2 requests at work" in body["detail"]
            assert body["instance"] == "/v1/resolve"
            assert 0.25 <= waited < 1.5
            assert inner.started == 2  # the refused one never reached the app
            # the docs touch no database and pass while the gate is full
            assert (await c.get("/docs")).status_code == 200
            # a waiter let in as soon as a slot frees, before its wait is over
            waiter = asyncio.create_task(c.get("/v1/other"))
            while gate.waiting < 1:
                await asyncio.sleep(0.01)
            inner.release.set()
            assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]
            assert (await waiter).text == "/v1/other"
        assert (gate.in_flight, gate.waiting) == (0, 0)
        assert (gate.admitted, gate.rejected) == (3, 1)

    asyncio.run(run())


def test_a_refused_wait_leaves_no_slot_behind() -> None:
    """Timeouts cancel the wait cleanly: after many refusals the full capacity is free."""

    async def run() -> None:
        inner = Held()
        gate = Gate(limit=1, wait_s=0.05, retry_after_s=1)
        async with _client(Admission(inner, gate)) as c:
            hold = asyncio.create_task(c.get("/hold"))
            while gate.in_flight < 1:
                await asyncio.sleep(0.01)
            codes = [r.status_code for r in await asyncio.gather(*(c.get("/x") for _ in range(20)))]
            assert codes == [503] * 20
            inner.release.set()
            await hold
            again = await asyncio.gather(*(c.get("/x") for _ in range(5)))
            assert [r.status_code for r in again] == [200] * 5
        assert (gate.in_flight, gate.waiting, gate.rejected) == (0, 0, 20)

    asyncio.run(run())


@pytest.mark.postgis
def test_admin_load_shows_the_gate_and_the_pool(region: Region, db_url: str) -> None:
    settings = Settings(
        database_url=db_url, api_keys="k", pool_max_size=4, admission_wait_s=0.5, retry_after_s=3
    )
    with TestClient(create_app(settings)) as c:
        assert c.get("/v1/admin/load").status_code == 401
        for _ in range(3):
            assert c.get("/v1/resolve/point", params={"lon": 125.305, "lat": 43.885}).is_success
        load = c.get("/v1/admin/load", headers={"X-API-Key": "k"}).json()
    assert load["admission"] == {
        "limit": 4,
        "wait_s": 0.5,
        "in_flight": 1,  # the request asking
        "waiting": 0,
        "admitted": 5,  # the 401, three points and the load itself
        "rejected": 0,
    }
    pool = load["pool"]
    assert pool["max_size"] == 4
    assert pool["available"] == pool["size"] >= 1
    assert pool["waiting"] == 0
    assert pool["errors"] == 0


def test_in_flight_follows_the_pool_unless_set() -> None:
    assert Settings(pool_max_size=6).in_flight_limit == 6
    assert Settings(pool_max_size=6, max_in_flight=3).in_flight_limit == 3
    with pytest.raises(ValueError, match="admission_wait_s"):
        Settings(admission_wait_s=-1)
