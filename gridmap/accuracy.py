"""A labelled set of messy addresses, and a scorer for what a resolver made of them (pure).

:func:`generate_cases` writes addresses for the buildings of an
:class:`~gridmap.io.Interchange` the way people write them: full and partial prefixes,
Chinese numerals, full-width digits, 12-3-402 shorthand, one-character typos, missing
levels, names several places share, buildings and places that do not exist. Each
:class:`Case` knows what it *means*, and its :class:`Expected` answer is worked out from that
meaning and the data alone, never from a resolver: the buildings of the written divisions
that fit every written part. One fits: that building (and the unit, if it has it). Several
fit: ambiguous (with their grid, if they share one). None fits: the named compound, hamlet
or road (its grid, if it lies in one), else the finest written division.

A misspelt name means the known name one edit away, if exactly one is; one edit from
several is ambiguous. A name of two characters (after a generic 小区) is too short to
misspell: one changed character names some other place.

:func:`score` sorts each answer into one of four outcomes. A resolver's answer is
*confident* when it commits to a grid (``status == "ok"`` and ``grid`` set): the contract of
:class:`~gridmap.results.Resolution` is that ``grid`` is set only when it is certain enough to
act on. Then:

``correct``
    the expected building (and unit), or the expected grid where no finer answer exists;
``flagged``
    ambiguous, not found or a coarse division, where that is what the text supports;
``missed``
    neither right nor confidently wrong: an unconfident or coarser answer where a finer one
    was determinable;
``confident_wrong``
    a confident answer naming a wrong grid, building or unit.

>>> e = Expected("building", building_id="B1", grid_code="220102005004001")
>>> judge(e, Got("ok", "220102005004001", "B1"))
'correct'
>>> judge(e, Got("ok", "220102005004002", "B7"))
'confident_wrong'
>>> judge(e, Got("ambiguous", None))
'missed'
>>> judge(Expected("ambiguous"), Got("ambiguous", None))
'flagged'
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
import shapely
from rapidfuzz.distance import Levenshtein

__all__ = [
    "KINDS",
    "OUTCOMES",
    "Case",
    "Expected",
    "Got",
    "Score",
    "generate_cases",
    "got_from",
    "judge",
    "score",
]

Level = Literal[
    "unit", "building", "compound", "community", "township", "county", "city", "province",
    "ambiguous", "none",
]  # fmt: skip
Outcome = Literal["correct", "flagged", "missed", "confident_wrong"]
OUTCOMES: tuple[Outcome, ...] = ("correct", "flagged", "missed", "confident_wrong")
_ADMIN = ("province", "city", "county", "township", "village")
_FALLBACK_LEVEL: dict[str, Level] = {
    "village": "community",
    "township": "township",
    "county": "county",
    "city": "city",
    "province": "province",
}


@dataclass(frozen=True)
class Expected:
    """The answer a text supports: a level, and the building, unit and grid it pins down.

    ``grid_code`` is the one grid a confident answer may name (None: no grid is certain).
    """

    level: Level
    building_id: str | None = None
    unit_no: str | None = None
    grid_code: str | None = None

    @property
    def flag(self) -> bool:
        """Whether an unconfident answer (ambiguous, not found, coarse) is right."""
        return self.grid_code is None or self.level in (
            "ambiguous", "none", "township", "county", "city", "province",
        )  # fmt: skip

    def __str__(self) -> str:
        parts: list[str] = [self.level]
        parts += [f"building={self.building_id}"] if self.building_id else []
        parts += [f"unit={self.unit_no}"] if self.unit_no else []
        parts += [f"grid={self.grid_code}"] if self.grid_code else []
        return " ".join(parts)


@dataclass(frozen=True)
class Case:
    """One labelled address: its text, the variant it exercises, and its expected answer."""

    text: str
    kind: str
    expected: Expected


@dataclass(frozen=True)
class Got:
    """What the scorer needs of a resolver's answer (see :func:`got_from`)."""

    status: str
    grid_code: str | None
    building_id: str | None = None
    unit_no: str | None = None
    level: str = ""
    confidence: float = 1.0
    candidates: tuple[str, ...] = ()

    def __str__(self) -> str:
        s = f"{self.status} {self.level} {self.confidence:g}"
        s += f" grid={self.grid_code}" if self.grid_code else ""
        s += f" building={self.building_id}" if self.building_id else ""
        s += f" unit={self.unit_no}" if self.unit_no else ""
        if self.candidates:
            more = f" +{len(self.candidates) - 4}" if len(self.candidates) > 4 else ""
            s += f" candidates={','.join(self.candidates[:4])}{more}"
        return s


