"""How often address resolution lands in the right grid, and never in a wrong one.

    python bench/resolve_forms.py [--scale street] [--seed 0] [--limit 3000] [--append docs/benchmarks.md]

It generates the lead's sample region (``gridmap sample --scale S --seed N --load``) into a
fresh database, then writes addresses for its buildings in several forms, resolves each
with :meth:`gridmap.service.Gridmap.resolve_address` and checks the grid against the grid the
building's point lies in:

* ``full``: county, township, community, compound, building and unit;
* ``short``: county, compound and building only;
* ``road``: county, township, road and house number;
* ``rural``: county, township, village, hamlet (屯) and house number;
* ``messy``: the short form with Chinese numerals and full-width digits (三号楼二单元);
* ``name typo``: one character of the compound name replaced (never a numeral);
* ``number typo``: a building number the compound does not have.

"wrong grid" counts answers that name a grid other than the building's: the rule is that
it stays 0. For ``number typo`` a right answer is the compound's grid or an honest
ambiguity, and "wrong building" counts any building given at all.
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cn2an
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from gridmap.db.provision import conninfo_to_url, find_server
from gridmap.service import Gridmap

if TYPE_CHECKING:
    from collections.abc import Sequence

LOG = logging.getLogger("bench.resolve_forms")

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_TYPO_CHARS = "春夏秋冬东南西北金木水火土松柏竹梅兰菊"

_BUILDINGS = """
SELECT b.external_id, b.road, b.house_number, b.compound, b.hamlet, b.building_no,
       c.name AS community, t.name AS township, k.name AS county,
       (SELECT g.code FROM current_grid g WHERE ST_Covers(g.boundary, b.point)
        ORDER BY g.code LIMIT 1) AS grid,
       (SELECT u.unit_no FROM unit u WHERE u.building_id = b.id ORDER BY u.unit_no LIMIT 1) AS unit,
       (SELECT array_agg(o.building_no) FROM building o
        WHERE o.community_code = b.community_code AND o.compound = b.compound) AS siblings
FROM building b
JOIN division c ON c.code = b.community_code
JOIN division t ON t.code = c.parent_code
JOIN division k ON k.code = t.parent_code
ORDER BY b.external_id
"""


def load_sample(server: str, dbname: str, scale: str, seed: int) -> str:
    """A fresh database holding the lead's sample region; returns its URL."""
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )
    url = conninfo_to_url(make_conninfo(server, dbname=dbname))
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable, "-m", "gridmap", "-q", "sample", "--scale", scale, "--seed", str(seed),
            "--out", str(Path(tmp) / "sample.gpkg"), "--load", "--database-url", url,
        ]  # fmt: skip
        subprocess.run(cmd, check=True, cwd=Path(__file__).resolve().parent.parent)
    return url


def _messy(number: str) -> str:
    return (
        cn2an.an2cn(number)
        if number.isdigit() and int(number) < 100
        else number.translate(_FULLWIDTH)
    )


def forms(b: dict[str, Any], rng: random.Random, known: set[str]) -> list[tuple[str, str]]:
    """(form, address) pairs for one building; a typo never spells another ``known`` name."""
    out: list[tuple[str, str]] = []
    county, town, comm = b["county"], b["township"], b["community"]
    if b["compound"] and b["building_no"]:
        unit = f"{b['unit']}单元" if b["unit"] else ""
        out.append(("full", f"{county}{town}{comm}{b['compound']}{b['building_no']}栋{unit}"))
        out.append(("short", f"{county}{b['compound']}{b['building_no']}栋"))
        messy_unit = f"{_messy(b['unit'])}单元" if b["unit"] else ""
        out.append(("messy", f"{county} {b['compound']}{_messy(b['building_no'])}号楼{messy_unit}"))
        name = b["compound"]
        if len(name) >= 4:
            i = rng.randrange(len(name) - 2)  # keep the suffix (花园, 小区) as written
            typo = name[:i] + rng.choice([c for c in _TYPO_CHARS if c not in name]) + name[i + 1 :]
            if typo not in known:
                out.append(("name typo", f"{county}{town}{typo}{b['building_no']}栋"))
        taken = {s for s in b["siblings"] or () if s}
        missing = next(str(n) for n in range(1, 999) if str(n) not in taken)
        out.append(("number typo", f"{county}{town}{comm}{b['compound']}{missing}栋"))
    if b["road"] and b["house_number"]:
        out.append(("road", f"{county}{town}{b['road']}{b['house_number']}号"))
    if b["hamlet"] and b["house_number"]:
        out.append(("rural", f"{county}{town}{comm}{b['hamlet']}{b['house_number']}号"))
    return out


