"""Behaviour of the administrative prefix: short forms in context, typos, shared names."""

from __future__ import annotations

import pytest

from gridmap.address import Gazetteer, parse_address
from gridmap.address.gazetteer import Division, is_within


def test_a_division_is_not_within_itself_nor_its_peers() -> None:
    city = Division("220100000000", "长春市", "city", "220000000000")
    assert not is_within(city, city)
    assert not is_within(Division("220200000000", "吉林市", "city", "220000000000"), city)
    assert not is_within(Division("220000000000", "吉林省", "province", None), city)
    assert is_within(Division("220102003002", "九圣祠社区", "village", "220102003000"), city)


def test_a_name_written_twice_at_two_levels_reads_as_both(gazetteer: Gazetteer) -> None:
    # 吉林 alone is the province or the city; 吉林市 after it makes it the province
    parsed = parse_address("吉林吉林市丰满区", gazetteer)
    assert (parsed.province, parsed.city, parsed.county) == ("吉林省", "吉林市", "丰满区")
    assert parsed.division_codes == {
        "province": "220000000000",
        "city": "220200000000",
        "county": "220211000000",
    }
    assert parsed.ambiguous == ()


def test_a_township_short_form_after_its_county(gazetteer: Gazetteer) -> None:
    parsed = parse_address("南关区长通人民大街5号", gazetteer)
    assert (parsed.township, parsed.road, parsed.house_number) == ("长通街道", "人民大街", "5")
    assert parsed.division_codes["township"] == "220102005000"


def test_a_township_short_form_without_context_is_not_a_township(gazetteer: Gazetteer) -> None:
    parsed = parse_address("长通人民大街5号", gazetteer)
    assert parsed.township is None
    assert parsed.division_codes == {}


# ---- typos -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "level", "name", "code"),
    [
        # a typo in the two-character stem of a county or township is forgiven
        ("长春市宽成区人民大街", "county", "宽城区", "220103000000"),
        # a name with no level suffix (a state farm) is all stem
        ("农安县洼中高农厂", "township", "洼中高农场", "220122400000"),
        ("四平市伊通满族自制县", "county", "伊通满族自治县", "220323000000"),
    ],
)
def test_typos_that_are_forgiven(
    gazetteer: Gazetteer, raw: str, level: str, name: str, code: str
) -> None:
    parsed = parse_address(raw, gazetteer)
    assert getattr(parsed, level) == name
    assert parsed.division_codes[level] == code


def test_a_typo_in_a_two_character_village_stem_is_not_forgiven(gazetteer: Gazetteer) -> None:
    # villages under one township often differ by one character: 黑渔村 is not 黑鱼村
    parsed = parse_address("双阳区平湖街道黑渔村", gazetteer)
    assert parsed.community == "黑渔村"
    assert parsed.division_codes == {"county": "220112000000", "township": "220112002000"}


def test_a_typo_into_a_street_word_is_not_forgiven(gazetteer: Gazetteer) -> None:
    parsed = parse_address("长春市宽路区", gazetteer)
    assert parsed.county == "宽路区"
    assert parsed.division_codes == {"city": "220100000000"}


# ---- ambiguity ---------------------------------------------------------------------------


def test_an_ambiguity_reads_as_its_text_and_readings(gazetteer: Gazetteer) -> None:
    (ambiguity,) = parse_address("黑鱼村", gazetteer).ambiguous
    assert str(ambiguity) == "黑鱼村: 黑鱼村 220112002211, 黑鱼村 220183104223, 黑鱼村 220221102206"


def test_a_division_that_contradicts_its_parents_gets_no_code(gazetteer: Gazetteer) -> None:
    # 九圣祠社区 lies in 南关区, but under another street office than 自强街道
    parsed = parse_address("长春市南关区自强街道九圣祠社区", gazetteer)
    assert (parsed.township, parsed.community) == ("自强街道", "九圣祠社区")
    assert parsed.division_codes == {
        "city": "220100000000",
        "county": "220102000000",
        "township": "220102002000",
    }
    assert [(a.text, [d.code for d in a.readings]) for a in parsed.ambiguous] == [
        ("九圣祠社区", ["220102003002"])
    ]


# ---- names the gazetteer does not know ---------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("莫须有省", {"province": "莫须有省"}),
        ("内蒙古自治区呼和浩特市", {"province": "内蒙古自治区", "city": "呼和浩特市"}),
        (
            "浙江省杭州市西湖区",
            {"province": "浙江省", "city": "杭州市", "county": "西湖区"},
        ),
        (
            "莫须有区莫须有街道莫须有社区",
            {"county": "莫须有区", "township": "莫须有街道", "community": "莫须有社区"},
        ),
        ("莫须有村民委员会", {"community": "莫须有村"}),
        ("长春市莫须有市", {"city": "长春市", "county": "莫须有市"}),
        (
            "长春市南关区新发展街道",
            {"city": "长春市", "county": "南关区", "township": "新发展街道"},
        ),
    ],
)
def test_unknown_divisions_are_read_by_their_level_suffix(
    gazetteer: Gazetteer, raw: str, expected: dict[str, str]
) -> None:
    parsed = parse_address(raw, gazetteer)
    assert parsed.components() == expected
    assert parsed.rest == ()


