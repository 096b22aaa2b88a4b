"""Appeals (接诉即办) over HTTP: intake, lists, the workflow, callbacks, photos, dashboards;
and the responsibility lists they are routed by.

Anyone may file an appeal (a caller without a key gets a token to read it later); what else
a caller sees and does follows its key's role (:mod:`gridmap.appeals.permissions`).
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, Query, UploadFile
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CallerDep, GridmapDep
from api.errors import FORBIDDEN, INVALID, UNAUTHORISED, UNAVAILABLE, documented, not_found
from gridmap.appeals.models import Appeal, AppealPage, Dashboard, DutyAnswer, Suggestion
from gridmap.errors import InvalidInput
from gridmap.service import Intake

router = APIRouter(prefix="/v1", tags=["appeals"])

APPEAL_404 = not_found("unknown_appeal", "no appeal 12345")
MATTER_404 = not_found("unknown_matter", "no matter with code 'SANI.99'")
DIVISION_404 = not_found("unknown_division", "no division with code '220103099000'")
CONFLICT = documented(409, "transition_refused",
                      "an appeal that is closed cannot be signed for: from closed, nothing is "
                      "allowed", "The workflow does not allow this action from the appeal's "
                      "state.")  # fmt: skip
PHOTO_422 = documented(422, "photo_refused", "photo 'a.pdf' is not a JPEG, PNG or WebP image",
                       "A bad value; a photo of the wrong type or size.")  # fmt: skip

AppealId = Annotated[int, Path(ge=1, le=2**62, description="The appeal's number.")]
Token = Annotated[
    str | None,
    Query(max_length=100, description="The token given when the appeal was filed without "
          "a key: lets a resident read their own appeal."),
]  # fmt: skip
Division = Annotated[
    str, Query(pattern=r"^[0-9]{12}$", examples=["220103001000"],
               description="A street's or district's 12-digit code.")
]  # fmt: skip
State = Literal[
    "received", "signed", "handled", "verifying", "callback", "closed", "returned", "reopened"
]


class PhotoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("photo", max_length=200)
    data: str = Field(description="The image, base64-encoded (JPEG, PNG or WebP).")


class AppealIn(BaseModel):
    """A new appeal: the matter, what is wrong, and where (a point, or an address)."""

    model_config = ConfigDict(extra="forbid")

    matter: str = Field(max_length=32, examples=["SANI.01"],
                        description="A matter code (GET /v1/matters).")  # fmt: skip
    description: str = Field(min_length=1, max_length=4000, examples=["楼下垃圾堆了三天没人清运"])
    channel: Literal["hotline", "app", "grid_worker", "walk_in", "open311"] = "app"
    lon: float | None = Field(None, description="x in `crs` (longitude for lon/lat CRSs).")
    lat: float | None = Field(None, description="y in `crs`.")
    crs: str = Field("EPSG:4490", max_length=20, examples=["EPSG:4326", "GCJ02"])
    address: str | None = Field(None, max_length=200, examples=["南关区永吉街道明珠花园3栋"])
    contact_name: str | None = Field(None, max_length=50)
    contact_phone: str | None = Field(None, max_length=20, description="Personal data.")
    contact_email: str | None = Field(None, max_length=200)
    photos: list[PhotoIn] = Field(default_factory=list, max_length=9)
    received_at: datetime | None = Field(None, description="When it came in (default now); "
                                         "for appeals recorded later.")  # fmt: skip


class Filed(BaseModel):
    appeal: Appeal
    token: str | None = Field(description="Shown once, to a caller without a key: read the "
                              "appeal later with ?token=.")  # fmt: skip
    similar: list[Suggestion] = Field(description="Open appeals of the same matter nearby.")


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["sign", "return", "reroute", "handle", "submit", "reject", "verify"]
    note: str = Field("", max_length=2000, description="Why (required to return or reject).")
    to_kind: Literal["street", "community", "grid", "department", "company"] | None = Field(
        None, description="reroute: the new owner's kind (none: ask the list again)."
    )
    to_code: str | None = Field(None, max_length=32, description="reroute: its code.")


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    satisfaction: Literal["satisfied", "basically_satisfied", "unsatisfied"]
    note: str = Field("", max_length=2000)


class MatterOut(BaseModel):
    code: str
    name: str
    parent_code: str | None
    keywords: list[str]
    description: str


def _photos(items: list[PhotoIn]) -> list[tuple[str, bytes]]:
    out = []
    for i, p in enumerate(items):
        try:
            out.append((p.name, base64.b64decode(p.data, validate=True)))
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput(f"photos[{i}] ({p.name!r}) is not valid base64",
                               field=f"body.photos.{i}.data") from exc  # fmt: skip
    return out


@router.post(
    "/appeals", response_model=Filed, status_code=201,
    responses={**INVALID, **PHOTO_422, **UNAUTHORISED, **MATTER_404, **UNAVAILABLE},
    summary="File an appeal: routed by location to its owner, the grid chief notified",
)  # fmt: skip
def create(body: AppealIn, gm: GridmapDep, caller: CallerDep) -> Filed:
    """The location is a point (`lon`, `lat` in `crs`) or an `address` the resolver reads.
    The owner comes from the responsibility list; an appeal whose location or owner cannot
    be found goes to the street's dispatch queue with the reason (`route_note`)."""
    intake = Intake(body.matter, body.description, channel=body.channel, lon=body.lon,
                    lat=body.lat, crs=body.crs, address=body.address,
                    contact_name=body.contact_name, contact_phone=body.contact_phone,
                    contact_email=body.contact_email, photos=_photos(body.photos),
                    received_at=body.received_at if caller.at_least("dispatcher") else None)  # fmt: skip
    appeal, token, similar = gm.file_appeal(intake, caller)
    return Filed(appeal=appeal, token=token, similar=similar)


