"""Load on the HTTP API, driven by ``wrk``: gridmap against tipg and the bare query, same run.

    python bench/api_load.py [--seconds 15] [--concurrency 32] [--workers 1,2]
                             [--servers uvicorn,granian] [--townships 20] [--communities 20]
                             [--append docs/benchmarks.md]

It builds a synthetic region in a fresh database (``gridmap_bench_api`` on the local server,
or ``--server-url``): townships x communities, each community a 0.01° cell cut into 2x2
grids, 5 compounds of 10 buildings each with 3 units, and a chief on every post. Then, for
each server (uvicorn with uvloop and httptools; granian) and each number of workers, it
starts the API and runs ``wrk -t2 -c<concurrency>`` for ``--seconds`` on:

* point lookups, ``GET /v1/resolve/point`` at 2,000 random points of the region (grid,
  divisions, grid chief, building and building chief: one round trip);
* full address resolutions, ``GET /v1/resolve?address=…`` of 区+街道+社区+compound+栋+单元;
* ``GET /healthz`` (the HTTP stack and ``SELECT 1``).

wrk is written in C and leaves the CPU to the server (a Python client eats the cores it
measures). The peer is tipg (installed by this script into ``out/bench-venv``, never into
the project's environment) over the same database, serving the same points as
``/collections/public.current_grid/items?filter=S_INTERSECTS(boundary,POINT(x y))``
with ``skip-geometry=true``, and its ``/healthz``, with the same workers. The bare query is
the point-in-grid SELECT over psycopg's async pool at the same concurrency, driven from
Python. Printed: req/s, p50, p99, errors (non-2xx, socket errors and timeouts), and the
ratios gridmap / tipg and gridmap / bare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

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

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = ROOT / "out" / "bench-venv"

LUA = """
local reqs = %s
local n = 0
local json = {["Content-Type"] = "application/json"}
request = function()
  n = n + 1
  local r = reqs[(n %% #reqs) + 1]
  if r[3] then
    return wrk.format(r[1], r[2], json, r[3])
  end
  return wrk.format(r[1], r[2])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nRESULT {"requests":%%d,"seconds":%%f,"non2xx":%%d,"socket":%%d,"timeout":%%d,' ..
    '"p50_us":%%d,"p99_us":%%d,"max_us":%%d}\\n',
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def run_wrk(
    base: str,
    requests: Sequence[str | tuple[str, str, str]],
    concurrency: int,
    seconds: float,
    tmp: Path,
) -> dict:
    """``wrk`` rotating through ``requests``: paths to GET, or (method, path, JSON body);
    gives requests, seconds, errors and latencies (µs)."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (./scripts/setup.sh does)")
    script = tmp / "requests.lua"
    entries = [
        f'{{"GET", [==[{r}]==]}}' if isinstance(r, str)
        else f'{{"{r[0]}", [==[{r[1]}]==], [==[{r[2]}]==]}}'
        for r in requests
    ]  # fmt: skip
    script.write_text(LUA % ("{" + ",".join(entries) + "}"), encoding="utf-8")
    threads = min(2, concurrency)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds:g}s", "--timeout", "10s",
         "-s", str(script), base + "/"],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    )  # fmt: skip
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT "))
    result: dict = json.loads(line.removeprefix("RESULT "))
    return result


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


def server_command(server: str, port: int, workers: int) -> list[str]:
    """How ``server`` (uvicorn, granian or tipg) is started on ``port``."""
    if server == "uvicorn":
        return [
            sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--loop", "uvloop", "--http", "httptools", "--log-level", "warning",
            "--no-access-log",
        ]  # fmt: skip
    if server == "granian":
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--loop", "uvloop", "--log-level", "warning", "--no-ws", "api.app:create_app",
        ]  # fmt: skip
    if server == "tipg":
        return [
            str(BENCH_VENV / "bin" / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--loop", "uvloop",
            "--http", "httptools", "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
    raise ValueError(f"server {server!r}: expected uvicorn, granian or tipg")


def start_server(
    url: str, port: int, workers: int, pool: int = 16, server: str = "uvicorn"
) -> subprocess.Popen[bytes]:
    env = dict(os.environ, GRIDMAP_DATABASE_URL=url, GRIDMAP_POOL_MAX_SIZE=str(pool),
               DATABASE_URL=tcp_url(url), TIPG_DB_SCHEMAS='["public"]',
               TIPG_DB_MIN_CONN_SIZE="1", TIPG_DB_MAX_CONN_SIZE=str(pool))  # fmt: skip
    cmd = server_command(server, port, workers)
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"{server} exited with {proc.returncode}")
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"{server} did not become healthy in 60 s")


def tcp_url(url: str) -> str:
    """``url`` over TCP to 127.0.0.1 (tipg's settings take no socket directory)."""
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(url)
    user = info.get("user") or "postgres"
    return f"postgresql://{user}@127.0.0.1:{info.get('port') or 5432}/{info['dbname']}"


def ensure_tipg() -> None:
    """tipg in a virtualenv of the benchmark's own (out/bench-venv), made once."""
    if (BENCH_VENV / "bin" / "uvicorn").exists() and (BENCH_VENV / "bin" / "python").exists():
        probe = subprocess.run([str(BENCH_VENV / "bin" / "python"), "-c", "import tipg"],
                               capture_output=True)  # fmt: skip
        if probe.returncode == 0:
            return
    LOG.info("installing tipg into %s (the benchmark's peer; not a project dependency)", BENCH_VENV)
    subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", "tipg", "uvicorn",
                    "uvloop", "httptools"], check=True)  # fmt: skip


POINT_SQL = (
    "SELECT g.code FROM current_grid g WHERE ST_Covers(g.boundary, "
    "ST_SetSRID(ST_MakePoint(%s, %s), 4490)) ORDER BY g.code LIMIT 1"
)
ADDRESS_SQL = (
    "SELECT b.external_id, g.code FROM building b JOIN current_grid g ON ST_Covers(g.boundary, b.point)"
    " WHERE b.community_code = %s AND b.compound = %s AND b.building_no = %s ORDER BY g.code LIMIT 1"
)


@dataclass
class Result:
    request: str
    server: str
    workers: int
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _result(request: str, server: str, workers: int, raw: dict) -> Result:
    return Result(request, server, workers, raw["requests"], raw["seconds"],
                  raw["non2xx"] + raw["socket"] + raw["timeout"],
                  raw["p50_us"] / 1000, raw["p99_us"] / 1000)  # fmt: skip


async def bare_rate(url: str, pts: list[tuple[float, float]], seconds: float, concurrency: int,
                    pool: int) -> Run:  # fmt: skip
    async with AsyncConnectionPool(
        url, min_size=pool, max_size=pool, kwargs={"autocommit": True}, open=False
    ) as p:
        await p.wait()

        async def one(i: int) -> bool:
            async with p.connection() as conn:
                cur = await conn.execute(POINT_SQL, pts[i % len(pts)], prepare=True)
                return await cur.fetchone() is not None

        return await drive("bare point query", one, 10**9, seconds, concurrency)


def measure(args: argparse.Namespace, url: str, region: Region) -> tuple[list[Result], Run]:
    rng = random.Random(args.seed)
    span_x, span_y = args.communities * CELL, args.townships * CELL
    pts = [(X0 + rng.random() * span_x, Y0 + rng.random() * span_y) for _ in range(2000)]
    addrs = [rng.choice(region.addresses) for _ in range(2000)]
    paths = {
        "point": [f"/v1/resolve/point?lon={x:.6f}&lat={y:.6f}" for x, y in pts],
        "address": ["/v1/resolve?" + urlencode({"address": a[0]}) for a in addrs],
        "healthz": ["/healthz"],
    }
    tipg_paths = {
        "point": [
            "/collections/public.current_grid/items?"
            + urlencode(
                {
                    "filter": f"S_INTERSECTS(boundary,POINT({x:.6f} {y:.6f}))",
                    "skip-geometry": "true",
                    "limit": "1",
                }
            )
            for x, y in pts
        ],
        "healthz": ["/healthz"],
    }
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for server in [*args.servers, "tipg"]:
            for workers in args.workers:
                port = free_port()
                proc = start_server(url, port, workers, server=server)
                base = f"http://127.0.0.1:{port}"
                try:
                    kinds = tipg_paths if server == "tipg" else paths
                    for request, ps in kinds.items():
                        run_wrk(base, ps, args.concurrency, 2, Path(tmp))  # warm-up
                        raw = run_wrk(base, ps, args.concurrency, args.seconds, Path(tmp))
                        results.append(_result(request, server, workers, raw))
                        LOG.info("%s %s x%d: %.0f req/s", server, request, workers,
                                 results[-1].rate)  # fmt: skip
                finally:
                    proc.terminate()
                    proc.wait(timeout=30)
    bare = asyncio.run(bare_rate(url, pts, args.seconds, args.concurrency, 16))
    return results, bare


def report(args: argparse.Namespace, region: Region, results: list[Result], bare: Run) -> str:
    lines = [
        f"### API load ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        "```",
        "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "```",
        "",
        f"Synthetic region: {region.communities} communities in {region.townships} townships, "
        f"{region.grids:,} grids, {region.buildings:,} buildings, {region.buildings * UNITS:,} "
        f"units, a chief on every post. `wrk -t2 -c{args.concurrency} -d{args.seconds:g}s` "
        f"over loopback after a 2 s warm-up; {os.cpu_count()} CPUs shared by server, database "
        f"and wrk (load average {os.getloadavg()[0]:.1f} at the end); Python "
        f"{platform.python_version()}. Bare query: the point-in-grid SELECT over an async "
        f"psycopg pool of 16, {args.concurrency} in flight: {bare.rate:,.0f}/s "
        f"(p50 {bare.pct(0.5):.1f} ms, p99 {bare.pct(0.99):.1f} ms).",
        "",
        "| request | server | workers | req/s | p50 ms | p99 ms | p99/p50 | errors "
        "| / tipg | / bare query |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    tipg = {(r.request, r.workers): r.rate for r in results if r.server == "tipg"}
    for r in results:
        peer = tipg.get((r.request, r.workers))
        to_tipg = f"{r.rate / peer:.2f}" if peer and r.server != "tipg" else ""
        to_bare = f"{r.rate / bare.rate:.2f}" if r.request == "point" and bare.rate else ""
        tail_ratio = f"{r.p99_ms / r.p50_ms:.1f}" if r.p50_ms else ""
        lines.append(
            f"| {r.request} | {r.server} | {r.workers} | {r.rate:,.0f} | {r.p50_ms:.1f} | "
            f"{r.p99_ms:.1f} | {tail_ratio} | {r.errors} | {to_tipg} | {to_bare} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=lambda s: [int(v) for v in s.split(",")],
                        default=[1, 2])  # fmt: skip
    parser.add_argument("--servers", type=lambda s: s.split(","), default=["uvicorn", "granian"])
    parser.add_argument("--townships", type=int, default=20)
    parser.add_argument("--communities", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--server-url", default=None, help="PostgreSQL server (default: local)")
    parser.add_argument("--database", default="gridmap_bench_api")
    parser.add_argument("--append", type=Path, default=None, help="Append the result table here.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    ensure_tipg()
    server = (
        make_conninfo(args.server_url, dbname="postgres") if args.server_url else find_server()[0]
    )
    url = fresh_database(server, args.database)
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        region = populate(conn, args.townships, args.communities, args.seed)
    LOG.info("region: %d grids, %d buildings in %.1f s", region.grids, region.buildings,
             time.perf_counter() - t0)  # fmt: skip
    results, bare = measure(args, url, region)
    text = report(args, region, results, bare)
    sys.stdout.write(text)
    for r in results:
        if r.errors:
            LOG.warning("%s %s x%d: %d requests failed", r.server, r.request, r.workers, r.errors)
    if args.append:
        with args.append.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
