"""The 多网合一 use cases: one merge, and a run of merges unit by unit for a city or province."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from gridmap.service.base import ServiceBase

if TYPE_CHECKING:
    import geopandas as gpd
    import psycopg

    from gridmap.lineage import Lineage
    from gridmap.merge import MergeOptions, MergeResult

__all__ = ["MergeOutcome", "MergeRun", "MergeUseCases", "UnitOutcome"]

LOG = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


@dataclass
class MergeOutcome:
    """A merge's grids and QA report, and (unless a dry run) the generation written."""

    result: MergeResult
    lineage: Lineage
    generation: int | None = None
    crosswalk_rows: int = 0
    #: grids whose chiefs need attention after the merge (retired grids' chiefs ended,
    #: grids with no grid chief)
    review: list[dict[str, Any]] = field(default_factory=list)

    @property
    def grids(self) -> gpd.GeoDataFrame:
        """The merged grids with their final (inherited or fresh) codes."""
        return self.lineage.grids


@dataclass
class UnitOutcome:
    """One unit (county or city) of a run: merged and written, skipped as done, or failed."""

    code: str
    status: str  # "done", "skipped" (done in the run being resumed) or "failed"
    generation: int | None = None
    grids: int = 0
    seconds: float = 0.0
    error: str | None = None
    outcome: MergeOutcome | None = None


@dataclass
class MergeRun:
    """A merge of many units: each written as its own generation as it finishes."""

    run: int | None
    scope: str
    level: str
    base_generation: int | None
    units: list[UnitOutcome] = field(default_factory=list)
    #: the whole scope's current grids checked as one coverage after the run
    coverage: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[UnitOutcome]:
        return [u for u in self.units if u.status == "failed"]

    def summary(self) -> dict[str, Any]:
        """The run as JSON: its units (without their reports) and the coverage check."""
        return {
            "run": self.run,
            "scope": self.scope,
            "level": self.level,
            "base_generation": self.base_generation,
            "units": [
                {k: v for k, v in dataclasses.asdict(u).items() if k != "outcome"}
                for u in self.units
            ],
            "coverage": self.coverage,
        }


class MergeUseCases(ServiceBase):
    def merge(
        self,
        within: str | None = None,
        options: MergeOptions | None = None,
        *,
        dry_run: bool = False,
        progress: Callable[[int, int], None] | None = None,
        actor: str = "cli",
    ) -> MergeOutcome:
        """多网合一 for a division (or the whole database): merge, inherit codes, write.

        The pure steps run first (merge, then code lineage against the current grids); the
        result is written as a new generation with its crosswalk in one transaction.
        """
        with self.connection() as conn:
            return _merge_one(conn, within, options, dry_run, progress, actor)

    def merge_run(
        self,
        within: str | None = None,
        options: MergeOptions | None = None,
        *,
        level: str = "county",
        resume: int | None = None,
        dry_run: bool = False,
        progress: Progress | None = None,
        actor: str = "cli",
    ) -> MergeRun:
        """多网合一 for a city, a province or the whole database, one unit at a time.

        Each county (``level="county"``) or city under ``within`` is read, merged and
        written as its own generation before the next is read, so memory is bounded by the
        largest unit, not by the scope. A unit that fails is recorded with its error and
        the run goes on; ``resume=RUN`` merges again only the units of that run that are
        not done, with the options the run started with. The run keeps the generation in force when it started
        (``base_generation``): :meth:`rollback_run` brings the scope back to it. After the
        last unit, the scope's current grids are checked as one coverage.
        """
        from gridmap.db.mergeio import merge_units, record_unit, run_info, start_run

        if level not in ("county", "city"):
            from gridmap.errors import InvalidInput

            raise InvalidInput(f"unit level {level!r}: expected 'county' or 'city'", value=level)
        with self.connection() as conn:
            done: set[str] = set()
            if resume is not None:
                info = run_info(conn, resume)
                within, level = info["scope"] if info["scope"] != "all" else None, info["level"]
                done = {c for c, u in info["units"].items() if u["status"] == "done"}
                # a resumed run merges with the options it started with
                options = _options_from_json(info["options"])
                run: int | None = resume
                base = info["base_generation"]
            units = merge_units(conn, within, level)
            if resume is None:
                run = None if dry_run else start_run(
                    conn, within or "all", level, _options_json(options), actor
                )  # fmt: skip
                base = _current(conn)
        outcome = MergeRun(run=run, scope=within or "all", level=level, base_generation=base)
        LOG.info("merge run %s: %d %s unit(s) under %s", run, len(units), level, within or "all")
        for i, unit in enumerate(units):
            if unit in done:
                outcome.units.append(UnitOutcome(unit, "skipped"))
                continue
            start = time.perf_counter()
            try:
                with self.connection() as conn:
                    one = _merge_one(conn, unit, options, dry_run, _inner(progress), actor)
                    seconds = time.perf_counter() - start
                    if run is not None:
                        record_unit(conn, run, unit, "done", generation=one.generation,
                                    grids=len(one.grids), seconds=seconds)  # fmt: skip
                outcome.units.append(UnitOutcome(unit, "done", one.generation, len(one.grids),
                                                 seconds, outcome=one))  # fmt: skip
            except Exception as exc:  # a unit's failure is recorded; the run goes on
                seconds = time.perf_counter() - start
                LOG.error("merge run %s: unit %s failed: %s", run, unit, exc)
                if run is not None:
                    with self.connection() as conn:
                        record_unit(conn, run, unit, "failed", seconds=seconds, error=str(exc))
                outcome.units.append(UnitOutcome(unit, "failed", seconds=seconds, error=str(exc)))
            if progress:
                progress("units", i + 1, len(units))
        if not dry_run:
            outcome.coverage = self.coverage_of(within)
        return outcome

    def counties_under(self, within: str | None) -> int:
        """How many counties under ``within`` hold a community with a boundary."""
        from gridmap.db.mergeio import merge_units

        with self.connection() as conn:
            return len(merge_units(conn, within, "county"))

    def coverage_of(self, within: str | None = None) -> dict[str, Any]:
        """The current grids under ``within`` checked as one coverage (as a merge report's
        ``coverage``: ``valid``, ``invalid_edges``, ``overlaps``)."""
        from gridmap.db.mergeio import current_grids
        from gridmap.merge.report import coverage_check

        with self.connection() as conn:
            grids = current_grids(conn, within)
        return coverage_check(grids)[0]

    def rollback_run(self, run: int, actor: str = "cli") -> int:
        """The run's scope brought back to the generation in force when the run started
        (as a new generation); returns that generation."""
        from gridmap.db.mergeio import run_info
        from gridmap.errors import InvalidInput

        with self.connection() as conn:
            info = run_info(conn, run)
        if info["base_generation"] is None:
            raise InvalidInput(
                f"merge run {run} started on an empty database: nothing to go back to", value=run
            )
        scope = info["scope"] if info["scope"] != "all" else _top_division(self)
        restore: Callable[..., int] = self.restore  # type: ignore[attr-defined]
        return restore(int(info["base_generation"]), scope, actor=actor,
                       why=f"rollback of merge run {run}")  # fmt: skip


