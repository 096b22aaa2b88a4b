"""The gazetteer: administrative division names of the service area, found fast in text.

A :class:`Gazetteer` is built once from division records (the database layer passes rows of
its ``division`` table; tests pass ``geodata.reference.divisions()``). It holds an
Aho-Corasick automaton over every name, alias and generated short form, so finding all
division names in an address costs one pass over the text.

Short forms drop the level suffix (宽城区 → 宽城, 长春市 → 长春, 平湖街道 → 平湖 or 平湖街)
when the stem keeps at least two characters and does not collide with a full name. Short
forms of townships and villages are only trusted by the parser next to a matching parent or
child, because stems such as 人民 or 幸福 are everywhere in street and compound names.

>>> gaz = Gazetteer.from_records([
...     DivisionRecord("220000000000", "吉林省", "province", None),
...     DivisionRecord("220100000000", "长春市", "city", "220000000000"),
...     DivisionRecord("220103000000", "宽城区", "county", "220100000000"),
... ])
>>> [(m.start, m.end, m.kind, [d.name for d in m.divisions]) for m in gaz.find("长春宽城区")]
[(0, 2, 'short', ['长春市']), (2, 4, 'short', ['宽城区']), (2, 5, 'name', ['宽城区'])]
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import ahocorasick

from gridmap.address.normalize import normalize_address
from gridmap.errors import InvalidInput

__all__ = [
    "LEVELS",
    "PREFIX_LEN",
    "Division",
    "DivisionRecord",
    "Gazetteer",
    "NameMatch",
    "is_within",
]

LOG = logging.getLogger(__name__)

Level = Literal["province", "city", "county", "township", "village"]
LEVELS: tuple[Level, ...] = ("province", "city", "county", "township", "village")
#: how many leading digits of a 12-digit code identify a division of each level
PREFIX_LEN: dict[str, int] = {
    "province": 2,
    "city": 4,
    "county": 6,
    "township": 9,
    "village": 12,
}

# level suffixes that a short form may drop, longest first
_SHORTENABLE: dict[str, tuple[str, ...]] = {
    "province": ("省",),
    "city": ("市",),
    "county": ("自治县", "区", "县", "市"),
    "township": ("街道", "镇", "乡"),
    "village": ("社区", "村"),
}

MatchKind = Literal["name", "alias", "short"]


class DivisionRecord(NamedTuple):
    """One division as the gazetteer is given it (a row of the ``division`` table)."""

    code: str
    name: str
    level: str
    parent_code: str | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Division:
    """A division known to the gazetteer."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    aliases: tuple[str, ...] = ()

    @property
    def depth(self) -> int:
        """0 for a province down to 4 for a village or community."""
        return LEVELS.index(self.level)


@dataclass(frozen=True)
class NameMatch:
    """Division names found at ``text[start:end]``; ``kind`` says how the text was written."""

    start: int
    end: int
    kind: MatchKind
    divisions: tuple[Division, ...] = field(default=())


def is_within(child: Division, parent: Division) -> bool:
    """Whether ``child`` lies inside ``parent`` by the code hierarchy.

    >>> p = Division("220100000000", "长春市", "city", "220000000000")
    >>> is_within(Division("220104007000", "红旗街道", "township", "220104000000"), p)
    True
    >>> is_within(Division("220211071000", "红旗街道", "township", "220211000000"), p)
    False
    """
    if child.depth <= parent.depth:
        return False
    n = PREFIX_LEN[parent.level]
    return child.code[:n] == parent.code[:n]


def _record_fields(record: Any) -> tuple[str, str, str, str | None, tuple[str, ...]]:
    if isinstance(record, Mapping):
        aliases = record.get("aliases") or ()
        return (
            str(record["code"]),
            str(record["name"]),
            str(record["level"]),
            record.get("parent_code"),
            tuple(aliases),
        )
    if isinstance(record, Sequence) and not isinstance(record, str) and 4 <= len(record) <= 5:
        aliases = record[4] if len(record) == 5 and record[4] else ()
        return (str(record[0]), str(record[1]), str(record[2]), record[3], tuple(aliases))
    raise InvalidInput(
        f"division record {record!r} is not (code, name, level, parent_code, aliases)",
        value=repr(record),
    )


def _as_level(level: str) -> Level:
    for known in LEVELS:
        if known == level:
            return known
    raise InvalidInput(
        f"division level {level!r} is unknown; expected one of {', '.join(LEVELS)}", value=level
    )


