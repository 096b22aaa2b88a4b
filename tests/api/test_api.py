"""The HTTP API, through the real ASGI app (starlette TestClient) on a real PostGIS region."""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING, Any

import pytest
from openapi_spec_validator import validate

from api.app import create_app
from api.settings import Settings
from tests.region import GRID_A, GRID_B, STREET, Region, region

if TYPE_CHECKING:
    from collections.abc import Iterator

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.postgis
__all__ = ["region"]

KEY = "s3cret-key"
ADDRESS = "长春市宽城区新发街道明珠花园3栋1单元"
MZ3 = (125.3025, 43.8850)  # 明珠花园 3栋's point in tests/region.py
PROBLEM = "application/problem+json"


@pytest.fixture
def client(region: Region, db_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=db_url, api_keys=f"other,{KEY}", max_batch_rows=50)
    with TestClient(create_app(settings)) as c:
        yield c


def assert_problem(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = resp.json()
    assert {"type", "title", "status", "detail", "instance", "code"} <= body.keys()
    assert body["status"] == status
    assert body["code"] == code
    return body


def test_resolve_address_masks_phones_without_key(client: TestClient) -> None:
    body = client.get("/v1/resolve", params={"address": ADDRESS}).json()
    assert body["match_level"] == "unit"
    assert body["grid"]["code"] == GRID_A
    assert body["grid"]["street"] == {"code": STREET, "name": "新发街道"}
    phones = [body[r]["phone"] for r in ("grid_chief", "building_chief", "unit_chief")]
    assert phones == ["139****5678", "137****4321", "136****2222"]


@pytest.mark.parametrize(
    "headers", [{"Authorization": f"Bearer {KEY}"}, {"X-API-Key": KEY}, {"x-api-key": "other"}]
)
def test_api_key_unmasks_phones(client: TestClient, headers: dict[str, str]) -> None:
    body = client.get("/v1/resolve", params={"address": ADDRESS}, headers=headers).json()
    assert body["unit_chief"]["phone"] == "13611112222"
    assert body["grid_chief"]["phone"] == "13912345678"


def test_wrong_api_key_is_refused(client: TestClient) -> None:
    resp = client.get("/v1/resolve", params={"address": ADDRESS}, headers={"X-API-Key": "nope"})
    assert_problem(resp, 401, "invalid_api_key")


def test_gazetteer_reload_needs_a_key(client: TestClient, region: Region) -> None:
    assert_problem(client.post("/v1/admin/gazetteer/reload"), 401, "invalid_api_key")
    region.conn.execute(
        "INSERT INTO division (code, name, level, parent_code) VALUES "
        "('220103001003', '兴华社区', 'village', '220103001000')"
    )
    resp = client.post("/v1/admin/gazetteer/reload", headers={"X-API-Key": KEY})
    assert resp.status_code == 200
    assert resp.json() == {"divisions": 7}
    body = client.get("/v1/resolve", params={"address": "宽城区新发街道兴华社区"}).json()
    assert body["division"] == {"code": "220103001003", "name": "兴华社区"}


def test_resolve_point_and_crs(client: TestClient) -> None:
    body = client.get("/v1/resolve/point", params={"lon": 125.31, "lat": 43.885}).json()
    assert body["grid"]["code"] == GRID_A
    assert body["on_boundary"] is True
    body = client.get(
        "/v1/resolve/point", params={"x": 125.315, "y": 43.885, "crs": "EPSG:4326"}
    ).json()
    assert body["grid"]["code"] == GRID_B
    body = client.get("/v1/resolve/point", params={"lon": 125.325, "lat": 43.885}).json()
    assert body["status"] == "not_found"
    assert body["nearest"]["grid"]["code"] == GRID_B
    assert body["nearest"]["distance_m"] > 300


def test_an_address_answer_carries_its_location_in_the_crs_asked(client: TestClient) -> None:
    body = client.get("/v1/resolve", params={"address": ADDRESS}).json()
    assert body["building"]["id"] == "B-MZ-3"
    here = body["location"]
    assert here == {"lon": pytest.approx(MZ3[0]), "lat": pytest.approx(MZ3[1])}
    wgs = client.get("/v1/resolve", params={"address": ADDRESS, "crs": "EPSG:4326"}).json()
    assert wgs["location"] == here
    gcj = client.get("/v1/resolve", params={"address": ADDRESS, "crs": "GCJ02"}).json()
    # GCJ-02 lies a few hundred metres north-east of CGCS2000 around Changchun
    assert 0.004 < gcj["location"]["lon"] - here["lon"] < 0.008
    assert 0.001 < gcj["location"]["lat"] - here["lat"] < 0.004
    metric = client.get("/v1/resolve", params={"address": ADDRESS, "crs": "EPSG:4551"}).json()
    assert 400_000 < metric["location"]["lon"] < 500_000  # easting, CM 126E
    bad = client.get("/v1/resolve", params={"address": ADDRESS, "crs": "EPSG:0"})
    assert "EPSG:0" in assert_problem(bad, 422, "invalid_crs")["detail"]


def test_not_found_and_ambiguous_answers_carry_a_reason(client: TestClient) -> None:
    body = client.get("/v1/resolve", params={"address": "宽城区没有这个小区9栋"}).json()
    assert body["status"] == "not_found"
    assert body["reason"] == "unknown_compound"
    assert "没有这个小区" in body["message"]
    body = client.get("/v1/resolve", params={"address": "榆树市明珠花园3栋1单元"}).json()
    assert (body["status"], body["reason"]) == ("not_found", "outside_coverage")
    assert "榆树市" in body["message"]
    for address, reason, named in [
        ("宽城区明珠花园8栋", "unknown_building", "8"),
        ("宽城区人民大街9999号", "unknown_house_number", "9999"),
        ("长春市宽城区新发街道", "no_place", "新发街道"),
    ]:
        body = client.get("/v1/resolve", params={"address": address}).json()
        assert body["building"] is None, body
        assert body["reason"] == reason, body
        assert named in body["message"]


def test_422_names_the_field(client: TestClient) -> None:
    body = assert_problem(
        client.get("/v1/resolve/point", params={"lon": "east", "lat": 43.8}), 422, "invalid_input"
    )
    assert [e["field"] for e in body["errors"]] == ["query.lon"]
    assert "query.lon" in body["detail"]
    body = assert_problem(
        client.get("/v1/resolve/point", params={"lon": 125.3}), 422, "invalid_input"
    )
    assert body["errors"][0]["field"] == "query.lat"
    body = assert_problem(
        client.get("/v1/resolve/point", params={"lon": 43.8, "lat": 125.3}),
        422,
        "invalid_coordinate",
    )
    assert body["errors"][0]["field"] == "lat"
    assert "swapped" in body["detail"]
    body = assert_problem(
        client.get("/v1/resolve/point", params={"lon": 1, "lat": 2, "crs": "Mars"}),
        422,
        "invalid_crs",
    )
    body = assert_problem(client.get("/v1/resolve"), 422, "invalid_input")
    assert body["errors"][0]["field"] == "query.address"
    body = assert_problem(client.get("/v1/grids/22010300100100X"), 422, "invalid_code")


def test_404_problems(client: TestClient) -> None:
    body = assert_problem(client.get("/v1/grids/220103001001999"), 404, "unknown_grid")
    assert body["instance"] == "/v1/grids/220103001001999"
    assert "220103001001999" in body["detail"]
    assert_problem(client.get("/v1/divisions/220103009000"), 404, "unknown_division")
    assert_problem(client.get("/v1/buildings/B-NOPE"), 404, "unknown_building")
    assert_problem(client.get("/v1/nothing-here"), 404, "not_found")


def test_grid_feature_and_collection(client: TestClient) -> None:
    feature = client.get(f"/v1/grids/{GRID_A}").json()
    assert feature["type"] == "Feature"
    assert feature["id"] == GRID_A
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert "crs" not in feature["geometry"]
    ring = feature["geometry"]["coordinates"][0][0]
    assert ring[0] == [125.3, 43.88]  # lon, lat
    props = feature["properties"]
    assert props["households"] == 300
    assert props["buildings"] == 3
    assert props["building_households"] == 36 + 24 * 2
    assert props["grid_chief"]["phone"] == "139****5678"
    assert props["community"]["name"] == "新发社区"
    assert props["county"]["name"] == "宽城区"
    page = client.get("/v1/grids", params={"within": STREET, "limit": 2, "offset": 1}).json()
    assert page["type"] == "FeatureCollection"
    assert page["total"] == 3
    assert [f["id"] for f in page["features"]] == [GRID_B, "220103001002001"]
    assert_problem(
        client.get("/v1/grids", params={"within": STREET, "limit": 0}), 422, "invalid_input"
    )


def test_divisions_and_buildings(client: TestClient) -> None:
    div = client.get(f"/v1/divisions/{STREET}").json()
    assert div["level"] == "township"
    assert div["parent"]["name"] == "宽城区"
    assert div["children"] == 2
    kids = client.get(f"/v1/divisions/{STREET}/children").json()
    assert [k["name"] for k in kids] == ["新发社区", "春华社区"]
    b = client.get("/v1/buildings/B-MZ-3", headers={"X-API-Key": KEY}).json()
    assert b["grid"]["code"] == GRID_A
    assert b["building_chief"]["phone"] == "13787654321"
    assert [(u["unit_no"], (u["unit_chief"] or {}).get("name")) for u in b["units"]] == [
        ("1", "张单元"),
        ("2", None),
    ]


def test_batch_json_with_a_bad_row(client: TestClient) -> None:
    rows = [
        {"id": "a", "address": ADDRESS},
        {"id": "p", "lon": 125.305, "lat": 43.885},
        {"id": "bad", "lon": "oops", "lat": 43.885},
        {"id": "amb", "address": "宽城区明珠佳园3栋"},
    ]
    resp = client.post("/v1/resolve/batch", json=rows)
    assert resp.status_code == 200
    body = resp.json()
    assert [(r["id"], r["status"]) for r in body["rows"]] == [
        ("a", "ok"),
        ("p", "ok"),
        ("bad", "error"),
        ("amb", "ambiguous"),
    ]
    assert body["rows"][2]["error"]["field"] == "lon"
    assert body["rows"][0]["result"]["unit_chief"]["phone"] == "136****2222"
    assert body["counts"] == {"ok": 2, "not_found": 0, "ambiguous": 1, "error": 1}


def test_batch_csv_text_and_multipart(client: TestClient) -> None:
    csv_text = f"id,address,lon,lat,crs\n1,{ADDRESS},,,\n2,,125.315,43.885,EPSG:4326\n3,,,,\n"
    resp = client.post(
        "/v1/resolve/batch",
        content=csv_text.encode(),
        headers={"content-type": "text/csv; charset=utf-8"},
    )
    assert [(r["id"], r["status"]) for r in resp.json()["rows"]] == [
        ("1", "ok"),
        ("2", "ok"),
        ("3", "error"),
    ]
    resp = client.post(
        "/v1/resolve/batch", files={"file": ("rows.csv", csv_text.encode("gb18030"), "text/csv")}
    )
    assert resp.json()["counts"] == {"ok": 2, "not_found": 0, "ambiguous": 0, "error": 1}


def test_batch_limits(client: TestClient) -> None:
    too_many = [{"id": i, "lon": 125.305, "lat": 43.885} for i in range(51)]
    body = assert_problem(client.post("/v1/resolve/batch", json=too_many), 413, "limit_exceeded")
    assert "50" in body["detail"]
    assert_problem(client.post("/v1/resolve/batch", json={"id": 1}), 422, "invalid_input")
    assert_problem(
        client.post(
            "/v1/resolve/batch", content=b"<xml/>", headers={"content-type": "application/xml"}
        ),
        415,
        "http_415",
    )


def test_body_too_large(region: Region, db_url: str) -> None:
    settings = Settings(database_url=db_url, max_body_bytes=1024)
    with TestClient(create_app(settings)) as c:
        big = [{"id": i, "address": ADDRESS} for i in range(100)]
        assert_problem(c.post("/v1/resolve/batch", json=big), 413, "limit_exceeded")
        assert c.get("/healthz").json() == {"status": "ok", "database": "ok"}

        def chunks() -> Iterator[bytes]:  # no content-length: counted as it streams
            yield b"["
            for i in range(100):
                yield (b"," if i else b"") + f'{{"id": {i}, "lon": 125.3, "lat": 43.88}}'.encode()
            yield b"]"

        resp = c.post(
            "/v1/resolve/batch", content=chunks(), headers={"content-type": "application/json"}
        )
        assert_problem(resp, 413, "limit_exceeded")


def test_database_down_is_503(region: Region, db_url: str) -> None:
    with TestClient(create_app(Settings(database_url=db_url))) as c:
        gm = c.app.state.gridmap  # type: ignore[attr-defined]
        gm.pool.close()
        c.portal.call(gm.close_async)  # type: ignore[union-attr]
        down = c.get("/healthz")
        assert_problem(down, 503, "database_unavailable")
        assert down.headers["retry-after"] == "1"
        assert_problem(
            c.get("/v1/resolve/point", params={"lon": 125.3, "lat": 43.8}),
            503,
            "database_unavailable",
        )


def test_openapi_is_valid_and_honest(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    validate(spec)
    paths = spec["paths"]
    # every status a route can answer is documented, and every error is problem+json
    expected = {
        "/v1/resolve": {"200", "401", "422", "429", "503"},
        "/v1/resolve/point": {"200", "401", "422", "429", "503"},
        "/v1/grids/{code}": {"200", "401", "404", "422", "429"},
        "/v1/grids": {"200", "401", "404", "422", "429"},
        "/v1/buildings/{building_id}": {"200", "401", "404", "422", "429"},
        "/v1/divisions/{code}": {"200", "404", "422"},
    }
    for path, statuses in expected.items():
        responses = paths[path]["get"]["responses"]
        assert set(responses) == statuses, path
        assert responses["200"]["content"]["application/json"]["schema"]
        for status in statuses - {"200"}:
            content = responses[status]["content"]
            assert set(content) == {PROBLEM}, (path, status)
            assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    not_found = paths["/v1/grids/{code}"]["get"]["responses"]["404"]["content"]
    assert not_found[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "application/json" not in not_found
    assert "401" in paths["/v1/resolve"]["get"]["responses"]
    batch = paths["/v1/resolve/batch"]["post"]
    assert {"application/json", "text/csv", "multipart/form-data"} <= batch["requestBody"][
        "content"
    ].keys()
    assert "413" in batch["responses"]
    assert "Problem" in spec["components"]["schemas"]
    assert "Resolution" in spec["components"]["schemas"]


def test_docs_use_only_local_assets(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        refs = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', html)
        assert refs, page
        for ref in refs:
            assert ref.startswith("/"), f"{page} references {ref}"
            assert client.get(ref).status_code == 200, ref
        assert "http://" not in html
        assert "https://" not in html


@pytest.mark.parametrize("typo", ["明株花园", "明珠花圆", "名珠花园"])
def test_one_typo_in_a_compound_name_finds_the_one_close_compound(
    client: TestClient, typo: str
) -> None:
    body = client.get("/v1/resolve", params={"address": f"宽城区{typo}3栋1单元"}).json()
    assert body["status"] == "ok"
    assert body["building"]["id"] == "B-MZ-3"
    assert body["confidence"] < 0.95  # a corrected name is never as sure as an exact one
    # numbers are never corrected: 明珠花园 has no 8栋
    wrong = client.get("/v1/resolve", params={"address": f"宽城区{typo}8栋1单元"}).json()
    assert wrong["building"] is None


def test_a_large_batch_of_points_answers_as_each_point_alone(region: Region, db_url: str) -> None:
    """From 200 points a batch is located in memory; each answer is the single look-up's."""
    from gridmap.resolve.points import IN_MEMORY_FROM

    xs = [125.295 + 0.0025 * i for i in range(22)] + [125.31]  # 125.31: the edge of A and B
    ys = [43.875 + 0.0025 * j for j in range(9)] + [43.885]
    rows = [{"id": f"{x:.4f},{y:.4f}", "lon": x, "lat": y} for x in xs for y in ys]
    assert len(rows) >= IN_MEMORY_FROM
    settings = Settings(database_url=db_url, max_batch_rows=1000)
    with TestClient(create_app(settings)) as c:
        resp = c.post("/v1/resolve/batch", json=rows)
        assert resp.status_code == 200
        body = resp.json()
        alone = [c.get("/v1/resolve/point", params={"lon": r["lon"], "lat": r["lat"]}).json()
                 for r in rows]  # fmt: skip
    assert [r["id"] for r in body["rows"]] == [r["id"] for r in rows]
    assert [r["result"] for r in body["rows"]] == alone
    statuses = {r["status"] for r in body["rows"]}
    assert statuses == {"ok", "not_found"}
    assert any(r["result"]["on_boundary"] for r in body["rows"])
    assert any(r["result"]["building"] for r in body["rows"])
