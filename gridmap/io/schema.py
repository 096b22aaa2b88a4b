"""The layers and columns of the gridmap interchange format (see docs/import-format.md).

Column kinds: ``text`` (pandas ``string``), ``int`` (pandas nullable ``Int64``) and ``date``
(ISO ``YYYY-MM-DD`` text, pandas ``string``; empty is ``<NA>``).

>>> LAYERS["buildings"].geometry
True
>>> [c.name for c in LAYERS["units"].columns]
['building_id', 'unit_no', 'households']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "int", "date"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"
    required: bool = True


@dataclass(frozen=True)
class LayerSpec:
    name: str
    columns: tuple[Column, ...]
    geometry: bool

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, kind: Kind = "text", required: bool = True) -> Column:
    return Column(name, kind, required)


LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        LayerSpec(
            "divisions",
            (
                _c("code"),
                _c("name"),
                _c("level"),
                _c("parent_code", required=False),
                _c("official_name", required=False),
                _c("aliases", required=False),
            ),
            True,
        ),
        LayerSpec(
            "legacy_grids",
            (
                _c("layer"),
                _c("source_code"),
                _c("name", required=False),
                _c("community_code", required=False),
            ),
            True,
        ),
        LayerSpec(
            "grids",
            (_c("code"), _c("name", required=False), _c("community_code"), _c("kind")),
            True,
        ),
        LayerSpec(
            "buildings",
            (
                _c("building_id"),
                _c("community_code"),
                _c("road", required=False),
                _c("house_number", required=False),
                _c("compound", required=False),
                _c("hamlet", required=False),
                _c("group_no", required=False),
                _c("building_no", required=False),
                _c("households", "int"),
                _c("floors", "int", required=False),
            ),
            True,
        ),
        LayerSpec("units", (_c("building_id"), _c("unit_no"), _c("households", "int")), False),
        LayerSpec("people", (_c("person_id"), _c("name"), _c("phone", required=False)), False),
        LayerSpec(
            "assignments",
            (
                _c("person_id"),
                _c("role"),
                _c("grid_code", required=False),
                _c("building_id", required=False),
                _c("unit_no", required=False),
                _c("since", "date"),
                _c("until", "date", required=False),
            ),
            False,
        ),
    )
}

LAYER_NAMES: tuple[str, ...] = tuple(LAYERS)
SPATIAL_LAYERS: tuple[str, ...] = tuple(n for n, s in LAYERS.items() if s.geometry)

DIVISION_LEVELS = ("province", "city", "county", "township", "village")
LEGACY_LAYERS = ("party", "governance", "civil")
GRID_KINDS = ("urban", "rural", "special")
ROLES = ("grid_chief", "building_chief", "unit_chief")

#: Shapefile field names are at most 10 characters; these are written instead
SHAPEFILE_NAMES: dict[str, str] = {
    "community_code": "comm_code",
    "parent_code": "parent",
    "official_name": "offic_name",
    "source_code": "src_code",
    "house_number": "house_no",
    "building_id": "bldg_id",
    "building_no": "bldg_no",
}


def shapefile_name(column: str) -> str:
    """The Shapefile (DBF) field name of ``column``.

    >>> shapefile_name("community_code"), shapefile_name("road")
    ('comm_code', 'road')
    """
    return SHAPEFILE_NAMES.get(column, column[:10])


def column_from_shapefile(field: str) -> str:
    """The interchange column a Shapefile field stands for (short or GDAL-truncated names).

    >>> column_from_shapefile("comm_code"), column_from_shapefile("community_")
    ('community_code', 'community_code')
    """
    for long, short in SHAPEFILE_NAMES.items():
        if field in (short, long[:10]):
            return long
    return field
