"""Map pages served by the API: zone, coverage and search, drawn offline by real Chromium."""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING

import pytest

from api.app import create_app
from api.settings import Settings
from tests.maps.test_maps import assets_dir, chromium, page_requests, remote_refs, render
from tests.region import GRID_A, STREET, Region, box, region

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.postgis
__all__ = ["assets_dir", "chromium", "region"]

KEY = "map-key"


@pytest.fixture
def client(
    region: Region, db_url: str, assets_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("GRIDMAP_ASSETS_DIR", str(assets_dir))
    with TestClient(create_app(Settings(database_url=db_url, api_keys=KEY))) as c:
        yield c


def _served(client: TestClient, url: str, tmp_path: Path, **kw: object) -> Path:
    resp = client.get(url, **kw)  # type: ignore[arg-type]
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/html")
    assert remote_refs(resp.text) == []
    page = tmp_path / "page.html"
    page.write_text(resp.text, encoding="utf-8")
    return page


def test_the_zone_page_draws_offline_and_masks_phones(
    client: TestClient, chromium: str, tmp_path: Path
) -> None:
    page = _served(client, f"/maps/grids/{GRID_A}", tmp_path)
    text = page.read_text(encoding="utf-8")
    assert "13912345678" not in text  # the grid chief's phone, masked without a key
    dom = render(chromium, page, tmp_path)
    assert page_requests(tmp_path) == []
    assert "我的网格" in dom
    assert f"<b>网格编码</b>：{GRID_A}" in dom
    assert "3号楼" in dom
    keyed = client.get(f"/maps/grids/{GRID_A}", headers={"X-API-Key": KEY}).text
    assert "13912345678" in keyed  # shown with a key


def test_a_grid_without_buildings_is_served_too(
    client: TestClient, region: Region, chromium: str, tmp_path: Path
) -> None:
    empty = region.add_village("220103001203", "空村", box(125.35, 43.88, 125.36, 43.89))
    dom = render(chromium, _served(client, f"/maps/grids/{empty}", tmp_path), tmp_path)
    assert "本网格暂无楼栋数据" in dom


def test_the_coverage_page_draws_the_street(
    client: TestClient, chromium: str, tmp_path: Path
) -> None:
    dom = render(chromium, _served(client, f"/maps/divisions/{STREET}", tmp_path), tmp_path)
    assert page_requests(tmp_path) == []
    assert len(re.findall(r'<path class="leaflet-interactive"', dom)) >= 3  # the three grids


def test_unknown_codes_are_404_problems(client: TestClient) -> None:
    for url, code in [
        (f"/maps/grids/{GRID_A[:-1]}9", "unknown_grid"),
        ("/maps/divisions/220103099000", "unknown_division"),
    ]:
        resp = client.get(url)
        assert resp.status_code == 404, resp.text
        assert resp.json()["code"] == code


def test_search_sends_an_address_to_its_zone(client: TestClient) -> None:
    found = client.get(
        "/maps/search", params={"address": "宽城区明珠花园3栋1单元"}, follow_redirects=False
    )
    assert found.status_code == 303
    assert found.headers["location"] == f"/maps/grids/{GRID_A}"
    lost = client.get("/maps/search", params={"address": "榆树市明珠花园3栋"})
    assert lost.status_code == 200
    assert "榆树市" in lost.text
    assert 'name="address"' in lost.text
    empty = client.get("/maps/search")
    assert empty.status_code == 200
    assert "<form" in empty.text
