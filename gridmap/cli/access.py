"""``gridmap keys`` and ``gridmap audit``: API keys with roles, and the audit trail."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer

from gridmap.cli import common
from gridmap.cli.common import DbUrl, app, open_service, out

keys_app = typer.Typer(help="API keys: create (with a role and scope), list, revoke.",
                       no_args_is_help=True)  # fmt: skip
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Whose key it is (a person or a system).")],
    role: Annotated[
        str,
        typer.Option(help="public, grid_worker, department, dispatcher, planner or admin."),
    ] = "public",
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help="A grid or division code the key serves (grid_worker, dispatcher; repeatable)."
        ),
    ] = None,
    body: Annotated[
        str | None,
        typer.Option(help="The department or company code of a department key."),
    ] = None,
    rate: Annotated[int, typer.Option(help="Requests a minute the key may make.")] = 600,
    url: DbUrl = None,
) -> None:
    """Make a key. Its text is printed once: only a hash is stored."""
    with open_service(url) as gm:
        key_id, key = gm.create_key(name, role, scope or (), rate, actor=common.actor(),  # type: ignore[arg-type]
                                    body=body)  # fmt: skip
    out.print(f"key {key_id} ({role}) for {name}:")
    print(key)
    out.print("store it now: it is not shown again")


@keys_app.command("list")
def keys_list(url: DbUrl = None) -> None:
    """Every key: id, name, the first characters, role, scope, rate, and when revoked."""
    with open_service(url) as gm:
        rows = gm.keys()
    for r in rows:
        state = f"revoked {r['revoked_at']:%Y-%m-%d}" if r["revoked_at"] else "active"
        scope = ",".join(r["scope"]) or "-"
        out.print(f"{r['id']:>4}  {r['prefix']}…  {r['role']:<11}  {state:<18}  "
                  f"{r['rate_per_minute']}/min  {scope}  {r['name']}")  # fmt: skip


@keys_app.command("revoke")
def keys_revoke(key_id: int, url: DbUrl = None) -> None:
    """Revoke a key: it stops working within seconds in every server worker."""
    with open_service(url) as gm:
        gm.revoke_key(key_id, actor=common.actor())
    out.print(f"key {key_id} revoked")


@app.command("audit")
def audit(
    target: Annotated[
        str | None, typer.Option(help="A grid code, person id, plan ('plan 3') or division.")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Who (a key id or name, or 'cli').")] = None,
    since: Annotated[datetime | None, typer.Option(help="From this time.")] = None,
    until: Annotated[datetime | None, typer.Option(help="Before this time.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many events.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON list on stdout.")] = False,
    url: DbUrl = None,
) -> None:
    """The audit trail, newest first: who changed what, and when."""
    with open_service(url) as gm:
        rows = gm.audit_events(target=target, actor=actor, since=since, until=until, limit=limit)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return
    for r in rows:
        out.print(f"{r['at']:%Y-%m-%d %H:%M:%S}  {r['actor']:<28}  {r['action']:<18}  "
                  f"{r['target'] or ''}")  # fmt: skip
