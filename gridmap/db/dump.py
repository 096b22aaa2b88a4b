"""Read the database back into frames: the interchange layers, and the crosswalk."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely

from gridmap.codes import code_prefix, parse_division_code
from gridmap.errors import InvalidInput, UnknownDivision
from gridmap.io.layers import LAYER_NAMES

if TYPE_CHECKING:
    import psycopg

#: what can be exported: every layer of the registry, and the crosswalk (export only)
ALL_LAYERS: tuple[str, ...] = (*LAYER_NAMES, "crosswalk")


def fetch_frame(
    conn: psycopg.Connection[Any],
    query: str,
    params: dict[str, Any] | None = None,
    geometry: str | None = "geom",
) -> pd.DataFrame:
    """Run ``query``; a GeoDataFrame (EPSG:4490) when it returns a WKB column ``geometry``."""
    cur = conn.execute(query, params or {})
    cols = [d.name for d in cur.description or []]
    rows = cur.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=cols)
    if geometry is None or geometry not in cols:
        return frame
    geoms = shapely.from_wkb([bytes(g) if g is not None else None for g in frame[geometry]])
    frame = frame.drop(columns=[geometry])
    result: pd.DataFrame = gpd.GeoDataFrame(
        frame, geometry=gpd.GeoSeries(geoms, crs="EPSG:4490"), crs="EPSG:4490"
    )
    return result


def division_scope(conn: psycopg.Connection[Any], within: str | None) -> str:
    """A LIKE pattern on codes for the division ``within`` (every code when None).

    Raises :class:`InvalidCode` for a malformed code and :class:`UnknownDivision` for one the
    database does not hold.
    """
    if within is None:
        return "%"
    parse_division_code(within)
    if not conn.execute("SELECT 1 FROM division WHERE code = %s", (within,)).fetchone():
        raise UnknownDivision(within)
    return code_prefix(within) + "%"


#: every chief's term in scope (``like``), as the ``assignments`` layer has it
_ASSIGNMENTS = """
        SELECT p.external_id AS person_id, a.role, a.grid_code,
               coalesce(b.external_id, ub.external_id) AS building_id, u.unit_no,
               a.since::text AS since, a.until::text AS until
        FROM assignment a JOIN person p ON p.id = a.person_id
        LEFT JOIN building b ON b.id = a.building_id
        LEFT JOIN unit u ON u.id = a.unit_id
        LEFT JOIN building ub ON ub.id = u.building_id
        WHERE coalesce(a.grid_code, b.community_code, ub.community_code) LIKE %(like)s
