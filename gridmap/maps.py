"""Folium maps of grids that draw with no internet access.

Two maps, both built from GeoDataFrames (this module never touches the database):

* :func:`coverage_map` for planners: every grid coloured by its household load against a
  target range, community boundaries on top, legacy layers and plan changes as overlays.
* :func:`zone_map` for a grid worker: one grid, its buildings and chiefs, the neighbours.

The HTML is self-contained. Folium would load Leaflet, jQuery and Bootstrap from CDNs, which
draw nothing on an intranet, so :class:`OfflineMap` drops those links and inlines the Leaflet
installed by ``gridmap assets install`` (:mod:`gridmap.assets`) instead, with its images as
``data:`` URIs. There is no tile layer unless ``tiles_url`` names one (an intranet tile server).
Phone numbers are masked unless ``show_phones=True``.
"""

from __future__ import annotations

import html
import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import pandas as pd
from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from jinja2 import Template

from gridmap.assets import LeafletAssets, load_leaflet
from gridmap.errors import GridmapError, InvalidInput

LOG = logging.getLogger(__name__)

Load = Literal["empty", "under", "in", "over"]
HOUSEHOLD_TARGET: tuple[int, int] = (300, 500)
LOAD_COLOURS: dict[Load, str] = {
    "empty": "#d9d9d9",
    "under": "#6baed6",
    "in": "#41ab5d",
    "over": "#ef3b2c",
}
LEGACY_LAYER_NAMES = {"party": "党建网格", "governance": "综治网格", "civil": "民政网格"}
LEGACY_COLOURS = {"party": "#d7301f", "governance": "#6a51a3", "civil": "#238b45"}
AUTO_LABEL_LIMIT = 200
FONT_STACK = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
    '"WenQuanYi Micro Hei", sans-serif'
)


class OnlineResourceRequired(GridmapError):
    """A map element wants JavaScript or CSS from the internet, which offline maps cannot use."""

    code = "online_resource_required"


def mask_phone(phone: str | None) -> str:
    """Hide the middle of a phone number: the first three and last four characters stay.

    Short numbers keep only their last two characters.

    >>> mask_phone("13812345678")
    '138****5678'
    >>> mask_phone("88881234")
    '******34'
    >>> mask_phone(None)
    ''
    """
    if not phone:
        return ""
    phone = phone.strip()
    if len(phone) >= 11:
        return f"{phone[:3]}****{phone[-4:]}"
    return "*" * max(len(phone) - 2, 0) + phone[-2:]


def household_load(households: float, target: tuple[int, int] = HOUSEHOLD_TARGET) -> Load:
    """Whether a grid's households are under, in or over the target range (inclusive).

    A grid with no households recorded is ``empty``: a planner reads it as missing data or
    open land, not as a grid to merge.

    >>> [household_load(n) for n in (0, 120, 300, 500, 501)]
    ['empty', 'under', 'in', 'in', 'over']
    """
    low, high = target
    if households <= 0:
        return "empty"
    if households < low:
        return "under"
    return "in" if households <= high else "over"


# ------------------------------------------------------------------------------ offline map


class OfflineMap(folium.Map):
    """A ``folium.Map`` whose page inlines Leaflet and refuses any remote script or stylesheet.

    Rendering raises :class:`OnlineResourceRequired` if some element added a CDN link
    (e.g. a folium plugin), rather than writing a map that would draw nothing offline.
    """

    default_js: list[tuple[str, str]] = []  # noqa: RUF012 (folium reads it per class)
    default_css: list[tuple[str, str]] = []  # noqa: RUF012

    def __init__(self, assets: LeafletAssets, **kwargs: Any) -> None:
        kwargs.setdefault("tiles", None)
        super().__init__(**kwargs)
        self._gridmap_assets = assets

    def render(self, **kwargs: Any) -> Any:
        root = self.get_root()
        assert isinstance(root, Figure)
        header = root.header
        a = self._gridmap_assets
        icons = {
            "iconUrl": a.images["marker-icon.png"],
            "iconRetinaUrl": a.images["marker-icon-2x.png"],
            "shadowUrl": a.images["marker-shadow.png"],
        }
        header.add_child(
            Element('<meta name="referrer" content="no-referrer" />'), name="gridmap_referrer"
        )
        header.add_child(Element(f"<style>{a.css}</style>"), name="leaflet_css")
        header.add_child(Element(f"<script>{a.js}</script>"), name="leaflet")
        header.add_child(
            Element(
                "<script>L.Icon.Default.imagePath = '';"
                f"L.Icon.Default.mergeOptions({json.dumps(icons)});</script>"
            ),
            name="gridmap_icons",
        )
        header.add_child(Element(f"<style>{_PAGE_CSS}</style>"), name="gridmap_css")
        result = super().render(**kwargs)  # type: ignore[no-untyped-call]
        remote = [
            f"{name}: {child.url}"
            for name, child in header._children.items()
            if isinstance(child, JavascriptLink | CssLink)
        ]
        if remote:
            raise OnlineResourceRequired(
                "this map needs resources from the internet, which offline maps cannot load: "
                + "; ".join(remote)
            )
        return result


