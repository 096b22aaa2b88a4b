"""Import throughput: ``gridmap import`` against ``ogr2ogr -f PostgreSQL`` on the same file.

Both load the same GeoPackage into a fresh database on the same server in the same run.
ogr2ogr only copies the layers as they are (no validation, no CRS handling beyond the file's,
no merging by natural keys, no generations), so it is the floor a loader can reach; gridmap
also validates every row first, which is reported on its own line.

    python bench/import_throughput.py --scale district
    python bench/import_throughput.py --file out/province.gpkg   # a file written earlier

Prints rows/s for each and the ratio gridmap / ogr2ogr (time), and appends nothing: copy the
printed lines into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import logging
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gridmap.db.load import known_division_codes, load_interchange  # noqa: E402
from gridmap.db.provision import (  # noqa: E402
    find_server,
    scratch_database,
)
from gridmap.io import read_interchange  # noqa: E402
from gridmap.io.validate import validate_or_raise  # noqa: E402

LOG = logging.getLogger("bench.import")


def _peak_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--scale", default="district")
    ap.add_argument("--file", help="an existing GeoPackage to load instead of generating one")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    if shutil.which("ogr2ogr") is None:
        raise SystemExit("ogr2ogr not found: apt-get install gdal-bin")

    if args.file:
        path = Path(args.file)
    else:
        from geodata.sample import write_sample

        path = ROOT / "out" / f"bench-{args.scale}-{args.seed}.gpkg"
        if not path.exists():
            t0 = time.perf_counter()
            write_sample(path, scale=args.scale, seed=args.seed)  # type: ignore[arg-type]
            LOG.info("generated %s in %.1fs", path, time.perf_counter() - t0)
    server, _ = find_server()

    # gridmap: read + validate + load (one transaction, COPY, natural-key merge)
    with scratch_database(server, prefix="gridmap_bench") as conninfo:
        t0 = time.perf_counter()
        data = read_interchange(path)
        t_read = time.perf_counter() - t0
        peak = {"read": _peak_mb()}
        rows = sum(data.counts().values())
        with psycopg.connect(conninfo) as conn:
            t1 = time.perf_counter()
            validate_or_raise(data, known_codes=known_division_codes(conn))
            t_validate = time.perf_counter() - t1
            peak["validate"] = _peak_mb()
            t2 = time.perf_counter()
            load_interchange(conn, data, source="bench")
            t_load = time.perf_counter() - t2
            peak["load"] = _peak_mb()
        t_gridmap = time.perf_counter() - t0

    # ogr2ogr: the same file, layer by layer, into a database with PostGIS only
    with scratch_database(server, prefix="gridmap_bench", migrated=False) as conninfo:
        dsn = f"PG:{conninfo}"
        t0 = time.perf_counter()
        subprocess.run(
            [
                "ogr2ogr",
                "-f",
                "PostgreSQL",
                dsn,
                str(path),
                "-lco",
                "GEOMETRY_NAME=geom",
                "-lco",
                "SPATIAL_INDEX=GIST",
                "--config",
                "PG_USE_COPY",
                "YES",
                "-nlt",
                "PROMOTE_TO_MULTI",
                "-gt",
                "65536",
            ],
            check=True,
            capture_output=True,
        )
        t_ogr = time.perf_counter() - t0

    print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB), {rows:,} rows")
    print(
        f"gridmap import : {t_gridmap:7.2f} s  ({rows / t_gridmap:,.0f} rows/s)  "
        f"[read {t_read:.2f} s, validate {t_validate:.2f} s, load {t_load:.2f} s]"
    )
    print("peak memory of the import so far, after each step: "
          + ", ".join(f"{k} {v:,.0f} MB" for k, v in peak.items()))  # fmt: skip
    print(f"ogr2ogr        : {t_ogr:7.2f} s  ({rows / t_ogr:,.0f} rows/s)")
    print(
        f"ratio gridmap/ogr2ogr time: {t_gridmap / t_ogr:.2f}  "
        f"(load step alone: {t_load / t_ogr:.2f})"
    )


if __name__ == "__main__":
    main()
