"""``gridmap duties`` and ``gridmap appeals``: responsibility lists, and residents' appeals.

The command line acts with an admin's rights (whoever runs it reaches the database itself);
its actions are recorded under the login name.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from gridmap.cli.common import DbUrl, actor, app, err, open_service, out, progress_bar

duties_app = typer.Typer(help="Responsibility lists (职责清单): who owns each matter where.",
                         no_args_is_help=True)  # fmt: skip
appeals_app = typer.Typer(help="Residents' appeals (接诉即办): import, list, show, export, act.",
                          no_args_is_help=True)  # fmt: skip
app.add_typer(duties_app, name="duties")
app.add_typer(appeals_app, name="appeals")


def _admin() -> Any:
    from gridmap.access import Caller

    return Caller("admin", name=actor())


# ---------------------------------------------------------------------- duties


@duties_app.command("import")
def duties_import(
    folder: Annotated[
        Path,
        typer.Argument(
            help="A folder with matters.csv, bodies.csv and duties.csv (docs/appeals.md)."
        ),
    ],
    url: DbUrl = None,
) -> None:
    """Validate a list against the database and load it, all or nothing. The file is the
    whole list for the places it names (everywhere, or its divisions)."""
    with open_service(url) as gm:
        counts, warnings = gm.import_duties(folder, actor=actor())
    for w in warnings:
        err.print(f"warning: {w}", markup=False)
    out.print(f"{counts['matters']} matters, {counts['bodies']} bodies, {counts['duties']} "
              f"duties loaded; {counts['duties_removed']} duties no longer in the list removed")  # fmt: skip


@duties_app.command("load-sample")
def duties_load_sample(url: DbUrl = None) -> None:
    """Load the shipped ILLUSTRATIVE list (100 street duties, 20 community powers, 37
    community public services; not an official list)."""
    with open_service(url) as gm:
        counts = gm.load_sample_duties(actor=actor())
    out.print(f"illustrative list loaded: {counts['matters']} matters, {counts['bodies']} "
              f"bodies, {counts['duties']} duties")  # fmt: skip


@duties_app.command("export")
def duties_export(
    folder: Annotated[Path, typer.Argument(help="Where to write the three CSV files.")],
    url: DbUrl = None,
) -> None:
    """Write the database's list in the format it is imported from."""
    with open_service(url) as gm:
        paths = gm.export_duties(folder)
    out.print(f"wrote {', '.join(str(p) for p in paths)}")


@duties_app.command("show")
def duties_show(
    division: Annotated[str, typer.Argument(help="A division or grid code.")],
    matter: Annotated[str | None, typer.Option(help="One matter code only.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    url: DbUrl = None,
) -> None:
    """Who handles each matter at a division: the owner, the time limit and the basis."""
    with open_service(url) as gm:
        rows = gm.duties_at(division, matter)
    for r in rows:
        if as_json:
            print(r.model_dump_json())
            continue
        owner = r.owner.name if r.owner else f"({r.owner_kind}: {r.note})"
        own = " *" if r.entry_division else ""
        out.print(f"{r.matter_code:<12} {r.matter_name:<16} {owner:<24} "
                  f"{r.time_limit} {r.time_unit}{own}", markup=False)  # fmt: skip
    if not as_json:
        err.print(f"{len(rows)} matters; * = the division's own entry, over the default")


@duties_app.command("calendar")
def duties_calendar(
    file: Annotated[Path, typer.Argument(help="CSV: day (YYYY-MM-DD), working (yes/no), note.")],
    url: DbUrl = None,
) -> None:
    """Load holidays off and weekend days worked (调休), for working-day deadlines."""
    from gridmap.errors import InvalidInput

    days = []
    with file.open(encoding="utf-8-sig", newline="") as f:
        for i, row in enumerate(csv.DictReader(f), 1):
            try:
                day = date.fromisoformat((row.get("day") or "").strip())
            except ValueError as exc:
                raise InvalidInput(f"{file.name} row {i} day {row.get('day')!r}: expected "
                                   "YYYY-MM-DD") from exc  # fmt: skip
            flag = (row.get("working") or "").strip().lower()
            if flag not in ("yes", "no", "true", "false", "1", "0"):
                raise InvalidInput(f"{file.name} row {i} working {flag!r}: expected yes or no")
            days.append((day, flag in ("yes", "true", "1"), (row.get("note") or "").strip()))
    with open_service(url) as gm:
        n = gm.load_calendar(days, actor=actor())
    out.print(f"{n} calendar days loaded")


# ---------------------------------------------------------------------- appeals

APPEAL_COLUMNS = ("matter_code", "description", "channel", "lon", "lat", "crs", "address",
                  "contact_name", "contact_phone", "received_at")  # fmt: skip


def read_appeals(path: Path) -> list[Any]:
    """Appeals from a CSV (a hotline's export), every row checked before any is filed."""
    from gridmap.errors import GridmapError, ImportValidationError
    from gridmap.io.problems import Problem
    from gridmap.service import Intake

    intakes, problems = [], []
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("matter_code", "description") if c not in (reader.fieldnames or [])]
        if missing:
            raise ImportValidationError([Problem("appeals", None, None, None,
                                                 f"lacks the column(s) {', '.join(missing)} "
                                                 f"(expected {', '.join(APPEAL_COLUMNS)})")])  # fmt: skip
        for i, row in enumerate(reader, 1):
            r = {k: (v or "").strip() for k, v in row.items() if k}
            try:
                intakes.append(Intake(
                    r["matter_code"], r["description"], channel=r.get("channel") or "hotline",
                    lon=_number(r, "lon"), lat=_number(r, "lat"), crs=r.get("crs") or "EPSG:4490",
                    address=r.get("address") or None, contact_name=r.get("contact_name"),
                    contact_phone=r.get("contact_phone") or None,
                    received_at=_time(r.get("received_at")),
                ))  # fmt: skip
            except GridmapError as exc:
                problems.append(Problem("appeals", i, None, None, exc.message))
    if problems:
        raise ImportValidationError(problems)
    return intakes


def _number(row: dict[str, str], col: str) -> float | None:
    from gridmap.errors import InvalidInput

    v = row.get(col) or ""
    if not v:
        return None
    try:
        return float(v)
    except ValueError as exc:
        raise InvalidInput(f"{col} {v!r}: expected a number") from exc


def _time(text: str | None) -> datetime | None:
    from gridmap.appeals.calendar import CST
    from gridmap.errors import InvalidInput

    if not text:
        return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"received_at {text!r}: expected an ISO time, e.g. "
                           "2026-03-01T09:30:00+08:00") from exc  # fmt: skip
    return t if t.tzinfo else t.replace(tzinfo=CST)


