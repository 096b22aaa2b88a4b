"""``gridmap rebalance`` and ``gridmap plan``: draft, compare, activate and roll back plans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from gridmap.cli.common import DbUrl, actor, app, open_service, out, progress_bar

plan_app = typer.Typer(
    help="Rebalancing plans: list, show, compare, activate, roll back.", no_args_is_help=True
)
app.add_typer(plan_app, name="plan")


def _dump(obj: Any) -> None:
    out.print_json(json.dumps(obj, ensure_ascii=False, default=str))


def _table(summary: dict[str, Any], title: str) -> None:
    from rich.table import Table

    t = Table(title=title)
    t.add_column("metric")
    t.add_column("value", justify="right")
    for k, v in summary.items():
        t.add_row(k, str(v))
    out.print(t)


@app.command("rebalance")
def rebalance(
    division: Annotated[str, typer.Argument(help="A community, street or district code.")],
    band: Annotated[str, typer.Option(help="Households per urban grid, as LOW-HIGH.")] = "300-500",
    rural_band: Annotated[
        str | None,
        typer.Option(help="Balance rural communities too, to LOW-HIGH households per grid."),
    ] = None,
    lock: Annotated[
        list[str] | None, typer.Option(help="A grid code to leave as it is (repeatable).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the plan as one JSON object on stdout.")
    ] = False,
    save: Annotated[bool, typer.Option("--save", help="Store the plan as a draft.")] = False,
    url: DbUrl = None,
) -> None:
    """Redraw grid boundaries to bring households into the band, moving as few as possible."""
    from gridmap.rebalance import parse_band

    low_high = parse_band(band)
    rural = parse_band(rural_band) if rural_band else None
    bar, update = progress_bar()
    with open_service(url) as gm, bar:
        drafted = gm.rebalance(
            division,
            band=low_high,
            rural_band=rural,
            locked=lock or (),
            save=save,
            progress=lambda done, total: update("communities", done, total),
            actor=actor(),
        )
    if as_json:
        print(json.dumps(drafted.to_json(), ensure_ascii=False, default=str))
        return
    title = f"plan {drafted.plan_id}" if drafted.plan_id else "plan (not saved: --save)"
    _table(drafted.plan.summary, f"{title} for {division}")
    for reason in drafted.plan.infeasible:
        out.print(f"[yellow]infeasible[/]: {reason}")
    for reason in drafted.skipped:
        out.print(f"skipped: {reason}")


@plan_app.command("list")
def plan_list(url: DbUrl = None) -> None:
    """Every plan with its status and headline figures."""
    with open_service(url) as gm:
        rows = gm.plans()
    for r in rows:
        s = r["summary"] or {}
        out.print(
            f"{r['id']:>4}  {r['division_code']}  {r['status']:<11}  base gen {r['base_generation']}"
            f"  in band {s.get('in_band')}  moved {s.get('households_moved')}"
            f"/{s.get('households_total')}"
        )


@plan_app.command("show")
def plan_show(plan_id: int, url: DbUrl = None) -> None:
    """A plan's metrics, grids and review list."""
    with open_service(url) as gm:
        p = gm.plan(plan_id)
    _table(p["metrics"]["summary"], f"plan {plan_id} ({p['status']})")
    for r in p["metrics"]["table"]:
        out.print(f"{r['code']}  {r['status']:<4}  {r['households']:>5} 户  "
                  f"{r['deviation_pct']:>6}%  PP {r['polsby_popper']}")  # fmt: skip
    for item in p["review"]:
        out.print(f"review: {item}")


@plan_app.command("compare")
def plan_compare(
    plan_id: int,
    with_: Annotated[
        str, typer.Option("--with", help="'current' or another plan's id.")
    ] = "current",
    url: DbUrl = None,
) -> None:
    """A plan beside the grids in force or another plan: metrics and moved buildings."""
    from gridmap.errors import InvalidInput

    other = None if with_ == "current" else _int(with_, InvalidInput)
    with open_service(url) as gm:
        _dump(gm.compare(plan_id, other))


def _int(text: str, error: type[Exception]) -> int:
    try:
        return int(text)
    except ValueError:
        raise error(f"--with {text!r}: expected 'current' or a plan id") from None


@plan_app.command("activate")
def plan_activate(plan_id: int, url: DbUrl = None) -> None:
    """Make a draft plan the grids in force (a new generation, in one transaction)."""
    with open_service(url) as gm:
        res = gm.activate(plan_id, actor=actor())
    out.print(f"plan {plan_id} active as generation {res['generation']}, "
              f"{res['retired']} grid(s) retired")  # fmt: skip
    for item in res["review"]:
        out.print(f"review: {item}")


@plan_app.command("rollback")
def plan_rollback(plan_id: int, url: DbUrl = None) -> None:
    """Bring back the grids an active plan replaced (a new generation equal to its base)."""
    with open_service(url) as gm:
        gen = gm.rollback(plan_id, actor=actor())
    out.print(f"generation {gen}: the grids plan {plan_id} replaced are back")


@plan_app.command("map")
def plan_map(
    plan_id: int,
    out_path: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")],
    url: DbUrl = None,
) -> None:
    """Draw a plan over the grids it replaces, with the buildings it moves (offline HTML)."""
    from gridmap.maps import save_html

    with open_service(url) as gm:
        m = gm.plan_map(plan_id)
    out.print(f"plan map: {save_html(m, out_path)}")
