"""The pure matching rules of address resolution: names, numbers and the decision (no database).

Buildings are given as the rows :mod:`gridmap.db.lookup` returns, made by :func:`building`
with defaults: building 1 of 明珠花园 in community 和平 (``C1``), grid ``G1``.
"""

from __future__ import annotations

from typing import Any

import pytest

from gridmap.address.parse import ParsedAddress
from gridmap.resolve.matching import (
    Route,
    best_names,
    common_level,
    contained_names,
    decide,
    has_number,
    name_key,
    name_score,
    near_names,
    number_key,
    numbered_in_division,
)

C1, C2 = "220103001001", "220103001002"  # two communities of one township
C3 = "220103002001"  # a community of another township of the county
C4 = "220104001001"  # a community of another county
G1, G2, G3 = "220103001001001", "220103001001002", "220103001002001"


def building(pk: int, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "building_pk": pk,
        "community_code": C1,
        "compound": "明珠花园",
        "place": "明珠花园",
        "hamlet": None,
        "road": None,
        "house_number": None,
        "group_no": None,
        "building_no": "1",
        "grid_code": G1,
    }
    row.update(kw)
    if "compound" in kw and "place" not in kw:
        row["place"] = kw["compound"]
    return row


def named(name: str, community: str = C1) -> dict[str, Any]:
    return {"community_code": community, "name": name}


NOTHING = Route(0.0)
ADDRESS = ParsedAddress(compound="明珠花园", building="1")

# ---------------------------------------------------------------------- names


def test_names_compare_normalised_and_without_a_trailing_xiaoqu() -> None:
    assert name_key("明珠花园小区") == name_key("明珠花园") == "明珠花园"
    assert name_key(" 明珠 花园 ") == "明珠花园"
    # a name that is little more than 小区 keeps it
    assert name_key("新小区") == "新小区"
    assert name_key("小区") == "小区"


def test_a_name_one_typo_away_scores_fuzzy_and_an_equal_one_exact() -> None:
    assert name_score("明珠花园小区", "明珠花园") == 1.0
    assert name_score("明珠花圆", "明珠花园") == 0.85  # replaced
    assert name_score("明珠园", "明珠花园") == 0.85  # missing
    assert name_score("明珠花花园", "明珠花园") == 0.85  # extra
    assert name_score("明月花苑", "明珠花园") == 0.0  # two typos


def test_a_typo_is_forgiven_from_three_characters_on() -> None:
    assert name_score("金域城", "金玉城") == 0.85
    assert name_score("金域", "金玉") == 0.0
    assert name_score("金玉", "金玉城") == 0.0


def test_blank_names_match_nothing_not_even_each_other() -> None:
    assert name_score("", "") == 0.0
    assert name_score("  ", "明珠花园") == 0.0
    assert name_score("明珠花园", " ") == 0.0


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("幸福小区2期", "幸福小区3期"),  # a digit for a digit
        ("一汽三街区", "一汽五街区"),  # Chinese numerals
        ("A区花园", "B区花园"),  # letters
        ("幸福2期园", "幸福新期园"),  # a numeral written, a character known
        ("幸福新期园", "幸福2期园"),  # a character written, a numeral known
        ("幸福2期园", "幸福期园"),  # an extra numeral
        ("幸福期园", "幸福2期园"),  # a missing numeral
        ("阳光A座", "阳光座"),
        ("阳光座", "阳光A座"),
    ],
)
def test_an_edit_touching_a_numeral_or_letter_names_another_place(query: str, name: str) -> None:
    assert name_score(query, name) == 0.0


def test_a_road_typo_may_not_touch_the_road_s_kind() -> None:
    assert name_score("人民大路", "人民大街", road=True) == 0.0
    assert name_score("人民街", "人民大街", road=True) == 0.0
    assert name_score("人明大街", "人民大街", road=True) == 0.85
    assert name_score("长江胡同", "长江胡洞", road=True) == 0.85  # the name has no kind
    # compounds have no kind: only roads are held to it
    assert name_score("人民大路", "人民大街") == 0.85


# ---------------------------------------------------------------------- numbers


