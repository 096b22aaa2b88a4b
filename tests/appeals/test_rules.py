"""The pure rules of appeals: the workflow, working-time deadlines, routing and permissions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

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


# ---------------------------------------------------------------------- photos

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def test_photos_are_typed_by_their_bytes_and_bounded_in_size() -> None:
    assert check_photo(PNG).content_type == "image/png"
    assert check_photo(JPEG, "a.png").content_type == "image/jpeg"
    with pytest.raises(PhotoRefused, match=r"'scan\.jpg' is not a JPEG"):
        check_photo(b"%PDF-1.4 fake", "scan.jpg")
    with pytest.raises(PhotoRefused, match=r"'big\.png' is 172 bytes: at most 100"):
        check_photo(PNG + b"\x00" * 100, "big.png", max_bytes=100)
    with pytest.raises(PhotoRefused, match="empty"):
        check_photo(b"", "none.png")
