"""Behaviour of the gazetteer: the records it accepts, the names it finds, its typo index.

Each test builds its own small gazetteer, so that what it checks is the building too.
"""

from __future__ import annotations

from typing import Any

import pytest

from gridmap.address import DivisionRecord, Gazetteer, parse_address
from gridmap.address.gazetteer import Division
from gridmap.errors import InvalidInput

CHANGCHUN = [
    DivisionRecord("220000000000", "吉林省", "province", None),
    DivisionRecord("220100000000", "长春市", "city", "220000000000", ("春城",)),
    DivisionRecord("220102000000", "南关区", "county", "220100000000"),
    DivisionRecord("220103000000", "宽城区", "county", "220100000000"),
    DivisionRecord("220102005000", "长通街道", "township", "220102000000", ("长通街道办事处",)),
    DivisionRecord("220102005004", "龙兴社区", "village", "220102005000"),
    DivisionRecord("220106005000", "青年路街道", "township", "220106000000", ("青年街道",)),
]


def _names(gaz: Gazetteer, text: str) -> list[tuple[str, str, list[str]]]:
    return [(text[m.start : m.end], m.kind, [d.code for d in m.divisions]) for m in gaz.find(text)]


# ---- records -----------------------------------------------------------------------------


def test_mapping_records_give_name_parent_and_aliases() -> None:
    gaz = Gazetteer.from_records(
        [
            {"code": "220100000000", "name": "长春市", "level": "city", "parent_code": None},
            {
                "code": "220103000000",
                "name": "宽城区",
                "level": "county",
                "parent_code": "220100000000",
                "aliases": ["宽城地区"],
            },
        ]
    )
    div = gaz.get("220103000000")
    assert div == Division("220103000000", "宽城区", "county", "220100000000", ("宽城地区",))
    assert [d.code for d in gaz.children("220100000000")] == ["220103000000"]
    assert _names(gaz, "宽城地区") == [
        ("宽城", "short", ["220103000000"]),
        ("宽城地区", "alias", ["220103000000"]),
    ]


@pytest.mark.parametrize(
    ("record", "aliases"),
    [
        (("220100000000", "长春市", "city", "220000000000"), ()),
        (("220100000000", "长春市", "city", "220000000000", None), ()),
        (("220100000000", "长春市", "city", "220000000000", ()), ()),
        (("220100000000", "长春市", "city", "220000000000", ["春城"]), ("春城",)),
        (["220100000000", "长春市", "city", "220000000000", ("春城",)], ("春城",)),
    ],
)
def test_tuple_records_with_or_without_aliases(record: Any, aliases: tuple[str, ...]) -> None:
    gaz = Gazetteer.from_records([record])
    assert gaz.get("220100000000") == Division(
        "220100000000", "长春市", "city", "220000000000", aliases
    )


def test_an_empty_parent_code_is_no_parent() -> None:
    gaz = Gazetteer.from_records([("220000000000", "吉林省", "province", "")])
    div = gaz.get("220000000000")
    assert div is not None
    assert div.parent_code is None


@pytest.mark.parametrize(
    "record",
    [
        ("220100000000", "长春市", "city"),
        ("220100000000", "长春市", "city", None, (), "extra"),
        "长春市宽城",
        42,
        None,
    ],
)
def test_malformed_records_are_rejected_naming_the_record(record: Any) -> None:
    with pytest.raises(InvalidInput) as err:
        Gazetteer.from_records([record])
    assert str(err.value) == (
        f"division record {record!r} is not (code, name, level, parent_code, aliases)"
    )
    assert err.value.details == {"value": repr(record)}


def test_an_unknown_level_is_rejected_naming_it() -> None:
    with pytest.raises(InvalidInput) as err:
        Gazetteer.from_records([("220000000000", "吉林省", "state", None)])
    assert str(err.value) == (
        "division '220000000000' has level 'state'; "
        "expected one of province, city, county, township, village"
    )
    assert err.value.details == {"value": "state"}


