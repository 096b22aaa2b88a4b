"""GCJ-02 handling and CRS parsing."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geodata.reference import DISTRICTS_GCJ02, DISTRICTS_WGS84
from gridmap.crs import (
    GCJ02,
    METRIC,
    STORAGE,
    frame_from_gcj02,
    gcj02_to_wgs84,
    parse_crs,
    to_storage,
    transformer,
    wgs84_to_gcj02,
)
from gridmap.errors import InvalidCRS


def _metric(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return transformer(STORAGE, METRIC).transform(xy[:, 0], xy[:, 1])  # type: ignore[no-any-return]


def test_district_polygons_from_gcj02_match_wgs84_copy_to_under_a_metre() -> None:
    gcj = gpd.read_file(DISTRICTS_GCJ02)
    wgs = gpd.read_file(DISTRICTS_WGS84)
    converted = frame_from_gcj02(gcj)
    assert converted.crs.equals(STORAGE)
    a = shapely.get_coordinates(converted.geometry.values)
    b = shapely.get_coordinates(wgs.geometry.values)
    assert a.shape == b.shape
    assert len(a) > 18_000
    ax, ay = _metric(a)
    bx, by = _metric(b)
    err = np.hypot(ax - bx, ay - by)
    # measured: 3.4e-08 m (both sides use an iterative inverse of the same public formula)
    assert err.max() < 1.0
    assert err.max() < 0.01


def test_the_offset_is_hundreds_of_metres_at_changchun() -> None:
    gx, gy = wgs84_to_gcj02(125.32, 43.88)
    x, y = _metric(np.array([[125.32, 43.88], [float(gx), float(gy)]]))
    assert 400 < float(np.hypot(x[1] - x[0], y[1] - y[0])) < 700


def test_round_trip_is_sub_centimetre_over_jilin() -> None:
    rng = np.random.default_rng(0)
    lon = rng.uniform(121.6, 131.3, 10_000)
    lat = rng.uniform(40.8, 46.3, 10_000)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    # 1e-7 degrees is about 1 cm
    assert np.abs(back_lon - lon).max() < 1e-7
    assert np.abs(back_lat - lat).max() < 1e-7


def test_no_offset_outside_china() -> None:
    lon, lat = wgs84_to_gcj02(np.array([2.35, -74.0]), np.array([48.85, 40.7]))
    assert lon.tolist() == [2.35, -74.0]
    assert lat.tolist() == [48.85, 40.7]
    assert gcj02_to_wgs84(2.35, 48.85)[0] == 2.35


def test_empty_arrays() -> None:
    lon, lat = gcj02_to_wgs84(np.array([]), np.array([]))
    assert lon.size == 0
    assert lat.size == 0


@pytest.mark.parametrize(
    ("text", "epsg"),
    [("EPSG:4326", 4326), ("epsg:4490", 4490), ("4551", 4551), (4490, 4490), (" EPSG:4551 ", 4551)],
)
def test_parse_crs_epsg_forms(text: str | int, epsg: int) -> None:
    crs = parse_crs(text)
    assert not isinstance(crs, str)
    assert crs.to_epsg() == epsg


@pytest.mark.parametrize("text", ["GCJ02", "GCJ-02", "gcj02", "gcj_02"])
def test_parse_crs_gcj02(text: str) -> None:
    assert parse_crs(text) == GCJ02


@pytest.mark.parametrize("text", ["Mars", "EPSG:", "EPSG:99999999", "", "BD09", 3.5])
def test_parse_crs_rejects_and_names_the_value(text: object) -> None:
    with pytest.raises(InvalidCRS) as info:
        parse_crs(text)  # type: ignore[arg-type]
    assert repr(text) in str(info.value) or str(text) in str(info.value)
    assert "GCJ02" in str(info.value)
    assert info.value.code == "invalid_crs"


def test_to_storage_without_crs_raises() -> None:
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(125.3, 43.9)])
    with pytest.raises(InvalidCRS, match="unknown CRS"):
        to_storage(gdf)


def test_to_storage_from_metric() -> None:
    x, y = transformer(STORAGE, METRIC).transform(125.3, 43.9)
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(x, y)], crs=METRIC)
    out = to_storage(gdf)
    assert out.crs.equals(STORAGE)
    assert abs(out.geometry.iloc[0].x - 125.3) < 1e-9
