"""The balancing engine: warm-started local search on a site graph.

It starts from the current plan and touches only what is out of the household band:

1. **Whole grids.** A grid in several pieces gives each piece but its largest to the
   neighbouring grid it shares most edge with (a piece with no neighbour stays).
2. **Descent.** Move one site at a time across a grid boundary, always the move that most
   reduces the band violation (households over the maximum plus households under the
   minimum, summed over grids). Ties go to the move that puts fewer households in another
   grid than their current one, then to the move that cuts less boundary. A move never
   breaks a piece of a grid in two (the site must not be a cut vertex of its piece), never
   touches a locked grid, and at first never takes a grid to half of its starting
   households or fewer (so it keeps its code); that rule is dropped when nothing else helps.
3. **New grids.** When descent is stuck with grids over the maximum, a new grid is carved
   at the worst one: grown site by site from its boundary, taking from the fullest grids
   around, until it reaches the minimum. Then descent continues.
4. **Dissolving.** When it is stuck with a grid under the minimum whose neighbours can
   take its households, the grid's sites go to its neighbours one by one.
5. **Chains.** When nothing else helps, an over-full grid passes an edge site to a full
   neighbour, which passes one of its own on, until a grid with room takes the last (and
   the reverse for a grid under the minimum).
6. **Polish.** Moves that bring a site back to its current grid, and then moves that
   shorten the boundary between grids, keeping the violation where it is.

It is pure Python over plain lists: the graph of a community is a few thousand sites.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


@dataclass
class Problem:
    """One community's balancing problem (see :mod:`gridmap.rebalance.graph`)."""

    households: Sequence[int]
    neighbours: Sequence[dict[int, float]]
    #: the current grid label of each site
    start: Sequence[int]
    low: int
    high: int
    locked: frozenset[int] = frozenset()
    #: sites that never move (empty grids kept as they are)
    fixed: frozenset[int] = frozenset()
    #: stop after this many moves (a guard, not a tuning knob)
    max_moves: int = 200_000


@dataclass
class Solution:
    labels: list[int]
    #: why some grids could not be brought into the band
    infeasible: list[str] = field(default_factory=list)
    moves: int = 0


