"""Address resolution accuracy: labelled messy addresses of a sample region, resolved for real.

The sample region is generated and imported into a fresh database; ``--n`` labelled cases
(:mod:`gridmap.testing`) are resolved through the library's batch path
(:meth:`gridmap.service.Gridmap.resolve_addresses`) and scored. The goal (from the issue) is at
least 99% correct or correctly flagged and no confident wrong answer; a confident answer is one
that names a grid (``status == "ok"``), or, with ``--min-confidence``, one at least that
confident.

    python bench/resolve_accuracy.py --scale street --n 10000
    python bench/resolve_accuracy.py --scale district --n 10000 --failures out/failures.csv
    python bench/resolve_accuracy.py --suite independent --n 5000

``--suite independent`` scores the fixture made without the sample generator
(``tests/resolve/independent``: its own region and writing rules; ``--scale`` is ignored).

Prints the table (Markdown, for docs/benchmarks.md) and a few failing cases per variant;
``--failures`` writes all of them as CSV (text, variant, outcome, expected, got).
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geodata.sample import SCALES, generate_sample  # noqa: E402
from gridmap.db.provision import find_server, scratch_database  # noqa: E402
from gridmap.service import Gridmap  # noqa: E402
from gridmap.testing import generate_cases, score  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gridmap.testing import Case

LOG = logging.getLogger("bench.resolve_accuracy")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--suite", default="sample", choices=("sample", "independent"))
    ap.add_argument("--scale", default="street", choices=SCALES)
    ap.add_argument("--n", type=int, default=10_000, help="labelled cases (default 10000)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the sample and of the cases")
    ap.add_argument("--min-confidence", type=float, default=0.0)
    ap.add_argument("--failures", type=Path, help="write every failing case to this CSV")
    ap.add_argument("--show", type=int, default=3, help="failing cases printed per variant")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    t0 = time.perf_counter()
    cases: Sequence[Case]
    if args.suite == "independent":
        from tests.resolve.independent.cases import independent_cases
        from tests.resolve.independent.region import independent_region

        region = independent_region(seed=args.seed)
        data = region.data
        cases = independent_cases(region, n=args.n, seed=args.seed)
        args.scale = "independent"
    else:
        data = generate_sample(args.scale, seed=args.seed)
        cases = generate_cases(data, n=args.n, seed=args.seed)
    t_cases = time.perf_counter() - t0
    server, _ = find_server(allow_private=True)
    with scratch_database(server, prefix="gridmap_bench") as conninfo:
        with Gridmap.connect(conninfo) as gm:
            gm.import_data(data, source="bench")
            t1 = time.perf_counter()
            results = gm.resolve_addresses([c.text for c in cases])
            t_resolve = time.perf_counter() - t1

    s = score(cases, results, min_confidence=args.min_confidence)
    t = s.total()
    print(
        f"scale {args.scale}, seed {args.seed}: {len(data.buildings):,} buildings, "
        f"{len(cases):,} cases (generated in {t_cases:.1f} s), resolved in {t_resolve:.1f} s "
        f"({len(cases) / t_resolve:,.0f} addresses/s)"
    )
    print(
        f"correct or correctly flagged: {100 * s.ok_rate():.2f}% (goal 99%); "
        f"confident wrong: {t['confident_wrong']} (goal 0)\n"
    )
    print(s.table())
    by_kind: dict[str, list[str]] = defaultdict(list)
    for case, got, outcome in s.failures:
        by_kind[case.kind].append(
            f"  [{outcome}] {case.text} | expected {case.expected} | got {got}"
        )
    if by_kind:
        print("\nfailing cases (first few per variant):")
    for kind, rows in sorted(by_kind.items()):
        print(f"{kind}: {len(rows)}")
        print("\n".join(rows[: args.show]))
    if args.failures:
        args.failures.parent.mkdir(parents=True, exist_ok=True)
        with args.failures.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["text", "variant", "outcome", "expected", "got"])
            for case, got, outcome in s.failures:
                w.writerow([case.text, case.kind, outcome, str(case.expected), str(got)])
        print(f"\n{len(s.failures)} failing cases written to {args.failures}")


if __name__ == "__main__":
    main()
