"""The contents of one sample community or village: buildings, grids, legacy grids, roster.

Everything is laid out in the county's metric CRS and returned in EPSG:4490. Urban
communities get a street grid of 170 m x 140 m blocks (20 m roads), one compound (小区)
per block, each split into two 85 m lots: six-storey walk-ups (3-6 units of 12 households)
or high-rises (2-4 units, 60-120 households). Villages get 3-7 hamlets (屯), houses on both
sides of a lane, one or two villager groups (村民小组) per hamlet. Truth grids are built
from whole lots (urban, 300-500 households) or whole hamlets (rural), so each building lies
in exactly one grid, and the grids of a community form a coverage of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from shapely import affinity

from geodata.reference import road_names
from geodata.sample_divisions import clean_coverage, dissolve, to_metric, to_storage
from geodata.sample_names import (
    chinese_number,
    compound_names,
    hamlet_names,
    person_names,
    phone_numbers,
)
from gridmap.codes import compose_grid_code, reading_order
from gridmap.geometry import polygonal

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pyproj import CRS

LOT_W, LOT_H, ROAD = 85.0, 140.0, 10.0
TODAY = dt.date(2025, 6, 30)


@dataclass
class Pinned:
    """Names a community must contain (the demo's recognisable places)."""

    compounds: tuple[str, ...] = ()
    hamlets: tuple[str, ...] = ()


@dataclass
class _Acc:
    """Rows of one community, column lists by layer."""

    buildings: dict[str, list[object]] = field(default_factory=dict)
    units: dict[str, list[object]] = field(default_factory=dict)
    people: dict[str, list[object]] = field(default_factory=dict)
    assignments: dict[str, list[object]] = field(default_factory=dict)

    def add(self, layer: str, **row: object) -> None:
        cols: dict[str, list[object]] = getattr(self, layer)
        for k, v in row.items():
            cols.setdefault(k, []).append(v)


def _rect(
    cx: np.ndarray, cy: np.ndarray, w: np.ndarray, h: np.ndarray, theta: np.ndarray | float = 0.0
) -> np.ndarray:
    """Rectangles centred at (cx, cy), w x h, rotated by theta radians."""
    lx = np.array([-0.5, 0.5, 0.5, -0.5, -0.5])
    ly = np.array([-0.5, -0.5, 0.5, 0.5, -0.5])
    x = lx[None, :] * np.asarray(w)[:, None]
    y = ly[None, :] * np.asarray(h)[:, None]
    t = np.broadcast_to(np.asarray(theta, dtype=float), np.shape(cx))[:, None]
    rx = x * np.cos(t) - y * np.sin(t) + np.asarray(cx)[:, None]
    ry = x * np.sin(t) + y * np.cos(t) + np.asarray(cy)[:, None]
    return shapely.polygons(np.stack([rx, ry], axis=-1))


def _voronoi_dissolve(
    points: np.ndarray, labels: Sequence[int], poly: shapely.Geometry
) -> dict[int, shapely.Geometry]:
    """Voronoi cells of labelled points, clipped to ``poly``, cleaned, dissolved by label."""
    uniq = sorted(set(labels))
    if len(uniq) == 1:
        return {uniq[0]: poly}
    env = shapely.box(*poly.bounds).buffer(2000)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=env, ordered=True)
    )
    # nearly collinear seeds (houses along a lane) can give slightly invalid cells
    bad = ~shapely.is_valid(cells) | (shapely.get_type_id(cells) != 3)
    if bad.any():
        cells[bad] = [polygonal(g) for g in shapely.make_valid(cells[bad])]
    if len(cells) != len(points):
        raise shapely.errors.GEOSException("Voronoi lost cells of coincident points")
    try:
        clipped = shapely.intersection(cells, poly)
    except shapely.errors.GEOSException:
        clipped = shapely.intersection(cells, poly, grid_size=0.001)  # snap-rounding overlay
    clipped = np.array([polygonal(g) for g in shapely.make_valid(clipped)], dtype=object)
    keep = ~shapely.is_empty(clipped)
    cleaned = clean_coverage(clipped[keep], 0.001)
    lab = np.asarray(labels)[keep]
    out = {}
    for k in uniq:
        parts = [g for g in cleaned[lab == k] if not g.is_empty]
        if parts:
            out[k] = dissolve(parts)
    return out


