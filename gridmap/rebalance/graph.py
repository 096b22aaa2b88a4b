"""The community as a graph of sites, built from the same noded faces as the merge.

A *site* is one building, or the buildings of one grid that stand on one spot (they can only
move together). Each site owns a territory: the faces of the community nearest to it inside
its current grid (its Voronoi cell cut by the grid's boundary). The current grid boundaries,
the territory lines and any barrier lines are noded once (:func:`gridmap.merge.atoms.
build_atoms`), so any grouping of territories dissolves into a valid coverage, and a grid
whose sites all stay keeps exactly its current polygon. Two sites are neighbours when their
territories share an edge that is not on a barrier. Territories are drawn in metres; all
else is noded exactly in the storage CRS, so an untouched grid keeps its very polygon. A current grid without buildings is a
site of its own with no households.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from gridmap.merge.atoms import Atoms, build_atoms, components
from gridmap.merge.territory import territory_lines

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from gridmap.merge.atoms import Geoms, Ints

#: how near a shared edge must lie to a barrier line to count as on it, in degrees (~0.1 m)
ON_BARRIER = 1e-6


@dataclass
class SiteGraph:
    """Sites with households, territory area and perimeter, neighbours and current grid."""

    households: list[int]
    area: list[float]
    perimeter: list[float]
    #: site -> {neighbour site: shared edge length (m)}
    neighbours: list[dict[int, float]]
    #: current grid (its index in the input) of each site
    grid: list[int]
    #: site of each building (-1 for a building of no site: none exist today)
    building_site: Ints
    atoms: Atoms
    #: site owning each face
    face_site: Ints
    #: sites that stand for a current grid with no buildings
    empty: set[int] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.households)


def build_graph(
    frame: Any,
    grid_geoms: Geoms,
    building_points: Geoms,
    building_grid: Ints,
    households: Ints,
    barriers: Sequence[Any] = (),
    *,
    metric_xy: np.ndarray[Any, Any] | None = None,
    to_metric: Callable[[Any], Any] | None = None,
    from_metric: Callable[[Any], Any] | None = None,
) -> SiteGraph:
    """The site graph of one community.

    Geometry is in the storage CRS and is noded exactly, so that a grid whose sites all stay
    dissolves back to its own polygon. Territories are drawn in a metric CRS when
    ``metric_xy`` (the buildings' points there) and the two transforms are given.
    ``building_grid`` is each building's current grid, an index into ``grid_geoms``.
    """
    xy = shapely.get_coordinates(building_points)
    mxy = metric_xy if metric_xy is not None else xy
    site_of, site_grid, vxy = _sites(mxy, building_grid, len(grid_geoms))
    site_xy = np.full_like(vxy, np.nan)
    if len(site_of):
        first = np.unique(site_of, return_index=True)[1]
        site_xy[site_of[first]] = xy[first]
    lines: list[Any] = [shapely.boundary(g) for g in grid_geoms]
    for g, poly in enumerate(grid_geoms):
        own = np.flatnonzero(site_grid == g)
        if len(own) > 1:
            # 5 cm past the grid's edge, so that every line crosses it (noding cuts it
            # there; the stubs beyond bound no face)
            region = shapely.buffer(
                to_metric(poly) if to_metric else poly, 0.05, join_style="mitre"
            )
            cut = territory_lines(region, vxy[own], np.arange(len(own), dtype=np.int64))
            lines += [from_metric(c) for c in cut] if from_metric else cut
    barrier_lines = [b for b in barriers if b is not None and not b.is_empty]
    atoms = build_atoms(frame, [*lines, *barrier_lines], None)
    face_site = _face_sites(atoms, grid_geoms, site_grid, vxy, to_metric)
    anchor = np.full(len(site_grid), -1, dtype=np.int64)
    real = ~np.isnan(site_xy[:, 0])
    if real.any() and len(atoms):
        anchor[real] = atoms.locate(np.asarray(shapely.points(site_xy[real]), dtype=object))
    face_site = _connect_territories(atoms, face_site, anchor)
    hh = np.bincount(site_of, weights=households, minlength=len(site_grid)).astype(np.int64)
    area = np.bincount(face_site, weights=atoms.area, minlength=len(site_grid))
    perim = np.bincount(face_site, weights=atoms.perimeter, minlength=len(site_grid))
    si, sj = face_site[atoms.adj_i], face_site[atoms.adj_j]
    same = si == sj
    np.subtract.at(perim, si[same], 2 * atoms.adj_len[same])
    cross = ~same
    if barrier_lines:
        cross &= ~_on_barrier(atoms, barrier_lines)
    neighbours: list[dict[int, float]] = [{} for _ in range(len(site_grid))]
    for a, b, length in zip(
        si[cross].tolist(), sj[cross].tolist(), atoms.adj_len[cross].tolist(), strict=True
    ):
        neighbours[a][b] = neighbours[a].get(b, 0.0) + length
        neighbours[b][a] = neighbours[b].get(a, 0.0) + length
    with_buildings = set(site_of.tolist())
    return SiteGraph(
        households=hh.tolist(),
        area=area.tolist(),
        perimeter=perim.tolist(),
        neighbours=neighbours,
        grid=site_grid.tolist(),
        building_site=site_of,
        atoms=atoms,
        face_site=face_site,
        empty={s for s in range(len(site_grid)) if s not in with_buildings},
    )


def _sites(
    xy: np.ndarray[Any, Any], building_grid: Ints, n_grids: int
) -> tuple[Ints, Ints, np.ndarray[Any, Any]]:
    """Site of each building (one per grid and spot, to 0.1 m of ``xy`` in metres), each
    site's grid and point;
    then one site per grid without buildings (its point is unused)."""
    key = np.column_stack([building_grid, np.round(xy[:, 0], 1), np.round(xy[:, 1], 1)])
    if len(key):
        _uniq, first, site_of = np.unique(key, axis=0, return_index=True, return_inverse=True)
        site_grid = building_grid[first].astype(np.int64)
        site_xy = xy[first]
    else:
        site_of = np.zeros(0, dtype=np.int64)
        site_grid = np.zeros(0, dtype=np.int64)
        site_xy = np.zeros((0, 2))
    missing = np.setdiff1d(np.arange(n_grids), site_grid)
    site_grid = np.concatenate([site_grid, missing]).astype(np.int64)
    site_xy = np.vstack([site_xy, np.full((len(missing), 2), np.nan)])
    return np.asarray(site_of, dtype=np.int64).ravel(), site_grid, site_xy


def _face_sites(
    atoms: Atoms,
    grid_geoms: Geoms,
    site_grid: Ints,
    site_xy: np.ndarray[Any, Any],
    to_metric: Callable[[Any], Any] | None = None,
) -> Ints:
    """The site owning each face: the nearest site of the grid the face lies in, measured
    where the territories were drawn (``site_xy`` are the sites' points there, and
    ``to_metric`` takes the faces there; a degree of longitude is shorter than one of
    latitude, so nearest in degrees is not nearest on the ground); faces in no grid get -1."""
    out = np.full(len(atoms), -1, dtype=np.int64)
    if not len(atoms):
        return out
    tree = shapely.STRtree(grid_geoms)
    fi, gi = tree.query(atoms.reps, predicate="within")
    face_grid = np.full(len(atoms), -1, dtype=np.int64)
    face_grid[fi] = gi
    reps = atoms.reps if to_metric is None else np.asarray(to_metric(atoms.reps), dtype=object)
    for g in np.unique(face_grid[face_grid >= 0]).tolist():
        faces = np.flatnonzero(face_grid == g)
        own = np.flatnonzero(site_grid == g)
        if len(own) == 1 or np.isnan(site_xy[own[0], 0]):
            out[faces] = own[0]
            continue
        pts = np.asarray(shapely.points(site_xy[own]), dtype=object)
        _, near = shapely.STRtree(pts).query_nearest(reps[faces], all_matches=False)
        out[faces] = own[near]
    return out


def _connect_territories(atoms: Atoms, face_site: Ints, anchor: Ints) -> Ints:
    """Give faces in no grid, and pieces of a territory cut off from its main part (the
    piece its buildings stand in), to the neighbouring site they share most edge with."""
    out = face_site.copy()
    for _ in range(50):
        comp = _components_by(atoms, out)
        keep = _main_component(atoms, out, comp, anchor)
        loose = np.flatnonzero((out < 0) | ~keep)
        if not len(loose):
            break
        changed = False
        for f in loose.tolist():
            best = _best_neighbour(atoms, out, f)
            if best is not None and best != out[f]:
                out[f] = best
                changed = True
        if not changed:
            break
    return out


def _components_by(atoms: Atoms, owner: Ints) -> Ints:
    same = owner[atoms.adj_i] == owner[atoms.adj_j]
    return components(len(atoms), atoms.adj_i[same], atoms.adj_j[same])


def _main_component(atoms: Atoms, owner: Ints, comp: Ints, anchor: Ints) -> np.ndarray[Any, Any]:
    """Whether each face is in the main piece of its site's territory: the piece holding
    the site's point, else the largest."""
    best = np.full(len(anchor), -1, dtype=np.int64)
    area: dict[tuple[int, int], float] = {}
    for s, c, a in zip(owner.tolist(), comp.tolist(), atoms.area.tolist(), strict=True):
        if s >= 0:
            area[(s, c)] = area.get((s, c), 0.0) + a
    top: dict[int, float] = {}
    for (s, c), a in area.items():
        if a > top.get(s, -1.0):
            top[s], best[s] = a, c
    held = (anchor >= 0) & (owner[np.maximum(anchor, 0)] == np.arange(len(anchor)))
    best[held] = comp[anchor[held]]
    return np.array(
        [s >= 0 and best[s] == c for s, c in zip(owner.tolist(), comp.tolist(), strict=True)]
    )


def _best_neighbour(atoms: Atoms, owner: Ints, face: int) -> int | None:
    shared: dict[int, float] = {}
    for a, b in ((atoms.adj_i, atoms.adj_j), (atoms.adj_j, atoms.adj_i)):
        sel = a == face
        for o, length in zip(owner[b[sel]].tolist(), atoms.adj_len[sel].tolist(), strict=True):
            if o >= 0 and o != owner[face]:
                shared[o] = shared.get(o, 0.0) + length
    if not shared:
        return None
    return max(shared, key=lambda o: (shared[o], -o))


def _on_barrier(atoms: Atoms, barriers: list[Any]) -> np.ndarray[Any, Any]:
    """Whether the edge each adjacent face pair shares lies on a barrier line."""
    boundary = shapely.boundary(atoms.faces)
    edges = shapely.intersection(boundary[atoms.adj_i], boundary[atoms.adj_j])
    zone = shapely.buffer(shapely.union_all(barriers), ON_BARRIER)
    shapely.prepare(zone)
    return np.asarray(shapely.covered_by(edges, zone), dtype=bool)