@pytest.mark.parametrize(
    ("raw", "compound", "rest"),
    [
        # markets, parks and zones end like a city or a district but are none
        ("长春市朝阳区菜市场", None, ("菜市场",)),
        ("长春市朝阳区花鸟鱼市", None, ("花鸟鱼市",)),
        ("长春市南关区学区房", None, ("学区房",)),
        ("长春市南关区科技园区", "科技园", ("区",)),
        ("宽城区市场", None, ("市场",)),
        # 新村 is a compound, not a village
        ("长春市南关区金桥新村3栋", "金桥新村", ()),
        # a county-level city is not read below a county
        ("长春市南关区莫须有市", None, ("莫须有市",)),
    ],
)
def test_words_with_a_level_suffix_that_are_no_division(
    gazetteer: Gazetteer, raw: str, compound: str | None, rest: tuple[str, ...]
) -> None:
    parsed = parse_address(raw, gazetteer)
    assert parsed.township is None
    assert parsed.community is None
    assert parsed.compound == compound
    assert parsed.rest == rest


# ---- prefixes written twice, and names after the street part -----------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "长春市南关区长春市南关区人民大街5号",
            {"city": "长春市", "county": "南关区", "road": "人民大街", "house_number": "5"},
        ),
        (
            "吉林省吉林市吉林省吉林市丰满区",
            {"province": "吉林省", "city": "吉林市", "county": "丰满区"},
        ),
        (
            "浙江省杭州市浙江省杭州市西湖区",
            {"province": "浙江省", "city": "杭州市", "county": "西湖区"},
        ),
    ],
)
def test_a_prefix_written_twice_is_read_once(
    gazetteer: Gazetteer, raw: str, expected: dict[str, str]
) -> None:
    parsed = parse_address(raw, gazetteer)
    assert parsed.components() == expected
    assert parsed.rest == ()


def test_divisions_after_the_street_part(gazetteer: Gazetteer) -> None:
    parsed = parse_address("长春市南关区长通街道人民大街龙兴社区", gazetteer)
    assert parsed.components() == {
        "city": "长春市",
        "county": "南关区",
        "township": "长通街道",
        "community": "龙兴社区",
        "road": "人民大街",
    }
    assert parsed.division_codes["village"] == "220102005004"
    parsed = parse_address("长春市南关区人民大街自强街道", gazetteer)
    assert (parsed.road, parsed.township) == ("人民大街", "自强街道")
    assert parsed.division_codes["township"] == "220102002000"


@pytest.mark.parametrize(
    ("raw", "rest"),
    [
        ("长春市南关区人民大街宽城区", ("宽城区",)),  # not inside 南关区
        ("长春市南关区人民大街长通", ("长通",)),  # a short form only
    ],
)
def test_names_after_the_street_part_must_be_full_names_inside(
    gazetteer: Gazetteer, raw: str, rest: tuple[str, ...]
) -> None:
    parsed = parse_address(raw, gazetteer)
    assert parsed.road == "人民大街"
    assert (parsed.county, parsed.township) == ("南关区", None)
    assert parsed.rest == rest


def test_without_a_division_before_it_a_community_after_the_street_is_a_compound(
    gazetteer: Gazetteer,
) -> None:
    parsed = parse_address("人民大街九圣祠社区", gazetteer)
    assert (parsed.road, parsed.compound, parsed.community) == ("人民大街", "九圣祠社区", None)


@pytest.mark.parametrize(
    ("raw", "expected", "codes"),
    [
        # 公 may start a place name (长春公园), but here a full county name starts there
        (
            "四平公主岭市",
            {"city": "四平市", "county": "公主岭市"},
            {"city": "220300000000", "county": "220381000000"},
        ),
        ("长春公园", {"compound": "长春公园"}, {}),
        # a homophone typed for the level suffix
        (
            "吉林省长春是南关区",
            {"province": "吉林省", "city": "长春市", "county": "南关区"},
            {"province": "220000000000", "city": "220100000000", "county": "220102000000"},
        ),
        (
            "长春市二道区东盛街到",
            {"city": "长春市", "county": "二道区", "township": "东盛街道"},
            {"city": "220100000000", "county": "220105000000", "township": "220105001000"},
        ),
        # a typo needs the whole name: 九圣词 alone is not 九圣祠社区
        (
            "长春市南关区九圣词",
            {"city": "长春市", "county": "南关区"},
            {"city": "220100000000", "county": "220102000000"},
        ),
    ],
)
def test_short_forms_and_typos_in_context(
    gazetteer: Gazetteer, raw: str, expected: dict[str, str], codes: dict[str, str]
) -> None:
    parsed = parse_address(raw, gazetteer)
    assert parsed.components() == expected
    assert dict(parsed.division_codes) == codes


@pytest.mark.parametrize(
    ("raw", "township", "road"),
    [
        # 站前街 is 站前街道 when the full name of one of its communities follows
        ("站前街长江路社区", "站前街道", None),
        ("宽城区站前街长江路社区", "站前街道", None),
        # ... and a road otherwise, also before a short form of one (铁西 of 铁西社区)
        ("宽城区站前街长江路", None, "站前街"),
        ("白城市新立街铁西", None, "新立街"),
    ],
)
def test_a_street_short_form_needs_the_full_name_of_a_community_after_it(
    gazetteer: Gazetteer, raw: str, township: str | None, road: str | None
) -> None:
    parsed = parse_address(raw, gazetteer)
    assert (parsed.township, parsed.road) == (township, road)
