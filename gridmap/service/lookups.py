"""The look-up use cases: resolve addresses and points (one, many, a CSV), and places."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from gridmap.db import lookup
from gridmap.service.base import ServiceBase

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gridmap.db import DbStatus
    from gridmap.errors import GridmapError
    from gridmap.resolve.batch import BatchQuery, BatchRow, RowError
    from gridmap.resolve.index import PointIndex
    from gridmap.results import BuildingDetail, Division, GridCollection, GridFeature, Resolution

__all__ = ["Lookups"]


class Lookups(ServiceBase):
    """Resolution and places: every call takes a connection for its own length only."""

    # ------------------------------------------------------------------ resolve

    def resolve_address(
        self, text: str, *, authorised: bool = False, crs: str | int = "EPSG:4490"
    ) -> Resolution:
        """The grid, building, unit and chiefs of a written address, or an honest "not sure";
        ``location`` (the building's point) in ``crs``."""
        from gridmap.resolve.addresses import resolve_address

        gaz = self.gazetteer
        with self.connection() as conn:
            return resolve_address(conn, gaz, text, authorised=authorised, crs=crs)

    def resolve_addresses(
        self, texts: Sequence[str], *, authorised: bool = False, crs: str | int = "EPSG:4490"
    ) -> list[Resolution | GridmapError]:
        """Many addresses over one connection, sharing their look-ups; errors in place."""
        from gridmap.resolve.addresses import resolve_addresses

        gaz = self.gazetteer
        with self.connection() as conn:
            return resolve_addresses(conn, gaz, texts, authorised=authorised, crs=crs)

    def tile(self, layer: str, z: int, x: int, y: int) -> bytes:
        """A Mapbox Vector Tile of ``layer`` (grids, divisions, buildings) at ``z/x/y``."""
        from gridmap.db import tiles

        with self.connection() as conn:
            return tiles.tile(conn, layer, z, x, y)

    def resolve_point(
        self, x: float, y: float, crs: str | int = "EPSG:4490", *, authorised: bool = False
    ) -> Resolution:
        """The grid (and building) at a point in ``crs``; the nearest grid when outside all."""
        from gridmap.resolve.points import resolve_point

        with self.connection() as conn:
            return resolve_point(conn, x, y, crs, authorised=authorised)

    async def aresolve_point(
        self, x: float, y: float, crs: str | int = "EPSG:4490", *, authorised: bool = False
    ) -> Resolution:
        """:meth:`resolve_point` as a coroutine, over the async pool (one query)."""
        from gridmap.resolve.points import aresolve_point

        async with self.aconnection() as conn:
            return await aresolve_point(conn, x, y, crs, authorised=authorised)

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

    def point_index(self) -> PointIndex:
        """The current grids and building footprints, loaded for locating points in memory."""
        from gridmap.resolve.index import PointIndex

        with self.connection() as conn:
            return PointIndex.load(conn)

    def resolve_csv(self, source: IO[str], sink: IO[str], **options: Any) -> dict[str, int]:
        """Stream a CSV of addresses or points to a CSV of grids and chiefs; counts per status.

        ``options`` are those of :func:`gridmap.resolve.batch.resolve_csv`.
        """
        from gridmap.resolve.batch import resolve_csv

        with self.connection() as conn:
            return resolve_csv(conn, lambda: self.gazetteer, source, sink, **options)

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

    def ping(self, timeout: float = 1.0) -> None:
        """Raise unless the database answers within about ``timeout`` seconds."""
        with self.connection(timeout=timeout) as conn:
            lookup.ping(conn)

    async def aping(self, timeout: float = 1.0) -> None:
        """:meth:`ping` as a coroutine, over the async pool."""
        async with self.aconnection(timeout=timeout) as conn:
            await lookup.aping(conn)

    def status(self) -> DbStatus:
        """The database in use: server, PostGIS/GEOS/PROJ versions, migration level, counts."""
        from gridmap.db import status

        with self.connection() as conn:
            return status(conn)
