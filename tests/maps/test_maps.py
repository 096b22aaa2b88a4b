"""Offline maps: the HTML is self-contained, and a real headless Chromium with no network draws it.

The region, in WKT below (lon 125.30-125.32, lat 43.80-43.82):

    43.82 +-----------------+-----------------+
          |        东风社区 ...002001 (650 户)  |     over the target
    43.81 +-----------------+-----------------+
          | 南湖 ...001001   | 南湖 ...001002   |
          | 250 户  ▣1 ▣2 •3 | 420 户   ▣5      |     under / in the target
    43.80 +-----------------+-----------------+
       125.30            125.31            125.32

A fourth grid in another street (lon 125.40) is left out by ``--within`` the first street.
Grid 001001 has a chief (and a former chief whose term ended); building 1 has a building
chief and a unit chief; grid 001002 has no chief.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import folium.plugins
import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely import Point, box
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.db import mapdata
from gridmap.errors import InvalidInput, UnknownDivision, UnknownGridCode
from gridmap.maps import (
    FILES,
    LOAD_COLOURS,
    LeafletAssets,
    MapAssetsInstallError,
    MapAssetsMissing,
    OnlineResourceRequired,
    coverage_map,
    default_assets_dir,
    install_leaflet,
    load_leaflet,
    save_html,
    zone_map,
)
from gridmap.maps.base import label_zooms
from gridmap.maps.coverage import simplified
from gridmap.maps.zone import building_labels
from gridmap.merge.report import findings_from_report
from gridmap.privacy import mask_phone
from tests.conftest import unavailable

if TYPE_CHECKING:
    import psycopg

STREET = "220102001000"
NANHU = "220102001001"
DONGFENG = "220102001002"
OTHER_STREET = "220102002000"
GRID_A = "220102001001001"
GRID_B = "220102001001002"
GRID_C = "220102001002001"
GRID_D = "220102002001001"
CHIEF_PHONE = "13812345678"
FORMER_PHONE = "13600003333"
BUILDING_CHIEF_PHONE = "13900001111"
UNIT_CHIEF_PHONE = "13700002222"


def poly(minx: float, miny: float, maxx: float, maxy: float) -> str:
    ring = f"{minx} {miny},{maxx} {miny},{maxx} {maxy},{minx} {maxy},{minx} {miny}"
    return f"SRID=4490;MULTIPOLYGON((({ring})))"


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def assets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The installed assets folder; Leaflet fetched with npm into a temporary one if absent."""
    try:
        load_leaflet()
        return default_assets_dir()
    except MapAssetsMissing:
        pass
    folder = tmp_path_factory.mktemp("assets")
    try:
        install_leaflet(folder)
    except MapAssetsInstallError as exc:
        unavailable(f"Leaflet is not installed and npm could not fetch it: {exc}")
    return folder


@pytest.fixture(scope="session")
def leaflet(assets_dir: Path) -> LeafletAssets:
    return load_leaflet(assets_dir)


@pytest.fixture(scope="session")
def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None and Path("/usr/bin/chromium").exists():
        exe = "/usr/bin/chromium"
    if exe is None:
        unavailable("headless Chromium is not installed")
    assert exe is not None
    return exe


def frames() -> dict[str, Any]:
    """The region as GeoDataFrames, the shape mapdata returns, without a database."""
    grids = gpd.GeoDataFrame(
        {
            "code": [GRID_A, GRID_B, GRID_C],
            "name": ["南湖一网格", "南湖二网格", "东风网格"],
            "households": [250, 420, 650],
            "community_name": ["南湖社区", "南湖社区", "东风社区"],
            "chief_name": ["张三", None, "李四"],
        },
        geometry=[
            box(125.30, 43.80, 125.31, 43.81),
            box(125.31, 43.80, 125.32, 43.81),
            box(125.30, 43.81, 125.32, 43.82),
        ],
        crs=4490,
    )
    buildings = gpd.GeoDataFrame(
        {"id": [1, 2, 3], "building_no": ["1", "2", "3"], "households": [40, 60, 20]},
        geometry=[
            box(125.302, 43.802, 125.304, 43.803),
            box(125.305, 43.802, 125.307, 43.803),
            Point(125.308, 43.807),
        ],
        crs=4490,
    )
    chiefs = pd.DataFrame(
        {
            "role": ["grid_chief", "building_chief", "unit_chief"],
            "name": ["张三", "王五", "赵六"],
            "phone": [CHIEF_PHONE, BUILDING_CHIEF_PHONE, UNIT_CHIEF_PHONE],
            "building_id": [None, 1, 1],
            "unit_no": [None, None, "2"],
        }
    )
    return {"grids": grids, "buildings": buildings, "chiefs": chiefs}


