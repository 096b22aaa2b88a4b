"""The seeded sample region: deterministic, a valid coverage, consistent, recognisable."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geodata.reference import road_names
from geodata.sample import generate_sample, write_sample
from gridmap.codes import parse_grid_code
from gridmap.crs import METRIC, STORAGE
from gridmap.io import Interchange, read_interchange, validate

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def demo() -> Interchange:
    """The named places (the street scale): the fastest sample with every kind of place."""
    return generate_sample("street", seed=0)


@pytest.fixture(scope="module")
def demo_region() -> Interchange:
    """What ``./scripts/demo.sh`` draws."""
    return generate_sample("demo", seed=0)


def test_same_seed_same_output() -> None:
    a, b = generate_sample("community", seed=3), generate_sample("community", seed=3)
    for name, frame in a.layers().items():
        other = b.layers()[name]
        if isinstance(frame, gpd.GeoDataFrame):
            lg, rg = frame.geometry, other.geometry
            assert bool(((lg.isna() & rg.isna()) | lg.geom_equals_exact(rg, 0)).all())
            frame, other = frame.drop(columns="geometry"), other.drop(columns="geometry")
        pd.testing.assert_frame_equal(pd.DataFrame(frame), pd.DataFrame(other))


def test_another_seed_differs() -> None:
    a, b = generate_sample("community", seed=0), generate_sample("community", seed=1)
    assert a.buildings["households"].tolist() != b.buildings["households"].tolist()


def test_demo_is_valid_for_the_importer(demo: Interchange) -> None:
    problems = validate(demo)
    assert [p for p in problems if p.severity != "warning"] == []
    # the sample draws each community's grids on its own: across community lines they are
    # flagged (T-junctions, slight overlaps), which the merge mends
    assert {(p.layer, p.row is None or "lies in both" in p.message) for p in problems} <= {
        ("grids", True)
    }
    assert all(
        f.crs.equals(STORAGE) for f in demo.layers().values() if isinstance(f, gpd.GeoDataFrame)
    )


@pytest.mark.parametrize("level", ["county", "township", "village"])
def test_divisions_form_a_coverage(demo: Interchange, level: str) -> None:
    geoms = demo.divisions.loc[demo.divisions["level"] == level].geometry.values
    assert len(geoms)
    assert bool(shapely.coverage_is_valid(geoms))


@pytest.mark.parametrize("scale", ["demo", "demo_region"])
def test_samples_draw_only_communities_with_data(
    scale: str, request: pytest.FixtureRequest
) -> None:
    """Every community drawn has buildings, households, chiefs and all three legacy layers,
    and every township drawn holds such communities: no grey, empty land in the demo."""
    demo: Interchange = request.getfixturevalue(scale)
    villages = set(demo.divisions.loc[demo.divisions["level"] == "village", "code"])
    assert len(villages) >= 25
    assert villages == set(demo.buildings["community_code"])
    assert (demo.buildings.groupby("community_code")["households"].sum() > 0).all()
    layers = demo.legacy_grids.groupby("community_code")["layer"].nunique()
    assert set(layers.index) == villages
    assert (layers == 3).all()
    chiefs = demo.assignments.loc[demo.assignments["role"] == "grid_chief", "grid_code"]
    assert {c[:12] for c in chiefs} == villages
    towns = demo.divisions.loc[demo.divisions["level"] == "township", "code"]
    assert {t[:9] for t in towns} == {v[:9] for v in villages}


def test_the_demo_is_one_contiguous_area(demo_region: Interchange) -> None:
    """The demo's communities tile one piece of land (南关区) with no hole: a planner's map
    of it is one place, not islands scattered over two cities."""
    d = demo_region.divisions
    villages = d.loc[d["level"] == "village"]
    assert len(villages) >= 60
    union = shapely.union_all(villages.to_crs(METRIC).geometry.values)
    # the real district boundary pinches to a point near 鹏程社区, so the union may be two
    # parts meeting there; a metre's buffer makes it the one piece of land it is
    land = shapely.buffer(union, 1.0)
    assert land.geom_type == "Polygon", land.geom_type
    assert len(land.interiors) == 0
    assert set(villages["code"].str[:6]) == {"220102"}
    assert {"龙兴社区", "九圣祠社区"} <= set(villages["name"])


def test_townships_fill_their_real_district() -> None:
    d = generate_sample("district").divisions.to_crs(METRIC)
    for county in d.loc[d["level"] == "county"].itertuples():
        towns = d.loc[(d["level"] == "township") & (d["parent_code"] == county.code)]
        union = shapely.union_all(towns.geometry.values)
        gap = county.geometry.symmetric_difference(union).area
        # cleaning the coverage snaps a few vertices: a few hundred m² in hundreds of km²
        assert gap < 1e-5 * county.geometry.area, county.code


def test_grids_are_a_coverage_of_each_community(demo: Interchange) -> None:
    divs = demo.divisions.set_index("code").to_crs(METRIC)
    grids = demo.grids.to_crs(METRIC)
    for code, g in grids.groupby("community_code"):
        assert bool(shapely.coverage_is_valid(g.geometry.values)), code
        assert abs(g.area.sum() - divs.loc[code].geometry.area) < 1.0, code
    assert all(
        parse_grid_code(c).community.code == cc
        for c, cc in zip(grids["code"], grids["community_code"], strict=True)
    )


def test_every_building_sits_in_its_community_and_one_grid(demo: Interchange) -> None:
    b = demo.buildings.to_crs(METRIC)
    divs = demo.divisions.set_index("code").to_crs(METRIC).geometry
    assert bool(shapely.within(b.geometry.values, divs.reindex(b["community_code"]).values).all())
    grids = demo.grids.to_crs(METRIC)
    pairs = shapely.STRtree(grids.geometry.values).query(b.geometry.values, predicate="within")
    assert np.array_equal(np.bincount(pairs[0], minlength=len(b)), np.ones(len(b), dtype=int))
    same = grids["community_code"].to_numpy()[pairs[1]] == b["community_code"].to_numpy()[pairs[0]]
    assert bool(same.all())


def test_buildings_do_not_overlap(demo: Interchange) -> None:
    g = demo.buildings.to_crs(METRIC).geometry.values
    pairs = shapely.STRtree(g).query(g, predicate="intersects")
    assert bool((pairs[0] == pairs[1]).all())


def test_households_agree_between_buildings_and_units(demo: Interchange) -> None:
    per = demo.units.groupby("building_id")["households"].sum()
    b = demo.buildings.set_index("building_id")["households"]
    assert per.reindex(b.index).astype(int).tolist() == b.astype(int).tolist()


def test_housing_types(demo: Interchange) -> None:
    b = demo.buildings
    units = demo.units.groupby("building_id").size().reindex(b["building_id"]).to_numpy()
    walkup = (b["floors"] == 6).to_numpy()
    assert set(units[walkup]) <= {3, 4, 5, 6}
    assert set(b.loc[walkup, "households"].astype(int) / units[walkup]) == {12.0}
    high = (b["floors"] > 6).to_numpy()
    assert high.any()
    assert set(units[high]) <= {2, 3, 4}
    assert b.loc[high, "households"].between(60, 120).all()
    rural = b["hamlet"].notna().to_numpy()
    assert rural.any()
    assert set(units[rural]) == {1}
    assert b.loc[rural, "households"].between(1, 2).all()


def test_urban_grids_hold_300_to_500_households_mostly(demo: Interchange) -> None:
    hh = demo.buildings.groupby("building_id")["households"].first()
    b = demo.buildings.to_crs(METRIC)
    grids = demo.grids.to_crs(METRIC)
    pairs = shapely.STRtree(grids.geometry.values).query(b.geometry.values, predicate="within")
    per_grid = pd.Series(hh.reindex(b["building_id"]).to_numpy()[pairs[0]]).groupby(pairs[1]).sum()
    urban = per_grid[grids["kind"].to_numpy()[per_grid.index] == "urban"]
    assert urban.between(250, 600).mean() > 0.8


def test_demo_has_the_named_places_with_real_codes(demo: Interchange) -> None:
    names = dict(zip(demo.divisions["code"], demo.divisions["name"], strict=True))
    expected = {
        "220103010000": "欣园街道",
        "220102005000": "长通街道",
        "220102005004": "龙兴社区",
        "220102003000": "民康街道",
        "220102003002": "九圣祠社区",
        "220202002000": "文庙街道",
        "220202002001": "天胜社区",
        "220211071000": "红旗街道",
        "220211071006": "田园社区",
        "220112002000": "平湖街道",
        "220112002211": "黑鱼村",
        "220000000000": "吉林省",
        "220100000000": "长春市",
        "220200000000": "吉林市",
    }
    assert {c: names.get(c) for c in expected} == expected
    for code in ("220102005004", "220102003002", "220202002001", "220211071006", "220112002211"):
        assert (demo.buildings["community_code"] == code).sum() > 0, code
        assert (demo.grids["community_code"] == code).sum() > 0, code
    hamlets = set(demo.buildings.loc[demo.buildings["community_code"] == "220112002211", "hamlet"])
    assert "东栗家屯" in hamlets
    compounds = set(
        demo.buildings.loc[demo.buildings["community_code"] == "220102005004", "compound"]
    )
    assert {"明珠花园", "明珠家园"} <= compounds


def test_roads_are_real_changchun_names(demo: Interchange) -> None:
    roads = set(demo.buildings["road"].dropna())
    assert roads
    assert roads <= set(road_names())


def test_legacy_layers_have_three_code_styles(demo: Interchange) -> None:
    lg = demo.legacy_grids
    by = {k: g["source_code"].tolist() for k, g in lg.groupby("layer")}
    assert set(by) == {"party", "governance", "civil"}
    assert all(re.fullmatch(r"[0-9]{20}", c) for c in by["governance"])
    assert all(re.fullmatch(r"民政-[0-9]{2,}", c) for c in by["civil"])
    assert all(re.fullmatch(r"\w+(社区|村)第[一二三四五六七八九十]+网格", c) for c in by["party"])
    n = lg["layer"].value_counts()
    assert n["party"] < n["governance"] < n["civil"]


def test_legacy_layers_are_misaligned(demo: Interchange) -> None:
    grids = demo.grids.to_crs(METRIC)
    gov = demo.legacy_grids.loc[demo.legacy_grids["layer"] == "governance"].to_crs(METRIC)
    overlaps = shapely.STRtree(gov.geometry.values).query(gov.geometry.values, predicate="overlaps")
    assert overlaps.shape[1] > 0
    assert shapely.union_all(gov.geometry.values).area != pytest.approx(grids.area.sum(), rel=1e-6)
    divs = demo.divisions.set_index("code").to_crs(METRIC).geometry
    sticking_out = shapely.area(
        shapely.difference(gov.geometry.values, divs.reindex(gov["community_code"]).values)
    )
    assert (sticking_out > 1000).sum() >= 1


def test_roster(demo: Interchange) -> None:
    a, people = demo.assignments, demo.people
    current = a[a["until"].isna()]
    assert set(current["role"]) == {"grid_chief", "building_chief", "unit_chief"}
    assert people["phone"].str.fullmatch(r"100[0-9]{8}").all()
    assert people["person_id"].is_unique
    vacant = set(demo.grids["code"]) - set(
        current.loc[current["role"] == "grid_chief", "grid_code"]
    )
    assert vacant
    assert len(vacant) < len(demo.grids) / 5
    assert a["until"].notna().sum() > 0


def test_write_sample_streams_to_gpkg(tmp_path: Path) -> None:
    counts = write_sample(tmp_path / "s.gpkg", "community", batch_buildings=10)
    back = read_interchange(tmp_path / "s.gpkg")
    assert back.counts() == counts
    assert validate(back) == []
