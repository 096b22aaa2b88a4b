"""A merge of many counties: one command, each county its own generation, resumable, undone
in one step, and the grids one valid coverage across county and community lines.

The region is built here: two counties (南关区 220102 and 宽城区 220103), one street each,
two communities in each street. The county line is a straight 4.4 km edge that the
communities on both sides share; each side's legacy grids cut it at other latitudes.

    y0+0.04 +-----------+-----------+-----------+-----------+
            | 220102    | 220102    | 220103    | 220103    |
            | 001001    | 001002    | 001001    | 001002    |
            | cut .3125 | cut .5625 | cut .4375 | cut .6875 |
    y0      +-----------+-----------+-----------+-----------+
            x0        +0.01       +0.02       +0.03       +0.04
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
import shapely
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.geometry import coverage_faults
from gridmap.io import Interchange
from gridmap.merge import MergeOptions
from gridmap.service import Gridmap

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.postgis

X0, Y0, W, H = 125.30, 43.86, 0.01, 0.04
COMMUNITIES = {  # code: (column, where its legacy grids cut, as a share of the height)
    "220102001001": (0, 0.3125),
    "220102001002": (1, 0.5625),
    "220103001001": (2, 0.4375),
    "220103001002": (3, 0.6875),
}
OPEN = MergeOptions(households_min=0, households_max=100_000)


def box(x0: float, y0: float, x1: float, y1: float) -> Any:
    return shapely.box(x0, y0, x1, y1)


#: the column edges, computed once: x0 + W would miss x0 + 2 W by a rounding error, and the
#: import refuses villages whose shared edges do not match exactly
XS = [X0 + k * W for k in range(5)]


def two_counties() -> Interchange:
    rows = [
        ("220000000000", "吉林省", "province", None, None),
        ("220100000000", "长春市", "city", "220000000000", None),
        ("220102000000", "南关区", "county", "220100000000", box(XS[0], Y0, XS[2], Y0 + H)),
        ("220103000000", "宽城区", "county", "220100000000", box(XS[2], Y0, XS[4], Y0 + H)),
        ("220102001000", "南街道", "township", "220102000000", box(XS[0], Y0, XS[2], Y0 + H)),
        ("220103001000", "北街道", "township", "220103000000", box(XS[2], Y0, XS[4], Y0 + H)),
    ]  # fmt: skip
    legacy, buildings = [], []
    for code, (col, cut) in COMMUNITIES.items():
        x0, x1 = XS[col], XS[col + 1]
        rows.append(
            (code, f"社区{code[-4:]}", "village", code[:9] + "000", box(x0, Y0, x1, Y0 + H))
        )
        y = Y0 + cut * H
        for k, (lo, hi) in enumerate(((Y0, y), (y, Y0 + H))):
            legacy.append(("governance", f"综治-{k + 1}", f"{code[-3:]}-{k + 1}", code,
                           box(x0, lo, x1, hi)))  # fmt: skip
            cx, cy = (x0 + x1) / 2, (lo + hi) / 2
            buildings.append((f"B{code}-{k}", code, 40, shapely.Point(cx, cy)))
    divisions = gpd.GeoDataFrame(
        pd.DataFrame([r[:4] for r in rows], columns=["code", "name", "level", "parent_code"]),
        geometry=[r[4] for r in rows],
        crs="EPSG:4490",
    )
    legacy_grids = gpd.GeoDataFrame(
        pd.DataFrame(
            [r[:4] for r in legacy], columns=["layer", "source_code", "name", "community_code"]
        ),
        geometry=[r[4] for r in legacy],
        crs="EPSG:4490",
    )
    bld = gpd.GeoDataFrame(
        pd.DataFrame(
            [b[:3] for b in buildings], columns=["building_id", "community_code", "households"]
        ),
        geometry=[b[3] for b in buildings],
        crs="EPSG:4490",
    )
    return Interchange.from_frames(divisions=divisions, legacy_grids=legacy_grids, buildings=bld)


def current(url: str) -> gpd.GeoDataFrame:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT code, community_code, ST_AsBinary(boundary) FROM current_grid ORDER BY code"
        ).fetchall()
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "community_code": [r[1] for r in rows]},
        geometry=shapely.from_wkb([bytes(r[2]) for r in rows]),
        crs="EPSG:4490",
    )


def assert_one_coverage(grids: gpd.GeoDataFrame) -> None:
    edges, a, _b, _s = coverage_faults(grids.geometry.values)
    assert [c for c, e in zip(grids["code"], edges, strict=True) if e is not None] == []
    assert len(a) == 0
    assert shapely.coverage_is_valid(grids.geometry.values)


def test_a_city_is_merged_county_by_county_into_one_coverage(db_url: str, tmp_path: Path) -> None:
    with Gridmap.connect(db_url) as gm:
        gm.import_data(two_counties())
        run = gm.merge_run("220100000000", OPEN)
    assert [(u.code, u.status) for u in run.units] == [
        ("220102000000", "done"),
        ("220103000000", "done"),
    ]
    # each county its own generation, written in turn
    assert run.units[0].generation is not None
    assert run.units[1].generation == run.units[0].generation + 1
    assert run.coverage == {"valid": True, "invalid_edges": [], "overlaps": []}
    grids = current(db_url)
    assert len(grids) == 8
    assert_one_coverage(grids)
    # the cuts of both sides are vertices of the grids on both sides of the county line
    # (where the merge, on its 1 mm grid, drew them: within a centimetre of the legacy cut)
    line_x = XS[2]
    for community in ("220102001002", "220103001001"):
        ys = [
            y
            for g in grids[grids.community_code == community].geometry
            for x, y in shapely.get_coordinates(g).tolist()
            if x == line_x
        ]
        for cut in (0.5625, 0.4375):
            assert min(abs(y - (Y0 + cut * H)) for y in ys) < 1e-7, (community, cut)


def test_a_failed_county_is_reported_and_resumed_alone(db_url: str, tmp_path: Path) -> None:
    with Gridmap.connect(db_url) as gm:
        gm.import_data(two_counties())
    with psycopg.connect(db_url, autocommit=True) as conn:
        # the database refuses 宽城区's grids, as it would refuse any bad write
        conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'refused for the test'; END $$"
        )
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON grid FOR EACH ROW "
            "WHEN (NEW.community_code LIKE '220103%') EXECUTE FUNCTION refuse()"
        )
    runner = CliRunner()
    args = ["merge", "220100000000", "--households", "0-100000", "--database-url", db_url]
    res = runner.invoke(app, [*args, "--report", str(tmp_path)])
    assert res.exit_code == 1, res.output
    assert "failed: 220103000000" in res.output
    assert "the database refused the import" in res.output
    assert "gridmap merge --resume 1" in res.output
    assert set(current(db_url)["community_code"]) == {"220102001001", "220102001002"}
    before = current(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DROP TRIGGER refuse ON grid")
    res = runner.invoke(app, ["merge", "--resume", "1", "--database-url", db_url])  # its options
    assert res.exit_code == 0, res.output
    assert "1 county(s) merged, 1 already done, 0 failed" in res.output
    assert "one valid coverage" in res.output
    after = current(db_url)
    assert len(after) == 8
    assert_one_coverage(after)
    # 南关区 was not merged again: its grids and codes are the ones the first run wrote
    kept = after[after.community_code.str.startswith("220102")]
    assert list(kept["code"]) == list(before["code"])
    with psycopg.connect(db_url) as conn:
        units = conn.execute(
            "SELECT unit_code, status FROM merge_unit WHERE run_id = 1 ORDER BY unit_code"
        ).fetchall()
    assert units == [("220102000000", "done"), ("220103000000", "done")]


def test_a_run_is_rolled_back_in_one_step(db_url: str) -> None:
    with Gridmap.connect(db_url) as gm:
        gm.import_data(two_counties())
        first = gm.merge_run("220100000000", OPEN)
        codes_first = list(current(db_url)["code"])
        # each legacy grid has 40 households: a band of 60-100 joins them in pairs
        second = gm.merge_run("220100000000", MergeOptions(households_min=60, households_max=100))
        assert second.run == (first.run or 0) + 1
        assert len(current(db_url)) < len(codes_first)
        gm.rollback_run(int(second.run or 0))
    back = current(db_url)
    assert list(back["code"]) == codes_first
    assert_one_coverage(back)


def test_a_street_merged_alone_is_stitched_to_the_county_next_door(db_url: str) -> None:
    """A merge of one street leaves the whole database one coverage: the grids across the
    county line take in the points the street's grid lines add there, in place."""
    with Gridmap.connect(db_url) as gm:
        gm.import_data(two_counties())
        # first one grid per community; then 南街道 alone, cut again at its own latitudes
        gm.merge_run("220100000000", MergeOptions(households_min=60, households_max=100))
        east = current(db_url).set_index("code").geometry["220103001001001"]
        gens = _generations(db_url)
        gm.merge("220102001000", OPEN)
    after = current(db_url)
    assert_one_coverage(after)
    assert _generations(db_url) == gens + 1
    # 宽城区's grid across the line kept its row and shape, and took in the new point
    moved = after.set_index("code").geometry["220103001001001"]
    assert shapely.hausdorff_distance(moved, east) < 1e-9

    def cuts(g: Any) -> list[float]:
        return [y for x, y in shapely.get_coordinates(g).tolist()
                if x == XS[2] and abs(y - (Y0 + 0.5625 * H)) < 1e-7]  # fmt: skip

    assert len(cuts(moved)) == 1
    assert cuts(east) == []


def _generations(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM generation").fetchone()
    assert row is not None
    return int(row[0])
