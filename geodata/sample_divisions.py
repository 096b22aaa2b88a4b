"""Division boundaries for the sample region: real districts split among real townships.

A county's real polygon (8 districts ship with gridmap) is split among its real townships,
and each township among its real communities and villages, by Voronoi cells of seeded points
clipped to the parent. Seeds are the real centre points where the reference data has them
(GCJ-02, converted); streets and communities without one are placed near their known
siblings, so urban cells come out small and rural ones large. The village cells of the whole
region are then cleaned together (:func:`shapely.coverage_clean`) so shared edges match
vertex for vertex across township and county lines; townships are the unions of their
villages. Counties without a real polygon get a synthetic shape: the Voronoi cell of their
centre point among all county centres, clipped to a hull around Jilin's known places, minus
the real districts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geodata.reference import DISTRICTS_WGS84, ReferenceDivision, divisions
from gridmap.crs import STORAGE, gcj02_to_wgs84, transformer
from gridmap.geometry import polygonal

LOG = logging.getLogger(__name__)


def metric_crs_for(lon: float) -> CRS:
    """The CGCS2000 3-degree Gauss-Kruger CRS (EPSG:4549-4553) whose zone holds ``lon``.

    >>> metric_crs_for(125.3).to_epsg(), metric_crs_for(129.5).to_epsg()
    (4551, 4552)
    """
    cm = round(lon / 3.0) * 3
    return CRS.from_epsg(4551 + (cm - 126) // 3)


def to_metric(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    t = transformer(STORAGE, crs)
    return shapely.transform(geoms, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))


def to_storage(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    t = transformer(crs, STORAGE)
    return shapely.transform(geoms, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))


@cache
def _by_code() -> dict[str, ReferenceDivision]:
    return {d.code: d for d in divisions()}


@cache
def _children() -> dict[str, list[ReferenceDivision]]:
    out: dict[str, list[ReferenceDivision]] = {}
    for d in divisions():
        if d.parent_code:
            out.setdefault(d.parent_code, []).append(d)
    return out


def children(code: str) -> list[ReferenceDivision]:
    return _children().get(code, [])


def centre_wgs84(d: ReferenceDivision) -> tuple[float, float] | None:
    if d.lon_gcj02 is None or d.lat_gcj02 is None:
        return None
    x, y = gcj02_to_wgs84(d.lon_gcj02, d.lat_gcj02)
    return float(x), float(y)


@cache
def real_county_polygons() -> dict[str, shapely.Geometry]:
    """The 8 real district polygons by 12-digit code, lon/lat (WGS84 taken as CGCS2000)."""
    gdf = gpd.read_file(DISTRICTS_WGS84)
    return {f"{a}000000": g for a, g in zip(gdf["adcode"].astype(str), gdf.geometry, strict=True)}


def counties_with_townships(prefix: str = "22") -> list[str]:
    return [
        d.code
        for d in divisions()
        if d.level == "county" and d.code.startswith(prefix) and children(d.code)
    ]


@cache
def synthetic_county_polygons() -> dict[str, shapely.Geometry]:
    """County shapes for every Jilin county: real where known, else synthetic (see module)."""
    real = real_county_polygons()
    codes = counties_with_townships()
    crs = CRS.from_epsg(4551)
    pts, keep = [], []
    for code in codes:
        c = centre_wgs84(_by_code()[code])
        if c is None:
            kids = [centre_wgs84(k) for k in children(code)]
            known = [k for k in kids if k is not None]
            if not known:
                continue
            c = (float(np.mean([k[0] for k in known])), float(np.mean([k[1] for k in known])))
        pts.append(c)
        keep.append(code)
    every = [centre_wgs84(d) for d in divisions() if d.level in ("township", "village")]
    known_pts = np.array([p for p in every if p is not None] + pts)
    hull_ll = shapely.convex_hull(shapely.multipoints(known_pts))
    hull = to_metric(np.array([hull_ll]), crs)[0].buffer(15_000)
    real_m = {k: to_metric(np.array([g]), crs)[0] for k, g in real.items()}
    real_union = shapely.union_all(list(real_m.values()))
    seeds = to_metric(shapely.points(np.array(pts)), crs)
    cells = shapely.voronoi_polygons(
        shapely.multipoints(seeds), extend_to=hull.envelope, ordered=True
    )
    out: dict[str, shapely.Geometry] = {}
    free = shapely.difference(hull, real_union)
    for code, cell in zip(keep, shapely.get_parts(cells), strict=True):
        if code in real:
            out[code] = real[code]
            continue
        g = shapely.intersection(cell, free)
        if not g.is_empty:
            out[code] = to_storage(np.array([g]), crs)[0]
    return out


def _seed_points(
    rng: np.random.Generator,
    poly: shapely.Geometry,
    kids: list[ReferenceDivision],
    crs: CRS,
    urban: np.ndarray,
    spread_m: float,
) -> np.ndarray:
    """One seed point per child inside ``poly`` (metric): real centre, else near siblings."""
    out = np.full((len(kids), 2), np.nan)
    for i, k in enumerate(kids):
        c = centre_wgs84(k)
        if c is not None:
            p = to_metric(np.array([shapely.Point(c)]), crs)[0]
            if poly.contains(p):
                out[i] = (p.x, p.y)
    known_urban = out[urban & ~np.isnan(out[:, 0])]
    anchor = (
        known_urban.mean(axis=0)
        if len(known_urban)
        else np.array(shapely.point_on_surface(poly).coords[0])
    )
    shapely.prepare(poly)
    prepared = poly
    minx, miny, maxx, maxy = poly.bounds
    for i in np.flatnonzero(np.isnan(out[:, 0])):
        for attempt in range(400):
            if urban[i] and attempt < 200:
                p = anchor + rng.normal(0.0, spread_m * (1 + attempt / 40), 2)
            else:
                p = np.array([rng.uniform(minx, maxx), rng.uniform(miny, maxy)])
            if shapely.contains_xy(prepared, p[0], p[1]):
                out[i] = p
                break
        else:
            out[i] = shapely.point_on_surface(poly).coords[0]
    # identical seeds would share one Voronoi cell
    _, first = np.unique(np.round(out, 3), axis=0, return_index=True)
    dup = np.setdiff1d(np.arange(len(out)), first)
    out[dup] += rng.normal(0.0, 5.0, (len(dup), 2))
    return out


def _split(poly: shapely.Geometry, seeds: np.ndarray) -> list[shapely.Geometry]:
    if len(seeds) == 1:
        return [poly]
    env = shapely.box(*poly.bounds).buffer(1000)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=env, ordered=True)
    parts = list(shapely.get_parts(cells))
    return [shapely.intersection(c, poly) for c in parts]


def _is_urban_township(code: str) -> bool:
    return 1 <= int(code[6:9]) <= 99


def _is_community(code: str) -> bool:
    return 1 <= int(code[9:12]) <= 199


@dataclass
class DivisionShapes:
    """Boundaries by 12-digit code, in EPSG:4490; ``metric`` is each county's metric CRS."""

    geometry: dict[str, shapely.Geometry]
    metric: dict[str, CRS]


