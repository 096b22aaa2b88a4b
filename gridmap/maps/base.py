"""The offline page every map is drawn on, and the pieces both maps share.

:class:`OfflineMap` is a ``folium.Map`` that inlines the Leaflet from :mod:`gridmap.maps.assets`
and refuses any remote script or stylesheet. :func:`base_map` makes one fitted to some frames,
with a metric scale and an optional intranet tile layer. :class:`LabelLayer`, :class:`Box` and
:class:`MetricScale` are the map elements; :func:`wgs84`, :func:`collection` and
:func:`column` turn GeoDataFrames into what folium draws. :func:`household_load` classes a
grid's households against the target range, and :func:`save_html` writes the page.
"""

from __future__ import annotations

import html
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from jinja2 import Template

from gridmap.errors import GridmapError, InvalidInput
from gridmap.maps.assets import load_leaflet

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from gridmap.maps.assets import LeafletAssets

LOG = logging.getLogger(__name__)

Load = Literal["empty", "under", "in", "over"]
HOUSEHOLD_TARGET: tuple[int, int] = (300, 500)
#: households of a rural grid: a natural hamlet or villagers' group, far fewer than a street's
RURAL_TARGET: tuple[int, int] = (100, 300)
LOAD_COLOURS: dict[Load, str] = {
    "empty": "#d9d9d9",
    "under": "#6baed6",
    "in": "#41ab5d",
    "over": "#ef3b2c",
}
FONT_STACK = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
    '"WenQuanYi Micro Hei", sans-serif'
)


