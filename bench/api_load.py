"""Load on the HTTP API over loopback, against the bare PostGIS query in the same run.

    python bench/api_load.py [--requests 3000] [--seconds 30] [--concurrency 32] [--workers 1]
                             [--townships 20] [--communities 20] [--append docs/benchmarks.md]

It builds a synthetic region in a fresh database (``gridmap_bench_api`` on the local server,
or ``--server-url``): townships x communities, each community a 0.01° cell cut into 2x2
grids, 5 compounds of 10 buildings each with 3 units, and a chief on every post. It then
starts ``uvicorn api.app:create_app --factory`` on 127.0.0.1 on a free port in a subprocess
and drives it with an httpx async client, ``--concurrency`` requests in flight, until
``--requests`` are done or ``--seconds`` have passed, for:

* point lookups: ``GET /v1/resolve/point`` at random points of the region;
* address resolutions: ``GET /v1/resolve`` of random 区+街道+社区+compound+栋+单元 addresses.

Each is compared with its bare query over psycopg (async pool, same concurrency): the
point-in-grid query, and the exact building + grid lookup by community, compound and
building number (what an address costs once parsed, without the chiefs or the parse).
The ratio printed is API throughput / bare-query throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from gridmap.db.migrate import migrate
from gridmap.db.provision import conninfo_to_url, ensure_extensions, find_server

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

LOG = logging.getLogger("bench.api_load")

X0, Y0, CELL = 125.20, 43.80, 0.01
TOWNSHIP_STEMS = [
    "新发", "团山", "站前", "南广场", "东广场", "兴业", "群英", "柳影", "凯旋", "欣园",
    "台北", "西广场", "奋进", "兰家", "米沙子", "万宝", "奢岭", "双德", "城西", "合心",
]  # fmt: skip
COMMUNITY_STEMS = [
    "春华", "明德", "长青", "和平", "友谊", "光明", "青年", "胜利", "建设", "民康",
    "富民", "安居", "永兴", "福寿", "瑞祥", "丰收", "同心", "振兴", "锦绣", "翠湖",
]  # fmt: skip
COMPOUNDS = ["明珠花园", "阳光家园", "和谐小区", "金域蓝湾", "万科城市花园"]
BUILDINGS_PER_COMPOUND = 10
UNITS = 3


@dataclass
class Region:
    townships: int
    communities: int
    grids: int
    buildings: int
    addresses: list[tuple[str, str, str, str]]  # (address, community, compound, building_no)


def _box(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


def populate(conn: psycopg.Connection[Any], n_town: int, n_comm: int, seed: int) -> Region:
    """Fill an empty migrated database with the synthetic region."""
    rng = random.Random(seed)
    county = "220103000000"
    divisions = [
        ("220000000000", "吉林省", "province", None),
        ("220100000000", "长春市", "city", "220000000000"),
        (county, "宽城区", "county", "220100000000"),
    ]
    grids: list[tuple[str, str, str, str]] = []
    buildings: list[tuple[Any, ...]] = []
    addresses: list[tuple[str, str, str, str]] = []
    for t in range(n_town):
        tcode = f"220103{t + 1:03d}000"
        tname = TOWNSHIP_STEMS[t % len(TOWNSHIP_STEMS)] + ("街道" if t < 20 else f"{t}街道")
        divisions.append((tcode, tname, "township", county))
        for c in range(n_comm):
            ccode = f"220103{t + 1:03d}{c + 1:03d}"
            cname = COMMUNITY_STEMS[c % len(COMMUNITY_STEMS)] + "社区"
            divisions.append((ccode, cname, "village", tcode))
            x, y = X0 + c * CELL, Y0 + t * CELL
            half = CELL / 2
            for s, (dx, dy) in enumerate(((0, 0), (1, 0), (0, 1), (1, 1)), start=1):
                gx, gy = x + dx * half, y + dy * half
                grids.append(
                    (
                        f"{ccode}{s:03d}",
                        ccode,
                        f"{cname}第{s}网格",
                        _box(gx, gy, gx + half, gy + half),
                    )
                )
            for k, compound in enumerate(COMPOUNDS):
                for b in range(1, BUILDINGS_PER_COMPOUND + 1):
                    px = x + CELL * (0.05 + 0.9 * rng.random())
                    py = y + CELL * (0.05 + 0.9 * rng.random())
                    ext = f"{ccode}-{k}-{b}"
                    fp = _box(px - 0.0001, py - 0.0001, px + 0.0001, py + 0.0001)
                    buildings.append((ext, ccode, compound, str(b), px, py, fp))
                    addresses.append(
                        (f"长春市宽城区{tname}{cname}{compound}{b}栋{rng.randint(1, UNITS)}单元",
                         ccode, compound, str(b))
                    )  # fmt: skip
    conn.execute("INSERT INTO generation (id, source, activated_at) VALUES (1, 'bench', now())")
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO division (code, name, level, parent_code) VALUES (%s, %s, %s, %s)",
            divisions,
        )
        cur.executemany(
            "INSERT INTO grid_code (code, community_code, issued_in) VALUES (%s, %s, 1)",
            [(g[0], g[1]) for g in grids],
        )
        cur.executemany(
            "INSERT INTO grid (code, community_code, kind, name, households, boundary,"
            " generation_low) VALUES (%s, %s, 'urban', %s, 100, ST_GeomFromText(%s, 4490), 1)",
            grids,
        )
        with cur.copy(
            "COPY building (external_id, community_code, compound, building_no, households,"
            " point, footprint) FROM STDIN"
        ) as copy:
            for ext, cc, comp, bno, px, py, fp in buildings:
                copy.write_row(
                    (ext, cc, comp, bno, 24, f"SRID=4490;POINT({px} {py})", f"SRID=4490;{fp}")
                )
        cur.execute(
            "INSERT INTO unit (building_id, unit_no, households)"
            " SELECT b.id, u::text, 8 FROM building b, generate_series(1, %s) u",
            (UNITS,),
        )
        cur.execute(
            "INSERT INTO person (external_id, name, phone)"
            " SELECT 'P' || n, '居民' || n, '139' || lpad(n::text, 8, '0')"
            " FROM generate_series(1, (SELECT count(*) FROM grid) + (SELECT count(*) FROM building)"
            "  + (SELECT count(*) FROM unit)) n"
        )
        cur.execute(
            """
            WITH posts AS (
                SELECT row_number() OVER () AS n, * FROM (
                    SELECT 'grid_chief' AS role, code AS grid_code, NULL::bigint AS building_id,
                           NULL::bigint AS unit_id FROM grid
                    UNION ALL SELECT 'building_chief', NULL, id, NULL FROM building
                    UNION ALL SELECT 'unit_chief', NULL, NULL, id FROM unit) p)
            INSERT INTO assignment (person_id, role, grid_code, building_id, unit_id, since)
            SELECT pe.id, po.role, po.grid_code, po.building_id, po.unit_id, DATE '2024-01-01'
            FROM posts po JOIN person pe ON pe.external_id = 'P' || po.n
            """
        )
    conn.execute("ANALYZE")
    return Region(n_town, n_town * n_comm, len(grids), len(buildings), addresses)


def fresh_database(server: str, name: str) -> str:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(
            sql.SQL(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' "
                "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            ).format(sql.Identifier(name))
        )
    url = make_conninfo(server, dbname=name)
    ensure_extensions(url)
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn)
    return conninfo_to_url(url)


# ----------------------------------------------------------------------------- load


@dataclass
class Run:
    name: str
    done: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(q * len(data)))]


async def drive(
    name: str,
    make: Callable[[int], Awaitable[bool]],
    requests: int,
    seconds: float,
    concurrency: int,
) -> Run:
    """Run ``make(i)`` for i = 0.. with ``concurrency`` in flight, bounded by count and time."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        for i in counter:
            if time.perf_counter() > deadline:
                return
            t0 = time.perf_counter()
            ok = await make(i)
            latencies.append((time.perf_counter() - t0) * 1000)
            errors += not ok

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Run(name, len(latencies), errors, time.perf_counter() - start, latencies)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, workers: int, pool: int = 16) -> subprocess.Popen[bytes]:
    env = dict(os.environ, GRIDMAP_DATABASE_URL=url, GRIDMAP_POOL_MAX_SIZE=str(pool))
    cmd = [
        sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, cwd=Path(__file__).resolve().parent.parent)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"uvicorn exited with {proc.returncode}")
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("uvicorn did not become healthy in 60 s")


