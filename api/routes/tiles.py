"""Mapbox Vector Tiles of grids, divisions and buildings, for maps at province scale."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path
from fastapi.responses import Response

from api.deps import GridmapDep
from api.errors import INVALID, UNAVAILABLE, not_found

router = APIRouter(prefix="/tiles", tags=["maps"])

MVT = "application/vnd.mapbox-vector-tile"
_TILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {MVT: {}}, "description": "The tile (empty where nothing lies)."},
    304: {"description": "Unchanged since the ETag given in If-None-Match."},
}


@router.get(
    "/{layer}/{z}/{x}/{y}.pbf",
    response_class=Response,
    responses={
        **_TILE,
        **not_found("unknown_tile_layer", "no tile layer 'roads'; expected grids, ..."),
        **INVALID,
        **UNAVAILABLE,
    },
    summary="A vector tile: grids (with households), divisions, or buildings (zoom 14+)",
)
def tile(
    gm: GridmapDep,
    layer: Annotated[str, Path(description="grids, divisions or buildings.")],
    z: Annotated[int, Path(description="Zoom, 0-22.")],
    x: Annotated[int, Path()],
    y: Annotated[int, Path()],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Straight from PostGIS (``ST_AsMVT``), in Web Mercator tiles. Divisions thin out with
    the zoom: counties below 9, townships below 12, then communities and villages."""
    body = gm.tile(layer, z, x, y)
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
    if if_none_match is not None and etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MVT, headers=headers)
