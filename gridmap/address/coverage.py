"""Which divisions an address writes, read against the known world, not only the database.

:func:`written_divisions` reads the administrative prefix of a normalised address with the
gazetteer's :attr:`~gridmap.address.gazetteer.Gazetteer.world` (every Jilin division and
every province of China besides the database's own). It reports

* ``outside``: the first written division that the database does not hold, a known place
  elsewhere (榆树市, 吉林市昌邑区, 辽宁省) or a name with a division's suffix that nobody
  knows (浙江省杭州市西湖区). An address that names one lies outside coverage: no grid of
  ours may be its answer.
* ``within``: the codes of the held divisions written without doubt. Every one of them must
  contain an answer for it to be confident (:func:`contains`).

>>> from gridmap.address.gazetteer import DivisionRecord, Gazetteer
>>> held = [DivisionRecord("220000000000", "吉林省", "province", None),
...         DivisionRecord("220100000000", "长春市", "city", "220000000000"),
...         DivisionRecord("220103000000", "宽城区", "county", "220100000000")]
>>> known = [DivisionRecord("220200000000", "吉林市", "city", "220000000000"),
...          DivisionRecord("220202000000", "昌邑区", "county", "220200000000")]
>>> gaz = Gazetteer.from_records(held, known)
>>> written_divisions("吉林市昌邑区明珠花园3栋", gaz).outside.message
'吉林市 (220200000000) lies outside the area this service holds'
>>> written_divisions("长春市宽城区明珠花园3栋", gaz).within
('220100000000', '220103000000')
>>> contains(("220100000000", "220103000000"), "220103001001001")
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gridmap.address.admin import Span, read_admin, resolve
from gridmap.address.gazetteer import LEVELS, PREFIX_LEN, Division

if TYPE_CHECKING:
    from collections.abc import Iterable

    from gridmap.address.gazetteer import Gazetteer

__all__ = ["Outside", "Written", "contains", "written_divisions"]

#: deepest level at which a name nobody knows still counts as a division (a county: 西湖区)
UNKNOWN_DEPTH = 2


@dataclass(frozen=True)
class Outside:
    """A written division this service does not hold."""

    written: str
    reason: Literal["outside_coverage", "unknown_division"]
    divisions: tuple[Division, ...] = ()

    @property
    def message(self) -> str:
        if not self.divisions:
            return f"{self.written} is not a division this service knows"
        places = ", ".join(f"{d.name} ({d.code})" for d in self.divisions)
        return f"{places} lies outside the area this service holds"


@dataclass(frozen=True)
class Written:
    """The divisions an address writes: the first one outside coverage, the held ones."""

    outside: Outside | None = None
    within: tuple[str, ...] = ()


def written_divisions(normalized: str, gaz: Gazetteer) -> Written:
    """Read the divisions written in ``normalized`` against the known world (pure)."""
    world = gaz.world
    if world is None:
        return Written()
    spans, _ = read_admin(normalized, world)
    kept = iter(resolve(spans))
    within: list[str] = []
    end = 0
    for span in spans:
        written = normalized[span.start : span.end]
        if span.start != end:
            # read after the street part (人民大街九圣祠社区): too often a word of a place's
            # name (金桥新村 is no village 新村), so only the leading divisions count
            break
        end = span.end
        if not span.candidates:
            if span.depth <= UNKNOWN_DEPTH:
                return Written(Outside(written, "unknown_division"), tuple(within))
            continue
        readings = next(kept) or span.candidates
        if not _names_a_place(normalized, span):
            # a typo or a bare stem (幸福, 新发) is too weak to send an address away, or to
            # hold its answer to: compounds are named after places (明珠名苑, 绿园华庭)
            continue
        held = [d for d in readings if world.holds(d.code)]
        if not held:
            return Written(Outside(written, "outside_coverage", readings), tuple(within))
        if len(held) == 1:
            within.append(held[0].code)
    return Written(None, tuple(within))


#: what turns a division's name into a road or a place named after it (长青村路, 九台北路 is
#: not: 九台 alone is a stem; 南关区医院)
_ROAD_NEXT = frozenset("路街道巷胡站桥")
_PLACE_NEXT = (
    "大街",
    "大路",
    "广场",
    "公园",
    "医院",
    "小学",
    "中学",
    "北路",
    "南路",
    "东路",
    "西路",
)


def _names_a_place(text: str, span: Span) -> bool:
    """Whether a span read as a division we do not hold really names it: its full name or
    alias, not a typo or a bare stem (绿园华庭 is a compound, not 绿园区), and not the start of
    a road or place name (长青村路, 九台北路)."""
    if span.kind not in ("name", "alias"):
        return False
    return not (
        text[span.end : span.end + 1] in _ROAD_NEXT or text.startswith(_PLACE_NEXT, span.end)
    )


def contains(codes: Iterable[str], code: str) -> bool:
    """Whether each division of ``codes`` contains the division or grid ``code``."""
    return all(code.startswith(_significant(c)) for c in codes)


def _significant(code: str) -> str:
    """The prefix of a division code that names it (220103000000 -> 220103)."""
    for level in LEVELS:
        n = PREFIX_LEN[level]
        if not code[n:].strip("0"):
            return code[:n]
    return code
