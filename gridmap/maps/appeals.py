"""Residents' appeals (接诉即办) on maps: a street's or district's, and a grid worker's.

:func:`appeals_map` draws the grids of a street or district filled by their open appeals,
and every open appeal as a dot in the colour of its status light (one toggleable layer per
light), ringed in red once it is overdue. :func:`appeal_layer` draws the same dots on
another map (a grid worker's zone map). The words and colours here are shared with the
dashboard page (:mod:`gridmap.maps.dashboard`).

The rows are those of :meth:`gridmap.service.Gridmap.appeal_map_rows`: they carry no
contact data, and these maps add none. Like every map here they are drawn on
:class:`gridmap.maps.base.OfflineMap`, so they need no internet access.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import pandas as pd
from jinja2 import Template

from gridmap.appeals.calendar import CST
from gridmap.appeals.workflow import LIGHT_MEANING
from gridmap.errors import InvalidInput
from gridmap.maps.base import (
    Box,
    base_map,
    collection,
    column,
    missing,
    tile_source,
    to_int,
    wgs84,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from gridmap.maps.assets import LeafletAssets

__all__ = [
    "LIGHT_COLOURS",
    "LIGHT_NAMES",
    "LIGHT_SHORT",
    "MEANING",
    "OPEN_CLASSES",
    "OPEN_LIGHTS",
    "OVERDUE_COLOUR",
    "OWNER_KIND_NAMES",
    "RING_COLOUR",
    "SATISFACTION_NAMES",
    "STATE_NAMES",
    "AppealMarkers",
    "Drawn",
    "appeal_layer",
    "appeals_map",
    "light_key",
    "open_class",
    "when",
]

#: the colour of each status light's dot (and dashboard tile)
LIGHT_COLOURS: dict[str, str] = {
    "new": "#4f7cac",
    "yellow": "#f2c500",
    "green": "#2ca25f",
    "orange": "#f57c00",
    "closed": "#9e9e9e",
}
LIGHT_NAMES: dict[str, str] = {
    "new": "新诉求（待签收）",
    "yellow": "黄灯（办理中）",
    "green": "绿灯（待核查）",
    "orange": "橙灯（待回访）",
    "closed": "已办结",
}
LIGHT_SHORT: dict[str, str] = {
    "new": "新诉求",
    "yellow": "黄灯",
    "green": "绿灯",
    "orange": "橙灯",
    "closed": "已办结",
}
#: the lights of open appeals: each gets a layer of its own, even when empty
OPEN_LIGHTS = ("new", "yellow", "green", "orange")
#: what each light means (:data:`gridmap.appeals.workflow.LIGHT_MEANING`), keyed by text
MEANING: dict[str, str] = {str(k): v for k, v in LIGHT_MEANING.items()}
#: the ring of an overdue appeal, and of every other (white: unlike a building's dot)
OVERDUE_COLOUR = "#e41a1c"
RING_COLOUR = "#ffffff"
STATE_NAMES: dict[str, str] = {
    "received": "已受理",
    "signed": "已签收",
    "handled": "已办理",
    "verifying": "待核查",
    "callback": "待回访",
    "closed": "已办结",
    "returned": "已退回",
    "reopened": "重新办理",
}
OWNER_KIND_NAMES: dict[str, str] = {
    "street": "街道",
    "community": "社区",
    "grid": "网格",
    "department": "部门",
    "company": "企业",
    "dispatch": "派单中心",
}
SATISFACTION_NAMES: dict[str, str] = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "unsatisfied": "不满意",
}
#: a grid's fill by its open appeals: (fewest, most or None, colour)
OPEN_CLASSES: tuple[tuple[int, int | None, str], ...] = (
    (0, 0, "#f7f7f7"),
    (1, 2, "#dadaeb"),
    (3, 5, "#bcbddc"),
    (6, 10, "#9e9ac8"),
    (11, None, "#6a51a3"),
)


def open_class(n: int) -> int:
    """The index in :data:`OPEN_CLASSES` of a grid with ``n`` open appeals.

    >>> [open_class(n) for n in (0, 1, 2, 3, 10, 11, 400)]
    [0, 1, 1, 2, 3, 4, 4]
    """
    for i, (low, high, _) in enumerate(OPEN_CLASSES):
        if n >= low and (high is None or n <= high):
            return i
    return 0


def _dot(fill: str, ring: str = RING_COLOUR) -> str:
    """A legend swatch drawn as an appeal's dot."""
    return (f'<span class="gridmap-swatch" style="background:{fill};border-radius:50%;'
            f'border:2px solid {ring};box-shadow:0 0 0 1px #777"></span>')  # fmt: skip


