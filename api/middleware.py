"""ASGI middleware: a request body limit and admission control, both answering problem+json.

:class:`Admission` keeps the number of requests working at once at the connection pool's
size. A request beyond that waits in the event loop (holding no thread and no connection)
for at most ``wait_s``; then it is refused with 503 and ``Retry-After``. So a burst of any
size never piles threads onto a pool they cannot get a connection from, and no caller waits
longer than the configured time before being told to come back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING

from api.errors import PROBLEM_JSON, Problem

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Admission", "BodyLimit", "Gate"]


async def send_problem(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer an HTTP request with a problem+json body, straight over ASGI."""
    body = (
        Problem(
            type=f"urn:gridmap:problem:{code}",
            title=HTTPStatus(status).phrase,
            status=status,
            detail=detail,
            instance=scope.get("path"),
            code=code,
        )
        .model_dump_json(exclude_none=True)
        .encode()
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class NoNul:
    """Refuse a URL holding a NUL character (``%00``) with 422 problem+json: no value the
    API takes (a code, an id, an address) may hold one, and the database cannot store it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = bytes(scope.get("raw_path") or b"") + b"?" + bytes(scope.get("query_string", b""))
            if b"%00" in raw or b"\x00" in raw:
                where = "path" if b"%00" in bytes(scope.get("raw_path") or b"") else "query"
                detail = f"the URL's {where} holds a NUL character (%00); no value may hold one"
                await send_problem(scope, send, 422, "invalid_input", detail)
                return
        await self.app(scope, receive, send)


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
        detail = f"the request body is larger than {self.max_bytes} bytes"
        await send_problem(scope, send, 413, "limit_exceeded", detail)


class _TooLarge(Exception):
    pass


@dataclass
class Gate:
    """How many requests may work at once, how long others wait, and what happened so far.

    The semaphore is made in the serving event loop (:meth:`open`, from the app's lifespan),
    so an app can be served by more than one loop in its life (as tests do).
    """

    limit: int
    wait_s: float
    retry_after_s: int
    in_flight: int = 0
    waiting: int = 0
    admitted: int = 0
    rejected: int = 0
    _slots: asyncio.Semaphore | None = field(default=None, repr=False)

    def open(self) -> None:
        self._slots = asyncio.Semaphore(self.limit)
        self.in_flight = self.waiting = 0

    async def enter(self) -> bool:
        """Take a slot, waiting at most ``wait_s``; False when none came free in time."""
        if self._slots is None:
            self.open()
        assert self._slots is not None
        if self._slots.locked():
            self.waiting += 1
            try:
                async with asyncio.timeout(self.wait_s):
                    await self._slots.acquire()
            except TimeoutError:
                self.rejected += 1
                return False
            finally:
                self.waiting -= 1
        else:
            await self._slots.acquire()
        self.in_flight += 1
        self.admitted += 1
        return True

    def leave(self) -> None:
        assert self._slots is not None
        self.in_flight -= 1
        self._slots.release()


class Admission:
    """Let at most ``gate.limit`` requests work at once; refuse the ones that wait too long.

    Paths under ``exempt`` (the docs and their assets, which touch no database) pass freely.
    """

    def __init__(self, app: ASGIApp, gate: Gate, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.gate = gate
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        if not await self.gate.enter():
            detail = (
                f"the service is at capacity ({self.gate.limit} requests at work) and none "
                f"finished within {self.gate.wait_s:g} s; retry after "
                f"{self.gate.retry_after_s} s"
            )
            retry = [(b"retry-after", str(self.gate.retry_after_s).encode())]
            await send_problem(scope, send, 503, "overloaded", detail, headers=retry)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.leave()
