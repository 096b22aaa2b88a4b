"""Unified division and grid codes: parse, validate, compose and explain.

Division codes are the 12-digit statistical division codes (统计用区划代码)::

    province 2 + city 2 + county 2 + township 3 + village 3

Grid codes are 15 digits: the 12-digit code of the community or village a grid belongs to,
followed by a 3-digit serial 001-999. Serials are given in reading order (rows north to
south, west to east within a row) and are never reused after a grid retires.

This module is pure: no I/O.

>>> parse_division_code("220102005004").level
'village'
>>> parse_division_code("220102005000").township_kind
'street'
>>> compose_grid_code("220102005004", 1)
'220102005004001'
>>> parse_grid_code("220102005004001").serial
1
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gridmap.errors import InvalidCode

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

Level = Literal["province", "city", "county", "township", "village"]
LEVELS: tuple[Level, ...] = ("province", "city", "county", "township", "village")

#: digit slices of each group in a 12-digit division code
GROUPS: tuple[tuple[Level, int, int], ...] = (
    ("province", 0, 2),
    ("city", 2, 4),
    ("county", 4, 6),
    ("township", 6, 9),
    ("village", 9, 12),
)

#: province-level codes in use (mainland, plus Taiwan, Hong Kong and Macao)
PROVINCE_CODES: frozenset[str] = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)

TownshipKind = Literal["street", "town", "township", "special"]
VillageKind = Literal["community", "village", "special"]

TOWNSHIP_KIND_LABEL: dict[str, str] = {
    "street": "街道",
    "town": "镇",
    "township": "乡",
    "special": "类似乡级单位",
}
VILLAGE_KIND_LABEL: dict[str, str] = {
    "community": "社区",
    "village": "村",
    "special": "类似村级单位",
}
LEVEL_LABEL: dict[str, str] = {
    "province": "省",
    "city": "市",
    "county": "县/区",
    "township": "街道/乡镇",
    "village": "社区/村",
    "serial": "网格",
}

_DIGITS12 = re.compile(r"[0-9]{12}")
_DIGITS15 = re.compile(r"[0-9]{15}")


def township_kind_of(digits: str) -> TownshipKind:
    """The kind of township that 3 township digits denote.

    001-099 street (街道), 100-199 town (镇), 200-399 township (乡), and 400-599 units
    treated like townships (development zones, farms), as the NBS coding rules give them.

    >>> township_kind_of("005"), township_kind_of("102"), township_kind_of("201")
    ('street', 'town', 'township')
    """
    n = int(digits)
    if 1 <= n <= 99:
        return "street"
    if 100 <= n <= 199:
        return "town"
    if 200 <= n <= 399:
        return "township"
    if 400 <= n <= 599:
        return "special"
    raise InvalidCode(digits, "township", f"{digits} is outside 001-599")


def village_kind_of(digits: str) -> VillageKind:
    """The kind of village-level unit that 3 village digits denote.

    001-199 community (社区/居委会), 200-399 village (村委会), 400-599 units treated like
    them (virtual communities, farm sections).

    >>> village_kind_of("004"), village_kind_of("211")
    ('community', 'village')
    """
    n = int(digits)
    if 1 <= n <= 199:
        return "community"
    if 200 <= n <= 399:
        return "village"
    if 400 <= n <= 599:
        return "special"
    raise InvalidCode(digits, "village", f"{digits} is outside 001-599")


def division_kind(code: str) -> str | None:
    """The kind of a township (street, town, township, special) or village-level division
    (community, village, special) from its digits; None above the township level.

    The one home of the rule: the importer stores it, the merge reads it.

    >>> division_kind("220102005000"), division_kind("220183203201"), division_kind("220102000000")
    ('street', 'village', None)
    """
    parsed = parse_division_code(code)
    if parsed.level == "village":
        return parsed.village_kind
    return parsed.township_kind


@dataclass(frozen=True)
class DivisionCode:
    """A parsed 12-digit division code."""

    code: str
    level: Level

    def group(self, level: Level) -> str:
        for name, start, end in GROUPS:
            if name == level:
                return self.code[start:end]
        raise KeyError(level)

    @property
    def parent(self) -> str | None:
        """The code of the enclosing division, or None for a province."""
        return parent_code(self.code)

    @property
    def township_kind(self) -> TownshipKind | None:
        if LEVELS.index(self.level) < LEVELS.index("township"):
            return None
        return township_kind_of(self.code[6:9])

    @property
    def village_kind(self) -> VillageKind | None:
        if self.level != "village":
            return None
        return village_kind_of(self.code[9:12])

    def ancestors(self) -> list[str]:
        """Codes of every enclosing division, from the province down (self excluded)."""
        out: list[str] = []
        p = self.parent
        while p is not None:
            out.append(p)
            p = parent_code(p)
        return list(reversed(out))

    def __str__(self) -> str:
        return self.code


def _check_division_digits(code: str, what: str = "division code") -> Level:
    if not isinstance(code, str) or not _DIGITS12.fullmatch(code):
        raise InvalidCode(
            str(code), "format", f"must be a {what} of exactly 12 ASCII digits, got {code!r}"
        )
    province = code[0:2]
    if province not in PROVINCE_CODES:
        raise InvalidCode(code, "province", f"{province} is not a province code")
    level: Level = "province"
    zero_seen: str | None = None
    for name, start, end in GROUPS[1:]:
        digits = code[start:end]
        if int(digits) == 0:
            zero_seen = zero_seen or name
            continue
        if zero_seen is not None:
            raise InvalidCode(
                code,
                name,
                f"{digits} are set although the {zero_seen} digits above them are zero",
            )
        kind_of = {"township": township_kind_of, "village": village_kind_of}.get(name)
        if kind_of is not None:
            try:
                kind_of(digits)
            except InvalidCode as exc:
                raise InvalidCode(code, name, exc.reason) from None
        level = name
    return level


def parse_division_code(code: str) -> DivisionCode:
    """Parse and validate a 12-digit division code.

    The level is the last non-zero digit group; a non-zero group below a zero one is
    rejected, naming the group.

    >>> parse_division_code("220000000000").level
    'province'
    >>> parse_division_code("220112002211").village_kind
    'village'
    >>> parse_division_code("220100001000")
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidCode: invalid code '220100001000': township digits 001 are set although the county digits above them are zero
    """
    return DivisionCode(code=code, level=_check_division_digits(code))


def is_division_code(code: str) -> bool:
    try:
        parse_division_code(code)
    except InvalidCode:
        return False
    return True


def division_level(code: str) -> Level:
    return parse_division_code(code).level


def parent_code(code: str) -> str | None:
    """The code of the division that encloses ``code``; None for a province.

    >>> parent_code("220102005004")
    '220102005000'
    >>> parent_code("220100000000")
    '220000000000'
    """
    level = _check_division_digits(code)
    idx = LEVELS.index(level)
    if idx == 0:
        return None
    _, start, _end = GROUPS[idx]
    return code[:start] + "0" * (12 - start)


def compose_division_code(
    province: int | str,
    city: int | str = 0,
    county: int | str = 0,
    township: int | str = 0,
    village: int | str = 0,
) -> str:
    """Compose a 12-digit division code from its groups, and validate it.

    >>> compose_division_code(22, 1, 2, 5, 4)
    '220102005004'
    """
    parts = (province, city, county, township, village)
    out = []
    for (name, start, end), part in zip(GROUPS, parts, strict=True):
        width = end - start
        n = int(part)
        if not 0 <= n < 10**width:
            raise InvalidCode(str(part), name, f"{part} does not fit in {width} digits")
        out.append(f"{n:0{width}d}")
    code = "".join(out)
    parse_division_code(code)
    return code


def is_descendant(code: str, ancestor: str) -> bool:
    """Whether division ``code`` lies inside division ``ancestor`` (or is it).

    >>> is_descendant("220102005004", "220102000000")
    True
    >>> is_descendant("220102005004", "220103000000")
    False
    """
    anc = parse_division_code(ancestor)
    idx = LEVELS.index(anc.level)
    _, _, end = GROUPS[idx]
    return code[:end] == ancestor[:end]


def code_prefix(code: str) -> str:
    """The significant leading digits of a division code (its trailing zero groups cut).

    >>> code_prefix("220102005000")
    '220102005'
    """
    level = division_level(code)
    return code[: GROUPS[LEVELS.index(level)][2]]


# ---------------------------------------------------------------------------- grids


@dataclass(frozen=True)
class GridCode:
    """A parsed 15-digit grid code."""

    code: str
    community: DivisionCode
    serial: int

    def __str__(self) -> str:
        return self.code


def parse_grid_code(code: str) -> GridCode:
    """Parse and validate a 15-digit grid code.

    >>> g = parse_grid_code("220102005004001")
    >>> g.community.code, g.serial
    ('220102005004', 1)
    >>> parse_grid_code("220102005000001")
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidCode: invalid code '220102005000001': village digits 000 must name a community or village (001-599), a grid belongs to one
    >>> parse_grid_code("220102005004000")
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidCode: invalid code '220102005004000': serial digits 000 is outside 001-999
    """
    if not isinstance(code, str) or not _DIGITS15.fullmatch(code):
        raise InvalidCode(
            str(code), "format", f"must be a grid code of exactly 15 ASCII digits, got {code!r}"
        )
    head = code[:12]
    try:
        level = _check_division_digits(head)
    except InvalidCode as exc:
        raise InvalidCode(code, exc.group, exc.reason) from None
    if level != "village":
        raise InvalidCode(
            code,
            "village",
            f"{head[9:12]} must name a community or village (001-599), a grid belongs to one",
        )
    serial = int(code[12:])
    if serial == 0:
        raise InvalidCode(code, "serial", "000 is outside 001-999")
    return GridCode(code=code, community=DivisionCode(head, "village"), serial=serial)


def is_grid_code(code: str) -> bool:
    try:
        parse_grid_code(code)
    except InvalidCode:
        return False
    return True


def compose_grid_code(community_code: str, serial: int) -> str:
    """The grid code of serial ``serial`` in community ``community_code``.

    >>> compose_grid_code("220112002211", 12)
    '220112002211012'
    """
    div = parse_division_code(community_code)
    if div.level != "village":
        raise InvalidCode(
            community_code,
            div.level,
            f"code is a {div.level}; a grid belongs to a community or village",
        )
    if not isinstance(serial, int) or not 1 <= serial <= 999:
        raise InvalidCode(str(serial), "serial", f"{serial!r} is outside 1-999")
    return f"{community_code}{serial:03d}"


def reading_order(
    points: Sequence[tuple[float, float]], row_height: float | None = None
) -> list[int]:
    """Indices of ``points`` in reading order: rows north to south, west to east in a row.

    Points are (x, y) with y growing northwards, in a metric CRS. A new row starts where
    the next point south lies more than ``row_height`` below the row's northernmost point.
    Callers that know their cells should pass half the typical cell height; the default is
    half the largest north-south gap between consecutive points, which splits a jittered
    regular layout into its rows.

    >>> reading_order([(0, 0), (10, 0), (0, 10), (10, 10)])
    [2, 3, 0, 1]
    """
    n = len(points)
    if n == 0:
        return []
    by_y = sorted(range(n), key=lambda i: (-points[i][1], points[i][0], i))
    if row_height is None:
        ys = [points[i][1] for i in by_y]
        gaps = [a - b for a, b in itertools.pairwise(ys)]
        row_height = max(gaps) / 2 if gaps else 0.0
    rows: list[list[int]] = []
    top = float("inf")
    for i in by_y:
        y = points[i][1]
        if not rows or top - y > row_height:
            rows.append([])
            top = y
        rows[-1].append(i)
    out: list[int] = []
    for row in rows:
        out.extend(sorted(row, key=lambda i: (points[i][0], -points[i][1], i)))
    return out


def next_serials(used: Iterable[int], count: int) -> list[int]:
    """``count`` fresh serials above every serial ever used in a community.

    Serials are never reused, so new ones continue after the highest serial used so far,
    retired ones included.

    >>> next_serials([1, 2, 5], 2)
    [6, 7]
    """
    top = max(used, default=0)
    if top + count > 999:
        raise InvalidCode(
            str(top + count),
            "serial",
            f"a community has room for 999 grids; {count} more after serial {top} do not fit",
        )
    return list(range(top + 1, top + 1 + count))


# ---------------------------------------------------------------------------- explain


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
