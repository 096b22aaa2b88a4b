"""SQL for resolution and look-ups: points, buildings, compounds, grids, divisions.

Every function takes an open psycopg connection and returns plain rows (dicts); turning
them into results is :mod:`gridmap.resolve`'s job. Coordinates passed in are already in
EPSG:4490. A grid is "current" when it belongs to the generation in force (``current_grid``).

Conventions shared by the queries:

* a point covered by several current grids (it lies on a shared edge or corner) belongs
  to the grid with the **lowest code**; ``n_covering`` says how many grids cover it;
* a building belongs to the current grid covering its ``point``, by the same rule;
* a chief is the person holding the post now (``until IS NULL``); the newest ``since``
  wins should data ever hold two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import dict_row

if TYPE_CHECKING:
    from collections.abc import Sequence

Row = dict[str, Any]
Conn = psycopg.Connection[Any]
AsyncConn = psycopg.AsyncConnection[Any]

#: how many grids the nearest-grid search ranks by true distance after the index's KNN pass
KNN_CANDIDATES = 8

# the grid and its community, street (township) and county, plus the grid chief; expects
# the grid's code in {code}
_GRID_CONTEXT = """
    LEFT JOIN current_grid gg ON gg.code = {code}
    LEFT JOIN division dc ON dc.code = gg.community_code
    LEFT JOIN division dt ON dt.code = dc.parent_code
    LEFT JOIN division dk ON dk.code = dt.parent_code
    LEFT JOIN LATERAL (
        SELECT p.name, p.phone, a.since FROM assignment a JOIN person p ON p.id = a.person_id
        WHERE a.role = 'grid_chief' AND a.grid_code = gg.code AND a.until IS NULL
        ORDER BY a.since DESC LIMIT 1) gch ON true
"""
_GRID_COLUMNS = """
    gg.code AS grid_code, gg.name AS grid_name, gg.kind AS grid_kind,
    dc.code AS community_code, dc.name AS community_name,
    dt.code AS street_code, dt.name AS street_name,
    dk.code AS county_code, dk.name AS county_name,
    gch.name AS grid_chief_name, gch.phone AS grid_chief_phone, gch.since AS grid_chief_since
"""
_BUILDING_CHIEF = """
    LEFT JOIN LATERAL (
        SELECT p.name, p.phone, a.since FROM assignment a JOIN person p ON p.id = a.person_id
        WHERE a.role = 'building_chief' AND a.building_id = {bid} AND a.until IS NULL
        ORDER BY a.since DESC LIMIT 1) bch ON true
"""
_BUILDING_COLUMNS = """
    b.external_id AS building_id, b.road, b.house_number, b.compound, b.building_no,
    b.community_code AS building_community, b.households AS building_households, b.floors,
    ST_X(b.point) AS building_lon, ST_Y(b.point) AS building_lat,
    bch.name AS building_chief_name, bch.phone AS building_chief_phone,
    bch.since AS building_chief_since
"""
# the current grid a building's point lies in, lowest code first
_BUILDING_GRID = """
    LEFT JOIN LATERAL (
        SELECT g.code FROM current_grid g WHERE ST_Covers(g.boundary, b.point)
        ORDER BY g.code LIMIT 1) bg ON true