def partition(county_codes: list[str], seed: int, synthetic: bool) -> DivisionShapes:
    """Township and village boundaries for ``county_codes`` (see the module docstring)."""
    polys = synthetic_county_polygons() if synthetic else real_county_polygons()
    leaves: list[tuple[str, shapely.Geometry]] = []
    geometry: dict[str, shapely.Geometry] = {}
    metric: dict[str, CRS] = {}
    for county in county_codes:
        if county not in polys:
            LOG.warning("no polygon for county %s; skipped", county)
            continue
        county_ll = polys[county]
        crs = metric_crs_for(shapely.centroid(county_ll).x)
        metric[county] = crs
        geometry[county] = county_ll
        rng = np.random.default_rng([seed, int(county)])
        county_m = shapely.make_valid(to_metric(np.array([county_ll]), crs)[0])
        towns = children(county)
        t_urban = np.array([_is_urban_township(t.code) for t in towns])
        t_seeds = _seed_points(rng, county_m, towns, crs, t_urban, 2500.0)
        for town, cell in zip(towns, _split(county_m, t_seeds), strict=True):
            kids = children(town.code)
            if not kids or cell.is_empty:
                leaves.append((town.code, cell))
                continue
            v_urban = np.array([_is_community(k.code) for k in kids])
            spread = 500.0 if _is_urban_township(town.code) else 1500.0
            v_seeds = _seed_points(rng, cell, kids, crs, v_urban, spread)
            vcells = _split(cell, v_seeds)
            if _is_urban_township(town.code):
                # Lloyd relaxation: urban communities come out compact and of similar size
                for _ in range(3):
                    cents = [
                        shapely.point_on_surface(g) if g.is_empty is False else None for g in vcells
                    ]
                    v_seeds = np.array(
                        [
                            shapely.centroid(g).coords[0]
                            if not g.is_empty and shapely.contains(cell, shapely.centroid(g))
                            else p.coords[0]
                            for g, p in zip(vcells, cents, strict=True)
                        ]
                    )
                    vcells = _split(cell, v_seeds)
            for kid, vcell in zip(kids, vcells, strict=True):
                leaves.append((kid.code, vcell))
        n = len(leaves)
        LOG.info("partitioned county %s into %d leaves so far", county, n)
    codes = [c for c, _ in leaves]
    metric_of = [metric[c[:6] + "000000"] for c in codes]
    ll = np.empty(len(leaves), dtype=object)
    for crs in {m.to_epsg(): m for m in metric_of}.values():
        idx = [i for i, m in enumerate(metric_of) if m == crs]
        ll[idx] = to_storage(np.array([leaves[i][1] for i in idx], dtype=object), crs)
    ll = shapely.make_valid(ll)
    ll = np.array([polygonal(g) for g in ll], dtype=object)
    cleaned = clean_coverage(ll, 1e-8)
    by_town: dict[str, list[shapely.Geometry]] = {}
    for code, g in zip(codes, cleaned, strict=True):
        if code.endswith("000"):
            by_town.setdefault(code, []).append(g)
        else:
            geometry[code] = g
            by_town.setdefault(code[:9] + "000", []).append(g)
    for town, parts in by_town.items():
        geometry[town] = dissolve(parts)
    return DivisionShapes(geometry, metric)


