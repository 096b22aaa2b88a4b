"""Regression tests for faults fuzzing found: each once answered 5xx, or answered leniently
where a caller deserves a clear error naming the bad value."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import pytest

from api.app import create_app
from api.settings import Settings
from tests.api.test_api import ADDRESS, KEY, MZ3, assert_problem
from tests.region import GRID_A, Region, region

if TYPE_CHECKING:
    from collections.abc import Iterator

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.postgis
__all__ = ["region"]


@pytest.fixture
def client(region: Region, db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=db_url, api_keys=KEY))) as c:
        yield c


def test_an_offset_beyond_bigint_is_refused_with_its_value(client: TestClient) -> None:
    resp = client.get("/v1/grids", params={"within": "220103001000", "offset": 2**63})
    body = assert_problem(resp, 422, "invalid_input")
    assert "'9223372036854775808' given" in body["detail"]
    assert "less than or equal to 2147483647" in body["detail"]


def test_a_csv_in_neither_utf8_nor_gb18030_is_refused(client: TestClient) -> None:
    body = b"id,address\n1,\xff\xfe\x80\x81\n"
    resp = client.post("/v1/resolve/batch", content=body, headers={"Content-Type": "text/csv"})
    detail = assert_problem(resp, 422, "invalid_input")["detail"]
    assert "neither UTF-8 nor GB18030" in detail
    assert "0xff at offset 13" in detail


def test_a_bare_carriage_return_in_a_csv_field_is_refused(client: TestClient) -> None:
    body = "id,address\n1,明珠花园\r3栋\n".encode()
    resp = client.post("/v1/resolve/batch", content=body, headers={"Content-Type": "text/csv"})
    detail = assert_problem(resp, 422, "invalid_input")["detail"]
    assert "line 2" in detail
    assert "quote a field" in detail
    # CRLF line ends are fine
    ok = client.post(
        "/v1/resolve/batch",
        content=f"id,address\r\n1,{ADDRESS}\r\n".encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert ok.status_code == 200
    assert ok.json()["counts"]["ok"] == 1


def test_json_sent_as_csv_is_refused(client: TestClient) -> None:
    body = f'[{{"id": 1, "address": "{ADDRESS}"}}]'.encode()
    resp = client.post("/v1/resolve/batch", content=body, headers={"Content-Type": "text/csv"})
    detail = assert_problem(resp, 422, "invalid_input")["detail"]
    assert "names none of the columns address, lon, lat" in detail


def test_a_nul_byte_is_refused_wherever_it_is(client: TestClient) -> None:
    resp = client.get("/v1/buildings/B%00X")
    assert "NUL character" in assert_problem(resp, 422, "invalid_input")["detail"]
    resp = client.get("/v1/resolve?address=%E6%98%8E%00")
    assert "query" in assert_problem(resp, 422, "invalid_input")["detail"]
    rows = [{"id": "a", "address": "明珠花园\u00003栋"}, {"id": "b", "address": ADDRESS}]
    resp = client.post("/v1/resolve/batch", json=rows)
    assert resp.status_code == 200, resp.text
    bad, good = resp.json()["rows"]
    assert bad["status"] == "error"
    assert "NUL character" in bad["error"]["detail"]
    assert good["status"] == "ok"


def test_json_nested_too_deeply_is_refused(client: TestClient) -> None:
    body = ("[" * 10_000 + "]" * 10_000).encode()
    resp = client.post(
        "/v1/resolve/batch", content=body, headers={"Content-Type": "application/json"}
    )
    assert "nested too deeply" in assert_problem(resp, 422, "invalid_input")["detail"]


def test_405_says_which_methods_are_allowed(client: TestClient) -> None:
    resp = client.delete(f"/v1/grids/{GRID_A}")
    assert_problem(resp, 405, "method_not_allowed")
    assert resp.headers["allow"] == "GET"


def test_an_unsupported_authorization_scheme_is_refused(client: TestClient) -> None:
    resp = client.get("/v1/resolve", params={"address": ADDRESS},
                      headers={"Authorization": f"Basic {KEY}"})  # fmt: skip
    detail = assert_problem(resp, 401, "invalid_api_key")["detail"]
    assert "'Basic' is not accepted" in detail
    assert "Bearer" in detail


def test_degrees_sent_as_a_projected_crs_are_refused(client: TestClient) -> None:
    resp = client.get(
        "/v1/resolve/point", params={"lon": MZ3[0], "lat": MZ3[1], "crs": "EPSG:3857"}
    )
    detail = assert_problem(resp, 422, "invalid_coordinate")["detail"]
    assert "x 125.302, y 43.885 look like degrees" in detail
    assert "EPSG:3857 is projected" in detail


def test_the_openapi_schema_gives_the_code_patterns(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()

    def param(path: str, name: str) -> dict[str, object]:
        params = spec["paths"][path]["get"]["parameters"]
        schema: dict[str, object] = next(p for p in params if p["name"] == name)["schema"]
        return schema

    assert param("/v1/grids/{code}", "code")["pattern"] == "^[0-9]{15}$"
    assert param("/v1/divisions/{code}", "code")["pattern"] == "^[0-9]{12}$"
    assert param("/v1/grids", "within")["pattern"] == "^[0-9]{12}$"
    # and a code off the pattern gets a 422 that says what is wrong with it
    resp = client.get("/v1/grids/22010300100100")
    assert resp.status_code == 422
    assert "22010300100100" in resp.json()["detail"]
