"""Roles and access through the real ASGI app: keys made with ``gridmap keys``, stored hashed,
scoped contact data for grid workers, roles for writes, rate limits, revocation, and the
append-only audit trail."""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from typer.testing import CliRunner

from api.app import create_app
from api.settings import Settings
from gridmap.cli import app as cli
from tests.api.test_api import ADDRESS, MZ3, assert_problem
from tests.region import GRID_A, GRID_B, STREET, Region, region

if TYPE_CHECKING:
    from collections.abc import Iterator

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.postgis
__all__ = ["region"]

PHONE = "13912345678"  # GRID_A's grid chief in tests/region.py
MASKED = "139****5678"


def make_key(db_url: str, name: str, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["keys", "create", name, *args, "--database-url", db_url])
    assert res.exit_code == 0, (res.output, res.exception)
    key = next(ln for ln in res.stdout.splitlines() if ln.startswith("gm_"))
    found = re.search(r"key (\d+) ", res.stdout)
    assert found
    return int(found.group(1)), key


@pytest.fixture
def client(region: Region, db_url: str) -> Iterator[TestClient]:
    # no keys in the environment: every key comes from the database
    with TestClient(create_app(Settings(database_url=db_url))) as c:
        yield c


def grid_chief_phone(client: TestClient, key: str | None, **params: Any) -> str | None:
    headers = {"X-API-Key": key} if key else {}
    body = client.get("/v1/resolve/point" if "lon" in params else "/v1/resolve",
                      params=params, headers=headers).json()  # fmt: skip
    phone: str | None = body["grid_chief"]["phone"]
    return phone


def test_keys_are_stored_hashed_and_listed_without_their_text(
    client: TestClient, db_url: str
) -> None:
    key_id, key = make_key(db_url, "王芳", "--role", "planner")
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT row_to_json(k)::text FROM api_key k").fetchall()
    assert len(rows) == 1
    assert key not in rows[0][0]
    assert key[7:] not in rows[0][0]
    res = CliRunner().invoke(cli, ["keys", "list", "--database-url", db_url])
    assert res.exit_code == 0
    assert f"{key[:7]}…" in res.stdout
    assert key not in res.stdout
    assert "planner" in res.stdout
    assert key_id == 1


def test_a_grid_worker_sees_phones_of_its_own_grids_only(client: TestClient, db_url: str) -> None:
    _, own = make_key(db_url, "新发网格员", "--role", "grid_worker", "--scope", GRID_A)
    _, other = make_key(db_url, "隔壁网格员", "--role", "grid_worker", "--scope", GRID_B)
    _, community = make_key(db_url, "社区", "--role", "grid_worker", "--scope", STREET)
    lon, lat = MZ3
    assert grid_chief_phone(client, None, address=ADDRESS) == MASKED
    assert grid_chief_phone(client, own, address=ADDRESS) == PHONE
    assert grid_chief_phone(client, own, lon=lon, lat=lat) == PHONE
    assert grid_chief_phone(client, other, address=ADDRESS) == MASKED
    assert grid_chief_phone(client, community, address=ADDRESS) == PHONE  # the street covers it
    feature = client.get(f"/v1/grids/{GRID_A}", headers={"X-API-Key": own}).json()
    assert feature["properties"]["grid_chief"]["phone"] == PHONE
    feature = client.get(f"/v1/grids/{GRID_A}", headers={"X-API-Key": other}).json()
    assert feature["properties"]["grid_chief"]["phone"] == MASKED
    page = client.get(f"/maps/grids/{GRID_A}", headers={"X-API-Key": other}).text
    assert PHONE not in page
    assert PHONE in client.get(f"/maps/grids/{GRID_A}", headers={"X-API-Key": own}).text
    # a grid worker key must have a scope
    res = CliRunner().invoke(cli, ["keys", "create", "x", "--role", "grid_worker",
                                   "--database-url", db_url])  # fmt: skip
    assert "needs a scope" in str(res.exception)


