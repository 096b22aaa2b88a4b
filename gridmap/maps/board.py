"""The printable grid board (网格公示牌): an A4 page for the community notice board.

:func:`board_html` lays out the grid's code and name, a map drawn as inline SVG (so it prints
without JavaScript or tiles), the grid chief with a photo placeholder and phone, the building
and unit chiefs, and the community's service phone. :func:`html_to_pdf` prints it with
headless Chromium. Phones are masked unless ``show_phones``, as everywhere.
"""

from __future__ import annotations

import html
import math
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely

from gridmap.errors import GridmapError, InvalidInput
from gridmap.maps.base import column, missing, to_int, wgs84
from gridmap.maps.zone import building_labels
from gridmap.privacy import shown_phone

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = ["PdfRenderError", "board_html", "html_to_pdf"]

#: the map's box on the page, in millimetres
MAP_W, MAP_H = 180.0, 110.0


class PdfRenderError(GridmapError):
    """Headless Chromium could not print the page."""

    code = "pdf_render_failed"


def _projector(bounds: tuple[float, float, float, float]) -> Any:
    """lon/lat -> page millimetres, fitting ``bounds`` (with a margin) into the map box."""
    x0, y0, x1, y1 = bounds
    k = math.cos(math.radians((y0 + y1) / 2))
    w, h = max((x1 - x0) * k, 1e-9), max(y1 - y0, 1e-9)
    scale = min(MAP_W / (w * 1.1), MAP_H / (h * 1.1))
    ox = (MAP_W - w * scale) / 2
    oy = (MAP_H - h * scale) / 2

    def project(lon: float, lat: float) -> tuple[float, float]:
        return ox + (lon - x0) * k * scale, oy + (y1 - lat) * scale

    return project


def _path(geom: Any, project: Any) -> str:
    parts = []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in [poly.exterior, *poly.interiors]:
            pts = [project(x, y) for x, y in ring.coords]
            parts.append("M" + " L".join(f"{x:.2f},{y:.2f}" for x, y in pts) + " Z")
    return " ".join(parts)


def _svg(g: gpd.GeoDataFrame, b: gpd.GeoDataFrame, n: gpd.GeoDataFrame | None) -> str:
    grid = g.geometry.iloc[0]
    project = _projector(grid.bounds)
    out = [
        f'<svg class="map" viewBox="0 0 {MAP_W} {MAP_H}" width="{MAP_W}mm" height="{MAP_H}mm" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<clipPath id="box"><rect width="{MAP_W}" height="{MAP_H}"/></clipPath>',
        '<g clip-path="url(#box)">',
    ]
    if n is not None:
        for geom, code in zip(n.geometry, column(n, "code"), strict=True):
            out.append(f'<path class="neighbour" d="{_path(geom, project)}"/>')
            px, py = project(*shapely.point_on_surface(geom).coords[0])
            out.append(f'<text class="neighbour-label" x="{px:.1f}" y="{py:.1f}">{code}</text>')
    out.append(f'<path class="grid" d="{_path(grid, project)}"/>')
    for geom, label in zip(b.geometry, building_labels(b), strict=True):
        if geom.geom_type == "Point":
            px, py = project(geom.x, geom.y)
            out.append(f'<circle class="building" cx="{px:.2f}" cy="{py:.2f}" r="1.2"/>')
        else:
            out.append(f'<path class="building" d="{_path(geom, project)}"/>')
        px, py = project(*shapely.point_on_surface(geom).coords[0])
        out.append(
            f'<text class="building-label" x="{px:.1f}" y="{py - 1.6:.1f}">'
            f"{html.escape(label)}</text>"
        )
    out.append("</g></svg>")
    return "".join(out)


_CSS = """
@page { size: A4; margin: 12mm 15mm; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; color: #111; margin: 0; }
h1 { font-size: 22pt; margin: 0 0 2mm; }
.code { font-size: 12pt; color: #333; margin-bottom: 4mm; }
.map { border: 0.3mm solid #555; display: block; }
.map .grid { fill: #deebf7; stroke: #08519c; stroke-width: 0.8; }
.map .neighbour { fill: #f0f0f0; stroke: #999; stroke-width: 0.3; stroke-dasharray: 1 1; }
.map .building { fill: #4292c6; stroke: #333; stroke-width: 0.2; }
.map text { font-size: 2.4px; text-anchor: middle; }
.map .neighbour-label { fill: #777; }
.chief { display: flex; gap: 6mm; margin: 5mm 0 3mm; align-items: center; }
.photo { width: 25mm; height: 32mm; border: 0.3mm dashed #777; display: flex;
         align-items: center; justify-content: center; color: #777; font-size: 9pt; }
.chief .who { font-size: 16pt; } .chief .phone { font-size: 14pt; margin-top: 2mm; }
table { border-collapse: collapse; width: 100%; font-size: 10pt; }
th, td { border: 0.2mm solid #999; padding: 1mm 2mm; text-align: left; }
.service { margin-top: 4mm; font-size: 12pt; }
"""


