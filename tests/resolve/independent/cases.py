"""Labelled addresses for the independent region, written with this fixture's own rules.

Each generator below writes one kind of address for a place of the region the way residents
and clerks write them, and labels it with :func:`label`, which reads only the region's
description (:class:`~tests.resolve.independent.region.Region`), never the resolver:

* the *scope* is the finest imported division the text names (or, where it names a
  division that is not imported, the finest imported one written before it: the answer is
  then that division, with no grid);
* the *places* are the scope's buildings whose compound/hamlet, road and group agree with
  the text; the *matches* those whose house number and building number agree too;
* one match: the building (``unit`` when it has the written unit); several matches of one
  compound, hamlet or road number: ``compound``; matches in several: ``ambiguous``; no
  match but a named compound or hamlet: ``compound`` (or ``ambiguous`` for several of that
  name); nothing named: the scope's level. ``grid_code`` is set where every candidate lies
  in one grid.

Kinds (``Case.kind``) name the writing rule or the hard class, so that failures can be
reported per class: :data:`KINDS`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from gridmap.testing.scoring import Case, Expected, Level
from tests.resolve.independent.region import Building, Division, Region, house_key

# ----------------------------------------------------------------------------- labelling


@dataclass(frozen=True)
class Query:
    """What an address says, as the labeller compares it with the region."""

    scope: str | None  # finest imported division code written; None: none written
    place: str | None = None  # compound or hamlet name (as meant, before any typo)
    road: str | None = None
    house: str | None = None  # house number without 号
    group: str | None = None
    building: str | None = None
    unit: str | None = None


LEVEL_OF = {"village": "community"}


def _division_level(region: Region, code: str | None) -> Level:
    if code is None:
        return "none"
    level = region.divisions[code].level
    return LEVEL_OF.get(level, level)  # type: ignore[return-value]


def _one_grid(buildings: list[Building]) -> str | None:
    grids = {b.grid for b in buildings}
    return grids.pop() if len(grids) == 1 else None


def label(region: Region, q: Query, foreign: bool = False) -> Expected:
    """The answer ``q`` supports in ``region`` (see the module docstring)."""
    if foreign:
        return Expected(_division_level(region, q.scope))
    prefix = region.divisions[q.scope].prefix if q.scope else ""
    scope = [b for b in region.buildings if b.community.startswith(prefix)]
    places = [
        b
        for b in scope
        if (q.place is None or b.place_name == q.place)
        and (q.road is None or b.road == q.road)
        and (q.group is None or b.group_no == q.group)
    ]
    numbers = q.house is not None or q.building is not None
    matches = [
        b
        for b in places
        if (q.house is None or house_key(b.house_number) == q.house)
        and (q.building is None or b.building_no == q.building)
    ]
    if len(matches) == 1:
        b = matches[0]
        if q.unit is not None and q.unit in b.units:
            return Expected("unit", b.id, q.unit, b.grid)
        return Expected("building", b.id, None, b.grid)
    if matches:
        if len({b.place for b in matches}) == 1:
            return Expected("compound", grid_code=_one_grid(matches))
        return Expected("ambiguous", grid_code=_one_grid(matches))
    if q.place is not None and places and numbers:
        if len({b.place for b in places}) == 1:
            return Expected("compound", grid_code=_one_grid(places))
        return Expected("ambiguous", grid_code=_one_grid(places))
    return Expected(_division_level(region, q.scope))


# ----------------------------------------------------------------------------- writing

CN_DIGITS = "零一二三四五六七八九"
FULL_WIDTH = str.maketrans(
    "0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "０１２３４５６７８９－ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ",
)


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals (12 -> 十二, 20 -> 二十).

    >>> cn_number(3), cn_number(10), cn_number(12), cn_number(26)
    ('三', '十', '十二', '二十六')
    """
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


def full_width(text: str) -> str:
    return text.translate(FULL_WIDTH)


def _chain(region: Region, community: str) -> list[Division]:
    """The divisions from the province down to ``community``."""
    out = []
    code: str | None = community
    while code is not None:
        d = region.divisions[code]
        out.append(d)
        code = d.parent
    return out[::-1]


def _name(rng: random.Random, d: Division, form: str) -> str:
    if form == "short" and d.short:
        return d.short + " "
    if form == "official":
        return d.official
    if form == "alias" and d.aliases:
        return d.aliases[0]
    if form == "mixed":
        return _name(rng, d, rng.choice(("full", "full", "short", "official")))
    return d.name