_PAGE_CSS = f"""
.leaflet-container, .gridmap-box {{ font-family: {FONT_STACK}; }}
.leaflet-container {{ background: #f4f3ef; }}
.gridmap-box {{ position: fixed; z-index: 1000; background: rgba(255,255,255,.93);
  border: 1px solid #999; border-radius: 4px; padding: 8px 10px; font-size: 13px;
  line-height: 1.5; box-shadow: 0 1px 4px rgba(0,0,0,.3); max-width: 320px; }}
.gridmap-box h4 {{ margin: 0 0 4px; font-size: 14px; }}
.gridmap-legend {{ bottom: 40px; left: 10px; }}
.gridmap-panel {{ top: 10px; left: 56px; }}
.gridmap-swatch {{ display: inline-block; width: 14px; height: 14px; margin-right: 6px;
  vertical-align: -2px; border: 1px solid #555; }}
.gridmap-label {{ background: none; border: none; }}
.gridmap-label span {{ position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
  font-size: 12px; font-weight: 600; color: #222; text-shadow: 0 0 3px #fff, 0 0 3px #fff; }}
.gridmap-label.above span {{ transform: translate(-50%, -140%); }}
.gridmap-label.small span {{ font-size: 11px; font-weight: 400; color: #444; }}
"""


class _LabelLayer(folium.FeatureGroup):
    """Text labels (one DOM element each, non-interactive) as a toggleable overlay."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.featureGroup();
        {{ this.labels|tojson }}.forEach(function (d) {
            L.marker([d[0], d[1]], {
                icon: L.divIcon({className: {{ this.class_name|tojson }} + d[3],
                                 html: "<span>" + d[2] + "</span>", iconSize: [0, 0]}),
                interactive: false, keyboard: false
            }).addTo({{ this.get_name() }});
        });
        {% endmacro %}
        """
    )

    def __init__(self, gdf: gpd.GeoDataFrame, texts: Sequence[str], name: str, **kw: Any) -> None:
        class_name = kw.pop("class_name", "gridmap-label")
        super().__init__(name=name, overlay=True, control=True, **kw)
        self.class_name = class_name
        points = gdf.geometry.representative_point()
        kinds = gdf.geometry.geom_type
        self.labels = [
            [round(p.y, 7), round(p.x, 7), html.escape(t), " above" if k == "Point" else ""]
            for p, t, k in zip(points, texts, kinds, strict=True)
            if p is not None and not p.is_empty
        ]


