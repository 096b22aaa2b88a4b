"""Bulk resolution: points and addresses through ``gridmap resolve FILE.csv``, points against
``geopandas.sjoin`` on the same points in the same run.

A sample region is generated and imported into a fresh database. ``--n`` points are drawn
uniformly (seeded) in the bounding box of the current grids, so some fall outside every grid;
for those gridmap also finds the nearest grid and its distance, which sjoin does not do.
``--inside`` draws them inside the grids only. ``--n-addresses`` addresses are drawn with
replacement from the labelled variants of :mod:`gridmap.testing.messy` (full and partial
prefixes, numerals, shorthand, typos, places that do not exist ...).

gridmap is timed end to end as a user runs it: the CLI reads the CSV, resolves it in chunks
over one connection and writes grid, grid chief, building, building chief, unit chief and
match level for every row. The baseline loads the grids from PostGIS into a GeoDataFrame (its
own line), builds the points' GeoDataFrame and runs ``sjoin(points, grids,
predicate="within")``, giving each point its grid and nothing else.

    python bench/resolve_bulk.py --scale district --n 1000000 --n-addresses 100000
    python bench/resolve_bulk.py --n 100000          # a quicker run

Prints one row per job with rows/s and the ratio to sjoin, and whether both agree on every
point's grid.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geodata.sample import SCALES, generate_sample  # noqa: E402
from gridmap.db.load import load_interchange  # noqa: E402
from gridmap.db.provision import conninfo_to_url, find_server, scratch_database  # noqa: E402
from gridmap.testing import generate_cases  # noqa: E402

LOG = logging.getLogger("bench.resolve_bulk")

GRIDS_SQL = "SELECT code, boundary FROM current_grid"


def run_cli(path: Path, out: Path, url: str, *options: str) -> tuple[float, str]:
    """Run ``gridmap resolve`` on ``path``; (seconds, its summary line)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "gridmap", "resolve", str(path), "--out", str(out), *options],
        env={**os.environ, "GRIDMAP_DATABASE_URL": url, "COLUMNS": "100"},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"gridmap resolve failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    lines = [ln for ln in proc.stderr.splitlines() if re.match(r"\s*ok [0-9,]+", ln)]
    return seconds, lines[-1].strip() if lines else ""


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--scale", default="district", choices=SCALES)
    ap.add_argument("--n", type=int, default=1_000_000, help="points (default 1,000,000)")
    ap.add_argument("--n-addresses", type=int, help="addresses (default: --n)")
    ap.add_argument("--inside", action="store_true", help="draw points inside the grids only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variants", type=int, default=10_000,
                    help="labelled address variants the addresses are drawn from")  # fmt: skip
    ap.add_argument("--workdir", type=Path, default=ROOT / "out" / "bench-bulk")
    ap.add_argument("--dask", action="store_true",
                    help="also run the points with --engine dask on a local 2-worker cluster")  # fmt: skip
    args = ap.parse_args()
    n_addr = args.n if args.n_addresses is None else args.n_addresses
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.workdir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)

    data = generate_sample(args.scale, seed=args.seed)
    server, _ = find_server(allow_private=True)
    rows: list[tuple[str, int, float, str]] = []
    with scratch_database(server, prefix="gridmap_bench") as conninfo:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            load_interchange(conn, data, source="bench")
            t0 = time.perf_counter()
            with warnings.catch_warnings():  # pandas prefers SQLAlchemy; psycopg works
                warnings.simplefilter("ignore", UserWarning)
                grids = gpd.read_postgis(GRIDS_SQL, conn, geom_col="boundary")
            t_grids = time.perf_counter() - t0

        # the same points for both
        x0, y0, x1, y1 = grids.total_bounds
        if args.inside:
            cover = shapely.union_all(grids.geometry.values)
            shapely.prepare(cover)
            xs, ys = np.empty(0), np.empty(0)
            while len(xs) < args.n:
                x, y = rng.uniform(x0, x1, args.n), rng.uniform(y0, y1, args.n)
                keep = shapely.contains_xy(cover, x, y)
                xs, ys = np.concatenate([xs, x[keep]]), np.concatenate([ys, y[keep]])
            xs, ys = xs[: args.n], ys[: args.n]
        else:
            xs, ys = rng.uniform(x0, x1, args.n), rng.uniform(y0, y1, args.n)
        points_csv = args.workdir / "points.csv"
        pd.DataFrame({"id": np.arange(args.n), "lon": xs, "lat": ys}).to_csv(
            points_csv, index=False, float_format="%.7f"
        )
        # round-tripped through the CSV, so both sides see the very same coordinates
        pts_in = pd.read_csv(points_csv)

        t0 = time.perf_counter()
        points = gpd.GeoDataFrame(
            {"id": pts_in["id"]},
            geometry=gpd.points_from_xy(pts_in["lon"], pts_in["lat"]),
            crs=grids.crs,
        )
        t_points = time.perf_counter() - t0
        t0 = time.perf_counter()
        joined = gpd.sjoin(points, grids, predicate="within", how="left")
        t_sjoin = time.perf_counter() - t0
        baseline = t_points + t_sjoin

        url = conninfo_to_url(conninfo)
        t_cli, summary = run_cli(points_csv, args.workdir / "points_out.csv", url)
        out = pd.read_csv(args.workdir / "points_out.csv", dtype={"grid_code": str})
        theirs = joined.groupby("id")["code"].min()  # lowest code on shared edges, as gridmap
        ours = out.set_index("id")["grid_code"].where(out.set_index("id")["status"] == "ok")
        agree = int((ours.fillna("") == theirs.reindex(ours.index).fillna("")).sum())
        t_dask = None
        if args.dask:
            dask_out = args.workdir / "points_dask_out.csv"
            t_dask, _ = run_cli(
                points_csv, dask_out, url, "--engine", "dask", "--dask-workers", "2"
            )
            same = dask_out.read_bytes() == (args.workdir / "points_out.csv").read_bytes()
            LOG.info("dask engine: output %s the local engine's", "the same as" if same else "NOT")
        inside = int(theirs.notna().sum())

        # addresses: drawn with replacement from the labelled variants
        cases = generate_cases(data, n=args.variants, seed=args.seed)
        pick = rng.integers(0, len(cases), n_addr)
        addr_csv = args.workdir / "addresses.csv"
        with addr_csv.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "address"])
            w.writerows((i, cases[k].text) for i, k in enumerate(pick))
        t_addr, addr_summary = run_cli(addr_csv, args.workdir / "addresses_out.csv", url)

    rows = [
        ("load grids from PostGIS into geopandas", len(grids), t_grids, ""),
        ("geopandas: points GeoDataFrame", args.n, t_points, ""),
        ("geopandas: sjoin within", args.n, t_sjoin, ""),
        ("geopandas: points + sjoin (baseline)", args.n, baseline, "1.00"),
        ("gridmap resolve points.csv", args.n, t_cli, f"{t_cli / baseline:.1f}"),
        ("gridmap resolve addresses.csv", n_addr, t_addr, ""),
    ]
    if t_dask is not None:
        rows.insert(5, ("gridmap resolve points.csv --engine dask (2 local workers)", args.n,
                        t_dask, f"{t_dask / baseline:.1f}"))  # fmt: skip
    print(
        f"scale {args.scale}: {len(data.buildings):,} buildings, {len(grids):,} grids; "
        f"{args.n:,} points ({'inside the grids' if args.inside else 'uniform in the grids bbox'}"
        f", {inside:,} inside a grid), {n_addr:,} addresses from {len(cases):,} variants"
    )
    print("| job | rows | seconds | rows/s | time ratio to sjoin |")
    print("|---|---:|---:|---:|---:|")
    for job, n, s, ratio in rows:
        print(f"| {job} | {n:,} | {s:.2f} | {n / s:,.0f} | {ratio} |")
    print(f"points: {summary}; gridmap and sjoin agree on {agree:,} of {args.n:,} grids")
    print(f"addresses: {addr_summary}; {len(set(pick.tolist())):,} distinct of {n_addr:,}")


if __name__ == "__main__":
    main()
