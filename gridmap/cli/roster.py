"""``gridmap roster``: assign, end and replace chiefs, a post's history, vacancies."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from typing import TYPE_CHECKING, Annotated, cast

import typer

from gridmap.cli.common import DbUrl, actor, app, open_service, out

if TYPE_CHECKING:
    from gridmap.roster import Post, RoleName

roster_app = typer.Typer(help="The chiefs (三长): assign, end, replace, history, vacancies.",
                         no_args_is_help=True)  # fmt: skip
app.add_typer(roster_app, name="roster")

RoleArg = Annotated[str, typer.Argument(help="grid_chief, building_chief or unit_chief.")]
GridOpt = Annotated[str | None, typer.Option("--grid", help="The grid code (grid_chief).")]
BuildingOpt = Annotated[
    str | None, typer.Option("--building", help="The building id (building and unit chiefs).")
]
UnitOpt = Annotated[str | None, typer.Option("--unit", help="The unit number (unit_chief).")]


def _post(role: str, grid: str | None, building: str | None, unit: str | None) -> Post:
    from gridmap.roster import Post

    return Post(cast("RoleName", role), grid, building, unit).checked()


@roster_app.command("assign")
def roster_assign(
    role: RoleArg,
    person: Annotated[str, typer.Argument(help="The person's id (new people need --name).")],
    grid: GridOpt = None,
    building: BuildingOpt = None,
    unit: UnitOpt = None,
    name: Annotated[str | None, typer.Option(help="The person's name.")] = None,
    phone: Annotated[str | None, typer.Option(help="The person's phone.")] = None,
    since: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (today).")] = None,
    url: DbUrl = None,
) -> None:
    """Give a vacant post to a person."""
    with open_service(url) as gm:
        res = gm.assign(_post(role, grid, building, unit), person,
                        since=_day(since, "--since"), name=name, phone=phone, actor=actor())  # fmt: skip
    out.print(f"{res['post']}: person {res['person_id']} from {res['since']}")


@roster_app.command("end")
def roster_end(
    role: RoleArg,
    grid: GridOpt = None,
    building: BuildingOpt = None,
    unit: UnitOpt = None,
    until: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (today).")] = None,
    url: DbUrl = None,
) -> None:
    """End the current term of a post (the post is then vacant)."""
    with open_service(url) as gm:
        res = gm.end_term(_post(role, grid, building, unit), until=_day(until, "--until"),
                          actor=actor())  # fmt: skip
    out.print(f"{res['post']}: person {res['person_id']}'s term ends {res['until']}")


@roster_app.command("replace")
def roster_replace(
    role: RoleArg,
    person: Annotated[str, typer.Argument(help="The new chief's id (new people need --name).")],
    grid: GridOpt = None,
    building: BuildingOpt = None,
    unit: UnitOpt = None,
    name: Annotated[str | None, typer.Option(help="The new chief's name.")] = None,
    phone: Annotated[str | None, typer.Option(help="The new chief's phone.")] = None,
    since: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (today).")] = None,
    url: DbUrl = None,
) -> None:
    """End the current chief's term and start the new chief's, in one transaction."""
    with open_service(url) as gm:
        res = gm.replace_chief(_post(role, grid, building, unit), person,
                               since=_day(since, "--since"), name=name, phone=phone,
                               actor=actor())  # fmt: skip
    before = res["replaced"]["person_id"] if res["replaced"] else "nobody (it was vacant)"
    out.print(f"{res['post']}: person {res['person_id']} from {res['since']}, after {before}")


@roster_app.command("history")
def roster_history(
    role: RoleArg,
    grid: GridOpt = None,
    building: BuildingOpt = None,
    unit: UnitOpt = None,
    show_phones: Annotated[bool, typer.Option(help="Phones unmasked (personal data).")] = False,
    url: DbUrl = None,
) -> None:
    """Every term of a post, oldest first."""
    with open_service(url) as gm:
        rows = gm.post_history(_post(role, grid, building, unit), authorised=show_phones)
    for r in rows:
        out.print(f"{r['since']} – {r['until'] or 'now':<10}  {r['person_id']}  {r['name']}  "
                  f"{r['phone'] or ''}")  # fmt: skip


@roster_app.command("vacancies")
def roster_vacancies(
    division: Annotated[str, typer.Argument(help="A community, street, district… code.")],
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    url: DbUrl = None,
) -> None:
    """Grids with no grid chief, buildings with no building chief, units with no unit chief."""
    from gridmap.errors import InvalidInput

    if fmt not in ("table", "json", "csv"):
        raise InvalidInput(f"--format {fmt!r}: expected table, json or csv", value=fmt)
    with open_service(url) as gm:
        rows = [{k: v for k, v in r.items() if k != "geom"} for r in gm.vacancies(division)]
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False))
    elif fmt == "csv":
        w = csv.DictWriter(sys.stdout, ["role", "grid_code", "building_id", "unit_no", "name",
                                        "community_code"])  # fmt: skip
        w.writeheader()
        w.writerows(rows)
    else:
        counts = {r: sum(1 for x in rows if x["role"] == r)
                  for r in ("grid_chief", "building_chief", "unit_chief")}  # fmt: skip
        out.print(f"vacant: {counts['grid_chief']} grid chief(s), {counts['building_chief']} "
                  f"building chief(s), {counts['unit_chief']} unit chief(s)")  # fmt: skip
        for r in rows[:200]:
            where = (
                r["grid_code"]
                if r["role"] == "grid_chief"
                else (f"{r['building_id']}" + (f" 单元 {r['unit_no']}" if r["unit_no"] else ""))
            )
            out.print(f"  {r['role']:<15} {where}  {r['name'] or ''}")


def _day(text: str | None, option: str) -> date | None:
    from gridmap.errors import InvalidInput

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{option} {text!r}: expected a date as YYYY-MM-DD",
                           value=text) from None  # fmt: skip
