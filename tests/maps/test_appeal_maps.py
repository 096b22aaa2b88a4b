"""Appeals (接诉即办) on maps: the street's appeals map, the grid worker's zone map, the dashboard.

The appeals, filed into the test region (tests/region.py) and moved through the workflow:

    grid A (新发社区第一网格)  a1 env-trash  signed                      yellow
                             a2 civ-cert   received (resident's phone)  new
                             a3 env-ad     received                     new
                             a4 env-trash  closed, resident satisfied   (not on the maps)
    grid B (新发社区第二网格)  b1 env-ad     verifying                    green
                             b2 shop-fire  callback                     orange
    grid C (春华社区第一网格)  c1 civ-cert   received in 2024             new, overdue

Under 新发街道 env-trash and env-ad go to the street, civ-cert to the community and
shop-fire to the fire department (tests/appeals/lists.py).
"""

from __future__ import annotations

import json
import re
import warnings
from datetime import UTC, datetime
from html import unescape
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pytest
from shapely import box as shapely_box

from api.app import create_app
from api.settings import Settings
from gridmap.access import Caller
from gridmap.appeals.models import Dashboard
from gridmap.errors import InvalidInput
from gridmap.maps import LIGHT_COLOURS, appeals_map, dashboard_html, save_html
from gridmap.maps.appeals import OPEN_CLASSES, OVERDUE_COLOUR, RING_COLOUR
from gridmap.service import Intake
from tests.appeals.lists import write_list
from tests.maps.test_maps import assets_dir, chromium, leaflet, page_requests, remote_refs, render
from tests.region import CHUNHUA, GRID_A, GRID_B, GRID_C, STREET, XINFA, Region, region

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from gridmap.maps import LeafletAssets

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["assets_dir", "chromium", "leaflet", "region"]

RESIDENT_PHONE = "13900001111"
RESIDENT_NAME = "李居民"
LONG_AGO = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
ADMIN = Caller("admin", name="test")
#: the lights the appeals were moved to, by hand (not by gridmap's own rule)
GRID_LAYER = "网格（按未办结诉求着色）"
EXPECTED = {"a1": "yellow", "a2": "new", "a3": "new", "b1": "green", "b2": "orange", "c1": "new"}


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture
def appeals(region: Region, tmp_path: Path) -> dict[str, int]:
    """The appeals of the module docstring, filed and moved on; their ids by name."""
    gm = region.gm
    gm.import_duties(write_list(tmp_path / "list"))

    def file(matter: str, lon: float, lat: float, text: str, **kw: Any) -> int:
        appeal, _, _ = gm.file_appeal(Intake(matter, text, lon=lon, lat=lat, **kw))
        return appeal.id

    ids = {
        "a1": file("env-trash", 125.305, 43.885, "明珠花园门口垃圾堆放"),
        "a2": file("civ-cert", 125.303, 43.883, "开居住证明", contact_name=RESIDENT_NAME,
                   contact_phone=RESIDENT_PHONE),
        "a3": file("env-ad", 125.307, 43.882, "楼道小广告"),
        "a4": file("env-trash", 125.308, 43.888, "已清运的垃圾"),
        "b1": file("env-ad", 125.315, 43.885, "电线杆小广告"),
        "b2": file("shop-fire", 125.316, 43.884, "商铺堵塞消防通道"),
        "c1": file("civ-cert", 125.338, 43.885, "春华社区的证明", received_at=LONG_AGO),
    }  # fmt: skip
    moves = {
        "a1": ["sign"],
        "a4": ["sign", "handle", "submit", "verify", "callback"],
        "b1": ["sign", "handle", "submit"],
        "b2": ["sign", "handle", "submit", "verify"],
    }
    for name, actions in moves.items():
        for action in actions:
            sat = "satisfied" if action == "callback" else None
            gm.act(ids[name], action, ADMIN, satisfaction=sat)
    return ids


