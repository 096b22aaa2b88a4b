"""Rebalancing after growth: gridmap's engine against METIS, spopt and GerryChain, same run.

    python bench/rebalance.py [--blocks 19] [--grow 0.10] [--seeds 0,1,2] [--fresh]
                              [--communities 1] [--methods metis,spopt,gerrychain]

The community is a 2 km square cut into ``--blocks`` x ``--blocks`` square grids, each
holding 4-8 buildings of 20-120 households (320-480 per grid, so the current plan is all in
the 300-500 band). Then the ``--grow`` share of buildings nearest the south-west corner grows
by 60%. ``--fresh`` instead starts from one grid holding everything (a plan from scratch).
``--communities N`` lays N such communities side by side as a street, each its own 2 km
square with its own codes (220102005001 ... 220102005N); every method solves each community
on its own (no grid crosses a community line) and its row sums them: times added, the
in-band share over all grids, households moved over all households, the largest deviation
of any community.

None of the rivals is a gridmap dependency (each is imported only when it runs; a missing one
is reported and skipped). All of them work on the buildings' Voronoi adjacency (its build
time is added to each rival's time), with k = round(households / 400) where they take a k:

- METIS (``pip install pymetis``): households as vertex weights, contiguous parts. "METIS +
  repair" then runs a greedy pass written here (not gridmap's engine): move a boundary
  building out of an over-band part into a neighbouring part with room, or into an
  under-band part from a neighbouring part that stays >= 300, both parts staying contiguous,
  the move that removes the most out-of-band households first, until no move helps.
- spopt MaxP (``pip install spopt``): households as the threshold variable (>= 300) and the
  attribute, ``top_n=2``, 10 construction iterations (spopt's default 10 annealing rounds);
  it chooses its own number of regions.
- spopt RegionKMeans (AZP if this spopt lacks it): households as the attribute, k regions.
- GerryChain ReCom (``pip install gerrychain``): a recursive-tree seed plan of k parts at the
  smallest population tolerance of 5, 10, 20, 25% that works (one try each, 200 attempts per
  cut; "no seed" if none does), then a 50-step ReCom chain within that tolerance.

Every plan is scored the same way: share of grids in the band, largest deviation from the
ideal, households moved (a building moves when its grid code changes; codes carry over by
household majority, :func:`gridmap.lineage.inherit_by_households`), and wall time. Random
methods are seeded from ``--seeds``. Progress goes to the log (stderr), the table to stdout.

Results, with the commands that produced them: docs/benchmarks.md, "Rebalancing".
"""

from __future__ import annotations

import argparse
import logging
import random
import time
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely
from shapely import Point, box

from gridmap.lineage import inherit_by_households
from gridmap.rebalance import rebalance_community

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from libpysal.weights import W

    # a label per building, and extras for the table: "moves" (summed over a street),
    # "eps" (shown as a range), any other key shown by its name
    Solver = Callable[["Case"], tuple[list[Any], dict[str, float]]]

LOG = logging.getLogger("bench.rebalance")
STREET = "220102005"  # community codes are STREET + 001, 002, ...
ORIGIN = (440_000.0, 4_850_000.0)  # EPSG:4551 metres, near Changchun
SIDE = 2000.0  # metres, one community
LOW, HIGH = 300, 500  # the urban band
TARGET = 400  # households per grid the rivals aim at: k = round(households / TARGET)
EPSILONS = (0.05, 0.10, 0.20, 0.25)  # GerryChain seed tolerances, tightest first
CUT_ATTEMPTS = 200  # spanning trees GerryChain draws per cut before it gives up
RECOM_STEPS = 50


class NoPlan(Exception):
    """A method found no plan; the table shows the message."""


