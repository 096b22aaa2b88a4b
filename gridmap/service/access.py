"""Keys, callers and the audit trail."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from gridmap.service.base import ServiceBase

if TYPE_CHECKING:
    from datetime import datetime

    from gridmap.access import Caller, Role

__all__ = ["AccessUseCases"]

#: how long a looked-up key is trusted before it is looked up again (a revoked key stops
#: working within this many seconds in every worker)
KEY_CACHE_S = 10.0


class AccessUseCases(ServiceBase):
    _key_cache: dict[str, tuple[float, Caller | None]]
    _key_lock: threading.Lock

    def create_key(
        self, name: str, role: Role, scope: list[str] | tuple[str, ...] = (),
        rate_per_minute: int = 600, actor: str = "cli", body: str | None = None,
    ) -> tuple[int, str]:  # fmt: skip
        """A new API key: its id and its text (shown once; only a hash is kept). A
        department key names its ``body`` (department or company code)."""
        from gridmap.db.access import create_key

        with self.connection() as conn:
            return create_key(conn, name, role, scope, rate_per_minute, actor, body=body)

    def keys(self) -> list[dict[str, Any]]:
        from gridmap.db.access import list_keys

        with self.connection() as conn:
            return list_keys(conn)

    def revoke_key(self, key_id: int, actor: str = "cli") -> None:
        from gridmap.db.access import revoke_key

        with self.connection() as conn:
            revoke_key(conn, key_id, actor)
        self._caches()[0].clear()

    def caller_for(self, key: str) -> Caller | None:
        """The caller a key stands for (None: unknown or revoked), cached for a few seconds."""
        from gridmap.db.access import find_caller

        cache, lock = self._caches()
        now = time.monotonic()
        with lock:
            hit = cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self.connection() as conn:
            caller = find_caller(conn, key)
        with lock:
            if len(cache) > 10_000:
                cache.clear()
            cache[key] = (now + KEY_CACHE_S, caller)
        return caller

    def record(
        self, actor: str, action: str, target: str | None = None, before: Any = None,
        after: Any = None,
    ) -> None:  # fmt: skip
        """Append an event to the audit trail."""
        from gridmap.db.access import audit

        with self.connection() as conn:
            audit(conn, actor, action, target, before, after)

    def audit_events(
        self, *, target: str | None = None, actor: str | None = None,
        since: datetime | None = None, until: datetime | None = None, limit: int = 100,
    ) -> list[dict[str, Any]]:  # fmt: skip
        from gridmap.db.access import query_audit

        with self.connection() as conn:
            return query_audit(conn, target=target, actor=actor, since=since, until=until,
                               limit=limit)  # fmt: skip

    def _caches(self) -> tuple[dict[str, tuple[float, Caller | None]], threading.Lock]:
        if not hasattr(self, "_key_cache"):
            self._key_cache = {}
            self._key_lock = threading.Lock()
        return self._key_cache, self._key_lock