def light_key() -> str:
    """One line of HTML naming the lights' colours and the overdue ring (for a panel)."""
    dots = "".join(
        f'<span style="white-space:nowrap">{_dot(LIGHT_COLOURS[k])}{LIGHT_SHORT[k]}</span> '
        for k in OPEN_LIGHTS
    )
    return f"<div>诉求：{dots}{_dot('#ffffff', OVERDUE_COLOUR)}超期</div>"


def _class_label(low: int, high: int | None) -> str:
    if high is None:
        return f"{low} 件及以上"
    return f"{low} 件" if low == high else f"{low}–{high} 件"


def when(value: Any) -> str:
    """A time as a reader in China reads it (CST), or '' when there is none.

    >>> from datetime import UTC, datetime, timedelta, timezone
    >>> when(datetime(2026, 12, 4, 1, 30, tzinfo=UTC)), when(None)
    ('2026-12-04 09:30', '')
    >>> when(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=9))))  # before year 1 in CST
    '0001-01-01 00:00'
    """
    if value is None or missing(value) or value is pd.NaT:
        return ""
    if isinstance(value, datetime):
        try:
            local = value.astimezone(CST) if value.tzinfo is not None else value
        except OverflowError:
            local = value
        return f"{local.year:04d}-{local:%m-%d %H:%M}"
    return str(value)


def _rows(appeals: pd.DataFrame | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The appeals as dicts, whether they came as a frame or as rows; those with a point."""
    if isinstance(appeals, pd.DataFrame):
        records: list[dict[str, Any]] = [
            {str(k): v for k, v in r.items()} for r in appeals.to_dict("records")
        ]
    else:
        records = [dict(r) for r in appeals]
    return [r for r in records if not missing(r.get("lon")) and not missing(r.get("lat"))]


def _text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None or missing(value) else str(value)


def _popup(row: Mapping[str, Any], description: bool) -> str:
    """An appeal's popup: what, who handles it, where it stands, when it is due (escaped)."""
    light = _text(row, "light")
    state = _text(row, "state")
    matter = _text(row, "matter_name")
    code = _text(row, "matter_code")
    kind = _text(row, "owner_kind")
    deadline = when(row.get("deadline"))
    if deadline and row.get("overdue"):
        deadline += "（已超期）"
    lines = [
        ("事项", f"{matter}（{code}）" if matter and code else matter or code),
        ("承办", f"{_text(row, 'owner_name')}（{OWNER_KIND_NAMES.get(kind, kind)}）"),
        ("状态", f"{STATE_NAMES.get(state, state)} · {LIGHT_NAMES.get(light, light)}"),
        ("受理", when(row.get("received_at"))),
        ("时限", deadline or "—"),
        ("网格", _text(row, "grid_code")),
    ]
    if description:
        lines.append(("描述", _text(row, "description")))
    out = f"<b>诉求 #{html.escape(_text(row, 'id'))}</b>"
    out += "".join(f"<br><b>{k}</b> {html.escape(v)}" for k, v in lines if v)
    return out


class AppealMarkers(folium.FeatureGroup):
    """Appeals as circle markers in the colour of their light, overdue ones ringed in red,
    as one toggleable overlay. Each dot's SVG path carries the classes ``gridmap-appeal``,
    ``gridmap-appeal-<id>``, ``gridmap-light-<light>`` and, when overdue,
    ``gridmap-overdue``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.featureGroup();
        {{ this.markers|tojson }}.forEach(function (d) {
            L.circleMarker([d[0], d[1]], {
                radius: {{ this.radius }}, fillColor: d[2], fillOpacity: 0.9,
                color: d[4] ? {{ this.overdue|tojson }} : {{ this.ring|tojson }},
                weight: d[4] ? 3.5 : 2.5,
                className: "gridmap-appeal gridmap-appeal-" + d[7] + " gridmap-light-" + d[3]
                    + (d[4] ? " gridmap-overdue" : "")
            }).bindTooltip(d[5]).bindPopup(d[6], {maxWidth: 320})
              .addTo({{ this.get_name() }});
        });
        {% endmacro %}
        """
    )

    def __init__(
        self,
        points: gpd.GeoDataFrame,
        rows: Sequence[Mapping[str, Any]],
        name: str,
        *,
        description: bool = False,
        show: bool = True,
        radius: int = 8,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self.radius, self.ring, self.overdue = radius, RING_COLOUR, OVERDUE_COLOUR
        markers = []
        for p, r in zip(points.geometry, rows, strict=True):
            light = _text(r, "light")
            light = light if light in LIGHT_COLOURS else "new"
            overdue = bool(r.get("overdue"))
            matter = _text(r, "matter_name") or _text(r, "matter_code")
            tip = f"#{_text(r, 'id')} {matter} · {LIGHT_NAMES.get(light, light)}"
            if overdue:
                tip += " · 已超期"
            markers.append([
                round(p.y, 7), round(p.x, 7), LIGHT_COLOURS[light], light, overdue,
                html.escape(tip), _popup(r, description), html.escape(_text(r, "id")),
            ])  # fmt: skip
        # overdue dots last, so that their red ring is drawn on top
        self.markers = sorted(markers, key=lambda m: bool(m[4]))


def _points(rows: Sequence[Mapping[str, Any]], shift: bool) -> gpd.GeoDataFrame:
    """The appeals' points (EPSG:4490 lon/lat) as a frame in WGS84, shifted when asked."""
    frame = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(
            [float(r["lon"]) for r in rows], [float(r["lat"]) for r in rows], crs=4490
        ),
        crs=4490,
    )
    return wgs84(frame, "appeals", shift)