@pytest.fixture
def client(
    appeals: dict[str, int], db_url: str, assets_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("GRIDMAP_ASSETS_DIR", str(assets_dir))
    with TestClient(create_app(Settings(database_url=db_url, api_keys="k"))) as c:
        yield c


# ------------------------------------------------------------------------------ helpers


def markers(page: str) -> dict[int, dict[str, Any]]:
    """The appeal dots a page carries, by appeal id: light, colour, overdue, popup text."""
    out: dict[int, dict[str, Any]] = {}
    pattern = r"L\.featureGroup\(\);\s*(\[\[.*?\]\])\.forEach\(function \(d\) \{\s*(L\.\w+)"
    for payload, draw in re.findall(pattern, page, re.S):
        if draw != "L.circleMarker":  # labels
            continue
        for d in json.loads(payload):
            out[int(d[7])] = {"light": d[3], "colour": d[2], "overdue": d[4], "popup": d[6]}
    return out


def paths(dom: str) -> list[dict[str, str]]:
    """The attributes of every SVG path Leaflet drew, from Chromium's DOM."""
    return [
        dict(re.findall(r'([\w-]+)="([^"]*)"', tag)) for tag in re.findall(r"<path [^>]*>", dom)
    ]


def carries(page: str, text: str) -> bool:
    """Whether the page holds ``text``, as it is or as JSON's ASCII escapes (folium's data)."""
    return text in page or json.dumps(text)[1:-1] in page


def features(page: str) -> dict[str, dict[str, Any]]:
    """The properties of the grids a page draws, by grid code."""
    found = re.search(r'"features": (\[.*?\]), "type": "FeatureCollection"', page, re.S)
    assert found is not None
    return {f["properties"]["code"]: f["properties"] for f in json.loads(found.group(1))}


def ids_of(rows: dict[int, Any], appeals: dict[str, int]) -> set[str]:
    names = {v: k for k, v in appeals.items()}
    return {names[i] for i in rows}


def served(client: TestClient, url: str, **params: str) -> str:
    resp = client.get(url, params=params)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/html")
    assert remote_refs(resp.text) == []
    return resp.text


# ------------------------------------------------------------------------------ over HTTP

pg = pytest.mark.postgis


@pg
@pytest.mark.browser
def test_the_appeals_map_draws_each_open_appeal_in_its_light_offline(
    client: TestClient, appeals: dict[str, int], chromium: str, tmp_path: Path
) -> None:
    page = served(client, "/maps/appeals", division=STREET)
    file = tmp_path / "appeals.html"
    file.write_text(page, encoding="utf-8")
    dom = render(chromium, file, tmp_path)
    assert page_requests(tmp_path) == []

    drawn = [p for p in paths(dom) if "gridmap-appeal" in p.get("class", "")]
    by_id = {}
    for p in drawn:
        classes = p["class"].split()
        (appeal_id,) = [int(c[15:]) for c in classes if re.fullmatch(r"gridmap-appeal-\d+", c)]
        (light,) = [c[14:] for c in classes if c.startswith("gridmap-light-")]
        by_id[appeal_id] = (light, p["fill"], p["stroke"], "gridmap-overdue" in classes)
    # every open appeal, one dot each, in the light its state gives; the closed one is not drawn
    assert sorted(by_id) == sorted(appeals[k] for k in EXPECTED)
    for name, light in EXPECTED.items():
        got_light, fill, stroke, overdue = by_id[appeals[name]]
        assert (got_light, fill) == (light, LIGHT_COLOURS[light]), name
        # only the appeal received in 2024 is past its deadline: ringed in red
        assert overdue == (name == "c1"), name
        assert stroke == (OVERDUE_COLOUR if name == "c1" else RING_COLOUR), name

    # the grids filled by their open appeals: A has 3, B 2, C 1
    grids = [p for p in paths(dom) if p.get("class") == "leaflet-interactive"]
    assert sorted(p["fill"] for p in grids) == sorted(
        [OPEN_CLASSES[2][2], OPEN_CLASSES[1][2], OPEN_CLASSES[1][2]]
    )
    assert "未办结诉求 6 件，其中超期 1 件" in dom
    assert "黄灯（办理中）：1 件" in dom
    assert "新诉求（待签收）：3 件" in dom
    assert "awaiting the callback to the resident" in dom  # the lights' meaning in the legend
    for layer in (
        "新诉求（待签收）（3）",
        "黄灯（办理中）（1）",
        "绿灯（待核查）（1）",
        "橙灯（待回访）（1）",
    ):
        assert layer in dom  # one toggle per light in the layer control


@pg
def test_the_appeals_map_counts_each_grid_and_says_nothing_personal(
    client: TestClient, appeals: dict[str, int]
) -> None:
    page = served(client, "/maps/appeals", division=STREET)
    assert not carries(page, RESIDENT_PHONE)
    assert not carries(page, RESIDENT_NAME)
    dots = markers(page)
    assert {dots[appeals[k]]["light"] for k in ("a2", "a3", "c1")} == {"new"}
    popup = dots[appeals["c1"]]["popup"]
    assert "诉求 #" in popup
    assert "春华社区" in popup
    assert "（已超期）" in popup
    assert "2024-01-02 17:00" in popup  # received at 09:00 UTC, shown in China time
    assert not carries(page, "春华社区的证明")  # descriptions stay off the public map
    # the grids' tooltips: open and overdue appeals each
    counts = {code: (p["open"], p["overdue"]) for code, p in features(page).items()}
    assert counts == {GRID_A: (3, 0), GRID_B: (2, 0), GRID_C: (1, 1)}


@pg
def test_filters_keep_one_matter_or_one_owner(client: TestClient, appeals: dict[str, int]) -> None:
    def shown(**params: str) -> set[str]:
        return ids_of(markers(served(client, "/maps/appeals", division=STREET, **params)), appeals)

    assert shown() == set(EXPECTED)
    assert shown(matter="civ-cert") == {"a2", "c1"}
    assert shown(matter="env-ad") == {"a3", "b1"}
    assert shown(owner=f"community:{XINFA}") == {"a2"}
    assert shown(owner=CHUNHUA) == {"c1"}
    assert shown(owner="department:fire") == {"b2"}
    assert shown(owner=f"street:{STREET}") == {"a1", "a3", "b1"}
    assert shown(matter="env-ad", owner=f"street:{STREET}") == {"a3", "b1"}
    assert shown(matter="util-gas") == set()
    bad = client.get("/maps/appeals", params={"division": STREET, "owner": "office:1"})
    assert bad.status_code == 422, bad.text
    assert bad.json()["code"] == "invalid_input"


@pg
def test_a_filtered_map_fills_grids_by_the_appeals_it_draws(
    client: TestClient, appeals: dict[str, int]
) -> None:
    page = served(client, "/maps/appeals", division=STREET, matter="civ-cert")
    counts = {code: p["open"] for code, p in features(page).items()}
    assert counts == {GRID_A: 1, GRID_B: 0, GRID_C: 1}


@pg
def test_the_zone_map_shows_its_own_grids_appeals(
    client: TestClient, appeals: dict[str, int]
) -> None:
    zone_a = served(client, f"/maps/grids/{GRID_A}")
    assert ids_of(markers(zone_a), appeals) == {"a1", "a2", "a3"}
    assert carries(zone_a, "本网格诉求（3）")  # the layer's toggle
    assert "<b>未办结诉求</b>：3 件</div>" in zone_a
    assert not carries(zone_a, RESIDENT_PHONE)
    assert not carries(zone_a, RESIDENT_NAME)
    zone_c = served(client, f"/maps/grids/{GRID_C}")
    dots = markers(zone_c)
    assert ids_of(dots, appeals) == {"c1"}
    assert dots[appeals["c1"]]["overdue"] is True
    assert "春华社区的证明" in dots[appeals["c1"]]["popup"]  # the worker reads what is wrong
    assert "<b>未办结诉求</b>：1 件（超期 1 件）</div>" in zone_c
    zone_b = served(client, f"/maps/grids/{GRID_B}")
    assert {d["light"] for d in markers(zone_b).values()} == {"green", "orange"}


@pg
def test_the_dashboard_page_gives_the_streets_figures(
    client: TestClient, appeals: dict[str, int]
) -> None:
    page = served(client, "/maps/appeals/dashboard", division=STREET)
    tiles = dict(re.findall(r'data-light="(\w+)"[^>]*><div class="n">(\d+)</div>', page))
    assert tiles == {"new": "3", "yellow": "1", "green": "1", "orange": "1", "closed": "1"}
    figures = dict(re.findall(r'data-figure="(\w+)"><div class="n">([^<]*)</div>', page))
    assert figures == {"total": "7", "open": "6", "overdue": "1", "callbacks": "1",
                       "satisfaction_rate": "100.0%"}  # fmt: skip
    owners = re.search(r'<table data-table="by_owner">(.*?)</table>', page)
    assert owners is not None
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", r) for r in owners.group(1).split("<tr>")[2:]]
    assert ["新发街道", "街道", STREET, "3", "0", "4"] in rows
    assert ["春华社区", "社区", CHUNHUA, "1", "1", "1"] in rows
    assert ["区消防救援大队", "部门", "fire", "1", "0", "1"] in rows
    assert '<td>满意</td><td class="num">1</td>' in page
    assert RESIDENT_PHONE not in page
    assert RESIDENT_NAME not in page
    assert "<script" not in page
    assert "<link" not in page

    csv_link = re.search(r'<a href="([^"]*format=csv[^"]*)">', page)
    map_link = re.search(r'<a href="(/maps/appeals\?[^"]*)">', page)
    assert csv_link is not None
    assert map_link is not None
    csv = client.get(unescape(csv_link.group(1)))
    assert csv.status_code == 200, csv.text
    assert csv.headers["content-type"].startswith("text/csv")
    assert "summary,open,,,,6" in csv.text
    assert unescape(map_link.group(1)) == f"/maps/appeals?division={STREET}"
    assert client.get(unescape(map_link.group(1))).status_code == 200


@pg
def test_unknown_or_malformed_divisions_are_problems(client: TestClient) -> None:
    for url in ("/maps/appeals", "/maps/appeals/dashboard"):
        lost = client.get(url, params={"division": "220103099000"})
        assert lost.status_code == 404, lost.text
        assert lost.headers["content-type"].startswith("application/problem+json")
        assert lost.json()["code"] == "unknown_division"
        bad = client.get(url, params={"division": "2201030010"})
        assert bad.status_code == 422, bad.text
        assert bad.json()["code"] == "invalid_code"


# ------------------------------------------------------------------------------ pure


def _grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [GRID_A, GRID_B], "name": ["一网格", '<img src=x onerror="alert(1)">']},
        geometry=[
            shapely_box(125.30, 43.88, 125.31, 43.89),
            shapely_box(125.31, 43.88, 125.32, 43.89),
        ],
        crs=4490,
    )


