"""The roster of chiefs: assign, end and replace a grid chief (网格长), building chief (楼栋长)
or unit chief (单元长), with dates; the history of a post; and the vacancies of a division.

History is never overwritten: ending a term sets its ``until``, replacing a chief ends one
term and starts another, in one transaction. Every change is written to the audit trail
with what the post held before and after. A post is a grid (by code), a building (by its id
as imported) or a stairwell unit (building id and unit number).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from gridmap.db.access import audit
from gridmap.db.dump import division_scope
from gridmap.errors import Conflict, InvalidInput, NotFound, UnknownBuilding, UnknownGridCode
from gridmap.roster import Post, RoleName

if TYPE_CHECKING:
    import psycopg

__all__ = ["Post", "RoleName", "assign", "end", "history", "replace", "vacancies"]

#: the phone rule of the ``person`` table, checked before anything is written
PHONE = re.compile(r"^[0-9+\-]{5,20}$")


def _target(conn: psycopg.Connection[Any], post: Post) -> tuple[str, Any]:
    """The assignment column of the post and its value, checked to exist."""
    if post.role == "grid_chief":
        row = conn.execute("SELECT 1 FROM current_grid WHERE code = %s", (post.grid,)).fetchone()
        if row is None:
            raise UnknownGridCode(str(post.grid))
        return "grid_code", post.grid
    b = conn.execute("SELECT id FROM building WHERE external_id = %s", (post.building,)).fetchone()
    if b is None:
        raise UnknownBuilding(str(post.building))
    if post.role == "building_chief":
        return "building_id", b[0]
    u = conn.execute("SELECT id FROM unit WHERE building_id = %s AND unit_no = %s",
                     (b[0], post.unit)).fetchone()  # fmt: skip
    if u is None:
        raise NotFound(f"building {post.building} has no unit {post.unit!r}", value=post.unit)
    return "unit_id", u[0]


def _current(conn: psycopg.Connection[Any], post: Post, col: str, value: Any) -> Any:
    sql = {
        "grid_code": "SELECT a.id, p.external_id, p.name, a.since FROM assignment a JOIN person p"
                     " ON p.id = a.person_id WHERE a.role = %s AND a.grid_code = %s"
                     " AND a.until IS NULL FOR UPDATE OF a",
        "building_id": "SELECT a.id, p.external_id, p.name, a.since FROM assignment a JOIN person p"
                       " ON p.id = a.person_id WHERE a.role = %s AND a.building_id = %s"
                       " AND a.until IS NULL FOR UPDATE OF a",
        "unit_id": "SELECT a.id, p.external_id, p.name, a.since FROM assignment a JOIN person p"
                   " ON p.id = a.person_id WHERE a.role = %s AND a.unit_id = %s"
                   " AND a.until IS NULL FOR UPDATE OF a",
    }[col]  # fmt: skip
    return conn.execute(sql, (post.role, value)).fetchone()


def _person(
    conn: psycopg.Connection[Any], person_id: str, name: str | None, phone: str | None
) -> int:
    """The person's row id: an existing person, updated where name or phone are given, or a
    new one (then a name is needed). The phone is checked before anything is written."""
    if not person_id.strip():
        raise InvalidInput("a person id is needed", field="person_id")
    if phone is not None and not PHONE.match(phone):
        # never echo the number: it is personal data
        raise InvalidInput(f"the phone of person {person_id} is not a phone number: expected "
                           "5-20 digits, '+' or '-'", field="phone")  # fmt: skip
    row = conn.execute("SELECT id FROM person WHERE external_id = %s", (person_id,)).fetchone()
    if row is None:
        if not name or not name.strip():
            raise InvalidInput(f"person {person_id} is new: give a name", field="name")
        row = conn.execute(
            "INSERT INTO person (external_id, name, phone) VALUES (%s, %s, %s) RETURNING id",
            (person_id, name.strip(), phone),
        ).fetchone()
        assert row is not None
        return int(row[0])
    if name or phone:
        conn.execute(
            "UPDATE person SET name = coalesce(%s, name), phone = coalesce(%s, phone)"
            " WHERE id = %s", (name.strip() if name else None, phone, row[0]),
        )  # fmt: skip
    return int(row[0])


def _insert(
    conn: psycopg.Connection[Any], pid: int, post: Post, col: str, value: Any, since: date
) -> None:
    # ``col`` is one of grid_code, building_id, unit_id (from :func:`_target`), never input
    assert col in ("grid_code", "building_id", "unit_id")
    conn.execute(
        f"INSERT INTO assignment (person_id, role, {col}, since) VALUES (%s, %s, %s, %s)",
        (pid, post.role, value, since),
    )


def _who(row: Any) -> dict[str, Any] | None:
    return None if row is None else {"person_id": row[1], "name": row[2], "since": str(row[3])}


def assign(
    conn: psycopg.Connection[Any],
    post: Post,
    person_id: str,
    *,
    since: date | None = None,
    name: str | None = None,
    phone: str | None = None,
    actor: str = "cli",
) -> dict[str, Any]:
    """Give a vacant post to a person from ``since`` (default today)."""
    post = post.checked()
    since = since or date.today()
    with conn.transaction():
        col, value = _target(conn, post)
        now = _current(conn, post, col, value)
        if now is not None:
            raise Conflict(f"the {post} is held by person {now[1]} since {now[3]}: end that "
                           "term first, or replace the chief", value=str(post))  # fmt: skip
        pid = _person(conn, person_id, name, phone)
        _insert(conn, pid, post, col, value, since)
        after = {"person_id": person_id, "since": str(since)}
        audit(conn, actor, f"roster.assign.{post.role}", _key(post), None, after)
    return {"post": str(post), "person_id": person_id, "since": str(since)}


def end(
    conn: psycopg.Connection[Any], post: Post, *, until: date | None = None, actor: str = "cli"
) -> dict[str, Any]:
    """End the current term of the post on ``until`` (default today)."""
    post = post.checked()
    until = until or date.today()
    with conn.transaction():
        col, value = _target(conn, post)
        now = _current(conn, post, col, value)
        if now is None:
            raise Conflict(f"the {post} is vacant: there is no term to end", value=str(post))
        if until < now[3]:
            raise InvalidInput(f"until {until} is before the term began ({now[3]})",
                               value=str(until), field="until")  # fmt: skip
        conn.execute("UPDATE assignment SET until = %s WHERE id = %s", (until, now[0]))
        audit(conn, actor, f"roster.end.{post.role}", _key(post), _who(now),
              {"until": str(until)})  # fmt: skip
    return {"post": str(post), "person_id": now[1], "until": str(until)}


def replace(
    conn: psycopg.Connection[Any],
    post: Post,
    person_id: str,
    *,
    since: date | None = None,
    name: str | None = None,
    phone: str | None = None,
    actor: str = "cli",
) -> dict[str, Any]:
    """End the current chief's term the day before ``since`` and start the new chief's on
    ``since``, in one transaction (a vacant post is simply assigned)."""
    post = post.checked()
    since = since or date.today()
    with conn.transaction():
        col, value = _target(conn, post)
        now = _current(conn, post, col, value)
        if now is not None:
            if now[1] == person_id:
                raise Conflict(f"person {person_id} already holds the {post}", value=person_id)
            until = max(now[3], since - timedelta(days=1))
            conn.execute("UPDATE assignment SET until = %s WHERE id = %s", (until, now[0]))
        pid = _person(conn, person_id, name, phone)
        _insert(conn, pid, post, col, value, since)
        audit(conn, actor, f"roster.replace.{post.role}", _key(post), _who(now),
              {"person_id": person_id, "since": str(since)})  # fmt: skip
    return {"post": str(post), "person_id": person_id, "since": str(since),
            "replaced": _who(now)}  # fmt: skip


def _key(post: Post) -> str:
    """The audit trail's target for a post: the grid code, or the building (and unit)."""
    if post.role == "grid_chief":
        return str(post.grid)
    return str(post.building) if post.role == "building_chief" else f"{post.building}/{post.unit}"


