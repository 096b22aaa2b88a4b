"""Unified division and grid codes: parse, validate, compose and explain.

Division codes are the 12-digit statistical division codes (统计用区划代码)::

    province 2 + city 2 + county 2 + township 3 + village 3

Grid codes are 15 digits: the 12-digit code of the community or village a grid belongs to,
followed by a 3-digit serial 001-999. Serials are given in reading order (rows north to
south, west to east within a row) and are never reused after a grid retires.

This package is pure: no I/O. :mod:`~gridmap.codes.divisions`, :mod:`~gridmap.codes.grids`
and :mod:`~gridmap.codes.explain` hold the three ideas; everything is importable from here.

>>> parse_division_code("220102005004").level
'village'
>>> parse_division_code("220102005000").township_kind
'street'
>>> compose_grid_code("220102005004", 1)
'220102005004001'
>>> parse_grid_code("220102005004001").serial
1
"""

from gridmap.codes.divisions import (
    GROUPS,
    LEVEL_LABEL,
    LEVELS,
    PROVINCE_CODES,
    TOWNSHIP_KIND_LABEL,
    VILLAGE_KIND_LABEL,
    DivisionCode,
    Level,
    TownshipKind,
    VillageKind,
    code_prefix,
    compose_division_code,
    division_kind,
    division_level,
    is_descendant,
    is_division_code,
    parent_code,
    parse_division_code,
    township_kind_of,
    village_kind_of,
)
from gridmap.codes.explain import (
    ExplainedPart,
    explain,
    explain_text,
)
from gridmap.codes.grids import (
    GridCode,
    compose_grid_code,
    is_grid_code,
    next_serials,
    parse_grid_code,
    reading_order,
)

__all__ = [
    "GROUPS",
    "LEVELS",
    "LEVEL_LABEL",
    "PROVINCE_CODES",
    "TOWNSHIP_KIND_LABEL",
    "VILLAGE_KIND_LABEL",
    "DivisionCode",
    "ExplainedPart",
    "GridCode",
    "Level",
    "TownshipKind",
    "VillageKind",
    "code_prefix",
    "compose_division_code",
    "compose_grid_code",
    "division_kind",
    "division_level",
    "explain",
    "explain_text",
    "is_descendant",
    "is_division_code",
    "is_grid_code",
    "next_serials",
    "parent_code",
    "parse_division_code",
    "parse_grid_code",
    "reading_order",
    "township_kind_of",
    "village_kind_of",
]
