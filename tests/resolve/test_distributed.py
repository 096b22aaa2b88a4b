"""Bulk points on a Dask cluster (2 local worker processes) answer as on one machine."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from geodata.sample import generate_sample
from gridmap.resolve.batch import resolve_csv
from gridmap.resolve.index import PointIndex
from gridmap.service import Gridmap

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import psycopg
    from distributed import LocalCluster

    from gridmap.io import Interchange


@pytest.fixture(scope="module")
def street() -> Interchange:
    return generate_sample("street", seed=5)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as c:  # fmt: skip
        yield c


def _points_csv(conn: psycopg.Connection[Any]) -> str:
    rows = conn.execute(
        "SELECT ST_X(point), ST_Y(point) FROM building ORDER BY external_id"
    ).fetchall()
    x0, y0, x1, y1 = conn.execute(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
        "FROM (SELECT ST_Extent(boundary) AS e FROM current_grid) s"
    ).fetchone()
    lines = [f"b{i},{x!r},{y!r}," for i, (x, y) in enumerate(rows)]
    for i in range(30):  # a line across the area and beyond it: some points in no grid
        t = -0.2 + 1.4 * i / 29
        lines.append(f"l{i},{x0 + t * (x1 - x0)!r},{y0 + t * (y1 - y0)!r},EPSG:4326")
    lines += [
        "bad,abc,43.8,",
        ",125.3,,",
        f"gcj,{rows[0][0] + 0.0065!r},{rows[0][1] + 0.006!r},GCJ02",
    ]
    return "id,lon,lat,crs\n" + "\n".join(lines) + "\n"


@pytest.mark.postgis
def test_points_located_on_a_dask_cluster_come_out_as_on_one_machine(
    db: psycopg.Connection[Any], street: Interchange, cluster: LocalCluster
) -> None:
    from distributed import Client

    from gridmap.resolve.distributed import DaskLocator

    Gridmap(db).import_data(street)
    text = _points_csv(db)
    index = PointIndex.load(db)
    local = io.StringIO()
    counts = resolve_csv(db, None, io.StringIO(text), local, index=index, chunk_size=900)
    with Client(cluster) as client:  # type: ignore[no-untyped-call]
        locator = DaskLocator(index, client)
        # the index reached both workers, and the points were spread over partitions
        assert len(client.scheduler_info()["workers"]) == 2
        on_cluster = io.StringIO()
        again = resolve_csv(db, None, io.StringIO(text), on_cluster, index=locator, chunk_size=900)
        inner = index.grid_shapes[0].representative_point()
        keys = locator.counties(np.array([inner.x]), np.array([inner.y]))
    assert again == counts
    assert on_cluster.getvalue() == local.getvalue()
    assert counts["ok"] > 1000
    assert counts["not_found"] > 0
    assert counts["error"] == 2
    assert str(keys[0]) == str(index.grid_codes[0])[:6]


@pytest.mark.postgis
def test_the_cli_resolves_on_a_scheduler_given_by_address(
    db_url: str, db: psycopg.Connection[Any], street: Interchange, cluster: LocalCluster,
    tmp_path: Path,
) -> None:  # fmt: skip
    Gridmap(db).import_data(street)
    src = tmp_path / "points.csv"
    src.write_text(_points_csv(db), encoding="utf-8")
    env = {**os.environ, "GRIDMAP_DATABASE_URL": db_url}
    outs = {}
    for engine in ("local", "dask"):
        out = tmp_path / f"{engine}.csv"
        cmd = [sys.executable, "-m", "gridmap", "resolve", str(src), "--out", str(out),
               "--engine", engine]  # fmt: skip
        if engine == "dask":
            cmd += ["--scheduler", cluster.scheduler_address]
        run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        outs[engine] = out.read_text(encoding="utf-8")
    assert outs["dask"] == outs["local"]
    assert outs["local"].count("\n") > 1000
    addresses = tmp_path / "addresses.csv"
    addresses.write_text("id,address\n1,明珠花园3栋\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "gridmap", "resolve", str(addresses), "--engine", "dask",
         "--scheduler", cluster.scheduler_address],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 2
    assert "--engine local" in run.stderr
