"""Sustained load: the API under a steady mixed load for minutes, minute by minute.

    python bench/soak.py [--minutes 5] [--concurrency 32] [--pool 10]

It builds the synthetic region of ``bench/api_load.py`` (database ``gridmap_bench_soak``),
starts ``gridmap serve``'s app under uvicorn with one worker, and drives it with ``wrk``
(C, so the load generator leaves the CPU to the server) for ``--minutes`` one-minute rounds
of point lookups and full-address resolutions, interleaved. Each round reports requests/s,
p50 and p99 latency, errors (non-2xx, socket errors, timeouts) and the server's resident
memory at its end.

The baseline is the run's own first minute: the last minute's throughput and memory are
printed as ratios to it (1.00 means no drift; a leak or a slowdown shows as a ratio that
keeps moving away from 1).
"""

from __future__ import annotations

import argparse
import logging
import random
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_concurrency import run_wrk
from api_load import CELL, X0, Y0, find_server, free_port, fresh_database, populate, start_server

if TYPE_CHECKING:
    from collections.abc import Sequence

LOG = logging.getLogger("bench.soak")


@dataclass
class Round:
    minute: int
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    rss_mb: float


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (./scripts/setup.sh installs it)")
    url = fresh_database(find_server()[0], "gridmap_bench_soak")
    with psycopg.connect(url, autocommit=True) as conn:
        region = populate(conn, 20, 20, args.seed)
    rng = random.Random(args.seed)
    pts = [(X0 + rng.random() * 20 * CELL, Y0 + rng.random() * 20 * CELL) for _ in range(1000)]
    paths = []
    for (x, y), a in zip(pts, [rng.choice(region.addresses) for _ in range(1000)], strict=True):
        paths.append("/v1/resolve/point?" + urlencode({"lon": f"{x:.6f}", "lat": f"{y:.6f}"}))
        paths.append("/v1/resolve?" + urlencode({"address": a[0]}, quote_via=quote))
    port = free_port()
    proc = start_server(url, port, 1, pool=args.pool)
    base = f"http://127.0.0.1:{port}"
    rounds: list[Round] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run_wrk(base, paths, 8, 5, Path(tmp))  # warm-up: the gazetteer, prepared plans
            start_rss = rss_mb(proc.pid)
            for minute in range(1, args.minutes + 1):
                r = run_wrk(base, paths, args.concurrency, 60, Path(tmp))
                rounds.append(Round(minute, r["requests"] / r["seconds"], r["p50_us"] / 1000,
                                    r["p99_us"] / 1000, r["non2xx"] + r["socket"] + r["timeout"],
                                    rss_mb(proc.pid)))  # fmt: skip
                LOG.info("minute %d: %.0f req/s, p50 %.1f ms, p99 %.1f ms, %d errors, %.0f MB",
                         minute, rounds[-1].rate, rounds[-1].p50_ms, rounds[-1].p99_ms,
                         rounds[-1].errors, rounds[-1].rss_mb)  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    first, last = rounds[0], rounds[-1]
    out = [
        f"Sustained load: {args.minutes} min of points and addresses interleaved, wrk -t2 "
        f"-c{args.concurrency}, one uvicorn worker, pool {args.pool}; "
        f"{region.grids:,} grids, {region.buildings:,} buildings. "
        f"Memory after warm-up: {start_rss:.0f} MB.",
        "",
        "| minute | req/s | p50 ms | p99 ms | errors | server RSS MB |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r.minute} | {r.rate:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} | "
            f"{r.rss_mb:.0f} |"
            for r in rounds
        ),
        "",
        f"last minute / first minute: throughput {last.rate / first.rate:.2f}, "
        f"p99 {last.p99_ms / first.p99_ms:.2f}, memory {last.rss_mb / first.rss_mb:.2f}; "
        f"errors in all: {sum(r.errors for r in rounds)}",
        "",
    ]
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
