"""The service: one entry point that owns its connections and gazetteer, and leaks neither."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from gridmap.service import Gridmap
from tests.db.test_load import small_region
from tests.region import GRID_A, Region, region

if TYPE_CHECKING:
    import psycopg

__all__ = ["region"]

pytestmark = pytest.mark.postgis


def test_a_gridmap_needs_exactly_one_of_a_connection_or_a_pool(
    db: psycopg.Connection[object],
) -> None:
    with pytest.raises(TypeError, match="exactly one"):
        Gridmap()
    gm = Gridmap(db)
    gm.close()  # the caller's connection stays the caller's
    assert not db.closed
    assert db.execute("SHOW plan_cache_mode").fetchone() == ("force_generic_plan",)


def test_a_pool_gets_every_connection_back(region: Region, db_url: str) -> None:
    """Use cases take a connection for their own call only: after a burst none is held."""
    with Gridmap.pooled(db_url, min_size=1, max_size=3) as gm:
        assert gm.pool is not None

        def one(i: int) -> str:
            if i % 3 == 0:
                res = gm.resolve_address("宽城区明珠花园3栋1单元")
            elif i % 3 == 1:
                res = gm.resolve_point(125.305, 43.885)
            else:
                return gm.grid(GRID_A).id
            assert res.grid is not None
            return res.grid.code

        with ThreadPoolExecutor(max_workers=12) as ex:
            codes = list(ex.map(one, range(60)))
        assert set(codes) == {GRID_A}
        stats = gm.pool.get_stats()
        assert stats["pool_size"] <= 3
        assert stats["pool_available"] == stats["pool_size"]
        assert stats.get("requests_errors", 0) == 0
    assert gm.pool.closed


def test_an_import_that_changes_divisions_rebuilds_the_gazetteer(
    db: psycopg.Connection[object],
) -> None:
    gm = Gridmap(db)
    assert len(gm.gazetteer) == 0
    gm.import_data(small_region())
    assert gm.gazetteer.get("220102005004") is not None
