"""The roster over HTTP and the CLI: chiefs assigned, replaced and ended with dates, history
kept, vacancies listed, bad input named, writes for admins only, every change audited."""

from __future__ import annotations

import csv
import io
import json
import warnings
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from api.app import create_app
from api.settings import Settings
from gridmap.cli import app as cli
from tests.api.test_access import make_key
from tests.api.test_api import ADDRESS, assert_problem
from tests.region import GRID_A, GRID_B, STREET, Region, region

if TYPE_CHECKING:
    from collections.abc import Iterator

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.postgis
__all__ = ["region"]

ADMIN = {"X-API-Key": "roster-admin"}


@pytest.fixture
def client(region: Region, db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=db_url, api_keys="roster-admin"))) as c:
        yield c


def terms(client: TestClient, **post: str) -> list[tuple[str, str, str | None]]:
    rows = client.get("/v1/roster/history", params=post, headers=ADMIN).json()
    return [(r["person_id"], r["since"], r["until"]) for r in rows]


def test_a_vacant_grid_gets_a_chief_and_a_held_one_must_be_replaced(client: TestClient) -> None:
    before = terms(client, role="grid_chief", grid=GRID_B)
    assert len(before) == 1
    assert before[0][2] == "2023-12-31"  # 赵离任's term ended: GRID_B is vacant
    body = {"role": "grid_chief", "grid": GRID_B, "person_id": "P-NEW", "name": "孙新任",
            "phone": "13300001111", "since": "2026-12-01"}  # fmt: skip
    resp = client.post("/v1/roster/assign", json=body, headers=ADMIN)
    assert resp.status_code == 200, resp.text
    assert terms(client, role="grid_chief", grid=GRID_B) == [
        *before, ("P-NEW", "2026-12-01", None)]  # fmt: skip
    # GRID_A is held: assigning is refused, naming the holder and the way out
    held = client.post("/v1/roster/assign", json={**body, "grid": GRID_A}, headers=ADMIN)
    detail = assert_problem(held, 409, "conflict")["detail"]
    assert "is held by person" in detail
    assert "replace the chief" in detail
    # replacing: the old term ends the day before, history keeps both
    old = terms(client, role="grid_chief", grid=GRID_A)
    resp = client.post("/v1/roster/replace", headers=ADMIN, json={
        "role": "grid_chief", "grid": GRID_A, "person_id": "P-NEW", "since": "2026-12-02"})  # fmt: skip
    assert resp.status_code == 200, resp.text
    assert resp.json()["replaced"]["person_id"] == old[-1][0]
    after = terms(client, role="grid_chief", grid=GRID_A)
    assert after == [(old[-1][0], old[-1][1], "2026-12-01"), ("P-NEW", "2026-12-02", None)]
    resolved = client.get("/v1/resolve", params={"address": ADDRESS}, headers=ADMIN).json()
    assert resolved["grid_chief"]["name"] == "孙新任"
    assert resolved["grid_chief"]["phone"] == "13300001111"
    public = client.get("/v1/roster/history", params={"role": "grid_chief", "grid": GRID_A})
    assert {r["phone"] for r in public.json()} == {"139****5678", "133****1111"}


def test_ending_a_term_makes_a_vacancy(client: TestClient, db_url: str) -> None:
    def vacant() -> list[dict[str, Any]]:
        resp = client.get("/v1/roster/vacancies", params={"division": STREET}, headers=ADMIN)
        assert resp.status_code == 200, resp.text
        rows: list[dict[str, Any]] = resp.json()
        return rows

    start = vacant()
    assert ("building_chief", "B-MZ-3") not in {(r["role"], r["building_id"]) for r in start}
    assert ("grid_chief", GRID_B) in {(r["role"], r["grid_code"]) for r in start}
    resp = client.post("/v1/roster/end", headers=ADMIN,
                       json={"role": "building_chief", "building": "B-MZ-3", "until": "2026-12-02"})  # fmt: skip
    assert resp.status_code == 200, resp.text
    now = vacant()
    mz3 = [r for r in now if r["role"] == "building_chief" and r["building_id"] == "B-MZ-3"]
    assert mz3
    assert mz3[0]["grid_code"] == GRID_A
    # a unit whose chief left is vacant too, with its unit number
    assert any(r["role"] == "unit_chief" and r["building_id"] == "B-MZ-3" and r["unit_no"] == "2"
               for r in now)  # fmt: skip
    again = client.post("/v1/roster/end", headers=ADMIN,
                        json={"role": "building_chief", "building": "B-MZ-3"})  # fmt: skip
    assert "vacant" in assert_problem(again, 409, "conflict")["detail"]
    as_csv = client.get("/v1/roster/vacancies", params={"division": STREET, "format": "csv"},
                        headers=ADMIN)  # fmt: skip
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == len(now)
    res = CliRunner().invoke(cli, ["roster", "vacancies", STREET, "--format", "json",
                                   "--database-url", db_url])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.stdout)) == len(now)


