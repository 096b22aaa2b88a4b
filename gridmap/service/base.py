"""What every use case of :class:`~gridmap.service.Gridmap` stands on: its connections and
its gazetteer."""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self

from gridmap.address.gazetteer import Gazetteer
from gridmap.address.world import known_divisions
from gridmap.db import lookup

if TYPE_CHECKING:
    from collections.abc import Iterator

    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = ["ServiceBase"]

LOG = logging.getLogger(__name__)


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
