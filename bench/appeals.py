"""Appeals: intake throughput through the HTTP API, and a district's dashboard at 100,000 appeals.

The benchmark makes its own database: the demo sample region (南关区) imported and merged as
``scripts/demo.sh`` does, with the illustrative responsibility list. Then it measures, in the
same run:

* **intake through the API:** ``wrk`` (a C load generator that leaves the CPU to the server)
  posts appeals at the region's building points to ``POST /v1/appeals`` on uvicorn
  (``--workers``). Each is located, routed by the list, given a working-time deadline,
  checked for duplicates and written with its event and notices in one transaction.
  **Baseline:** the bare SQL of an intake over one psycopg connection: the grid at the
  point, then the appeal row and its event in one transaction.
* **the dashboard:** ``--appeals`` appeals are bulk-inserted under the district (in every
  state, with callbacks), then ``gridmap.dashboard(district)`` and
  ``GET /v1/appeals/dashboard`` are timed (median of 5). **Baseline:** one raw
  ``GROUP BY state`` count over the same rows.

Run: ``python bench/appeals.py --workers 2 --seconds 15 --appeals 100000``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_load import find_server, free_port, fresh_database, run_wrk, start_server

if TYPE_CHECKING:
    from collections.abc import Sequence

LOG = logging.getLogger("bench.appeals")
ROOT = Path(__file__).resolve().parent.parent
DISTRICT = "220102000000"
MATTERS = ["SANI.01", "SAFE.01", "PROP.02", "ENV.02", "NOISE.02", "WATER.04", "PROP.01"]


def gridmap(url: str, *args: str) -> None:
    env = dict(os.environ, GRIDMAP_DATABASE_URL=url)
    subprocess.run([sys.executable, "-m", "gridmap", "-q", *args], env=env, cwd=ROOT, check=True)


def prepare(url: str, tmp: Path) -> None:
    t0 = time.perf_counter()
    gridmap(url, "sample", "--scale", "demo", "--out", str(tmp / "sample.gpkg"))
    gridmap(url, "import", str(tmp / "sample.gpkg"))
    gridmap(url, "merge")
    gridmap(url, "duties", "load-sample")
    LOG.info("demo region ready in %.0f s", time.perf_counter() - t0)


def points(url: str, n: int) -> list[tuple[float, float]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT ST_X(point), ST_Y(point) FROM building ORDER BY md5(id::text)"
                            " LIMIT %s", (n,)).fetchall()  # fmt: skip
    return [(float(x), float(y)) for x, y in rows]


def wrk_intake(base: str, pts: list[tuple[float, float]], seconds: float, conc: int,
               tmp: Path) -> dict[str, Any]:  # fmt: skip
    bodies = [json.dumps({"matter": MATTERS[i % len(MATTERS)], "description": "楼道堆物，请处理",
                          "lon": x, "lat": y, "channel": "app"}, ensure_ascii=False)
              for i, (x, y) in enumerate(pts)]  # fmt: skip
    result: dict[str, Any] = run_wrk(base, [("POST", "/v1/appeals", b) for b in bodies], conc,
                                     seconds, tmp)  # fmt: skip
    return result


BARE_GRID = ("SELECT code, community_code FROM current_grid WHERE ST_Intersects(boundary,"
             " ST_SetSRID(ST_MakePoint(%s, %s), 4490)) ORDER BY code LIMIT 1")  # fmt: skip
BARE_INSERT = (
    "INSERT INTO appeal (matter_code, description, channel, location, grid_code,"
    " community_code, owner_kind, owner_code, owner_name, created_by)"
    " VALUES (%s, '楼道堆物，请处理', 'app', ST_SetSRID(ST_MakePoint(%s, %s), 4490), %s, %s,"
    " 'grid', %s, 'grid', 'bench') RETURNING id"
)


def bare_intake(url: str, pts: list[tuple[float, float]], seconds: float) -> float:
    n = 0
    with psycopg.connect(url, autocommit=True) as conn:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            x, y = pts[n % len(pts)]
            with conn.transaction():
                row = conn.execute(BARE_GRID, (x, y)).fetchone()
                grid, comm = row if row else (None, None)
                found = conn.execute(BARE_INSERT, (MATTERS[n % len(MATTERS)], x, y, grid, comm,
                                                   grid or "")).fetchone()  # fmt: skip
                assert found is not None
                conn.execute("INSERT INTO appeal_event (appeal_id, actor, action, to_state)"
                             " VALUES (%s, 'bench', 'receive', 'received')", (found[0],))  # fmt: skip
            n += 1
        return n / (time.perf_counter() - t0)


BULK_POINTS = """
CREATE TEMP TABLE bench_point AS
SELECT point, row_number() OVER (ORDER BY id) AS k FROM building WHERE community_code LIKE '220102%%';
CREATE INDEX ON bench_point (k);
"""
BULK = """
WITH s AS (
  SELECT i, p.point,
         (ARRAY['received','signed','handled','verifying','callback','closed','closed',
                'closed','closed','reopened','returned'])[1 + i %% 11] AS state,
         now() - (i %% 365) * interval '1 day' - (i %% 97) * interval '1 hour' AS t
  FROM generate_series(1, %(n)s) AS i
  JOIN bench_point p ON p.k = 1 + (i * 7919) %% (SELECT count(*) FROM bench_point))
