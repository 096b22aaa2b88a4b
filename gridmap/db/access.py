"""API keys and the audit trail in the database."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gridmap.access import ROLES, Caller, Role, hash_key, new_key, parse_scope
from gridmap.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from datetime import datetime

    import psycopg

__all__ = ["audit", "create_key", "find_caller", "list_keys", "query_audit", "revoke_key"]


def audit(
    conn: psycopg.Connection[Any],
    actor: str,
    action: str,
    target: str | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    """Append one event to the audit trail (in the caller's transaction, if any)."""
    conn.execute(
        "INSERT INTO audit_event (actor, action, target, before, after) VALUES (%s, %s, %s, %s, %s)",
        (actor, action, target,
         None if before is None else json.dumps(before, ensure_ascii=False, default=str),
         None if after is None else json.dumps(after, ensure_ascii=False, default=str)),
    )  # fmt: skip


def create_key(
    conn: psycopg.Connection[Any],
    name: str,
    role: Role,
    scope: list[str] | tuple[str, ...] = (),
    rate_per_minute: int = 600,
    actor: str = "cli",
    body: str | None = None,
) -> tuple[int, str]:
    """A new key (id, text); only its hash is stored, so the text is shown this once.

    A department key names its ``body`` (a department or company code); grid worker and
    dispatcher keys need a scope."""
    if role not in ROLES:
        raise InvalidInput(f"role {role!r}: expected one of {', '.join(ROLES)}", value=role)
    codes = parse_scope(scope)
    if role in ("grid_worker", "dispatcher") and not codes:
        raise InvalidInput(f"a {role} key needs a scope: the grid or division codes it serves")
    if (role == "department") != (body is not None):
        raise InvalidInput(
            "a department key needs --body, the code of its department or company"
            if role == "department"
            else f"--body {body!r} is only for department keys",
            value=body,
        )
    if (
        body is not None
        and conn.execute("SELECT 1 FROM body WHERE code = %s", (body,)).fetchone() is None
    ):
        raise NotFound(f"no department or company with code {body!r}: import the duties "
                       "list first (gridmap duties import)", value=body)  # fmt: skip
    if not name.strip():
        raise InvalidInput("a key needs a name (whose key it is)")
    if rate_per_minute < 1:
        raise InvalidInput(f"rate {rate_per_minute}: expected requests per minute, at least 1",
                           value=rate_per_minute)  # fmt: skip
    key = new_key()
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO api_key (name, prefix, hash, role, scope, rate_per_minute, body_code)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (name.strip(), key[:7], hash_key(key), role, list(codes), rate_per_minute, body),
        ).fetchone()
        assert row is not None
        audit(conn, actor, "key.create", f"key {row[0]}", None,
              {"name": name.strip(), "role": role, "scope": list(codes),
               "rate_per_minute": rate_per_minute, "body": body})  # fmt: skip
    return int(row[0]), key


def list_keys(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    cur = conn.execute(
        "SELECT id, name, prefix, role, scope, rate_per_minute, created_at, revoked_at"
        " FROM api_key ORDER BY id"
    )
    cols = [d.name for d in cur.description or []]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def revoke_key(conn: psycopg.Connection[Any], key_id: int, actor: str = "cli") -> None:
    with conn.transaction():
        row = conn.execute(
            "UPDATE api_key SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL"
            " RETURNING name", (key_id,),
        ).fetchone()  # fmt: skip
        if row is None:
            raise NotFound(f"no key {key_id} that is not revoked already", value=key_id)
        audit(conn, actor, "key.revoke", f"key {key_id}", {"name": row[0]}, None)


def find_caller(conn: psycopg.Connection[Any], key: str) -> Caller | None:
    """The caller a key stands for, or None when it is unknown or revoked."""
    row = conn.execute(
        "SELECT id, name, role, scope, rate_per_minute, body_code FROM api_key"
        " WHERE hash = %s AND revoked_at IS NULL",
        (hash_key(key),),
    ).fetchone()
    if row is None:
        return None
    return Caller(role=row[2], scope=tuple(row[3]), key_id=int(row[0]), name=str(row[1]),
                  rate_per_minute=int(row[4]), body=row[5])  # fmt: skip


def query_audit(
    conn: psycopg.Connection[Any],
    *,
    target: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Events, newest first: those whose target or before/after mention ``target`` (a grid
    code, a person id, a plan), by ``actor``, between ``since`` and ``until``."""
    cur = conn.execute(
        """
        SELECT id, at, actor, action, target, before, after FROM audit_event
        WHERE (%(t)s::text IS NULL OR target = %(t)s OR before::text LIKE %(tl)s
               OR after::text LIKE %(tl)s)
          AND (%(a)s::text IS NULL OR actor LIKE %(al)s)
          AND (%(s)s::timestamptz IS NULL OR at >= %(s)s)
          AND (%(u)s::timestamptz IS NULL OR at < %(u)s)
        ORDER BY at DESC, id DESC LIMIT %(n)s
        """,
        {"t": target, "tl": f"%{target}%" if target else None, "a": actor,
         "al": f"%{actor}%" if actor else None, "s": since, "u": until, "n": limit},
    )  # fmt: skip
    cols = [d.name for d in cur.description or []]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
