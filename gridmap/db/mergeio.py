"""The database side of 多网合一: read the merge inputs, write the result as a new generation."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
import shapely

from gridmap.db.dump import division_scope, fetch_frame
from gridmap.db.generations import carry_roster, record_succession
from gridmap.db.load import LoadReport, load_interchange
from gridmap.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    import geopandas as gpd
    import psycopg

LOG = logging.getLogger(__name__)


@dataclass
class MergeInputs:
    communities: gpd.GeoDataFrame
    legacy: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    current: gpd.GeoDataFrame
    used_serials: dict[str, list[int]]


def read_merge_inputs(conn: psycopg.Connection[Any], within: str | None = None) -> MergeInputs:
    """Communities with boundaries, legacy grids touching them, buildings and current grids.

    ``within`` is any division code (a community, street, county, city or the province);
    None means the whole database.
    """
    p = {"like": division_scope(conn, within)}
    communities = fetch_frame(
        conn,
        "SELECT code, name, ST_AsBinary(boundary) AS geom FROM division "
        "WHERE level = 'village' AND boundary IS NOT NULL AND code LIKE %(like)s ORDER BY code",
        p,
    )
    if not len(communities):
        raise InvalidInput(
            f"no community or village with a boundary under {within or 'the database'}: "
            "import divisions with boundaries first",
            value=within,
        )
    legacy = fetch_frame(
        conn,
        """
        WITH hit AS (
            SELECT l.id FROM legacy_grid l WHERE l.community_code LIKE %(like)s
            UNION
            -- the frames drive the search, through the legacy grids' spatial index
            SELECT l.id FROM division d JOIN legacy_grid l ON ST_Intersects(d.boundary, l.boundary)
            WHERE %(like)s <> '%%' AND d.level = 'village' AND d.code LIKE %(like)s
        )
        SELECT l.layer,
               -- a label unique in the layer: local serials repeat across communities
               CASE WHEN l.community_code IS NULL THEN l.source_code
                    ELSE l.source_code || '@' || l.community_code END AS source_code,
               l.name, l.community_code, ST_AsBinary(l.boundary) AS geom
        FROM legacy_grid l
        WHERE %(like)s = '%%' OR l.id IN (SELECT id FROM hit)
        ORDER BY l.layer, l.source_code
        """,
        p,
    )
    buildings = fetch_frame(
        conn,
        """
        SELECT external_id AS building_id, community_code, households, compound, hamlet,
               group_no, ST_AsBinary(coalesce(footprint, point)) AS geom
        FROM building WHERE community_code LIKE %(like)s ORDER BY external_id
        """,
        p,
    )
    current = fetch_frame(
        conn,
        "SELECT code, community_code, ST_AsBinary(boundary) AS geom FROM current_grid "
        "WHERE community_code LIKE %(like)s ORDER BY code",
        p,
    )
    used: dict[str, list[int]] = {}
    for community, serial in conn.execute(
        "SELECT community_code, serial FROM grid_code WHERE community_code LIKE %(like)s", p
    ):
        used.setdefault(str(community), []).append(int(serial))
    LOG.info(
        "merge inputs: %d communities, %d legacy grids, %d buildings, %d current grids",
        len(communities),
        len(legacy),
        len(buildings),
        len(current),
    )
    return MergeInputs(communities, legacy, buildings, current, used)


@dataclass
class MergeWrite:
    load: LoadReport
    generation: int
    crosswalk_rows: int
    #: grids whose chiefs need attention: retired grids' chiefs ended, grids with no chief
    review: list[dict[str, Any]] = field(default_factory=list)


def write_merge_result(
    conn: psycopg.Connection[Any],
    grids: gpd.GeoDataFrame,
    crosswalk: pd.DataFrame,
    source: str = "merge",
    findings: gpd.GeoDataFrame | None = None,
) -> MergeWrite:
    """Write merged grids (with their final codes, in EPSG:4490) as a new generation, their
    crosswalk, and the merge's quality findings (``kind``, ``layer``, ``area_m2``,
    ``community_code``, geometry in EPSG:4490) for the maps.

    One transaction: the grids, retired codes, crosswalk and findings land together or not
    at all. The grids are first stitched to the current grids of the communities around
    them (:func:`stitch_to_neighbours`), so that a merge of one street or county leaves
    the whole database one coverage.
    """
    from gridmap.io import Interchange

    xw = crosswalk
    with conn.transaction():
        final = stitch_to_neighbours(conn, grids)
        data = Interchange.from_frames(
            grids=final[["code", "name", "community_code", "kind", "geometry"]]
        )
        report = load_interchange(conn, data, source=source)
        row = conn.execute("SELECT id FROM current_generation").fetchone()
        gen = int(row[0]) if row and row[0] is not None else 0
        review: list[dict[str, Any]] = []
        if report.generation is not None:
            # the same roster rule as a plan's activation: no chief stays on a retired grid
            record_succession(conn, gen)
            review, _ended = carry_roster(conn, gen)
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE stage_crosswalk (layer text, source_code text, grid_code text,"
                " area_share float8, household_share float8) ON COMMIT DROP"
            )
            with cur.copy(
                "COPY stage_crosswalk (layer, source_code, grid_code, area_share, household_share)"
                " FROM STDIN"
            ) as copy:
                columns = zip(
                    xw["layer"],
                    xw["source_code"],
                    xw["grid_code"],
                    xw["area_share"].astype("float64"),
                    xw["household_share"].astype("float64"),
                    strict=True,
                )
                for layer, source_code, grid_code, area, hh in columns:
                    copy.write_row(
                        (layer, source_code, grid_code, area, None if pd.isna(hh) else hh)
                    )
        rows = conn.execute(
            """
            INSERT INTO crosswalk (generation, legacy_id, grid_code, area_share, household_share)
            SELECT %(g)s, l.id, s.grid_code, least(s.area_share, 1), least(s.household_share, 1)
            FROM stage_crosswalk s
            JOIN legacy_grid l ON l.layer = s.layer AND s.source_code = CASE
                WHEN l.community_code IS NULL THEN l.source_code
                ELSE l.source_code || '@' || l.community_code END
            ON CONFLICT (generation, legacy_id, grid_code) DO UPDATE
                SET area_share = EXCLUDED.area_share, household_share = EXCLUDED.household_share
            RETURNING id
            """,
            {"g": gen},
        ).fetchall()
        if findings is not None and len(findings):
            communities = sorted({str(c) for c in findings["community_code"]})
            # a merge that changed nothing writes into the current generation: replace
            conn.execute(
                "DELETE FROM merge_finding WHERE generation = %s AND community_code = ANY(%s)",
                (gen, communities),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO merge_finding (generation, community_code, kind, layer, area_m2,"
                    " boundary) SELECT %s, %s, %s, %s, %s, g FROM (SELECT ST_Multi(ST_CollectionExtract("
                    "ST_MakeValid(ST_GeomFromWKB(%s, 4490)), 3)) AS g) p WHERE NOT ST_IsEmpty(g)",
                    [
                        (gen, c, k, layer if isinstance(layer, str) and layer else None, float(a),
                         shapely.to_wkb(g))
                        for c, k, layer, a, g in zip(
                            findings["community_code"], findings["kind"], findings["layer"],
                            findings["area_m2"], findings.geometry, strict=True,
                        )
                    ],
                )  # fmt: skip
    return MergeWrite(load=report, generation=gen, crosswalk_rows=len(rows), review=review)


def stitch_to_neighbours(
    conn: psycopg.Connection[Any], grids: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """``grids`` (EPSG:4490) stitched to the current grids of other communities they touch.

    A merge fits each community's grids to its frame; where its grid lines meet a line it
    shares with a community outside this merge, each side needs the points the other added
    there (:func:`gridmap.merge.frame.stitch_communities`). The outside grids that gain
    points are updated in place: only vertices are added (or moved by at most 1 µm), the
    shape is the same, so no new generation is needed for them. Returns the new grids.
    """
    import geopandas as gpd

    from gridmap.merge.frame import stitch_communities

    if not len(grids):
        return grids
    communities = sorted({str(c) for c in grids["community_code"]})
    around = fetch_frame(
        conn,
        """
        SELECT DISTINCT ON (g.id) g.id, g.community_code, ST_AsBinary(g.boundary) AS geom
        FROM division d JOIN current_grid g ON ST_Intersects(d.boundary, g.boundary)
        WHERE d.code = ANY(%(c)s) AND g.community_code <> ALL(%(c)s)
        ORDER BY g.id
        """,
        {"c": communities},
    )
    if not len(around):
        return grids
    n = len(grids)
    geoms = list(grids.geometry.values) + list(around.geometry.values)
    groups = [str(c) for c in grids["community_code"]] + [str(c) for c in around["community_code"]]
    out = stitch_communities(geoms, groups, "EPSG:4490")
    changed = [
        (shapely.to_wkb(out[n + k]), int(gid))
        for k, gid in enumerate(around["id"].tolist())
        if out[n + k] is not around.geometry.values[k]
    ]
    if changed:
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE grid SET boundary = ST_Multi(ST_GeomFromWKB(%s, 4490)) WHERE id = %s",
                changed,
            )
        LOG.info("stitched: %d grid(s) around took in vertices on shared lines", len(changed))
    result = grids.copy()
    result[result.geometry.name] = gpd.GeoSeries(out[:n], index=grids.index, crs=grids.crs)
    return result


def merge_units(conn: psycopg.Connection[Any], within: str | None, level: str) -> list[str]:
    """The counties (or cities) under ``within`` that hold a community with a boundary."""
    like = division_scope(conn, within)
    digits = 6 if level == "county" else 4
    rows = conn.execute(
        "SELECT DISTINCT rpad(left(code, %(d)s), 12, '0') AS unit FROM division "
        "WHERE level = 'village' AND boundary IS NOT NULL AND code LIKE %(like)s ORDER BY unit",
        {"d": digits, "like": like},
    ).fetchall()
    return [str(r[0]) for r in rows]


def start_run(
    conn: psycopg.Connection[Any], scope: str, level: str, options: dict[str, Any], actor: str
) -> int:
    row = conn.execute(
        "INSERT INTO merge_run (scope, unit_level, options, base_generation, actor) "
        "SELECT %s, %s, %s, (SELECT id FROM current_generation), %s RETURNING id",
        (scope, level, json.dumps(options), actor),
    ).fetchone()
    assert row is not None
    return int(row[0])


def run_info(conn: psycopg.Connection[Any], run: int) -> dict[str, Any]:
    """A run's scope, level, base generation, and its units' outcomes so far."""
    row = conn.execute(
        "SELECT scope, unit_level, base_generation, options FROM merge_run WHERE id = %s", (run,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no merge run {run}", value=run)
    units = conn.execute(
        "SELECT unit_code, status, generation, grids, seconds, error FROM merge_unit "
        "WHERE run_id = %s ORDER BY unit_code",
        (run,),
    ).fetchall()
    return {
        "run": run, "scope": str(row[0]), "level": str(row[1]),
        "base_generation": row[2], "options": row[3],
        "units": {str(u[0]): {"status": u[1], "generation": u[2], "grids": u[3],
                              "seconds": u[4], "error": u[5]} for u in units},
    }  # fmt: skip


def record_unit(
    conn: psycopg.Connection[Any],
    run: int,
    unit: str,
    status: str,
    *,
    generation: int | None = None,
    grids: int = 0,
    seconds: float = 0.0,
    error: str | None = None,
) -> None:
    conn.execute(
        """
        INSERT INTO merge_unit (run_id, unit_code, status, generation, grids, seconds, error)
        VALUES (%s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (run_id, unit_code) DO UPDATE SET status = EXCLUDED.status,
            generation = EXCLUDED.generation, grids = EXCLUDED.grids,
            seconds = EXCLUDED.seconds, error = EXCLUDED.error, finished_at = now()
        """,
        (run, unit, status, generation, grids, seconds, error),
    )
    conn.execute("UPDATE merge_run SET finished_at = now() WHERE id = %s", (run,))


def current_grids(conn: psycopg.Connection[Any], within: str | None) -> gpd.GeoDataFrame:
    """The current grids under ``within`` (code, community, geometry in EPSG:4490)."""
    return fetch_frame(
        conn,
        "SELECT code, community_code, ST_AsBinary(boundary) AS geom FROM current_grid "
        "WHERE community_code LIKE %(like)s ORDER BY code",
        {"like": division_scope(conn, within)},
    )