def _row(i: int, light: str, grid: str = GRID_A, **kw: Any) -> dict[str, Any]:
    state = {"new": "received", "yellow": "signed", "green": "verifying", "orange": "callback"}
    return {"id": i, "lon": 125.305, "lat": 43.885, "state": state[light], "light": light,
            "overdue": False, "matter_code": "env-trash", "matter_name": "垃圾堆放",
            "owner_kind": "street", "owner_code": STREET, "owner_name": "新发街道",
            "grid_code": grid, "description": "私人的描述", "received_at": LONG_AGO,
            "deadline": None, **kw}  # fmt: skip


def test_grids_are_counted_from_the_appeals_when_not_given(leaflet: LeafletAssets) -> None:
    rows = [_row(1, "new"), _row(2, "yellow", overdue=True), _row(3, "green", GRID_B)]
    m = appeals_map(_grids(), rows, title="测试", assets=leaflet)
    (layer,) = [c for c in m._children.values() if getattr(c, "layer_name", "") == GRID_LAYER]
    props = {f["properties"]["code"]: f["properties"] for f in layer.data["features"]}
    assert (props[GRID_A]["open"], props[GRID_A]["overdue"]) == (2, 1)
    assert props[GRID_B]["fill"] == OPEN_CLASSES[1][2]
    page = m.get_root().render()
    assert remote_refs(page) == []
    assert 'onerror="alert' not in page  # names are escaped
    assert not carries(page, "私人的描述")
    assert markers(page)[2]["overdue"] is True