@pytest.fixture
def region(db: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """The region in the docstring, inserted by SQL."""
    with db.transaction():
        db.execute(
            "INSERT INTO division (code, name, level, parent_code, boundary) VALUES"
            " ('220000000000', '吉林省', 'province', NULL, NULL),"
            " ('220100000000', '长春市', 'city', '220000000000', NULL),"
            " ('220102000000', '南关区', 'county', '220100000000', NULL),"
            " (%(street)s, '南岭街道', 'township', '220102000000', NULL),"
            " (%(other)s, '另一街道', 'township', '220102000000', NULL),"
            " (%(nanhu)s, '南湖社区', 'village', %(street)s, %(nanhu_b)s::geometry),"
            " (%(dongfeng)s, '东风社区', 'village', %(street)s, NULL),"
            " ('220102002001', '远方社区', 'village', %(other)s, NULL)",
            {
                "street": STREET,
                "other": OTHER_STREET,
                "nanhu": NANHU,
                "dongfeng": DONGFENG,
                "nanhu_b": poly(125.30, 43.80, 125.32, 43.81),
            },
        )
        db.execute("INSERT INTO generation (id, source, activated_at) VALUES (1, 'test', now())")
        grids = [
            (GRID_A, NANHU, "南湖一网格", 250, poly(125.30, 43.80, 125.31, 43.81)),
            (GRID_B, NANHU, "南湖二网格", 420, poly(125.31, 43.80, 125.32, 43.81)),
            (GRID_C, DONGFENG, "东风网格", 650, poly(125.30, 43.81, 125.32, 43.82)),
            (GRID_D, "220102002001", "远方网格", 380, poly(125.40, 43.80, 125.41, 43.81)),
        ]
        for code, community, name, households, wkt in grids:
            db.execute(
                "INSERT INTO grid_code (code, community_code, issued_in) VALUES (%s, %s, 1)",
                (code, community),
            )
            db.execute(
                "INSERT INTO grid (code, community_code, kind, name, households, boundary,"
                " generation_low) VALUES (%s, %s, 'urban', %s, %s, %s::geometry, 1)",
                (code, community, name, households, wkt),
            )
        buildings = [
            ("B1", NANHU, "1", 40, poly(125.302, 43.802, 125.304, 43.803), (125.303, 43.8025)),
            ("B2", NANHU, "2", 60, poly(125.305, 43.802, 125.307, 43.803), (125.306, 43.8025)),
            ("B3", NANHU, "3", 20, None, (125.308, 43.807)),
            ("B5", NANHU, "5", 80, poly(125.312, 43.802, 125.314, 43.803), (125.313, 43.8025)),
        ]
        for ext, community, no, households, footprint, (x, y) in buildings:
            db.execute(
                "INSERT INTO building (external_id, community_code, compound, building_no,"
                " households, footprint, point) VALUES (%s, %s, '南湖小区', %s, %s,"
                " %s::geometry, ST_SetSRID(ST_MakePoint(%s, %s), 4490))",
                (ext, community, no, households, footprint, x, y),
            )
        db.execute(
            "INSERT INTO unit (building_id, unit_no, households)"
            " SELECT id, u, 20 FROM building, unnest(ARRAY['1', '2']) u WHERE external_id = 'B1'"
        )
        people = [
            ("P1", "张三", CHIEF_PHONE),
            ("P2", "钱七", FORMER_PHONE),
            ("P3", "王五", BUILDING_CHIEF_PHONE),
            ("P4", "赵六", UNIT_CHIEF_PHONE),
            ("P5", "李四", "13500004444"),
        ]
        db.cursor().executemany(
            "INSERT INTO person (external_id, name, phone) VALUES (%s, %s, %s)", people
        )
        db.execute(
            "INSERT INTO assignment (person_id, role, grid_code, since, until)"
            " SELECT id, 'grid_chief', %s, '2020-01-01', '2023-12-31' FROM person"
            " WHERE external_id = 'P2'",
            (GRID_A,),
        )
        db.execute(
            "INSERT INTO assignment (person_id, role, grid_code, since)"
            " SELECT id, 'grid_chief', g, '2024-01-01' FROM person,"
            " (VALUES ('P1', %s), ('P5', %s)) v(p, g) WHERE external_id = v.p",
            (GRID_A, GRID_C),
        )
        db.execute(
            "INSERT INTO assignment (person_id, role, building_id, since)"
            " SELECT p.id, 'building_chief', b.id, '2024-01-01' FROM person p, building b"
            " WHERE p.external_id = 'P3' AND b.external_id = 'B1'"
        )
        db.execute(
            "INSERT INTO assignment (person_id, role, unit_id, since)"
            " SELECT p.id, 'unit_chief', u.id, '2024-01-01' FROM person p, unit u"
            " JOIN building b ON b.id = u.building_id"
            " WHERE p.external_id = 'P4' AND b.external_id = 'B1' AND u.unit_no = '2'"
        )
        db.execute(
            "INSERT INTO legacy_grid (layer, source_code, name, community_code, boundary) VALUES"
            " ('party', 'DJ-01', '党建一格', %s, %s::geometry),"
            " ('civil', 'MZ-07', '民政七格', NULL, %s::geometry),"
            " ('civil', 'MZ-99', '远处民政格', NULL, %s::geometry)",
            (
                NANHU,
                poly(125.302, 43.802, 125.315, 43.815),
                poly(125.305, 43.805, 125.318, 43.818),
                poly(125.50, 43.90, 125.51, 43.91),
            ),
        )
    return db


# ------------------------------------------------------------------------------ browser


def render(
    chromium: str, html: Path, tmp: Path, screenshot: bool = False, console_errors: bool = False
) -> str:
    """Load ``html`` in headless Chromium with networking impossible; the DOM after 5 s.
    Fails if the page's console reports an error."""
    args = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp / 'profile'}",
        f"--log-net-log={tmp / 'net.json'}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=http://127.0.0.1:9",
        "--window-size=1200,800",
        "--virtual-time-budget=5000",
    ]
    if screenshot:
        args.append(f"--screenshot={tmp / 'shot.png'}")
    else:
        args.append("--dump-dom")
    args += ["--enable-logging=stderr", "--v=0"]  # the page's console goes to stderr
    proc = subprocess.run(
        [*args, html.resolve().as_uri()], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln]
    errors = [ln for ln in console if "Uncaught" in ln or "Error" in ln]
    assert console_errors or not errors, errors  # no script of the page failed
    return proc.stdout