def got_from(result: Any) -> Got:
    """A :class:`Got` from a :class:`~gridmap.results.Resolution`, or from an error in its place."""
    if isinstance(result, Exception):
        return Got("error", None, level=getattr(result, "code", type(result).__name__))
    cands = tuple(
        c.building.id if c.building is not None else (c.grid.code if c.grid is not None else "?")
        for c in result.candidates
    )
    return Got(
        status=result.status,
        grid_code=result.grid.code if result.grid is not None else None,
        building_id=result.building.id if result.building is not None else None,
        unit_no=result.unit.unit_no if result.unit is not None else None,
        level=result.match_level,
        confidence=result.confidence,
        candidates=cands,
    )


def judge(expected: Expected, got: Got, min_confidence: float = 0.0) -> Outcome:
    """The outcome of one answer (see the module docstring).

    ``min_confidence`` raises the bar for "confident" above committing to a grid.
    """
    confident = (
        got.status == "ok" and got.grid_code is not None and got.confidence >= min_confidence
    )
    if not confident:
        return "flagged" if expected.flag else "missed"
    if got.grid_code != expected.grid_code:
        return "confident_wrong"
    if got.building_id is not None and got.building_id != expected.building_id:
        return "confident_wrong"
    if got.unit_no is not None and got.unit_no != expected.unit_no:
        return "confident_wrong"
    if (expected.building_id and not got.building_id) or (expected.unit_no and not got.unit_no):
        return "missed"
    return "correct"


@dataclass
class Score:
    """Outcome counts per variant kind, and every case not right."""

    counts: dict[str, dict[Outcome, int]] = field(default_factory=dict)
    failures: list[tuple[Case, Got, Outcome]] = field(default_factory=list)

    def total(self, kind: str | None = None) -> dict[Outcome, int]:
        rows = [self.counts[kind]] if kind else list(self.counts.values())
        return {o: sum(r[o] for r in rows) for o in OUTCOMES}

    def ok_rate(self, kind: str | None = None) -> float:
        """Share of cases answered correctly or correctly flagged."""
        t = self.total(kind)
        n = sum(t.values())
        return (t["correct"] + t["flagged"]) / n if n else 1.0

    def table(self) -> str:
        """A Markdown table: one row per kind, then the total."""
        head = "| variant | cases | correct | flagged | missed | confident wrong | correct or flagged |"
        lines = [head, "|---|---:|---:|---:|---:|---:|---:|"]
        for kind in [*sorted(self.counts), None]:
            t = self.total(kind)
            name = kind or "**all**"
            lines.append(
                f"| {name} | {sum(t.values())} | {t['correct']} | {t['flagged']} | "
                f"{t['missed']} | {t['confident_wrong']} | {100 * self.ok_rate(kind):.1f}% |"
            )
        return "\n".join(lines)


def score(cases: Sequence[Case], results: Iterable[Any], min_confidence: float = 0.0) -> Score:
    """Judge each resolver result (a Resolution, an error, or a :class:`Got`) against its case."""
    out = Score()
    for case, result in zip(cases, results, strict=True):
        got = result if isinstance(result, Got) else got_from(result)
        outcome = judge(case.expected, got, min_confidence)
        row = out.counts.setdefault(case.kind, dict.fromkeys(OUTCOMES, 0))
        row[outcome] += 1
        if outcome in ("missed", "confident_wrong"):
            out.failures.append((case, got, outcome))
    return out


# ----------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class _Building:
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


def _stem(name: str) -> str:
    return name[:-2] if name.endswith("小区") and len(name) > 3 else name


def _typo_of(written: str, known: str) -> bool:
    a, b = _stem(written), _stem(known)
    if min(len(a), len(b)) < 3 or Levenshtein.distance(a, b, score_cutoff=1) > 1:
        return False
    return not any(c.isdigit() for c in set(a) ^ set(b))


