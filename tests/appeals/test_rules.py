"""The pure rules of appeals: the workflow, working-time deadlines, routing and permissions."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta

import pytest

from gridmap.access import Caller
from gridmap.appeals import permissions
from gridmap.appeals.calendar import CST, WorkCalendar
from gridmap.appeals.photos import PhotoRefused, check_photo
from gridmap.appeals.routing import Body, Duty, Place, ancestry, route
from gridmap.appeals.workflow import (
    ACTIONS,
    STATES,
    AppealRef,
    TransitionRefused,
    allowed_actions,
    light,
    next_state,
    open311_status,
)
from gridmap.errors import Forbidden, InvalidInput

# ---------------------------------------------------------------------- workflow

LIFECYCLE = [("sign", "signed"), ("handle", "handled"), ("submit", "verifying"),
             ("verify", "callback")]  # fmt: skip


def test_the_documented_lifecycle_runs_from_received_to_closed() -> None:
    state = "received"
    lights = [light(state)]
    for action, expected in LIFECYCLE:
        state = next_state(state, action)
        assert state == expected
        lights.append(light(state))
    assert next_state(state, "callback", "basically_satisfied") == "closed"
    # the platform's lights: yellow while handled, green awaiting verification, orange
    # awaiting the callback
    assert lights == ["new", "yellow", "yellow", "green", "orange"]


def test_unsatisfied_callback_reopens_and_the_owner_signs_again() -> None:
    assert next_state("callback", "callback", "unsatisfied") == "reopened"
    assert next_state("reopened", "sign") == "signed"
    assert light("reopened") == "yellow"


def test_return_and_reroute_send_an_appeal_back_through_dispatch() -> None:
    for start in ("received", "signed", "reopened"):
        assert next_state(start, "return") == "returned"
    assert next_state("returned", "reroute") == "received"
    assert next_state("verifying", "reject") == "signed"


@pytest.mark.parametrize("state", STATES)
def test_every_action_not_allowed_from_a_state_is_refused_naming_what_is(state: str) -> None:
    allowed = allowed_actions(state)
    for action in ACTIONS:
        if action in allowed:
            continue
        with pytest.raises(TransitionRefused) as exc:
            next_state(state, action, "satisfied")
        assert state in str(exc.value)
        for a in allowed:
            assert a in str(exc.value)


def test_a_closed_appeal_allows_nothing_and_only_closed_is_closed_for_open311() -> None:
    assert allowed_actions("closed") == []
    assert [s for s in STATES if open311_status(s) == "closed"] == ["closed"]


def test_bad_action_state_and_satisfaction_are_named() -> None:
    with pytest.raises(InvalidInput, match="'approve'"):
        next_state("received", "approve")
    with pytest.raises(InvalidInput, match="'done'"):
        light("done")
    with pytest.raises(InvalidInput, match="'ok'"):
        next_state("callback", "callback", "ok")


def test_a_refusal_says_what_the_state_allows_and_carries_it_for_machines() -> None:
    with pytest.raises(TransitionRefused) as exc:
        next_state("received", "handle")
    assert str(exc.value) == (
        "an appeal that is received cannot be handled: from received, only sign, return, reroute"
    )
    assert exc.value.details == {
        "value": "handle", "state": "received", "allowed": ["sign", "return", "reroute"],
    }  # fmt: skip
    with pytest.raises(TransitionRefused) as exc:
        next_state("closed", "reroute")
    assert exc.value.details == {"value": "reroute", "state": "closed", "allowed": []}


@pytest.mark.parametrize(
    ("state", "action", "satisfaction", "message", "value"),
    [
        ("received", "approve", None,
         "action 'approve': expected one of sign, return, reroute, handle, submit, reject, "
         "verify, callback", "approve"),
        ("done", "sign", None,
         "appeal state 'done': expected one of received, signed, handled, verifying, callback, "
         "closed, returned, reopened", "done"),
        ("callback", "callback", "ok",
         "satisfaction 'ok': expected one of satisfied, basically_satisfied, unsatisfied", "ok"),
        ("callback", "callback", None,
         "satisfaction None: expected one of satisfied, basically_satisfied, unsatisfied", None),
    ],
)  # fmt: skip
def test_a_bad_value_is_named_with_what_was_expected(
    state: str, action: str, satisfaction: str | None, message: str, value: str | None
) -> None:
    with pytest.raises(InvalidInput) as exc:
        next_state(state, action, satisfaction)
    assert not isinstance(exc.value, TransitionRefused)
    assert str(exc.value) == message
    assert exc.value.details == {"value": value}


# ---------------------------------------------------------------------- calendar

FRI = datetime(2026, 12, 4, 16, 0, tzinfo=CST)


def test_working_days_skip_the_weekend_and_start_the_day_after() -> None:
    cal = WorkCalendar()
    assert cal.deadline(FRI, 1, "days") == datetime(2026, 12, 7, 17, 30, tzinfo=CST)
    assert cal.deadline(FRI, 5, "days") == datetime(2026, 12, 11, 17, 30, tzinfo=CST)
    sat = datetime(2026, 12, 5, 9, 0, tzinfo=CST)
    assert cal.deadline(sat, 1, "days").date() == date(2026, 12, 7)


def test_working_hours_stop_at_closing_and_resume_after_the_weekend() -> None:
    cal = WorkCalendar()
    # 1.5 h left on Friday, 2.5 h on Monday morning
    assert cal.deadline(FRI, 4, "hours") == datetime(2026, 12, 7, 11, 0, tzinfo=CST)
    night = datetime(2026, 12, 7, 22, 0, tzinfo=CST)
    assert cal.deadline(night, 1, "hours") == datetime(2026, 12, 8, 9, 30, tzinfo=CST)
    early = datetime(2026, 12, 8, 6, 0, tzinfo=CST)
    assert cal.deadline(early, 9, "hours") == datetime(2026, 12, 8, 17, 30, tzinfo=CST)


def test_clock_hours_run_through_the_weekend() -> None:
    assert WorkCalendar().deadline(FRI, 2, "clock_hours") == FRI + timedelta(hours=2)


def test_holidays_and_worked_weekend_days_override_the_week() -> None:
    # a Monday holiday, and the Saturday before it worked in exchange
    cal = WorkCalendar({date(2026, 12, 7): False, date(2026, 12, 5): True})
    assert cal.deadline(FRI, 1, "days").date() == date(2026, 12, 5)
    assert cal.deadline(FRI, 2, "days").date() == date(2026, 12, 8)


def test_a_deadline_from_another_time_zone_is_the_same_moment() -> None:
    utc = FRI.astimezone(datetime.now().astimezone().tzinfo)
    assert WorkCalendar().deadline(utc, 1, "days") == WorkCalendar().deadline(FRI, 1, "days")


def test_bad_limits_and_units_are_named() -> None:
    cal = WorkCalendar()
    with pytest.raises(InvalidInput, match="'weeks'"):
        cal.deadline(FRI, 1, "weeks")
    with pytest.raises(InvalidInput, match="0"):
        cal.deadline(FRI, 0, "days")
    with pytest.raises(InvalidInput, match="time zone"):
        cal.deadline(datetime(2026, 12, 4, 9), 1, "days")


def test_a_bad_limit_or_unit_is_carried_for_machines() -> None:
    cal = WorkCalendar()
    with pytest.raises(InvalidInput) as exc:
        cal.deadline(FRI, 1, "weeks")
    assert str(exc.value) == "time unit 'weeks': expected one of hours, days, clock_hours"
    assert exc.value.details == {"value": "weeks"}
    for limit in (0, -1, True, 1.5, "3"):
        with pytest.raises(InvalidInput) as exc:
            cal.deadline(FRI, limit, "days")  # type: ignore[arg-type]
        assert str(exc.value) == f"time limit {limit!r}: expected a whole number above 0"
        assert exc.value.details == {"value": limit}


@pytest.mark.parametrize(("opens", "closes"), [(time(9), time(9)), (time(18), time(9))])
def test_working_hours_must_close_after_they_open(opens: time, closes: time) -> None:
    with pytest.raises(InvalidInput) as exc:
        WorkCalendar(opens=opens, closes=closes)
    assert str(exc.value) == f"working hours {opens}-{closes}: closing must be after opening"


def test_the_next_working_day_is_looked_for_sixty_days_ahead() -> None:
    def off_for(days: int) -> WorkCalendar:
        off = {date(2026, 12, 4) + timedelta(days=n): False for n in range(1, days + 1)}
        return WorkCalendar({**off, date(2026, 12, 4) + timedelta(days=days + 1): True})

    assert off_for(59).deadline(FRI, 1, "days").date() == date(2026, 12, 4) + timedelta(days=60)
    with pytest.raises(InvalidInput, match="no working day in the 60 days after 2026-12-04"):
        off_for(60).deadline(FRI, 1, "days")


def test_a_calendar_with_no_working_day_says_so() -> None:
    off = {date(2026, 12, 4) + timedelta(days=n): False for n in range(1, 90)}
    with pytest.raises(InvalidInput, match="no working day"):
        WorkCalendar(off).deadline(FRI, 1, "days")


# ---------------------------------------------------------------------- routing

GRID, COMM, STREET, COUNTY = "220104002003001", "220104002003", "220104002000", "220104000000"
HERE = Place(GRID, COMM, STREET, COUNTY, {GRID: "三网格", COMM: "和平社区", STREET: "和平街道"})


def duty(n: int, matter: str, owner: str, division: str | None = None, body: str | None = None,
         service: str = "") -> Duty:  # fmt: skip
    return Duty(n, "street_duty", matter, division, owner, body, service, 3, "days")


def test_the_owner_at_each_level_is_the_place_s_own() -> None:
    for owner, code, name in (("grid", GRID, "三网格"), ("community", COMM, "和平社区"),
                              ("street", STREET, "和平街道")):  # fmt: skip
        r = route("m", [duty(1, "m", owner)], [], HERE)
        assert (r.owner_kind, r.owner_code, r.owner_name) == (owner, code, name)


def test_the_most_specific_entry_wins_and_others_places_entries_are_ignored() -> None:
    duties = [duty(1, "m", "grid"), duty(2, "m", "street", COUNTY),
              duty(3, "m", "community", "220104009000")]  # fmt: skip
    assert route("m", duties, [], HERE).duty.id == 2  # type: ignore[union-attr]
    duties.append(duty(4, "m", "grid", STREET))
    assert route("m", duties, [], HERE).duty.id == 4  # type: ignore[union-attr]


def test_a_department_is_named_and_a_company_is_chosen_by_the_place_it_serves() -> None:
    bodies = [Body("fire", "消防大队", "department"),
              Body("h1", "南热力", "company", "heating", serves=("220104002000",)),
              Body("h2", "城热力", "company", "heating", serves=("220100000000",))]  # fmt: skip
    r = route("fire", [duty(1, "fire", "department", body="fire")], bodies, HERE)
    assert (r.owner_kind, r.owner_code) == ("department", "fire")
    heat = [duty(2, "heat", "company", service="heating")]
    assert route("heat", heat, bodies, HERE).owner_code == "h1"
    elsewhere = Place(None, "220104005001", "220104005000", COUNTY)
    assert route("heat", heat, bodies, elsewhere).owner_code == "h2"


def test_no_owner_goes_to_the_street_dispatch_queue_with_the_reason() -> None:
    r = route("none", [duty(1, "m", "grid")], [], HERE)
    assert (r.owner_kind, r.owner_code) == ("dispatch", STREET)
    assert "none" in r.note
    tie = [Body("g1", "甲", "company", "gas"), Body("g2", "乙", "company", "gas")]
    r = route("gas", [duty(2, "gas", "company", service="gas")], tie, HERE)
    assert r.owner_kind == "dispatch"
    assert "g1" in r.note
    assert "g2" in r.note
    outside = Place(None, COMM, STREET, COUNTY)
    r = route("m", [duty(1, "m", "grid")], [], outside)
    assert r.owner_kind == "dispatch"
    assert "no known grid" in r.note
    assert route("m", [duty(1, "m", "grid")], [], Place(None, None, None, None)).owner_code == ""


def test_ancestry_reaches_the_city_and_province_from_any_known_level() -> None:
    assert ancestry(Place(None, None, STREET, None))[-2:] == ["220100000000", "220000000000"]
    # a village (2xx) of a town (1xx) of 安图县 in 延边州: every digit group counts
    assert ancestry(Place(None, "222426102203", None, None)) == [
        "222426102203", "222426102000", "222426000000", "222400000000", "220000000000",
    ]  # fmt: skip
    assert ancestry(Place(None, None, None, None)) == []


def test_a_place_is_named_by_its_recorded_names_else_its_code() -> None:
    assert (HERE.name(STREET), HERE.name(COUNTY), HERE.name(None), HERE.name("")) == (
        "和平街道", COUNTY, "", "",
    )  # fmt: skip
    unnamed = Place(GRID, COMM, STREET, COUNTY)
    r = route("m", [duty(1, "m", "grid")], [], unnamed)
    assert (r.owner_code, r.owner_name) == (GRID, GRID)


def test_a_named_department_or_the_chosen_company_owns_it_with_its_duty() -> None:
    bodies = [Body("fire", "消防大队", "department"),
              Body("g1", "燃气公司", "company", "gas"),
              Body("h1", "南热力", "company", "heating")]  # fmt: skip
    fire = duty(1, "fire", "department", body="fire")
    r = route("fire", [fire], bodies, HERE)
    assert (r.owner_kind, r.owner_code, r.owner_name, r.duty) == ("department", "fire", "消防大队",
                                                                  fire)  # fmt: skip
    # a company of another service listed first does not stop the search
    heat = duty(2, "heat", "company", service="heating")
    r = route("heat", [heat], bodies, HERE)
    assert (r.owner_kind, r.owner_code, r.owner_name, r.duty) == ("company", "h1", "南热力", heat)


def test_dispatch_keeps_the_duty_that_could_not_be_followed() -> None:
    unknown = duty(1, "m", "department", body="police")
    r = route("m", [unknown], [], HERE)
    assert (r.owner_kind, r.owner_code, r.duty) == ("dispatch", STREET, unknown)
    assert r.note == "the list names police, which is not a known department or company"
    gas = duty(2, "gas", "company", service="gas")
    r = route("gas", [gas], [], HERE)
    assert (r.duty, r.note) == (gas, "no company running gas is recorded for this place")
    tie = [Body("g1", "甲", "company", "gas"), Body("g2", "乙", "company", "gas")]
    r = route("gas", [gas], tie, HERE)
    assert (r.duty, r.note) == (gas, "several companies run gas here (g1, g2)")
    grid = duty(3, "m", "grid")
    r = route("m", [grid], [], Place(None, COMM, STREET, COUNTY))
    assert r.duty == grid
    assert r.note == "matter m is owned by the grid, but the location lies in no known grid"
    assert route("x", [grid], [], HERE).duty is None


def test_the_dispatch_desk_is_named_after_its_street_or_district() -> None:
    none = [duty(1, "m", "grid")]
    assert route("x", none, [], HERE).owner_name == "和平街道调度台"
    r = route("x", none, [], Place(None, None, STREET, COUNTY))
    assert (r.owner_code, r.owner_name) == (STREET, f"{STREET}调度台")
    r = route("x", none, [], Place(None, None, None, COUNTY, {COUNTY: "南关区"}))
    assert (r.owner_code, r.owner_name) == (COUNTY, "南关区调度台")
    r = route("x", none, [], Place(None, None, None, None))
    assert (r.owner_code, r.owner_name) == ("", "调度台")


# ---------------------------------------------------------------------- permissions

REF = AppealRef("grid", GRID, GRID, COMM, STREET, key_id=7)


def test_owners_handle_dispatchers_dispatch_and_nobody_else_acts() -> None:
    worker = Caller("grid_worker", (COMM,), key_id=1)
    other = Caller("grid_worker", ("220104002004",), key_id=2)
    desk = Caller("dispatcher", (STREET,), key_id=3)
    dept = Caller("department", key_id=4, body="fire")
    planner = Caller("planner", key_id=5)
    for action in ("sign", "return", "handle", "submit"):
        assert permissions.may(action, worker, REF)
        assert not permissions.may(action, other, REF)
        assert not permissions.may(action, dept, REF)
        assert not permissions.may(action, planner, REF)
    for action in ("reroute", "reject", "verify", "callback"):
        assert permissions.may(action, desk, REF)
        assert not permissions.may(action, worker, REF)
    fire = AppealRef("department", "fire", GRID, COMM, STREET)
    assert permissions.may("sign", dept, fire)
    assert not permissions.may("sign", Caller("department", key_id=6, body="heat"), fire)
    with pytest.raises(Forbidden, match="only its owner"):
        permissions.check("sign", other, REF, 12)


def test_an_admin_may_do_everything_and_an_unknown_action_is_named() -> None:
    admin = Caller("admin", key_id=9)
    assert all(permissions.may(action, admin, REF) for action in ACTIONS)
    with pytest.raises(InvalidInput) as exc:
        permissions.may("approve", admin, REF)
    assert str(exc.value) == ("action 'approve': expected one of sign, return, reroute, handle, "
                              "submit, reject, verify, callback")  # fmt: skip
    assert exc.value.details == {"value": "approve"}


def test_owners_of_every_kind_handle_their_own_appeals() -> None:
    worker = Caller("grid_worker", (COMM,), key_id=1)
    community = AppealRef("community", COMM, None, COMM, STREET)
    assert permissions.may("handle", worker, community)
    assert not permissions.may("handle", Caller("grid_worker", ("220104002004",)), community)
    company = AppealRef("company", "h1", GRID, COMM, STREET)
    assert permissions.may("sign", Caller("department", key_id=4, body="h1"), company)
    assert not permissions.may("sign", Caller("department", key_id=4, body="fire"), company)


def test_a_dispatcher_handles_its_street_s_own_and_its_queue_but_not_a_grid_s() -> None:
    desk = Caller("dispatcher", (STREET,), key_id=3)
    elsewhere = Caller("dispatcher", ("220104005000",), key_id=4)
    street = AppealRef("street", STREET, GRID, COMM, STREET)
    queue = AppealRef("dispatch", STREET, None, None, None)
    for ref in (street, queue):
        assert permissions.may("sign", desk, ref)
        assert permissions.may("handle", desk, ref)
        assert not permissions.may("handle", elsewhere, ref)
    assert not permissions.may("handle", desk, REF)
    assert not permissions.may("sign", desk, AppealRef("dispatch", "", None, None, None))


def test_a_refusal_names_who_may_act_instead() -> None:
    worker = Caller("grid_worker", (COMM,), key_id=1, name="张网格")
    with pytest.raises(Forbidden) as exc:
        permissions.check("verify", worker, REF, 12)
    assert str(exc.value) == (
        "key 1 (张网格) (grid_worker) may not verify appeal 12: only the street's dispatch desk "
        f"(grid {GRID}) or an admin may"
    )
    assert exc.value.details == {"value": "verify"}
    with pytest.raises(Forbidden, match=r"only its owner \(dispatch -\) or an admin"):
        permissions.check("sign", worker, AppealRef("dispatch", ""), 13)
    permissions.check("sign", worker, REF, 12)


def test_reading_follows_scope_body_and_who_filed_it() -> None:
    assert permissions.may_read(Caller("public", key_id=7), REF)
    assert not permissions.may_read(Caller("public", key_id=8), REF)
    assert not permissions.may_read(Caller(), REF)
    assert permissions.may_read(Caller("dispatcher", ("220104000000",), key_id=3), REF)
    assert not permissions.may_read(Caller("dispatcher", ("220105000000",), key_id=3), REF)
    assert permissions.may_read(Caller("planner"), REF)
    queue = AppealRef("dispatch", STREET, None, None, None)
    assert permissions.may_read(Caller("dispatcher", (STREET,), key_id=3), queue)
    assert not permissions.may_read(Caller("grid_worker", (COMM,), key_id=1), queue)


def test_grid_workers_read_the_appeals_of_their_grids_and_communities() -> None:
    assert permissions.may_read(Caller("grid_worker", (COMM,), key_id=1), REF)
    assert permissions.may_read(Caller("grid_worker", (GRID,), key_id=1), REF)
    assert not permissions.may_read(Caller("grid_worker", ("220104002003002",), key_id=1), REF)
    no_grid = AppealRef("community", COMM, None, COMM, STREET)
    assert permissions.may_read(Caller("grid_worker", (COMM,), key_id=1), no_grid)
    assert not permissions.may_read(Caller("grid_worker", ("220104002004",), key_id=1), no_grid)


def test_a_department_reads_what_its_body_owns_and_nothing_by_scope() -> None:
    fire = AppealRef("department", "fire", GRID, COMM, STREET)
    heat = AppealRef("company", "h1", GRID, COMM, STREET)
    assert permissions.may_read(Caller("department", key_id=4, body="fire"), fire)
    assert permissions.may_read(Caller("department", key_id=4, body="h1"), heat)
    assert not permissions.may_read(Caller("department", key_id=4, body="h1"), fire)
    assert not permissions.may_read(Caller("department", (COMM,), key_id=4, body="fire"), REF)
    # a body code may be any word, digits too: it is never taken for a place
    numeric = AppealRef("department", STREET, None, None, None)
    assert not permissions.may_read(Caller("dispatcher", (STREET,), key_id=3), numeric)
    assert not permissions.may_read(Caller("department", key_id=4, body=GRID), REF)
    # only department keys read by their body
    assert not permissions.may_read(Caller("public", key_id=8, body="fire"), fire)
    assert not permissions.may_read(Caller("public", (COMM,), key_id=8), REF)


# ---------------------------------------------------------------------- photos

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64


def test_a_refused_photo_s_first_bytes_are_shown_escaped_once() -> None:
    with pytest.raises(PhotoRefused) as exc:
        check_photo(b"\x01\x02BM", "x.bmp")
    assert "read '\\x01\\x02BM'" in str(exc.value)


def test_photos_are_typed_by_their_bytes_and_bounded_in_size() -> None:
    assert check_photo(PNG).content_type == "image/png"
    assert check_photo(JPEG, "a.png").content_type == "image/jpeg"
    with pytest.raises(PhotoRefused, match=r"'scan\.jpg' is not a JPEG"):
        check_photo(b"%PDF-1.4 fake", "scan.jpg")
    with pytest.raises(PhotoRefused, match=r"'big\.png' is 172 bytes: at most 100"):
        check_photo(PNG + b"\x00" * 100, "big.png", max_bytes=100)
    with pytest.raises(PhotoRefused, match="empty"):
        check_photo(b"", "none.png")


def test_a_photo_keeps_its_bytes_and_their_digest() -> None:
    photo = check_photo(PNG, "a.png")
    assert (photo.data, photo.size, photo.suffix) == (PNG, len(PNG), ".png")
    assert photo.sha256 == hashlib.sha256(PNG).hexdigest()
    assert check_photo(JPEG).suffix == ".jpg"


def test_a_webp_is_a_riff_file_of_the_webp_kind() -> None:
    photo = check_photo(WEBP, "a.webp")
    assert (photo.content_type, photo.suffix) == ("image/webp", ".webp")
    for other in (b"RIFF\x24\x00\x00\x00AVI LIST" + b"\x00" * 16,  # a video
                  b"RIFX\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 16,
                  b"RIFF\x24\x00\x00\x00webpVP8 " + b"\x00" * 16):  # fmt: skip
        with pytest.raises(PhotoRefused, match="is not a JPEG, PNG or WebP image"):
            check_photo(other)


def test_a_photo_of_exactly_the_limit_is_accepted() -> None:
    assert check_photo(PNG, max_bytes=len(PNG)).size == len(PNG)
    with pytest.raises(PhotoRefused, match=f"is {len(PNG) + 1} bytes"):
        check_photo(PNG + b"\x00", max_bytes=len(PNG))


def test_refused_photos_are_named_and_carry_the_sizes_for_machines() -> None:
    with pytest.raises(PhotoRefused) as exc:
        check_photo(b"")
    assert (str(exc.value), exc.value.details) == ("photo 'photo' is empty", {"value": "photo"})
    with pytest.raises(PhotoRefused) as exc:
        check_photo(PNG + b"\x00" * 100, "big.png", max_bytes=100)
    assert exc.value.details == {"value": "big.png", "size": 172, "limit": 100}
    with pytest.raises(PhotoRefused) as exc:
        check_photo(b"GIF89a;;" + b"\x00" * 8, "a.gif")
    assert str(exc.value) == (
        "photo 'a.gif' is not a JPEG, PNG or WebP image (its first bytes read 'GIF89a;;')"
    )
    assert exc.value.details == {"value": "a.gif"}