class _Box(MacroElement):
    """A fixed HTML box over the map (legend, panel); its content is escaped by the caller."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="gridmap-box {{ this.css_class }}">{{ this.content }}</div>
        {% endmacro %}
        """
    )

    def __init__(self, content: str, css_class: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.content = content
        self.css_class = css_class


class _MetricScale(MacroElement):
    """A metric-only scale bar."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]


def _wgs84(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise InvalidInput(f"{what} has no CRS; expected EPSG:4490 or another lon/lat CRS")
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    return gdf.to_crs(4326)


def _collection(gdf: gpd.GeoDataFrame, props: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection with exactly the given properties (no NaN, no numpy).

    Text is HTML-escaped: folium's tooltips and popups put property values into innerHTML.
    """
    escaped = {
        k: [html.escape(v) if isinstance(v, str) else v for v in vs] for k, vs in props.items()
    }
    frame = gpd.GeoDataFrame(escaped, geometry=list(gdf.geometry), crs=gdf.crs)
    result: dict[str, Any] = json.loads(frame.to_json(drop_id=True, na="null"))
    return result


def _column(gdf: pd.DataFrame, name: str, default: Any = "") -> list[Any]:
    if name not in gdf.columns:
        return [default] * len(gdf)
    return [default if _missing(v) else v for v in gdf[name]]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _int(value: Any) -> int:
    return 0 if _missing(value) else int(value)


def _base_map(
    frames: Sequence[gpd.GeoDataFrame],
    assets: LeafletAssets | None,
    assets_dir: Path | None,
    tiles_url: str | None,
    tiles_attribution: str | None,
) -> OfflineMap:
    leaflet = assets or load_leaflet(assets_dir)
    minx, miny, maxx, maxy = pd.concat([f.geometry for f in frames if len(f)]).total_bounds
    m = OfflineMap(
        leaflet,
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=14,
        max_zoom=21,
    )
    m.add_child(_MetricScale())
    if tiles_url:
        if "{z}" not in tiles_url or "{x}" not in tiles_url or "{y}" not in tiles_url:
            raise InvalidInput(
                f"tile URL {tiles_url!r} must contain {{z}}, {{x}} and {{y}} placeholders"
            )
        folium.TileLayer(
            tiles=tiles_url,
            attr=tiles_attribution or "内网底图",
            name="底图",
            max_zoom=21,
            max_native_zoom=18,
            overlay=False,
            control=False,
        ).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(20, 20))
    return m


# ------------------------------------------------------------------------------ coverage map