@appeals_app.command("import")
def appeals_import(
    file: Annotated[Path, typer.Argument(help="CSV: " + ", ".join(APPEAL_COLUMNS) + ".")],
    url: DbUrl = None,
) -> None:
    """File many appeals in one transaction, all or none, each routed as it would have been
    when received. Times without a zone are China Standard Time."""
    intakes = read_appeals(file)
    bar, update = progress_bar()
    with open_service(url) as gm, bar:
        ids = gm.import_appeals(intakes, actor=actor(),
                                progress=lambda done, total: update("appeals", done, total))  # fmt: skip
    out.print(f"{len(ids)} appeals filed" + (f": {ids[0]}-{ids[-1]}" if ids else ""))


def _filters(
    division: str | None, state: list[str] | None, matter: str | None, owner: str | None,
    overdue: bool,
) -> dict[str, Any]:  # fmt: skip
    kind, _, code = (owner or "").rpartition(":")
    return {"division": division, "states": state or None, "matter_prefix": matter,
            "owner_kind": kind or None, "owner_code": code or None, "overdue": overdue}  # fmt: skip


Division = Annotated[str | None, typer.Option(help="A street's or district's code.")]
States = Annotated[list[str] | None, typer.Option("--state", help="A state (repeatable).")]
MatterOpt = Annotated[str | None, typer.Option(help="A matter code or category.")]
OwnerOpt = Annotated[str | None, typer.Option(help="An owner: CODE or KIND:CODE.")]
Overdue = Annotated[bool, typer.Option(help="Only overdue appeals.")]


@appeals_app.command("seed")
def appeals_seed(
    within: Annotated[str, typer.Option(help="The division whose buildings they are at.")] = (
        "220102000000"),
    count: Annotated[int, typer.Option(help="How many appeals.")] = 300,
    seed: Annotated[int, typer.Option(help="The random seed.")] = 2026,
    days: Annotated[int, typer.Option(help="Spread over this many past days.")] = 180,
    if_empty: Annotated[bool, typer.Option(help="Only when there are no appeals yet.")] = False,
    url: DbUrl = None,
) -> None:  # fmt: skip
    """Demo appeals at the region's buildings, spread over months and in every state (needs
    the illustrative list: gridmap duties load-sample)."""
    from gridmap.errors import NotFound

    bar, update = progress_bar()
    with open_service(url) as gm, bar:
        from geodata.appeals import seed_appeals

        if if_empty and gm.appeals(_admin(), limit=1).total:
            out.print("appeals exist already: none seeded")
            return
        points = gm.building_points(within, seed=seed)
        if not points:
            raise NotFound(f"no buildings under {within}: import the sample first", value=within)
        states = seed_appeals(gm, points, count=count, seed=seed, days=days,
                              progress=lambda d, t: update("appeals", d, t))  # fmt: skip
    out.print(f"{sum(states.values())} demo appeals: " +
              ", ".join(f"{n} {s}" for s, n in sorted(states.items())))  # fmt: skip


