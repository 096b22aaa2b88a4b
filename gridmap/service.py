"""The one entry point to gridmap: :class:`Gridmap` owns the database and the gazetteer.

The CLI, the HTTP API, the notebooks and the tests all go through it, so a use case behaves
the same wherever it is called from. It owns either one connection (the CLI, a script, a
test) or a connection pool (the API); every use case takes a connection for the length of
its own call and gives it back, so no caller ever holds one across a request.

>>> from gridmap.service import Gridmap
>>> Gridmap.__doc__.splitlines()[0]
'gridmap over one database: resolve, places, import, export, merge and maps.'
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, Any

import pandas as pd

from gridmap.address.gazetteer import Gazetteer
from gridmap.db import lookup
from gridmap.places import MAX_PAGE

if TYPE_CHECKING:
    from pathlib import Path

    import geopandas as gpd
    import psycopg
    from psycopg_pool import ConnectionPool

    from gridmap.db import DbStatus
    from gridmap.db.load import LoadReport
    from gridmap.errors import GridmapError
    from gridmap.io import Interchange, Problem
    from gridmap.lineage import Lineage
    from gridmap.maps import LeafletAssets
    from gridmap.merge import MergeOptions, MergeResult
    from gridmap.resolve.batch import BatchQuery, BatchRow, RowError
    from gridmap.results import (
        BuildingDetail,
        Division,
        GridCollection,
        GridFeature,
        Resolution,
    )

__all__ = ["MAX_PAGE", "ExportResult", "Gridmap", "ImportResult", "MergeOutcome"]

LOG = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called as ``progress(label, done, total)`` by long use cases."""


@dataclass
class ImportResult:
    """What an import found and, unless it was a dry run, what it changed."""

    counts: dict[str, int]
    notes: list[Problem] = field(default_factory=list)
    report: LoadReport | None = None


@dataclass
class ExportResult:
    """The exported layers, and the crosswalk when it was asked for."""

    data: Interchange
    crosswalk: pd.DataFrame | None


@dataclass
class MergeOutcome:
    """A merge's grids and QA report, and (unless a dry run) the generation written."""

    result: MergeResult
    lineage: Lineage
    generation: int | None = None
    crosswalk_rows: int = 0

    @property
    def grids(self) -> gpd.GeoDataFrame:
        """The merged grids with their final (inherited or fresh) codes."""
        return self.lineage.grids


