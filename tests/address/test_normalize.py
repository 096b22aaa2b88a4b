"""More spellings the normaliser must bring to one canonical form."""

from __future__ import annotations

import pytest

from gridmap.address import normalize_address


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # official suffixes that repeat the everyday one collapse
        ("黑鱼村村委会", "黑鱼村"),
        ("龙兴社区社区居委会", "龙兴社区"),
        # dashes of every kind, and runs of them, are one dash between digits only
        ("12—3—402", "12栋3单元402室"),
        ("12_3_402", "12栋3单元402室"),
        ("12~3", "12-3"),
        ("12--3", "12-3"),
        ("-12-", "12"),
        ("12-3-402-5", "12-3-402-5"),
        # # is 号 after a number, and dropped elsewhere
        ("3#", "3号"),
        ("#3栋", "3栋"),
        ("abc", "ABC"),
        # buildings
        ("5号栋", "5栋"),
        ("A-3-402", "A栋3单元402室"),
        ("12栋3-402号", "12栋3单元402室"),
        ("12栋3门", "12栋3单元"),
        # numerals before or after a counting marker
        ("两栋", "2栋"),
        ("两单元", "2单元"),
        ("第十二组", "第12组"),
        ("二十一层", "21层"),
        ("十栋一零二", "10栋102"),
        ("五号楼三门二〇一", "5栋3单元201"),
        # ... but not a numeral that is no number, nor one starting a name
        ("十十栋", "十十栋"),
        ("二号路", "二号路"),
        ("三社区", "三社区"),
    ],
)
def test_normalize_more_spellings(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # a basement floor keeps its sign however it is written; a dash between numbers stays
        ("-2层", "负2层"),
        ("3栋2单元-1层", "3栋2单元负1层"),
        ("地下1层", "负1层"),
        ("负一层", "负1层"),
        ("-1F", "负1F"),
        ("地下商城1层", "地下商城1层"),
        ("12-3", "12-3"),
    ],
)
def test_a_basement_floor_keeps_its_sign(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected
    assert normalize_address(expected) == expected
