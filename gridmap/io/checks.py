"""Layer-specific validation hooks, named by the layer registry (:mod:`gridmap.io.layers`).

What every layer shares (required values, keys, whole numbers, dates, allowed values,
references) is checked generically by :mod:`gridmap.io.validate` from the registry; a hook
holds only the rules of its own layer: codes that nest, grids that do not overlap,
buildings inside their community, units that add up, phones the database accepts, the
targets each role needs and one current holder per post.

:func:`grid_coverage` is pure (a GeoDataFrame in, problems out) so that other code, such as
the merge's quality report, can apply the same overlap and gap rule.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.codes import LEVELS, parent_code, parse_division_code, parse_grid_code
from gridmap.crs import METRIC, transformer
from gridmap.errors import InvalidCode, InvalidCRS
from gridmap.geometry import METRES_PER_DEGREE, POLYGON_TYPE_IDS, coverage_faults, stitch
from gridmap.io.problems import Problem, Severity, is_in, personal, present, text_column, values

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gridmap.io.interchange import Interchange

__all__ = [
    "GRID_GAP_M2",
    "GRID_OVERLAP_M2",
    "PHONE",
    "Context",
    "assignments",
    "buildings",
    "divisions",
    "grid_coverage",
    "grids",
    "iso_date",
    "people",
    "units",
]

#: degrees per metre of latitude, for the small tolerance of point-in-community checks
_DEG_PER_M = 1.0 / METRES_PER_DEGREE

#: two grids of one community may share at most this much area (m², measured in EPSG:4551):
#: enough for floating-point slivers along a shared edge, far less than any real overlap
GRID_OVERLAP_M2 = 1.0
#: a part of a community that no grid covers is reported (a warning) above this area (m²)
GRID_GAP_M2 = 1.0

#: what the database accepts as a phone (CHECK on ``person.phone``, migration 0001):
#: 5 to 20 characters, each an ASCII digit, ``+`` or ``-``
PHONE = re.compile(r"[0-9+\-]{5,20}")
_PHONE_EXPECTED = (
    "not a phone number: expected 5 to 20 characters, each a digit 0-9, '+' or '-' "
    "(such as 13912345678 or 0431-88886666, no spaces)"
)

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Context:
    """What the checks know beyond the file: division codes of the database, tolerances."""

    #: division codes of the file and of the database together
    division_codes: frozenset[str] = frozenset()
    tolerance_m: float = 2.0


def iso_date(v: Any) -> dt.date | None:
    """The date written as ``YYYY-MM-DD``, or None.

    Only this form: Python reads ISO week dates (``2024-W09-5``) too, PostgreSQL does not.

    >>> iso_date("2024-03-01"), iso_date("2024-13-01"), iso_date("1.3.2024")
    (datetime.date(2024, 3, 1), None, None)
    >>> iso_date("2024-W09-5") is None
    True
    """
    text = str(v).strip()
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
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


#: two divisions of one level may share at most this much (m²) of their areas
DIVISION_OVERLAP_M2 = 1.0
#: how far apart two vertices of neighbouring divisions may be for ``--fix`` to join them
DIVISION_STITCH_M = 0.01


def division_coverage(data: Interchange, fix: bool = False) -> list[Problem]:
    """Each level of the divisions (counties, townships, villages) is one valid coverage.

    Two villages or communities that share more than ``DIVISION_OVERLAP_M2`` are an error
    naming both: grids follow their community's edges exactly, so theirs would overlap.
    Divisions whose shared edges do not have the same vertices on both sides (a
    T-junction, or a near miss) are a warning for the level, naming them: the merge gives
    the grids on both sides the same vertices where the miss is within a micrometre, and
    reports the rest. Among townships and counties, which no grid follows directly,
    overlaps are warnings too. With
    ``fix`` each takes in its neighbours' vertices within ``DIVISION_STITCH_M``
    (:func:`gridmap.geometry.stitch`), in place, reported as fixed; what that cannot mend
    stays an error. Divisions without a valid polygon are left to the geometry checks.
    """
    divs = data.divisions
    if not isinstance(divs, gpd.GeoDataFrame) or divs.crs is None or len(divs) < 2:
        return []
    out: list[Problem] = []
    geoms = np.asarray(divs.geometry.values, dtype=object)
    codes = np.asarray([str(c) for c in divs["code"].astype(object)], dtype=object)
    levels = divs["level"].astype(object).to_numpy()
    first = ~pd.Series(codes).duplicated().to_numpy()
    unit = _DEG_PER_M if divs.crs.is_geographic else 1.0
    for level in ("county", "township", "village"):
        rows = np.flatnonzero((levels == level) & first & _polygons(geoms))
        if len(rows) < 2:
            continue
        severity: Severity = "error" if level == "village" else "warning"
        edges, a, b, shared = coverage_faults(geoms[rows])
        for i, j, area in zip(a, b, _area_m2(divs.crs, shared), strict=True):
            if area > DIVISION_OVERLAP_M2:
                why = (
                    f"{level} {codes[rows[j]]} overlaps {level} {codes[rows[i]]} by "
                    f"{area:,.1f} m² (at most {DIVISION_OVERLAP_M2:g} m²): a level must be one "
                    "coverage"
                )
                out.append(Problem("divisions", int(rows[j]), "geometry", None, why, severity))
        unmatched = np.flatnonzero(edges != None)  # noqa: E711 (elementwise)
        if not len(unmatched):
            continue
        if fix:
            mended = stitch(geoms[rows], codes[rows], DIVISION_STITCH_M * unit)
            left = np.flatnonzero(coverage_faults(mended)[0] != None)  # noqa: E711
            geoms[rows] = mended
            divs[divs.geometry.name] = gpd.GeoSeries(geoms, index=divs.index, crs=divs.crs)
            why = (
                f"{len(unmatched) - len(left)} {level}(s) given their neighbours' vertices "
                f"on shared edges (within {DIVISION_STITCH_M * 100:g} cm)"
            )
            out.append(Problem("divisions", None, "geometry", None, why, "fixed"))
            unmatched = left
            if not len(unmatched):
                continue
        named = ", ".join(str(codes[rows[k]]) for k in unmatched[:5].tolist())
        more = f" and {len(unmatched) - 5} more" if len(unmatched) > 5 else ""
        why = (
            f"{len(unmatched)} {level}(s) ({named}{more}) have edges that do not share their "
            "neighbours' vertices (a T-junction or a near miss): the level is not one valid "
            "coverage" + ("" if fix else "; --fix gives each its neighbours' vertices")
        )
        out.append(Problem("divisions", None, "geometry", None, why, "warning"))
    return out


# ----------------------------------------------------------------------------- grids


def grids(data: Interchange, ctx: Context) -> list[Problem]:
    """Codes are grid codes that start with their community's code; a community's grids do
    not overlap (:func:`grid_coverage`)."""
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
    if data.grids.crs is not None:  # without one, validation reports the unknown CRS
        out += grid_coverage(data.grids, _community_boundaries(data.divisions))
    return out


def _community_boundaries(divs: pd.DataFrame) -> gpd.GeoSeries | None:
    """The boundaries of the file's communities and villages, by code, or None."""
    if not isinstance(divs, gpd.GeoDataFrame) or divs.crs is None or not len(divs):
        return None
    village = divs[(divs["level"] == "village").fillna(False).to_numpy(dtype=bool)]
    village = village.drop_duplicates("code")
    return gpd.GeoSeries(village.geometry.values, index=village["code"].astype(str), crs=divs.crs)