def prefix(
    rng: random.Random, region: Region, b: Building, mode: str, lowest: str = "village"
) -> tuple[list[str], str | None]:
    """The divisions written before a building's own part, and the finest of them.

    ``mode``: ``full`` (every level), ``dropped`` (a random subset, possibly none),
    ``short``, ``official``, ``alias`` (every level in that form where it has one).
    """
    chain = _chain(region, b.community)
    order = ["province", "city", "county", "township", "village"]
    chain = [d for d in chain if order.index(d.level) <= order.index(lowest)]
    if mode == "dropped":
        chain = [d for d in chain if rng.random() < 0.45]
    form = {"full": "full", "dropped": "mixed"}.get(mode, mode)
    parts = [_name(rng, d, form) for d in chain]
    return parts, (chain[-1].code if chain else None)


def _join(parts: list[str], spaced: bool = False) -> str:
    text = (" " if spaced else "").join(p.strip() if spaced else p for p in parts if p)
    return " ".join(text.split()) if spaced else text.strip()


def _bword(rng: random.Random, no: str, kind: str = "plain") -> str:
    if kind == "plain":
        return f"{no}栋"
    word = rng.choice(("号楼", "幢", "座", "#", "栋"))
    return f"{no}{word}"


def _room(rng: random.Random) -> str:
    floor = rng.randint(1, 6)
    return rng.choice(("", "", f"{floor}0{rng.randint(1, 2)}室", f"{floor}0{rng.randint(1, 4)}"))


# ----------------------------------------------------------------------------- picking


def _urban(region: Region) -> list[Building]:
    return [b for b in region.buildings if b.compound and not b.rural and b.units]


def _rural(region: Region) -> list[Building]:
    return [b for b in region.buildings if b.rural]


def _road_houses(region: Region) -> list[Building]:
    return [b for b in region.buildings if b.road and not b.place_name]


def _pick(rng: random.Random, items: list[Building]) -> Building:
    return items[rng.randrange(len(items))]


Made = tuple[str, Expected]
Gen = Callable[[random.Random, Region], "Made | None"]


def _unit_body(rng: random.Random, b: Building, unit: str, style: str = "plain") -> list[str]:
    assert b.compound
    assert b.building_no
    bno = b.building_no
    if style == "cn" and bno.isdigit():
        bpart = rng.choice((f"{cn_number(int(bno))}号楼", f"{cn_number(int(bno))}栋", f"{bno}栋"))
    else:
        bpart = _bword(rng, bno, "any" if style == "word" else "plain")
    upart = f"{cn_number(int(unit))}单元" if style == "cn" else f"{unit}单元"
    if style == "word" and rng.random() < 0.3:
        upart = f"{unit}门"
    return [b.compound, bpart, upart, _room(rng)]


def _urban_case(mode: str, style: str = "plain", spaced: bool = False) -> Gen:
    def gen(rng: random.Random, region: Region) -> Made:
        b = _pick(rng, _urban(region))
        unit = rng.choice(b.units)
        parts, scope = prefix(rng, region, b, mode)
        text = _join([*parts, *_unit_body(rng, b, unit, style)], spaced)
        return text, label(region, Query(scope, b.compound, building=b.building_no, unit=unit))

    return gen


def _fullwidth(rng: random.Random, region: Region) -> Made:
    text, e = _urban_case("dropped")(rng, region)  # type: ignore[misc]
    return full_width(text), e


def _shorthand(rng: random.Random, region: Region) -> Made | None:
    cands = [b for b in _urban(region) if (b.building_no or "").isdigit()]
    b = _pick(rng, cands)
    unit = rng.choice(b.units)
    parts, scope = prefix(rng, region, b, "dropped")
    room = f"{rng.randint(1, 6)}0{rng.randint(1, 3)}"
    tail = rng.choice(("", "", "室"))
    text = _join([*parts, f"{b.compound}{b.building_no}-{unit}-{room}{tail}"])
    return text, label(region, Query(scope, b.compound, building=b.building_no, unit=unit))


def _compound_only(rng: random.Random, region: Region) -> Made:
    b = _pick(rng, _urban(region))
    parts, scope = prefix(rng, region, b, rng.choice(("full", "dropped")))
    return _join([*parts, b.compound or ""]), label(region, Query(scope, b.compound))