@pytest.mark.parametrize("written", ["12", "12栋", "12号", "12#", "12单元", "１２栋", "十二号楼"])
def test_a_number_s_marker_and_spelling_do_not_matter(written: str) -> None:
    assert number_key(written) == "12"


def test_a_bare_marker_is_kept_and_only_one_marker_is_dropped() -> None:
    assert number_key("栋") == "栋"
    assert number_key("号") == "号"
    assert number_key("单元") == "单元"
    assert number_key("B") == "B"
    assert number_key("3号单元") == "3号"


def test_numbers_match_only_exactly() -> None:
    assert number_key("3") != number_key("8")
    assert number_key("3") != number_key("13")


def test_has_number_looks_at_the_building_number_else_the_house_number() -> None:
    tower = building(1, building_no="3栋", house_number="88")
    house = building(2, building_no=None, house_number="7号")
    assert has_number([tower], "3")
    assert not has_number([tower], "88")  # a building number outranks the house number
    assert has_number([tower, house], "7")
    assert not has_number([house], "8")
    assert not has_number([building(3, building_no=None)], "3")
    assert not has_number([], "3")


def test_numbered_in_division_narrows_by_group_only_where_known() -> None:
    rows = [building(1, building_no=None, house_number="7", group_no="5"),
            building(2, building_no=None, house_number="7", group_no="6"),
            building(3, building_no=None, house_number="7")]  # fmt: skip
    assert numbered_in_division(rows, "7") == rows
    assert numbered_in_division(rows, "7", group="6") == [rows[1], rows[2]]
    assert numbered_in_division(rows, "7", group="5") == [rows[0], rows[2]]
    assert numbered_in_division(rows, "8", group="5") == []
    assert numbered_in_division(rows, None) == []


# ---------------------------------------------------------------------- finding names


def test_best_names_keeps_every_name_of_the_best_score_in_order() -> None:
    rows = [named("明珠家园"), named("明珠花园", C2), named("明珠佳园"), named("幸福")]
    assert best_names("明珠花园", rows) == (1.0, [(C2, "明珠花园")])
    assert best_names("明珠丽园", rows) == (0.85, [(C1, "明珠家园"), (C2, "明珠花园"),
                                                 (C1, "明珠佳园")])  # fmt: skip
    assert best_names("阳光", rows) == (0.0, [])
    assert best_names("明珠花园", []) == (0.0, [])


def test_an_exact_name_found_after_fuzzy_ones_replaces_them() -> None:
    rows = [named("明珠家园"), named("明珠花园"), named("明珠佳园")]
    assert best_names("明珠花园", rows) == (1.0, [(C1, "明珠花园")])


def test_best_names_holds_roads_to_their_kind() -> None:
    rows = [named("人民大街"), named("人民大路")]
    assert best_names("人民大路", rows, road=True) == (1.0, [(C1, "人民大路")])
    assert best_names("人民大道", rows, road=True) == (0.0, [])
    assert best_names("人民大道", rows)[1] == [(C1, "人民大街"), (C1, "人民大路")]


def test_near_names_are_one_typo_away_in_the_communities_found() -> None:
    rows = [named("金色家园"), named("金色佳园"), named("金色佳园", C2), named("金色园林")]
    found = [(C1, "金色家园")]
    assert near_names("金色家园", rows, found) == [(C1, "金色佳园")]
    assert near_names("金色家园", rows, []) == []


def test_contained_names_are_whole_names_not_followed_by_a_numeral_or_qi() -> None:
    rows = [named("明珠花园"), named("幸福里", C2), named("金域"), named("阳光小区")]
    assert contained_names("和平街道明珠花园", rows) == [(C1, "明珠花园")]
    assert contained_names("明珠花园东门幸福里", rows) == [(C1, "明珠花园"), (C2, "幸福里")]
    assert contained_names("明珠花园3栋", rows) == []
    assert contained_names("明珠花园东门明珠花园3栋", rows) == [(C1, "明珠花园")]
    assert contained_names("明珠花园二期", rows) == []
    assert contained_names("明珠花园期", rows) == []
    assert contained_names("明珠花园B座", rows) == []
    assert contained_names("金域3栋金域", rows) == []  # too short to trust
    assert contained_names("明珠花", rows) == []
    # names are normalised as addresses are, so 小区 stays part of the name
    assert contained_names("阳光小区", rows) == [(C1, "阳光小区")]
    assert contained_names("阳光", rows) == []


