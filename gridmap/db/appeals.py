"""Appeals in PostGIS: the place at a point, intake, transitions, photos, lists and dashboards."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

if TYPE_CHECKING:
    from datetime import datetime

    from gridmap.appeals.permissions import Visibility

__all__ = [
    "add_photo",
    "apply",
    "count_appeals",
    "dashboard",
    "events",
    "get",
    "grid_chief",
    "grid_counts",
    "insert",
    "list_appeals",
    "map_rows",
    "nearby_open",
    "photo",
    "photos",
    "place_at",
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


def place_at(conn: psycopg.Connection[Any], lon: float, lat: float) -> dict[str, Any]:
    """The grid (lowest code on an edge) and divisions at a point in EPSG:4490. Outside every
    grid, the community or village whose boundary holds it; nothing is guessed from the
    nearest grid."""
    row = conn.execute(
        """WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4490) AS g)
           SELECT (SELECT g.code || '|' || g.name FROM current_grid g, p
                    WHERE ST_Intersects(g.boundary, p.g) ORDER BY g.code LIMIT 1) AS grid,
                  (SELECT d.code FROM division d, p WHERE d.level IN ('village', 'township')
                    AND ST_Intersects(d.boundary, p.g)
                    ORDER BY d.level = 'village' DESC, d.code LIMIT 1) AS division""",
        {"lon": lon, "lat": lat},
    ).fetchone()
    grid, division = row or (None, None)
    grid_code = grid_name = None
    if grid:
        grid_code, _, grid_name = grid.partition("|")
        division = grid_code[:12]
    out = _chain(conn, division)
    out["grid_code"] = grid_code
    if grid_code:
        out["names"][grid_code] = grid_name or grid_code
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


def grid_chief(conn: psycopg.Connection[Any], grid_code: str) -> tuple[int, str] | None:
    """The person id and name of a grid's current chief."""
    row = conn.execute(
        "SELECT p.id, p.name FROM assignment a JOIN person p ON p.id = a.person_id"
        " WHERE a.role = 'grid_chief' AND a.grid_code = %s AND a.until IS NULL",
        (grid_code,),
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def insert(
    conn: psycopg.Connection[Any],
    appeal: dict[str, Any],
    event: dict[str, Any],
    notices: list[dict[str, Any]],
) -> int:
    """Write an appeal with its first event and notices (the caller holds the transaction)."""
    cols = list(appeal)
    values = [appeal[c] for c in cols]
    placeholders = [
        sql.SQL("ST_SetSRID(ST_MakePoint(%s, %s), 4490)") if c == "location" else sql.SQL("%s")
        for c in cols
    ]
    flat: list[Any] = []
    for c, v in zip(cols, values, strict=True):
        flat.extend(v if c == "location" else [v])
    row = conn.execute(
        sql.SQL("INSERT INTO appeal ({}) VALUES ({}) RETURNING id").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in cols), sql.SQL(", ").join(placeholders)
        ),
        flat,
    ).fetchone()
    assert row is not None
    appeal_id = int(row[0])
    _event(conn, appeal_id, event)
    for n in notices:
        conn.execute(
            "INSERT INTO appeal_notice (appeal_id, recipient, person_id, target, message)"
            " VALUES (%s, %s, %s, %s, %s)",
            (appeal_id, n["recipient"], n.get("person_id"), n.get("target", ""), n["message"]),
        )
    return appeal_id


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
        filters = {**filters, "division_prefix": _significant(filters["division"])}
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


def nearby_open(
    conn: psycopg.Connection[Any], matter: str, lon: float, lat: float, metres: float,
    limit: int = 5,
) -> list[dict[str, Any]]:  # fmt: skip
    """Open appeals of ``matter`` within ``metres`` of a point (nearest first)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4490) AS g)
               SELECT a.id, a.state, a.description, a.received_at,
                      ST_Distance(a.location::geography, p.g::geography) AS distance_m
               FROM appeal a, p
               WHERE a.state <> 'closed' AND a.matter_code = %(matter)s
                 AND ST_DWithin(a.location::geography, p.g::geography, %(m)s)
               ORDER BY distance_m, a.id LIMIT %(limit)s""",
            {"lon": lon, "lat": lat, "matter": matter, "m": metres, "limit": limit},
        ).fetchall()


def dashboard(
    conn: psycopg.Connection[Any], division: str, since: datetime | None
) -> dict[str, Any]:
    """Counts, medians, overdue and satisfaction of the appeals under a division."""
    filters = {"division_prefix": _significant(division), "since": since}
    from gridmap.appeals.permissions import Visibility

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


def _significant(code: str) -> str:
    """The significant digits of a division code (a street ``220102005000`` -> ``220102005``)."""
    for cut in (2, 4, 6, 9):
        if code[cut:] == "0" * (len(code) - cut):
            return code[:cut]
    return code


def map_rows(
    conn: psycopg.Connection[Any], filters: dict[str, Any], limit: int = 20_000
) -> list[dict[str, Any]]:
    """Open appeals with a location, for a map (filters as :func:`list_appeals`)."""
    from gridmap.appeals.permissions import Visibility

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
        (_significant(division) + "%", str(seed), limit),
    ).fetchall()
    return [(float(r[0]), float(r[1])) for r in rows]


def grid_counts(conn: psycopg.Connection[Any], division: str) -> list[dict[str, Any]]:
    """Open appeals per current grid under a division (grids with none included)."""
    prefix = _significant(division) + "%"
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT g.code, g.name, count(a.id) AS open,
                      count(a.id) FILTER (WHERE a.state = ANY(%s) AND a.deadline < now()) AS overdue
               FROM current_grid g LEFT JOIN appeal a
                 ON a.grid_code = g.code AND a.state <> 'closed'
               WHERE g.code LIKE %s GROUP BY g.code, g.name ORDER BY g.code""",
            (list(_RUNNING), prefix),
        ).fetchall()