def grid_coverage(
    grids: gpd.GeoDataFrame,
    communities: gpd.GeoSeries | None = None,
    *,
    overlap_m2: float = GRID_OVERLAP_M2,
    gap_m2: float = GRID_GAP_M2,
    layer: str = "grids",
) -> list[Problem]:
    """Overlaps, unmatched edges and gaps of a grid layer (pure: no database).

    ``grids`` has ``code``, ``community_code`` and polygon geometries in any CRS. Overlaps
    and gaps are found where the shapes live (in EPSG:4490 as the database compares them:
    a straight edge in degrees is not straight in metres, so noding there would make
    slivers of its own), and their areas are measured in EPSG:4551
    (:data:`gridmap.crs.METRIC`). The whole layer is checked as one coverage
    (:func:`gridmap.geometry.coverage_faults`, as the merge's report does): two grids of one
    community that share more than ``overlap_m2`` are an *error* naming both codes and the
    area, reported at the later row; grids of two communities that do are a *warning* (the
    merge mends community lines); grids whose edges do not share their neighbours'
    vertices are one *warning* for the layer, naming them and the length.
    A gap is a *warning*: a part of the community larger than ``gap_m2`` that no grid (of
    any community) covers. Where ``communities`` (boundaries indexed by community code, with
    a CRS) has the community, that is its boundary less the grids; elsewhere only the holes
    its grids enclose can be seen. Rows without a community, or with a missing,
    empty, invalid or non-polygonal geometry, are left out: validation reports them.
    ``row`` is the position in ``grids``.

    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"code": ["220102005004001", "220102005004002"],
    ...     "community_code": ["220102005004"] * 2},
    ...     geometry=[box(0, 0, 100, 100), box(80, 0, 200, 100)], crs=METRIC)
    >>> for p in grid_coverage(g):
    ...     if p.severity == "error":
    ...         print(p)
    grids row 1 geometry: grid 220102005004002 overlaps grid 220102005004001 of the same community by 2,000.0 m² (at most 1 m² allowed)
    """
    if not len(grids):
        return []
    if grids.crs is None:
        raise InvalidCRS("grid coverage: the grids have no CRS, so no area can be measured")
    geoms = np.asarray(grids.geometry.values, dtype=object)
    comm = grids["community_code"].astype(object).to_numpy()
    idx = np.flatnonzero(_polygons(geoms) & np.array([present(c) for c in comm], dtype=bool))
    if not len(idx):
        return []
    codes = np.array([str(c) for c in grids["code"].astype(object)], dtype=object)[idx]
    sub = _Grids(idx, codes, comm[idx], geoms[idx], shapely.STRtree(geoms[idx]), grids.crs)
    bounds: dict[str, Any] = {}
    if communities is not None and len(communities):
        if communities.crs is None:
            raise InvalidCRS("grid coverage: the community boundaries have no CRS")
        if not communities.crs.equals(grids.crs):
            communities = communities.to_crs(grids.crs)
        shapes = np.asarray(communities.values, dtype=object)
        keep = np.flatnonzero(_polygons(shapes))
        bounds = dict(zip(communities.index[keep].astype(str), shapes[keep], strict=True))
    return _overlaps(sub, overlap_m2, layer) + _gaps(sub, bounds, gap_m2, layer)


