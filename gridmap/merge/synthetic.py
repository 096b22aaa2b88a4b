"""A seeded synthetic layout of communities, three misaligned legacy layers and buildings.

For tests, doctests and ``bench/merge_scale.py``: square communities in EPSG:4551 from
x=500000, y=4860000; each layer cuts them at its own granularity with 5-30 m of
misalignment, and some grids are dropped (gaps), grown (overlaps) or pushed across the
community line.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.codes import compose_division_code

#: cells per community (columns, rows) of each legacy layer
LAYER_CUTS: dict[str, tuple[int, int]] = {"governance": (3, 3), "civil": (3, 2), "party": (2, 2)}


def synthetic_layout(
    seed: int = 0,
    rows: int = 2,
    cols: int = 2,
    size: float = 900.0,
    rural_every: int = 4,
    spacing: float = 45.0,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(communities, legacy, buildings) in EPSG:4551; every ``rural_every``-th is a village.

    >>> comm, leg, bld = synthetic_layout(seed=3, rows=1, cols=2)
    >>> len(comm), sorted(set(leg["layer"])), bool(bld["households"].gt(0).all())
    (2, ['civil', 'governance', 'party'], True)
    """
    rng = np.random.default_rng(seed)
    x0, y0 = 500000.0, 4860000.0
    comm_rows, leg_rows, bld_rows = [], [], []
    for k in range(rows * cols):
        r, c = divmod(k, cols)
        rural = rural_every > 0 and k % rural_every == rural_every - 1
        village = (201 if rural else 1) + k % 150
        code = compose_division_code(22, 1, 2, 1 + k // 150, village)
        left, bottom = x0 + c * size, y0 + r * size
        frame = shapely.box(left, bottom, left + size, bottom + size)
        name = f"{'村' if rural else '社区'}{k + 1}"
        comm_rows.append((code, name, frame))
        for layer, (nx, ny) in LAYER_CUTS.items():
            xs = np.linspace(left, left + size, nx + 1)
            ys = np.linspace(bottom, bottom + size, ny + 1)
            xs[1:-1] += rng.uniform(5, 30, nx - 1) * rng.choice([-1, 1], nx - 1)
            ys[1:-1] += rng.uniform(5, 30, ny - 1) * rng.choice([-1, 1], ny - 1)
            xs[[0, -1]] += rng.uniform(-15, 15, 2)
            ys[[0, -1]] += rng.uniform(-15, 15, 2)
            drop = rng.integers(nx * ny) if rng.random() < 0.2 else -1
            grow = rng.integers(nx * ny) if rng.random() < 0.3 else -1
            cross = rng.integers(nx * ny) if rng.random() < 0.2 else -1
            for j in range(nx * ny):
                if j == drop:
                    continue
                ix, iy = j % nx, j // nx
                bx0, bx1, by0, by1 = xs[ix], xs[ix + 1], ys[iy], ys[iy + 1]
                if j == grow:
                    bx0, bx1, by0, by1 = bx0 - 15, bx1 + 15, by0 - 15, by1 + 15
                if j == cross:
                    bx1 += 120 if ix == nx - 1 else 0
                    by1 += 120 if iy == ny - 1 else 0
                ccode = None if rng.random() < 0.05 else code
                src = f"{layer[0].upper()}{k:04d}{j:02d}"
                leg_rows.append(
                    (layer, src, f"{name}{layer}{j + 1}", ccode, shapely.box(bx0, by0, bx1, by1))
                )
        n = int(size // spacing)
        gx, gy = np.meshgrid(np.arange(n), np.arange(n))
        keep = rng.random(gx.size) < 0.7
        for b, (ix, iy) in enumerate(zip(gx.ravel()[keep], gy.ravel()[keep], strict=True)):
            cx = left + spacing / 2 + ix * spacing + rng.uniform(-5, 5)
            cy = bottom + spacing / 2 + iy * spacing + rng.uniform(-5, 5)
            quad = 1 + int(ix >= n // 2) + 2 * int(iy >= n // 2)
            if rural:
                hh = int(rng.integers(1, 4))
                compound = None
                hamlet = None if rng.random() < 0.1 else f"{name}{'一二三四'[quad - 1]}屯"
                group = str(quad)
            else:
                hh = int(rng.integers(10, 41))
                compound = None if rng.random() < 0.2 else f"小区{k}-{ix // 3}-{iy // 3}"
                hamlet = group = None
            if rng.random() < 0.2:
                geom = shapely.Point(cx, cy)
            else:
                geom = shapely.box(cx - 12, cy - 6, cx + 12, cy + 6)
            bld_rows.append((f"B{k:05d}{b:04d}", code, hh, compound, hamlet, group, geom))
    crs = "EPSG:4551"
    communities = gpd.GeoDataFrame(
        pd.DataFrame([r[:2] for r in comm_rows], columns=["code", "name"]),
        geometry=[r[2] for r in comm_rows],
        crs=crs,
    )
    legacy = gpd.GeoDataFrame(
        pd.DataFrame(
            [r[:4] for r in leg_rows], columns=["layer", "source_code", "name", "community_code"]
        ),
        geometry=[r[4] for r in leg_rows],
        crs=crs,
    )
    buildings = gpd.GeoDataFrame(
        pd.DataFrame(
            [r[:6] for r in bld_rows],
            columns=[
                "building_id",
                "community_code",
                "households",
                "compound",
                "hamlet",
                "group_no",
            ],
        ),
        geometry=[r[6] for r in bld_rows],
        crs=crs,
    )
    return communities, legacy, buildings