POINT_SQL = (
    "SELECT g.code FROM current_grid g WHERE ST_Covers(g.boundary, "
    "ST_SetSRID(ST_MakePoint(%s, %s), 4490)) ORDER BY g.code LIMIT 1"
)
ADDRESS_SQL = (
    "SELECT b.external_id, g.code FROM building b JOIN current_grid g ON ST_Covers(g.boundary, b.point)"
    " WHERE b.community_code = %s AND b.compound = %s AND b.building_no = %s ORDER BY g.code LIMIT 1"
)


async def measure(
    args: argparse.Namespace, url: str, region: Region
) -> tuple[list[tuple[Run, Run]], Run]:
    rng = random.Random(args.seed)
    span_x, span_y = args.communities * CELL, args.townships * CELL
    pts = [(X0 + rng.random() * span_x, Y0 + rng.random() * span_y) for _ in range(args.requests)]
    addrs = [rng.choice(region.addresses) for _ in range(args.requests)]
    port = free_port()
    proc = start_server(url, port, args.workers)
    try:
        limits = httpx.Limits(
            max_connections=args.concurrency, max_keepalive_connections=args.concurrency
        )
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) as client,
            AsyncConnectionPool(
                url, min_size=args.concurrency, max_size=args.concurrency,
                kwargs={"autocommit": True}, open=False,
            ) as pool,
        ):  # fmt: skip
            await pool.wait()

            async def api_point(i: int) -> bool:
                x, y = pts[i]
                r = await client.get("/v1/resolve/point", params={"lon": x, "lat": y})
                return r.status_code == 200 and r.json()["status"] == "ok"

            async def api_address(i: int) -> bool:
                r = await client.get("/v1/resolve", params={"address": addrs[i][0]})
                return r.status_code == 200 and r.json()["match_level"] == "unit"

            async def sql_point(i: int) -> bool:
                async with pool.connection() as conn:
                    cur = await conn.execute(POINT_SQL, pts[i])
                    return await cur.fetchone() is not None

            async def sql_address(i: int) -> bool:
                async with pool.connection() as conn:
                    cur = await conn.execute(ADDRESS_SQL, addrs[i][1:])
                    return await cur.fetchone() is not None

            async def api_health(i: int) -> bool:
                return (await client.get("/healthz")).status_code == 200

            warm = min(200, args.requests)
            await drive("warm-up", api_point, warm, args.seconds, args.concurrency)
            await drive("warm-up", api_address, warm, args.seconds, args.concurrency)
            out = []
            for label, api, bare in (
                ("point lookups", api_point, sql_point),
                ("address resolutions", api_address, sql_address),
            ):
                a = await drive(f"API {label}", api, args.requests, args.seconds, args.concurrency)
                b = await drive(
                    f"bare SQL {label}", bare, args.requests, args.seconds, args.concurrency
                )
                out.append((a, b))
            ceiling = await drive(
                "API GET /healthz (HTTP stack + SELECT 1)",
                api_health, args.requests, args.seconds, args.concurrency,
            )  # fmt: skip
            return out, ceiling
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def report(
    args: argparse.Namespace, region: Region, pairs: Sequence[tuple[Run, Run]], ceiling: Run
) -> str:
    lines = [
        f"### API load ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        "```",
        "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "```",
        "",
        f"Synthetic region: {region.communities} communities in {region.townships} townships, "
        f"{region.grids:,} grids, {region.buildings:,} buildings, {region.buildings * UNITS:,} units, "
        f"a chief on every post. uvicorn workers: {args.workers}; concurrency {args.concurrency} "
        f"over loopback; {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the "
        f"end: other jobs share them), Python {platform.python_version()}.",
        "",
        "| what | requests | errors | req/s | p50 ms | p99 ms | API / bare SQL (req/s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for api, bare in pairs:
        for run in (api, bare):
            ratio = f"{api.rate / bare.rate:.3f}" if run is api and bare.rate else ""
            lines.append(
                f"| {run.name} | {run.done:,} | {run.errors} | {run.rate:,.0f} | "
                f"{run.pct(0.50):.1f} | {run.pct(0.99):.1f} | {ratio} |"
            )
    lines.append(
        f"| {ceiling.name} | {ceiling.done:,} | {ceiling.errors} | {ceiling.rate:,.0f} | "
        f"{ceiling.pct(0.50):.1f} | {ceiling.pct(0.99):.1f} | |"
    )
    lines.append("")
    lines.append(
        "Bare SQL = the point-in-grid query, and the exact building + grid query by community, "
        "compound and building number, over an async psycopg pool at the same concurrency. "
        "The API adds HTTP, JSON, the address parse, candidate matching, division context "
        "and the three chiefs. The /healthz row is the ceiling of the HTTP stack itself "
        "(uvicorn + FastAPI + the httpx client, all on this machine's CPUs)."
    )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--townships", type=int, default=20)
    parser.add_argument("--communities", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--server-url", default=None, help="PostgreSQL server (default: local)")
    parser.add_argument("--database", default="gridmap_bench_api")
    parser.add_argument("--append", type=Path, default=None, help="Append the result table here.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    server = (
        make_conninfo(args.server_url, dbname="postgres") if args.server_url else find_server()[0]
    )
    url = fresh_database(server, args.database)
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        region = populate(conn, args.townships, args.communities, args.seed)
    LOG.info(
        "region: %d grids, %d buildings in %.1f s",
        region.grids,
        region.buildings,
        time.perf_counter() - t0,
    )
    pairs, ceiling = asyncio.run(measure(args, url, region))
    text = report(args, region, pairs, ceiling)
    sys.stdout.write(text)
    for api, _ in pairs:
        if api.errors:
            LOG.warning("%s: %d requests failed", api.name, api.errors)
    if args.append:
        with args.append.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)
    LOG.info(
        "median API address latency %.1f ms", statistics.median(pairs[1][0].latencies_ms or [0])
    )


if __name__ == "__main__":
    main()
