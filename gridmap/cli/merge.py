"""``gridmap merge``: 多网合一, the three legacy layers into one coded grid set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from gridmap.cli.common import DbUrl, actor, app, open_service, out, progress_bar


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
) -> None:
    """多网合一: merge the three legacy layers into one coded grid coverage (a new generation)."""

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
    bar, update = progress_bar()
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
