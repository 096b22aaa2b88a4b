"""Grid coverage (overlaps and gaps within a community), and the rules the database's
constraints impose, checked before anything is written."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.sample import generate_sample
from gridmap.crs import METRIC, STORAGE
from gridmap.errors import ImportValidationError
from gridmap.io import Interchange, densify_divisions, validate, validate_or_raise
from gridmap.io.checks import grid_coverage

# One street, two communities side by side, two grids each (north 001, south 002):
#
#   +---------+---------+   Y0 + 2D
#   | 004 001 | 003 001 |
#   +---------+---------+   Y0 + D
#   | 004 002 | 003 002 |
#   +---------+---------+   Y0
#   X0       X0+2D     X0+4D     (D = 0.002°, about 160 m east-west, 220 m north-south)
X0, Y0, D = 125.33, 43.88, 0.002
LONGXING, MINGZHU = "220102005004", "220102005003"


def cell(i: int, j: int, w: int = 1, h: int = 1) -> shapely.Polygon:
    return shapely.box(X0 + i * D, Y0 + j * D, X0 + (i + w) * D, Y0 + (j + h) * D)


def two_communities() -> Interchange:
    divisions = gpd.GeoDataFrame(
        {
            "code": ["220102005000", LONGXING, MINGZHU],
            "name": ["长通街道", "龙兴社区", "明珠社区"],
            "level": ["township", "village", "village"],
            "parent_code": ["220102000000", "220102005000", "220102005000"],
        },
        geometry=[cell(0, 0, 4, 2), cell(0, 0, 2, 2), cell(2, 0, 2, 2)],
        crs=STORAGE,
    )
    grids = gpd.GeoDataFrame(
        {
            "code": [LONGXING + "001", LONGXING + "002", MINGZHU + "001", MINGZHU + "002"],
            "name": ["龙兴一网格", "龙兴二网格", "明珠一网格", "明珠二网格"],
            "community_code": [LONGXING, LONGXING, MINGZHU, MINGZHU],
            "kind": ["urban"] * 4,
        },
        geometry=[cell(0, 1, 2), cell(0, 0, 2), cell(2, 1, 2), cell(2, 0, 2)],
        crs=STORAGE,
    )
    return Interchange.from_frames(divisions=divisions, grids=grids)


KNOWN = ["220102000000", "220100000000", "220000000000"]


def grown(data: Interchange, row: int, metres: float) -> shapely.Geometry:
    """Grid ``row`` grown (or shrunk, if negative) by ``metres``, kept inside its community."""
    grid = data.grids.iloc[[row]].to_crs(METRIC)
    community = data.divisions[data.divisions.code == grid.community_code.iloc[0]].to_crs(METRIC)
    shape = grid.geometry.buffer(metres, join_style="mitre").intersection(
        community.geometry.iloc[0]
    )
    return gpd.GeoSeries(shape, crs=METRIC).to_crs(STORAGE).iloc[0]


def overlap_m2(a: shapely.Geometry, b: shapely.Geometry) -> float:
    both = gpd.GeoSeries([a, b], crs=STORAGE).to_crs(METRIC)
    return float(both.iloc[0].intersection(both.iloc[1]).area)


def m2(text: str) -> float:
    found = re.search(r"([0-9][0-9,]*\.?[0-9]*) m²", text)
    assert found, text
    return float(found.group(1).replace(",", ""))


def test_grids_that_tile_their_communities_pass() -> None:
    data = two_communities()
    assert grid_coverage(data.grids, data.divisions.set_index("code").geometry) == []
    assert validate(data, known_codes=KNOWN) == []


def test_a_grid_grown_20_m_into_its_neighbour_is_refused_naming_both_and_the_area() -> None:
    data = two_communities()
    data.grids.loc[0, "geometry"] = grown(data, 0, 20)
    expected = overlap_m2(data.grids.geometry.iloc[0], data.grids.geometry.iloc[1])
    assert expected > 5000  # 20 m along a 320 m edge

    problems = [p for p in validate(data, known_codes=KNOWN) if p.severity == "error"]
    assert len(problems) == 1
    (p,) = problems
    assert (p.layer, p.field) == ("grids", "geometry")
    assert LONGXING + "001" in p.message
    assert LONGXING + "002" in p.message
    assert m2(str(p)) == pytest.approx(expected, rel=1e-3)
    with pytest.raises(ImportValidationError, match=LONGXING + "002 overlaps grid " + LONGXING):
        validate_or_raise(data, known_codes=KNOWN)


def test_floating_point_slivers_are_within_the_tolerance() -> None:
    """Neighbours can share an edge only to rounding: a vertex 1e-9° (0.1 mm) across it
    makes an overlap, but far below the tolerance."""
    data = two_communities()
    x1, y = X0 + 2 * D, Y0 + D
    data.grids.loc[1, "geometry"] = shapely.Polygon(
        [(X0, Y0), (x1, Y0), (x1, y), (X0 + D, y + 1e-9), (X0, y), (X0, Y0)]
    )
    assert data.grids.geometry.iloc[0].intersection(data.grids.geometry.iloc[1]).area > 0
    problems = validate(data, known_codes=KNOWN)
    assert [p for p in problems if p.severity == "error"] == []
    # not an overlap, but the two edges do not match: the layer is not one valid coverage
    (warned,) = [p for p in problems if "not one valid coverage" in p.message]
    assert warned.severity == "warning"
    assert f"2 grid(s) ({LONGXING}001, {LONGXING}002)" in warned.message


def test_a_long_edge_shared_with_two_neighbours_is_no_overlap() -> None:
    """A 2 km east-west edge in degrees bows by 7.6 cm in metres: a neighbour's vertex on it
    (a T-junction) must not turn into a 76 m² overlap."""
    w = 0.025  # about 2 km
    north = shapely.Polygon(  # its southern edge has a vertex half way, exactly on the line
        [
            (X0, Y0 + D),
            (X0 + w / 2, Y0 + D),
            (X0 + w, Y0 + D),
            (X0 + w, Y0 + 2 * D),
            (X0, Y0 + 2 * D),
        ]
    )
    south = shapely.box(X0, Y0, X0 + w, Y0 + D)
    grids = gpd.GeoDataFrame(
        {"code": [LONGXING + "001", LONGXING + "002"], "community_code": [LONGXING] * 2},
        geometry=[north, south],
        crs=STORAGE,
    )
    assert overlap_m2(north, south) > 50  # what noding in metres would wrongly see
    problems = grid_coverage(grids)
    assert [p for p in problems if "overlaps" in p.message] == []
    # the T-junction itself is named: the south grid lacks the north one's vertex
    (junction,) = problems
    assert junction.severity == "warning"
    assert "T-junction" in junction.message


def test_overlaps_across_communities_are_flagged() -> None:
    """The layer is checked as one coverage: a grid reaching into another community's grid
    is a warning naming both (the merge mends community lines), not a refusal."""
    data = two_communities()
    data.grids.loc[2, "geometry"] = cell(1, 1, 3)  # 明珠 001 reaches into 龙兴 001
    problems = grid_coverage(data.grids)
    assert [p.severity for p in problems if p.severity == "error"] == []
    (flag,) = [p for p in problems if "lies in both" in p.message]
    assert flag.row == 2
    assert f"overlaps grid {LONGXING}001 of community {LONGXING}" in flag.message


def test_a_gap_within_a_community_is_a_warning_naming_its_grids() -> None:
    data = two_communities()
    data.grids.loc[0, "geometry"] = grown(data, 0, -20)  # shrunk: a 20 m strip lies in no grid
    problems = validate_or_raise(data, known_codes=KNOWN)  # warnings do not stop an import
    assert [(p.layer, p.severity) for p in problems] == [("grids", "warning")]
    text = str(problems[0])
    assert f"community {LONGXING}" in text
    assert LONGXING + "001" in text
    assert "lies in no grid" in text
    assert m2(text) > 1000


def test_a_hole_between_grids_is_a_gap_without_community_boundaries() -> None:
    ring = gpd.GeoDataFrame(
        {"code": [LONGXING + "001", LONGXING + "002"], "community_code": [LONGXING] * 2},
        geometry=[
            shapely.box(0, 0, 300, 100).difference(shapely.box(100, 50, 200, 100)),
            shapely.box(0, 100, 300, 200).difference(shapely.box(100, 100, 200, 140)),
        ],
        crs=METRIC,
    )
    (gap,) = grid_coverage(ring)
    assert gap.severity == "warning"
    assert m2(gap.message) == pytest.approx(100 * 90)
    assert LONGXING + "001" in gap.message
    assert LONGXING + "002" in gap.message


def test_the_same_answer_in_storage_and_metric_coordinates() -> None:
    data = two_communities()
    data.grids.loc[0, "geometry"] = grown(data, 0, 20)
    in_storage = [str(p) for p in grid_coverage(data.grids) if p.severity == "error"]
    in_metres = [str(p) for p in grid_coverage(data.grids.to_crs(METRIC)) if p.severity == "error"]
    assert in_storage
    assert [m2(a) for a in in_storage] == pytest.approx([m2(b) for b in in_metres], rel=1e-6)


@pytest.mark.parametrize("scale", ["street", "district"])
def test_the_sample_grids_pass(scale: str) -> None:
    data = generate_sample(scale)
    divisions = data.divisions.drop_duplicates("code").set_index("code").geometry
    assert [p for p in grid_coverage(data.grids, divisions) if p.severity == "error"] == []
    # and a 20 m growth of any grid into a neighbour of its community is refused
    community = data.grids.community_code.value_counts().index[0]
    row = int(data.grids.index[data.grids.community_code == community][0])
    data.grids.loc[row, "geometry"] = grown(data, row, 20)
    problems = grid_coverage(data.grids, divisions)
    assert any(p.severity == "error" and p.row is not None for p in problems)


# ------------------------------------------------------------- divisions as one coverage


def three_villages(middle: shapely.Geometry) -> Interchange:
    """龙兴 and 明珠 as in ``two_communities``, and a third village north of both."""
    data = two_communities()
    extra = gpd.GeoDataFrame(
        {"code": ["220102005005"], "name": ["北社区"], "level": ["village"],
         "parent_code": ["220102005000"]},
        geometry=[middle], crs=STORAGE,
    )  # fmt: skip
    divisions = pd.concat([data.divisions, extra], ignore_index=True)
    divisions.loc[0, "geometry"] = cell(0, 0, 4, 3)
    return Interchange.from_frames(divisions=divisions, grids=data.grids)


def test_a_t_junction_between_villages_is_flagged_and_fix_mends_it() -> None:
    # the north village's south edge runs the whole way: it lacks the vertex where 龙兴
    # and 明珠 meet under it (the merge would give the grids that vertex; --fix gives it
    # to the divisions)
    data = three_villages(cell(0, 2, 4, 1))
    problems = validate_or_raise(data, known_codes=KNOWN)  # flagged, not refused
    (flag,) = [p for p in problems if p.layer == "divisions"]
    assert flag.severity == "warning"
    assert "not one valid coverage" in flag.message
    assert "220102005005" in flag.message
    assert "--fix" in flag.message
    fixed = validate(data, fix=True, known_codes=KNOWN)
    assert [p.severity for p in fixed if p.layer == "divisions"] == ["fixed"]
    assert "village" in fixed[0].message
    villages = data.divisions[data.divisions.level == "village"].geometry.values
    assert shapely.coverage_is_valid(villages)
    north = villages[-1]
    assert (X0 + 2 * D, Y0 + 2 * D) in {tuple(p) for p in shapely.get_coordinates(north).tolist()}


def test_a_t_junction_between_townships_is_only_a_warning() -> None:
    """No grid follows a township line directly: its faults are flagged, not refused."""
    data = two_communities()
    streets = gpd.GeoDataFrame(
        {"code": ["220102006000", "220102007000"], "name": ["东街道", "北街道"],
         "level": ["township"] * 2, "parent_code": ["220102000000"] * 2},
        geometry=[cell(4, 0, 2, 2), cell(0, 2, 6, 1)], crs=STORAGE,
    )  # fmt: skip
    data.divisions = pd.concat([data.divisions, streets], ignore_index=True)
    problems = [p for p in validate(data, known_codes=KNOWN) if p.layer == "divisions"]
    assert [p.severity for p in problems] == ["warning"]
    assert "3 township(s)" in problems[0].message
    # and an overlap between townships is flagged, where one between villages is refused
    data.divisions.loc[data.divisions.code == "220102006000", "geometry"] = cell(3, 0, 3, 2)
    overlap = [p for p in validate(data, known_codes=KNOWN) if "overlaps township" in p.message]
    assert [p.severity for p in overlap] == ["warning"]


def test_overlapping_villages_are_refused_naming_both() -> None:
    data = three_villages(cell(1, 1, 2, 2))  # reaches 220 m into both
    errors = [p for p in validate(data, known_codes=KNOWN) if p.severity == "error"]
    overlaps = [p for p in errors if "overlaps village" in p.message]
    assert {p.message.split(" overlaps ")[1].split(" ")[1] for p in overlaps} == {LONGXING, MINGZHU}
    assert all("220102005005" in p.message for p in overlaps)
    # --fix joins vertices; it does not move land from one village to another
    assert any("overlaps village" in p.message
               for p in validate(data, fix=True, known_codes=KNOWN) if p.severity == "error")  # fmt: skip


def test_long_division_edges_are_broken_at_import_with_the_shapes_unchanged() -> None:
    data = two_communities()
    before = data.divisions.geometry.values.copy()
    assert validate(data, known_codes=KNOWN) == []
    assert data.divisions.geometry.values.tolist() == before.tolist()  # validating changes nothing
    assert densify_divisions(data) > 0  # what the import does after validating
    after = data.divisions.geometry.values
    # D = 0.002°: no edge longer than 0.001° is left, so a 2D edge is 4 pieces or more
    for g in after:
        xy = shapely.get_coordinates(g)
        assert max(abs(xy[1:] - xy[:-1]).max(axis=1)) <= 0.001 + 1e-12
    assert [
        int(shapely.get_num_coordinates(g)) >= n for g, n in zip(after, [25, 17, 17], strict=False)
    ] == [True] * 3
    assert all(shapely.hausdorff_distance(a, b) < 1e-12 for a, b in zip(after, before, strict=True))
    assert shapely.coverage_is_valid(after[1:])


# --------------------------------------------------------------- what the database checks


def test_a_malformed_phone_names_the_person_and_the_format_but_not_the_phone_or_name() -> None:
    people = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3"],
            "name": ["王秀英", "栗建国", "张伟"],
            "phone": ["138 0099 7777", "0431-88886666", "+86 13800997777"],
        }
    )
    problems = validate(Interchange.from_frames(people=people))
    assert [(p.layer, p.row, p.field, p.severity) for p in problems] == [
        ("people", 0, "phone", "error"),
        ("people", 2, "phone", "error"),
    ]
    for p, who in zip(problems, ["P1", "P3"], strict=True):
        text = str(p)
        assert f"person {who}" in text
        assert "5 to 20 characters" in text
        assert "0099" not in text
        assert "7777" not in text
        assert all(name not in text for name in people["name"])
        assert p.value is None


def test_a_mis_decoded_name_is_not_shown_nor_what_it_meant() -> None:
    garbled = "王芳".encode().decode("gbk")  # UTF-8 read as GBK
    people = pd.DataFrame({"person_id": ["P1"], "name": [garbled], "phone": [None]})
    (p,) = validate(Interchange.from_frames(people=people))
    assert (p.field, p.value) == ("name", None)
    assert "person P1" in str(p)
    assert "looks like UTF-8 read as GBK" in str(p)
    assert garbled not in str(p)
    assert "王芳" not in str(p)


def test_two_current_holders_of_one_post_are_refused() -> None:
    people = pd.DataFrame({"person_id": ["P1", "P2", "P3"], "name": ["王芳", "李强", "张伟"]})
    assignments = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3"],
            "role": ["building_chief", "building_chief", "building_chief"],
            "building_id": ["B1", "B1", "B1"],
            "since": ["2020-01-01", "2023-01-01", "2021-01-01"],
            "until": [None, None, "2022-12-31"],
        }
    )
    buildings = gpd.GeoDataFrame(
        {"building_id": ["B1"], "community_code": [LONGXING], "households": [12]},
        geometry=[shapely.Point(X0 + 0.001, Y0 + 0.001)],
        crs=STORAGE,
    )
    data = Interchange.from_frames(people=people, assignments=assignments, buildings=buildings)
    problems = [p for p in validate(data, known_codes=[LONGXING]) if p.layer == "assignments"]
    assert [str(p) for p in problems] == [
        "assignments row 1 until: is empty, but row 0 is already the current building_chief "
        "of building B1: a post has one current holder (give the earlier term its until)"
    ]


# ------------------------------------------------------- assignments, against a plain reading

_ROLES = ["grid_chief", "building_chief", "unit_chief", "chief"]
_NEEDS = {"grid_chief": ("grid_code",), "building_chief": ("building_id",),
          "unit_chief": ("building_id", "unit_no")}  # fmt: skip


def _day(v: str | None) -> dt.date | None:
    if v is None or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v.strip()):
        return None
    try:
        return dt.date.fromisoformat(v.strip())
    except ValueError:
        return None


def _plainly(a: pd.DataFrame, grids: set[str], buildings: set[str],
             units: set[tuple[str, str]]) -> list[str]:  # fmt: skip
    """The assignment rules read row by row, as the import format states them."""
    day = _day
    out: list[str] = []
    held: dict[tuple[str | None, ...], tuple[int, str | None, str | None]] = {}
    for i, r in enumerate(a.astype(object).where(a.notna(), None).to_dict("records")):
        role = r["role"]
        if role in _NEEDS:
            need = _NEEDS[role]
            wrong = False
            for c in ("grid_code", "building_id", "unit_no"):
                if c in need and r[c] is None:
                    out.append(f"{i} {c} empty")
                    wrong = True
                elif c not in need and r[c] is not None:
                    out.append(f"{i} {c} does not fit")
                    wrong = True
            g, b, u = r["grid_code"], r["building_id"], r["unit_no"]
            if role == "grid_chief":
                if g is not None and g not in grids:
                    out.append(f"{i} grid_code unknown")
            elif b is not None and b not in buildings:
                out.append(f"{i} building_id unknown")
            elif role == "unit_chief" and b is not None and u is not None and (b, u) not in units:
                out.append(f"{i} unit_no unknown")
            if not wrong and r["until"] is None:
                post = (role, *(r[c] for c in need))
                first = held.setdefault(post, (i, r["person_id"], r["since"]))
                if first[0] != i and first[1:] != (r["person_id"], r["since"]):
                    out.append(f"{i} until second holder after row {first[0]}")
        s, u = day(r["since"]), day(r["until"])
        if s is not None and u is not None and u < s:
            out.append(f"{i} until before since")
    return out


def _short(p: Any) -> str:
    why = str(p).split(": ", 1)[1]
    kind = {"is empty; a": "empty", "does not fit": "does not fit", "is not a grid": "unknown",
            "is not a building": "unknown", "is not a unit": "unknown",
            "is before since": "before since"}  # fmt: skip
    for start, short in kind.items():
        if why.startswith(start) or start in why:
            return f"{p.row} {p.field} {short}"
    row = re.search(r"but row (\d+) is already", why)
    assert row, why
    return f"{p.row} {p.field} second holder after row {row.group(1)}"


_PERSON = st.sampled_from(["P1", "P2", "P3"])
_SINCE = st.sampled_from([None, "2020-01-01", "2021-06-30", "2021-13-01", " 2019-05-05"])
_UNTIL = st.sampled_from([None, None, "2020-12-31", "2019-01-01", "2022-02-30", "x"])
_ANY_ROW = st.tuples(
    _PERSON, st.sampled_from(_ROLES), st.sampled_from([None, "G1", "G9"]),
    st.sampled_from([None, "B1", "B2", "B9"]), st.sampled_from([None, "1", "2"]), _SINCE, _UNTIL,
)  # fmt: skip


@st.composite
def _well_formed_row(draw: Any) -> tuple[Any, ...]:
    """A row with exactly its role's targets (some unknown), so posts and holders repeat."""
    role = draw(st.sampled_from(list(_NEEDS)))
    grid = draw(st.sampled_from(["G1", "G9"])) if role == "grid_chief" else None
    building = None if role == "grid_chief" else draw(st.sampled_from(["B1", "B2", "B9"]))
    unit = draw(st.sampled_from(["1", "2"])) if role == "unit_chief" else None
    return (draw(_PERSON), role, grid, building, unit, draw(_SINCE), draw(_UNTIL))


@settings(max_examples=300)
@given(st.lists(st.one_of(_well_formed_row(), _ANY_ROW), max_size=25))
def test_the_assignment_checks_say_what_a_plain_row_by_row_reading_says(rows: list[Any]) -> None:
    from gridmap.io.checks import Context, assignments

    cols = ["person_id", "role", "grid_code", "building_id", "unit_no", "since", "until"]
    a = pd.DataFrame(rows, columns=cols, dtype="string")
    grids = pd.DataFrame({"code": ["G1"]}, dtype="string")
    buildings = pd.DataFrame({"building_id": ["B1", "B2"]}, dtype="string")
    units = pd.DataFrame({"building_id": ["B1", "B2"], "unit_no": ["1", "2"]}, dtype="string")
    data = Interchange.from_frames(assignments=a, grids=grids, buildings=buildings, units=units)
    got = [_short(p) for p in assignments(data, Context())]
    assert got == _plainly(data.assignments, {"G1"}, {"B1", "B2"}, {("B1", "1"), ("B2", "2")})