def _road_house(rng: random.Random, region: Region) -> Made:
    b = _pick(rng, _road_houses(region))
    assert b.road
    assert b.house_number
    parts, scope = prefix(rng, region, b, "dropped")
    number = house_key(b.house_number)
    unit = rng.choice(b.units) if b.units and rng.random() < 0.5 else None
    # without 号 only at the end: 迎春路12 1单元 would read as 迎春路121单元
    bare = (number,) if unit is None else ()
    written = rng.choice((f"{number}号", f"{number}号", *bare, f" {number} 号"))
    text = _join([*parts, b.road, written, f"{unit}单元" if unit else ""])
    if rng.random() < 0.2:
        text = full_width(text)
    return text, label(region, Query(scope, road=b.road, house=number, unit=unit))


def _gated(region: Region) -> list[Building]:
    return [b for b in _urban(region) if b.road]


def _road_compound(rng: random.Random, region: Region) -> Made:
    b = _pick(rng, _gated(region))
    unit = rng.choice(b.units)
    parts, scope = prefix(rng, region, b, "dropped")
    number = house_key(b.house_number)
    name = b.compound if rng.random() < 0.5 else ""
    text = _join([*parts, f"{b.road}{number}号", name or "", f"{b.building_no}栋{unit}单元"])
    q = Query(scope, name or None, b.road, number, building=b.building_no, unit=unit)
    return text, label(region, q)


def _road_gate(rng: random.Random, region: Region) -> Made:
    b = _pick(rng, _gated(region))
    parts, scope = prefix(rng, region, b, "dropped")
    number = house_key(b.house_number)
    text = _join([*parts, f"{b.road}{number}号"])
    return text, label(region, Query(scope, road=b.road, house=number))


def _rural_hamlet(rng: random.Random, region: Region) -> Made:
    b = _pick(rng, _rural(region))
    parts, _ = prefix(rng, region, b, rng.choice(("full", "dropped")), lowest="township")
    village = region.divisions[b.community]
    text = _join([*parts, village.name, b.place_name or "", f"{b.house_number}号"])
    q = Query(b.community, b.place_name, house=b.house_number)
    return text, label(region, q)


def _hamlet_alone(rng: random.Random, region: Region) -> Made:
    b = _pick(rng, _rural(region))
    number = b.house_number or ""
    written = rng.choice((f"{number}号", f" {number}号", f" {full_width(number)}号"))
    text = _join([b.place_name or "", written])
    return text, label(region, Query(None, b.place_name, house=b.house_number))


def _group_words(rng: random.Random, group: int) -> str:
    return rng.choice(
        (f"{group}组", f"{cn_number(group)}组", f"第{cn_number(group)}组",
         f"第{cn_number(group)}村民小组", f"{group}社")
    )  # fmt: skip


def _rural_group(rng: random.Random, region: Region) -> Made:
    b = _pick(rng, [b for b in _rural(region) if b.group_no])
    assert b.group_no
    village = region.divisions[b.community]
    parts, _ = prefix(rng, region, b, "dropped", lowest="township")
    text = _join([*parts, village.name, _group_words(rng, int(b.group_no)), f"{b.house_number}号"])
    q = Query(b.community, group=b.group_no, house=b.house_number)
    return text, label(region, q)


def _ambiguous_group(rng: random.Random, region: Region) -> Made:
    """镇 + group + house: written at the township, where several villages have the group."""
    houses = [b for b in _rural(region) if b.group_no]
    seen: dict[tuple[str, str, str], set[str]] = {}
    for h in houses:
        key = (h.community[:9], h.group_no or "", h.house_number or "")
        seen.setdefault(key, set()).add(h.community)
    shared = [
        h
        for h in houses
        if len(seen[(h.community[:9], h.group_no or "", h.house_number or "")]) > 1
    ]
    b = _pick(rng, shared if shared and rng.random() < 0.8 else houses)
    assert b.group_no
    town = region.divisions[b.community[:9] + "000"]
    parts, _ = prefix(rng, region, b, "dropped", lowest="county")
    text = _join([*parts, town.name, _group_words(rng, int(b.group_no)), f"{b.house_number}号"])
    return text, label(region, Query(town.code, group=b.group_no, house=b.house_number))


