"""Exact CVRP and open CVRP: a two-index (directed arc) model with rounded capacity cuts.

Variables ``x_ij`` for every arc (open routes: arcs into the depot cost 0, so a
route's return leg is free) and the fleet size ``K``. Each customer has in- and
out-degree 1, the depot ``K``. The rounded capacity inequalities

    x(A(S)) <= |S| - ceil(d(S) / Q)        for customer sets S

(equivalently ``x(δ+(S)) >= ceil(d(S)/Q)``) are separated in rounds: on the LP
relaxation first (heuristically, as in CVRPSEP's first stages), then on each
integer answer of the MIP (exactly: every component of an integer point is a
route or a subtour), re-solving until the answer has no violated cut. PuLP has no
callbacks, so this loop runs on an in-memory ``highspy`` model (see
:mod:`solvers.ilp.highs`). Practical for small instances (n up to ~30-50).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from solvers.ilp import cuts as sep
from solvers.ilp.highs import Clock, HighsModel
from solvers.ilp.tsp import integral
from vrp.model import Instance, Solution
from vrp.result import Tracer


def routes_cost(inst: Instance, routes: list[list[int]]) -> float:
    d = inst.distances
    total = 0.0
    for r in routes:
        if not r:
            continue
        seq = [inst.depot, *r] + ([] if inst.open_routes else [inst.depot])
        total += float(sum(d[a, b] for a, b in zip(seq, seq[1:])))
    return total


def warm_routes(inst: Instance, seconds: float) -> list[list[int]] | None:
    """Routes from OR-Tools (a core dependency) as the MIP's starting incumbent."""
    try:
        from solvers.ortools_routing import OrtoolsSolver
    except ImportError:  # pragma: no cover
        return None
    if seconds < 0.1:
        return None
    res = OrtoolsSolver().solve(inst, time_limit=seconds)
    if not isinstance(res.solution, Solution):
        return None
    from vrp.evaluate import evaluate

    if not evaluate(inst, res.solution).feasible:
        return None
    return [list(r) for r in res.solution.routes if r]


class _Arcs:
    def __init__(self, n: int) -> None:
        i, j = np.nonzero(~np.eye(n, dtype=bool))
        self.n, self.i, self.j, self.m = n, i, j, i.size
        idx = np.full((n, n), -1, dtype=np.int64)
        idx[i, j] = np.arange(self.m)
        self.idx = idx

    def inside(self, s: np.ndarray) -> np.ndarray:
        return self.idx[np.ix_(s, s)][~np.eye(s.size, dtype=bool)]

    def leaving(self, s: np.ndarray) -> np.ndarray:
        out = np.ones(self.n, dtype=bool)
        out[s] = False
        return self.idx[np.ix_(s, np.flatnonzero(out))].ravel()

    def vector(self, routes: list[list[int]], depot: int) -> np.ndarray:
        x = np.zeros(self.m + 1)
        for r in routes:
            seq = [depot, *r, depot]
            for a, b in zip(seq, seq[1:]):
                x[self.idx[a, b]] += 1.0
        x[self.m] = sum(1 for r in routes if r)
        return x

    def routes_of(self, x: np.ndarray, depot: int) -> list[list[int]] | None:
        succ: dict[int, list[int]] = {}
        for k in np.flatnonzero(x[: self.m] > 0.5):
            succ.setdefault(int(self.i[k]), []).append(int(self.j[k]))
        routes = []
        seen = set()
        for first in succ.get(depot, []):
            route, cur = [], first
            while cur != depot:
                if cur in seen:
                    return None
                seen.add(cur)
                route.append(cur)
                nxt = succ.get(cur, [])
                if len(nxt) != 1:
                    return None
                cur = nxt[0]
            routes.append(route)
        if len(seen) != self.n - 1:
            return None  # subtours away from the depot
        return routes


