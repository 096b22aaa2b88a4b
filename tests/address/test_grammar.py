"""Behaviour of the grammar below the divisions: roads, compounds, buildings, units, rooms.

An empty gazetteer keeps the divisions out of the way; ``rest`` shows what no rule took.
"""

from __future__ import annotations

import pytest

from gridmap.address import Gazetteer, parse_address


@pytest.fixture(scope="module")
def nowhere() -> Gazetteer:
    return Gazetteer.from_records([])


def _read(gaz: Gazetteer, raw: str) -> tuple[dict[str, str], tuple[str, ...]]:
    parsed = parse_address(raw, gaz)
    return parsed.components(), parsed.rest


@pytest.mark.parametrize(
    ("raw", "expected", "rest"),
    [
        # an area before the road is split off: a compound is kept, anything else is rest
        ("经济开发区丹枫路8号", {"road": "丹枫路", "house_number": "8"}, ("经济开发区",)),
        ("东区丹枫路9号", {"road": "丹枫路", "house_number": "9"}, ("东区",)),
        (
            "幸福家园人民大街8号",
            {"road": "人民大街", "house_number": "8", "compound": "幸福家园"},
            (),
        ),
        # ... but only where a road of three characters or more is left, and not at its start
        ("幸福小区北路12号", {"road": "幸福小区北路", "house_number": "12"}, ()),
        ("区政府路5号", {"road": "区政府路", "house_number": "5"}, ()),
        # segments and lanes of the road are rest, and the house number still follows
        ("人民大街南段8号", {"road": "人民大街", "house_number": "8"}, ("南段",)),
        ("人民大街8巷3号", {"road": "人民大街", "house_number": "3"}, ("8巷",)),
    ],
)
def test_roads(
    nowhere: Gazetteer, raw: str, expected: dict[str, str], rest: tuple[str, ...]
) -> None:
    assert _read(nowhere, raw) == (expected, rest)


@pytest.mark.parametrize(
    ("raw", "expected", "rest"),
    [
        # a run followed by a building number is a compound even without a suffix
        ("万科紫台3栋", {"compound": "万科紫台", "building": "3"}, ()),
        (
            "人民大街8号金都3栋",
            {"road": "人民大街", "house_number": "8", "compound": "金都", "building": "3"},
            (),
        ),
        # what follows a compound inside one run is read on
        ("幸福小区前进村民小组", {"compound": "幸福小区", "group": "前进"}, ()),
        # the direction before a building number belongs to the building
        ("东岭小区东2栋", {"compound": "东岭小区", "building": "东2"}, ()),
        ("阳光花园北", {"compound": "阳光花园"}, ("北",)),
        (
            "人民大街8号阳光花园对面",
            {"road": "人民大街", "house_number": "8", "compound": "阳光花园"},
            ("对面",),
        ),
        # the first compound named is the compound; a landmark after it is rest
        (
            "阳光花园3单元402室近幸福家园",
            {"compound": "阳光花园", "unit": "3", "room": "402"},
            ("近幸福家园",),
        ),
        ("3栋2单元近幸福家园", {"building": "3", "unit": "2"}, ("近幸福家园",)),
    ],
)
def test_compounds(
    nowhere: Gazetteer, raw: str, expected: dict[str, str], rest: tuple[str, ...]
) -> None:
    assert _read(nowhere, raw) == (expected, rest)


@pytest.mark.parametrize(
    "landmark",
    [
        "小区门口",  # at the compound gate: no compound name
        "人民医院对面",  # a hospital, a department store, a village gate, a distance
        "百货大楼对面",
        "桃源村口",
        "五公里处",
        "老县城东",
    ],
)
def test_words_ending_like_a_compound_inside_a_landmark_are_not_a_compound(
    nowhere: Gazetteer, landmark: str
) -> None:
    assert _read(nowhere, f"人民大街8号{landmark}") == (
        {"road": "人民大街", "house_number": "8"},
        (landmark,),
    )


@pytest.mark.parametrize(
    ("raw", "expected", "rest"),
    [
        # a number at the end: a room after a building or unit, or with three digits
        ("幸福小区12", {"compound": "幸福小区", "building": "12"}, ()),
        ("幸福小区502", {"compound": "幸福小区", "room": "502"}, ()),
        ("幸福小区5栋12", {"compound": "幸福小区", "building": "5", "room": "12"}, ()),
        ("幸福小区3单元12", {"compound": "幸福小区", "unit": "3", "room": "12"}, ()),
        ("5栋302", {"building": "5", "room": "302"}, ()),
        ("5层502", {"floor": "5", "room": "502"}, ()),
        # n号: a room after a building, a building after a house number or in a compound
        ("5栋7号", {"building": "5", "room": "7"}, ()),
        (
            "人民大街1234号2号",
            {"road": "人民大街", "house_number": "1234", "building": "2"},
            (),
        ),
        ("7号", {}, ("7", "号")),
        # a number for a component found already is rest, as written
        ("幸福小区12栋7号8号", {"compound": "幸福小区", "building": "12", "room": "7"}, ("8号",)),
        (
            "幸福小区12栋302室5",
            {"compound": "幸福小区", "building": "12", "room": "302"},
            ("5",),
        ),
        (
            "幸福小区5栋2单元3-402",
            {"compound": "幸福小区", "building": "5", "unit": "2"},
            ("3-402",),
        ),
        ("幸福小区402室3-5", {"compound": "幸福小区", "room": "402"}, ("3-5",)),
        ("5栋2单元3单元", {"building": "5", "unit": "2"}, ("3", "单元")),
        ("5层6层", {"floor": "5"}, ("6", "层")),
        ("5栋6栋", {"building": "5"}, ("6", "栋")),
        ("5栋302室402室", {"building": "5", "room": "302"}, ("402", "室")),
        ("人民大街1234号ABC", {"road": "人民大街", "house_number": "1234"}, ("ABC",)),
    ],
)
def test_numbers(
    nowhere: Gazetteer, raw: str, expected: dict[str, str], rest: tuple[str, ...]
) -> None:
    assert _read(nowhere, raw) == (expected, rest)