def coverage_map(
    grids: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame | None = None,
    legacy: gpd.GeoDataFrame | None = None,
    changes: gpd.GeoDataFrame | None = None,
    *,
    target: tuple[int, int] = HOUSEHOLD_TARGET,
    labels: bool | None = None,
    tiles_url: str | None = None,
    tiles_attribution: str | None = None,
    assets: LeafletAssets | None = None,
    assets_dir: Path | None = None,
) -> folium.Map:
    """The planner's map: every grid coloured by household load against ``target``.

    ``grids`` has ``code``, ``name``, ``households`` and optionally ``chief_name`` and
    ``community_name``; ``communities`` has ``code`` and ``name``; ``legacy`` has ``layer``
    (``party``/``governance``/``civil``), ``source_code`` and ``name``, one overlay per layer,
    hidden at first; ``changes`` (e.g. grids a rebalancing plan redraws) has ``code`` and an
    optional ``change`` text and is outlined on top. Grid labels show the code's serial when
    ``labels`` is true, or by default when there are at most 200 grids.

    >>> from shapely import box
    >>> grids = gpd.GeoDataFrame({"code": ["220102001001001"], "name": ["一网格"],
    ...     "households": [420]}, geometry=[box(125.30, 43.80, 125.31, 43.81)], crs=4490)
    >>> m = coverage_map(grids)  # doctest: +SKIP
    >>> m.save("coverage.html")  # doctest: +SKIP
    """
    low, high = target
    if low > high:
        raise InvalidInput(f"target range {target!r} must be (low, high) with low <= high")
    if len(grids) == 0:
        raise InvalidInput("no grids to map")
    g = _wgs84(grids, "grids")
    extra = [
        _wgs84(f, n)
        for f, n in ((communities, "communities"), (changes, "changes"))
        if f is not None
    ]
    m = _base_map([g, *extra], assets, assets_dir, tiles_url, tiles_attribution)

    households = [_int(v) for v in _column(g, "households", 0)]
    loads = [household_load(n, target) for n in households]
    codes = [str(c) for c in _column(g, "code")]
    data = _collection(
        g,
        {
            "code": codes,
            "name": _column(g, "name"),
            "community": _column(g, "community_name"),
            "households": households,
            "chief": [c or "未配置" for c in _column(g, "chief_name")],
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
        c = _wgs84(communities, "communities")
        folium.GeoJson(
            _collection(c, {"code": _column(c, "code"), "name": _column(c, "name")}),
            name="社区边界",
            style_function=lambda f: {"fill": False, "color": "#111111", "weight": 3},
            tooltip=folium.GeoJsonTooltip(fields=["name", "code"], aliases=["社区", "代码"]),
        ).add_to(m)

    if legacy is not None and len(legacy):
        leg = _wgs84(legacy, "legacy")
        for layer, part in leg.groupby(_column(leg, "layer", "other"), sort=True):
            colour = LEGACY_COLOURS.get(str(layer), "#555555")
            folium.GeoJson(
                _collection(
                    part,
                    {"source_code": _column(part, "source_code"), "name": _column(part, "name")},
                ),
                name=f"旧{LEGACY_LAYER_NAMES.get(str(layer), str(layer))}",
                show=False,
                style_function=lambda f, colour=colour: {
                    "fill": False,
                    "color": colour,
                    "weight": 2,
                    "dashArray": "6 4",
                },
                tooltip=folium.GeoJsonTooltip(
                    fields=["source_code", "name"], aliases=["原编码", "名称"]
                ),
            ).add_to(m)

    if changes is not None and len(changes):
        ch = _wgs84(changes, "changes")
        folium.GeoJson(
            _collection(ch, {"code": _column(ch, "code"), "change": _column(ch, "change", "调整")}),
            name="调整方案",
            style_function=lambda f: {
                "fill": False,
                "color": "#ff7f00",
                "weight": 4,
                "dashArray": "10 6",
            },
            tooltip=folium.GeoJsonTooltip(fields=["code", "change"], aliases=["网格编码", "调整"]),
        ).add_to(m)

    if labels or (labels is None and len(g) <= AUTO_LABEL_LIMIT):
        texts = [
            f"{c[-3:] if len(c) == 15 else c} {nm}".strip()
            for c, nm in zip(codes, _column(g, "name"), strict=True)
        ]
        _LabelLayer(g, texts, name="网格编号").add_to(m)

    counts = {k: loads.count(k) for k in LOAD_COLOURS}
    rows = {
        "empty": "无住户数据（0 户）",
        "under": f"偏少（少于 {low} 户）",
        "in": f"适中（{low}–{high} 户）",
        "over": f"偏多（多于 {high} 户）",
    }
    legend = "<h4>网格户数</h4>" + "".join(
        f'<div><span class="gridmap-swatch" style="background:{LOAD_COLOURS[k]}"></span>'
        f"{html.escape(rows[k])}：{counts[k]} 个</div>"
        for k in LOAD_COLOURS
    )
    legend += f"<div>共 {len(g)} 个网格，{sum(households)} 户</div>"
    m.add_child(_Box(legend, "gridmap-legend"))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


# ------------------------------------------------------------------------------ zone map


def zone_map(
    grid: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    chiefs: pd.DataFrame,
    neighbours: gpd.GeoDataFrame | None = None,
    *,
    show_phones: bool = False,
    tiles_url: str | None = None,
    tiles_attribution: str | None = None,
    assets: LeafletAssets | None = None,
    assets_dir: Path | None = None,
) -> folium.Map:
    """A grid worker's "my zone" map: one grid, its buildings and chiefs, its neighbours.

    ``grid`` is one row with ``code``, ``name``, ``households`` and optionally
    ``community_name``. ``buildings`` has ``id``, ``building_no``, ``households`` and optionally
    ``compound``; its geometry is the footprint, or the point where there is none. ``chiefs``
    has ``role`` (``grid_chief``/``building_chief``/``unit_chief``), ``name``, ``phone`` and,
    for building and unit chiefs, ``building_id`` (and ``unit_no``). ``neighbours`` has
    ``code`` and ``name``. Phones are shown masked (``138****5678``) unless ``show_phones``.
    """
    if len(grid) != 1:
        raise InvalidInput(f"zone_map takes exactly one grid, got {len(grid)}")
    g = _wgs84(grid, "grid")
    b = _wgs84(buildings, "buildings")
    n = _wgs84(neighbours, "neighbours") if neighbours is not None else None
    m = _base_map([g, b], assets, assets_dir, tiles_url, tiles_attribution)

    def phone(value: Any) -> str:
        text = "" if _missing(value) else str(value)
        return text if show_phones else mask_phone(text)

    by_building: dict[int, list[str]] = {}
    units: dict[int, list[str]] = {}
    grid_chiefs: list[str] = []
    for row in chiefs.itertuples(index=False):
        who = f"{row.name} {phone(getattr(row, 'phone', None))}".strip()
        role = str(row.role)
        bid = getattr(row, "building_id", None)
        if role == "grid_chief":
            grid_chiefs.append(who)
        elif role == "building_chief" and not _missing(bid):
            by_building.setdefault(_int(bid), []).append(who)
        elif role == "unit_chief" and not _missing(bid):
            unit = getattr(row, "unit_no", None)
            label = f"{unit}单元 {who}" if not _missing(unit) else who
            units.setdefault(_int(bid), []).append(label)

    if n is not None and len(n):
        ncodes = [str(c) for c in _column(n, "code")]
        folium.GeoJson(
            _collection(n, {"code": ncodes, "name": _column(n, "name")}),
            name="相邻网格",
            style_function=lambda f: {
                "color": "#777777",
                "weight": 2,
                "dashArray": "5 5",
                "fillColor": "#bbbbbb",
                "fillOpacity": 0.12,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["code", "name"], aliases=["网格编码", "网格名称"]
            ),
        ).add_to(m)
        _LabelLayer(
            n,
            [f"{c[-3:]} {nm}".strip() for c, nm in zip(ncodes, _column(n, "name"), strict=True)],
            name="相邻网格名称",
            class_name="gridmap-label small",
        ).add_to(m)

    code = str(_column(g, "code")[0])
    name = str(_column(g, "name")[0])
    folium.GeoJson(
        _collection(g, {"code": [code], "name": [name]}),
        name="本网格",
        style_function=lambda f: {
            "color": "#08519c",
            "weight": 4,
            "fillColor": "#c6dbef",
            "fillOpacity": 0.25,
        },
        interactive=False,
    ).add_to(m)

    ids = [_int(v) for v in _column(b, "id", 0)]
    numbers = [str(v) for v in _column(b, "building_no")]
    chief_text = ["；".join(by_building.get(i, [])) or "未配置" for i in ids]
    data = _collection(
        b,
        {
            "building_no": numbers,
            "compound": _column(b, "compound"),
            "households": [_int(v) for v in _column(b, "households", 0)],
            "chief": chief_text,
            "units": ["；".join(units.get(i, [])) or "—" for i in ids],
            "staffed": [i in by_building for i in ids],
        },
    )
    folium.GeoJson(
        data,
        name="楼栋",
        style_function=lambda f: {
            "color": "#3f3f3f",
            "weight": 1,
            "fillColor": "#fd8d3c" if not f["properties"]["staffed"] else "#4292c6",
            "fillOpacity": 0.8,
        },
        marker=folium.CircleMarker(radius=7, fill=True),
        tooltip=folium.GeoJsonTooltip(
            fields=["building_no", "compound", "households", "chief"],
            aliases=["楼栋", "小区", "户数", "楼栋长"],
        ),
        popup=folium.GeoJsonPopup(
            fields=["building_no", "compound", "households", "chief", "units"],
            aliases=["楼栋", "小区", "户数", "楼栋长", "单元长"],
        ),
    ).add_to(m)
    _LabelLayer(b, [f"{x}号楼" if x.isdigit() else x for x in numbers], name="楼栋号").add_to(m)

    staffed = sum(1 for i in ids if i in by_building)
    rows = [
        ("网格编码", code),
        ("网格名称", name),
        ("所属社区", str(_column(g, "community_name")[0])),
        ("户数", str(_int(_column(g, "households", 0)[0]))),
        ("楼栋", f"{len(b)} 栋（已配楼栋长 {staffed} 栋）"),
        ("网格长", "；".join(grid_chiefs) or "未配置"),
    ]
    panel = "<h4>我的网格</h4>" + "".join(
        f"<div><b>{k}</b>：{html.escape(v)}</div>" for k, v in rows if v
    )
    panel += (
        '<div><span class="gridmap-swatch" style="background:#4292c6"></span>已配楼栋长 '
        '<span class="gridmap-swatch" style="background:#fd8d3c;margin-left:8px"></span>'
        "未配楼栋长</div>"
    )
    m.add_child(_Box(panel, "gridmap-panel"))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def save_html(m: folium.Map, path: Path | str) -> Path:
    """Write the map as one self-contained UTF-8 HTML file and return its path."""
    target = Path(path)
    target.write_text(m.get_root().render(), encoding="utf-8")
    LOG.info("wrote %s (%d kB)", target, target.stat().st_size // 1024)
    return target
