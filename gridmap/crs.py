"""Coordinate reference systems: constants, cached transformers and GCJ-02.

gridmap stores geometries in CGCS2000 geographic (EPSG:4490), measures in CGCS2000 / 3-degree
Gauss-Kruger CM 126E (EPSG:4551) and serves lon/lat. CGCS2000 and WGS84 agree to well under a
metre, far below the accuracy of any grid boundary, so the two are treated as equal here.

GCJ-02 (the "Mars" coordinates of Amap, Tencent and most Chinese web maps) is not an EPSG CRS:
it is WGS84 plus a published, deliberately non-linear offset of a few hundred metres. It is
handled explicitly: :func:`wgs84_to_gcj02` applies the public formula and
:func:`gcj02_to_wgs84` inverts it iteratively to well under a centimetre.

>>> parse_crs("4490") == STORAGE
True
>>> parse_crs("GCJ-02")
'GCJ02'
>>> lon, lat = wgs84_to_gcj02(125.3245, 43.8868)
>>> round(float(lon), 4), round(float(lat), 4)
(125.331, 43.8892)
>>> back = gcj02_to_wgs84(lon, lat)
>>> round(float(back[0]), 7), round(float(back[1]), 7)
(125.3245, 43.8868)
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from gridmap.errors import InvalidCoordinate, InvalidCRS

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import geopandas as gpd

LOG = logging.getLogger(__name__)

#: CGCS2000 geographic: where geometries are stored
STORAGE = CRS.from_epsg(4490)
#: CGCS2000 / 3-degree Gauss-Kruger CM 126E: where lengths and areas are measured
METRIC = CRS.from_epsg(4551)
#: WGS84 geographic: GeoJSON, GPS
WGS84 = CRS.from_epsg(4326)

GCJ02: Literal["GCJ02"] = "GCJ02"
"""Marker for GCJ-02 coordinates (not an EPSG CRS)."""

CRSLike = CRS | Literal["GCJ02"]

ACCEPTED_FORMS = (
    "'EPSG:<number>' (e.g. 'EPSG:4326'), a bare EPSG number (e.g. '4490'), or 'GCJ02'/'GCJ-02'"
)

# Krasovsky 1940 ellipsoid, as the GCJ-02 formula uses it
_A = 6378245.0
_EE = 0.00669342162296594323

FloatArray = NDArray[np.float64]


def parse_crs(text: str | int | CRS) -> CRSLike:
    """Read a CRS given by a user: ``"EPSG:4326"``, ``"4490"``, ``4551`` or ``"GCJ02"``.

    Returns a :class:`pyproj.CRS`, or the string ``"GCJ02"`` for GCJ-02.

    >>> parse_crs("EPSG:4551").to_epsg()
    4551
    >>> parse_crs("gcj02")
    'GCJ02'
    >>> parse_crs("Mars")
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidCRS: unknown CRS 'Mars': expected 'EPSG:<number>' (e.g. 'EPSG:4326'), a bare EPSG number (e.g. '4490'), or 'GCJ02'/'GCJ-02'
    """
    if isinstance(text, CRS):
        return text
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise InvalidCRS(f"unknown CRS {text!r}: expected {ACCEPTED_FORMS}", value=repr(text))
    raw = str(text).strip()
    norm = raw.upper().replace("-", "").replace("_", "").replace(" ", "")
    if norm == "GCJ02":
        return GCJ02
    number = norm[5:] if norm.startswith("EPSG:") else norm
    if not number.isdigit():
        raise InvalidCRS(f"unknown CRS {text!r}: expected {ACCEPTED_FORMS}", value=raw)
    try:
        return CRS.from_epsg(int(number))
    except CRSError:
        raise InvalidCRS(
            f"unknown CRS {text!r}: EPSG:{number} does not exist; expected {ACCEPTED_FORMS}",
            value=raw,
        ) from None


@lru_cache(maxsize=64)
def _transformer(src_wkt: str, dst_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(src_wkt), CRS.from_wkt(dst_wkt), always_xy=True)


def transformer(src: CRS | str | int, dst: CRS | str | int) -> Transformer:
    """A cached, lon/lat-ordered (``always_xy``) transformer from ``src`` to ``dst``.

    >>> x, y = transformer(STORAGE, METRIC).transform(126.0, 44.0)
    >>> round(x), round(y / 1000)
    (500000, 4874)
    """
    s, d = CRS.from_user_input(src), CRS.from_user_input(dst)
    return _transformer(s.to_wkt(), d.to_wkt())


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Where the GCJ-02 offset does not apply (the formula's own rough bounding box).

    >>> bool(out_of_china(2.35, 48.85)), bool(out_of_china(125.3, 43.9))
    (True, False)
    """
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    return np.asarray((x < 72.004) | (x > 137.8347) | (y < 0.8293) | (y > 55.8271))


