"""The province page against the real server: headless Chromium fetches the vector tiles
from ``gridmap serve`` as the map opens, and draws every grid."""

from __future__ import annotations

import re
import subprocess
from typing import TYPE_CHECKING

import httpx
import pytest

from gridmap.maps.assets import MapAssetsMissing, load_vectorgrid
from tests.api.test_burst import server
from tests.conftest import unavailable
from tests.maps.test_maps import chromium
from tests.region import region

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.postgis
__all__ = ["chromium", "region", "server"]


def test_the_province_page_draws_its_grids_from_the_tiles(
    server: str, chromium: str, tmp_path: Path
) -> None:
    try:
        load_vectorgrid()
    except MapAssetsMissing as exc:
        unavailable(str(exc))
    page = httpx.get(server + "/maps/province", timeout=30)
    assert page.status_code == 200, page.text
    assert "gridmapProvinceGrids" in page.text
    assert "/tiles/grids/{z}/{x}/{y}.pbf" in page.text
    args = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-dev-shm-usage", "--disable-background-networking",
        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,800",
        "--virtual-time-budget=8000", "--enable-logging=stderr", "--v=0",
        "--dump-dom", server + "/maps/province",
    ]  # fmt: skip
    run = subprocess.run(args, capture_output=True, text=True, timeout=120, check=True)
    dom = run.stdout
    console = [ln for ln in run.stderr.splitlines() if ":CONSOLE" in ln]
    assert not [ln for ln in console if "Uncaught" in ln or "Error" in ln], console
    # the three grids of the region, each drawn (once per tile it reaches) from the tiles
    paths = re.findall(r'<path [^>]*class="leaflet-interactive"', dom)
    assert len(paths) >= 3, dom[-2000:]
    assert "网格户数（全省）" in dom