@dataclass
class _State:
    p: Problem
    labels: list[int]
    members: dict[int, set[int]]
    load: dict[int, int]
    next_label: int
    #: households each starting grid holds of its own (a grid keeps its code while it
    #: holds more than half of them, so no move may take it to half or below)
    home: dict[int, int] = field(default_factory=dict)
    start_load: dict[int, int] = field(default_factory=dict)
    moves: int = 0
    #: sites with more households than the band's maximum on their own
    giants: frozenset[int] = frozenset()

    def keeps_code(self, s: int) -> bool:
        """Whether taking site ``s`` out of its grid leaves the grid more than half of the
        households it started with (always true for a site away from its own grid)."""
        g = self.labels[s]
        if self.p.start[s] != g or g not in self.start_load:
            return True
        return 2 * (self.home[g] - self.p.households[s]) > self.start_load[g]

    def over_limit(self, g: int) -> int:
        """The grid's maximum: the band's, or its largest site where that alone is over.
        Only the few sites over the maximum by themselves are looked at, so this costs
        nothing in a community without them, however large its grids."""
        members = self.members.get(g, ())
        big = max((self.p.households[s] for s in self.giants if s in members), default=0)
        return max(self.p.high, big)

    def violation(self, g: int, load: int | None = None) -> int:
        h = self.load.get(g, 0) if load is None else load
        if h == 0:
            return 0
        return max(0, h - self.over_limit(g)) + max(0, self.p.low - h)

    def movable(self, s: int) -> bool:
        return s not in self.p.fixed and self.labels[s] not in self.p.locked

    def keeps_contiguous(self, s: int) -> bool:
        """Whether taking site ``s`` out of grid ``labels[s]`` leaves the piece it belongs to
        in one piece: its neighbours in the grid still reach each other. (A grid already in
        several pieces, say across a river the community spans, may still give and take
        sites; a site alone in its piece may always leave.)"""
        g = self.labels[s]
        members = self.members[g]
        near = [n for n in self.p.neighbours[s] if n in members and n != s]
        if len(near) <= 1:
            return True
        # first within two steps of ``s`` (enough almost always, and cheap however large the
        # grid), then across the whole grid
        ring = {m for n in near for m in self.p.neighbours[n] if m in members}
        ring.update(near)
        ring.discard(s)
        if all(n in ring for n in near):
            local = set(_reach(self.p.neighbours, near[0], ring))
            if all(n in local for n in near):
                return True
        reached = set(_reach(self.p.neighbours, near[0], members - {s}))
        return all(n in reached for n in near)

    def move(self, s: int, to: int) -> None:
        g = self.labels[s]
        h = self.p.households[s]
        home = self.p.start[s]
        if g == home:
            self.home[g] -= h
        if to == home:
            self.home[to] = self.home.get(to, 0) + h
        self.members[g].discard(s)
        self.load[g] -= h
        if not self.members[g]:
            del self.members[g]
            del self.load[g]
        self.members.setdefault(to, set()).add(s)
        self.load[to] = self.load.get(to, 0) + h
        self.labels[s] = to
        self.moves += 1

    def cost(self, s: int, to: int) -> tuple[int, int, float]:
        """(change in violation, change in households away from home, change in cut)."""
        g = self.labels[s]
        h = self.p.households[s]
        before = self.violation(g) + self.violation(to)
        self.members[g].discard(s)
        self.members.setdefault(to, set()).add(s)
        after = self.violation(g, self.load[g] - h) + self.violation(to, self.load.get(to, 0) + h)
        self.members[to].discard(s)
        self.members[g].add(s)
        if not self.members[to]:
            del self.members[to]
        home = self.p.start[s]
        moved = (h if to != home else 0) - (h if g != home else 0)
        nb = self.p.neighbours[s]
        cut = sum(v for n, v in nb.items() if self.labels[n] == g) - sum(
            v for n, v in nb.items() if self.labels[n] == to
        )
        return after - before, moved, cut

    def boundary_moves(self, g: int) -> Iterable[tuple[int, int]]:
        """(site, grid) moves of a site of ``g`` into a neighbouring grid."""
        for s in self.members.get(g, ()):
            if not self.movable(s):
                continue
            for t in {self.labels[n] for n in self.p.neighbours[s]} - {g}:
                if t not in self.p.locked:
                    yield s, t

    def moves_into(self, g: int) -> Iterable[tuple[int, int]]:
        """(site, g) moves of a neighbouring grid's site into ``g``."""
        seen: set[int] = set()
        for s in self.members.get(g, ()):
            for n in self.p.neighbours[s]:
                if n not in seen and self.labels[n] != g and self.movable(n):
                    seen.add(n)
                    yield n, g


def _reach(neighbours: Sequence[dict[int, float]], start: int, within: set[int]) -> list[int]:
    """The sites of ``within`` reachable from ``start``, in breadth-first order."""
    order = [start]
    seen = {start}
    queue = deque([start])
    while queue:
        for n in neighbours[queue.popleft()]:
            if n in within and n not in seen:
                seen.add(n)
                order.append(n)
                queue.append(n)
    return order