def history(conn: psycopg.Connection[Any], post: Post) -> list[dict[str, Any]]:
    """Every term of the post, oldest first."""
    post = post.checked()
    if post.role == "grid_chief":
        rows = conn.execute(
            "SELECT p.external_id, p.name, p.phone, a.since, a.until FROM assignment a"
            " JOIN person p ON p.id = a.person_id WHERE a.role = 'grid_chief'"
            " AND a.grid_code = %s ORDER BY a.since, a.id", (post.grid,),
        ).fetchall()  # fmt: skip
    else:
        col, value = _target(conn, post)
        sql = ("SELECT p.external_id, p.name, p.phone, a.since, a.until FROM assignment a"
               " JOIN person p ON p.id = a.person_id WHERE a.role = %s AND a."
               + ("building_id" if col == "building_id" else "unit_id")
               + " = %s ORDER BY a.since, a.id")  # fmt: skip
        rows = conn.execute(sql, (post.role, value)).fetchall()
    return [{"person_id": r[0], "name": r[1], "phone": r[2], "since": r[3], "until": r[4]}
            for r in rows]  # fmt: skip


_VACANT: dict[str, str] = {
    "grid_chief": """
        SELECT g.code AS grid_code, NULL::text AS building_id, NULL::text AS unit_no,
               g.name, g.community_code, ST_AsBinary(ST_PointOnSurface(g.boundary)) AS geom
        FROM current_grid g
        WHERE left(g.community_code, length(%(p)s)) = %(p)s AND NOT EXISTS (
            SELECT 1 FROM assignment a WHERE a.role = 'grid_chief' AND a.until IS NULL
              AND a.grid_code = g.code)
        ORDER BY g.code
        """,
    "building_chief": """
        SELECT (SELECT min(g.code) FROM current_grid g WHERE ST_Intersects(g.boundary, b.point))
               AS grid_code, b.external_id AS building_id, NULL::text AS unit_no,
               coalesce(b.compound, '') || coalesce(b.building_no, b.house_number, '') AS name,
               b.community_code, ST_AsBinary(b.point) AS geom
        FROM building b
        WHERE left(b.community_code, length(%(p)s)) = %(p)s AND NOT EXISTS (
            SELECT 1 FROM assignment a WHERE a.role = 'building_chief' AND a.until IS NULL
              AND a.building_id = b.id)
        ORDER BY b.external_id
        """,
    "unit_chief": """
        SELECT (SELECT min(g.code) FROM current_grid g WHERE ST_Intersects(g.boundary, b.point))
               AS grid_code, b.external_id AS building_id, u.unit_no,
               coalesce(b.compound, '') || coalesce(b.building_no, b.house_number, '') AS name,
               b.community_code, ST_AsBinary(b.point) AS geom
        FROM unit u JOIN building b ON b.id = u.building_id
        WHERE left(b.community_code, length(%(p)s)) = %(p)s AND NOT EXISTS (
            SELECT 1 FROM assignment a WHERE a.role = 'unit_chief' AND a.until IS NULL
              AND a.unit_id = u.id)
        ORDER BY b.external_id, u.unit_no
        """,
}


def vacancies(conn: psycopg.Connection[Any], division: str) -> list[dict[str, Any]]:
    """Every vacant post under ``division``: grids without a grid chief, buildings without a
    building chief, units without a unit chief; each with its grid, name and a point."""
    p = {"p": division_scope(conn, division).removesuffix("%")}
    out: list[dict[str, Any]] = []
    for role, sql in _VACANT.items():
        cur = conn.execute(sql, p)
        cols = [d.name for d in cur.description or []]
        out += [{"role": role, **dict(zip(cols, r, strict=True))} for r in cur.fetchall()]
    return out
