"""Small geometry helpers shared by the importer, the merge, the service and the sample generator."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

LOG = logging.getLogger(__name__)

POLYGONAL = ("Polygon", "MultiPolygon")
#: shapely type ids of Polygon and MultiPolygon
POLYGON_TYPE_IDS = (3, 6)


def polygonal(geom: BaseGeometry, fallback: BaseGeometry | None = None) -> BaseGeometry:
    """The polygonal part of ``geom``: itself if it is a (Multi)Polygon, else the union of its
    polygon parts (``make_valid`` can turn a polygon into a collection with stray lines).

    Without polygon parts, ``fallback`` is returned (default: an empty Polygon).

    >>> from shapely import GeometryCollection, LineString, box
    >>> polygonal(GeometryCollection([box(0, 0, 1, 1), LineString([(1, 1), (2, 2)])])).wkt
    'POLYGON ((1 0, 1 1, 0 1, 0 0, 1 0))'
    >>> polygonal(LineString([(0, 0), (1, 1)])).is_empty
    True
    """
    if geom.geom_type in POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in POLYGONAL]
    if parts:
        return shapely.union_all(parts)
    return fallback if fallback is not None else shapely.Polygon()


def storage_valid(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The grids with geometries valid in storage coordinates.

    The merge works in metres; a valid polygon can pick up a self-touching ring at the
    nanodegree scale when brought back to EPSG:4490. Such grids are repaired with
    ``make_valid`` (keeping the polygonal part) and named in the log, so that the database's
    validity check never rejects a whole merge for a rounding artefact.
    """
    stored = grids.to_crs("EPSG:4490")
    geoms = np.asarray(stored.geometry.values, dtype=object)
    bad = ~shapely.is_valid(geoms)
    if not bad.any():
        return stored
    geoms[bad] = [polygonal(g, fallback=g) for g in shapely.make_valid(geoms[bad])]
    LOG.warning(
        "repaired %d grid geometr%s made invalid by reprojection: %s",
        int(bad.sum()),
        "y" if bad.sum() == 1 else "ies",
        ", ".join(map(str, grids["code"].to_numpy()[bad][:10])),
    )
    return stored.set_geometry(gpd.GeoSeries(geoms, index=stored.index, crs="EPSG:4490"))