def page_requests(tmp: Path) -> list[str]:
    """URLs the page asked the network for in the last :func:`render`, from Chromium's net log.

    A file:// page has the opaque origin "null"; the browser's own background requests (all
    failing here too) have no origin and are not counted.
    """
    text = (tmp / "net.json").read_text(encoding="utf-8")
    try:
        log = json.loads(text)
    except ValueError:  # cut short: close the event list
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    return sorted(
        {
            str(e["params"]["url"])
            for e in log["events"]
            if e.get("params", {}).get("initiator") == "null" and "url" in e["params"]
        }
    )


def png_pixels(path: Path) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and RGB pixels of an 8-bit RGB/RGBA non-interlaced PNG (no PIL needed)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = colour = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8
            assert colour in (2, 6)
            assert interlace == 0
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    pixels: list[tuple[int, int, int]] = []
    for y in range(height):
        ftype, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        pixels.extend(tuple(line[x * bpp : x * bpp + 3]) for x in range(width))  # type: ignore[misc]
        prev = line
    return width, height, pixels


def remote_refs(html: str) -> list[str]:
    """Every script, stylesheet, image or CSS resource the page would fetch from the network."""
    pattern = (
        r"""<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*["']?(https?:|//)[^"'\s>]*"""
        r"""|url\(\s*["']?(?:https?:|//)[^)]*\)"""
        r"""|@import\s+["']?(?:url\()?\s*["']?(?:https?:|//)"""
    )
    return [m.group(0) for m in re.finditer(pattern, html, re.IGNORECASE)]


def near(p: tuple[int, int, int], q: tuple[int, int, int], tol: int = 8) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(p, q, strict=True))


def rgb(colour: str) -> tuple[int, int, int]:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return r, g, b


def blend(
    colour: str, opacity: float, background: tuple[int, int, int] = rgb("#f4f3ef")
) -> tuple[int, int, int]:
    """The colour a fill of ``colour`` at ``opacity`` shows over ``background``."""
    fg, bg = rgb(colour), background
    r, g, b = (round(f * opacity + k * (1 - opacity)) for f, k in zip(fg, bg, strict=True))
    return r, g, b


# ------------------------------------------------------------------------------ pure tests


