"""Check an :class:`~gridmap.io.interchange.Interchange` before anything is written.

:func:`validate` reports every problem at once, each naming its layer, row (the 0-based
position of the feature in its layer, as read), field and value, so a user can fix a file
in one pass. It reads nothing and writes nothing.

>>> from gridmap.io.interchange import Interchange
>>> import pandas as pd
>>> data = Interchange.from_frames(units=pd.DataFrame(
...     {"building_id": ["B1"], "unit_no": ["1"], "households": ["abc"]}))
>>> for p in validate(data):
...     print(p)
units row 0 households: 'abc' is not a whole number
units row 0 building_id: 'B1' is not a building in the buildings layer
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.codes import parent_code, parse_division_code, parse_grid_code
from gridmap.errors import ImportValidationError, InvalidCode
from gridmap.geometry import POLYGON_TYPE_IDS, polygonal
from gridmap.io.interchange import Interchange
from gridmap.io.schema import DIVISION_LEVELS, GRID_KINDS, LAYERS, LEGACY_LAYERS, ROLES

LOG = logging.getLogger(__name__)

Severity = Literal["error", "warning", "fixed"]

#: degrees per metre of latitude, for the small tolerance of point-in-community checks
_DEG_PER_M = 1.0 / 111_320.0


@dataclass(frozen=True)
class Problem:
    """One problem in an import: where it is, what the value was, and what was expected.

    >>> str(Problem("buildings", 12, "households", "abc", "is not a whole number"))
    "buildings row 12 households: 'abc' is not a whole number"
    >>> str(Problem("divisions", None, None, None, "unknown CRS: the file declares none"))
    'divisions: unknown CRS: the file declares none'
    """

    layer: str
    row: int | None
    field: str | None
    value: Any
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.layer if self.row is None else f"{self.layer} row {self.row}"
        if self.field is not None:
            where += f" {self.field}"
        what = self.message if self.value is None else f"{self.value!r} {self.message}"
        prefix = "fixed: " if self.severity == "fixed" else ""
        return f"{where}: {prefix}{what}"


def _present(v: Any) -> bool:
    return v is not None and v is not pd.NA and not (isinstance(v, float) and np.isnan(v))


def _values(frame: pd.DataFrame, col: str) -> Iterator[tuple[int, Any]]:
    if col not in frame.columns:
        return
    for i, v in enumerate(frame[col].tolist()):
        if _present(v):
            yield i, v


def _text_set(frame: pd.DataFrame, col: str) -> set[str]:
    if col not in frame.columns:
        return set()
    return set(frame[col].dropna().astype(str).tolist())


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
    known = set(known_codes)
    out: list[Problem] = []
    out += _check_required(data)
    out += _check_text(data)
    out += _check_geometry(data, fix)
    out += _check_divisions(data.divisions, known)
    div_codes = _text_set(data.divisions, "code") | known
    out += _check_grids(data.grids, div_codes)
    out += _check_legacy(data.legacy_grids, div_codes)
    out += _check_buildings(data, div_codes, tolerance_m)
    out += _check_units(data)
    out += _check_people(data.people)
    out += _check_assignments(data)
    LOG.info("validated import: %d problem(s)", len(out))
    return out


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


# ----------------------------------------------------------------------------- checks


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


def mojibake(text: str) -> str | None:
    """Why ``text`` looks wrongly decoded, or None.

    Catches replacement characters, and UTF-8 read as GBK or Latin-1 (and GBK as Latin-1),
    by re-encoding the text the wrong way and seeing whether it decodes the right way.

    >>> mojibake("龙兴社区") is None
    True
    >>> mojibake("榫欏叴绀惧尯")
    "looks like UTF-8 read as GBK (meant '龙兴社区')"
    >>> mojibake("Áúð")
    'contains Latin-1 letters where Chinese text is expected'
    """
    if "\ufffd" in text:
        return "contains the replacement character U+FFFD (undecodable bytes)"
    if text.isascii():
        return None
    for wrong, right in (("gbk", "utf-8"), ("latin-1", "utf-8"), ("latin-1", "gb18030")):
        try:
            fixed = text.encode(wrong).decode(right)
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != text and any("\u4e00" <= ch <= "\u9fff" for ch in fixed):
            return f"looks like {right.upper()} read as {wrong.upper()} (meant {fixed!r})"
    if any("\u00c0" <= ch <= "\u00ff" for ch in text):
        return "contains Latin-1 letters where Chinese text is expected"
    if any("\ue000" <= ch <= "\uf8ff" or ord(ch) < 32 for ch in text):
        return "contains private-use or control characters"
    return None


def _check_text(data: Interchange) -> list[Problem]:
    out: list[Problem] = []
    for name, frame in data.layers().items():
        for col in frame.columns:
            if isinstance(frame, gpd.GeoDataFrame) and col == frame.geometry.name:
                continue
            series = frame[col]
            if pd.api.types.is_numeric_dtype(series.dtype):
                continue
            bad: dict[str, str] = {}
            for v in pd.unique(series.dropna()):
                if isinstance(v, str) and not v.isascii():
                    why = mojibake(v)
                    if why:
                        bad[v] = why
            if not bad:
                continue
            hit = series.isin(list(bad)).to_numpy(dtype=bool)
            for i in map(int, np.flatnonzero(hit)):
                v = series.iloc[i]
                out.append(Problem(name, i, col, v, f"text-encoding error: {bad[v]}"))
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
    return out


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
    keys = frame[cols].astype(object)
    required = [c for c in cols if c not in optional]
    dup = keys.fillna("").duplicated(keep="first") & keys[required].notna().all(axis=1)
    out = []
    for i in map(int, np.flatnonzero(dup.to_numpy())):
        value: Any = keys.iloc[i, 0] if len(cols) == 1 else tuple(keys.iloc[i].tolist())
        out.append(
            Problem(layer, int(i), "+".join(cols), value, "is a duplicate of an earlier row")
        )
    return out


def _check_divisions(divs: pd.DataFrame, known: set[str]) -> list[Problem]:
    out = _duplicates("divisions", divs, ["code"])
    codes = _text_set(divs, "code") | known
    levels = divs["level"].tolist()
    parents = divs["parent_code"].tolist()
    geoms = divs.geometry.values if isinstance(divs, gpd.GeoDataFrame) else None
    for i, code in _values(divs, "code"):
        try:
            parsed = parse_division_code(str(code))
        except InvalidCode as exc:
            out.append(
                Problem(
                    "divisions", i, "code", code, f"is not a 12-digit division code: {exc.reason}"
                )
            )
            continue
        level = levels[i]
        if _present(level) and level not in DIVISION_LEVELS:
            out.append(
                Problem("divisions", i, "level", level, f"is not one of {list(DIVISION_LEVELS)}")
            )
        elif _present(level) and level != parsed.level:
            out.append(
                Problem(
                    "divisions",
                    i,
                    "level",
                    level,
                    f"does not match code {code}, which is a {parsed.level}",
                )
            )
        expected = parent_code(str(code))
        given = parents[i] if _present(parents[i]) else None
        if given != expected:
            out.append(
                Problem(
                    "divisions",
                    i,
                    "parent_code",
                    given,
                    f"does not nest: the parent of {code} is {expected}",
                )
            )
        elif expected is not None and expected not in codes:
            out.append(
                Problem(
                    "divisions",
                    i,
                    "parent_code",
                    given,
                    "is neither in the file nor among the known codes",
                )
            )
        if parsed.level in ("township", "village") and geoms is not None:
            g = geoms[i]
            if g is None or shapely.is_empty(g):
                out.append(
                    Problem(
                        "divisions",
                        i,
                        "geometry",
                        None,
                        f"a {parsed.level} needs a boundary polygon",
                    )
                )
    return out


def _check_grids(grids: pd.DataFrame, div_codes: set[str]) -> list[Problem]:
    out = _duplicates("grids", grids, ["code"])
    comm = grids["community_code"].tolist()
    for i, code in _values(grids, "code"):
        try:
            parse_grid_code(str(code))
        except InvalidCode as exc:
            out.append(
                Problem("grids", i, "code", code, f"is not a 15-digit grid code: {exc.reason}")
            )
            continue
        c = comm[i]
        if _present(c) and str(code)[:12] != c:
            out.append(Problem("grids", i, "code", code, f"does not nest in its community {c}"))
    for i, c in _values(grids, "community_code"):
        if c not in div_codes:
            out.append(
                Problem("grids", i, "community_code", c, "is not a known community or village")
            )
    for i, k in _values(grids, "kind"):
        if k not in GRID_KINDS:
            out.append(Problem("grids", i, "kind", k, f"is not one of {list(GRID_KINDS)}"))
    return out


def _check_legacy(legacy: pd.DataFrame, div_codes: set[str]) -> list[Problem]:
    # local serials (民政-03) are unique only within a community
    out = _duplicates(
        "legacy_grids", legacy, ["layer", "community_code", "source_code"], ("community_code",)
    )
    for i, v in _values(legacy, "layer"):
        if v not in LEGACY_LAYERS:
            out.append(
                Problem("legacy_grids", i, "layer", v, f"is not one of {list(LEGACY_LAYERS)}")
            )
    for i, c in _values(legacy, "community_code"):
        if c not in div_codes:
            out.append(
                Problem(
                    "legacy_grids", i, "community_code", c, "is not a known community or village"
                )
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


def _counts(layer: str, frame: pd.DataFrame, col: str) -> list[Problem]:
    if col not in frame.columns:
        return []
    series = frame[col]
    if pd.api.types.is_integer_dtype(series.dtype):
        rows = np.flatnonzero((series < 0).fillna(False).to_numpy(dtype=bool))
        return [
            Problem(layer, int(i), col, int(series.iloc[i]), "is negative; expected 0 or more")
            for i in rows
        ]
    out = []
    for i, v in _values(frame, col):
        n = _whole(v)
        if n is None:
            out.append(Problem(layer, i, col, v, "is not a whole number"))
        elif n < 0:
            out.append(Problem(layer, i, col, v, "is negative; expected 0 or more"))
    return out


def _unknown(
    layer: str, frame: pd.DataFrame, col: str, known: set[str], what: str
) -> list[Problem]:
    """A row per value of ``col`` (when set) that is not in ``known``."""
    if col not in frame.columns or not len(frame):
        return []
    series = frame[col]
    miss = (series.notna() & ~series.astype(object).isin(known)).to_numpy(dtype=bool)
    return [Problem(layer, int(i), col, series.iloc[i], what) for i in np.flatnonzero(miss)]


def _check_buildings(data: Interchange, div_codes: set[str], tolerance_m: float) -> list[Problem]:
    b = data.buildings
    out = _duplicates("buildings", b, ["building_id"])
    out += _counts("buildings", b, "households") + _counts("buildings", b, "floors")
    comm = b["community_code"]
    out += _unknown(
        "buildings", b, "community_code", div_codes, "is not a known community or village"
    )
    divs = data.divisions
    if not len(b) or not len(divs) or b.crs is None:
        return out
    polys = divs.drop_duplicates("code").set_index("code").geometry
    target = polys.reindex(comm.astype(object)).to_numpy()
    geoms = np.asarray(b.geometry.values, dtype=object)
    ok = ~(shapely.is_missing(target) | shapely.is_missing(geoms) | shapely.is_empty(geoms))
    ok &= shapely.is_valid(geoms) & shapely.is_valid(target)
    idx = np.flatnonzero(ok)
    pts = shapely.point_on_surface(geoms[idx])
    inside = shapely.dwithin(pts, target[idx], tolerance_m * _DEG_PER_M)
    for i in idx[~inside]:
        out.append(
            Problem(
                "buildings",
                int(i),
                "geometry",
                None,
                f"lies outside its community {comm.iloc[i]} (by more than {tolerance_m:g} m)",
            )
        )
    return out


def _check_units(data: Interchange) -> list[Problem]:
    u = data.units
    out = _duplicates("units", u, ["building_id", "unit_no"])
    out += _counts("units", u, "households")
    ids = _text_set(data.buildings, "building_id")
    out += _unknown("units", u, "building_id", ids, "is not a building in the buildings layer")
    if len(u) and len(data.buildings):
        hh = pd.to_numeric(u["households"], errors="coerce")
        per = hh.groupby(u["building_id"].astype(object)).sum()
        bh = pd.to_numeric(data.buildings["households"], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        sums = per.reindex(data.buildings["building_id"].astype(object)).to_numpy(dtype=float)
        differ = ~np.isnan(sums) & ~np.isnan(bh) & (sums != bh)
        for i in map(int, np.flatnonzero(differ)):
            out.append(
                Problem(
                    "buildings",
                    i,
                    "households",
                    int(bh[i]),
                    f"differs from the sum over its units ({int(sums[i])})",
                    "warning",
                )
            )
    return out


def _check_people(people: pd.DataFrame) -> list[Problem]:
    return _duplicates("people", people, ["person_id"])


def _date(v: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(v).strip()[:10]) if len(str(v).strip()) == 10 else None
    except ValueError:
        return None


_NEEDS = {
    "grid_chief": ("grid_code",),
    "building_chief": ("building_id",),
    "unit_chief": ("building_id", "unit_no"),
}


def _check_assignments(data: Interchange) -> list[Problem]:
    a = data.assignments
    out: list[Problem] = []
    if not len(a):
        return out
    people = _text_set(data.people, "person_id")
    grids = _text_set(data.grids, "code")
    buildings = _text_set(data.buildings, "building_id")
    units = set(
        zip(
            data.units["building_id"].astype(object),
            data.units["unit_no"].astype(object),
            strict=True,
        )
    )
    rows = a.astype(object).where(a.notna(), None).to_dict("records")
    for i, r in enumerate(rows):
        pid, role = r.get("person_id"), r.get("role")
        if pid is not None and pid not in people:
            out.append(
                Problem("assignments", i, "person_id", pid, "is not a person in the people layer")
            )
        if role is not None and role not in ROLES:
            out.append(Problem("assignments", i, "role", role, f"is not one of {list(ROLES)}"))
        elif role is not None:
            need = _NEEDS[role]
            for col in ("grid_code", "building_id", "unit_no"):
                v = r.get(col)
                if col in need and v is None:
                    out.append(Problem("assignments", i, col, None, f"is empty; a {role} needs it"))
                elif col not in need and v is not None:
                    out.append(
                        Problem(
                            "assignments",
                            i,
                            col,
                            v,
                            f"does not fit role {role}, which needs only {'+'.join(need)}",
                        )
                    )
            g, b, un = r.get("grid_code"), r.get("building_id"), r.get("unit_no")
            if role == "grid_chief" and g is not None and g not in grids:
                out.append(
                    Problem("assignments", i, "grid_code", g, "is not a grid in the grids layer")
                )
            if role in ("building_chief", "unit_chief") and b is not None and b not in buildings:
                out.append(
                    Problem(
                        "assignments",
                        i,
                        "building_id",
                        b,
                        "is not a building in the buildings layer",
                    )
                )
            elif role == "unit_chief" and b is not None and un is not None and (b, un) not in units:
                out.append(
                    Problem("assignments", i, "unit_no", un, f"is not a unit of building {b}")
                )
        since, until = r.get("since"), r.get("until")
        ds = _date(since) if since is not None else None
        if since is not None and ds is None:
            out.append(Problem("assignments", i, "since", since, "is not a date (YYYY-MM-DD)"))
        du = _date(until) if until is not None else None
        if until is not None and du is None:
            out.append(Problem("assignments", i, "until", until, "is not a date (YYYY-MM-DD)"))
        if ds is not None and du is not None and du < ds:
            out.append(Problem("assignments", i, "until", until, f"is before since ({since})"))
    return out
