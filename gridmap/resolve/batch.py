"""Resolve many rows at once: a mix of addresses and points, or a CSV file of any length.

One bad row never fails the batch: it comes back with status ``error`` and the reason,
and every other row is answered. Points are resolved in one query per chunk; addresses
one by one over the same connection. The HTTP API's batch endpoint and ``gridmap
resolve FILE.csv`` both run through here.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter, OrderedDict
from itertools import islice
from typing import IO, TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gridmap.errors import GridmapError, InvalidInput
from gridmap.resolve.addresses import resolve_addresses
from gridmap.resolve.index import Locator, PointIndex
from gridmap.resolve.points import Combo, resolve_points
from gridmap.results import Resolution

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    import psycopg

    from gridmap.address.gazetteer import Gazetteer

    Conn = psycopg.Connection[Any]
else:
    Conn = Any

__all__ = [
    "OUTPUT_COLUMNS",
    "BatchQuery",
    "BatchRow",
    "RowError",
    "output_record",
    "queries_from_records",
    "resolve_batch",
    "resolve_csv",
]

LOG = logging.getLogger(__name__)

RowStatus = Literal["ok", "not_found", "ambiguous", "error"]


class BatchQuery(BaseModel):
    """One row to resolve: an ``address``, or a point ``lon``/``lat`` (or ``x``/``y``) in ``crs``."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {"id": "a1", "address": "长春市宽城区新发街道明珠花园3栋1单元"},
                {"id": "p1", "lon": 125.3025, "lat": 43.885, "crs": "EPSG:4490"},
            ]
        },
    )

    id: str | int | None = Field(default=None, description="Your id, echoed back.")
    address: str | None = Field(default=None, max_length=500)
    lon: float | None = Field(default=None, description="Longitude, or easting (= x).")
    lat: float | None = Field(default=None, description="Latitude, or northing (= y).")
    x: float | None = None
    y: float | None = None
    crs: str = Field(default="EPSG:4490", description="EPSG:NNNN, or GCJ02.")

    @field_validator("id", "address", "crs")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError(
                f"{value[:40]!r} holds a NUL character (\\x00), which no text may hold"
            )
        return value

    def coordinates(self) -> tuple[float | None, float | None]:
        """The point as given: ``lon``/``lat``, or else ``x``/``y`` (the one home of that rule)."""
        return (
            self.lon if self.lon is not None else self.x,
            self.lat if self.lat is not None else self.y,
        )

    def missing(self) -> tuple[str, str] | None:
        """(field, reason) when the row is neither an address nor a whole point."""
        x, y = self.coordinates()
        if self.address is not None and self.address.strip():
            if x is not None or y is not None:
                return "address", "give either an address or lon/lat, not both"
            return None
        if x is None and y is None:
            return "address", "give an address, or lon and lat"
        if x is None or y is None:
            missing = "lon" if x is None else "lat"
            return missing, f"{missing} is missing: give both lon and lat"
        return None

    @property
    def point(self) -> tuple[float, float, str] | None:
        """``(x, y, crs)`` of a row that is a point, None for an address."""
        x, y = self.coordinates()
        if self.address is not None and self.address.strip():
            return None
        assert x is not None
        assert y is not None
        return (x, y, self.crs)


class RowError(BaseModel):
    code: str = Field(examples=["invalid_coordinate"])
    detail: str
    field: str | None = None
    row_id: str | int | None = Field(default=None, exclude=True)


class BatchRow(BaseModel):
    """The answer for one row: ``result`` when resolved, ``error`` when the row was bad."""

    row: int = Field(description="1-based position of the row in the request.")
    id: str | int | None = None
    status: RowStatus
    result: Resolution | None = None
    error: RowError | None = None


def _row_error(exc: GridmapError) -> RowError:
    field = exc.details.get("field")
    return RowError(code=exc.code, detail=exc.message, field=str(field) if field else None)