def community(
    blocks: int, seed: int, grow: float, fresh: bool, index: int = 0
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Community ``index`` of the street (code ``STREET`` + ``index + 1``), ``index`` squares
    east of ``ORIGIN``; community 0 of a seed is the same whatever the street's length."""
    code = f"{STREET}{index + 1:03d}"
    rng = np.random.default_rng(seed if index == 0 else [seed, index])
    ox, oy = ORIGIN[0] + index * SIDE, ORIGIN[1]
    side = SIDE / blocks
    grids: list[tuple[str, Any]] = []
    rows: list[tuple[str, int, str, Any]] = []
    for i in range(blocks):
        for j in range(blocks):
            while True:
                hh = rng.integers(20, 121, rng.integers(4, 9))
                if 320 <= hh.sum() <= 480:
                    break
            x0, y0 = ox + i * side, oy + j * side
            x1, y1 = ox + (i + 1) * side, oy + (j + 1) * side  # shared edges, bit for bit
            c = f"{code}{len(grids) + 1:03d}"
            grids.append((c, box(x0, y0, x1, y1)))
            for h in hh:
                u, v = rng.uniform(0.08, 0.92, 2)
                rows.append((f"b{len(rows)}", int(h), c, Point(x0 + u * side, y0 + v * side)))
    g = gpd.GeoDataFrame({"code": [c for c, _ in grids]}, geometry=[p for _, p in grids], crs=4551)
    b = gpd.GeoDataFrame({"id": [r[0] for r in rows], "households": [r[1] for r in rows],
                          "grid_code": [r[2] for r in rows]},
                         geometry=[r[3] for r in rows], crs=4551)  # fmt: skip
    d = np.hypot(b.geometry.x - ox, b.geometry.y - oy).to_numpy()
    near = np.argsort(d)[: int(grow * len(b))]
    b.loc[b.index[near], "households"] = np.round(b["households"].to_numpy()[near] * 1.6).astype(
        int
    )
    if fresh:
        whole = shapely.union_all(g.geometry.to_numpy())
        g = gpd.GeoDataFrame({"code": [f"{code}001"]}, geometry=[whole], crs=4551)
        b["grid_code"] = f"{code}001"
    return g.to_crs(4490), b.to_crs(4490)


def adjacency(b: gpd.GeoDataFrame) -> list[list[int]]:
    """Neighbours of each building: the buildings whose Voronoi cells touch its cell."""
    pts = b.to_crs(4551).geometry.to_numpy()
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts)))
    _, owner = shapely.STRtree(pts).query_nearest(
        shapely.point_on_surface(cells), all_matches=False
    )
    order = np.empty(len(pts), dtype=np.int64)
    order[owner] = np.arange(len(cells))
    cells = cells[order]
    i, j = shapely.STRtree(cells).query(cells, predicate="touches")
    adj: list[list[int]] = [[] for _ in range(len(pts))]
    for a, c in zip(i.tolist(), j.tolist(), strict=True):
        if a != c:
            adj[a].append(c)
    return adj


@dataclass
class Case:
    """One community as every method sees it."""

    code: str
    grids: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    seed: int  # for the random methods
    adj: list[list[int]]
    adj_seconds: float  # building ``adj``, charged to every rival

    @property
    def households(self) -> list[int]:
        return [int(h) for h in self.buildings["households"]]

    @property
    def k(self) -> int:
        return max(1, round(sum(self.households) / TARGET))


def make_case(blocks: int, seed: int, grow: float, fresh: bool, index: int) -> Case:
    g, b = community(blocks, seed, grow, fresh, index)
    t0 = time.perf_counter()
    adj = adjacency(b)
    code = f"{STREET}{index + 1:03d}"
    return Case(code, g, b, seed + 1000 * index, adj, time.perf_counter() - t0)


def score(labels: Sequence[Any], b: gpd.GeoDataFrame, low: int, high: int) -> dict[str, Any]:
    hh = b["households"].to_numpy()
    totals: dict[Any, int] = {}
    for lab, h in zip(labels, hh.tolist(), strict=True):
        totals[lab] = totals.get(lab, 0) + h
    keep = inherit_by_households(
        [hash(x) for x in labels], list(b["grid_code"]), hh.tolist()
    )  # fmt: skip
    moved = sum(h for lab, code, h in zip(labels, b["grid_code"], hh.tolist(), strict=True)
                if keep.get(hash(lab)) != code)  # fmt: skip
    loads = np.array(list(totals.values()))
    ideal = loads.mean()
    in_band = (loads >= low) & (loads <= high)
    return {
        "grids": len(loads),
        "in_band": float(in_band.mean()),
        "max_dev_pct": float(100 * np.abs(loads - ideal).max() / ideal),
        "moved_pct": 100 * moved / hh.sum(),
        # raw counts, so that a street's communities add up
        "in_band_grids": int(in_band.sum()),
        "moved": int(moved),
        "households": int(hh.sum()),
    }


