"""Read and write the gridmap interchange format: one GeoPackage or a folder of files.

Everything read is brought into EPSG:4490; a spatial layer whose CRS cannot be known keeps
``crs=None`` so that :func:`gridmap.io.validate.validate` reports it rather than guessing.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gridmap.crs import CRSLike, parse_crs, to_storage
from gridmap.errors import InvalidInput
from gridmap.io.interchange import Interchange, conform
from gridmap.io.layers import (
    LAYER_NAMES,
    LAYERS,
    SPATIAL_LAYERS,
    column_from_shapefile,
    shapefile_name,
)

__all__ = ["export_qgis", "read_interchange", "write_interchange", "write_layer"]

LOG = logging.getLogger(__name__)

#: file suffixes looked for in a folder, in order of preference
SPATIAL_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".csv")
TABLE_SUFFIXES = (".csv", ".dbf", ".gpkg")


# ----------------------------------------------------------------------------- reading


def read_interchange(
    path: str | Path,
    source_crs: str | int | CRSLike | None = None,
    encoding: str | None = None,
) -> Interchange:
    """Read a GeoPackage, or a folder of ``<layer>.geojson|.shp|.gpkg|.csv|.dbf`` files.

    ``source_crs`` says what the coordinates really are, overriding what the files declare
    (GCJ-02 from Amap or Tencent is routinely labelled WGS84): ``"GCJ02"`` converts with the
    sub-centimetre inverse, an EPSG code reprojects. Without it, each file's declared CRS is
    used; a layer without one keeps ``crs=None`` and validation reports it. ``encoding``
    forces the text encoding of Shapefiles and CSV files; otherwise a Shapefile's ``.cpg``
    is honoured, and files without one are decoded as UTF-8 if they can be, else GBK.
    CSV files for spatial layers carry ``lon``/``lat`` columns or a ``wkt`` column.
    """
    p = Path(path)
    src = parse_crs(source_crs) if source_crs is not None else None
    raw: dict[str, pd.DataFrame] = {}
    if p.is_file():
        if p.suffix.lower() != ".gpkg":
            raise InvalidInput(
                f"cannot import {str(p)!r}: expected a .gpkg file or a folder of layer files",
                value=str(p),
            )
        present = {str(row[0]) for row in pyogrio.list_layers(p)}
        for name in LAYER_NAMES:
            if name in present:
                raw[name] = _read_ogr(p, name, layer=name)
    elif p.is_dir():
        for name in LAYER_NAMES:
            found = _find_file(p, name)
            if found is not None:
                raw[name] = _read_file(found, name, encoding)
    else:
        raise InvalidInput(f"cannot import {str(p)!r}: no such file or folder", value=str(p))
    if not raw:
        LOG.warning("no interchange layers found in %s", p)
    out: dict[str, pd.DataFrame] = {}
    for name, frame in raw.items():
        if isinstance(frame, gpd.GeoDataFrame) and LAYERS[name].geometry:
            frame = _into_storage(frame, src)
        out[name] = conform(name, frame)
        LOG.info("read %d rows of %s from %s", len(out[name]), name, p)
    return Interchange(**out)


def _find_file(folder: Path, name: str) -> Path | None:
    suffixes = SPATIAL_SUFFIXES if LAYERS[name].geometry else TABLE_SUFFIXES
    for suffix in suffixes:
        for candidate in (folder / f"{name}{suffix}", folder / f"{name}{suffix.upper()}"):
            if candidate.exists():
                return candidate
    return None


def _into_storage(frame: gpd.GeoDataFrame, src: CRSLike | None) -> gpd.GeoDataFrame:
    if src is None and frame.crs is None:
        return frame
    return to_storage(frame, src if src is not None else None)


def _read_ogr(path: Path, name: str, layer: str | None = None, **kw: Any) -> pd.DataFrame:
    spatial = LAYERS[name].geometry
    # through Arrow: a province's millions of rows read 20x faster, with no Python string per cell
    frame: pd.DataFrame = pyogrio.read_dataframe(
        path, layer=layer, read_geometry=spatial, use_arrow=True, **kw
    )
    if not spatial and isinstance(frame, gpd.GeoDataFrame):
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return frame


def _read_file(path: Path, name: str, encoding: str | None) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, name, encoding)
    if suffix == ".gpkg":
        return _read_ogr(path, name)
    if suffix in (".shp", ".dbf"):
        frame = _read_shapefile(path, name, encoding)
        return frame.rename(columns=column_from_shapefile)
    return _read_ogr(path, name)


def _read_shapefile(path: Path, name: str, encoding: str | None) -> pd.DataFrame:
    if encoding is not None or path.with_suffix(".cpg").exists():
        return _read_ogr(path, name, encoding=encoding) if encoding else _read_ogr(path, name)
    # No .cpg: read the bytes unchanged (Latin-1 maps bytes 1:1) and decide UTF-8 or GBK.
    frame = _read_ogr(path, name, encoding="ISO-8859-1")
    text_cols = [c for c in frame.columns if frame[c].dtype == object or frame[c].dtype == "str"]
    text_cols = [
        c for c in text_cols if not isinstance(frame, gpd.GeoDataFrame) or c != frame.geometry.name
    ]
    blobs = [v.encode("latin-1") for c in text_cols for v in frame[c] if isinstance(v, str)]
    chosen = "utf-8"
    try:
        for blob in blobs:
            blob.decode("utf-8")
    except UnicodeDecodeError:
        chosen = "gb18030"
    LOG.info("%s has no .cpg; decoding its text as %s", path, chosen)
    for c in text_cols:
        frame[c] = frame[c].map(
            lambda v: (
                v.encode("latin-1").decode(chosen, errors="replace") if isinstance(v, str) else v
            )
        )
    return frame


def _read_csv(path: Path, name: str, encoding: str | None) -> pd.DataFrame:
    encodings = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    frame: pd.DataFrame | None = None
    for enc in encodings:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)
            break
        except UnicodeDecodeError:
            continue
    if frame is None:
        raise InvalidInput(
            f"cannot decode {str(path)!r} as {' or '.join(encodings)}: give encoding=",
            value=str(path),
        )
    frame = frame.replace("", pd.NA)
    if not LAYERS[name].geometry:
        return frame
    geoms: Any
    if "wkt" in frame.columns:
        geoms = shapely.from_wkt(frame.pop("wkt").fillna("").replace("", None), on_invalid="warn")
    elif {"lon", "lat"} <= set(frame.columns):
        lon = pd.to_numeric(frame.pop("lon"), errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(frame.pop("lat"), errors="coerce").to_numpy(dtype=float)
        geoms = shapely.points(lon, lat)
        geoms[np.isnan(lon) | np.isnan(lat)] = None
    else:
        geoms = np.full(len(frame), None, dtype=object)
    geo: pd.DataFrame = gpd.GeoDataFrame(
        frame, geometry=gpd.GeoSeries(geoms, index=frame.index), crs=None
    )
    return geo


# ----------------------------------------------------------------------------- writing


def _for_writing(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if isinstance(out, gpd.GeoDataFrame) and col == out.geometry.name:
            continue
        if str(out[col].dtype) == "string":
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    if isinstance(out, gpd.GeoDataFrame) and out.crs is None:
        LOG.warning("writing layer %s without a CRS", name)
    return out


def write_layer(
    path: Path, name: str, frame: pd.DataFrame, append: bool = False, **kw: Any
) -> None:
    """Write (or append) one layer to a GeoPackage or an OGR file at ``path``."""
    out = _for_writing(name, frame)
    pyogrio.write_dataframe(out, path, layer=name, append=append, **kw)


def write_interchange(
    data: Interchange,
    path: str | Path,
    crosswalk: pd.DataFrame | None = None,
    extra: dict[str, pd.DataFrame] | None = None,
) -> Path:
    """Write ``data`` as a GeoPackage (``path`` ends in ``.gpkg``) or a folder.

    A folder gets ``<layer>.geojson`` for spatial layers (EPSG:4490 declared in the file)
    and ``<layer>.csv`` (UTF-8 with BOM, which Excel opens correctly) for tables. Empty
    layers are not written; an existing GeoPackage at ``path`` is replaced. A ``crosswalk``
    (legacy grid to unified grid, export only) is written as one more table, and so is each
    of ``extra`` (``gridmap export --history``); the importer reads none of them.
    """
    more = {**({"crosswalk": crosswalk} if crosswalk is not None else {}), **(extra or {})}
    p = Path(path)
    if p.suffix.lower() == ".gpkg":
        p.parent.mkdir(parents=True, exist_ok=True)
        p.unlink(missing_ok=True)
        for name, frame in data.layers().items():
            if len(frame):
                write_layer(p, name, frame)
        for name, frame in more.items():
            if len(frame):
                write_layer(p, name, frame)
        return p
    p.mkdir(parents=True, exist_ok=True)
    for name, frame in data.layers().items():
        if not len(frame):
            continue
        if name in SPATIAL_LAYERS:
            target = p / f"{name}.geojson"
            target.unlink(missing_ok=True)
            write_layer(target, name, frame, driver="GeoJSON")
        else:
            frame.to_csv(p / f"{name}.csv", index=False, encoding="utf-8-sig")
    for name, frame in more.items():
        if isinstance(frame, gpd.GeoDataFrame):
            target = p / f"{name}.geojson"
            target.unlink(missing_ok=True)
            write_layer(target, name, frame, driver="GeoJSON")
        else:
            frame.to_csv(p / f"{name}.csv", index=False, encoding="utf-8-sig")
    return p


def export_qgis(
    data: Interchange,
    folder: str | Path,
    fmt: Literal["geojson", "shapefile"] = "geojson",
    encoding: Literal["UTF-8", "GBK"] = "UTF-8",
) -> list[Path]:
    """Write every non-empty layer into ``folder`` for opening in QGIS (or ArcGIS).

    ``fmt="shapefile"`` writes ``<layer>.shp`` (tables as ``<layer>.dbf``) with a ``.cpg``
    naming ``encoding`` (GBK for older ArcGIS) and field names cut to 10 characters as
    :data:`gridmap.io.layers.SHAPEFILE_NAMES` gives them. A Shapefile holds one geometry
    type, so a layer mixing points and polygons is refused with :class:`InvalidInput`.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if fmt == "geojson":
        write_interchange(data, out)
        return sorted(out.glob("*.geojson")) + sorted(out.glob("*.csv"))
    if fmt != "shapefile":
        raise InvalidInput(f"unknown export format {fmt!r}: expected 'geojson' or 'shapefile'")
    for name, frame in data.layers().items():
        if not len(frame):
            continue
        if isinstance(frame, gpd.GeoDataFrame):
            kinds = set(frame.geom_type.dropna().str.replace("Multi", "", regex=False))
            if len(kinds) > 1:
                raise InvalidInput(
                    f"layer {name} mixes {sorted(kinds)} geometries; a Shapefile holds one type",
                    value=name,
                )
        target = out / f"{name}{'.shp' if name in SPATIAL_LAYERS else '.dbf'}"
        for sibling in out.glob(f"{name}.*"):
            if sibling.suffix.lower() in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                sibling.unlink()
        renamed = frame.rename(columns=shapefile_name)
        write_layer(target, name, renamed, driver="ESRI Shapefile", encoding=encoding)
        written.append(target)
    return written
