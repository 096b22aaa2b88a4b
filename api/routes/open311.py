"""Open311 GeoReport v2: existing 311 clients file and follow appeals through gridmap.

* ``services.json`` lists the matters appeals are filed against (the leaves of the tree;
  their category is the ``group``); ``services/{code}.json`` is a service's definition.
* ``POST requests.json`` files an appeal (form-encoded, as GeoReport v2 specifies): at
  ``lat``/``long`` (WGS84) or ``address_string``; ``api_key`` is required, and any key
  of ``GRIDMAP_API_KEYS`` or a key made with ``gridmap keys create`` is accepted.
* ``GET requests.json`` and ``requests/{id}.json`` show the requests the key may read: those
  it filed, and those in its scope for grid workers, departments and dispatchers (appeals
  can carry residents' private matters, so nothing is listed to anonymous callers).

``status`` is ``closed`` once the appeal is closed, else ``open``; ``status_notes`` is the
latest note, ``agency_responsible`` the owner, ``expected_datetime`` the deadline. Errors are
GeoReport's list of ``{code, description}``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from pydantic import BaseModel, Field

from api.deps import GridmapDep, SettingsDep, caller_for_key
from api.errors import OPEN311_ERRORS, InvalidApiKey
from gridmap.access import Caller
from gridmap.appeals.models import Appeal
from gridmap.appeals.workflow import open311_status
from gridmap.errors import InvalidInput, NotFound
from gridmap.service import Intake

router = APIRouter(prefix="/open311/v2", tags=["open311"])

#: GeoReport v2: requests listed by default are those of the last 90 days, at most 1000
DEFAULT_DAYS = 90
MAX_REQUESTS = 1000


class Service(BaseModel):
    service_code: str = Field(examples=["SANI.01"])
    service_name: str = Field(examples=["生活垃圾乱堆乱放"])
    description: str
    metadata: bool = Field(description="Whether the service has extra attributes (never).")
    type: str = Field("realtime", description="realtime: requests get an id at once.")
    keywords: str = Field(description="Comma-separated.")
    group: str = Field(description="The matter's category.")


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[dict[str, Any]] = Field(default_factory=list)


class Created(BaseModel):
    service_request_id: str
    service_notice: str = ""
    account_id: str | None = None


class ServiceRequest(BaseModel):
    """A request as GeoReport v2 shows it (no contact data)."""

    service_request_id: str
    status: str = Field(description="open or closed.")
    status_notes: str | None
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    address_id: str | None = None
    zipcode: str | None = None
    lat: float | None
    long: float | None
    media_url: str | None


def _caller(
    request: Request, settings: SettingsDep, gm: GridmapDep,
    api_key: Annotated[str | None, Query(max_length=200, description="An API key.")] = None,
) -> Caller:  # fmt: skip
    header = request.headers.get("x-api-key")
    return caller_for_key(request, settings, gm, api_key or header)


CallerDep = Annotated[Caller, Depends(_caller)]


def _when(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if dt else None


def _request(a: Appeal, base: str) -> ServiceRequest:
    return ServiceRequest(
        service_request_id=str(a.id), status=open311_status(a.state),
        status_notes=a.last_note, service_name=a.matter_name,
        service_code=a.matter_code, description=a.description, agency_responsible=a.owner.name,
        service_notice=a.route_note or None, requested_datetime=_when(a.received_at) or "",
        updated_datetime=_when(a.updated_at) or "", expected_datetime=_when(a.deadline),
        address=a.address, lat=a.lat, long=a.lon,
        media_url=(base.rstrip("/") + a.first_photo_url) if a.first_photo_url else None,
    )  # fmt: skip


@router.get("/services.json", response_model=list[Service], responses=OPEN311_ERRORS,
            summary="The services: matters appeals are filed against")  # fmt: skip
def services(gm: GridmapDep) -> list[Service]:
    matters = gm.matters()
    names = {m.code: m.name for m in matters}
    parents = {m.parent_code for m in matters if m.parent_code}
    return [Service(service_code=m.code, service_name=m.name, description=m.description,
                    metadata=False, type="realtime", keywords=",".join(m.keywords),
                    group=names.get(m.parent_code or "", ""))
            for m in matters if m.code not in parents]  # fmt: skip


@router.get("/services/{service_code}.json", response_model=ServiceDefinition,
            responses=OPEN311_ERRORS, summary="A service's definition")  # fmt: skip
def service(service_code: Annotated[str, Path(max_length=32)], gm: GridmapDep) -> ServiceDefinition:
    if not any(m.code == service_code for m in gm.matters()):
        raise NotFound(f"no service with code {service_code!r}", value=service_code)
    return ServiceDefinition(service_code=service_code)


@router.post("/requests.json", response_model=list[Created], status_code=201,
             responses=OPEN311_ERRORS, summary="File a request (an appeal)")  # fmt: skip
def create(
    request: Request,
    settings: SettingsDep,
    gm: GridmapDep,
    api_key: Annotated[str, Form(max_length=200, description="Required.")],
    service_code: Annotated[str, Form(max_length=32)],
    description: Annotated[str, Form(min_length=1, max_length=4000)],
    lat: Annotated[float | None, Form()] = None,
    long: Annotated[float | None, Form()] = None,
    address_string: Annotated[str | None, Form(max_length=200)] = None,
    address_id: Annotated[str | None, Form(max_length=100)] = None,
    email: Annotated[str | None, Form(max_length=200)] = None,
    device_id: Annotated[str | None, Form(max_length=200)] = None,
    account_id: Annotated[str | None, Form(max_length=200)] = None,
    first_name: Annotated[str | None, Form(max_length=50)] = None,
    last_name: Annotated[str | None, Form(max_length=50)] = None,
    phone: Annotated[str | None, Form(max_length=20)] = None,
    media_url: Annotated[str | None, Form(max_length=1000)] = None,
) -> list[Created]:
    """One of `lat` and `long` together, or `address_string`, locates the request (WGS84)."""
    caller = caller_for_key(request, settings, gm, api_key)
    if caller.key_id is None and caller.role == "public":
        raise InvalidApiKey("api_key is required to file a request")
    name = "".join(x for x in (last_name, first_name) if x) or None
    intake = Intake(service_code, description, channel="open311", lon=long, lat=lat,
                    crs="EPSG:4326", address=address_string if long is None else
                    (address_string or None), contact_name=name, contact_phone=phone,
                    contact_email=email)  # fmt: skip
    appeal, _, similar = gm.file_appeal(intake, caller)
    notice = f"assigned to {appeal.owner.name}"
    if appeal.owner.kind == "dispatch":
        notice = f"held by {appeal.owner.name}: {appeal.route_note}"
    if similar:
        notice += f"; similar open requests nearby: {', '.join(str(s.id) for s in similar)}"
    return [Created(service_request_id=str(appeal.id), service_notice=notice,
                    account_id=account_id)]  # fmt: skip


def _codes(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@router.get("/requests.json", response_model=list[ServiceRequest], responses=OPEN311_ERRORS,
            summary="Requests the key may read, newest first")  # fmt: skip
def requests(
    request: Request,
    gm: GridmapDep,
    caller: CallerDep,
    service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
    service_code: Annotated[str | None, Query(max_length=2000)] = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    status: Annotated[str | None, Query(max_length=20, examples=["open,closed"])] = None,
) -> list[ServiceRequest]:
    """Without ids: the last 90 days (or `start_date`..`end_date`), at most 1000."""
    ids = []
    for v in _codes(service_request_id):
        if not v.isdigit():
            raise InvalidInput(f"service_request_id {v!r}: expected numbers separated by commas")
        ids.append(int(v))
    statuses = _codes(status)
    bad = [s for s in statuses if s not in ("open", "closed")]
    if bad:
        raise InvalidInput(f"status {bad[0]!r}: expected open, closed or both")
    states = None
    if statuses == ["closed"]:
        states = ["closed"]
    elif statuses == ["open"]:
        states = ["received", "signed", "handled", "verifying", "callback", "returned",
                  "reopened"]  # fmt: skip
    since = start_date
    if since is None and not ids:
        since = (end_date or datetime.now(UTC)) - timedelta(days=DEFAULT_DAYS)
    out: list[ServiceRequest] = []
    codes: list[str | None] = [*_codes(service_code)] or [None]
    base = str(request.base_url)
    for code in codes:
        page = gm.appeals(caller, limit=MAX_REQUESTS, states=states, matter=code, since=since,
                          until=end_date, ids=ids or None)  # fmt: skip
        out += [_request(a, base) for a in page.items]
    return out[:MAX_REQUESTS]


@router.get("/requests/{service_request_id}.json", response_model=list[ServiceRequest],
            responses=OPEN311_ERRORS, summary="One request")  # fmt: skip
def one_request(
    request: Request, service_request_id: Annotated[int, Path(ge=1, le=2**62)], gm: GridmapDep,
    caller: CallerDep,
) -> list[ServiceRequest]:  # fmt: skip
    return [_request(gm.appeal(service_request_id, caller), str(request.base_url))]
