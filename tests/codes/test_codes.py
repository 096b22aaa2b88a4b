"""Unified division and grid codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridmap.codes import (
    compose_division_code,
    compose_grid_code,
    explain,
    explain_text,
    next_serials,
    parent_code,
    parse_division_code,
    parse_grid_code,
    reading_order,
)
from gridmap.errors import InvalidCode

provinces = st.sampled_from(["11", "22", "31", "44", "65", "82"])
townships = st.integers(1, 599)
villages = st.integers(1, 599)


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
            groups = {"format", "province", "city", "county", "township", "village", "serial"}
            assert failure.group in groups
            assert repr(text) in str(failure) or text in str(failure)


@given(village_codes(), st.integers(1000, 5000) | st.integers(-5, 0))
def test_out_of_range_serials_are_rejected(community: str, serial: int) -> None:
    with pytest.raises(InvalidCode, match="serial"):
        compose_grid_code(community, serial)


def test_grids_cannot_belong_to_a_street() -> None:
    with pytest.raises(InvalidCode, match="community or village"):
        compose_grid_code("220102005000", 1)


def test_reading_order_is_rows_north_to_south_then_west_to_east() -> None:
    # 3 x 2 layout with a little jitter in y, as real grid centroids have
    pts = [(0, 100), (100, 103), (200, 98), (0, 0), (100, -4), (200, 2)]
    shuffled = [pts[i] for i in (4, 2, 0, 5, 1, 3)]
    order = reading_order(shuffled)
    assert [shuffled[i] for i in order] == pts


def test_serials_are_never_reused() -> None:
    assert next_serials([], 3) == [1, 2, 3]
    assert next_serials([1, 2, 7], 2) == [8, 9]  # 3-6 retired or skipped: not reissued
    with pytest.raises(InvalidCode, match="999"):
        next_serials([998], 2)


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