class _Index:
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
        self.buildings: list[_Building] = []
        for i, r in enumerate(data.buildings.itertuples(index=False)):
            self.buildings.append(
                _Building(
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
        self.by_comm: dict[str, list[_Building]] = {}
        self.by_name: dict[str, dict[str, list[_Building]]] = {"compound": {}, "hamlet": {}}
        self.by_road: dict[tuple[str | None, str | None], list[_Building]] = {}
        for b in self.buildings:
            self.by_comm.setdefault(b.community, []).append(b)
            for attr in ("compound", "hamlet"):
                if (name := getattr(b, attr)) is not None:
                    self.by_name[attr].setdefault(_stem(name), []).append(b)
            if b.road is not None:
                self.by_road.setdefault((b.road, b.house), []).append(b)
        self.urban = [b for b in self.buildings if b.compound and not b.hamlet and b.grid]
        self.rural = [b for b in self.buildings if b.hamlet and b.house and b.grid]
        self._scopes: dict[frozenset[tuple[str, str]], frozenset[str]] = {}
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

    def named(self, written: str, comms: frozenset[str], attr: str = "compound") -> list[_Building]:
        """Buildings of the places in ``comms`` a written name means: exact, else one typo away."""
        names = self.by_name[attr]
        exact = [b for b in names.get(_stem(written), ()) if b.community in comms]
        if exact:
            return exact
        return [
            b
            for key, bs in names.items()
            if _typo_of(written, key)
            for b in bs
            if b.community in comms
        ]


@dataclass
class _Meaning:
    """What an address says, whatever its spelling."""

    divisions: dict[str, str] = field(default_factory=dict)
    compound: str | None = None
    road: str | None = None
    house: str | None = None
    hamlet: str | None = None
    group: str | None = None
    building: str | None = None
    unit: str | None = None


def _common_grid(buildings: Iterable[_Building]) -> str | None:
    grids = {b.grid for b in buildings}
    return grids.pop() if len(grids) == 1 else None


def _both(a: list[_Building] | None, b: list[_Building]) -> list[_Building]:
    if a is None:
        return b
    ids = {x.id for x in b}
    return [x for x in a if x.id in ids]


def label(m: _Meaning, idx: _Index) -> Expected:
    """The answer ``m`` supports in the data (see the module docstring)."""
    comms = idx.scope(m.divisions)
    named: list[_Building] | None = None
    if m.compound is not None:
        named = idx.named(m.compound, comms)
    if m.hamlet is not None:
        named = _both(named, idx.named(m.hamlet, comms, "hamlet"))
    if m.road is not None:
        named = _both(
            named, [b for b in idx.by_road.get((m.road, m.house), ()) if b.community in comms]
        )
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
    for lvl in reversed(_ADMIN):
        if lvl in m.divisions:
            grids = {g for c in comms for g in idx.grids_of.get(c, ())}
            one = grids.pop() if len(grids) == 1 else None
            if lvl == "village" and len(comms) > 1:
                return Expected("ambiguous", grid_code=one)
            return Expected(_FALLBACK_LEVEL[lvl], grid_code=one)
    return Expected("none")


# ----------------------------------------------------------------------------- spelling

_CN = "〇一二三四五六七八九"
_FULLWIDTH = str.maketrans(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-# ",
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ－＃　",
)
# characters people type for one another (same or close sound, or look)
_SWAPS = dict(
    pair.split(":")
    for pair in (
        "园:圆 苑:院 家:佳 嘉:家 佳:家 花:华 华:花 庭:亭 居:局 城:成 景:京 锦:金 阳:杨 光:广 "
        "福:富 富:福 祥:翔 和:合 康:抗 乐:勒 安:案 盛:胜 泰:太 丽:利 翠:萃 湖:胡 绿:律 桂:贵 "
        "枫:丰 松:送 柳:留 清:青 博:波 雅:亚 星:兴 河:合 瑞:锐 晨:辰 曙:署 新:欣 兴:星 隆:龙 "
        "宏:洪 达:大 书:树 香:乡 学:雪 府:付 紫:子 荆:京 世:市 纪:记 春:纯 南:楠 北:贝 银:音 "
        "东:冬 鸿:红 运:云 吉:基 谐:协 都:督 侨:桥 海:还 韵:运 恒:横 金:今 名:明 公:工 寓:遇 "
        "珠:朱 方:芳 色:瑟 平:苹 幸:性 长:常 青:清 天:田 顺:舜 明:名 溪:西 林:琳 山:珊 泉:全"
    ).split()
)
_INVENTED = (
    "翡翠名城", "御景湾", "碧水蓝天", "紫金华府", "星海名筑", "枫丹白露", "万象新天",
    "龙湖天街", "融创壹号", "水岸春天", "香榭丽舍", "天鹅堡", "金地名京", "蓝山国际",
)  # fmt: skip
_ELSEWHERE = (
    "北京市朝阳区建国路88号", "上海市浦东新区世纪大道100号", "辽宁省沈阳市和平区南京北街8号",
    "黑龙江省哈尔滨市南岗区西大直街92号", "广州市天河区体育西路1号3栋", "查无此地", "abc",
    "12345", "不知道", "火星基地7号楼",
)  # fmt: skip


def _cn(n: int) -> str:
    """1-99 counted in Chinese numerals."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN[tens] + "十")
    return head + (_CN[ones] if ones or not tens else "")


def _digits_cn(s: str, zero: str = "〇") -> str:
    return "".join(zero if c == "0" else _CN[int(c)] if c.isdigit() else c for c in s)


class _Writer:
    """Spells meanings in the many ways people write them."""

    def __init__(self, idx: _Index, rng: random.Random) -> None:
        self.idx, self.rng = idx, rng

    def prefix(
        self, village: str, levels: Sequence[str], style: str = "name"
    ) -> tuple[str, dict[str, str]]:
        chain = self.idx.chain[village]
        text, written = "", {}
        for lvl in levels:
            d = self.idx.div[chain[lvl]]
            name = str(d["name"])
            written[lvl] = name
            form = name
            if style == "official" and d["official"]:
                form = str(d["official"])
            elif (
                style == "short"
                and lvl in ("city", "county")
                and name[-1] in "市区"
                and len(name) == 3
            ):
                form = name[:-1] if name != "吉林市" else name
            elif style == "mixed":
                form = self.rng.choice([name, str(d["official"] or name)])
            text += form
        return text, written

    def levels(self) -> list[str]:
        """A random proper subset of the division levels, in order (maybe none)."""
        k = self.rng.randint(0, len(_ADMIN) - 1)
        return sorted(self.rng.sample(_ADMIN, k), key=_ADMIN.index)

    def room(self, b: _Building) -> str:
        return f"{self.rng.randint(1, max(b.floors, 1))}{self.rng.randint(1, 4):02d}"

    def body(self, b: _Building, unit: str, style: str) -> str:
        """Building, unit and room, in one of several styles."""
        r = self.rng
        num = str(b.number)
        room = self.room(b) if r.random() < 0.6 else ""
        if style == "plain":
            return f"{num}栋{unit}单元" + (f"{room}室" if room else "")
        if style == "cn":
            bn = _cn(int(num)) if num.isdigit() else num
            bw = r.choice(["栋", "号楼", "幢"]) if num.isdigit() else "座"
            tail = _digits_cn(room, r.choice("〇零")) + r.choice(["室", ""]) if room else ""
            return f"{bn}{bw}{_cn(int(unit))}单元{tail}"
        if style == "short":
            room = room or self.room(b)
            return f"{num}-{unit}-{room}" + r.choice(["", "室", "号"])
        forms = ["号楼", "幢", "#", "号"] if num.isdigit() else ["座", "栋"]
        tail = r.choice(["单元", "门"])
        return f"{num}{r.choice(forms)}{unit}{tail}" + (f"{room}室" if room else "")


# ----------------------------------------------------------------------------- variants

_Gen = Callable[[_Writer], tuple[str, _Meaning] | None]


def _urban(w: _Writer, pred: Callable[[_Building], bool] = lambda b: True) -> _Building | None:
    for _ in range(1000 if w.idx.urban else 0):
        b = w.rng.choice(w.idx.urban)
        if pred(b):
            return b
    return None


def _standard(levels: str, style: str, prefix_style: str = "name", sep: str = "") -> _Gen:
    def gen(w: _Writer) -> tuple[str, _Meaning] | None:
        b = _urban(w)
        if b is None or b.compound is None:
            return None
        lv = list(_ADMIN) if levels == "full" else [] if levels == "none" else w.levels()
        pre, written = w.prefix(b.community, lv, prefix_style)
        unit = w.rng.choice(b.units)
        body = w.body(b, unit, style)
        name = b.compound + (
            "小区" if sep and w.rng.random() < 0.3 and b.compound[-2:] != "小区" else ""
        )
        text = sep.join(p for p in (pre, name, body) if p) if sep else pre + name + body
        if style == "fullwidth":
            text = (pre + name + w.body(b, unit, "plain")).translate(_FULLWIDTH)
        return text, _Meaning(written, b.compound, building=b.number, unit=unit)

    return gen


def _noisy(w: _Writer) -> tuple[str, _Meaning] | None:
    b = _urban(w)
    if b is None or b.compound is None:
        return None
    pre, written = w.prefix(b.community, w.levels(), w.rng.choice(["official", "mixed", "short"]))
    unit = w.rng.choice(b.units)
    sep = w.rng.choice([" ", "，", ",", "、", "  ", "-"])
    parts = [
        pre,
        b.compound + w.rng.choice(["", "小区"] if not b.compound.endswith("小区") else [""]),
    ]
    text = sep.join(p for p in parts if p) + sep + w.body(b, unit, "plain")
    return text, _Meaning(written, b.compound, building=b.number, unit=unit)


def _typo(name: str, rng: random.Random) -> str:
    spots = [i for i, c in enumerate(name) if not c.isdigit() and c != "期"]
    if name.endswith("小区") and len(name) > 3:
        spots = [i for i in spots if i < len(name) - 2]
    i = rng.choice(spots)
    roll = rng.random()
    if roll < 0.7 and name[i] in _SWAPS:
        return name[:i] + _SWAPS[name[i]] + name[i + 1 :]
    if roll < 0.85 and len(name) > 3:
        return name[:i] + name[i + 1 :]
    return name[: i + 1] + name[i] + name[i + 1 :]


def _typo_compound(w: _Writer) -> tuple[str, _Meaning] | None:
    b = _urban(w)
    if b is None or b.compound is None:
        return None
    pre, written = w.prefix(b.community, w.levels())
    name = _typo(b.compound, w.rng)
    unit = w.rng.choice(b.units)
    return pre + name + w.body(b, unit, "plain"), _Meaning(
        written, name, building=b.number, unit=unit
    )


def _missing(w: _Writer) -> tuple[str, _Meaning] | None:
    b = _urban(w)
    if b is None or b.compound is None:
        return None
    unit = w.rng.choice(b.units)
    roll = w.rng.random()
    if roll < 0.4:  # no building: the compound alone
        pre, written = w.prefix(b.community, w.levels())
        return pre + b.compound, _Meaning(written, b.compound)
    if roll < 0.7:  # no compound: a building number in a community
        pre, written = w.prefix(
            b.community, ["county", "township", "village"][w.rng.randint(0, 2) :]
        )
        return pre + f"{b.number}栋{unit}单元", _Meaning(written, building=b.number, unit=unit)
    lv = [w.rng.choice(["province", "city", "county"]), "village"]  # middle levels skipped
    pre, written = w.prefix(b.community, lv)
    text = pre + b.compound + w.body(b, unit, "plain")
    return text, _Meaning(written, b.compound, building=b.number, unit=unit)


def _road(with_building: bool, with_compound: bool = False) -> _Gen:
    def gen(w: _Writer) -> tuple[str, _Meaning] | None:
        b = _urban(w, lambda b: b.road is not None and b.house is not None)
        if b is None:
            return None
        pre, written = w.prefix(b.community, w.levels())
        m = _Meaning(written, road=b.road, house=b.house)
        text = f"{pre}{b.road}{b.house}号"
        if with_compound:
            text += str(b.compound)
            m.compound = b.compound
        if with_building:
            m.unit = w.rng.choice(b.units)
            m.building = b.number
            text += w.body(b, m.unit, w.rng.choice(["plain", "short", "forms"]))
        return text, m

    return gen


def _pairs(idx: _Index) -> list[_Building]:
    """Buildings of compounds that share a community and all but one character with another."""
    if "pairs" in idx.memo:
        return list(idx.memo["pairs"])
    names: dict[str, set[str]] = {}
    for b in idx.buildings:
        if b.compound and not b.hamlet:
            names.setdefault(b.community, set()).add(b.compound)
    close = {
        (c, a)
        for c, ns in names.items()
        for a in ns
        for z in ns
        if a != z and len(a) == len(z) and Levenshtein.distance(a, z) == 1
    }
    idx.memo["pairs"] = [b for b in idx.urban if (b.community, b.compound) in close]
    return list(idx.memo["pairs"])


def _confusable(w: _Writer) -> tuple[str, _Meaning] | None:
    pool = _pairs(w.idx)
    if not pool:
        return None
    b = w.rng.choice(pool)
    assert b.compound is not None
    pre, written = w.prefix(b.community, w.levels())
    unit = w.rng.choice(b.units)
    name = b.compound
    if w.rng.random() < 0.3:  # the character that tells the pair apart, misspelt
        twin = next(
            z.compound
            for z in w.idx.by_comm[b.community]
            if z.compound
            and len(z.compound) == len(name)
            and Levenshtein.distance(z.compound, name) == 1
        )
        i = next(k for k, (x, y) in enumerate(zip(name, twin, strict=True)) if x != y)
        name = (
            name[:i]
            + w.rng.choice([c for c in "佳嘉华苑" if c not in (name[i], twin[i])])
            + name[i + 1 :]
        )
    return pre + name + w.body(b, unit, "plain"), _Meaning(
        written, name, building=b.number, unit=unit
    )


def _shared(idx: _Index) -> tuple[dict[tuple[str, str], int], list[_Building], list[_Building]]:
    """Division name counts; buildings under a shared division name; those of shared compounds."""
    if "shared" not in idx.memo:
        counts: dict[tuple[str, str], int] = {}
        for d in idx.div.values():
            key = (str(d["level"]), str(d["name"]))
            counts[key] = counts.get(key, 0) + 1
        shared = [
            b for b in idx.buildings
            if b.grid and any(
                counts[(lvl, str(idx.div[idx.chain[b.community][lvl]]["name"]))] > 1
                for lvl in ("township", "village") if lvl in idx.chain[b.community]
            )
        ]  # fmt: skip
        where: dict[str, set[str]] = {}
        for b in idx.urban:
            where.setdefault(str(b.compound), set()).add(b.community)
        many = [b for b in idx.urban if len(where[str(b.compound)]) > 1]
        idx.memo["shared"] = (counts, shared, many)
    return idx.memo["shared"]  # type: ignore[no-any-return]


def _shared_name(w: _Writer) -> tuple[str, _Meaning] | None:
    idx, r = w.idx, w.rng
    counts, shared, many = _shared(idx)
    roll = r.random()
    if shared and roll < 0.5:
        b = r.choice(shared)
        lvl = next(
            lvl for lvl in ("village", "township")
            if counts[(lvl, str(idx.div[idx.chain[b.community][lvl]]["name"]))] > 1
        )  # fmt: skip
        pre, written = w.prefix(b.community, [lvl])
        if r.random() < 0.3 or not b.units:
            return pre, _Meaning(written)
        if b.hamlet:
            return pre + f"{b.hamlet}{b.house}号", _Meaning(written, hamlet=b.hamlet, house=b.house)
        unit = r.choice(b.units)
        body = w.body(b, unit, "plain")
        return pre + f"{b.compound}{body}", _Meaning(
            written, b.compound, building=b.number, unit=unit
        )
    # a compound name found in several communities, written without a prefix
    if not many:
        return None
    b = r.choice(many)
    unit = r.choice(b.units)
    return f"{b.compound}{w.body(b, unit, 'plain')}", _Meaning(
        {}, b.compound, building=b.number, unit=unit
    )


def _no_building(w: _Writer) -> tuple[str, _Meaning] | None:
    b = _urban(w)
    if b is None or b.compound is None:
        return None
    have = {z.number for z in w.idx.by_comm[b.community] if z.compound == b.compound}
    number = w.rng.choice([n for n in [*map(str, range(9, 31)), "E", "F"] if n not in have])
    pre, written = w.prefix(b.community, w.levels())
    unit = w.rng.choice(b.units)
    text = pre + b.compound + f"{number}栋{unit}单元"
    return text, _Meaning(written, b.compound, building=number, unit=unit)


def _no_unit(w: _Writer) -> tuple[str, _Meaning] | None:
    b = _urban(w)
    if b is None or b.compound is None:
        return None
    unit = str(w.rng.randint(len(b.units) + 1, 9))
    pre, written = w.prefix(b.community, w.levels())
    text = pre + b.compound + f"{b.number}栋{unit}单元"
    return text, _Meaning(written, b.compound, building=b.number, unit=unit)


def _no_compound(w: _Writer) -> tuple[str, _Meaning] | None:
    b = _urban(w)
    if b is None:
        return None
    lv = w.levels()
    pre, written = w.prefix(b.community, lv if lv else ["village"])
    comms = w.idx.scope(written)
    names = [n for n in _INVENTED if not w.idx.named(n, comms)]
    name, unit = w.rng.choice(names), w.rng.choice(b.units)
    text = pre + name + f"{b.number}栋{unit}单元"
    return text, _Meaning(written, name, building=b.number, unit=unit)


def _no_place(w: _Writer) -> tuple[str, _Meaning] | None:
    if w.rng.random() < 0.6:
        return w.rng.choice(_ELSEWHERE), _Meaning()
    b = _urban(w)
    if b is None:
        return None
    pre, written = w.prefix(b.community, w.levels() or ["county"])
    return pre + "不存在路999号", _Meaning(written, road="不存在路", house="999")


def _rural(by_group: bool) -> _Gen:
    def gen(w: _Writer) -> tuple[str, _Meaning] | None:
        if not w.idx.rural:
            return None
        b = w.rng.choice(w.idx.rural)
        lv = w.levels()
        # a villagers' group is numbered within its village: without the village it means nothing
        if "village" not in lv and (by_group or w.rng.random() < 0.7):
            lv.append("village")
        pre, written = w.prefix(b.community, lv)
        if by_group and b.group:
            g = w.rng.choice(
                [f"{b.group}组", f"第{_cn(int(b.group))}组", f"{b.group}社", f"第{b.group}村民小组"]
            )
            return f"{pre}{g}{b.house}号", _Meaning(written, group=b.group, house=b.house)
        return f"{pre}{b.hamlet}{b.house}号", _Meaning(written, hamlet=b.hamlet, house=b.house)

    return gen


#: variant kind -> (weight, generator); the weights set the mix of :func:`generate_cases`
KINDS: dict[str, tuple[int, _Gen]] = {
    "full_prefix": (8, _standard("full", "plain")),
    "partial_prefix": (10, _standard("some", "plain")),
    "no_prefix": (6, _standard("none", "plain")),
    "official_short_names": (6, _noisy),
    "chinese_numerals": (6, _standard("some", "cn")),
    "fullwidth_digits": (6, _standard("some", "fullwidth")),
    "shorthand_12-3-402": (6, _standard("some", "short")),
    "building_forms": (6, _standard("some", "forms")),
    "spaces_punctuation": (6, _standard("some", "plain", sep=" ")),
    "typo_compound": (8, _typo_compound),
    "missing_levels": (6, _missing),
    "road_house_building": (6, _road(True)),
    "road_house_only": (3, _road(False)),
    "road_and_compound": (3, _road(True, True)),
    "confusable_compounds": (5, _confusable),
    "shared_names": (6, _shared_name),
    "no_such_building": (4, _no_building),
    "no_such_unit": (3, _no_unit),
    "no_such_compound": (3, _no_compound),
    "no_such_place": (3, _no_place),
    "rural_hamlet_house": (4, _rural(False)),
    "rural_group_house": (2, _rural(True)),
}


def generate_cases(data: Any, n: int = 2500, seed: int = 0) -> list[Case]:
    """About ``n`` labelled addresses for the buildings of ``data`` (an Interchange), seeded.

    Every kind of :data:`KINDS` gets its share of ``n`` by weight; a kind the data cannot
    support (no rural buildings, say) is left out.

    >>> from geodata.sample import generate_sample
    >>> cases = generate_cases(generate_sample("community"), n=200, seed=1)
    >>> full = next(c for c in cases if c.kind == "full_prefix")
    >>> full.text
    '吉林省长春市南关区长通街道龙兴社区明珠家园1栋5单元'
    >>> print(full.expected)
    unit building=B2201020050040005 unit=5 grid=220102005004002
    """
    idx = _Index(data)
    rng = random.Random(seed)
    w = _Writer(idx, rng)
    total = sum(weight for weight, _ in KINDS.values())
    cases: list[Case] = []
    for kind, (weight, gen) in KINDS.items():
        want = max(1, round(n * weight / total))
        for _ in range(want):
            made = gen(w)
            if made is None:
                break
            text, meaning = made
            cases.append(Case(text, kind, label(meaning, idx)))
    return cases
