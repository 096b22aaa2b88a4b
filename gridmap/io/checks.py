"""Layer-specific validation hooks, named by the layer registry (:mod:`gridmap.io.layers`).

What every layer shares (required values, keys, whole numbers, dates, allowed values,
references) is checked generically by :mod:`gridmap.io.validate` from the registry; a hook
holds only the rules of its own layer: codes that nest, buildings inside their community,
units that add up, the targets each role needs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.codes import LEVELS, parent_code, parse_division_code, parse_grid_code
from gridmap.errors import InvalidCode
from gridmap.io.problems import Problem, present, text_set, values

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gridmap.io.interchange import Interchange

__all__ = [
    "Context",
    "assignments",
    "buildings",
    "divisions",
    "grids",
    "iso_date",
    "people",
    "units",
]

#: degrees per metre of latitude, for the small tolerance of point-in-community checks
_DEG_PER_M = 1.0 / 111_320.0


@dataclass(frozen=True)
class Context:
    """What the checks know beyond the file: division codes of the database, tolerances."""

    #: division codes of the file and of the database together
    division_codes: frozenset[str] = frozenset()
    tolerance_m: float = 2.0


def iso_date(v: Any) -> dt.date | None:
    """The date written as ``YYYY-MM-DD``, or None.

    >>> iso_date("2024-03-01"), iso_date("2024-13-01"), iso_date("1.3.2024")
    (datetime.date(2024, 3, 1), None, None)
    """
    text = str(v).strip()
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


# ----------------------------------------------------------------------------- divisions


def divisions(data: Interchange, ctx: Context) -> list[Problem]:
    """Codes are division codes whose level and parent agree with the digits."""
    divs = data.divisions
    out: list[Problem] = []
    codes = ctx.division_codes
    levels = divs["level"].tolist()
    parents = divs["parent_code"].tolist()
    geoms = divs.geometry.values if isinstance(divs, gpd.GeoDataFrame) else None
    for i, code in values(divs, "code"):
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
        if present(level) and level != parsed.level and level in LEVELS:
            out.append(
                Problem(
                    "divisions",
                    i,
                    "level",
                    level,
                    f"does not match code {code}, which is a {parsed.level}",
                )
            )
        out += _parent(i, str(code), parents[i], codes)
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


def _parent(i: int, code: str, parent: Any, codes: frozenset[str]) -> list[Problem]:
    expected = parent_code(code)
    given = parent if present(parent) else None
    if given != expected:
        why = f"does not nest: the parent of {code} is {expected}"
        return [Problem("divisions", i, "parent_code", given, why)]
    if expected is not None and expected not in codes:
        why = "is neither in the file nor among the known codes"
        return [Problem("divisions", i, "parent_code", given, why)]
    return []


# ----------------------------------------------------------------------------- grids


def grids(data: Interchange, ctx: Context) -> list[Problem]:
    """Codes are grid codes that start with their community's code."""
    out: list[Problem] = []
    comm = data.grids["community_code"].tolist()
    for i, code in values(data.grids, "code"):
        try:
            parse_grid_code(str(code))
        except InvalidCode as exc:
            out.append(
                Problem("grids", i, "code", code, f"is not a 15-digit grid code: {exc.reason}")
            )
            continue
        c = comm[i]
        if present(c) and str(code)[:12] != c:
            out.append(Problem("grids", i, "code", code, f"does not nest in its community {c}"))
    return out


# ----------------------------------------------------------------------------- buildings


def buildings(data: Interchange, ctx: Context) -> list[Problem]:
    """A building's representative point lies in its community (within the tolerance)."""
    b, divs = data.buildings, data.divisions
    if not len(b) or not len(divs) or b.crs is None:
        return []
    comm = b["community_code"]
    polys = divs.drop_duplicates("code").set_index("code").geometry
    target = polys.reindex(comm.astype(object)).to_numpy()
    geoms = np.asarray(b.geometry.values, dtype=object)
    ok = ~(shapely.is_missing(target) | shapely.is_missing(geoms) | shapely.is_empty(geoms))
    ok &= shapely.is_valid(geoms) & shapely.is_valid(target)
    idx = np.flatnonzero(ok)
    pts = shapely.point_on_surface(geoms[idx])
    inside = shapely.dwithin(pts, target[idx], ctx.tolerance_m * _DEG_PER_M)
    why = "lies outside its community {} (by more than {:g} m)"
    return [
        Problem("buildings", int(i), "geometry", None, why.format(comm.iloc[i], ctx.tolerance_m))
        for i in idx[~inside]
    ]


