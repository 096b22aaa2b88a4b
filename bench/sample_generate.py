"""Time the sample-region generator per scale and report the GeoPackage size.

    python bench/sample_generate.py community street district          # quick
    python bench/sample_generate.py province --out /tmp/gridmap-sample   # long

Prints one line per scale: seconds, peak memory (MB), file size (MB) and rows per layer.
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time
from pathlib import Path

from geodata.sample import SCALES, write_sample


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scales", nargs="*", default=["community", "street", "district"])
    parser.add_argument("--out", type=Path, default=Path("/tmp/gridmap-sample"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folder", action="store_true", help="write a folder, not a GeoPackage")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    for scale in args.scales:
        if scale not in SCALES:
            parser.error(f"unknown scale {scale!r}: expected one of {SCALES}")
        target = args.out / (scale if args.folder else f"{scale}.gpkg")
        t0 = time.perf_counter()
        counts = write_sample(target, scale, args.seed)  # type: ignore[arg-type]
        seconds = time.perf_counter() - t0
        files = [target] if target.is_file() else list(target.iterdir())
        size = sum(f.stat().st_size for f in files) / 1e6
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows = " ".join(f"{k}={v}" for k, v in counts.items())
        sys.stdout.write(f"{scale}: {seconds:.1f} s, peak {peak:.0f} MB, {size:.1f} MB, {rows}\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