def queries_from_records(records: Iterable[Any]) -> list[BatchQuery | RowError]:
    """Validate raw rows (dicts from JSON or CSV) one by one; a bad row becomes its error."""
    out: list[BatchQuery | RowError] = []
    for record in records:
        if not isinstance(record, dict):
            out.append(RowError(code="invalid_input", detail="a row must be a JSON object"))
            continue
        # an empty cell is an absent value (CSV has no null)
        clean = {
            k: v for k, v in record.items() if isinstance(k, str) and v is not None and v != ""
        }
        rid = clean.get("id")
        rid = rid if isinstance(rid, str | int) and not isinstance(rid, bool) else None
        try:
            query = BatchQuery.model_validate(clean)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or None
            msg = "; ".join(
                (".".join(str(p) for p in e["loc"]) + ": " if e["loc"] else "")
                + e["msg"].removeprefix("Value error, ")
                for e in exc.errors()
            )
            out.append(RowError(code="invalid_input", detail=msg, field=field, row_id=rid))
            continue
        problem = query.missing()
        if problem is not None:
            out.append(
                RowError(code="invalid_input", detail=problem[1], field=problem[0], row_id=rid)
            )
        else:
            out.append(query)
    return out


def _outcome(row: int, qid: Any, res: Resolution | GridmapError) -> BatchRow:
    if isinstance(res, GridmapError):
        return BatchRow(row=row, id=qid, status="error", error=_row_error(res))
    return BatchRow(row=row, id=qid, status=res.status, result=res)


def resolve_batch(
    conn: Conn,
    gaz: Gazetteer | None,
    queries: Sequence[BatchQuery | RowError],
    *,
    authorised: bool = False,
    first_row: int = 1,
    index: Locator | None = None,
) -> list[BatchRow]:
    """Resolve a chunk of rows: its points together (:func:`resolve_points`, in ``index`` when
    given), its addresses one by one."""
    out: list[BatchRow | None] = [None] * len(queries)
    point_idx: list[int] = []
    address_idx: list[int] = []
    for i, q in enumerate(queries):
        if isinstance(q, RowError):
            out[i] = BatchRow(row=first_row + i, id=q.row_id, status="error", error=q)
        elif q.point is not None:
            point_idx.append(i)
        else:
            address_idx.append(i)
    if point_idx:
        points = [q.point for i in point_idx if isinstance(q := queries[i], BatchQuery) and q.point]
        for i, res in zip(
            point_idx, resolve_points(conn, points, authorised=authorised, index=index), strict=True
        ):
            out[i] = _outcome(first_row + i, _qid(queries[i]), res)
    if address_idx:
        if gaz is None:
            raise ValueError("addresses need a gazetteer")
        texts = [str(_q(queries[i]).address) for i in address_idx]
        for i, res in zip(
            address_idx, resolve_addresses(conn, gaz, texts, authorised=authorised), strict=True
        ):
            out[i] = _outcome(first_row + i, _qid(queries[i]), res)
    return [r for r in out if r is not None]


def _q(q: BatchQuery | RowError) -> BatchQuery:
    assert isinstance(q, BatchQuery)
    return q


def _qid(q: BatchQuery | RowError) -> Any:
    return q.id if isinstance(q, BatchQuery) else None


# ----------------------------------------------------------------------------- CSV files

OUTPUT_COLUMNS = (
    "id",
    "status",
    "grid_code",
    "grid_name",
    "grid_chief",
    "grid_chief_phone",
    "building_chief",
    "building_chief_phone",
    "unit_chief",
    "unit_chief_phone",
    "building_id",
    "unit_no",
    "match_level",
    "confidence",
    "candidates",
    "lon",
    "lat",
    "reason",
    "message",
    "error",
)


def output_record(row: BatchRow) -> dict[str, Any]:
    """One flat CSV record for a resolved row (the columns of :data:`OUTPUT_COLUMNS`)."""
    rec: dict[str, Any] = dict.fromkeys(OUTPUT_COLUMNS, "")
    rec["id"] = row.id if row.id is not None else row.row
    rec["status"] = row.status
    if row.error is not None:
        rec["error"] = f"{row.error.code}: {row.error.detail}"
    res = row.result
    if res is None:
        return rec
    if res.grid is not None:
        rec["grid_code"], rec["grid_name"] = res.grid.code, res.grid.name
    for role in ("grid_chief", "building_chief", "unit_chief"):
        chief = getattr(res, role)
        if chief is not None:
            rec[role], rec[f"{role}_phone"] = chief.name, chief.phone or ""
    if res.building is not None:
        rec["building_id"] = res.building.id
    if res.unit is not None:
        rec["unit_no"] = res.unit.unit_no
    rec["match_level"] = res.match_level
    rec["confidence"] = res.confidence
    rec["candidates"] = " ".join(c.grid.code for c in res.candidates if c.grid is not None)
    if res.location is not None:
        rec["lon"], rec["lat"] = res.location.lon, res.location.lat
    rec["reason"], rec["message"] = res.reason or "", res.message or ""
    if res.nearest is not None:
        rec["error"] = (
            f"outside every grid; nearest {res.nearest.grid.code} at {res.nearest.distance_m:.0f} m"
        )
    return rec


