"""Vector tiles from PostGIS, decoded: the grids, divisions and buildings a tile covers."""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import mapbox_vector_tile
import pytest

from api.app import create_app
from api.settings import Settings
from tests.region import GRID_A, GRID_B, GRID_C, Region, region

if TYPE_CHECKING:
    from collections.abc import Iterator

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.postgis
__all__ = ["region"]


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.fixture
def client(region: Region, db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=db_url))) as c:
        yield c


def decode(body: bytes) -> dict[str, Any]:
    layers: dict[str, Any] = mapbox_vector_tile.decode(body)
    return layers


def test_a_grid_tile_holds_the_grids_it_covers(client: TestClient) -> None:
    x, y = tile_of(125.31, 43.885, 10)  # all three grids lie in this tile
    resp = client.get(f"/tiles/grids/10/{x}/{y}.pbf")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert resp.headers["cache-control"] == "public, max-age=300"
    features = decode(resp.content)["grids"]["features"]
    assert sorted(f["properties"]["code"] for f in features) == [GRID_A, GRID_B, GRID_C]
    a = next(f for f in features if f["properties"]["code"] == GRID_A)
    assert a["properties"]["households"] == 300
    assert a["geometry"]["type"] in ("Polygon", "MultiPolygon")
    # the same tile again, with its ETag: 304 and no body
    again = client.get(
        f"/tiles/grids/10/{x}/{y}.pbf", headers={"If-None-Match": resp.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


def test_a_tile_elsewhere_is_empty(client: TestClient) -> None:
    x, y = tile_of(100.0, 30.0, 12)
    resp = client.get(f"/tiles/grids/12/{x}/{y}.pbf")
    assert resp.status_code == 200
    assert resp.content == b""


def test_buildings_appear_from_zoom_14(client: TestClient) -> None:
    x, y = tile_of(125.3025, 43.885, 16)
    near = decode(client.get(f"/tiles/buildings/16/{x}/{y}.pbf").content)
    assert "B-MZ-3" in {f["properties"]["id"] for f in near["buildings"]["features"]}
    x, y = tile_of(125.3025, 43.885, 10)
    assert client.get(f"/tiles/buildings/10/{x}/{y}.pbf").content == b""


def test_bad_tiles_are_named(client: TestClient) -> None:
    resp = client.get("/tiles/roads/12/1/1.pbf")
    assert resp.status_code == 404
    assert resp.json()["code"] == "unknown_tile_layer"
    assert "grids" in resp.json()["detail"]
    resp = client.get("/tiles/grids/3/8/1.pbf")
    assert resp.status_code == 422
    assert "x = 8 is outside 0..7 at zoom 3" in resp.json()["detail"]
    assert client.get("/tiles/grids/23/0/0.pbf").status_code == 422
