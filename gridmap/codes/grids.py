"""15-digit grid codes: a community's code plus a serial given in reading order, never reused."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gridmap.codes.divisions import DivisionCode, _check_division_digits, parse_division_code
from gridmap.errors import InvalidCode

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

_DIGITS15 = re.compile(r"[0-9]{15}")


@dataclass(frozen=True)
class GridCode:
    """A parsed 15-digit grid code."""

    code: str
    community: DivisionCode
    serial: int

    def __str__(self) -> str:
        return self.code


def parse_grid_code(code: str) -> GridCode:
    """Parse and validate a 15-digit grid code.

    >>> g = parse_grid_code("220102005004001")
    >>> g.community.code, g.serial
    ('220102005004', 1)
    >>> parse_grid_code("220102005000001")
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidCode: invalid code '220102005000001': village digits 000 must name a community or village (001-599), a grid belongs to one
    >>> parse_grid_code("220102005004000")
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidCode: invalid code '220102005004000': serial digits 000 is outside 001-999
    """
    if not isinstance(code, str) or not _DIGITS15.fullmatch(code):
        raise InvalidCode(
            str(code), "format", f"must be a grid code of exactly 15 ASCII digits, got {code!r}"
        )
    head = code[:12]
    try:
        level = _check_division_digits(head)
    except InvalidCode as exc:
        raise InvalidCode(code, exc.group, exc.reason) from None
    if level != "village":
        raise InvalidCode(
            code,
            "village",
            f"{head[9:12]} must name a community or village (001-599), a grid belongs to one",
        )
    serial = int(code[12:])
    if serial == 0:
        raise InvalidCode(code, "serial", "000 is outside 001-999")
    return GridCode(code=code, community=DivisionCode(head, "village"), serial=serial)


def is_grid_code(code: str) -> bool:
    try:
        parse_grid_code(code)
    except InvalidCode:
        return False
    return True


def compose_grid_code(community_code: str, serial: int) -> str:
    """The grid code of serial ``serial`` in community ``community_code``.

    >>> compose_grid_code("220112002211", 12)
    '220112002211012'
    """
    div = parse_division_code(community_code)
    if div.level != "village":
        raise InvalidCode(
            community_code,
            "village",
            f"{community_code[9:]} make it a {div.level}'s code: a grid belongs to a community "
            "or village (001-599)",
        )
    if not isinstance(serial, int) or not 1 <= serial <= 999:
        raise InvalidCode(str(serial), "serial", f"{serial!r} is outside 1-999")
    return f"{community_code}{serial:03d}"


def reading_order(
    points: Sequence[tuple[float, float]], row_height: float | None = None
) -> list[int]:
    """Indices of ``points`` in reading order: rows north to south, west to east in a row.

    Points are (x, y) with y growing northwards, in a metric CRS. A new row starts where
    the next point south lies more than ``row_height`` below the row's northernmost point.
    Callers that know their cells should pass half the typical cell height; the default is
    half the largest north-south gap between consecutive points, which splits a jittered
    regular layout into its rows.

    >>> reading_order([(0, 0), (10, 0), (0, 10), (10, 10)])
    [2, 3, 0, 1]
    """
    n = len(points)
    if n == 0:
        return []
    by_y = sorted(range(n), key=lambda i: (-points[i][1], points[i][0], i))
    if row_height is None:
        ys = [points[i][1] for i in by_y]
        gaps = [a - b for a, b in itertools.pairwise(ys)]
        row_height = max(gaps) / 2 if gaps else 0.0
    rows: list[list[int]] = []
    top = float("inf")
    for i in by_y:
        y = points[i][1]
        if not rows or top - y > row_height:
            rows.append([])
            top = y
        rows[-1].append(i)
    out: list[int] = []
    for row in rows:
        out.extend(sorted(row, key=lambda i: (points[i][0], -points[i][1], i)))
    return out


def next_serials(used: Iterable[int], count: int) -> list[int]:
    """``count`` fresh serials above every serial ever used in a community.

    Serials are never reused, so new ones continue after the highest serial used so far,
    retired ones included.

    >>> next_serials([1, 2, 5], 2)
    [6, 7]
    """
    top = max(used, default=0)
    if top + count > 999:
        raise InvalidCode(
            str(top + count),
            "serial",
            f"a community has room for 999 grids; {count} more after serial {top} do not fit",
        )
    return list(range(top + 1, top + 1 + count))