# ---------------------------------------------------------------------- levels


def test_common_level_is_the_finest_division_all_candidates_share() -> None:
    assert common_level([C1, C1], {("c", "甲")}) == "compound"
    assert common_level([C1, C1], {1, 2}) == "community"
    assert common_level([C1, C2], {1, 2}) == "township"
    assert common_level([C1, C3], {1, 2}) == "county"
    assert common_level([C1, C4], {1, 2}) == "none"


def test_common_level_compares_whole_digit_groups() -> None:
    # a 社区 (001) and a 村 (201) of one township; a 街道 (001) and a 镇 (101) of one county
    assert common_level(["220103001001", "220103001201"], {1, 2}) == "township"
    assert common_level(["220103001001", "220103101001"], {1, 2}) == "county"


# ---------------------------------------------------------------------- one building


def test_one_building_of_the_compound_with_the_number_is_the_answer() -> None:
    compound = Route(1.0, [building(1), building(2, building_no="2")])
    d = decide(ADDRESS, compound, NOTHING, "1")
    assert (d.level, d.building_pk, d.confidence) == ("building", 1, 0.95)
    assert (d.candidates, d.grid_codes, d.reason) == ([], [], None)


def test_a_fuzzy_name_lowers_the_confidence() -> None:
    d = decide(ADDRESS, Route(0.85, [building(1)]), NOTHING, "1")
    assert d.building_pk == 1
    assert d.confidence == pytest.approx(0.95 * 0.85)


def test_the_written_group_must_agree_with_the_building_s() -> None:
    houses = [building(1, building_no=None, house_number="7", group_no="3"),
              building(2, building_no=None, house_number="7", group_no="4")]  # fmt: skip
    parsed = ParsedAddress(hamlet="李家屯", group="4", house_number="7")
    assert decide(parsed, Route(1.0, houses), NOTHING, "7").building_pk == 2


def test_a_house_number_on_a_road_names_its_building() -> None:
    parsed = ParsedAddress(road="人民大街", house_number="88")
    road = Route(1.0, [building(5, house_number="88", building_no=None)])
    d = decide(parsed, NOTHING, road, None)
    assert (d.level, d.building_pk, d.confidence) == ("building", 5, 0.95)


def test_a_road_s_building_counts_only_if_its_building_number_agrees() -> None:
    parsed = ParsedAddress(road="人民大街", house_number="88", building="2")
    road = Route(1.0, [building(5, house_number="88", building_no="1", grid_code=G2),
                       building(6, house_number="88", building_no="2", grid_code=G3),
                       building(7, house_number="88", building_no=None)])  # fmt: skip
    d = decide(parsed, NOTHING, road, "2")
    assert sorted(c["building_pk"] for c in d.candidates) == [6, 7]
    road.buildings.pop()
    assert decide(parsed, NOTHING, road, "2").building_pk == 6
    # without a building number written, every building at the house number stands
    d = decide(ParsedAddress(road="人民大街", house_number="88"), NOTHING, road, None)
    assert sorted(c["building_pk"] for c in d.candidates) == [5, 6]


def test_compound_and_road_agreeing_on_a_building_raise_the_confidence() -> None:
    parsed = ParsedAddress(road="人民大街", house_number="88", compound="明珠花园", building="1")
    both = building(1, house_number="88")
    other = building(2, house_number="88", building_no="1", compound="幸福里")
    d = decide(parsed, Route(0.85, [both]), Route(0.85, [both, other]), "1")
    assert d.building_pk == 1
    assert d.confidence == pytest.approx(0.95 * 0.87)
    d = decide(parsed, Route(1.0, [both]), Route(0.85, [both]), "1")
    assert d.confidence == pytest.approx(0.95)  # never above certainty
    d = decide(parsed, Route(0.85, [both]), Route(1.0, [both]), "1")
    assert d.confidence == pytest.approx(0.95)


