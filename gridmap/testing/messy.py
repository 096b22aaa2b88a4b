"""A seeded, labelled set of messy addresses for the buildings of an Interchange (pure).

:func:`generate_cases` writes addresses for the buildings of an
:class:`~gridmap.io.Interchange` the way people write them: full and partial prefixes,
Chinese numerals, full-width digits, 12-3-402 shorthand, one-character typos, missing
levels, names several places share, buildings and places that do not exist. Each
:class:`~gridmap.testing.scoring.Case` knows what it *means* (a
:class:`~gridmap.testing.labels.Meaning`), and its expected answer is worked out from that
meaning and the data alone by :func:`~gridmap.testing.labels.label`, never from a resolver.
:data:`KINDS` names the variants and weighs their share of the mix.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from rapidfuzz.distance import Levenshtein

from gridmap.testing.labels import ADMIN, Building, Index, Meaning, label
from gridmap.testing.scoring import Case
from gridmap.testing.spelling import ELSEWHERE, FULLWIDTH, INVENTED, Writer, cn, misspell

__all__ = ["KINDS", "Case", "generate_cases"]

_Gen = Callable[[Writer], tuple[str, Meaning] | None]


def _urban(w: Writer, pred: Callable[[Building], bool] = lambda b: True) -> Building | None:
    for _ in range(1000 if w.idx.urban else 0):
        b = w.rng.choice(w.idx.urban)
        if pred(b):
            return b
    return None


def _standard(levels: str, style: str, prefix_style: str = "name", sep: str = "") -> _Gen:
    def gen(w: Writer) -> tuple[str, Meaning] | None:
        b = _urban(w)
        if b is None or b.compound is None:
            return None
        lv = list(ADMIN) if levels == "full" else [] if levels == "none" else w.levels()
        pre, written = w.prefix(b.community, lv, prefix_style)
        unit = w.rng.choice(b.units)
        body = w.body(b, unit, style)
        name = b.compound + (
            "小区" if sep and w.rng.random() < 0.3 and b.compound[-2:] != "小区" else ""
        )
        text = sep.join(p for p in (pre, name, body) if p) if sep else pre + name + body
        if style == "fullwidth":
            text = (pre + name + w.body(b, unit, "plain")).translate(FULLWIDTH)
        return text, Meaning(written, b.compound, building=b.number, unit=unit)

    return gen


def _noisy(w: Writer) -> tuple[str, Meaning] | None:
    b = _urban(w)
    if b is None or b.compound is None:
        return None
    pre, written = w.prefix(b.community, w.levels(), w.rng.choice(["official", "mixed", "short"]))
    unit = w.rng.choice(b.units)
    sep = w.rng.choice([" ", "\uff0c", ",", "、", "  ", "-"])  # \uff0c: full-width comma
    parts = [
        pre,
        b.compound + w.rng.choice(["", "小区"] if not b.compound.endswith("小区") else [""]),
    ]
    text = sep.join(p for p in parts if p) + sep + w.body(b, unit, "plain")
    return text, Meaning(written, b.compound, building=b.number, unit=unit)


def _typo_compound(w: Writer) -> tuple[str, Meaning] | None:
    b = _urban(w)
    if b is None or b.compound is None:
        return None
    pre, written = w.prefix(b.community, w.levels())
    name = misspell(b.compound, w.rng)
    unit = w.rng.choice(b.units)
    return pre + name + w.body(b, unit, "plain"), Meaning(
        written, name, building=b.number, unit=unit
    )


def _missing(w: Writer) -> tuple[str, Meaning] | None:
    b = _urban(w)
    if b is None or b.compound is None:
        return None
    unit = w.rng.choice(b.units)
    roll = w.rng.random()
    if roll < 0.4:  # no building: the compound alone
        pre, written = w.prefix(b.community, w.levels())
        return pre + b.compound, Meaning(written, b.compound)
    if roll < 0.7:  # no compound: a building number in a community
        pre, written = w.prefix(
            b.community, ["county", "township", "village"][w.rng.randint(0, 2) :]
        )
        return pre + f"{b.number}栋{unit}单元", Meaning(written, building=b.number, unit=unit)
    lv = [w.rng.choice(["province", "city", "county"]), "village"]  # middle levels skipped
    pre, written = w.prefix(b.community, lv)
    text = pre + b.compound + w.body(b, unit, "plain")
    return text, Meaning(written, b.compound, building=b.number, unit=unit)


def _road(with_building: bool, with_compound: bool = False) -> _Gen:
    def gen(w: Writer) -> tuple[str, Meaning] | None:
        b = _urban(w, lambda b: b.road is not None and b.house is not None)
        if b is None:
            return None
        pre, written = w.prefix(b.community, w.levels())
        m = Meaning(written, road=b.road, house=b.house)
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


def _pairs(idx: Index) -> list[Building]:
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


def _confusable(w: Writer) -> tuple[str, Meaning] | None:
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
    return pre + name + w.body(b, unit, "plain"), Meaning(
        written, name, building=b.number, unit=unit
    )


def _shared(idx: Index) -> tuple[dict[tuple[str, str], int], list[Building], list[Building]]:
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


def _shared_name(w: Writer) -> tuple[str, Meaning] | None:
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
            return pre, Meaning(written)
        if b.hamlet:
            return pre + f"{b.hamlet}{b.house}号", Meaning(written, hamlet=b.hamlet, house=b.house)
        unit = r.choice(b.units)
        body = w.body(b, unit, "plain")
        return pre + f"{b.compound}{body}", Meaning(
            written, b.compound, building=b.number, unit=unit
        )
    # a compound name found in several communities, written without a prefix
    if not many:
        return None
    b = r.choice(many)
    unit = r.choice(b.units)
    return f"{b.compound}{w.body(b, unit, 'plain')}", Meaning(
        {}, b.compound, building=b.number, unit=unit
    )


def _no_building(w: Writer) -> tuple[str, Meaning] | None:
    b = _urban(w)
    if b is None or b.compound is None:
        return None
    have = {z.number for z in w.idx.by_comm[b.community] if z.compound == b.compound}
    number = w.rng.choice([n for n in [*map(str, range(9, 31)), "E", "F"] if n not in have])
    pre, written = w.prefix(b.community, w.levels())
    unit = w.rng.choice(b.units)
    text = pre + b.compound + f"{number}栋{unit}单元"
    return text, Meaning(written, b.compound, building=number, unit=unit)


def _no_unit(w: Writer) -> tuple[str, Meaning] | None:
    b = _urban(w)
    if b is None or b.compound is None:
        return None
    unit = str(w.rng.randint(len(b.units) + 1, 9))
    pre, written = w.prefix(b.community, w.levels())
    text = pre + b.compound + f"{b.number}栋{unit}单元"
    return text, Meaning(written, b.compound, building=b.number, unit=unit)


def _no_compound(w: Writer) -> tuple[str, Meaning] | None:
    b = _urban(w)
    if b is None:
        return None
    lv = w.levels()
    pre, written = w.prefix(b.community, lv if lv else ["village"])
    comms = w.idx.scope(written)
    names = [n for n in INVENTED if not w.idx.named(n, comms)]
    name, unit = w.rng.choice(names), w.rng.choice(b.units)
    text = pre + name + f"{b.number}栋{unit}单元"
    return text, Meaning(written, name, building=b.number, unit=unit)


def _no_place(w: Writer) -> tuple[str, Meaning] | None:
    if w.rng.random() < 0.6:
        return w.rng.choice(ELSEWHERE), Meaning()
    b = _urban(w)
    if b is None:
        return None
    pre, written = w.prefix(b.community, w.levels() or ["county"])
    return pre + "不存在路999号", Meaning(written, road="不存在路", house="999")


def _rural(by_group: bool) -> _Gen:
    def gen(w: Writer) -> tuple[str, Meaning] | None:
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
                [f"{b.group}组", f"第{cn(int(b.group))}组", f"{b.group}社", f"第{b.group}村民小组"]
            )
            return f"{pre}{g}{b.house}号", Meaning(written, group=b.group, house=b.house)
        return f"{pre}{b.hamlet}{b.house}号", Meaning(written, hamlet=b.hamlet, house=b.house)

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
    idx = Index(data)
    rng = random.Random(seed)
    w = Writer(idx, rng)
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
