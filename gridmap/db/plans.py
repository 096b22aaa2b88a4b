"""Rebalancing plans in PostGIS: the engine's inputs read, plans saved, activated as a
generation, and a previous generation restored.

Activation is one transaction: the plan's grids become a generation (through the same
path as an import, :func:`gridmap.db.generations.load_grid_generation`), where households
went is recorded in ``grid_succession``, the grid chiefs of retired grids are ended and,
with every new grid that has no chief, listed for review. Restoring a generation is the
same in reverse: its grids for the plan's communities come back with their own codes (a
restore is not a reissue), the codes the plan introduced are retired, and the chiefs the
activation ended are reinstated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, LiteralString

import geopandas as gpd
import pandas as pd
import shapely

from gridmap.db.dump import division_scope
from gridmap.db.generations import carry_roster
from gridmap.errors import NotFound, PlanNotDraft, StalePlan, UnknownPlan

if TYPE_CHECKING:
    import psycopg

    from gridmap.rebalance import Plan

__all__ = [
    "CommunityInputs",
    "PlanMapData",
    "activate_plan",
    "list_plans",
    "plan_map_data",
    "read_plan",
    "read_rebalance_inputs",
    "restore_generation",
    "save_plan",
]


@dataclass
class CommunityInputs:
    code: str
    kind: str
    frame: Any
    grids: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    used_serials: list[int]


_GRIDS: LiteralString = """
SELECT g.code, g.name, g.kind, g.community_code, ST_AsBinary(g.boundary) AS geom
FROM current_grid g
WHERE left(g.community_code, length(%(p)s::text)) = %(p)s
ORDER BY g.code
"""
_BUILDINGS: LiteralString = """
SELECT b.id AS building_id, b.external_id AS id, b.community_code, b.households, b.compound,
       coalesce(b.hamlet, CASE WHEN b.group_no IS NOT NULL THEN b.group_no || '组' END) AS hamlet,
       (SELECT min(g.code) FROM current_grid g
         WHERE g.community_code = b.community_code AND ST_Intersects(g.boundary, b.point))
         AS grid_code,
       ST_AsBinary(coalesce(b.footprint, b.point)) AS geom
