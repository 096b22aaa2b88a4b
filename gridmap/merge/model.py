"""Options and result types of the 多网合一 merge."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gridmap.errors import InvalidInput

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import geopandas as gpd
    import pandas as pd

LAYERS: tuple[str, ...] = ("governance", "civil", "party")
MEASURE_CRS = "EPSG:4551"
STORE_CRS = "EPSG:4490"


@dataclass(frozen=True)
class MergeOptions:
    """Tuning of the merge; the defaults are argued for in ``docs/merge.md``.

    >>> MergeOptions().layer_priority
    ('governance', 'civil', 'party')
    >>> MergeOptions(households_min=600).validate()
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidInput: households_min 600 must not exceed households_max 500
    """

    #: vertices of legacy grids closer than this (m) to the frame or a higher layer are snapped
    snap_tolerance: float = 10.0
    #: pieces smaller than this (m²) are slivers and merge into a neighbour
    sliver_area: float = 200.0
    #: pieces thinner than this (m, mean width 2·area/perimeter) are slivers too
    sliver_width: float = 35.0
    #: target households per urban grid
    households_min: int = 300
    households_max: int = 500
    #: the first layer wins where layers overlap
    layer_priority: tuple[str, ...] = LAYERS
    #: serials ever used, per 12-digit community code; new codes continue after them
    used_serials: Mapping[str, Sequence[int]] = field(default_factory=dict)
    #: coordinates are rounded to this grid (m) when linework is noded
    grid_size: float = 0.001
    #: worker processes; 1 runs in this process
    workers: int = 1

    def validate(self) -> MergeOptions:
        """Raise :class:`InvalidInput` naming the first bad option; return self."""
        if self.households_min > self.households_max:
            raise InvalidInput(
                f"households_min {self.households_min} must not exceed "
                f"households_max {self.households_max}"
            )
        for name in ("snap_tolerance", "sliver_area", "sliver_width", "grid_size"):
            value = getattr(self, name)
            if not value >= 0:
                raise InvalidInput(f"{name} {value!r} must be a number >= 0")
        if self.grid_size <= 0:
            raise InvalidInput(f"grid_size {self.grid_size!r} must be > 0")
        if sorted(self.layer_priority) != sorted(set(self.layer_priority)) or not set(
            self.layer_priority
        ) <= set(LAYERS):
            raise InvalidInput(
                f"layer_priority {self.layer_priority!r} must order distinct layers of {LAYERS}"
            )
        if self.workers < 1:
            raise InvalidInput(f"workers {self.workers!r} must be >= 1")
        return self


@dataclass
class MergeResult:
    """The unified grids, where every building went, the legacy crosswalk and a QA report.

    ``grids``: ``code`` (15 digits), ``name``, ``community_code``, ``kind``
    (urban|rural|special), ``households``, geometry, in the input CRS.
    ``assignment``: ``building_id`` -> ``grid_code``, one row per building.
    ``crosswalk``: ``layer``, ``source_code``, ``legacy_index`` (the legacy grid's row
    label in the input), ``grid_code``, ``area_share``, ``household_share``; per legacy
    grid the area shares plus the share outside every community
    (``report["legacy_outside"]``) sum to 1.
    ``report``: JSON-serialisable, see :func:`gridmap.merge.render_report_markdown`.
    """

    grids: gpd.GeoDataFrame
    assignment: pd.DataFrame
    crosswalk: pd.DataFrame
    report: dict[str, Any]


@dataclass
class Feature:
    """A gap, overlap or sliver for the report's map, in EPSG:4551."""

    kind: str
    layer: str | None
    geometry: Any
    area_m2: float
