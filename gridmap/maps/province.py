"""The province-wide map: every grid of the database drawn from the API's vector tiles.

A page of ~68,000 grids cannot carry them as GeoJSON, so it carries none: Leaflet.VectorGrid
(inlined from the local assets, like Leaflet) fetches ``/tiles/grids/{z}/{x}/{y}.pbf`` from
the serving API as the map moves and colours each grid by its household load against the
band of its kind. A click names the grid and links its zone map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from gridmap.maps.assets import load_vectorgrid
from gridmap.maps.base import HOUSEHOLD_TARGET, LOAD_COLOURS, RURAL_TARGET, Box, OfflineMap

if TYPE_CHECKING:
    from pathlib import Path

    import folium

    from gridmap.maps.assets import LeafletAssets

__all__ = ["province_map"]


class _Script(MacroElement):
    """A script run after its map is made (a plain Element in the page would run before)."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.code = code


_SCRIPT = """
(function (map) {
    var band = %(band)s, rural = %(rural)s, colours = %(colours)s;
    function load(p) {
        var b = p.kind === "rural" ? rural : band;
        if (!(p.households > 0)) { return "empty"; }
        return p.households < b[0] ? "under" : p.households <= b[1] ? "in" : "over";
    }
    var grids = L.vectorGrid.protobuf(%(url)s, {
        rendererFactory: L.svg.tile,
        interactive: true,
        maxNativeZoom: 16,
        getFeatureId: function (f) { return f.properties.code; },
        vectorTileLayerStyles: {
            grids: function (p) {
                return {fill: true, fillColor: colours[load(p)], fillOpacity: 0.55,
                        color: "#333333", weight: 0.6};
            }
        }
    }).on("click", function (e) {
        var p = e.layer.properties;
        L.popup().setLatLng(e.latlng).setContent(
            "<b>" + p.code + "</b> " + (p.name || "") + "<br>" + p.households + " 户" +
            '<br><a href="/maps/grids/' + p.code + '">网格地图</a>').openOn(map);
    }).addTo(map);
    window.gridmapProvinceGrids = grids;
})(%(map)s);
"""


def province_map(
    bounds: tuple[float, float, float, float],
    *,
    tiles: str = "/tiles/grids/{z}/{x}/{y}.pbf",
    target: tuple[int, int] = HOUSEHOLD_TARGET,
    rural_target: tuple[int, int] = RURAL_TARGET,
    assets: LeafletAssets | None = None,
    assets_dir: Path | None = None,
) -> folium.Map:
    """A map of ``bounds`` (lon/lat: west, south, east, north) whose grids come from the
    vector tiles at ``tiles`` (relative to the page: it is served by the API)."""
    import json

    from gridmap.maps.assets import load_leaflet

    leaflet = assets or load_leaflet(assets_dir)
    west, south, east, north = bounds
    m = OfflineMap(leaflet, location=[(south + north) / 2, (west + east) / 2], zoom_start=8)
    root = m.get_root()
    assert isinstance(root, Figure)
    # in the body, so after Leaflet, which the page's header inlines
    root.html.add_child(Element(f"<script>{load_vectorgrid(assets_dir)}</script>"))
    script = _SCRIPT % {
        "band": json.dumps(list(target)),
        "rural": json.dumps(list(rural_target)),
        "colours": json.dumps(LOAD_COLOURS),
        "url": json.dumps(tiles),
        "map": m.get_name(),
    }
    m.add_child(_Script(script))
    m.fit_bounds([[south, west], [north, east]])
    low, high = target
    colours: dict[str, str] = {str(k): v for k, v in LOAD_COLOURS.items()}
    legend = "<h4>网格户数（全省）</h4>" + "".join(
        f'<div><span class="gridmap-swatch" style="background:{colours[k]}"></span>{t}</div>'
        for k, t in (("under", f"偏少（少于 {low} 户）"), ("in", f"适中（{low}–{high} 户）"),
                     ("over", f"偏多（多于 {high} 户）"), ("empty", "无住户数据")))  # fmt: skip
    m.add_child(Box(legend, "gridmap-legend"))
    return m