def test_a_road_pointing_elsewhere_leaves_both_places_standing() -> None:
    parsed = ParsedAddress(road="人民大街", house_number="88", compound="明珠花园", building="1")
    mine = building(1)
    elsewhere = building(2, compound="幸福里", house_number="88", building_no=None, grid_code=G2)
    d = decide(parsed, Route(1.0, [mine]), Route(0.85, [elsewhere]), "1")
    assert [c["building_pk"] for c in d.candidates] == [1, 2]
    assert {c["score"] for c in d.candidates} == {0.85}
    assert d.reason == "several_compounds"


def test_a_road_pointing_into_the_compound_found_adds_nothing() -> None:
    parsed = ParsedAddress(road="人民大街", house_number="88", compound="明珠花园", building="1")
    mine = building(1)
    neighbour = building(2, house_number="88", building_no=None)
    d = decide(parsed, Route(0.85, [mine]), Route(1.0, [neighbour]), "1")
    assert (d.building_pk, d.confidence) == (1, pytest.approx(0.95 * 0.85))


def test_a_road_is_not_taken_when_the_compound_found_lacks_the_number() -> None:
    parsed = ParsedAddress(road="人民大街", house_number="88", compound="明珠花园", building="9")
    road = Route(1.0, [building(5, compound="幸福里", house_number="88", building_no=None)])
    d = decide(parsed, Route(1.0, [building(1)]), road, "9")
    assert d.level == "compound"
    assert d.reason == "unknown_building"
    # with no building number written the road's house stands
    d = decide(ParsedAddress(road="人民大街", house_number="88"), Route(1.0, [building(1)]), road,
               None)  # fmt: skip
    assert d.building_pk == 5


def test_a_number_under_a_community_alone_names_its_building() -> None:
    parsed = ParsedAddress(community="和平社区", building="B")
    division = Route(0.9, [building(3, compound=None, place=None, building_no="B")])
    d = decide(parsed, NOTHING, NOTHING, "B", division)
    assert (d.building_pk, d.confidence) == (3, pytest.approx(0.95 * 0.9))
    assert decide(parsed, NOTHING, NOTHING, "B", Route(0.9)).level == "none"
    # a compound that was found outranks the community's numbered buildings
    d = decide(parsed, Route(1.0, [building(1)]), NOTHING, "B", division)
    assert d.level == "compound"


# ---------------------------------------------------------------------- several buildings


def test_several_buildings_in_one_grid_give_the_grid() -> None:
    twins = [building(1), building(2)]
    d = decide(ADDRESS, Route(1.0, twins), NOTHING, "1")
    assert (d.level, d.grid_codes, d.confidence) == ("compound", [G1], 0.8)
    assert d.candidates == []
    assert d.building_pk is None
    assert d.reason is None
    assert d.notes == ["2 buildings fit equally well", "all of them lie in one grid"]
    assert decide(ADDRESS, Route(0.85, twins), NOTHING, "1").confidence == 0.68


def test_several_buildings_across_grids_stand_as_candidates() -> None:
    twins = [building(1), building(2, grid_code=G2)]
    d = decide(ADDRESS, Route(0.85, twins), NOTHING, "1")
    assert d.level == "compound"
    assert [(c["building_pk"], c["score"]) for c in d.candidates] == [(1, 0.85), (2, 0.85)]
    assert d.confidence == round(0.9 * 0.85 / 2, 3)
    assert d.grid_codes == []
    assert d.notes == ["2 buildings fit equally well"]
    assert (d.reason, d.message) == ("several_buildings", "2 buildings fit equally well")


def test_several_buildings_without_a_grid_are_not_one_grid() -> None:
    twins = [building(1, grid_code=None), building(2, grid_code=None)]
    d = decide(ADDRESS, Route(1.0, twins), NOTHING, "1")
    assert d.grid_codes == []
    assert len(d.candidates) == 2