def solve(p: Problem) -> Solution:
    """Bring every grid of ``p`` into the band with as few households moved as possible."""
    labels = list(p.start)
    members: dict[int, set[int]] = {}
    load: dict[int, int] = {}
    for s, g in enumerate(labels):
        members.setdefault(g, set()).add(s)
        load[g] = load.get(g, 0) + p.households[s]
    st = _State(p, labels, members, load, next_label=max(labels, default=-1) + 1,
                home=dict(load), start_load=dict(load),
                giants=frozenset(s for s, h in enumerate(p.households) if h > p.high))  # fmt: skip
    infeasible: list[str] = []
    _reconnect(st)
    # a grid is tried again only once its households have changed
    tried_carve: set[tuple[int, int]] = set()
    tried_dissolve: set[tuple[int, int]] = set()
    # keeping a grid's code (more than half its households stay) is preferred, not required:
    # once nothing else helps, moves may break it (a grid of twice the maximum cannot keep
    # it and be split evenly)
    strict = True
    while st.moves < p.max_moves:
        _descend(st, strict)
        over = [g for g in st.members if g not in p.locked and st.violation(g) > 0
                and st.load[g] > p.high and (g, st.load[g]) not in tried_carve]  # fmt: skip
        if over:
            worst = max(over, key=lambda g: (st.load[g], -g))
            tried_carve.add((worst, st.load[worst]))
            _carve(st, worst, strict)
            continue
        under = [g for g in st.members if g not in p.locked and 0 < st.load[g] < p.low
                 and (g, st.load[g]) not in tried_dissolve]  # fmt: skip
        if under:
            worst = min(under, key=lambda g: (st.load[g], g))
            tried_dissolve.add((worst, st.load[worst]))
            _dissolve(st, worst)
            continue
        if strict:
            strict = False
            tried_carve.clear()
            tried_dissolve.clear()
            continue
        if _chains(st):
            continue
        break
    _polish(st)
    for g in sorted(st.members):
        if g in p.locked:
            continue
        h = st.load[g]
        big = max(p.households[s] for s in st.members[g])
        if not st.violation(g) and big <= p.high:
            continue
        if big > p.high:
            infeasible.append(f"grid {g}: one building alone has {big} households, more than "
                              f"the band's maximum of {p.high}")  # fmt: skip
        elif h > p.high:
            infeasible.append(f"grid {g}: {h} households, over {p.high}, and no neighbour "
                              "has room for its boundary buildings")  # fmt: skip
        else:
            infeasible.append(f"grid {g}: {h} households, under {p.low}, and its neighbours "
                              "cannot take them or spare any")  # fmt: skip
    return Solution(labels=st.labels, infeasible=infeasible, moves=st.moves)


def _reconnect(st: _State) -> None:
    """Make grids that come in several pieces whole: every piece but the one with most
    households goes to the neighbouring grid it shares most edge with (a piece with no
    neighbour, an island of the community, stays). The band is mended afterwards."""
    p = st.p
    for g in sorted(st.members):
        if g in p.locked:
            continue
        left = set(st.members[g])
        pieces = []
        while left:
            piece = _reach(p.neighbours, min(left), left)
            pieces.append(piece)
            left -= set(piece)
        if len(pieces) < 2:
            continue
        pieces.sort(key=lambda c: (-sum(p.households[s] for s in c), min(c)))
        for piece in pieces[1:]:
            if not all(st.movable(s) for s in piece):
                continue
            shared: dict[int, float] = {}
            for s in piece:
                for n, length in p.neighbours[s].items():
                    t = st.labels[n]
                    if t != g and t not in p.locked:
                        shared[t] = shared.get(t, 0.0) + length
            if shared:
                to = max(shared, key=lambda t: (shared[t], -t))
                for s in piece:
                    st.move(s, to)


def _best(
    st: _State, candidates: Iterable[tuple[int, int]], need_gain: bool, strict: bool = True
) -> tuple[int, int] | None:
    scored = []
    for s, t in candidates:
        dv, dm, dc = st.cost(s, t)
        if (dv < 0) if need_gain else (dv <= 0):
            scored.append(((dv, dm, dc, s, t), s, t))
    scored.sort()
    for _key, s, t in scored:
        if (not strict or st.keeps_code(s)) and st.keeps_contiguous(s):
            return s, t
    return None


def _descend(st: _State, strict: bool = True) -> None:
    p = st.p
    while st.moves < p.max_moves:
        # a grid of more than twice the maximum needs new grids carved from it, not moves
        bad = [g for g in st.members if g not in p.locked and st.violation(g) > 0
               and st.load[g] <= 2 * p.high]  # fmt: skip
        cands: list[tuple[int, int]] = []
        for g in bad:
            if st.load[g] > p.low:
                cands += st.boundary_moves(g)
            if st.load[g] < p.low:
                cands += st.moves_into(g)
        best = _best(st, cands, need_gain=True, strict=strict)
        if best is None:
            return
        st.move(*best)


