"""Read what follows the divisions: hamlet (屯), villager group (组), road and house number,
compound (小区), building (栋), unit (单元), floor (层) and room (室).

The grammar is a loop over normalised text: at each position the readers (one per kind of
component) are tried in a fixed order, the first whose pattern fits the components found so
far wins, and text no reader takes is kept as a leftover.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gridmap.address.admin import CJK, COMPONENT_OF_LEVEL, STEM_CLS

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["read_rest"]


_HAMLET = re.compile(rf"[{CJK}]{{1,6}}?屯(?!路|街|大街|大路|镇|乡|小区|花园|家园|新村|公寓|大厦)")
_GROUP = re.compile(r"第?([0-9]+)(?:村民小组|小组|组|社(?!区|会))")
# a township or community written after a development zone or other leftover
_LATE_ADMIN = re.compile(rf"(?P<t>{STEM_CLS}{{2,6}}?(?:街道|镇|乡))|(?P<v>{STEM_CLS}{{2,6}}?社区)")
_LATE_LEVEL = {"t": "township", "v": "village"}
_VILLAGE_GROUP = re.compile(rf"([{CJK}]{{1,3}}?)组(?![织长团])")
_NAMED_GROUP = re.compile(rf"([{CJK}]{{2,5}}?)村民小组")
_ROAD = re.compile(
    rf"[{CJK}]{{2,12}}?(?:大街|大路|大道|环路|公路|路|街(?!道)|胡同|巷|弄|(?<!街)道)"
)
_NUMBERED_ROAD = re.compile(rf"[{CJK}]{{0,6}}?[0-9]+号?(?:大街|大路|路|街|巷)")
_SUB_ROAD = re.compile(rf"[{CJK}]{{1,3}}?(?:巷|弄|胡同)|[0-9]+(?:巷|弄)")
_COMPOUND_SUFFIX = (
    "小区|花园|家园|新村|公寓|大厦|广场|名苑|雅苑|苑|城|公馆|华府|府|庭|邸|园|里|湾|居|院|"
    "宿舍|社区|村|楼|中心|大院"
)
_COMPOUND_START = re.compile(r"小区|新村|花园|家园|公寓|大厦|社区")
_HOUSE_NO = re.compile(r"((?:[甲乙丙丁])?[0-9]+(?:-[0-9]+)?[A-Z]?)号院?")
_BARE_NO = re.compile(r"([0-9]+(?:-[0-9]+)?)(?![0-9A-Z\-]|栋|单元|层|楼|室|门|组|期|号)")
_RUN = re.compile(rf"[{CJK}]+(?:[0-9]+期)?")
_COMPOUND_END = re.compile(rf"(?:{_COMPOUND_SUFFIX})(?:[0-9]+期|[东南西北一二三四五六七八九]区)?$")
_UNIT_NEXT = re.compile(r"[0-9A-Z]+(?:栋|单元|层|楼|室|号|-)|[0-9]+$")
_BUILDING = re.compile(r"([东南西北]?[0-9]+[A-Z]?|[A-Z][0-9]*)栋")
_UNIT = re.compile(r"([0-9]+)单元")
# 3门402: in the north-east an entrance (门) is a unit
_DOOR_UNIT = re.compile(r"([0-9]+)门(?=[0-9]|$)")
_FLOOR_AS_BUILDING = re.compile(r"([0-9]+)楼(?=[0-9]+单元)")
_FLOOR = re.compile(r"((?:负|-)?[0-9]+)(?:层|楼)")
_FLOOR_F = re.compile(r"((?:负|-)?[0-9]+)F(?![0-9A-Z])")
_ROOM = re.compile(r"([0-9]{3,}-[0-9]{3,}|[0-9]+[A-Z]?)(?:室|户|房间|房)")
_NUMBER_SIGN = re.compile(r"([0-9]+[A-Z]?(?:-[0-9]+)?|[A-Z][0-9]*)号")
_PAIR = re.compile(r"([A-Z]?[0-9]+[A-Z]?)-([0-9]+)(?:室|号)?(?![0-9\-])")
_SEGMENT = re.compile(r"[东西南北中]?[一二三四五六七八九0-9]*段")
_TRAILING_NO = re.compile(r"([0-9]+[A-Z]?)$")
_JUNK_RUN = re.compile(rf"[{CJK}]+|[0-9A-Z\-]+|.")


def read_rest(text: str, pos: int, got: dict[str, Any]) -> list[str]:
    """Fill ``got`` (component name → value) from ``text[pos:]``; return the leftovers."""
    reader = _Reader(text, pos, got)
    while reader.pos < len(text):
        for read in _READERS:
            if read(reader):
                break
    return reader.rest


@dataclass
class _Reader:
    """Where one read of the text is, and what it has found so far."""

    text: str
    pos: int
    got: dict[str, Any]
    rest: list[str] = field(default_factory=list)
    #: the text just read was a road, or a segment or lane after one
    after_road: bool = False

    def advance(self, m: re.Match[str], after_road: bool = False) -> bool:
        """Move past ``m``; True, so that a reader that read something can end with it."""
        self.pos = m.end()
        self.after_road = after_road
        return True

    def put(self, component: str, value: str, written: str) -> None:
        """Take ``value`` as ``component`` unless that is found already; else keep ``written``."""
        if component in self.got:
            self.rest.append(written)
        else:
            self.got[component] = value


def _village(r: _Reader) -> bool:
    """A hamlet (屯), or a villager group: numbered (3组, 第3村民小组) or named (东组)."""
    text, pos, got = r.text, r.pos, r.got
    if (m := _HAMLET.match(text, pos)) and "hamlet" not in got and "road" not in got:
        got["hamlet"] = m.group(0)
    elif (
        ((m := _GROUP.match(text, pos)) and "group" not in got and "building" not in got)
        or ((m := _NAMED_GROUP.match(text, pos)) and "group" not in got)
        or (
            ("community" in got or "hamlet" in got)
            and "group" not in got
            and "road" not in got
            and (m := _VILLAGE_GROUP.match(text, pos))
        )
    ):
        got["group"] = m.group(1)
    else:
        return False
    return r.advance(m)


def _late_admin(r: _Reader) -> bool:
    """A township or community written after a development zone or other leftover."""
    got = r.got
    if "road" in got or "compound" in got or not (m := _LATE_ADMIN.match(r.text, r.pos)):
        return False
    component = COMPONENT_OF_LEVEL[_LATE_LEVEL[m.lastgroup or ""]]
    if component in got:
        return False
    got[component] = m.group(0)
    return r.advance(m)


def _road(r: _Reader) -> bool:
    """A road, an area or compound before it in the same run split off; or a numbered road."""
    text, pos, got = r.text, r.pos, r.got
    if "road" in got or "compound" in got or "building" in got:
        return False
    m = _ROAD.match(text, pos)
    if m and not _COMPOUND_START.match(text, m.end()):
        word = m.group(0)
        cut = _road_cut(word)
        if cut:
            head = word[:cut]
            if _COMPOUND_END.search(head):
                got["compound"] = head
            else:
                r.rest.append(head)
        got["road"] = word[cut:]
    elif m := _NUMBERED_ROAD.match(text, pos):
        got["road"] = m.group(0)
    else:
        return False
    return r.advance(m, after_road=True)


def _road_part(r: _Reader) -> bool:
    """A segment (南段) or lane of the road just read: a leftover, and the road stays last."""
    if not r.after_road:
        return False
    m = _SEGMENT.match(r.text, r.pos) or (
        None if "house_number" in r.got else _SUB_ROAD.match(r.text, r.pos)
    )
    if m is None:
        return False
    r.rest.append(m.group(0))
    return r.advance(m, after_road=True)


def _house_number(r: _Reader) -> bool:
    """A house number: 12号 after a road or in a village before any road; 12 after a road."""
    text, pos, got = r.text, r.pos, r.got
    if (
        r.after_road
        or (
            ("group" in got or "hamlet" in got or "community" in got)
            and "house_number" not in got
            and "compound" not in got
            and "road" not in got
        )
    ) and (m := _HOUSE_NO.match(text, pos)):
        got["house_number"] = m.group(1)
    elif r.after_road and (m := _BARE_NO.match(text, pos)) and "house_number" not in got:
        got["house_number"] = m.group(1)
    elif (
        ("hamlet" in got or "group" in got)
        and not {"house_number", "compound", "road", "building"} & got.keys()
        and (m := _BARE_NO.match(text, pos))
        and m.end() == len(text)
    ):
        # 东栗家屯5: a bare number closing a hamlet or group address is its house
        got["house_number"] = m.group(1)
    else:
        return False
    return r.advance(m)


def _building(r: _Reader) -> bool:
    """A building: 5栋, A栋, or 5楼 with a unit after it (5楼3单元)."""
    if "building" in r.got:
        return False
    m = _FLOOR_AS_BUILDING.match(r.text, r.pos) or _BUILDING.match(r.text, r.pos)
    if m is None:
        return False
    r.got["building"] = m.group(1)
    return r.advance(m)


def _unit_floor_room(r: _Reader) -> bool:
    """A unit (3单元, 3门), a floor (5层, 5楼, 21F) or a room (402室)."""
    text, pos, got = r.text, r.pos, r.got
    if (m := _UNIT.match(text, pos) or _DOOR_UNIT.match(text, pos)) and "unit" not in got:
        got["unit"] = m.group(1)
    elif (m := _FLOOR.match(text, pos) or _FLOOR_F.match(text, pos)) and "floor" not in got:
        got["floor"] = m.group(1).replace("负", "-")  # a basement floor is negative
    elif (m := _ROOM.match(text, pos)) and "room" not in got:
        got["room"] = m.group(1)
    else:
        return False
    return r.advance(m)


def _numbers(r: _Reader) -> bool:
    """Numbers without a marker of their own, read by what is found already.

    5-302 is building 5 room 302, 11-7 building 11 unit 7; 幸福小区12号 is a building,
    12栋7号 a room; a number at the end is a room after a building or unit, or when it has
    three digits, and a building otherwise.
    """
    text, pos, got = r.text, r.pos, r.got
    if (m := _PAIR.match(text, pos)) and "building" not in got and "room" not in got:
        got["building"] = m.group(1)
        got["room" if len(m.group(2)) >= 3 else "unit"] = m.group(2)
    elif (m := _NUMBER_SIGN.match(text, pos)) and (
        "compound" in got or "house_number" in got or "building" in got
    ):
        r.put("room" if "building" in got else "building", m.group(1), m.group(0))
    elif (m := _TRAILING_NO.match(text, pos)) and (
        "building" in got or "unit" in got or "floor" in got or "compound" in got
    ):
        room = "building" in got or "unit" in got or len(m.group(1)) >= 3
        r.put("room" if room else "building", m.group(1), m.group(0))
    else:
        return False
    return r.advance(m)


def _compound(r: _Reader) -> bool:
    """A compound: a run ending in a compound suffix, or followed by a building number."""
    got = r.got
    if not (m := _RUN.match(r.text, r.pos)) or "compound" in got or "building" in got:
        return False
    word = m.group(0)
    followed = _UNIT_NEXT.match(r.text, m.end()) is not None
    if followed and word[-1] in "东南西北" and _COMPOUND_END.search(word[:-1]):
        # 东岭小区东2栋: the direction belongs to the building number (东2栋), not the name
        got["compound"] = word[:-1]
        r.pos = m.end() - 1
        r.after_road = False
        return True
    if _COMPOUND_END.search(word) or (followed and len(word) >= 2):
        got["compound"] = word
        return r.advance(m)
    cut = _last_compound_end(word)
    if cut:
        got["compound"] = word[:cut]
        r.pos += cut
        r.after_road = False
        return True
    r.rest.append(word)
    return r.advance(m)


def _leftover(r: _Reader) -> bool:
    """A run of text no other reader takes."""
    m = _JUNK_RUN.match(r.text, r.pos)
    assert m is not None
    r.rest.append(m.group(0))
    return r.advance(m)


#: tried in this order at each position; the first that reads something wins
_READERS: tuple[Callable[[_Reader], bool], ...] = (
    _village,
    _late_admin,
    _road,
    _road_part,
    _house_number,
    _building,
    _unit_floor_room,
    _numbers,
    _compound,
    _leftover,
)


# where a road name cannot continue backwards: an area or compound ends there (经济开发区丹枫路)
_ROAD_HEAD_END = re.compile(
    r"(?:开发区|园区|工业区|工业园|小区|花园|家园|新村|公寓|大厦|[区县市镇乡村省])"
)


def _road_cut(word: str) -> int:
    """Where the road starts inside ``word``, or 0 when all of it is the road."""
    cut = 0
    for m in _ROAD_HEAD_END.finditer(word):
        if m.end() >= 2 and len(word) - m.end() >= 3:
            cut = m.end()
    return cut


_SUFFIX_ANYWHERE = re.compile(rf"(?:{_COMPOUND_SUFFIX})")


def _last_compound_end(word: str) -> int:
    cut = 0
    for m in _SUFFIX_ANYWHERE.finditer(word):
        if m.start() >= 2 and m.group(0) not in ("楼", "院", "村", "城", "里"):
            cut = m.end()
    return cut
