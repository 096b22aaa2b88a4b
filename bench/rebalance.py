"""Rebalancing after growth: gridmap's engine against METIS on the same community, same run.

    python bench/rebalance.py [--blocks 19] [--grow 0.10] [--seeds 0,1,2] [--fresh]

The community is a 2 km square cut into ``--blocks`` x ``--blocks`` square grids, each
holding 4-8 buildings of 20-120 households (320-480 per grid, so the current plan is all in
the 300-500 band). Then the ``--grow`` share of buildings nearest the south-west corner grows
by 60%. ``--fresh`` instead starts from one grid holding everything (a plan from scratch).

The rival is METIS (``pip install pymetis``, not a gridmap dependency) on the buildings'
Voronoi adjacency, households as weights, k = round(households / 400), contiguous parts.
Both plans are scored the same way: share of grids in the band, largest deviation from the
ideal, households moved (a building moves when its grid code changes; codes carry over by
household majority, :func:`gridmap.lineage.inherit_by_households`), and wall time.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely import Point, box

from gridmap.lineage import inherit_by_households
from gridmap.rebalance import rebalance_community

LOG = logging.getLogger("bench.rebalance")
COMMUNITY = "220102005004"
ORIGIN = (440_000.0, 4_850_000.0)  # EPSG:4551 metres, near Changchun


def community(
    blocks: int, seed: int, grow: float, fresh: bool
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    side = 2000.0 / blocks
    grids: list[tuple[str, Any]] = []
    rows: list[tuple[str, int, str, Any]] = []
    for i in range(blocks):
        for j in range(blocks):
            while True:
                hh = rng.integers(20, 121, rng.integers(4, 9))
                if 320 <= hh.sum() <= 480:
                    break
            x0, y0 = ORIGIN[0] + i * side, ORIGIN[1] + j * side
            c = f"{COMMUNITY}{len(grids) + 1:03d}"
            grids.append((c, box(x0, y0, x0 + side, y0 + side)))
            for h in hh:
                u, v = rng.uniform(0.08, 0.92, 2)
                rows.append((f"b{len(rows)}", int(h), c, Point(x0 + u * side, y0 + v * side)))
    g = gpd.GeoDataFrame({"code": [c for c, _ in grids]}, geometry=[p for _, p in grids], crs=4551)
    b = gpd.GeoDataFrame({"id": [r[0] for r in rows], "households": [r[1] for r in rows],
                          "grid_code": [r[2] for r in rows]},
                         geometry=[r[3] for r in rows], crs=4551)  # fmt: skip
    d = np.hypot(b.geometry.x - ORIGIN[0], b.geometry.y - ORIGIN[1]).to_numpy()
    near = np.argsort(d)[: int(grow * len(b))]
    b.loc[b.index[near], "households"] = np.round(b["households"].to_numpy()[near] * 1.6).astype(
        int
    )
    if fresh:
        whole = shapely.union_all(g.geometry.to_numpy())
        g = gpd.GeoDataFrame({"code": [f"{COMMUNITY}001"]}, geometry=[whole], crs=4551)
        b["grid_code"] = f"{COMMUNITY}001"
    return g.to_crs(4490), b.to_crs(4490)


def score(labels: list[Any], b: gpd.GeoDataFrame, low: int, high: int) -> dict[str, Any]:
    hh = b["households"].to_numpy()
    totals: dict[Any, int] = {}
    for lab, h in zip(labels, hh.tolist(), strict=True):
        totals[lab] = totals.get(lab, 0) + h
    keep = inherit_by_households(
        [hash(x) for x in labels], list(b["grid_code"]), hh.tolist()
    )  # fmt: skip
    moved = sum(h for lab, code, h in zip(labels, b["grid_code"], hh.tolist(), strict=True)
                if keep.get(hash(lab)) != code)  # fmt: skip
    loads = np.array(list(totals.values()))
    ideal = loads.mean()
    return {
        "grids": len(loads),
        "in_band": float(((loads >= low) & (loads <= high)).mean()),
        "max_dev_pct": float(100 * np.abs(loads - ideal).max() / ideal),
        "moved_pct": 100 * moved / hh.sum(),
    }


def metis(b: gpd.GeoDataFrame) -> list[int]:
    import pymetis

    pts = b.to_crs(4551).geometry.to_numpy()
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts)))
    _, owner = shapely.STRtree(pts).query_nearest(
        shapely.point_on_surface(cells), all_matches=False
    )
    order = np.empty(len(pts), dtype=np.int64)
    order[owner] = np.arange(len(cells))
    cells = cells[order]
    i, j = shapely.STRtree(cells).query(cells, predicate="touches")
    adj: list[list[int]] = [[] for _ in range(len(pts))]
    for a, c in zip(i.tolist(), j.tolist(), strict=True):
        if a != c:
            adj[a].append(c)
    k = max(1, round(int(b["households"].sum()) / 400))
    opts = pymetis.Options(contig=True)
    _, parts = pymetis.part_graph(
        k, adjacency=adj, vweights=b["households"].astype(int).tolist(), options=opts
    )
    return list(parts)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--blocks", type=int, default=19)
    ap.add_argument("--grow", type=float, default=0.10)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--fresh", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    LOG.info("| seed | buildings | grids over 500 | method | grids | in band | max dev % | "
             "households moved % | time s | gridmap / METIS time |")  # fmt: skip
    LOG.info("|---|---|---|---|---|---|---|---|---|---|")
    for seed in (int(s) for s in args.seeds.split(",")):
        g, b = community(args.blocks, seed, args.grow, args.fresh)
        over = int((b.groupby("grid_code")["households"].sum() > 500).sum())
        t0 = time.perf_counter()
        plan = rebalance_community(COMMUNITY, g, b)
        ours_t = time.perf_counter() - t0
        ours = score(list(plan.assignment["grid_code"]), b, 300, 500)
        t0 = time.perf_counter()
        try:
            rival_labels = metis(b)
            rival_t = time.perf_counter() - t0
            rival = score(rival_labels, b, 300, 500)
        except ImportError:
            rival_t, rival = float("nan"), None
        for name, s, t in (("gridmap", ours, ours_t), ("METIS", rival, rival_t)):
            if s is None:
                LOG.info(
                    "| %d | %d | %d | %s | (pip install pymetis) | | | | | |",
                    seed,
                    len(b),
                    over,
                    name,
                )
                continue
            LOG.info("| %d | %d | %d | %s | %d | %.1f%% | %.1f | %.2f | %.2f | %s |", seed, len(b), over,
                     name, s["grids"], 100 * s["in_band"], s["max_dev_pct"], s["moved_pct"], t,
                     f"{ours_t / rival_t:.1f}" if name == "gridmap" and rival else "")  # fmt: skip


if __name__ == "__main__":
    main()
