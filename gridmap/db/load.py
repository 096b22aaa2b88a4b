"""Write an interchange dataset into PostGIS: all or nothing, fast, idempotent.

Every layer is streamed with ``COPY`` into a temporary staging table and merged into the
real tables by its natural key (division code, legacy layer + source code, grid code,
building id, building id + unit number, person id, assignment post + since), so importing
the same file twice changes nothing. Everything happens in one transaction, committed
durably (``synchronous_commit`` as the server has it): a failure anywhere writes nothing.
Should the database refuse a row (validation is meant to catch every such case first),
the error names the constraint and table but never the row's values, which PostgreSQL's
DETAIL and CONTEXT lines carry and which may be personal data.

A ``grids`` layer (an already unified grid set) becomes a new grid *generation* when it
changes anything: grids whose code, boundary and attributes are unchanged keep their row,
changed ones are closed (``generation_high``) and re-inserted, and grids of the affected
communities that the file no longer carries are retired. Nothing is deleted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql

from gridmap.codes import division_kind
from gridmap.db.generations import AS_MULTIPOLYGON, load_grid_generation, refresh_grid_households
from gridmap.errors import GridmapError, ImportValidationError
from gridmap.io.layers import LAYERS
from gridmap.io.problems import Problem

LOG = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called as ``progress(layer, rows_done, rows_total)``."""


@dataclass
class LoadReport:
    """What an import changed, per table."""

    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    generation: int | None = None
    retired_grids: int = 0

    def summary(self) -> str:
        parts = []
        for table in dict.fromkeys([*self.inserted, *self.updated, *self.unchanged]):
            parts.append(
                f"{table}: +{self.inserted.get(table, 0)} ~{self.updated.get(table, 0)} "
                f"={self.unchanged.get(table, 0)}"
            )
        gen = f"; new grid generation {self.generation}" if self.generation else ""
        return "; ".join(parts) + gen


def _text(values: Iterable[Any]) -> list[str | None]:
    out: list[str | None] = []
    for v in values:
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            out.append(None)
        else:
            s = str(v)
            out.append(s if s != "" else None)
    return out


def _ewkb(geoms: Any) -> list[str | None]:
    arr = np.asarray(geoms, dtype=object)
    if len(arr) == 0:
        return []
    arr = shapely.set_srid(arr, 4490)
    # the columns are 2-D: heights (Z) some tools write are dropped, not refused
    out = shapely.to_wkb(arr, hex=True, include_srid=True, output_dimension=2)
    return [None if g is None else str(g) for g in out]


def _copy(
    conn: psycopg.Connection[Any],
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    total: int,
    progress: Progress | None,
    label: str,
) -> None:
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    done = 0
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row(row)
            done += 1
            if progress and done % 20000 == 0:
                progress(label, done, total)
    if progress:
        progress(label, total, total)


#: rows turned into text and copied at a time when staging a layer
STAGE_CHUNK = 50_000


def _stage(
    conn: psycopg.Connection[Any],
    name: str,
    frame: pd.DataFrame,
    columns: Sequence[str],
    derived: dict[str, list[str | None]],
    geometry: bool,
    progress: Progress | None,
) -> int:
    """Create temp table ``stage_<name>`` with text columns and COPY ``frame`` into it."""
    cols = [*columns, *derived] + (["geom"] if geometry else [])
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(
            sql.Identifier(f"stage_{name}"),
            sql.SQL(", ").join(
                sql.SQL("{} text").format(sql.Identifier(c)) for c in [*cols, "rownum"]
            ),
        )
    )
    n = len(frame)
    present = [col for col in columns if col in frame.columns]

    def rows() -> Iterator[Sequence[str | None]]:
        # a chunk at a time: the text of a whole layer of millions of rows is never held
        for lo in range(0, n, STAGE_CHUNK):
            part = frame.iloc[lo : lo + STAGE_CHUNK]
            m = len(part)
            data: list[list[str | None]] = []
            for col in columns:
                data.append(_text(part[col]) if col in present else [None] * m)
            data.extend(values[lo : lo + STAGE_CHUNK] for values in derived.values())
            if geometry:
                data.append(_ewkb(part.geometry.values))
            data.append([str(i) for i in range(lo, lo + m)])
            yield from zip(*data, strict=True)

    _copy(conn, f"stage_{name}", [*cols, "rownum"], rows(), n, progress, name)
    # temp tables are never auto-analysed: without statistics the merge joins plan badly
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(f"stage_{name}")))
    return len(frame)