@dataclass(frozen=True)
class Drawn:
    """How many appeals :func:`appeal_layer` drew: per light, and overdue."""

    by_light: dict[str, int]
    overdue: int

    @property
    def total(self) -> int:
        return sum(self.by_light.values())


def appeal_layer(
    m: folium.Map,
    appeals: pd.DataFrame | Sequence[Mapping[str, Any]],
    *,
    name: str = "诉求",
    per_light: bool = False,
    description: bool = False,
    gcj02: bool = False,
) -> Drawn:
    """Draw appeals on ``m``: one overlay (``name``), or one per light when ``per_light``;
    ``description`` puts the resident's description in the popup. Returns how many were
    drawn."""
    rows = _rows(appeals)
    pts = _points(rows, gcj02) if rows else gpd.GeoDataFrame(geometry=[], crs=4326)
    lights = [k if k in LIGHT_COLOURS else "new" for k in (_text(r, "light") for r in rows)]
    shown = [*OPEN_LIGHTS, *(["closed"] if "closed" in lights else [])]
    drawn = Drawn({k: lights.count(k) for k in shown}, sum(bool(r.get("overdue")) for r in rows))
    if not per_light:
        if rows:
            AppealMarkers(pts, rows, f"{name}（{len(rows)}）", description=description).add_to(m)
        return drawn
    for light in drawn.by_light:
        keep = [i for i, k in enumerate(lights) if k == light]
        AppealMarkers(
            pts.iloc[keep],
            [rows[i] for i in keep],
            f"{LIGHT_NAMES[light]}（{len(keep)}）",
            description=description,
            show=light != "closed",
        ).add_to(m)
    return drawn


