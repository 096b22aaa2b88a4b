"""Check an :class:`~gridmap.io.interchange.Interchange` before anything is written.

:func:`validate` reports every problem at once, each naming its layer, row (the 0-based
position of the feature in its layer, as read), field and value, so a user can fix a file
in one pass. It reads nothing and writes nothing. What it checks follows the layer registry
(:mod:`gridmap.io.layers`): required values, keys, whole numbers, dates, allowed values and
references for every layer, then each layer's own hook (:mod:`gridmap.io.checks`).

>>> from gridmap.io.interchange import Interchange
>>> import pandas as pd
>>> data = Interchange.from_frames(units=pd.DataFrame(
...     {"building_id": ["B1"], "unit_no": ["1"], "households": ["abc"]}))
>>> for p in validate(data):
...     print(p)
units row 0 building_id: 'B1' is not a building in the buildings layer
units row 0 households: 'abc' is not a whole number
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.errors import ImportValidationError
from gridmap.geometry import (
    MAX_EDGE_DEG,
    POLYGON_TYPE_IDS,
    POLYGONAL,
    densify_coverage,
    polygonal,
)
from gridmap.io.checks import Context, division_coverage, iso_date
from gridmap.io.layers import LAYERS, LayerSpec
from gridmap.io.problems import (
    PERSONAL,
    Problem,
    is_in,
    mojibake,
    personal,
    text_column,
    text_set,
    values,
)  # fmt: skip

if TYPE_CHECKING:
    from collections.abc import Iterable

    from gridmap.io.interchange import Interchange

__all__ = ["Problem", "mojibake", "validate", "validate_or_raise"]

LOG = logging.getLogger(__name__)

#: the geometry types each spatial layer may hold: the database's columns take no others
#: (a grid given as a point would become an empty boundary)
GEOMETRY_TYPES: dict[str, tuple[str, ...]] = {
    "divisions": POLYGONAL,
    "legacy_grids": POLYGONAL,
    "grids": POLYGONAL,
    "buildings": (*POLYGONAL, "Point", "MultiPoint"),
}

#: the largest whole number the database's integer columns hold
INT_MAX = 2_147_483_647


def validate(
    data: Interchange,
    fix: bool = False,
    known_codes: Iterable[str] = (),
    tolerance_m: float = 2.0,
) -> list[Problem]:
    """Every problem in ``data``, in layer order.

    ``known_codes`` are division codes already in the database, so a file may add
    communities under a street it does not carry. With ``fix=True`` invalid geometries are
    repaired in place with :func:`shapely.make_valid` and reported with severity ``fixed``.
    Buildings may lie up to ``tolerance_m`` outside their community.
    """
    ctx = Context(
        division_codes=frozenset(text_set(data.divisions, "code") | set(known_codes)),
        tolerance_m=tolerance_m,
    )
    out: list[Problem] = []
    out += _check_required(data)
    out += _check_text(data)
    out += _check_geometry(data, fix)
    out += division_coverage(data, fix)
    for spec in LAYERS.values():
        out += _check_layer(data, spec, ctx)
    LOG.info("validated import: %d problem(s)", len(out))
    return out


def densify_divisions(data: Interchange) -> int:
    """Break the divisions' long edges (:func:`gridmap.geometry.densify_coverage`) in place.

    A straight edge of several kilometres in degrees is a curve in metres and on the
    ellipsoid; a grid's vertex put on it (where a grid line meets the community line) would
    move the edge by metres in those measures. Broken into pieces of at most
    ``MAX_EDGE_DEG``, the edge is the same line in every measure, and shared edges get the
    same new vertices on both sides. Shapes do not change. Only townships and villages
    are broken: they are the frames grids follow. The import does this after validating
    (validation itself changes nothing unless asked to fix); returns the edges broken.
    """
    frame = data.divisions
    if not isinstance(frame, gpd.GeoDataFrame) or not len(frame):
        return 0
    geoms = np.asarray(frame.geometry.values, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & shapely.is_valid(geoms)
    # the levels grids follow: villages, and the townships they tile
    ok &= frame["level"].isin(["township", "village"]).fillna(False).to_numpy(dtype=bool)
    dense, broken = densify_coverage(geoms[ok])
    # a point put on an edge is off it by a rounding error: where that makes a ring touch
    # itself, the division keeps its edges as they were
    kept = ~shapely.is_valid(dense)
    if kept.any():
        LOG.warning("divisions: %d kept their long edges (broken, they would be invalid)",
                    int(kept.sum()))  # fmt: skip
        dense[kept] = geoms[ok][kept]
    if broken:
        geoms[ok] = dense
        frame[frame.geometry.name] = gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)
        LOG.info("divisions: %d edge(s) longer than %g° broken into pieces", broken, MAX_EDGE_DEG)
    return int(broken)


def validate_or_raise(
    data: Interchange, fix: bool = False, known_codes: Iterable[str] = ()
) -> list[Problem]:
    """Validate; raise :class:`~gridmap.errors.ImportValidationError` on any error.

    Returns the warnings and fixes, which do not stop an import.
    """
    problems = validate(data, fix=fix, known_codes=known_codes)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ImportValidationError(errors)
    return problems


# ----------------------------------------------------------------------------- per layer


def _check_layer(data: Interchange, spec: LayerSpec, ctx: Context) -> list[Problem]:
    """The registry's rules for one layer, then the layer's own hook."""
    frame = data.layers()[spec.name]
    if not len(frame):
        return []
    out = _duplicates(spec.name, frame, list(spec.key), spec.key_optional)
    for col in spec.columns:
        if col.name not in frame.columns:
            continue
        if col.kind == "int":
            out += _counts(spec.name, frame, col.name)
        elif col.kind == "date":
            out += _dates(spec.name, frame, col.name)
        if col.choices:
            out += _choices(spec.name, frame, col.name, col.choices)
        if col.ref is not None:
            targets: Iterable[str] = (
                ctx.division_codes
                if col.ref.layer == "divisions"
                else text_column(data.layers()[col.ref.layer], col.ref.column)
            )
            out += _unknown(spec.name, frame, col.name, targets, f"is not {col.ref.what}")
    if spec.check is not None:
        out += spec.check(data, ctx)
    return out


def _check_required(data: Interchange) -> list[Problem]:
    out: list[Problem] = []
    for name, frame in data.layers().items():
        for col in LAYERS[name].columns:
            if not col.required or col.name not in frame.columns:
                continue
            missing = frame[col.name].isna().to_numpy()
            for i in np.flatnonzero(missing):
                out.append(Problem(name, int(i), col.name, None, "is empty; a value is required"))
    return out


def _check_text(data: Interchange) -> list[Problem]:
    out: list[Problem] = []
    for name, frame in data.layers().items():
        for col in frame.columns:
            if isinstance(frame, gpd.GeoDataFrame) and col == frame.geometry.name:
                continue
            series = frame[col]
            if pd.api.types.is_numeric_dtype(series.dtype):
                continue
            private = col in PERSONAL.get(name, ())
            bad: dict[str, str] = {}
            for v in pd.unique(series.dropna()):
                if isinstance(v, str) and (not v.isascii() or "\x00" in v):
                    why = mojibake(v, meant=not private)
                    if why:
                        bad[v] = why
            if not bad:
                continue
            hit = series.isin(list(bad)).to_numpy(dtype=bool)
            for i in map(int, np.flatnonzero(hit)):
                v = series.iloc[i]
                why = f"text-encoding error: {bad[v]}"
                if private:
                    out.append(personal(name, frame, i, col, why))
                else:
                    out.append(Problem(name, i, col, v, why))
    return out


def _check_geometry(data: Interchange, fix: bool) -> list[Problem]:
    out: list[Problem] = []
    for name, frame in data.layers().items():
        if not isinstance(frame, gpd.GeoDataFrame):
            continue
        if frame.crs is None and len(frame):
            out.append(
                Problem(
                    name,
                    None,
                    None,
                    None,
                    "unknown CRS: the file declares none; "
                    "give source_crs (e.g. 'EPSG:4490' or 'GCJ02')",
                )
            )
        geoms = np.asarray(frame.geometry.values, dtype=object)
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        need = name != "divisions"
        for i in np.flatnonzero(missing):
            if need:
                out.append(Problem(name, int(i), "geometry", None, "geometry is empty or missing"))
        bad = ~missing & ~shapely.is_valid(geoms)
        for i in np.flatnonzero(bad):
            reason = shapely.is_valid_reason(geoms[i])
            if fix:
                geoms[i] = _repair(geoms[i])
                out.append(
                    Problem(
                        name,
                        int(i),
                        "geometry",
                        None,
                        f"invalid geometry ({reason}) repaired with make_valid",
                        "fixed",
                    )
                )
            else:
                out.append(Problem(name, int(i), "geometry", None, f"invalid geometry: {reason}"))
        if fix and bool(bad.any()):
            frame[frame.geometry.name] = gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)
        out += _geometry_types(name, geoms)
    return out


def _geometry_types(layer: str, geoms: Any) -> list[Problem]:
    allowed = GEOMETRY_TYPES.get(layer)
    if allowed is None or not len(geoms):
        return []
    given = shapely.get_type_id(geoms)
    has = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    ids = [i for i, name in enumerate(_TYPE_NAMES) if name in allowed]
    wrong = has & ~np.isin(given, ids)
    expected = " or ".join([", ".join(allowed[:-1]), allowed[-1]])
    return [
        Problem(
            layer,
            int(i),
            "geometry",
            None,
            f"is a {_TYPE_NAMES[given[i]]}; expected {expected}",
        )
        for i in np.flatnonzero(wrong)
    ]


#: shapely's geometry type ids, in order
_TYPE_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


def _repair(geom: shapely.Geometry) -> shapely.Geometry:
    fixed = shapely.make_valid(geom)
    if shapely.get_type_id(geom) in POLYGON_TYPE_IDS:
        return polygonal(fixed, fallback=fixed)
    return fixed


def _duplicates(
    layer: str, frame: pd.DataFrame, cols: list[str], optional: tuple[str, ...] = ()
) -> list[Problem]:
    if not set(cols) <= set(frame.columns) or not len(frame):
        return []
    # on the columns as they are (a missing value equals a missing value): as Python objects,
    # a province's keys took more memory than the file
    keys = frame[cols]
    required = [c for c in cols if c not in optional]
    dup = keys.duplicated(keep="first") & keys[required].notna().all(axis=1)
    out = []
    for i in map(int, np.flatnonzero(dup.to_numpy())):
        row = keys.iloc[i].astype(object)
        value: Any = row.iloc[0] if len(cols) == 1 else tuple(row.tolist())
        out.append(
            Problem(layer, int(i), "+".join(cols), value, "is a duplicate of an earlier row")
        )
    return out


def _whole(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | np.integer):
        return int(v)
    try:
        f = float(str(v).strip())
    except ValueError:
        return None
    return int(f) if f.is_integer() else None


_TOO_LARGE = f"is too large; expected at most {INT_MAX:,}"


def _counts(layer: str, frame: pd.DataFrame, col: str) -> list[Problem]:
    series = frame[col]
    if pd.api.types.is_integer_dtype(series.dtype):
        out_of_range = ((series < 0) | (series > INT_MAX)).fillna(False).to_numpy(dtype=bool)
        return [
            Problem(
                layer,
                int(i),
                col,
                int(series.iloc[i]),
                "is negative; expected 0 or more" if series.iloc[i] < 0 else _TOO_LARGE,
            )
            for i in np.flatnonzero(out_of_range)
        ]
    out = []
    for i, v in values(frame, col):
        n = _whole(v)
        if n is None:
            out.append(Problem(layer, i, col, v, "is not a whole number"))
        elif n < 0:
            out.append(Problem(layer, i, col, v, "is negative; expected 0 or more"))
        elif n > INT_MAX:
            out.append(Problem(layer, i, col, v, _TOO_LARGE))
    return out


def _dates(layer: str, frame: pd.DataFrame, col: str) -> list[Problem]:
    return [
        Problem(layer, i, col, v, "is not a date (YYYY-MM-DD)")
        for i, v in values(frame, col)
        if iso_date(v) is None
    ]


def _choices(layer: str, frame: pd.DataFrame, col: str, choices: tuple[str, ...]) -> list[Problem]:
    return [
        Problem(layer, i, col, v, f"is not one of {list(choices)}")
        for i, v in values(frame, col)
        if v not in choices
    ]


def _unknown(
    layer: str, frame: pd.DataFrame, col: str, known: Iterable[str], what: str
) -> list[Problem]:
    """A row per value of ``col`` (when set) that is not in ``known``."""
    series = frame[col]
    miss = series.notna().to_numpy(dtype=bool) & ~is_in(series, known)
    return [Problem(layer, int(i), col, series.iloc[i], what) for i in np.flatnonzero(miss)]
