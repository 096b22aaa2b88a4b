"""Appeals in PostGIS: the place at a point, intake, transitions, photos, lists and dashboards."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from gridmap.appeals.permissions import Visibility
from gridmap.codes import code_prefix

if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "add_photo",
    "apply",
    "count_appeals",
    "dashboard",
    "events",
    "get",
    "grid_counts",
    "insert",
    "intake_context",
    "list_appeals",
    "map_rows",
    "photo",
    "photos",
    "place_of",
]

#: the columns every view of an appeal reads
_COLS = """a.id, a.matter_code, m.name AS matter_name, a.description, a.channel, a.state,
    a.owner_kind, a.owner_code, a.owner_name, a.route_note, a.address,
    ST_X(a.location) AS lon, ST_Y(a.location) AS lat, a.grid_code, a.community_code,
    a.street_code, a.county_code, a.time_limit, a.time_unit, a.received_at, a.deadline,
    a.signed_at, a.handled_at, a.submitted_at, a.verified_at, a.closed_at, a.updated_at,
    a.satisfaction, a.reopened, a.contact_name, a.contact_phone, a.key_id, a.token_hash,
    a.duty_id,
    (SELECT e.note FROM appeal_event e WHERE e.appeal_id = a.id AND e.note <> ''
      ORDER BY e.at DESC, e.id DESC LIMIT 1) AS last_note,
    (SELECT min(p.id) FROM appeal_photo p WHERE p.appeal_id = a.id) AS first_photo"""

_RUNNING = ("received", "signed", "handled", "returned", "reopened")


def _chain(conn: psycopg.Connection[Any], code: str | None) -> dict[str, Any]:
    """The community, street and county codes of a village (or township) code, with names."""
    out: dict[str, Any] = {"community_code": None, "street_code": None, "county_code": None,
                           "names": {}}  # fmt: skip
    if not code:
        return out
    rows = conn.execute(
        """WITH RECURSIVE up AS (
             SELECT code, name, level, parent_code FROM division WHERE code = %s
             UNION ALL
             SELECT d.code, d.name, d.level, d.parent_code FROM division d
             JOIN up ON d.code = up.parent_code)
           SELECT code, name, level FROM up""",
        (code,),
    ).fetchall()
    key = {"village": "community_code", "township": "street_code", "county": "county_code"}
    for c, name, level in rows:
        out["names"][c] = name
        if level in key:
            out[key[level]] = c
    return out


def place_of(conn: psycopg.Connection[Any], code: str) -> dict[str, Any]:
    """The place of a grid or division code (its divisions and names)."""
    if len(code) == 15:
        row = conn.execute("SELECT name FROM current_grid WHERE code = %s", (code,)).fetchone()
        out = _chain(conn, code[:12])
        out["grid_code"] = code if row else None
        if row:
            out["names"][code] = row[0] or code
        return out
    out = _chain(conn, code)
    out["grid_code"] = None
    return out


_CONTEXT = """
WITH RECURSIVE
p AS (SELECT CASE WHEN %(lon)s::float8 IS NULL THEN NULL
                  ELSE ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4490) END AS g),
gr AS (
  (SELECT g.code, g.name FROM current_grid g WHERE %(grid)s::text IS NOT NULL AND g.code = %(grid)s)
  UNION ALL
  (SELECT g.code, g.name FROM current_grid g, p
    WHERE %(grid)s::text IS NULL AND %(division)s::text IS NULL AND p.g IS NOT NULL
      AND ST_Intersects(g.boundary, p.g) ORDER BY g.code LIMIT 1)),
start AS (SELECT coalesce(%(division)s::text, (SELECT left(code, 12) FROM gr LIMIT 1),
  (SELECT d.code FROM division d, p WHERE p.g IS NOT NULL AND d.level IN ('village', 'township')
     AND ST_Intersects(d.boundary, p.g) ORDER BY d.level = 'village' DESC, d.code LIMIT 1)) AS code),
up AS (SELECT d.code, d.name, d.level, d.parent_code FROM division d, start WHERE d.code = start.code
       UNION ALL
       SELECT d.code, d.name, d.level, d.parent_code FROM division d JOIN up ON d.code = up.parent_code),
