"""``gridmap merge``: 多网合一, the three legacy layers into one coded grid set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gridmap.cli.common import DbUrl, actor, app, open_service, out, progress_bar

if TYPE_CHECKING:
    from gridmap.service import MergeRun


@app.command("merge")
def merge(
    division: Annotated[
        str | None,
        typer.Argument(
            help="A community, street, county or city code; default: the whole database."
        ),
    ] = None,
    url: DbUrl = None,
    report: Annotated[
        str | None, typer.Option(help="Folder for the QA report (report.json and report.md).")
    ] = None,
    snap: Annotated[float, typer.Option(help="Snap tolerance in metres.")] = 10.0,
    sliver_area: Annotated[
        float, typer.Option(help="Pieces below this area (m²) are slivers.")
    ] = 200.0,
    households: Annotated[
        str, typer.Option(help="Target households per urban grid, as MIN-MAX.")
    ] = "300-500",
    priority: Annotated[
        str, typer.Option(help="Layer priority where legacy layers overlap, first wins.")
    ] = "governance,civil,party",
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Merge and report; write nothing.")
    ] = False,
    units: Annotated[
        str,
        typer.Option(
            help="auto: unit by unit (county) when the scope holds more than one county; "
            "county or city: always unit by unit; none: one merge for the whole scope."
        ),
    ] = "auto",
    resume: Annotated[
        int | None,
        typer.Option(help="Resume merge run RUN: merge only its units that are not done."),
    ] = None,
    rollback: Annotated[
        int | None,
        typer.Option(
            help="Roll merge run RUN back: its scope returns to the grids in force when it "
            "started (as a new generation)."
        ),
    ] = None,
) -> None:
    """多网合一: merge the three legacy layers into one coded grid coverage.

    A community, street or county is one merge and one new generation. A city, a province
    or the whole database is merged county by county: each county is its own generation,
    written as it finishes, so memory stays bounded by the largest county; a failed county
    is reported and `--resume RUN` merges only what is not done; `--rollback RUN` undoes
    the run.
    """

    from gridmap.errors import InvalidInput
    from gridmap.merge import MergeOptions, render_report_markdown

    try:
        lo, hi = (int(x) for x in households.split("-", 1))
    except ValueError:
        raise InvalidInput(f"--households {households!r}: expected MIN-MAX, e.g. 300-500") from None
    options = MergeOptions(
        snap_tolerance=snap,
        sliver_area=sliver_area,
        households_min=lo,
        households_max=hi,
        layer_priority=tuple(x.strip() for x in priority.split(",")),
        workers=workers,
    ).validate()
    if units not in ("auto", "county", "city", "none"):
        raise InvalidInput(f"--units {units!r}: expected auto, county, city or none", value=units)
    if rollback is not None:
        with open_service(url) as gm:
            gen = gm.rollback_run(rollback, actor=actor())
        out.print(f"merge run {rollback} rolled back: generation {gen}")
        return
    bar, update = progress_bar()
    with open_service(url) as gm:
        level = units if units in ("county", "city") else None
        if level is None and units == "auto" and resume is None:
            level = "county" if gm.counties_under(division) > 1 else None
        if resume is not None or level is not None:
            with bar:
                run = gm.merge_run(
                    division, options, level=level or "county", resume=resume,
                    dry_run=dry_run, progress=update, actor=actor(),
                )  # fmt: skip
            _print_run(run, report)
            if run.failed:
                raise typer.Exit(1)
            return
    with open_service(url) as gm, bar:
        outcome = gm.merge(
            division,
            options,
            dry_run=dry_run,
            progress=lambda done, total: update("communities", done, total),
            actor=actor(),
        )
    result, lineage = outcome.result, outcome.lineage
    if outcome.generation is not None:
        out.print(
            f"generation {outcome.generation}: {len(outcome.grids)} grids "
            f"({len(lineage.inherited)} kept their code, "
            f"{len(lineage.fresh)} new), {outcome.crosswalk_rows} crosswalk rows"
        )
        ended = [r for r in outcome.review if r["reason"].startswith("grid retired")]
        vacant = len(outcome.review) - len(ended)
        out.print(f"roster: {len(ended)} grid chief(s) of retired grids ended, "
                  f"{vacant} grid(s) without a grid chief")  # fmt: skip
        for item in ended[:20]:
            out.print(f"  review: {item['code']} retired; its chief's households went mostly "
                      f"to {item.get('successor') or '—'}")  # fmt: skip
        if report:
            folder = Path(report)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "roster-review.json").write_text(
                json.dumps(outcome.review, ensure_ascii=False, indent=2), encoding="utf-8"
            )
    else:
        out.print(f"{len(outcome.grids)} grids (dry run: nothing written)")
    if report:
        folder = Path(report)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.json").write_text(
            json.dumps(result.report, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )
        (folder / "report.md").write_text(render_report_markdown(result.report), encoding="utf-8")
        out.print(f"report: {folder / 'report.md'}")


def _print_run(run: MergeRun, report: str | None) -> None:
    done = [u for u in run.units if u.status == "done"]
    skipped = [u for u in run.units if u.status == "skipped"]
    out.print(
        f"merge run {run.run if run.run is not None else '(dry run)'} of {run.scope}: "
        f"{len(done)} {run.level}(s) merged, {len(skipped)} already done, "
        f"{len(run.failed)} failed; {sum(u.grids for u in done)} grids"
    )
    for u in run.failed:
        out.print(f"  failed: {u.code}: {u.error}")
    if run.failed and run.run is not None:
        out.print(f"  resume with: gridmap merge --resume {run.run}")
    if run.coverage:
        cov = run.coverage
        verdict = "one valid coverage" if cov["valid"] else (
            f"NOT one valid coverage: {len(cov['invalid_edges'])} grid(s) with unmatched "
            f"edges, {len(cov['overlaps'])} overlapping pair(s)")  # fmt: skip
        out.print(f"the current grids of {run.scope}: {verdict}")
    if run.run is not None:
        out.print(f"roll back with: gridmap merge --rollback {run.run}")
    if report:
        from gridmap.merge import render_report_markdown

        folder = Path(report)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "run.json").write_text(
            json.dumps(run.summary(), ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )
        for u in done:
            assert u.outcome is not None
            sub = folder / u.code
            sub.mkdir(exist_ok=True)
            (sub / "report.json").write_text(
                json.dumps(u.outcome.result.report, ensure_ascii=False, default=str),
                encoding="utf-8",
            )
            (sub / "report.md").write_text(
                render_report_markdown(u.outcome.result.report), encoding="utf-8"
            )
            (sub / "roster-review.json").write_text(
                json.dumps(u.outcome.review, ensure_ascii=False, indent=2), encoding="utf-8"
            )
        out.print(f"report: {folder / 'run.json'} and one folder per {run.level}")