# --- the methods: each takes a Case, returns a label per building and extras (see Solver) --


def solve_gridmap(case: Case) -> tuple[list[Any], dict[str, float]]:
    plan = rebalance_community(case.code, case.grids, case.buildings)
    return list(plan.assignment["grid_code"]), {}


def metis(adj: list[list[int]], households: list[int], k: int) -> list[int]:
    import pymetis

    opts = pymetis.Options(contig=True)
    _, parts = pymetis.part_graph(k, adjacency=adj, vweights=households, options=opts)
    return [int(p) for p in parts]


def solve_metis(case: Case) -> tuple[list[Any], dict[str, float]]:
    return metis(case.adj, case.households, case.k), {}


def solve_metis_repair(case: Case) -> tuple[list[Any], dict[str, float]]:
    labels = metis(case.adj, case.households, case.k)
    repaired, moves = repair(labels, case.adj, case.households, LOW, HIGH)
    return repaired, {"moves": moves}


def repair(
    labels: list[int], adj: list[list[int]], hh: list[int], low: int, high: int
) -> tuple[list[int], int]:
    """Greedy band repair of a partition, one building at a time (see the module docstring).

    Every move strictly lowers the households outside the band, so it ends; each round takes
    the move that lowers them most."""
    lab = list(labels)
    members: dict[int, set[int]] = {}
    load: dict[int, int] = {}
    for v, p in enumerate(lab):
        members.setdefault(p, set()).add(v)
        load[p] = load.get(p, 0) + hh[v]

    def off(x: int) -> int:
        return max(0, x - high) + max(0, low - x)

    moves = 0
    while True:
        best: tuple[int, int, int, int] | None = None  # gain, building, from, to
        for v, src, dst in _candidates(members, load, lab, adj, hh, low, high):
            gain = off(load[src]) + off(load[dst]) - off(load[src] - hh[v]) - off(load[dst] + hh[v])
            if (
                gain > 0
                and (best is None or gain > best[0])
                and _contiguous(members[src] - {v}, adj)
            ):
                best = (gain, v, src, dst)
        if best is None:
            return lab, moves
        _, v, src, dst = best
        members[src].discard(v)
        members[dst].add(v)
        load[src] -= hh[v]
        load[dst] += hh[v]
        lab[v] = dst
        moves += 1


def _candidates(
    members: dict[int, set[int]],
    load: dict[int, int],
    lab: list[int],
    adj: list[list[int]],
    hh: list[int],
    low: int,
    high: int,
) -> list[tuple[int, int, int]]:
    """(building, from part, to part) moves that touch an out-of-band part and keep ``to``
    at most ``high`` (and ``from`` at least ``low`` when filling an under-band part)."""
    out: list[tuple[int, int, int]] = []
    for p in sorted(load):
        if load[p] > high:  # push a boundary building out to a neighbour with room
            for v in sorted(members[p]):
                for q in sorted({lab[u] for u in adj[v]} - {p}):
                    if load[q] + hh[v] <= high:
                        out.append((v, p, q))
        elif load[p] < low:  # pull one in from a neighbour that stays at or above low
            for u in sorted(members[p]):
                for v in adj[u]:
                    q = lab[v]
                    if q != p and load[q] - hh[v] >= low and load[p] + hh[v] <= high:
                        out.append((v, q, p))
    return out


def _contiguous(nodes: set[int], adj: list[list[int]]) -> bool:
    """Whether ``nodes`` is non-empty and connected in ``adj``."""
    if not nodes:
        return False
    start = next(iter(nodes))
    seen, stack = {start}, [start]
    while stack:
        for u in adj[stack.pop()]:
            if u in nodes and u not in seen:
                seen.add(u)
                stack.append(u)
    return len(seen) == len(nodes)


def weights(adj: list[list[int]]) -> W:
    from libpysal.weights import W

    return W({v: list(ns) for v, ns in enumerate(adj)}, silence_warnings=True)


def metric_frame(case: Case) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"households": case.households},
        geometry=case.buildings.to_crs(4551).geometry.to_numpy(),
        crs=4551,
    )