@pytest.mark.parametrize("code", ["22", "2200000000000", "22000000000X"])
def test_a_code_not_of_12_digits_is_rejected_naming_it(code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        Gazetteer.from_records([(code, "吉林省", "province", None)])
    assert str(err.value) == f"division code {code!r} for '吉林省' is not 12 digits"
    assert err.value.details == {"value": code}


# ---- what the gazetteer holds ------------------------------------------------------------


def test_a_gazetteer_holds_its_own_divisions_and_its_world_only_those() -> None:
    known = [DivisionRecord("220182000000", "榆树市", "county", "220100000000")]
    gaz = Gazetteer.from_records(CHANGCHUN, known)
    assert gaz.holds("220103000000")
    assert not gaz.holds("220182000000")
    assert gaz.world is not None
    assert gaz.world.holds("220103000000")
    assert not gaz.world.holds("220182000000")
    assert gaz.world.get("220182000000") is not None
    assert Gazetteer.from_records(CHANGCHUN).world is None


def test_children() -> None:
    gaz = Gazetteer.from_records(CHANGCHUN)
    assert sorted(d.name for d in gaz.children("220100000000")) == ["南关区", "宽城区"]
    assert list(gaz.children("220103000000")) == []
    assert list(gaz.children("999999999999")) == []


def test_key_is_the_normalised_name_also_for_a_division_it_does_not_hold() -> None:
    gaz = Gazetteer.from_records(CHANGCHUN)
    inside = gaz.get("220102005000")
    assert inside is not None
    assert gaz.key(inside) == "长通街道"
    outside = Division("220182100213", "铁北村委会", "village", "220182100000")
    assert gaz.key(outside) == "铁北村"


# ---- names, aliases and short forms ------------------------------------------------------


def test_names_aliases_and_short_forms_are_found_with_how_they_were_written() -> None:
    gaz = Gazetteer.from_records(CHANGCHUN)
    assert _names(gaz, "春城") == [("春城", "alias", ["220100000000"])]
    assert _names(gaz, "长春") == [("长春", "short", ["220100000000"])]
    # an official name that normalises to the everyday one is still a name, not an alias
    assert _names(gaz, "长通街道") == [
        ("长通", "short", ["220102005000"]),
        ("长通街", "short", ["220102005000"]),
        ("长通街道", "name", ["220102005000"]),
    ]
    assert _names(gaz, "青年街道")[-1] == ("青年街道", "alias", ["220106005000"])


def test_an_alias_of_a_street_office_is_read_without_a_parent() -> None:
    parsed = parse_address("青年街道幸福小区3栋", Gazetteer.from_records(CHANGCHUN))
    assert parsed.township == "青年路街道"
    assert parsed.division_codes == {"township": "220106005000"}


def test_a_short_form_that_is_another_divisions_full_name_belongs_to_that_one() -> None:
    gaz = Gazetteer.from_records(
        [
            DivisionRecord("220104000000", "朝阳区", "county", "220100000000"),
            DivisionRecord("220183104201", "朝阳村", "village", "220183104000", ("朝阳",)),
        ]
    )
    assert _names(gaz, "朝阳") == [("朝阳", "alias", ["220183104201"])]


def test_an_empty_gazetteer_finds_nothing() -> None:
    gaz = Gazetteer.from_records([])
    assert len(gaz) == 0
    assert gaz.find("长春市宽城区") == []


@pytest.mark.parametrize(
    ("name", "level", "shorts"),
    [
        ("哈达湾街道", "township", ("哈达湾", "哈达湾街")),
        ("平湖镇", "township", ("平湖",)),
        ("双营子乡", "township", ("双营子",)),
        ("长春市", "city", ("长春",)),
        ("吉林省", "province", ("吉林",)),
        ("公主岭市", "county", ("公主岭",)),
        ("长白朝鲜族自治县", "county", ("长白",)),
        ("九圣祠社区", "village", ("九圣祠",)),
        ("黑鱼村", "village", ("黑鱼",)),
        ("凯旋路社区", "village", ()),
        ("南区", "county", ()),
        ("幸福小区", "village", ()),
    ],
)
def test_short_forms(name: str, level: Any, shorts: tuple[str, ...]) -> None:
    assert Gazetteer.short_forms(Division("220000000000", name, level, None)) == shorts


# ---- the typo index ----------------------------------------------------------------------


def test_descendant_keys_lists_each_candidate_once() -> None:
    gaz = Gazetteer.from_records(CHANGCHUN)
    got = gaz.descendant_keys("220102000000", "长通")
    assert got == [("长通街道", gaz.get("220102005000"))]
    # the second character also finds names (a typo in the first one), and grandchildren too
    assert [k for k, _ in gaz.descendant_keys("220102000000", "常通")] == ["长通街道"]
    assert [k for k, _ in gaz.descendant_keys("220102000000", "龙兴")] == ["龙兴社区"]
    assert gaz.descendant_keys("220102000000", "人民") == []


def test_a_three_character_name_is_forgiven_one_typo() -> None:
    parsed = parse_address("长春市宽成区人民大街", Gazetteer.from_records(CHANGCHUN))
    assert parsed.county == "宽城区"
    assert parsed.division_codes["county"] == "220103000000"


def test_the_national_names_are_built_once_however_many_threads_ask_at_once() -> None:
    """A burst of addresses on a fresh server: one build, not one per thread (each a second)."""
    import threading

    from gridmap.address import gazetteer as module
    from gridmap.address.world import known_divisions

    records = [("229901000000", "测试一区", "county", None, ())]
    gaz = Gazetteer.from_records(records, known_divisions())
    before = module._world.cache_info().misses
    barrier = threading.Barrier(6)
    worlds: list[Any] = []

    def ask() -> None:
        barrier.wait()
        worlds.append(gaz.world)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert module._world.cache_info().misses == before + 1
    assert len({id(w) for w in worlds}) == 1
    assert worlds[0] is not None
    assert worlds[0].holds("229901000000")
