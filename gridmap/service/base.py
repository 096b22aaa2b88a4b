"""What every use case of :class:`~gridmap.service.Gridmap` stands on: its connections and
its gazetteer."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any, Self

from gridmap.address.gazetteer import Gazetteer
from gridmap.address.world import known_divisions
from gridmap.db import lookup

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    import psycopg
    from psycopg_pool import AsyncConnectionPool, ConnectionPool

__all__ = ["ServiceBase"]

LOG = logging.getLogger(__name__)

#: what every pooled connection is opened with: a new connection gives up after 2 s, so
#: an outage answers 503 quickly
POOL_KWARGS: dict[str, Any] = {
    "autocommit": True, "application_name": "gridmap-api", "connect_timeout": 2,
}  # fmt: skip


class ServiceBase:
    """One database behind a connection or a pool, and the address gazetteer built from it."""

    def __init__(
        self,
        conn: psycopg.Connection[Any] | None = None,
        *,
        pool: ConnectionPool[Any] | None = None,
        owned: bool = False,
    ) -> None:
        if (conn is None) == (pool is None):
            raise TypeError("Gridmap needs exactly one of a connection or a pool")
        self._conn = conn
        self._pool = pool
        self._owned = owned
        self._conn_lock = threading.RLock()
        self._gaz_lock = threading.Lock()
        self._gazetteer: Gazetteer | None = None
        self._apool: AsyncConnectionPool[Any] | None = None
        if conn is not None:
            lookup.tune(conn)

    def close(self) -> None:
        """Close what this Gridmap opened (a connection or pool the caller gave stays open)."""
        if not self._owned:
            return
        if self._pool is not None:
            self._pool.close()
        elif self._conn is not None:
            self._conn.close()

    async def open_async(
        self, *, min_size: int = 1, max_size: int = 10, timeout: float = 30.0
    ) -> None:
        """Open an async pool beside the pool (in the serving event loop), for the look-ups
        that run as coroutines (:meth:`aconnection`). Its connections are tuned alike."""
        from psycopg_pool import AsyncConnectionPool

        if self._pool is None:
            raise TypeError("an async pool needs a pooled Gridmap (Gridmap.pooled)")
        apool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            self._pool.conninfo,
            min_size=min_size,
            max_size=max_size,
            kwargs=dict(POOL_KWARGS, application_name="gridmap-api-async"),
            configure=lookup.atune,
            # checked as it leaves the pool, as the thread pool's are (a round trip, but after
            # a database restart a dead connection is replaced instead of failing a request)
            check=AsyncConnectionPool.check_connection,
            open=False,
            name="gridmap-async",
            timeout=timeout,
        )
        await apool.open(wait=True, timeout=timeout)
        self._apool = apool

    async def close_async(self) -> None:
        """Close the async pool, when one is open (a use case then fails as on an outage)."""
        if self._apool is not None:
            await self._apool.close()

    @asynccontextmanager
    async def aconnection(
        self, timeout: float | None = None
    ) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A tuned async connection for one use case (waiting at most ``timeout`` seconds)."""
        if self._apool is None:
            raise RuntimeError("no async pool is open: call open_async() in the event loop")
        async with self._apool.connection(timeout=timeout) as conn:
            yield conn

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pool(self) -> ConnectionPool[Any] | None:
        """The pool, when this Gridmap has one (for its statistics)."""
        return self._pool

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A tuned connection for the length of one use case (from a pool: waiting at most
        ``timeout`` seconds, default the pool's)."""
        if self._pool is not None:
            with self._pool.connection(timeout=timeout) as conn:
                yield conn
            return
        assert self._conn is not None
        with self._conn_lock:
            yield self._conn

    # ------------------------------------------------------------------ gazetteer

    @property
    def gazetteer(self) -> Gazetteer:
        """The address gazetteer of this database, built on first use."""
        with self._gaz_lock:
            if self._gazetteer is None:
                self._gazetteer = self._build_gazetteer()
            return self._gazetteer

    def reload_gazetteer(self) -> Gazetteer:
        """Rebuild the gazetteer from the divisions and their aliases (after an import)."""
        gaz = self._build_gazetteer()
        with self._gaz_lock:
            self._gazetteer = gaz
        return gaz

    def _build_gazetteer(self) -> Gazetteer:
        with self.connection() as conn:
            rows = lookup.division_records(conn)
        records = [
            (r["code"], r["name"], r["level"], r["parent_code"], tuple(r["aliases"] or ()))
            for r in rows
        ]
        gaz = Gazetteer.from_records(records, known_divisions())
        LOG.info("gazetteer built: %d divisions", len(gaz))
        return gaz

    def _forget_gazetteer(self) -> None:
        with self._gaz_lock:
            self._gazetteer = None