class OnlineResourceRequired(GridmapError):
    """A map element wants JavaScript or CSS from the internet, which offline maps cannot use."""

    code = "online_resource_required"


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
.gridmap-zl span {{ display: none; }}
.gridmap-zoom-short .gridmap-zl span.s, .gridmap-zoom-long .gridmap-zl span.l {{ display: block; }}
.gridmap-search {{ top: 10px; right: 10px; padding: 6px; }}
.gridmap-search input {{ width: 220px; font-size: 13px; }}
.gridmap-search input.gridmap-miss {{ outline: 2px solid #e41a1c; }}
"""


class LabelLayer(folium.FeatureGroup):
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


class Overlay(folium.map.Layer):
    """A toggleable vector overlay drawn in one style, with a tooltip of some properties
    (points are drawn as circle markers in that style).

    Its GeoJSON is written compactly (no spaces, text as UTF-8 rather than ``\\u`` escapes,
    coordinates to ``digits`` decimals): the legacy layers and QA findings of a district
    are thousands of polygons, and this halves their share of the page.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJson({{ this.payload }}, {
            style: function () { return {{ this.style|tojson }}; },
            pointToLayer: function (f, latlng) {
                return L.circleMarker(latlng, {{ this.style|tojson }});
            },
            onEachFeature: function (f, layer) {
                var fields = {{ this.fields|tojson }}, rows = [];
                for (var k in fields) {
                    var v = f.properties[k];
                    if (v !== null && v !== undefined && v !== "") {
                        rows.push("<b>" + fields[k] + "</b> " + v);
                    }
                }
                layer.bindTooltip(rows.join("<br>"), {sticky: true});
            }
        });
        {% endmacro %}
        """
    )

    def __init__(
        self,
        gdf: gpd.GeoDataFrame,
        props: Mapping[str, Sequence[Any]],
        fields: Mapping[str, str],
        style: Mapping[str, Any],
        name: str,
        show: bool = True,
        digits: int = 5,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "Overlay"
        self.style = dict(style)
        self.fields = {k: html.escape(v) for k, v in fields.items()}
        data = collection(gdf, props, digits=digits)
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        # inside <script>: no "</script>" and no HTML parsing surprises (text is escaped
        # already by collection(); this covers the JSON punctuation around it)
        self.payload = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class ZoomLabels(folium.FeatureGroup):
    """Labels that stay readable at every zoom: none while the features are too small to
    label, a short text (a grid's serial) once they are ``short_zoom`` or more, the long text
    (serial and name) from ``long_zoom``. The map's container carries ``gridmap-zoom-none``,
    ``-short`` or ``-long``, so the page's CSS shows one text at a time."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.featureGroup();
        {{ this.labels|tojson }}.forEach(function (d) {
            L.marker([d[0], d[1]], {
                icon: L.divIcon({className: "gridmap-label gridmap-zl",
                                 html: '<span class="s">' + d[2] + '</span><span class="l">'
                                       + d[3] + '</span>', iconSize: [0, 0]}),
                interactive: false, keyboard: false
            }).addTo({{ this.get_name() }});
        });
        (function (map) {
            function level() {
                var z = map.getZoom(), box = map.getContainer();
                box.classList.remove("gridmap-zoom-none", "gridmap-zoom-short", "gridmap-zoom-long");
                box.classList.add(z >= {{ this.long_zoom }} ? "gridmap-zoom-long"
                    : z >= {{ this.short_zoom }} ? "gridmap-zoom-short" : "gridmap-zoom-none");
            }
            map.on("zoomend", level);
            map.whenReady(level);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        gdf: gpd.GeoDataFrame,
        short: Sequence[str],
        long: Sequence[str],
        name: str,
        short_zoom: int,
        long_zoom: int,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True)
        points = gdf.geometry.representative_point()
        self.labels = [
            [round(p.y, 7), round(p.x, 7), html.escape(a), html.escape(b)]
            for p, a, b in zip(points, short, long, strict=True)
            if p is not None and not p.is_empty
        ]
        self.short_zoom, self.long_zoom = short_zoom, long_zoom


def label_zooms(
    gdf: gpd.GeoDataFrame, short_px: float = 40, long_px: float = 120
) -> tuple[int, int]:
    """The zooms at which a typical (median) feature of ``gdf`` (EPSG:4326/4490) is
    ``short_px`` and ``long_px`` pixels across: where its short and long labels fit.

    >>> import geopandas as gpd
    >>> from shapely import box
    >>> label_zooms(gpd.GeoDataFrame(geometry=[box(125.30, 43.80, 125.31, 43.81)], crs=4490))
    (13, 14)
    """
    # Web Mercator stretches ground and pixels alike, so its metres compare directly
    side = float(gdf.geometry.to_crs(3857).area.median()) ** 0.5 if len(gdf) else 0.0
    side = side or 1.0

    def zoom(px: float) -> int:
        return max(0, min(22, math.ceil(math.log2(px * 156543.03 / side))))

    return zoom(short_px), zoom(long_px)


class Box(MacroElement):
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


class SearchBox(MacroElement):
    """A search box over the map: type a building, compound or address, and the map zooms to
    it and rings it. Plain inline script over the page's own data (no plugin, no network).

    ``entries`` are (text, lat, lon); an exact text wins, else the first that contains what
    was typed. The input's ``data-found`` holds the text found, for tests and screen readers.
    """

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="gridmap-box gridmap-search"><input id="{{ this.get_name() }}"
          list="{{ this.get_name() }}-list" placeholder="{{ this.placeholder|e }}"
          aria-label="{{ this.placeholder|e }}"><datalist id="{{ this.get_name() }}-list">
          {%- for e in this.entries %}<option value="{{ e[0]|e }}">{% endfor -%}
        </datalist></div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var entries = {{ this.entries|tojson }};
            var map = {{ this._parent.get_name() }};
            var input = document.getElementById({{ this.get_name()|tojson }});
            var ring = null;
            function go() {
                var q = input.value.trim();
                if (!q) { return; }
                var hit = entries.find(function (e) { return e[0] === q; })
                    || entries.find(function (e) { return e[0].indexOf(q) >= 0; });
                if (!hit) { input.classList.add("gridmap-miss"); input.dataset.found = ""; return; }
                input.classList.remove("gridmap-miss");
                map.setView([hit[1], hit[2]], Math.max(map.getZoom(), {{ this.zoom }}));
                if (ring) { map.removeLayer(ring); }
                ring = L.circleMarker([hit[1], hit[2]], {radius: 16, color: "#e41a1c",
                    weight: 3, fill: false, className: "gridmap-found"}).addTo(map);
                input.dataset.found = hit[0];
            }
            input.addEventListener("change", go);
            input.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { go(); } });
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, entries: Sequence[tuple[str, float, float]], placeholder: str, zoom: int = 18
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.zoom = zoom
        self._name = "SearchBox"
        self.entries = [[t, round(lat, 7), round(lon, 7)] for t, lat, lon in entries]
        self.placeholder = placeholder


class MetricScale(MacroElement):
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


# ------------------------------------------------------------------------------ frames


def wgs84(gdf: gpd.GeoDataFrame, what: str, gcj02: bool = False) -> gpd.GeoDataFrame:
    """``gdf`` without empty geometries, in WGS84 (EPSG:4326), for Leaflet; shifted to
    GCJ-02 when ``gcj02`` (to lie right on a base map drawn in GCJ-02, such as Amap's)."""
    if gdf.crs is None:
        raise InvalidInput(f"{what} has no CRS; expected EPSG:4490 or another lon/lat CRS")
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].to_crs(4326)
    if gcj02:
        from gridmap.crs import geometries_to_gcj02

        gdf = gdf.set_geometry(geometries_to_gcj02(gdf.geometry.values))
    return gdf


@dataclass(frozen=True)
class TileSource:
    """A base map: an XYZ URL template, its attribution, and whether it is drawn in GCJ-02."""

    url: str
    attribution: str
    subdomains: str = "abc"
    gcj02: bool = False
    #: a second layer drawn over the first (Tianditu's place-name annotation)
    labels_url: str | None = None


_TIANDITU = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
    "&TILECOL={{x}}&tk={token}"
)
_AMAP = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"


