"""Rebalancing plans over HTTP: drafted, read, compared, activated, rolled back, restored,
and drawn on the plan map page (real PostGIS, the ASGI app, headless Chromium)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import pytest

from api.app import create_app
from api.settings import Settings
from gridmap.service import Gridmap
from tests.db.test_plans import EAST, STREET, WEST, region
from tests.maps.test_maps import assets_dir, chromium, page_requests, remote_refs, render

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import psycopg

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.postgis
__all__ = ["assets_dir", "chromium"]

KEY = {"X-API-Key": "planner-key"}


@pytest.fixture
def client(db_url: str, assets_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("GRIDMAP_ASSETS_DIR", str(assets_dir))
    with Gridmap.connect(db_url) as gm:
        gm.import_data(region())
    with TestClient(create_app(Settings(database_url=db_url, api_keys="planner-key"))) as c:
        yield c


def draft(client: TestClient, **body: Any) -> dict[str, Any]:
    resp = client.post("/v1/plans", json=body, headers=KEY)
    assert resp.status_code == 201, resp.text
    assert resp.headers["location"] == f"/v1/plans/{resp.json()['id']}"
    out: dict[str, Any] = resp.json()
    return out


def test_a_plan_is_drafted_read_and_listed(client: TestClient) -> None:
    assert client.post("/v1/plans", json={"division": EAST}).status_code == 401
    plan = draft(client, division=EAST)
    assert plan["status"] == "draft"
    assert plan["division"] == EAST
    assert plan["band"] == {"low": 300, "high": 500}
    m = plan["metrics"]
    assert (m["in_band"], m["households_moved"], m["households_total"]) == (1.0, 150, 850)
    assert m["contiguous"] is True
    assert sorted((g["code"], g["households"], g["status"]) for g in plan["grids"]) == [
        (f"{EAST}001", 400, "kept"), (f"{EAST}002", 450, "kept")]  # fmt: skip
    assert plan["retired"] == []
    assert plan["infeasible"] == []
    assert plan["map"] == f"/maps/plans/{plan['id']}"
    again = client.get(f"/v1/plans/{plan['id']}")
    assert again.status_code == 200
    assert again.json() == plan
    west = draft(client, division=WEST, band={"low": 400, "high": 600})
    assert west["band"] == {"low": 400, "high": 600}
    listed = client.get("/v1/plans").json()
    assert [p["id"] for p in listed] == [plan["id"], west["id"]]
    only_west = client.get("/v1/plans", params={"division": WEST}).json()
    assert [p["id"] for p in only_west] == [west["id"]]
    under_street = client.get("/v1/plans", params={"division": STREET}).json()
    assert len(under_street) == 2


def test_bad_requests_name_the_value_and_what_was_expected(client: TestClient) -> None:
    resp = client.post("/v1/plans", json={"division": "2201"}, headers=KEY)
    assert resp.status_code == 422
    assert "division" in resp.json()["detail"]
    assert "^[0-9]{12}$" in resp.json()["detail"]
    resp = client.post(
        "/v1/plans", json={"division": EAST, "band": {"low": 500, "high": 300}}, headers=KEY
    )
    assert resp.status_code == 422
    assert "band low 500 is above high 300" in resp.json()["detail"]
    resp = client.post("/v1/plans", json={"division": "220102099000"}, headers=KEY)
    assert resp.status_code == 404
    assert "220102099000" in resp.json()["detail"]
    resp = client.get("/v1/plans/987")
    assert resp.status_code == 404
    assert resp.json()["code"] == "unknown_plan"
    assert "987" in resp.json()["detail"]
    resp = client.get("/v1/plans/1/compare", params={"with": "yesterday"})
    assert resp.status_code == 422
    assert "yesterday" in resp.json()["detail"]


def test_plans_are_compared_with_the_grids_in_force_and_with_each_other(
    client: TestClient,
) -> None:
    a = draft(client, division=EAST)
    b = draft(client, division=EAST, band={"low": 200, "high": 600})
    now = client.get(f"/v1/plans/{a['id']}/compare").json()
    assert now["with"] == "current"
    assert now["moved"] == [
        {"building": "E2", "from": f"{EAST}001", "to": f"{EAST}002", "households": 150}]  # fmt: skip
    assert now["metrics"]["current"]["in_band"] == 0.5  # 550 and 300 households
    assert now["metrics"][f"plan {a['id']}"]["in_band"] == 1.0
    # a band both grids already meet: nothing moves, so the two plans differ by E2
    assert b["metrics"]["households_moved"] == 0
    other = client.get(f"/v1/plans/{a['id']}/compare", params={"with": b["id"]}).json()
    assert other["with"] == f"plan {b['id']}"
    assert other["moved"] == [
        {"building": "E2", "from": f"{EAST}001", "to": f"{EAST}002", "households": 150}]  # fmt: skip


def current_codes(db: psycopg.Connection[Any]) -> list[str]:
    return [r[0] for r in db.execute("SELECT code FROM current_grid ORDER BY code").fetchall()]


def test_activation_rollback_and_restore_over_http(
    client: TestClient, db: psycopg.Connection[Any]
) -> None:
    before = current_codes(db)
    street = draft(client, division=STREET)
    stale = draft(client, division=EAST)
    assert client.post(f"/v1/plans/{street['id']}/activate").status_code == 401
    resp = client.post(f"/v1/plans/{street['id']}/activate", headers=KEY)
    assert resp.status_code == 200, resp.text
    act = resp.json()
    assert act["plan_id"] == street["id"]
    assert act["retired"] == 1  # 明珠社区's one grid of 1,000 households
    retired = [r["person"] for r in act["review"] if r["code"] == f"{WEST}001"]
    assert retired == ["张伟"]
    assert current_codes(db) == sorted(g["code"] for g in street["grids"])
    again = client.post(f"/v1/plans/{street['id']}/activate", headers=KEY)
    assert (again.status_code, again.json()["code"]) == (409, "plan_not_draft")
    refused = client.post(f"/v1/plans/{stale['id']}/activate", headers=KEY)
    assert (refused.status_code, refused.json()["code"]) == (409, "stale_plan")
    assert "draft the plan again" in refused.json()["detail"]
    assert client.get(f"/v1/plans/{street['id']}").json()["status"] == "active"

    back = client.post(f"/v1/plans/{street['id']}/rollback", headers=KEY)
    assert back.status_code == 200, back.text
    assert back.json()["restored"] == street["base_generation"]
    assert back.json()["generation"] == act["generation"] + 1
    assert current_codes(db) == before
    assert client.get(f"/v1/plans/{street['id']}").json()["status"] == "rolled_back"
    twice = client.post(f"/v1/plans/{street['id']}/rollback", headers=KEY)
    assert (twice.status_code, twice.json()["code"]) == (409, "plan_not_draft")

    # any activated generation can be restored by its id: the plan's own (a redo: a
    # restore brings back a generation's codes, it issues none), then the first again
    resp = client.post(
        f"/v1/generations/{act['generation']}/restore", params={"division": STREET}, headers=KEY
    )
    assert resp.status_code == 200, resp.text
    assert current_codes(db) == sorted(g["code"] for g in street["grids"])
    resp = client.post(
        f"/v1/generations/{street['base_generation']}/restore",
        params={"division": STREET},
        headers=KEY,
    )
    assert resp.status_code == 200, resp.text
    assert current_codes(db) == before
    missing = client.post("/v1/generations/99/restore", params={"division": STREET}, headers=KEY)
    assert missing.status_code == 404
    assert "99" in missing.json()["detail"]


def test_the_plan_map_draws_offline(client: TestClient, chromium: str, tmp_path: Path) -> None:
    plan = draft(client, division=STREET)
    resp = client.get(plan["map"])
    assert resp.status_code == 200, resp.text
    assert remote_refs(resp.text) == []
    page = tmp_path / "plan.html"
    page.write_text(resp.text, encoding="utf-8")
    dom = render(chromium, page, tmp_path)
    assert page_requests(tmp_path) == []
    assert f"调整方案 {plan['id']}（草案" in dom
    assert "达标网格：100.0%" in dom
    moved = plan["metrics"]["households_moved"]
    assert f"调整户数：{moved} 户" in dom
    # every moved building is drawn (E2 and the ten of 明珠社区), and the old grids dashed
    assert "调整归属的楼栋（11）" in dom
    assert "原网格边界（虚线）" in dom
    assert "（新）" in resp.text  # the new grids of 明珠社区 are marked as new
    assert client.get("/maps/plans/987").status_code == 404
