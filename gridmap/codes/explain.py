"""A code explained: each level's digits, what they mean, and the place's name where known."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gridmap.codes.divisions import (
    GROUPS,
    LEVELS,
    TOWNSHIP_KIND_LABEL,
    VILLAGE_KIND_LABEL,
    parse_division_code,
    township_kind_of,
    village_kind_of,
)
from gridmap.codes.grids import GridCode, parse_grid_code
from gridmap.errors import InvalidCode

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class ExplainedPart:
    level: str
    digits: str
    meaning: str
    name: str | None


def explain(code: str, names: Mapping[str, str] | None = None) -> list[ExplainedPart]:
    """Break a 12-digit division code or a 15-digit grid code into its named levels.

    ``names`` maps 12-digit division codes to place names, where known (from the database).

    >>> [p.meaning for p in explain("220102005004001")]
    ['province 22', 'city 01', 'county 02', 'township 005 (街道)', 'village 004 (社区)', 'grid 001']
    """
    names = names or {}
    if not isinstance(code, str) or len(code) not in (12, 15):
        raise InvalidCode(
            str(code),
            "format",
            f"must be a 12-digit division code or a 15-digit grid code, got {code!r}",
        )
    if len(code) == 15:
        grid: GridCode | None = parse_grid_code(code)
        div = parse_division_code(code[:12])
    else:
        grid = None
        div = parse_division_code(code)
    parts: list[ExplainedPart] = []
    upto = LEVELS.index(div.level)
    for level, start, end in GROUPS[: upto + 1]:
        digits = code[start:end]
        prefix_code = code[:end] + "0" * (12 - end)
        meaning = f"{level} {digits}"
        if level == "township":
            meaning += f" ({TOWNSHIP_KIND_LABEL[township_kind_of(digits)]})"
        elif level == "village":
            meaning += f" ({VILLAGE_KIND_LABEL[village_kind_of(digits)]})"
        parts.append(ExplainedPart(level, digits, meaning, names.get(prefix_code)))
    if grid is not None:
        digits = code[12:]
        parts.append(ExplainedPart("grid", digits, f"grid {digits}", None))
    return parts


def explain_text(code: str, names: Mapping[str, str] | None = None) -> str:
    """One line naming the places of a code, e.g. ``吉林省 长春市 南关区 长通街道 龙兴社区, grid 001``."""
    parts = explain(code, names)
    placenames = [p.name or p.meaning for p in parts if p.level != "grid"]
    text = " ".join(placenames)
    grid = [p for p in parts if p.level == "grid"]
    if grid:
        text += f", grid {grid[0].digits}"
    return text
