"""Map pages served by the API: zone, coverage and search, drawn offline by real Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from typing import TYPE_CHECKING

import pytest

from api.app import create_app
from api.settings import Settings
from tests.conftest import unavailable
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
    page = _served(client, f"/maps/divisions/{STREET}", tmp_path)
    dom = render(chromium, page, tmp_path)
    assert page_requests(tmp_path) == []
    assert len(re.findall(r'<path class="leaflet-interactive"', dom)) >= 3  # the three grids
    # 三长 vacancies: 明珠花园3栋 has its building chief but unit 2's chief left; the other
    # buildings have no building chief
    html = page.read_text(encoding="utf-8")
    assert '"id":"B-MZ-3","name":"明珠花园3","missing":"单元长 1/2 个单元"' in html
    assert '"id":"B-MZ-5","name":"明珠花园5","missing":"楼栋长"' in html
    assert "三长空缺的楼栋：" in dom


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


def _pdf_facts(pdf: bytes, tmp_path: Path) -> tuple[int, str]:
    """(pages, text) of a PDF, by poppler's pdfinfo and pdftotext."""
    for tool in ("pdfinfo", "pdftotext", "pdftoppm"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} (poppler-utils) is not installed; ./scripts/setup.sh installs it")
    path = tmp_path / "board.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(path), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 1000
    return pages, text


def test_the_board_is_one_a4_page_with_the_grid_and_its_chiefs(
    client: TestClient, chromium: str, tmp_path: Path
) -> None:
    resp = client.get(f"/maps/grids/{GRID_A}/board.pdf", params={"service_phone": "0431-8888888"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/pdf"
    pages, text = _pdf_facts(resp.content, tmp_path)
    assert pages == 1
    for shown in (GRID_A, "网格长", "王网格", "139****5678", "楼栋长", "单元长", "0431-8888888"):
        assert shown in text, (shown, text)
    assert "13912345678" not in text  # masked without a key
    keyed = client.get(f"/maps/grids/{GRID_A}/board.pdf", headers={"X-API-Key": KEY})
    assert "13912345678" in _pdf_facts(keyed.content, tmp_path)[1]


def test_the_cli_writes_a_board(region: Region, db_url: str, chromium: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gridmap.cli import app

    pdf, page = tmp_path / "b.pdf", tmp_path / "b.html"
    args = [
        "map",
        "board",
        GRID_A,
        "--pdf",
        str(pdf),
        "--html",
        str(page),
        "--database-url",
        db_url,
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "网格公示牌" in page.read_text(encoding="utf-8")
    assert _pdf_facts(pdf.read_bytes(), tmp_path)[0] == 1