def test_assets_alone_import_neither_folium_nor_geopandas() -> None:
    """``gridmap assets install`` stays quick: the maps' heavy imports wait for first use."""
    code = (
        "import sys, gridmap.maps.assets; "
        "print('folium' in sys.modules, 'geopandas' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.split() == ["False", "False"]


def test_coverage_html_is_self_contained(leaflet: LeafletAssets, tmp_path: Path) -> None:
    f = frames()
    f["grids"].loc[1, "name"] = '<img src=x onerror="alert(1)">'
    page = save_html(coverage_map(f["grids"], assets=leaflet), tmp_path / "c.html")
    html = page.read_text(encoding="utf-8")
    assert remote_refs(html) == []
    assert 'onerror="alert' not in html
    assert "lt;img src=x onerror=" in html
    assert "charset=UTF-8" in html
    assert "网格户数" in html
    assert "适中（300–500 户）" in html
    assert f"Leaflet {leaflet.version}" in html
    assert "jquery" not in html.lower()
    assert "bootstrap" not in html.lower()
    # the negative control: folium's own page would fetch its scripts from CDNs
    plain = folium.Map(tiles=None).get_root().render()
    assert len(remote_refs(plain)) >= 5


def test_tiles_url_is_the_only_remote_reference(leaflet: LeafletAssets, tmp_path: Path) -> None:
    tiles = "http://tiles.intranet.example/{z}/{x}/{y}.png"
    m = coverage_map(frames()["grids"], tiles_url=tiles, assets=leaflet)
    html = m.get_root().render()
    assert remote_refs(html) == []
    assert json.dumps(tiles) in html
    with pytest.raises(InvalidInput, match="placeholders"):
        coverage_map(frames()["grids"], tiles_url="http://tiles/x.png", assets=leaflet)


def test_zone_map_masks_phones_unless_asked(leaflet: LeafletAssets) -> None:
    f = frames()
    grid = f["grids"].iloc[[0]]
    html = zone_map(grid, f["buildings"], f["chiefs"], assets=leaflet).get_root().render()
    for phone in (CHIEF_PHONE, BUILDING_CHIEF_PHONE, UNIT_CHIEF_PHONE):
        assert phone not in html
        masked = mask_phone(phone)
        assert masked
        assert masked in html
    assert "张三 138****5678" in html
    shown = zone_map(grid, f["buildings"], f["chiefs"], show_phones=True, assets=leaflet)
    assert CHIEF_PHONE in shown.get_root().render()
    # the one rule of gridmap.privacy: a landline keeps its length
    f["chiefs"].loc[0, "phone"] = "0431-88881234"
    html = zone_map(grid, f["buildings"], f["chiefs"], assets=leaflet).get_root().render()
    assert "张三 043******1234" in html
    assert "88881234" not in html


def test_map_needing_a_cdn_is_refused(leaflet: LeafletAssets) -> None:
    m = coverage_map(frames()["grids"], assets=leaflet)
    folium.plugins.MarkerCluster().add_to(m)
    with pytest.raises(OnlineResourceRequired, match="markercluster"):
        m.get_root().render()


def test_bad_inputs(leaflet: LeafletAssets) -> None:
    f = frames()
    with pytest.raises(InvalidInput, match="exactly one grid"):
        zone_map(f["grids"], f["buildings"], f["chiefs"], assets=leaflet)
    with pytest.raises(InvalidInput, match="no CRS"):
        coverage_map(f["grids"].set_crs(None, allow_override=True), assets=leaflet)
    with pytest.raises(InvalidInput, match="no grids"):
        coverage_map(f["grids"].iloc[[]], assets=leaflet)


def test_missing_assets_name_the_file_and_the_command(tmp_path: Path) -> None:
    with pytest.raises(MapAssetsMissing) as err:
        coverage_map(frames()["grids"], assets_dir=tmp_path)
    assert "leaflet.js" in str(err.value)
    assert "gridmap assets install" in str(err.value)


def test_install_from_a_tarball_inlines_images(tmp_path: Path) -> None:
    pkg = tmp_path / "package"
    (pkg / "dist" / "images").mkdir(parents=True)
    (pkg / "package.json").write_text('{"name": "leaflet", "version": "1.9.4"}')
    (pkg / "LICENSE").write_text("BSD-2-Clause")
    (pkg / "dist" / "leaflet.js").write_text("window.L = {};\n//# sourceMappingURL=leaflet.js.map")
    (pkg / "dist" / "leaflet.css").write_text(".a { background: url(images/layers.png); }")
    for name in FILES:
        if name.startswith("images/"):
            (pkg / "dist" / name).write_bytes(b"\x89PNG fake")
    tarball = tmp_path / "leaflet-1.9.4.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(pkg, arcname="package")
    dest = install_leaflet(tmp_path / "assets", tarball=tarball)
    assert json.loads((dest / "manifest.json").read_text())["version"] == "1.9.4"
    assets = load_leaflet(tmp_path / "assets")
    assert "sourceMappingURL" not in assets.js
    assert 'url("data:image/png;base64,' in assets.css
    assert "images/" not in assets.css
    wrong = tmp_path / "other.tgz"
    (pkg / "package.json").write_text('{"name": "leaflet", "version": "1.0.0"}')
    with tarfile.open(wrong, "w:gz") as tar:
        tar.add(pkg, arcname="package")
    with pytest.raises(MapAssetsInstallError, match=r"expected leaflet@1\.9\.4"):
        install_leaflet(tmp_path / "assets", tarball=wrong, force=True)
    assert load_leaflet(tmp_path / "assets").version == "1.9.4"  # old install kept


# ------------------------------------------------------------------------------ database


@pytest.mark.postgis
def test_coverage_data_within_a_street(region: psycopg.Connection[Any]) -> None:
    data = mapdata.coverage_data(region, STREET)
    assert list(data.grids["code"]) == [GRID_A, GRID_B, GRID_C]
    assert data.grids.crs.to_epsg() == 4490
    assert list(data.grids["households"]) == [250, 420, 650]
    assert list(data.grids["chief_name"].fillna("")) == ["张三", "", "李四"]
    assert list(data.communities["code"]) == [NANHU, DONGFENG]  # 东风 from its grids' union
    assert data.communities.to_crs(4551).area.div(1e6).round(1).tolist() == [1.8, 1.8]  # km²
    assert sorted(data.legacy["source_code"]) == ["DJ-01", "MZ-07"]
    assert len(mapdata.current_grids(region)) == 4
    # 三长: A's and C's chiefs are current (A's former one is not); B1's building chief and
    # its unit 2's chief; nothing lies outside the grids yet
    assert data.staffing == {
        "grids": 3, "grids_staffed": 2, "buildings": 4, "buildings_staffed": 1,
        "units": 2, "units_staffed": 1,
    }  # fmt: skip
    assert data.ungridded is not None
    assert len(data.ungridded) == 0
    region.execute(
        "INSERT INTO building (external_id, community_code, households, point)"
        " VALUES ('LOST', %s, 9, ST_SetSRID(ST_MakePoint(125.35, 43.85), 4490))",
        (NANHU,),
    )
    again = mapdata.coverage_data(region, STREET)
    assert again.ungridded is not None
    assert list(again.ungridded["id"]) == ["LOST"]
    assert again.staffing is not None
    assert again.staffing["buildings"] == 5
    with pytest.raises(UnknownDivision):
        mapdata.coverage_data(region, "220102009000")


@pytest.mark.postgis
def test_zone_data(region: psycopg.Connection[Any]) -> None:
    zone = mapdata.zone_data(region, GRID_A)
    assert zone.grid["name"].tolist() == ["南湖一网格"]
    assert zone.buildings["building_no"].tolist() == ["1", "2", "3"]
    assert zone.buildings.geometry.geom_type.tolist() == ["MultiPolygon", "MultiPolygon", "Point"]
    chiefs = zone.chiefs[["role", "name", "unit_no"]].fillna("").values.tolist()
    assert chiefs == [
        ["grid_chief", "张三", ""],
        ["building_chief", "王五", ""],
        ["unit_chief", "赵六", "2"],
    ]
    assert sorted(zone.neighbours["code"]) == [GRID_B, GRID_C]
    with pytest.raises(UnknownGridCode):
        mapdata.zone_data(region, GRID_A[:-1] + "9")


# ------------------------------------------------------------------------------ drawn offline


@pytest.mark.browser
def test_plain_folium_draws_nothing_offline(chromium: str, tmp_path: Path) -> None:
    """The control: a default folium page, offline, draws no Leaflet paths at all."""
    m = folium.Map(tiles=None, location=[43.81, 125.31], zoom_start=14)
    folium.GeoJson(frames()["grids"].to_json()).add_to(m)
    m.save(tmp_path / "plain.html")
    dom = render(chromium, tmp_path / "plain.html", tmp_path, console_errors=True)
    assert "leaflet-interactive" not in dom
    assert len(page_requests(tmp_path)) >= 5  # the CDN scripts it tried to load


@pytest.mark.browser
def test_tiles_are_the_only_requests(leaflet: LeafletAssets, chromium: str, tmp_path: Path) -> None:
    tiles = "http://tiles.intranet.invalid/base/{z}/{x}/{y}.png"
    m = coverage_map(frames()["grids"], tiles_url=tiles, assets=leaflet)
    dom = render(chromium, save_html(m, tmp_path / "tiles.html"), tmp_path)
    assert len(re.findall(r'<path class="leaflet-interactive"', dom)) == 3
    requested = page_requests(tmp_path)
    assert requested
    assert all(u.startswith("http://tiles.intranet.invalid/base/") for u in requested)


@pytest.mark.postgis
@pytest.mark.browser
def test_coverage_map_draws_offline(
    region: psycopg.Connection[Any], leaflet: LeafletAssets, chromium: str, tmp_path: Path
) -> None:
    data = mapdata.coverage_data(region, STREET)
    page = save_html(
        coverage_map(data.grids, data.communities, data.legacy, assets=leaflet),
        tmp_path / "coverage.html",
    )
    assert remote_refs(page.read_text(encoding="utf-8")) == []
    dom = render(chromium, page, tmp_path)
    assert page_requests(tmp_path) == []
    paths = re.findall(r'<path class="leaflet-interactive"', dom)
    # 3 grids + 2 communities; legacy overlays are off at first
    assert len(paths) == 5, dom[-3000:]
    for label in ("001 南湖一网格", "002 南湖二网格", "001 东风网格"):
        assert f'<span class="l">{label}</span>' in dom
    assert '<span class="s">002</span>' in dom
    # the street fits the window at a zoom where the grids take their short labels or more
    zoom_class = re.search(r'class="[^"]*gridmap-zoom-(\w+)', dom)
    assert zoom_class is not None
    assert zoom_class.group(1) in ("short", "long")
    assert "网格户数" in dom
    assert "偏多（多于 500 户）：1 个" in dom
    assert "无住户数据（0 户）：0 个" in dom
    assert "旧党建网格" in dom
    assert "旧民政网格" in dom

    render(chromium, page, tmp_path, screenshot=True)
    width, height, pixels = png_pixels(tmp_path / "shot.png")
    assert (width, height) == (1200, 800)
    for load in ("under", "in", "over"):  # the region has no grid without households
        colour = LOAD_COLOURS[load]
        expected = blend(colour, 0.55)
        hits = sum(1 for p in pixels if near(p, expected))
        assert hits > 2000, f"{load} grids not drawn in {colour} (want ~{expected}, {hits} px)"


@pytest.mark.postgis
@pytest.mark.browser
def test_zone_map_draws_offline(
    region: psycopg.Connection[Any], leaflet: LeafletAssets, chromium: str, tmp_path: Path
) -> None:
    zone = mapdata.zone_data(region, GRID_A)
    m = zone_map(zone.grid, zone.buildings, zone.chiefs, zone.neighbours, assets=leaflet)
    page = save_html(m, tmp_path / "zone.html")
    html = page.read_text(encoding="utf-8")
    assert remote_refs(html) == []
    for phone in (CHIEF_PHONE, FORMER_PHONE, BUILDING_CHIEF_PHONE, UNIT_CHIEF_PHONE):
        assert phone not in html
    dom = render(chromium, page, tmp_path)
    assert page_requests(tmp_path) == []
    # 2 neighbours + 3 buildings (2 footprints, 1 circle); the grid itself is not interactive
    assert len(re.findall(r'<path class="leaflet-interactive"', dom)) == 5
    assert "我的网格" in dom
    assert "张三 138****5678" in dom
    assert "钱七" not in dom
    for label in ("1号楼", "2号楼", "3号楼", f"{GRID_B} 南湖二网格", f"{GRID_C} 东风网格"):
        assert f"<span>{label}</span>" in dom
    assert "<b>楼栋</b>：3 栋（已配楼栋长 1 栋）" in dom

    render(chromium, page, tmp_path, screenshot=True)
    _, _, pixels = png_pixels(tmp_path / "shot.png")
    inside = blend("#c6dbef", 0.25)  # the grid's own light fill under its buildings
    staffed = sum(1 for p in pixels if near(p, blend("#4292c6", 0.8, inside)))
    vacant = sum(1 for p in pixels if near(p, blend("#fd8d3c", 0.8, inside)))
    assert staffed > 200, (staffed, vacant)
    assert vacant > 200, (staffed, vacant)


def test_a_grid_without_buildings_draws_its_zone(
    region: psycopg.Connection[Any], leaflet: LeafletAssets, chromium: str, tmp_path: Path
) -> None:
    """东风网格 has no buildings: its map draws the boundary and its neighbours, and says so."""
    zone = mapdata.zone_data(region, GRID_C)
    assert len(zone.buildings) == 0
    m = zone_map(zone.grid, zone.buildings, zone.chiefs, zone.neighbours, assets=leaflet)
    page = save_html(m, tmp_path / "zone.html")
    dom = render(chromium, page, tmp_path)
    assert page_requests(tmp_path) == []
    # the two neighbours (南湖 001001, 001002); the grid itself is drawn but not interactive
    assert len(re.findall(r'<path class="leaflet-interactive"', dom)) == 2
    assert len(re.findall(r"<path [^>]*stroke=\"#08519c\"", dom)) == 1  # its own boundary
    assert "<b>楼栋</b>：本网格暂无楼栋数据" in dom
    assert "<b>网格编码</b>：" + GRID_C in dom


def test_rural_grids_are_judged_against_their_own_band(leaflet: LeafletAssets) -> None:
    grids = gpd.GeoDataFrame(
        {
            "code": ["220106100201001", "220106001001001"],
            "name": ["东安村一组", "爱民社区一网格"],
            "households": [150, 150],
            "kind": ["rural", "urban"],
        },
        geometry=[box(125.30, 43.80, 125.31, 43.81), box(125.31, 43.80, 125.32, 43.81)],
        crs=4490,
    )
    page = coverage_map(grids, assets=leaflet).get_root().render()
    loads = dict(re.findall(r'"code": "(\d{15})", [^{}]*?"load": "(\w+)"', page))
    assert loads == {
        "220106100201001": "in",  # 150 households: a hamlet-sized village grid is fine
        "220106001001001": "under",  # but a street grid is short of 300
    }
    assert "农村 100–300 户" in page
    tight = coverage_map(grids, rural_target=(200, 300), assets=leaflet).get_root().render()
    assert "农村少于 200 户" in tight


def test_merge_findings_are_drawn_as_overlays(
    leaflet: LeafletAssets, chromium: str, tmp_path: Path
) -> None:
    def feature(kind: str, layer: str | None, x0: float) -> dict[str, Any]:
        geom = box(x0, 43.804, x0 + 0.002, 43.806)
        return {
            "type": "Feature",
            "properties": {"kind": kind, "layer": layer, "area_m2": 3600.0},
            "geometry": json.loads(shapely.to_geojson(geom)),
        }

    report = {
        "communities": [
            {
                "code": "220102001001",
                "features": {
                    "type": "FeatureCollection",
                    "features": [
                        feature("gap", "civil", 125.301),
                        feature("overlap", "party", 125.305),
                        feature("overlap", "governance", 125.312),
                    ],
                },
            },
            {"code": "220102001002", "features": {"type": "FeatureCollection", "features": []}},
        ]
    }
    found = findings_from_report(report)
    assert sorted(found["kind"]) == ["gap", "overlap", "overlap"]
    assert set(found["community_code"]) == {"220102001001"}
    assert len(findings_from_report({"communities": []})) == 0
    m = coverage_map(frames()["grids"], findings=found, assets=leaflet)
    page = save_html(m, tmp_path / "findings.html")
    dom = render(chromium, page, tmp_path)
    assert "质检：旧网格空隙（1）" in dom
    assert "质检：旧网格重叠（2）" in dom
    assert "质检：碎片" not in dom  # no slivers: no empty overlay
    assert len(re.findall(r'<path [^>]*stroke="#e41a1c"', dom)) == 1
    assert len(re.findall(r'<path [^>]*stroke="#984ea3"', dom)) == 2


def test_the_legend_gives_the_three_chiefs_coverage(leaflet: LeafletAssets) -> None:
    staffing = {"grids": 3, "grids_staffed": 2, "buildings": 4, "buildings_staffed": 1,
                "units": 0, "units_staffed": 0}  # fmt: skip
    page = coverage_map(frames()["grids"], staffing=staffing, assets=leaflet).get_root().render()
    assert "网格长：2/3（67%）" in page
    assert "楼栋长：1/4（25%）" in page
    assert "单元长：0/0（—）" in page


def test_rural_houses_are_labelled_by_house_number() -> None:
    b = gpd.GeoDataFrame(
        {
            "id": [1, 2, 3],
            "building_number": ["7", None, None],
            "house_number": [None, "12", "3-1号"],
            "building_no": ["7", "12", "3-1号"],
            "households": [30, 1, 1],
        },
        geometry=[Point(125.301, 43.801), Point(125.302, 43.801), Point(125.303, 43.801)],
        crs=4490,
    )
    assert building_labels(b) == ["7号楼", "12号", "3-1号"]


@pytest.mark.postgis
def test_cli_writes_both_maps(
    region: psycopg.Connection[Any],
    db_url: str,
    assets_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRIDMAP_ASSETS_DIR", str(assets_dir))
    runner = CliRunner()
    cov, zone = tmp_path / "coverage.html", tmp_path / "zone.html"
    tiles = "http://10.0.0.5/tiles/{z}/{x}/{y}.png"
    args = ["map", "--database-url", db_url, "--within", STREET, "--out", str(cov)]
    result = runner.invoke(app, [*args, "--tiles-url", tiles])
    assert result.exit_code == 0, result.output
    html = cov.read_text(encoding="utf-8")
    assert remote_refs(html) == []
    assert json.dumps(tiles) in html
    assert GRID_D not in html
    args = ["map", "--database-url", db_url, "--grid", GRID_A, "--out", str(zone)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    html = zone.read_text(encoding="utf-8")
    assert "138****5678" in html
    assert CHIEF_PHONE not in html
    assert runner.invoke(app, [*args, "--show-phones"]).exit_code == 0
    assert CHIEF_PHONE in zone.read_text(encoding="utf-8")
    monkeypatch.setenv("GRIDMAP_ASSETS_DIR", str(tmp_path / "empty"))
    result = runner.invoke(app, args)
    assert isinstance(result.exception, MapAssetsMissing)
    assert "gridmap assets install" in str(result.exception)


@pytest.mark.postgis
def test_every_unit_shows_its_chief_or_its_vacancy(
    region: psycopg.Connection[Any], leaflet: LeafletAssets
) -> None:
    zone = mapdata.zone_data(region, GRID_A)
    assert zone.units is not None
    assert sorted(zone.units["unit_no"]) == ["1", "2"]
    m = zone_map(
        zone.grid, zone.buildings, zone.chiefs, zone.neighbours, zone.units, assets=leaflet
    )
    page = m.get_root().render()

    def escaped(text: str) -> str:  # folium writes the features as ASCII-escaped JSON
        return json.dumps(text)[1:-1]

    assert escaped("1单元 未配置；2单元 赵六 137****2222") in page  # unit order, vacancy named
    assert escaped("1 个单元未配单元长") in page


def typed_into_search(page: str, query: str) -> str:
    """``page`` with a script that types ``query`` into its search box once it has loaded."""
    typed = (
        "<script>window.addEventListener('load', function () { setTimeout(function () {"
        f"var i = document.querySelector('.gridmap-search input'); i.value = {json.dumps(query)};"
        "i.dispatchEvent(new Event('change')); }, 200); });</script></body>"
    )
    return page.replace("</body>", typed)


@pytest.mark.postgis
def test_the_zone_search_box_finds_a_building(
    region: psycopg.Connection[Any], leaflet: LeafletAssets, chromium: str, tmp_path: Path
) -> None:
    zone = mapdata.zone_data(region, GRID_A)
    m = zone_map(zone.grid, zone.buildings, zone.chiefs, zone.neighbours, assets=leaflet)
    page = save_html(m, tmp_path / "zone.html")
    html_text = page.read_text(encoding="utf-8")
    for query, found in (
        ("2号楼", "南湖小区2号楼"),
        ("南湖小区3", "南湖小区3号楼"),
        ("99号楼", ""),
    ):
        page.write_text(typed_into_search(html_text, query), "utf-8")
        dom = render(chromium, page, tmp_path)
        assert f'data-found="{found}"' in dom, query
        assert ('class="gridmap-found' in dom) == bool(found), query
    assert page_requests(tmp_path) == []


def test_grid_labels_follow_the_zoom(leaflet: LeafletAssets, chromium: str, tmp_path: Path) -> None:
    """Many grids: no labels while they are specks, serials when larger, names up close."""
    grids = frames()["grids"]
    short_zoom, long_zoom = label_zooms(grids)
    page = save_html(coverage_map(grids, assets=leaflet), tmp_path / "zoom.html")
    text = page.read_text(encoding="utf-8")
    zoom_to = (
        "<script>window.addEventListener('load', function () { setTimeout(function () {"
        "var m = window[Object.keys(window).find(function (k) { return k.indexOf('map_') === 0; })];"
        "m.setZoom({z}, {animate: false}); }, 200); });</script></body>"
    )
    seen = {}
    for z in (short_zoom - 2, short_zoom, long_zoom):
        page.write_text(text.replace("</body>", zoom_to.replace("{z}", str(z))), "utf-8")
        dom = render(chromium, page, tmp_path)
        seen[z] = re.search(r'class="[^"]*gridmap-zoom-(\w+)', dom).group(1)  # type: ignore[union-attr]
    assert seen == {short_zoom - 2: "none", short_zoom: "short", long_zoom: "long"}


def test_simplified_grids_keep_their_shared_edges() -> None:
    """Two grids whose shared edge is a wiggle of many vertices: simplified together, the
    edge loses vertices but stays one edge (no gap, no overlap between them)."""
    wiggle = [(125.31 + (0.000003 if i % 2 else 0.0), 43.80 + i * 0.0001) for i in range(101)]
    west = shapely.Polygon([(125.30, 43.80), *wiggle, (125.30, 43.81)])
    east = shapely.Polygon([*wiggle, (125.32, 43.81), (125.32, 43.80)][::-1])
    g = gpd.GeoDataFrame(
        {"code": ["220102001001001", "220102001001002"], "community_code": ["220102001001"] * 2},
        geometry=[west, east],
        crs=4326,
    )
    s = simplified(g)
    assert shapely.get_num_coordinates(s.geometry.values).sum() < 60  # from 208
    assert bool(shapely.coverage_is_valid(s.geometry.values))
    assert abs(s.geometry.union_all().area - g.geometry.union_all().area) < 1e-9


def test_the_coverage_search_box_finds_a_grid(
    leaflet: LeafletAssets, chromium: str, tmp_path: Path
) -> None:
    page = save_html(coverage_map(frames()["grids"], assets=leaflet), tmp_path / "cov.html")
    html_text = page.read_text(encoding="utf-8")
    for query, found in ((GRID_B, GRID_B), ("东风", "东风网格"), ("没有的网格", "")):
        page.write_text(typed_into_search(html_text, query), "utf-8")
        dom = render(chromium, page, tmp_path)
        assert f'data-found="{found}"' in dom, query


def test_base_maps_tianditu_and_amap(
    leaflet: LeafletAssets, monkeypatch: pytest.MonkeyPatch
) -> None:
    grids = frames()["grids"]
    page = coverage_map(grids, tiles_url="tianditu:TESTTOKEN", assets=leaflet).get_root().render()
    assert "LAYER=vec" in page
    assert "LAYER=cva" in page  # the annotation layer over it
    assert page.count("tk=TESTTOKEN") == 2
    monkeypatch.delenv("GRIDMAP_TIANDITU_TOKEN", raising=False)
    with pytest.raises(InvalidInput, match="token"):
        coverage_map(grids, tiles_url="tianditu", assets=leaflet)
    monkeypatch.setenv("GRIDMAP_TIANDITU_TOKEN", "ENVTOKEN")
    assert (
        "tk=ENVTOKEN"
        in coverage_map(grids, tiles_url="tianditu", assets=leaflet).get_root().render()
    )

    def first_lon(html_page: str) -> float:
        m = re.search(r'"coordinates": \[\[\[(\d+\.\d+), (\d+\.\d+)\]', html_page)
        assert m is not None
        return float(m.group(1))

    plain = coverage_map(grids, assets=leaflet).get_root().render()
    amap = coverage_map(grids, tiles_url="amap", assets=leaflet).get_root().render()
    assert "autonavi" in amap
    # our layers move onto Amap's GCJ-02 tiles: about 0.006° east around Changchun
    assert 0.004 < first_lon(amap) - first_lon(plain) < 0.008


def test_the_legend_names_every_layer_colour(leaflet: LeafletAssets) -> None:
    grids = frames()["grids"]
    communities = gpd.GeoDataFrame(
        {"code": ["220102001001"], "name": ["南湖社区"]},
        geometry=[box(125.30, 43.80, 125.32, 43.81)], crs=4490,
    )  # fmt: skip
    legacy = gpd.GeoDataFrame(
        {"layer": ["party", "civil"], "source_code": ["DJ-01", "MZ-07"], "name": ["a", "b"]},
        geometry=[box(125.30, 43.80, 125.31, 43.81), box(125.31, 43.80, 125.32, 43.81)],
        crs=4490,
    )
    page = coverage_map(grids, communities, legacy, assets=leaflet).get_root().render()
    assert "其他图层" in page
    assert "社区边界" in page
    assert "旧党建网格（虚线）" in page
    assert "旧民政网格（虚线）" in page
    assert "旧综治网格" not in page.split("其他图层")[1].split("</div></div>")[0]  # not drawn
    bare = coverage_map(grids, assets=leaflet).get_root().render()
    assert "其他图层" not in bare