def test_several_compounds_and_several_villages_are_told_apart() -> None:
    parsed = ParsedAddress(building="1")
    division = Route(
        0.9, [building(1, compound="甲园"), building(2, compound="乙园", grid_code=G2)]
    )
    d = decide(parsed, NOTHING, NOTHING, "1", division)
    assert d.level == "community"
    assert (d.reason, d.message) == ("several_compounds", "2 buildings fit, in 乙园、甲园")
    houses = Route(0.9, [building(1, compound=None, place="李家屯", grid_code=G1),
                         building(2, compound=None, place="李家屯", community_code=C2,
                                  grid_code=G3)])  # fmt: skip
    d = decide(parsed, NOTHING, NOTHING, "1", houses)
    assert d.level == "township"
    assert (d.reason, d.message) == ("several_villages", f"2 houses fit, in villages {C1}, {C2}")
    unnamed = Route(0.9, [building(1, compound=None, place=None, grid_code=G1),
                          building(2, compound=None, place=None, community_code=C2,
                                   grid_code=G3)])  # fmt: skip
    assert decide(parsed, NOTHING, NOTHING, "1", unnamed).reason == "several_villages"
    spread = Route(0.9, [building(1, compound="甲园"),
                         building(2, compound="乙园", community_code=C2, grid_code=G3)])  # fmt: skip
    assert decide(parsed, NOTHING, NOTHING, "1", spread).reason == "several_compounds"


def test_the_places_named_are_compounds_else_hamlets_and_never_blank() -> None:
    parsed = ParsedAddress(building="1")
    hamlets = Route(0.9, [building(1, compound=None, place="李家屯"),
                          building(2, compound=None, place="王家屯", grid_code=G2)])  # fmt: skip
    d = decide(parsed, NOTHING, NOTHING, "1", hamlets)
    assert (d.reason, d.message) == ("several_compounds", "2 buildings fit, in 李家屯、王家屯")
    # within a hamlet, the compounds of its houses tell them apart
    in_hamlet = Route(0.9, [building(1, compound="甲园", place="李家屯"),
                            building(2, compound="乙园", place="李家屯", grid_code=G2)])  # fmt: skip
    assert (
        decide(parsed, NOTHING, NOTHING, "1", in_hamlet).message == "2 buildings fit, in 乙园、甲园"
    )
    # a building of no named place is no second compound
    loose = Route(0.9, [building(1, compound="甲园"),
                        building(2, compound=None, place=None, grid_code=G2)])  # fmt: skip
    d = decide(parsed, NOTHING, NOTHING, "1", loose)
    assert (d.reason, d.message) == ("several_buildings", "2 buildings fit equally well")


# ---------------------------------------------------------------------- a compound without the number


def test_an_unknown_building_in_a_compound_within_one_grid_gives_the_compound() -> None:
    parsed = ParsedAddress(compound="明珠花园", building="9")
    compound = Route(0.85, [building(1), building(2, building_no="2")])
    d = decide(parsed, compound, NOTHING, "9")
    assert (d.level, d.compound, d.grid_codes) == ("compound", "明珠花园", [G1])
    assert d.confidence == round(0.8 * 0.85, 3)
    assert d.candidates == []
    assert d.notes == ["no building 9 in 明珠花园"]
    assert (d.reason, d.message) == ("unknown_building", "明珠花园 has no building or house 9")


def test_the_house_number_is_named_when_no_building_was_written() -> None:
    parsed = ParsedAddress(hamlet="李家屯", house_number="12")
    d = decide(parsed, Route(1.0, [building(1, house_number="3", building_no=None)]), NOTHING,
               "12")  # fmt: skip
    assert d.message == "明珠花园 has no building or house 12"


def test_a_compound_without_a_number_written_gives_its_grid_without_a_reason() -> None:
    d = decide(ParsedAddress(compound="明珠花园"), Route(1.0, [building(1)]), NOTHING, None)
    assert (d.level, d.grid_codes, d.compound, d.confidence) == ("compound", [G1], "明珠花园", 0.8)
    assert (d.notes, d.reason, d.message) == ([], None, None)