def _hamlet_coarse(rng: random.Random, region: Region) -> Made:
    """A hamlet with no house number, or one it does not have."""
    b = _pick(rng, _rural(region))
    village = region.divisions[b.community]
    top = max(int(h.house_number or 0) for h in region.buildings if h.place == b.place)
    number = rng.choice(("", str(top + rng.randint(1, 30))))
    text = _join([village.name, b.place_name or "", f"{number}号" if number else ""])
    q = Query(b.community, b.place_name, house=number or None)
    return text, label(region, q)


#: divisions of Jilin (and beyond) that are not imported: (written, finest imported code)
FOREIGN_ABOVE = [
    ("长春市南关区", "220100000000"),
    ("长春市朝阳区", "220100000000"),
    ("吉林省长春市二道区", "220100000000"),
    ("长春市宽城区", "220100000000"),
    ("长春市双阳区", "220100000000"),
    ("榆树市", None),
    ("吉林省德惠市", "220000000000"),
    ("农安县", None),
    ("吉林市昌邑区", "220200000000"),
    ("吉林省吉林市船营区", "220200000000"),
    ("永吉县", None),
    ("吉林省蛟河市", "220000000000"),
    ("辽宁省沈阳市和平区", None),
    ("黑龙江省哈尔滨市南岗区", None),
]
#: real townships of the two districts that are not imported
FOREIGN_TOWNSHIPS = {
    "220106": ["春城街道", "西新镇", "林园街道"],
    "220211": ["泰山街道", "石井街道", "红旗街道"],
}
#: real communities of imported townships that are not imported
FOREIGN_COMMUNITIES = {
    "220106001000": ["和平社区", "延寿社区"],
    "220106005000": ["新竹社区", "芙蓉社区"],
    "220211002000": ["长江社区", "江滨社区"],
}


def _body(rng: random.Random, b: Building) -> list[str]:
    unit = rng.choice(b.units)
    return [b.compound or "", f"{b.building_no}栋", f"{unit}单元"]


def _foreign(rng: random.Random, region: Region) -> Made:
    b = _pick(rng, _urban(region))
    written, code = FOREIGN_ABOVE[rng.randrange(len(FOREIGN_ABOVE))]
    return _join([written, *_body(rng, b)]), label(region, Query(code), foreign=True)


def _foreign_township(rng: random.Random, region: Region) -> Made:
    b = _pick(rng, _urban(region))
    county = region.divisions[b.community[:6] + "000000"]
    town = rng.choice(FOREIGN_TOWNSHIPS[county.code[:6]])
    parts = [rng.choice(("", region.divisions[county.parent or ""].name)), county.name, town]
    return _join([*parts, *_body(rng, b)]), label(region, Query(county.code), foreign=True)


def _foreign_community(rng: random.Random, region: Region) -> Made:
    b = _pick(rng, [b for b in _urban(region) if b.community[:9] + "000" in FOREIGN_COMMUNITIES])
    town = region.divisions[b.community[:9] + "000"]
    comm = rng.choice(FOREIGN_COMMUNITIES[town.code])
    county = region.divisions[town.parent or ""]
    parts = [rng.choice(("", county.name)), town.name, comm]
    return _join([*parts, *_body(rng, b)]), label(region, Query(town.code), foreign=True)


def _city_province(rng: random.Random, region: Region) -> Made:
    """吉林市 (a city named like the province) written first, with or without 吉林省."""
    jilin = [b for b in _urban(region) if b.community.startswith("2202")]
    b = _pick(rng, jilin if rng.random() < 0.6 else _urban(region))
    unit = rng.choice(b.units)
    body = [*_body(rng, b)[:2], f"{unit}单元"]
    written, scope = rng.choice(
        (("吉林市丰满区", "220211000000"), ("吉林省吉林市", "220200000000"),
         ("吉林市", "220200000000"), ("吉林省", "220000000000"))
    )  # fmt: skip
    # a 长春市 compound written under 吉林市 supports only the city, unless 吉林市 has a
    # compound of the same name: label() looks for the place within the written scope
    q = Query(scope, b.compound, building=b.building_no, unit=unit)
    return _join([written, *body]), label(region, q)