def measure(
    url: str, limit: int, seed: int
) -> tuple[dict[str, collections.Counter[str]], int, float]:
    rng = random.Random(seed)
    stats: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    n = 0
    elapsed = 0.0
    with psycopg.connect(url, autocommit=True) as conn, Gridmap(conn) as gm:
        with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            buildings = cur.execute(_BUILDINGS).fetchall()
        rng.shuffle(buildings)
        gm.reload_gazetteer()
        known = {str(b["compound"]) for b in buildings if b["compound"]}
        for b in buildings[:limit]:
            for form, address in forms(b, rng, known):
                t0 = time.perf_counter()
                res = gm.resolve_address(address)
                elapsed += time.perf_counter() - t0
                n += 1
                s = stats[form]
                s["addresses"] += 1
                if res.grid is None:
                    s["ambiguous" if res.status == "ambiguous" else "not found"] += 1
                elif res.grid.code == b["grid"]:
                    s["right grid"] += 1
                else:
                    s["wrong grid"] += 1
                    LOG.warning(
                        "wrong grid for %s: %s, expected %s", address, res.grid.code, b["grid"]
                    )
                if res.building is not None:
                    right = res.building.id == b["external_id"] and form != "number typo"
                    s["right building" if right else "wrong building"] += 1
    return stats, n, elapsed


def report(
    args: argparse.Namespace, stats: dict[str, collections.Counter[str]], n: int, secs: float
) -> str:
    cols = [
        "addresses",
        "right grid",
        "wrong grid",
        "ambiguous",
        "not found",
        "right building",
        "wrong building",
    ]
    lines = [
        f"### Address resolution by address form ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        "```",
        "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "```",
        "",
        f"The lead's sample region (`gridmap sample --scale {args.scale} --seed {args.seed}`), "
        f"{n:,} addresses resolved in-process at {n / secs:,.0f} addresses/s "
        f"({1000 * secs / n:.2f} ms each; {os.cpu_count()} CPUs shared with other jobs).",
        "",
        "| form | " + " | ".join(cols) + " |",
        "| --- |" + " ---: |" * len(cols),
    ]
    for form, s in sorted(stats.items()):
        lines.append(f"| {form} | " + " | ".join(f"{s[c]:,}" for c in cols) + " |")
    lines.append("")
    lines.append(
        "A right answer names the grid the building's point lies in; ambiguous answers name "
        "no grid but list candidates. For `number typo` (a building number the compound lacks) "
        "any building given would be wrong; the right grid there is the compound's, given only "
        "when the whole compound lies in one grid."
    )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--scale", default="street")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=3000, help="Buildings to write addresses for.")
    parser.add_argument("--database", default="gridmap_bench_resolve_forms")
    parser.add_argument("--server-url", default=None)
    parser.add_argument("--append", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    server = (
        make_conninfo(args.server_url, dbname="postgres") if args.server_url else find_server()[0]
    )
    url = load_sample(server, args.database, args.scale, args.seed)
    stats, n, secs = measure(url, args.limit, args.seed)
    text = report(args, stats, n, secs)
    sys.stdout.write(text)
    if args.append:
        with args.append.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)
    if any(s["wrong grid"] for s in stats.values()):
        raise SystemExit("some addresses resolved to a wrong grid")


if __name__ == "__main__":
    main()