@appeals_app.command("list")
def appeals_list(
    division: Division = None, state: States = None, matter: MatterOpt = None,
    owner: OwnerOpt = None, overdue: Overdue = False,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    url: DbUrl = None,
) -> None:  # fmt: skip
    """The newest appeals: id, light, state, matter, owner, deadline."""
    with open_service(url) as gm:
        page = gm.appeals(_admin(), limit=limit,
                          **_filters(division, state, matter, owner, overdue))  # fmt: skip
    for a in page.items:
        late = " OVERDUE" if a.overdue else ""
        due = f"{a.deadline:%Y-%m-%d %H:%M}" if a.deadline else "-"
        out.print(f"{a.id:>7} {a.light:<6} {a.state:<10} {a.matter_code:<10} "
                  f"{a.owner.name:<20} due {due}{late}", markup=False)  # fmt: skip
    err.print(f"{len(page.items)} of {page.total}")


@appeals_app.command("show")
def appeals_show(
    appeal_id: Annotated[int, typer.Argument(help="The appeal's number.")], url: DbUrl = None
) -> None:
    """One appeal with its history, as JSON."""
    with open_service(url) as gm:
        a = gm.appeal(appeal_id, _admin())
    print(json.dumps(a.model_dump(mode="json"), ensure_ascii=False, indent=2))


@appeals_app.command("export")
def appeals_export(
    file: Annotated[Path, typer.Argument(help="The CSV to write ('-': standard output).")],
    division: Division = None, state: States = None, matter: MatterOpt = None,
    owner: OwnerOpt = None, overdue: Overdue = False, url: DbUrl = None,
) -> None:  # fmt: skip
    """Appeals as CSV (UTF-8 with a BOM, for Excel)."""
    filters = _filters(division, state, matter, owner, overdue)
    with open_service(url) as gm:
        if str(file) == "-":
            n = gm.appeals_csv(_admin(), sys.stdout, **filters)
        else:
            with file.open("w", encoding="utf-8", newline="") as f:
                n = gm.appeals_csv(_admin(), f, **filters)
    err.print(f"{n} appeals written")


@appeals_app.command("act")
def appeals_act(
    appeal_id: Annotated[int, typer.Argument(help="The appeal's number.")],
    action: Annotated[
        str, typer.Argument(help="sign, return, reroute, handle, submit, reject or verify.")
    ],
    note: Annotated[str, typer.Option(help="Why (needed to return or reject).")] = "",
    to: Annotated[str | None, typer.Option(help="reroute: KIND:CODE of the new owner.")] = None,
    url: DbUrl = None,
) -> None:
    """Move an appeal along its workflow."""
    target = None
    if to:
        kind, _, code = to.partition(":")
        target = (kind, code)
    with open_service(url) as gm:
        a = gm.act(appeal_id, action, _admin(), note=note, to=target, actor=actor())
    out.print(f"appeal {a.id}: {a.state} ({a.light}), owner {a.owner.name}", markup=False)


@appeals_app.command("callback")
def appeals_callback(
    appeal_id: Annotated[int, typer.Argument(help="The appeal's number.")],
    satisfaction: Annotated[
        str, typer.Argument(help="satisfied, basically_satisfied or unsatisfied.")
    ],
    note: Annotated[str, typer.Option(help="What the resident said.")] = "",
    url: DbUrl = None,
) -> None:
    """Record the callback (回访): unsatisfied reopens the appeal."""
    with open_service(url) as gm:
        a = gm.act(appeal_id, "callback", _admin(), note=note, satisfaction=satisfaction,
                   actor=actor())  # fmt: skip
    out.print(f"appeal {a.id}: {a.state} ({a.light})", markup=False)


@appeals_app.command("dashboard")
def appeals_dashboard(
    division: Annotated[str, typer.Argument(help="A street's or district's code.")],
    url: DbUrl = None,
) -> None:
    """A street's or district's appeals at a glance, as JSON."""
    with open_service(url) as gm:
        d = gm.dashboard(division)
    print(json.dumps(d.model_dump(mode="json"), ensure_ascii=False, indent=2))
