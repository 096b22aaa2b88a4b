"""The planner's coverage map: every grid coloured by its household load.

Community boundaries go on top, the legacy layers (党建/综治/民政网格) are overlays hidden at
first, and the grids a plan redraws can be outlined. The map is drawn on
:class:`gridmap.maps.base.OfflineMap`, so it needs no internet access.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import shapely

from gridmap.errors import InvalidInput
from gridmap.maps.base import (
    HOUSEHOLD_TARGET,
    LOAD_COLOURS,
    RURAL_TARGET,
    Box,
    Overlay,
    SearchBox,
    ZoomLabels,
    base_map,
    collection,
    column,
    household_load,
    label_zooms,
    tile_source,
    to_int,
    wgs84,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from gridmap.maps.assets import LeafletAssets

LEGACY_LAYER_NAMES = {"party": "党建网格", "governance": "综治网格", "civil": "民政网格"}
LEGACY_COLOURS = {"party": "#d7301f", "governance": "#6a51a3", "civil": "#238b45"}


def coverage_map(
    grids: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame | None = None,
    legacy: gpd.GeoDataFrame | None = None,
    changes: gpd.GeoDataFrame | None = None,
    findings: gpd.GeoDataFrame | None = None,
    ungridded: gpd.GeoDataFrame | None = None,
    staffing: dict[str, int] | None = None,
    vacancies: gpd.GeoDataFrame | None = None,
    *,
    target: tuple[int, int] = HOUSEHOLD_TARGET,
    rural_target: tuple[int, int] = RURAL_TARGET,
    labels: bool | None = None,
    legend_extra: str = "",
    layers: Sequence[folium.map.Layer] = (),
    tiles_url: str | None = None,
    tiles_attribution: str | None = None,
    assets: LeafletAssets | None = None,
    assets_dir: Path | None = None,
) -> folium.Map:
    """The planner's map: every grid coloured by household load against ``target``, or
    against ``rural_target`` where its ``kind`` is ``rural``.

    ``grids`` has ``code``, ``name``, ``households`` and optionally ``chief_name`` and
    ``community_name``; ``communities`` has ``code`` and ``name``; ``legacy`` has ``layer``
    (``party``/``governance``/``civil``), ``source_code`` and ``name``, one overlay per layer,
    hidden at first; ``changes`` (e.g. grids a rebalancing plan redraws) has ``code`` and an
    optional ``change`` text and is outlined on top; ``findings`` (the merge's quality
    findings, :func:`gridmap.merge.report.findings_from_report`) has ``kind`` (gap, overlap, sliver), ``layer``
    and ``area_m2``, one overlay per kind. ``ungridded`` are buildings in no grid (drawn as
    red rings); ``staffing`` (``grids``, ``grids_staffed``, ``buildings``,
    ``buildings_staffed``, ``units``, ``units_staffed``) gives the legend's 三长 figures;
    ``vacancies`` (``id``, ``compound``, ``building_no``, ``no_building_chief``, ``units``,
    ``vacant_units``; points) are the buildings whose building chief or some unit chief is
    missing, drawn as an overlay hidden at first. Grid labels follow the zoom (:class:`ZoomLabels`):
    none while grids are too small to label, the code's serial once they are larger, serial
    and name when zoomed in; ``labels=False`` leaves them out. ``legend_extra`` is HTML
    appended to the legend and ``layers`` are drawn on top (a plan map's metrics, old
    boundaries and moved buildings).

    >>> import geopandas as gpd
    >>> from shapely import box
    >>> grids = gpd.GeoDataFrame({"code": ["220102001001001"], "name": ["一网格"],
    ...     "households": [420]}, geometry=[box(125.30, 43.80, 125.31, 43.81)], crs=4490)
    >>> m = coverage_map(grids)  # doctest: +SKIP
    >>> m.save("coverage.html")  # doctest: +SKIP
    """
    low, high = target
    for band in (target, rural_target):
        if band[0] > band[1]:
            raise InvalidInput(f"target range {band!r} must be (low, high) with low <= high")
    if len(grids) == 0:
        raise InvalidInput("no grids to map")
    source = tile_source(tiles_url, tiles_attribution)  # checked before any drawing
    shift = source is not None and source.gcj02
    g = simplified(wgs84(grids, "grids", shift))
    extra = [
        wgs84(f, n, shift)
        for f, n in ((communities, "communities"), (changes, "changes"))
        if f is not None
    ]
    m = base_map([g, *extra], assets, assets_dir, tiles_url, tiles_attribution)

    households = [to_int(v) for v in column(g, "households", 0)]
    kinds = [str(k) for k in column(g, "kind", "urban")]
    loads = [
        household_load(n, rural_target if k == "rural" else target)
        for n, k in zip(households, kinds, strict=True)
    ]
    codes = [str(c) for c in column(g, "code")]
    data = collection(
        g,
        {
            "code": codes,
            "name": column(g, "name"),
            "community": column(g, "community_name"),
            "households": households,
            "chief": [c or "未配置" for c in column(g, "chief_name")],
            "load": loads,
        },
    )
    folium.GeoJson(
        data,
        name="网格（按户数着色）",
        style_function=lambda f: {
            "fillColor": LOAD_COLOURS[f["properties"]["load"]],
            "fillOpacity": 0.55,
            "color": "#333333",
            "weight": 1,
        },
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.75},
        tooltip=folium.GeoJsonTooltip(
            fields=["code", "name", "community", "households", "chief"],
            aliases=["网格编码", "网格名称", "所属社区", "户数", "网格长"],
        ),
    ).add_to(m)

    if communities is not None and len(communities):
        c = wgs84(communities, "communities", shift)
        Overlay(
            c,
            {"code": column(c, "code"), "name": column(c, "name")},
            {"name": "社区", "code": "代码"},
            {"fill": False, "color": "#111111", "weight": 3},
            "社区边界",
            digits=6,
        ).add_to(m)

    if legacy is not None and len(legacy):
        leg = wgs84(legacy, "legacy", shift)
        for layer, part in leg.groupby(column(leg, "layer", "other"), sort=True):
            colour = LEGACY_COLOURS.get(str(layer), "#555555")
            Overlay(
                part,
                {"source_code": column(part, "source_code"), "name": column(part, "name")},
                {"source_code": "原编码", "name": "名称"},
                {"fill": False, "color": colour, "weight": 2, "dashArray": "6 4"},
                f"旧{LEGACY_LAYER_NAMES.get(str(layer), str(layer))}",
                show=False,
            ).add_to(m)

    if ungridded is not None and len(ungridded):
        u = wgs84(ungridded, "ungridded", shift)
        folium.GeoJson(
            collection(u, {"id": column(u, "id"), "compound": column(u, "compound"),
                           "households": [to_int(v) for v in column(u, "households", 0)]}),
            name=f"不在任何网格内的楼栋（{len(u)}）",
            marker=folium.CircleMarker(radius=6, fill=False, color="#e41a1c", weight=3),
            tooltip=folium.GeoJsonTooltip(
                fields=["id", "compound", "households"], aliases=["楼栋", "小区", "户数"]
            ),
        ).add_to(m)  # fmt: skip

    if findings is not None and len(findings):
        _findings_layers(m, wgs84(findings, "findings", shift))

    if vacancies is not None and len(vacancies):
        _vacancy_layer(m, wgs84(vacancies, "vacancies", shift))

    if changes is not None and len(changes):
        ch = wgs84(changes, "changes", shift)
        folium.GeoJson(
            collection(ch, {"code": column(ch, "code"), "change": column(ch, "change", "调整")}),
            name="调整方案",
            style_function=lambda f: {
                "fill": False,
                "color": "#ff7f00",
                "weight": 4,
                "dashArray": "10 6",
            },
            tooltip=folium.GeoJsonTooltip(fields=["code", "change"], aliases=["网格编码", "调整"]),
        ).add_to(m)

    for layer in layers:
        layer.add_to(m)

    short_zoom, long_zoom = label_zooms(g)
    if labels is not False:
        serials = [c[-3:] if len(c) == 15 else c for c in codes]
        full = [f"{c} {nm}".strip() for c, nm in zip(serials, column(g, "name"), strict=True)]
        ZoomLabels(g, serials, full, "网格编号", short_zoom, long_zoom).add_to(m)
    points = g.geometry.representative_point()
    names = [str(n) for n in column(g, "name")]
    entries = [(t, p.y, p.x) for p, c, n in zip(points, codes, names, strict=True)
               for t in dict.fromkeys((n, f"{c} {n}".strip(), c)) if t]  # fmt: skip
    m.add_child(SearchBox(entries, "查找网格编码或名称", zoom=long_zoom))

    counts = {k: loads.count(k) for k in LOAD_COLOURS}
    rural = "rural" in kinds
    rl, rh = rural_target
    rows = {
        "empty": "无住户数据（0 户）",
        "under": f"偏少（少于 {low} 户" + (f"，农村少于 {rl} 户）" if rural else "）"),
        "in": f"适中（{low}–{high} 户" + (f"，农村 {rl}–{rh} 户）" if rural else "）"),
        "over": f"偏多（多于 {high} 户" + (f"，农村多于 {rh} 户）" if rural else "）"),
    }
    legend = "<h4>网格户数</h4>" + "".join(
        f'<div><span class="gridmap-swatch" style="background:{LOAD_COLOURS[k]}"></span>'
        f"{html.escape(rows[k])}：{counts[k]} 个</div>"
        for k in LOAD_COLOURS
    )
    legend += f"<div>共 {len(g)} 个网格，{sum(households)} 户</div>"
    legend += _other_layers(communities, legacy, findings, ungridded, changes)
    if vacancies is not None and len(vacancies):
        legend += (f'<div><span class="gridmap-swatch" style="background:{VACANCY_COLOUR}">'
                   f"</span>三长空缺的楼栋：{len(vacancies)} 栋（图层默认隐藏）</div>")  # fmt: skip
    legend += legend_extra
    if staffing:
        legend += "<h4>三长配备</h4>" + "".join(
            f"<div>{label}：{staffing.get(k + '_staffed', 0)}/{staffing.get(k, 0)}"
            f"（{_share(staffing.get(k + '_staffed', 0), staffing.get(k, 0))}）</div>"
            for k, label in (("grids", "网格长"), ("buildings", "楼栋长"), ("units", "单元长"))
        )
    m.add_child(Box(legend, "gridmap-legend"))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


#: how each kind of merge finding is drawn: (overlay name, colour)
FINDING_STYLES: dict[str, tuple[str, str]] = {
    "gap": ("质检：旧网格空隙", "#e41a1c"),
    "overlap": ("质检：旧网格重叠", "#984ea3"),
    "sliver": ("质检：碎片", "#ff7f00"),
    "invalid_edge": ("质检：网格边界未对齐", "#a65628"),
    "grid_overlap": ("质检：网格重叠", "#f781bf"),
}


def _findings_layers(m: folium.Map, f: gpd.GeoDataFrame) -> None:
    """One overlay per kind of finding. The findings of one community, legacy layer and kind
    are drawn as one shape whose tooltip gives their number, total and largest area: a
    district has thousands of findings, and one feature each would weigh more than its
    grids."""
    frame = f.assign(
        kind=column(f, "kind", "gap"),
        layer=[LEGACY_LAYER_NAMES.get(str(v), str(v) or "—") for v in column(f, "layer")],
        community_code=column(f, "community_code", "—"),
        area_m2=[float(a) for a in column(f, "area_m2", 0.0)],
    )
    for kind, (name, colour) in FINDING_STYLES.items():
        part = frame.loc[frame["kind"] == kind]
        if not len(part):
            continue
        # the shapes are collected, not unioned: findings of the merge's own noding can be
        # invalid to 1e-9°, and a union of them can fail (GEOS side location conflict)
        rows = []
        for (community, layer), grp in part.groupby(["community_code", "layer"], sort=True):
            polys = shapely.get_parts(grp.geometry.to_numpy())
            polys = polys[shapely.get_type_id(polys) == 3]
            rows.append({"community_code": community, "layer": layer, "count": len(grp),
                         "total": grp["area_m2"].sum(), "largest": grp["area_m2"].max(),
                         "geometry": shapely.multipolygons(polys)})  # fmt: skip
        groups = gpd.GeoDataFrame(rows, geometry="geometry", crs=part.crs)
        Overlay(
            groups,
            {
                "kind": [name.removeprefix("质检：")] * len(groups),
                "layer": column(groups, "layer"),
                "count": [int(n) for n in column(groups, "count", 0)],
                "total": [f"{float(a):,.0f}" for a in column(groups, "total", 0.0)],
                "largest": [f"{float(a):,.0f}" for a in column(groups, "largest", 0.0)],
                "community": column(groups, "community_code"),
            },
            {
                "kind": "问题",
                "layer": "旧网格层",
                "count": "处数",
                "total": "总面积（㎡）",
                "largest": "最大一处（㎡）",
                "community": "社区",
            },
            {"color": colour, "weight": 2, "fillColor": colour, "fillOpacity": 0.45},
            f"{name}（{len(part)}）",
            show=kind != "sliver",  # slivers were already given to a grid: hidden at first
        ).add_to(m)


VACANCY_COLOUR = "#f16913"


def _vacancy_layer(m: folium.Map, v: gpd.GeoDataFrame) -> None:
    """Buildings whose building chief or some unit chief is missing (三长空缺)."""
    names = [f"{c or ''}{b or ''}" for c, b in zip(column(v, "compound"), column(v, "building_no"),
                                                   strict=True)]  # fmt: skip
    missing = [
        "、".join(part for part in (
            "楼栋长" if bool(nb) else "",
            f"单元长 {to_int(vu)}/{to_int(u)} 个单元" if to_int(vu) else "",
        ) if part)
        for nb, vu, u in zip(column(v, "no_building_chief", False), column(v, "vacant_units", 0),
                             column(v, "units", 0), strict=True)
    ]  # fmt: skip
    Overlay(
        v,
        {"id": column(v, "id"), "name": names, "missing": missing},
        {"id": "楼栋", "name": "名称", "missing": "空缺"},
        {"radius": 5, "color": VACANCY_COLOUR, "weight": 2, "fill": True, "fillOpacity": 0.8},
        f"三长空缺（{len(v)} 栋）",
        show=False,
    ).add_to(m)


def _share(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage, or — when there is nothing to count.

    >>> _share(3, 4), _share(0, 0)
    ('75%', '—')
    """
    return f"{100 * part / whole:.0f}%" if whole else "—"