du AS (SELECT id, list, matter_code, division_code, owner, body_code, service, time_limit,
              time_unit, basis, note FROM duty WHERE matter_code = %(matter)s)
SELECT
  (SELECT name FROM matter WHERE code = %(matter)s) AS matter_name,
  (SELECT json_build_array(code, name) FROM gr LIMIT 1) AS grid,
  (SELECT json_agg(json_build_array(code, name, level)) FROM up) AS chain,
  (SELECT json_agg(row_to_json(du)) FROM du) AS duties,
  (SELECT json_agg(json_build_array(b.code, b.name, b.kind, b.service, b.contact, b.serves))
     FROM body b WHERE b.code IN (SELECT body_code FROM du)
        OR b.service IN (SELECT service FROM du WHERE service <> '')) AS bodies,
  (SELECT a.person_id FROM assignment a, gr WHERE a.role = 'grid_chief'
      AND a.grid_code = gr.code AND a.until IS NULL LIMIT 1) AS chief,
  (SELECT json_agg(n) FROM (
     SELECT near.id, near.state, near.description, near.received_at,
            ST_Distance(near.location::geography, p.g::geography) AS distance_m
     FROM p, LATERAL (
       -- the open appeals near the point, by the spatial index alone (OFFSET 0 keeps the
       -- planner from mixing in the matter index, which matches thousands)
       SELECT a.id, a.state, a.description, a.received_at, a.location, a.matter_code
       FROM appeal a WHERE a.state <> 'closed' AND ST_DWithin(a.location, p.g, %(degrees)s)
       OFFSET 0) near
     WHERE p.g IS NOT NULL AND %(metres)s > 0 AND near.matter_code = %(matter)s
       AND ST_DWithin(near.location::geography, p.g::geography, %(metres)s)
     ORDER BY distance_m, near.id LIMIT 5) n) AS similar
"""


def intake_context(
    conn: psycopg.Connection[Any], matter: str, lonlat: tuple[float, float] | None,
    grid: str | None, division: str | None, metres: float,
) -> dict[str, Any]:  # fmt: skip
    """Everything an intake reads, in one round trip: the matter's name, the grid (the one
    given, or the one at the point), the divisions up from it (or from the division given,
    or the community holding the point), the matter's duties and the bodies they may name,
    the grid's chief, and open appeals of the matter within ``metres``."""
    lon, lat = lonlat if lonlat else (None, None)
    # a search radius in degrees that holds ``metres`` in every direction at this latitude
    degrees = metres / 111_000 / max(math.cos(math.radians(lat or 0.0)), 0.01) * 1.01
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_CONTEXT, {"lon": lon, "lat": lat, "grid": grid, "division": division,
                                     "matter": matter, "metres": metres,
                                     "degrees": degrees}).fetchone()  # fmt: skip
    assert row is not None
    names: dict[str, str] = {}
    place: dict[str, Any] = {"grid_code": None, "community_code": None, "street_code": None,
                             "county_code": None}  # fmt: skip
    key = {"village": "community_code", "township": "street_code", "county": "county_code"}
    for code, name, level in row["chain"] or []:
        names[code] = name
        if level in key:
            place[key[level]] = code
    if row["grid"]:
        place["grid_code"] = row["grid"][0]
        names[row["grid"][0]] = row["grid"][1] or row["grid"][0]
    place["names"] = names
    return {**row, "place": place}


