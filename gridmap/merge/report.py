"""The merge QA report: GeoJSON features for a later map and a Markdown rendering."""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from pyproj import Transformer

from gridmap.geometry import coverage_faults
from gridmap.merge.model import MEASURE_CRS, STORE_CRS, Feature

LOG = logging.getLogger(__name__)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd


@cache
def _to_store() -> Transformer:
    return Transformer.from_crs(MEASURE_CRS, STORE_CRS, always_xy=True)


def _lonlat(xy: Any) -> Any:
    x, y = _to_store().transform(xy[:, 0], xy[:, 1])
    return np.round(np.column_stack([x, y]), 7)


def features_geojson(groups: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """One GeoJSON FeatureCollection (EPSG:4490 lon/lat) per group of gap, overlap and
    sliver features; all groups are transformed in one batch. The shapes are simplified
    to 0.5 m: they are for a map, and full detail would make the report heavy.

    >>> features_geojson([[]])
    [{'type': 'FeatureCollection', 'features': []}]
    """
    flat = [f for group in groups for f in group]
    geoms = shapely.simplify(np.asarray([f.geometry for f in flat], dtype=object), 0.5)
    texts: Any = shapely.to_geojson(shapely.transform(geoms, _lonlat)) if len(flat) else []
    out: list[dict[str, Any]] = []
    pos = 0
    for group in groups:
        feats = []
        for f in group:
            feats.append(
                {
                    "type": "Feature",
                    "properties": {
                        "kind": f.kind,
                        "layer": f.layer,
                        "area_m2": round(f.area_m2, 1),
                    },
                    "geometry": json.loads(texts[pos]),
                }
            )
            pos += 1
        out.append({"type": "FeatureCollection", "features": feats})
    return out


def _fmt_area(value: float) -> str:
    return f"{value:,.0f}"


#: how wide an unmatched edge is drawn (m): findings are polygons
EDGE_FINDING_WIDTH_M = 1.0


def coverage_check(grids: gpd.GeoDataFrame) -> tuple[dict[str, Any], list[tuple[str, Feature]]]:
    """Grids (``code``, ``community_code``, any CRS) checked as one coverage.

    Uses :func:`gridmap.geometry.coverage_faults`, the check the import runs on a grids
    layer. Returns the report's ``coverage`` entry (``valid``, ``invalid_edges`` with each
    grid's unmatched length in metres, ``overlaps`` with the two codes and m²) and the
    findings to draw, each with its community: an unmatched edge as a 1 m band
    (``invalid_edge``), an overlap as itself (``grid_overlap``), in EPSG:4551.
    """
    import geopandas as gpd

    edges, a, b, shared = coverage_faults(grids.geometry.values)
    codes = grids["code"].astype(str).to_numpy()
    comm = grids["community_code"].astype(str).to_numpy()
    bad = np.flatnonzero(edges != None)  # noqa: E711 (elementwise)
    metric = gpd.GeoSeries(list(edges[bad]) + list(shared), crs=grids.crs).to_crs(MEASURE_CRS)
    lines, overlaps = metric.values[: len(bad)], metric.values[len(bad) :]
    features: list[tuple[str, Feature]] = []
    invalid = []
    for k, line in zip(bad.tolist(), lines, strict=True):
        length = float(shapely.length(line))
        invalid.append({"grid": codes[k], "community_code": comm[k], "length_m": round(length, 3)})
        band = shapely.buffer(line, EDGE_FINDING_WIDTH_M / 2)
        features.append((comm[k], Feature("invalid_edge", None, band, length)))
    overlapping = []
    for i, j, shape in zip(a.tolist(), b.tolist(), overlaps, strict=True):
        area = float(shapely.area(shape))
        overlapping.append({"grids": [codes[i], codes[j]], "area_m2": round(area, 3)})
        features.append((comm[i], Feature("grid_overlap", None, shape, area)))
    valid = not invalid and not overlapping
    if not valid:
        LOG.warning(
            "the grids are not one valid coverage: %d grid(s) with unmatched edges, "
            "%d overlapping pair(s)", len(invalid), len(overlapping),
        )  # fmt: skip
    return {"valid": valid, "invalid_edges": invalid, "overlaps": overlapping}, features


def _coverage_lines(coverage: dict[str, Any] | None) -> list[str]:
    """The whole area's coverage check, as report lines."""
    if coverage is None:
        return []
    if coverage["valid"]:
        return ["- one valid coverage over the whole area (every shared edge has the same "
                "vertices on both sides, no overlaps)"]  # fmt: skip
    edges, overlaps = coverage["invalid_edges"], coverage["overlaps"]
    out = [f"- **not one valid coverage**: {len(edges)} grid(s) with edges that do not share "
           f"their neighbours' vertices, {len(overlaps)} overlapping pair(s)"]  # fmt: skip
    out += [f"  - {e['grid']}: {e['length_m']:g} m unmatched" for e in edges[:20]]
    out += [f"  - {' and '.join(v['grids'])} overlap by {v['area_m2']:g} m²" for v in overlaps[:20]]
    return out


def render_report_markdown(report: dict[str, Any]) -> str:
    """The merge report as Markdown: overall figures, then one section per community.

    >>> text = render_report_markdown({"overall": {"communities": 0, "grids": 0,
    ...     "buildings": 0, "households": {"min": 0, "median": 0, "max": 0},
    ...     "gaps": {}, "overlaps": {}, "slivers_removed": {"count": 0, "area_m2": 0},
    ...     "out_of_range": 0, "crossing": 0, "buildings_changed": {}},
    ...     "communities": [], "crossing": [], "legacy_outside": []})
    >>> text.splitlines()[0]
    '# 多网合一 merge report'
    """
    o = report["overall"]
    hh = o["households"]
    lines = [
        "# 多网合一 merge report",
        "",
        f"- communities: {o['communities']}, unified grids: {o['grids']}, "
        f"buildings: {o['buildings']}",
        f"- households per grid: min {hh['min']}, median {hh['median']:g}, max {hh['max']}",
        f"- slivers removed: {o['slivers_removed']['count']} "
        f"({_fmt_area(o['slivers_removed']['area_m2'])} m²)",
        f"- grids outside the household range: {o['out_of_range']}",
        f"- legacy grids crossing community lines: {o['crossing']}",
        *_coverage_lines(report.get("coverage")),
        "",
        "| layer | gaps | gap area m² | overlaps | overlap area m² | buildings changed |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for layer in sorted(set(o["gaps"]) | set(o["overlaps"])):
        g = o["gaps"].get(layer, {"count": 0, "area_m2": 0})
        v = o["overlaps"].get(layer, {"count": 0, "area_m2": 0})
        lines.append(
            f"| {layer} | {g['count']} | {_fmt_area(g['area_m2'])} | {v['count']} | "
            f"{_fmt_area(v['area_m2'])} | {o['buildings_changed'].get(layer, 0)} |"
        )
    if report["crossing"]:
        lines += ["", "## Legacy grids crossing community lines", ""]
        for c in report["crossing"]:
            parts = ", ".join(
                f"{q['community_code']} {_fmt_area(q['area_m2'])} m² -> "
                f"{', '.join(q['grids']) or 'sliver'}"
                for q in c["parts"]
            )
            lines.append(f"- {c['layer']} {c['source_code']} ({c['name']}): {parts}")
    if report["legacy_outside"]:
        lines += ["", "## Legacy grid area outside every community", ""]
        for q in report["legacy_outside"]:
            lines.append(
                f"- {q['layer']} {q['source_code']}: {q['outside_share']:.2%} "
                f"({_fmt_area(q['outside_area_m2'])} m²)"
            )
    for c in report["communities"]:
        h = c["households"]
        lines += [
            "",
            f"## {c['name']} {c['code']} ({c['kind']})",
            "",
            f"- grids: {c['grids']}, buildings: {c['buildings']}, households min/median/max: "
            f"{h['min']}/{h['median']:g}/{h['max']}",
            f"- slivers removed: {c['slivers_removed']['count']} "
            f"({_fmt_area(c['slivers_removed']['area_m2'])} m²); gaps filled: "
            f"{c['gaps_filled']['count']}; overlaps resolved: {c['overlaps_resolved']['count']}",
        ]
        for layer, e in c["legacy"].items():
            moved = c.get("buildings_changed", {}).get(layer, {"count": 0})
            lines.append(
                f"- {layer}: {e['grids']} grids, {e['gaps']['count']} gaps "
                f"({_fmt_area(e['gaps']['area_m2'])} m²), {e['overlaps']['count']} overlaps "
                f"({_fmt_area(e['overlaps']['area_m2'])} m²), {moved['count']} buildings changed grid"
            )
        for q in c["out_of_range"]:
            lines.append(
                f"- out of range: {q['grid_code']} {q['households']} households: {q['reason']}"
            )
        for what, label in (
            (
                "buildings_crossing_frame",
                "footprints crossing the community line (kept whole inside)",
            ),
            ("buildings_outside_frame", "buildings coded to it but lying outside (nearest grid)"),
        ):
            if c.get(what):
                lines.append(f"- {label}: {', '.join(c[what][:20])}")
        for note in c.get("notes", []):
            lines.append(f"- note: {note}")
    return "\n".join(lines) + "\n"


def findings_from_report(report: dict[str, Any]) -> gpd.GeoDataFrame:
    """The gap, overlap and sliver features of a merge report (``report.json``), one row
    each, with the community they lie in (EPSG:4490)."""
    import geopandas as gpd
    import shapely.geometry

    rows: list[dict[str, Any]] = []
    for community in report.get("communities", []):
        for feature in (community.get("features") or {}).get("features", []):
            props = feature.get("properties", {})
            rows.append({**props, "community_code": community.get("code"),
                         "geometry": shapely.geometry.shape(feature["geometry"])})  # fmt: skip
    if not rows:
        return gpd.GeoDataFrame(
            {"kind": [], "layer": [], "area_m2": [], "community_code": []},
            geometry=[], crs=4490,
        )  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4490)