def appeals_map(
    grids: gpd.GeoDataFrame,
    appeals: pd.DataFrame | Sequence[Mapping[str, Any]],
    *,
    title: str,
    assets: LeafletAssets | None = None,
    tiles_url: str | None = None,
    tiles_attribution: str | None = None,
    assets_dir: Path | None = None,
) -> folium.Map:
    """The appeals of a street or district: its grids filled by their open appeals, each
    open appeal a dot in the colour of its light (a layer per light), overdue ones ringed
    in red; a click gives the appeal's number, matter, owner, state, and when it was
    received and is due.

    ``grids`` has ``code`` and ``name`` and optionally ``open`` and ``overdue`` (counted
    from ``appeals`` by their ``grid_code`` where absent). ``appeals`` are the rows of
    :meth:`gridmap.service.Gridmap.appeal_map_rows` (``id``, ``lon``, ``lat`` in EPSG:4490,
    ``state``, ``light``, ``overdue``, ``matter_code``, ``matter_name``, ``owner_kind``,
    ``owner_name``, ``grid_code``, ``received_at``, ``deadline``).

    >>> import geopandas as gpd
    >>> from shapely import box
    >>> grids = gpd.GeoDataFrame({"code": ["220103001001001"], "name": ["一网格"]},
    ...     geometry=[box(125.30, 43.88, 125.31, 43.89)], crs=4490)
    >>> rows = [{"id": 1, "lon": 125.305, "lat": 43.885, "state": "signed", "light": "yellow",
    ...          "overdue": True, "matter_name": "垃圾堆放", "grid_code": "220103001001001"}]
    >>> m = appeals_map(grids, rows, title="新发街道")  # doctest: +SKIP
    """
    rows = _rows(appeals)
    if not len(grids) and not rows:
        raise InvalidInput("no grids and no appeals to map")
    source = tile_source(tiles_url, tiles_attribution)  # checked before any drawing
    shift = source is not None and source.gcj02
    g = wgs84(grids, "grids", shift)
    pts = _points(rows, shift) if rows else None
    m = base_map([f for f in (g, pts) if f is not None and len(f)], assets, assets_dir,
                 tiles_url, tiles_attribution)  # fmt: skip

    codes = [str(c) for c in column(g, "code")]
    if "open" in g.columns:
        opens = [to_int(v) for v in column(g, "open", 0)]
        overdue = [to_int(v) for v in column(g, "overdue", 0)]
    else:
        by_grid = [_text(r, "grid_code") for r in rows]
        late = [_text(r, "grid_code") for r in rows if r.get("overdue")]
        opens = [by_grid.count(c) for c in codes]
        overdue = [late.count(c) for c in codes]
    classes = [open_class(n) for n in opens]
    if len(g):
        folium.GeoJson(
            collection(g, {"code": codes, "name": column(g, "name"), "open": opens,
                           "overdue": overdue, "fill": [OPEN_CLASSES[c][2] for c in classes]}),
            name="网格（按未办结诉求着色）",
            style_function=lambda f: {
                "fillColor": f["properties"]["fill"],
                "fillOpacity": 0.6,
                "color": "#555555",
                "weight": 1,
            },
            highlight_function=lambda f: {"weight": 3},
            tooltip=folium.GeoJsonTooltip(
                fields=["code", "name", "open", "overdue"],
                aliases=["网格编码", "网格名称", "未办结诉求", "其中超期"],
            ),
        ).add_to(m)  # fmt: skip

    drawn = appeal_layer(m, rows, per_light=True, gcj02=shift)
    counts = drawn.by_light
    legend = f"<h4>{html.escape(title)}</h4>"
    open_n = sum(counts.get(k, 0) for k in OPEN_LIGHTS)
    legend += f"<div>未办结诉求 {open_n} 件，其中超期 {drawn.overdue} 件</div>"
    legend += "<h4>诉求状态（灯）</h4>" + "".join(
        f"<div>{_dot(LIGHT_COLOURS[k])}{html.escape(LIGHT_NAMES[k])}：{n} 件"
        f'<span style="color:#555;font-size:12px"> — {html.escape(MEANING[k])}</span></div>'
        for k, n in counts.items()
    )
    legend += f"<div>{_dot('#ffffff', OVERDUE_COLOUR)}红圈：已超期（仍在承办中）</div>"
    if len(g):
        legend += (
            "<h4>网格（按未办结诉求件数）</h4><div>"
            + "　".join(
                f'<span style="white-space:nowrap"><span class="gridmap-swatch" '
                f'style="background:{colour}"></span>{_class_label(low, high)}'
                f"：{classes.count(i)}</span>"
                for i, (low, high, colour) in enumerate(OPEN_CLASSES)
            )
            + "</div>"
        )
    m.add_child(Box(legend, "gridmap-legend"))
    folium.LayerControl(collapsed=False).add_to(m)
    return m
