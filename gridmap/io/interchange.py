"""The interchange format in memory: one frame per registered layer, with the registry's dtypes.

Files are read and written by :mod:`gridmap.io.files`; the format is documented for users in
``docs/import-format.md``.

>>> data = Interchange()
>>> list(data.layers())
['divisions', 'legacy_grids', 'grids', 'buildings', 'units', 'people', 'assignments']
>>> str(data.buildings["households"].dtype)
'Int64'
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmap.crs import STORAGE
from gridmap.errors import InvalidInput
from gridmap.io.layers import (
    LAYER_NAMES,
    LAYERS,
    LayerSpec,
)

LOG = logging.getLogger(__name__)


def _empty(name: str) -> pd.DataFrame:
    spec = LAYERS[name]
    frame = pd.DataFrame({c: pd.Series(dtype=_dtype(k)) for c, k in _kinds(spec)})
    if spec.geometry:
        geo: pd.DataFrame = gpd.GeoDataFrame(
            frame, geometry=gpd.GeoSeries([], crs=STORAGE), crs=STORAGE
        )
        return geo
    return frame


def _kinds(spec: LayerSpec) -> list[tuple[str, str]]:
    return [(c.name, c.kind) for c in spec.columns]


def _dtype(kind: str) -> str:
    return "Int64" if kind == "int" else "string"


@dataclass
class Interchange:
    """One import or export: a frame per layer, named as the layers are.

    Spatial layers (``divisions``, ``legacy_grids``, ``grids``, ``buildings``) are
    GeoDataFrames in EPSG:4490 with a ``geometry`` column; ``units``, ``people`` and
    ``assignments`` are DataFrames. Columns are those of :data:`gridmap.io.layers.LAYERS`,
    in that order, then any extra columns the file carried. Text is pandas ``string``,
    counts are ``Int64``, dates are ISO text. A value that cannot take its column's dtype
    (households ``'abc'``) is kept as text so validation can name it.
    """

    divisions: gpd.GeoDataFrame = field(default_factory=lambda: _empty("divisions"))
    legacy_grids: gpd.GeoDataFrame = field(default_factory=lambda: _empty("legacy_grids"))
    grids: gpd.GeoDataFrame = field(default_factory=lambda: _empty("grids"))
    buildings: gpd.GeoDataFrame = field(default_factory=lambda: _empty("buildings"))
    units: pd.DataFrame = field(default_factory=lambda: _empty("units"))
    people: pd.DataFrame = field(default_factory=lambda: _empty("people"))
    assignments: pd.DataFrame = field(default_factory=lambda: _empty("assignments"))

    def layers(self) -> dict[str, pd.DataFrame]:
        """The frames by layer name, in the documented order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def counts(self) -> dict[str, int]:
        """Rows per layer.

        >>> Interchange().counts()["buildings"]
        0
        """
        return {name: len(frame) for name, frame in self.layers().items()}

    @classmethod
    def from_frames(cls, **frames: pd.DataFrame) -> Interchange:
        """An Interchange from frames by layer name; columns are brought to the schema."""
        unknown = set(frames) - set(LAYER_NAMES)
        if unknown:
            raise InvalidInput(
                f"unknown layer(s) {sorted(unknown)!r}: expected some of {list(LAYER_NAMES)!r}"
            )
        return cls(**{name: conform(name, frame) for name, frame in frames.items()})


def _as_text(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return pd.NA
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    text = str(value)
    return pd.NA if text == "" else text


def _is_text(series: pd.Series) -> bool:
    """Whether ``series`` holds text only, in a text dtype (not Python objects of any kind)."""
    return series.dtype != object and pd.api.types.is_string_dtype(series.dtype)


def _to_int(series: pd.Series) -> pd.Series:
    """Series as Int64 if every value is a whole number (or empty); else unchanged text."""
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.astype("Int64")
    text = series.map(_as_text).astype("string").str.strip()
    nums = pd.to_numeric(text, errors="coerce")
    bad = text.notna() & (nums.isna() | (nums % 1 != 0))
    if bool(bad.any()):
        return text
    return nums.astype("Int64")


def conform(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the columns and dtypes of layer ``name`` (extra columns kept, last)."""
    spec = LAYERS[name]
    out = frame.copy()
    for col, kind in _kinds(spec):
        if col not in out.columns:
            out[col] = pd.Series(pd.NA, index=out.index, dtype=_dtype(kind))
        elif kind == "int":
            out[col] = _to_int(out[col])
        elif _is_text(out[col]):
            # text already (as read through Arrow): only empty text becomes missing, with no
            # Python string made per cell
            text = out[col].astype("string")
            out[col] = text.mask((text == "").fillna(False))
        else:
            out[col] = out[col].map(_as_text).astype("string")
    geom = [out.geometry.name] if isinstance(out, gpd.GeoDataFrame) else []
    extra = [c for c in out.columns if c not in spec.column_names and c not in geom]
    out = out[[*spec.column_names, *extra, *geom]]
    if spec.geometry and not isinstance(out, gpd.GeoDataFrame):
        out = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries([None] * len(out), index=out.index))
    if not spec.geometry and isinstance(out, gpd.GeoDataFrame):
        out = pd.DataFrame(out.drop(columns=out.geometry.name))
    return out.reset_index(drop=True)


__all__ = ["Interchange", "conform"]
