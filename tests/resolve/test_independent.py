"""The independent fixture: a generated region and addresses made without the sample generator.

``tests/resolve/independent/region.py`` generates a seeded region in two districts that
neither the sample (``geodata/sample.py``) nor the golden set uses (长春市绿园区, 吉林市丰满区),
with conventions of its own; ``cases.py`` writes addresses for it with its own rules and
labels them from the region's description alone (never by running the resolver), with the
meaning of :class:`gridmap.testing.scoring.Expected`. Neither imports the sample generator,
the case generator of :mod:`gridmap.testing`, or the code it grades (``gridmap.address``,
``gridmap.resolve``).

The label and region checks run without a database; the resolver test needs PostGIS. Its
goal is the project's: no confident wrong answer, and at least 99% correct or correctly
flagged, per the whole set (the per-kind table is printed).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

import pytest
import shapely

from gridmap.testing.scoring import LEVELS, got_from, score
from tests.resolve.independent.cases import KINDS, independent_cases
from tests.resolve.independent.region import PLAN, Region, house_key, independent_region

if TYPE_CHECKING:
    import psycopg

    from gridmap.testing.scoring import Case

pytestmark = pytest.mark.postgis

LOG = logging.getLogger(__name__)
N_CASES = 1500
GOAL = 0.99
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def region() -> Region:
    return independent_region(seed=0)


@pytest.fixture(scope="module")
def cases(region: Region) -> list[Case]:
    return independent_cases(region, N_CASES, seed=0)


# ---------------------------------------------------------------------------- the region


def _grid_by_geometry(region: Region) -> dict[str, str]:
    """The grid whose box holds each building, from the geometry alone."""
    frame = region.data.buildings
    boxes = {code: shapely.box(*box) for code, box in region.grids.items()}
    out = {}
    for bid, geom in zip(frame["building_id"], frame.geometry, strict=True):
        point = shapely.point_on_surface(geom)
        inside = [code for code, box in boxes.items() if box.contains(point)]
        assert len(inside) == 1, (bid, inside)
        out[str(bid)] = inside[0]
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_the_region_is_a_valid_import(seed: int) -> None:
    from gridmap.io import validate

    problems = validate(independent_region(seed).data)
    assert [str(p) for p in problems if p.severity != "warning"] == []
    # what it does get are the coverage flags: its divisions and grids have T-junctions
    assert all("not one valid coverage" in p.message for p in problems), problems


def test_only_the_planned_divisions_are_imported(region: Region) -> None:
    codes = set(region.data.divisions["code"])
    counties = {c for c in codes if c.endswith("000000") and c[4:6] != "00"}
    assert counties == {"220106000000", "220211000000"}
    assert {c for c in codes if c.endswith("00000000")} == {
        "220000000000", "220100000000", "220200000000",
    }  # fmt: skip
    assert {c for c in codes if c[6:] != "000000"} == set(PLAN) | {
        c for cs in PLAN.values() for c in cs
    }
    # names are the real ones, without the NBS suffixes
    names = dict(zip(region.data.divisions["code"], region.data.divisions["name"], strict=True))
    assert names["220106001000"] == "正阳街道"
    assert names["220106100201"] == "东安村"
    assert names["220211002003"] == "长城社区"


@pytest.mark.parametrize("seed", SEEDS)
def test_the_region_has_each_convention(seed: int) -> None:
    r = independent_region(seed)
    bs = r.buildings
    rural = [b for b in bs if b.rural]
    urban = [b for b in bs if not b.rural]
    # 屯 in hamlet for some villages, in compound for others; villages with and without groups
    assert {b.community for b in rural if b.hamlet}
    assert {b.community for b in rural if b.compound}
    assert not any(b.hamlet and b.compound for b in bs)
    assert {b.community for b in rural if b.group_no} != {b.community for b in rural}
    # group numbers repeated across villages of one township
    per_town: dict[tuple[str, str], set[str]] = defaultdict(set)
    for b in rural:
        if b.group_no:
            per_town[(b.community[:9], b.group_no)].add(b.community)
    assert any(len(v) > 1 for v in per_town.values())
    # house numbers with and without 号, with a dash; road houses with no compound
    numbers = [b.house_number or "" for b in urban if b.road]
    assert any(n.endswith("号") for n in numbers)
    assert any(n.isdigit() for n in numbers)
    assert any("-" in n for n in numbers)
    assert any(b.road and not b.compound for b in urban)
    # roads carrying several compounds (road + gate number as well as compound)
    on_road: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for b in urban:
        if b.road and b.compound:
            on_road[b.road].add((b.community, b.compound))
    assert any(len(v) > 1 for v in on_road.values())
    # the same compound name in two districts, and in two communities of one street
    where: dict[str, set[str]] = defaultdict(set)
    for b in urban:
        if b.compound:
            where[b.compound].add(b.community)
    assert any(len({c[:6] for c in v}) > 1 for v in where.values())
    assert any(len(v) > len({c[:9] for c in v}) for v in where.values())
    # building numbers: skipped ones, letters, 12
    per_compound: dict[tuple[str, str], set[str]] = defaultdict(set)
    for b in urban:
        if b.compound and b.building_no:
            per_compound[(b.community, b.compound)].add(b.building_no)
    assert any({"1", "2", "3", "5", "7"} <= v and "4" not in v for v in per_compound.values())
    assert any("A" in v for v in per_compound.values())
    assert any("12" in v for v in per_compound.values())
    # grids: 2-4 per community, coded community + serial; places in one grid or across two
    per_comm = Counter(code[:12] for code in r.grids)
    assert set(per_comm.values()) <= {2, 3, 4}
    assert set(per_comm) == {c for cs in PLAN.values() for c in cs}
    assert all(len(code) == 15 and code[12:] == f"{i:03d}" for code, i in _serials(r.grids))
    grids_of: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for b in bs:
        grids_of[b.place].add(b.grid)
    assert any(len(grids_of[b.place]) == 2 for b in urban if b.compound)
    assert any(len(grids_of[b.place]) == 1 for b in urban if b.compound)
    assert any(len(grids_of[b.place]) == 2 for b in rural)
    assert any(len(grids_of[b.place]) == 1 for b in rural)


def _serials(grids: dict[str, Any]) -> list[tuple[str, int]]:
    out = []
    for comm in sorted({c[:12] for c in grids}):
        mine = sorted(c for c in grids if c.startswith(comm))
        out += [(c, i) for i, c in enumerate(mine, 1)]
    return out


def test_buildings_lie_in_their_grid(region: Region) -> None:
    grid_of = _grid_by_geometry(region)
    assert {b.id: b.grid for b in region.buildings} == grid_of


# ---------------------------------------------------------------------------- the labels


def test_the_labels_name_real_places(region: Region, cases: list[Case]) -> None:
    assert len(cases) == N_CASES == len({c.text for c in cases})
    units = {(b.id, u) for b in region.buildings for u in b.units}
    grid_of = _grid_by_geometry(region)
    problems = []
    for c in cases:
        e = c.expected
        if e.level not in LEVELS:
            problems.append(f"{c.text}: level {e.level!r}")
        if e.grid_code is not None and e.grid_code not in region.grids:
            problems.append(f"{c.text}: no grid {e.grid_code}")
        if e.building_id is not None and e.grid_code != grid_of.get(e.building_id):
            problems.append(f"{c.text}: {e.building_id} is not in grid {e.grid_code}")
        if e.unit_no is not None and (e.building_id, e.unit_no) not in units:
            problems.append(f"{c.text}: no unit {e.unit_no} in {e.building_id}")
        finer = (e.building_id is not None, e.unit_no is not None)
        want = {"unit": (True, True), "building": (True, False)}.get(e.level, (False, False))
        if finer != want:
            problems.append(f"{c.text}: level {e.level} with building/unit {finer}")
    assert not problems, "\n".join(problems[:20])


def test_every_kind_is_written_and_the_hard_classes_are_labelled_as_such(
    cases: list[Case],
) -> None:
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for c in cases:
        by_kind[c.kind][c.expected.level] += 1
    assert set(by_kind) == set(KINDS)
    assert all(sum(v.values()) >= 20 for v in by_kind.values()), by_kind
    for kind in ("foreign", "foreign_township", "foreign_community"):
        assert all(c.expected.grid_code is None for c in cases if c.kind == kind)
        assert not by_kind[kind].keys() & {"unit", "building", "compound", "ambiguous"}
    assert by_kind["ambiguous_road"]["ambiguous"] > sum(by_kind["ambiguous_road"].values()) / 2
    assert by_kind["ambiguous_group"]["ambiguous"] > sum(by_kind["ambiguous_group"].values()) / 2
    assert set(by_kind["typo"]) <= {"unit", "building"}
    assert set(by_kind["number_absent"]) <= {"compound", "ambiguous"}
    assert set(by_kind["hamlet_coarse"]) == {"compound"}
    assert by_kind["city_province"]["unit"] > 0


def test_the_cases_are_seeded(region: Region, cases: list[Case]) -> None:
    again = independent_cases(independent_region(seed=0), N_CASES, seed=0)
    assert again == cases
    assert independent_cases(region, 200, seed=1) != cases[:200]
    other = independent_region(seed=1)
    assert [b.id for b in other.buildings] != [b.id for b in region.buildings] or [
        house_key(b.house_number) for b in other.buildings
    ] != [house_key(b.house_number) for b in region.buildings]


# ---------------------------------------------------------------------------- the resolver


def test_the_resolver_on_the_independent_set(
    db: psycopg.Connection[Any], region: Region, cases: list[Case]
) -> None:
    from gridmap.service import Gridmap

    gm = Gridmap(db)
    gm.import_data(region.data)
    gots = [got_from(r) for r in gm.resolve_addresses([c.text for c in cases])]
    s = score(cases, gots)
    t = s.total()
    summary = (
        f"{len(cases)} independent addresses: {100 * s.ok_rate():.1f}% correct or correctly "
        f"flagged (goal {100 * GOAL:.0f}%), {t['confident_wrong']} confident wrong (goal 0)"
    )
    shown: dict[str, int] = Counter()
    lines = []
    for case, got, outcome in s.failures:
        if shown[case.kind] < 3:
            shown[case.kind] += 1
            lines.append(
                f"  [{case.kind} {outcome}] {case.text}\n"
                f"      expected: {case.expected}\n      got:      {got}"
            )
    failing = "\n".join(lines)
    report = f"{summary}\n{s.table()}\nfailing (first 3 per kind):\n{failing}"
    LOG.info("%s", report)
    print(f"\n{report}")
    assert t["confident_wrong"] == 0, report
    assert s.ok_rate() >= GOAL, report
