"""Read the administrative prefix of an address (省 市 区/县 街道/乡镇 社区/村).

Names are read left to right against the gazetteer: exact names, aliases and short forms
first, then one mistyped character in a child of what was already found, then, for names
the gazetteer does not know, the bare level suffix. Short forms of townships and villages
need a known parent before them or a known child after them.

:func:`resolve` then pins down names that several divisions share (黑鱼村, 红旗街道): the
reading chosen is the chain in which every child code starts with its parent's prefix and
the fewest levels are skipped; names that stay open keep all their readings.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from rapidfuzz.distance import Hamming

from gridmap.address.gazetteer import Division, Gazetteer, NameMatch, is_within

__all__ = [
    "CJK", "COMPONENT_OF_LEVEL", "NAME_CONTINUES", "STEM_CLS", "Span", "read_admin", "resolve",
]  # fmt: skip

#: the ParsedAddress field of each division level
COMPONENT_OF_LEVEL = {
    "province": "province",
    "city": "city",
    "county": "county",
    "township": "township",
    "village": "community",
}


# a short form followed by one of these starts a street or place name (吉林大路, 长春站)
NAME_CONTINUES = frozenset("路街道巷胡大小花家苑城公站桥广医学院园府庭居楼厦里村屯组号")
CJK = r"\u3007\u4e00-\u9fff"
_CJK_ONLY = re.compile(rf"[{CJK}]+")
# lazy stems, and the shortest match over all levels wins, so one never swallows two levels
STEM_CLS = r"[^\W\d_A-Za-z]"
_GENERIC: tuple[tuple[int, re.Pattern[str]], ...] = (
    (0, re.compile(rf"{STEM_CLS}{{2,8}}?(?:省|自治区|特别行政区)")),
    (1, re.compile(rf"{STEM_CLS}{{2,10}}?(?:自治州|地区|盟|市)(?!场|民|政)")),
    (2, re.compile(rf"{STEM_CLS}{{2,8}}?(?:自治县|自治旗|区|县|旗|市)(?!场|民|政)")),
    (3, re.compile(rf"{STEM_CLS}{{2,8}}?(?:街道|镇|乡)")),
    (4, re.compile(rf"{STEM_CLS}{{2,8}}?(?:社区|村)(?!民)")),
)
_NOT_COUNTY = re.compile(
    r"(?:小|园|景|校|厂|矿|业|发|营|学|军|花|苑|新|商|住|库|港|保税|示范|试验)区$"
)
_NOT_CITY = re.compile(r"(?:超|城|门|夜|菜|集|股|花|鸟|鱼|早|农贸)市$")
_NOT_VILLAGE = re.compile(r"新村$")


class Span(NamedTuple):
    """Division names read at ``text[start:end]``."""

    start: int
    end: int
    kind: str  # name | alias | short | fuzzy | generic
    candidates: tuple[Division, ...]
    depth: int  # the shallowest candidate's depth, or the generic level


def _boundary_ok(text: str, end: int, full_starts: set[int]) -> bool:
    return end >= len(text) or end in full_starts or text[end] not in NAME_CONTINUES


def _fits_context(div: Division, spans: list[Span]) -> bool:
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
    spans: list[Span],
    full_starts: set[int],
) -> Span | None:
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
        return Span(pos, m.end, m.kind, divs, min(d.depth for d in divs))
    return None


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
    return stem_len >= shortest and window[i] not in NAME_CONTINUES


def _fuzzy(text: str, pos: int, gaz: Gazetteer, spans: list[Span]) -> Span | None:
    """One mistyped character (宽城去, 红旗街到, 九圣词社区) in a child of what was found."""
    coded = [s for s in spans if s.candidates]
    if not coded or len(coded[-1].candidates) > 3:
        return None
    best: list[Division] = []
    best_len = 0
    room = len(text) - pos
    head = text[pos : pos + 2]
    if len(head) < 2:
        return None
    for parent in coded[-1].candidates:
        for name, div in gaz.descendant_keys(parent.code, head):
            n = len(name)
            if n > room or n < best_len:
                continue
            window = text[pos : pos + n]
            if Hamming.distance(window, name, score_cutoff=1) > 1:
                continue
            if not _CJK_ONLY.fullmatch(window) or not _typo_ok(window, name, div.level):
                continue
            if n > best_len:
                best, best_len = [div], n
            elif n == best_len:
                best.append(div)
    if not best:
        return None
    floor = spans[-1].depth
    divs = tuple(d for d in best if d.depth > floor)
    if not divs:
        return None
    return Span(pos, pos + best_len, "fuzzy", divs, min(d.depth for d in divs))


def _generic(
    text: str, pos: int, spans: list[Span], by_start: dict[int, list[NameMatch]]
) -> Span | None:
    floor = spans[-1].depth if spans else -1
    best: Span | None = None
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
        # 人民大街九圣祠社区: a known name inside means the text before it is something else
        if any(
            hit.kind != "short" and any(d.depth > floor for d in hit.divisions)
            for i in range(pos + 1, m.end())
            for hit in by_start.get(i, ())
        ):
            continue
        best = Span(pos, m.end(), "generic", (), depth)
    return best


def _late(text: str, pos: int, matches: list[NameMatch], spans: list[Span]) -> Span | None:
    """A full division name after the street part (人民大街九圣祠社区) inside what was found."""
    coded = [s for s in spans if s.candidates]
    if not coded:
        return None
    floor = spans[-1].depth
    for m in matches:
        if m.start < pos or m.kind == "short":
            continue
        divs = tuple(
            d
            for d in m.divisions
            if d.depth > floor and any(is_within(d, p) for p in coded[-1].candidates)
        )
        if divs:
            return Span(m.start, m.end, m.kind, divs, min(d.depth for d in divs))
    return None


def read_admin(text: str, gaz: Gazetteer) -> tuple[list[Span], str]:
    """The division names in ``text`` and the text left for the grammar.

    Names are read from the start; when they stop, a full name of a division inside the
    last one found may still follow the street part (人民大街九圣祠社区), and reading
    resumes after it. Everything not read as a name is returned, in order, for the grammar.
    """
    matches = gaz.find(text)
    by_start: dict[int, list[NameMatch]] = {}
    full_starts: set[int] = set()
    for m in matches:
        by_start.setdefault(m.start, []).append(m)
        if m.kind != "short":
            full_starts.add(m.start)
    spans: list[Span] = []
    left: list[str] = []
    pos = 0
    while True:
        pos = _read_from(text, pos, gaz, spans, by_start, full_starts)
        late = _late(text, pos, matches, spans) if pos < len(text) else None
        if late is None:
            left.append(text[pos:])
            return spans, "".join(left)
        left.append(text[pos : late.start])
        spans.append(late)
        pos = late.end


def _read_from(
    text: str,
    pos: int,
    gaz: Gazetteer,
    spans: list[Span],
    by_start: dict[int, list[NameMatch]],
    full_starts: set[int],
) -> int:
    while pos < len(text) and (not spans or spans[-1].depth < 4):
        span = _exact(text, pos, by_start, spans, full_starts)
        if span is None or span.kind == "short":
            typo = _fuzzy(text, pos, gaz, spans)
            if typo is not None and (span is None or typo.end > span.end):
                span = typo
        if span is None:
            # a prefix written twice (浙江省杭州市浙江省杭州市) is no county named 浙江省杭州市
            repeated = _repeated(text, pos, spans)
            if repeated:
                pos += repeated
                continue
            span = _generic(text, pos, spans, by_start)
        if span is None:
            break
        spans.append(span)
        pos = span.end
    return pos


def _repeated(text: str, pos: int, spans: list[Span]) -> int:
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


def resolve(spans: list[Span]) -> list[tuple[Division, ...]]:
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