FROM building b
WHERE left(b.community_code, length(%(p)s::text)) = %(p)s
ORDER BY b.external_id
"""
_FRAMES: LiteralString = """
SELECT code, ST_AsBinary(boundary) AS geom FROM division
WHERE level = 'village' AND left(code, length(%(p)s::text)) = %(p)s AND boundary IS NOT NULL
"""
_SERIALS: LiteralString = """
SELECT community_code, array_agg(right(code, 3)::int ORDER BY code) FROM grid_code
WHERE left(community_code, length(%(p)s::text)) = %(p)s GROUP BY community_code
"""


def _frame(
    conn: psycopg.Connection[Any], sql: LiteralString, params: dict[str, Any]
) -> gpd.GeoDataFrame:
    cur = conn.execute(sql, params)
    cols = [d.name for d in cur.description or []]
    rows = cur.fetchall()
    df = pd.DataFrame(rows, columns=cols)
    geoms: Any = shapely.from_wkb([bytes(g) for g in df.pop("geom")]) if len(df) else []
    return gpd.GeoDataFrame(df, geometry=list(geoms), crs=4490)


def _prefix(conn: psycopg.Connection[Any], division: str) -> str:
    """The code prefix of ``division`` (checked to be a well-formed code the database holds)."""
    return division_scope(conn, division).removesuffix("%")


def current_generation(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT id FROM current_generation").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def read_rebalance_inputs(conn: psycopg.Connection[Any], division: str) -> list[CommunityInputs]:
    """Every community under ``division`` with current grids: its frame, grids, buildings
    (each with the current grid it stands in) and the serials it has ever issued."""
    p = {"p": _prefix(conn, division)}
    grids = _frame(conn, _GRIDS, p)
    buildings = _frame(conn, _BUILDINGS, p)
    frames = _frame(conn, _FRAMES, p).set_index("code").geometry
    serials = {str(c): list(s) for c, s in conn.execute(_SERIALS, p).fetchall()}
    out = []
    for code, part in grids.groupby("community_code", sort=True):
        code = str(code)
        kinds = set(part["kind"])
        out.append(
            CommunityInputs(
                code=code,
                kind="rural" if kinds == {"rural"} else "urban",
                frame=frames.get(code),
                grids=part.reset_index(drop=True),
                buildings=buildings.loc[buildings["community_code"] == code].reset_index(drop=True),
                used_serials=serials.get(code, []),
            )
        )
    return out


def save_plan(
    conn: psycopg.Connection[Any],
    division: str,
    plan: Plan,
    building_ids: dict[str, int],
    params: dict[str, Any],
) -> int:
    """Store ``plan`` as a draft against the generation in force; its id."""
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO plan (division_code, base_generation, band_low, band_high, params,"
            " metrics, infeasible, retired) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (division, current_generation(conn), plan.band[0], plan.band[1], json.dumps(params),
             json.dumps({"summary": plan.summary, "table": plan.rows}, ensure_ascii=False),
             json.dumps(plan.infeasible, ensure_ascii=False), plan.retired),
        ).fetchone()  # fmt: skip
        assert row is not None
        pid = int(row[0])
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO plan_grid (plan_id, code, community_code, households, status, boundary)"
                " VALUES (%s, %s, %s, %s, %s, ST_Multi(ST_GeomFromWKB(%s, 4490)))",
                [(pid, c, cc, int(h), st, shapely.to_wkb(g)) for c, cc, h, st, g in zip(
                    plan.grids["code"], plan.grids["community_code"], plan.grids["households"],
                    plan.grids["status"], plan.grids.geometry, strict=True)],
            )  # fmt: skip
            with cur.copy(
                "COPY plan_assignment (plan_id, building_id, from_code, grid_code) FROM STDIN"
            ) as copy:
                for bid, frm, to in zip(plan.assignment["id"], plan.assignment["from_code"],
                                        plan.assignment["grid_code"], strict=True):  # fmt: skip
                    copy.write_row((pid, building_ids[str(bid)], frm, to))
    return pid


def list_plans(conn: psycopg.Connection[Any], within: str | None = None) -> list[dict[str, Any]]:
    """Every plan (or those for ``within`` and the divisions under it), oldest first."""
    prefix = _prefix(conn, within) if within else ""
    cur = conn.execute(
        "SELECT id, division_code, base_generation, status, activated_generation, band_low,"
        " band_high, metrics->'summary' AS summary, created_at FROM plan"
        " WHERE left(division_code, length(%s::text)) = %s ORDER BY id",
        (prefix, prefix),
    )
    cols = [d.name for d in cur.description or []]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def read_plan(conn: psycopg.Connection[Any], plan_id: int) -> dict[str, Any]:
    """The plan row, its grids (a GeoDataFrame) and its assignment."""
    cur = conn.execute("SELECT * FROM plan WHERE id = %s", (plan_id,))
    row = cur.fetchone()
    if row is None:
        raise UnknownPlan(plan_id)
    out = dict(zip([d.name for d in cur.description or []], row, strict=True))
    out["grids"] = _frame(
        conn,
        "SELECT code, community_code, households, status, ST_AsBinary(boundary) AS geom"
        " FROM plan_grid WHERE plan_id = %(id)s ORDER BY code",
        {"id": plan_id},
    )
    cur = conn.execute(
        "SELECT b.external_id AS id, a.from_code, a.grid_code, b.households FROM plan_assignment a"
        " JOIN building b ON b.id = a.building_id WHERE a.plan_id = %s ORDER BY b.external_id",
        (plan_id,),
    )
    out["assignment"] = pd.DataFrame(
        cur.fetchall(), columns=[d.name for d in cur.description or []]
    )
    return out


def activate_plan(conn: psycopg.Connection[Any], plan_id: int) -> dict[str, Any]:
    """Make draft ``plan_id`` the grids in force, in one transaction; what happened."""
    from gridmap.db.load import load_interchange
    from gridmap.io import Interchange

    with conn.transaction():
        row = conn.execute(
            "SELECT status, base_generation FROM plan WHERE id = %s FOR UPDATE", (plan_id,)
        ).fetchone()
        if row is None:
            raise UnknownPlan(plan_id)
        status, base = str(row[0]), int(row[1])
        if status != "draft":
            raise PlanNotDraft(f"plan {plan_id} is {status}, not a draft: only a draft can be "
                               "activated", value=plan_id)  # fmt: skip
        now = current_generation(conn)
        if now != base:
            raise StalePlan(
                f"plan {plan_id} was drafted against generation {base}, but generation {now} "
                "is now in force: draft the plan again",
                value=plan_id,
            )
        grids = _frame(
            conn,
            """
            SELECT p.code, p.community_code,
                   coalesce(c.name, d.name || '网格' || right(p.code, 3)::int) AS name,
                   coalesce(c.kind, k.kind) AS kind, ST_AsBinary(p.boundary) AS geom
            FROM plan_grid p
            JOIN division d ON d.code = p.community_code
            LEFT JOIN current_grid c ON c.code = p.code
            LEFT JOIN LATERAL (SELECT min(kind) AS kind FROM current_grid
                               WHERE community_code = p.community_code) k ON true
            WHERE p.plan_id = %(id)s ORDER BY p.code
            """,
            {"id": plan_id},
        )
        report = load_interchange(
            conn, Interchange.from_frames(grids=grids), source=f"plan {plan_id}"
        )
        gen = current_generation(conn)
        conn.execute(
            """
            INSERT INTO grid_succession (generation, from_code, to_code, households, buildings)
            SELECT %(g)s, a.from_code, a.grid_code, sum(b.households), count(*)
            FROM plan_assignment a JOIN building b ON b.id = a.building_id
            WHERE a.plan_id = %(id)s GROUP BY a.from_code, a.grid_code
            """,
            {"g": gen, "id": plan_id},
        )
        review, ended = carry_roster(conn, gen)
        conn.execute(
            "UPDATE plan SET status = 'active', activated_generation = %s, activated_at = now(),"
            " review = %s, ended_assignments = %s WHERE id = %s",
            (gen, json.dumps(review, ensure_ascii=False), ended, plan_id),
        )
    return {"plan_id": plan_id, "generation": gen, "retired": report.retired_grids,
            "review": review}  # fmt: skip


def restore_generation(conn: psycopg.Connection[Any], generation: int, division: str) -> int:
    """Bring back the grids generation ``generation`` had under ``division`` as a new
    generation (their codes return; codes issued since are retired), reinstate the grid
    chiefs a plan activation ended, and mark plans activated since as rolled back."""
    from gridmap.db.load import load_interchange
    from gridmap.io import Interchange

    prefix = _prefix(conn, division)
    with conn.transaction():
        if conn.execute("SELECT 1 FROM generation WHERE id = %s AND activated_at IS NOT NULL",
                        (generation,)).fetchone() is None:  # fmt: skip
            raise NotFound(f"no activated generation {generation}", value=generation)
        grids = _frame(
            conn,
            """
            SELECT code, community_code, name, kind, ST_AsBinary(boundary) AS geom FROM grid
            WHERE generation_low <= %(g)s AND (generation_high IS NULL OR generation_high >= %(g)s)
              AND left(community_code, length(%(p)s::text)) = %(p)s
            ORDER BY code
            """,
            {"g": generation, "p": prefix},
        )
        conn.execute(
            "UPDATE grid_code SET retired_in = NULL WHERE code = ANY(%s)", (list(grids["code"]),)
        )
        load_interchange(conn, Interchange.from_frames(grids=grids), source=f"restore {generation}")
        gen = current_generation(conn)
        plans = conn.execute(
            "UPDATE plan SET status = 'rolled_back' WHERE status = 'active'"
            " AND activated_generation > %s AND left(division_code, length(%s::text)) = %s"
            " RETURNING ended_assignments",
            (generation, prefix, prefix),
        ).fetchall()
        ended = [i for (ids,) in plans for i in ids]
        if ended:
            conn.execute(
                """
                UPDATE assignment a SET until = NULL WHERE a.id = ANY(%s)
                  AND NOT EXISTS (SELECT 1 FROM assignment b WHERE b.role = 'grid_chief'
                                  AND b.until IS NULL AND b.grid_code = a.grid_code)
                """,
                (ended,),
            )
        conn.execute(
            """
            UPDATE assignment SET until = greatest(current_date, since)
            WHERE role = 'grid_chief' AND until IS NULL
              AND grid_code IN (SELECT code FROM grid_code WHERE retired_in = %s)
            """,
            (gen,),
        )
    return gen


@dataclass
class PlanMapData:
    """What a plan map draws: the plan's grids, the grids it replaces, the buildings that
    move, the communities, and the plan's own row (status, band, metrics)."""

    plan: dict[str, Any]
    grids: gpd.GeoDataFrame
    old: gpd.GeoDataFrame
    moved: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame


