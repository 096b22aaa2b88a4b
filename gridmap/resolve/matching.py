"""Matching an address's parts to known buildings: the pure half of address resolution.

Names of compounds and roads may match with one typo; numbers (buildings, units, house
numbers) only exactly. :func:`decide` turns the candidates found along the two routes
(compound + building, road + house number) into a building, a compound, a set of equally
good candidates, or nothing; it never picks between equals. No I/O here: the rows come from
:mod:`gridmap.db.lookup` through :mod:`gridmap.resolve`.

>>> name_score("明珠花圆", "明珠花园")   # one typo in a name
0.85
>>> name_score("幸福小区2期", "幸福小区3期")   # numbers never match fuzzily
0.0
>>> number_key("12号楼"), number_key("１２栋"), number_key("12")
('12', '12', '12')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rapidfuzz.distance import Levenshtein

from gridmap.address.normalize import CN_DIGITS, normalize_address

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from gridmap.address.parse import ParsedAddress
    from gridmap.results import MatchLevel

__all__ = [
    "DIVISION_ONLY",
    "EXACT",
    "FUZZY",
    "Decision",
    "Route",
    "best_names",
    "common_level",
    "contained_names",
    "decide",
    "name_key",
    "name_score",
    "number_key",
    "numbered_in_division",
]

EXACT = 1.0
#: score of a name one non-numeral edit away (a typo), or found inside the text
FUZZY = 0.85
#: score of a building found by its number within a community, no compound or road written
DIVISION_ONLY = 0.9
_ROAD_KIND = re.compile(r"大?(?:街|路|道|巷|弄|胡同|线)$")
_NUMERALS = frozenset("0123456789" + CN_DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def name_key(name: str) -> str:
    """The form names are compared in: normalised, without a trailing 小区.

    >>> name_key("明珠花园小区"), name_key(" 幸福小区 ")
    ('明珠花园', '幸福')
    """
    key = normalize_address(name)
    if key.endswith("小区") and len(key) >= 4:
        key = key[:-2]
    return key


def number_key(number: str) -> str:
    """The form building, unit and house numbers are compared in (exactly, never fuzzily)."""
    key = normalize_address(number)
    for marker in ("单元", "栋", "号", "#"):
        if key.endswith(marker) and len(key) > len(marker):
            key = key[: -len(marker)]
            break
    return key


def name_score(query: str, name: str, road: bool = False) -> float:
    """How well a written compound or road name fits a known one: 1, 0.85 or 0.

    One substituted, missing or extra character counts as a typo in names of three or more
    characters, unless the edit touches a numeral or a letter: those name different places.
    For roads an edit may not touch the road's kind either (人民大街 is not 人民大路).

    >>> name_score("人民大路", "人民大街", road=True), name_score("人明大街", "人民大街", road=True)
    (0.0, 0.85)
    """
    q, n = name_key(query), name_key(name)
    if not q or not n:
        return 0.0
    if q == n:
        return EXACT
    if min(len(q), len(n)) < 3 or Levenshtein.distance(q, n, score_cutoff=1) > 1:
        return 0.0
    for op in Levenshtein.editops(q, n):
        touched = ""
        if op.tag in ("replace", "delete"):
            touched += q[op.src_pos]
        if op.tag in ("replace", "insert"):
            touched += n[op.dest_pos]
        if any(c in _NUMERALS for c in touched):
            return 0.0
    if road and (kind := _ROAD_KIND.search(n)) and not q.endswith(kind.group(0)):
        return 0.0
    return FUZZY


@dataclass
class Route:
    """Candidate buildings of one route, with the name score that found them."""

    score: float
    buildings: list[dict[str, Any]] = field(default_factory=list)
    #: buildings with the written number in places one typo from the name found exactly,
    #: which lacks that number: the name or the number is wrong (金色家园1栋 / 金色佳园1栋)
    near: list[dict[str, Any]] = field(default_factory=list)


def near_names(
    query: str, rows: Iterable[dict[str, Any]], found: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Keys one typo from ``query`` (not an exact match), in the communities of ``found``."""
    communities = {k[0] for k in found}
    return [
        (r["community_code"], r["name"])
        for r in rows
        if r["community_code"] in communities and 0 < name_score(query, r["name"]) < EXACT
    ]


def has_number(buildings: Iterable[dict[str, Any]], wanted: str) -> bool:
    """Whether any of ``buildings`` carries the building or house number ``wanted``."""
    return any(_same_building_no(b, wanted) for b in buildings)


def best_names(
    query: str, rows: Iterable[dict[str, Any]], road: bool = False
) -> tuple[float, list[tuple[str, str]]]:
    """The (community_code, name) keys that fit ``query`` best, and their score."""
    best = 0.0
    keys: list[tuple[str, str]] = []
    for r in rows:
        s = name_score(query, r["name"], road)
        if s <= 0 or s < best:
            continue
        if s > best:
            best, keys = s, []
        keys.append((r["community_code"], r["name"]))
    return best, keys