def test_a_compound_across_grids_never_guesses_one() -> None:
    compound = Route(1.0, [building(1, grid_code=G2), building(2, building_no="2"),
                           building(3, building_no="3", grid_code=None)])  # fmt: skip
    d = decide(ParsedAddress(compound="明珠花园"), compound, NOTHING, None)
    assert d.level == "compound"
    assert d.compound == "明珠花园"
    assert d.grid_codes == []
    assert d.candidates == [{"grid_code": G1, "compound": "明珠花园", "score": 1.0},
                            {"grid_code": G2, "compound": "明珠花园", "score": 1.0}]  # fmt: skip
    assert d.confidence == 0.4
    assert decide(ParsedAddress(compound="明珠花圆"), Route(0.85, compound.buildings), NOTHING,
                  None).confidence == 0.34  # fmt: skip
    assert d.notes == ["明珠花园 spans 2 grids"]
    assert (d.reason, d.message) == ("several_grids", "明珠花园 spans 2 grids")
    # a building number written but unknown stays the reason
    d = decide(ParsedAddress(compound="明珠花园", building="9"), compound, NOTHING, "9")
    assert d.notes == ["no building 9 in 明珠花园", "明珠花园 spans 2 grids"]
    assert (d.reason, d.message) == ("unknown_building", "明珠花园 has no building or house 9")
    # the confidence is shared among the grids, to three places
    compound.buildings.append(building(4, building_no="4", grid_code=G3))
    d = decide(ParsedAddress(compound="明珠花园"), compound, NOTHING, None)
    assert (len(d.candidates), d.confidence) == (3, 0.267)


def test_a_compound_with_no_grid_at_all_gives_no_candidate() -> None:
    compound = Route(1.0, [building(1, grid_code=None)])
    d = decide(ParsedAddress(compound="明珠花园"), compound, NOTHING, None)
    assert (d.level, d.candidates, d.grid_codes) == ("compound", [], [])
    assert d.confidence == 0.8
    assert d.reason == "several_grids"


def test_several_compounds_without_the_number_stand_with_their_grids() -> None:
    compound = Route(0.85, [building(1, compound="明珠家园"),
                            building(2, compound="明珠佳园", community_code=C2, grid_code=G3),
                            building(3, compound="明珠佳园", community_code=C2, grid_code=None),
                            building(4, compound="明珠家园", building_no="2")])  # fmt: skip
    d = decide(ParsedAddress(compound="明珠丽园"), compound, NOTHING, None)
    assert d.level == "township"
    assert d.candidates == [{"grid_code": G1, "compound": "明珠家园", "score": 0.85},
                            {"grid_code": G3, "compound": "明珠佳园", "score": 0.85}]  # fmt: skip
    assert d.confidence == round(0.5 * 0.85 / 2, 3)
    assert d.notes == ["2 compounds fit equally well"]
    assert d.reason == "several_compounds"
    assert d.message == "2 places fit: 明珠佳园、明珠家园 in 2 communities"
    d = decide(ParsedAddress(compound="明珠丽园", building="9"), compound, NOTHING, "9")
    assert d.notes == ["no building 9 in 明珠家园 or 明珠佳园", "2 compounds fit equally well"]
    assert d.reason == "several_compounds"


def test_same_named_compounds_in_two_communities_are_two_places() -> None:
    compound = Route(1.0, [building(1), building(2, community_code=C2, grid_code=G3)])
    d = decide(ParsedAddress(compound="明珠花园", building="9"), compound, NOTHING, "9")
    assert d.message == "2 places fit: 明珠花园 in 2 communities"
    assert [c["grid_code"] for c in d.candidates] == [G1, G3]


