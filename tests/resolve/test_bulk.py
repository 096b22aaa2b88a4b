"""Points located in memory answer exactly as the database's one-by-one query does.

The generated street sample is imported for real; its points are every building's point,
every vertex of every grid and footprint (points on shared edges and corners, where the
lowest code must win), every footprint's centre and a lattice over the whole area and
beyond it (points in no grid, which get the nearest grid). Each is resolved by the
database's query for small batches and by the in-memory index, and the answers compared
field by field; a CSV of the same points, with bad rows among them, comes out of
``resolve_csv`` exactly as the row-by-row path writes it.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import shapely

from geodata.sample import generate_sample
from gridmap.resolve.batch import OUTPUT_COLUMNS, batch_rows, output_record, resolve_csv
from gridmap.resolve.index import PointIndex, _first_hit
from gridmap.resolve.points import IN_MEMORY_FROM, resolve_points
from gridmap.service import Gridmap

if TYPE_CHECKING:
    import psycopg

    from gridmap.io import Interchange


@pytest.fixture(scope="module")
def street() -> Interchange:
    return generate_sample("street", seed=4)


@pytest.fixture
def gm(db: psycopg.Connection[Any], street: Interchange) -> Gridmap:
    """The generated street, imported into the test's database."""
    gridmap = Gridmap(db)
    gridmap.import_data(street)
    return gridmap


def _points(conn: psycopg.Connection[Any]) -> list[tuple[float, float]]:
    pts: list[tuple[float, float]] = [
        (float(x), float(y))
        for x, y in conn.execute("SELECT ST_X(point), ST_Y(point) FROM building")
    ]
    for sql in (
        "SELECT ST_AsBinary(boundary) FROM current_grid",
        "SELECT ST_AsBinary(footprint) FROM building WHERE footprint IS NOT NULL",
    ):
        for (wkb,) in conn.execute(sql):
            geom = shapely.from_wkb(bytes(wkb))
            pts.extend((float(x), float(y)) for x, y in shapely.get_coordinates(geom))
            c = shapely.centroid(geom)
            pts.append((c.x, c.y))
    x0, y0, x1, y1 = conn.execute(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
        "FROM (SELECT ST_Extent(boundary) AS e FROM current_grid) s"
    ).fetchone()
    pad = 0.2 * (x1 - x0)
    for x in np.linspace(x0 - pad, x1 + pad, 40):
        for y in np.linspace(y0 - pad, y1 + pad, 40):
            pts.append((float(x), float(y)))
    return list(dict.fromkeys(pts))


@pytest.mark.postgis
def test_every_point_of_a_generated_street_is_located_in_memory_as_the_database_does(
    db: psycopg.Connection[Any], gm: Gridmap
) -> None:
    pts = _points(db)
    assert len(pts) > 5000
    queries = [(x, y, "EPSG:4490") for x, y in pts]
    index = PointIndex.load(db)
    assert len(index) == db.execute("SELECT count(*) FROM current_grid").fetchone()[0]
    in_memory = resolve_points(db, queries, authorised=True, index=index)
    step = IN_MEMORY_FROM - 1  # below the threshold: the database's query alone
    by_db = [r for i in range(0, len(queries), step)
             for r in resolve_points(db, queries[i : i + step], authorised=True)]  # fmt: skip
    assert len(in_memory) == len(by_db) == len(pts)
    differ = [(p, a, b) for p, a, b in zip(pts, in_memory, by_db, strict=True) if a != b]
    assert not differ, differ[:2]
    statuses = {r.status for r in by_db}  # type: ignore[union-attr]
    assert statuses == {"ok", "not_found"}
    assert any(r.on_boundary for r in by_db)  # type: ignore[union-attr]
    assert any(r.building is not None for r in by_db)  # type: ignore[union-attr]
    # and without an index given, a large batch loads one for its own box
    assert resolve_points(db, queries[:500], authorised=True) == by_db[:500]


def _csv(rows: list[list[str]], header: str = "id,lon,lat,crs") -> str:
    return header + "\n" + "".join(",".join(r) + "\n" for r in rows)