def _ambiguous_road(rng: random.Random, region: Region) -> Made:
    """Road + building number, no house number: several compounds on the road may have it."""
    gated = _gated(region)
    by_road: dict[tuple[str, str], set[str]] = {}
    for g in gated:
        by_road.setdefault((g.road or "", g.building_no or ""), set()).add(g.compound or "")
    shared = [g for g in gated if len(by_road[(g.road or "", g.building_no or "")]) > 1]
    b = _pick(rng, shared if shared and rng.random() < 0.8 else gated)
    unit = rng.choice(b.units)
    parts, scope = prefix(rng, region, b, "dropped", lowest="county")
    text = _join([*parts, b.road or "", f"{b.building_no}栋", f"{unit}单元"])
    return text, label(region, Query(scope, road=b.road, building=b.building_no, unit=unit))


def _duplicates(region: Region) -> list[Building]:
    places: dict[str, set[str]] = {}
    for b in _urban(region):
        places.setdefault(b.compound or "", set()).add(b.community)
    return [b for b in _urban(region) if len(places[b.compound or ""]) > 1]


def _dup_compound(rng: random.Random, region: Region) -> Made:
    """A compound name found in two communities or two districts, with or without scope."""
    b = _pick(rng, _duplicates(region))
    unit = rng.choice(b.units)
    lowest = rng.choice(("village", "township", "county", "city"))
    parts, scope = prefix(rng, region, b, "dropped", lowest=lowest)
    text = _join([*parts, *_unit_body(rng, b, unit)])
    return text, label(region, Query(scope, b.compound, building=b.building_no, unit=unit))


# ----------------------------------------------------------------------------- typos

LOOK_ALIKE = {
    "华": "花", "花": "华", "园": "圆", "苑": "院", "家": "佳", "佳": "家", "庭": "亭",
    "锦": "景", "景": "京", "城": "成", "府": "符", "湖": "糊", "新": "欣", "欣": "新",
    "嘉": "佳", "丽": "莉", "翠": "萃", "雅": "亚", "居": "局", "顺": "舜", "和": "合",
    "康": "慷", "福": "富", "润": "闰", "瑞": "锐", "泰": "太", "盛": "胜", "鸿": "宏",
    "龙": "隆", "学": "雪", "松": "嵩", "桥": "乔", "枫": "风", "兴": "星", "邸": "底",
    "都": "督", "运": "云", "乐": "勒", "安": "按", "春": "椿", "晖": "辉", "通": "同",
    "荆": "京", "绣": "秀", "滨": "宾", "泉": "全", "御": "玉", "湾": "弯", "腾": "滕",
    "升": "昇", "临": "林", "桃": "淘", "源": "元", "银": "根", "杏": "杳",
}  # fmt: skip


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance.

    >>> edit_distance("和顺家园", "和舜家园"), edit_distance("和顺家园", "和顺园")
    (1, 1)
    """
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _all_names(region: Region) -> set[str]:
    names = {d.name for d in region.divisions.values()}
    names |= {a for d in region.divisions.values() for a in d.aliases}
    names |= {n for b in region.buildings for n in (b.compound, b.hamlet, b.road) if n}
    return names


def typo_of(name: str, rng: random.Random, names: set[str]) -> str | None:
    """A one-character look-alike of ``name`` that no other name in ``names`` is as close to.

    Names with a two-character stem before 小区 are left alone (too short to call a typo).
    """
    if len(name) < 4 or (len(name) == 4 and name.endswith("小区")):
        return None
    spots = [i for i, c in enumerate(name) if c in LOOK_ALIKE]
    if name.endswith("小区"):
        spots = [i for i in spots if i < len(name) - 2]
    rng.shuffle(spots)
    for i in spots:
        t = name[:i] + LOOK_ALIKE[name[i]] + name[i + 1 :]
        if t in names:
            continue
        if all(edit_distance(t, n) >= 2 for n in names if n != name):
            return t
    return None


def _typo(rng: random.Random, region: Region) -> Made | None:
    b = _pick(rng, _urban(region))
    t = typo_of(b.compound or "", rng, _all_names(region))
    if t is None:
        return None
    unit = rng.choice(b.units)
    parts, scope = prefix(rng, region, b, "dropped")
    text = _join([*parts, t, f"{b.building_no}栋", f"{unit}单元", _room(rng)])
    e = label(region, Query(scope, b.compound, building=b.building_no, unit=unit))
    return (text, e) if e.level in ("unit", "building") else None


# ----------------------------------------------------------------------------- numbers


def _number_absent(rng: random.Random, region: Region) -> Made | None:
    """A building number the compound does not have (skipped, or a slip of the pen)."""
    b = _pick(rng, _urban(region))
    have = {x.building_no for x in region.buildings if x.place == b.place}
    digits = sorted(int(n) for n in have if n and n.isdigit())
    if digits:
        gaps = [n for n in range(1, max(digits)) if str(n) not in have]
        slips = [int(f"{d}{d}") for d in digits] + [d + 10 for d in digits]
        wrong = str(rng.choice(gaps if gaps and rng.random() < 0.6 else slips))
    else:
        wrong = rng.choice([c for c in "ABCDEFG" if c not in have])
    if wrong in have:
        return None
    unit = rng.choice(b.units)
    parts, scope = prefix(rng, region, b, "dropped")
    text = _join([*parts, b.compound or "", f"{wrong}栋", f"{unit}单元"])
    return text, label(region, Query(scope, b.compound, building=wrong, unit=unit))


def _unit_absent(rng: random.Random, region: Region) -> Made:
    b = _pick(rng, _urban(region))
    unit = str(len(b.units) + rng.randint(1, 3))
    parts, scope = prefix(rng, region, b, "dropped")
    text = _join([*parts, b.compound or "", f"{b.building_no}栋", f"{unit}单元"])
    return text, label(region, Query(scope, b.compound, building=b.building_no, unit=unit))


def _community_building(rng: random.Random, region: Region) -> Made:
    """Community + building number, no compound: one building, or several."""
    b = _pick(rng, _urban(region))
    unit = rng.choice(b.units)
    parts, scope = prefix(rng, region, b, "full")
    parts = parts[rng.randint(0, 3) :]
    text = _join([*parts, f"{b.building_no}栋", f"{unit}单元"])
    return text, label(region, Query(scope, building=b.building_no, unit=unit))


def _alias(rng: random.Random, region: Region) -> Made:
    """Official names (…街道办事处, …社区居民委员会) or a township's newer name."""
    aliased = [b for b in _urban(region) if region.divisions[b.community[:9] + "000"].aliases]
    if rng.random() < 0.5 and aliased:
        b = _pick(rng, aliased)
        parts, scope = prefix(rng, region, b, "alias", lowest="township")
    else:
        b = _pick(rng, _urban(region))
        parts, scope = prefix(rng, region, b, "official")
        parts = parts[2:]
    unit = rng.choice(b.units)
    text = _join([*parts, *_unit_body(rng, b, unit)])
    return text, label(region, Query(scope, b.compound, building=b.building_no, unit=unit))


