"""Rows of :mod:`gridmap.db.lookup` as result models: grids, buildings and chiefs.

Every chief's phone passes through :func:`gridmap.privacy.shown_phone` here, the one place
where look-up rows become what a caller sees.
"""

from __future__ import annotations

from typing import Any

from gridmap.privacy import shown_phone
from gridmap.results import BuildingRef, Chief, DivisionRef, GridRef

__all__ = ["building_ref", "chief_from_row", "grid_ref"]


def chief_from_row(row: dict[str, Any], prefix: str, authorised: bool) -> Chief | None:
    """The current holder of a post from the ``<prefix>_name/_phone/_since`` columns."""
    name = row.get(f"{prefix}_name")
    if name is None:
        return None
    phone = row.get(f"{prefix}_phone")
    return Chief(
        name=str(name),
        phone=shown_phone(phone, authorised),
        since=row[f"{prefix}_since"],
    )


def _ref(row: dict[str, Any], prefix: str) -> DivisionRef | None:
    code = row.get(f"{prefix}_code")
    return DivisionRef(code=code, name=row[f"{prefix}_name"]) if code else None


def grid_ref(row: dict[str, Any]) -> GridRef | None:
    """A :class:`GridRef` from a row with the grid context columns of :mod:`gridmap.db.lookup`."""
    if not row.get("grid_code"):
        return None
    return GridRef(
        code=row["grid_code"],
        name=row.get("grid_name") or "",
        community=_ref(row, "community"),
        street=_ref(row, "street"),
        county=_ref(row, "county"),
    )


def building_ref(row: dict[str, Any]) -> BuildingRef | None:
    """A :class:`BuildingRef` from a row with the building columns of :mod:`gridmap.db.lookup`."""
    if not row.get("building_id"):
        return None
    return BuildingRef(
        id=row["building_id"],
        road=row.get("road"),
        house_number=row.get("house_number"),
        compound=row.get("compound"),
        building_no=row.get("building_no"),
        community_code=row.get("building_community") or row.get("community_code"),
    )
