"""Household balancing of urban grids: merge the small ones; split the large ones, first by
bisection, then evened out by the balancing engine (:mod:`gridmap.rebalance.split`).

Both work on whole units (a compound 小区/院落, or a building outside any compound), so a
unit is never split between grids.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Mapping

    from numpy.typing import NDArray


def merge_small(
    households: Mapping[int, int],
    shared: Mapping[tuple[int, int], float],
    hmin: int,
    hmax: int,
) -> dict[int, int]:
    """Map each label to the label it is merged into (itself if kept).

    A label under ``hmin`` households joins the neighbour with the longest shared edge
    among those it can join without passing ``hmax``; failing that, a neighbour whose
    total can be re-split into grids within the range (the split comes later). The
    smallest labels go first.

    >>> merge_small({1: 100, 2: 350, 3: 250}, {(1, 2): 5.0, (1, 3): 9.0, (2, 3): 1.0}, 300, 500)
    {1: 3, 2: 2, 3: 3}
    >>> merge_small({1: 200, 2: 450}, {(1, 2): 5.0}, 300, 500)  # 650 -> 2 x 325 later
    {1: 2, 2: 2}
    """
    hh = dict(households)
    root = {lab: lab for lab in hh}
    nb: dict[int, dict[int, float]] = {lab: {} for lab in hh}
    for (a, b), length in shared.items():
        if a in nb and b in nb and a != b:
            nb[a][b] = nb[a].get(b, 0.0) + length
            nb[b][a] = nb[b].get(a, 0.0) + length
    changed = True
    while changed:
        changed = False
        for lab in sorted((x for x in hh if root[x] == x), key=lambda x: (hh[x], x)):
            if root[lab] != lab or hh[lab] >= hmin:
                continue
            options = [
                (hh[lab] + hh[other] <= hmax, length, -hh[other], -other)
                for other, length in nb[lab].items()
                if parts_needed(hh[lab] + hh[other], hmin, hmax) is not None
            ]
            if not options:
                continue
            into = -max(options)[3]
            hh[into] += hh[lab]
            for other, length in nb.pop(lab).items():
                nb[other].pop(lab, None)
                if other != into:
                    nb[into][other] = nb[into].get(other, 0.0) + length
                    nb[other][into] = nb[other].get(into, 0.0) + length
            for x, r in root.items():
                if r == lab:
                    root[x] = into
            changed = True
    return root


def parts_needed(households: int, hmin: int, hmax: int) -> int | None:
    """How many grids ``households`` should split into; None if no split fits the range.

    >>> parts_needed(1900, 300, 500), parts_needed(450, 300, 500), parts_needed(520, 300, 500)
    (4, 1, None)
    """
    if households <= hmax:
        return 1
    k = math.ceil(households / hmax)
    if households / k < hmin:
        return None
    return k


def bisect(xy: NDArray[np.float64], weights: NDArray[np.int64], k: int) -> NDArray[np.int64]:
    """Group ids 0..k-1 of units at ``xy``, by recursive weighted bisection.

    Each cut runs across the longer side of the units' bounding box, where the running
    household count comes closest to the share the side should hold, unless a cut across
    the shorter side balances better by more than 5% of that share.

    >>> xy = np.array([[0.0, 0], [1, 0], [2, 0], [3, 0]])
    >>> bisect(xy, np.array([100, 100, 100, 100]), 2).tolist()
    [0, 0, 1, 1]
    """
    out = np.zeros(len(xy), dtype=np.int64)
    _bisect(np.arange(len(xy)), xy, weights, k, 0, out)
    _, dense = np.unique(out, return_inverse=True)
    return dense.astype(np.int64)


def _bisect(
    idx: NDArray[np.int64],
    xy: NDArray[np.float64],
    weights: NDArray[np.int64],
    k: int,
    first: int,
    out: NDArray[np.int64],
) -> None:
    if k <= 1 or len(idx) <= 1:
        out[idx] = first
        return
    pts = xy[idx]
    span = pts.max(axis=0) - pts.min(axis=0)
    k1 = k // 2
    best: tuple[float, float, int, Any] | None = None
    for axis in (0, 1):
        order = idx[np.lexsort((pts[:, 1 - axis], pts[:, axis]))]
        cum = np.cumsum(weights[order])
        target = cum[-1] * k1 / k
        miss = np.abs(cum[:-1] - target)
        pos = int(np.argmin(miss))
        shorter = span[axis] < span[1 - axis] or (span[axis] == span[1 - axis] and axis == 1)
        key = (float(miss[pos]) + (0.05 * target if shorter else 0.0), axis, pos + 1, order)
        if best is None or key[:2] < best[:2]:
            best = key
    assert best is not None
    cut, order = best[2], best[3]
    _bisect(order[:cut], xy, weights, k1, first, out)
    _bisect(order[cut:], xy, weights, k - k1, first + k1, out)
