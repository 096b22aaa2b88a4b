"""Queries that feed :mod:`gridmap.maps`: GeoDataFrames in CGCS2000 (EPSG:4490).

Only current grids (the view ``current_grid``) and current chiefs (``until IS NULL``) are read.
Buildings belong to the grid their point lies in, found spatially, so a redrawn boundary
moves them without any update. Phone numbers come back as stored: masking is the map's job
(:func:`gridmap.privacy.shown_phone`), so that ``--show-phones`` can be a choice made in one
place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, LiteralString

import geopandas as gpd
import pandas as pd
import shapely

from gridmap.codes import code_prefix, parse_division_code, parse_grid_code
from gridmap.errors import UnknownDivision, UnknownGridCode

if TYPE_CHECKING:
    import psycopg

LOG = logging.getLogger(__name__)

CRS = "EPSG:4490"


@dataclass(frozen=True)
class CoverageData:
    """What the planner's coverage map needs for one division (or everything)."""

    grids: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    legacy: gpd.GeoDataFrame
    #: buildings of the division's communities that lie in no current grid
    ungridded: gpd.GeoDataFrame | None = None
    #: 三长 coverage: grids, buildings and units, and how many of each have a current chief
    staffing: dict[str, int] | None = None
    #: the latest merge's quality findings in the division (gaps, overlaps, slivers)
    findings: gpd.GeoDataFrame | None = None
    #: buildings with no building chief, or with units that have no unit chief
    vacancies: gpd.GeoDataFrame | None = None


@dataclass(frozen=True)
class ZoneData:
    """What a grid worker's zone map needs: the grid, its buildings, chiefs and neighbours."""

    grid: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    chiefs: pd.DataFrame
    neighbours: gpd.GeoDataFrame
    #: the units of the grid's buildings: ``building_id``, ``unit_no``, ``households``
    units: pd.DataFrame | None = None


