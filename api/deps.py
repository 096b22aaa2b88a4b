"""Dependencies, declared once as ``Annotated`` aliases and reused in every route."""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections import deque
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from api.errors import InvalidApiKey, TooManyRequests
from api.settings import Settings
from gridmap.access import ANONYMOUS, Caller, Role
from gridmap.errors import Forbidden
from gridmap.service import Gridmap


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_gridmap(request: Request) -> Gridmap:
    """The app's :class:`~gridmap.service.Gridmap`: each use case takes a pooled connection
    inside its own call and gives it back, so no request holds one across its lifetime."""
    gm: Gridmap = request.app.state.gridmap
    return gm


GridmapDep = Annotated[Gridmap, Depends(get_gridmap)]


#: failed keys one client address may present in a minute before it is refused (429)
FAILED_KEYS_PER_MINUTE = 10


class Limits:
    """This worker's rate limits: a token bucket per key, and failed keys per address."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[int, tuple[float, float]] = {}
        self._failures: dict[str, deque[float]] = {}

    def failed(self, host: str) -> None:
        now = time.monotonic()
        with self._lock:
            q = self._failures.setdefault(host, deque())
            q.append(now)
            while q and q[0] < now - 60:
                q.popleft()
            if len(self._failures) > 10_000:
                self._failures = {host: q}

    def blocked_for(self, host: str) -> float:
        """Seconds until ``host`` may present a key again (0: now)."""
        now = time.monotonic()
        with self._lock:
            q = self._failures.get(host)
            if not q:
                return 0.0
            while q and q[0] < now - 60:
                q.popleft()
            return q[0] + 60 - now if len(q) >= FAILED_KEYS_PER_MINUTE else 0.0

    def take(self, key_id: int, per_minute: int) -> float:
        """Take one request from the key's bucket; seconds to wait when it is empty (0: go)."""
        now = time.monotonic()
        rate = per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            if tokens < 1:
                self._buckets[key_id] = (tokens, now)
                return (1 - tokens) / rate
            self._buckets[key_id] = (tokens - 1, now)
            return 0.0


def _limits(request: Request) -> Limits:
    limits: Limits | None = getattr(request.app.state, "limits", None)
    if limits is None:
        limits = request.app.state.limits = Limits()
    return limits


async def get_caller(
    request: Request,
    settings: SettingsDep,
    gm: GridmapDep,
    authorization: Annotated[
        str | None,
        Header(description="`Bearer <api key>`: the key's role decides what the caller sees "
               "and may do (phones in full for grid workers in their grids, planners, admins)."),
    ] = None,
    x_api_key: Annotated[str | None, Header(description="An API key, as for Authorization.")] = None,
) -> Caller:  # fmt: skip
    """Who is calling: anonymous (public) without a key; a wrong or revoked key is refused
    (401), and so is an address after too many wrong keys, or a key over its rate (429)."""
    presented = x_api_key
    if presented is None and authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidApiKey(
                f"Authorization scheme {scheme[:20]!r} is not accepted: send "
                "'Authorization: Bearer <api key>' or 'X-API-Key: <api key>'"
            )
        presented = token.strip()
    if presented is None:
        return ANONYMOUS  # no key: nothing to look up, and no thread to hop to
    return await run_in_threadpool(caller_for_key, request, settings, gm, presented)


def caller_for_key(
    request: Request, settings: Settings, gm: Gridmap, presented: str | None
) -> Caller:
    """The caller a presented key stands for (anonymous without one): a wrong or revoked key
    is refused (401), an address after too many wrong keys or a key over its rate (429)."""
    if presented is None:
        return ANONYMOUS
    limits = _limits(request)
    host = request.client.host if request.client else "unknown"
    wait = limits.blocked_for(host)
    if wait > 0:
        raise TooManyRequests(
            f"too many wrong API keys from {host}: try again in {math.ceil(wait)} s",
            retry_after=math.ceil(wait),
        )
    for key in settings.api_keys:
        if hmac.compare_digest(presented.encode(), key.encode()):
            return Caller("admin", name="GRIDMAP_API_KEYS")
    caller = gm.caller_for(presented)
    if caller is None:
        limits.failed(host)
        raise InvalidApiKey("the API key presented is not valid")
    if caller.key_id is not None:
        wait = limits.take(caller.key_id, caller.rate_per_minute)
        if wait > 0:
            raise TooManyRequests(
                f"key {caller.key_id} is over its rate of {caller.rate_per_minute} requests a "
                f"minute: try again in {math.ceil(wait)} s",
                retry_after=math.ceil(wait),
            )
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


async def is_authorised(caller: CallerDep) -> bool:
    """Whether the caller sees every chief's phone in full (planners and admins; a grid
    worker only in its grids, see :meth:`Caller.sees_contacts`)."""
    return caller.sees_contacts(None)


AuthorisedDep = Annotated[bool, Depends(is_authorised)]


def require(role: Role) -> Any:
    """A dependency refusing callers below ``role``: 401 without a key, 403 with one."""

    def check(caller: CallerDep) -> Caller:
        if caller.at_least(role):
            return caller
        if caller.key_id is None and caller.role == "public":
            raise InvalidApiKey(f"this needs an API key with the {role} role "
                                "(Authorization: Bearer or X-API-Key)")  # fmt: skip
        raise Forbidden(f"this needs a {role} key; {caller.actor} is a {caller.role} key")

    return Depends(check)


RequireKey = require("admin")
RequirePlanner = require("planner")
RequireAdmin = require("admin")