def _date(rng: np.random.Generator, start: int, end: int) -> dt.date:
    a, b = dt.date(start, 1, 1).toordinal(), dt.date(end, 12, 31).toordinal()
    return dt.date.fromordinal(int(rng.integers(a, min(b, TODAY.toordinal()) + 1)))


class _Roster:
    def __init__(self, code: str, rng: np.random.Generator, acc: _Acc) -> None:
        self.code, self.rng, self.acc, self.n = code, rng, acc, 0

    def person(self) -> str:
        self.n += 1
        pid = f"P{self.code}{self.n:04d}"
        self.acc.add(
            "people",
            person_id=pid,
            name=person_names(self.rng, 1)[0],
            phone=phone_numbers(self.rng, 1)[0],
        )
        return pid

    def assign(
        self, role: str, vacancy: float, past: float, pid: str | None = None, **target: object
    ) -> str | None:
        """A current holder (unless vacant) and maybe a predecessor; returns the holder's id."""
        rng = self.rng
        target = {"grid_code": None, "building_id": None, "unit_no": None, **target}
        vacant = rng.random() < vacancy
        since = _date(rng, 2020, 2025)
        holder = None
        if not vacant:
            holder = pid or self.person()
            self.acc.add(
                "assignments",
                person_id=holder,
                role=role,
                since=since.isoformat(),
                until=None,
                **target,
            )
        if vacant or rng.random() < past:
            until = since if not vacant else _date(rng, 2024, 2025)
            start = dt.date.fromordinal(until.toordinal() - int(rng.integers(365, 365 * 5)))
            self.acc.add(
                "assignments",
                person_id=self.person(),
                role=role,
                since=start.isoformat(),
                until=until.isoformat(),
                **target,
            )
        return holder


@dataclass
class Community:
    code: str
    name: str
    polygon_ll: shapely.Geometry
    crs: CRS
    urban: bool
    pinned: Pinned = field(default_factory=Pinned)


def generate_community(c: Community, seed: int) -> dict[str, pd.DataFrame]:
    """Column frames (geometry in EPSG:4490 as a ``geometry`` object column) per layer."""
    rng = np.random.default_rng([seed, int(c.code)])
    poly = polygonal(shapely.make_valid(to_metric(np.array([c.polygon_ll]), c.crs)[0]))
    acc = _Acc()
    roster = _Roster(c.code, rng, acc)
    if c.urban:
        # streets run along the community's longer axis: lay out in a rotated frame
        angle, origin = _main_axis(poly), shapely.point_on_surface(poly)
        frame = affinity.rotate(poly, -angle, origin=origin, use_radians=True)
        geoms, lot_xy, lot_hh, lot_of_bldg = _urban(c, frame, rng, acc)
        grid_of_lot = _group_lots(lot_hh)
        cells = _voronoi_dissolve(lot_xy, grid_of_lot, frame) if len(lot_xy) else {0: frame}
        cells = {
            k: affinity.rotate(g, angle, origin=origin, use_radians=True) for k, g in cells.items()
        }
        geoms = [affinity.rotate(g, angle, origin=origin, use_radians=True) for g in geoms]
        grid_of_bldg = [grid_of_lot[i] for i in lot_of_bldg]
        kind = "urban"
        civil_cells = _halves(cells)
    else:
        geoms, xy, hamlet_of, group_of = _rural(c, poly, rng, acc)
        cells = _voronoi_dissolve(xy, hamlet_of, poly) if len(xy) else {0: poly}
        civil_cells = _voronoi_dissolve(xy, group_of, poly) if len(xy) else {0: poly}
        grid_of_bldg = list(hamlet_of)
        kind = "rural"
    keys = sorted(cells)
    cents = [shapely.centroid(cells[k]).coords[0] for k in keys]
    order = reading_order(cents)
    serial_of = {keys[i]: n + 1 for n, i in enumerate(order)}
    grid_code = {k: compose_grid_code(c.code, serial_of[k]) for k in keys}
    grids = {
        "code": [grid_code[k] for k in keys],
        "name": [f"{c.name}第{chinese_number(serial_of[k])}网格" for k in keys],
        "community_code": [c.code] * len(keys),
        "kind": [kind] * len(keys),
        "geometry": list(to_storage(np.array([cells[k] for k in keys], dtype=object), c.crs)),
    }
    for k in sorted(keys, key=lambda k: serial_of[k]):
        roster.assign("grid_chief", 0.06, 0.25, grid_code=grid_code[k])
    _roster_buildings(acc, roster, c.urban, grid_of_bldg)
    legacy = _legacy(
        c, [cells[k] for k in sorted(keys, key=lambda k: serial_of[k])], civil_cells, poly, rng
    )
    acc.buildings["geometry"] = list(to_storage(np.asarray(geoms, dtype=object), c.crs))
    return {
        "grids": pd.DataFrame(grids),
        "legacy_grids": pd.DataFrame(legacy),
        "buildings": pd.DataFrame(acc.buildings),
        "units": pd.DataFrame(acc.units),
        "people": pd.DataFrame(acc.people),
        "assignments": pd.DataFrame(acc.assignments),
    }


