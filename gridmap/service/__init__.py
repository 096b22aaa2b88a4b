"""The one entry point to gridmap: :class:`Gridmap` owns the database and the gazetteer.

The CLI, the HTTP API, the notebooks and the tests all go through it, so a use case behaves
the same wherever it is called from. It owns either one connection (the CLI, a script, a
test) or a connection pool (the API); every use case takes a connection for the length of
its own call and gives it back, so no caller ever holds one across a request. Its use cases
are grouped by kind: :mod:`~gridmap.service.lookups` (resolve, places) and
:mod:`~gridmap.service.data` (import, export, merge, maps), over
:mod:`~gridmap.service.base` (connections and gazetteer).

>>> Gridmap.__doc__.splitlines()[0]
'gridmap over one database: resolve, places, import, export, merge, maps, plans, appeals.'
"""

from __future__ import annotations

from typing import Any

from gridmap.db import lookup
from gridmap.places import MAX_PAGE
from gridmap.service.access import AccessUseCases
from gridmap.service.appeals import AppealUseCases, Intake
from gridmap.service.base import POOL_KWARGS
from gridmap.service.data import DataUseCases, ExportResult, ImportResult
from gridmap.service.duties import DutyUseCases
from gridmap.service.lookups import Lookups
from gridmap.service.merges import MergeOutcome, MergeRun, MergeUseCases
from gridmap.service.plans import PlanUseCases
from gridmap.service.roster import RosterUseCases

__all__ = [
    "MAX_PAGE", "ExportResult", "Gridmap", "ImportResult", "Intake", "MergeOutcome", "MergeRun",
]  # fmt: skip


class Gridmap(
    Lookups, DataUseCases, MergeUseCases, PlanUseCases, AccessUseCases, RosterUseCases,
    DutyUseCases, AppealUseCases,
):  # fmt: skip
    """gridmap over one database: resolve, places, import, export, merge, maps, plans, appeals.

    Make one with :meth:`connect` (one connection of its own), :meth:`pooled` (a pool, for
    servers) or ``Gridmap(conn)`` over a connection the caller owns. Every connection it
    uses gets the look-up settings (:func:`gridmap.db.lookup.tune`). The address gazetteer is
    built from the database on first use and kept for the life of the object;
    :meth:`reload_gazetteer` rebuilds it after divisions change.
    """

    @classmethod
    def connect(cls, url: str) -> Gridmap:
        """A Gridmap over a connection of its own to the database at ``url``."""
        from gridmap.db import connect

        return cls(connect(url, autocommit=True), owned=True)

    @classmethod
    def pooled(
        cls,
        url: str | None = None,
        *,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
    ) -> Gridmap:
        """A Gridmap over a connection pool of its own (opened, ready to serve).

        Without ``url`` the local default database is found or created (PostGIS installed,
        migrated), as the CLI does.
        """
        from psycopg_pool import ConnectionPool

        if url is None:
            from gridmap.db import provision

            url = provision().url
        pool: ConnectionPool[Any] = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            kwargs=dict(POOL_KWARGS),
            configure=lookup.tune,
            # each connection is checked as it leaves the pool: after a database restart the
            # dead ones are replaced instead of failing a request each
            check=ConnectionPool.check_connection,
            open=False,
            name="gridmap",
            timeout=timeout,
        )
        pool.open(wait=True, timeout=timeout)
        return cls(pool=pool, owned=True)