def resolve_csv(
    conn: Conn,
    gaz: Gazetteer | Callable[[], Gazetteer] | None,
    source: IO[str],
    sink: IO[str],
    *,
    id_column: str = "id",
    address_column: str | None = "address",
    lon_column: str = "lon",
    lat_column: str = "lat",
    crs: str = "EPSG:4490",
    authorised: bool = False,
    chunk_size: int | None = None,
    on_chunk: Callable[[int], None] | None = None,
    index: Locator | None = None,
) -> dict[str, int]:
    """Stream a CSV of addresses (``address_column``) or points (``lon/lat_column``) to a CSV
    of grids and chiefs, ``chunk_size`` rows at a time; returns counts per status.

    ``gaz`` may be a function giving the gazetteer, called for a file of addresses only.
    A row's ``crs`` column, when the file has one, overrides ``crs``. A file of points is
    located in memory (:class:`~gridmap.resolve.index.PointIndex`, loaded once unless given)
    by :func:`gridmap.resolve.bulk.resolve_point_rows`, 100,000 rows a chunk by default;
    addresses go 2,000 a chunk.

    >>> import io
    >>> counts = resolve_csv(None, None, io.StringIO("id,address\\n1,\\n"), io.StringIO())
    >>> counts
    {'ok': 0, 'not_found': 0, 'ambiguous': 0, 'error': 1}
    """
    reader = csv.reader(source)
    header = next(reader, None) or []
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    counts = {"ok": 0, "not_found": 0, "ambiguous": 0, "error": 0}
    # a column's place in the header (the last of a repeated name, as csv.DictReader does)
    place = {name: i for i, name in enumerate(header)}
    if address_column is None or address_column not in place:
        from gridmap.resolve.bulk import resolve_point_rows

        if index is None:
            index = PointIndex.load(conn)
        columns = (place.get(id_column), place.get(lon_column), place.get(lat_column),
                   place.get("crs"))  # fmt: skip
        lines_of: dict[Combo, tuple[str, str, str]] = {}  # each distinct answer, once per file
        for chunk, done in _row_chunks(reader, chunk_size or 100_000):
            out = resolve_point_rows(conn, index, chunk, columns, crs=crs, authorised=authorised,
                                     first_row=done + 1, lines_of=lines_of)  # fmt: skip
            for status, k in Counter(out.statuses).items():
                counts[status] += k
            sink.write(out.text)
            if on_chunk is not None:
                on_chunk(len(chunk))
        return counts
    i_id, i_address = place.get(id_column), place[address_column]
    if callable(gaz):
        gaz = gaz()
    for chunk, rows in _address_answers(conn, gaz, reader, i_id, i_address,
                                        chunk_size or 2000, authorised):  # fmt: skip
        for row in rows:
            counts[row.status] += 1
            writer.writerow(output_record(row).values())
        if on_chunk is not None:
            on_chunk(len(chunk))
    return counts


def _address_answers(
    conn: Conn,
    gaz: Gazetteer | None,
    reader: Iterator[list[str]],
    i_id: int | None,
    i_address: int,
    size: int,
    authorised: bool,
) -> Iterator[tuple[list[list[str]], list[BatchRow]]]:
    """Each chunk of CSV rows of addresses, with its answers.

    An address written again (a register holds one row per person) takes the answer it had,
    which depends on its text alone, with its own id and row number; a row whose id holds a
    NUL is validated each time."""
    seen: OrderedDict[str, BatchRow] = OrderedDict()
    for chunk, done in _row_chunks(reader, size):
        records = [
            {"id": csv_cell(row, i_id) or None, "address": csv_cell(row, i_address) or None}
            for row in chunk
        ]
        answers: list[BatchRow | None] = [None] * len(records)
        fresh: dict[str, list[int]] = {}
        others: list[int] = []
        for i, rec in enumerate(records):
            text, rid = rec["address"], rec["id"]
            if text is None or (rid is not None and "\x00" in rid):
                others.append(i)
            elif text in seen:
                seen.move_to_end(text)
                answers[i] = seen[text]
            else:
                fresh.setdefault(text, []).append(i)
        todo = [group[0] for group in fresh.values()] + others
        rows = batch_rows(conn, gaz, [records[i] for i in todo], authorised=authorised)
        for i, row in zip(todo, rows, strict=True):
            answers[i] = row
            text = records[i]["address"]
            if text in fresh:
                seen[text] = row
                for j in fresh[text][1:]:
                    answers[j] = row
        while len(seen) > SEEN_ADDRESSES:
            seen.popitem(last=False)
        out = []
        for i, answer in enumerate(answers):
            assert answer is not None
            out.append(answer.model_copy(update={"row": done + i + 1, "id": records[i]["id"]}))
        yield chunk, out


