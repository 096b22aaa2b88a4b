"""Unified division and grid codes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridmap.codes import (
    LEVELS,
    compose_division_code,
    compose_grid_code,
    explain,
    explain_text,
    is_division_code,
    is_grid_code,
    next_serials,
    parent_code,
    parse_division_code,
    parse_grid_code,
    reading_order,
    township_kind_of,
    village_kind_of,
)
from gridmap.errors import InvalidCode

if TYPE_CHECKING:
    from collections.abc import Callable

provinces = st.sampled_from(["11", "22", "31", "44", "65", "82"])
townships = st.integers(1, 599)
villages = st.integers(1, 599)
ERROR_GROUPS = {"format", "province", "city", "county", "township", "village", "serial"}


@st.composite
def village_codes(draw: st.DrawFn) -> str:
    return compose_division_code(
        draw(provinces),
        draw(st.integers(1, 99)),
        draw(st.integers(1, 99)),
        draw(townships),
        draw(villages),
    )


@given(village_codes(), st.integers(1, 999))
def test_grid_code_round_trip(community: str, serial: int) -> None:
    code = compose_grid_code(community, serial)
    parsed = parse_grid_code(code)
    assert parsed.community.code == community
    assert parsed.serial == serial
    assert parsed.code == code


def test_a_grid_code_carries_its_community() -> None:
    grid = parse_grid_code("220112002211012")
    assert grid.community == parse_division_code("220112002211")
    assert grid.community.village_kind == "village"


@given(village_codes())
def test_every_ancestor_is_a_valid_code_one_level_up(code: str) -> None:
    div = parse_division_code(code)
    levels = [parse_division_code(a).level for a in div.ancestors()]
    assert levels == ["province", "city", "county", "township"]
    assert parent_code(code) == div.ancestors()[-1]


def test_levels_and_kinds_follow_the_digits() -> None:
    assert parse_division_code("220000000000").level == "province"
    assert parse_division_code("220100000000").level == "city"
    assert parse_division_code("220102000000").level == "county"
    street = parse_division_code("220102005000")
    assert (street.level, street.township_kind) == ("township", "street")
    assert parse_division_code("220112102000").township_kind == "town"
    assert parse_division_code("220112201000").township_kind == "township"
    assert parse_division_code("220106400000").township_kind == "special"
    assert parse_division_code("220102005004").village_kind == "community"
    assert parse_division_code("220112002211").village_kind == "village"


def test_group_reads_the_digits_of_one_level() -> None:
    code = parse_division_code("220102005004")
    assert [code.group(level) for level in LEVELS] == ["22", "01", "02", "005", "004"]
    with pytest.raises(KeyError, match="grid"):
        code.group("grid")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind_of", "digits", "group"),
    [
        (township_kind_of, "000", "township"),
        (township_kind_of, "600", "township"),
        (village_kind_of, "000", "village"),
        (village_kind_of, "600", "village"),
    ],
)
def test_kind_digits_outside_001_599_are_rejected(
    kind_of: Callable[[str], str], digits: str, group: str
) -> None:
    with pytest.raises(InvalidCode, match="outside 001-599") as info:
        kind_of(digits)
    assert (info.value.value, info.value.group) == (digits, group)


def test_composed_codes_default_the_lower_groups_to_zero() -> None:
    assert compose_division_code(22) == "220000000000"
    assert compose_division_code(22, 1) == "220100000000"
    assert compose_division_code(22, 1, 2) == "220102000000"
    assert compose_division_code(22, 1, 2, 5) == "220102005000"
    assert compose_division_code("22", "01", "02", "005", "004") == "220102005004"


@pytest.mark.parametrize(
    ("groups", "value", "group", "fragment"),
    [
        ((22, 100), "100", "city", "100 does not fit in 2 digits"),
        ((22, 1, -1), "-1", "county", "-1 does not fit in 2 digits"),
        ((22, 1, 2, 5, 1000), "1000", "village", "1000 does not fit in 3 digits"),
    ],
)
def test_composing_with_a_group_too_wide_names_that_group(
    groups: tuple[int, ...], value: str, group: str, fragment: str
) -> None:
    with pytest.raises(InvalidCode) as info:
        compose_division_code(*groups)
    assert (info.value.value, info.value.group) == (value, group)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("code", "group", "fragment"),
    [
        ("2201020050", "format", "exactly 12 ASCII digits"),
        ("22010200500a", "format", "exactly 12 ASCII digits"),
        ("２２０１０２００５００４", "format", "exactly 12 ASCII digits"),
        ("990102005004", "province", "99 is not a province code"),
        ("220002005004", "county", "above them are zero"),
        ("220100005004", "township", "above them are zero"),
        ("220102000004", "village", "above them are zero"),
        ("220102700000", "township", "700 is outside 001-599"),
        ("220102005800", "village", "800 is outside 001-599"),
    ],
)
def test_malformed_division_codes_name_the_bad_group(code: str, group: str, fragment: str) -> None:
    with pytest.raises(InvalidCode) as info:
        parse_division_code(code)
    assert info.value.group == group
    assert fragment in str(info.value)
    assert code in str(info.value)


@pytest.mark.parametrize("code", ["2201020050", "22010200500a", ""])
def test_malformed_division_codes_say_what_was_expected(code: str) -> None:
    with pytest.raises(InvalidCode, match="must be a division code of exactly 12") as info:
        parse_division_code(code)
    assert info.value.value == code


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("220102005004", "format"),
        ("220102005004000", "serial"),
        ("220102005000001", "village"),
        ("990102005004001", "province"),
        ("22010200500400１", "format"),
    ],
)
def test_malformed_grid_codes_name_the_bad_group(code: str, group: str) -> None:
    with pytest.raises(InvalidCode) as info:
        parse_grid_code(code)
    assert info.value.group == group


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("220102005004", "must be a grid code of exactly 15 ASCII digits"),
        ("990102005004001", "99 is not a province code"),
        ("220100005004001", "005 are set although the county digits above them are zero"),
    ],
)
def test_malformed_grid_codes_name_the_whole_code_and_the_reason(code: str, fragment: str) -> None:
    with pytest.raises(InvalidCode) as info:
        parse_grid_code(code)
    assert info.value.value == code
    assert fragment in str(info.value)


def test_validity_checks_agree_with_the_parsers() -> None:
    assert is_division_code("220102005004")
    assert not is_division_code("220102005800")
    assert is_grid_code("220102005004001")
    assert not is_grid_code("220102005004000")


@given(st.text(max_size=20))
def test_arbitrary_text_is_either_a_valid_code_or_rejected_clearly(text: str) -> None:
    for parse in (parse_division_code, parse_grid_code):
        failure: InvalidCode | None = None
        try:
            parsed = parse(text)
        except InvalidCode as exc:
            failure = exc
        else:
            assert parsed.code == text
            assert text.isascii()
            assert text.isdigit()
        if failure is not None:
            assert failure.group in ERROR_GROUPS
            assert repr(text) in str(failure) or text in str(failure)


@given(village_codes(), st.integers(1000, 5000) | st.integers(-5, 0))
def test_out_of_range_serials_are_rejected(community: str, serial: int) -> None:
    with pytest.raises(InvalidCode, match="serial"):
        compose_grid_code(community, serial)


@pytest.mark.parametrize("serial", [1, 999])
def test_serials_run_from_1_to_999_inclusive(serial: int) -> None:
    assert parse_grid_code(compose_grid_code("220102005004", serial)).serial == serial


@pytest.mark.parametrize("serial", [0, 1000])
def test_out_of_range_serial_errors_name_the_serial(serial: int) -> None:
    with pytest.raises(InvalidCode, match="outside 1-999") as info:
        compose_grid_code("220102005004", serial)
    assert (info.value.value, info.value.group) == (str(serial), "serial")


def test_grids_cannot_belong_to_a_street() -> None:
    with pytest.raises(InvalidCode, match="community or village"):
        compose_grid_code("220102005000", 1)


def test_grid_error_for_a_street_names_the_street_code() -> None:
    with pytest.raises(
        InvalidCode, match="a township's code: a grid belongs to a community"
    ) as info:
        compose_grid_code("220102005000", 1)
    assert info.value.value == "220102005000"
    # the same digit group parse_grid_code blames for the same mistake
    assert info.value.group == "village"


def test_reading_order_is_rows_north_to_south_then_west_to_east() -> None:
    # 3 x 2 layout with a little jitter in y, as real grid centroids have
    pts = [(0, 100), (100, 103), (200, 98), (0, 0), (100, -4), (200, 2)]
    shuffled = [pts[i] for i in (4, 2, 0, 5, 1, 3)]
    order = reading_order(shuffled)
    assert [shuffled[i] for i in order] == pts


def test_reading_order_of_a_single_point() -> None:
    assert reading_order([(5.0, 5.0)]) == [0]


def test_a_point_exactly_row_height_below_the_top_stays_in_the_row() -> None:
    pts = [(10.0, 10.0), (0.0, 0.0)]
    assert reading_order(pts, row_height=10) == [1, 0]
    assert reading_order(pts, row_height=9.9) == [0, 1]


def test_default_row_height_is_half_the_largest_gap() -> None:
    # gaps of 30 and 70: 30 is within 70 / 2, so the first two points share a row
    assert reading_order([(100.0, 100.0), (0.0, 70.0), (50.0, 0.0)]) == [1, 0, 2]


def test_points_stacked_in_one_row_read_north_first() -> None:
    assert reading_order([(0.0, 0.0), (0.0, 5.0)], row_height=10) == [1, 0]


def test_serials_are_never_reused() -> None:
    assert next_serials([], 3) == [1, 2, 3]
    assert next_serials([1, 2, 7], 2) == [8, 9]  # 3-6 retired or skipped: not reissued
    with pytest.raises(InvalidCode, match="999"):
        next_serials([998], 2)


def test_serials_fill_a_community_up_to_999() -> None:
    assert next_serials([998], 1) == [999]
    with pytest.raises(InvalidCode, match="room for 999 grids") as info:
        next_serials([998], 2)
    assert (info.value.value, info.value.group) == ("1000", "serial")


def test_explain_names_places_when_known() -> None:
    names = {
        "220000000000": "吉林省",
        "220100000000": "长春市",
        "220102000000": "南关区",
        "220102005000": "长通街道",
        "220102005004": "龙兴社区",
    }
    assert (
        explain_text("220102005004001", names) == "吉林省 长春市 南关区 长通街道 龙兴社区, grid 001"
    )


@pytest.mark.parametrize("code", ["2201020050040011", "22010200500", ""])
def test_explain_names_both_accepted_lengths(code: str) -> None:
    with pytest.raises(InvalidCode, match="12-digit division code or a 15-digit grid code"):
        explain(code)


@pytest.mark.parametrize("code", ["2201020050040011", "22010200500", ""])
def test_explain_errors_name_the_bad_value(code: str) -> None:
    with pytest.raises(InvalidCode) as info:
        explain(code)
    assert (info.value.value, info.value.group) == (code, "format")


def test_explain_stops_at_the_codes_own_level() -> None:
    county = explain("220102000000")
    assert [(p.level, p.digits) for p in county] == [
        ("province", "22"),
        ("city", "01"),
        ("county", "02"),
    ]
    community = explain("220102005004", {"220102005004": "龙兴社区"})
    assert [(p.level, p.digits) for p in community] == [
        ("province", "22"),
        ("city", "01"),
        ("county", "02"),
        ("township", "005"),
        ("village", "004"),
    ]
    assert community[-1].name == "龙兴社区"