def tile_source(spec: str | None, attribution: str | None = None) -> TileSource | None:
    """The base map a user named: None (offline, the default), ``tianditu:TOKEN`` (or
    ``tianditu`` with ``GRIDMAP_TIANDITU_TOKEN``; vector map with its annotation, CGCS2000),
    ``amap`` (GCJ-02: our layers are shifted to match), or an intranet XYZ URL with
    ``{z}``, ``{x}`` and ``{y}``.

    >>> tile_source(None) is None, tile_source("amap").gcj02
    (True, True)
    >>> tile_source("tianditu:abc").labels_url.endswith("tk=abc")
    True
    >>> tile_source("http://10.1.2.3/tiles/{z}/{x}.png")
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidInput: tile URL 'http://10.1.2.3/tiles/{z}/{x}.png' must contain {z}, {x} and {y} placeholders, or be 'tianditu:TOKEN' or 'amap'
    """
    if not spec:
        return None
    if spec == "amap":
        return TileSource(_AMAP, attribution or "高德地图", subdomains="1234", gcj02=True)
    if spec == "tianditu" or spec.startswith("tianditu:"):
        import os

        token = spec.partition(":")[2] or os.environ.get("GRIDMAP_TIANDITU_TOKEN", "")
        if not token:
            raise InvalidInput(
                "the Tianditu base map needs a token: 'tianditu:TOKEN' or GRIDMAP_TIANDITU_TOKEN"
            )
        return TileSource(
            _TIANDITU.format(layer="vec", token=token),
            attribution or "天地图",
            subdomains="01234567",
            labels_url=_TIANDITU.format(layer="cva", token=token),
        )
    if "{z}" not in spec or "{x}" not in spec or "{y}" not in spec:
        raise InvalidInput(
            f"tile URL {spec!r} must contain {{z}}, {{x}} and {{y}} placeholders, "
            "or be 'tianditu:TOKEN' or 'amap'"
        )
    return TileSource(spec, attribution or "内网底图")


def collection(
    gdf: gpd.GeoDataFrame, props: Mapping[str, Sequence[Any]], digits: int = 6
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection with exactly the given properties (no NaN, no numpy).

    Text is HTML-escaped: folium's tooltips and popups put property values into innerHTML.
    Coordinates are rounded to ``digits`` decimals of a degree (6: about 0.1 m).
    """
    escaped = {
        k: [html.escape(v) if isinstance(v, str) else v for v in vs] for k, vs in props.items()
    }
    # full float digits would triple the page for nothing
    geoms = shapely.set_precision(np.asarray(list(gdf.geometry), dtype=object), 10.0**-digits,
                                  mode="pointwise")  # fmt: skip
    frame = gpd.GeoDataFrame(escaped, geometry=list(geoms), crs=gdf.crs)
    result: dict[str, Any] = json.loads(frame.to_json(drop_id=True, na="null"))
    return result


def column(gdf: pd.DataFrame, name: str, default: Any = "") -> list[Any]:
    """The values of column ``name``, ``default`` where missing or where there is no column."""
    if name not in gdf.columns:
        return [default] * len(gdf)
    return [default if missing(v) else v for v in gdf[name]]


def missing(value: Any) -> bool:
    """Whether a cell is empty: ``None``, NaN or ``pd.NA``."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def to_int(value: Any) -> int:
    """A count cell as an ``int``, 0 when missing."""
    return 0 if missing(value) else int(value)


# ------------------------------------------------------------------------------ the page


def base_map(
    frames: Sequence[gpd.GeoDataFrame],
    assets: LeafletAssets | None,
    assets_dir: Path | None,
    tiles_url: str | None,
    tiles_attribution: str | None,
) -> OfflineMap:
    """An :class:`OfflineMap` fitted to ``frames`` (in WGS84), with a scale and the base map
    (:func:`tile_source`); the layers draw whether or not the base map loads."""
    leaflet = assets or load_leaflet(assets_dir)
    minx, miny, maxx, maxy = pd.concat([f.geometry for f in frames if len(f)]).total_bounds
    m = OfflineMap(
        leaflet,
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=14,
        max_zoom=21,
    )
    m.add_child(MetricScale())
    source = tile_source(tiles_url, tiles_attribution)
    if source is not None:
        for url, name, overlay in ((source.url, "底图", False), (source.labels_url, "注记", True)):
            if url is None:
                continue
            folium.TileLayer(
                tiles=url,
                attr=source.attribution,
                name=name,
                subdomains=source.subdomains,
                max_zoom=21,
                max_native_zoom=18,
                overlay=overlay,
                control=False,
            ).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(20, 20))
    return m


def save_html(m: folium.Map, path: Path | str) -> Path:
    """Write the map as one self-contained UTF-8 HTML file and return its path."""
    target = Path(path)
    target.write_text(m.get_root().render(), encoding="utf-8")
    LOG.info("wrote %s (%d kB)", target, target.stat().st_size // 1024)
    return target
