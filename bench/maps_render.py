"""Map pages: HTML size and the wall time headless Chromium takes to load and draw them.

    python bench/maps_render.py [--scales community,street,district] [--append FILE]

For each scale the sample region is generated and imported into a scratch database, and the
coverage map of the scale's division (one community, one street, the whole district) is
built. Each page is loaded in headless Chromium (no network; ``--dump-dom`` once the page's
scripts have run; wall time of the whole browser run, best of three). The baseline in the
same run is the same grids drawn by folium's own ``GeoJson`` on the same offline base (no
styling, tooltips or labels): the ratio is our page over that. The board PDF is timed against
Chromium printing an empty page.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import folium  # noqa: E402

from geodata.sample import generate_sample  # noqa: E402
from gridmap.db import mapdata  # noqa: E402
from gridmap.db.provision import find_server, scratch_database  # noqa: E402
from gridmap.maps import load_leaflet  # noqa: E402
from gridmap.maps.base import base_map, wgs84  # noqa: E402
from gridmap.maps.board import html_to_pdf  # noqa: E402
from gridmap.service import Gridmap  # noqa: E402

LOG = logging.getLogger("bench.maps_render")


def load_time(chromium: str, page: Path, tmp: Path, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        args = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-dev-shm-usage", "--disable-background-networking",
            f"--user-data-dir={tmp / 'profile'}", "--proxy-server=http://127.0.0.1:9",
            "--window-size=1200,800", "--dump-dom", page.as_uri(),
        ]  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(args, capture_output=True, check=True, timeout=300)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scales", default="community,street,district")
    ap.add_argument("--append", type=Path, default=None)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    assets = load_leaflet()
    server, _ = find_server(allow_private=True)
    rows = []
    board = None
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for scale in args.scales.split(","):
            data = generate_sample(scale, seed=0)  # type: ignore[arg-type]
            with (
                scratch_database(server, prefix="gridmap_bench_maps") as url,
                Gridmap.connect(url) as gm,
            ):
                gm.import_data(data, source="bench")
                grids = data.grids
                codes = sorted(grids["community_code"].unique())
                within = {"community": codes[0], "street": codes[0][:9] + "000"}.get(
                    scale, codes[0][:6] + "000000"
                )
                m = gm.coverage_map(within, assets=assets)
                ours = tmp / f"{scale}.html"
                ours.write_text(m.get_root().render(), encoding="utf-8")
                with gm.connection() as conn:
                    cov = mapdata.coverage_data(conn, within)
                g = wgs84(cov.grids, "grids")
                plain = base_map([g], assets, None, None, None)
                folium.GeoJson(g[["code", "geometry"]].to_json()).add_to(plain)
                base = tmp / f"{scale}-plain.html"
                base.write_text(plain.get_root().render(), encoding="utf-8")
                t_ours, t_base = load_time(chromium, ours, tmp), load_time(chromium, base, tmp)
                rows.append((scale, within, len(cov.grids), ours.stat().st_size,
                             base.stat().st_size, t_ours, t_base))  # fmt: skip
                LOG.info("%s: %d grids, %.0f kB, %.2f s", scale, len(cov.grids),
                         ours.stat().st_size / 1024, t_ours)  # fmt: skip
                if board is None:
                    page = gm.board(str(grids["code"].iloc[0]))
                    t0 = time.perf_counter()
                    html_to_pdf(page)
                    t_board = time.perf_counter() - t0
                    t0 = time.perf_counter()
                    html_to_pdf("<html><body></body></html>")
                    board = (t_board, time.perf_counter() - t0)
    lines = [
        f"### Map pages ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        "```",
        "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "```",
        "",
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the end). Load time: "
        "headless Chromium's whole run with `--dump-dom`, best of 3 (start-up included).",
        "",
        "| coverage map of | grids | HTML kB | plain folium kB | size ratio | load s | plain s | time ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scale, within, n, size, bsize, t, bt in rows:
        lines.append(
            f"| {scale} ({within}) | {n} | {size / 1024:,.0f} | {bsize / 1024:,.0f} | "
            f"{size / bsize:.2f} | {t:.2f} | {bt:.2f} | {t / bt:.2f} |"
        )
    if board is not None:
        lines += ["", f"Board PDF: {board[0]:.2f} s, against {board[1]:.2f} s for an empty page "
                      f"({board[0] / board[1]:.2f}×)."]  # fmt: skip
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.append:
        with args.append.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