class Gridmap:
    """gridmap over one database: resolve, places, import, export, merge and maps.

    Make one with :meth:`connect` (one connection of its own), :meth:`pooled` (a pool, for
    servers) or ``Gridmap(conn)`` over a connection the caller owns. Every connection it
    uses gets the look-up settings (:func:`gridmap.db.lookup.tune`). The address gazetteer is
    built from the database on first use and kept for the life of the object;
    :meth:`reload_gazetteer` rebuilds it after divisions change.
    """

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

    # ------------------------------------------------------------------ life cycle

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
            kwargs={"autocommit": True, "application_name": "gridmap-api"},
            configure=lookup.tune,
            open=False,
            name="gridmap",
            timeout=timeout,
        )
        pool.open(wait=True, timeout=timeout)
        return cls(pool=pool, owned=True)

    def close(self) -> None:
        """Close what this Gridmap opened (a connection or pool the caller gave stays open)."""
        if not self._owned:
            return
        if self._pool is not None:
            self._pool.close()
        elif self._conn is not None:
            self._conn.close()

    def __enter__(self) -> Gridmap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pool(self) -> ConnectionPool[Any] | None:
        """The pool, when this Gridmap has one (for its statistics)."""
        return self._pool

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A tuned connection for the length of one use case."""
        if self._pool is not None:
            with self._pool.connection() as conn:
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
        gaz = Gazetteer.from_records(records)
        LOG.info("gazetteer built: %d divisions", len(gaz))
        return gaz

    # ------------------------------------------------------------------ resolve

    def resolve_address(self, text: str, *, authorised: bool = False) -> Resolution:
        """The grid, building, unit and chiefs of a written address, or an honest "not sure"."""
        from gridmap.resolve.addresses import resolve_address

        gaz = self.gazetteer
        with self.connection() as conn:
            return resolve_address(conn, gaz, text, authorised=authorised)

    def resolve_addresses(
        self, texts: Sequence[str], *, authorised: bool = False
    ) -> list[Resolution | GridmapError]:
        """Many addresses over one connection, sharing their look-ups; errors in place."""
        from gridmap.resolve.addresses import resolve_addresses

        gaz = self.gazetteer
        with self.connection() as conn:
            return resolve_addresses(conn, gaz, texts, authorised=authorised)

    def resolve_point(
        self, x: float, y: float, crs: str | int = "EPSG:4490", *, authorised: bool = False
    ) -> Resolution:
        """The grid (and building) at a point in ``crs``; the nearest grid when outside all."""
        from gridmap.resolve.points import resolve_point

        with self.connection() as conn:
            return resolve_point(conn, x, y, crs, authorised=authorised)

    def resolve_points(
        self, points: Sequence[tuple[float, float, str | int]], *, authorised: bool = False
    ) -> list[Resolution | GridmapError]:
        """Many ``(x, y, crs)`` points in one query; a bad point gives its error in place."""
        from gridmap.resolve.points import resolve_points

        with self.connection() as conn:
            return resolve_points(conn, points, authorised=authorised)

    def resolve_batch(
        self,
        queries: Sequence[BatchQuery | RowError],
        *,
        authorised: bool = False,
        first_row: int = 1,
    ) -> list[BatchRow]:
        """A chunk of validated rows (addresses and points mixed), one answer per row."""
        from gridmap.resolve.batch import resolve_batch

        gaz = self.gazetteer
        with self.connection() as conn:
            return resolve_batch(conn, gaz, queries, authorised=authorised, first_row=first_row)

    def resolve_csv(self, source: IO[str], sink: IO[str], **options: Any) -> dict[str, int]:
        """Stream a CSV of addresses or points to a CSV of grids and chiefs; counts per status.

        ``options`` are those of :func:`gridmap.resolve.batch.resolve_csv`.
        """
        from gridmap.resolve.batch import resolve_csv

        gaz = self.gazetteer
        with self.connection() as conn:
            return resolve_csv(conn, gaz, source, sink, **options)

    # ------------------------------------------------------------------ places

    def grid(self, code: str, *, authorised: bool = False) -> GridFeature:
        """A current grid as a GeoJSON Feature with its chief, households and divisions."""
        from gridmap import places

        with self.connection() as conn:
            return places.grid(conn, code, authorised=authorised)

    def grids_within(
        self, division_code: str, *, limit: int = 100, offset: int = 0, authorised: bool = False
    ) -> GridCollection:
        """One page of the current grids inside a division."""
        from gridmap import places

        with self.connection() as conn:
            return places.grids_within(
                conn, division_code, limit=limit, offset=offset, authorised=authorised
            )

    def division(self, code: str) -> Division:
        """One division with its parent, aliases and number of children."""
        from gridmap import places

        with self.connection() as conn:
            return places.division(conn, code)

    def division_children(self, code: str) -> list[Division]:
        """The divisions directly under ``code``."""
        from gridmap import places

        with self.connection() as conn:
            return places.division_children(conn, code)

    def division_names(self, code: str) -> dict[str, str]:
        """Names of the divisions a division or grid code passes through, by 12-digit code."""
        from gridmap import places

        with self.connection() as conn:
            return places.division_names(conn, code)

    def building(self, external_id: str, *, authorised: bool = False) -> BuildingDetail:
        """A building by its external id, with its grid, chiefs and units."""
        from gridmap import places

        with self.connection() as conn:
            return places.building(conn, external_id, authorised=authorised)

    def ping(self) -> None:
        """Raise unless the database answers."""
        with self.connection() as conn:
            lookup.ping(conn)

    def status(self) -> DbStatus:
        """The database in use: server, PostGIS/GEOS/PROJ versions, migration level, counts."""
        from gridmap.db import status

        with self.connection() as conn:
            return status(conn)

    # ------------------------------------------------------------------ import / export

    def validate(self, data: Interchange, *, fix: bool = False) -> list[Problem]:
        """Every problem in ``data``, against the divisions this database already holds."""
        from gridmap.db.load import known_division_codes
        from gridmap.io import validate

        with self.connection() as conn:
            known = known_division_codes(conn)
        return validate(data, fix=fix, known_codes=known)

    def import_data(
        self,
        data: Interchange,
        *,
        fix: bool = False,
        dry_run: bool = False,
        source: str = "import",
        progress: Progress | None = None,
    ) -> ImportResult:
        """Validate ``data`` and write it, all or nothing.

        Raises :class:`~gridmap.errors.ImportValidationError` listing every error; warnings
        and repairs come back in ``notes``. A dry run validates and writes nothing.
        """
        from gridmap.db.load import known_division_codes, load_interchange
        from gridmap.io import validate_or_raise

        with self.connection() as conn:
            notes = validate_or_raise(data, fix=fix, known_codes=known_division_codes(conn))
            result = ImportResult(counts=data.counts(), notes=notes)
            if dry_run:
                return result
            result.report = load_interchange(conn, data, source=source, progress=progress)
        if result.report.inserted.get("division") or result.report.updated.get("division"):
            self._forget_gazetteer()
        return result

    def import_file(
        self,
        path: str | Path,
        *,
        source_crs: str | None = None,
        encoding: str | None = None,
        fix: bool = False,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> ImportResult:
        """Read a GeoPackage or folder in the interchange format and import it."""
        from gridmap.io import read_interchange

        data = read_interchange(path, source_crs=source_crs, encoding=encoding)
        return self.import_data(
            data, fix=fix, dry_run=dry_run, source=f"import {path}", progress=progress
        )

    def export(
        self,
        layers: Sequence[str] | None = None,
        *,
        within: str | None = None,
        generation: int | None = None,
        authorised: bool = False,
    ) -> ExportResult:
        """The database, or one division of it, as interchange layers (and the crosswalk).

        Chiefs' phones are masked unless ``authorised``; the importer refuses masked phones,
        so an export meant to move data between databases must be authorised.
        """
        from gridmap.db.dump import dump_interchange
        from gridmap.privacy import shown_phone

        with self.connection() as conn:
            data, crosswalk = dump_interchange(
                conn, layers=list(layers) if layers else None, within=within, generation=generation
            )
        if not authorised and len(data.people):
            phones = data.people["phone"].astype(object).where(data.people["phone"].notna(), None)
            data.people["phone"] = pd.Series(
                [shown_phone(p, False) for p in phones], index=data.people.index, dtype="string"
            )
        return ExportResult(data, crosswalk)

    def _forget_gazetteer(self) -> None:
        with self._gaz_lock:
            self._gazetteer = None

    # ------------------------------------------------------------------ merge

    def merge(
        self,
        within: str | None = None,
        options: MergeOptions | None = None,
        *,
        dry_run: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> MergeOutcome:
        """多网合一 for a division (or the whole database): merge, inherit codes, write.

        The pure steps run first (merge, then code lineage against the current grids); the
        result is written as a new generation with its crosswalk in one transaction.
        """
        from gridmap.db.mergeio import read_merge_inputs, write_merge_result
        from gridmap.geometry import storage_valid
        from gridmap.lineage import inherit_codes, rename_crosswalk
        from gridmap.merge import MergeOptions, merge_layers

        with self.connection() as conn:
            inputs = read_merge_inputs(conn, within)
            opts = replace(options or MergeOptions(), used_serials=inputs.used_serials).validate()
            result = merge_layers(
                inputs.communities, inputs.legacy, inputs.buildings, opts, progress=progress
            )
            lineage = inherit_codes(
                storage_valid(result.grids), inputs.current, inputs.used_serials
            )
            outcome = MergeOutcome(result=result, lineage=lineage)
            if dry_run:
                return outcome
            written = write_merge_result(
                conn,
                lineage.grids,
                rename_crosswalk(result.crosswalk, lineage),
                source=f"merge {within or 'all'}",
            )
        outcome.generation = written.generation
        outcome.crosswalk_rows = written.crosswalk_rows
        result.report["generation"] = written.generation
        result.report["codes"] = {"inherited": len(lineage.inherited), "fresh": len(lineage.fresh)}
        return outcome

    # ------------------------------------------------------------------ maps

    def coverage_map(
        self,
        within: str | None = None,
        *,
        target: tuple[int, int] = (300, 500),
        tiles_url: str | None = None,
        assets: LeafletAssets | None = None,
    ) -> Any:
        """The planner's offline coverage map of a division (or everything), as a folium Map."""
        from gridmap.db import mapdata
        from gridmap.maps import coverage_map

        with self.connection() as conn:
            cov = mapdata.coverage_data(conn, within)
        return coverage_map(
            cov.grids,
            cov.communities,
            cov.legacy,
            target=target,
            tiles_url=tiles_url,
            assets=assets,
        )

    def zone_map(
        self,
        grid_code: str,
        *,
        show_phones: bool = False,
        tiles_url: str | None = None,
        assets: LeafletAssets | None = None,
    ) -> Any:
        """A grid worker's offline "my zone" map, as a folium Map."""
        from gridmap.db import mapdata
        from gridmap.maps import zone_map

        with self.connection() as conn:
            zone = mapdata.zone_data(conn, grid_code)
        return zone_map(
            zone.grid,
            zone.buildings,
            zone.chiefs,
            zone.neighbours,
            show_phones=show_phones,
            tiles_url=tiles_url,
            assets=assets,
        )
