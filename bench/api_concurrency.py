"""Throughput and tail latency of the HTTP API as concurrency grows, driven by ``wrk``.

    python bench/api_concurrency.py [--levels 8,32,128,512] [--seconds 10] [--pool 10]
                                    [--townships 20] [--communities 20] [--append FILE]

It builds the synthetic region of ``bench/api_load.py`` (database ``gridmap_bench_api``),
starts ``uvicorn api.app:create_app --factory`` with one worker and its default admission
control (as many requests at work as the pool has connections, a 2 s wait, then 503), and
for point lookups and address resolutions runs ``wrk -t2 -cN`` at each level, rotating
through 1,000 random requests. wrk is written in C, so the load generator leaves the CPU to
the server (a Python client would eat the CPU it measures).

Two ratios are printed: throughput at each level over throughput at the lowest level (flat
or rising is the goal: more callers must not mean less work done), and API throughput over
the bare PostGIS query at the same concurrency (psycopg's async pool, at most
``--pool`` connections), the ceiling the database alone would allow.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_load import (
    ADDRESS_SQL,
    CELL,
    POINT_SQL,
    X0,
    Y0,
    drive,
    find_server,
    free_port,
    fresh_database,
    populate,
    run_wrk,
    start_server,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

LOG = logging.getLogger("bench.api_concurrency")


@dataclass
class Level:
    kind: str
    concurrency: int
    requests: int
    seconds: float
    non2xx: int
    socket: int
    timeout: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


async def bare_rate(url: str, kind: str, args: list[tuple], concurrency: int, pool: int) -> float:
    async with AsyncConnectionPool(
        url, min_size=pool, max_size=pool, kwargs={"autocommit": True}, open=False
    ) as p:
        await p.wait()
        query = POINT_SQL if kind == "points" else ADDRESS_SQL

        async def one(i: int) -> bool:
            async with p.connection() as conn:
                cur = await conn.execute(query, args[i % len(args)])
                return await cur.fetchone() is not None

        run = await drive(kind, one, 20_000, 5.0, concurrency)
        return run.rate


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default="8,32,128,512")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--pool", type=int, default=10, help="GRIDMAP_POOL_MAX_SIZE")
    parser.add_argument("--townships", type=int, default=20)
    parser.add_argument("--communities", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--server-url", default=None, help="PostgreSQL server (default: local)")
    parser.add_argument("--database", default="gridmap_bench_api")
    parser.add_argument("--append", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (./scripts/setup.sh installs it)")
    levels = [int(v) for v in args.levels.split(",")]
    server = (
        make_conninfo(args.server_url, dbname="postgres") if args.server_url else find_server()[0]
    )
    url = fresh_database(server, args.database)
    with psycopg.connect(url, autocommit=True) as conn:
        region = populate(conn, args.townships, args.communities, args.seed)
    rng = random.Random(args.seed)
    span_x, span_y = args.communities * CELL, args.townships * CELL
    pts = [(X0 + rng.random() * span_x, Y0 + rng.random() * span_y) for _ in range(1000)]
    addrs = [rng.choice(region.addresses) for _ in range(1000)]
    paths = {
        "points": [
            "/v1/resolve/point?" + urlencode({"lon": f"{x:.6f}", "lat": f"{y:.6f}"}) for x, y in pts
        ],
        "addresses": [
            "/v1/resolve?" + urlencode({"address": a[0]}, quote_via=quote) for a in addrs
        ],
    }
    bare_args = {"points": pts, "addresses": [a[1:] for a in addrs]}
    port = free_port()
    proc = start_server(url, port, 1, pool=args.pool)
    base = f"http://127.0.0.1:{port}"
    results: list[Level] = []
    bare: dict[tuple[str, int], float] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for kind in ("points", "addresses"):
                run_wrk(base, paths[kind], 8, 3, Path(tmp))  # warm-up
                for c in levels:
                    r = run_wrk(base, paths[kind], c, args.seconds, Path(tmp))
                    level = Level(
                        kind, c, r["requests"], r["seconds"], r["non2xx"], r["socket"],
                        r["timeout"], r["p50_us"] / 1000, r["p99_us"] / 1000, r["max_us"] / 1000,
                    )  # fmt: skip
                    results.append(level)
                    LOG.info(
                        "%s c=%d: %.0f req/s, p99 %.0f ms, non-2xx %d",
                        kind, c, level.rate, level.p99_ms, level.non2xx,
                    )  # fmt: skip
                    time.sleep(1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for kind in ("points", "addresses"):
        for c in levels:
            bare[kind, c] = asyncio.run(bare_rate(url, kind, bare_args[kind], c, args.pool))
    text = report(args, region.grids, region.buildings, results, bare)
    sys.stdout.write(text)
    if args.append:
        with args.append.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)


def report(
    args: argparse.Namespace,
    grids: int,
    buildings: int,
    results: list[Level],
    bare: dict[tuple[str, int], float],
) -> str:
    lines = [
        f"### API under growing concurrency ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        "```",
        "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "```",
        "",
        f"{grids:,} grids, {buildings:,} buildings; one uvicorn worker, pool {args.pool}, "
        f"admission: {args.pool} at work, 2 s wait; wrk {args.seconds:g} s per level over "
        f"loopback; {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the end), "
        f"Python {platform.python_version()}.",
        "",
        "| what | concurrency | requests | req/s | p50 ms | p99 ms | max ms | non-2xx "
        "| socket errors / timeouts | vs lowest level | vs bare PostGIS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in ("points", "addresses"):
        rows = [r for r in results if r.kind == kind]
        first = rows[0].rate if rows else 0.0
        for r in rows:
            b = bare[kind, r.concurrency]
            lines.append(
                f"| {kind} | {r.concurrency} | {r.requests:,} | {r.rate:,.0f} | {r.p50_ms:.0f} | "
                f"{r.p99_ms:.0f} | {r.max_ms:.0f} | {r.non2xx} | {r.socket} / {r.timeout} | "
                f"{r.rate / first:.2f} | {r.rate / b:.3f} ({b:,.0f}/s) |"
            )
    lines += [
        "",
        "non-2xx are 503 `overloaded` answers (with Retry-After) to requests that found every "
        "slot busy for the whole admission wait. Bare PostGIS = the point-in-grid query, or "
        "the exact building + grid query by community, compound and building number, over "
        "psycopg's async pool at the same concurrency.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
