"""Files of points resolved in bulk: columns of values, located in memory, written as rows.

:func:`resolve_point_rows` takes a chunk of CSV rows and gives their output records, the
same records as validating and resolving each row by itself (:func:`gridmap.resolve.batch.
batch_rows`) would give, at a fraction of the cost:

* a row whose coordinates are plain decimal numbers (``125.3025``, ``-12.5``) is parsed in
  a vectorised pass, its CRS group brought to EPSG:4490 at once, and located in the
  :class:`~gridmap.resolve.index.PointIndex`;
* each distinct (grid, building, number of grids covering) is made into its output
  record once, from one query for all of them, and each row takes that record with its
  own id and coordinates;
* every other row (a value needing the full validation, a CRS that refuses a point, a
  point in no grid, which needs the nearest grid from the database) goes through the
  one-by-one path, so its answer or its error is exactly that path's.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gridmap.crs import to_storage_xy
from gridmap.errors import GridmapError
from gridmap.resolve.batch import OUTPUT_COLUMNS, BatchRow, batch_rows, csv_cell, output_record
from gridmap.resolve.points import Combo, locate_resolutions

if TYPE_CHECKING:
    from collections.abc import Sequence

    import psycopg

    from gridmap.resolve.index import Locator

__all__ = ["resolve_point_rows"]

#: what the vectorised pass reads as a number (anything else is validated row by row)
_DECIMAL = re.compile(r"-?[0-9]{1,12}(?:\.[0-9]{1,17})?")
_ID, _LON, _LAT = (OUTPUT_COLUMNS.index(c) for c in ("id", "lon", "lat"))
#: what makes the csv module quote a value (its delimiter, quote and line ends)
_QUOTED = re.compile(r'[,"\r\n]')


def _column(rows: Sequence[list[str]], i: int | None) -> list[str | None]:
    """Column ``i`` of the rows: None where the file has no such column or a row is short."""
    if i is None:
        return [None] * len(rows)
    try:
        return [r[i] for r in rows]
    except IndexError:  # a short row: the slower, careful reading
        return [csv_cell(r, i) for r in rows]


def _render(values: Sequence[Any]) -> str:
    """Values as one CSV line without its end, as the ``csv`` module writes them."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(values)
    return buf.getvalue()


@dataclass
class PointRows:
    """The output of a chunk of rows: its CSV lines, in order, and each row's status."""

    text: str
    statuses: list[str]


def resolve_point_rows(
    conn: psycopg.Connection[Any],
    index: Locator,
    rows: Sequence[list[str]],
    columns: tuple[int | None, int | None, int | None, int | None],
    *,
    crs: str = "EPSG:4490",
    authorised: bool = False,
    first_row: int = 1,
    lines_of: dict[Combo, tuple[str, str, str]] | None = None,
) -> PointRows:
    """The output lines (the columns of :data:`OUTPUT_COLUMNS`) of CSV ``rows`` of points.

    ``columns`` are the places of the id, lon, lat and crs columns in a row (None: the file
    has none); ``crs`` is the CRS of rows without one of their own. Each distinct answer's
    line is rendered once, around its rows' own id and coordinates, and kept in
    ``lines_of`` (give the same dict for every chunk of a file: each answer is then fetched
    and rendered once per file, not once per chunk).
    """
    lines_of = {} if lines_of is None else lines_of
    i_id, i_lon, i_lat, i_crs = columns
    n = len(rows)
    ids = [v or None for v in _column(rows, i_id)]
    lons = _column(rows, i_lon)
    lats = _column(rows, i_lat)
    crss = [v or crs for v in _column(rows, i_crs)]
    lines: list[str | None] = [None] * n
    statuses: list[str] = [""] * n
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    groups: dict[str, list[int]] = {}
    for i in range(n):
        lo, la, rid, row_crs = lons[i], lats[i], ids[i], crss[i]
        if (lo is not None and la is not None and _DECIMAL.fullmatch(lo)
                and _DECIMAL.fullmatch(la) and "\x00" not in row_crs
                and (rid is None or "\x00" not in rid)):  # fmt: skip
            groups.setdefault(row_crs, []).append(i)
    fast: list[int] = []
    for group_crs, members in groups.items():
        try:
            gx, gy = to_storage_xy(
                np.array([lons[i] for i in members], dtype=np.float64),
                np.array([lats[i] for i in members], dtype=np.float64),
                group_crs,
            )
        except GridmapError:
            continue  # the group's rows are checked one by one below
        x[members], y[members] = gx, gy
        fast.extend(members)
    if fast:
        at = np.asarray(sorted(fast), dtype=np.int64)
        inside, combos, made = locate_resolutions(
            conn, index, x[at], y[at], authorised=authorised, known=lines_of
        )
        for combo, res in made.items():
            rec = list(output_record(BatchRow(row=0, status=res.status, result=res)).values())
            lines_of[combo] = (_render(rec[_ID + 1 : _LON]), _render(rec[_LAT + 1 :]), rec[1])
        hit = at[inside].tolist()
        for i, combo, lon, lat in zip(hit, combos, x[hit].tolist(), y[hit].tolist(), strict=True):
            rid = ids[i]
            shown = str(first_row + i) if rid is None else (
                _render([rid]) if _QUOTED.search(rid) else rid)  # fmt: skip
            middle, tail, status = lines_of[combo]
            lines[i] = f"{shown},{middle},{lon!r},{lat!r},{tail}\n"
            statuses[i] = status
    slow = [i for i in range(n) if lines[i] is None]
    if slow:
        records_in: list[dict[str, Any]] = [
            {"id": ids[i], "lon": lons[i], "lat": lats[i], "crs": crss[i]} for i in slow
        ]
        answers = batch_rows(conn, None, records_in, authorised=authorised, index=index)
        for i, row in zip(slow, answers, strict=True):
            rec = list(output_record(row).values())
            rec[_ID] = ids[i] if ids[i] is not None else first_row + i
            lines[i] = _render(rec) + "\n"
            statuses[i] = row.status
    return PointRows("".join(line for line in lines if line is not None), statuses)
