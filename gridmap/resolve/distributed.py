"""Points located on a Dask cluster: the same index and rules, spread over workers.

:class:`DaskLocator` stands in for a :class:`~gridmap.resolve.index.PointIndex` wherever one
locates points (:func:`gridmap.resolve.bulk.resolve_point_rows`): it has the index's
``grid_codes``, ``building_ids`` and ``locate``. Its ``locate`` sends the points to the
cluster as a dask-geopandas GeoDataFrame partitioned by county code, where every worker
runs the index's own ``locate`` on its partitions. The index is broadcast to the workers
once. Names, divisions and chiefs are then fetched by the caller, once for the distinct
grids and buildings, exactly as on one machine, so both give the same answers.

A point's county, for partitioning only, is the six-digit prefix of the first grid whose
bounding box holds it (``000000`` for a point in none): a cheap key that keeps a county's
points together. Every worker holds the whole index, so the key never changes an answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from gridmap.resolve.index import Located, PointIndex

if TYPE_CHECKING:
    from collections.abc import Sequence

    from distributed import Client

__all__ = ["DaskLocator", "local_cluster"]

#: the most points one partition holds
PARTITION_ROWS = 100_000


def _locate_partition(part: pd.DataFrame, index: PointIndex) -> pd.DataFrame:
    """One partition's points located in the (broadcast) index."""
    found = index.locate(part["x"].to_numpy(), part["y"].to_numpy())
    return pd.DataFrame(
        {
            "pos": part["pos"].to_numpy(),
            "grid": found.grid,
            "n_covering": found.n_covering,
            "building": found.building,
        }
    )


class DaskLocator:
    """A :class:`PointIndex` whose ``locate`` runs on the workers of a Dask ``client``."""

    def __init__(self, index: PointIndex, client: Client) -> None:
        self.index = index
        self.client = client
        self.grid_codes = index.grid_codes
        self.building_ids = index.building_ids
        boxes = shapely.envelope(index.grid_shapes)
        self._boxes = shapely.STRtree(boxes)
        self._box_county = np.array([c[:6] for c in index.grid_codes] + ["000000"], dtype=object)
        # the index goes to every worker once; each task then refers to it by key
        [self._index] = client.scatter([index], broadcast=True)  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """Close the client, and the cluster when it is a local one of its own."""
        cluster = getattr(self.client, "cluster", None)
        self.client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()

    def counties(
        self, lon: np.ndarray[Any, Any], lat: np.ndarray[Any, Any]
    ) -> np.ndarray[Any, Any]:
        """The partitioning key of each point: the county of the first grid box holding it."""
        pts = np.asarray(shapely.points(lon, lat)).reshape(-1)
        pairs = self._boxes.query(pts)
        first = np.full(len(pts), len(self.index), dtype=np.int64)
        if pairs.shape[1]:
            np.minimum.at(first, pairs[0], pairs[1])
        county: np.ndarray[Any, Any] = self._box_county[first]
        return county

    def locate(
        self,
        lon: np.ndarray[Any, Any] | Sequence[float],
        lat: np.ndarray[Any, Any] | Sequence[float],
    ) -> Located:
        """The grid and building of each EPSG:4490 point, located on the cluster."""
        import dask_geopandas
        import geopandas as gpd

        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        n = len(x)
        grid = np.full(n, -1, dtype=np.int64)
        count = np.zeros(n, dtype=np.int64)
        building = np.full(n, -1, dtype=np.int64)
        if n == 0:
            return Located(grid=grid, n_covering=count, building=building)
        frame = gpd.GeoDataFrame(
            {"pos": np.arange(n), "x": x, "y": y, "county": self.counties(x, y)},
            geometry=gpd.points_from_xy(x, y),
            crs="EPSG:4490",
        ).set_index("county")
        counties = frame.index.nunique()
        parts = max(counties, -(-n // PARTITION_ROWS))
        points = dask_geopandas.from_geopandas(frame, npartitions=parts, sort=True)
        meta = pd.DataFrame(
            {"pos": np.int64(0), "grid": np.int64(0), "n_covering": np.int64(0),
             "building": np.int64(0)}, index=[0],
        ).iloc[:0]  # fmt: skip
        located = points.map_partitions(_locate_partition, self._index, meta=meta)
        out = self.client.compute(located).result()  # type: ignore[no-untyped-call]
        at = out["pos"].to_numpy()
        grid[at] = out["grid"].to_numpy()
        count[at] = out["n_covering"].to_numpy()
        building[at] = out["building"].to_numpy()
        return Located(grid=grid, n_covering=count, building=building)


def local_cluster(workers: int) -> Client:
    """A Dask client over a cluster of ``workers`` processes on this machine."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    return Client(cluster)  # type: ignore[no-untyped-call]
