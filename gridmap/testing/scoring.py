"""Scoring what a resolver made of labelled addresses (pure).

A :class:`Case` is an address text with the :class:`Expected` answer that the text supports.
:func:`score` sorts each answer into one of four outcomes. A resolver's answer is
*confident* when it commits to a grid (``status == "ok"`` and ``grid`` set): the contract of
:class:`~gridmap.results.Resolution` is that ``grid`` is set only when it is certain enough to
act on. Then:

``correct``
    the expected building (and unit), or the expected grid where no finer answer exists;
``flagged``
    ambiguous, not found or a coarse division, where that is what the text supports;
``missed``
    neither right nor confidently wrong: an unconfident or coarser answer where a finer one
    was determinable;
``confident_wrong``
    a confident answer naming a wrong grid, building or unit.

>>> e = Expected("building", building_id="B1", grid_code="220102005004001")
>>> judge(e, Got("ok", "220102005004001", "B1"))
'correct'
>>> judge(e, Got("ok", "220102005004002", "B7"))
'confident_wrong'
>>> judge(e, Got("ambiguous", None))
'missed'
>>> judge(Expected("ambiguous"), Got("ambiguous", None))
'flagged'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "LEVELS",
    "OUTCOMES",
    "Case",
    "Expected",
    "Got",
    "Level",
    "Outcome",
    "Score",
    "got_from",
    "judge",
    "score",
]

Level = Literal[
    "unit", "building", "compound", "community", "township", "county", "city", "province",
    "ambiguous", "none",
]  # fmt: skip
#: every :data:`Level`, finest first
LEVELS: tuple[Level, ...] = (
    "unit", "building", "compound", "community", "township", "county", "city", "province",
    "ambiguous", "none",
)  # fmt: skip
Outcome = Literal["correct", "flagged", "missed", "confident_wrong"]
OUTCOMES: tuple[Outcome, ...] = ("correct", "flagged", "missed", "confident_wrong")


@dataclass(frozen=True)
class Expected:
    """The answer a text supports: a level, and the building, unit and grid it pins down.

    ``level`` is the finest thing the text names in the data: ``unit`` or ``building`` (one
    building fits, and it has the written unit, or no unit was written or it has none),
    ``compound`` (a compound, hamlet or road number is found but no one building of it),
    ``community``, ``township``, ``county``, ``city``, ``province`` (only divisions are found),
    ``ambiguous`` (several buildings, compounds or divisions fit equally well) or ``none``
    (nothing in the data fits). ``grid_code`` is the one grid a confident answer may name,
    at any level (an ambiguous text whose readings all lie in one grid has it); None: no
    grid is certain, and only an unconfident answer is right.
    """

    level: Level
    building_id: str | None = None
    unit_no: str | None = None
    grid_code: str | None = None

    @property
    def flag(self) -> bool:
        """Whether an unconfident answer (ambiguous, not found, coarse) is right."""
        return self.grid_code is None or self.level in (
            "ambiguous", "none", "township", "county", "city", "province",
        )  # fmt: skip

    def __str__(self) -> str:
        parts: list[str] = [self.level]
        parts += [f"building={self.building_id}"] if self.building_id else []
        parts += [f"unit={self.unit_no}"] if self.unit_no else []
        parts += [f"grid={self.grid_code}"] if self.grid_code else []
        return " ".join(parts)


@dataclass(frozen=True)
class Case:
    """One labelled address: its text, the variant it exercises, and its expected answer."""

    text: str
    kind: str
    expected: Expected


@dataclass(frozen=True)
class Got:
    """What the scorer needs of a resolver's answer (see :func:`got_from`)."""

    status: str
    grid_code: str | None
    building_id: str | None = None
    unit_no: str | None = None
    level: str = ""
    confidence: float = 1.0
    candidates: tuple[str, ...] = ()

    def __str__(self) -> str:
        s = f"{self.status} {self.level} {self.confidence:g}"
        s += f" grid={self.grid_code}" if self.grid_code else ""
        s += f" building={self.building_id}" if self.building_id else ""
        s += f" unit={self.unit_no}" if self.unit_no else ""
        if self.candidates:
            more = f" +{len(self.candidates) - 4}" if len(self.candidates) > 4 else ""
            s += f" candidates={','.join(self.candidates[:4])}{more}"
        return s