def _carve(st: _State, g: int, strict: bool = True) -> bool:
    """Grow a new grid from the boundary of over-full grid ``g``; False (and nothing
    changed) when the grids around cannot spare enough households. With ``strict`` no
    grid may be taken to half of its starting households or fewer (so it keeps its code)."""
    p = st.p
    new = st.next_label
    seeds = sorted(
        (s for s in st.members[g] if st.movable(s)
         and any(st.labels[n] != g for n in p.neighbours[s])),
        key=lambda s: (-sum(st.load.get(st.labels[n], 0) for n in p.neighbours[s]
                            if st.labels[n] != g), s),
    )  # fmt: skip
    if not seeds or st.load[g] > 2 * p.high:
        # the community's only grid, or one that needs several new grids: start at one end
        # of it, so that carving sweeps across and what is left stays in one piece
        seeds = [_far_end(st, g), *seeds]
    for seed in seeds[:5]:
        if not ((not strict or st.keeps_code(seed)) and st.keeps_contiguous(seed)):
            continue
        taken: list[tuple[int, int]] = []
        st.move(seed, new)
        taken.append((seed, g))
        # a grid that needs several new ones gets them at the middle of the band, so there
        # are no more grids (and chiefs) than the households need
        goal = p.low if st.load[g] <= 2 * p.high else (p.low + p.high) // 2
        while st.load[new] < goal:
            frontier = {n for s in st.members[new] for n in p.neighbours[s]
                        if st.labels[n] != new and st.movable(n)}  # fmt: skip
            options = []
            for n in frontier:
                donor = st.labels[n]
                h = p.households[n]
                if st.load[donor] - h < p.low and st.load[donor] - h != 0:
                    continue
                if st.load[new] + h > p.high:
                    continue
                shared = sum(v for m, v in p.neighbours[n].items() if st.labels[m] == new)
                options.append((-st.violation(donor), -st.load[donor], -shared, n))
            options.sort()
            pick = next(
                (n for *_, n in options
                 if (not strict or st.keeps_code(n)) and st.keeps_contiguous(n)),
                None,
            )  # fmt: skip
            if pick is None:
                break
            taken.append((pick, st.labels[pick]))
            st.move(pick, new)
        # a grid still far over the maximum keeps a new grid that stopped short of the
        # minimum (a pocket the others hem in): the dissolving and chain steps see to it
        if st.load.get(new, 0) >= p.low or (new in st.members and st.load[g] > 2 * p.high):
            st.next_label += 1
            return True
        for s, back in reversed(taken):
            st.move(s, back)
    return False


#: how many grids a chain of moves may pass through, and how many moves are tried at each
CHAIN_DEPTH = 4
CHAIN_BRANCH = 6


def _chains(st: _State) -> bool:
    """Bring grids that single moves cannot fix into the band by chains of moves: a grid
    over the band gives a building to a neighbour, which passes one on to the next, until a
    grid with room takes the last (and the same in reverse for a grid under the band).
    True when some grid was brought into the band."""
    p = st.p
    fixed = False
    for g in sorted(st.members, key=lambda g: -st.violation(g)):
        if g in p.locked or g not in st.members or not st.violation(g):
            continue
        if st.over_limit(g) > p.high:  # one building alone is over: no chain can help
            continue
        if st.load[g] > p.high:
            fixed |= _push(st, g, {g}, CHAIN_DEPTH)
        elif st.load[g] < p.low:
            fixed |= _pull(st, g, {g}, CHAIN_DEPTH)
    return fixed


