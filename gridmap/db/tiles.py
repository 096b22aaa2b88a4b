"""Mapbox Vector Tiles straight from PostGIS (``ST_AsMVT``): grids, divisions and buildings.

One query per tile: the tile's envelope in Web Mercator (``ST_TileEnvelope``), the rows whose
geometry meets it (found with the GiST index in EPSG:4490), clipped and quantised by
``ST_AsMVTGeom``. Below zoom 14 shapes are first simplified to a quarter of a tile pixel, which
no tile can show. Divisions thin out with the zoom (counties below 9, townships below 12,
then communities and villages), and buildings appear from zoom 14.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, LiteralString

from gridmap.errors import InvalidInput, UnknownTileLayer

if TYPE_CHECKING:
    import psycopg

__all__ = ["LAYERS", "MAX_ZOOM", "MIN_BUILDING_ZOOM", "tile"]

MAX_ZOOM = 22
MIN_BUILDING_ZOOM = 14

# below zoom 14, shapes are simplified to a quarter of a tile pixel (360° / 4096 / 2^z / 4)
# before they are projected: a province at zoom 8 is thousands of grids per tile, and their
# full vertices cost the projection and clipping for nothing the tile's grid can show
_ENVELOPE: LiteralString = """
WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
     q AS (SELECT env, ST_Transform(env, 4490) AS box,
                  CASE WHEN %(z)s < 14 THEN 360.0 / (4096 * 4 * 2 ^ %(z)s) ELSE 0 END AS tol
           FROM b)
"""
_LAYERS: dict[str, LiteralString] = {
    "grids": """
SELECT ST_AsMVT(t, 'grids', 4096, 'geom') FROM (
  SELECT g.code, g.name, g.kind, g.households, g.community_code,
         ST_AsMVTGeom(ST_Transform(ST_Simplify(g.boundary, q.tol, true), 3857), q.env, 4096, 64, true)
           AS geom
  FROM current_grid g, q WHERE g.boundary && q.box) t
""",
    "divisions": """
SELECT ST_AsMVT(t, 'divisions', 4096, 'geom') FROM (
  SELECT d.code, d.name, d.level,
         ST_AsMVTGeom(ST_Transform(ST_Simplify(d.boundary, q.tol, true), 3857), q.env, 4096, 64, true)
           AS geom
  FROM division d, q
  WHERE d.boundary && q.box
    AND d.level = CASE WHEN %(z)s < 9 THEN 'county' WHEN %(z)s < 12 THEN 'township'
                       ELSE 'village' END) t
""",
    "buildings": """
SELECT ST_AsMVT(t, 'buildings', 4096, 'geom') FROM (
  SELECT b.external_id AS id, b.building_no, b.house_number, b.compound, b.households,
         ST_AsMVTGeom(ST_Transform(coalesce(b.footprint, b.point), 3857), q.env, 4096, 64, true)
           AS geom
  FROM building b, q WHERE coalesce(b.footprint, b.point) && q.box AND %(z)s >= 14) t
""",
}
#: the layers a tile can be asked for
LAYERS: tuple[str, ...] = tuple(_LAYERS)


def query(layer: str) -> LiteralString:
    """The SQL of one layer's tile, with ``%(z)s``, ``%(x)s`` and ``%(y)s`` parameters."""
    return _ENVELOPE + _LAYERS[layer]


def tile(conn: psycopg.Connection[Any], layer: str, z: int, x: int, y: int) -> bytes:
    """The ``layer`` tile at ``z/x/y`` as MVT bytes (empty where nothing lies)."""
    if layer not in _LAYERS:
        raise UnknownTileLayer(f"no tile layer {layer!r}; expected one of {', '.join(LAYERS)}")
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidInput(f"zoom {z} is outside 0..{MAX_ZOOM}", field="path.z", value=z)
    side = 1 << z
    for name, v in (("x", x), ("y", y)):
        if not 0 <= v < side:
            raise InvalidInput(
                f"{name} = {v} is outside 0..{side - 1} at zoom {z}", field=f"path.{name}", value=v
            )
    row = conn.execute(query(layer), {"z": z, "x": x, "y": y}).fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def extent(conn: psycopg.Connection[Any]) -> tuple[float, float, float, float] | None:
    """West, south, east, north (EPSG:4490) of all current grids; None when there are none."""
    row = conn.execute(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
        " FROM (SELECT ST_Extent(boundary) AS e FROM current_grid) x"
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])
