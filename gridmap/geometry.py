"""Small geometry helpers shared by the importer, the merge edge and the sample generator."""

from __future__ import annotations

import shapely
from shapely.geometry.base import BaseGeometry

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
