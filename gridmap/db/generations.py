"""Grid generations: a new grid set becomes a generation; nothing is deleted, codes never reused.

A changed ``grids`` layer (from an import, or a merge's result) opens a generation: the
grids it changes are closed at the generation before, new ones open at it, and the codes
of grids it retires are marked retired in ``grid_code`` so that they are never reissued.
The previous generations stay queryable (``generation_low..generation_high``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridmap.errors import InvalidInput

if TYPE_CHECKING:
    import psycopg

    from gridmap.db.load import LoadReport

__all__ = ["AS_MULTIPOLYGON", "load_grid_generation", "refresh_grid_households"]

#: the staged ``geom`` text column as a MultiPolygon (a repaired geometry may be a collection)
AS_MULTIPOLYGON = "ST_Multi(ST_CollectionExtract(geom::geometry, 3))"

#: a grid's boundary is unchanged when it is the same shape, or differs by at most 1e-9°
#: (0.1 mm) anywhere: noding a neighbour's new edge can add a vertex that lies on an old
#: edge only to floating-point precision, and that is no reason for a new row
SAME_SHAPE_DEG = 1e-9
SAME_SHAPE = (
    "(ST_Equals(g.boundary, s.boundary) OR "
    f"ST_HausdorffDistance(g.boundary, s.boundary) <= {SAME_SHAPE_DEG})"
)


def load_grid_generation(conn: psycopg.Connection[Any], report: LoadReport, source: str) -> None:
    """Turn the staged grid set (``stage_grids``) into a new generation, if it changes anything.

    Unchanged grids keep their row; changed ones are closed (``generation_high``) and
    re-inserted; grids of the affected communities that the set no longer carries are
    retired with their codes, which may never be issued again.
    """
    conn.execute(
        f"""
        CREATE TEMP TABLE stage_grid_rows ON COMMIT DROP AS
        SELECT code, coalesce(name, '') AS name, community_code, kind,
               {AS_MULTIPOLYGON} AS boundary
        FROM stage_grids
        """
    )
    conn.execute("CREATE INDEX ON stage_grid_rows (code)")
    conn.execute("CREATE INDEX ON stage_grid_rows (community_code)")
    conn.execute("ANALYZE stage_grid_rows")
    reused = conn.execute(
        "SELECT s.code FROM stage_grid_rows s JOIN grid_code c ON c.code = s.code "
        "WHERE c.retired_in IS NOT NULL ORDER BY s.code LIMIT 20"
    ).fetchall()
    if reused:
        codes = ", ".join(str(r[0]) for r in reused)
        raise InvalidInput(
            f"grid code(s) {codes} were retired and may not be reused: give the grid a new "
            "serial (codes are never reissued)",
            codes=[str(r[0]) for r in reused],
        )
    changed = conn.execute(
        f"""
        SELECT count(*) FROM stage_grid_rows s
        LEFT JOIN grid g ON g.code = s.code AND g.generation_high IS NULL
        WHERE g.id IS NULL OR (g.name, g.community_code, g.kind)
              IS DISTINCT FROM (s.name, s.community_code, s.kind)
           OR NOT {SAME_SHAPE}
        """
    ).fetchone()
    gone = conn.execute(
        """
        SELECT count(*) FROM grid g
        WHERE g.generation_high IS NULL
          AND g.community_code IN (SELECT community_code FROM stage_grid_rows)
          AND NOT EXISTS (SELECT 1 FROM stage_grid_rows s WHERE s.code = g.code)
        """
    ).fetchone()
    n_changed = int(changed[0]) if changed else 0
    n_gone = int(gone[0]) if gone else 0
    staged = conn.execute("SELECT count(*) FROM stage_grid_rows").fetchone()
    n_staged = int(staged[0]) if staged else 0
    if n_changed == 0 and n_gone == 0:
        report.unchanged["grid"] = n_staged
        return
    row = conn.execute(
        "INSERT INTO generation (id, source, description, activated_at) "
        "SELECT coalesce(max(id), 0) + 1, %(s)s, %(d)s, now() FROM generation RETURNING id",
        {"s": source, "d": f"{n_changed} grid(s) new or changed, {n_gone} retired"},
    ).fetchone()
    assert row is not None
    gen = int(row[0])
    report.generation = gen
    conn.execute(
        """
        INSERT INTO grid_code (code, community_code, issued_in)
        SELECT code, community_code, %(g)s FROM stage_grid_rows
        ON CONFLICT (code) DO NOTHING
        """,
        {"g": gen},
    )
    closed = conn.execute(
        f"""
        WITH changed AS (
            SELECT g.id FROM grid g JOIN stage_grid_rows s ON s.code = g.code
            WHERE g.generation_high IS NULL
              AND ((g.name, g.community_code, g.kind)
                   IS DISTINCT FROM (s.name, s.community_code, s.kind)
                   OR NOT {SAME_SHAPE})
        ), gone AS (
            SELECT g.id FROM grid g
            WHERE g.generation_high IS NULL
              AND g.community_code IN (SELECT community_code FROM stage_grid_rows)
              AND NOT EXISTS (SELECT 1 FROM stage_grid_rows s WHERE s.code = g.code)
        )
        UPDATE grid g SET generation_high = %(g)s - 1
        WHERE g.id IN (SELECT id FROM changed UNION ALL SELECT id FROM gone)
        RETURNING g.code
        """,
        {"g": gen},
    ).fetchall()
    conn.execute(
        """
        UPDATE grid_code c SET retired_in = %(g)s
        WHERE c.community_code IN (SELECT community_code FROM stage_grid_rows)
          AND NOT EXISTS (SELECT 1 FROM stage_grid_rows s WHERE s.code = c.code)
          AND c.retired_in IS NULL
        """,
        {"g": gen},
    )
    inserted = conn.execute(
        """
        INSERT INTO grid (code, community_code, kind, name, boundary, generation_low)
        SELECT s.code, s.community_code, s.kind, s.name, s.boundary, %(g)s
        FROM stage_grid_rows s
        WHERE NOT EXISTS (SELECT 1 FROM grid g WHERE g.code = s.code AND g.generation_high IS NULL)
        RETURNING id
        """,
        {"g": gen},
    ).fetchall()
    report.retired_grids = n_gone
    report.inserted["grid"] = len(inserted)
    report.updated["grid"] = len(closed) - n_gone
    report.unchanged["grid"] = n_staged - len(inserted)


def refresh_grid_households(conn: psycopg.Connection[Any]) -> int:
    """Recount households of current grids from the buildings whose point they cover."""
    rows = conn.execute(
        """
        UPDATE grid g SET households = coalesce(h.total, 0)
        FROM (
            SELECT g2.id, sum(b.households) AS total
            FROM grid g2 LEFT JOIN building b ON ST_Covers(g2.boundary, b.point)
            WHERE g2.generation_high IS NULL
            GROUP BY g2.id
        ) h
        WHERE g.id = h.id AND g.households IS DISTINCT FROM coalesce(h.total, 0)
        RETURNING g.id
        """
    ).fetchall()
    return len(rows)