@dataclass(frozen=True)
class _Grids:
    """The checkable grids: rows in the caller's frame, codes, communities, shapes, CRS."""

    rows: Any
    codes: Any
    communities: Any
    geoms: Any
    tree: shapely.STRtree
    crs: Any

    def area_m2(self, shapes: Any) -> Any:
        """The areas of ``shapes`` (in the grids' CRS) in square metres."""
        return _area_m2(self.crs, shapes)

    def length_m(self, line: Any) -> float:
        """The length of ``line`` (in the grids' CRS) in metres."""
        return float(shapely.length(_in_metres(self.crs, line)))

    @property
    def centimetre(self) -> float:
        """1 cm in the grids' CRS units (degrees or metres)."""
        return 0.01 * _DEG_PER_M if self.crs.is_geographic else 0.01


def _area_m2(crs: Any, shapes: Any) -> Any:
    """The areas of ``shapes`` (in ``crs``) in square metres."""
    return shapely.area(_in_metres(crs, shapes))


def _in_metres(crs: Any, shapes: Any) -> Any:
    """``shapes`` (in ``crs``) in :data:`METRIC`."""
    fwd = _to_metric(crs)
    if fwd is None:
        return shapes

    def apply(xy: Any) -> Any:
        return np.column_stack(fwd.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(shapes, apply)


_METRIC_OF: dict[int, Any] = {}


def _to_metric(crs: Any) -> Any:
    """The transformer from ``crs`` to metres, None when it is metric already (cached per
    CRS object: a check asks thousands of times)."""
    key = id(crs)
    if key not in _METRIC_OF:
        if len(_METRIC_OF) > 64:
            _METRIC_OF.clear()
        _METRIC_OF[key] = (crs, None if METRIC.equals(crs) else transformer(crs, METRIC))
    held, fwd = _METRIC_OF[key]
    if held is not crs:  # the id was reused by another object
        _METRIC_OF.pop(key)
        return _to_metric(crs)
    return fwd


def _polygons(geoms: Any) -> Any:
    """Where ``geoms`` holds a valid, non-empty (multi)polygon."""
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return ok & np.isin(shapely.get_type_id(geoms), POLYGON_TYPE_IDS) & shapely.is_valid(geoms)


def _overlaps(g: _Grids, tolerance: float, layer: str) -> list[Problem]:
    edges, a, b, shared = coverage_faults(g.geoms)
    out = []
    for i, j, area in zip(a, b, g.area_m2(shared), strict=True):
        if area > tolerance:
            if g.communities[i] == g.communities[j]:
                why = (
                    f"grid {g.codes[j]} overlaps grid {g.codes[i]} of the same community by "
                    f"{area:,.1f} m² (at most {tolerance:g} m² allowed)"
                )
                out.append(Problem(layer, int(g.rows[j]), "geometry", None, why))
            else:
                why = (
                    f"grid {g.codes[j]} overlaps grid {g.codes[i]} of community "
                    f"{g.communities[i]} by {area:,.1f} m²: a point there lies in both"
                )
                out.append(Problem(layer, int(g.rows[j]), "geometry", None, why, "warning"))
    unmatched = np.flatnonzero(edges != None)  # noqa: E711 (elementwise)
    if len(unmatched):
        length = sum(g.length_m(edges[k]) for k in unmatched.tolist())
        named = ", ".join(str(g.codes[k]) for k in unmatched[:5].tolist())
        more = f" and {len(unmatched) - 5} more" if len(unmatched) > 5 else ""
        why = (
            f"{len(unmatched)} grid(s) ({named}{more}) have edges, {length:,.1f} m in all, that "
            "do not share their neighbours' vertices (a T-junction or a near miss): the layer "
            "is not one valid coverage; `gridmap merge` makes one"
        )
        out.append(Problem(layer, None, "geometry", None, why, "warning"))
    return sorted(out, key=lambda p: (p.row is not None, p.row or 0, p.message))


def _gaps(g: _Grids, bounds: Mapping[str, Any], tolerance: float, layer: str) -> list[Problem]:
    out: list[Problem] = []
    for community in sorted(set(g.communities)):
        members = np.flatnonzero(g.communities == community)
        union = shapely.union_all(g.geoms[members])
        boundary = bounds.get(str(community))
        if boundary is not None:
            candidates = shapely.get_parts(shapely.difference(boundary, union))
        else:
            candidates = _holes(union)
        candidates = candidates[shapely.area(candidates) > 0]
        for candidate in candidates[g.area_m2(candidates) > tolerance]:
            near = g.tree.query(candidate, predicate="intersects")
            others = shapely.union_all(g.geoms[np.setdiff1d(near, members)])
            left = candidate if others.is_empty else shapely.difference(candidate, others)
            parts = shapely.get_parts(left)
            for part, area in zip(parts, g.area_m2(parts), strict=True):
                if area > tolerance:
                    around = g.tree.query(part, predicate="dwithin", distance=g.centimetre)
                    names = sorted(str(g.codes[k]) for k in np.intersect1d(around, members))
                    out.append(_gap(layer, str(community), float(area), names, tolerance))
    return out


def _gap(layer: str, community: str, area: float, names: list[str], tolerance: float) -> Problem:
    by = f" next to grid{'s' if len(names) > 1 else ''} {', '.join(names)}" if names else ""
    why = (
        f"community {community}: a gap of {area:,.1f} m²{by} lies in no grid "
        f"(more than {tolerance:g} m²)"
    )
    return Problem(layer, None, "geometry", None, why, "warning")


def _holes(union: Any) -> Any:
    """The holes of a (multi)polygon, as polygons."""
    rings = [
        shapely.Polygon(shapely.get_interior_ring(poly, k))
        for poly in shapely.get_parts(union)
        if shapely.get_type_id(poly) == 3
        for k in range(shapely.get_num_interior_rings(poly))
    ]
    return np.asarray(rings, dtype=object)


# ----------------------------------------------------------------------------- buildings


def buildings(data: Interchange, ctx: Context) -> list[Problem]:
    """A building has at least one floor when ``floors`` is given (the database's CHECK),
    and its representative point lies in its community (within the tolerance)."""
    return _floors(data.buildings) + _in_community(data, ctx)


def _floors(b: pd.DataFrame) -> list[Problem]:
    if "floors" not in b.columns:
        return []
    zero = (pd.to_numeric(b["floors"], errors="coerce") == 0).fillna(False)
    why = "is not a number of floors: expected 1 or more (leave it empty if unknown)"
    return [
        Problem("buildings", int(i), "floors", 0, why)
        for i in np.flatnonzero(zero.to_numpy(dtype=bool))
    ]


def _in_community(data: Interchange, ctx: Context) -> list[Problem]:
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
    """A phone is not a masked one (an export made without ``--show-phones``) and has the
    form the database accepts (:data:`PHONE`). A malformed phone is not shown: personal data.
    """
    masked = "is masked: export with --show-phones to move phone numbers between databases"
    out = []
    for i, v in values(data.people, "phone"):
        if "*" in str(v):
            out.append(Problem("people", i, "phone", v, masked))
        elif not PHONE.fullmatch(str(v)):
            out.append(personal("people", data.people, i, "phone", _PHONE_EXPECTED))
    return out


# ----------------------------------------------------------------------------- assignments

#: the targets each role needs; every other target column must be empty
NEEDS = {
    "grid_chief": ("grid_code",),
    "building_chief": ("building_id",),
    "unit_chief": ("building_id", "unit_no"),
}
_TARGETS = ("grid_code", "building_id", "unit_no")


def assignments(data: Interchange, ctx: Context) -> list[Problem]:
    """Each role has exactly its targets, they exist in the file, and until ≥ since.

    Column by column: a province's millions of assignments are never made into Python
    records or sets (as records they took more memory than the whole file). The rows found
    wanting are then reported one by one, in row order, each row's problems in the order
    targets, existence, current holder, dates.
    """
    a = data.assignments
    if not len(a):
        return []
    n = len(a)
    col = {c: text_column(a, c) for c in ("person_id", "role", "since", "until", *_TARGETS)}
    role = col["role"]
    needs = _flag(role.isin(list(NEEDS)))
    # targets each role must have, and must not have
    empty = {c: col[c].isna().to_numpy(dtype=bool) for c in _TARGETS}
    wrong = np.zeros(n, dtype=bool)
    for name, need in NEEDS.items():
        is_role = _flag(role == name)
        for c in _TARGETS:
            wrong |= is_role & (empty[c] if c in need else ~empty[c])
    # targets that exist in the file
    grid_ok = is_in(col["grid_code"], text_column(data.grids, "code"))
    building_ok = is_in(col["building_id"], text_column(data.buildings, "building_id"))
    unit_ok = is_in(
        _pair_key(col["building_id"], col["unit_no"]),
        _pair_key(text_column(data.units, "building_id"), text_column(data.units, "unit_no")),
    )
    is_grid = _flag(role == "grid_chief")
    is_unit = _flag(role == "unit_chief")
    missing = needs & (
        (is_grid & ~empty["grid_code"] & ~grid_ok)
        | (~is_grid & ~empty["building_id"] & ~building_ok)
        | (is_unit & ~empty["building_id"] & building_ok & ~empty["unit_no"] & ~unit_ok)
    )
    # a post's second current holder: a later open term of another person or since
    open_post = needs & ~wrong & col["until"].isna().to_numpy(dtype=bool)
    post = _pair_key(_pair_key(role, col["grid_code"].fillna("")),
                     _pair_key(col["building_id"].fillna(""), col["unit_no"].fillna("")))  # fmt: skip
    first = np.full(n, -1, dtype=np.int64)
    rows = np.flatnonzero(open_post)
    if len(rows):
        # posts, persons and sinces as integer codes: no Python string per row
        posts = pd.factorize(post.iloc[rows])[0]
        lowest = np.full(int(posts.max()) + 1, n, dtype=np.int64)
        np.minimum.at(lowest, posts, rows)
        first[rows] = lowest[posts]
    person = pd.factorize(col["person_id"], use_na_sentinel=False)[0]
    since = pd.factorize(col["since"], use_na_sentinel=False)[0]
    second = open_post & (first != np.arange(n))
    second[second] &= ~(
        (person[second] == person[first[second]]) & (since[second] == since[first[second]])
    )
    # until before since: both ISO dates (compared as text first, as they sort alike)
    s_text, u_text = col["since"].str.strip(), col["until"].str.strip()
    early = (
        _flag(s_text.str.fullmatch(_ISO_DATE.pattern))
        & _flag(u_text.str.fullmatch(_ISO_DATE.pattern))
        & _flag(u_text < s_text)
    )
    out: list[Problem] = []
    for i in map(int, np.flatnonzero(wrong | missing | second | early)):
        r: dict[str, Any] = {c: (None if pd.isna(v := col[c].iloc[i]) else v) for c in col}
        if needs[i]:
            out += _targets(i, str(r["role"]), r) + _targets_exist(i, str(r["role"]), r, ok={
                "grid": bool(grid_ok[i]), "building": bool(building_ok[i]),
                "unit": bool(unit_ok[i])})  # fmt: skip
            if second[i]:
                out += _second_holder(i, str(r["role"]), r, int(first[i]))
        ds, du = iso_date(r["since"]), iso_date(r["until"])
        if early[i] and ds is not None and du is not None and du < ds:
            out.append(
                Problem("assignments", i, "until", r["until"], f"is before since ({r['since']})")
            )
    return out


def _flag(values: pd.Series) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """A boolean column as a numpy array, missing as False."""
    return values.fillna(False).to_numpy(dtype=bool)


def _pair_key(a: pd.Series, b: pd.Series) -> pd.Series:
    """Two text columns as one, for matching pairs without making tuples."""
    return a.str.cat(b, sep="\x1f")


def _second_holder(i: int, role: str, r: Mapping[Any, Any], first: int) -> list[Problem]:
    """A post (a grid, building or unit, per role) has one current holder (the database's
    unique ``assignment_one_current_*`` indexes): row ``first`` holds it already."""
    what = {
        "grid_chief": f"grid {r.get('grid_code')}",
        "building_chief": f"building {r.get('building_id')}",
        "unit_chief": f"unit {r.get('unit_no')} of building {r.get('building_id')}",
    }[role]
    why = (
        f"is empty, but row {first} is already the current {role} of {what}: a post has one "
        "current holder (give the earlier term its until)"
    )
    return [Problem("assignments", i, "until", None, why)]


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


def _targets_exist(i: int, role: str, r: Mapping[Any, Any], ok: dict[str, bool]) -> list[Problem]:
    g, b, un = r.get("grid_code"), r.get("building_id"), r.get("unit_no")
    if role == "grid_chief" and g is not None and not ok["grid"]:
        return [Problem("assignments", i, "grid_code", g, "is not a grid in the grids layer")]
    if role == "grid_chief" or b is None:
        return []
    if not ok["building"]:
        return [
            Problem("assignments", i, "building_id", b, "is not a building in the buildings layer")
        ]
    if role == "unit_chief" and un is not None and not ok["unit"]:
        return [Problem("assignments", i, "unit_no", un, f"is not a unit of building {b}")]
    return []
