"""The labeller: the answer an address's meaning supports in the data, never a resolver's (pure).

A :class:`Meaning` is what an address says whatever its spelling: the divisions written,
and the compound, road and house number, hamlet, villagers' group, building and unit.
:func:`label` works out its :class:`~gridmap.testing.scoring.Expected` answer from the
buildings of an :class:`~gridmap.io.Interchange` (arranged by :class:`Index`): the
buildings of the written divisions that fit every written part. One fits: that building
(and the unit, if it has it). Several fit: ambiguous (with their grid, if they share one).
None fits: the named compound, hamlet or road (its grid, if it lies in one), else the finest
written division.

A written name means a known one when both are the same in the matcher's
:func:`~gridmap.resolve.matching.name_key` form (normalised, without a trailing 小区); else
the known names the matcher's own :func:`~gridmap.resolve.matching.name_score` puts one typo
away (``0 < name_score(written, known) < EXACT``; for roads with ``road=True``, so that
人民大路 is not 人民大街). One typo from several names is ambiguous. The labeller does not
restate the typo rule (a name of two characters after 小区 is too short to misspell; an edit
touching a numeral or a letter names another place): it follows ``name_score``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
import shapely

from gridmap.resolve.matching import EXACT, name_key, name_score
from gridmap.testing.scoring import Expected

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from gridmap.testing.scoring import Level

__all__ = ["ADMIN", "Building", "Index", "Meaning", "label"]

#: the division levels an address may write, coarse to fine
ADMIN = ("province", "city", "county", "township", "village")
_FALLBACK_LEVEL: dict[str, Level] = {
    "village": "community",
    "township": "township",
    "county": "county",
    "city": "city",
    "province": "province",
}
#: the building attributes that hold names, and whether the road rule applies to them
_NAMED = {"compound": False, "hamlet": False, "road": True}


@dataclass(frozen=True)
class Building:
    """One building as the labeller sees it: its names and numbers, grid and units."""

    id: str
    community: str
    road: str | None
    house: str | None
    compound: str | None
    hamlet: str | None
    group: str | None
    number: str | None
    floors: int
    grid: str | None
    units: tuple[str, ...]


def _s(v: Any) -> str | None:
    return None if v is None or pd.isna(v) or str(v) == "" else str(v)


class Index:
    """The buildings, divisions and grids of an Interchange, arranged for labelling."""

    def __init__(self, data: Any) -> None:
        grids = data.grids
        tree = shapely.STRtree(list(grids.geometry))
        codes = [str(c) for c in grids["code"]]
        pts = shapely.point_on_surface(list(data.buildings.geometry))
        hit_b, hit_g = tree.query(pts, predicate="covered_by")
        grid_of: dict[int, str] = {}
        for b, g in zip(hit_b.tolist(), hit_g.tolist(), strict=True):
            grid_of[b] = min(grid_of.get(b, codes[g]), codes[g])
        units: dict[str, list[str]] = {}
        for bid, u in zip(data.units["building_id"], data.units["unit_no"], strict=True):
            units.setdefault(str(bid), []).append(str(u))
        self.buildings: list[Building] = []
        for i, r in enumerate(data.buildings.itertuples(index=False)):
            self.buildings.append(
                Building(
                    id=str(r.building_id),
                    community=str(r.community_code),
                    road=_s(r.road),
                    house=_s(r.house_number),
                    compound=_s(r.compound),
                    hamlet=_s(r.hamlet),
                    group=_s(r.group_no),
                    number=_s(r.building_no),
                    floors=int(r.floors) if _s(r.floors) else 1,
                    grid=grid_of.get(i),
                    units=tuple(units.get(str(r.building_id), ())),
                )
            )
        self.grids_of: dict[str, set[str]] = {}
        for code, comm in zip(codes, grids["community_code"], strict=True):
            self.grids_of.setdefault(str(comm), set()).add(code)
        self.div: dict[str, dict[str, str | None]] = {
            str(r.code): {
                "name": str(r.name),
                "level": str(r.level),
                "parent": _s(r.parent_code),
                "official": _s(r.official_name),
            }
            for r in data.divisions.itertuples(index=False)
        }
        self.chain: dict[str, dict[str, str]] = {}
        for code, d in self.div.items():
            if d["level"] == "village":
                chain, cur = {}, code
                while cur in self.div:
                    chain[str(self.div[cur]["level"])] = cur
                    cur = self.div[cur]["parent"] or ""
                self.chain[code] = chain
        self.by_comm: dict[str, list[Building]] = {}
        # attribute -> name_key -> buildings; and name_key -> the name as the data spells it
        self.by_name: dict[str, dict[str, list[Building]]] = {a: {} for a in _NAMED}
        self._spelt: dict[str, dict[str, str]] = {a: {} for a in _NAMED}
        for b in self.buildings:
            self.by_comm.setdefault(b.community, []).append(b)
            for attr in _NAMED:
                if (name := getattr(b, attr)) is not None:
                    key = name_key(name)
                    self.by_name[attr].setdefault(key, []).append(b)
                    self._spelt[attr].setdefault(key, name)
        self.urban = [b for b in self.buildings if b.compound and not b.hamlet and b.grid]
        self.rural = [b for b in self.buildings if b.hamlet and b.house and b.grid]
        self._scopes: dict[frozenset[tuple[str, str]], frozenset[str]] = {}
        self._typos: dict[tuple[str, str], list[str]] = {}
        self.memo: dict[str, Any] = {}

    def scope(self, written: Mapping[str, str]) -> frozenset[str]:
        """Villages whose divisions carry every written name."""
        key = frozenset(written.items())
        if key not in self._scopes:
            self._scopes[key] = frozenset(
                v
                for v, chain in self.chain.items()
                if all(
                    lvl in chain and self.div[chain[lvl]]["name"] == n for lvl, n in written.items()
                )
            )
        return self._scopes[key]

    def typos(self, written: str, attr: str = "compound") -> list[str]:
        """Keys of the known names that the matcher puts one typo away from ``written``."""
        if (attr, written) not in self._typos:
            road = _NAMED[attr]
            self._typos[(attr, written)] = [
                key
                for key, name in self._spelt[attr].items()
                if 0 < name_score(written, name, road=road) < EXACT
            ]
        return self._typos[(attr, written)]

    def named(self, written: str, comms: frozenset[str], attr: str = "compound") -> list[Building]:
        """Buildings of the places in ``comms`` a written compound, hamlet or road name
        means: the same name, else the names one typo away (see the module docstring)."""
        names = self.by_name[attr]
        exact = [b for b in names.get(name_key(written), ()) if b.community in comms]
        if exact:
            return exact
        return [b for key in self.typos(written, attr) for b in names[key] if b.community in comms]


@dataclass
class Meaning:
    """What an address says, whatever its spelling."""

    divisions: dict[str, str] = field(default_factory=dict)
    compound: str | None = None
    road: str | None = None
    house: str | None = None
    hamlet: str | None = None
    group: str | None = None
    building: str | None = None
    unit: str | None = None


def _common_grid(buildings: Iterable[Building]) -> str | None:
    grids = {b.grid for b in buildings}
    return grids.pop() if len(grids) == 1 else None


def _both(a: list[Building] | None, b: list[Building]) -> list[Building]:
    if a is None:
        return b
    ids = {x.id for x in b}
    return [x for x in a if x.id in ids]


def label(m: Meaning, idx: Index) -> Expected:
    """The answer ``m`` supports in the data (see the module docstring)."""
    comms = idx.scope(m.divisions)
    named: list[Building] | None = None
    if m.compound is not None:
        named = idx.named(m.compound, comms)
    if m.hamlet is not None:
        named = _both(named, idx.named(m.hamlet, comms, "hamlet"))
    if m.road is not None:
        named = _both(named, idx.named(m.road, comms, "road"))
    if m.group is not None:
        pool = [b for c in comms for b in idx.by_comm.get(c, ())]
        named = _both(named, [b for b in pool if b.group == m.group and b.house == m.house])
    if m.house is not None and named is not None:
        named = [b for b in named if b.house == m.house]
    pool = (
        [b for c in comms for b in idx.by_comm.get(c, ())] if named is None and m.building else []
    )
    hits = named if named is not None else pool
    if m.building is not None:
        hits = [b for b in hits if b.number == m.building]
    if len(hits) == 1:
        b = hits[0]
        if m.unit is not None and m.unit in b.units:
            return Expected("unit", b.id, m.unit, b.grid)
        return Expected("building", b.id, None, b.grid)
    if hits:
        level: Level = "ambiguous" if m.building is not None or m.house is not None else "compound"
        return Expected(level, grid_code=_common_grid(hits))
    if named:
        grid = _common_grid(named)
        return Expected("compound" if grid else "ambiguous", grid_code=grid)
    for lvl in reversed(ADMIN):
        if lvl in m.divisions:
            grids = {g for c in comms for g in idx.grids_of.get(c, ())}
            one = grids.pop() if len(grids) == 1 else None
            if lvl == "village" and len(comms) > 1:
                return Expected("ambiguous", grid_code=one)
            return Expected(_FALLBACK_LEVEL[lvl], grid_code=one)
    return Expected("none")