def solve_maxp(case: Case) -> tuple[list[Any], dict[str, float]]:
    from spopt.region import MaxPHeuristic

    random.seed(case.seed)
    np.random.seed(case.seed)  # MaxP draws from numpy's global generator
    model = MaxPHeuristic(
        metric_frame(case), weights(case.adj), ["households"], "households", LOW,
        top_n=2, max_iterations_construction=10,
    )  # fmt: skip
    model.solve()
    if model.labels_ is None:
        raise NoPlan("no feasible regions")
    return [int(x) for x in model.labels_], {}


def solve_region_kmeans(case: Case) -> tuple[list[Any], dict[str, float]]:
    try:
        from spopt.region import RegionKMeansHeuristic
    except ImportError:
        from spopt.region import AZP

        LOG.info("this spopt has no RegionKMeansHeuristic: AZP instead")
        azp = AZP(metric_frame(case), weights(case.adj), ["households"], case.k,
                  random_state=case.seed)  # fmt: skip
        azp.solve()
        return [int(x) for x in azp.labels_], {"AZP": 1}
    data = np.asarray(case.households, dtype=float).reshape(-1, 1)
    model = RegionKMeansHeuristic(data, case.k, weights(case.adj), seed=case.seed)
    model.solve()
    return [int(x) for x in model.labels_], {}


def solve_recom(case: Case) -> tuple[list[Any], dict[str, float]]:
    import networkx as nx
    from gerrychain import Graph, MarkovChain, Partition
    from gerrychain.constraints import within_percent_of_ideal_population
    from gerrychain.partition import recursive_tree_part  # gerrychain.tree's, moved in 1.0
    from gerrychain.proposals import recom
    from gerrychain.tree import (
        BalanceError,
        PopulationBalanceError,
        ReselectException,
        bipartition_tree,
    )
    from gerrychain.updaters import Tally

    random.seed(case.seed)
    np.random.seed(case.seed)
    rng = random.Random(case.seed)
    hh = case.households
    nxg: nx.Graph[int] = nx.Graph()
    nxg.add_nodes_from((v, {"households": h}) for v, h in enumerate(hh))
    nxg.add_edges_from((v, u) for v, ns in enumerate(case.adj) for u in ns if v < u)
    graph = Graph.from_networkx(nxg)
    target = sum(hh) / case.k
    cut = partial(bipartition_tree, max_attempts=CUT_ATTEMPTS, warn_attempts=CUT_ATTEMPTS + 1)
    failures = (RuntimeError, BalanceError, PopulationBalanceError, ReselectException)
    for eps in EPSILONS:
        t0 = time.perf_counter()
        try:
            seed_plan = recursive_tree_part(graph, range(case.k), target, "households", eps,
                                            bipartition_tree_fn=cut, rng=rng)  # fmt: skip
        except failures as e:
            LOG.info("GerryChain seed on %s at eps %.2f failed after %.1f s: %s",
                     case.code, eps, time.perf_counter() - t0, e)  # fmt: skip
            continue
        break
    else:
        raise NoPlan("no seed")
    start = Partition(graph, seed_plan, updaters={"households": Tally("households", "households")})
    chain = MarkovChain(
        partial(recom, pop_col="households", pop_target=target, epsilon=eps),
        constraints=[within_percent_of_ideal_population(start, eps, pop_key="households")],
        initial_partition=start,
        total_steps=RECOM_STEPS,
        rng=rng,
    )
    state = deque(chain, maxlen=1)[0]  # the chain's last plan
    labels: list[Any] = [None] * len(hh)
    for node, part in state.assignment.items():
        labels[state.graph.original_nx_node_id_for_internal_node_id(node)] = part
    return labels, {"eps": eps}


METHODS: list[tuple[str, Solver]] = [
    ("gridmap", solve_gridmap),
    ("METIS", solve_metis),
    ("METIS + repair", solve_metis_repair),
    ("spopt MaxP", solve_maxp),
    ("spopt RegionKMeans", solve_region_kmeans),
    ("GerryChain ReCom", solve_recom),
]


# --- running and reporting ------------------------------------------------------------------


