"""Resolve addresses and points to grids and chiefs."""

from __future__ import annotations

import json
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import AuthorisedDep, CallerDep, GridmapDep, SettingsDep
from api.errors import INVALID, TOO_LARGE, UNAUTHORISED, UNAVAILABLE
from api.responses import ModelResponse
from gridmap.errors import InvalidInput, LimitExceeded
from gridmap.resolve.batch import BatchQuery, BatchRow, queries_from_records, read_csv_records
from gridmap.results import Resolution

router = APIRouter(prefix="/v1/resolve", tags=["resolve"])

_ADDRESS_EXAMPLE = "长春市宽城区新发街道明珠花园3栋1单元"
#: what both single resolutions answer
_RESOLUTION: dict[str, Any] = {
    "response_model": Resolution,
    "responses": {**INVALID, **UNAUTHORISED, **UNAVAILABLE},
}


@router.get("", **_RESOLUTION, summary="Resolve an address to its grid and chiefs")
def resolve_address(
    gm: GridmapDep,
    authorised: AuthorisedDep,
    caller: CallerDep,
    address: Annotated[str, Query(min_length=1, max_length=500, examples=[_ADDRESS_EXAMPLE])],
    crs: Annotated[
        str,
        Query(description="CRS of `location`: EPSG:4490 (default), EPSG:4326, EPSG:NNNN or GCJ02."),
    ] = "EPSG:4490",
) -> Response:
    """Parse the address, match it exactly on numbers and with at most one typo on compound
    and road names, and return the grid with its grid, building and unit chiefs. When
    several answers fit equally well, ``status`` is ``ambiguous`` and no grid is given."""
    res = gm.resolve_address(address, authorised=authorised, crs=crs)
    if not authorised and res.grid is not None and caller.sees_contacts(res.grid.code):
        res = gm.resolve_address(address, authorised=True, crs=crs)  # a grid worker's own grid
    return ModelResponse(res)


@router.get("/point", **_RESOLUTION, summary="Resolve a point to its grid, building and chiefs")
async def resolve_point(
    gm: GridmapDep,
    authorised: AuthorisedDep,
    caller: CallerDep,
    lon: Annotated[
        float | None,
        Query(description="Longitude, or easting in a projected CRS.", examples=[125.3025]),
    ] = None,
    lat: Annotated[
        float | None,
        Query(description="Latitude, or northing in a projected CRS.", examples=[43.885]),
    ] = None,
    x: Annotated[float | None, Query(description="Same as lon.")] = None,
    y: Annotated[float | None, Query(description="Same as lat.")] = None,
    crs: Annotated[
        str,
        Query(
            description="EPSG:4490 (default), EPSG:4326, any EPSG:NNNN, or GCJ02 (Amap/Tencent)."
        ),
    ] = "EPSG:4490",
) -> Response:
    """The current grid containing the point (the lowest code on a shared edge), the building
    whose footprint contains it, and their chiefs; outside every grid, the nearest grid and
    its distance in metres."""
    px, py = BatchQuery(lon=lon, lat=lat, x=x, y=y, crs=crs).coordinates()
    if px is None:
        raise InvalidInput("lon (or x) is required", field="query.lon")
    if py is None:
        raise InvalidInput("lat (or y) is required", field="query.lat")
    res = await gm.aresolve_point(px, py, crs, authorised=authorised)
    if not authorised and res.grid is not None and caller.sees_contacts(res.grid.code):
        res = await gm.aresolve_point(px, py, crs, authorised=True)  # a grid worker's own grid
    return ModelResponse(res)


class BatchResponse(BaseModel):
    rows: list[BatchRow]
    counts: dict[str, int] = Field(
        description="Rows per status.",
        examples=[{"ok": 2, "not_found": 0, "ambiguous": 0, "error": 1}],
    )


_BATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": BatchQuery.model_json_schema()},
                "example": [
                    {"id": "a1", "address": _ADDRESS_EXAMPLE},
                    {"id": "p1", "lon": 125.3025, "lat": 43.885},
                    {"id": "g1", "lon": 125.3086, "lat": 43.8873, "crs": "GCJ02"},
                ],
            },
            "text/csv": {
                "schema": {"type": "string"},
                "example": "id,address,lon,lat,crs\na1,长春市宽城区明珠花园3栋1单元,,,\np1,,125.3025,43.885,EPSG:4490\n",
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


async def _records(request: Request) -> list[Any]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("application/json", ""):
        try:
            data = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"the body is not valid JSON: {exc}", field="body") from None
        except RecursionError:
            raise InvalidInput(
                "the body is JSON nested too deeply: expected a list of flat row objects",
                field="body",
            ) from None
        if not isinstance(data, list):
            raise InvalidInput(
                "the body must be a JSON list of rows, each with an id and an address or lon/lat",
                field="body",
            )
        return data
    if ctype in ("text/csv", "application/csv"):
        return read_csv_records(await request.body())
    if ctype == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput(
                "the multipart body needs a CSV file in the field 'file'", field="body.file"
            )
        return read_csv_records(await upload.read())
    raise HTTPException(
        415, f"content type {ctype!r}: send application/json, text/csv or multipart/form-data"
    )


@router.post(
    "/batch",
    response_model=BatchResponse,
    responses={**INVALID, **TOO_LARGE, **UNAUTHORISED, **UNAVAILABLE},
    openapi_extra=_BATCH_BODY,
    summary="Resolve many addresses and points at once",
)
async def resolve_many(
    request: Request, gm: GridmapDep, authorised: AuthorisedDep, settings: SettingsDep
) -> Response:
    """A JSON list of rows, or a CSV file (``text/csv`` or a multipart upload in ``file``), each
    row with an ``id`` and either an ``address`` or ``lon``/``lat`` (and ``crs``). Each row
    comes back with its id, a status (ok, not_found, ambiguous or error) and its result or
    error; a bad row never fails the batch."""
    records = await _records(request)
    if len(records) > settings.max_batch_rows:
        raise LimitExceeded(
            f"{len(records)} rows; at most {settings.max_batch_rows} per batch",
            field="body",
        )
    queries = queries_from_records(records)
    rows = await run_in_threadpool(partial(gm.resolve_batch, queries, authorised=authorised))
    counts = {"ok": 0, "not_found": 0, "ambiguous": 0, "error": 0}
    for r in rows:
        counts[r.status] += 1
    return ModelResponse(BatchResponse(rows=rows, counts=counts))
