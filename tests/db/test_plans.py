"""Rebalancing plans against the database: drafted, compared, activated as a generation
with the roster carried over, refused when stale, all or nothing, and rolled back."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely import Point, box
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.errors import InvalidInput, PlanNotDraft, StalePlan
from gridmap.io import Interchange
from gridmap.service import Gridmap

if TYPE_CHECKING:
    import psycopg

pytestmark = pytest.mark.postgis

X0, Y0, D = 125.30, 43.80, 0.001
STREET, EAST, WEST = "220102005000", "220102005004", "220102005003"


def region() -> Interchange:
    """Two communities of one street. 龙兴社区 (east): grids of 550 and 300 households side by
    side. 明珠社区 (west): one grid of 1,000 households in ten buildings. Each grid has a
    chief."""
    divisions = gpd.GeoDataFrame(
        {
            "code": ["220000000000", "220100000000", "220102000000", STREET, EAST, WEST],
            "name": ["吉林省", "长春市", "南关区", "长通街道", "龙兴社区", "明珠社区"],
            "level": ["province", "city", "county", "township", "village", "village"],
            "parent_code": [None, "220000000000", "220100000000", "220102000000", STREET, STREET],
        },
        geometry=[None, None, None, box(X0 - 10 * D, Y0, X0 + 5 * D, Y0 + D),
                  box(X0, Y0, X0 + 5 * D, Y0 + D), box(X0 - 10 * D, Y0, X0, Y0 + D)],
        crs=4490,
    )  # fmt: skip
    grids = gpd.GeoDataFrame(
        {
            "code": [f"{EAST}001", f"{EAST}002", f"{WEST}001"],
            "name": ["龙兴一网格", "龙兴二网格", "明珠一网格"],
            "community_code": [EAST, EAST, WEST],
            "kind": ["urban"] * 3,
        },
        geometry=[box(X0, Y0, X0 + 3 * D, Y0 + D), box(X0 + 3 * D, Y0, X0 + 5 * D, Y0 + D),
                  box(X0 - 10 * D, Y0, X0, Y0 + D)],
        crs=4490,
    )  # fmt: skip
    east = [("E0", 200, 0), ("E1", 200, 1), ("E2", 150, 2), ("E3", 150, 3), ("E4", 150, 4)]
    west = [(f"W{k}", 100, -10 + k) for k in range(10)]
    rows = [(i, h, EAST, x) for i, h, x in east] + [(i, h, WEST, x) for i, h, x in west]
    buildings = gpd.GeoDataFrame(
        {"building_id": [r[0] for r in rows], "community_code": [r[2] for r in rows],
         "households": [r[1] for r in rows], "compound": ["明珠花园"] * len(rows),
         "building_no": [str(k + 1) for k in range(len(rows))]},
        geometry=[Point(X0 + (r[3] + 0.5) * D, Y0 + 0.5 * D) for r in rows],
        crs=4490,
    )  # fmt: skip
    people = pd.DataFrame({"person_id": ["P1", "P2", "P3"], "name": ["王芳", "李强", "张伟"],
                           "phone": ["10000000001", "10000000002", "10000000003"]})  # fmt: skip
    assignments = pd.DataFrame(
        {"person_id": ["P1", "P2", "P3"], "role": ["grid_chief"] * 3,
         "grid_code": [f"{EAST}001", f"{EAST}002", f"{WEST}001"],
         "since": ["2024-01-01"] * 3},
    )  # fmt: skip
    return Interchange.from_frames(
        divisions=divisions, grids=grids, buildings=buildings, people=people,
        assignments=assignments,
    )  # fmt: skip


@pytest.fixture
def gm(db_url: str) -> Any:
    with Gridmap.connect(db_url) as g:
        g.import_data(region())
        yield g


def current(db: psycopg.Connection[Any]) -> dict[str, Any]:
    gen = db.execute("SELECT id FROM current_generation").fetchone()
    grids = db.execute(
        "SELECT code, ST_AsText(boundary) FROM current_grid ORDER BY code"
    ).fetchall()
    chiefs = db.execute(
        "SELECT grid_code FROM assignment WHERE role = 'grid_chief' AND until IS NULL ORDER BY 1"
    ).fetchall()
    return {"generation": gen[0] if gen else None, "grids": grids, "chiefs": [c[0] for c in chiefs]}


def test_rebalance_prints_the_plan_as_json_and_saves_it(gm: Gridmap, db_url: str) -> None:
    res = CliRunner().invoke(app, ["rebalance", EAST, "--json", "--save", "--database-url", db_url])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert isinstance(out["plan_id"], int)
    assert out["in_band"] == 1.0
    assert out["contiguous"] is True
    assert out["households_moved"] == 150
    assert out["households_total"] == 850
    assert out["assignment"]["E2"] == f"{EAST}002"
    assert out["assignment"]["E0"] == f"{EAST}001"
    assert sorted((g["code"], g["households"], g["status"]) for g in out["grids"]) == [
        (f"{EAST}001", 400, "kept"), (f"{EAST}002", 450, "kept")]  # fmt: skip
    assert out["infeasible"] == []
    listed = gm.plans()
    assert [p["id"] for p in listed] == [out["plan_id"]]
    assert listed[0]["status"] == "draft"
    compared = gm.compare(out["plan_id"])
    assert compared["moved"] == [
        {"building": "E2", "from": f"{EAST}001", "to": f"{EAST}002", "households": 150}]  # fmt: skip


def test_bad_band_is_named(gm: Gridmap, db_url: str) -> None:
    res = CliRunner().invoke(
        app, ["rebalance", EAST, "--band", "500-300", "--database-url", db_url]
    )
    assert isinstance(res.exception, InvalidInput)
    assert "'500-300'" in str(res.exception)


def test_activation_makes_a_generation_and_carries_the_roster(
    gm: Gridmap, db: psycopg.Connection[Any], db_url: str
) -> None:
    before = current(db)
    drafted = gm.rebalance(STREET, save=True)
    assert drafted.plan_id is not None
    west = drafted.plan.grids.loc[drafted.plan.grids["community_code"] == WEST]
    assert len(west) == 2  # 1,000 households: two grids of 500, neither the old one
    assert drafted.plan.retired == [f"{WEST}001"]
    res = gm.activate(drafted.plan_id)
    after = current(db)
    assert after["generation"] == before["generation"] + 1
    codes = [c for c, _ in after["grids"]]
    assert codes == sorted(drafted.plan.grids["code"])
    assert f"{WEST}001" not in codes
    # the retired grid's chief is ended and listed; the new grids are listed as vacant
    assert f"{WEST}001" not in after["chiefs"]
    reasons = {(r["code"], r["reason"].split(":")[0]) for r in res["review"]}
    assert (f"{WEST}001", "grid retired") in reasons
    assert {c for c, why in reasons if why == "no grid chief"} == set(west["code"])
    moved = db.execute(
        "SELECT from_code, to_code, households FROM grid_succession WHERE generation = %s"
        " AND from_code <> to_code ORDER BY 2", (res["generation"],),
    ).fetchall()  # fmt: skip
    assert sum(h for _, _, h in moved) == 150 + 1000
    # buildings now stand in the grid the plan gave them
    for bid, code in zip(
        drafted.plan.assignment["id"], drafted.plan.assignment["grid_code"], strict=True
    ):
        got = db.execute(
            "SELECT g.code FROM building b JOIN current_grid g ON ST_Intersects(g.boundary, b.point)"
            " WHERE b.external_id = %s", (bid,),
        ).fetchall()  # fmt: skip
        assert [r[0] for r in got] == [code], bid
    with pytest.raises(PlanNotDraft):
        gm.activate(drafted.plan_id)
    # roll back: the old grids, codes and chiefs return
    res = CliRunner().invoke(
        app, ["plan", "rollback", str(drafted.plan_id), "--database-url", db_url]
    )
    assert res.exit_code == 0, res.output
    back = current(db)
    assert back["generation"] == after["generation"] + 1
    assert [c for c, _ in back["grids"]] == [c for c, _ in before["grids"]]
    for (c, wkt), (_c0, wkt0) in zip(back["grids"], before["grids"], strict=True):
        same = db.execute("SELECT ST_Equals(%s::geometry, %s::geometry)", (wkt, wkt0)).fetchone()
        assert same == (True,), c
    assert back["chiefs"] == before["chiefs"]
    assert gm.plan(drafted.plan_id)["status"] == "rolled_back"
    retired = db.execute("SELECT code FROM grid_code WHERE retired_in IS NOT NULL").fetchall()
    assert {r[0] for r in retired} == set(west["code"])  # the plan's codes are never reissued


def test_a_stale_plan_is_refused(gm: Gridmap, db: psycopg.Connection[Any]) -> None:
    first = gm.rebalance(EAST, save=True)
    second = gm.rebalance(STREET, save=True)
    assert first.plan_id is not None
    assert second.plan_id is not None
    gm.activate(first.plan_id)
    before = current(db)
    with pytest.raises(StalePlan, match="drafted against generation"):
        gm.activate(second.plan_id)
    assert current(db) == before
    assert gm.plan(second.plan_id)["status"] == "draft"


def test_activation_is_all_or_nothing(gm: Gridmap, db: psycopg.Connection[Any]) -> None:
    """A plan whose grid reuses a retired code fails midway: nothing changes."""
    drafted = gm.rebalance(STREET, save=True)
    before = current(db)
    db.execute(
        "INSERT INTO grid_code (code, community_code, issued_in, retired_in)"
        " VALUES (%s, %s, 1, 1)", (f"{WEST}050", WEST),
    )  # fmt: skip
    db.execute(
        "UPDATE plan_grid SET code = %s WHERE plan_id = %s AND code = %s",
        (
            f"{WEST}050",
            drafted.plan_id,
            max(c for c in drafted.plan.grids["code"] if c.startswith(WEST)),
        ),
    )
    with pytest.raises(InvalidInput, match="retired and may not be reused"):
        gm.activate(drafted.plan_id)  # type: ignore[arg-type]
    assert current(db) == before
    assert gm.plan(drafted.plan_id)["status"] == "draft"  # type: ignore[arg-type]


def test_plan_map_is_written_by_the_cli(gm: Gridmap, db_url: str, tmp_path: Any) -> None:
    drafted = gm.rebalance(STREET, save=True)
    out = tmp_path / "plan.html"
    res = CliRunner().invoke(
        app, ["plan", "map", str(drafted.plan_id), "-o", str(out), "--database-url", db_url]
    )
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert f"调整方案 {drafted.plan_id}" in page
    assert "调整归属的楼栋：11 栋，1150 户" in page  # E2 and 明珠社区's ten
    res = CliRunner().invoke(app, ["plan", "map", "999", "-o", str(out), "--database-url", db_url])
    assert "no rebalancing plan with id 999" in str(res.exception)