"""

#: one query per layer of the registry, with parameters ``like`` (code pattern), ``gen``
#: (grid generation) and ``anc`` (ancestor codes of the division exported)
_QUERIES: dict[str, str] = {
    "divisions": """
        SELECT d.code, d.name, d.level, d.parent_code, d.official_name,
               (SELECT string_agg(alias, '|' ORDER BY alias) FROM division_alias a
                WHERE a.code = d.code AND a.alias <> coalesce(d.official_name, '')) AS aliases,
               ST_AsBinary(d.boundary) AS geom
        FROM division d
        WHERE d.code LIKE %(like)s
           OR d.code IN (SELECT unnest(%(anc)s::text[]))
        ORDER BY d.code
        """,
    "legacy_grids": """
        SELECT layer, source_code, name, community_code, ST_AsBinary(boundary) AS geom
        FROM legacy_grid
        WHERE %(like)s = '%%' OR community_code LIKE %(like)s
           OR EXISTS (SELECT 1 FROM division d WHERE d.code LIKE %(like)s
                      AND d.level = 'village' AND ST_Intersects(d.boundary, legacy_grid.boundary))
        ORDER BY layer, source_code
        """,
    "grids": """
        SELECT code, name, community_code, kind, households, ST_AsBinary(boundary) AS geom
        FROM grid
        WHERE code LIKE %(like)s AND generation_low <= %(gen)s
          AND (generation_high IS NULL OR generation_high >= %(gen)s)
        ORDER BY code
        """,
    "buildings": """
        SELECT external_id AS building_id, community_code, road, house_number, compound,
               hamlet, group_no, building_no, households, floors,
               ST_AsBinary(coalesce(footprint, point)) AS geom
        FROM building WHERE community_code LIKE %(like)s ORDER BY external_id
        """,
    "units": """
        SELECT b.external_id AS building_id, u.unit_no, u.households
        FROM unit u JOIN building b ON b.id = u.building_id
        WHERE b.community_code LIKE %(like)s ORDER BY b.external_id, u.unit_no
        """,
    "assignments": _ASSIGNMENTS
    + """          -- a snapshot of one generation: a grid chief's term on a grid of another
          -- generation is history (kept by gridmap db backup), not part of this one
          AND (a.grid_code IS NULL OR EXISTS (
                SELECT 1 FROM grid g WHERE g.code = a.grid_code AND g.generation_low <= %(gen)s
                AND (g.generation_high IS NULL OR g.generation_high >= %(gen)s)))
        ORDER BY p.external_id, a.role, a.since
        """,
    # everyone in scope, or (for one division) the people its assignments name
    "people": """
        SELECT external_id AS person_id, name, phone FROM person
        WHERE %(like)s = '%%' OR external_id IN (
            SELECT p.external_id FROM assignment a JOIN person p ON p.id = a.person_id
            LEFT JOIN building b ON b.id = a.building_id
            LEFT JOIN unit u ON u.id = a.unit_id
            LEFT JOIN building ub ON ub.id = u.building_id
            WHERE coalesce(a.grid_code, b.community_code, ub.community_code) LIKE %(like)s)
        ORDER BY external_id
        """,
    "crosswalk": """
        SELECT l.layer, l.source_code, l.community_code AS legacy_community_code,
               c.grid_code, c.area_share, c.household_share
        FROM crosswalk c JOIN legacy_grid l ON l.id = c.legacy_id
        WHERE c.generation = (SELECT max(generation) FROM crosswalk
                              WHERE generation <= %(gen)s)
          AND c.grid_code LIKE %(like)s
        ORDER BY l.layer, l.community_code, l.source_code, c.grid_code
        """,
}


def dump_interchange(
    conn: psycopg.Connection[Any],
    layers: list[str] | None = None,
    within: str | None = None,
    generation: int | None = None,
) -> tuple[Any, pd.DataFrame | None]:
    """The database (or one division of it) as an Interchange, plus the crosswalk if asked.

    Grids are those of ``generation`` (default: the current one), with their households.
    """
    from gridmap.io import Interchange

    wanted = list(layers or ALL_LAYERS)
    unknown = [name for name in wanted if name not in ALL_LAYERS]
    if unknown:
        raise InvalidInput(
            f"unknown layer(s) {unknown!r}: expected some of {list(ALL_LAYERS)!r}", value=unknown
        )
    like = division_scope(conn, within)
    gen = _generation(conn, generation)
    params = {
        "like": like,
        "gen": gen,
        "anc": parse_division_code(within).ancestors() if within else [],
    }
    frames = {
        name: fetch_frame(conn, _QUERIES[name], params) for name in ALL_LAYERS if name in wanted
    }
    crosswalk = frames.pop("crosswalk", None)
    return Interchange.from_frames(**frames), crosswalk


def _generation(conn: psycopg.Connection[Any], generation: int | None) -> int | None:
    """The generation asked for (checked to exist), or the current one."""
    if generation is not None:
        exists = conn.execute("SELECT 1 FROM generation WHERE id = %s", (generation,)).fetchone()
        if not exists:
            raise InvalidInput(f"no grid generation {generation}", value=generation)
        return generation
    row = conn.execute("SELECT id FROM current_generation").fetchone()
    return int(row[0]) if row and row[0] is not None else None


_HISTORY: dict[str, str] = {
    "grid_history": """
        SELECT g.code, g.name, g.community_code, g.kind, g.generation_low, g.generation_high,
               c.retired_in, ST_AsBinary(g.boundary) AS geom
        FROM grid g JOIN grid_code c ON c.code = g.code
        WHERE g.code LIKE %(like)s
        ORDER BY g.code, g.generation_low
        """,
    "assignment_history": _ASSIGNMENTS
    + """        ORDER BY p.external_id, a.role, a.since
        """,
    "generations": """
        SELECT id AS generation, source, description, activated_at::text AS activated_at
        FROM generation ORDER BY id
        """,
}


def dump_history(conn: psycopg.Connection[Any], within: str | None = None) -> dict[str, Any]:
    """Every grid of every generation (with the generations it was in force and when its
    code retired), every chief's term including ended ones, and the generations: the
    history a one-generation snapshot leaves out. The importer reads none of these layers."""
    params = {"like": division_scope(conn, within)}
    out: dict[str, Any] = {}
    for name, query in _HISTORY.items():
        if name == "grid_history":
            out[name] = fetch_frame(conn, query, params)
        else:
            cur = conn.execute(query, params)
            out[name] = pd.DataFrame(
                cur.fetchall(), columns=[d.name for d in cur.description or []]
            )
    return out
