"""The plan map: a rebalancing plan drawn over the grids it would replace.

The plan's grids are coloured by load (as on the coverage map, :func:`coverage_map`), the
grids in force when it was drafted are dashed on top, the buildings the plan moves are
filled in magenta with where they go from and to, and the legend carries the plan's
metrics. Offline like every map here.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import folium

from gridmap.errors import InvalidInput
from gridmap.maps.base import (
    HOUSEHOLD_TARGET,
    RURAL_TARGET,
    Overlay,
    collection,
    column,
    tile_source,
    to_int,
    wgs84,
)
from gridmap.maps.coverage import coverage_map

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import geopandas as gpd

    from gridmap.maps.assets import LeafletAssets

__all__ = ["MOVED_COLOUR", "OLD_COLOUR", "STATUS_NAMES", "plan_map"]

OLD_COLOUR = "#1f1f1f"
MOVED_COLOUR = "#d01c8b"
STATUS_NAMES = {"draft": "草案", "active": "已生效", "rolled_back": "已回退"}


def plan_map(
    grids: gpd.GeoDataFrame,
    old: gpd.GeoDataFrame,
    moved: gpd.GeoDataFrame,
    summary: Mapping[str, Any],
    *,
    title: str = "调整方案",
    infeasible: Sequence[str] = (),
    communities: gpd.GeoDataFrame | None = None,
    target: tuple[int, int] = HOUSEHOLD_TARGET,
    rural_target: tuple[int, int] = RURAL_TARGET,
    tiles_url: str | None = None,
    assets: LeafletAssets | None = None,
) -> folium.Map:
    """A plan's grids (``code``, ``name``, ``households``, ``status`` kept/new, optional
    ``kind`` and ``community_name``) coloured by load, the grids it replaces (``old``:
    ``code``, ``name``) dashed, the buildings it moves (``moved``: ``id``, ``from_code``,
    ``to_code``, ``households``, optional ``compound`` and ``building_no``) filled, and
    ``summary`` (the plan's metrics, :func:`gridmap.rebalance.metrics.summary`) in the
    legend with any ``infeasible`` reasons."""
    if not len(grids):
        raise InvalidInput("the plan has no grids to map")
    status = [str(s) for s in column(grids, "status", "kept")]
    names = zip(column(grids, "name"), status, strict=True)
    named = grids.assign(name=[f"{n}（新）" if s == "new" else str(n) for n, s in names])
    source = tile_source(tiles_url)
    shift = source is not None and source.gcj02
    legend = _metrics_legend(summary, title, infeasible, has_old=len(old) > 0, moved=moved)
    layers: list[folium.map.Layer] = []
    if len(old):
        o = wgs84(old, "old grids", shift)
        layers.append(Overlay(
            o,
            {"code": column(o, "code"), "name": column(o, "name")},
            {"code": "原网格编码", "name": "原网格名称"},
            {"fill": False, "color": OLD_COLOUR, "weight": 2, "dashArray": "6 5"},
            "原网格边界（虚线）",
            digits=6,
        ))  # fmt: skip
    if len(moved):
        layers.append(_moved_layer(wgs84(moved, "moved buildings", shift)))
    return coverage_map(
        named,
        communities,
        target=target,
        rural_target=rural_target,
        legend_extra=legend,
        layers=layers,
        tiles_url=tiles_url,
        assets=assets,
    )


def _moved_layer(mv: gpd.GeoDataFrame) -> folium.GeoJson:
    """The buildings a plan moves, filled, with where each goes from and to."""
    parts = zip(column(mv, "id"), column(mv, "compound"), column(mv, "building_no"), strict=True)
    labels = [f"{c}{b}" if c or b else str(i) for i, c, b in parts]
    return folium.GeoJson(
        collection(
            mv,
            {
                "id": [str(v) for v in column(mv, "id")],
                "building": labels,
                "from": [str(v) for v in column(mv, "from_code")],
                "to": [str(v) for v in column(mv, "to_code")],
                "households": [to_int(v) for v in column(mv, "households", 0)],
            },
        ),
        name=f"调整归属的楼栋（{len(mv)}）",
        style_function=lambda f: {
            "color": MOVED_COLOUR,
            "weight": 2,
            "fillColor": MOVED_COLOUR,
            "fillOpacity": 0.85,
        },
        marker=folium.CircleMarker(radius=5, fill=True, fill_opacity=0.9, color=MOVED_COLOUR),
        tooltip=folium.GeoJsonTooltip(
            fields=["id", "building", "from", "to", "households"],
            aliases=["楼栋", "名称", "原网格", "调入网格", "户数"],
        ),
    )


def _metrics_legend(
    summary: Mapping[str, Any],
    title: str,
    infeasible: Sequence[str],
    *,
    has_old: bool,
    moved: gpd.GeoDataFrame,
) -> str:
    """The plan's figures and its two layers, as legend HTML.

    >>> import geopandas as gpd
    >>> text = _metrics_legend({"in_band": 0.975, "households_moved": 120,
    ...     "households_total": 4000, "households_moved_pct": 3.0}, "方案 7", [],
    ...     has_old=True, moved=gpd.GeoDataFrame({"households": [120]}))
    >>> "97.5%" in text and "120 户（3.0%）" in text and "方案 7" in text
    True
    """
    s = dict(summary)

    def get(key: str, default: Any = "—") -> Any:
        return s.get(key, default)

    lines = [
        ("达标网格", f"{100 * float(get('in_band', 0)):.1f}%"),
        ("最大偏差", f"{get('deviation_pct_max')}%"),
        ("偏差标准差", f"{get('deviation_std')} 户"),
        ("平均紧凑度（Polsby-Popper）", str(get("polsby_popper_mean"))),
        ("网格连片", "是" if get("contiguous", True) else "否"),
        ("调整户数", f"{get('households_moved', 0)} 户（{get('households_moved_pct', 0)}%）"),
        ("总户数", f"{get('households_total', 0)} 户"),
        ("编码：沿用 / 新增 / 停用",
         f"{get('codes_kept', 0)} / {get('codes_new', 0)} / {get('codes_retired', 0)}"),
        ("拆分小区 / 自然屯", f"{get('compounds_split', 0)} / {get('hamlets_split', 0)}"),
    ]  # fmt: skip
    out = f"<h4>{html.escape(title)}</h4>" + "".join(
        f"<div>{html.escape(k)}：{html.escape(v)}</div>" for k, v in lines
    )
    layers = []
    if has_old:
        layers.append((OLD_COLOUR, "原网格边界（虚线）"))
    if len(moved):
        hh = sum(to_int(v) for v in column(moved, "households", 0))
        layers.append((MOVED_COLOUR, f"调整归属的楼栋：{len(moved)} 栋，{hh} 户"))
    out += "".join(
        f'<div><span class="gridmap-swatch" style="background:{c}"></span>{html.escape(t)}</div>'
        for c, t in layers
    )
    if infeasible:
        out += "<h4>无法达标</h4>" + "".join(
            f"<div>{html.escape(r)}</div>" for r in list(infeasible)[:8]
        )
        if len(infeasible) > 8:
            out += f"<div>另有 {len(infeasible) - 8} 条</div>"
    return out