def test_escapes_appeal_text_and_refuses_an_empty_map(
    leaflet: LeafletAssets, tmp_path: Path
) -> None:
    evil = "<script>alert(1)</script>"
    rows = [_row(1, "orange", owner_name=evil, matter_name=evil)]
    page = save_html(appeals_map(_grids(), rows, title=evil, assets=leaflet), tmp_path / "a.html")
    text = page.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)" in text  # the title, in the legend
    assert "&lt;script&gt;" in markers(text)[1]["popup"]
    with pytest.raises(InvalidInput):
        appeals_map(_grids().iloc[:0], [], title="空", assets=leaflet)


def test_the_dashboard_escapes_and_says_when_there_is_no_figure() -> None:
    d = Dashboard(
        division_code=STREET, division_name="<b>新发</b>街道", total=0, open=0, by_light={},
        by_state={}, by_owner=[{"kind": "street", "code": STREET, "name": "<i>x</i>", "open": 0,
        "overdue": 0, "total": 0}], overdue=0, median_hours_to_sign=None,
        median_hours_to_handle=1.5, median_hours_to_close=None, callbacks=0,
        satisfaction_rate=None, by_satisfaction={},
    )  # fmt: skip
    page = dashboard_html(d, csv_url='/x?a=1&b="2"', map_url=None)
    assert "<b>新发</b>" not in page
    assert "&lt;b&gt;新发&lt;/b&gt;街道" in page
    assert "<i>x</i>" not in page
    assert 'href="/x?a=1&amp;b=&quot;2&quot;"' in page
    assert "诉求地图" not in page  # no map link without a map URL
    assert 'data-figure="satisfaction_rate"><div class="n">—</div>' in page
    assert '<td>办理完成</td><td class="num">1.5 小时</td>' in page
    assert '<td>签收</td><td class="num">—</td>' in page
    assert page.count("暂无数据") == 2  # no states, no callbacks
