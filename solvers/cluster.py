"""Cluster first, route second (registered as ``cluster``).

The customers are split into compact service territories by capacity-aware binary
k-means (recursive bisection): every part carries a budget of routes, the two halves
of a split get about half of it each, and the cut between them keeps each half's
demand within its budget (``budget x capacity``). Inside those bounds the cut is where
plain 2-means would put it, and the centres move as in Lloyd's algorithm. A part stops
splitting once its budget is at most ``routes`` and it has at most ``cluster_size``
customers. Each territory is then a small instance of the same variant (the depot and
its customers) routed by an inner solver (``inner=ga``, ``nearest``, ``am:50``, ...),
and the union of their routes is optionally improved as a whole by the HGS local
search (granular relocate/swap/2-opt*, SWAP*; moves across territories included).

Territory planning is how many practitioners work, and the way a policy trained at 50
nodes reaches 1000: ``--option inner=am:50 --option cluster_size=50``.

The time limit is shared: each territory gets the time left times its share of the
customers still to route (an inner solver that finishes early leaves its time to the
next ones). Anytime: every territory is first routed by ``nearest`` (a searching neural
solver passes its own greedy decoding instead, one batch), so an incumbent exists from the
start; each inner solution then replaces its territory's routes where it is better, and the
trace follows. A territory reached with too little time left keeps its first routes.
The whole-instance local search runs to its local optimum (a fraction of a second at
1000 nodes) and is skipped when too little time is left.

Variants: cvrp and ocvrp with an unlimited fleet. A stated fleet limit is an error
before any work (the territories would have to share the fleet: a route-count
constraint across the inner solves), and so are hcvrp (each territory needs its own
subset of the vehicles whose capacities pack its demand, and a fixed fleet cannot grow
when one does not) and vrptw (geographic territories ignore the windows; the fleet
limit of every Solomon file applies as well).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from solvers.base import BaseSolver
from solvers.registry import get as get_solver
from solvers.registry import spec as solver_spec
from vrp.evaluate import evaluate
from vrp.model import Instance, Solution
from vrp.result import Result, SolverError, Tracer, UnsupportedVariant

EPS = 1e-9
MIN_INNER_S = 0.02  # below this share a territory is routed by ``nearest``


@dataclass
class ClusterParams:
    """Parameters of the ``cluster`` solver.

    Attributes
    ----------
    inner
        The solver that routes each territory (any registered routing solver that
        supports the instance's variant; ``cluster`` itself is not allowed).
    cluster_size
        Most customers in one territory.
    routes
        Route budget of a territory (its demand is at most ``routes x capacity``);
        None: as many routes as ``cluster_size`` average customers fill.
    improve
        Run the HGS local search on the whole solution after the territories.
    granular
        Neighbours per customer in that local search.
    max_iterations
        Passed to the inner solver's iteration limit (``ga``: ``max_iterations``), which
        makes a run deterministic under a seed; None: only the time limit stops it.
    """

    inner: str = "ga"
    cluster_size: int = 100
    routes: int | None = None
    improve: bool = True
    granular: int = 20
    max_iterations: int | None = None

    def __post_init__(self) -> None:
        # an unknown name lists the valid ones; a label (cluster@x) names cluster all the same
        if solver_spec(self.inner).name == "cluster":
            raise ValueError("inner: cluster cannot route its own territories")
        if self.cluster_size < 2:
            raise ValueError(f"cluster_size: must be >= 2, got {self.cluster_size}")
        if self.routes is not None and self.routes < 1:
            raise ValueError(f"routes: must be >= 1, got {self.routes}")
        if self.granular < 1:
            raise ValueError(f"granular: must be >= 1, got {self.granular}")
        if self.max_iterations is not None and self.max_iterations < 1:
            raise ValueError(f"max_iterations: must be positive, got {self.max_iterations}")


# ---------------------------------------------------------------------------- territories
def territories(instance: Instance, cluster_size: int, routes: int | None, seed: int) -> list[np.ndarray]:
    """Customer index arrays (instance numbering), each a compact territory within its capacity budget.

    The demand of a territory with route budget ``k`` is at most ``k x capacity``; the
    budgets start from the bin-packing bound ``ceil(total demand / capacity)`` and grow
    by one where no cut keeps both halves within theirs.
    """
    assert instance.demands is not None and instance.capacity is not None
    cust = np.asarray(instance.customers, dtype=np.int64)
    if cust.size == 0:
        return []
    dem = np.asarray(instance.demands, float)
    cap = float(instance.capacity)
    total = float(dem[cust].sum())
    budget = max(1, math.ceil(total / cap - 1e-9))
    if routes is None:
        routes = max(1, int(cluster_size * budget / cust.size))
    sym = instance.distances if instance.is_symmetric else 0.5 * (instance.distances + instance.distances.T)
    coords = None if instance.coords is None else np.asarray(instance.coords, float)
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    stack = [(cust, budget)]
    while stack:
        idx, k = stack.pop()
        if (k <= routes and idx.size <= cluster_size) or idx.size < 2:
            out.append(np.sort(idx))
            continue
        a, b, ka, kb = _bisect(idx, k, dem, cap, sym, coords, rng)
        stack.append((b, kb))
        stack.append((a, ka))
    return out


def _budgets(k: int) -> tuple[int, int]:
    return (k // 2, k - k // 2) if k >= 2 else (1, 1)


def _bisect(idx: np.ndarray, k: int, dem: np.ndarray, cap: float, sym: np.ndarray, coords: np.ndarray | None,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Two halves of ``idx`` and their budgets: 2-means whose cut keeps each half within its budget."""
    d = dem[idx]
    total = float(d.sum())
    # Seeds: a far pair (farthest from a random customer, then farthest from that one).
    i0 = int(rng.integers(idx.size))
    ca = int(np.argmax(sym[idx[i0], idx]))
    cb = int(np.argmax(sym[idx[ca], idx]))
    if cb == ca:
        cb = (ca + 1) % idx.size
    if coords is not None:
        pts = coords[idx]
        centres: tuple[Any, Any] = (pts[ca], pts[cb])
    else:
        centres = (idx[ca], idx[cb])
    prev: np.ndarray | None = None
    side = np.zeros(idx.size, dtype=bool)
    for _ in range(20):
        if coords is not None:
            key = np.linalg.norm(pts - centres[0], axis=1) - np.linalg.norm(pts - centres[1], axis=1)
        else:
            key = sym[centres[0], idx] - sym[centres[1], idx]
        order = np.argsort(key, kind="stable")
        natural = int(np.count_nonzero(key < 0))
        while True:
            ka, kb = _budgets(k)
            if _cut(order, natural, d, total - kb * cap, ka * cap, side):
                break
            k += 1  # no cut fits: one more route for this part
        if prev is not None and np.array_equal(side, prev):
            break
        prev = side.copy()
        if coords is not None:
            centres = (pts[side].mean(axis=0), pts[~side].mean(axis=0))
        else:
            centres = (_medoid(idx[side], sym), _medoid(idx[~side], sym))
    ka, kb = _budgets(k)
    return idx[side], idx[~side], ka, kb


def _cut(order: np.ndarray, natural: int, d: np.ndarray, lo: float, hi: float, side: np.ndarray) -> bool:
    """First half = the customers before rank ``natural`` in ``order`` that fit under ``hi``, then further
    ones while it is below ``lo``; ``side`` marks them. False when no such half has both halves non-empty."""
    side[:] = False
    load = 0.0
    count = 0
    for rank, i in enumerate(order):
        if load + d[i] > hi + EPS:
            continue  # does not fit: it goes to the other half
        if rank >= natural and load >= lo - EPS:
            break
        side[i] = True
        load += d[i]
        count += 1
    if load < lo - EPS or count == 0:
        return False
    if count == order.size:  # everything fits on one side: hand the last one over
        side[order[-1]] = False
        return load - d[order[-1]] >= lo - EPS and count > 1
    return True


def _medoid(members: np.ndarray, sym: np.ndarray) -> int:
    return int(members[np.argmin(sym[np.ix_(members, members)].sum(axis=1))])


def sub_instance(instance: Instance, members: np.ndarray, number: int) -> Instance:
    """The territory ``members`` as an instance of its own: node 0 the depot, then the members in order."""
    nodes = np.concatenate(([instance.depot], members)).astype(np.int64)
    assert instance.demands is not None
    return Instance(
        name=f"{instance.name}/territory-{number}",
        distances=instance.distances[np.ix_(nodes, nodes)],
        coords=None if instance.coords is None else instance.coords[nodes],
        depot=0,
        demands=instance.demands[nodes],
        capacity=instance.capacity,
        open_routes=instance.open_routes,
        rounding=instance.rounding,
        metric=instance.metric,
    )


# ---------------------------------------------------------------------------- the solver
class ClusterSolver(BaseSolver):
    """Capacity-aware territories routed one by one by an inner solver, then the HGS local search."""

    name = "cluster"
    variants = frozenset({"cvrp", "ocvrp"})
    Params = ClusterParams
    iteration_option = "max_iterations"

    def __init__(self, params: ClusterParams | None = None, inner_solver: Any = None,
                 quick_solver: Any = None) -> None:
        """``inner_solver``: an already configured solver object that routes the territories
        instead of ``params.inner`` (a neural solver decomposing its own instance passes itself,
        with its decoding options and decomposition off). ``quick_solver`` routes every territory
        first, for an incumbent before the inner solver's work (default ``nearest``; a searching
        neural solver passes its own greedy decoding, one batch)."""
        super().__init__(params)
        self.quick = quick_solver
        p: ClusterParams = self.params
        if inner_solver is not None:
            self.inner = inner_solver
        else:  # a missing extra or a bad checkpoint name is an error now, not mid-solve
            self.inner = get_solver(p.inner)
            it = getattr(self.inner, "iteration_option", None)
            if p.max_iterations is not None and it:
                self.inner = get_solver(p.inner, options={it: p.max_iterations})
        self.fallback = get_solver("nearest")

    def warmup(self) -> float:
        """Compile the local search and warm the inner solver up (both outside any time limit)."""
        from solvers.hgs import warmup as hgs_warmup

        t0 = time.perf_counter()
        hgs_warmup()
        fn = getattr(self.inner, "warmup", None)
        if callable(fn):
            fn()
        return time.perf_counter() - t0

    def check(self, instance: Instance) -> None:
        """Every reason not to run, before any work."""
        if instance.num_vehicles is not None:
            raise SolverError(f"solver 'cluster' needs an unlimited fleet; {instance.name} states "
                              f"{instance.num_vehicles} vehicles (territories cannot share a fleet limit)")
        if instance.variant not in self.inner.variants:
            raise UnsupportedVariant(f"inner solver {self.params.inner!r} does not support variant "
                                     f"{instance.variant!r} (supports: {', '.join(sorted(self.inner.variants))})")
        path_for = getattr(self.inner, "path_for", None)  # a checkpoint trained on another problem
        if callable(path_for):
            path_for(instance)

    def _quick(self, subs: list[Instance], seed: int) -> list[Solution]:
        """A feasible solution of every territory: the quick solver's (one batch where it has
        one), ``nearest`` where it has none."""
        sols: list[Solution | None] = [None] * len(subs)
        if self.quick is not None:
            batch = getattr(self.quick, "solve_batch", None)
            if callable(batch):
                sols = [r.solution for r in batch(subs, time_limit=60.0, seed=seed)]
            else:
                sols = [self.quick.solve(sub, time_limit=1.0, seed=seed).solution for sub in subs]
        out = []
        for sub, sol in zip(subs, sols):
            if not _feasible(sub, sol):
                sol = self.fallback.solve(sub, time_limit=1.0, seed=seed).solution
            assert sol is not None
            out.append(sol)
        return out

    def _solve(self, instance: Instance, time_limit: float, seed: int, start: float) -> Result:
        p: ClusterParams = self.params
        self.check(instance)
        tracer = Tracer(instance.sense, start=start, callback=self.progress)
        parts = territories(instance, p.cluster_size, p.routes, seed)
        n = max(1, instance.n - 1)
        # Room for the whole-instance local search (neighbour lists and one descent: 0.2-0.3 s
        # measured at 1000 customers); under a limit too short for it, the territories get it all.
        estimate = 0.05 + 3e-4 * n
        improving = p.improve and estimate <= 0.35 * time_limit
        reserve = estimate if improving else 0.0
        margin = min(0.05, 0.02 * time_limit)
        deadline = start + time_limit - margin - reserve
        subs = [sub_instance(instance, members, c) for c, members in enumerate(parts)]
        # Every territory routed at once by the quick solver: an incumbent from the start, which
        # each territory's inner solution then replaces where it is better (the trace follows).
        held = self._quick(subs, seed)
        values = [evaluate(sub, sol).objective for sub, sol in zip(subs, held)]

        def whole() -> Solution:
            return Solution([[int(members[v - 1]) for v in r] for members, sol in zip(parts, held)
                             for r in sol.routes if r])

        tracer.offer(evaluate(instance, whole()).objective)
        fallbacks = 0
        left = sum(int(m.size) for m in parts)
        for c, (members, sub) in enumerate(zip(parts, subs)):
            share = (deadline - time.perf_counter()) * members.size / max(1, left)
            left -= int(members.size)
            sol = None
            if share >= MIN_INNER_S:
                sol = self.inner.solve(sub, time_limit=share, seed=seed).solution
            if sol is None or not (score := evaluate(sub, sol)).feasible:
                fallbacks += 1
                continue
            if score.objective < values[c] - 1e-9:
                held[c], values[c] = sol, score.objective
                tracer.offer(evaluate(instance, whole()).objective)
        solution = whole()
        before = evaluate(instance, solution)
        tracer.offer(before.objective)
        info: dict[str, Any] = {"territories": len(parts), "sizes": [int(m.size) for m in parts],
                                "inner": p.inner, "fallback_territories": fallbacks,
                                "objective_before_improve": before.objective}
        info["improve"] = "off" if not p.improve else "skipped: too little time"
        if improving and start + time_limit - margin - time.perf_counter() > 0.5 * reserve:
            better = improve(instance, solution, seed, p.granular)
            info["improve"] = "no gain" if better is None else "improved"
            if better is not None:
                solution = better
                tracer.offer(evaluate(instance, solution).objective)
        return Result(solution, "feasible", tracer.elapsed(), trace=tracer.trace, info=info)


def _feasible(sub: Instance, sol: Solution | None) -> bool:
    return sol is not None and evaluate(sub, sol).feasible


def improve(instance: Instance, solution: Solution, seed: int, granular: int = 20) -> Solution | None:
    """The HGS local search on a whole feasible solution; the result when feasible and better, else None."""
    from solvers.hgs.polish import polish

    out = polish(instance, solution, seed, granular)
    return None if out is solution else out


Params = ClusterParams  # the name the registry and users look for
