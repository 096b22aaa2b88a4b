"""Behaviour of the address normaliser and parser on realistic, messy Jilin addresses."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmap.address import (
    COMPONENTS,
    Gazetteer,
    ParsedAddress,
    normalize_address,
    parse_address,
)
from gridmap.errors import InvalidAddress, InvalidInput


def components(parsed: ParsedAddress) -> dict[str, Any]:
    return {k: getattr(parsed, k) for k in COMPONENTS if getattr(parsed, k) is not None}


# ---- normalisation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("吉林省 长春市　宽城区", "吉林省长春市宽城区"),
        ("人民大街１２３４号", "人民大街1234号"),
        ("ａ座", "A栋"),
        ("12-3-402", "12栋3单元402室"),
        ("12－3－402室", "12栋3单元402室"),
        ("12栋3-402", "12栋3单元402室"),
        ("3单元402", "3单元402"),
        ("5号楼", "5栋"),
        ("5幢", "5栋"),
        ("B座", "B栋"),
        ("3#楼", "3栋"),
        ("三单元", "3单元"),
        ("十二栋", "12栋"),
        ("二组", "2组"),
        ("一〇二室", "102室"),
        ("第二村民小组", "第2村民小组"),
        ("十二栋三单元四〇二", "12栋3单元402"),
        ("二十层", "20层"),
        ("12栋3门402", "12栋3单元402"),
        ("长通街道办事处", "长通街道"),
        ("龙兴社区居委会", "龙兴社区"),
        ("龙兴居委会", "龙兴社区"),
        ("黑鱼村委会", "黑鱼村"),
        ("黑鱼村民委员会", "黑鱼村"),
        ("人民大街（南段）,1234号。", "人民大街南段1234号"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected


@pytest.mark.parametrize(
    "name",
    [
        "二道区",
        "九圣祠社区",
        "一匡街",
        "一汽三十八街",
        "三马路",
        "二道江区",
        "九台区",
        "四平市",
        "第一中学",
        "十二道沟",
    ],
)
def test_numerals_inside_names_stay(name: str) -> None:
    assert normalize_address(name) == name


def test_numerals_next_to_a_marker_inside_a_longer_text() -> None:
    assert normalize_address("一汽三十八街十二栋三单元") == "一汽三十八街12栋3单元"
    assert normalize_address("台州市三门县") == "台州市三门县"


def test_normalize_rejects_non_strings() -> None:
    with pytest.raises(InvalidAddress, match="must be a string"):
        normalize_address(123)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize_address(text)
    assert normalize_address(once) == once


_ADDRESSY = st.text(
    alphabet=st.sampled_from(
        list("吉林省长春市宽城区南关朝阳红旗街道黑鱼村社区屯组号栋幢座楼单元门室层小区花园路大街")
        + list("零〇一二三四五六七八九十百0123456789-#（）ＡＢａｂ 　,.")
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(_ADDRESSY)
def test_normalize_is_idempotent_on_address_like_text(text: str) -> None:
    once = normalize_address(text)
    assert normalize_address(once) == once


@settings(max_examples=300, deadline=None)
@given(st.one_of(_ADDRESSY, st.text(min_size=1, max_size=60)))
def test_parse_never_raises_on_non_empty_text(gazetteer: Gazetteer, text: str) -> None:
    if not normalize_address(text):
        with pytest.raises(InvalidAddress):
            parse_address(text, gazetteer)
        return
    parsed = parse_address(text, gazetteer)
    assert parsed.normalized == normalize_address(text)
    for code in parsed.division_codes.values():
        assert gazetteer.get(code) is not None


# ---- full addresses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected", "codes"),
    [
        (
            "吉林省长春市宽城区人民大街1234号",
            {
                "province": "吉林省",
                "city": "长春市",
                "county": "宽城区",
                "road": "人民大街",
                "house_number": "1234",
            },
            {"province": "220000000000", "city": "220100000000", "county": "220103000000"},
        ),
        (
            "长春市南关区长通街道办事处龙兴社区居委会",
            {"city": "长春市", "county": "南关区", "township": "长通街道", "community": "龙兴社区"},
            {
                "city": "220100000000",
                "county": "220102000000",
                "township": "220102005000",
                "village": "220102005004",
            },
        ),
        (
            "长春 宽城 １２－３－４０２",
            {"city": "长春市", "county": "宽城区", "building": "12", "unit": "3", "room": "402"},
            {"city": "220100000000", "county": "220103000000"},
        ),
        (
            "南关区九圣祠社区3单元402",
            {"county": "南关区", "community": "九圣祠社区", "unit": "3", "room": "402"},
            {"county": "220102000000", "village": "220102003002"},
        ),
        (
            "亚泰大街3218号幸福家园5号楼2单元301室",
            {
                "road": "亚泰大街",
                "house_number": "3218",
                "compound": "幸福家园",
                "building": "5",
                "unit": "2",
                "room": "301",
            },
            {},
        ),
        (
            "长春市南关区幸福小区A座1201",
            {
                "city": "长春市",
                "county": "南关区",
                "compound": "幸福小区",
                "building": "A",
                "room": "1201",
            },
            {"city": "220100000000", "county": "220102000000"},
        ),
        (
            "一汽三十八街十二栋三单元四〇二",
            {"road": "一汽三十八街", "building": "12", "unit": "3", "room": "402"},
            {},
        ),
        (
            "长春市二道区一匡街",
            {"city": "长春市", "county": "二道区", "road": "一匡街"},
            {"city": "220100000000", "county": "220105000000"},
        ),
        (
            "二道区三马路",
            {"county": "二道区", "road": "三马路"},
            {"county": "220105000000"},
        ),
        (
            "吉林大路88号",
            {"road": "吉林大路", "house_number": "88"},
            {},
        ),
        (
            "长春市朝阳区红旗街1234号",
            {"city": "长春市", "county": "朝阳区", "road": "红旗街", "house_number": "1234"},
            {"city": "220100000000", "county": "220104000000"},
        ),
        (
            "吉林省吉林市丰满区",
            {"province": "吉林省", "city": "吉林市", "county": "丰满区"},
            {"province": "220000000000", "city": "220200000000", "county": "220211000000"},
        ),
        (
            "宽城区 阳光花园 十二幢 三门 四〇二",
            {
                "county": "宽城区",
                "compound": "阳光花园",
                "building": "12",
                "unit": "3",
                "room": "402",
            },
            {"county": "220103000000"},
        ),
        (
            "朝阳区红旗街道 富民小区 3号楼 2单元 5楼",
            {
                "county": "朝阳区",
                "township": "红旗街道",
                "compound": "富民小区",
                "building": "3",
                "unit": "2",
                "floor": "5",
            },
            {"county": "220104000000", "township": "220104007000"},
        ),
    ],
)
def test_parse_full_addresses(
    gazetteer: Gazetteer, raw: str, expected: dict[str, str], codes: dict[str, str]
) -> None:
    parsed = parse_address(raw, gazetteer)
    assert components(parsed) == expected
    assert dict(parsed.division_codes) == codes
    assert parsed.ambiguous == ()


def test_parse_keeps_the_normalised_text(gazetteer: Gazetteer) -> None:
    parsed = parse_address("宽城区　１２－３－４０２", gazetteer)
    assert parsed.normalized == "宽城区12栋3单元402室"
    assert parsed.code == "220103000000"


def test_villages_hamlets_and_groups(gazetteer: Gazetteer) -> None:
    parsed = parse_address("双阳区黑鱼村东栗家屯3组", gazetteer)
    assert components(parsed) == {
        "county": "双阳区",
        "community": "黑鱼村",
        "hamlet": "东栗家屯",
        "group": "3",
    }
    assert parsed.division_codes["village"] == "220112002211"


@pytest.mark.parametrize("group", ["2组", "二组", "第二村民小组", "第2村民小组", "二社"])
def test_group_spellings(gazetteer: Gazetteer, group: str) -> None:
    parsed = parse_address(f"德惠市黑鱼村{group}", gazetteer)
    assert parsed.group == "2"
    assert parsed.division_codes["village"] == "220183104223"


def test_village_house_number_after_group(gazetteer: Gazetteer) -> None:
    parsed = parse_address("永吉县黑鱼村委会五组12号", gazetteer)
    assert (parsed.community, parsed.group, parsed.house_number) == ("黑鱼村", "5", "12")
    assert parsed.division_codes["village"] == "220221102206"


# ---- short forms and ambiguity -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "level", "name", "code"),
    [
        ("宽城", "county", "宽城区", "220103000000"),
        ("南关人民大街", "county", "南关区", "220102000000"),
        ("长春宽城", "city", "长春市", "220100000000"),
        ("吉林长春", "province", "吉林省", "220000000000"),
        ("吉林丰满", "city", "吉林市", "220200000000"),
        ("德惠", "county", "德惠市", "220183000000"),
    ],
)
def test_short_forms(gazetteer: Gazetteer, raw: str, level: str, name: str, code: str) -> None:
    parsed = parse_address(raw, gazetteer)
    component = "community" if level == "village" else level
    assert getattr(parsed, component) == name
    assert parsed.division_codes[level] == code


@pytest.mark.parametrize(
    ("raw", "township", "village"),
    [
        ("白城市新立街铁西社区", "220802007000", "220802007002"),
        ("哈达门太平村", "222404204000", "222404204205"),
        ("五棵树 铁北村委会", "220182100000", "220182100213"),
    ],
)
def test_township_short_form_confirmed_by_the_village_after_it(
    gazetteer: Gazetteer, raw: str, township: str, village: str
) -> None:
    parsed = parse_address(raw, gazetteer)
    assert parsed.division_codes["township"] == township
    assert parsed.division_codes["village"] == village


def test_street_short_form_without_a_community_is_a_road(gazetteer: Gazetteer) -> None:
    parsed = parse_address("红旗街", gazetteer)
    assert (parsed.road, parsed.township) == ("红旗街", None)


def test_ambiguous_village_is_reported_without_a_code(gazetteer: Gazetteer) -> None:
    parsed = parse_address("黑鱼村", gazetteer)
    assert parsed.community == "黑鱼村"
    assert "village" not in parsed.division_codes
    assert len(parsed.ambiguous) == 1
    assert {d.code for d in parsed.ambiguous[0].readings} == {
        "220112002211",
        "220183104223",
        "220221102206",
    }


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("双阳区黑鱼村", "220112002211"),
        ("双阳区平湖街道黑鱼村", "220112002211"),
        ("德惠市黑鱼村", "220183104223"),
        ("永吉黑鱼村", "220221102206"),
        ("吉林市黑鱼村", "220221102206"),
    ],
)
def test_ambiguous_village_resolved_by_its_parents(
    gazetteer: Gazetteer, raw: str, code: str
) -> None:
    parsed = parse_address(raw, gazetteer)
    assert parsed.division_codes["village"] == code
    assert parsed.ambiguous == ()


def test_ambiguous_street_office(gazetteer: Gazetteer) -> None:
    parsed = parse_address("红旗街道", gazetteer)
    assert parsed.township == "红旗街道"
    assert "township" not in parsed.division_codes
    codes = {d.code for d in parsed.ambiguous[0].readings}
    # the brief names two; the 2016 NBS list has four 红旗街道 in Jilin
    assert {"220211071000", "220104007000"} <= codes


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("丰满区红旗街道", "220211071000"),
        ("长春红旗街道", "220104007000"),
        ("长春市朝阳区红旗街道办事处", "220104007000"),
        ("吉林市红旗街道", "220211071000"),
    ],
)
def test_ambiguous_street_office_resolved(gazetteer: Gazetteer, raw: str, code: str) -> None:
    parsed = parse_address(raw, gazetteer)
    assert parsed.division_codes["township"] == code
    assert parsed.ambiguous == ()


def test_jilin_alone_is_ambiguous_between_province_and_city(gazetteer: Gazetteer) -> None:
    parsed = parse_address("吉林", gazetteer)
    assert {d.code for d in parsed.ambiguous[0].readings} == {"220000000000", "220200000000"}
    assert parsed.division_codes == {}


def test_inconsistent_parent_leaves_the_code_unset(gazetteer: Gazetteer) -> None:
    parsed = parse_address("丰满区黑鱼村", gazetteer)
    assert parsed.division_codes == {"county": "220211000000"}
    assert parsed.community == "黑鱼村"
    assert len(parsed.ambiguous[0].readings) == 3


def test_short_forms_inside_street_and_compound_names_are_not_divisions(
    gazetteer: Gazetteer,
) -> None:
    assert parse_address("长春大街12号", gazetteer).road == "长春大街"
    assert parse_address("长春大街12号", gazetteer).division_codes == {}
    parsed = parse_address("南关区幸福小区3栋", gazetteer)
    assert parsed.compound == "幸福小区"
    assert "township" not in parsed.division_codes


# ---- typos and unknown names -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "level", "code"),
    [
        ("长春市宽城去人民大街", "county", "220103000000"),
        ("长春市朝阳区红旗街到", "township", "220104007000"),
        ("南关区九圣词社区", "village", "220102003002"),
        ("长春市南关区常通街道", "township", "220102005000"),
    ],
)
def test_one_character_typos_under_a_known_parent(
    gazetteer: Gazetteer, raw: str, level: str, code: str
) -> None:
    assert parse_address(raw, gazetteer).division_codes[level] == code


def test_unknown_division_names_are_read_by_their_suffix(gazetteer: Gazetteer) -> None:
    parsed = parse_address("长春市南关区新发展街道幸福里社区", gazetteer)
    assert parsed.township == "新发展街道"
    assert parsed.community == "幸福里社区"
    assert parsed.division_codes == {"city": "220100000000", "county": "220102000000"}


def test_community_after_the_street_part(gazetteer: Gazetteer) -> None:
    parsed = parse_address("南关区人民大街九圣祠社区3栋", gazetteer)
    assert components(parsed) == {
        "county": "南关区",
        "community": "九圣祠社区",
        "road": "人民大街",
        "building": "3",
    }
    assert parsed.division_codes["village"] == "220102003002"


def test_street_office_after_the_street_part(gazetteer: Gazetteer) -> None:
    parsed = parse_address("长春市朝阳区湖西路1号红旗街道", gazetteer)
    assert (parsed.road, parsed.house_number, parsed.township) == ("湖西路", "1", "红旗街道")
    assert parsed.division_codes["township"] == "220104007000"


@pytest.mark.parametrize(
    ("raw", "county"),
    [
        ("伊通靠山镇九龙村", "220323000000"),
        ("前郭查干湖镇", "220721000000"),
        ("延边敦化", "222403000000"),
    ],
)
def test_ethnic_autonomous_short_forms(gazetteer: Gazetteer, raw: str, county: str) -> None:
    assert parse_address(raw, gazetteer).division_codes["county"] == county


def test_community_named_after_a_road_does_not_swallow_the_road(gazetteer: Gazetteer) -> None:
    parsed = parse_address("宽城区凯旋路88号", gazetteer)
    assert (parsed.road, parsed.house_number, parsed.community) == ("凯旋路", "88", None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("幸福小区3门402", {"unit": "3", "room": "402"}),
        ("幸福小区5楼3单元201", {"building": "5", "unit": "3", "room": "201"}),
        ("幸福小区3栋5楼", {"building": "3", "floor": "5"}),
        ("幸福小区3-502", {"building": "3", "room": "502"}),
        ("幸福小区11-7", {"building": "11", "unit": "7"}),
        ("幸福小区12号", {"building": "12"}),
        ("幸福小区12栋7号", {"building": "12", "room": "7"}),
        ("幸福大厦21F", {"floor": "21"}),
    ],
)
def test_numbers_inside_a_compound(
    gazetteer: Gazetteer, raw: str, expected: dict[str, str]
) -> None:
    parsed = parse_address(raw, gazetteer)
    got = components(parsed)
    got.pop("compound")
    assert got == expected


def test_leftovers_go_to_rest(gazetteer: Gazetteer) -> None:
    parsed = parse_address("宽城区人民大街1234号电联", gazetteer)
    assert parsed.rest == ("电联",)


# ---- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "   ", "，。！", None, 42])
def test_bad_input_raises_invalid_address(gazetteer: Gazetteer, bad: Any) -> None:
    with pytest.raises(InvalidAddress) as err:
        parse_address(bad, gazetteer)
    assert isinstance(err.value, InvalidInput)
    assert err.value.code == "invalid_address"
    assert repr(bad) in str(err.value) or str(bad) in str(err.value)


def test_long_runs_cost_linear_time(gazetteer: Gazetteer) -> None:
    start = time.perf_counter()
    for text in ("一" * 20000, "第一" * 10000, "1-" * 10000, "长春" * 10000):
        parse_address(text, gazetteer)
    assert time.perf_counter() - start < 5


def test_gazetteer_rejects_bad_records() -> None:
    with pytest.raises(InvalidInput, match="level 'state'"):
        Gazetteer.from_records([("220000000000", "吉林省", "state", None, ())])
    with pytest.raises(InvalidInput, match="not 12 digits"):
        Gazetteer.from_records([("22", "吉林省", "province", None, ())])


def test_gazetteer_accepts_mappings_and_tuples() -> None:
    gaz = Gazetteer.from_records(
        [
            {"code": "220000000000", "name": "吉林省", "level": "province", "parent_code": None},
            ("220100000000", "长春市", "city", "220000000000", ["长春"]),
        ]
    )
    assert len(gaz) == 2
    assert parse_address("吉林省长春市", gaz).division_codes["city"] == "220100000000"


# ---- speed -------------------------------------------------------------------------------


def test_parses_thousands_of_addresses_per_second(gazetteer: Gazetteer) -> None:
    sample = [
        "吉林省长春市宽城区人民大街1234号",
        "长春宽城12-3-402",
        "双阳区黑鱼村东栗家屯3组",
        "亚泰大街3218号幸福家园5号楼2单元301室",
        "长春市南关区长通街道办事处龙兴社区居委会",
        "红旗街道",
    ] * 300
    start = time.perf_counter()
    for text in sample:
        parse_address(text, gazetteer)
    rate = len(sample) / (time.perf_counter() - start)
    # the requirement is 5,000/s; leave room for slow shared CI machines
    assert rate > 2500, f"{rate:.0f} addresses/s"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "双阳区黑鱼村东栗家屯12号",
            {"community": "黑鱼村", "hamlet": "东栗家屯", "house_number": "12"},
        ),
        ("双阳区黑鱼村3组12号", {"community": "黑鱼村", "group": "3", "house_number": "12"}),
        ("双阳区黑鱼村3组5", {"community": "黑鱼村", "group": "3", "house_number": "5"}),
        ("双阳区黑鱼村5号", {"community": "黑鱼村", "house_number": "5"}),
        ("双阳区黑鱼村东组", {"community": "黑鱼村", "group": "东"}),
        ("双阳区黑鱼村前进村民小组", {"community": "黑鱼村", "group": "前进"}),
        (
            "双阳区黑鱼村幸福小区3组",
            {"community": "黑鱼村", "compound": "幸福小区", "group": "3"},
        ),
    ],
)
def test_village_addresses(gazetteer: Gazetteer, raw: str, expected: dict[str, str]) -> None:
    got = components(parse_address(raw, gazetteer))
    assert got.pop("county") == "双阳区"
    assert got == expected


def test_a_word_starting_with_zu_after_a_village_is_no_group(gazetteer: Gazetteer) -> None:
    parsed = parse_address("双阳区黑鱼村组织部", gazetteer)
    assert (parsed.group, parsed.rest) == (None, ("组织部",))


def test_an_ambiguous_name_read_at_two_levels_keeps_its_text(gazetteer: Gazetteer) -> None:
    parsed = parse_address("吉林", gazetteer)
    assert components(parsed) == {"province": "吉林"}
    parsed = parse_address("吉林丰满区", gazetteer)
    assert components(parsed) == {"city": "吉林市", "county": "丰满区"}
    assert parsed.division_codes == {"city": "220200000000", "county": "220211000000"}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("长春市南关区九圣祠社区", "220102003002"),
        ("长春市宽城", "220103000000"),
        ("长春市", "220100000000"),
        ("黑鱼村", None),
        ("幸福小区", None),
    ],
)
def test_code_is_the_deepest_division_matched_without_doubt(
    gazetteer: Gazetteer, raw: str, code: str | None
) -> None:
    assert parse_address(raw, gazetteer).code == code
