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
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
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

_ROAD_ENDINGS = ("路", "街", "道", "巷", "胡同")
# 伊通满族自治县 → 伊通, 延边朝鲜族自治州 → 延边
_ETHNIC = re.compile(r"^(.{2,}?)(?:[\u4e00-\u9fff]{1,5}族)+自治[县州旗]$")

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
    #: 0 for a province down to 4 for a village or community
    depth: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "depth", LEVELS.index(self.level))


class NameMatch(NamedTuple):
    """Division names found at ``text[start:end]``; ``kind`` says how the text was written."""

    start: int
    end: int
    kind: MatchKind
    divisions: tuple[Division, ...] = ()


def _span_key(m: NameMatch) -> tuple[int, int]:
    return m.start, m.end


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


@lru_cache(maxsize=8)
def _world(held: tuple[Division, ...], known: tuple[Division, ...]) -> Gazetteer:
    codes = {d.code for d in held}
    world = Gazetteer([*held, *(d for d in known if d.code not in codes)])
    world.held = frozenset(codes)
    return world


class Gazetteer:
    """Division names of one service area, with an automaton to find them in text.

    Build it with :meth:`from_records`; it is immutable afterwards and safe to share.
    """

    def __init__(self, divisions: Iterable[Division], known: Iterable[Division] = ()) -> None:
        self._by_code: dict[str, Division] = {}
        #: codes of the divisions this service area holds; None: all of them
        self.held: frozenset[str] | None = None
        self._known = tuple(known)
        self._world: Gazetteer | None = None
        self._world_lock = threading.Lock()
        self._children: dict[str, list[Division]] = {}
        for div in divisions:
            self._by_code[div.code] = div
        for div in self._by_code.values():
            if div.parent_code:
                self._children.setdefault(div.parent_code, []).append(div)
        self._keys: dict[str, str] = {
            d.code: normalize_address(d.name) for d in self._by_code.values()
        }
        self._descendants: dict[str, dict[str, list[tuple[str, Division]]]] = {}
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
            for short in self.short_forms(div):
                if short not in full_names:
                    surfaces.setdefault(short, {}).setdefault(div.code, "short")
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

    @property
    def world(self) -> Gazetteer | None:
        """This gazetteer together with the known places it does not hold (None when it was
        given none); built on first use, and shared by gazetteers of the same divisions."""
        if not self._known:
            return None
        if self._world is None:
            # one build, however many threads ask at once (each would take a second of CPU)
            with self._world_lock:
                if self._world is None:
                    self._world = _world(tuple(self._by_code.values()), self._known)
        return self._world

    def holds(self, code: str) -> bool:
        """Whether the division ``code`` is one of this service area's own."""
        return code in self._by_code and (self.held is None or code in self.held)

    @classmethod
    def from_records(
        cls,
        records: Iterable[DivisionRecord | Sequence[Any] | Mapping[str, Any]],
        known: Iterable[DivisionRecord | Sequence[Any] | Mapping[str, Any]] = (),
    ) -> Gazetteer:
        """Build a gazetteer from ``(code, name, level, parent_code, aliases)`` records.

        Records may be :class:`DivisionRecord`, plain tuples or mappings with those keys.
        ``level`` is one of province, city, county, township, village. ``known`` are places
        beyond the service area (:mod:`gridmap.address.world`): the gazetteer does not hold
        them, but its :attr:`world` knows them, so an address naming one can be told apart
        from an address naming nothing known.

        >>> gaz = Gazetteer.from_records([("220000000000", "吉林省", "province", None, ())])
        >>> gaz.get("220000000000").name
        '吉林省'
        >>> Gazetteer.from_records([("22", "吉林省", "state", None, ())])
        Traceback (most recent call last):
        ...
        gridmap.errors.InvalidInput: division '22' has level 'state'; expected one of province, city, county, township, village
        """
        return cls(cls._divisions(records), cls._divisions(known))

    @staticmethod
    def _divisions(
        records: Iterable[DivisionRecord | Sequence[Any] | Mapping[str, Any]],
    ) -> list[Division]:
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
        return divisions

    @staticmethod
    def short_forms(div: Division) -> tuple[str, ...]:
        """The names people shorten ``div`` to: without its level suffix or ethnic part.

        A stem must keep two characters and must not end like a street (凯旋路社区 stays
        whole, or every 凯旋路 address would read as the community). 新立街道 is also
        written 新立街, which the parser only trusts when a community of it follows.

        >>> Gazetteer.short_forms(Division("220103000000", "宽城区", "county", "220100000000"))
        ('宽城',)
        >>> Gazetteer.short_forms(Division("220323000000", "伊通满族自治县", "county", "220300000000"))
        ('伊通',)
        >>> Gazetteer.short_forms(Division("220802007000", "新立街道", "township", "220802000000"))
        ('新立', '新立街')
        >>> Gazetteer.short_forms(Division("220103007001", "凯旋路社区", "village", "220103007000"))
        ()
        """
        name = normalize_address(div.name)
        stems: list[str] = []
        ethnic = _ETHNIC.match(name)
        if ethnic:
            stems.append(ethnic.group(1))
        else:
            for suffix in _SHORTENABLE[div.level]:
                if name.endswith(suffix):
                    stems.append(name[: -len(suffix)])
                    if div.level == "township" and suffix == "街道":
                        stems.append(name[: -len(suffix)] + "街")
                    break
        return tuple(
            s for s in stems if len(s) >= 2 and (s.endswith("街") or not s.endswith(_ROAD_ENDINGS))
        )

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

    def descendant_keys(self, code: str, head: str) -> list[tuple[str, Division]]:
        """Children and grandchildren of ``code`` whose normalised name (of 3 characters or
        more) starts with ``head[0]`` or has ``head[1]`` second: the only ones a text starting
        with ``head`` can match with one character mistyped."""
        index = self._descendants.get(code)
        if index is None:
            index = {}
            for child in self._children.get(code, ()):
                for div in (child, *self._children.get(child.code, ())):
                    key = self._keys[div.code]
                    if len(key) >= 3:
                        index.setdefault("0" + key[0], []).append((key, div))
                        index.setdefault("1" + key[1], []).append((key, div))
            self._descendants[code] = index
        first = index.get("0" + head[0], [])
        second = [kd for kd in index.get("1" + head[1], ()) if kd[0][0] != head[0]]
        return first + second

    def find(self, text: str) -> list[NameMatch]:
        """Every division name in normalised ``text``, sorted by start then end."""
        if self._empty:
            return []
        out = [
            NameMatch(end + 1 - length, end + 1, kind, divs)
            for end, (length, kind, divs) in self._automaton.iter(text)
        ]
        out.sort(key=_span_key)
        return out