KINDS: dict[str, Gen] = {
    "full": _urban_case("full"),
    "dropped": _urban_case("dropped"),
    "short": _urban_case("short"),
    "spaced": _urban_case("dropped", spaced=True),
    "fullwidth": _fullwidth,
    "cn_numeral": _urban_case("dropped", style="cn"),
    "building_word": _urban_case("dropped", style="word"),
    "shorthand": _shorthand,
    "compound_only": _compound_only,
    "road_house": _road_house,
    "road_compound": _road_compound,
    "road_gate": _road_gate,
    "rural_hamlet": _rural_hamlet,
    "hamlet_alone": _hamlet_alone,
    "rural_group": _rural_group,
    "hamlet_coarse": _hamlet_coarse,
    "community_building": _community_building,
    "alias": _alias,
    "foreign": _foreign,
    "foreign_township": _foreign_township,
    "foreign_community": _foreign_community,
    "city_province": _city_province,
    "ambiguous_road": _ambiguous_road,
    "ambiguous_group": _ambiguous_group,
    "dup_compound": _dup_compound,
    "typo": _typo,
    "number_absent": _number_absent,
    "unit_absent": _unit_absent,
}


def independent_cases(region: Region, n: int, seed: int = 0) -> list[Case]:
    """``n`` labelled addresses (distinct texts), the kinds in turn, seeded."""
    rng = random.Random(f"independent-cases-{seed}")
    kinds = list(KINDS)
    out: list[Case] = []
    seen: set[str] = set()
    tries = 0
    while len(out) < n and tries < 50 * n:
        kind = kinds[tries % len(kinds)]
        tries += 1
        made = KINDS[kind](rng, region)
        if made is None or made[0] in seen or not made[0]:
            continue
        seen.add(made[0])
        out.append(Case(made[0], kind, made[1]))
    return out
