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

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from rapidfuzz.distance import Hamming

from gridmap.address.gazetteer import LEVELS, Division, Gazetteer, NameMatch, is_within
from gridmap.address.normalize import normalize_address
from gridmap.errors import InvalidAddress

__all__ = ["Ambiguity", "ParsedAddress", "parse_address"]

_COMPONENT_OF_LEVEL = {
    "province": "province",
    "city": "city",
    "county": "county",
    "township": "township",
    "village": "community",
}


@dataclass(frozen=True)
class Ambiguity:
    """A name in the address that fits several divisions (or none consistently)."""

    text: str
    readings: tuple[Division, ...]

    def __str__(self) -> str:
        opts = ", ".join(f"{d.name} {d.code}" for d in self.readings)
        return f"{self.text}: {opts}"


@dataclass(frozen=True)
class ParsedAddress:
    """The components of one address. Every component is ``None`` when absent.

    Numbers are given without their markers: ``building='12'`` for 12栋, ``unit='3'`` for
    3单元, ``house_number='1234'`` for 1234号, ``group='2'`` for 第二村民小组.
    ``division_codes`` maps each administrative level that was matched without doubt
    (province, city, county, township, village) to its 12-digit code.
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


# ---- administrative prefix -------------------------------------------------------------

# a short form followed by one of these starts a street or place name (吉林大路, 长春站)
_NAME_CONTINUES = frozenset("路街道巷胡大小花家苑城公站桥广医学院园府庭居楼厦里村屯组号")
_CJK = r"\u3007\u4e00-\u9fff"
_CJK_ONLY = re.compile(rf"[{_CJK}]+")
# lazy stems, and the shortest match over all levels wins, so one never swallows two levels
_STEM_CLS = r"[^\W\d_A-Za-z]"
_GENERIC: tuple[tuple[int, re.Pattern[str]], ...] = (
    (0, re.compile(rf"{_STEM_CLS}{{2,8}}?(?:省|自治区|特别行政区)")),
    (1, re.compile(rf"{_STEM_CLS}{{2,10}}?(?:自治州|地区|盟|市)(?!场|民|政)")),
    (2, re.compile(rf"{_STEM_CLS}{{2,8}}?(?:自治县|自治旗|区|县|旗|市)(?!场|民|政)")),
    (3, re.compile(rf"{_STEM_CLS}{{2,8}}?(?:街道|镇|乡)")),
    (4, re.compile(rf"{_STEM_CLS}{{2,8}}?(?:社区|村)(?!民)")),
)
_NOT_COUNTY = re.compile(
    r"(?:小|园|景|校|厂|矿|业|发|营|学|军|花|苑|新|商|住|库|港|保税|示范|试验)区$"
)
_NOT_CITY = re.compile(r"(?:超|城|门|夜|菜|集|股|花|鸟|鱼|早|农贸)市$")
_NOT_VILLAGE = re.compile(r"新村$")


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kind: str  # name | alias | short | fuzzy | generic
    candidates: tuple[Division, ...]
    depth: int  # the shallowest candidate's depth, or the generic level


def _boundary_ok(text: str, end: int, full_starts: set[int]) -> bool:
    return end >= len(text) or end in full_starts or text[end] not in _NAME_CONTINUES


def _fits_context(div: Division, spans: list[_Span]) -> bool:
    coded = [s for s in spans if s.candidates]
    if not coded:
        return False
    return any(is_within(div, p) for p in coded[-1].candidates)


def _confirmed_by_child(div: Division, after: list[NameMatch]) -> bool:
    return any(m.kind != "short" and any(is_within(c, div) for c in m.divisions) for m in after)


def _exact(
    text: str,
    pos: int,
    by_start: dict[int, list[NameMatch]],
    spans: list[_Span],
    full_starts: set[int],
) -> _Span | None:
    floor = spans[-1].depth if spans else -1
    for m in sorted(by_start.get(pos, ()), key=lambda m: m.end, reverse=True):
        divs = tuple(d for d in m.divisions if d.depth > floor)
        if not divs:
            continue
        if m.kind == "short":
            if not _boundary_ok(text, m.end, full_starts):
                continue
            after = by_start.get(m.end, [])
            if text[m.end - 1] == "街":
                # 红旗街 is a road unless a community of 红旗街道 follows
                divs = tuple(d for d in divs if _confirmed_by_child(d, after))
            else:
                # township and village stems (人民, 幸福) need a known parent or child
                divs = tuple(
                    d
                    for d in divs
                    if d.depth <= 2 or _fits_context(d, spans) or _confirmed_by_child(d, after)
                )
            if not divs:
                continue
        return _Span(pos, m.end, m.kind, divs, min(d.depth for d in divs))
    return None


def _context_children(gaz: Gazetteer, spans: list[_Span]) -> list[Division]:
    coded = [s for s in spans if s.candidates]
    if not coded or len(coded[-1].candidates) > 3:
        return []
    out: list[Division] = []
    frontier = list(coded[-1].candidates)
    for _ in range(2):
        nxt: list[Division] = []
        for div in frontier:
            nxt.extend(gaz.children(div.code))
        out.extend(nxt)
        frontier = nxt
        if len(out) > 400:
            break
    return out


# characters typed for a level suffix when the input method picks a homophone
_HOMOPHONES: dict[str, str] = {
    "区": "去曲趋驱渠屈躯",
    "县": "线现限显献宪",
    "市": "是事式试室示",
    "省": "生声胜升",
    "乡": "香相想响象箱",
    "镇": "真振阵震珍针",
    "村": "存寸",
    "道": "到倒导刀",
    "街": "接节结阶",
    "社": "设舍射",
}
_LEVEL_SUFFIX = re.compile(r"(?:自治县|街道|社区|省|市|区|县|旗|镇|乡|村)$")


def _typo_ok(window: str, name: str, level: str) -> bool:
    """One substituted character: a homophone in the suffix, or one in a stem long enough.

    Stems of two characters are only forgiven for counties and townships, which are few
    under one parent; villages are many and often differ by one character.
    """
    diff = [i for i, (a, b) in enumerate(zip(window, name, strict=True)) if a != b]
    if len(diff) != 1:
        return False
    i = diff[0]
    suffix = _LEVEL_SUFFIX.search(name)
    stem_len = suffix.start() if suffix else len(name)
    if i >= stem_len:
        return window[i] in _HOMOPHONES.get(name[i], "")
    shortest = 2 if level in ("county", "township") else 3
    return stem_len >= shortest and window[i] not in _NAME_CONTINUES


def _fuzzy(text: str, pos: int, gaz: Gazetteer, spans: list[_Span]) -> _Span | None:
    """One mistyped character (宽城去, 红旗街到, 九圣词社区) in a child of what was found."""
    best: list[Division] = []
    best_len = 0
    for div in _context_children(gaz, spans):
        name = gaz.key(div)
        n = len(name)
        if n < 3 or n < best_len or pos + n > len(text):
            continue
        window = text[pos : pos + n]
        if Hamming.distance(window, name, score_cutoff=1) > 1 or not _CJK_ONLY.fullmatch(window):
            continue
        if not _typo_ok(window, name, div.level):
            continue
        if n > best_len:
            best, best_len = [div], n
        elif n == best_len:
            best.append(div)
    if not best:
        return None
    floor = spans[-1].depth if spans else -1
    divs = tuple(d for d in best if d.depth > floor)
    if not divs:
        return None
    return _Span(pos, pos + best_len, "fuzzy", divs, min(d.depth for d in divs))


def _generic(text: str, pos: int, spans: list[_Span]) -> _Span | None:
    floor = spans[-1].depth if spans else -1
    best: _Span | None = None
    for depth, pattern in _GENERIC:
        if depth <= floor:
            continue
        m = pattern.match(text, pos)
        if m is None or (best is not None and m.end() >= best.end):
            continue
        word = m.group(0)
        if depth == 2 and _NOT_COUNTY.search(word):
            continue
        if depth in (1, 2) and word.endswith("市") and _NOT_CITY.search(word):
            continue
        if depth == 4 and _NOT_VILLAGE.search(word):
            continue
        if depth == 1 and word.endswith("市") and floor >= 1:
            continue
        best = _Span(pos, m.end(), "generic", (), depth)
    return best


def _read_admin(text: str, gaz: Gazetteer) -> tuple[list[_Span], int]:
    matches = gaz.find(text)
    by_start: dict[int, list[NameMatch]] = {}
    full_starts: set[int] = set()
    for m in matches:
        by_start.setdefault(m.start, []).append(m)
        if m.kind != "short":
            full_starts.add(m.start)
    spans: list[_Span] = []
    pos = 0
    while pos < len(text) and (not spans or spans[-1].depth < 4):
        span = _exact(text, pos, by_start, spans, full_starts)
        if span is None or span.kind == "short":
            typo = _fuzzy(text, pos, gaz, spans)
            if typo is not None and (span is None or typo.end > span.end):
                span = typo
        if span is None:
            span = _generic(text, pos, spans)
        if span is None:
            repeated = _repeated(text, pos, spans)
            if repeated:
                pos += repeated
                continue
            break
        spans.append(span)
        pos = span.end
    return spans, pos


def _repeated(text: str, pos: int, spans: list[_Span]) -> int:
    """Length of admin names written a second time at ``pos`` (浙江省杭州市浙江省杭州市)."""
    for i, span in enumerate(spans):
        if text.startswith(text[span.start : span.end], pos):
            n = 0
            for later in spans[i:]:
                word = text[later.start : later.end]
                if not text.startswith(word, pos + n):
                    break
                n += len(word)
            return n
    return 0


_SKIP_COST = 10
_MAX_NODES = 20000


def _resolve(spans: list[_Span]) -> list[tuple[Division, ...]]:
    """For each coded span, the readings kept by the cheapest consistent chains.

    An empty tuple means no reading of the span fits the others.
    """
    coded = [s for s in spans if s.candidates]
    best_cost = [1 << 30]
    kept: list[list[set[Division | None]]] = [[]]
    nodes = [0]

    def walk(i: int, last: Division | None, cost: int, chosen: list[Division | None]) -> None:
        nodes[0] += 1
        if cost > best_cost[0] or nodes[0] > _MAX_NODES:
            return
        if i == len(coded):
            if cost < best_cost[0]:
                best_cost[0] = cost
                kept[0] = [{c} for c in chosen]
            else:
                for slot, c in zip(kept[0], chosen, strict=True):
                    slot.add(c)
            return
        for div in coded[i].candidates:
            if last is None or is_within(div, last):
                gap = div.depth - (last.depth if last is not None else div.depth) - 1
                walk(i + 1, div, cost + max(gap, 0), [*chosen, div])
        walk(i + 1, last, cost + _SKIP_COST, [*chosen, None])

    walk(0, None, 0, [])
    out: list[tuple[Division, ...]] = []
    for slot in kept[0] or [set() for _ in coded]:
        out.append(tuple(sorted((d for d in slot if d is not None), key=lambda d: d.code)))
    return out


# ---- the rest: hamlet, group, road, numbers, compound, building ---------------------------

_HAMLET = re.compile(rf"[{_CJK}]{{1,6}}?屯(?!路|街|大街|大路|镇|乡)")
_GROUP = re.compile(r"第?([0-9]+)(?:村民小组|小组|组|社(?!区|会))")
# a township or community written after a development zone or other leftover
_LATE_ADMIN = re.compile(
    rf"(?P<t>{_STEM_CLS}{{2,6}}?(?:街道|镇|乡))|(?P<v>{_STEM_CLS}{{2,6}}?社区)"
)
_LATE_LEVEL = {"t": "township", "v": "village"}
_VILLAGE_GROUP = re.compile(rf"([{_CJK}]{{1,3}}?)组(?![织长团])")
_NAMED_GROUP = re.compile(rf"([{_CJK}]{{2,5}}?)村民小组")
_ROAD = re.compile(
    rf"[{_CJK}]{{2,12}}?(?:大街|大路|大道|环路|公路|路|街(?!道)|胡同|巷|弄|(?<!街)道)"
)
_COMPOUND_SUFFIX = "小区|花园|家园|新村|公寓|大厦|广场|名苑|雅苑|苑|城|公馆|华府|府|庭|邸|园|里|湾|居|院|宿舍|社区|村|楼|中心|大院"
_COMPOUND_START = re.compile(r"小区|新村|花园|家园|公寓|大厦|社区")
_HOUSE_NO = re.compile(r"([0-9]+(?:-[0-9]+)?[A-Z]?)号(?!院)")
_BARE_NO = re.compile(r"([0-9]+)(?![0-9A-Z\-]|栋|单元|层|楼|室|门|组|期|号)")
_RUN = re.compile(rf"[{_CJK}]+(?:[0-9]+期)?")
_COMPOUND_END = re.compile(rf"(?:{_COMPOUND_SUFFIX})(?:[0-9]+期|[东南西北一二三四五六七八九]区)?$")
_UNIT_NEXT = re.compile(r"[0-9A-Z]+(?:栋|单元|层|楼|室|号|-)|[0-9]+$")
_BUILDING = re.compile(r"([0-9]+[A-Z]?|[A-Z][0-9]*)栋")
_UNIT = re.compile(r"([0-9]+)单元")
_FLOOR_AS_BUILDING = re.compile(r"([0-9]+)楼(?=[0-9]+单元)")
_FLOOR = re.compile(r"(-?[0-9]+)(?:层|楼)")
_ROOM = re.compile(r"([0-9]+[A-Z]?)(?:室|户)")
_NUMBER_SIGN = re.compile(r"([0-9]+[A-Z]?|[A-Z][0-9]*)号")
_PAIR = re.compile(r"([0-9]+[A-Z]?)-([0-9]+)(?![0-9\-])")
_TRAILING_NO = re.compile(r"([0-9]+[A-Z]?)$")
_JUNK_RUN = re.compile(rf"[{_CJK}]+|[0-9A-Z\-]+|.")


def _read_rest(text: str, pos: int, got: dict[str, Any]) -> list[str]:
    rest: list[str] = []
    after_road = False
    while pos < len(text):
        m: re.Match[str] | None
        if (m := _HAMLET.match(text, pos)) and "hamlet" not in got and "road" not in got:
            got["hamlet"] = m.group(0)
        elif (m := _GROUP.match(text, pos)) and "group" not in got and "building" not in got:
            got["group"] = m.group(1)
        elif (m := _NAMED_GROUP.match(text, pos)) and "group" not in got:
            got["group"] = m.group(1)
        elif (
            ("community" in got or "hamlet" in got)
            and "group" not in got
            and "road" not in got
            and (m := _VILLAGE_GROUP.match(text, pos))
        ):
            got["group"] = m.group(1)
        elif (
            "road" not in got
            and "compound" not in got
            and (m := _LATE_ADMIN.match(text, pos))
            and _COMPONENT_OF_LEVEL[_LATE_LEVEL[m.lastgroup or ""]] not in got
        ):
            got[_COMPONENT_OF_LEVEL[_LATE_LEVEL[m.lastgroup or ""]]] = m.group(0)
        elif (
            (m := _ROAD.match(text, pos))
            and "road" not in got
            and "compound" not in got
            and "building" not in got
            and not _COMPOUND_START.match(text, m.end())
        ):
            word = m.group(0)
            cut = _road_cut(word)
            if cut:
                head = word[:cut]
                if "compound" not in got and _COMPOUND_END.search(head):
                    got["compound"] = head
                else:
                    rest.append(head)
            got["road"] = word[cut:]
            pos = m.end()
            after_road = True
            continue
        elif (
            after_road or (("group" in got or "hamlet" in got) and "house_number" not in got)
        ) and (m := _HOUSE_NO.match(text, pos)):
            got["house_number"] = m.group(1)
        elif after_road and (m := _BARE_NO.match(text, pos)) and "house_number" not in got:
            got["house_number"] = m.group(1)
        elif (m := _FLOOR_AS_BUILDING.match(text, pos)) and "building" not in got:
            got["building"] = m.group(1)
        elif (m := _BUILDING.match(text, pos)) and "building" not in got:
            got["building"] = m.group(1)
        elif (m := _UNIT.match(text, pos)) and "unit" not in got:
            got["unit"] = m.group(1)
        elif (m := _FLOOR.match(text, pos)) and "floor" not in got:
            got["floor"] = m.group(1)
        elif (m := _ROOM.match(text, pos)) and "room" not in got:
            got["room"] = m.group(1)
        elif (m := _PAIR.match(text, pos)) and "building" not in got and "room" not in got:
            got["building"] = m.group(1)
            got["room" if len(m.group(2)) >= 3 else "unit"] = m.group(2)
        elif (
            (m := _NUMBER_SIGN.match(text, pos))
            and "building" not in got
            and ("compound" in got or "house_number" in got)
        ):
            got["building"] = m.group(1)
        elif (m := _TRAILING_NO.match(text, pos)) and (
            "building" in got or "unit" in got or "floor" in got or "compound" in got
        ):
            slot = (
                "room"
                if ("building" in got or "unit" in got or len(m.group(1)) >= 3)
                else "building"
            )
            if slot in got:
                rest.append(m.group(0))
            else:
                got[slot] = m.group(1)
        elif (m := _RUN.match(text, pos)) and "compound" not in got and "building" not in got:
            word = m.group(0)
            followed = _UNIT_NEXT.match(text, m.end()) is not None
            if _COMPOUND_END.search(word) or (followed and len(word) >= 2):
                got["compound"] = word
            else:
                cut = _last_compound_end(word)
                if cut:
                    got["compound"] = word[:cut]
                    pos += cut
                    after_road = False
                    continue
                rest.append(word)
        else:
            m = _JUNK_RUN.match(text, pos)
            assert m is not None
            rest.append(m.group(0))
        after_road = False
        pos = m.end()
    return rest


# where a road name cannot continue backwards: an area or compound ends there (经济开发区丹枫路)
_ROAD_HEAD_END = re.compile(
    r"(?:开发区|园区|工业区|工业园|小区|花园|家园|新村|公寓|大厦|[区县市镇乡村省])"
)


def _road_cut(word: str) -> int:
    """Where the road starts inside ``word``, or 0 when all of it is the road."""
    cut = 0
    for m in _ROAD_HEAD_END.finditer(word):
        if m.end() >= 2 and len(word) - m.end() >= 3:
            cut = m.end()
    return cut


_SUFFIX_ANYWHERE = re.compile(rf"(?:{_COMPOUND_SUFFIX})")


def _last_compound_end(word: str) -> int:
    cut = 0
    for m in _SUFFIX_ANYWHERE.finditer(word):
        if m.start() >= 2 and m.group(0) not in ("楼", "院", "村", "城", "里"):
            cut = m.end()
    return cut


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
    gridmap.errors.InvalidAddress: address '  ' is empty; expected a non-empty string such as '长春市南关区人民大街1234号'
    """
    if not isinstance(text, str):
        raise InvalidAddress(
            f"address must be a string, got {type(text).__name__} {text!r}", value=repr(text)
        )
    norm = normalize_address(text)
    if not norm:
        raise InvalidAddress(
            f"address {text!r} is empty; expected a non-empty string such as "
            "'长春市南关区人民大街1234号'",
            value=text,
        )
    spans, pos = _read_admin(norm, gazetteer)
    got: dict[str, Any] = {}
    codes: dict[str, str] = {}
    ambiguous: list[Ambiguity] = []
    resolved = iter(_resolve(spans))
    for span in spans:
        written = norm[span.start : span.end]
        if not span.candidates:
            got.setdefault(_COMPONENT_OF_LEVEL[LEVELS[span.depth]], written)
            continue
        readings = next(resolved)
        if len(readings) == 1:
            div = readings[0]
            got[_COMPONENT_OF_LEVEL[div.level]] = div.name
            codes[div.level] = div.code
            continue
        pool = readings or span.candidates
        ambiguous.append(Ambiguity(written, pool))
        names = {d.name for d in pool}
        first = min(pool, key=lambda d: d.depth)
        got.setdefault(_COMPONENT_OF_LEVEL[first.level], first.name if len(names) == 1 else written)
    rest = _read_rest(norm, pos, got)
    return replace(
        _EMPTY,
        **got,
        division_codes=codes,
        ambiguous=tuple(ambiguous),
        normalized=norm,
        rest=tuple(rest),
    )


_EMPTY = ParsedAddress()


def parse_many(texts: Iterable[str], gazetteer: Gazetteer) -> list[ParsedAddress]:
    """Parse many addresses with one gazetteer (a convenience for batch imports).

    >>> gaz = Gazetteer.from_records([])
    >>> [p.road for p in parse_many(["人民大街1号", "亚泰大街3218号"], gaz)]
    ['人民大街', '亚泰大街']
    """
    return [parse_address(t, gazetteer) for t in texts]
