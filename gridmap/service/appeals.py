"""The appeal use cases (接诉即办): intake with routing, the workflow, photos, views.

Intake resolves the location (a point in any supported CRS, or an address through the
resolver), finds the owner by the responsibility list (:mod:`gridmap.appeals.routing`),
sets the deadline in working time (:mod:`gridmap.appeals.calendar`), and writes the appeal,
its first event and the notices to the grid chief and the owner in one transaction. Every
transition is checked against the workflow (:mod:`gridmap.appeals.workflow`) and the caller's
role (:mod:`gridmap.appeals.permissions`) and written with its event, or not at all.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridmap.access import ANONYMOUS, Caller
from gridmap.appeals.routing import Place
from gridmap.errors import (
    Forbidden,
    GridmapError,
    ImportValidationError,
    InvalidInput,
    NotFound,
    UnknownDivision,
)  # fmt: skip
from gridmap.service.base import ServiceBase

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import psycopg

    from gridmap.appeals.calendar import WorkCalendar
    from gridmap.appeals.models import Appeal, AppealPage, Dashboard, Suggestion
    from gridmap.appeals.routing import Route

__all__ = ["AppealUseCases", "Intake"]

LOG = logging.getLogger(__name__)

#: how long the working calendar is kept before it is read again
CALENDAR_TTL_S = 60.0
#: open appeals of the same matter within this distance are suggested as duplicates
DUPLICATE_METRES = 50.0


class UnknownAppeal(NotFound):
    code = "unknown_appeal"


class UnknownMatter(NotFound):
    code = "unknown_matter"


@dataclass
class _Filed:
    row: dict[str, Any]
    event: dict[str, Any]
    photos: list[dict[str, Any]]
    token: str | None
    similar: list[dict[str, Any]]


class Intake:
    """What a new appeal says: matter, description, where, who, and how it came in."""

    def __init__(
        self, matter: str, description: str, *, channel: str = "app",
        lon: float | None = None, lat: float | None = None, crs: str | int = "EPSG:4490",
        address: str | None = None, contact_name: str | None = None,
        contact_phone: str | None = None, contact_email: str | None = None,
        photos: Sequence[tuple[str, bytes]] = (), received_at: datetime | None = None,
    ) -> None:  # fmt: skip
        from gridmap.appeals.workflow import CHANNELS

        if channel not in CHANNELS:
            raise InvalidInput(f"channel {channel!r}: expected one of {', '.join(CHANNELS)}",
                               value=channel)  # fmt: skip
        description = (description or "").strip()
        if not description:
            raise InvalidInput("an appeal needs a description of the problem", value=description)
        if len(description) > 4000:
            raise InvalidInput(f"description of {len(description)} characters: at most 4000",
                               value=len(description))  # fmt: skip
        if (lon is None) != (lat is None):
            raise InvalidInput("a location needs both coordinates (lon and lat, or x and y)")
        if lon is None and not (address and address.strip()):
            raise InvalidInput("an appeal needs a location: a point (lon, lat) or an address")
        if contact_phone is not None:
            contact_phone = contact_phone.strip().replace(" ", "") or None
        if contact_phone is not None and not (
            5 <= len(contact_phone) <= 20 and all(c.isdigit() or c in "+-" for c in contact_phone)
        ):
            raise InvalidInput("the contact phone must be 5-20 digits, + or - "
                               "(the value is not shown: personal data)")  # fmt: skip
        if received_at is not None and received_at.tzinfo is None:
            raise InvalidInput(f"received_at {received_at.isoformat()}: needs a time zone")
        self.matter, self.description, self.channel = matter, description, channel
        self.lon, self.lat, self.crs = lon, lat, crs
        self.address = address.strip() if address else None
        self.contact_name = (contact_name or "").strip() or None
        self.contact_phone, self.contact_email = contact_phone, (contact_email or None)
        self.photos, self.received_at = list(photos), received_at


class AppealUseCases(ServiceBase):
    #: where photos go: None keeps them in the database
    photo_dir: Path | None = None
    photo_max_bytes: int | None = None
    #: open appeals of the same matter this near a new one are suggested as duplicates
    duplicate_metres: float = DUPLICATE_METRES

    # ------------------------------------------------------------------ intake

    def file_appeal(
        self, intake: Intake, caller: Caller = ANONYMOUS, *, actor: str | None = None,
        duplicate_metres: float | None = None,
    ) -> tuple[Appeal, str | None, list[Suggestion]]:  # fmt: skip
        """File an appeal: route it, set its deadline, notify, all in one transaction.

        Returns the appeal as the caller may see it, the token with which a caller without
        a key reads it later (shown once; None for callers with a key), and open appeals of
        the same matter nearby (perhaps the same problem).
        """
        from gridmap.appeals.models import Suggestion

        if duplicate_metres is None:
            duplicate_metres = self.duplicate_metres
        with self.connection() as conn:
            if intake.photos:
                with conn.transaction():
                    filed = self._file(conn, intake, caller, actor, duplicate_metres)
            else:  # one statement writes it: a transaction of its own
                filed = self._file(conn, intake, caller, actor, duplicate_metres)
        view = _appeal(filed.row, caller, [filed.event], filed.photos, own=True)
        return view, filed.token, [Suggestion.model_validate(s) for s in filed.similar]

    def import_appeals(
        self, intakes: Sequence[Intake], *, actor: str = "cli",
        progress: Callable[[int, int], None] | None = None,
    ) -> list[int]:  # fmt: skip
        """File many appeals (a hotline's export) in one transaction: all or none. Each is
        routed as if it came in at its own ``received_at``."""
        ids = []
        with self.connection() as conn, conn.transaction():
            for i, intake in enumerate(intakes, 1):
                try:
                    ids.append(self._file(conn, intake, ANONYMOUS, actor, 0, token=False).row["id"])
                except GridmapError as exc:
                    from gridmap.io.problems import Problem

                    raise ImportValidationError(
                        [Problem("appeals", i, None, None, exc.message)]) from exc  # fmt: skip
                if progress and (i % 100 == 0 or i == len(intakes)):
                    progress(i, len(intakes))
        LOG.info("%d appeals imported", len(ids))
        return ids

    def _file(
        self, conn: psycopg.Connection[Any], intake: Intake, caller: Caller, actor: str | None,
        duplicate_metres: float, *, token: bool = True,
    ) -> _Filed:  # fmt: skip
        """Route and write one appeal (in the caller's transaction, if any): a context query,
        then one statement for the appeal, its event and its notices."""
        from gridmap.appeals.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, check_photo
        from gridmap.appeals.routing import Body, Duty, Route, route
        from gridmap.db import appeals as db

        if len(intake.photos) > MAX_PHOTOS:
            raise InvalidInput(f"{len(intake.photos)} photos: at most {MAX_PHOTOS} an appeal",
                               value=len(intake.photos))  # fmt: skip
        photos = [check_photo(data, name, self.photo_max_bytes or MAX_PHOTO_BYTES)
                  for name, data in intake.photos]  # fmt: skip
        received = intake.received_at or datetime.now(UTC)
        secret = (secrets.token_urlsafe(18) if token and caller.key_id is None
                  and caller.role == "public" else None)  # fmt: skip
        who = actor or caller.actor
        lonlat, grid, division, note = self._locate(conn, intake)
        ctx = db.intake_context(conn, intake.matter, lonlat, grid, division, duplicate_metres)
        if ctx["matter_name"] is None:
            raise UnknownMatter(
                f"no matter with code {intake.matter!r}: see GET /v1/matters or "
                "/open311/v2/services.json for the codes", value=intake.matter)  # fmt: skip
        place = Place.of(ctx["place"])
        if lonlat and not note and not (place.grid_code or place.community_code):
            note = "the point lies in no grid or community of this service"
        duties = [Duty(**d) for d in ctx["duties"] or []]
        bodies = [Body(c, n, k, sv, ct, tuple(sr)) for c, n, k, sv, ct, sr in ctx["bodies"] or []]
        r = route(intake.matter, duties, bodies, place)
        if note and r.owner_kind == "dispatch":
            r = Route(r.owner_kind, r.owner_code, r.owner_name, r.duty, note)
        row = self._row(intake, place, lonlat, r, received, who, caller, secret, conn)
        event = {"actor": who, "action": "receive", "from_state": None, "to_state": "received",
                 "at": intake.received_at, "note": r.note or f"routed to {r.owner_name}",
                 "owner_kind": r.owner_kind, "owner_code": r.owner_code,
                 "owner_name": r.owner_name, "satisfaction": None}  # fmt: skip
        written = db.insert(conn, row, event, self._notices(ctx["chief"], place, r, intake))
        event["at"] = written["event_at"]
        kept = [{"id": self._store_photo(conn, written["id"], ph), "content_type": ph.content_type,
                 "size": ph.size} for ph in photos]  # fmt: skip
        view_row = {**row, **written, "matter_name": ctx["matter_name"], "state": "received",
                    "lon": lonlat[0] if lonlat else None, "lat": lonlat[1] if lonlat else None,
                    "signed_at": None, "handled_at": None, "submitted_at": None,
                    "verified_at": None, "closed_at": None, "satisfaction": None, "reopened": 0,
                    "last_note": event["note"], "first_photo": kept[0]["id"] if kept else None}  # fmt: skip
        LOG.debug("appeal %d (%s) routed to %s %s", written["id"], intake.matter, r.owner_kind,
                  r.owner_code)  # fmt: skip
        return _Filed(view_row, event, kept, secret, ctx["similar"] or [])

    def _locate(
        self, conn: psycopg.Connection[Any], intake: Intake
    ) -> tuple[tuple[float, float] | None, str | None, str | None, str]:
        """Where an appeal is: its point (EPSG:4490), the grid or division the resolver
        found for an address, and, when unresolved, why."""
        from gridmap.crs import to_storage_xy

        if intake.lon is not None and intake.lat is not None:
            xs, ys = to_storage_xy([intake.lon], [intake.lat], intake.crs)
            return (float(xs[0]), float(ys[0])), None, None, ""
        from gridmap.resolve.addresses import resolve_address

        res = resolve_address(conn, self.gazetteer, intake.address or "")
        point = (res.location.lon, res.location.lat) if res.location else None
        if res.status == "ok" and res.grid is not None:
            return point, res.grid.code, None, ""
        if res.division is not None:
            why = f"the address was resolved to {res.division.name} only" + (
                f" ({res.reason})" if res.reason else "")  # fmt: skip
            return point, None, res.division.code, why
        return None, None, None, f"the address could not be resolved ({res.reason or res.status})"

    def _row(
        self, intake: Intake, place: Place, lonlat: tuple[float, float] | None, r: Route,
        received: datetime, who: str, caller: Caller, token: str | None,
        conn: psycopg.Connection[Any],
    ) -> dict[str, Any]:  # fmt: skip
        deadline = None
        if r.duty is not None:
            deadline = self._calendar(conn).deadline(received, r.duty.time_limit, r.duty.time_unit)
        row: dict[str, Any] = {
            "matter_code": intake.matter, "description": intake.description,
            "channel": intake.channel, "contact_name": intake.contact_name,
            "contact_phone": intake.contact_phone, "contact_email": intake.contact_email,
            "address": intake.address, "grid_code": place.grid_code,
            "community_code": place.community_code, "street_code": place.street_code,
            "county_code": place.county_code, "duty_id": r.duty.id if r.duty else None,
            "owner_kind": r.owner_kind, "owner_code": r.owner_code, "owner_name": r.owner_name,
            "route_note": r.note, "time_limit": r.duty.time_limit if r.duty else None,
            "time_unit": r.duty.time_unit if r.duty else None, "received_at": received,
            "deadline": deadline, "created_by": who, "key_id": caller.key_id,
            "token_hash": hashlib.sha256(token.encode()).hexdigest() if token else None,
        }  # fmt: skip
        if lonlat is not None:
            row["location"] = list(lonlat)
        return row

    def _notices(
        self, chief: int | None, place: Place, r: Route, intake: Intake
    ) -> list[dict[str, Any]]:
        text = intake.description[:60]
        out: list[dict[str, Any]] = []
        if place.grid_code:
            out.append({"recipient": "grid_chief", "person_id": chief, "target": place.grid_code,
                        "message": f"新诉求（{intake.matter}）在{place.name(place.grid_code)}："
                                   f"{text}；承办：{r.owner_name}"})  # fmt: skip
        recipient = "dispatcher" if r.owner_kind == "dispatch" else "owner"
        out.append({"recipient": recipient, "person_id": None,
                    "target": f"{r.owner_kind}:{r.owner_code}",
                    "message": f"请签收诉求（{intake.matter}）：{text}"
                               + (f"；原因：{r.note}" if r.note else "")})  # fmt: skip
        return out

    def _calendar(self, conn: psycopg.Connection[Any]) -> WorkCalendar:
        from gridmap.appeals.calendar import WorkCalendar
        from gridmap.db import duties

        cached: tuple[float, WorkCalendar] | None = self.__dict__.get("_calendar_cache")
        if cached is not None and time.monotonic() - cached[0] < CALENDAR_TTL_S:
            return cached[1]
        cal = WorkCalendar(duties.calendar_overrides(conn))
        self.__dict__["_calendar_cache"] = (time.monotonic(), cal)
        return cal

    # ------------------------------------------------------------------ photos

    def _store_photo(self, conn: psycopg.Connection[Any], appeal_id: int, photo: Any) -> int:
        from gridmap.db import appeals as db

        if self.photo_dir is None:
            return db.add_photo(conn, appeal_id, photo.content_type, photo.size, photo.sha256,
                                photo.data, None)  # fmt: skip
        rel = f"{appeal_id // 1000:06d}/{photo.sha256}{photo.suffix}"
        path = Path(self.photo_dir) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(photo.data)
        tmp.replace(path)
        return db.add_photo(conn, appeal_id, photo.content_type, photo.size, photo.sha256,
                            None, rel)  # fmt: skip

    def add_photo(
        self, appeal_id: int, name: str, data: bytes, caller: Caller, token: str | None = None
    ) -> Appeal:
        """Add a photo to an appeal the caller filed or handles (checked, then stored)."""
        from gridmap.appeals.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, check_photo
        from gridmap.db import appeals as db

        photo = check_photo(data, name, self.photo_max_bytes or MAX_PHOTO_BYTES)
        with self.connection() as conn, conn.transaction():
            row = self._readable(conn, appeal_id, caller, token, lock=True)
            if len(db.photos(conn, appeal_id)) >= MAX_PHOTOS:
                raise InvalidInput(f"appeal {appeal_id} has {MAX_PHOTOS} photos already: "
                                   "no more are accepted", value=appeal_id)  # fmt: skip
            self._store_photo(conn, appeal_id, photo)
            del row
        with self.connection() as conn:
            return self._view(conn, appeal_id, caller, token=token)

    def photo(
        self, appeal_id: int, photo_id: int, caller: Caller, token: str | None = None
    ) -> tuple[str, bytes]:
        """A photo's type and bytes, for a caller who may read the appeal."""
        from gridmap.db import appeals as db

        with self.connection() as conn:
            self._readable(conn, appeal_id, caller, token)
            found = db.photo(conn, appeal_id, photo_id)
        if found is None:
            raise NotFound(f"appeal {appeal_id} has no photo {photo_id}", value=photo_id)
        if found["data"] is not None:
            return found["content_type"], bytes(found["data"])
        if self.photo_dir is None:
            raise NotFound(f"photo {photo_id} is kept in a photo directory this service was "
                           "not given (GRIDMAP_PHOTO_DIR)", value=photo_id)  # fmt: skip
        return found["content_type"], (Path(self.photo_dir) / found["path"]).read_bytes()

    # ------------------------------------------------------------------ reading

    def _readable(
        self, conn: psycopg.Connection[Any], appeal_id: int, caller: Caller,
        token: str | None, *, lock: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        from gridmap.appeals.permissions import may_read
        from gridmap.db import appeals as db

        row = db.get(conn, appeal_id, lock=lock)
        if row is None:
            raise UnknownAppeal(f"no appeal {appeal_id}", value=appeal_id)
        if (
            token is not None
            and row["token_hash"]
            and secrets.compare_digest(
                hashlib.sha256(token.encode()).hexdigest(), row["token_hash"]
            )
        ):
            return row
        if not may_read(caller, _ref(row)):
            raise Forbidden(f"{caller.actor} may not read appeal {appeal_id}: it is neither "
                            "its own nor in its scope (a resident reads an appeal with the "
                            "token given when it was filed)", value=appeal_id)  # fmt: skip
        return row

    def appeal(
        self, appeal_id: int, caller: Caller = ANONYMOUS, *, token: str | None = None
    ) -> Appeal:
        """One appeal with its events and photos, as the caller may see it."""
        with self.connection() as conn:
            self._readable(conn, appeal_id, caller, token)
            return self._view(conn, appeal_id, caller, token=token)

    def _view(
        self, conn: psycopg.Connection[Any], appeal_id: int, caller: Caller, *,
        token: str | None = None, full: bool = False, events: bool = True,
    ) -> Appeal:  # fmt: skip
        from gridmap.db import appeals as db

        row = db.get(conn, appeal_id)
        assert row is not None
        evs = db.events(conn, appeal_id) if events else []
        pics = db.photos(conn, appeal_id) if events else []
        return _appeal(row, caller, evs, pics, own=full or token is not None)

    def appeals(
        self, caller: Caller, *, limit: int = 100, offset: int = 0, **filters: Any
    ) -> AppealPage:
        """The appeals the caller may read, newest first, filtered by ``filters``: ``states``,
        ``matter``, ``matter_prefix``, ``owner_kind``, ``owner_code``, ``division``, ``grid``,
        ``channel``, ``since``, ``until``, ``overdue``, ``ids``."""
        from gridmap.appeals.models import AppealPage
        from gridmap.appeals.permissions import visibility
        from gridmap.db import appeals as db

        if not 1 <= limit <= 1000:
            raise InvalidInput(f"limit {limit}: expected 1-1000", value=limit)
        seen = visibility(caller)
        with self.connection() as conn:
            rows = db.list_appeals(conn, filters, seen, limit=limit, offset=offset)
            total = db.count_appeals(conn, filters, seen)
        items = [_appeal(r, caller, [], [], own=False) for r in rows]
        return AppealPage(total=total, limit=limit, offset=offset, items=items)

    # ------------------------------------------------------------------ the workflow

    def act(
        self, appeal_id: int, action: str, caller: Caller, *, note: str = "",
        to: tuple[str, str] | None = None, satisfaction: str | None = None,
        at: datetime | None = None, actor: str | None = None,
    ) -> Appeal:  # fmt: skip
        """Take a workflow action: checked against the state and the caller's role, and
        written with its event in one transaction (or not at all).

        ``to`` re-routes (``reroute``) to an owner ``(kind, code)``; without it the list is
        asked again. ``satisfaction`` is the callback's answer; an unsatisfied resident
        reopens the appeal with a fresh deadline.
        """
        from gridmap.appeals import permissions, workflow
        from gridmap.db import appeals as db

        note = (note or "").strip()
        if len(note) > 2000:
            raise InvalidInput(f"note of {len(note)} characters: at most 2000", value=len(note))
        if action in ("return", "reject") and not note:
            raise InvalidInput(f"a {action} needs a note saying why", value=action)
        when = at or datetime.now(UTC)
        with self.connection() as conn, conn.transaction():
            row = db.get(conn, appeal_id, lock=True)
            if row is None:
                raise UnknownAppeal(f"no appeal {appeal_id}", value=appeal_id)
            permissions.check(action, caller, _ref(row), appeal_id)
            new = workflow.next_state(row["state"], action, satisfaction)
            changes: dict[str, Any] = {"state": new}
            event: dict[str, Any] = {"actor": actor or caller.actor, "action": action,
                                     "from_state": row["state"], "to_state": new, "note": note,
                                     "at": at}  # fmt: skip
            first = {"sign": "signed_at", "handle": "handled_at", "submit": "submitted_at",
                     "verify": "verified_at"}  # fmt: skip
            if action in first and row[first[action]] is None:
                changes[first[action]] = when
            if action == "return":
                changes.update(self._to_dispatch(conn, row, note))
            elif action == "reroute":
                changes.update(self._reroute(conn, row, to, when))
            if action in ("return", "reroute"):
                event.update(owner_kind=changes["owner_kind"], owner_code=changes["owner_code"],
                             owner_name=changes["owner_name"])  # fmt: skip
            elif action == "callback":
                changes["satisfaction"] = satisfaction
                event["satisfaction"] = satisfaction
                if new == "closed":
                    changes["closed_at"] = when
                else:
                    changes["reopened"] = row["reopened"] + 1
                    if row["time_limit"]:
                        changes["deadline"] = self._calendar(conn).deadline(
                            when, row["time_limit"], row["time_unit"])  # fmt: skip
            db.apply(conn, appeal_id, changes, event)
        with self.connection() as conn:
            return self._view(conn, appeal_id, caller)

    def _to_dispatch(
        self, conn: psycopg.Connection[Any], row: dict[str, Any], note: str
    ) -> dict[str, Any]:
        from gridmap.appeals.routing import dispatch_desk
        from gridmap.db import appeals as db

        place = Place.of(db.place_of(conn, row["street_code"] or row["county_code"] or ""))
        desk = dispatch_desk(place, f"returned by {row['owner_name']}: {note}")
        return {"owner_kind": desk.owner_kind, "owner_code": desk.owner_code,
                "owner_name": desk.owner_name, "route_note": desk.note}  # fmt: skip

    def _reroute(
        self, conn: psycopg.Connection[Any], row: dict[str, Any], to: tuple[str, str] | None,
        when: datetime,
    ) -> dict[str, Any]:  # fmt: skip
        from gridmap.appeals.routing import Duty, Route, route
        from gridmap.db import appeals as db
        from gridmap.db import duties

        place = Place.of(db.place_of(conn, row["grid_code"] or row["community_code"]
                                   or row["street_code"] or row["county_code"] or ""))  # fmt: skip
        if to is None:
            r = route(row["matter_code"], duties.duties_for(conn, row["matter_code"]),
                      duties.bodies(conn), place)  # fmt: skip
            if r.owner_kind == "dispatch":
                raise InvalidInput(f"the responsibility list names no owner here ({r.note}): "
                                   "re-route to a named owner (kind and code)")  # fmt: skip
        else:
            r = self._named_owner(conn, to, place)
            if r.duty is None:
                r = Route(r.owner_kind, r.owner_code, r.owner_name, None)
        limit, unit = row["time_limit"], row["time_unit"]
        if isinstance(r.duty, Duty):
            limit, unit = r.duty.time_limit, r.duty.time_unit
        changes: dict[str, Any] = {"owner_kind": r.owner_kind, "owner_code": r.owner_code,
                                   "owner_name": r.owner_name, "route_note": ""}  # fmt: skip
        if limit:
            changes.update(time_limit=limit, time_unit=unit,
                           deadline=self._calendar(conn).deadline(when, limit, unit))  # fmt: skip
        return changes

    def _named_owner(
        self, conn: psycopg.Connection[Any], to: tuple[str, str], place: Place
    ) -> Route:
        from gridmap.appeals.routing import Route
        from gridmap.db import appeals as db
        from gridmap.db import duties

        kind, code = to
        if kind in ("department", "company"):
            body = next((b for b in duties.bodies(conn) if b.code == code), None)
            if body is None or body.kind != kind:
                raise NotFound(f"no {kind} with code {code!r}", value=code)
            return Route(kind, code, body.name)
        levels = {"grid": 15, "community": 12, "street": 12}
        if kind not in levels:
            raise InvalidInput(f"owner kind {kind!r}: expected grid, community, street, "
                               "department or company", value=kind)  # fmt: skip
        found = db.place_of(conn, code)
        name = found["names"].get(code)
        ok = {"grid": found["grid_code"] == code, "community": found["community_code"] == code,
              "street": found["street_code"] == code}[kind]  # fmt: skip
        if not name or not ok:
            raise NotFound(f"no {kind} with code {code!r}", value=code)
        return Route(kind, code, name)

    # ------------------------------------------------------------------ views

    def dashboard(self, division: str, *, since: datetime | None = None) -> Dashboard:
        """A street's or district's appeals: by light, state and owner; medians; overdue;
        satisfaction."""
        from gridmap.appeals.models import Dashboard
        from gridmap.appeals.workflow import LIGHTS
        from gridmap.db import appeals as db

        with self.connection() as conn:
            names = db.place_of(conn, division)["names"]
            if division not in names:
                raise UnknownDivision(division)
            d = db.dashboard(conn, division, since)
        head = d["head"]
        by_light: dict[str, int] = {}
        for state, n in d["states"].items():
            by_light[LIGHTS[state]] = by_light.get(LIGHTS[state], 0) + n
        sat = d["satisfaction"]
        calls = sum(sat.values())
        good = sat.get("satisfied", 0) + sat.get("basically_satisfied", 0)
        return Dashboard(
            division_code=division, division_name=names[division], since=since,
            total=int(head["total"]), open=int(head["open"]), by_light=by_light,
            by_state=d["states"],
            by_owner=[{k: (int(v) if k in ("open", "overdue", "total") else v)
                       for k, v in r.items()} for r in d["owners"]],
            overdue=int(head["overdue"]),
            median_hours_to_sign=_round(head["sign_h"]),
            median_hours_to_handle=_round(head["handle_h"]),
            median_hours_to_close=_round(head["close_h"]),
            callbacks=calls, satisfaction_rate=round(good / calls, 4) if calls else None,
            by_satisfaction=sat,
        )  # fmt: skip

    def appeal_map_rows(self, division: str, **filters: Any) -> list[dict[str, Any]]:
        """Open appeals under a division with their point, light and owner (for maps)."""
        from gridmap.appeals.workflow import light
        from gridmap.db import appeals as db

        with self.connection() as conn:
            rows = db.map_rows(conn, {**filters, "division": division})
        now = datetime.now(UTC)
        return [{"id": r["id"], "lon": r["lon"], "lat": r["lat"], "state": r["state"],
                 "light": light(r["state"]), "overdue": _overdue(r, now),
                 "matter_code": r["matter_code"], "matter_name": r["matter_name"],
                 "owner_kind": r["owner_kind"], "owner_code": r["owner_code"],
                 "owner_name": r["owner_name"], "grid_code": r["grid_code"],
                 "description": r["description"][:80], "received_at": r["received_at"],
                 "deadline": r["deadline"]} for r in rows]  # fmt: skip

    def building_points(
        self, division: str, *, limit: int = 2000, seed: int = 0
    ) -> list[tuple[float, float]]:
        """Building points under a division, in a repeatable order (for demo appeals)."""
        from gridmap.db import appeals as db

        with self.connection() as conn:
            return db.building_points(conn, division, limit, seed)

    def appeal_grid_counts(self, division: str) -> list[dict[str, Any]]:
        """Open (and overdue) appeals per current grid under a division."""
        from gridmap.db import appeals as db

        with self.connection() as conn:
            if division not in db.place_of(conn, division)["names"]:
                raise UnknownDivision(division)
            return db.grid_counts(conn, division)

    def appeals_csv(self, caller: Caller, sink: Any, **filters: Any) -> int:
        """Write the appeals the caller may read as CSV (UTF-8 with a BOM, for Excel)."""
        import csv

        from gridmap.appeals.permissions import visibility
        from gridmap.db import appeals as db

        seen = visibility(caller)
        cols = ["id", "matter_code", "matter_name", "state", "light", "overdue", "owner_kind",
                "owner_code", "owner_name", "grid_code", "community_code", "street_code",
                "channel", "received_at", "deadline", "signed_at", "handled_at", "closed_at",
                "satisfaction", "reopened", "address", "lon", "lat", "description"]  # fmt: skip
        w = csv.writer(sink, lineterminator="\n")
        sink.write("\ufeff")
        w.writerow(cols)
        n, offset = 0, 0
        with self.connection() as conn:
            while True:
                rows = db.list_appeals(conn, filters, seen, limit=5000, offset=offset,
                                       newest_first=False)  # fmt: skip
                for r in rows:
                    a = _appeal(r, caller, [], [], own=False).model_dump()
                    w.writerow([a.get(c) if c not in ("owner_kind", "owner_code", "owner_name")
                                else a["owner"][c.removeprefix("owner_")] for c in cols])  # fmt: skip
                n += len(rows)
                offset += len(rows)
                if len(rows) < 5000:
                    return n


def _round(v: Any) -> float | None:
    return None if v is None else round(float(v), 2)


def _ref(row: dict[str, Any]) -> Any:
    from gridmap.appeals.workflow import AppealRef

    return AppealRef(row["owner_kind"], row["owner_code"], row["grid_code"],
                     row["community_code"], row["street_code"], row["key_id"])  # fmt: skip


def _overdue(row: dict[str, Any], now: datetime) -> bool:
    from gridmap.appeals.workflow import RUNNING

    return bool(row["deadline"] and row["state"] in RUNNING and row["deadline"] < now)


def _appeal(
    row: dict[str, Any], caller: Caller, events: list[dict[str, Any]],
    photos: list[dict[str, Any]], *, own: bool,
) -> Appeal:  # fmt: skip
    from gridmap.appeals import permissions, workflow
    from gridmap.appeals.models import Appeal, AppealEvent, Owner, PhotoRef
    from gridmap.privacy import shown_phone

    ref = _ref(row)
    handles = caller.role != "public" and permissions.may_read(caller, ref)
    now = datetime.now(UTC)
    allowed: list[str] = [a for a in workflow.allowed_actions(row["state"])
               if caller.key_id is not None or caller.role != "public"
               if permissions.may(a, caller, ref)]  # fmt: skip
    return Appeal(
        id=row["id"], matter_code=row["matter_code"], matter_name=row["matter_name"],
        description=row["description"], channel=row["channel"], state=row["state"],
        light=workflow.light(row["state"]), overdue=_overdue(row, now),
        owner=Owner(kind=row["owner_kind"], code=row["owner_code"], name=row["owner_name"]),
        route_note=row["route_note"], address=row["address"], lon=row["lon"], lat=row["lat"],
        grid_code=row["grid_code"], community_code=row["community_code"],
        street_code=row["street_code"], county_code=row["county_code"],
        time_limit=row["time_limit"], time_unit=row["time_unit"],
        received_at=row["received_at"], deadline=row["deadline"], signed_at=row["signed_at"],
        handled_at=row["handled_at"], closed_at=row["closed_at"], updated_at=row["updated_at"],
        satisfaction=row["satisfaction"], reopened=row["reopened"],
        contact_name=row["contact_name"] if (handles or own) else None,
        contact_phone=shown_phone(row["contact_phone"], handles),
        allowed_actions=allowed, last_note=row["last_note"],
        first_photo_url=(f"/v1/appeals/{row['id']}/photos/{row['first_photo']}"
                         if row["first_photo"] else None),
        photos=[PhotoRef(id=p["id"], content_type=p["content_type"], size=p["size"],
                         url=f"/v1/appeals/{row['id']}/photos/{p['id']}") for p in photos],
        events=[AppealEvent(
            at=e["at"], actor=e["actor"], action=e["action"], from_state=e["from_state"],
            to_state=e["to_state"], note=e["note"], satisfaction=e["satisfaction"],
            owner=Owner(kind=e["owner_kind"], code=e["owner_code"] or "",
                        name=e["owner_name"] or e["owner_code"] or "") if e["owner_kind"] else None,
        ) for e in events],
    )  # fmt: skip