class Gazetteer:
    """Division names of one service area, with an automaton to find them in text.

    Build it with :meth:`from_records`; it is immutable afterwards and safe to share.
    """

    def __init__(self, divisions: Iterable[Division]) -> None:
        self._by_code: dict[str, Division] = {}
        self._children: dict[str, list[Division]] = {}
        for div in divisions:
            self._by_code[div.code] = div
        for div in self._by_code.values():
            if div.parent_code:
                self._children.setdefault(div.parent_code, []).append(div)
        self._keys: dict[str, str] = {
            d.code: normalize_address(d.name) for d in self._by_code.values()
        }
        surfaces: dict[str, dict[str, MatchKind]] = {}
        full_names: set[str] = set()
        for div in self._by_code.values():
            for how, text in [("name", div.name), *(("alias", a) for a in div.aliases)]:
                key = normalize_address(text)
                if key:
                    full_names.add(key)
                    kinds = surfaces.setdefault(key, {})
                    if kinds.get(div.code) != "name":
                        kinds[div.code] = "name" if how == "name" else "alias"
        for div in self._by_code.values():
            stem = self.short_form(div)
            if stem and stem not in full_names:
                surfaces.setdefault(stem, {}).setdefault(div.code, "short")
            # 新立街 for 新立街道: the parser wants a child name right after it
            if stem and div.level == "township" and self._keys[div.code].endswith("街道"):
                street = stem + "街"
                if street not in full_names:
                    surfaces.setdefault(street, {}).setdefault(div.code, "short")
        self._automaton: Any = ahocorasick.Automaton()
        for key, kinds in surfaces.items():
            # one entry per surface; a surface that is a full name for anyone counts as a name
            kind: MatchKind = "short"
            if "name" in kinds.values():
                kind = "name"
            elif "alias" in kinds.values():
                kind = "alias"
            divs = tuple(sorted((self._by_code[c] for c in kinds), key=lambda d: (d.depth, d.code)))
            self._automaton.add_word(key, (len(key), kind, divs))
        if surfaces:
            self._automaton.make_automaton()
        self._empty = not surfaces
        LOG.debug("gazetteer: %d divisions, %d surfaces", len(self._by_code), len(surfaces))

    @classmethod
    def from_records(
        cls, records: Iterable[DivisionRecord | Sequence[Any] | Mapping[str, Any]]
    ) -> Gazetteer:
        """Build a gazetteer from ``(code, name, level, parent_code, aliases)`` records.

        Records may be :class:`DivisionRecord`, plain tuples or mappings with those keys.
        ``level`` is one of province, city, county, township, village.

        >>> gaz = Gazetteer.from_records([("220000000000", "吉林省", "province", None, ())])
        >>> gaz.get("220000000000").name
        '吉林省'
        >>> Gazetteer.from_records([("22", "吉林省", "state", None, ())])
        Traceback (most recent call last):
        ...
        gridmap.errors.InvalidInput: division '22' has level 'state'; expected one of province, city, county, township, village
        """
        divisions: list[Division] = []
        for record in records:
            code, name, level, parent, aliases = _record_fields(record)
            if level not in LEVELS:
                raise InvalidInput(
                    f"division {code!r} has level {level!r}; expected one of {', '.join(LEVELS)}",
                    value=level,
                )
            if len(code) != 12 or not code.isdigit():
                raise InvalidInput(
                    f"division code {code!r} for {name!r} is not 12 digits", value=code
                )
            divisions.append(Division(code, name, _as_level(level), parent or None, aliases))
        return cls(divisions)

    @staticmethod
    def short_form(div: Division) -> str | None:
        """The name without its level suffix, or None when too short to be safe.

        >>> Gazetteer.short_form(Division("220103000000", "宽城区", "county", "220100000000"))
        '宽城'
        >>> Gazetteer.short_form(Division("220105000000", "二道区", "county", "220100000000")) is None
        True
        """
        name = normalize_address(div.name)
        for suffix in _SHORTENABLE[div.level]:
            if name.endswith(suffix):
                stem = name[: -len(suffix)]
                # a stem of two characters that starts with a numeral (二道, 九台) reads as
                # a number in too many addresses to trust on its own
                if len(stem) < 2 or (len(stem) == 2 and stem[0] in "一二三四五六七八九十"):
                    return None
                return stem
        return None

    def key(self, div: Division) -> str:
        """The normalised name of ``div`` as the automaton knows it."""
        return self._keys.get(div.code) or normalize_address(div.name)

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Division | None:
        """The division with this code, if known."""
        return self._by_code.get(code)

    def children(self, code: str) -> Sequence[Division]:
        """Divisions whose parent is ``code``."""
        return self._children.get(code, ())

    def find(self, text: str) -> list[NameMatch]:
        """Every division name in normalised ``text``, sorted by start then end."""
        if self._empty:
            return []
        out: list[NameMatch] = []
        for end, (length, kind, divs) in self._automaton.iter(text):
            out.append(NameMatch(end + 1 - length, end + 1, kind, divs))
        out.sort(key=lambda m: (m.start, m.end))
        return out
