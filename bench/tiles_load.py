"""Vector tile latency over HTTP, against the bare ``ST_AsMVT`` query in the same run.

    python bench/tiles_load.py [--zooms 12,14,16] [--seconds 10] [--concurrency 16]
                               [--townships 20] [--communities 20] [--append FILE]

It builds the synthetic region of ``bench/api_load.py`` (database ``gridmap_bench_api``),
starts the API (one uvicorn worker, default pool and admission control) and, per zoom, has
``wrk`` fetch every grid tile that covers the region, round-robin, for ``--seconds``. The
baseline is the same SQL the API runs (``gridmap.db.tiles``), over psycopg's async pool at
the same concurrency: the ratio printed is API tiles/s over bare-query tiles/s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg_pool import AsyncConnectionPool

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_concurrency import run_wrk
from api_load import (
    CELL,
    X0,
    Y0,
    drive,
    find_server,
    free_port,
    fresh_database,
    populate,
    start_server,
)

from gridmap.db.tiles import extent, query

if TYPE_CHECKING:
    from collections.abc import Sequence

LOG = logging.getLogger("bench.tiles_load")


def sample(tiles: list[tuple[int, int, int]], n: int) -> list[tuple[int, int, int]]:
    """At most ``n`` of ``tiles``, spread evenly over them."""
    if len(tiles) <= n:
        return tiles
    step = len(tiles) / n
    return [tiles[int(i * step)] for i in range(n)]


def tiles_over(x0: float, y0: float, x1: float, y1: float, z: int) -> list[tuple[int, int, int]]:
    def tx(lon: float) -> int:
        return int((lon + 180) / 360 * (1 << z))

    def ty(lat: float) -> int:
        return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * (1 << z))

    return [(z, x, y) for x in range(tx(x0), tx(x1) + 1) for y in range(ty(y1), ty(y0) + 1)]


async def bare(url: str, tiles: list[tuple[int, int, int]], concurrency: int) -> float:
    sql = query("grids")
    async with AsyncConnectionPool(
        url, min_size=min(concurrency, 10), max_size=min(concurrency, 10),
        kwargs={"autocommit": True}, open=False,
    ) as pool:  # fmt: skip
        await pool.wait()

        async def one(i: int) -> bool:
            z, x, y = tiles[i % len(tiles)]
            async with pool.connection() as conn:
                cur = await conn.execute(sql, {"z": z, "x": x, "y": y})  # type: ignore[arg-type]
                return await cur.fetchone() is not None

        run = await drive("bare", one, 100_000, 5.0, concurrency)
        return run.rate


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zooms", default="12,14,16")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--townships", type=int, default=20)
    ap.add_argument("--communities", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--database", default="gridmap_bench_api")
    ap.add_argument("--append", type=Path, default=None)
    ap.add_argument(
        "--database-url",
        default=None,
        help="Measure an existing gridmap database (e.g. the imported province sample) "
        "instead of building the synthetic region; tiles sampled over its grids' extent.",
    )
    ap.add_argument("--max-tiles", type=int, default=2000, help="Tiles per zoom, at most.")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.database_url:
        url = args.database_url
        with psycopg.connect(url, autocommit=True) as conn:
            x0, y0, x1, y1 = extent(conn) or (X0, Y0, X0, Y0)
            n_grids = conn.execute("SELECT count(*) FROM current_grid").fetchone()[0]
            n_buildings = conn.execute("SELECT count(*) FROM building").fetchone()[0]
        label = f"{n_grids:,} grids, {n_buildings:,} buildings (existing database)"
    else:
        url = fresh_database(find_server()[0], args.database)
        with psycopg.connect(url, autocommit=True) as conn:
            region = populate(conn, args.townships, args.communities, args.seed)
        x0, y0 = X0, Y0
        x1, y1 = X0 + args.communities * CELL, Y0 + args.townships * CELL
        label = f"{region.grids:,} grids, {region.buildings:,} buildings"
    port = free_port()
    proc = start_server(url, port, 1, pool=10)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for z in (int(v) for v in args.zooms.split(",")):
                tiles = sample(tiles_over(x0, y0, x1, y1, z), args.max_tiles)
                paths = [f"/tiles/grids/{z}/{x}/{y}.pbf" for z, x, y in tiles]
                run_wrk(f"http://127.0.0.1:{port}", paths, 4, 2, Path(tmp))  # warm-up
                r = run_wrk(
                    f"http://127.0.0.1:{port}", paths, args.concurrency, args.seconds, Path(tmp)
                )
                rows.append((z, len(tiles), r))
                time.sleep(1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    bare_rates = {
        z: asyncio.run(
            bare(url, sample(tiles_over(x0, y0, x1, y1, z), args.max_tiles), args.concurrency)
        )
        for z, _, _ in rows
    }
    lines = [
        f"### Vector tiles ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        "```",
        "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "```",
        "",
        f"{label}; one uvicorn worker; wrk, "
        f"{args.concurrency} connections, {args.seconds:g} s per zoom; {os.cpu_count()} CPUs "
        f"(load average {os.getloadavg()[0]:.1f} at the end).",
        "",
        "| zoom | tiles fetched | tiles/s | p50 ms | p99 ms | non-2xx | bare ST_AsMVT tiles/s | API / bare |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for z, n, r in rows:
        rate = r["requests"] / r["seconds"]
        b = bare_rates[z]
        lines.append(
            f"| {z} | {n} | {rate:,.0f} | {r['p50_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | "
            f"{r['non2xx']} | {b:,.0f} | {rate / b:.2f} |"
        )
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.append:
        with args.append.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