def _urban(
    c: Community, poly: shapely.Geometry, rng: np.random.Generator, acc: _Acc
) -> tuple[list[shapely.Geometry], np.ndarray, list[int], list[int]]:
    target = int(rng.integers(2500, 6001))
    rep = shapely.point_on_surface(poly)
    radius = np.sqrt(target / 350 * 2 * LOT_W * LOT_H / np.pi) * 2 + 600
    inner = poly.buffer(-3.0)
    shapely.prepare(inner)
    best = -1
    for fx, fy in rng.random((6, 2)):
        ox_, oy_ = rep.x - 2 * LOT_W * fx, rep.y - LOT_H * fy
        i = np.arange(
            np.floor((rep.x - radius - ox_) / (2 * LOT_W)),
            np.ceil((rep.x + radius - ox_) / (2 * LOT_W)),
        )
        j = np.arange(
            np.floor((rep.y - radius - oy_) / LOT_H), np.ceil((rep.y + radius - oy_) / LOT_H)
        )
        bi_, bj_ = (a.ravel() for a in np.meshgrid(i, j))
        bx_, by_ = ox_ + bi_ * 2 * LOT_W, oy_ + bj_ * LOT_H
        ok_ = shapely.contains(inner, shapely.box(bx_, by_, bx_ + 2 * LOT_W, by_ + LOT_H))
        if int(ok_.sum()) > best:
            best = int(ok_.sum())
            bi, bj, bx, by, ok = bi_, bj_, bx_, by_, ok_
        if best >= target / 380:
            break
    dist = np.hypot(bx + LOT_W - rep.x, by + LOT_H / 2 - rep.y)
    cand = np.flatnonzero(ok)[np.argsort(dist[ok], kind="stable")]
    names = list(road_names())
    roads = [names[k] for k in rng.permutation(len(names))]
    col_road = {int(v): roads[n % len(roads)] for n, v in enumerate(sorted(set(bi[cand].tolist())))}
    row_road = {
        int(v): roads[-1 - n % len(roads)] for n, v in enumerate(sorted(set(bj[cand].tolist())))
    }
    base = {r: int(rng.integers(0, 60)) * 2 + 1 for r in roads}
    n_blocks = min(len(cand), max(1, int(np.ceil(target / 380))))
    compounds = compound_names(rng, n_blocks, c.pinned.compounds)
    geoms: list[shapely.Geometry] = []
    lot_xy: list[tuple[float, float]] = []
    lot_hh: list[int] = []
    lot_of_bldg: list[int] = []
    lot_order: list[tuple[int, int, int]] = []
    nb = 0
    for n, b in enumerate(cand[:n_blocks]):
        x0, y0 = float(bx[b]), float(by[b])
        gi, gj = int(bi[b]), int(bj[b])
        if (gi + gj) % 2 == 0:
            road, k_along, side = col_road[gi], -gj, 0
        else:
            road, k_along, side = row_road[gj], gi, 1
        house = str(base[road] + 2 * (k_along % 200) + side)
        high = rng.random() < 0.4
        letters = high and rng.random() < 0.25
        bno = 0
        for k in (0, 1):
            lx0 = x0 + ROAD + k * (LOT_W - ROAD)
            lot = len(lot_xy)
            lot_xy.append((x0 + LOT_W * (k + 0.5), y0 + LOT_H / 2))
            lot_order.append((-gj, 2 * gi + k, lot))
            hh_lot = 0
            rows = (0.15, 0.55) if high else (0.03, 0.28, 0.53, 0.78)
            for ry in sorted(rows, reverse=True):
                units = int(rng.integers(2, 5)) if high else int(rng.integers(3, 7))
                uw = 15.0 if high else 12.0
                depth = 18.0 if high else 12.0
                w = units * uw
                cx = lx0 + (LOT_W - ROAD) / 2
                cy = y0 + ROAD + ry * (LOT_H - 2 * ROAD) + depth / 2
                hh = int(rng.integers(60, 121)) if high else 12 * units
                floors = int(np.ceil(hh / units / 2)) if high else 6
                bno += 1
                nb += 1
                bid = f"B{c.code}{nb:04d}"
                geoms.append(shapely.box(cx - w / 2, cy - depth / 2, cx + w / 2, cy + depth / 2))
                lot_of_bldg.append(lot)
                acc.add(
                    "buildings",
                    building_id=bid,
                    community_code=c.code,
                    road=road,
                    house_number=house,
                    compound=compounds[n],
                    hamlet=None,
                    group_no=None,
                    building_no=chr(64 + bno) if letters else str(bno),
                    households=hh,
                    floors=floors,
                )
                per, extra = divmod(hh, units)
                for u in range(units):
                    acc.add(
                        "units",
                        building_id=bid,
                        unit_no=str(u + 1),
                        households=per + (1 if u < extra else 0),
                    )
                hh_lot += hh
            lot_hh.append(hh_lot)
    # snake order (north row first, west to east, then back) keeps consecutive lots adjacent
    rows_of: dict[int, list[tuple[int, int]]] = {}
    for r, x, lot in lot_order:
        rows_of.setdefault(r, []).append((x, lot))
    snake: list[int] = []
    for n, r in enumerate(sorted(rows_of)):
        row = sorted(rows_of[r])
        snake.extend(lot for _, lot in (row if n % 2 == 0 else row[::-1]))
    perm = np.array(snake, dtype=int)
    inv = np.empty_like(perm)
    inv[perm] = np.arange(len(perm))
    xy = np.array(lot_xy).reshape(-1, 2)[perm]
    return geoms, xy, [lot_hh[p] for p in perm], [int(inv[lot]) for lot in lot_of_bldg]