@dataclass
class Total:
    """One method's results summed over a street's communities."""

    grids: int = 0
    in_band: int = 0
    max_dev_pct: float = 0.0
    moved: int = 0
    households: int = 0
    seconds: float = 0.0
    extras: dict[str, list[float]] = field(default_factory=dict)
    missing: str = ""  # a package the method needs is not installed
    failed: list[str] = field(default_factory=list)  # communities with no plan

    def add(self, s: dict[str, Any], seconds: float, extras: dict[str, float]) -> None:
        self.grids += s["grids"]
        self.in_band += s["in_band_grids"]
        self.max_dev_pct = max(self.max_dev_pct, s["max_dev_pct"])
        self.moved += s["moved"]
        self.households += s["households"]
        self.seconds += seconds
        for key, value in extras.items():
            self.extras.setdefault(key, []).append(value)

    def notes(self) -> str:
        out = []
        for key, values in self.extras.items():
            if key == "moves":
                out.append(f"{sum(values):.0f} move{'' if sum(values) == 1 else 's'}")
            elif key == "eps":
                lo, hi = min(values), max(values)
                out.append(f"eps {lo:.2f}" if lo == hi else f"eps {lo:.2f}-{hi:.2f}")
            else:
                out.append(key)
        return ", ".join(out)


def run(name: str, solve: Solver, cases: list[Case], rival: bool) -> Total:
    total = Total()
    for case in cases:
        t0 = time.perf_counter()
        try:
            labels, extras = solve(case)
        except ImportError as e:
            total.missing = (e.name or str(e)).split(".")[0]
            LOG.warning("%s skipped: %s is not installed (pip install %s)", name, total.missing,
                        total.missing)  # fmt: skip
            return total
        except NoPlan as e:
            total.failed.append(str(e))
            LOG.warning("%s on %s: %s", name, case.code, e)
            continue
        seconds = time.perf_counter() - t0 + (case.adj_seconds if rival else 0.0)
        s = score(labels, case.buildings, LOW, HIGH)
        total.add(s, seconds, extras)
        LOG.info("%s on %s: %d grids, %.1f%% in band, max dev %.1f%%, %.2f%% moved, %.2f s %s",
                 name, case.code, s["grids"], 100 * s["in_band"], s["max_dev_pct"],
                 s["moved_pct"], seconds, extras or "")  # fmt: skip
    return total


def table_row(lead: str, name: str, t: Total, ours: Total, n: int) -> str:
    if t.missing:
        return f"| {lead} | {name} | (not installed: pip install {t.missing}) | | | | | |"
    if t.failed:
        why = t.failed[0] if len(t.failed) == n else f"{t.failed[0]} in {len(t.failed)} of {n}"
        return f"| {lead} | {name} | {why} | | | | | |"
    label = f"{name} ({t.notes()})" if t.extras else name
    ratio = f"{ours.seconds / t.seconds:.2f}" if t is not ours and t.seconds > 0 else ""
    return (f"| {lead} | {label} | {t.grids} | {100 * t.in_band / t.grids:.1f}% | "
            f"{t.max_dev_pct:.1f} | {100 * t.moved / t.households:.2f} | {t.seconds:.2f} | "
            f"{ratio} |")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--blocks", type=int, default=19)
    ap.add_argument("--grow", type=float, default=0.10)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--communities", type=int, default=1, help="communities in the street")
    ap.add_argument(
        "--methods",
        default="",
        help="only these methods, by name prefix, comma-separated (default: all)",
    )
    args = ap.parse_args()
    wanted = [m.strip().lower() for m in args.methods.split(",") if m.strip()]
    methods = [
        (name, solve)
        for name, solve in METHODS
        if name == "gridmap" or not wanted or any(name.lower().startswith(w) for w in wanted)
    ]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    scenario = "fresh plan" if args.fresh else f"growth {args.grow:.0%}"
    n = args.communities
    print("| scenario | seed | communities | buildings | grids over 500 | method | grids | "
          "in band | max dev % | households moved % | time s | gridmap / rival time |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for seed in (int(s) for s in args.seeds.split(",")):
        cases = [make_case(args.blocks, seed, args.grow, args.fresh, i) for i in range(n)]
        buildings = sum(len(c.buildings) for c in cases)
        over = sum(int((c.buildings.groupby("grid_code")["households"].sum() > HIGH).sum())
                   for c in cases)  # fmt: skip
        LOG.info("%s, seed %d: %d communities, %d buildings", scenario, seed, n, buildings)
        totals = [(name, run(name, solve, cases, name != "gridmap")) for name, solve in methods]
        ours = totals[0][1]
        lead = f"{scenario} | {seed} | {n} | {buildings} | {over}"
        for name, t in totals:
            print(table_row(lead, name, t, ours, n), flush=True)


if __name__ == "__main__":
    main()
