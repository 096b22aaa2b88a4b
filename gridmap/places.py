"""Look up grids, divisions and buildings by their codes and ids.

The same calls serve the HTTP API, the CLI and the tests. Unknown keys raise the specific
:mod:`gridmap.errors` class naming the key (``UnknownGridCode("220103001001999")``);
malformed ones raise :class:`~gridmap.errors.InvalidCode` from :mod:`gridmap.codes`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gridmap.codes import code_prefix, parse_division_code, parse_grid_code
from gridmap.db import lookup
from gridmap.errors import InvalidInput, UnknownBuilding, UnknownDivision, UnknownGridCode
from gridmap.resolve.rows import building_ref, chief_from_row, grid_ref
from gridmap.results import (
    BuildingDetail,
    Division,
    DivisionRef,
    GridCollection,
    GridFeature,
    GridProperties,
    LonLat,
    UnitDetail,
)

if TYPE_CHECKING:
    import psycopg

    Conn = psycopg.Connection[Any]
else:
    Conn = Any

__all__ = [
    "building",
    "division",
    "division_children",
    "division_names",
    "grid",
    "grids_within",
]

#: the largest page :func:`grids_within` serves
MAX_PAGE = 1000


def _feature(row: dict[str, Any], authorised: bool) -> GridFeature:
    ref = grid_ref(row)
    assert ref is not None
    return GridFeature(
        id=ref.code,
        geometry=json.loads(row["geometry"]) if row.get("geometry") else None,
        properties=GridProperties(
            code=ref.code,
            name=ref.name,
            kind=row["grid_kind"],
            households=int(row["households"]),
            buildings=int(row["buildings"] or 0),
            building_households=int(row["building_households"] or 0),
            community=ref.community,
            street=ref.street,
            county=ref.county,
            grid_chief=chief_from_row(row, "grid_chief", authorised),
            generation=int(row["generation_low"]),
        ),
    )


def grid(conn: Conn, code: str, authorised: bool = False) -> GridFeature:
    """A current grid as a GeoJSON Feature with its chief, households and divisions."""
    parse_grid_code(code)
    rows = lookup.grids(conn, [code])
    if not rows:
        raise UnknownGridCode(code)
    return _feature(rows[0], authorised)


def grids_within(
    conn: Conn, division_code: str, limit: int = 100, offset: int = 0, authorised: bool = False
) -> GridCollection:
    """One page of the current grids inside a division, as a FeatureCollection."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit {limit} is outside 1..{MAX_PAGE}", field="limit")
    if offset < 0:
        raise InvalidInput(f"offset {offset} is negative", field="offset")
    parse_division_code(division_code)
    if lookup.division(conn, division_code) is None:
        raise UnknownDivision(division_code)
    codes, total = lookup.grid_codes_within(conn, code_prefix(division_code), limit, offset)
    rows = lookup.grids(conn, codes) if codes else []
    return GridCollection(
        features=[_feature(r, authorised) for r in rows], total=total, limit=limit, offset=offset
    )


def _division(row: dict[str, Any]) -> Division:
    parent = (
        DivisionRef(code=row["parent_code"], name=row["parent_name"])
        if row.get("parent_code")
        else None
    )
    return Division(
        code=row["code"],
        name=row["name"],
        official_name=row.get("official_name"),
        level=row["level"],
        parent=parent,
        kind=row.get("kind"),
        aliases=list(row.get("aliases") or []),
        children=int(row["children"]),
    )


def division(conn: Conn, code: str) -> Division:
    """One division with its parent, aliases and number of children."""
    parse_division_code(code)
    row = lookup.division(conn, code)
    if row is None:
        raise UnknownDivision(code)
    return _division(row)


def division_children(conn: Conn, code: str) -> list[Division]:
    """The divisions directly under ``code`` (empty for a village)."""
    parse_division_code(code)
    if lookup.division(conn, code) is None:
        raise UnknownDivision(code)
    return [_division(r) for r in lookup.division_children(conn, code)]


def building(conn: Conn, external_id: str, authorised: bool = False) -> BuildingDetail:
    """A building by its external id, with its grid, chiefs and units."""
    row = lookup.building_by_external_id(conn, external_id)
    if row is None:
        raise UnknownBuilding(external_id)
    ref = building_ref(row)
    assert ref is not None
    community = (
        DivisionRef(code=row["building_community"], name=row["building_community_name"])
        if row.get("building_community_name")
        else None
    )
    return BuildingDetail(
        building=ref,
        community=community,
        households=int(row["building_households"]),
        floors=row.get("floors"),
        location=LonLat(lon=row["building_lon"], lat=row["building_lat"]),
        grid=grid_ref(row),
        grid_chief=chief_from_row(row, "grid_chief", authorised),
        building_chief=chief_from_row(row, "building_chief", authorised),
        units=[
            UnitDetail(
                unit_no=u["unit_no"],
                households=int(u["households"]),
                unit_chief=chief_from_row(u, "unit_chief", authorised),
            )
            for u in row["units"]
        ],
    )


def division_names(conn: Conn, code: str) -> dict[str, str]:
    """Names of the divisions a division or grid code passes through, keyed by 12-digit code."""
    div = parse_division_code(code[:12])
    return lookup.division_names(conn, [*div.ancestors(), div.code])