@pytest.mark.postgis
def test_a_csv_of_points_comes_out_as_the_row_by_row_path_writes_it(
    db: psycopg.Connection[Any], gm: Gridmap
) -> None:
    pts = _points(db)[::3]
    rows = [[f"r{i}" if i % 7 else "", repr(x), repr(y), "EPSG:4326" if i % 5 == 0 else ""]
            for i, (x, y) in enumerate(pts)]  # fmt: skip
    x, y = pts[0]
    rows += [
        ["bad-lon", "abc", "43.8", ""],
        ["no-lat", repr(x), "", ""],
        ["spaced", " " + repr(x), repr(y), ""],  # not a plain decimal: validated by itself
        ["swapped", repr(y), repr(x), ""],
        ["gcj", repr(x + 0.0065), repr(y + 0.0060), "GCJ02"],
        ["projected", "500000", "4874000", "EPSG:4551"],
        ["no-such-crs", repr(x), repr(y), "EPSG:999999"],
        ["exponent", "1.253e2", "4.38e1", ""],
        ['"an id, with ""quotes"""', repr(x), repr(y), ""],
        ["short"],
    ]
    text = _csv(rows)
    sink = io.StringIO()
    counts = resolve_csv(db, None, io.StringIO(text), sink, chunk_size=700)
    got = list(csv.reader(io.StringIO(sink.getvalue())))

    expected = [list(OUTPUT_COLUMNS)]
    for i, r in enumerate(list(csv.reader(io.StringIO(text)))[1:]):
        r = r + [""] * (4 - len(r))
        rec = {
            "id": r[0] or None,
            "lon": r[1] or None,
            "lat": r[2] or None,
            "crs": r[3] or "EPSG:4490",
        }
        (row,) = batch_rows(db, None, [rec], authorised=False, first_row=i + 1)
        expected.append(["" if v is None else str(v) for v in output_record(row).values()])
    assert got[0] == expected[0]
    differ = [(a, b) for a, b in zip(got, expected, strict=True) if a != b]
    assert not differ, differ[:2]
    assert counts["error"] == 5
    assert counts["ok"] > 1000
    assert counts["not_found"] > 100
    # ids default to the row number; phones stay masked without authority
    by_id = {r[0]: r for r in got[1:]}
    assert "1" in by_id
    assert by_id['an id, with "quotes"'][1] == "ok"
    phones = [r[OUTPUT_COLUMNS.index("grid_chief_phone")] for r in got[1:] if r[1] == "ok"]
    assert phones
    assert all("****" in p for p in phones if p)


@pytest.mark.postgis
def test_a_csv_reads_as_csv_dictreader_does_blank_lines_extra_cells_and_repeated_columns(
    db: psycopg.Connection[Any], gm: Gridmap
) -> None:
    x, y = _points(db)[0]
    text = f"lat,id,lon,lon\n\n{y!r},a,0,{x!r},extra\n{y!r},b,0\n"
    sink = io.StringIO()
    counts = resolve_csv(db, None, io.StringIO(text), sink)
    out = list(csv.DictReader(io.StringIO(sink.getvalue())))
    # the last 'lon' column is the one read (as csv.DictReader does); row b lacks it
    assert [r["id"] for r in out] == ["a", "b"]
    assert out[0]["status"] == "ok"
    assert out[1]["status"] == "error"
    assert "lon" in out[1]["error"]
    assert counts == {"ok": 1, "not_found": 0, "ambiguous": 0, "error": 1}


def test_the_first_hit_is_the_lowest_index_and_every_hit_is_counted() -> None:
    # inputs 0 and 2 hit several targets (in no particular order); input 1 hits none
    pairs = np.array([[0, 0, 0, 2, 2, 3], [5, 1, 3, 4, 2, 0]])
    first, count = _first_hit(pairs, 5)
    assert first.tolist() == [1, -1, 2, 0, -1]
    assert count.tolist() == [3, 0, 2, 1, 0]
    unsorted = pairs[:, [3, 0, 5, 1, 4, 2]]
    assert [a.tolist() for a in _first_hit(unsorted, 5)] == [first.tolist(), count.tolist()]
    empty = np.empty((2, 0), dtype=np.int64)
    assert [a.tolist() for a in _first_hit(empty, 2)] == [[-1, -1], [0, 0]]