def solve_cvrp(inst: Instance, clock: Clock, tracer: Tracer, threads: int = 1,
               warm_seconds: float | None = None) -> tuple[Solution | None, str, float | None, dict[str, Any]]:
    """Two-index model with capacity cuts (see module docstring)."""
    assert inst.demands is not None and inst.capacity is not None
    n, depot, q, cap = inst.n, inst.depot, inst.demands, float(inst.capacity)
    d = inst.distances.copy()
    if inst.open_routes:
        d[:, depot] = 0.0
    ints = integral(d)
    arcs = _Arcs(n)
    info: dict[str, Any] = {"method": "two-index+rci", "lp_rounds": 0, "mip_rounds": 0, "cuts": 0}
    k_min = max(1, math.ceil(float(q.sum()) / cap - 1e-9))
    k_max = inst.num_vehicles if inst.num_vehicles is not None else n - 1
    if k_min > k_max:
        info["reason"] = f"total demand needs at least {k_min} vehicles, the fleet has {k_max}"
        return None, "infeasible", None, info

    budget = warm_seconds if warm_seconds is not None else min(0.1 * clock.left(), 0.05 * n + 0.5)
    t0 = time.perf_counter()
    best = warm_routes(inst, budget)
    ub = routes_cost(inst, best) if best else math.inf
    if best:
        tracer.offer(ub)
    info["warm_start"] = {"cost": ub, "seconds": round(time.perf_counter() - t0, 3)}

    costs = np.append(d[arcs.i, arcs.j], 0.0)
    upper = np.ones(arcs.m + 1)
    upper[arcs.m] = k_max
    lower = np.zeros(arcs.m + 1)
    lower[arcs.m] = k_min
    model = HighsModel(costs, lower, upper, threads=threads)
    rows = []
    for v in range(n):
        out = arcs.idx[v][arcs.idx[v] >= 0]
        inn = arcs.idx[:, v][arcs.idx[:, v] >= 0]
        if v == depot:
            kcol = np.array([arcs.m])
            rows.append((np.append(out, kcol), np.append(np.ones(out.size), -1.0), 0.0, 0.0))
            rows.append((np.append(inn, kcol), np.append(np.ones(inn.size), -1.0), 0.0, 0.0))
        else:
            rows.append((out, np.ones(out.size), 1.0, 1.0))
            rows.append((inn, np.ones(inn.size), 1.0, 1.0))
    model.add_rows(rows)

    def cut_rows(found: list[tuple[np.ndarray, int]]) -> list[tuple[np.ndarray, np.ndarray, float, float]]:
        # x(A(S)) <= |S| - k(S), or the same cut as x(delta+(S)) >= k(S) (equal under the
        # degree rows, S without the depot): whichever has fewer nonzeros. Dense rows make
        # HiGHS's presolve slow, and it does not stop for a time limit while it runs.
        out = []
        for s, need in found:
            if s.size - 1 <= n - s.size:
                cols = arcs.inside(s)
                out.append((cols, np.ones(cols.size), -np.inf, float(s.size - need)))
            else:
                cols = arcs.leaving(s)
                out.append((cols, np.ones(cols.size), float(need), np.inf))
        return out

    def support(x: np.ndarray) -> np.ndarray:
        w = np.zeros((n, n))
        np.add.at(w, (arcs.i, arcs.j), x[: arcs.m])
        return w + w.T

    def rounded(v: float) -> float:
        return math.ceil(v - 1e-6) if ints else v

    lb = -math.inf
    lp_done = False
    obj, x, rc = 0.0, np.zeros(arcs.m + 1), np.zeros(arcs.m + 1)
    while clock.left() > 0:
        model.set_time_limit(clock.left())
        status, obj, x, rc = model.solve_lp()
        if status == "infeasible":
            return None, "infeasible", None, info
        if status != "optimal":
            break
        info["lp_rounds"] += 1
        lb = max(lb, rounded(obj))  # every round's LP optimum is a valid bound
        found = sep.capacity_cuts(support(x), q, cap, depot)
        if not found:
            lp_done = True
            lb = rounded(obj)
            break
        model.add_rows(cut_rows(found))
        info["cuts"] += len(found)
    info["lp_bound"] = lb if lp_done else None

    if lp_done:
        info["dropped_cuts"] = model.drop_slack_rows(len(rows))
    if lp_done and best is not None:
        keep = arcs.vector(best, depot) > 0.5
        slack = (ub - 1.0 + 1e-6) if ints else ub + 1e-9
        fix = (obj + rc > slack) & (x < 1e-9) & ~keep
        fix[arcs.m] = False
        model.fix_upper(np.flatnonzero(fix), 0.0)
        info["fixed_columns"] = int(fix.sum())

    if not lp_done and best is not None:
        # The LP relaxation did not converge in time: a MIP on it would neither prove
        # nor finish; report the incumbent and the last LP bound.
        return Solution(best), "feasible", (min(lb, ub) if math.isfinite(lb) else None), info
    model.make_integer()
    model.set_mip_gaps(ints)
    status = "feasible"
    # Cuts from every improving incumbent of a round, not only the last: fewer rounds.
    pending: list[np.ndarray] = []
    model.on_incumbent(pending.append)
    while clock.left() > 0.05:
        pending.clear()
        model.set_time_limit(clock.left())
        mstatus, mobj, mbound, xs = model.solve_mip()
        info["mip_rounds"] += 1
        if mstatus == "infeasible" and best is None:
            return None, "infeasible", None, info
        if math.isfinite(mbound):
            lb = max(lb, rounded(mbound))
        if xs is None:
            break
        proved = mstatus == "optimal"
        if proved:
            lb = max(lb, rounded(mobj))  # type: ignore[arg-type]
        found = sep.capacity_cuts(support(xs), q, cap, depot)
        if not found:
            routes = arcs.routes_of(xs, depot)
            if routes is not None:
                cost = routes_cost(inst, routes)
                if cost < ub - 1e-9:
                    best, ub = routes, cost
                    tracer.offer(ub)
            break
        if not proved:
            break
        seen = {s.tobytes() for s, _ in found}
        for xi in pending:
            for s, need in sep.capacity_cuts(support(xi), q, cap, depot):
                if s.tobytes() not in seen:
                    seen.add(s.tobytes())
                    found.append((s, need))
        model.add_rows(cut_rows(found))
        info["cuts"] += len(found)
    if best is None:
        return None, "timeout", lb if math.isfinite(lb) else None, info
    lb = min(lb, ub)
    if lb >= ub - 1e-6:
        status = "optimal"
    return Solution(best), status, (lb if math.isfinite(lb) else None), info