"""


_SETTINGS = "SET jit = off; SET plan_cache_mode = force_generic_plan"


def tune(conn: Conn) -> None:
    """Give a connection the settings look-ups want, for the rest of its life.

    Generic plans: the queries are prepared after a few runs, and their custom plans cost
    more to make than to run (about 1.5 ms against 0.3 ms for a point). No JIT: PostgreSQL
    estimates a batch of a few hundred points expensive enough to spend ~80 ms compiling it.
    :class:`gridmap.service.Gridmap` tunes every connection it uses (a pool's ``configure``).
    """
    conn.execute(_SETTINGS)
    if not conn.autocommit:
        conn.commit()


async def atune(conn: AsyncConn) -> None:
    """:func:`tune` for a connection of an async pool."""
    await conn.execute(_SETTINGS)
    if not conn.autocommit:
        await conn.commit()


async def _arows(conn: AsyncConn, query: str, params: dict[str, Any]) -> list[Row]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


def _rows(conn: Conn, query: str, params: dict[str, Any]) -> list[Row]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()


# ----------------------------------------------------------------------------- points

_POINTS = f"""
WITH q AS (
    SELECT u.i, ST_SetSRID(ST_MakePoint(u.x, u.y), 4490) AS geom
    FROM unnest(%(x)s::float8[], %(y)s::float8[]) WITH ORDINALITY AS u(x, y, i)
)
SELECT q.i, hit.code AS hit_code, coalesce(hit.n_covering, 0) AS n_covering,
       near.distance_m, {_GRID_COLUMNS}, b.id AS building_pk, {_BUILDING_COLUMNS}
FROM q
LEFT JOIN LATERAL (
    SELECT g.code, count(*) OVER () AS n_covering FROM current_grid g
    WHERE ST_Covers(g.boundary, q.geom) ORDER BY g.code LIMIT 1) hit ON true
LEFT JOIN LATERAL (
    SELECT k.code, ST_Distance(k.boundary::geography, q.geom::geography) AS distance_m
    FROM (SELECT g.code, g.boundary FROM current_grid g
          WHERE hit.code IS NULL
          ORDER BY g.boundary <-> q.geom LIMIT {KNN_CANDIDATES}) k
    ORDER BY 2, 1 LIMIT 1) near ON true
{_GRID_CONTEXT.format(code="coalesce(hit.code, near.code)")}
LEFT JOIN LATERAL (
    SELECT * FROM building bb
    WHERE bb.footprint IS NOT NULL AND ST_Covers(bb.footprint, q.geom)
    ORDER BY bb.external_id LIMIT 1) b ON true
{_BUILDING_CHIEF.format(bid="b.id")}
ORDER BY q.i
"""


def points(conn: Conn, xs: Sequence[float], ys: Sequence[float]) -> list[Row]:
    """For each EPSG:4490 point, in order: its grid (or the nearest one) and the building at it.

    One round trip for any number of points. ``hit_code`` is NULL when no grid covers the
    point; the grid columns then describe the nearest grid, ``distance_m`` metres away.
    """
    return _rows(conn, _POINTS, {"x": list(xs), "y": list(ys)})


async def apoints(conn: AsyncConn, xs: Sequence[float], ys: Sequence[float]) -> list[Row]:
    """:func:`points` over an async connection: the same query, one round trip."""
    return await _arows(conn, _POINTS, {"x": list(xs), "y": list(ys)})


# ----------------------------------------------------------------------------- address


def scope_bounds(prefix: str) -> tuple[str, str]:
    """The lowest and highest 12-digit community code under a code prefix.

    >>> scope_bounds("220103001")
    ('220103001000', '220103001999')
    """
    return prefix.ljust(12, "0"), prefix.ljust(12, "9")


_NAMES_ALL = """
SELECT DISTINCT community_code, {col} AS name FROM building
WHERE community_code BETWEEN %(lo)s AND %(hi)s AND {col} IS NOT NULL
"""
_NAMES_SIMILAR = """
SELECT DISTINCT community_code, {col} AS name FROM building
WHERE community_code BETWEEN %(lo)s AND %(hi)s
  AND ({col} = %(name)s OR {col} %% %(name)s)
LIMIT 500
"""


#: the building columns that hold names matched from addresses
NAME_COLUMNS = ("compound", "road", "hamlet")


def names_in_scope(
    conn: Conn, column: str, prefix: str, like: str | None = None, threshold: float = 0.2
) -> list[Row]:
    """Distinct compound, road or hamlet names (``column``) of buildings under a division prefix.

    Without ``like`` every name in scope is returned (for a township or community);
    with it, only names equal or trigram-similar to it (at least ``threshold``), which
    the GIN trigram index answers fast over a whole county or city.
    """
    if column not in NAME_COLUMNS:
        raise ValueError(f"column {column!r}: expected one of {', '.join(NAME_COLUMNS)}")
    lo, hi = scope_bounds(prefix)
    if like is None:
        return _rows(conn, _NAMES_ALL.format(col=column), {"lo": lo, "hi": hi})
    with conn.transaction():
        conn.execute(
            "SELECT set_config('pg_trgm.similarity_threshold', %(t)s, true)", {"t": str(threshold)}
        )
        return _rows(conn, _NAMES_SIMILAR.format(col=column), {"lo": lo, "hi": hi, "name": like})


_BUILDINGS_BY_NAME = f"""
SELECT b.id AS building_pk, b.external_id AS building_id, b.community_code, b.road,
       b.house_number, b.compound, b.hamlet, b.group_no, b.building_no, b.{{col}} AS place,
       bg.code AS grid_code
FROM unnest(%(communities)s::text[], %(names)s::text[]) AS k(community_code, name)
JOIN building b ON b.community_code = k.community_code AND b.{{col}} = k.name
{_BUILDING_GRID}
{{extra}}
ORDER BY b.external_id
"""


def buildings_named(
    conn: Conn,
    column: str,
    keys: Sequence[tuple[str, str]],
    house_numbers: Sequence[str] | None = None,
) -> list[Row]:
    """Buildings whose (community_code, ``column``) is one of ``keys``, with their grid; the
    matched name is also given as ``place``.

    ``house_numbers`` restricts road matches to those exact spellings.
    """
    if column not in NAME_COLUMNS:
        raise ValueError(f"column {column!r}: expected one of {', '.join(NAME_COLUMNS)}")
    if not keys:
        return []
    extra = "WHERE b.house_number = ANY(%(hn)s)" if house_numbers is not None else ""
    params: dict[str, Any] = {
        "communities": [k[0] for k in keys],
        "names": [k[1] for k in keys],
        "hn": list(house_numbers or []),
    }
    return _rows(conn, _BUILDINGS_BY_NAME.format(col=column, extra=extra), params)


_BUILDINGS_IN = f"""
SELECT b.id AS building_pk, b.external_id AS building_id, b.community_code, b.road,
       b.house_number, b.compound, b.hamlet, b.group_no, b.building_no, b.compound AS place,
       bg.code AS grid_code
FROM building b
{_BUILDING_GRID}
WHERE b.community_code = ANY(%(communities)s)
  AND (b.building_no IS NOT NULL OR b.house_number IS NOT NULL)
ORDER BY b.external_id
LIMIT %(limit)s
"""


def buildings_in(conn: Conn, communities: Sequence[str], limit: int = 20000) -> list[Row]:
    """The numbered buildings of some communities with their grid, for
    addresses that give a building or house number but no compound, hamlet or road."""
    return _rows(conn, _BUILDINGS_IN, {"communities": list(communities), "limit": limit})


_BUILDING_DETAIL = f"""
SELECT b.id AS building_pk, {_BUILDING_COLUMNS}, {_GRID_COLUMNS},
       dbc.name AS building_community_name
FROM building b
{_BUILDING_GRID}
{_GRID_CONTEXT.format(code="bg.code")}
{_BUILDING_CHIEF.format(bid="b.id")}
LEFT JOIN division dbc ON dbc.code = b.community_code
WHERE {{where}}
"""
_UNITS = """
SELECT u.building_id AS building_pk, u.unit_no, u.households,
       p.name AS unit_chief_name, p.phone AS unit_chief_phone, a.since AS unit_chief_since
FROM unit u
LEFT JOIN LATERAL (
    SELECT a.person_id, a.since FROM assignment a
    WHERE a.role = 'unit_chief' AND a.unit_id = u.id AND a.until IS NULL
    ORDER BY a.since DESC LIMIT 1) a ON true
LEFT JOIN person p ON p.id = a.person_id
WHERE u.building_id = ANY(%(ids)s)
ORDER BY u.building_id, length(u.unit_no), u.unit_no
"""


def buildings(conn: Conn, pks: Sequence[int]) -> list[Row]:
    """Buildings by internal id with grid context, chiefs and a ``units`` list each."""
    rows = _rows(conn, _BUILDING_DETAIL.format(where="b.id = ANY(%(ids)s)"), {"ids": list(pks)})
    _attach_units(conn, rows)
    return rows


def building_by_external_id(conn: Conn, external_id: str) -> Row | None:
    """One building by the id it was imported with, with grid context, chiefs and units."""
    rows = _rows(conn, _BUILDING_DETAIL.format(where="b.external_id = %(id)s"), {"id": external_id})
    _attach_units(conn, rows)
    return rows[0] if rows else None


def _attach_units(conn: Conn, rows: list[Row]) -> None:
    if not rows:
        return
    units = _rows(conn, _UNITS, {"ids": [r["building_pk"] for r in rows]})
    by_building: dict[int, list[Row]] = {}
    for u in units:
        by_building.setdefault(int(u["building_pk"]), []).append(u)
    for r in rows:
        r["units"] = by_building.get(int(r["building_pk"]), [])


# ----------------------------------------------------------------------------- grids

_GRIDS = f"""
SELECT {_GRID_COLUMNS}, gg.households, gg.generation_low,
       ST_AsGeoJSON(gg.boundary, 7, 0) AS geometry, st.buildings, st.building_households
FROM unnest(%(codes)s::text[]) AS k(code)
{_GRID_CONTEXT.format(code="k.code")}
LEFT JOIN LATERAL (
    SELECT count(*) AS buildings, coalesce(sum(b.households), 0) AS building_households
    FROM building b WHERE %(stats)s AND ST_Covers(gg.boundary, b.point)) st ON true
WHERE gg.code IS NOT NULL
ORDER BY gg.code
"""
_GRIDS_BRIEF = _GRIDS.replace("ST_AsGeoJSON(gg.boundary, 7, 0)", "NULL")


def grids(conn: Conn, codes: Sequence[str], geometry: bool = True, stats: bool = True) -> list[Row]:
    """Current grids by code with context and chief; optionally GeoJSON and building counts."""
    query = _GRIDS if geometry else _GRIDS_BRIEF
    return _rows(conn, query, {"codes": list(codes), "stats": stats})


_GRIDS_WITHIN = """
SELECT g.code, count(*) OVER () AS total FROM current_grid g
WHERE g.community_code BETWEEN %(lo)s AND %(hi)s
ORDER BY g.code LIMIT %(limit)s OFFSET %(offset)s
"""


def grid_codes_within(conn: Conn, prefix: str, limit: int, offset: int) -> tuple[list[str], int]:
    """Codes of the current grids under a division prefix, one page, and how many in all."""
    lo, hi = scope_bounds(prefix)
    rows = _rows(conn, _GRIDS_WITHIN, {"lo": lo, "hi": hi, "limit": limit, "offset": offset})
    if not rows and offset > 0:
        total = _rows(conn, _GRIDS_WITHIN, {"lo": lo, "hi": hi, "limit": 1, "offset": 0})
        return [], int(total[0]["total"]) if total else 0
    return [str(r["code"]) for r in rows], int(rows[0]["total"]) if rows else 0


# ----------------------------------------------------------------------------- divisions

_DIVISIONS = """
SELECT d.code, d.name, d.level, d.parent_code,
       coalesce(array_agg(a.alias ORDER BY a.alias) FILTER (WHERE a.alias IS NOT NULL),
                '{}') AS aliases
FROM division d LEFT JOIN division_alias a ON a.code = d.code
GROUP BY d.code ORDER BY d.code
"""


def division_records(conn: Conn) -> list[Row]:
    """Every division with its aliases: what the address gazetteer is built from."""
    return _rows(conn, _DIVISIONS, {})


_DIVISION = """
SELECT d.code, d.name, d.official_name, d.level, d.parent_code, d.kind,
       p.name AS parent_name,
       (SELECT count(*) FROM division c WHERE c.parent_code = d.code) AS children,
       (SELECT coalesce(array_agg(a.alias ORDER BY a.alias), '{{}}')
        FROM division_alias a WHERE a.code = d.code) AS aliases
FROM division d LEFT JOIN division p ON p.code = d.parent_code
WHERE {where}
ORDER BY d.code
"""


def division(conn: Conn, code: str) -> Row | None:
    """One division with its parent's name, alias list and number of children."""
    rows = _rows(conn, _DIVISION.format(where="d.code = %(code)s"), {"code": code})
    return rows[0] if rows else None


def division_children(conn: Conn, code: str) -> list[Row]:
    """The divisions whose parent is ``code``, by code."""
    return _rows(conn, _DIVISION.format(where="d.parent_code = %(code)s"), {"code": code})


_COMMUNITY_GRIDS = """
SELECT g.code FROM current_grid g WHERE g.community_code = %(code)s ORDER BY g.code LIMIT %(limit)s
"""


def community_grid_codes(conn: Conn, community_code: str, limit: int = 50) -> list[str]:
    """Codes of a community's current grids (at most ``limit``)."""
    rows = _rows(conn, _COMMUNITY_GRIDS, {"code": community_code, "limit": limit})
    return [str(r["code"]) for r in rows]


def division_names(conn: Conn, codes: Sequence[str]) -> dict[str, str]:
    """The names of the divisions with these codes (those the database holds)."""
    rows = conn.execute(
        "SELECT code, name FROM division WHERE code = ANY(%(c)s)", {"c": list(codes)}
    )
    return {str(c): str(n) for c, n in rows.fetchall()}


def ping(conn: Conn) -> None:
    """Raise unless the database answers."""
    conn.execute("SELECT 1")


async def aping(conn: AsyncConn) -> None:
    """:func:`ping` over an async connection."""
    await conn.execute("SELECT 1")


# ----------------------------------------------------------------------------- point index

_INDEX_LAYERS = """
WITH box AS (
    SELECT CASE WHEN %(bbox)s::float8[] IS NOT NULL THEN ST_MakeEnvelope(
        (%(bbox)s::float8[])[1], (%(bbox)s::float8[])[2],
        (%(bbox)s::float8[])[3], (%(bbox)s::float8[])[4], 4490) END AS env
)
SELECT 0 AS layer, g.code, NULL::bigint AS id, NULL::text AS external_id,
       ST_AsBinary(g.boundary) AS wkb
FROM current_grid g, box WHERE box.env IS NULL OR g.boundary && box.env
UNION ALL
SELECT 1, NULL, b.id, b.external_id, ST_AsBinary(b.footprint)
FROM building b, box
WHERE b.footprint IS NOT NULL AND (box.env IS NULL OR b.footprint && box.env)
ORDER BY layer, code, external_id
"""


def index_layers(
    conn: Conn, bbox: Sequence[float] | None = None
) -> tuple[list[tuple[str, bytes]], list[tuple[int, bytes]]]:
    """The current grids ``(code, WKB)`` in code order and the building footprints
    ``(id, WKB)`` in external-id order, all of them or those whose box meets ``bbox``
    (``xmin, ymin, xmax, ymax`` in EPSG:4490), read in one statement (one snapshot).

    The orders are the database's own, so the first of several hits in each is what the
    one-by-one query picks (``ORDER BY code`` / ``ORDER BY external_id``).
    """
    box = [float(v) for v in bbox] if bbox is not None else None
    grids: list[tuple[str, bytes]] = []
    footprints: list[tuple[int, bytes]] = []
    with conn.cursor() as cur:
        cur.execute(_INDEX_LAYERS, {"bbox": box})
        for layer, code, pk, _, wkb in cur:
            if layer == 0:
                grids.append((str(code), bytes(wkb)))
            else:
                footprints.append((int(pk), bytes(wkb)))
    return grids, footprints


_POINT_CONTEXTS = f"""
SELECT k.i, {_GRID_COLUMNS}, b.id AS building_pk, {_BUILDING_COLUMNS}
FROM unnest(%(codes)s::text[], %(pks)s::bigint[]) WITH ORDINALITY AS k(code, pk, i)
{_GRID_CONTEXT.format(code="k.code")}
LEFT JOIN building b ON b.id = k.pk
{_BUILDING_CHIEF.format(bid="b.id")}
ORDER BY k.i
"""


def point_contexts(conn: Conn, pairs: Sequence[tuple[str, int | None]]) -> list[Row]:
    """For each ``(grid code, building id or None)``, in order, the columns of :func:`points`
    but ``hit_code``, ``n_covering`` and ``distance_m``: the grid with its divisions and
    chief, the building with its chief. One round trip for any number of pairs."""
    codes = [c for c, _ in pairs]
    pks = [p for _, p in pairs]
    return _rows(conn, _POINT_CONTEXTS, {"codes": codes, "pks": pks})
