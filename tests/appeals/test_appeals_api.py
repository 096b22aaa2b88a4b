"""Appeals over real HTTP through the ASGI app: the native API with roles and keys, and the
Open311 GeoReport v2 endpoints checked against the specification's field lists."""

from __future__ import annotations

import base64
import warnings
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from api.app import create_app
from api.settings import Settings
from gridmap.cli import app as cli
from tests.api.test_access import make_key
from tests.api.test_api import assert_problem
from tests.appeals.lists import write_list
from tests.region import GRID_A, STREET, XINFA, Region, region

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.postgis
__all__ = ["region"]

ADMIN = {"X-API-Key": "appeals-admin"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# GeoReport v2 (wiki.open311.org/GeoReport_v2): the fields of each response
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type",
                  "keywords", "group"}  # fmt: skip
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code",
                  "description", "agency_responsible", "service_notice", "requested_datetime",
                  "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
                  "lat", "long", "media_url"}  # fmt: skip
CREATED_FIELDS = {"service_request_id", "service_notice", "account_id"}


@pytest.fixture
def client(region: Region, db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    region.gm.import_duties(write_list(tmp_path / "list"))
    settings = Settings(database_url=db_url, api_keys="appeals-admin", photo_max_bytes=4096)
    with TestClient(create_app(settings)) as c:
        yield c


def new(client: TestClient, headers: dict[str, str] | None = None, **body: Any) -> Any:
    payload = {"matter": "env-ad", "description": "楼道小广告", "lon": 125.305, "lat": 43.885,
               **body}  # fmt: skip
    res = client.post("/v1/appeals", json=payload, headers=headers or {})
    assert res.status_code == 201, res.text
    return res.json()


def iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---------------------------------------------------------------------- native API


def test_a_resident_files_and_follows_an_appeal_with_its_token(client: TestClient) -> None:
    filed = new(client, contact_name="刘女士", contact_phone="13912340000",
                photos=[{"name": "wall.png", "data": base64.b64encode(PNG).decode()}])  # fmt: skip
    a, token = filed["appeal"], filed["token"]
    assert (a["owner"]["kind"], a["owner"]["code"], a["state"]) == ("street", STREET, "received")
    assert a["contact_phone"] == "139****0000"
    res = client.get(f"/v1/appeals/{a['id']}")
    assert_problem(res, 403, "forbidden")
    mine = client.get(f"/v1/appeals/{a['id']}", params={"token": token})
    assert mine.status_code == 200
    assert mine.json()["events"][0]["action"] == "receive"
    photo = client.get(a["photos"][0]["url"], params={"token": token})
    assert (photo.status_code, photo.headers["content-type"], photo.content) == (
        200, "image/png", PNG)  # fmt: skip
    assert client.get(a["photos"][0]["url"]).status_code == 403


def test_the_owner_and_the_dispatcher_move_it_along_with_their_keys(
    client: TestClient, db_url: str
) -> None:
    a = new(client)["appeal"]
    _, desk = make_key(db_url, "街道调度", "--role", "dispatcher", "--scope", STREET)
    _, worker = make_key(db_url, "网格员", "--role", "grid_worker", "--scope", XINFA)
    desk_h, worker_h = {"X-API-Key": desk}, {"X-API-Key": worker}
    url = f"/v1/appeals/{a['id']}/actions"
    # the street owns it: its desk signs, a grid worker may not
    assert_problem(client.post(url, json={"action": "sign"}, headers=worker_h), 403, "forbidden")
    for action in ("sign", "handle", "submit", "verify"):
        res = client.post(url, json={"action": action, "note": action}, headers=desk_h)
        assert res.status_code == 200, res.text
    assert (res.json()["state"], res.json()["light"]) == ("callback", "orange")
    refused = client.post(url, json={"action": "sign"}, headers=desk_h)
    problem = assert_problem(refused, 409, "transition_refused")
    assert "callback" in problem["detail"]
    back = client.post(f"/v1/appeals/{a['id']}/callback",
                       json={"satisfaction": "unsatisfied", "note": "还在贴"}, headers=desk_h)  # fmt: skip
    assert (back.json()["state"], back.json()["reopened"]) == ("reopened", 1)
    listed = client.get("/v1/appeals", headers=worker_h).json()
    assert listed["total"] == 1  # the grid worker reads appeals in its community


def test_bad_bodies_are_refused_naming_the_value(client: TestClient) -> None:
    res = client.post("/v1/appeals", json={"matter": "env-ad", "description": "x",
                                            "lon": 125.3})  # fmt: skip
    assert "both coordinates" in assert_problem(res, 422, "invalid_input")["detail"]
    res = client.post("/v1/appeals", json={"matter": "nope", "description": "x",
                                            "lon": 125.305, "lat": 43.885})  # fmt: skip
    assert "'nope'" in assert_problem(res, 404, "unknown_matter")["detail"]
    res = client.post("/v1/appeals", json={"matter": "env-ad", "description": "x",
                                            "lon": 125.305, "lat": 43.885, "crs": "EPSG:99999"})  # fmt: skip
    assert res.status_code == 422
    assert "99999" in res.json()["detail"]
    res = client.post("/v1/appeals", json={"matter": "env-ad", "description": "x",
                                            "lon": 125.305, "lat": 43.885,
                                            "photos": [{"data": "!!notbase64"}]})  # fmt: skip
    assert "base64" in assert_problem(res, 422, "invalid_input")["detail"]
    a = new(client)["appeal"]
    res = client.post(f"/v1/appeals/{a['id']}/actions", json={"action": "fly"}, headers=ADMIN)
    assert "'fly'" in assert_problem(res, 422, "invalid_input")["detail"]
    assert_problem(client.get("/v1/appeals/999999", headers=ADMIN), 404, "unknown_appeal")


def test_photos_are_refused_when_oversized_or_of_the_wrong_type(client: TestClient) -> None:
    filed = new(client)
    a, token = filed["appeal"], filed["token"]
    url = f"/v1/appeals/{a['id']}/photos"
    pdf = client.post(url, params={"token": token},
                      files={"photo": ("plan.jpg", b"%PDF-1.7 ...", "image/jpeg")})  # fmt: skip
    assert (
        "'plan.jpg' is not a JPEG, PNG or WebP"
        in assert_problem(pdf, 422, "photo_refused")["detail"]
    )
    big = client.post(url, params={"token": token},
                      files={"photo": ("big.png", PNG + b"\x00" * 5000, "image/png")})  # fmt: skip
    assert "at most 4,096" in assert_problem(big, 422, "photo_refused")["detail"]
    ok = client.post(url, params={"token": token}, files={"photo": ("ok.png", PNG, "image/png")})
    assert ok.status_code == 201
    assert len(ok.json()["photos"]) == 1


def test_duties_and_matters_answer_who_handles_what_here(client: TestClient) -> None:
    res = client.get("/v1/duties", params={"division": XINFA, "matter": "shop-fire"})
    assert res.status_code == 200
    [row] = res.json()
    assert (row["owner"]["kind"], row["owner"]["name"], row["time_limit"], row["time_unit"]) == (
        "department", "区消防救援大队", 24, "hours")  # fmt: skip
    grid = client.get("/v1/duties", params={"division": GRID_A, "matter": "env-trash"}).json()
    assert grid[0]["owner"]["code"] == STREET
    assert_problem(client.get("/v1/duties", params={"division": "220103009009"}), 404, "not_found")
    matters = {m["code"]: m for m in client.get("/v1/matters").json()}
    assert matters["env-trash"]["parent_code"] == "env"


def test_dashboard_and_csv_exports(client: TestClient) -> None:
    for _ in range(3):
        new(client)
    d = client.get("/v1/appeals/dashboard", params={"division": STREET}).json()
    assert (d["total"], d["open"], d["by_light"]) == (3, 3, {"new": 3})
    text = client.get("/v1/appeals/dashboard", params={"division": STREET, "format": "csv"}).text
    assert f"owner,street:{STREET},新发街道,3,0,3" in text
    rows = client.get("/v1/appeals", params={"format": "csv"}, headers=ADMIN).text
    assert len(rows.lstrip("\ufeff").splitlines()) == 4
    assert_problem(client.get("/v1/appeals/dashboard", params={"division": "2201"}), 422,
                   "invalid_input")  # fmt: skip
    counts = {g["code"]: g["open"] for g in
              client.get("/v1/appeals/grid-counts", params={"division": STREET}).json()}  # fmt: skip
    assert counts == {GRID_A: 3, "220103001001002": 0, "220103001002001": 0}
    assert_problem(client.get("/v1/appeals/grid-counts", params={"division": "220103009000"}),
                   404, "unknown_division")  # fmt: skip


# ---------------------------------------------------------------------- Open311


def test_open311_services_follow_the_georeport_fields(client: TestClient) -> None:
    res = client.get("/open311/v2/services.json")
    assert res.status_code == 200
    services = res.json()
    assert all(set(s) == SERVICE_FIELDS for s in services)
    codes = {s["service_code"]: s for s in services}
    # leaves only: a category is a group, not a service
    assert "env" not in codes
    assert codes["env-trash"]["group"] == "市容"
    assert codes["env-trash"]["keywords"] == "垃圾,堆放"
    assert codes["env-trash"]["metadata"] is False
    assert codes["env-trash"]["type"] == "realtime"
    one = client.get("/open311/v2/services/env-trash.json").json()
    assert one == {"service_code": "env-trash", "attributes": []}
    missing = client.get("/open311/v2/services/nope.json")
    assert missing.status_code == 404
    assert missing.json()[0]["code"] == 404
    assert "nope" in missing.json()[0]["description"]


def test_open311_post_and_get_requests(client: TestClient, db_url: str) -> None:
    _, key = make_key(db_url, "city app", "--role", "public")
    form = {"api_key": key, "service_code": "shop-fire", "lat": "43.885", "long": "125.305",
            "description": "门市房堆放液化气罐", "first_name": "明", "last_name": "王",
            "phone": "13800001111", "account_id": "u-17"}  # fmt: skip
    res = client.post("/open311/v2/requests.json", data=form)
    assert res.status_code == 201, res.text
    [created] = res.json()
    assert set(created) == CREATED_FIELDS
    assert created["account_id"] == "u-17"
    assert "区消防救援大队" in created["service_notice"]
    rid = created["service_request_id"]
    got = client.get(f"/open311/v2/requests/{rid}.json", params={"api_key": key})
    [req] = got.json()
    assert set(req) == REQUEST_FIELDS
    assert (req["status"], req["service_code"], req["agency_responsible"]) == (
        "open", "shop-fire", "区消防救援大队")  # fmt: skip
    assert (req["lat"], req["long"]) == (pytest.approx(43.885), pytest.approx(125.305))
    assert iso(req["expected_datetime"]) > iso(req["requested_datetime"])
    assert "13800001111" not in got.text
    assert "王" not in got.text
    listed = client.get("/open311/v2/requests.json", params={"api_key": key, "status": "open"})
    assert [r["service_request_id"] for r in listed.json()] == [rid]
    closed = client.get("/open311/v2/requests.json", params={"api_key": key, "status": "closed"})
    assert closed.json() == []
    by_code = client.get("/open311/v2/requests.json",
                         params={"api_key": key, "service_code": "env-ad"})  # fmt: skip
    assert by_code.json() == []
    # nothing is listed to an anonymous caller: appeals carry residents' private matters
    assert client.get("/open311/v2/requests.json").json() == []


def test_open311_status_follows_our_states_and_notes_are_filled(client: TestClient) -> None:
    form = {"api_key": "appeals-admin", "service_code": "env-ad", "lat": "43.885",
            "long": "125.305", "description": "小广告"}  # fmt: skip
    rid = client.post("/open311/v2/requests.json", data=form).json()[0]["service_request_id"]
    for action in ("sign", "handle", "submit", "verify"):
        client.post(f"/v1/appeals/{rid}/actions", json={"action": action, "note": f"{action}ed"},
                    headers=ADMIN)  # fmt: skip
    [req] = client.get(f"/open311/v2/requests/{rid}.json", headers=ADMIN).json()
    assert (req["status"], req["status_notes"]) == ("open", "verifyed")
    client.post(f"/v1/appeals/{rid}/callback", json={"satisfaction": "satisfied",
                                                      "note": "已清理"}, headers=ADMIN)  # fmt: skip
    [req] = client.get(f"/open311/v2/requests/{rid}.json", headers=ADMIN).json()
    assert (req["status"], req["status_notes"]) == ("closed", "已清理")


def test_open311_errors_use_georeport_s_shape(client: TestClient) -> None:
    form = {"service_code": "env-ad", "lat": "43.885", "long": "125.305", "description": "x"}
    no_key = client.post("/open311/v2/requests.json", data=form)
    assert no_key.status_code == 400
    assert no_key.json()[0]["code"] == 400
    assert "api_key" in no_key.json()[0]["description"]
    bad_key = client.post("/open311/v2/requests.json", data={**form, "api_key": "wrong"})
    assert bad_key.status_code == 403
    assert set(bad_key.json()[0]) == {"code", "description"}
    bad_code = client.post("/open311/v2/requests.json",
                           data={**form, "api_key": "appeals-admin", "service_code": "zzz"})  # fmt: skip
    assert bad_code.status_code == 404
    assert "'zzz'" in bad_code.json()[0]["description"]
    bad_status = client.get("/open311/v2/requests.json", params={"status": "pending"})
    assert bad_status.status_code == 400
    assert "'pending'" in bad_status.json()[0]["description"]


def test_the_openapi_document_describes_the_open311_error_list(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/open311/v2/requests.json"]["post"]
    schema = post["responses"]["400"]["content"]["application/json"]["schema"]
    assert schema["items"]["$ref"] == "#/components/schemas/Open311Error"
    assert "application/problem+json" in str(spec["paths"]["/v1/appeals"]["post"]["responses"])


# ---------------------------------------------------------------------- CLI


def test_the_cli_imports_lists_shows_acts_and_exports(
    client: TestClient, db_url: str, tmp_path: Path
) -> None:
    src = tmp_path / "hotline.csv"
    src.write_text("matter_code,description,channel,lon,lat,address,received_at\n"
                   "env-ad,小广告,hotline,125.305,43.885,,2026-11-02T09:00:00\n"
                   "civ-cert,开证明,walk_in,,,宽城区新发街道明珠花园3栋,2026-11-03T10:00:00+08:00\n",
                   encoding="utf-8")  # fmt: skip
    run = CliRunner()
    res = run.invoke(cli, ["appeals", "import", str(src), "--database-url", db_url])
    assert res.exit_code == 0, res.output
    assert "2 appeals filed" in res.stdout
    res = run.invoke(cli, ["appeals", "list", "--database-url", db_url])
    assert "env-ad" in res.stdout
    assert "新发社区" in res.stdout
    first = int(res.stdout.split()[0]) if res.stdout.split() else 0
    res = run.invoke(cli, ["appeals", "act", str(first), "sign", "--database-url", db_url])
    assert res.exit_code == 0
    assert "signed (yellow)" in res.stdout
    out = tmp_path / "out.csv"
    res = run.invoke(cli, ["appeals", "export", str(out), "--state", "signed",
                           "--database-url", db_url])  # fmt: skip
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("matter_code,description,lon,lat\nenv-ad,,125.3,43.88\nenv-ad,x,abc,43.88\n",
                   encoding="utf-8")  # fmt: skip
    res = run.invoke(cli, ["appeals", "import", str(bad), "--database-url", db_url])
    assert res.exit_code != 0
    assert "row 1" in str(res.exception)
    assert "row 2" in str(res.exception)
    assert "'abc'" in str(res.exception)