def _push(st: _State, g: int, path: set[int], depth: int) -> bool:
    """Move one building out of over-full ``g`` so that ``g`` is in the band, passing the
    overflow on along a chain of at most ``depth`` grids; nothing changed when it fails."""
    p = st.p
    excess = st.load[g] - p.high
    options = []
    for s, t in st.boundary_moves(g):
        h = p.households[s]
        if t in path or h < excess or st.load[g] - h < p.low:
            continue
        _dv, dm, dc = st.cost(s, t)
        options.append((st.load[t] + h > p.high, dm, dc, s, t))
    options.sort()
    for *_, s, t in options[:CHAIN_BRANCH]:
        if not st.keeps_contiguous(s):
            continue
        st.move(s, t)
        if not st.violation(t):
            return True
        if depth > 1 and st.over_limit(t) == p.high and _push(st, t, path | {t}, depth - 1):
            return True
        st.move(s, g)
    return False


def _pull(st: _State, g: int, path: set[int], depth: int) -> bool:
    """Take one building into under-full ``g`` so that ``g`` is in the band, the grid it
    came from taking one from the next in turn; nothing changed when it fails."""
    p = st.p
    short = p.low - st.load[g]
    options = []
    for s, _g in st.moves_into(g):
        t = st.labels[s]
        h = p.households[s]
        if t in path or t in p.locked or h < short or st.load[g] + h > p.high:
            continue
        if st.load[t] == h:  # it would empty its grid
            continue
        _dv, dm, dc = st.cost(s, g)
        options.append((st.load[t] - h < p.low, dm, dc, s, t))
    options.sort()
    for *_, s, t in options[:CHAIN_BRANCH]:
        if not st.keeps_contiguous(s):
            continue
        st.move(s, g)
        if not st.violation(t):
            return True
        if depth > 1 and _pull(st, t, path | {t}, depth - 1):
            return True
        st.move(s, t)
    return False


def _far_end(st: _State, g: int) -> int:
    """A site of grid ``g`` as far from its others as the graph goes (two sweeps of
    breadth-first search)."""
    members = st.members[g]
    far = min(members)
    for _ in range(2):
        far = _reach(st.p.neighbours, far, members)[-1]
    return far


def _dissolve(st: _State, g: int) -> bool:
    """Give the sites of under-full grid ``g`` to its neighbours, when they have room."""
    p = st.p
    around = {st.labels[n] for s in st.members[g] for n in p.neighbours[s]} - {g}
    around -= set(p.locked)
    room = sum(max(0, p.high - st.load[t]) for t in around)
    if room < st.load[g] or any(not st.movable(s) for s in st.members[g]):
        return False
    taken: list[tuple[int, int]] = []
    while g in st.members:
        options = []
        for s in st.members[g]:
            for t in {st.labels[n] for n in p.neighbours[s]} - {g}:
                if t in p.locked:
                    continue
                _dv, dm, dc = st.cost(s, t)
                options.append((st.load[t] + p.households[s] > p.high, dm, dc, s, t))
        options.sort()
        pick = next(((s, t) for *_, s, t in options if st.keeps_contiguous(s)), None)
        if pick is None:
            for s, back in reversed(taken):
                st.move(s, back)
            return False
        taken.append((pick[0], g))
        st.move(*pick)
    return True


def _polish(st: _State) -> None:
    """Send sites home, then shorten cuts, never raising the violation."""
    p = st.p
    for _round in range(3):
        improved = False
        away = [s for s, g in enumerate(st.labels) if g != p.start[s] and st.movable(s)]
        for s in away:
            home = p.start[s]
            if home in p.locked or not any(st.labels[n] == home for n in p.neighbours[s]):
                continue
            dv, dm, _dc = st.cost(s, home)
            if dv <= 0 and dm < 0 and st.keeps_contiguous(s):
                st.move(s, home)
                improved = True
        if not improved:
            break
    for _round in range(3):
        improved = False
        away = [s for s, g in enumerate(st.labels) if g != p.start[s] and st.movable(s)]
        for s in away:
            for t in {st.labels[n] for n in p.neighbours[s]} - {st.labels[s], p.start[s]}:
                if t in p.locked:
                    continue
                dv, dm, dc = st.cost(s, t)
                if dv <= 0 and dm <= 0 and dc < -1e-9 and st.keeps_contiguous(s):
                    st.move(s, t)
                    improved = True
                    break
        if not improved:
            break
