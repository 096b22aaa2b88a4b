"""What resolution and look-ups return: the grid, its place and the three chiefs.

These are pydantic models so that the library, the CLI and the HTTP API share one
definition (and the API's OpenAPI schema is the library's own). They hold no behaviour.

Phones in them are already as the caller may see them: masked (``138****5678``) unless the
caller was authorised, by :func:`gridmap.privacy.shown_phone` (the one home of that rule).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MatchLevel = Literal[
    "unit", "building", "compound", "community", "township", "county", "grid", "none"
]
Status = Literal["ok", "not_found", "ambiguous"]
Reason = Literal[
    "outside_coverage", "unknown_division", "unknown_compound", "unknown_building",
    "unknown_house_number", "no_place", "several_divisions", "several_compounds",
    "several_buildings", "several_villages", "several_grids", "not_in_grid",
]  # fmt: skip
#: what each :data:`Reason` means (docs/resolve.md and the OpenAPI schema say the same)
REASONS: dict[str, str] = {
    "outside_coverage": "a division written in the address is a known place this service "
    "does not hold (another district, city or province)",
    "unknown_division": "a name written as a division (…省, …市, …区, …县) is not one this "
    "service knows",
    "unknown_compound": "no compound, hamlet or road of that name in the written divisions",
    "unknown_building": "the compound or hamlet is known, but not that building or house number",
    "unknown_house_number": "the road is known, but not that house number",
    "no_place": "the address names divisions only, or nothing this service knows",
    "several_divisions": "a division name fits several divisions",
    "several_compounds": "several compounds of that name fit",
    "several_buildings": "several buildings fit equally well",
    "several_villages": "the same group and house number exist in several villages",
    "several_grids": "the place found spans several grids",
    "not_in_grid": "the building lies in no current grid",
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Chief(_Model):
    """The person holding a post now. Phone masked unless the caller is authorised."""

    name: str = Field(examples=["王丽"])
    phone: str | None = Field(default=None, examples=["139****5678"])
    since: date = Field(examples=["2024-03-01"])


class DivisionRef(_Model):
    code: str = Field(examples=["220103001001"])
    name: str = Field(examples=["明珠社区"])


class GridRef(_Model):
    """A current grid and the divisions it lies in."""

    code: str = Field(examples=["220103001001001"])
    name: str = Field(examples=["明珠社区第一网格"])
    community: DivisionRef | None = None
    street: DivisionRef | None = Field(default=None, description="The township or street.")
    county: DivisionRef | None = None


class BuildingRef(_Model):
    id: str = Field(description="The building's external id.", examples=["B-000123"])
    road: str | None = Field(default=None, examples=["人民大街"])
    house_number: str | None = Field(default=None, examples=["1234"])
    compound: str | None = Field(default=None, examples=["明珠花园"])
    building_no: str | None = Field(default=None, examples=["3"])
    community_code: str | None = None


class UnitRef(_Model):
    unit_no: str = Field(examples=["1"])


class Candidate(_Model):
    """One of several equally good answers; none of them is returned as the grid."""

    grid: GridRef | None = None
    building: BuildingRef | None = None
    compound: str | None = None
    score: float = Field(ge=0, le=1)


class Nearest(_Model):
    """The grid nearest to a point that lies in no grid."""

    grid: GridRef
    distance_m: float = Field(ge=0, description="Geodesic distance to the grid's edge.")


class LonLat(_Model):
    lon: float
    lat: float


_RESOLUTION_EXAMPLE: dict[str, Any] = {
    "status": "ok",
    "match_level": "unit",
    "confidence": 0.98,
    "grid": {
        "code": "220103001001001",
        "name": "新发社区第一网格",
        "community": {"code": "220103001001", "name": "新发社区"},
        "street": {"code": "220103001000", "name": "新发街道"},
        "county": {"code": "220103000000", "name": "宽城区"},
    },
    "grid_chief": {"name": "王丽", "phone": "139****5678", "since": "2024-01-01"},
    "building_chief": {"name": "李强", "phone": "137****4321", "since": "2024-01-01"},
    "unit_chief": None,
    "building": {
        "id": "B-MZ-3",
        "road": "人民大街",
        "house_number": "1234",
        "compound": "明珠花园",
        "building_no": "3",
        "community_code": "220103001001",
    },
    "unit": {"unit_no": "2"},
    "division": {"code": "220103001000", "name": "新发街道"},
    "candidates": [],
    "nearest": None,
    "on_boundary": False,
    "location": None,
    "parsed": {
        "county": "宽城区",
        "township": "新发街道",
        "compound": "明珠花园",
        "building": "3",
        "unit": "2",
    },
    "notes": [],
}


class Resolution(_Model):
    """The answer for one address or point.

    ``grid`` is set only when the answer is certain enough to act on. When several answers
    fit equally well ``status`` is ``ambiguous``, ``grid`` is null and ``candidates`` lists
    them. ``match_level`` is the finest level matched: unit, building, compound, community,
    township, county or none for addresses; building, grid or none for points.
    """

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [_RESOLUTION_EXAMPLE]})

    status: Status
    match_level: MatchLevel
    confidence: float = Field(ge=0, le=1)
    grid: GridRef | None = None
    grid_chief: Chief | None = None
    building_chief: Chief | None = None
    unit_chief: Chief | None = None
    building: BuildingRef | None = None
    unit: UnitRef | None = None
    division: DivisionRef | None = Field(
        default=None, description="The finest division matched (for answers above grid level)."
    )
    candidates: list[Candidate] = Field(default_factory=list)
    nearest: Nearest | None = None
    on_boundary: bool = Field(
        default=False,
        description="The point lies on an edge shared by several grids; the lowest code wins.",
    )
    location: LonLat | None = Field(
        default=None,
        description="The point looked up, or for an address the building's (or compound's) "
        "representative point, in the requested CRS.",
    )
    reason: Reason | None = Field(
        default=None,
        description="Why no grid is given (not_found, ambiguous), or why the answer is "
        "coarser than the address (a compound's grid for an unknown building): "
        + "; ".join(f"`{k}`: {v}" for k, v in REASONS.items()),
    )
    message: str | None = Field(
        default=None, description="The reason in words, naming the value it concerns."
    )
    parsed: dict[str, str] | None = Field(
        default=None, description="The address components the parser found."
    )
    notes: list[str] = Field(default_factory=list)


class UnitDetail(_Model):
    unit_no: str
    households: int
    unit_chief: Chief | None = None


class BuildingDetail(_Model):
    """A building with its grid, its chief and its units with theirs."""

    building: BuildingRef
    community: DivisionRef | None = None
    households: int
    floors: int | None = None
    location: LonLat
    grid: GridRef | None = None
    grid_chief: Chief | None = None
    building_chief: Chief | None = None
    units: list[UnitDetail] = Field(default_factory=list)


class GridProperties(_Model):
    code: str
    name: str
    kind: str
    households: int = Field(description="Households recorded on the grid.")
    buildings: int = Field(description="Buildings whose point lies in the grid.")
    building_households: int = Field(description="Households of those buildings.")
    community: DivisionRef | None = None
    street: DivisionRef | None = None
    county: DivisionRef | None = None
    grid_chief: Chief | None = None
    generation: int


class GridFeature(_Model):
    """A current grid as a GeoJSON Feature, geometry in lon/lat (EPSG:4490 ≈ WGS84)."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict[str, Any] | None
    properties: GridProperties


class GridCollection(_Model):
    """One page of grids as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[GridFeature]
    total: int = Field(description="How many grids match in all pages.")
    limit: int
    offset: int


class Division(_Model):
    code: str = Field(examples=["220103001000"])
    name: str = Field(examples=["新发街道"])
    official_name: str | None = None
    level: Literal["province", "city", "county", "township", "village"]
    parent: DivisionRef | None = None
    kind: str | None = None
    aliases: list[str] = Field(default_factory=list)
    children: int = Field(description="How many divisions lie directly under it.")
