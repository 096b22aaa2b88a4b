"""Draw the pictures of docs/merge.md: python docs/img/merge_figures.py (needs matplotlib)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import shapely

from gridmap.merge import MergeOptions, merge_layers
from gridmap.merge.synthetic import synthetic_layout

LOG = logging.getLogger(__name__)
OUT = Path(__file__).resolve().parent
STYLE = {
    "governance": {"color": "#d62728", "linestyle": "-", "linewidth": 1.6},
    "civil": {"color": "#1f77b4", "linestyle": "--", "linewidth": 1.2},
    "party": {"color": "#2ca02c", "linestyle": ":", "linewidth": 1.4},
}


def _frame(ax: Any, comm: gpd.GeoDataFrame) -> None:
    comm.boundary.plot(ax=ax, color="black", linewidth=2.5)
    ax.set_axis_off()
    ax.set_aspect("equal")


def before_after() -> None:
    comm, leg, bld = synthetic_layout(seed=4, rows=1, cols=2)
    result = merge_layers(comm, leg, bld)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 6.2))
    bld.plot(ax=ax1, color="#999999", markersize=3)
    for layer, style in STYLE.items():
        leg[leg["layer"] == layer].boundary.plot(ax=ax1, label=layer, **style)
    _frame(ax1, comm)
    ax1.legend(loc="upper left", bbox_to_anchor=(0, -0.01), ncol=3, frameon=False)
    ax1.set_title("before: three legacy layers over two communities")
    grids = result.grids.to_crs(comm.crs)
    palette: Any = plt.get_cmap("tab20").colors  # type: ignore[attr-defined]
    fills = [palette[(int(c[-3:]) * 7) % 20] for c in grids["code"]]
    grids.plot(ax=ax2, color=fills, alpha=0.6, edgecolor="white", linewidth=1)
    bld.plot(ax=ax2, color="#444444", markersize=3)
    for code, hh, pt in zip(
        grids["code"], grids["households"], grids.representative_point(), strict=True
    ):
        ax2.annotate(f"{code[-3:]}\n{hh}", (pt.x, pt.y), ha="center", va="center", fontsize=7)
    _frame(ax2, comm)
    ax2.set_title("after: one coverage per community (serial / households)")
    fig.tight_layout()
    fig.savefig(OUT / "merge_before_after.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 6.2))
    colours = {"gap": "#ff7f0e", "overlap": "#9467bd", "sliver": "#e377c2"}
    for c in result.report["communities"]:
        feats = c["features"]["features"]
        if not feats:
            continue
        frame = gpd.GeoDataFrame.from_features(feats, crs="EPSG:4490").to_crs(comm.crs)
        for kind, colour in colours.items():
            sub = frame[frame["kind"] == kind]
            if len(sub):
                sub.plot(ax=ax, color=colour, alpha=0.6 if kind != "sliver" else 0.9)
    for kind, colour in colours.items():
        ax.plot([], [], color=colour, linewidth=8, label=kind)
    grids.boundary.plot(ax=ax, color="#555555", linewidth=0.6)
    _frame(ax, comm)
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.01), ncol=3, frameon=False)
    ax.set_title("report features: gaps and overlaps (all layers), removed slivers")
    fig.tight_layout()
    fig.savefig(OUT / "merge_report_features.png", dpi=110)
    plt.close(fig)


def bending() -> None:
    x0, y0 = 500000.0, 4860000.0

    def box(a: float, b: float, c: float, d: float) -> shapely.Polygon:
        return shapely.box(x0 + a, y0 + b, x0 + c, y0 + d)

    comm = gpd.GeoDataFrame(
        {"code": ["220102001001"], "name": ["demo"]}, geometry=[box(0, 0, 160, 100)], crs=4551
    )
    leg = gpd.GeoDataFrame(
        {
            "layer": ["governance", "governance"],
            "source_code": ["G1", "G2"],
            "name": ["G1", "G2"],
            "community_code": [None, None],
        },
        geometry=[box(0, 0, 80, 100), box(80, 0, 160, 100)],
        crs=4551,
    )
    fps = [box(60, 40, 95, 55), box(70, 70, 85, 95), box(20, 10, 40, 20), box(120, 20, 140, 35)]
    bld = gpd.GeoDataFrame(
        {
            "building_id": ["a", "b", "c", "d"],
            "community_code": ["220102001001"] * 4,
            "households": [10] * 4,
            "compound": [None] * 4,
            "hamlet": [None] * 4,
            "group_no": [None] * 4,
        },
        geometry=fps,
        crs=4551,
    )
    result = merge_layers(comm, leg, bld, MergeOptions(households_min=0, households_max=10**5))
    fig, ax = plt.subplots(figsize=(7, 4.6))
    result.grids.plot(ax=ax, column="name", cmap="Pastel1", edgecolor="black", linewidth=1.5)
    leg.boundary.plot(ax=ax, color="#d62728", linestyle="--", linewidth=1)
    bld.plot(ax=ax, color="#444444", alpha=0.8)
    reps = bld.representative_point()
    reps.plot(ax=ax, color="yellow", markersize=12)
    for name, pt in zip(result.grids["name"], result.grids.representative_point(), strict=True):
        ax.annotate(name, (pt.x, pt.y), fontsize=11)
    _frame(ax, comm)
    ax.set_title("building-atomic: the legacy line (dashed) bends around footprints")
    fig.tight_layout()
    fig.savefig(OUT / "merge_building_atomic.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    before_after()
    bending()
    LOG.info("figures written to %s", OUT)
