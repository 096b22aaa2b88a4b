"""Resolve a written address to its grid, building, unit and chiefs.

Addresses are parsed with :mod:`gridmap.address`, narrowed to the divisions the parser
found, and matched on road + house number and on compound + building (+ unit). Names of
compounds and roads may match with one typo; **numbers never match fuzzily**, so 3栋 is
never taken for 8栋. The rule throughout: never a confident wrong grid. Two buildings that
fit equally well give ``ambiguous`` with candidates; a building number that a known
compound lacks gives the compound's grid only when the whole compound lies in one grid.
The pure matching rules live in :mod:`gridmap.resolve.matching`; the SQL in
:mod:`gridmap.db.lookup`. The gazetteer is the caller's (:class:`gridmap.service.Gridmap`
owns one per database).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from gridmap.address.coverage import Written, contains, written_divisions
from gridmap.address.gazetteer import PREFIX_LEN, Division, Gazetteer
from gridmap.address.normalize import normalize_address
from gridmap.address.parse import ParsedAddress, parse_address
from gridmap.crs import from_storage_xy, parse_crs
from gridmap.db import lookup
from gridmap.errors import GridmapError
from gridmap.resolve.matching import (
    DIVISION_ONLY,
    EXACT,
    FUZZY,
    Decision,
    Route,
    best_names,
    contained_names,
    decide,
    has_number,
    near_names,
    number_key,
    numbered_in_division,
)
from gridmap.resolve.rows import building_ref, chief_from_row, grid_ref
from gridmap.results import Candidate, DivisionRef, LonLat, MatchLevel, Resolution, UnitRef

if TYPE_CHECKING:
    from collections.abc import Sequence

    import psycopg

    Conn = psycopg.Connection[Any]
else:
    Conn = Any

__all__ = ["resolve_address", "resolve_addresses"]

LOG = logging.getLogger(__name__)

#: how many (text, gazetteer) parses are remembered
PARSE_CACHE = 50_000

#: a scope at least this deep (township) lists all its names; wider ones ask the trigram index
NARROW_PREFIX = 9


@lru_cache(maxsize=PARSE_CACHE)
def _parsed(text: str, gaz: Gazetteer) -> ParsedAddress:
    """The parse of ``text`` by ``gaz``, remembered: a parse is pure (the same text and
    gazetteer give the same parse; a reloaded gazetteer is a new key), and callers send the
    same addresses again and again. Bad addresses raise each time."""
    return parse_address(text, gaz)


def _scopes(parsed: ParsedAddress) -> list[tuple[str, str]]:
    """(level, code prefix) scopes to search: the finest certain division, or the readings
    of a finer ambiguous name, or the whole database."""
    level = None
    for lvl in ("village", "township", "county", "city", "province"):
        if lvl in parsed.division_codes:
            level = lvl
            break
    depth = PREFIX_LEN[level] if level else 0
    finer = [
        d
        for a in parsed.ambiguous
        for d in a.readings
        if PREFIX_LEN[d.level] > depth
        and (level is None or d.code.startswith(parsed.division_codes[level][:depth]))
    ]
    if finer:
        return [(d.level, d.code[: PREFIX_LEN[d.level]]) for d in finer]
    if level is None:
        return [("none", "")]
    return [(level, parsed.division_codes[level][:depth])]


#: answers of look-ups remembered for the length of one batch of addresses
Memo = dict[tuple[Any, ...], Any]


def _frozen(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


def _q(conn: Conn, memo: Memo | None, fn: Any, *args: Any) -> Any:
    """``fn(conn, *args)``, remembered in ``memo`` when there is one (rows are not mutated)."""
    if memo is None:
        return fn(conn, *args)
    key = (fn.__name__, *(_frozen(a) for a in args))
    if key not in memo:
        memo[key] = fn(conn, *args)
    return memo[key]


def _names(
    conn: Conn, memo: Memo | None, column: str, scopes: list[tuple[str, str]], like: str | None
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for _, prefix in scopes:
        narrow = len(prefix) >= NARROW_PREFIX
        rows.extend(_q(conn, memo, lookup.names_in_scope, column, prefix, None if narrow else like))
    return rows


def _parsed_dict(p: ParsedAddress) -> dict[str, str]:
    return p.components()


def resolve_address(
    conn: Conn,
    gaz: Gazetteer,
    text: str,
    *,
    authorised: bool = False,
    crs: str | int = "EPSG:4490",
) -> Resolution:
    """The grid, building, unit and chiefs of a written address, or an honest "not sure".

    ``location`` is the building's representative point in ``crs`` (EPSG:4490 by default;
    any EPSG code, or GCJ02)."""
    parse_crs(crs)
    res = _resolve_parsed(conn, _parsed(text, gaz), gaz, authorised, None)
    return _located(res, crs)


def _located(res: Resolution, crs: str | int) -> Resolution:
    if res.location is None or str(crs).upper() in ("EPSG:4490", "4490"):
        return res
    x, y = from_storage_xy(res.location.lon, res.location.lat, crs)
    return res.model_copy(update={"location": LonLat(lon=x, lat=y)})


_ABOVE = {
    "village": ("township", "county", "city", "province"),
    "township": ("county", "city", "province"),
}


def _whole_name_readings(parsed: ParsedAddress, gaz: Gazetteer) -> list[tuple[str, str]]:
    """Compounds named after places, which the parser read as division short forms: 恒安新城
    after 南关区 as 恒安(社区) + 新城, 幸福佳苑 as 幸福(乡) + 佳苑, 明珠佳园 as 明珠(街道) +
    佳园(社区). Gives each whole name written in the address, with the scope above the
    divisions it was taken for (a code prefix; empty for everywhere)."""
    comp = parsed.compound or ""

    def readings(level: str) -> list[Division]:
        code = parsed.division_codes.get(level)
        if code is not None:
            div = gaz.get(code)
            return [div] if div is not None else []
        return [d for a in parsed.ambiguous for d in a.readings if d.level == level]

    villages, towns = readings("village"), readings("township")
    tails: list[tuple[str, str]] = []
    for v in villages:
        for vs in Gazetteer.short_forms(v):
            if comp:
                tails.append((vs + comp, "village"))
            tails.extend(
                (ts + vs + comp, "township") for t in towns for ts in Gazetteer.short_forms(t)
            )
    if not villages and comp:
        tails.extend((ts + comp, "township") for t in towns for ts in Gazetteer.short_forms(t))
    out: list[tuple[str, str]] = []
    for whole, consumed in tails:
        if whole in parsed.normalized and all(whole != w for w, _ in out):
            prefix = next(
                (
                    parsed.division_codes[lv][: PREFIX_LEN[lv]]
                    for lv in _ABOVE[consumed]
                    if lv in parsed.division_codes
                ),
                "",
            )
            out.append((whole, prefix))
    return sorted(out, key=lambda wp: -len(wp[0]))


def _stem_readings(parsed: ParsedAddress, gaz: Gazetteer) -> list[tuple[str, str]]:
    """Compounds written after the bare stem of their township or community (正阳 银杏小区,
    宇航锦绣华庭), which the parser took into the compound's name: the name without the
    stem, in the scope of each held division the stem names."""
    comp = normalize_address(parsed.compound or "")
    out: list[tuple[str, str]] = []
    for m in gaz.find(comp):
        if m.start != 0 or len(comp) - m.end < 2:
            continue
        for d in m.divisions:
            if d.level in ("township", "village"):
                out.append((comp[m.end :], d.code[: PREFIX_LEN[d.level]]))
    return out


def _resolve_parsed(
    conn: Conn, parsed: ParsedAddress, gaz: Gazetteer, authorised: bool, memo: Memo | None
) -> Resolution:
    written = written_divisions(parsed.normalized, gaz)
    if written.outside is not None:
        # a place we do not hold is written: whatever we hold of the same name is not it
        return Resolution(
            status="not_found",
            match_level="none",
            confidence=0.0,
            parsed=_parsed_dict(parsed),
            reason=written.outside.reason,
            message=written.outside.message,
            notes=[written.outside.message],
        )
    res = _match(conn, parsed, gaz, authorised, memo)
    return _within_written(res, written)


def _within_written(res: Resolution, written: Written) -> Resolution:
    """The consistency rule, in one place: an answer names a grid only if every division
    written in the address contains it."""
    if res.grid is None or contains(written.within, res.grid.code):
        return res
    message = f"the grid found, {res.grid.code}, lies outside the written division " + ", ".join(
        c for c in written.within if not contains([c], res.grid.code)
    )
    return Resolution(
        status="not_found",
        match_level="none",
        confidence=0.0,
        parsed=res.parsed,
        reason="outside_coverage",
        message=message,
        notes=[*res.notes, message],
    )


def _match(
    conn: Conn, parsed: ParsedAddress, gaz: Gazetteer, authorised: bool, memo: Memo | None
) -> Resolution:
    scopes = _scopes(parsed)
    notes: list[str] = []
    wanted = parsed.building
    if parsed.compound is None and parsed.hamlet:
        wanted = parsed.building or parsed.house_number  # a house in a hamlet
    wanted_building = number_key(wanted) if wanted else None
    compound, place = _compound_route(conn, memo, parsed, gaz, scopes, wanted_building, notes)
    road = _road_route(conn, memo, parsed, scopes, wanted_building, compound, notes)
    division = _division_route(conn, memo, parsed, gaz, scopes, wanted_building)
    decision = decide(parsed, compound, road, wanted_building, division)
    notes.extend(decision.notes)
    if decision.reason is None:
        decision.reason, decision.message = _why_nothing(parsed, place, compound, road)
    return _finish(conn, memo, parsed, decision, notes, authorised)


def _compound_route(
    conn: Conn,
    memo: Memo | None,
    parsed: ParsedAddress,
    gaz: Gazetteer,
    scopes: list[tuple[str, str]],
    wanted_building: str | None,
    notes: list[str],
) -> tuple[Route, str | None]:
    """A compound (小区) and its building, or in the countryside a hamlet (屯) and its house;
    gives the route and the place name it looked for."""
    compound = Route(0.0)
    column, place = "compound", parsed.compound
    if place is None and parsed.hamlet:
        column, place = "hamlet", parsed.hamlet
    narrow = all(len(p) >= NARROW_PREFIX for _, p in scopes)
    if not (place or (narrow and (wanted_building or parsed.rest))):
        return compound, place
    # a wide scope is searched by name only; a narrow one lists its names, so that a
    # compound the parser missed can still be found written inside the address
    names = _names(conn, memo, column, scopes, place)
    score, keys = best_names(place, names) if place else (0, [])
    also: list[tuple[str, str]] = []  # hamlets carried in compound (the format allows it)
    if column == "hamlet" and place:
        in_compound = _names(conn, memo, "compound", scopes, place)
        c_score, c_keys = best_names(place, in_compound)
        if c_keys and c_score > score:
            column, names, score, keys = "compound", in_compound, c_score, c_keys
        elif c_keys and c_score == score:
            also = c_keys
    if not keys and narrow:
        keys, score = contained_names(parsed.normalized, names), FUZZY
    readings = [] if keys else [
        *((w, p, "one compound name, not as divisions") for w, p in _whole_name_readings(parsed, gaz)),
        *((w, p, "a compound after a division's stem") for w, p in _stem_readings(parsed, gaz)),
    ]  # fmt: skip
    for whole, prefix, how in readings:
        names = _names(conn, memo, "compound", [("whole", prefix)], whole)
        score, keys = best_names(whole, names)
        if keys:
            column, place = "compound", whole
            notes.append(f"{whole} read as {how}")
            break
    if not keys:
        return compound, place
    compound.score = score
    compound.buildings = _q(conn, memo, lookup.buildings_named, column, keys)
    if also:
        seen = {b["building_pk"] for b in compound.buildings}
        compound.buildings += [
            b
            for b in _q(conn, memo, lookup.buildings_named, "compound", also)
            if b["building_pk"] not in seen
        ]
    if wanted_building:
        compound.near = _near_misses(
            conn, memo, parsed, column, place, names, keys, compound, wanted_building
        )
    if score < EXACT:
        notes.append(
            f"{column} {place or parsed.normalized!r} read as "
            + " or ".join(sorted({k[1] for k in keys}))
        )
    return compound, place


def _near_misses(
    conn: Conn,
    memo: Memo | None,
    parsed: ParsedAddress,
    column: str,
    place: str | None,
    names: list[dict[str, Any]],
    keys: list[tuple[str, str]],
    compound: Route,
    wanted: str,
) -> list[dict[str, Any]]:
    """Buildings that make the name or a number written wrong: the compound found exactly
    lacks the number and one a typo away has it (金色家园1栋 / 金色佳园1栋), or the hamlet's
    houses of that number are in another group than written and another hamlet of the
    village has the group and house (李家屯3组2号 where group 3 is 后岗屯)."""
    if compound.score == EXACT and not has_number(compound.buildings, wanted):
        near = near_names(place or "", names, keys)
        return _q(conn, memo, lookup.buildings_named, column, near) if near else []
    if parsed.group and not numbered_in_division(compound.buildings, wanted, parsed.group):
        villages = sorted({k[0] for k in keys})
        found = {k[1] for k in keys}
        rows = _q(conn, memo, lookup.buildings_in, villages)
        return [
            b
            for b in numbered_in_division(rows, wanted, parsed.group)
            if b.get("group_no") and (b.get("hamlet") or b.get("compound")) not in found
        ]
    return []


def _road_route(
    conn: Conn,
    memo: Memo | None,
    parsed: ParsedAddress,
    scopes: list[tuple[str, str]],
    wanted_building: str | None,
    compound: Route,
    notes: list[str],
) -> Route:
    """Buildings by road: by house number (人民大街88号), or by building number when no
    house number is written (卫光街3栋: every compound on the road with that building)."""
    road = Route(0.0)
    by_building = wanted_building is not None and not compound.buildings
    if not parsed.road or not (parsed.house_number or by_building):
        return road
    names = _names(conn, memo, "road", scopes, parsed.road)
    score, road_keys = best_names(parsed.road, names, road=True)
    if not road_keys:
        return road
    road.score = score
    if parsed.house_number:
        hn = parsed.house_number
        road.buildings = _q(conn, memo, lookup.buildings_named, "road", road_keys, [hn, hn + "号"])
        if not road.buildings:
            roads = " or ".join(sorted({k[1] for k in road_keys}))
            notes.append(f"no house number {hn} on {roads}")
        return road
    on_road = _q(conn, memo, lookup.buildings_named, "road", road_keys)
    road.buildings = [
        b for b in on_road
        if b.get("building_no") and number_key(b["building_no"]) == wanted_building
    ]  # fmt: skip
    return road


def _division_route(
    conn: Conn,
    memo: Memo | None,
    parsed: ParsedAddress,
    gaz: Gazetteer,
    scopes: list[tuple[str, str]],
    wanted_building: str | None,
) -> Route | None:
    """Buildings by number under a division alone: 白山社区B栋, 红旗村5社7号, or a villagers'
    group and house under a township (新湖镇六组13号), where the same group and number in
    two villages stays ambiguous. Never when a compound, hamlet or road was written but not
    found: its number would name another place."""
    number = wanted_building or (number_key(parsed.house_number) if parsed.house_number else None)
    if not number or parsed.compound or parsed.hamlet or parsed.road:
        return None
    villages = [p for _, p in scopes if len(p) == PREFIX_LEN["village"]]
    if villages and len(villages) == len(scopes):
        rows = _q(conn, memo, lookup.buildings_in, villages)
        return Route(DIVISION_ONLY, numbered_in_division(rows, number, parsed.group))
    towns = [p for _, p in scopes if len(p) == PREFIX_LEN["township"]]
    if not parsed.group or not towns or len(towns) != len(scopes):
        return None
    in_towns = sorted(
        d.code for t in towns for d in gaz.children(t.ljust(12, "0")) if d.level == "village"
    )
    if not in_towns:
        return None
    rows = [r for r in _q(conn, memo, lookup.buildings_in, in_towns) if r.get("group_no")]
    return Route(DIVISION_ONLY, numbered_in_division(rows, number, parsed.group))


def _why_nothing(
    parsed: ParsedAddress, place: str | None, compound: Route, road: Route
) -> tuple[str | None, str | None]:
    """Why nothing below the divisions was found: what was written and not known."""
    where = next(
        (getattr(parsed, c) for c in ("community", "township", "county", "city")
         if getattr(parsed, c)), "the written area",
    )  # fmt: skip
    if parsed.ambiguous and not (compound.buildings or road.buildings):
        a = parsed.ambiguous[0]
        return "several_divisions", f"{a.text} fits {len(a.readings)} divisions: " + ", ".join(
            f"{d.name} {d.code}" for d in a.readings[:5]
        )
    if place and not compound.buildings:
        return "unknown_compound", f"no compound or hamlet {place} in {where}"
    if parsed.road and parsed.house_number and not road.buildings:
        if road.score:
            return "unknown_house_number", f"no house number {parsed.house_number} on {parsed.road}"
        return "unknown_compound", f"no road {parsed.road} in {where}"
    return "no_place", f"nothing below {where} is written that this service knows"


def _division_fallback(
    conn: Conn, memo: Memo | None, parsed: ParsedAddress, decision: Decision
) -> Decision:
    """Nothing below the divisions matched: answer at the finest division found."""
    for lvl, level in (("village", "community"), ("township", "township"), ("county", "county")):
        code = parsed.division_codes.get(lvl)
        if code is None:
            continue
        decision.level = level  # type: ignore[assignment]
        if lvl == "village":
            grids = _q(conn, memo, lookup.community_grid_codes, code)
            if len(grids) == 1:
                decision.grid_codes, decision.confidence = grids, 0.6
            else:
                if decision.reason == "no_place" and grids:
                    decision.reason = "several_grids"
                    decision.message = f"{parsed.community} has {len(grids)} grids"
                decision.candidates = [{"grid_code": g, "score": 0.5} for g in grids]
                decision.confidence = round(0.6 / max(len(grids), 1), 3)
        else:
            decision.confidence = 0.3 if lvl == "township" else 0.2
        return decision
    return decision


def _finish(
    conn: Conn,
    memo: Memo | None,
    parsed: ParsedAddress,
    decision: Decision,
    notes: list[str],
    authorised: bool,
) -> Resolution:
    if decision.level == "none" and not decision.candidates:
        decision = _division_fallback(conn, memo, parsed, decision)
    division = None
    for lvl in ("village", "township", "county", "city", "province"):
        if lvl in parsed.division_codes:
            component = "community" if lvl == "village" else lvl
            division = DivisionRef(
                code=parsed.division_codes[lvl], name=getattr(parsed, component) or ""
            )
            break
    common: dict[str, Any] = {
        "parsed": _parsed_dict(parsed),
        "notes": notes,
        "division": division,
    }

    if decision.building_pk is not None:
        (row,) = _q(conn, memo, lookup.buildings, [decision.building_pk])
        level: MatchLevel = "building"
        confidence = decision.confidence
        unit = None
        unit_chief = None
        if parsed.unit:
            wanted = number_key(parsed.unit)
            unit_row = next((u for u in row["units"] if number_key(u["unit_no"]) == wanted), None)
            if unit_row is None:
                notes.append(f"no unit {parsed.unit} in this building")
                confidence *= 0.95
            else:
                level, confidence = "unit", min(1.0, confidence + 0.03)
                unit = UnitRef(unit_no=unit_row["unit_no"])
                unit_chief = chief_from_row(unit_row, "unit_chief", authorised)
        grid = grid_ref(row)
        if grid is None:
            notes.append("the building lies in no current grid")
            common["reason"] = "not_in_grid"
            common["message"] = f"building {row['building_id']} lies in no current grid"
        return Resolution(
            status="ok" if grid is not None else "not_found",
            match_level=level,
            confidence=round(confidence, 3) if grid is not None else 0.0,
            grid=grid,
            grid_chief=chief_from_row(row, "grid_chief", authorised),
            building=building_ref(row),
            building_chief=chief_from_row(row, "building_chief", authorised),
            unit=unit,
            unit_chief=unit_chief,
            location=LonLat(lon=row["building_lon"], lat=row["building_lat"]),
            **common,
        )

    codes = sorted(
        set(decision.grid_codes)
        | {c["grid_code"] for c in decision.candidates if c.get("grid_code")}
    )
    grid_rows = (
        {r["grid_code"]: r for r in _q(conn, memo, lookup.grids, codes, False, False)}
        if codes
        else {}
    )
    if decision.grid_codes and decision.grid_codes[0] in grid_rows:
        row = grid_rows[decision.grid_codes[0]]
        return Resolution(
            status="ok",
            match_level=decision.level,
            confidence=decision.confidence,
            grid=grid_ref(row),
            grid_chief=chief_from_row(row, "grid_chief", authorised),
            reason=decision.reason,  # type: ignore[arg-type]  # coarser than written: why
            message=decision.message,
            **common,
        )
    candidates = []
    for c in decision.candidates:
        g = grid_rows.get(c.get("grid_code") or "")
        candidates.append(
            Candidate(
                grid=grid_ref(g) if g else None,
                building=building_ref(c) if c.get("building_id") else None,
                compound=c.get("compound"),
                score=round(float(c["score"]), 3),
            )
        )
    return Resolution(
        status="ambiguous" if candidates else "not_found",
        match_level=decision.level,
        confidence=decision.confidence,
        candidates=candidates,
        reason=decision.reason,  # type: ignore[arg-type]
        message=decision.message,
        **common,
    )


def resolve_addresses(
    conn: Conn,
    gaz: Gazetteer,
    texts: Sequence[str],
    *,
    authorised: bool = False,
    crs: str | int = "EPSG:4490",
) -> list[Resolution | GridmapError]:
    """Resolve many addresses over one connection; a bad address gives its error in place.

    Look-ups are remembered for the length of the call, so addresses that share a community
    or compound (as rows of one file usually do) share their queries.
    """
    parse_crs(crs)
    memo: Memo = {}
    out: list[Resolution | GridmapError] = []
    for text in texts:
        try:
            res = _resolve_parsed(conn, _parsed(text, gaz), gaz, authorised, memo)
            out.append(_located(res, crs))
        except GridmapError as exc:
            out.append(exc)
    return out