def plan_map_data(conn: psycopg.Connection[Any], plan_id: int) -> PlanMapData:
    """The plan's grids (named as they are or will be), the grids of its base generation in
    the same communities, and every building whose grid the plan changes."""
    cur = conn.execute(
        "SELECT id, division_code, base_generation, status, activated_generation, band_low,"
        " band_high, metrics->'summary' AS summary, infeasible, retired FROM plan WHERE id = %s",
        (plan_id,),
    )
    row = cur.fetchone()
    if row is None:
        raise UnknownPlan(plan_id)
    plan = dict(zip([d.name for d in cur.description or []], row, strict=True))
    p = {"id": plan_id, "g": plan["base_generation"]}
    grids = _frame(
        conn,
        """
        SELECT p.code, p.community_code, d.name AS community_name, p.households, p.status,
               coalesce(o.name, d.name || '网格' || right(p.code, 3)::int) AS name,
               coalesce(o.kind, 'urban') AS kind, ST_AsBinary(p.boundary) AS geom
        FROM plan_grid p JOIN division d ON d.code = p.community_code
        LEFT JOIN grid o ON o.code = p.code AND o.generation_low <= %(g)s
             AND (o.generation_high IS NULL OR o.generation_high >= %(g)s)
        WHERE p.plan_id = %(id)s ORDER BY p.code
        """,
        p,
    )
    old = _frame(
        conn,
        """
        SELECT o.code, o.name, o.community_code, ST_AsBinary(o.boundary) AS geom FROM grid o
        WHERE o.generation_low <= %(g)s AND (o.generation_high IS NULL OR o.generation_high >= %(g)s)
          AND o.community_code IN (SELECT community_code FROM plan_grid WHERE plan_id = %(id)s)
        ORDER BY o.code
        """,
        p,
    )
    moved = _frame(
        conn,
        """
        SELECT b.external_id AS id, b.compound, b.building_no, b.households,
               a.from_code, a.grid_code AS to_code,
               ST_AsBinary(coalesce(b.footprint, b.point)) AS geom
        FROM plan_assignment a JOIN building b ON b.id = a.building_id
        WHERE a.plan_id = %(id)s AND a.from_code IS DISTINCT FROM a.grid_code
        ORDER BY b.external_id
        """,
        p,
    )
    communities = _frame(
        conn,
        """
        SELECT d.code, d.name, ST_AsBinary(d.boundary) AS geom FROM division d
        WHERE d.code IN (SELECT community_code FROM plan_grid WHERE plan_id = %(id)s)
          AND d.boundary IS NOT NULL ORDER BY d.code
        """,
        p,
    )
    return PlanMapData(plan, grids, old, moved, communities)
