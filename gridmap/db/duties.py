"""Responsibility lists and the working calendar in PostGIS: load, dump, and what routing reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridmap.appeals.routing import Body, Duty
from gridmap.db.access import audit
from gridmap.io.duties import DutyList, Matter

if TYPE_CHECKING:
    from datetime import date

    import psycopg

__all__ = [
    "bodies",
    "calendar_overrides",
    "dump_duties",
    "duties_for",
    "load_calendar",
    "load_duties",
    "matters",
]

_DUTY_COLS = ("id, list, matter_code, division_code, owner, body_code, service, time_limit, "
              "time_unit, basis, note")  # fmt: skip


def load_duties(
    conn: psycopg.Connection[Any], data: DutyList, actor: str, *, replace_all: bool = False
) -> dict[str, int]:
    """Load a validated list in one transaction: matters and bodies are added or updated by
    code; the file is the whole list for the places it names (everywhere, or its divisions),
    so there the duties it lacks are removed (``replace_all``: everywhere). Matters and
    bodies absent from the file stay."""
    with conn.transaction():
        for m in data.matters:
            conn.execute(
                "INSERT INTO matter (code, name, parent_code, keywords, description)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (code) DO UPDATE SET"
                " name = EXCLUDED.name, parent_code = EXCLUDED.parent_code,"
                " keywords = EXCLUDED.keywords, description = EXCLUDED.description",
                (m.code, m.name, m.parent_code, list(m.keywords), m.description),
            )
        for b in data.bodies:
            conn.execute(
                "INSERT INTO body (code, name, kind, service, contact, serves)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (code) DO UPDATE SET"
                " name = EXCLUDED.name, kind = EXCLUDED.kind, service = EXCLUDED.service,"
                " contact = EXCLUDED.contact, serves = EXCLUDED.serves",
                (b.code, b.name, b.kind, b.service, b.contact, list(b.serves)),
            )
        places = sorted({d.division_code or "" for d in data.duties})
        keep = [f"{d.matter_code}@{d.division_code or ''}" for d in data.duties]
        removed = conn.execute(
            "DELETE FROM duty WHERE (%s OR coalesce(division_code, '') = ANY(%s))"
            " AND NOT (matter_code || '@' || coalesce(division_code, '')) = ANY(%s)",
            (replace_all, places, keep),
        ).rowcount
        for d in data.duties:
            conn.execute(
                "INSERT INTO duty (list, matter_code, division_code, owner, body_code, service,"
                " time_limit, time_unit, basis, note) VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
                " %s, %s) ON CONFLICT (matter_code, division_code) DO UPDATE SET"
                " list = EXCLUDED.list, owner = EXCLUDED.owner, body_code = EXCLUDED.body_code,"
                " service = EXCLUDED.service, time_limit = EXCLUDED.time_limit,"
                " time_unit = EXCLUDED.time_unit, basis = EXCLUDED.basis, note = EXCLUDED.note",
                (d.list, d.matter_code, d.division_code, d.owner, d.body_code, d.service, d.time_limit,
                 d.time_unit, d.basis, d.note),
            )  # fmt: skip
        counts = {**data.counts(), "duties_removed": removed}
        audit(conn, actor, "duties.import", "duty", None, counts)
    return counts


def matters(conn: psycopg.Connection[Any]) -> list[Matter]:
    rows = conn.execute(
        "SELECT code, name, parent_code, keywords, description FROM matter ORDER BY code"
    ).fetchall()
    return [Matter(r[0], r[1], r[2], tuple(r[3]), r[4]) for r in rows]


def bodies(conn: psycopg.Connection[Any]) -> list[Body]:
    rows = conn.execute(
        "SELECT code, name, kind, service, contact, serves FROM body ORDER BY code"
    ).fetchall()
    return [Body(r[0], r[1], r[2], r[3], r[4], tuple(r[5])) for r in rows]


def _duty(r: tuple[Any, ...]) -> Duty:
    return Duty(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], int(r[7]), r[8], r[9], r[10])


def duties_for(conn: psycopg.Connection[Any], matter: str | None = None) -> list[Duty]:
    """The duties of one matter (every place), or of all matters."""
    if matter is None:
        rows = conn.execute(
            f"SELECT {_DUTY_COLS} FROM duty ORDER BY matter_code, division_code NULLS FIRST"
        ).fetchall()
    else:
        rows = conn.execute(
            f"SELECT {_DUTY_COLS} FROM duty WHERE matter_code = %s", (matter,)
        ).fetchall()
    return [_duty(r) for r in rows]


def dump_duties(conn: psycopg.Connection[Any]) -> DutyList:
    return DutyList(matters(conn), bodies(conn), duties_for(conn))


def calendar_overrides(conn: psycopg.Connection[Any]) -> dict[date, bool]:
    return {r[0]: bool(r[1]) for r in conn.execute("SELECT day, working FROM calendar_day")}


def load_calendar(
    conn: psycopg.Connection[Any], days: list[tuple[date, bool, str]], actor: str
) -> int:
    """Add or replace calendar days (holidays off, weekend days worked), in one transaction."""
    with conn.transaction():
        for day, working, note in days:
            conn.execute(
                "INSERT INTO calendar_day (day, working, note) VALUES (%s, %s, %s)"
                " ON CONFLICT (day) DO UPDATE SET working = EXCLUDED.working, note = EXCLUDED.note",
                (day, working, note),
            )
        audit(conn, actor, "calendar.import", "calendar_day", None, {"days": len(days)})
    return len(days)