def test_an_index_covers_edges_and_takes_the_lowest_code_and_id() -> None:
    left = shapely.box(0, 0, 1, 1)
    right = shapely.box(1, 0, 2, 1)
    index = PointIndex(["G1", "G2"], np.array([left, right]), [9, 4],
                       np.array([shapely.box(0.5, 0.5, 1.5, 0.9), shapely.box(0.9, 0.5, 1.2, 0.6)]))  # fmt: skip
    found = index.locate([0.5, 1.0, 1.95, 3.0, 1.0], [0.5, 0.2, 0.1, 0.5, 0.55])
    assert found.grid.tolist() == [0, 0, 1, -1, 0]
    assert found.n_covering.tolist() == [1, 2, 1, 0, 2]
    # (1.0, 0.55) lies in both footprints: the first in the index's order wins, not the lower id
    assert found.building.tolist() == [0, -1, -1, -1, 0]


@pytest.mark.postgis
def test_a_batch_spread_wider_than_the_span_takes_the_database_query_with_the_same_answers(
    db: psycopg.Connection[Any], gm: Gridmap, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridmap.resolve import points as module

    queries = [(x, y, "EPSG:4490") for x, y in _points(db)[:400]]
    loads: list[Any] = []
    real = PointIndex.load
    monkeypatch.setattr(
        PointIndex, "load", classmethod(lambda cls, c, b=None: loads.append(b) or real(c, b))
    )
    near = resolve_points(db, queries)
    assert len(loads) == 1  # a street's points: one index for their box
    far = [*queries, (queries[0][0] + 1.0, queries[0][1], "EPSG:4490")]
    assert module.IN_MEMORY_SPAN < 1.0
    spread = resolve_points(db, far)
    assert len(loads) == 1  # wider than the span: no index loaded
    assert spread[:-1] == near
    assert spread[-1].status == "not_found"  # type: ignore[union-attr]


@pytest.mark.postgis
def test_a_csv_of_repeated_addresses_answers_each_row_as_if_it_came_alone(
    db: psycopg.Connection[Any], street: Interchange, gm: Gridmap
) -> None:
    """A register repeats its addresses (one row per person): each repeat takes the answer of
    its first, with its own id and row number, exactly as resolving it alone would give."""
    from gridmap.testing import generate_cases

    texts = [c.text for c in generate_cases(street, n=120, seed=3)][:60]
    rng = np.random.default_rng(0)
    rows = [
        [f"p{i}" if i % 9 else "", texts[int(k)]] for i, k in enumerate(rng.integers(0, 60, 400))
    ]
    rows += [["empty", ""], ["nul\x00id", texts[0]], ["quoted", '"' + texts[1] + '"']]
    text = "id,address\n" + "".join(
        ",".join(f'"{v}"' if "," in v else v for v in r) + "\n" for r in rows
    )
    sink = io.StringIO()
    counts = resolve_csv(db, gm.gazetteer, io.StringIO(text), sink, chunk_size=150)
    got = list(csv.reader(io.StringIO(sink.getvalue())))[1:]
    parsed = list(csv.reader(io.StringIO(text)))[1:]
    assert len(got) == len(parsed) == len(rows)
    for i, (r, out) in enumerate(zip(parsed, got, strict=True)):
        rec = {"id": r[0] or None, "address": r[1] or None}
        (alone,) = batch_rows(db, gm.gazetteer, [rec], first_row=i + 1)
        assert out == ["" if v is None else str(v) for v in output_record(alone).values()], r
    assert sum(counts.values()) == len(rows)
    assert counts["error"] >= 2  # the empty address and the NUL id
    assert len({r[1] for r in rows}) < len(rows) / 5  # the repeats were there to share