def _main_axis(poly: shapely.Geometry) -> float:
    """Angle (radians) of the longer side of the minimum rotated rectangle, within +-45°."""
    xy = np.asarray(shapely.minimum_rotated_rectangle(poly).exterior.coords)
    if len(xy) < 3:
        return 0.0
    d = np.diff(xy[:3], axis=0)
    i = int(np.argmax(np.hypot(d[:, 0], d[:, 1])))
    a = float(np.arctan2(d[i, 1], d[i, 0]))
    return (a + np.pi / 4) % (np.pi / 2) - np.pi / 4


def _group_lots(lot_hh: list[int]) -> list[int]:
    """Consecutive lots into grids of 300-500 households (the last may be smaller)."""
    out, grid, total = [], 0, 0
    for i, hh in enumerate(lot_hh):
        if total >= 300 or (total > 0 and total + hh > 500):
            grid, total = grid + 1, 0
        out.append(grid)
        total += hh
        if i == len(lot_hh) - 1 and total < 150 and grid > 0:
            out = [g if g != grid else grid - 1 for g in out]
    return out


def _rural(
    c: Community, poly: shapely.Geometry, rng: np.random.Generator, acc: _Acc
) -> tuple[list[shapely.Geometry], np.ndarray, list[int], list[int]]:
    n_ham = int(rng.integers(3, 8))
    names = hamlet_names(rng, n_ham, c.pinned.hamlets)
    inner = poly.buffer(-120.0)
    if inner.is_empty:
        inner = poly
    shapely.prepare(inner)
    minx, miny, maxx, maxy = inner.bounds
    spacing = min(700.0, 0.8 * float(np.sqrt(inner.area / n_ham)))
    centres: list[tuple[float, float]] = []
    for _ in range(600):
        if len(centres) == n_ham:
            break
        p = (rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if shapely.contains_xy(inner, *p) and all(
            np.hypot(p[0] - q[0], p[1] - q[1]) > spacing for q in centres
        ):
            centres.append(p)
    if not centres:
        centres.append(shapely.point_on_surface(poly).coords[0])
    shapely.prepare(poly)
    geoms: list[shapely.Geometry] = []
    xy: list[tuple[float, float]] = []
    hamlet_of: list[int] = []
    group_of: list[int] = []
    group_no = 0
    nb = 0
    for h, (hx, hy) in enumerate(centres):
        n = int(rng.integers(16, 46))
        theta = rng.uniform(0, np.pi)
        k = np.arange(n) // 2
        side = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
        along = (k - k.max() / 2) * 22.0
        off = side * 14.0
        cx = hx + along * np.cos(theta) - off * np.sin(theta)
        cy = hy + along * np.sin(theta) + off * np.cos(theta)
        rects = _rect(cx, cy, np.full(n, 12.0), np.full(n, 9.0), theta)
        inside = shapely.contains(poly, rects)
        if geoms:
            # keep hamlets apart, so every house is nearer its own hamlet than any other
            near = shapely.STRtree(geoms).query(rects, predicate="dwithin", distance=40.0)[0]
            inside[near] = False
        groups = 2 if n > 30 else 1
        for i in np.flatnonzero(inside):
            g = group_no + 1 + (i * groups) // n
            nb += 1
            bid = f"B{c.code}{nb:04d}"
            hh = 2 if rng.random() < 0.12 else 1
            geoms.append(rects[i])
            xy.append((float(cx[i]), float(cy[i])))
            hamlet_of.append(h)
            group_of.append(g)
            acc.add(
                "buildings",
                building_id=bid,
                community_code=c.code,
                road=None,
                house_number=str(2 * int(k[i]) + (1 if side[i] > 0 else 2)),
                compound=names[h],
                hamlet=names[h],
                group_no=str(g),
                building_no=None,
                households=hh,
                floors=1,
            )
            acc.add("units", building_id=bid, unit_no="1", households=hh)
        group_no += groups
    # houses along a lane are collinear, a degenerate case for Voronoi: nudge the seeds
    seeds = np.array(xy).reshape(-1, 2) + rng.normal(0.0, 0.5, (len(xy), 2))
    return geoms, seeds, hamlet_of, group_of


def _roster_buildings(acc: _Acc, roster: _Roster, urban: bool, grid_of: list[int]) -> None:
    bids = [str(b) for b in acc.buildings.get("building_id", [])]
    units: dict[str, list[str]] = {}
    for b, u in zip(acc.units.get("building_id", []), acc.units.get("unit_no", []), strict=True):
        units.setdefault(str(b), []).append(str(u))
    if urban:
        for b in bids:
            holder = roster.assign("building_chief", 0.05, 0.1, building_id=b)
            for n, u in enumerate(units.get(b, [])):
                if len(units[b]) < 2:
                    break
                roster.assign(
                    "unit_chief",
                    0.05,
                    0.05,
                    pid=holder if n == 0 else None,
                    building_id=b,
                    unit_no=u,
                )
        return
    # villages: one household head looks after about ten neighbouring houses (联户长)
    holder: str | None = None
    for n, b in enumerate(bids):
        if n % 10 == 0 or (n and grid_of[n] != grid_of[n - 1]):
            holder = roster.person()
        since = "2022-01-01"
        acc.add(
            "assignments",
            person_id=holder,
            role="building_chief",
            grid_code=None,
            building_id=b,
            unit_no=None,
            since=since,
            until=None,
        )


def _halves(cells: dict[int, shapely.Geometry]) -> dict[int, shapely.Geometry]:
    """Each grid cut in two across its longer side (the civil-affairs layer is finer)."""
    out: dict[int, shapely.Geometry] = {}
    for k, g in cells.items():
        minx, miny, maxx, maxy = g.bounds
        c = shapely.centroid(g)
        if maxx - minx > maxy - miny:
            a, b = (
                shapely.box(minx - 1, miny - 1, c.x, maxy + 1),
                shapely.box(c.x, miny - 1, maxx + 1, maxy + 1),
            )
        else:
            a, b = (
                shapely.box(minx - 1, c.y, maxx + 1, maxy + 1),
                shapely.box(minx - 1, miny - 1, maxx + 1, c.y),
            )
        for n, half in enumerate((a, b)):
            piece = polygonal(shapely.intersection(g, half))
            if not piece.is_empty:
                out[2 * k + n] = piece
    return out


def _shift(g: shapely.Geometry, rng: np.random.Generator) -> shapely.Geometry:
    d, a = rng.uniform(5, 30), rng.uniform(0, 2 * np.pi)
    return affinity.translate(g, d * np.cos(a), d * np.sin(a))


def _legacy(
    c: Community,
    grids: list[shapely.Geometry],
    civil: dict[int, shapely.Geometry],
    poly: shapely.Geometry,
    rng: np.random.Generator,
) -> dict[str, list[object]]:
    rows: dict[str, list[object]] = {
        k: [] for k in ("layer", "source_code", "name", "community_code", "geometry")
    }

    def add(layer: str, code: str, name: str, comm: str | None, g: shapely.Geometry) -> None:
        for k, v in zip(rows, (layer, code, name, comm, g), strict=True):
            rows[k].append(v)

    year = int(rng.integers(2015, 2021))
    cross = int(rng.integers(len(grids))) if rng.random() < 0.3 else -1
    for n, g in enumerate(grids, start=1):
        shape = _shift(g, rng)
        if n - 1 == cross:
            shape = shape.buffer(40.0, join_style="mitre")
        add(
            "governance",
            f"{c.code}{year % 100:02d}01{n:04d}",
            f"{c.name}综治网格{n}",
            c.code,
            shape,
        )
    centre = shapely.centroid(poly)
    angle = rng.uniform(-0.4, 0.4)
    step = 2 if len(grids) > 3 else 1
    for n, start in enumerate(range(0, len(grids), step), start=1):
        merged = polygonal(shapely.union_all(grids[start : start + step]).buffer(0))
        shape = affinity.rotate(_shift(merged, rng), angle, origin=centre)
        if rng.random() < 0.15:
            shape = polygonal(shape.buffer(-15.0))
        if shape.is_empty:
            continue
        text = f"{c.name}第{chinese_number(n)}网格"
        add("party", text, f"{text}(党支部)", c.code, shape)
    for n, k in enumerate(sorted(civil, key=lambda k: (-shapely.centroid(civil[k]).y, k)), start=1):
        if rng.random() < 0.05:
            continue
        add("civil", f"民政-{n:02d}", f"{c.name}民政网格{n}", c.code, _shift(civil[k], rng))
    rows["geometry"] = list(to_storage(np.asarray(rows["geometry"], dtype=object), c.crs))
    return rows