def insert(
    conn: psycopg.Connection[Any],
    appeal: dict[str, Any],
    event: dict[str, Any],
    notices: list[dict[str, Any]],
) -> dict[str, Any]:
    """Write an appeal with its first event and notices in one statement; its id and the
    times the database gave it."""
    cols = list(appeal)
    placeholders = [
        sql.SQL("ST_SetSRID(ST_MakePoint(%s, %s), 4490)") if c == "location" else sql.SQL("%s")
        for c in cols
    ]
    flat: list[Any] = []
    for c in cols:
        flat.extend(appeal[c] if c == "location" else [appeal[c]])
    statement = sql.SQL(
        """WITH a AS (INSERT INTO appeal ({cols}) VALUES ({values})
                     RETURNING id, received_at, updated_at),
           e AS (INSERT INTO appeal_event (appeal_id, at, actor, action, to_state, note,
                                           owner_kind, owner_code, owner_name)
                 SELECT a.id, coalesce(%s, clock_timestamp()), %s, %s, %s, %s, %s, %s, %s FROM a
                 RETURNING at),
           n AS (INSERT INTO appeal_notice (appeal_id, recipient, person_id, target, message)
                 SELECT a.id, x.recipient, x.person_id, x.target, x.message
                 FROM a, jsonb_to_recordset(%s::jsonb)
                      AS x(recipient text, person_id bigint, target text, message text))
           SELECT a.id, a.received_at, a.updated_at, (SELECT at FROM e) AS event_at FROM a"""
    ).format(cols=sql.SQL(", ").join(sql.Identifier(c) for c in cols),
             values=sql.SQL(", ").join(placeholders))  # fmt: skip
    flat += [event.get("at"), event["actor"], event["action"], event["to_state"],
             event.get("note", ""), event.get("owner_kind"), event.get("owner_code"),
             event.get("owner_name"), Jsonb(notices)]  # fmt: skip
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(statement, flat).fetchone()
    assert row is not None
    return row


def _event(conn: psycopg.Connection[Any], appeal_id: int, e: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO appeal_event (appeal_id, at, actor, action, from_state, to_state, note,"
        " owner_kind, owner_code, owner_name, satisfaction)"
        " VALUES (%s, coalesce(%s, clock_timestamp()), %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (appeal_id, e.get("at"), e["actor"], e["action"], e.get("from_state"), e["to_state"],
         e.get("note", ""), e.get("owner_kind"), e.get("owner_code"), e.get("owner_name"),
         e.get("satisfaction")),
    )  # fmt: skip


def get(
    conn: psycopg.Connection[Any], appeal_id: int, *, lock: bool = False
) -> dict[str, Any] | None:
    """One appeal (``lock``: held against concurrent transitions until the transaction ends)."""
    q = f"SELECT {_COLS} FROM appeal a JOIN matter m ON m.code = a.matter_code WHERE a.id = %s"
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(q + (" FOR UPDATE OF a" if lock else ""), (appeal_id,)).fetchone()


def apply(
    conn: psycopg.Connection[Any], appeal_id: int, changes: dict[str, Any], event: dict[str, Any]
) -> None:
    """Write a transition: the appeal's new values and the event (in the caller's transaction)."""
    sets: list[sql.Composable] = [sql.SQL("{} = %s").format(sql.Identifier(k)) for k in changes]
    sets.append(sql.SQL("updated_at = coalesce(%s, clock_timestamp())"))
    conn.execute(
        sql.SQL("UPDATE appeal SET {} WHERE id = %s").format(sql.SQL(", ").join(sets)),
        [*changes.values(), event.get("at"), appeal_id],
    )
    _event(conn, appeal_id, event)


def events(conn: psycopg.Connection[Any], appeal_id: int) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT e.at, e.actor, e.action, e.from_state, e.to_state, e.note, e.owner_kind,"
            " e.owner_code, e.owner_name, e.satisfaction FROM appeal_event e"
            " WHERE e.appeal_id = %s ORDER BY e.at, e.id",
            (appeal_id,),
        ).fetchall()


def add_photo(
    conn: psycopg.Connection[Any], appeal_id: int, content_type: str, size: int, sha256: str,
    data: bytes | None, path: str | None,
) -> int:  # fmt: skip
    row = conn.execute(
        "INSERT INTO appeal_photo (appeal_id, content_type, size, sha256, data, path)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (appeal_id, content_type, size, sha256, data, path),
    ).fetchone()
    assert row is not None
    return int(row[0])


def photos(conn: psycopg.Connection[Any], appeal_id: int) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT id, content_type, size FROM appeal_photo WHERE appeal_id = %s ORDER BY id",
            (appeal_id,),
        ).fetchall()


def photo(conn: psycopg.Connection[Any], appeal_id: int, photo_id: int) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT id, content_type, size, data, path FROM appeal_photo"
            " WHERE appeal_id = %s AND id = %s",
            (appeal_id, photo_id),
        ).fetchone()