def _offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS84 position (lon, lat)."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    sqx = np.sqrt(np.abs(x))
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqx + common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqx + common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 lon/lat to GCJ-02 with the public formula; no offset outside China.

    Vectorised: scalars or arrays of any matching shape.

    >>> lon, lat = wgs84_to_gcj02([2.35, 125.3], [48.85, 43.9])
    >>> float(lon[0]), float(lat[0])
    (2.35, 48.85)
    """
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    dx, dy = _offset(x, y)
    return x + dx, y + dy


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, tolerance_deg: float = 1e-10, max_iter: int = 30
) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 lon/lat back to WGS84, inverting the formula by fixed-point iteration.

    Each step moves the estimate by the residual ``gcj - forward(estimate)``; the offset
    changes slowly, so it converges in a handful of steps to ``tolerance_deg`` (1e-10° is
    about 0.01 mm), far inside the 0.01 m the importer promises.

    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(126.55, 43.84))
    >>> abs(float(lon) - 126.55) < 1e-9, abs(float(lat) - 43.84) < 1e-9
    (True, True)
    """
    gx = np.asarray(lon, dtype=np.float64)
    gy = np.asarray(lat, dtype=np.float64)
    dx, dy = _offset(gx, gy)
    wx, wy = gx - dx, gy - dy
    for _ in range(max_iter):
        fx, fy = wgs84_to_gcj02(wx, wy)
        rx, ry = gx - fx, gy - fy
        wx = wx + rx
        wy = wy + ry
        if (
            wx.size == 0
            or max(float(np.max(np.abs(rx))), float(np.max(np.abs(ry)))) < tolerance_deg
        ):
            break
    else:
        LOG.warning("GCJ-02 inverse did not converge to %g° in %d steps", tolerance_deg, max_iter)
    return wx, wy


def _coords_fn(
    fn: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
) -> Callable[[FloatArray], FloatArray]:
    def apply(coords: FloatArray) -> FloatArray:
        x, y = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return apply


def geometries_from_gcj02(geoms: Any) -> Any:
    """Shapely geometry (or array of them) from GCJ-02 to WGS84/CGCS2000 lon/lat.

    >>> from shapely import Point
    >>> p = geometries_from_gcj02(Point(125.331, 43.8892))
    >>> round(p.x, 3), round(p.y, 3)
    (125.324, 43.887)
    """
    return shapely.transform(geoms, _coords_fn(gcj02_to_wgs84))


def geometries_to_gcj02(geoms: Any) -> Any:
    """Shapely geometry (or array of them) from WGS84/CGCS2000 lon/lat to GCJ-02."""
    return shapely.transform(geoms, _coords_fn(wgs84_to_gcj02))


def frame_from_gcj02(gdf: gpd.GeoDataFrame, to: CRS | str | int = STORAGE) -> gpd.GeoDataFrame:
    """A copy of ``gdf`` (lon/lat in GCJ-02, whatever ``.crs`` claims) in CRS ``to``.

    The declared CRS of the input is ignored: GCJ-02 data is routinely mislabelled WGS84.
    """
    import geopandas as gpd

    geoms = geometries_from_gcj02(np.asarray(gdf.geometry.values, dtype=object))
    out = gdf.copy()
    out = out.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=STORAGE))
    target = CRS.from_user_input(to)
    if not target.equals(STORAGE):
        out = out.to_crs(target)
    return out


