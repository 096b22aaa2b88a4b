"""Appeals against a real PostGIS: routing to the owner at each level, the workflow with its
history, deadlines, photos, duplicates, dashboards, and nothing half-written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

from gridmap.access import Caller
from gridmap.appeals.calendar import CST
from gridmap.appeals.photos import PhotoRefused
from gridmap.appeals.workflow import TransitionRefused
from gridmap.errors import Forbidden, ImportValidationError, InvalidInput, NotFound
from gridmap.service import Intake
from tests.appeals.lists import BODIES, DUTIES, write_list
from tests.region import CHUNHUA, GRID_A, GRID_B, GRID_C, STREET, XINFA, Region, box, region

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.postgis
__all__ = ["region"]

ADMIN = Caller("admin", name="test admin")
IN_A = (125.305, 43.885)  # inside grid A (新发社区)
IN_C = (125.338, 43.885)  # inside grid C (春华社区)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def listed(region: Region, tmp_path: Path) -> Region:
    region.gm.import_duties(write_list(tmp_path / "list"))
    return region


def file(r: Region, matter: str, at: tuple[float, float] = IN_A, **kw: Any) -> Any:
    appeal, _, _ = r.gm.file_appeal(Intake(matter, kw.pop("text", "有问题"), lon=at[0],
                                           lat=at[1], **kw), kw.pop("caller", ADMIN))  # fmt: skip
    return appeal


def events(db: psycopg.Connection[Any], appeal_id: int) -> list[tuple[str, str]]:
    rows = db.execute("SELECT action, to_state FROM appeal_event WHERE appeal_id = %s"
                      " ORDER BY id", (appeal_id,)).fetchall()  # fmt: skip
    return [(r[0], r[1]) for r in rows]


# ---------------------------------------------------------------------- routing


def test_each_level_s_matter_goes_to_that_level_s_owner(listed: Region) -> None:
    """Grid, community, street (its own entry over the grid default), department, and the
    company serving the place."""
    got = {m: file(listed, m).owner for m in ("civ-cert", "env-ad", "env-trash", "shop-fire",
                                              "util-heat")}  # fmt: skip
    assert (got["civ-cert"].kind, got["civ-cert"].code) == ("community", XINFA)
    assert (got["env-ad"].kind, got["env-ad"].code, got["env-ad"].name) == (
        "street",
        STREET,
        "新发街道",
    )
    assert (got["env-trash"].kind, got["env-trash"].code) == ("street", STREET)
    assert (got["shop-fire"].kind, got["shop-fire"].code) == ("department", "fire")
    assert (got["util-heat"].kind, got["util-heat"].code) == ("company", "heat-east")
    # 春华社区 is not served by 东城热力: the company serving everywhere takes it
    assert file(listed, "util-heat", IN_C).owner.code == "heat-all"


def test_the_grid_owns_a_matter_where_no_division_entry_overrides_it(
    listed: Region, tmp_path: Path
) -> None:
    no_override = DUTIES.replace(
        "street_duty,env-trash,220103001000,street,,,5,days,,街道自管\n", ""
    )
    # a list that does not name the street leaves the street's own entry in force
    listed.gm.import_duties(write_list(tmp_path / "l2", duties=no_override))
    assert file(listed, "env-trash").owner.kind == "street"
    counts, _ = listed.gm.import_duties(write_list(tmp_path / "l3", duties=no_override),
                                        replace_all=True)  # fmt: skip
    assert counts["duties_removed"] == 1
    a = file(listed, "env-trash")
    assert (a.owner.kind, a.owner.code, a.owner.name) == ("grid", GRID_A, "新发社区第一网格")
    assert a.grid_code == GRID_A
    assert a.community_code == XINFA
    assert a.street_code == STREET


def test_an_address_is_resolved_to_its_grid_and_routed(listed: Region) -> None:
    a, _, _ = listed.gm.file_appeal(Intake("civ-cert", "开居住证明",
                                           address="宽城区新发街道明珠花园3栋"))  # fmt: skip
    assert a.grid_code == GRID_A
    assert a.owner.code == XINFA
    assert a.lon == pytest.approx(125.3025)
    assert a.lat == pytest.approx(43.885)


def test_a_point_given_in_gcj02_is_routed_where_it_lies(listed: Region) -> None:
    from gridmap.crs import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(IN_C[0], IN_C[1])
    a = file(listed, "civ-cert", (float(lon), float(lat)), crs="GCJ02")
    assert a.owner.code == CHUNHUA


def test_unresolved_places_and_missing_owners_wait_in_dispatch_with_the_reason(
    listed: Region,
) -> None:
    outside = file(listed, "env-ad", (125.500, 43.500))
    assert outside.owner.kind == "dispatch"
    assert outside.state == "received"
    assert "no grid or community" in outside.route_note
    nobody = file(listed, "noise-night")
    assert (nobody.owner.kind, nobody.owner.code) == ("dispatch", STREET)
    assert "noise-night" in nobody.route_note
    assert nobody.deadline is None
    tie = file(listed, "util-gas")
    assert tie.owner.kind == "dispatch"
    assert "gas-a" in tie.route_note
    lost, _, _ = listed.gm.file_appeal(Intake("env-ad", "小广告", address="火星路99号"))
    assert lost.owner.kind == "dispatch"
    assert "could not be resolved" in lost.route_note


def test_a_point_outside_the_grids_but_in_a_community_is_routed_by_the_community(
    listed: Region,
) -> None:
    listed.conn.execute("UPDATE division SET boundary = ST_GeomFromText(%s, 4490)"
                        " WHERE code = %s", (box(125.343, 43.880, 125.350, 43.890), CHUNHUA))  # fmt: skip
    a = file(listed, "civ-cert", (125.346, 43.885))
    assert a.grid_code is None
    assert (a.owner.kind, a.owner.code) == ("community", CHUNHUA)


def test_the_grid_chief_and_the_owner_are_notified(listed: Region) -> None:
    a = file(listed, "shop-fire", text="门市房堆放液化气罐")
    rows = listed.conn.execute(
        "SELECT n.recipient, p.name, n.target, n.message FROM appeal_notice n"
        " LEFT JOIN person p ON p.id = n.person_id WHERE appeal_id = %s ORDER BY n.id",
        (a.id,)).fetchall()  # fmt: skip
    assert [(r[0], r[1], r[2]) for r in rows] == [("grid_chief", "王网格", GRID_A),
                                                  ("owner", None, "department:fire")]  # fmt: skip
    assert "液化气罐" in rows[0][3]
    assert "区消防救援大队" in rows[0][3]
    # grid B's chief left: the notice is still recorded, with nobody to deliver it to
    b = file(listed, "env-ad", (125.315, 43.885))
    assert listed.conn.execute("SELECT person_id FROM appeal_notice WHERE appeal_id = %s"
                               " AND recipient = 'grid_chief'", (b.id,)).fetchone() == (None,)  # fmt: skip
    assert b.grid_code == GRID_B


# ---------------------------------------------------------------------- deadlines


def test_deadlines_are_counted_in_working_time_from_the_list(listed: Region) -> None:
    fri = datetime(2026, 12, 4, 16, 0, tzinfo=CST)
    ad = file(listed, "env-ad", received_at=fri)  # 2 working days
    assert ad.deadline == datetime(2026, 12, 8, 17, 30, tzinfo=CST)
    fire = file(listed, "shop-fire", received_at=fri)  # 24 working hours of 9 a day
    # 1.5 h on Friday, 9 on Monday and on Tuesday, 4.5 on Wednesday from 08:30
    assert fire.deadline == datetime(2026, 12, 9, 13, 0, tzinfo=CST)
    heat = file(listed, "util-heat", received_at=fri)  # round the clock
    assert heat.deadline == fri + timedelta(hours=24)


def test_a_holiday_in_the_calendar_moves_the_deadline(listed: Region) -> None:
    from datetime import date

    listed.gm.load_calendar([(date(2026, 12, 7), False, "假日"), (date(2026, 12, 8), False, "")])
    ad = file(listed, "env-ad", received_at=datetime(2026, 12, 4, 16, 0, tzinfo=CST))
    assert ad.deadline == datetime(2026, 12, 10, 17, 30, tzinfo=CST)


def test_an_appeal_past_its_deadline_is_overdue_until_it_is_submitted(listed: Region) -> None:
    old = file(listed, "env-ad", received_at=datetime.now(UTC) - timedelta(days=30))
    assert old.overdue
    assert listed.gm.appeals(ADMIN, overdue=True).total == 1
    listed.gm.act(old.id, "sign", ADMIN)
    listed.gm.act(old.id, "handle", ADMIN)
    assert not listed.gm.act(old.id, "submit", ADMIN).overdue
    assert listed.gm.appeals(ADMIN, overdue=True).total == 0


# ---------------------------------------------------------------------- the workflow


def test_the_whole_workflow_is_recorded_with_who_when_and_why(listed: Region) -> None:
    a = file(listed, "env-ad")
    for action in ("sign", "handle", "submit", "verify"):
        a = listed.gm.act(a.id, action, ADMIN, note=f"{action} done")
    assert (a.state, a.light) == ("callback", "orange")
    a = listed.gm.act(a.id, "callback", ADMIN, satisfaction="satisfied", note="居民满意")
    assert (a.state, a.satisfaction) == ("closed", "satisfied")
    assert a.closed_at is not None
    assert [(e.action, e.to_state) for e in a.events] == [
        ("receive", "received"), ("sign", "signed"), ("handle", "handled"),
        ("submit", "verifying"), ("verify", "callback"), ("callback", "closed")]  # fmt: skip
    assert all(e.actor == "test admin" for e in a.events)
    assert [e.at for e in a.events] == sorted(e.at for e in a.events)
    assert a.events[-1].note == "居民满意"
    assert a.events[-1].satisfaction == "satisfied"


def test_an_unsatisfied_callback_reopens_with_a_fresh_deadline(listed: Region) -> None:
    a = file(listed, "env-ad", received_at=datetime.now(UTC) - timedelta(days=20))
    for action in ("sign", "handle", "submit", "verify"):
        a = listed.gm.act(a.id, action, ADMIN)
    old_deadline = a.deadline
    a = listed.gm.act(a.id, "callback", ADMIN, satisfaction="unsatisfied", note="没解决")
    assert (a.state, a.reopened) == ("reopened", 1)
    assert a.deadline is not None
    assert old_deadline is not None
    assert a.deadline > old_deadline
    assert listed.gm.act(a.id, "sign", ADMIN).state == "signed"


def test_a_refused_transition_changes_nothing(listed: Region, db: psycopg.Connection[Any]) -> None:
    a = file(listed, "env-ad")
    with pytest.raises(TransitionRefused, match="from received, only sign, return, reroute"):
        listed.gm.act(a.id, "verify", ADMIN)
    with pytest.raises(InvalidInput, match="needs a note"):
        listed.gm.act(a.id, "return", ADMIN)
    after = listed.gm.appeal(a.id, ADMIN)
    assert after.state == "received"
    assert after.updated_at == a.updated_at
    assert events(db, a.id) == [("receive", "received")]


def test_a_transition_that_fails_in_the_database_is_rolled_back_whole(
    listed: Region, db: psycopg.Connection[Any]
) -> None:
    a = file(listed, "env-ad")
    db.execute("""CREATE FUNCTION refuse_sign() RETURNS trigger LANGUAGE plpgsql AS $$
                  BEGIN IF NEW.action = 'sign' THEN RAISE EXCEPTION 'disk full'; END IF;
                  RETURN NEW; END $$""")  # fmt: skip
    db.execute("CREATE TRIGGER refuse_sign BEFORE INSERT ON appeal_event FOR EACH ROW"
               " EXECUTE FUNCTION refuse_sign()")  # fmt: skip
    with pytest.raises(psycopg.errors.RaiseException):
        listed.gm.act(a.id, "sign", ADMIN)
    row = db.execute("SELECT state, signed_at FROM appeal WHERE id = %s", (a.id,)).fetchone()
    assert row == ("received", None)
    assert events(db, a.id) == [("receive", "received")]


def test_a_returned_appeal_is_rerouted_by_the_dispatcher(listed: Region) -> None:
    a = file(listed, "env-ad")
    a = listed.gm.act(a.id, "return", ADMIN, note="这是物业的事")
    assert (a.state, a.owner.kind, a.owner.code) == ("returned", "dispatch", STREET)
    assert "这是物业的事" in a.route_note
    assert a.owner.name == "新发街道调度台"
    a = listed.gm.act(a.id, "reroute", ADMIN, to=("community", XINFA), note="交社区")
    assert (a.state, a.owner.kind, a.owner.code, a.owner.name) == (
        "received", "community", XINFA, "新发社区")  # fmt: skip
    assert a.events[-1].owner is not None
    assert a.events[-1].owner.name == "新发社区"
    with pytest.raises(NotFound, match="no department with code 'nope'"):
        listed.gm.act(a.id, "reroute", ADMIN, to=("department", "nope"))
    b = listed.gm.act(file(listed, "env-ad").id, "reroute", ADMIN, to=("department", "fire"))
    assert b.owner.name == "区消防救援大队"


def test_roles_decide_who_handles_and_who_dispatches(listed: Region) -> None:
    a = file(listed, "civ-cert")  # owned by 新发社区
    worker = Caller("grid_worker", (XINFA,), key_id=1, name="社区网格员")
    stranger = Caller("grid_worker", (CHUNHUA,), key_id=2, name="春华网格员")
    desk = Caller("dispatcher", (STREET,), key_id=3, name="街道调度")
    with pytest.raises(Forbidden, match="may not sign appeal"):
        listed.gm.act(a.id, "sign", stranger)
    with pytest.raises(Forbidden, match="may not read"):
        listed.gm.appeal(a.id, stranger)
    listed.gm.act(a.id, "sign", worker)
    listed.gm.act(a.id, "handle", worker)
    listed.gm.act(a.id, "submit", worker)
    with pytest.raises(Forbidden):
        listed.gm.act(a.id, "verify", worker)
    seen = listed.gm.act(a.id, "verify", desk)
    assert seen.events[-1].actor == "key 3 (街道调度)"
    assert seen.allowed_actions == ["callback"]
    fire = file(listed, "shop-fire")
    dept = Caller("department", key_id=4, body="fire", name="消防")
    assert listed.gm.appeals(dept).total == 1
    assert listed.gm.act(fire.id, "sign", dept).state == "signed"


def test_a_resident_reads_their_own_appeal_with_the_token_only(listed: Region) -> None:
    a, token, _ = listed.gm.file_appeal(Intake("env-ad", "小广告贴满楼道", lon=IN_A[0],
                                               lat=IN_A[1], contact_name="刘女士",
                                               contact_phone="13912340000"))  # fmt: skip
    assert token
    assert a.contact_name == "刘女士"
    assert a.contact_phone == "139****0000"
    mine = listed.gm.appeal(a.id, token=token)
    assert mine.description == "小广告贴满楼道"
    assert mine.allowed_actions == []
    with pytest.raises(Forbidden):
        listed.gm.appeal(a.id, token="wrong")
    with pytest.raises(Forbidden):
        listed.gm.appeal(a.id)
    # the street's desk sees the phone in full; a planner reads it masked but sees it
    desk = Caller("dispatcher", (STREET,), key_id=3)
    assert listed.gm.appeal(a.id, desk).contact_phone == "13912340000"


# ---------------------------------------------------------------------- photos


def test_photos_are_kept_in_the_database_or_a_directory(listed: Region, tmp_path: Path) -> None:
    a, token, _ = listed.gm.file_appeal(Intake("env-ad", "广告", lon=IN_A[0], lat=IN_A[1],
                                               photos=[("p.png", PNG)]))  # fmt: skip
    assert listed.gm.photo(a.id, a.photos[0].id, ADMIN) == ("image/png", PNG)
    listed.gm.photo_dir = tmp_path / "photos"
    b = listed.gm.add_photo(a.id, "more.png", PNG + b"1", ADMIN)
    assert len(b.photos) == 2
    assert listed.gm.photo(a.id, b.photos[1].id, Caller(), token=token)[1] == PNG + b"1"
    assert len(list((tmp_path / "photos").rglob("*.png"))) == 1


def test_a_bad_photo_refuses_the_whole_appeal(listed: Region, db: psycopg.Connection[Any]) -> None:
    with pytest.raises(PhotoRefused, match=r"'doc\.jpg' is not a JPEG"):
        listed.gm.file_appeal(Intake("env-ad", "广告", lon=IN_A[0], lat=IN_A[1],
                                     photos=[("ok.png", PNG), ("doc.jpg", b"PK\x03\x04zip")]))  # fmt: skip
    listed.gm.photo_max_bytes = 1024
    with pytest.raises(PhotoRefused, match="at most 1,024"):
        listed.gm.file_appeal(Intake("env-ad", "广告", lon=IN_A[0], lat=IN_A[1],
                                     photos=[("big.png", PNG + b"\x00" * 2000)]))  # fmt: skip
    assert db.execute("SELECT count(*) FROM appeal").fetchone() == (0,)


# ---------------------------------------------------------------------- duplicates


def test_open_appeals_of_the_same_matter_nearby_are_suggested(listed: Region) -> None:
    first = file(listed, "env-trash")
    file(listed, "env-ad")  # another matter
    _, _, similar = listed.gm.file_appeal(Intake("env-trash", "又堆了", lon=IN_A[0] + 0.0002,
                                                 lat=IN_A[1]))  # fmt: skip
    assert [s.id for s in similar] == [first.id]
    assert 10 < similar[0].distance_m < 25  # 0.0002° of longitude at 43.9°N is about 16 m
    _, _, far = listed.gm.file_appeal(Intake("env-trash", "远处", lon=IN_A[0] + 0.002,
                                             lat=IN_A[1]))  # fmt: skip
    assert far == []


# ---------------------------------------------------------------------- views


def test_the_dashboard_counts_lights_owners_medians_and_satisfaction(listed: Region) -> None:
    t0 = datetime.now(UTC) - timedelta(days=10)
    ids = [file(listed, "env-ad", received_at=t0).id for _ in range(3)]
    file(listed, "civ-cert", received_at=t0)
    file(listed, "civ-cert", IN_C, received_at=t0 - timedelta(days=30))  # overdue
    for n, i in enumerate(ids):
        listed.gm.act(i, "sign", ADMIN, at=t0 + timedelta(hours=2 * (n + 1)))
    for i in ids[:2]:
        listed.gm.act(i, "handle", ADMIN)
        listed.gm.act(i, "submit", ADMIN)
        listed.gm.act(i, "verify", ADMIN)
    listed.gm.act(ids[0], "callback", ADMIN, satisfaction="satisfied")
    listed.gm.act(ids[1], "callback", ADMIN, satisfaction="unsatisfied")
    d = listed.gm.dashboard(STREET)
    # overdue: the one still signed (2 days) and both certificates (1 day)
    assert (d.total, d.open, d.overdue) == (5, 4, 3)
    assert d.by_light == {"new": 2, "yellow": 2, "closed": 1}
    assert d.median_hours_to_sign == pytest.approx(4.0, abs=0.01)
    assert d.callbacks == 2
    assert d.satisfaction_rate == 0.5
    owners = {o["code"]: (o["open"], o["total"]) for o in d.by_owner}
    assert owners == {STREET: (2, 3), XINFA: (1, 1), CHUNHUA: (1, 1)}
    county = listed.gm.dashboard("220103000000")
    assert county.total == 5
    assert listed.gm.dashboard(XINFA).total == 4
    with pytest.raises(NotFound):
        listed.gm.dashboard("220103009000")


def test_lists_filter_and_the_csv_holds_every_row(listed: Region) -> None:
    import io

    for _ in range(3):
        file(listed, "env-ad")
    file(listed, "civ-cert", IN_C)
    assert listed.gm.appeals(ADMIN, matter_prefix="env").total == 3
    assert listed.gm.appeals(ADMIN, grid=GRID_C).total == 1
    assert listed.gm.appeals(ADMIN, division=CHUNHUA).total == 1
    assert listed.gm.appeals(ADMIN, owner_kind="street", owner_code=STREET).total == 3
    assert listed.gm.appeals(ADMIN, states=["closed"]).total == 0
    page = listed.gm.appeals(ADMIN, limit=2, offset=2)
    assert (page.total, len(page.items)) == (4, 2)
    buf = io.StringIO()
    assert listed.gm.appeals_csv(ADMIN, buf) == 4
    lines = buf.getvalue().lstrip("\ufeff").splitlines()
    assert lines[0].startswith("id,matter_code")
    assert len(lines) == 5
    assert listed.gm.appeals(Caller(key_id=99)).total == 0


def test_appeals_import_is_all_or_nothing(listed: Region, db: psycopg.Connection[Any]) -> None:
    good = Intake("env-ad", "广告", lon=IN_A[0], lat=IN_A[1])
    bad = Intake("no-such-matter", "?", lon=IN_A[0], lat=IN_A[1])
    with pytest.raises(ImportValidationError, match=r"appeals row 2.*no-such-matter"):
        listed.gm.import_appeals([good, bad])
    assert db.execute("SELECT count(*) FROM appeal").fetchone() == (0,)
    assert len(listed.gm.import_appeals([good, good])) == 2


def test_duties_at_a_place_name_the_owner_and_the_entry(listed: Region) -> None:
    rows = {r.matter_code: r for r in listed.gm.duties_at(XINFA)}
    assert rows["env-trash"].owner is not None
    assert rows["env-trash"].owner.code == STREET
    assert rows["env-trash"].entry_division == STREET
    assert rows["util-heat"].owner is not None
    assert rows["util-heat"].owner.code == "heat-east"
    assert rows["util-gas"].owner is None
    assert "gas-a" in rows["util-gas"].note
    at_grid = {r.matter_code: r for r in listed.gm.duties_at(GRID_C, "util-heat")}
    assert at_grid["util-heat"].owner is not None
    assert at_grid["util-heat"].owner.code == "heat-all"
    with pytest.raises(NotFound, match="'nope'"):
        listed.gm.duties_at(XINFA, "nope")
    with pytest.raises(NotFound, match="220199001001"):
        listed.gm.duties_at("220199001001")
    assert "heat-east" in BODIES