def got_from(result: Any) -> Got:
    """A :class:`Got` from a :class:`~gridmap.results.Resolution`, or from an error in its place."""
    if isinstance(result, Exception):
        return Got("error", None, level=getattr(result, "code", type(result).__name__))
    cands = tuple(
        c.building.id if c.building is not None else (c.grid.code if c.grid is not None else "?")
        for c in result.candidates
    )
    return Got(
        status=result.status,
        grid_code=result.grid.code if result.grid is not None else None,
        building_id=result.building.id if result.building is not None else None,
        unit_no=result.unit.unit_no if result.unit is not None else None,
        level=result.match_level,
        confidence=result.confidence,
        candidates=cands,
    )


def judge(expected: Expected, got: Got, min_confidence: float = 0.0) -> Outcome:
    """The outcome of one answer (see the module docstring).

    ``min_confidence`` raises the bar for "confident" above committing to a grid.
    """
    confident = (
        got.status == "ok" and got.grid_code is not None and got.confidence >= min_confidence
    )
    if not confident:
        return "flagged" if expected.flag else "missed"
    if got.grid_code != expected.grid_code:
        return "confident_wrong"
    if got.building_id is not None and got.building_id != expected.building_id:
        return "confident_wrong"
    if got.unit_no is not None and got.unit_no != expected.unit_no:
        return "confident_wrong"
    if (expected.building_id and not got.building_id) or (expected.unit_no and not got.unit_no):
        return "missed"
    return "correct"


@dataclass
class Score:
    """Outcome counts per variant kind, and every case not right."""

    counts: dict[str, dict[Outcome, int]] = field(default_factory=dict)
    failures: list[tuple[Case, Got, Outcome]] = field(default_factory=list)

    def total(self, kind: str | None = None) -> dict[Outcome, int]:
        rows = [self.counts[kind]] if kind else list(self.counts.values())
        return {o: sum(r[o] for r in rows) for o in OUTCOMES}

    def ok_rate(self, kind: str | None = None) -> float:
        """Share of cases answered correctly or correctly flagged."""
        t = self.total(kind)
        n = sum(t.values())
        return (t["correct"] + t["flagged"]) / n if n else 1.0

    def table(self) -> str:
        """A Markdown table: one row per kind, then the total."""
        head = (
            "| variant | cases | correct | flagged | missed | confident wrong "
            "| correct or flagged |"
        )
        lines = [head, "|---|---:|---:|---:|---:|---:|---:|"]
        for kind in [*sorted(self.counts), None]:
            t = self.total(kind)
            name = kind or "**all**"
            lines.append(
                f"| {name} | {sum(t.values())} | {t['correct']} | {t['flagged']} | "
                f"{t['missed']} | {t['confident_wrong']} | {100 * self.ok_rate(kind):.1f}% |"
            )
        return "\n".join(lines)


def score(cases: Sequence[Case], results: Iterable[Any], min_confidence: float = 0.0) -> Score:
    """Judge each resolver result (a Resolution, an error, or a :class:`Got`) against its case."""
    out = Score()
    for case, result in zip(cases, results, strict=True):
        got = result if isinstance(result, Got) else got_from(result)
        outcome = judge(case.expected, got, min_confidence)
        row = out.counts.setdefault(case.kind, dict.fromkeys(OUTCOMES, 0))
        row[outcome] += 1
        if outcome in ("missed", "confident_wrong"):
            out.failures.append((case, got, outcome))
    return out
