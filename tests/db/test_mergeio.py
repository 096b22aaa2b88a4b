"""多网合一 against the database: inputs read, a new generation written, codes kept stable."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
from shapely import affinity
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.db import mapdata
from gridmap.errors import UnknownDivision
from gridmap.io import Interchange
from gridmap.merge import MergeOptions
from gridmap.service import Gridmap
from tests.db.test_load import small_region

if TYPE_CHECKING:
    from pathlib import Path

    from click.testing import Result

pytestmark = pytest.mark.postgis


def region_with_legacy_layers() -> Interchange:
    """The small region plus three legacy layers drawn 4-10 m off the true grids."""
    data = small_region()
    frames = []
    for layer, dx in (("governance", 0.0001), ("civil", -0.00008), ("party", 0.00005)):
        g = data.grids.copy()
        g["geometry"] = g.geometry.apply(lambda x, d=dx: affinity.translate(x, d, d / 2))
        g["layer"] = layer
        g["source_code"] = [f"{layer}-{i}" for i in range(len(g))]
        frames.append(g[["layer", "source_code", "name", "community_code", "geometry"]])
    legacy = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4490")
    layers = data.layers()
    layers["legacy_grids"] = legacy
    return Interchange.from_frames(**layers)


def load(url: str) -> None:
    with Gridmap.connect(url) as gm:
        gm.import_data(region_with_legacy_layers())


def run_merge(url: str, *args: str) -> Result:
    """``gridmap merge ARGS`` in this process, as a user would type it."""
    return CliRunner().invoke(app, ["merge", *args, "--database-url", url])


def test_merge_writes_a_valid_new_generation(db_url: str, tmp_path: Path) -> None:
    load(db_url)
    res = run_merge(db_url, "220102005000", "--report", str(tmp_path), "--households", "30-400")
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["generation"] == 2
    assert (tmp_path / "report.md").read_text(encoding="utf-8").strip()
    with psycopg.connect(db_url) as conn:
        q: Any = conn.execute
        # the unified grids tile each community exactly
        rows = q(
            """
            SELECT d.code, ST_Area(d.boundary::geography),
                   sum(ST_Area(g.boundary::geography)),
                   ST_Area(ST_Union(g.boundary)::geography)
            FROM division d JOIN current_grid g ON g.community_code = d.code
            WHERE d.level = 'village' GROUP BY d.code, d.boundary
            """
        ).fetchall()
        assert len(rows) == 2
        for _code, community, total, union in rows:
            assert abs(total - community) / community < 1e-4
            assert abs(union - community) / community < 1e-4
        # every building lies in exactly one current grid
        per_building = q(
            "SELECT b.external_id, count(g.id) FROM building b "
            "LEFT JOIN current_grid g ON ST_Covers(g.boundary, b.point) GROUP BY 1"
        ).fetchall()
        assert all(n == 1 for _, n in per_building), per_building
        # generation 1 is kept whole
        assert q(
            "SELECT count(*) FROM grid WHERE generation_low <= 1 "
            "AND (generation_high IS NULL OR generation_high >= 1)"
        ).fetchone() == (4,)
        # area shares per legacy grid sum to at most 1 (the rest lies outside every community)
        shares = q(
            "SELECT l.source_code, sum(c.area_share) FROM crosswalk c "
            "JOIN legacy_grid l ON l.id = c.legacy_id WHERE c.generation = 2 GROUP BY 1"
        ).fetchall()
        assert len(shares) == 12
        assert all(0.9 < s <= 1.0 + 1e-6 for _, s in shares), shares
        codes_after_first = sorted(r[0] for r in q("SELECT code FROM current_grid"))
    # the report's gaps, overlaps and slivers are kept with the generation, for the maps
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    features = sum(len(c["features"]["features"]) for c in report["communities"])
    assert features > 0
    with psycopg.connect(db_url) as conn:
        stored = conn.execute(
            "SELECT kind, count(*) FROM merge_finding WHERE generation = 2 GROUP BY 1"
        ).fetchall()
        assert sum(n for _, n in stored) == features
        assert {k for k, _ in stored} <= {"gap", "overlap", "sliver"}
        cov = mapdata.coverage_data(conn, "220102005000")
        assert cov.findings is not None
        assert len(cov.findings) == features
    # merging again (through the service, as the API and notebooks do) changes nothing
    with Gridmap.connect(db_url) as gm:
        again = gm.merge("220102005000", MergeOptions(households_min=30, households_max=400))
    assert again.generation == 2
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM merge_finding").fetchone() == (features,)
    with psycopg.connect(db_url) as conn:
        assert sorted(r[0] for r in conn.execute("SELECT code FROM current_grid")) == (
            codes_after_first
        )
        assert conn.execute("SELECT max(id) FROM generation").fetchone() == (2,)


def test_merge_of_an_unknown_division_is_a_clear_error(db_url: str) -> None:
    with Gridmap.connect(db_url) as gm, pytest.raises(UnknownDivision, match="220102099000"):
        gm.merge("220102099000")


def test_dry_run_writes_nothing(db_url: str) -> None:
    load(db_url)
    res = run_merge(db_url, "--dry-run")
    assert res.exit_code == 0, res.output
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT max(id) FROM generation").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM crosswalk").fetchone() == (0,)


def test_grids_made_invalid_by_reprojection_are_repaired_before_writing() -> None:
    from shapely import Polygon

    from gridmap.geometry import storage_valid

    # a ring that touches itself (a bow-tie pinch) is invalid; valid neighbours pass untouched
    pinched = Polygon([(0, 0), (2, 0), (1, 1), (2, 2), (0, 2), (1, 1), (0, 0)])
    square = Polygon([(3, 0), (4, 0), (4, 1), (3, 1)])
    shift = 125.0, 43.0
    frame = gpd.GeoDataFrame(
        {"code": ["220102005004001", "220102005004002"]},
        geometry=[affinity.translate(g, *shift) for g in (pinched, square)],
        crs="EPSG:4490",
    )
    assert not frame.geometry.is_valid.all()
    out = storage_valid(frame)
    assert out.geometry.is_valid.all()
    assert out.geometry.iloc[1].equals(frame.geometry.iloc[1])
    assert abs(out.geometry.iloc[0].area - frame.geometry.iloc[0].area) < 1e-9


def test_export_writes_the_merged_grids_and_their_crosswalk(db_url: str, tmp_path: Path) -> None:
    load(db_url)
    assert run_merge(db_url, "--households", "30-400").exit_code == 0
    out = tmp_path / "unified.gpkg"
    res = CliRunner().invoke(
        app, ["export", str(out), "--layers", "grids,crosswalk", "--database-url", db_url]
    )
    assert res.exit_code == 0, res.output
    grids = gpd.read_file(out, layer="grids")
    assert {"code", "name", "community_code", "kind", "households"} <= set(grids.columns)
    assert grids["households"].sum() == 72 + 36 + 240
    crosswalk = gpd.read_file(out, layer="crosswalk")
    assert {"layer", "source_code", "grid_code", "area_share", "household_share"} <= set(
        crosswalk.columns
    )
    assert set(crosswalk["grid_code"]) <= set(grids["code"])
    shares = crosswalk.groupby(["layer", "source_code"])["area_share"].sum()
    assert len(shares) == 12
    assert ((shares > 0.9) & (shares <= 1 + 1e-6)).all()


def test_a_merge_ends_the_chiefs_of_the_grids_it_retires_and_lists_them(db_url: str) -> None:
    """A band of 200-1,000 households joins 龙兴社区's two small grids: one code retires. Its
    grid chief's term ends (no chief stays current on a retired grid), the review names the
    grid its households went to, and where every grid's households went is recorded."""
    load(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        chiefs_before = dict(conn.execute(
            "SELECT grid_code, person_id FROM assignment WHERE role = 'grid_chief'"
            " AND until IS NULL").fetchall())  # fmt: skip
    with Gridmap.connect(db_url) as gm:
        out = gm.merge("220102005000", MergeOptions(households_min=200, households_max=1000))
    assert out.generation == 2
    with psycopg.connect(db_url, autocommit=True) as conn:
        retired = {r[0] for r in conn.execute(
            "SELECT code FROM grid_code WHERE retired_in = 2").fetchall()}  # fmt: skip
        current = {r[0] for r in conn.execute("SELECT code FROM current_grid").fetchall()}
        on_retired = conn.execute(
            "SELECT count(*) FROM assignment WHERE role = 'grid_chief' AND until IS NULL"
            " AND grid_code = ANY(%s)", (list(retired),),
        ).fetchone()  # fmt: skip
        moved = conn.execute(
            "SELECT sum(households) FROM grid_succession WHERE generation = 2"
        ).fetchone()
        total = conn.execute("SELECT sum(households) FROM building").fetchone()
    had_chief = retired & set(chiefs_before)
    assert had_chief, (retired, chiefs_before)  # the case this test is about
    assert on_retired == (0,)
    ended = {r["code"]: r for r in out.review if r["reason"].startswith("grid retired")}
    assert set(ended) == had_chief
    assert all(r["successor"] in current for r in ended.values())
    vacant = {r["code"] for r in out.review if r["reason"].startswith("no grid chief")}
    assert vacant <= current
    assert vacant.isdisjoint(set(chiefs_before) - retired)
    assert moved == total


def test_a_full_export_after_a_merge_imports_into_an_empty_database(
    db_url: str, empty_db_url: str, tmp_path: Path
) -> None:
    """After a merge that retires a grid (its chief's term ended, history on a code the
    exported generation does not hold), the full export imports again and gives the same
    current grids, buildings, units, people and current chiefs."""
    load(db_url)
    with Gridmap.connect(db_url) as gm:
        gm.merge("220102005000", MergeOptions(households_min=200, households_max=1000))
    file = tmp_path / "full.gpkg"
    res = CliRunner().invoke(app, ["export", str(file), "--show-phones", "--database-url", db_url])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["import", str(file), "--database-url", empty_db_url])
    assert res.exit_code == 0, (res.output, res.exception)

    def snapshot(url: str) -> dict[str, Any]:
        with psycopg.connect(url, autocommit=True) as conn:
            q: Any = conn.execute
            return {
                "grids": q("SELECT code, name, kind, ST_AsText(boundary) FROM current_grid"
                           " ORDER BY code").fetchall(),
                "buildings": q("SELECT external_id, households FROM building ORDER BY 1").fetchall(),
                "units": q("SELECT count(*) FROM unit").fetchone(),
                "people": q("SELECT external_id, name, phone FROM person ORDER BY 1").fetchall(),
                "chiefs": q(
                    "SELECT p.external_id, a.role, a.grid_code, a.since FROM assignment a"
                    " JOIN person p ON p.id = a.person_id WHERE a.until IS NULL ORDER BY 1, 2, 3"
                ).fetchall(),
            }  # fmt: skip

    assert snapshot(empty_db_url) == snapshot(db_url)


