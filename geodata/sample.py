"""A seeded, deterministic sample region a Changchun grid worker would recognise.

``generate_sample(scale, seed)`` returns an :class:`~gridmap.io.Interchange`, so the sample
enters gridmap through the same importer as real data; :func:`write_sample` streams large
scales into a GeoPackage community by community.

Scales:

``community``
    龙兴社区 (220102005004, 南关区 长通街道) alone.
``street``
    The named places: every community of 宽城区 欣园街道, 南关区 长通街道 (龙兴社区) and
    民康街道 (九圣祠社区), 吉林市 昌邑区 文庙街道 (天胜社区) and 丰满区 红旗街道 (田园社区), and
    双阳区 平湖街道 黑鱼村 (220112002211) with its hamlets, 东栗家屯 among them. They lie in two
    cities, so this is not one area: it is the scale for names that repeat across places.
``district`` (also ``demo``, the default)
    All of 南关区: 13 streets and townships, 64 communities and villages, one contiguous area
    with buildings, households, chiefs and all three legacy layers in every community.
``city``
    All of 长春市. Counties without a real polygon (九台区, 农安县, 榆树市, 德惠市) get a
    synthetic shape (see :mod:`geodata.sample_divisions`).
``province``
    All of Jilin, synthetic shapes for the 60 counties without a real polygon.

Divisions are the real ones (codes, everyday names, official names) from
:func:`geodata.reference.divisions`; their boundaries are synthetic inside the real district
polygons. Every township of a generated county and every village of those townships gets a
boundary (a coverage); buildings, grids and people are generated for the communities the
scale names. At community and street scale only those communities and their townships are
emitted, so no sample draws a community without buildings, chiefs and legacy grids. City and
province boundaries are the union of their counties at city and province scale, and empty
below. The layout is described in
:mod:`geodata.sample_community`. The same seed gives the same output, whatever the order
communities are generated in.

>>> data = generate_sample("community")
>>> sorted(set(data.buildings["community_code"]))
['220102005004']
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.reference import divisions
from geodata.sample_community import Community, Pinned, generate_community
from geodata.sample_divisions import children, partition
from gridmap.crs import STORAGE
from gridmap.errors import InvalidInput
from gridmap.io.files import write_interchange, write_layer
from gridmap.io.interchange import Interchange, conform

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

LOG = logging.getLogger(__name__)

Scale = Literal["community", "street", "demo", "district", "city", "province"]
SCALES: tuple[str, ...] = ("community", "street", "demo", "district", "city", "province")

DEMO_TOWNSHIPS = ("220103010000", "220102005000", "220102003000", "220202002000", "220211071000")
DEMO_VILLAGES = ("220112002211",)
PINNED = {
    "220102005004": Pinned(compounds=("明珠花园", "明珠家园", "富苑小区", "东方家园")),
    "220112002211": Pinned(hamlets=("东栗家屯", "西栗家屯", "黑鱼屯")),
}


def _plan(scale: str) -> tuple[list[str], list[str], bool]:
    """(counties to partition, communities to fill, synthetic county shapes needed)."""
    if scale not in SCALES:
        raise InvalidInput(
            f"unknown sample scale {scale!r}: expected one of {list(SCALES)}", value=scale
        )
    if scale == "community":
        return ["220102000000"], ["220102005004"], False
    if scale == "street":
        fill = [k.code for t in DEMO_TOWNSHIPS for k in children(t)] + list(DEMO_VILLAGES)
        counties = sorted({c[:6] + "000000" for c in fill})
        return counties, fill, False
    if scale in ("district", "demo"):
        counties = ["220102000000"]
        synthetic = False
    else:
        prefix = "2201" if scale == "city" else "22"
        counties = [
            d.code
            for d in divisions()
            if d.level == "county" and d.code.startswith(prefix) and children(d.code)
        ]
        synthetic = True
    fill = [v.code for county in counties for t in children(county) for v in children(t.code)]
    return counties, fill, synthetic


def _division_rows(
    counties: list[str],
    geometry: dict[str, shapely.Geometry],
    full: bool,
    only: set[str] | None = None,
) -> gpd.GeoDataFrame:
    """The division rows: every township and village of ``counties``, or with ``only`` just
    the villages in it and their townships (so that nothing is drawn that has no data)."""
    refs = {d.code: d for d in divisions()}
    wanted: list[str] = []
    cities = sorted({c[:4] + "00000000" for c in counties})
    wanted += ["220000000000", *cities, *counties]
    for county in counties:
        for t in children(county):
            villages = [v.code for v in children(t.code) if only is None or v.code in only]
            if only is None or villages:
                wanted.append(t.code)
                wanted += villages
    if full:
        for city in cities:
            parts = [geometry[c] for c in counties if c.startswith(city[:4]) and c in geometry]
            geometry[city] = shapely.union_all(parts)
        geometry["220000000000"] = shapely.union_all([geometry[c] for c in cities])
    rows = []
    for code in wanted:
        d = refs[code]
        g = geometry.get(code)
        if g is not None and g.geom_type == "Polygon":
            g = shapely.MultiPolygon([g])
        rows.append(
            {
                "code": code,
                "name": d.name,
                "level": d.level,
                "parent_code": d.parent_code,
                "official_name": d.official_name,
                "aliases": d.official_name if d.official_name != d.name else None,
                "geometry": g,
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=STORAGE)


def _frames(parts: list[dict[str, pd.DataFrame]], layer: str) -> pd.DataFrame:
    frames = [p[layer] for p in parts if len(p[layer])]
    if not frames:
        return conform(layer, pd.DataFrame())
    df = pd.concat(frames, ignore_index=True)
    if "geometry" in df.columns:
        df = gpd.GeoDataFrame(df, geometry="geometry", crs=STORAGE)
    return conform(layer, df)


def _batch(parts: list[dict[str, pd.DataFrame]], divs: gpd.GeoDataFrame | None) -> Interchange:
    layers = ("grids", "legacy_grids", "buildings", "units", "people", "assignments")
    data = Interchange(**{layer: _frames(parts, layer) for layer in layers})
    if divs is not None:
        data.divisions = conform("divisions", divs)
    return data


def iter_sample(
    scale: Scale = "demo",
    seed: int = 0,
    batch_buildings: int = 100_000,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Interchange]:
    """The sample in batches: the first carries all divisions, the rest only contents.

    ``progress(done, total)`` is called as each community is generated.
    """
    counties, fill, synthetic = _plan(scale)
    t0 = time.perf_counter()
    shapes = partition(counties, seed, synthetic)
    full = scale in ("city", "province")
    # below a district, only what is filled is drawn: a demo with no empty communities
    only = set(fill) if scale in ("community", "street") else None
    divs = _division_rows(
        [c for c in counties if c in shapes.geometry], shapes.geometry, full, only
    )
    LOG.info("sample %s: %d divisions in %.1fs", scale, len(divs), time.perf_counter() - t0)
    refs = {d.code: d for d in divisions()}
    parts: list[dict[str, pd.DataFrame]] = []
    pending = 0
    first = True
    for n, code in enumerate(fill):
        geom = shapes.geometry.get(code)
        if geom is None or geom.is_empty:
            continue
        comm = Community(
            code=code,
            name=refs[code].name,
            polygon_ll=geom,
            crs=shapes.metric[code[:6] + "000000"],
            urban=1 <= int(code[9:12]) <= 199,
            pinned=PINNED.get(code, Pinned()),
        )
        try:
            part = generate_community(comm, seed)
        except shapely.errors.GEOSException as exc:
            # GEOS robustness failures are rare; a millimetre snap of the boundary avoids them
            LOG.warning("community %s: %s; retrying on a snapped boundary", code, exc)
            comm.polygon_ll = shapely.make_valid(shapely.set_precision(geom, 1e-8))
            part = generate_community(comm, seed)
        if progress:
            progress(n + 1, len(fill))
        parts.append(part)
        pending += len(part["buildings"])
        if pending >= batch_buildings:
            LOG.info(
                "sample %s: %d/%d communities, %.1fs",
                scale,
                n + 1,
                len(fill),
                time.perf_counter() - t0,
            )
            yield _batch(parts, divs if first else None)
            first, parts, pending = False, [], 0
    if parts or first:
        yield _batch(parts, divs if first else None)


def generate_sample(scale: Scale = "demo", seed: int = 0) -> Interchange:
    """The whole sample region in memory (fine up to district scale; see :func:`write_sample`).

    >>> generate_sample("nowhere")
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidInput: unknown sample scale 'nowhere': expected one of ['community', 'street', 'demo', 'district', 'city', 'province']
    """
    batches = list(iter_sample(scale, seed, batch_buildings=10**12))
    return batches[0]


def write_sample(
    path: str | Path,
    scale: Scale = "demo",
    seed: int = 0,
    batch_buildings: int = 100_000,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Generate and write the sample, streaming batches; returns rows per layer.

    A ``.gpkg`` path is appended to batch by batch (memory stays at one batch). A folder
    gets ``<layer>.geojson`` and ``<layer>.csv``; it is built in memory, so use a GeoPackage
    for the city and province scales.
    """
    p = Path(path)
    counts: dict[str, int] = {}
    if p.suffix.lower() != ".gpkg":
        data = next(iter_sample(scale, seed, batch_buildings=10**12, progress=progress))
        write_interchange(data, p)
        return data.counts()
    p.parent.mkdir(parents=True, exist_ok=True)
    p.unlink(missing_ok=True)
    started: set[str] = set()
    for batch in iter_sample(scale, seed, batch_buildings, progress):
        for name, frame in batch.layers().items():
            if not len(frame):
                continue
            write_layer(
                p,
                name,
                frame,
                append=name in started,
                promote_to_multi=name in ("divisions", "grids", "legacy_grids"),
            )
            started.add(name)
            counts[name] = counts.get(name, 0) + len(frame)
    return counts


__all__ = ["SCALES", "generate_sample", "iter_sample", "write_sample"]

_ = np  # numpy is used by the helpers this module drives