def _where(filters: dict[str, Any], seen: Visibility) -> tuple[sql.Composable, list[Any]]:
    parts: list[sql.Composable] = []
    args: list[Any] = []
    if not seen.all:
        who: list[sql.Composable] = []
        if seen.key_id is not None:
            who.append(sql.SQL("a.key_id = %s"))
            args.append(seen.key_id)
        if seen.body is not None:
            who.append(sql.SQL("(a.owner_kind IN ('department', 'company') AND a.owner_code = %s)"))
            args.append(seen.body)
        for p in seen.prefixes:
            who.append(sql.SQL(
                "coalesce(a.grid_code, a.community_code, a.street_code,"
                " CASE WHEN a.owner_kind = 'dispatch' THEN nullif(a.owner_code, '') END)"
                " LIKE %s"))  # fmt: skip
            args.append(p + "%")
        parts.append(sql.SQL("({})").format(sql.SQL(" OR ").join(who) if who else sql.SQL("false")))
    simple = {"matter": "a.matter_code", "owner_kind": "a.owner_kind",
              "owner_code": "a.owner_code", "grid": "a.grid_code", "channel": "a.channel"}  # fmt: skip
    for key, col in simple.items():
        if filters.get(key):
            parts.append(sql.SQL(col + " = %s"))
            args.append(filters[key])
    if filters.get("matter_prefix"):
        # a category stands for every matter under it in the tree
        parts.append(sql.SQL(
            "a.matter_code IN (WITH RECURSIVE sub AS (SELECT code FROM matter WHERE code = %s"
            " UNION ALL SELECT m.code FROM matter m JOIN sub ON m.parent_code = sub.code)"
            " SELECT code FROM sub)"))  # fmt: skip
        args.append(filters["matter_prefix"])
    if filters.get("states"):
        parts.append(sql.SQL("a.state = ANY(%s)"))
        args.append(list(filters["states"]))
    if filters.get("ids"):
        parts.append(sql.SQL("a.id = ANY(%s)"))
        args.append(list(filters["ids"]))
    if filters.get("division"):
        filters = {**filters, "division_prefix": code_prefix(filters["division"])}
    if filters.get("division_prefix"):
        parts.append(sql.SQL("coalesce(a.grid_code, a.community_code, a.street_code,"
                             " a.county_code, a.owner_code) LIKE %s"))  # fmt: skip
        args.append(filters["division_prefix"] + "%")
    if filters.get("since"):
        parts.append(sql.SQL("a.received_at >= %s"))
        args.append(filters["since"])
    if filters.get("until"):
        parts.append(sql.SQL("a.received_at < %s"))
        args.append(filters["until"])
    if filters.get("overdue"):
        parts.append(sql.SQL("a.state = ANY(%s) AND a.deadline < now()"))
        args.append(list(_RUNNING))
    where = sql.SQL(" AND ").join(parts) if parts else sql.SQL("true")
    return where, args


def list_appeals(
    conn: psycopg.Connection[Any], filters: dict[str, Any], seen: Visibility, *,
    limit: int = 100, offset: int = 0, newest_first: bool = True,
) -> list[dict[str, Any]]:  # fmt: skip
    where, args = _where(filters, seen)
    order = sql.SQL("a.received_at DESC, a.id DESC" if newest_first else "a.id")
    q = sql.SQL("SELECT {} FROM appeal a JOIN matter m ON m.code = a.matter_code WHERE {}"
                " ORDER BY {} LIMIT %s OFFSET %s").format(sql.SQL(_COLS), where, order)  # fmt: skip
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(q, [*args, limit, offset]).fetchall()


def count_appeals(conn: psycopg.Connection[Any], filters: dict[str, Any], seen: Visibility) -> int:
    where, args = _where(filters, seen)
    row = conn.execute(sql.SQL("SELECT count(*) FROM appeal a WHERE {}").format(where), args)
    found = row.fetchone()
    return int(found[0]) if found else 0


