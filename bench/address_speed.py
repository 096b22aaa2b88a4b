"""Throughput of ``parse_address`` on generated Jilin addresses, against baselines in the same run.

    python bench/address_speed.py [--n 20000] [--seed 7] [--repeat 3]

Addresses are generated from the real Jilin divisions (``geodata.reference``): a random
village or community with some or all of its ancestors, each written in its everyday,
official (NBS) or, above the village, short form (宽城, 平湖), followed by a road and house number, a compound and building/unit/room numbers in
one of several messy spellings (full-width digits, Chinese numerals, 号楼/幢/座, 12-3-402).

Baselines, timed on the same addresses in the same process:

* ``normalize``: ``normalize_address`` alone, the floor any parse must pay;
* ``regex split``: a naive one-regex split on level suffixes and number markers, with no
  gazetteer, no disambiguation and no normalisation (what a quick script would do).

The ratios printed are parse time / baseline time. The requirement is at least 5,000
addresses/s on one core.
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import sys
import time
from typing import TYPE_CHECKING

import cn2an

from geodata.reference import ReferenceDivision, divisions, road_names
from gridmap.address import DivisionRecord, Gazetteer, normalize_address, parse_address

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

LOG = logging.getLogger("bench.address_speed")

_FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")
_SHORT = re.compile(r"(?<=..)(?:街道|省|市|区|县|镇|乡)$")
_COMPOUNDS = ("幸福小区", "阳光花园", "和谐家园", "鸿城公寓", "万科城", "金域蓝湾", "富民新村")
_NAIVE = re.compile(
    r"(?P<prov>.+?省)?(?P<city>.+?市)?(?P<county>.+?[区县市])?(?P<town>.+?(?:街道|镇|乡))?"
    r"(?P<village>.+?(?:社区|村))?(?P<road>.+?(?:路|街))?(?P<no>\d+号)?(?P<tail>.*)"
)


def _spell_building(rng: random.Random) -> str:
    b, u, r = rng.randint(1, 40), rng.randint(1, 8), rng.randint(1, 24) * 100 + rng.randint(1, 6)
    forms = (
        f"{b}栋{u}单元{r}室",
        f"{b}-{u}-{r}",
        f"{b}号楼{u}单元{r}",
        f"{b}幢{u}门{r}",
        f"{b}栋{u}-{r}",
        cn2an.an2cn(b) + "栋" + cn2an.an2cn(u) + "单元",
        f"{b}-{u}-{r}".translate(_FULLWIDTH),
    )
    return rng.choice(forms)


def generate(n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` messy Jilin addresses with the code of their village, reproducibly."""
    rng = random.Random(seed)
    divs = divisions()
    by_code = {d.code: d for d in divs}
    villages = [d for d in divs if d.level == "village"]
    roads = road_names()
    out: list[tuple[str, str]] = []
    for _ in range(n):
        chain: list[ReferenceDivision] = []
        village = rng.choice(villages)
        node: ReferenceDivision | None = village
        while node is not None:
            chain.append(node)
            node = by_code.get(node.parent_code or "")
        chain.reverse()
        start = rng.randint(0, len(chain) - 1)
        parts = []
        for d in chain[start:]:
            form = rng.random()
            if form < 0.15:
                parts.append(d.official_name)
            elif (
                form < 0.3 and d.level != "village" and (short := _SHORT.sub("", d.name)) != d.name
            ):
                parts.append(short)
            else:
                parts.append(d.name)
        tail = rng.random()
        if tail < 0.4:
            parts.append(f"{rng.choice(roads)}{rng.randint(1, 3999)}号")
        if tail > 0.2:
            parts.append(rng.choice(_COMPOUNDS) + _spell_building(rng))
        elif tail > 0.1:
            parts.append(f"{rng.randint(1, 9)}组")
        text = " ".join(parts) if rng.random() < 0.2 else "".join(parts)
        out.append((text, village.code))
    return out


def naive_split(text: str) -> dict[str, str | None]:
    """The regex-only baseline: one pattern, no gazetteer, no normalisation."""
    m = _NAIVE.match(text)
    return m.groupdict() if m else {}


def _best(fn: Callable[[str], object], texts: Sequence[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for t in texts:
            fn(t)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20000, help="addresses to generate")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3, help="timing runs (best is reported)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    t0 = time.perf_counter()
    gaz = Gazetteer.from_records(
        DivisionRecord(d.code, d.name, d.level, d.parent_code, (d.official_name,))
        for d in divisions()
    )
    LOG.info("gazetteer: %d divisions built in %.2f s", len(gaz), time.perf_counter() - t0)
    labelled = generate(args.n, args.seed)
    texts = [t for t, _ in labelled]

    parse_s = _best(lambda t: parse_address(t, gaz), texts, args.repeat)
    norm_s = _best(normalize_address, texts, args.repeat)
    naive_s = _best(naive_split, texts, args.repeat)
    n = len(texts)
    LOG.info("%-14s %9.0f addresses/s", "parse_address", n / parse_s)
    LOG.info(
        "%-14s %9.0f addresses/s  (parse takes %.2fx its time)",
        "normalize",
        n / norm_s,
        parse_s / norm_s,
    )
    LOG.info(
        "%-14s %9.0f addresses/s  (parse takes %.2fx its time)",
        "regex split",
        n / naive_s,
        parse_s / naive_s,
    )
    right = wrong = 0
    for text, code in labelled:
        got = parse_address(text, gaz).division_codes.get("village")
        right += got == code
        wrong += got is not None and got != code
    LOG.info(
        "village code: right %.1f%%, wrong %.1f%%, left unset %.1f%% (generated labels)",
        100 * right / n,
        100 * wrong / n,
        100 * (n - right - wrong) / n,
    )
    if n / parse_s < 5000:
        LOG.warning("below the 5,000 addresses/s requirement")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