def _count_changes(
    conn: psycopg.Connection[Any], statement: sql.SQL, params: dict[str, Any] | None = None
) -> tuple[int, int]:
    """Run an upsert that ``RETURNING (xmax = 0)``; return (inserted, updated), counted in
    the database (a province's millions of rows never come back one by one)."""
    counted = sql.SQL(
        "WITH changed(inserted) AS ({}) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
        "FROM changed"
    ).format(statement)
    row = conn.execute(counted, params or {}).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _record(report: LoadReport, table: str, staged: int, changes: tuple[int, int]) -> None:
    ins, upd = changes
    report.inserted[table] = ins
    report.updated[table] = upd
    report.unchanged[table] = staged - ins - upd


_UPSERT_DIVISIONS = f"""
INSERT INTO division AS d (code, name, official_name, level, parent_code, kind, boundary)
SELECT code, name, official_name, level, parent_code, kind,
       CASE WHEN geom IS NULL THEN NULL ELSE {AS_MULTIPOLYGON} END
FROM stage_divisions
ON CONFLICT (code) DO UPDATE SET
    name = EXCLUDED.name, official_name = EXCLUDED.official_name, level = EXCLUDED.level,
    parent_code = EXCLUDED.parent_code, kind = EXCLUDED.kind,
    boundary = coalesce(EXCLUDED.boundary, d.boundary)
WHERE (d.name, d.official_name, d.level, d.parent_code, d.kind)
      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.official_name, EXCLUDED.level,
                        EXCLUDED.parent_code, EXCLUDED.kind)
   OR (EXCLUDED.boundary IS NOT NULL AND
       (d.boundary IS NULL OR NOT ST_Equals(d.boundary, EXCLUDED.boundary)))
RETURNING (xmax = 0)
"""

_UPSERT_ALIASES = """
INSERT INTO division_alias (code, alias)
SELECT DISTINCT code, trim(a) FROM (
    SELECT code, unnest(string_to_array(aliases, '|')) AS a FROM stage_divisions
    UNION ALL
    SELECT code, official_name FROM stage_divisions
    WHERE official_name IS NOT NULL AND official_name <> name
) s WHERE trim(a) <> ''
ON CONFLICT DO NOTHING
"""

_UPSERT_LEGACY = f"""
INSERT INTO legacy_grid AS l (layer, source_code, name, community_code, boundary)
SELECT layer, source_code, coalesce(name, ''), community_code, {AS_MULTIPOLYGON} FROM stage_legacy_grids
ON CONFLICT ON CONSTRAINT legacy_source_code_unique DO UPDATE SET
    name = EXCLUDED.name, boundary = EXCLUDED.boundary
WHERE l.name IS DISTINCT FROM EXCLUDED.name OR NOT ST_Equals(l.boundary, EXCLUDED.boundary)
RETURNING (xmax = 0)
"""

_UPSERT_BUILDINGS = f"""
INSERT INTO building AS b (external_id, community_code, road, house_number, compound, hamlet,
                           group_no, building_no, households, floors, footprint, point)
SELECT building_id, community_code, road, house_number, compound, hamlet, group_no, building_no,
       households::int, floors::int,
       CASE WHEN ST_Dimension(geom::geometry) = 2 THEN {AS_MULTIPOLYGON} END,
       CASE WHEN ST_Dimension(geom::geometry) = 2 THEN ST_PointOnSurface(geom::geometry)
            ELSE ST_GeometryN(ST_Multi(geom::geometry), 1) END
FROM stage_buildings
ON CONFLICT (external_id) DO UPDATE SET
    community_code = EXCLUDED.community_code, road = EXCLUDED.road,
    house_number = EXCLUDED.house_number, compound = EXCLUDED.compound,
    hamlet = EXCLUDED.hamlet, group_no = EXCLUDED.group_no,
    building_no = EXCLUDED.building_no, households = EXCLUDED.households,
    floors = EXCLUDED.floors, footprint = EXCLUDED.footprint, point = EXCLUDED.point
WHERE (b.community_code, b.road, b.house_number, b.compound, b.hamlet, b.group_no,
       b.building_no, b.households, b.floors)
      IS DISTINCT FROM (EXCLUDED.community_code, EXCLUDED.road, EXCLUDED.house_number,
       EXCLUDED.compound, EXCLUDED.hamlet, EXCLUDED.group_no, EXCLUDED.building_no,
       EXCLUDED.households, EXCLUDED.floors)
   OR NOT ST_Equals(b.point, EXCLUDED.point)
   OR (b.footprint IS NULL) <> (EXCLUDED.footprint IS NULL)
   OR NOT ST_Equals(b.footprint, EXCLUDED.footprint)
RETURNING (xmax = 0)
"""