def board_html(
    grid: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    chiefs: pd.DataFrame,
    neighbours: gpd.GeoDataFrame | None = None,
    *,
    show_phones: bool = False,
    service_phone: str | None = None,
) -> str:
    """The board of one grid as a self-contained HTML page (A4), from the zone's frames."""
    if len(grid) != 1:
        raise InvalidInput(f"a board takes exactly one grid, got {len(grid)}")
    g = wgs84(grid, "grid")
    b = wgs84(buildings, "buildings")
    n = wgs84(neighbours, "neighbours") if neighbours is not None and len(neighbours) else None
    code, name = str(column(g, "code")[0]), str(column(g, "name")[0])
    community = str(column(g, "community_name")[0] or "")
    title = name if name.startswith(community) else f"{community} {name}".strip()

    def phone(value: Any) -> str:
        return shown_phone("" if missing(value) else str(value), show_phones) or "—"

    labels = dict(zip((to_int(i) for i in column(b, "id", 0)), building_labels(b), strict=True))
    grid_chiefs = [r for r in chiefs.itertuples(index=False) if r.role == "grid_chief"]
    rows = []
    for r in chiefs.itertuples(index=False):
        if r.role == "grid_chief":
            continue
        bid = getattr(r, "building_id", None)
        where = labels.get(to_int(bid), "") if not missing(bid) else ""
        unit = getattr(r, "unit_no", None)
        post = "楼栋长" if r.role == "building_chief" else "单元长"
        if r.role == "unit_chief" and not missing(unit):
            where = f"{where} {unit}单元"
        rows.append(
            f"<tr><td>{html.escape(where)}</td><td>{post}</td><td>{html.escape(str(r.name))}"
            f"</td><td>{html.escape(phone(getattr(r, 'phone', None)))}</td></tr>"
        )
    chief = grid_chiefs[0] if grid_chiefs else None
    who = html.escape(str(chief.name)) if chief else "（待配置）"
    chief_phone = html.escape(phone(getattr(chief, "phone", None))) if chief else "—"
    table = (
        "<table><tr><th>楼栋 / 单元</th><th>职务</th><th>姓名</th><th>电话</th></tr>"
        + "".join(rows)
        + "</table>"
        if rows
        else "<p>本网格暂无楼栋长、单元长</p>"
    )
    service = html.escape(service_phone) if service_phone else "____________"
    return (
        '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">'
        f"<title>网格公示牌 {code}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f'<div class="code">网格编码：{code}</div>'
        f"{_svg(g, b, n)}"
        '<div class="chief"><div class="photo">照片</div><div>'
        f'<div class="who">网格长：{who}</div><div class="phone">电话：{chief_phone}</div>'
        f"</div></div>{table}"
        f'<div class="service">社区服务电话：{service}</div></body></html>'
    )


def html_to_pdf(page: str, chromium: str | None = None, timeout_s: float = 60.0) -> bytes:
    """Print an HTML page to PDF with headless Chromium (no network, no header or footer)."""
    exe = chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise PdfRenderError("no chromium to print with: install Debian's chromium package")
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "board.html", Path(tmp) / "board.pdf"
        src.write_text(page, encoding="utf-8")
        args = [
            exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--disable-background-networking", "--no-pdf-header-footer",
            f"--user-data-dir={Path(tmp) / 'profile'}", "--proxy-server=127.0.0.1:9",
            f"--print-to-pdf={out}", src.as_uri(),
        ]  # fmt: skip
        try:
            run = subprocess.run(args, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfRenderError(f"chromium did not print within {timeout_s:g} s") from exc
        if not out.exists() or out.stat().st_size == 0:
            raise PdfRenderError(
                f"chromium did not print (exit {run.returncode}): "
                + run.stderr.decode(errors="replace")[-300:]
            )
        return out.read_bytes()
