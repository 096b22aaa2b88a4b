"""The one registry of importable layers: every layer of the interchange format, declared once.

Each :class:`LayerSpec` names its columns (with kind, whether required, allowed values and
what they must refer to), its natural key, its geometry, the database table it loads into,
and its layer-specific validation hook. Reading, conforming, validation
(:mod:`gridmap.io.validate`), loading (:mod:`gridmap.db.load`), dumping
(:mod:`gridmap.db.dump`), ``gridmap db status`` and the table in docs/import-format.md
(:func:`markdown_table`) all follow it. Adding a layer is one declaration here, one migration,
a loader and a dump query keyed by its name in ``gridmap/db/``, and one test (README,
"Adding a layer").

Column kinds: ``text`` (pandas ``string``), ``int`` (pandas nullable ``Int64``, whole and
≥ 0) and ``date`` (ISO ``YYYY-MM-DD`` text, pandas ``string``; empty is ``<NA>``).

>>> LAYERS["buildings"].geometry
True
>>> [c.name for c in LAYERS["units"].columns]
['building_id', 'unit_no', 'households']
>>> LAYERS["units"].key, LAYERS["units"].table
(('building_id', 'unit_no'), 'unit')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gridmap.io import checks

if TYPE_CHECKING:
    from gridmap.io.checks import Context
    from gridmap.io.interchange import Interchange
    from gridmap.io.problems import Problem

__all__ = [
    "DIVISION_LEVELS",
    "GRID_KINDS",
    "LAYERS",
    "LAYER_NAMES",
    "LEGACY_LAYERS",
    "ROLES",
    "SHAPEFILE_NAMES",
    "SPATIAL_LAYERS",
    "Column",
    "LayerSpec",
    "column_from_shapefile",
    "markdown_table",
    "shapefile_name",
]

Kind = Literal["text", "int", "date"]
Check = Callable[["Interchange", "Context"], "list[Problem]"]

DIVISION_LEVELS = ("province", "city", "county", "township", "village")
LEGACY_LAYERS = ("party", "governance", "civil")
GRID_KINDS = ("urban", "rural", "special")
ROLES = ("grid_chief", "building_chief", "unit_chief")


@dataclass(frozen=True)
class Ref:
    """The values of a column must be keys of another layer (or, for divisions, known codes)."""

    layer: str
    column: str
    what: str  # how a problem names a missing target: "is not {what}"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"
    required: bool = True
    choices: tuple[str, ...] = ()
    ref: Ref | None = None
    doc: str = ""


@dataclass(frozen=True)
class LayerSpec:
    """One importable layer: what a file holds, how it is checked, where it is stored."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    table: str
    geometry: bool
    geometry_doc: str = "none"
    geometry_required: bool = True
    key_optional: tuple[str, ...] = ()
    check: Check | None = None
    doc: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


COMMUNITY = Ref("divisions", "code", "a known community or village")
BUILDING = Ref("buildings", "building_id", "a building in the buildings layer")
PERSON = Ref("people", "person_id", "a person in the people layer")


def _c(
    name: str,
    kind: Kind = "text",
    required: bool = True,
    choices: tuple[str, ...] = (),
    ref: Ref | None = None,
    doc: str = "",
) -> Column:
    return Column(name, kind, required, choices, ref, doc)


LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        LayerSpec(
            "divisions",
            (
                _c("code", doc="12 digits"),
                _c("name", doc="everyday name: 长通街道, 龙兴社区, 黑鱼村"),
                _c("level", choices=DIVISION_LEVELS),
                _c("parent_code", required=False),
                _c("official_name", required=False, doc="NBS form: 长通街道办事处, 黑鱼村委会"),
                _c("aliases", required=False, doc="other names, separated by `\\|`"),
            ),
            key=("code",),
            table="division",
            geometry=True,
            geometry_doc="MultiPolygon; required for `township` and `village`, optional above",
            geometry_required=False,
            check=checks.divisions,
        ),
        LayerSpec(
            "legacy_grids",
            (
                _c("layer", choices=LEGACY_LAYERS, doc="党建, 综治, 民政"),
                _c("source_code", doc="text, in the department's own style"),
                _c("name", required=False),
                _c("community_code", required=False, ref=COMMUNITY),
            ),
            key=("layer", "community_code", "source_code"),
            key_optional=("community_code",),
            table="legacy_grid",
            geometry=True,
            geometry_doc="Polygon/MultiPolygon",
        ),
        LayerSpec(
            "grids",
            (
                _c("code", doc="15 digits = community code + serial 001-999"),
                _c("name", required=False),
                _c("community_code", ref=COMMUNITY),
                _c("kind", choices=GRID_KINDS),
            ),
            key=("code",),
            table="grid",
            geometry=True,
            geometry_doc="Polygon/MultiPolygon",
            check=checks.grids,
            doc="optional: an already unified set",
        ),
        LayerSpec(
            "buildings",
            (
                _c("building_id", doc="text, unique in the file, kept as the external id"),
                _c("community_code", ref=COMMUNITY),
                _c("road", required=False),
                _c("house_number", required=False, doc='text: "88", "88-2", "甲88号"'),
                _c("compound", required=False, doc="小区, or a 屯 where no hamlet is given"),
                _c("hamlet", required=False, doc="屯, for rural houses"),
                _c("group_no", required=False, doc="村民小组"),
                _c("building_no", required=False, doc='text: "3", "A"'),
                _c("households", "int"),
                _c("floors", "int", required=False),
            ),
            key=("building_id",),
            table="building",
            geometry=True,
            geometry_doc="Polygon footprint or Point",
            check=checks.buildings,
        ),
        LayerSpec(
            "units",
            (
                _c("building_id", ref=BUILDING),
                _c("unit_no", doc="text"),
                _c("households", "int"),
            ),
            key=("building_id", "unit_no"),
            table="unit",
            geometry=False,
            check=checks.units,
        ),
        LayerSpec(
            "people",
            (_c("person_id"), _c("name"), _c("phone", required=False, doc="personal data")),
            key=("person_id",),
            table="person",
            geometry=False,
            check=checks.people,
        ),
        LayerSpec(
            "assignments",
            (
                _c("person_id", ref=PERSON),
                _c("role", choices=ROLES),
                _c("grid_code", required=False, doc="grid chiefs"),
                _c("building_id", required=False, doc="building and unit chiefs"),
                _c("unit_no", required=False, doc="unit chiefs"),
                _c("since", "date"),
                _c("until", "date", required=False, doc="empty = current"),
            ),
            key=("person_id", "role", "grid_code", "building_id", "unit_no", "since"),
            key_optional=("grid_code", "building_id", "unit_no"),
            table="assignment",
            geometry=False,
            check=checks.assignments,
        ),
    )
}

LAYER_NAMES: tuple[str, ...] = tuple(LAYERS)
SPATIAL_LAYERS: tuple[str, ...] = tuple(n for n, s in LAYERS.items() if s.geometry)

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


def _column_doc(c: Column) -> str:
    notes = []
    if c.choices:
        notes.append("\\|".join(f"`{v}`" for v in c.choices))
    if c.kind == "int":
        notes.append("whole number ≥ 0")
    elif c.kind == "date":
        notes.append("date `YYYY-MM-DD`")
    if c.doc:
        notes.append(c.doc)
    return f"`{c.name}`" + (f" ({'; '.join(notes)})" if notes else "")


def markdown_table() -> str:
    """The layers table of docs/import-format.md, made from the registry (a test checks it).

    >>> markdown_table().splitlines()[0]
    '| layer | required fields | optional fields | key (unique in a file) | geometry |'
    """
    rows = [
        "| layer | required fields | optional fields | key (unique in a file) | geometry |",
        "|---|---|---|---|---|",
    ]
    for spec in LAYERS.values():
        title = f"`{spec.name}`" + (f" ({spec.doc})" if spec.doc else "")
        required = ", ".join(_column_doc(c) for c in spec.columns if c.required)
        optional = ", ".join(_column_doc(c) for c in spec.columns if not c.required)
        key = " + ".join(f"`{k}`" for k in spec.key)
        rows.append(f"| {title} | {required} | {optional or '–'} | {key} | {spec.geometry_doc} |")
    return "\n".join(rows)