def test_bad_roster_input_is_named_without_personal_data(client: TestClient) -> None:
    base = {"role": "grid_chief", "grid": GRID_B, "person_id": "P-X"}
    resp = client.post("/v1/roster/assign", json=base, headers=ADMIN)
    assert "person P-X is new: give a name" in assert_problem(resp, 422, "invalid_input")["detail"]
    resp = client.post("/v1/roster/assign", headers=ADMIN,
                       json={**base, "name": "钱某", "phone": "1390000abcd"})  # fmt: skip
    detail = assert_problem(resp, 422, "invalid_input")["detail"]
    assert "not a phone number" in detail
    assert "1390000abcd" not in resp.text
    assert "钱某" not in resp.text
    resp = client.post("/v1/roster/assign", headers=ADMIN,
                       json={**base, "role": "unit_chief", "name": "钱某", "grid": None})  # fmt: skip
    assert "needs a building" in assert_problem(resp, 422, "invalid_input")["detail"]
    resp = client.post("/v1/roster/assign", headers=ADMIN,
                       json={**base, "grid": "220103001001099", "name": "钱某"})  # fmt: skip
    assert_problem(resp, 404, "unknown_grid")
    resp = client.post("/v1/roster/end", headers=ADMIN,
                       json={"role": "unit_chief", "building": "B-MZ-3", "unit": "9"})  # fmt: skip
    assert "has no unit '9'" in assert_problem(resp, 404, "not_found")["detail"]


def test_roster_writes_need_an_admin_key_and_are_audited(client: TestClient, db_url: str) -> None:
    _, planner = make_key(db_url, "规划员", "--role", "planner")
    body = {"role": "grid_chief", "grid": GRID_B, "person_id": "P-NEW", "name": "孙新任"}
    assert_problem(client.post("/v1/roster/assign", json=body), 401, "invalid_api_key")
    resp = client.post("/v1/roster/assign", json=body, headers={"X-API-Key": planner})
    assert_problem(resp, 403, "forbidden")
    assert client.post("/v1/roster/assign", json=body, headers=ADMIN).status_code == 200
    events = client.get("/v1/audit", params={"target": GRID_B}, headers=ADMIN).json()
    assert [e["action"] for e in events] == ["roster.assign.grid_chief"]
    assert events[0]["actor"] == "GRIDMAP_API_KEYS"
    assert events[0]["after"]["person_id"] == "P-NEW"
    # the CLI too, named by its login
    res = CliRunner().invoke(cli, ["roster", "end", "grid_chief", "--grid", GRID_B,
                                   "--until", "2026-12-31", "--database-url", db_url])  # fmt: skip
    assert res.exit_code == 0, res.output
    events = client.get("/v1/audit", params={"target": GRID_B}, headers=ADMIN).json()
    assert events[0]["action"] == "roster.end.grid_chief"
    assert events[0]["actor"].startswith("cli")
    assert events[0]["before"]["person_id"] == "P-NEW"
    res = CliRunner().invoke(cli, ["roster", "end", "grid_chief", "--grid", GRID_B,
                                   "--until", "31/12/2026", "--database-url", db_url])  # fmt: skip
    assert "expected a date as YYYY-MM-DD" in str(res.exception)
