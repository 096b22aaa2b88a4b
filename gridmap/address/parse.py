"""Parse a Chinese address into its components.

Parsing has two halves. The administrative prefix (省 市 区/县 街道/乡镇 社区/村) is read
left to right against the :class:`~gridmap.address.gazetteer.Gazetteer`: exact names, aliases
and short forms first, then one-character typos of the children of what was already found,
then, for names the gazetteer does not know, the bare level suffix. Names that several
divisions share (黑鱼村, 红旗街道) are pinned down by the code hierarchy: the reading chosen
is the chain of divisions in which every child code starts with its parent's prefix and
the fewest levels are skipped. A name that stays ambiguous keeps its text but gets no code,
and its readings are listed in ``ambiguous``.

The rest is read by a small grammar: hamlet (屯), villager group (组), road and house
number, compound (小区), building (栋), unit (单元), floor (层) and room (室).

>>> from gridmap.address.gazetteer import DivisionRecord
>>> gaz = Gazetteer.from_records([
...     DivisionRecord("220000000000", "吉林省", "province", None),
...     DivisionRecord("220100000000", "长春市", "city", "220000000000"),
...     DivisionRecord("220103000000", "宽城区", "county", "220100000000"),
... ])
>>> p = parse_address("长春宽城 人民大街１２３４号 幸福小区十二栋三单元四〇二", gaz)
>>> p.city, p.county, p.road, p.house_number, p.compound, p.building, p.unit, p.room
('长春市', '宽城区', '人民大街', '1234', '幸福小区', '12', '3', '402')
>>> p.division_codes
{'city': '220100000000', 'county': '220103000000'}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gridmap.address.admin import COMPONENT_OF_LEVEL, read_admin, resolve
from gridmap.address.gazetteer import LEVELS, Division, Gazetteer
from gridmap.address.grammar import read_rest
from gridmap.address.normalize import normalize_address
from gridmap.errors import InvalidAddress

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["Ambiguity", "ParsedAddress", "parse_address", "parse_many"]


@dataclass(frozen=True)
class Ambiguity:
    """A name in the address that fits several divisions (or none consistently)."""

    text: str
    readings: tuple[Division, ...]

    def __str__(self) -> str:
        opts = ", ".join(f"{d.name} {d.code}" for d in self.readings)
        return f"{self.text}: {opts}"


#: the address components of :class:`ParsedAddress`, coarse to fine
COMPONENTS: tuple[str, ...] = (
    "province",
    "city",
    "county",
    "township",
    "community",
    "road",
    "house_number",
    "compound",
    "hamlet",
    "group",
    "building",
    "unit",
    "floor",
    "room",
)


@dataclass(frozen=True)
class ParsedAddress:
    """The components of one address. Every component is ``None`` when absent.

    Division names are given as the gazetteer spells them (宽城 → 宽城区); a name the
    gazetteer does not know is given as written. ``community`` is the village-level
    division, a 社区 or a 村. Numbers are given without their markers: ``building='12'``
    for 12栋/12号楼/12幢, ``unit='3'`` for 3单元/3门, ``floor='5'`` for 5层/5楼/5F,
    ``room='402'``, ``house_number='1234'`` for 1234号, ``group='2'`` for 第二村民小组.

    ``division_codes`` maps each level matched without doubt (province, city, county,
    township, village) to its 12-digit code. ``ambiguous`` lists the names that fit several
    divisions, or none consistently with the rest; their level has no code.
    ``normalized`` is the text as :func:`normalize_address` spells it, and ``rest`` holds
    the pieces of it that no rule understood, in order.
    """

    province: str | None = None
    city: str | None = None
    county: str | None = None
    township: str | None = None
    community: str | None = None
    road: str | None = None
    house_number: str | None = None
    compound: str | None = None
    hamlet: str | None = None
    group: str | None = None
    building: str | None = None
    unit: str | None = None
    floor: str | None = None
    room: str | None = None
    division_codes: Mapping[str, str] = field(default_factory=dict)
    ambiguous: tuple[Ambiguity, ...] = ()
    normalized: str = ""
    rest: tuple[str, ...] = ()

    @property
    def code(self) -> str | None:
        """The code of the deepest division matched without doubt, if any."""
        for level in reversed(LEVELS):
            if level in self.division_codes:
                return self.division_codes[level]
        return None

    def components(self) -> dict[str, str]:
        """The components present, by name, coarse to fine.

        >>> ParsedAddress(city="长春市", building="3").components()
        {'city': '长春市', 'building': '3'}
        """
        return {k: v for k in COMPONENTS if (v := getattr(self, k)) is not None}


def parse_address(text: str, gazetteer: Gazetteer) -> ParsedAddress:
    """Split an address into administrative divisions and the parts below them.

    >>> from gridmap.address.gazetteer import DivisionRecord
    >>> gaz = Gazetteer.from_records([
    ...     DivisionRecord("220100000000", "长春市", "city", "220000000000"),
    ...     DivisionRecord("220104000000", "朝阳区", "county", "220100000000"),
    ...     DivisionRecord("220104007000", "红旗街道", "township", "220104000000",
    ...                    ("红旗街道办事处",)),
    ...     DivisionRecord("220211000000", "丰满区", "county", "220200000000"),
    ...     DivisionRecord("220211071000", "红旗街道", "township", "220211000000"),
    ... ])
    >>> parse_address("长春红旗街道办事处", gaz).division_codes["township"]
    '220104007000'
    >>> p = parse_address("红旗街道", gaz)
    >>> p.township, "township" in p.division_codes, [d.code for d in p.ambiguous[0].readings]
    ('红旗街道', False, ['220104007000', '220211071000'])
    >>> parse_address("  ", gaz)
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidAddress: address '  ' has no letters, digits or Chinese characters; expected an address such as '长春市南关区人民大街1234号'
    """
    if not isinstance(text, str):
        raise InvalidAddress(
            f"address must be a string, got {type(text).__name__} {text!r}", value=repr(text)
        )
    norm = normalize_address(text)
    if not norm:
        raise InvalidAddress(
            f"address {text!r} has no letters, digits or Chinese characters; "
            "expected an address such as '长春市南关区人民大街1234号'",
            value=text,
        )
    spans, tail = read_admin(norm, gazetteer)
    got: dict[str, Any] = {}
    codes: dict[str, str] = {}
    ambiguous: list[Ambiguity] = []
    resolved = iter(resolve(spans))
    for span in spans:
        written = norm[span.start : span.end]
        if not span.candidates:
            got.setdefault(COMPONENT_OF_LEVEL[LEVELS[span.depth]], written)
            continue
        readings = next(resolved)
        if len(readings) == 1:
            div = readings[0]
            got[COMPONENT_OF_LEVEL[div.level]] = div.name
            codes[div.level] = div.code
            continue
        pool = readings or span.candidates
        ambiguous.append(Ambiguity(written, pool))
        names = {d.name for d in pool}
        first = min(pool, key=lambda d: d.depth)
        got.setdefault(COMPONENT_OF_LEVEL[first.level], first.name if len(names) == 1 else written)
    rest = read_rest(tail, 0, got)
    return ParsedAddress(
        **got,
        division_codes=codes,
        ambiguous=tuple(ambiguous),
        normalized=norm,
        rest=tuple(rest),
    )


def parse_many(texts: Iterable[str], gazetteer: Gazetteer) -> list[ParsedAddress]:
    """Parse many addresses with one gazetteer (a convenience for batch imports).

    >>> gaz = Gazetteer.from_records([])
    >>> [p.road for p in parse_many(["人民大街1号", "亚泰大街3218号"], gaz)]
    ['人民大街', '亚泰大街']
    """
    return [parse_address(t, gazetteer) for t in texts]
