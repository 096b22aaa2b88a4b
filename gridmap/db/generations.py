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

__all__ = [
    "AS_MULTIPOLYGON",
    "carry_roster",
    "load_grid_generation",
    "record_succession",
    "refresh_grid_households",
]

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

    Unchanged grids keep their row (taking in new vertices where a neighbour's edge now meets
    theirs, the shape within ``SAME_SHAPE_DEG``); changed ones are closed (``generation_high``) and
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
    # the same shape with other vertices (a neighbour's edge met it): the row takes the new
    # vertices in place, so shared edges keep matching vertices on both sides
    conn.execute(
        f"""
        UPDATE grid g SET boundary = s.boundary FROM stage_grid_rows s
        WHERE g.code = s.code AND g.generation_high IS NULL
          AND (g.name, g.community_code, g.kind)
              IS NOT DISTINCT FROM (s.name, s.community_code, s.kind)
          AND NOT ST_OrderingEquals(g.boundary, s.boundary) AND {SAME_SHAPE}
        """
    )
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


def refresh_grid_households(
    conn: psycopg.Connection[Any], communities: list[str] | None = None
) -> int:
    """Recount households of current grids from the buildings whose point they cover: of
    every current grid, or only of the grids of ``communities`` (a merge or a plan changes
    the grids of a few communities, and a province holds a million buildings)."""
    rows = conn.execute(
        """
        UPDATE grid g SET households = coalesce(h.total, 0)
        FROM (
            SELECT g2.id, sum(b.households) AS total
            FROM grid g2 LEFT JOIN building b ON ST_Covers(g2.boundary, b.point)
            WHERE g2.generation_high IS NULL
              AND (%(c)s::text[] IS NULL OR g2.community_code = ANY(%(c)s::text[]))
            GROUP BY g2.id
        ) h
        WHERE g.id = h.id AND g.households IS DISTINCT FROM coalesce(h.total, 0)
        RETURNING g.id
        """,
        {"c": communities},
    ).fetchall()
    return len(rows)


def record_succession(conn: psycopg.Connection[Any], gen: int) -> int:
    """Where each grid's households went when generation ``gen`` came into force, from the
    buildings of the communities it changed: the grid each stood in before and now.
    Rows already recorded (a plan records its own) are kept; the number of rows added."""
    rows = conn.execute(
        """
        WITH touched AS (
            SELECT DISTINCT community_code FROM grid
            WHERE generation_low = %(g)s OR generation_high = %(g)s - 1
        ), moves AS (
            SELECT o.code AS from_code, n.code AS to_code, sum(b.households) AS households,
                   count(*) AS buildings
            FROM building b
            JOIN grid o ON o.community_code = b.community_code AND o.generation_low <= %(g)s - 1
                 AND (o.generation_high IS NULL OR o.generation_high >= %(g)s - 1)
                 AND ST_Intersects(o.boundary, b.point)
            JOIN grid n ON n.community_code = b.community_code AND n.generation_low <= %(g)s
                 AND (n.generation_high IS NULL OR n.generation_high >= %(g)s)
                 AND ST_Intersects(n.boundary, b.point)
            WHERE b.community_code IN (SELECT community_code FROM touched)
            GROUP BY o.code, n.code
        )
        INSERT INTO grid_succession (generation, from_code, to_code, households, buildings)
        SELECT %(g)s, from_code, to_code, households, buildings FROM moves
        ON CONFLICT DO NOTHING
        RETURNING 1
        """,
        {"g": gen},
    ).fetchall()
    return len(rows)


def carry_roster(conn: psycopg.Connection[Any], gen: int) -> tuple[list[dict[str, Any]], list[int]]:
    """After generation ``gen`` came into force: end the grid chiefs of the grids it retired
    (no chief stays current on a retired grid), each listed for review with the grid most of
    its households went to, and list every current grid of the changed communities that
    has no grid chief. A grid that continues keeps its code, so its chiefs stay as they are.
    Returns the review list and the ids of the assignments ended."""
    ended = conn.execute(
        """
        UPDATE assignment a SET until = greatest(current_date, a.since)
        FROM grid_code c
        WHERE c.code = a.grid_code AND c.retired_in = %(g)s
          AND a.role = 'grid_chief' AND a.until IS NULL
        RETURNING a.id, a.grid_code,
                  (SELECT name FROM person WHERE id = a.person_id) AS person,
                  (SELECT s.to_code FROM grid_succession s WHERE s.generation = %(g)s
                    AND s.from_code = a.grid_code ORDER BY s.households DESC, s.to_code
                    LIMIT 1) AS successor
        """,
        {"g": gen},
    ).fetchall()
    review: list[dict[str, Any]] = [
        {"code": str(code), "reason": "grid retired: its grid chief's term was ended",
         "person": person, "successor": successor}
        for _id, code, person, successor in sorted(ended, key=lambda r: str(r[1]))
    ]  # fmt: skip
    vacant = conn.execute(
        """
        SELECT g.code FROM current_grid g
        WHERE g.community_code IN (SELECT community_code FROM grid WHERE generation_low = %(g)s
                                   OR generation_high = %(g)s - 1)
          AND NOT EXISTS (SELECT 1 FROM assignment a WHERE a.role = 'grid_chief'
                          AND a.until IS NULL AND a.grid_code = g.code)
        ORDER BY g.code
        """,
        {"g": gen},
    ).fetchall()
    review += [{"code": str(c), "reason": "no grid chief: appoint one"} for (c,) in vacant]
    return review, [int(r[0]) for r in ended]