def test_writes_need_the_right_role(client: TestClient, db_url: str) -> None:
    _, public = make_key(db_url, "某系统", "--role", "public")
    _, planner = make_key(db_url, "规划员", "--role", "planner")
    _, admin = make_key(db_url, "管理员", "--role", "admin")
    assert grid_chief_phone(client, public, address=ADDRESS) == MASKED
    assert grid_chief_phone(client, planner, address=ADDRESS) == PHONE
    # activation: admins only (a plan that does not exist gets past the check as a 404)
    assert_problem(client.post("/v1/plans/999/activate"), 401, "invalid_api_key")
    resp = client.post("/v1/plans/999/activate", headers={"X-API-Key": planner})
    detail = assert_problem(resp, 403, "forbidden")["detail"]
    assert "needs a admin key" in detail or "needs an admin key" in detail
    assert "planner" in detail
    resp = client.post("/v1/plans/999/activate", headers={"X-API-Key": admin})
    assert_problem(resp, 404, "unknown_plan")
    # drafting: planners and admins
    body = {"division": "220103099000"}
    assert_problem(client.post("/v1/plans", json=body, headers={"X-API-Key": public}), 403,
                   "forbidden")  # fmt: skip
    resp = client.post("/v1/plans", json=body, headers={"X-API-Key": planner})
    assert resp.status_code == 404  # allowed; that division does not exist
    assert_problem(client.post("/v1/admin/gazetteer/reload", headers={"X-API-Key": planner}),
                   403, "forbidden")  # fmt: skip
    assert client.post("/v1/admin/gazetteer/reload", headers={"X-API-Key": admin}).is_success


def test_a_revoked_key_stops_working(client: TestClient, db_url: str) -> None:
    key_id, key = make_key(db_url, "临时", "--role", "planner")
    assert grid_chief_phone(client, key, address=ADDRESS) == PHONE
    client.app.state.gridmap.revoke_key(key_id)  # type: ignore[attr-defined]
    resp = client.get("/v1/resolve", params={"address": ADDRESS}, headers={"X-API-Key": key})
    assert_problem(resp, 401, "invalid_api_key")


def test_rate_limits_answer_429_with_retry_after(client: TestClient, db_url: str) -> None:
    _, slow = make_key(db_url, "慢", "--role", "public", "--rate", "3")
    statuses = [
        client.get("/v1/grids/" + GRID_A, headers={"X-API-Key": slow}).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    resp = client.get("/v1/grids/" + GRID_A, headers={"X-API-Key": slow})
    body = assert_problem(resp, 429, "too_many_requests")
    assert "3 requests a minute" in body["detail"]
    assert int(resp.headers["retry-after"]) >= 1
    # ten wrong keys from one address: the address is refused for a while, good key or not
    _, good = make_key(db_url, "好", "--role", "public")
    for i in range(10):
        assert client.get(f"/v1/grids/{GRID_A}", headers={"X-API-Key": f"gm_wrong{i}"}
                          ).status_code == 401  # fmt: skip
    resp = client.get(f"/v1/grids/{GRID_A}", headers={"X-API-Key": good})
    assert "too many wrong API keys" in assert_problem(resp, 429, "too_many_requests")["detail"]
    assert resp.headers["retry-after"]
    assert client.get(f"/v1/grids/{GRID_A}").status_code == 200  # no key: still public


def test_the_audit_trail_records_who_and_refuses_changes(client: TestClient, db_url: str) -> None:
    planner_id, _planner = make_key(db_url, "规划员", "--role", "planner")
    admin_id, admin = make_key(db_url, "管理员", "--role", "admin")
    res = CliRunner().invoke(cli, ["keys", "revoke", str(planner_id), "--database-url", db_url])
    assert res.exit_code == 0
    events = client.get("/v1/audit", headers={"X-API-Key": admin}).json()
    actions = [(e["action"], e["target"]) for e in events]
    assert actions == [("key.revoke", f"key {planner_id}"), ("key.create", f"key {admin_id}"),
                       ("key.create", f"key {planner_id}")]  # fmt: skip
    assert all(e["actor"].startswith("cli") for e in events)
    assert events[-1]["after"]["role"] == "planner"
    only = client.get("/v1/audit", params={"target": f"key {admin_id}"},
                      headers={"X-API-Key": admin}).json()  # fmt: skip
    assert [e["action"] for e in only] == ["key.create"]
    assert client.get("/v1/audit").status_code == 401
    with psycopg.connect(db_url, autocommit=True) as conn:
        for statement in ("UPDATE audit_event SET actor = 'x'", "DELETE FROM audit_event",
                          "TRUNCATE audit_event"):  # fmt: skip
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)
        assert conn.execute("SELECT count(*) FROM audit_event").fetchone() == (3,)
