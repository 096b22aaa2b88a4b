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
    WGS84,
    frame_from_gcj02,
    from_storage_xy,
    gcj02_to_wgs84,
    geometries_from_gcj02,
    geometries_to_gcj02,
    out_of_china,
    parse_crs,
    to_storage,
    to_storage_xy,
    transformer,
    wgs84_to_gcj02,
)
from gridmap.errors import InvalidCoordinate, InvalidCRS


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
    # and in the error's details, for callers that report it
    assert info.value.details == {"value": str(text)}


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


# ----------------------------------------------------------------------------- GCJ-02 formula

# Tiananmen, WGS84 -> GCJ-02, as published with the reference implementation of the public
# formula (wandergis/coordtransform, test/app.js)
TIANANMEN_WGS84 = (116.404, 39.915)
TIANANMEN_GCJ02 = (116.41024449916938, 39.91640428150164)


def test_wgs84_to_gcj02_matches_the_published_reference_value() -> None:
    lon, lat = wgs84_to_gcj02(*TIANANMEN_WGS84)
    assert float(lon) == pytest.approx(TIANANMEN_GCJ02[0], abs=1e-12)
    assert float(lat) == pytest.approx(TIANANMEN_GCJ02[1], abs=1e-12)


def test_gcj02_to_wgs84_inverts_the_published_reference_value() -> None:
    lon, lat = gcj02_to_wgs84(*TIANANMEN_GCJ02)
    assert float(lon) == pytest.approx(TIANANMEN_WGS84[0], abs=1e-9)
    assert float(lat) == pytest.approx(TIANANMEN_WGS84[1], abs=1e-9)


def test_coordinates_given_as_text_are_read_as_numbers() -> None:
    # a CSV cell arrives as text
    lon, lat = wgs84_to_gcj02(["116.404"], ["39.915"])
    assert lon.tolist() == pytest.approx([TIANANMEN_GCJ02[0]])
    assert lat.tolist() == pytest.approx([TIANANMEN_GCJ02[1]])
    lon, lat = gcj02_to_wgs84([str(TIANANMEN_GCJ02[0])], [str(TIANANMEN_GCJ02[1])])
    assert lon.tolist() == pytest.approx([TIANANMEN_WGS84[0]])
    assert lat.tolist() == pytest.approx([TIANANMEN_WGS84[1]])
    assert out_of_china(["2.35", "116.404"], ["48.85", "39.915"]).tolist() == [True, False]
    lon, lat = to_storage_xy(["125.3"], ["43.88"], "EPSG:4326")
    assert (lon.tolist(), lat.tolist()) == ([125.3], [43.88])


# the formula's rough box: lon 72.004..137.8347, lat 0.8293..55.8271, edges inside
@pytest.mark.parametrize(
    ("lon", "lat", "outside"),
    [
        (72.004, 30.0, False),  # west edge
        (72.5, 30.0, False),
        (72.0, 30.0, True),
        (137.8347, 30.0, False),  # east edge
        (137.5, 30.0, False),
        (138.0, 30.0, True),
        (140.0, 30.0, True),  # Pacific, east of Japan
        (100.0, 0.8293, False),  # south edge
        (100.0, 1.5, False),
        (100.0, 0.5, True),
        (100.0, 55.8271, False),  # north edge
        (100.0, 55.5, False),
        (100.0, 56.5, True),
        (100.0, 60.0, True),  # Siberia, inside the box's longitudes
    ],
)
def test_the_offset_applies_inside_the_formulas_box_only(
    lon: float, lat: float, outside: bool
) -> None:
    assert bool(out_of_china(lon, lat)) is outside
    gx, gy = wgs84_to_gcj02(lon, lat)
    moved = (float(gx), float(gy)) != (lon, lat)
    assert moved is not outside


def test_geometries_round_trip_through_gcj02() -> None:
    square = shapely.box(125.30, 43.85, 125.31, 43.86)
    mars = geometries_to_gcj02(square)
    # every vertex moves by the formula, here about 650 m east and 250 m north
    expected = np.column_stack(wgs84_to_gcj02(*shapely.get_coordinates(square).T))
    assert np.allclose(shapely.get_coordinates(mars), expected, rtol=0, atol=1e-12)
    back = geometries_from_gcj02(mars)
    assert np.allclose(
        shapely.get_coordinates(back), shapely.get_coordinates(square), rtol=0, atol=1e-9
    )


def test_an_array_of_geometries_converts_element_by_element() -> None:
    points = np.array([shapely.Point(*TIANANMEN_WGS84), shapely.Point(2.35, 48.85)])
    mars = geometries_to_gcj02(points)
    assert (mars[0].x, mars[0].y) == pytest.approx(TIANANMEN_GCJ02, abs=1e-12)
    assert (mars[1].x, mars[1].y) == (2.35, 48.85)