#: the simplification tolerance, in degrees (about 3 m; Visvalingam-Whyatt, so corners whose
#: triangle is under about this squared go)
SIMPLIFY_DEG = 3e-5


def simplified(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Grids with their edges simplified community by community by
    :func:`shapely.coverage_simplify`, so edges two grids share stay shared (no slivers
    appear between neighbours on the map); a smaller page for the same picture."""
    if "community_code" not in g.columns or not len(g):
        return g
    out = g.copy()
    for _, idx in g.groupby("community_code").groups.items():
        geoms = np.asarray(list(g.geometry.loc[idx]), dtype=object)
        out.loc[idx, "geometry"] = list(shapely.coverage_simplify(geoms, SIMPLIFY_DEG))
    return out


def _other_layers(
    communities: gpd.GeoDataFrame | None,
    legacy: gpd.GeoDataFrame | None,
    findings: gpd.GeoDataFrame | None,
    ungridded: gpd.GeoDataFrame | None,
    changes: gpd.GeoDataFrame | None,
) -> str:
    """The legend's lines for every layer besides the grids, in the colour each is drawn."""
    others = [("#111111", "社区边界")] if communities is not None and len(communities) else []
    if legacy is not None and len(legacy):
        layers = sorted({str(v) for v in column(legacy, "layer", "other")})
        others += [(LEGACY_COLOURS.get(k, "#555555"), f"旧{LEGACY_LAYER_NAMES.get(k, k)}（虚线）")
                   for k in layers]  # fmt: skip
    if findings is not None and len(findings):
        found = {str(v) for v in column(findings, "kind")}
        others += [(c, n.removeprefix("质检：")) for k, (n, c) in FINDING_STYLES.items()
                   if k in found]  # fmt: skip
    if ungridded is not None and len(ungridded):
        others.append(("#e41a1c", "不在任何网格内的楼栋（圆圈）"))
    if changes is not None and len(changes):
        others.append(("#ff7f00", "调整方案（虚线）"))
    if not others:
        return ""
    return "<h4>其他图层</h4>" + "".join(
        f'<div><span class="gridmap-swatch" style="background:{c}"></span>{html.escape(t)}</div>'
        for c, t in others
    )