def csv_cell(row: list[str], i: int | None) -> str | None:
    """A row's value in column ``i``, None for a column the file lacks or a short row."""
    return row[i] if i is not None and i < len(row) else None


def _row_chunks(reader: Iterator[list[str]], size: int) -> Iterator[tuple[list[list[str]], int]]:
    """The rows (blank lines skipped) about ``size`` at a time, each with the rows before it."""
    done = 0
    while True:
        read = list(islice(reader, size))
        if not read:
            return
        chunk = [row for row in read if row]
        if chunk:
            yield chunk, done
            done += len(chunk)


def batch_rows(
    conn: Conn,
    gaz: Gazetteer | None,
    records: list[dict[str, Any]],
    *,
    authorised: bool = False,
    first_row: int = 1,
    index: Locator | None = None,
) -> list[BatchRow]:
    """Raw CSV records (``id`` and ``address`` or ``lon``/``lat``/``crs``) validated and
    resolved; each row's id is its record's, or else its row number."""
    queries = queries_from_records(records)
    if any(isinstance(q, BatchQuery) for q in queries):
        rows = resolve_batch(conn, gaz, queries, authorised=authorised, first_row=first_row,
                             index=index)  # fmt: skip
    else:
        rows = [
            BatchRow(row=first_row + i, status="error", error=q)
            for i, q in enumerate(queries)
            if isinstance(q, RowError)
        ]
    return [
        row if row.id is not None else row.model_copy(update={"id": records[i]["id"]})
        for i, row in enumerate(rows)
    ]


#: how many distinct addresses a CSV run remembers the answers of
SEEN_ADDRESSES = 200_000

#: the columns a batch CSV must have one of (besides ``id``)
CSV_COLUMNS = ("address", "lon", "lat", "x", "y")


def read_csv_records(data: bytes) -> list[dict[str, Any]]:
    r"""Rows of an uploaded CSV file (UTF-8, with or without BOM; GB18030 as a fallback).

    Raises :class:`~gridmap.errors.InvalidInput` for a file in neither encoding, one the
    CSV reader cannot parse (a bare carriage return inside an unquoted field), and one whose
    header names none of the columns a row needs (say, a JSON body sent as ``text/csv``).

    >>> read_csv_records("id,address\n1,明珠花园3栋\n".encode())
    [{'id': '1', 'address': '明珠花园3栋'}]
    >>> read_csv_records(b'[{"id": 1, "address": "x"}]')
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidInput: the CSV header '[{"id": 1, "address": "x"}]' names none of the columns address, lon, lat, x, y: the first line must be a header such as id,address or id,lon,lat
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"the CSV is neither UTF-8 nor GB18030: byte 0x{data[exc.start]:02x} at offset "
                f"{exc.start} is not valid in either",
                field="body",
            ) from None
    # lines end at LF or CRLF; a bare CR inside a field is an error, never a silent new row
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = reader.fieldnames or []
        rows = list(reader)
    except csv.Error as exc:
        raise InvalidInput(
            f"the CSV cannot be read at line {reader.line_num + 1}: {str(exc).split(' - ')[0]} "
            "(quote a field that holds a line break or carriage return)",
            field="body",
        ) from None
    names = {str(h).strip().lower() for h in header}
    if not names & set(CSV_COLUMNS):
        shown = ",".join(str(h) for h in header)[:40]
        raise InvalidInput(
            f"the CSV header {shown!r} names none of the columns {', '.join(CSV_COLUMNS)}: "
            "the first line must be a header such as id,address or id,lon,lat",
            field="body",
        )
    return rows