def dissolve(parts: list[shapely.Geometry]) -> shapely.Geometry:
    """Union of edge-matched polygons (fast coverage union, plain union if GEOS refuses)."""
    if len(parts) == 1:
        return parts[0]
    try:
        return shapely.coverage_union_all(parts)
    except shapely.errors.GEOSException:
        return shapely.union_all(parts)


def clean_coverage(geoms: np.ndarray, grid_size: float) -> np.ndarray:
    """:func:`shapely.coverage_clean`, with fallbacks for the inputs GEOS rejects.

    ``grid_size`` is a precision in the geometries' units (1 mm, or about 1e-8 degrees)
    used to snap before retrying; the last resort nodes all edges and rebuilds each polygon
    from the faces it mostly covers.
    """
    try:
        return np.asarray(shapely.coverage_clean(geoms))
    except shapely.errors.GEOSException:
        LOG.debug("coverage_clean failed on %d polygons; snapping to %g", len(geoms), grid_size)
    for size in (grid_size, grid_size * 10):
        try:
            snapped = shapely.make_valid(shapely.set_precision(geoms, size))
            snapped = np.array([polygonal(g) for g in snapped], dtype=object)
            return np.asarray(shapely.coverage_clean(snapped))
        except shapely.errors.GEOSException:
            continue
    LOG.warning("coverage_clean failed on %d polygons; rebuilding from noded faces", len(geoms))
    faces = shapely.get_parts(
        shapely.polygonize(shapely.get_parts(shapely.union_all(shapely.boundary(geoms))))
    )
    tree = shapely.STRtree(geoms)
    owner = np.full(len(faces), -1)
    for i, face in enumerate(faces):
        cands = tree.query(face)
        if len(cands):
            areas = shapely.area(shapely.intersection(face, geoms[cands]))
            owner[i] = cands[int(np.argmax(areas))]
    out = np.empty(len(geoms), dtype=object)
    for k in range(len(geoms)):
        mine = faces[owner == k]
        out[k] = dissolve(list(mine)) if len(mine) else shapely.Polygon()
    return out
