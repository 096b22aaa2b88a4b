"""多网合一 from a street to the whole province, one `gridmap merge` command each.

    python bench/merge_province.py --database-url URL [--workers 2] [--scopes street,county,city,province]
                                   [--baseline-city]

URL holds an imported sample (`python bench/sample_generate.py province`, then `gridmap
import`). For each scope the benchmark runs `gridmap merge CODE --workers N` as a user
would, under `/usr/bin/time -v`, and reports wall and CPU seconds, peak memory (the
largest of the command and its workers), communities and grids, and whether the current
grids of the scope are then one valid coverage (`shapely.coverage_is_valid` over all of
them, checked here from PostGIS, not taken from the command's word). A city or province
is merged county by county; a street or county in one call.

Baseline in the same run (``--baseline-city``): the same city merged in one call
(``--units none``), the way the previous release merged a city; the ratios say what
working county by county costs or saves in time and memory.

The scopes are the first street, county and city of the database (by code) with data.
"""

from __future__ import annotations

import argparse
import logging
import re
import subprocess
import time
from typing import Any

import psycopg
import shapely

LOG = logging.getLogger("bench.merge_province")


def _scopes(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:

        def first(level: str, digits: int) -> str:
            row = conn.execute(
                "SELECT rpad(left(code, %s), 12, '0') FROM division WHERE level = 'village' "
                "AND boundary IS NOT NULL ORDER BY code LIMIT 1",
                (digits,),
            ).fetchone()
            assert row is not None, f"no {level} with communities"
            return str(row[0])

        return {
            "street": first("township", 9),
            "county": first("county", 6),
            "city": first("city", 4),
            "province": first("province", 2),
        }


def _timed(cmd: list[str]) -> dict[str, Any]:
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    err = proc.stderr

    def field(name: str) -> float:
        m = re.search(rf"{re.escape(name)}: ([0-9.]+)", err)
        return float(m.group(1)) if m else float("nan")

    if proc.returncode != 0:
        LOG.error("%s failed (%d): %s", " ".join(cmd), proc.returncode, err[-2000:])
    return {
        "ok": proc.returncode == 0,
        "wall_s": wall,
        "cpu_s": field("User time (seconds)") + field("System time (seconds)"),
        "peak_mb": field("Maximum resident set size (kbytes)") / 1024,
        "output": proc.stdout,
    }


def _coverage(url: str, code: str) -> dict[str, Any]:
    """The scope's current grids from PostGIS, checked as one coverage here."""
    prefix = code.rstrip("0") or code
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT ST_AsBinary(boundary), community_code FROM current_grid "
            "WHERE community_code LIKE %s",
            (prefix + "%",),
        ).fetchall()
        areas = conn.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE abs(r) > 1e-4), max(abs(r)) FROM (
              SELECT sum(ST_Area(g.boundary::geography)) / ST_Area(d.boundary::geography) - 1 r
              FROM division d JOIN current_grid g ON g.community_code = d.code
              WHERE d.code LIKE %s GROUP BY d.code, d.boundary) x
            """,
            (prefix + "%",),
        ).fetchone()
    geoms = shapely.from_wkb([bytes(r[0]) for r in rows])
    start = time.perf_counter()
    valid = bool(shapely.coverage_is_valid(geoms))
    assert areas is not None
    return {
        "grids": len(geoms),
        "communities": len({r[1] for r in rows}),
        "valid": valid,
        "check_s": time.perf_counter() - start,
        "area_off": int(areas[1] or 0),
        "area_max": float(areas[2] or 0.0),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scopes", default="street,county,city,province")
    ap.add_argument("--baseline-city", action="store_true")
    ap.add_argument("--gridmap", default="gridmap", help="the gridmap command")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    codes = _scopes(args.database_url)
    rows = []
    for scope in args.scopes.split(","):
        code = codes[scope]
        cmd = [args.gridmap, "-q", "merge", code, "--workers", str(args.workers),
               "--database-url", args.database_url]  # fmt: skip
        LOG.info("%s %s: %s", scope, code, " ".join(cmd))
        run = _timed(cmd)
        cov = _coverage(args.database_url, code)
        rows.append(
            (
                scope,
                code,
                "county by county" if scope in ("city", "province") else "one call",
                run,
                cov,
            )
        )
        LOG.info("  %.1f s wall, %.1f s CPU, %.0f MB, %s", run["wall_s"], run["cpu_s"],
                 run["peak_mb"], cov)  # fmt: skip
        if scope == "city" and args.baseline_city:
            base = _timed([*cmd, "--units", "none"])
            bcov = _coverage(args.database_url, code)
            rows.append((scope, code, "one call (baseline)", base, bcov))
            LOG.info("  baseline: %.1f s wall, %.0f MB", base["wall_s"], base["peak_mb"])
    print()
    print(
        "| scope | code | how | communities | grids | wall s | CPU s | peak MB | one valid coverage | communities off area by > 0.01 % (max) |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---|---|")
    for scope, code, how, run, cov in rows:
        print(
            f"| {scope} | {code} | {how} | {cov['communities']:,} | {cov['grids']:,} | "
            f"{run['wall_s']:.1f} | {run['cpu_s']:.1f} | {run['peak_mb']:,.0f} | "
            f"{'yes' if cov['valid'] else 'NO'} ({cov['check_s']:.1f} s) | "
            f"{cov['area_off']} ({cov['area_max']:.2e}) |"
        )
    by = {(r[0], r[2]): r for r in rows}
    if ("city", "one call (baseline)") in by:
        units, one = by[("city", "county by county")][3], by[("city", "one call (baseline)")][3]
        print(f"\ncity, county by county / one call: time {units['wall_s'] / one['wall_s']:.2f}, "
              f"peak memory {units['peak_mb'] / one['peak_mb']:.2f}")  # fmt: skip
    scaled = [(r[4]["communities"], r[3]["cpu_s"]) for r in rows if r[2] != "one call (baseline)"]
    if len(scaled) > 1:
        (c0, t0) = scaled[0]
        print("\nscaling (CPU s per community, relative to the first scope): " + ", ".join(
            f"{c:,} communities {t / c / (t0 / c0):.2f}" for c, t in scaled))  # fmt: skip


if __name__ == "__main__":
    main()