_UPSERT_UNITS = """
INSERT INTO unit AS u (building_id, unit_no, households)
SELECT b.id, s.unit_no, s.households::int
FROM stage_units s JOIN building b ON b.external_id = s.building_id
ON CONFLICT (building_id, unit_no) DO UPDATE SET households = EXCLUDED.households
WHERE u.households IS DISTINCT FROM EXCLUDED.households
RETURNING (xmax = 0)
"""

_UPSERT_PEOPLE = """
INSERT INTO person AS p (external_id, name, phone)
SELECT person_id, name, phone FROM stage_people
ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name, phone = EXCLUDED.phone
WHERE (p.name, p.phone) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.phone)
RETURNING (xmax = 0)
"""

# Assignments have no single-column natural key: match on person, post and since.
_ASSIGNMENTS_RESOLVED = """
CREATE TEMP TABLE stage_assignment_rows ON COMMIT DROP AS
SELECT p.id AS person_id, s.role,
       CASE WHEN s.role = 'grid_chief' THEN s.grid_code END AS grid_code,
       CASE WHEN s.role = 'building_chief' THEN b.id END AS building_id,
       CASE WHEN s.role = 'unit_chief' THEN u.id END AS unit_id,
       s.since::date AS since, nullif(s.until, '')::date AS until
FROM stage_assignments s
JOIN person p ON p.external_id = s.person_id
LEFT JOIN building b ON b.external_id = s.building_id
LEFT JOIN unit u ON u.building_id = b.id AND u.unit_no = s.unit_no
"""

_UPDATE_ASSIGNMENTS = """
UPDATE assignment a SET until = r.until
FROM stage_assignment_rows r
WHERE a.person_id = r.person_id AND a.role = r.role AND a.since = r.since
  AND a.grid_code IS NOT DISTINCT FROM r.grid_code
  AND a.building_id IS NOT DISTINCT FROM r.building_id
  AND a.unit_id IS NOT DISTINCT FROM r.unit_id
  AND a.until IS DISTINCT FROM r.until
RETURNING false
"""

_INSERT_ASSIGNMENTS = """
INSERT INTO assignment (person_id, role, grid_code, building_id, unit_id, since, until)
SELECT r.person_id, r.role, r.grid_code, r.building_id, r.unit_id, r.since, r.until
FROM stage_assignment_rows r
WHERE NOT EXISTS (
    SELECT 1 FROM assignment a
    WHERE a.person_id = r.person_id AND a.role = r.role AND a.since = r.since
      AND a.grid_code IS NOT DISTINCT FROM r.grid_code
      AND a.building_id IS NOT DISTINCT FROM r.building_id
      AND a.unit_id IS NOT DISTINCT FROM r.unit_id)
RETURNING true
"""


Loader = Callable[[psycopg.Connection[Any], LoadReport, int, str], None]
"""Merges the staged layer (``stage_<layer>``, ``staged`` rows) into its tables."""


def _upsert(table: str, statement: str) -> Loader:
    def load(conn: psycopg.Connection[Any], report: LoadReport, staged: int, source: str) -> None:
        _record(report, table, staged, _count_changes(conn, sql.SQL(statement)))

    return load


def _load_divisions(
    conn: psycopg.Connection[Any], report: LoadReport, staged: int, source: str
) -> None:
    conn.execute("SET CONSTRAINTS ALL DEFERRED")
    _record(report, "division", staged, _count_changes(conn, sql.SQL(_UPSERT_DIVISIONS)))
    conn.execute(_UPSERT_ALIASES)


def _load_grids(
    conn: psycopg.Connection[Any], report: LoadReport, staged: int, source: str
) -> None:
    load_grid_generation(conn, report, source)


def _load_assignments(
    conn: psycopg.Connection[Any], report: LoadReport, staged: int, source: str
) -> None:
    conn.execute(_ASSIGNMENTS_RESOLVED)
    conn.execute("ANALYZE stage_assignment_rows")
    # close first, so that a post's new term never clashes with its old open one
    _, updated = _count_changes(conn, sql.SQL(_UPDATE_ASSIGNMENTS))
    inserted, _ = _count_changes(conn, sql.SQL(_INSERT_ASSIGNMENTS))
    _record(report, "assignment", staged, (inserted, updated))