def test_export_history_keeps_every_generation_and_every_term(
    db_url: str, empty_db_url: str, tmp_path: Path
) -> None:
    """--history adds every grid of every generation, every term (the ended ones on retired
    grids too) and the generations; the file still imports (those layers are not read)."""
    load(db_url)
    with Gridmap.connect(db_url) as gm:
        gm.merge("220102005000", MergeOptions(households_min=200, households_max=1000))
    file = tmp_path / "history.gpkg"
    res = CliRunner().invoke(app, ["export", str(file), "--history", "--show-phones",
                                   "--database-url", db_url])  # fmt: skip
    assert res.exit_code == 0, res.output
    grids = gpd.read_file(file, layer="grid_history")
    with psycopg.connect(db_url) as conn:
        retired = {r[0] for r in conn.execute(
            "SELECT code FROM grid_code WHERE retired_in IS NOT NULL").fetchall()}  # fmt: skip
        rows = conn.execute("SELECT count(*) FROM grid").fetchone()
    assert retired
    assert len(grids) == rows[0]  # type: ignore[index]
    old = grids.loc[grids["code"].isin(retired)]
    assert set(old["generation_high"].dropna().astype(int)) == {1}
    assert set(old["retired_in"].astype(int)) == {2}
    terms = gpd.read_file(file, layer="assignment_history")
    ended = terms.loc[terms["grid_code"].isin(retired)]
    assert len(ended)
    assert ended["until"].notna().all()
    gens = gpd.read_file(file, layer="generations")
    assert list(gens["generation"].astype(int)) == [1, 2]
    res = CliRunner().invoke(app, ["import", str(file), "--database-url", empty_db_url])
    assert res.exit_code == 0, (res.output, res.exception)