# ----------------------------------------------------------------------------- units


def units(data: Interchange, ctx: Context) -> list[Problem]:
    """The households of a building's units should add up to the building's (a warning)."""
    u, b = data.units, data.buildings
    if not len(u) or not len(b):
        return []
    hh = pd.to_numeric(u["households"], errors="coerce")
    per = hh.groupby(u["building_id"].astype(object)).sum()
    bh = pd.to_numeric(b["households"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    sums = per.reindex(b["building_id"].astype(object)).to_numpy(dtype=float)
    differ = ~np.isnan(sums) & ~np.isnan(bh) & (sums != bh)
    return [
        Problem(
            "buildings",
            i,
            "households",
            int(bh[i]),
            f"differs from the sum over its units ({int(sums[i])})",
            "warning",
        )
        for i in map(int, np.flatnonzero(differ))
    ]


# ----------------------------------------------------------------------------- people


def people(data: Interchange, ctx: Context) -> list[Problem]:
    """A phone is not a masked one (an export made without ``--show-phones``)."""
    why = "is masked: export with --show-phones to move phone numbers between databases"
    return [
        Problem("people", i, "phone", v, why)
        for i, v in values(data.people, "phone")
        if "*" in str(v)
    ]


# ----------------------------------------------------------------------------- assignments

#: the targets each role needs; every other target column must be empty
NEEDS = {
    "grid_chief": ("grid_code",),
    "building_chief": ("building_id",),
    "unit_chief": ("building_id", "unit_no"),
}
_TARGETS = ("grid_code", "building_id", "unit_no")


def assignments(data: Interchange, ctx: Context) -> list[Problem]:
    """Each role has exactly its targets, they exist in the file, and until ≥ since."""
    a = data.assignments
    if not len(a):
        return []
    known = {
        "grid_code": text_set(data.grids, "code"),
        "building_id": text_set(data.buildings, "building_id"),
        "unit": set(
            zip(
                data.units["building_id"].astype(object),
                data.units["unit_no"].astype(object),
                strict=True,
            )
        ),
    }
    out: list[Problem] = []
    rows = a.astype(object).where(a.notna(), None).to_dict("records")
    for i, r in enumerate(rows):
        role = r.get("role")
        if role in NEEDS:
            out += _targets(i, str(role), r)
            out += _targets_exist(i, str(role), r, known)
        ds, du = iso_date(r.get("since")), iso_date(r.get("until"))
        if ds is not None and du is not None and du < ds:
            out.append(
                Problem("assignments", i, "until", r["until"], f"is before since ({r['since']})")
            )
    return out


def _targets(i: int, role: str, r: Mapping[Any, Any]) -> list[Problem]:
    need = NEEDS[role]
    out = []
    for col in _TARGETS:
        v = r.get(col)
        if col in need and v is None:
            out.append(Problem("assignments", i, col, None, f"is empty; a {role} needs it"))
        elif col not in need and v is not None:
            why = f"does not fit role {role}, which needs only {'+'.join(need)}"
            out.append(Problem("assignments", i, col, v, why))
    return out


def _targets_exist(i: int, role: str, r: Mapping[Any, Any], known: dict[str, Any]) -> list[Problem]:
    g, b, un = r.get("grid_code"), r.get("building_id"), r.get("unit_no")
    if role == "grid_chief" and g is not None and g not in known["grid_code"]:
        return [Problem("assignments", i, "grid_code", g, "is not a grid in the grids layer")]
    if role == "grid_chief" or b is None:
        return []
    if b not in known["building_id"]:
        return [
            Problem("assignments", i, "building_id", b, "is not a building in the buildings layer")
        ]
    if role == "unit_chief" and un is not None and (b, un) not in known["unit"]:
        return [Problem("assignments", i, "unit_no", un, f"is not a unit of building {b}")]
    return []