#: how each layer of the registry (:data:`gridmap.io.layers.LAYERS`) reaches its tables
LOADERS: dict[str, Loader] = {
    "divisions": _load_divisions,
    "legacy_grids": _upsert("legacy_grid", _UPSERT_LEGACY),
    "grids": _load_grids,
    "buildings": _upsert("building", _UPSERT_BUILDINGS),
    "units": _upsert("unit", _UPSERT_UNITS),
    "people": _upsert("person", _UPSERT_PEOPLE),
    "assignments": _load_assignments,
}


def _derived(name: str, frame: pd.DataFrame) -> dict[str, list[str | None]]:
    """Columns the database stores that the file does not carry (computed by the one rule)."""
    if name == "divisions":
        return {"kind": [division_kind(str(c)) for c in frame["code"]]}
    return {}


def load_interchange(
    conn: psycopg.Connection[Any],
    data: Any,
    *,
    source: str = "import",
    progress: Progress | None = None,
) -> LoadReport:
    """Write a validated :class:`gridmap.io.Interchange` into the database, in one transaction.

    Layers are staged and merged in the registry's order (divisions first: everything else
    refers to them). The caller validates first (``gridmap.io.validate.validate_or_raise``);
    database constraints are the last line of defence and roll everything back on any
    violation, reported by :func:`refused` without the failing row's values.
    """
    report = LoadReport()
    frames = data.layers()
    layer = "import"
    try:
        with conn.transaction():
            for spec in LAYERS.values():
                frame = frames[spec.name]
                if not len(frame):
                    continue
                layer = spec.name
                staged = _stage(
                    conn,
                    spec.name,
                    frame,
                    spec.column_names,
                    _derived(spec.name, frame),
                    spec.geometry,
                    progress,
                )
                LOADERS[spec.name](conn, report, staged, source)
            if len(data.buildings):
                refresh_grid_households(conn)
            elif len(data.grids):  # only grids: only their communities' counts can change
                communities = sorted({str(c) for c in data.grids["community_code"].dropna()})
                refresh_grid_households(conn, communities)
    except psycopg.Error as exc:
        raise refused(exc, layer) from None
    for spec in LAYERS.values():
        if report.inserted.get(spec.table) or report.updated.get(spec.table):
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(spec.table)))
    LOG.info("import done: %s", report.summary())
    return report


#: the layer whose table (or staging table) a database error names
_LAYER_OF_TABLE = {
    **{spec.table: name for name, spec in LAYERS.items()},
    **{f"stage_{name}": name for name in LAYERS},
}


def refused(exc: psycopg.Error, layer: str = "import") -> Exception:
    """``exc`` as a user may see it: the kind of error, constraint, column and table, and
    never the values of the failing row.

    PostgreSQL's DETAIL (``Failing row contains (…)``, ``Key (…)=(…)``) and CONTEXT (a COPY
    line) carry row values, personal data among them, and so may the primary message of a
    data error (``invalid input syntax for type date: "…"``): none of them is kept. A
    refused row (an integrity or data error) becomes an
    :class:`~gridmap.errors.ImportValidationError` with one problem for ``layer`` (the
    layer being loaded, unless the error names another's table); a lost connection or a
    timeout keeps its psycopg class; anything else becomes a
    :class:`~gridmap.errors.GridmapError`.
    """
    diag = exc.diag
    kind = re.sub(r"(?<!^)(?=[A-Z])", " ", type(exc).__name__).lower()
    names = (
        ("constraint", diag.constraint_name),
        ("column", diag.column_name),
        ("table", diag.table_name),
    )
    where = ", ".join(f"{what} {name}" for what, name in names if name)
    state = f"SQLSTATE {diag.sqlstate}" if diag.sqlstate else ""
    said = "; ".join(x for x in (where, state) if x)
    text = (
        f"the database refused the import: {kind}" + (f" ({said})" if said else "")
        + "; the failing row's values are not shown"
    )  # fmt: skip
    LOG.warning("import refused by the database: %s", text)
    if isinstance(exc, psycopg.IntegrityError | psycopg.DataError):
        target = _LAYER_OF_TABLE.get(diag.table_name or "", layer)
        return ImportValidationError([Problem(target, None, None, None, text)])
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return type(exc)(text)
    return GridmapError(text)


def known_division_codes(conn: psycopg.Connection[Any]) -> set[str]:
    """Every division code in the database (for validating files that extend it)."""
    return {str(r[0]) for r in conn.execute("SELECT code FROM division")}