@router.get(
    "/appeals", response_model=AppealPage,
    responses={200: {"content": {"text/csv": {}}}, **INVALID, **UNAUTHORISED, **UNAVAILABLE},
    summary="The appeals the caller may read, newest first",
)  # fmt: skip
def list_appeals(
    gm: GridmapDep,
    caller: CallerDep,
    state: Annotated[list[State] | None, Query()] = None,
    matter: Annotated[
        str | None,
        Query(max_length=32, description="A matter code, or a category: its matters all."),
    ] = None,
    owner_kind: Annotated[
        Literal["street", "community", "grid", "department", "company", "dispatch"] | None, Query()
    ] = None,
    owner_code: Annotated[str | None, Query(max_length=32)] = None,
    division: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    grid: Annotated[str | None, Query(pattern=r"^[0-9]{15}$")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """Without a key: only the appeals filed with the caller's own key (none). Grid workers,
    departments and dispatchers see those in their scope; planners and admins all."""
    filters: dict[str, Any] = {"states": state, "matter_prefix": matter, "owner_kind": owner_kind,
                               "owner_code": owner_code, "division": division, "grid": grid,
                               "since": since, "until": until, "overdue": overdue}  # fmt: skip
    if format == "csv":
        buf = io.StringIO()
        gm.appeals_csv(caller, buf, **filters)
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="appeals.csv"'})  # fmt: skip
    return gm.appeals(caller, limit=limit, offset=offset, **filters)


@router.get(
    "/appeals/dashboard", response_model=Dashboard,
    responses={200: {"content": {"text/csv": {}}}, **DIVISION_404, **INVALID, **UNAVAILABLE},
    summary="A street's or district's appeals at a glance (JSON or CSV)",
)  # fmt: skip
def dashboard(
    gm: GridmapDep, division: Division, since: datetime | None = None,
    format: Literal["json", "csv"] = "json",
) -> Any:  # fmt: skip
    """Counts by light, state and owner; median hours to sign, handle and close; overdue;
    the satisfaction rate of the callbacks. No personal data."""
    d = gm.dashboard(division, since=since)
    if format == "json":
        return d
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "key", "name", "open", "overdue", "total"])
    for light, n in sorted(d.by_light.items()):
        w.writerow(["light", light, "", "", "", n])
    for state, n in sorted(d.by_state.items()):
        w.writerow(["state", state, "", "", "", n])
    for o in d.by_owner:
        w.writerow(["owner", f"{o['kind']}:{o['code']}", o["name"], o["open"], o["overdue"],
                    o["total"]])  # fmt: skip
    for k in ("total", "open", "overdue", "callbacks", "median_hours_to_sign",
              "median_hours_to_handle", "median_hours_to_close", "satisfaction_rate"):  # fmt: skip
        w.writerow(["summary", k, "", "", "", getattr(d, k)])
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8")


class GridCount(BaseModel):
    code: str
    name: str
    open: int
    overdue: int


@router.get(
    "/appeals/grid-counts", response_model=list[GridCount],
    responses={**DIVISION_404, **INVALID, **UNAVAILABLE},
    summary="Open and overdue appeals per grid of a street or district",
)  # fmt: skip
def grid_counts(gm: GridmapDep, division: Division) -> list[GridCount]:
    """Every current grid under the division, those with no open appeal included."""
    return [GridCount.model_validate(r) for r in gm.appeal_grid_counts(division)]