# ----------------------------------------------------------------------------- frames


def test_frame_from_gcj02_keeps_index_and_attributes() -> None:
    gdf = gpd.GeoDataFrame(
        {"name": ["天安门"]}, geometry=[shapely.Point(*TIANANMEN_GCJ02)], index=[42], crs=WGS84
    )
    out = frame_from_gcj02(gdf)
    assert out.index.tolist() == [42]
    assert out["name"].tolist() == ["天安门"]
    p = out.geometry.loc[42]
    assert (p.x, p.y) == pytest.approx(TIANANMEN_WGS84, abs=1e-9)
    # the input is left as it was
    assert gdf.geometry.iloc[0].x == TIANANMEN_GCJ02[0]


def test_frame_from_gcj02_into_a_metric_crs() -> None:
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(*wgs84_to_gcj02(126.0, 44.0))], crs=WGS84)
    out = frame_from_gcj02(gdf, to="EPSG:4551")
    assert out.crs.equals(METRIC)
    p = out.geometry.iloc[0]
    # the central meridian 126°E lies on the false easting
    assert p.x == pytest.approx(500_000.0, abs=1e-3)
    assert p.y == pytest.approx(4_873_822.37, abs=0.01)


def test_to_storage_relabels_wgs84_without_moving_it() -> None:
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(125.3, 43.9)], crs=WGS84)
    for out in (to_storage(gdf), to_storage(gdf, "EPSG:4326")):
        assert out.crs.equals(STORAGE)
        assert (out.geometry.iloc[0].x, out.geometry.iloc[0].y) == (125.3, 43.9)


def test_to_storage_from_gcj02_removes_the_offset() -> None:
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(*TIANANMEN_GCJ02)], crs=WGS84)
    out = to_storage(gdf, GCJ02)
    assert out.crs.equals(STORAGE)
    p = out.geometry.iloc[0]
    assert (p.x, p.y) == pytest.approx(TIANANMEN_WGS84, abs=1e-9)


def test_to_storage_gives_an_undeclared_frame_the_source_crs() -> None:
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(125.3, 43.9)])
    out = to_storage(gdf, STORAGE)
    assert out.crs.equals(STORAGE)
    assert out.geometry.iloc[0].x == 125.3


def test_to_storage_source_overrides_a_wrong_declared_crs() -> None:
    # metres mislabelled as WGS84: the source given wins
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(500_000.0, 4_873_822.37)], crs=WGS84)
    out = to_storage(gdf, METRIC)
    assert out.crs.equals(STORAGE)
    p = out.geometry.iloc[0]
    assert (p.x, p.y) == pytest.approx((126.0, 44.0), abs=1e-7)


def test_to_storage_without_crs_says_what_is_missing() -> None:
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(125.3, 43.9)])
    with pytest.raises(
        InvalidCRS, match=r"^unknown CRS: the data declares none and no source CRS was given$"
    ):
        to_storage(gdf)


# ----------------------------------------------------------------------------- points in


def test_to_storage_xy_defaults_to_storage_lonlat() -> None:
    lon, lat = to_storage_xy([125.3, 126], [43.88, 44])
    assert lon.tolist() == [125.3, 126.0]
    assert lat.tolist() == [43.88, 44.0]
    assert lon.dtype == lat.dtype == np.float64


def test_to_storage_xy_from_gcj02() -> None:
    lon, lat = to_storage_xy([TIANANMEN_GCJ02[0]], [TIANANMEN_GCJ02[1]], "GCJ-02")
    assert (float(lon[0]), float(lat[0])) == pytest.approx(TIANANMEN_WGS84, abs=1e-9)


def test_to_storage_xy_from_the_metric_crs() -> None:
    lon, lat = to_storage_xy([500_000.0], [4_873_822.37], 4551)
    assert (float(lon[0]), float(lat[0])) == pytest.approx((126.0, 44.0), abs=1e-7)


def test_to_storage_xy_from_a_geographic_crs_on_another_prime_meridian() -> None:
    # Batavia (Jakarta) counts longitude from Jakarta, 106°48'27.79" east of Greenwich
    lon, lat = to_storage_xy([18.5], [43.88], "EPSG:4813")
    assert float(lon[0]) == pytest.approx(18.5 + 106 + 48 / 60 + 27.79 / 3600, abs=1e-6)
    assert float(lat[0]) == pytest.approx(43.88, abs=1e-6)


@pytest.mark.parametrize(
    ("xs", "ys"), [([125.3, np.nan], [43.88, 43.9]), ([125.3], [np.inf]), ([-np.inf], [43.9])]
)
def test_to_storage_xy_refuses_non_finite_coordinates(xs: list[float], ys: list[float]) -> None:
    with pytest.raises(
        InvalidCoordinate, match=r"^coordinates must be finite numbers \(EPSG:4326\)$"
    ) as info:
        to_storage_xy(xs, ys, "EPSG:4326")
    assert info.value.details == {"crs": "EPSG:4326"}


