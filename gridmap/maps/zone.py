"""A grid worker's "my zone" map: one grid, its buildings and chiefs, the neighbours.

Phones go through :func:`gridmap.privacy.shown_phone`, the one rule for showing them: masked
unless ``show_phones``. The map is drawn on :class:`gridmap.maps.base.OfflineMap`, so it
needs no internet access.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import folium

from gridmap.errors import InvalidInput
from gridmap.maps.appeals import appeal_layer, light_key
from gridmap.maps.base import (
    Box,
    LabelLayer,
    SearchBox,
    base_map,
    collection,
    column,
    missing,
    tile_source,
    to_int,
    wgs84,
)
from gridmap.privacy import shown_phone

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    import geopandas as gpd
    import pandas as pd

    from gridmap.maps.assets import LeafletAssets


def zone_map(
    grid: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    chiefs: pd.DataFrame,
    neighbours: gpd.GeoDataFrame | None = None,
    units_table: pd.DataFrame | None = None,
    *,
    appeals: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
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
    ``code`` and ``name``. ``units_table`` (``building_id``, ``unit_no``) lists every unit, so
    that a unit without a chief shows as vacant (未配置). Phones are shown masked (``138****5678``, by
    :func:`gridmap.privacy.shown_phone`) unless ``show_phones``.

    ``appeals`` (the grid's open appeals, rows of
    :meth:`gridmap.service.Gridmap.appeal_map_rows`) are drawn as one toggleable layer of
    dots coloured by their status light, overdue ones ringed in red
    (:func:`gridmap.maps.appeals.appeal_layer`), and counted in the panel. Their popups
    give the resident's description (the rows hold no contact data).
    """
    if len(grid) != 1:
        raise InvalidInput(f"zone_map takes exactly one grid, got {len(grid)}")
    source = tile_source(tiles_url, tiles_attribution)  # checked before any drawing
    shift = source is not None and source.gcj02
    g = wgs84(grid, "grid", shift)
    b = wgs84(buildings, "buildings", shift)
    n = wgs84(neighbours, "neighbours", shift) if neighbours is not None else None
    m = base_map([g, b], assets, assets_dir, tiles_url, tiles_attribution)

    def phone(value: Any) -> str:
        text = "" if missing(value) else str(value)
        return shown_phone(text, show_phones) or ""

    by_building: dict[int, list[str]] = {}
    units: dict[int, list[str]] = {}
    unit_chief: dict[tuple[int, str], str] = {}
    grid_chiefs: list[str] = []
    for row in chiefs.itertuples(index=False):
        who = f"{row.name} {phone(getattr(row, 'phone', None))}".strip()
        role = str(row.role)
        bid = getattr(row, "building_id", None)
        if role == "grid_chief":
            grid_chiefs.append(who)
        elif role == "building_chief" and not missing(bid):
            by_building.setdefault(to_int(bid), []).append(who)
        elif role == "unit_chief" and not missing(bid):
            unit = getattr(row, "unit_no", None)
            label = f"{unit}单元 {who}" if not missing(unit) else who
            units.setdefault(to_int(bid), []).append(label)
            if not missing(unit):
                unit_chief[(to_int(bid), str(unit))] = who

    if n is not None and len(n):
        ncodes = [str(c) for c in column(n, "code")]
        folium.GeoJson(
            collection(n, {"code": ncodes, "name": column(n, "name")}),
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
        LabelLayer(
            n,
            [f"{c} {nm}".strip() for c, nm in zip(ncodes, column(n, "name"), strict=True)],
            name="相邻网格名称",
            class_name="gridmap-label small",
        ).add_to(m)

    code = str(column(g, "code")[0])
    name = str(column(g, "name")[0])
    folium.GeoJson(
        collection(g, {"code": [code], "name": [name]}),
        name="本网格",
        style_function=lambda f: {
            "color": "#08519c",
            "weight": 4,
            "fillColor": "#c6dbef",
            "fillOpacity": 0.25,
        },
        interactive=False,
    ).add_to(m)

    ids = [to_int(v) for v in column(b, "id", 0)]
    vacant: dict[int, int] = {}
    if units_table is not None and len(units_table):
        # one line per unit, in unit order: its chief, or 未配置 where the post is empty
        units = {}
        for row in units_table.itertuples(index=False):
            building, no = to_int(row.building_id), str(row.unit_no)
            held = unit_chief.get((building, no))
            line = f"{no}单元 {held}" if held else f"{no}单元 未配置"
            units.setdefault(building, []).append(line)
            vacant[building] = vacant.get(building, 0) + (held is None)
    if len(b):
        _buildings_layer(m, b, ids, by_building, units, vacant)
        m.add_child(SearchBox(_search_entries(b), "查找楼栋、小区或门牌"))
    staffed = sum(1 for i in ids if i in by_building)
    appeals_line = appeals_key = ""
    if appeals is not None:
        drawn = appeal_layer(m, appeals, name="本网格诉求", description=True, gcj02=shift)
        late = f"（超期 {drawn.overdue} 件）" if drawn.overdue else ""
        appeals_line = f"{drawn.total} 件{late}"
        appeals_key = light_key() if drawn.total else ""
    rows = [
        ("网格编码", code),
        ("网格名称", name),
        ("所属社区", str(column(g, "community_name")[0])),
        ("户数", str(to_int(column(g, "households", 0)[0]))),
        ("楼栋", f"{len(b)} 栋（已配楼栋长 {staffed} 栋）" if len(b) else "本网格暂无楼栋数据"),
        ("网格长", "；".join(grid_chiefs) or "未配置"),
        ("未办结诉求", appeals_line),
    ]
    panel = "<h4>我的网格</h4>" + "".join(
        f"<div><b>{k}</b>：{html.escape(v)}</div>" for k, v in rows if v
    )
    panel += (
        '<div><span class="gridmap-swatch" style="background:#4292c6"></span>已配楼栋长 '
        '<span class="gridmap-swatch" style="background:#fd8d3c;margin-left:8px"></span>'
        "未配楼栋长</div>"
    )
    panel += appeals_key
    m.add_child(Box(panel, "gridmap-panel"))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def building_labels(b: gpd.GeoDataFrame) -> list[str]:
    """What a building is called on the map: 3号楼 (or A栋) by its building number, a rural
    house by its house number (12号), else what the data calls it.

    >>> import geopandas as gpd
    >>> b = gpd.GeoDataFrame({"building_number": ["3", "A", None, None],
    ...                       "house_number": [None, None, "12", "5号"],
    ...                       "building_no": ["3", "A", "12", "B-9"]})
    >>> building_labels(b)
    ['3号楼', 'A栋', '12号', '5号']
    """
    out = []
    number_col = "building_number" if "building_number" in b else "building_no"
    numbers = column(b, number_col, None)
    houses = column(b, "house_number", None)
    for no, house, other in zip(numbers, houses, column(b, "building_no"), strict=True):
        if no:
            text = str(no)
            out.append(f"{text}号楼" if text.isdigit() else f"{text}栋")
        elif house:
            text = str(house)
            out.append(text if text.endswith("号") else f"{text}号")
        else:
            out.append(str(other))
    return out


def _buildings_layer(
    m: folium.Map,
    b: gpd.GeoDataFrame,
    ids: list[int],
    by_building: dict[int, list[str]],
    units: dict[int, list[str]],
    vacant: dict[int, int],
) -> None:
    """The grid's buildings, coloured by whether they have a building chief, labelled."""
    numbers = [str(v) for v in column(b, "building_no")]
    chief_text = ["；".join(by_building.get(i, [])) or "未配置" for i in ids]
    data = collection(
        b,
        {
            "building_no": numbers,
            "compound": column(b, "compound"),
            "households": [to_int(v) for v in column(b, "households", 0)],
            "chief": chief_text,
            "units": ["；".join(units.get(i, [])) or "—" for i in ids],
            "vacant": [f"{vacant[i]} 个单元未配单元长" if vacant.get(i) else "" for i in ids],
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
            fields=["building_no", "compound", "households", "chief", "units", "vacant"],
            aliases=["楼栋", "小区", "户数", "楼栋长", "单元长", "空缺"],
        ),
    ).add_to(m)
    LabelLayer(b, building_labels(b), name="楼栋号").add_to(m)


def _search_entries(b: gpd.GeoDataFrame) -> list[tuple[str, float, float]]:
    """What a grid worker types to find a building: 小区 + 楼号, the 楼号 alone, road + 门牌."""
    out: list[tuple[str, float, float]] = []
    points = b.geometry.representative_point()
    compounds = column(b, "compound", None)
    roads, houses = column(b, "road", None), column(b, "house_number", None)
    for p, label, comp, road, house in zip(
        points, building_labels(b), compounds, roads, houses, strict=True
    ):
        texts = [f"{comp}{label}" if comp else label]
        if road and house:
            texts.append(f"{road}{house}" + ("" if str(house).endswith("号") else "号"))
        out.extend((t, p.y, p.x) for t in texts)
    return out