def to_storage(gdf: gpd.GeoDataFrame, source: CRSLike | None = None) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:4490: from ``source`` if given (GCJ-02 included), else from ``gdf.crs``.

    WGS84 is relabelled rather than transformed (the two agree to well under a metre).
    """
    if isinstance(source, str) and source == GCJ02:  # never compare a pyproj CRS to a string: slow
        return frame_from_gcj02(gdf)
    crs: Any = source if source is not None else gdf.crs
    if crs is None:
        raise InvalidCRS("unknown CRS: the data declares none and no source CRS was given")
    crs = CRS.from_user_input(crs)
    if crs.equals(STORAGE):
        return gdf.set_crs(STORAGE, allow_override=True) if gdf.crs is None else gdf
    if crs.equals(WGS84):
        return gdf.set_crs(STORAGE, allow_override=True)
    return gdf.set_crs(crs, allow_override=True).to_crs(STORAGE)


# ----------------------------------------------------------------------------- points


def to_storage_xy(
    xs: Sequence[float] | np.ndarray[Any, Any],
    ys: Sequence[float] | np.ndarray[Any, Any],
    crs: str | int = "EPSG:4490",
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Coordinates in ``crs`` (EPSG code or ``GCJ02``) as EPSG:4490 lon/lat arrays.

    WGS84 is taken as CGCS2000 (they agree to well under a metre). Projected CRSs take
    easting/northing. Raises :class:`~gridmap.errors.InvalidCoordinate` naming the first
    value out of range.

    >>> lon, lat = to_storage_xy([500000.0], [4874000.0], "EPSG:4551")
    >>> round(float(lon[0]), 3), round(float(lat[0]), 3)
    (126.0, 44.002)
    >>> to_storage_xy([43.9], [125.3], "EPSG:4326")
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidCoordinate: latitude 125.3 is outside -90..90 (EPSG:4326); are lon and lat swapped?
    """
    parsed = parse_crs(crs)
    # compare GCJ-02 by type: ``CRS == "GCJ02"`` makes pyproj search its database (~0.3 s)
    x = np.asarray(xs, dtype=np.float64)
    y = np.asarray(ys, dtype=np.float64)
    label = GCJ02 if isinstance(parsed, str) else f"EPSG:{parsed.to_epsg()}"
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise InvalidCoordinate(f"coordinates must be finite numbers ({label})", crs=label)
    if isinstance(parsed, str):
        _check_lonlat(x, y, label)
        lon, lat = gcj02_to_wgs84(x, y)
    elif parsed.is_geographic:
        _check_lonlat(x, y, label)
        if parsed.equals(STORAGE) or parsed.equals(WGS84):
            lon, lat = x, y
        else:
            lon, lat = _transform(parsed, x, y, label)
    else:
        _check_not_degrees(x, y, label)
        lon, lat = _transform(parsed, x, y, label)
    _check_lonlat(lon, lat, label)
    return lon, lat


def _check_not_degrees(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], label: str) -> None:
    """Refuse degrees sent as a projected CRS's metres: a point within 180 m of the CRS's
    origin is never one this service covers, and lon/lat always are.

    >>> _check_not_degrees(np.array([125.3]), np.array([43.88]), "EPSG:3857")
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidCoordinate: x 125.3, y 43.88 look like degrees of longitude and latitude, but EPSG:3857 is projected (metres): send crs=EPSG:4490 (or EPSG:4326) with lon/lat, or the easting and northing in EPSG:3857
    """
    like = np.flatnonzero((np.abs(x) <= 180) & (np.abs(y) <= 90))
    if like.size:
        vx, vy = float(x[like[0]]), float(y[like[0]])
        raise InvalidCoordinate(
            f"x {vx:g}, y {vy:g} look like degrees of longitude and latitude, but {label} is "
            f"projected (metres): send crs=EPSG:4490 (or EPSG:4326) with lon/lat, or the "
            f"easting and northing in {label}",
            value=[vx, vy],
            crs=label,
        )


def from_storage_xy(lon: float, lat: float, crs: str | int = "EPSG:4490") -> tuple[float, float]:
    """An EPSG:4490 lon/lat in ``crs`` (EPSG code or ``GCJ02``): the way answers go back.

    >>> from_storage_xy(125.3, 43.88, "EPSG:4326")
    (125.3, 43.88)
    >>> x, y = from_storage_xy(125.3, 43.88, "GCJ02")
    >>> round(x - 125.3, 4), round(y - 43.88, 4)
    (0.0065, 0.0024)
    """
    parsed = parse_crs(crs)
    if isinstance(parsed, str):
        gx, gy = wgs84_to_gcj02(lon, lat)
        return float(gx), float(gy)
    if parsed.equals(STORAGE) or parsed.equals(WGS84):
        return float(lon), float(lat)
    x, y = transformer(STORAGE, parsed).transform(lon, lat)
    return float(x), float(y)


def _transform(
    crs: CRS, x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], label: str
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    lon, lat = transformer(crs, STORAGE).transform(x, y)
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
        raise InvalidCoordinate(
            f"coordinates cannot be transformed from {label}: outside its area of use?",
            crs=label,
        )
    return lon, lat


def _check_lonlat(lon: np.ndarray[Any, Any], lat: np.ndarray[Any, Any], label: str) -> None:
    bad_lat = np.flatnonzero(np.abs(lat) > 90)
    if bad_lat.size:
        v = float(lat[bad_lat[0]])
        hint = "; are lon and lat swapped?" if abs(v) <= 180 else ""
        raise InvalidCoordinate(
            f"latitude {v:g} is outside -90..90 ({label}){hint}", value=v, field="lat"
        )
    bad_lon = np.flatnonzero(np.abs(lon) > 180)
    if bad_lon.size:
        v = float(lon[bad_lon[0]])
        raise InvalidCoordinate(
            f"longitude {v:g} is outside -180..180 ({label})", value=v, field="lon"
        )
