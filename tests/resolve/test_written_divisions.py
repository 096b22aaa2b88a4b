"""The consistency rule: every division written in an address must contain its answer.

On the hand-made golden region (南关区 and 朝阳区 of 长春市 only), addresses that name a
place the database does not hold (another district, 吉林市's districts, a county-level city,
another province, a name nobody knows) are answered ``not_found`` with a reason naming it,
never with the same-named compound we do hold. A hypothesis invariant shuffles real
division names of Jilin into generated addresses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridmap.address.gazetteer import DivisionRecord, Gazetteer
from gridmap.address.world import PROVINCES, known_divisions
from gridmap.service import Gridmap
from tests.region import Region, box, region
from tests.resolve.golden.region import BUILDINGS, golden_region

if TYPE_CHECKING:
    import psycopg

pytestmark = pytest.mark.postgis
__all__ = ["region"]

HELD_COUNTIES = ("220102", "220104")  # 南关区, 朝阳区
#: real divisions of Jilin the golden region does not hold (no village: too many share names)
FOREIGN = sorted(
    (r.name, r.code)
    for r in known_divisions()
    if r.level in ("city", "county", "township")
    and r.code.startswith("22")
    and not r.code.startswith(HELD_COUNTIES)
    and r.name not in {"长春市"}
)


@pytest.fixture
def gm(db: psycopg.Connection[Any]) -> Gridmap:
    g = Gridmap(db)
    g.import_data(golden_region())
    return g


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("长春市宽城区南岭花园1栋2单元", "宽城区"),  # another district of 长春市
        ("吉林市昌邑区南岭花园1栋2单元", "吉林市"),  # a city named like its province
        ("吉林省吉林市昌邑区南岭花园1栋", "吉林市"),
        ("榆树市南岭花园1栋2单元", "榆树市"),  # a county-level city
        ("辽宁省沈阳市南岭花园1栋", "辽宁省"),  # another province
        ("长春市南关区自强街道南岭花园1栋2单元", "自强街道"),  # another street of 南关区
        ("浙江省杭州市西湖区幸福小区1栋", "浙江省"),
        ("长春市绿园区 幸福小区 3栋", "绿园区"),
    ],
)
def test_a_written_division_we_do_not_hold_is_outside_coverage(
    gm: Gridmap, text: str, written: str
) -> None:
    res = gm.resolve_address(text)
    assert res.status == "not_found", res
    assert res.grid is None
    assert res.reason == "outside_coverage"
    assert res.message is not None
    assert written in res.message


def test_a_name_nobody_knows_written_as_a_county_is_not_answered(gm: Gridmap) -> None:
    res = gm.resolve_address("长春市莫须有区南岭花园1栋2单元")
    assert res.status == "not_found"
    assert res.reason == "unknown_division"
    assert res.message is not None
    assert "莫须有区" in res.message


def test_held_divisions_still_resolve(gm: Gridmap) -> None:
    res = gm.resolve_address("吉林省长春市南关区南岭街道南岭花园1栋2单元")
    assert res.status == "ok"
    assert res.grid is not None
    assert res.grid.code == "220102003001001"
    assert res.reason is None


def test_the_world_knows_jilin_and_china() -> None:
    known = {r.code: r for r in known_divisions()}
    assert sum(r.level == "county" for r in known.values()) == 68
    assert sum(r.level == "township" for r in known.values()) >= 1000
    assert len([c for c in known if c.endswith("0000000000")]) == len(PROVINCES) == 34
    gaz = Gazetteer.from_records(
        [DivisionRecord("220000000000", "吉林省", "province", None)], known_divisions()
    )
    assert gaz.world is not None
    assert gaz.world.holds("220000000000")
    assert not gaz.world.holds("220182000000")
    assert gaz.world.get("220182000000") is not None


_ADDRESS_TAILS = [
    f"{b.compound}{b.building_no}栋" for b in BUILDINGS if getattr(b, "compound", None)
][:12] or ["南岭花园1栋"]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    foreign=st.sampled_from(FOREIGN),
    tail=st.sampled_from(_ADDRESS_TAILS),
    lead=st.sampled_from(["", "吉林省", "长春市", "吉林省长春市"]),
    sep=st.sampled_from(["", " "]),
)
def test_a_foreign_division_is_never_answered_confidently(
    gm: Gridmap, foreign: tuple[str, str], tail: str, lead: str, sep: str
) -> None:
    name, code = foreign
    if not code.startswith("2201") and lead.endswith("长春市"):
        lead = lead.removesuffix("长春市")  # 长春市吉林市… is no address anyone writes
    res = gm.resolve_address(f"{lead}{sep}{name}{sep}{tail}")
    assert res.grid is None, (name, code, res)
    assert res.status != "ok"


# ------------------------------------------------------------------ classes beyond the sample


@pytest.fixture
def rural(region: Region) -> Region:
    """Two villages of 新发街道, each with group 6 house 13; hamlets written in compound."""
    east = region.add_village("220103001201", "东村", box(125.350, 43.880, 125.360, 43.890))
    west = region.add_village("220103001202", "西村", box(125.360, 43.880, 125.370, 43.890))
    assert (east, west) == ("220103001201001", "220103001202001")
    add = region.add_building
    add("E-13", 125.352, 43.882, "220103001201", group_no="6", house_number="13")
    add("W-13", 125.362, 43.882, "220103001202", group_no="6", house_number="13")
    add("W-14", 125.363, 43.882, "220103001202", group_no="6", house_number="14号")
    add("E-L12", 125.355, 43.885, "220103001201", compound="东栗家屯", house_number="12")
    add("E-L5", 125.356, 43.885, "220103001201", compound="东栗家屯", house_number="5号")
    # two compounds on one road, in grids A and B, both with a building 3
    add("R-A3", 125.301, 43.881, compound="卫光小区", building_no="3", road="卫光街")
    add("R-B3", 125.312, 43.881, compound="卫光花园", building_no="3", road="卫光街")
    add("R-B4", 125.313, 43.881, compound="卫光花园", building_no="4", road="卫光街")
    region.gm.reload_gazetteer()
    return region


@pytest.mark.parametrize(
    ("text", "building"),
    [
        ("东栗家屯12号", "E-L12"),
        ("宽城区新发街道东村东栗家屯12号", "E-L12"),
        ("长春市 宽城区 东村 东栗家屯 ５号", "E-L5"),
        ("东村东栗家屯5", "E-L5"),
        ("新发街道六组14号", "W-14"),
        ("卫光街4栋", "R-B4"),
    ],
)
def test_rural_and_road_forms_find_their_house(rural: Region, text: str, building: str) -> None:
    res = rural.gm.resolve_address(text)
    assert res.status == "ok", res
    assert res.building is not None
    assert res.building.id == building


def test_a_hamlet_without_its_house_answers_at_hamlet_level(rural: Region) -> None:
    for text in ("宽城区东村东栗家屯", "东村东栗家屯99号"):
        res = rural.gm.resolve_address(text)
        assert res.match_level == "compound", (text, res)
        assert res.building is None
        assert res.grid is not None
        assert res.grid.code == "220103001201001"


def test_the_same_group_and_house_in_two_villages_is_ambiguous(rural: Region) -> None:
    res = rural.gm.resolve_address("新发街道六组13号")
    assert res.status == "ambiguous"
    assert res.grid is None
    assert res.reason == "several_villages"
    assert sorted(c.building.id for c in res.candidates if c.building) == ["E-13", "W-13"]


def test_a_road_and_a_building_number_two_compounds_share_is_ambiguous(rural: Region) -> None:
    res = rural.gm.resolve_address("宽城区卫光街3栋1单元")
    assert res.status == "ambiguous"
    assert res.grid is None
    assert res.reason == "several_compounds"
    assert sorted(c.building.id for c in res.candidates if c.building) == ["R-A3", "R-B3"]