@router.get(
    "/appeals/{appeal_id}", response_model=Appeal,
    responses={**APPEAL_404, **FORBIDDEN, **INVALID, **UNAUTHORISED, **UNAVAILABLE},
    summary="One appeal with its history and photos",
)  # fmt: skip
def show(appeal_id: AppealId, gm: GridmapDep, caller: CallerDep, token: Token = None) -> Appeal:
    return gm.appeal(appeal_id, caller, token=token)


_WRITE = {**APPEAL_404, **FORBIDDEN, **CONFLICT, **INVALID, **UNAUTHORISED, **UNAVAILABLE}


@router.post(
    "/appeals/{appeal_id}/actions", response_model=Appeal, responses=_WRITE,
    summary="Move an appeal along its workflow (sign, handle, submit, verify, return, ...)",
)  # fmt: skip
def act(appeal_id: AppealId, body: ActionIn, gm: GridmapDep, caller: CallerDep) -> Appeal:
    """Refused (409) when the workflow does not allow the action from the appeal's state,
    and (403) when the caller is neither its owner nor its street's dispatch desk. Each
    transition records who, when and the note."""
    to = None
    if body.to_kind is not None or body.to_code is not None:
        if not (body.to_kind and body.to_code):
            raise InvalidInput("a re-route names both to_kind and to_code, or neither",
                               field="body.to_code")  # fmt: skip
        to = (body.to_kind, body.to_code)
    return gm.act(appeal_id, body.action, caller, note=body.note, to=to)


@router.post(
    "/appeals/{appeal_id}/callback", response_model=Appeal, responses=_WRITE,
    summary="Record the callback (回访): satisfied closes it, unsatisfied reopens it",
)  # fmt: skip
def callback(appeal_id: AppealId, body: CallbackIn, gm: GridmapDep, caller: CallerDep) -> Appeal:
    return gm.act(appeal_id, "callback", caller, note=body.note, satisfaction=body.satisfaction)


@router.post(
    "/appeals/{appeal_id}/photos", response_model=Appeal, status_code=201,
    responses={**APPEAL_404, **FORBIDDEN, **PHOTO_422, **UNAUTHORISED, **UNAVAILABLE},
    summary="Add a photo (JPEG, PNG or WebP; multipart upload)",
)  # fmt: skip
def add_photo(
    appeal_id: AppealId, gm: GridmapDep, caller: CallerDep, photo: Annotated[UploadFile, File()],
    token: Token = None,
) -> Appeal:  # fmt: skip
    limit = (gm.photo_max_bytes or 0) + 1
    data = photo.file.read(limit)
    return gm.add_photo(appeal_id, photo.filename or "photo", data, caller, token)


@router.get(
    "/appeals/{appeal_id}/photos/{photo_id}",
    response_class=StreamingResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
               **APPEAL_404, **FORBIDDEN, **UNAUTHORISED},
    summary="A photo of an appeal",
)  # fmt: skip
def get_photo(
    appeal_id: AppealId, photo_id: Annotated[int, Path(ge=1, le=2**62)], gm: GridmapDep,
    caller: CallerDep, token: Token = None,
) -> Response:  # fmt: skip
    kind, data = gm.photo(appeal_id, photo_id, caller, token)
    return Response(data, media_type=kind, headers={"Cache-Control": "private, max-age=3600"})


# ---------------------------------------------------------------------- duties and matters


@router.get("/matters", response_model=list[MatterOut], tags=["duties"],
            summary="The matter categories appeals are filed against")  # fmt: skip
def matters(gm: GridmapDep) -> list[MatterOut]:
    return [MatterOut(code=m.code, name=m.name, parent_code=m.parent_code,
                      keywords=list(m.keywords), description=m.description)
            for m in gm.matters()]  # fmt: skip


@router.get(
    "/duties", response_model=list[DutyAnswer], tags=["duties"],
    responses={**not_found("not_found", "no division or grid with code '220103099000'"),
               **MATTER_404, **INVALID},
    summary="Who handles a matter here, by the responsibility list",
)  # fmt: skip
def duties(
    gm: GridmapDep,
    division: Annotated[
        str,
        Query(
            pattern=r"^([0-9]{12}|[0-9]{15})$",
            examples=["220103001001"],
            description="A division or grid code.",
        ),
    ],
    matter: Annotated[str | None, Query(max_length=32)] = None,
) -> list[DutyAnswer]:
    """Each matter's entry that applies at the place (a division's own entry over the
    list's default) and its owner. `owner` is null where the owner is each grid (at a
    division, the grid an appeal lies in decides) or nobody is recorded (`note` says why)."""
    return gm.duties_at(division, matter)