def _rows(
    conn: psycopg.Connection[Any], query: LiteralString, params: dict[str, Any]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    cur = conn.execute(query, params)
    names = [d.name for d in cur.description or ()]
    return names, [tuple(r) for r in cur.fetchall()]


def _frame(
    conn: psycopg.Connection[Any], query: LiteralString, params: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Run a query whose last column is ``ST_AsBinary(geometry)``; a GeoDataFrame in 4490."""
    names, rows = _rows(conn, query, params)
    attrs = pd.DataFrame([r[:-1] for r in rows], columns=names[:-1])
    geoms: list[Any] = list(shapely.from_wkb([bytes(r[-1]) for r in rows])) if rows else []
    return gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, crs=CRS), crs=CRS)


def _division_prefix(conn: psycopg.Connection[Any], within: str | None) -> str:
    """The significant digits of ``within`` ('' for everything), checking it exists."""
    if within is None:
        return ""
    parse_division_code(within)
    found = conn.execute("SELECT 1 FROM division WHERE code = %(c)s", {"c": within}).fetchone()
    if found is None:
        raise UnknownDivision(within)
    return code_prefix(within)


def division_name(conn: psycopg.Connection[Any], code: str) -> str:
    """The name of a division (12-digit code), checking that it exists: for a map's title.

    Raises :class:`~gridmap.errors.InvalidCode` for a malformed code and
    :class:`~gridmap.errors.UnknownDivision` for one the database does not hold.
    """
    parse_division_code(code)
    row = conn.execute("SELECT name FROM division WHERE code = %(c)s", {"c": code}).fetchone()
    if row is None:
        raise UnknownDivision(code)
    return str(row[0])


_GRIDS: LiteralString = """
SELECT g.code, g.name, g.kind, g.households, g.community_code, d.name AS community_name,
       chief.name AS chief_name, ST_AsBinary(g.boundary) AS geom
FROM current_grid g
JOIN division d ON d.code = g.community_code
LEFT JOIN LATERAL (
    SELECT p.name FROM assignment a JOIN person p ON p.id = a.person_id
    WHERE a.role = 'grid_chief' AND a.grid_code = g.code AND a.until IS NULL
    ORDER BY a.since DESC LIMIT 1
) chief ON true
WHERE left(g.community_code, length(%(prefix)s::text)) = %(prefix)s
ORDER BY g.code
"""

_COMMUNITIES: LiteralString = """
SELECT d.code, d.name, d.kind, ST_AsBinary(coalesce(d.boundary, u.boundary)) AS geom
FROM division d
LEFT JOIN LATERAL (
    SELECT ST_Multi(ST_Union(g.boundary)) AS boundary
    FROM current_grid g WHERE g.community_code = d.code
) u ON d.boundary IS NULL
WHERE d.level = 'village' AND left(d.code, length(%(prefix)s::text)) = %(prefix)s
  AND coalesce(d.boundary, u.boundary) IS NOT NULL
ORDER BY d.code
"""

_LEGACY: LiteralString = """
WITH area AS (
    SELECT ST_SetSRID(ST_Extent(boundary)::geometry, 4490) AS box
    FROM current_grid WHERE left(community_code, length(%(prefix)s::text)) = %(prefix)s
)
SELECT l.layer, l.source_code, l.name, l.community_code, ST_AsBinary(l.boundary) AS geom
FROM legacy_grid l, area
WHERE left(l.community_code, length(%(prefix)s::text)) = %(prefix)s
   OR (l.community_code IS NULL AND l.boundary && area.box)
ORDER BY l.layer, l.source_code
"""


_UNGRIDDED: LiteralString = """
SELECT b.external_id AS id, b.compound, b.building_no, b.house_number, b.households,
       b.community_code, ST_AsBinary(b.point) AS geom
FROM building b
WHERE left(b.community_code, length(%(prefix)s::text)) = %(prefix)s
  AND NOT EXISTS (SELECT 1 FROM current_grid g WHERE ST_Intersects(g.boundary, b.point))
ORDER BY b.external_id
"""

_VACANT: LiteralString = """
SELECT b.external_id AS id, b.compound, b.building_no, b.house_number, b.community_code,
       NOT EXISTS (SELECT 1 FROM assignment a WHERE a.role = 'building_chief'
                   AND a.until IS NULL AND a.building_id = b.id) AS no_building_chief,
       (SELECT count(*) FROM unit u WHERE u.building_id = b.id) AS units,
       (SELECT count(*) FROM unit u WHERE u.building_id = b.id AND NOT EXISTS (
            SELECT 1 FROM assignment a WHERE a.role = 'unit_chief' AND a.until IS NULL
              AND a.unit_id = u.id)) AS vacant_units,
       ST_AsBinary(b.point) AS geom
FROM building b
WHERE left(b.community_code, length(%(prefix)s::text)) = %(prefix)s
  AND (NOT EXISTS (SELECT 1 FROM assignment a WHERE a.role = 'building_chief'
                   AND a.until IS NULL AND a.building_id = b.id)
       OR EXISTS (SELECT 1 FROM unit u WHERE u.building_id = b.id AND NOT EXISTS (
            SELECT 1 FROM assignment a WHERE a.role = 'unit_chief' AND a.until IS NULL
              AND a.unit_id = u.id)))
ORDER BY b.external_id
"""

_FINDINGS: LiteralString = """
SELECT f.kind, f.layer, f.area_m2, f.community_code, ST_AsBinary(f.boundary) AS geom
FROM merge_finding f
WHERE left(f.community_code, length(%(prefix)s::text)) = %(prefix)s
  AND f.generation = (SELECT max(generation) FROM merge_finding
                      WHERE left(community_code, length(%(prefix)s::text)) = %(prefix)s)
ORDER BY f.id
"""

_STAFFING: LiteralString = """
WITH b AS (SELECT id FROM building
           WHERE left(community_code, length(%(prefix)s::text)) = %(prefix)s),
     u AS (SELECT u.id FROM unit u JOIN b ON b.id = u.building_id),
     g AS (SELECT code FROM current_grid
           WHERE left(community_code, length(%(prefix)s::text)) = %(prefix)s),
     a AS (SELECT role, grid_code, building_id, unit_id FROM assignment WHERE until IS NULL)
SELECT (SELECT count(*) FROM g) AS grids,
       (SELECT count(DISTINCT a.grid_code) FROM a JOIN g ON g.code = a.grid_code
         WHERE a.role = 'grid_chief') AS grids_staffed,
       (SELECT count(*) FROM b) AS buildings,
       (SELECT count(DISTINCT a.building_id) FROM a JOIN b ON b.id = a.building_id
         WHERE a.role = 'building_chief') AS buildings_staffed,
       (SELECT count(*) FROM u) AS units,
       (SELECT count(DISTINCT a.unit_id) FROM a JOIN u ON u.id = a.unit_id
         WHERE a.role = 'unit_chief') AS units_staffed
"""


def current_grids(conn: psycopg.Connection[Any], within: str | None = None) -> gpd.GeoDataFrame:
    """Current grids in a division (12-digit code; None for all), with households and chief.

    Columns: ``code``, ``name``, ``kind``, ``households``, ``community_code``,
    ``community_name``, ``chief_name`` (None where no grid chief is assigned).
    """
    return _frame(conn, _GRIDS, {"prefix": _division_prefix(conn, within)})


def communities(conn: psycopg.Connection[Any], within: str | None = None) -> gpd.GeoDataFrame:
    """Communities and villages in a division; the union of their grids where no boundary."""
    return _frame(conn, _COMMUNITIES, {"prefix": _division_prefix(conn, within)})


def legacy_layers(conn: psycopg.Connection[Any], within: str | None = None) -> gpd.GeoDataFrame:
    """Legacy grids (``layer``, ``source_code``, ``name``) of a division's communities.

    Legacy grids without a community are included where they overlap the division's grids.
    """
    return _frame(conn, _LEGACY, {"prefix": _division_prefix(conn, within)})


def coverage_data(conn: psycopg.Connection[Any], within: str | None = None) -> CoverageData:
    """Everything :func:`gridmap.maps.coverage_map` draws, for one division or all."""
    prefix = {"prefix": _division_prefix(conn, within)}
    names, rows = _rows(conn, _STAFFING, prefix)
    data = CoverageData(
        grids=current_grids(conn, within),
        communities=communities(conn, within),
        legacy=legacy_layers(conn, within),
        ungridded=_frame(conn, _UNGRIDDED, prefix),
        staffing=dict(zip(names, (int(v) for v in rows[0]), strict=True)),
        findings=_frame(conn, _FINDINGS, prefix),
        vacancies=_frame(conn, _VACANT, prefix),
    )
    LOG.info(
        "coverage of %s: %d grids, %d communities, %d legacy grids",
        within or "all divisions",
        len(data.grids),
        len(data.communities),
        len(data.legacy),
    )
    return data


_ZONE_GRID: LiteralString = """
SELECT g.code, g.name, g.kind, g.households, g.community_code, d.name AS community_name,
       ST_AsBinary(g.boundary) AS geom
FROM current_grid g JOIN division d ON d.code = g.community_code
WHERE g.code = %(code)s
"""

_ZONE_BUILDINGS: LiteralString = """
SELECT b.id, b.external_id,
       coalesce(nullif(b.building_no, ''), nullif(concat(b.road, b.house_number), ''),
                b.external_id) AS building_no,
       nullif(b.building_no, '') AS building_number, b.hamlet,
       b.compound, b.road, b.house_number, b.households, b.floors,
       ST_AsBinary(coalesce(b.footprint, b.point)) AS geom
FROM building b JOIN current_grid g ON ST_Intersects(g.boundary, b.point)
WHERE g.code = %(code)s
ORDER BY b.compound NULLS LAST, b.building_no NULLS LAST, b.id
"""

_ZONE_CHIEFS: LiteralString = """
WITH inside AS (
    SELECT b.id FROM building b JOIN current_grid g ON ST_Intersects(g.boundary, b.point)
    WHERE g.code = %(code)s
)
SELECT a.role, p.name, p.phone, coalesce(a.building_id, u.building_id) AS building_id,
       u.unit_no, a.since
FROM assignment a
JOIN person p ON p.id = a.person_id
LEFT JOIN unit u ON u.id = a.unit_id
WHERE a.until IS NULL
  AND (a.grid_code = %(code)s
       OR a.building_id IN (SELECT id FROM inside)
       OR u.building_id IN (SELECT id FROM inside))
ORDER BY array_position(ARRAY['grid_chief', 'building_chief', 'unit_chief'], a.role),
         coalesce(a.building_id, u.building_id), u.unit_no, a.since
"""

_ZONE_UNITS: LiteralString = """
SELECT u.building_id, u.unit_no, u.households
FROM unit u JOIN building b ON b.id = u.building_id
JOIN current_grid g ON ST_Intersects(g.boundary, b.point)
WHERE g.code = %(code)s
ORDER BY u.building_id, length(u.unit_no), u.unit_no
"""

_ZONE_NEIGHBOURS: LiteralString = """
SELECT n.code, n.name, n.households, ST_AsBinary(n.boundary) AS geom
FROM current_grid g
JOIN current_grid n ON n.code <> g.code AND ST_Intersects(g.boundary, n.boundary)
WHERE g.code = %(code)s
ORDER BY n.code
"""


def zone_data(conn: psycopg.Connection[Any], grid_code: str) -> ZoneData:
    """One current grid with its buildings, current chiefs and neighbouring grids.

    Raises :class:`~gridmap.errors.UnknownGridCode` when no current grid has the code.
    ``chiefs`` has ``role``, ``name``, ``phone`` (unmasked), ``building_id``, ``unit_no``
    and ``since``; buildings' geometry is the footprint, or the point where there is none.
    """
    parse_grid_code(grid_code)
    params = {"code": grid_code}
    grid = _frame(conn, _ZONE_GRID, params)
    if grid.empty:
        raise UnknownGridCode(grid_code)
    names, rows = _rows(conn, _ZONE_CHIEFS, params)
    unit_names, unit_rows = _rows(conn, _ZONE_UNITS, params)
    data = ZoneData(
        grid=grid,
        buildings=_frame(conn, _ZONE_BUILDINGS, params),
        chiefs=pd.DataFrame(rows, columns=names),
        neighbours=_frame(conn, _ZONE_NEIGHBOURS, params),
        units=pd.DataFrame(unit_rows, columns=unit_names),
    )
    LOG.info(
        "zone %s: %d buildings, %d chiefs, %d neighbours",
        grid_code,
        len(data.buildings),
        len(data.chiefs),
        len(data.neighbours),
    )
    return data