@pytest.mark.parametrize(
    ("raw", "expected", "rest"),
    [
        ("东栗家屯", {"hamlet": "东栗家屯"}, ()),
        ("东栗家屯5", {"hamlet": "东栗家屯", "house_number": "5"}, ()),
        ("东栗家屯3组", {"hamlet": "东栗家屯", "group": "3"}, ()),
        # a road named after a hamlet is a road
        ("东栗家屯路5号", {"road": "东栗家屯路", "house_number": "5"}, ()),
        ("3组12号", {"group": "3", "house_number": "12"}, ()),
        ("东栗家屯12号", {"hamlet": "东栗家屯", "house_number": "12"}, ()),
        # a bare number closing a hamlet is its house, unless a compound, building or house came
        ("东栗家屯幸福小区5", {"hamlet": "东栗家屯", "compound": "幸福小区", "building": "5"}, ()),
        ("东栗家屯3栋5", {"hamlet": "东栗家屯", "building": "3", "room": "5"}, ()),
        ("东栗家屯12号5", {"hamlet": "东栗家屯", "house_number": "12"}, ("5",)),
        # after a house number or a compound, n号 is a building
        ("3组12号5号", {"group": "3", "house_number": "12", "building": "5"}, ()),
        ("3组幸福小区12号", {"group": "3", "compound": "幸福小区", "building": "12"}, ()),
        # a lane after a road is no road part once the house number is known
        (
            "3组12号人民大街8巷",
            {"group": "3", "house_number": "12", "road": "人民大街"},
            ("8", "巷"),
        ),
        ("3组5", {"group": "3", "house_number": "5"}, ()),
        ("前进村民小组5号", {"group": "前进", "house_number": "5"}, ()),
        # one group only; a group after a building is no group
        ("3组东组", {"group": "3"}, ("东组",)),
        ("幸福屯3组东组", {"hamlet": "幸福屯", "group": "3"}, ("东组",)),
        ("12栋3组", {"building": "12"}, ("3", "组")),
        # a township or community after a leftover
        ("123幸福街道5组", {"township": "幸福街道", "group": "5"}, ("123",)),
        # a bare number is a house number after a road
        ("人民大街12", {"road": "人民大街", "house_number": "12"}, ()),
        ("人民大街南段12", {"road": "人民大街", "house_number": "12"}, ("南段",)),
        ("人民大街8巷5", {"road": "人民大街", "house_number": "5"}, ("8巷",)),
        ("人民大街1234-5号", {"road": "人民大街", "house_number": "1234-5"}, ()),
        ("人民大街甲12号", {"road": "人民大街", "house_number": "甲12"}, ()),
        ("东三胡同5号", {"road": "东三胡同", "house_number": "5"}, ()),
        ("一匡街二段8号", {"road": "一匡街", "house_number": "8"}, ("二段",)),
        ("8", {}, ("8",)),
    ],
)
def test_villages_and_house_numbers(
    nowhere: Gazetteer, raw: str, expected: dict[str, str], rest: tuple[str, ...]
) -> None:
    assert _read(nowhere, raw) == (expected, rest)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # a numbered courtyard (12号院) is the house number of the road or the hamlet, and the
        # buildings inside it follow; before, 号院 was taken for a compound and 12 was lost
        ("人民大街12号院", {"road": "人民大街", "house_number": "12"}),
        ("人民大街12号院3栋2单元",
         {"road": "人民大街", "house_number": "12", "building": "3", "unit": "2"}),
        ("李家屯3号院", {"hamlet": "李家屯", "house_number": "3"}),
    ],
)  # fmt: skip
def test_a_numbered_courtyard_is_the_house_number(
    nowhere: Gazetteer, raw: str, expected: dict[str, str]
) -> None:
    components, rest = _read(nowhere, raw)
    assert components == expected
    assert rest == ()


@pytest.mark.parametrize(
    ("raw", "floor"),
    [("明珠花园3栋2单元-1层", "-1"), ("明珠花园3栋地下2层", "-2"), ("明珠花园3栋2单元5层", "5"),
     ("3栋B1F", None)],
)  # fmt: skip
def test_a_basement_floor_is_negative(nowhere: Gazetteer, raw: str, floor: str | None) -> None:
    components, _ = _read(nowhere, raw)
    assert components.get("floor") == floor