INSERT INTO appeal (matter_code, description, channel, location, grid_code, community_code,
                    street_code, county_code, owner_kind, owner_code, owner_name, state,
                    time_limit, time_unit, received_at, deadline, signed_at, handled_at,
                    closed_at, satisfaction, created_by)
SELECT (ARRAY['SANI.01','SAFE.01','PROP.02','ENV.02','NOISE.02'])[1 + s.i %% 5], '批量', 'hotline',
       s.point, g.code, g.community_code, left(g.community_code, 9) || '000', '220102000000',
       'street', left(g.community_code, 9) || '000', '街道', s.state, 3, 'days', s.t,
       s.t + interval '5 days',
       CASE WHEN s.state NOT IN ('received', 'returned') THEN s.t + (s.i %% 48) * interval '1 hour' END,
       CASE WHEN s.state IN ('verifying','callback','closed') THEN s.t + (s.i %% 120) * interval '1 hour' END,
       CASE WHEN s.state = 'closed' THEN s.t + (s.i %% 200) * interval '1 hour' END,
       CASE WHEN s.state = 'closed' THEN (ARRAY['satisfied','basically_satisfied','unsatisfied'])[1 + s.i %% 3] END,
       'bench'
FROM s JOIN LATERAL (SELECT code, community_code FROM current_grid
                     WHERE ST_Intersects(boundary, s.point) ORDER BY code LIMIT 1) g ON true
"""
BULK_EVENTS = """
INSERT INTO appeal_event (appeal_id, at, actor, action, from_state, to_state, satisfaction)
SELECT id, closed_at, 'bench', 'callback', 'callback', 'closed', satisfaction
FROM appeal WHERE created_by = 'bench' AND state = 'closed'
"""


def bulk(url: str, n: int) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in BULK_POINTS.replace("%%", "%").split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(BULK, {"n": n})
        conn.execute(BULK_EVENTS)
        conn.execute("ANALYZE appeal")
        conn.execute("ANALYZE appeal_event")
        row = conn.execute("SELECT count(*) FROM appeal WHERE county_code = %s",
                           (DISTRICT,)).fetchone()  # fmt: skip
    return int(row[0]) if row else 0


def timed(fn: Any, repeat: int = 5) -> float:
    fn()  # warm
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--appeals", type=int, default=100_000)
    parser.add_argument("--database", default="gridmap_bench_appeals")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from gridmap.service import Gridmap

    server, _ = find_server(allow_private=True)
    url = fresh_database(server, args.database)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        prepare(url, tmp)
        pts = points(url, 2000)
        port = free_port()
        proc = start_server(url, port, args.workers)
        try:
            base = f"http://127.0.0.1:{port}"
            wrk_intake(base, pts, 3, args.concurrency, tmp)  # warm-up
            api = wrk_intake(base, pts, args.seconds, args.concurrency, tmp)
            bare = bare_intake(url, pts, args.seconds)
            n = bulk(url, args.appeals)
            with Gridmap.connect(url) as gm:
                lib_s = timed(lambda: gm.dashboard(DISTRICT))
            http_s = timed(lambda: httpx.get(f"{base}/v1/appeals/dashboard",
                                             params={"division": DISTRICT}, timeout=30))  # fmt: skip
            with psycopg.connect(url) as conn:
                raw_s = timed(lambda: conn.execute(
                    "SELECT state, count(*) FROM appeal WHERE county_code = %s GROUP BY state",
                    (DISTRICT,)).fetchall())  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    rate = api["requests"] / api["seconds"]
    errors = api["non2xx"] + api["socket"] + api["timeout"]
    print(f"intake through the API ({args.workers} uvicorn workers, wrk -c{args.concurrency}, "
          f"{args.seconds:g} s): {rate:,.0f} appeals/s, p50 {api['p50_us'] / 1000:.1f} ms, "
          f"p99 {api['p99_us'] / 1000:.1f} ms, errors {errors}")  # fmt: skip
    print(f"  baseline, bare SQL intake over one connection: {bare:,.0f}/s; "
          f"ratio gridmap/bare {rate / bare:.2f}")  # fmt: skip
    print(f"dashboard of {DISTRICT} over {n:,} appeals: library {lib_s * 1000:.0f} ms, "
          f"HTTP {http_s * 1000:.0f} ms (median of 5)")  # fmt: skip
    print(f"  baseline, one raw GROUP BY state: {raw_s * 1000:.0f} ms; "
          f"ratio library/raw {lib_s / raw_s:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