def dashboard(
    conn: psycopg.Connection[Any], division: str, since: datetime | None
) -> dict[str, Any]:
    """Counts, medians, overdue and satisfaction of the appeals under a division."""
    filters = {"division_prefix": code_prefix(division), "since": since}
    where, args = _where(filters, Visibility(all=True))
    with conn.cursor(row_factory=dict_row) as cur:
        head = cur.execute(sql.SQL(
            """SELECT count(*) AS total,
                  count(*) FILTER (WHERE a.state <> 'closed') AS open,
                  count(*) FILTER (WHERE a.state = ANY(%s) AND a.deadline < now()) AS overdue,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY
                      extract(epoch FROM a.signed_at - a.received_at)) / 3600 AS sign_h,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY
                      extract(epoch FROM a.handled_at - a.received_at)) / 3600 AS handle_h,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY
                      extract(epoch FROM a.closed_at - a.received_at)) / 3600 AS close_h
               FROM appeal a WHERE {}""").format(where), [list(_RUNNING), *args]).fetchone()  # fmt: skip
        states = cur.execute(sql.SQL(
            "SELECT a.state, count(*) AS n FROM appeal a WHERE {} GROUP BY a.state"
        ).format(where), args).fetchall()  # fmt: skip
        owners = cur.execute(sql.SQL(
            """SELECT a.owner_kind AS kind, a.owner_code AS code, a.owner_name AS name,
                  count(*) FILTER (WHERE a.state <> 'closed') AS open,
                  count(*) FILTER (WHERE a.state = ANY(%s) AND a.deadline < now()) AS overdue,
                  count(*) AS total
               FROM appeal a WHERE {} GROUP BY 1, 2, 3 ORDER BY open DESC, total DESC, code"""
        ).format(where), [list(_RUNNING), *args]).fetchall()  # fmt: skip
        sat = cur.execute(sql.SQL(
            "SELECT e.satisfaction, count(*) AS n FROM appeal_event e JOIN appeal a"
            " ON a.id = e.appeal_id WHERE e.action = 'callback' AND {} GROUP BY 1"
        ).format(where), args).fetchall()  # fmt: skip
    assert head is not None
    return {"head": head, "states": {r["state"]: int(r["n"]) for r in states},
            "owners": owners, "satisfaction": {r["satisfaction"]: int(r["n"]) for r in sat}}  # fmt: skip


def map_rows(
    conn: psycopg.Connection[Any], filters: dict[str, Any], limit: int = 20_000
) -> list[dict[str, Any]]:
    """Open appeals with a location, for a map (filters as :func:`list_appeals`)."""
    where, args = _where({**filters, "states": filters.get("states") or
                          ["received", "signed", "handled", "verifying", "callback",
                           "returned", "reopened"]}, Visibility(all=True))  # fmt: skip
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql.SQL(
            "SELECT {} FROM appeal a JOIN matter m ON m.code = a.matter_code"
            " WHERE a.location IS NOT NULL AND {} ORDER BY a.id LIMIT %s"
        ).format(sql.SQL(_COLS), where), [*args, limit]).fetchall()  # fmt: skip


def building_points(
    conn: psycopg.Connection[Any], division: str, limit: int, seed: int
) -> list[tuple[float, float]]:
    """Up to ``limit`` building points under a division, in a repeatable order (``seed``)."""
    rows = conn.execute(
        "SELECT ST_X(point), ST_Y(point) FROM building WHERE community_code LIKE %s"
        " ORDER BY md5(id::text || %s) LIMIT %s",
        (code_prefix(division) + "%", str(seed), limit),
    ).fetchall()
    return [(float(r[0]), float(r[1])) for r in rows]


def grid_counts(conn: psycopg.Connection[Any], division: str) -> list[dict[str, Any]]:
    """Open appeals per current grid under a division (grids with none included)."""
    prefix = code_prefix(division) + "%"
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT g.code, g.name, count(a.id) AS open,
                      count(a.id) FILTER (WHERE a.state = ANY(%s) AND a.deadline < now()) AS overdue
               FROM current_grid g LEFT JOIN appeal a
                 ON a.grid_code = g.code AND a.state <> 'closed'
               WHERE g.code LIKE %s GROUP BY g.code, g.name ORDER BY g.code""",
            (list(_RUNNING), prefix),
        ).fetchall()
