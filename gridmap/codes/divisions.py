"""12-digit division codes (统计用区划代码): levels, kinds, parents, parse, compose (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, TypeVar

from gridmap.errors import InvalidCode

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


_K = TypeVar("_K", bound=str)

_TOWNSHIP_KINDS: tuple[tuple[int, TownshipKind], ...] = (
    (99, "street"),
    (199, "town"),
    (399, "township"),
    (599, "special"),
)
_VILLAGE_KINDS: tuple[tuple[int, VillageKind], ...] = (
    (199, "community"),
    (399, "village"),
    (599, "special"),
)


def township_kind_of(digits: str) -> TownshipKind:
    """The kind of township that 3 township digits denote.

    001-099 street (街道), 100-199 town (镇), 200-399 township (乡), and 400-599 units
    treated like townships (development zones, farms), as the NBS coding rules give them.

    >>> township_kind_of("005"), township_kind_of("102"), township_kind_of("201")
    ('street', 'town', 'township')
    >>> township_kind_of("099"), township_kind_of("100"), township_kind_of("599")
    ('street', 'town', 'special')
    """
    return _kind(digits, "township", _TOWNSHIP_KINDS)


def village_kind_of(digits: str) -> VillageKind:
    """The kind of village-level unit that 3 village digits denote.

    001-199 community (社区/居委会), 200-399 village (村委会), 400-599 units treated like
    them (virtual communities, farm sections).

    >>> village_kind_of("004"), village_kind_of("211"), village_kind_of("400")
    ('community', 'village', 'special')
    """
    return _kind(digits, "village", _VILLAGE_KINDS)


def _kind(digits: str, group: str, tops: tuple[tuple[int, _K], ...]) -> _K:
    n = int(digits)
    if n >= 1:
        for top, kind in tops:
            if n <= top:
                return kind
    raise InvalidCode(digits, group, f"{digits} is outside 001-{tops[-1][0]:03d}")


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
