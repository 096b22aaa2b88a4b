"""Which divisions an address writes, read against the known world (榆树市, 辽宁省, 莫须有区).

The service holds a few divisions of 长春市; every other Jilin division and every province
of China is known but not held, so an address naming one lies outside coverage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gridmap.address.coverage import Outside, Written, contains, written_divisions
from gridmap.address.gazetteer import Division, DivisionRecord, Gazetteer
from gridmap.address.world import PROVINCES, everyday_name, known_divisions

if TYPE_CHECKING:
    from collections.abc import Iterator

HELD = [
    DivisionRecord("220000000000", "吉林省", "province", None),
    DivisionRecord("220100000000", "长春市", "city", "220000000000"),
    DivisionRecord("220102000000", "南关区", "county", "220100000000"),
    DivisionRecord("220102003000", "自强街道", "township", "220102000000"),
    DivisionRecord("220102003002", "九圣祠社区", "village", "220102003000"),
    DivisionRecord("220106000000", "绿园区", "county", "220100000000"),
    DivisionRecord("220183000000", "德惠市", "county", "220100000000"),
    DivisionRecord("220112000000", "双阳区", "county", "220100000000"),
    DivisionRecord("220112002000", "平湖街道", "township", "220112000000"),
    DivisionRecord("220112002211", "黑鱼村", "village", "220112002000"),
]


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.from_records(HELD, known_divisions())


def _known(code: str) -> Division:
    r = {r.code: r for r in known_divisions()}[code]
    return Division(r.code, r.name, r.level, r.parent_code, r.aliases)  # type: ignore[arg-type]


# ---- written divisions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "within"),
    [
        ("长春市南关区九圣祠社区3栋", ("220100000000", "220102000000", "220102003002")),
        ("吉林省长春市", ("220000000000", "220100000000")),
        # a community read after the street part is too often a word of a compound's name
        ("南关区人民大街九圣祠社区", ("220102000000",)),
        # a bare stem (长春) neither sends an address away nor holds its answer
        ("长春南关区幸福小区", ("220102000000",)),
        # a township nobody knows is read past: the community after it still counts
        ("长春市莫须有街道九圣祠社区", ("220100000000", "220102003002")),
    ],
)
def test_held_divisions_written_without_doubt(
    gaz: Gazetteer, text: str, within: tuple[str, ...]
) -> None:
    assert written_divisions(text, gaz) == Written(None, within)


@pytest.mark.parametrize(
    "text",
    [
        "长春宽城幸福小区3栋",  # bare stems of places we do not hold
        "长青村路8号",  # a road named after a village
        "宽城区医院",  # a place named after a district
        "九台北路12号",
    ],
)
def test_stems_and_names_of_roads_or_places_are_not_written_divisions(
    gaz: Gazetteer, text: str
) -> None:
    assert written_divisions(text, gaz) == Written()


def test_a_known_division_we_do_not_hold_is_outside(gaz: Gazetteer) -> None:
    got = written_divisions("长春市宽城区明珠花园3栋", gaz)
    assert got == Written(
        Outside("宽城区", "outside_coverage", (_known("220103000000"),)), ("220100000000",)
    )
    assert got.outside is not None
    assert got.outside.message == "宽城区 (220103000000) lies outside the area this service holds"


def test_another_province_is_outside(gaz: Gazetteer) -> None:
    got = written_divisions("辽宁省沈阳市和平区", gaz)
    assert got.outside is not None
    assert (got.outside.written, got.outside.reason) == ("辽宁省", "outside_coverage")
    assert [d.code for d in got.outside.divisions] == ["210000000000"]


def test_an_alias_of_a_division_we_do_not_hold_is_outside(gaz: Gazetteer) -> None:
    # 青年街道 is the 2016 name of 青年路街道, a street office of 绿园区
    got = written_divisions("长春市绿园区青年街道幸福小区", gaz)
    assert got == Written(
        Outside("青年街道", "outside_coverage", (_known("220106005000"),)),
        ("220100000000", "220106000000"),
    )


def test_a_shared_name_counts_as_the_reading_its_parents_pick(gaz: Gazetteer) -> None:
    # we hold 双阳区's 黑鱼村, not 德惠市's
    got = written_divisions("德惠市黑鱼村3组", gaz)
    assert got == Written(
        Outside("黑鱼村", "outside_coverage", (_known("220183104223"),)),
        ("220183000000",),
    )
    assert written_divisions("双阳区黑鱼村3组", gaz).within == ("220112000000", "220112002211")


def test_a_name_nobody_knows_with_a_county_suffix_is_an_unknown_division(gaz: Gazetteer) -> None:
    got = written_divisions("长春市莫须有区幸福小区1栋", gaz)
    assert got == Written(Outside("莫须有区", "unknown_division"), ("220100000000",))
    assert got.outside is not None
    assert got.outside.message == "莫须有区 is not a division this service knows"


def test_without_a_known_world_nothing_is_outside() -> None:
    gaz = Gazetteer.from_records(HELD)
    assert gaz.world is None
    assert written_divisions("辽宁省沈阳市", gaz) == Written()


# ---- containment -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "code", "expected"),
    [
        (("220100000000", "220103000000"), "220103001001001", True),
        (("220100000000",), "220102003002", True),
        (("220000000000",), "220200000000", True),
        (("220100000000",), "220200000000001", False),
        (("220102003000",), "220102004001", False),
        (("220102003002",), "220102003002017", True),
        (("220102003002",), "220102003003017", False),
        ((), "220102003002", True),
    ],
)
def test_contains(codes: tuple[str, ...], code: str, expected: bool) -> None:
    assert contains(codes, code) is expected


# ---- the known world ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("official", "everyday"),
    [
        ("长通街道办事处", "长通街道"),
        ("龙兴社区居民委员会", "龙兴社区"),
        ("龙兴社区居委会", "龙兴社区"),
        ("龙兴居委会", "龙兴社区"),
        ("黑鱼村民委员会", "黑鱼村"),
        ("黑鱼村委会", "黑鱼村"),
        ("黑鱼村村委会", "黑鱼村"),
        ("幸福办事处", "幸福"),
        ("九圣祠社区", "九圣祠社区"),
        ("村委会", "村委会"),
        ("办事处", "办事处"),
    ],
)
def test_everyday_name(official: str, everyday: str) -> None:
    assert everyday_name(official) == everyday


@pytest.fixture
def fresh_world() -> Iterator[None]:
    """Read the reference files again rather than reuse the cached result."""
    known_divisions.cache_clear()
    yield
    known_divisions.cache_clear()


@pytest.mark.usefixtures("fresh_world")
def test_known_divisions_read_from_the_reference_data() -> None:
    recs = {r.code: r for r in known_divisions()}
    assert recs["220000000000"] == DivisionRecord("220000000000", "吉林省", "province", None, ())
    assert recs["220182000000"] == DivisionRecord(
        "220182000000", "榆树市", "county", "220100000000"
    )
    # the official NBS name is an alias of the everyday one
    assert recs["220102005000"] == DivisionRecord(
        "220102005000", "长通街道", "township", "220102000000", ("长通街道办事处",)
    )
    # renamed since 2016: the 2023 name, with the old names as aliases
    assert recs["220106005000"].name == "青年路街道"
    assert recs["220106005000"].aliases == ("青年街道", "青年街道办事处")
    # new since 2016
    assert recs["220102013000"] == DivisionRecord(
        "220102013000", "盛世街道", "township", "220102000000", ()
    )
    provinces = {r.code: r.name for r in recs.values() if r.level == "province"}
    assert provinces == {p + "0" * 10: name for p, name in PROVINCES}
    assert {r.level for r in recs.values()} == {"province", "city", "county", "township", "village"}