def contained_names(text: str, rows: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """Known names written whole inside ``text`` and not followed by a numeral or 期."""
    out = []
    for r in rows:
        key = normalize_address(r["name"])
        pos = text.find(key)
        if len(key) >= 3 and pos >= 0:
            after = text[pos + len(key) : pos + len(key) + 1]
            if not after or (after not in _NUMERALS and after != "期"):
                out.append((r["community_code"], r["name"]))
    return out


@dataclass
class Decision:
    """What the matching concluded, before the chiefs are fetched."""

    level: MatchLevel
    confidence: float
    building_pk: int | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    grid_codes: list[str] = field(default_factory=list)
    compound: str | None = None
    notes: list[str] = field(default_factory=list)
    #: why no one grid was found (a :data:`gridmap.results.Reason`)
    reason: str | None = None
    message: str | None = None


def common_level(community_codes: Sequence[str], compounds: set[Any]) -> MatchLevel:
    """The finest level that several candidates share: one compound, community, township,
    county, or none.

    >>> common_level(["220103001001", "220103001002"], {1, 2})
    'township'
    """
    if len(compounds) == 1:
        return "compound"
    for level, n in (("community", 12), ("township", 9), ("county", 6)):
        if len({c[:n] for c in community_codes}) == 1:
            return level  # type: ignore[return-value]
    return "none"


def _same_building_no(b: dict[str, Any], wanted: str | None) -> bool:
    if wanted is None:
        return False
    if b.get("building_no") is not None:
        return number_key(b["building_no"]) == wanted
    # a house in a hamlet (or a compound without building numbers): 肖家店3号 is house 3
    return b.get("house_number") is not None and number_key(b["house_number"]) == wanted


def _same_group(b: dict[str, Any], group: str | None) -> bool:
    """A villagers' group (组) written in the address must agree with the building's, if known."""
    if group is None or b.get("group_no") is None:
        return True
    return number_key(b["group_no"]) == number_key(group)


def numbered_in_division(
    rows: Iterable[dict[str, Any]], wanted: str | None, group: str | None = None
) -> list[dict[str, Any]]:
    """The buildings of a community that fit a building or house number written without a
    compound (白山社区B栋, 红旗村5社7号), narrowed by the villagers' group if written.

    The unit does not narrow them: 2栋5单元 where two compounds have a 2栋 stays ambiguous
    even if only one of them has a fifth unit (the unit may be the mistake).

    >>> rows = [{"building_no": "B"}, {"building_no": "C"},
    ...         {"building_no": None, "house_number": "7", "group_no": "5"},
    ...         {"building_no": None, "house_number": "7", "group_no": "6"}]
    >>> numbered_in_division(rows, "B") == [rows[0]]
    True
    >>> numbered_in_division(rows, "7", group="5") == [rows[2]]
    True
    """
    return [b for b in rows if _same_building_no(b, wanted) and _same_group(b, group)]


def _chosen(
    parsed: ParsedAddress,
    compound: Route,
    road: Route,
    wanted_building: str | None,
    division: Route | None,
) -> tuple[list[dict[str, Any]], float]:
    """The buildings the routes agree on, and the score they earn."""
    by_compound = [
        b
        for b in compound.buildings
        if _same_building_no(b, wanted_building) and _same_group(b, parsed.group)
    ]
    by_road = road.buildings
    if wanted_building and by_road:
        # a house number names a building only if its building number (if any) agrees
        by_road = [
            b
            for b in by_road
            if b.get("building_no") is None or _same_building_no(b, wanted_building)
        ]
    if by_compound and by_road:
        return _both_routes(by_compound, by_road, compound.score, road.score)
    if by_compound:
        return by_compound, compound.score
    if by_road and not (wanted_building and compound.buildings):
        return by_road, road.score
    if division is not None and division.buildings and not compound.buildings:
        # a number written under a community alone: only if it names its buildings
        return division.buildings, division.score
    return [], 0.0


def _name_or_number(parsed: ParsedAddress, compound: Route, wanted: str) -> Decision:
    """The compound found has no such number, one a typo away has it: both stand."""
    found = sorted({b["place"] for b in compound.buildings})
    grids = sorted({b["grid_code"] for b in compound.buildings if b["grid_code"]})
    near = [b for b in compound.near if _same_building_no(b, wanted)]
    others = "、".join(sorted({b.get("hamlet") or b.get("place") or "" for b in near} - {""}))
    number = parsed.building or parsed.house_number
    if parsed.group:
        number = f"{number} in group {parsed.group}"
    cands = [{"grid_code": g, "compound": found[0], "score": compound.score} for g in grids]
    cands += [{**b, "score": FUZZY} for b in near]
    return Decision(
        level="compound",
        confidence=round(0.5 * compound.score / len(cands), 3),
        candidates=cands,
        notes=[f"no building {number} in {'、'.join(found)}; {others} has one"],
        reason="several_compounds",
        message=f"{'、'.join(found)} has no {number}, but {others}, one character away, has: "
        "the name or the number is wrong",
    )


def _several(chosen: list[dict[str, Any]]) -> tuple[str, str]:
    """Why several buildings stand: several villages, several compounds, or just buildings."""
    villages = sorted({b["community_code"] for b in chosen})
    places = sorted({b.get("compound") or b.get("place") or "" for b in chosen} - {""})
    if len(villages) > 1 and len(places) <= 1:
        return "several_villages", f"{len(chosen)} houses fit, in villages {', '.join(villages)}"
    if len(places) > 1:
        return "several_compounds", f"{len(chosen)} buildings fit, in {'、'.join(places)}"
    return "several_buildings", f"{len(chosen)} buildings fit equally well"


def _both_routes(
    by_compound: list[dict[str, Any]],
    by_road: list[dict[str, Any]],
    compound_score: float,
    road_score: float,
) -> tuple[list[dict[str, Any]], float]:
    """Compound and road both found buildings: agreement wins, else all of them stand."""
    both = {b["building_pk"] for b in by_road}
    agree = [b for b in by_compound if b["building_pk"] in both]
    if agree:
        return agree, min(1.0, max(compound_score, road_score) + 0.02)
    compounds = {(b["community_code"], b["compound"]) for b in by_compound}
    road_elsewhere = [b for b in by_road if (b["community_code"], b["compound"]) not in compounds]
    if road_elsewhere:
        return by_compound + road_elsewhere, min(compound_score, road_score)
    return by_compound, compound_score


def decide(
    parsed: ParsedAddress,
    compound: Route,
    road: Route,
    wanted_building: str | None,
    division: Route | None = None,
) -> Decision:
    """Choose a building, a compound or nothing from the two routes' candidates (pure)."""
    chosen, score = _chosen(parsed, compound, road, wanted_building, division)
    if len(chosen) == 1:
        b = chosen[0]
        return Decision(
            level="building", confidence=0.95 * score, building_pk=int(b["building_pk"])
        )
    if chosen:
        level = common_level(
            [b["community_code"] for b in chosen],
            {(b["community_code"], b["compound"]) for b in chosen},
        )
        chosen_grids = {b["grid_code"] for b in chosen}
        notes = [f"{len(chosen)} buildings fit equally well"]
        why, why_text = _several(chosen)
        if len(chosen_grids) == 1 and None not in chosen_grids:
            # which building is unsure, but not which grid
            notes.append("all of them lie in one grid")
            return Decision(
                level=level,
                confidence=round(0.8 * score, 3),
                grid_codes=sorted(chosen_grids),
                notes=notes,
            )
        return Decision(
            level=level,
            confidence=round(0.9 * score / len(chosen), 3),
            candidates=[{**b, "score": score} for b in chosen],
            notes=notes,
            reason=why,
            message=why_text,
        )

    if compound.buildings and wanted_building and has_number(compound.near, wanted_building):
        return _name_or_number(parsed, compound, wanted_building)
    if compound.buildings:
        keys = sorted({(b["community_code"], b["place"]) for b in compound.buildings})
        notes = []
        reason = message = None
        if wanted_building:
            places = " or ".join(k[1] for k in keys)
            number = parsed.building or parsed.house_number
            notes.append(f"no building {number} in {places}")
            reason, message = "unknown_building", f"{places} has no building or house {number}"
        if len(keys) == 1:
            grids = sorted({b["grid_code"] for b in compound.buildings if b["grid_code"]})
            if len(grids) == 1:
                return Decision(
                    level="compound",
                    confidence=round(0.8 * compound.score, 3),
                    grid_codes=grids,
                    compound=keys[0][1],
                    notes=notes,
                    reason=reason,
                    message=message,
                )
            notes.append(f"{keys[0][1]} spans {len(grids)} grids")
            return Decision(
                level="compound",
                confidence=round(0.8 * compound.score / max(len(grids), 1), 3),
                candidates=[
                    {"grid_code": g, "compound": keys[0][1], "score": compound.score} for g in grids
                ],
                compound=keys[0][1],
                notes=notes,
                reason=reason or "several_grids",
                message=message or f"{keys[0][1]} spans {len(grids)} grids",
            )
        cands: list[dict[str, Any]] = []
        for community, name in keys:
            grids = sorted(
                {
                    b["grid_code"]
                    for b in compound.buildings
                    if b["community_code"] == community and b["place"] == name and b["grid_code"]
                }
            )
            cands.extend({"grid_code": g, "compound": name, "score": compound.score} for g in grids)
        notes.append(f"{len(keys)} compounds fit equally well")
        names = "、".join(sorted({k[1] for k in keys}))
        return Decision(
            level=common_level([k[0] for k in keys], set(keys)),
            confidence=round(0.5 * compound.score / len(keys), 3),
            candidates=cands,
            notes=notes,
            reason="several_compounds",
            message=f"{len(keys)} places fit: {names} in {len({k[0] for k in keys})} communities",
        )
    return Decision(level="none", confidence=0.0)
