"""Atoms: the faces of all linework of one community, noded together.

Every boundary that matters (the community frame, each legacy grid, the lines that split
an oversized grid, building footprints that a line crosses) is noded once and
polygonized. The faces share their edges exactly, so any grouping of them dissolved with
``shapely.coverage_union_all`` is again a valid coverage: no polygon arithmetic of our own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import NDArray

if TYPE_CHECKING:
    from collections.abc import Iterable

Geoms = NDArray[np.object_]
Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


@dataclass
class Atoms:
    """Faces inside a frame, their representative points and their adjacency."""

    faces: Geoms
    reps: Geoms
    area: Floats
    perimeter: Floats
    #: adjacency as parallel arrays: face i, face j (i < j), shared edge length
    adj_i: Ints
    adj_j: Ints
    adj_len: Floats
    #: the noded linework the faces were built from
    lines: Any
    tree: shapely.STRtree

    def __len__(self) -> int:
        return len(self.faces)

    def locate(self, points: Geoms) -> Ints:
        """Index of a face holding each point; the nearest face for a point outside all."""
        out = np.full(len(points), -1, dtype=np.int64)
        if len(points) == 0 or len(self.faces) == 0:
            return out
        src, hit = self.tree.query(points, predicate="intersects")
        order = np.argsort(src, kind="stable")
        src, hit = src[order], hit[order]
        first = np.unique(src, return_index=True)
        out[first[0]] = hit[first[1]]
        missing = np.flatnonzero(out < 0)
        if len(missing):
            msrc, mhit = self.tree.query_nearest(points[missing], all_matches=False)
            out[missing[msrc]] = mhit
        return out


def _line_parts(geoms: Iterable[Any]) -> Geoms:
    arr = np.asarray([g for g in geoms if g is not None], dtype=object)
    if len(arr) == 0:
        return arr
    arr = arr[~shapely.is_empty(arr)]
    parts = shapely.get_parts(arr)
    return np.asarray(parts[np.isin(shapely.get_type_id(parts), (1, 2))], dtype=object)


def build_atoms(
    frame: Any, linework: Iterable[Any], grid_size: float | None, adjacency: bool = True
) -> Atoms:
    """Node ``linework`` with the frame boundary and return the faces inside ``frame``.

    ``grid_size`` snaps the noding to a precision grid; None nodes exactly.

    ``adjacency=False`` skips the shared-edge lengths when only the faces are needed.

    >>> from shapely import box
    >>> a = build_atoms(box(0, 0, 10, 10), [shapely.LineString([(5, -1), (5, 11)])], 0.001)
    >>> sorted(a.area.tolist()), a.adj_len.tolist()
    ([50.0, 50.0], [10.0])
    """
    parts = _line_parts([shapely.boundary(frame), *linework])
    noded = shapely.union_all(parts, grid_size=grid_size)
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))))
    if len(faces):
        reps = shapely.point_on_surface(faces)
        shapely.prepare(frame)
        inside = shapely.contains(frame, reps)
        faces, reps = faces[inside], reps[inside]
    else:
        reps = faces
    tree = shapely.STRtree(faces)
    area = np.asarray(shapely.area(faces), dtype=np.float64)
    boundary = shapely.boundary(faces)
    perimeter = np.asarray(shapely.length(boundary), dtype=np.float64)
    if adjacency and len(faces) > 1:
        qi, qj = tree.query(faces, predicate="intersects")
        keep = qi < qj
        qi, qj = qi[keep], qj[keep]
        lengths = shapely.length(shapely.intersection(boundary[qi], boundary[qj]))
        pos = lengths > 0
        adj_i, adj_j, adj_len = qi[pos], qj[pos], np.asarray(lengths[pos], dtype=np.float64)
    else:
        adj_i = adj_j = np.zeros(0, dtype=np.int64)
        adj_len = np.zeros(0, dtype=np.float64)
    return Atoms(
        faces=faces,
        reps=reps,
        area=area,
        perimeter=perimeter,
        adj_i=adj_i.astype(np.int64),
        adj_j=adj_j.astype(np.int64),
        adj_len=adj_len,
        lines=noded,
        tree=tree,
    )


def components(n: int, edge_i: Ints, edge_j: Ints) -> Ints:
    """Connected-component id of each of ``n`` nodes (union-find).

    >>> components(4, np.array([0, 2]), np.array([1, 3])).tolist()
    [0, 0, 1, 1]
    """
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(edge_i.tolist(), edge_j.tolist(), strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(x) for x in range(n)], dtype=np.int64)
    _, ids = np.unique(roots, return_inverse=True)
    return ids.astype(np.int64)


def label_components(atoms: Atoms, labels: Ints) -> Ints:
    """Component ids of atoms, linking neighbours that carry the same label."""
    same = labels[atoms.adj_i] == labels[atoms.adj_j]
    return components(len(atoms), atoms.adj_i[same], atoms.adj_j[same])


def shared_lengths(atoms: Atoms, members: Ints, labels: Ints) -> dict[int, float]:
    """Length of edge that the atoms ``members`` share with each other label."""
    inside = np.zeros(len(atoms), dtype=bool)
    inside[members] = True
    out: dict[int, float] = {}
    for a, b in ((atoms.adj_i, atoms.adj_j), (atoms.adj_j, atoms.adj_i)):
        sel = inside[a] & ~inside[b]
        for lab, length in zip(labels[b[sel]].tolist(), atoms.adj_len[sel].tolist(), strict=True):
            out[lab] = out.get(lab, 0.0) + length
    return out


def dissolve(faces: Geoms) -> Any:
    """One (Multi)Polygon from faces that form a coverage."""
    if len(faces) == 1:
        return faces[0]
    return shapely.coverage_union_all(faces)