@pytest.mark.parametrize("lat", [90.0, -90.0])
@pytest.mark.parametrize("lon", [180.0, -180.0])
def test_the_poles_and_the_antimeridian_are_accepted(lon: float, lat: float) -> None:
    out = to_storage_xy([lon], [lat], "EPSG:4326")
    assert (float(out[0][0]), float(out[1][0])) == (lon, lat)


@pytest.mark.parametrize(
    ("lat", "message"),
    [
        (90.5, "latitude 90.5 is outside -90..90 (EPSG:4326); are lon and lat swapped?"),
        (-180.0, "latitude -180 is outside -90..90 (EPSG:4326); are lon and lat swapped?"),
        # too large for a longitude as well: no hint
        (180.5, "latitude 180.5 is outside -90..90 (EPSG:4326)"),
        (200.0, "latitude 200 is outside -90..90 (EPSG:4326)"),
    ],
)
def test_a_latitude_out_of_range_is_refused_naming_it(lat: float, message: str) -> None:
    with pytest.raises(InvalidCoordinate) as info:
        to_storage_xy([125.3], [lat], "EPSG:4326")
    assert str(info.value) == message
    assert info.value.details == {"value": lat, "field": "lat"}


def test_a_longitude_out_of_range_is_refused_naming_the_first_one() -> None:
    with pytest.raises(InvalidCoordinate) as info:
        to_storage_xy([125.3, 180.5, -200.0], [43.9, 43.9, 43.9], "EPSG:4326")
    assert str(info.value) == "longitude 180.5 is outside -180..180 (EPSG:4326)"
    assert info.value.details == {"value": 180.5, "field": "lon"}


def test_gcj02_coordinates_out_of_range_are_refused_naming_gcj02() -> None:
    with pytest.raises(InvalidCoordinate) as info:
        to_storage_xy([43.9], [125.3], "GCJ02")
    assert str(info.value) == "latitude 125.3 is outside -90..90 (GCJ02); are lon and lat swapped?"


@pytest.mark.parametrize(("x", "y"), [(125.3, 43.88), (180.0, 45.0), (100.0, 90.0), (-180, -90)])
def test_degrees_sent_as_metres_are_refused(x: float, y: float) -> None:
    with pytest.raises(
        InvalidCoordinate, match=r"look like degrees.*EPSG:3857 is projected"
    ) as info:
        to_storage_xy([x], [y], "EPSG:3857")
    assert info.value.details == {"value": [x, y], "crs": "EPSG:3857"}


@pytest.mark.parametrize(
    ("x", "y"), [(180.5, 45.0), (100.0, 90.5), (150.0, 5_000_000.0), (5_000_000.0, 50.0)]
)
def test_metres_near_the_origin_that_are_not_degrees_are_accepted(x: float, y: float) -> None:
    lon, lat = to_storage_xy([x], [y], "EPSG:3857")
    assert np.isfinite(lon).all()
    assert np.isfinite(lat).all()


def test_coordinates_a_projection_cannot_invert_are_refused_naming_the_crs() -> None:
    with pytest.raises(
        InvalidCoordinate,
        match=r"^coordinates cannot be transformed from EPSG:4551: outside its area of use\?$",
    ) as info:
        to_storage_xy([1e8], [4e6], "EPSG:4551")
    assert info.value.details == {"crs": "EPSG:4551"}


# ----------------------------------------------------------------------------- points out


def test_from_storage_xy_defaults_to_storage_and_keeps_wgs84_lonlat() -> None:
    assert from_storage_xy(125.3, 43.88) == (125.3, 43.88)
    assert from_storage_xy(125.3, 43.88, 4326) == (125.3, 43.88)


def test_from_storage_xy_to_the_metric_crs() -> None:
    x, y = from_storage_xy(126.0, 44.0, "EPSG:4551")
    assert x == pytest.approx(500_000.0, abs=1e-3)
    assert y == pytest.approx(4_873_822.37, abs=0.01)
    assert isinstance(x, float)
    assert isinstance(y, float)


def test_from_storage_xy_to_gcj02_matches_the_reference_value() -> None:
    assert from_storage_xy(*TIANANMEN_WGS84, "GCJ02") == pytest.approx(TIANANMEN_GCJ02, abs=1e-12)


@pytest.mark.parametrize(
    ("text", "expected"), [("EPSG: 4326", 4326), ("epsg : 4490", 4490), ("GCJ 02", GCJ02)]
)
def test_parse_crs_ignores_spaces_inside(text: str, expected: int | str) -> None:
    crs = parse_crs(text)
    assert (crs if isinstance(crs, str) else crs.to_epsg()) == expected
