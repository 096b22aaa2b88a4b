"""Map pages: a grid worker's zone, a planner's coverage, the appeals of a street or
district with its dashboard, and "which grid am I in".

The pages are the same self-contained folium maps the CLI writes (Leaflet inlined from the
local asset cache, so they draw on an intranet with no internet). Phones are masked unless
the request carries an API key; the appeals pages carry no personal data and need none.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import AuthorisedDep, CallerDep, GridmapDep, SettingsDep
from api.errors import INVALID, UNAUTHORISED, UNAVAILABLE
from api.routes.places import DIVISION_404, GRID_404, DivisionCode, GridCode, WithinQuery
from api.routes.plans import PLAN_404, PlanId

router = APIRouter(prefix="/maps", tags=["maps"])

_HTML: dict[int | str, dict[str, Any]] = {200: {"content": {"text/html": {}}}}


def _assets(request: Request) -> Any:
    """The Leaflet assets, read once per app from the local cache (``gridmap assets install``)."""
    assets = getattr(request.app.state, "leaflet", None)
    if assets is None:
        from gridmap.maps import default_assets_dir, load_leaflet

        assets = load_leaflet(default_assets_dir())
        request.app.state.leaflet = assets
    return assets


@dataclass(frozen=True)
class Bands:
    """The household bands a map colours grids against: urban, and rural (its own rule)."""

    urban: tuple[int, int]
    rural: tuple[int, int]


def _bands(
    low: Annotated[int, Query(ge=0, description="Households: the band's low end.")] = 300,
    high: Annotated[int, Query(ge=1, description="Households: the band's high end.")] = 500,
    rural_low: Annotated[int, Query(ge=0, description="Rural grids: the band's low end.")] = 100,
    rural_high: Annotated[int, Query(ge=1, description="Rural grids: the high end.")] = 300,
) -> Bands:
    return Bands((low, high), (rural_low, rural_high))


BandsDep = Annotated[Bands, Depends(_bands)]
#: a street or district, as a query parameter (the code is checked by gridmap: 422
#: ``invalid_code`` says what is wrong with it)
DivisionParam = Annotated[str, WithinQuery]


def _page(m: Any) -> HTMLResponse:
    return HTMLResponse(m.get_root().render())


@router.get(
    "/grids/{code}",
    response_class=HTMLResponse,
    responses={**_HTML, **GRID_404, **INVALID, **UNAUTHORISED, **UNAVAILABLE},
    summary="A grid worker's zone map",
)
def grid_map(
    code: GridCode, gm: GridmapDep, caller: CallerDep, settings: SettingsDep,
    request: Request,
) -> HTMLResponse:  # fmt: skip
    """The grid, its buildings with their units and chiefs, and its neighbours greyed out.
    A grid without buildings draws its boundary and says so."""
    m = gm.zone_map(
        code, show_phones=caller.sees_contacts(code), tiles_url=settings.tiles_url,
        assets=_assets(request),
    )  # fmt: skip
    return _page(m)


@router.get(
    "/grids/{code}/board.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}},
        **GRID_404,
        **INVALID,
        **UNAUTHORISED,
        **UNAVAILABLE,
    },
    summary="The printable grid board (网格公示牌), A4 PDF",
)
def grid_board(
    code: GridCode,
    gm: GridmapDep,
    caller: CallerDep,
    service_phone: Annotated[
        str | None, Query(max_length=40, description="The community's service phone.")
    ] = None,
) -> Response:
    """The grid's code and name, its map, the grid chief with a photo placeholder and phone
    (in full only with an API key), the building and unit chiefs, and the community's
    service phone."""
    page = gm.board(code, show_phones=caller.sees_contacts(code), service_phone=service_phone)
    return Response(
        gm.board_pdf(page),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="board-{code}.pdf"'},
    )


@router.get(
    "/divisions/{code}",
    response_class=HTMLResponse,
    responses={**_HTML, **DIVISION_404, **INVALID, **UNAVAILABLE},
    summary="A planner's coverage map of a community, street or district",
)
def division_map(
    code: DivisionCode,
    gm: GridmapDep,
    settings: SettingsDep,
    request: Request,
    bands: BandsDep,
) -> HTMLResponse:
    """The grids of the division coloured by household load against the band, with the
    legacy layers as toggles."""
    m = gm.coverage_map(
        code,
        target=bands.urban,
        rural_target=bands.rural,
        tiles_url=settings.tiles_url,
        assets=_assets(request),
    )
    return _page(m)


@router.get(
    "/plans/{plan_id}",
    response_class=HTMLResponse,
    responses={**_HTML, **PLAN_404, **INVALID, **UNAVAILABLE},
    summary="A rebalancing plan over the grids it replaces",
)
def plan_map(
    plan_id: PlanId,
    gm: GridmapDep,
    settings: SettingsDep,
    request: Request,
    bands: BandsDep,
) -> HTMLResponse:
    """The plan's grids coloured by load against the plan's own band (rural grids against
    ``rural_low``–``rural_high``), the grids in force when it was drafted dashed on top, the
    buildings it moves filled in magenta (from and to in their tooltips), and its metrics
    in the legend."""
    m = gm.plan_map(
        plan_id, rural_target=bands.rural, tiles_url=settings.tiles_url, assets=_assets(request)
    )
    return _page(m)


@router.get(
    "/province",
    response_class=HTMLResponse,
    responses={**_HTML, **UNAVAILABLE},
    summary="Every grid of the database, drawn from the vector tiles",
)
def province_map(
    gm: GridmapDep,
    request: Request,
    bands: BandsDep,
) -> HTMLResponse:
    """The grids come from ``/tiles/grids/{z}/{x}/{y}.pbf`` as the map moves (Leaflet
    .VectorGrid, inlined from the local assets), so ~68,000 grids open in seconds; each is
    coloured by household load, and a click links its zone map."""
    m = gm.province_map(target=bands.urban, rural_target=bands.rural, assets=_assets(request))
    return _page(m)


@router.get(
    "/appeals",
    response_class=HTMLResponse,
    responses={**_HTML, **DIVISION_404, **INVALID, **UNAVAILABLE},
    summary="The open appeals (接诉即办) of a street or district on its grids",
)
def appeals_map(
    gm: GridmapDep,
    settings: SettingsDep,
    request: Request,
    division: DivisionParam,
    matter: Annotated[
        str | None,
        Query(max_length=32, description="A matter code, or a category: its matters all."),
    ] = None,
    owner: Annotated[
        str | None,
        Query(max_length=50, examples=["community:220103001001"],
              description="An owner as KIND:CODE, or a code alone."),
    ] = None,
) -> HTMLResponse:  # fmt: skip
    """The grids filled by their open appeals, each open appeal a dot in the colour of its
    light (a layer per light), overdue ones ringed in red; a click gives the appeal's number,
    matter, owner, state, and when it was received and is due. No personal data."""
    m = gm.appeals_map(
        division, matter=matter, owner=owner, tiles_url=settings.tiles_url,
        assets=_assets(request),
    )  # fmt: skip
    return _page(m)


@router.get(
    "/appeals/dashboard",
    response_class=HTMLResponse,
    responses={**_HTML, **DIVISION_404, **INVALID, **UNAVAILABLE},
    summary="A street's or district's appeals dashboard, as a page",
)
def appeals_dashboard(
    gm: GridmapDep,
    division: DivisionParam,
    since: Annotated[datetime | None, Query(description="Count appeals received since.")] = None,
) -> HTMLResponse:
    """Open appeals by light, the totals, overdue, by state and by owner, the median hours to
    sign, handle and close, and the callbacks' satisfaction; linking the CSV export
    (``/v1/appeals/dashboard?format=csv``) and the appeals map. No personal data."""
    query = {"division": division, **({"since": since.isoformat()} if since else {})}
    page = gm.appeals_dashboard_page(
        division, since=since,
        csv_url=f"/v1/appeals/dashboard?{urlencode({**query, 'format': 'csv'})}",
        map_url=f"/maps/appeals?{urlencode({'division': division})}",
    )  # fmt: skip
    return HTMLResponse(page)


@router.get(
    "/search",
    response_class=HTMLResponse,
    responses={**_HTML, 303: {"description": "The grid was found: its zone map."}, **INVALID},
    summary="Which grid am I in? An address, resolved, then its zone map",
)
def search(
    gm: GridmapDep,
    authorised: AuthorisedDep,
    address: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """With an address that resolves to one grid: a redirect to that grid's zone map. Else
    a page with a search box, what was understood, why no grid was found, and the candidate
    grids as links."""
    if not address or not address.strip():
        return HTMLResponse(_search_page("", ""))
    res = gm.resolve_address(address, authorised=authorised)
    if res.grid is not None:
        return RedirectResponse(f"/maps/grids/{res.grid.code}", status_code=303)
    lines = [f"<p>{html.escape(res.message or '没有找到对应的网格 (no grid found)')}</p>"]
    links = [
        f'<li><a href="/maps/grids/{c.grid.code}">{c.grid.code} {html.escape(c.grid.name)}</a>'
        + (f" {html.escape(c.building.id)}" if c.building else "")
        + "</li>"
        for c in res.candidates
        if c.grid is not None
    ]
    if links:
        lines.append("<p>可能的网格 (candidates):</p><ul>" + "".join(links) + "</ul>")
    return HTMLResponse(_search_page(address, "".join(lines)))


def _search_page(address: str, body: str) -> str:
    value = html.escape(address, quote=True)
    return (
        '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">'
        "<title>网格查询</title><style>body{font-family:sans-serif;margin:2em;max-width:40em}"
        "input{width:28em;font-size:1em}</style></head><body><h1>网格查询</h1>"
        '<form action="/maps/search" method="get"><input name="address" '
        f'value="{value}" placeholder="长春市宽城区新发街道明珠花园3栋1单元" autofocus> '
        f'<button type="submit">查询</button></form>{body}</body></html>'
    )


__all__ = ["router"]