def test_a_compound_lacking_the_number_and_its_near_name_having_it_both_stand() -> None:
    parsed = ParsedAddress(compound="金色家园", building="1")
    compound = Route(1.0, [building(1, compound="金色家园", building_no="2"),
                           building(2, compound="金色家园", building_no="3", grid_code=G2)],
                     near=[building(7, compound="金色佳园", building_no="1", grid_code=G3),
                           building(8, compound="金色佳园", building_no="5")])  # fmt: skip
    d = decide(parsed, compound, NOTHING, "1")
    assert d.level == "compound"
    assert d.candidates == [
        {"grid_code": G1, "compound": "金色家园", "score": 1.0},
        {"grid_code": G2, "compound": "金色家园", "score": 1.0},
        {**compound.near[0], "score": 0.85},
    ]
    assert d.confidence == round(0.5 / 3, 3)
    assert d.notes == ["no building 1 in 金色家园; 金色佳园 has one"]
    assert d.reason == "several_compounds"
    assert d.message == (
        "金色家园 has no 1, but 金色佳园, one character away, has: the name or the number is wrong"
    )


def test_a_house_in_the_wrong_group_names_the_hamlet_that_has_it() -> None:
    parsed = ParsedAddress(hamlet="李家屯", group="3", house_number="2")
    houses = [building(1, compound=None, place="李家屯", hamlet="李家屯", building_no=None,
                       house_number="2", group_no="2")]  # fmt: skip
    near = [building(5, compound=None, place=None, hamlet="后岗屯", building_no=None,
                     house_number="2", group_no="3", grid_code=G2)]  # fmt: skip
    d = decide(parsed, Route(1.0, houses, near), NOTHING, "2")
    assert d.notes == ["no building 2 in group 3 in 李家屯; 后岗屯 has one"]
    assert d.message is not None
    assert d.message.startswith("李家屯 has no 2 in group 3, but 后岗屯, one character away")
    # a house of the village in no named hamlet stands, but names no place
    unnamed = building(6, compound=None, place=None, building_no=None, house_number="2",
                       group_no="3", grid_code=G3)  # fmt: skip
    d = decide(parsed, Route(1.0, houses, [*near, unnamed]), NOTHING, "2")
    assert [c.get("building_pk") for c in d.candidates] == [None, 5, 6]
    assert d.notes == ["no building 2 in group 3 in 李家屯; 后岗屯 has one"]


def test_every_place_found_and_every_near_place_is_named() -> None:
    parsed = ParsedAddress(hamlet="李家屯", group="3", house_number="2")
    houses = [building(1, compound=None, place="李家屯", hamlet="李家屯", building_no=None,
                       house_number="2", group_no="2"),
              building(2, compound=None, place="李佳屯", hamlet="李佳屯", building_no=None,
                       house_number="2", group_no="1", grid_code=G2)]  # fmt: skip
    near = [building(5, compound=None, place=None, hamlet="后岗屯", building_no=None,
                     house_number="2", group_no="3", grid_code=G3),
            building(6, compound=None, place=None, hamlet="前岗屯", building_no=None,
                     house_number="2", group_no="3", grid_code=G3)]  # fmt: skip
    d = decide(parsed, Route(0.85, houses, near), NOTHING, "2")
    assert [c.get("building_pk") for c in d.candidates] == [None, None, 5, 6]
    assert d.confidence == round(0.5 * 0.85 / 4, 3)
    assert d.notes == ["no building 2 in group 3 in 李佳屯、李家屯; 前岗屯、后岗屯 has one"]
    assert d.message == (
        "李佳屯、李家屯 has no 2 in group 3, but 前岗屯、后岗屯, one character away, has: "
        "the name or the number is wrong"
    )


def test_a_near_name_without_the_number_changes_nothing() -> None:
    parsed = ParsedAddress(compound="金色家园", building="1")
    compound = Route(1.0, [building(1, compound="金色家园", building_no="2")],
                     near=[building(8, compound="金色佳园", building_no="5")])  # fmt: skip
    d = decide(parsed, compound, NOTHING, "1")
    assert (d.reason, d.grid_codes) == ("unknown_building", [G1])


def test_nothing_found_is_level_none() -> None:
    d = decide(ADDRESS, NOTHING, NOTHING, "1")
    assert (d.level, d.confidence, d.building_pk) == ("none", 0.0, None)
    assert (d.candidates, d.grid_codes, d.notes, d.reason) == ([], [], [], None)
    assert decide(ADDRESS, NOTHING, NOTHING, "1", None).level == "none"