def _merge_one(
    conn: psycopg.Connection[Any],
    within: str | None,
    options: MergeOptions | None,
    dry_run: bool,
    progress: Callable[[int, int], None] | None,
    actor: str,
) -> MergeOutcome:
    from gridmap.db.mergeio import read_merge_inputs, write_merge_result
    from gridmap.geometry import storage_valid
    from gridmap.lineage import inherit_codes, rename_crosswalk
    from gridmap.merge import MergeOptions, merge_layers

    inputs = read_merge_inputs(conn, within)
    opts = replace(options or MergeOptions(), used_serials=inputs.used_serials).validate()
    result = merge_layers(
        inputs.communities, inputs.legacy, inputs.buildings, opts, progress=progress
    )
    lineage = inherit_codes(storage_valid(result.grids), inputs.current, inputs.used_serials)
    outcome = MergeOutcome(result=result, lineage=lineage)
    if dry_run:
        return outcome
    from gridmap.merge.report import findings_from_report

    written = write_merge_result(
        conn,
        lineage.grids,
        rename_crosswalk(result.crosswalk, lineage),
        source=f"merge {within or 'all'}",
        findings=findings_from_report(result.report),
    )
    from gridmap.db.access import audit

    audit(conn, actor, "merge", within or "all", None,
          {"generation": written.generation, "grids": len(lineage.grids),
           "kept": len(lineage.inherited), "new": len(lineage.fresh),
           "review": len(written.review)})  # fmt: skip
    outcome.generation = written.generation
    outcome.crosswalk_rows = written.crosswalk_rows
    outcome.review = written.review
    result.report["generation"] = written.generation
    result.report["codes"] = {"inherited": len(lineage.inherited), "fresh": len(lineage.fresh)}
    return outcome


def _inner(progress: Progress | None) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress("communities", done, total)


def _current(conn: psycopg.Connection[Any]) -> int | None:
    row = conn.execute("SELECT id FROM current_generation").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def _options_json(options: MergeOptions | None) -> dict[str, Any]:
    if options is None:
        return {}
    raw = dataclasses.asdict(options)
    raw.pop("used_serials", None)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in raw.items()}


def _options_from_json(raw: dict[str, Any] | None) -> MergeOptions:
    from gridmap.merge import MergeOptions

    fields = {f.name for f in dataclasses.fields(MergeOptions)}
    given: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in (raw or {}).items() if k in fields
    }
    return MergeOptions(**given)


def _top_division(service: ServiceBase) -> str:
    with service.connection() as conn:
        row = conn.execute(
            "SELECT code FROM division WHERE parent_code IS NULL ORDER BY code LIMIT 1"
        ).fetchone()
    if row is None:
        from gridmap.errors import InvalidInput

        raise InvalidInput("the database holds no divisions")
    return str(row[0])
