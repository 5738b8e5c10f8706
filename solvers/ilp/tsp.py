"""Exact TSP and ATSP: the DFJ formulation with lazily separated subtour cuts.

``cuts="fractional"`` (default, needs ``highspy``):
1. LP relaxation with degree constraints only, solved with HiGHS kept in memory;
   rounds of subtour cuts from the fractional point (components, threshold
   components, Stoer-Wagner phase cuts on the 1-path-shrunk support graph),
   re-optimised from the previous basis, until no cut is violated; then, on a
   symmetric instance, 2-matching (blossom) inequalities, and once none is found
   comb inequalities with larger teeth (blossoms of the graph with its 1-edges
   contracted, lifted), each followed by subtour rounds again.
2. Reduced-cost fixing against the warm-start tour: an edge whose reduced cost
   lifts the LP bound to the incumbent can be in no better tour. Rows added from
   then on leave the fixed columns out, and every subtour cut is written on the
   smaller side of its cut (the same inequality under the degree equations): the
   MIP rounds see far sparser rows (pcb442 proved in 70-82 s instead of 104-126 s).
3. MIP rounds: the integer model with every cut found so far, warm-started
   from the best tour and cut off just below it (HiGHS prunes every node that
   cannot beat the incumbent; an "infeasible" answer proves the incumbent
   optimal, and so does an "optimal" answer above the cutoff); the components of
   an integer answer that is no tour, and of every integer point HiGHS met on
   the way, become new cuts, the LP relaxation is separated again from its new
   optimum (subtours, blossoms) and columns refixed against its higher bound,
   and the MIP is solved again. The cheapest of those points, its subtours
   patched into a tour, is polished by the warm start's local search (for the
   default warm-start budget, in at most a tenth of the MIP rounds' time): a new
   basin, where better tours are found long before the MIP finds them (att532:
   27686 at 194 s instead of 276 s).

``cuts="integer"``: the naive loop (integer component cuts only, a full MIP
re-solve each round) in PuLP, with HiGHS or CBC; kept as a baseline.

A tour is reported ``optimal`` only when the MIP proved it within the cuts
(which are all valid), so bound and objective meet; otherwise the best tour,
the best proven bound and the gap are reported with status ``feasible``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from solvers.ilp import cuts as sep
from solvers.ilp.heuristic import cycles_of, ils_ready, patch, tour_cost, warm_tour
from solvers.ilp.highs import Clock, HighsModel
from vrp.model import Instance
from vrp.result import Tracer


@dataclass
class Outcome:
    """What an exact model found: best tour (closed, depot first), status and bound."""

    tour: list[int] | None
    status: str
    bound: float | None
    info: dict[str, Any] = field(default_factory=dict)


def integral(d: np.ndarray) -> bool:
    return bool(np.all(np.abs(d - np.round(d)) < 1e-9))


class _Graph:
    """Column layout of the complete (di)graph: edge/arc index per node pair."""

    def __init__(self, n: int, directed: bool) -> None:
        self.n, self.directed = n, directed
        if directed:
            i, j = np.nonzero(~np.eye(n, dtype=bool))
        else:
            i, j = np.triu_indices(n, 1)
        self.i, self.j = i, j
        self.m = i.size
        idx = np.full((n, n), -1, dtype=np.int64)
        idx[i, j] = np.arange(self.m)
        if not directed:
            idx[j, i] = np.arange(self.m)
        self.idx = idx
        # Columns fixed at zero (reduced-cost fixing): left out of the rows added later,
        # which keeps those rows sparse; on the remaining feasible set they are the same rows.
        self.dead: np.ndarray | None = None

    def live(self, cols: np.ndarray) -> np.ndarray:
        return cols if self.dead is None else cols[~self.dead[cols]]

    def degree_rows(self) -> list[tuple[np.ndarray, np.ndarray, float, float]]:
        rows = []
        for v in range(self.n):
            if self.directed:
                out = self.idx[v][self.idx[v] >= 0]
                inn = self.idx[:, v][self.idx[:, v] >= 0]
                rows.append((out, np.ones(out.size), 1.0, 1.0))
                rows.append((inn, np.ones(inn.size), 1.0, 1.0))
            else:
                inc = self.idx[v][self.idx[v] >= 0]
                rows.append((inc, np.ones(inc.size), 2.0, 2.0))
        return rows

    def inside(self, s: np.ndarray) -> np.ndarray:
        """Columns with both ends in ``s``."""
        sub = self.idx[np.ix_(s, s)]
        if self.directed:
            return sub[~np.eye(s.size, dtype=bool)]
        return sub[np.triu_indices(s.size, 1)]

    def sec_row(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
        cols = self.live(self.inside(s))
        return cols, np.ones(cols.size), -np.inf, float(s.size - 1)

    def blossom_row(self, h: np.ndarray, teeth: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, float, float]:
        """``x(E(H)) + sum x(teeth) <= |H| + (k - 1) / 2`` (symmetric model only)."""
        return self.comb_row(h, [np.array(e) for e in teeth])

    def comb_row(self, h: np.ndarray, teeth: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, float, float]:
        """``x(E(H)) + sum x(E(T_j)) <= |H| + sum (|T_j| - 1) - (k + 1) / 2`` (symmetric model
        only); an edge inside both the handle and a tooth has coefficient 2."""
        cols, counts = np.unique(np.concatenate([self.inside(h), *(self.inside(t) for t in teeth)]),
                                 return_counts=True)
        if self.dead is not None:
            live = ~self.dead[cols]
            cols, counts = cols[live], counts[live]
        rhs = h.size + sum(t.size - 1 for t in teeth) - (len(teeth) + 1) // 2
        return cols, counts.astype(float), -np.inf, float(rhs)

    def support(self, x: np.ndarray) -> np.ndarray:
        w = np.zeros((self.n, self.n))
        np.add.at(w, (self.i, self.j), x)
        return w + w.T

    def successors(self, x: np.ndarray) -> dict[int, list[int]]:
        succ: dict[int, list[int]] = {}
        for k in np.flatnonzero(x > 0.5):
            a, b = int(self.i[k]), int(self.j[k])
            succ.setdefault(a, []).append(b)
            if not self.directed:
                succ.setdefault(b, []).append(a)
        return succ

    def tour_vector(self, tour: list[int]) -> np.ndarray:
        t = np.asarray(tour)
        x = np.zeros(self.m)
        x[self.idx[t, np.roll(t, -1)]] = 1.0
        return x

    def tour_of(self, x: np.ndarray, start: int) -> list[int] | None:
        """The closed tour of an integer point, or None if it has subtours."""
        nxt: dict[int, list[int]] = {v: [] for v in range(self.n)}
        for k in np.flatnonzero(x > 0.5):
            a, b = int(self.i[k]), int(self.j[k])
            nxt[a].append(b)
            if not self.directed:
                nxt[b].append(a)
        tour, prev, cur = [start], -1, start
        for _ in range(self.n - 1):
            options = [v for v in nxt[cur] if v != prev] if not self.directed else nxt[cur]
            if not options:
                return None
            prev, cur = cur, options[0]
            if cur == start:
                return None
            tour.append(cur)
        return tour if len(set(tour)) == self.n else None


def solve_dfj(inst: Instance, clock: Clock, tracer: Tracer, threads: int = 1,
              warm_seconds: float | None = None, blossoms: bool = True,
              reseparate: bool = True, polish: bool = True) -> Outcome:
    """DFJ with fractional separation on an in-memory HiGHS model (see module docstring)."""
    d = inst.distances
    n = inst.n
    depot = inst.depot
    directed = not inst.is_symmetric
    ints = integral(d)
    info: dict[str, Any] = {"method": "dfj-fractional", "lp_rounds": 0, "mip_rounds": 0, "cuts": 0}
    if n <= 3:
        small = list(range(n))
        small = small[depot:] + small[:depot]
        if directed and n == 3 and tour_cost(d, [small[0], small[2], small[1]]) < tour_cost(d, small):
            small = [small[0], small[2], small[1]]
        tracer.offer(tour_cost(d, small))
        return Outcome(small, "optimal", tour_cost(d, small), info)

    # Warm start: a few percent of the budget on a heuristic tour.
    default_budget = min(0.05 * clock.left(), 0.005 * n + 0.3)
    budget = warm_seconds if warm_seconds is not None else default_budget
    if n <= 12:
        budget = 0.0  # nearest neighbour + 2-opt is plenty
    t0 = time.perf_counter()
    best = warm_tour(inst, max(0.0, budget))
    ub = tour_cost(d, best)
    tracer.offer(ub)
    info["warm_start"] = {"cost": ub, "seconds": round(time.perf_counter() - t0, 3)}

    g = _Graph(n, directed)
    costs = d[g.i, g.j]
    model = HighsModel(costs, np.zeros(g.m), np.ones(g.m), threads=threads)
    model.add_rows(g.degree_rows())

    def rounded(v: float) -> float:
        return math.ceil(v - 1e-6) if ints else v

    # ---- 1. LP cutting loop
    lb = -math.inf

    def cutting_loop() -> tuple[bool, float, np.ndarray, np.ndarray]:
        """Separate subtour (and blossom, comb) cuts from the LP optimum until none is violated;
        return (done, objective, x, reduced costs) of the last LP."""
        nonlocal lb
        obj, x, rc = -math.inf, np.zeros(g.m), np.zeros(g.m)
        while clock.left() > 0:
            model.set_time_limit(clock.left())
            status, obj, x, rc = model.solve_lp()
            if status != "optimal":
                return False, obj, x, rc
            info["lp_rounds"] += 1
            # Every round's LP optimum bounds every tour the model admits (with fixed
            # columns: every tour better than the incumbent, which is all that matters).
            lb = max(lb, rounded(obj))
            w = g.support(x)
            found = sep.subtour_cuts(w, 2.0)
            found = [s for s in found if 2 <= s.size <= n - 2]
            if not found and not directed and blossoms:
                # blossoms first; combs with larger teeth only once none is left, so that the
                # bound rises over the blossoms' own (adding rows never lowers an LP optimum)
                rows, kind = [g.blossom_row(h, teeth) for h, teeth in sep.blossom_cuts(w)], "blossoms"
                if not rows:
                    rows, kind = [g.comb_row(h, teeth) for h, teeth in sep.comb_cuts(w)], "combs"
                if rows:
                    model.add_rows(rows)
                    info[kind] = info.get(kind, 0) + len(rows)
                    continue
            if not found:
                return True, obj, x, rc
            model.add_rows([g.sec_row(s) for s in found])
            info["cuts"] += len(found)
        return False, obj, x, rc

    t0 = time.perf_counter()
    lp_done, obj, x, rc = cutting_loop()
    info["lp_seconds"] = round(time.perf_counter() - t0, 3)
    info["lp_bound"] = lb if lp_done else None
    if not lp_done:
        return Outcome(best, "feasible", min(lb, ub) if math.isfinite(lb) else None, info)
    if lb >= ub - 1e-6:
        return Outcome(best, "optimal", ub, info)
    if clock.left() < max(0.5, 2.0 * info["lp_seconds"]):
        # Too little time for a MIP on this model (HiGHS's presolve alone would
        # overrun the limit): report the incumbent and the LP bound.
        return Outcome(best, "feasible", min(lb, ub), info)

    # ---- 2. reduced-cost fixing against the incumbent
    # A column whose reduced cost lifts the LP bound above (incumbent - 1) is in no
    # tour better than the incumbent; refixed whenever the incumbent improves or a
    # re-separated LP raises the bound.
    lp_obj, lp_rc, lp_x = obj, rc, x
    fixed = np.zeros(g.m, dtype=bool)
    g.dead = fixed  # the same array: every later fixing counts

    def refix() -> None:
        slack = (ub - 1.0 + 1e-6) if ints else ub + 1e-9
        fix = (lp_obj + lp_rc > slack) & (lp_x < 1e-9) & ~(g.tour_vector(best) > 0.5) & ~fixed
        model.fix_upper(np.flatnonzero(fix), 0.0)
        fixed[fix] = True
        info["fixed_columns"] = int(fixed.sum())
        info["free_columns"] = int(g.m - fixed.sum())

    refix()

    # ---- 3. MIP rounds with integer component cuts
    model.make_integer()
    model.set_mip_gaps(ints)
    status = "feasible"
    # a local search of the patched tours between MIP rounds (symmetric, once the ILS is loaded)
    polish_seconds = default_budget if polish and not directed and n >= 8 and ils_ready() else 0.0
    if polish_seconds:
        from solvers.ilp.ils import improve
    polish_spent = 0.0  # seconds
    # Every integer point HiGHS meets in a MIP round (subtours included, improving or not)
    # yields cuts, and the cheapest, its subtours patched together, a tour: fewer rounds,
    # a better cutoff.
    pending: list[np.ndarray] = []
    model.on_incumbent(pending.append, every=True)

    def harvest() -> list[np.ndarray]:
        nonlocal best, ub, polish_spent
        new_cuts: dict[bytes, np.ndarray] = {}
        patched: list[tuple[float, list[int]]] = []
        for xi in pending:
            comps = sep.components(g.support(xi))
            if len(comps) == 1:
                continue
            for s in comps:
                if 2 <= s.size <= n - 2:
                    s = sep.smaller_side(s, n)  # the same cut, far sparser
                    new_cuts.setdefault(s.tobytes(), s)
            tour = patch(d, cycles_of(g.successors(xi), n, directed), not directed)
            patched.append((tour_cost(d, tour), tour))
        info["harvested"] = info.get("harvested", 0) + len(pending)
        pending.clear()
        if patched:
            cost, tour = min(patched, key=lambda p: p[0])
            mip_seconds = sum(r["seconds"] for r in info["mip_log"])
            if polish_seconds > 0 and clock.left() > 10 * polish_seconds and polish_spent <= 0.1 * mip_seconds:
                # the patched subtours of a near-optimal integer point lie in another basin
                # than the warm start's: a short local search from there finds better tours
                # (at most a tenth of the MIP rounds' time: where those are short, it would
                # dominate them)
                t_polish = time.perf_counter()
                tour = improve(d, tour, polish_seconds, seed=info["mip_rounds"])
                cost = tour_cost(d, tour)
                polish_spent += time.perf_counter() - t_polish
                info["polished"] = info.get("polished", 0) + 1
            if cost < ub - 1e-9:
                k = tour.index(depot)
                best, ub = tour[k:] + tour[:k], cost
                tracer.offer(ub)
        return list(new_cuts.values())

    ub_at_fix = ub

    while clock.left() > 0.05:
        model.set_time_limit(clock.left())
        # Only solutions better than the incumbent matter: HiGHS prunes the rest, and an
        # "infeasible" answer proves the incumbent optimal (the cuts are all valid).
        cutoff = ub - 1.0 + 1e-6 if ints else ub - 1e-9 * max(1.0, abs(ub))
        model.set_cutoff(cutoff)
        t_round = time.perf_counter()
        mstatus, mobj, mbound, xs = model.solve_mip()
        info["mip_rounds"] += 1
        info.setdefault("mip_log", []).append(  # one entry a round: where a proof spends its time
            {"seconds": round(time.perf_counter() - t_round, 2), "status": mstatus, "objective": mobj,
             "bound": mbound if math.isfinite(mbound) else None, "cutoff": cutoff,
             "free_columns": int(g.m - fixed.sum())})
        if mstatus == "infeasible":
            lb = ub
            break
        if math.isfinite(mbound):
            lb = max(lb, rounded(mbound))  # a relaxation's bound: always valid
        if xs is None:
            break
        proved = mstatus == "optimal"
        if proved:
            lb = max(lb, rounded(mobj))  # type: ignore[arg-type]
        if lb >= ub - 1e-6:
            # HiGHS pruned every node at the cutoff: nothing cheaper than the incumbent is left.
            # (Its "optimal" answer may then hold a subtour solution above the cutoff, which a
            # heuristic of its own found: cutting that off proves nothing more.)
            break
        tour = g.tour_of(xs, depot)
        if tour is not None:
            cost = tour_cost(d, tour)
            if cost < ub - 1e-9:
                best, ub = tour, cost
                tracer.offer(ub)
            break
        if not proved:
            break
        # An integer point with subtours: cut the components of it and of every
        # incumbent met on the way, and solve again.
        pending.append(xs)
        found = harvest()
        model.add_rows([g.sec_row(s) for s in found])
        info["cuts"] += len(found)
        if reseparate:
            # The new cuts move the LP optimum: separate again from it (cheap next to a
            # MIP round), so that the next round starts from a stronger relaxation and
            # a higher bound fixes more columns.
            model.make_continuous()
            done, obj, x, rc = cutting_loop()
            model.make_integer()
            info["reseparations"] = info.get("reseparations", 0) + 1
            if done:
                if lb >= ub - 1e-6:
                    break  # the relaxation alone proves the incumbent
                lp_obj, lp_rc, lp_x = obj, rc, x
                refix()
                ub_at_fix = ub
                continue
        if ub < ub_at_fix:
            refix()
            ub_at_fix = ub
    lb = min(lb, ub)
    if lb >= ub - 1e-6:
        status = "optimal"
    return Outcome(best, status, lb if math.isfinite(lb) else None, info)


def solve_naive(inst: Instance, clock: Clock, tracer: Tracer, solver: str = "highs",
                threads: int = 1) -> Outcome:
    """The naive DFJ loop in PuLP: integer component cuts, a full MIP re-solve per round."""
    import pulp

    d = inst.distances
    n = inst.n
    depot = inst.depot
    directed = not inst.is_symmetric
    ints = integral(d)
    g = _Graph(n, directed)
    info: dict[str, Any] = {"method": "dfj-integer", "mip_rounds": 0, "cuts": 0, "backend": solver}
    prob = pulp.LpProblem("tsp", pulp.LpMinimize)
    xv = [pulp.LpVariable(f"x{k}", cat="Binary") for k in range(g.m)]
    prob += pulp.lpSum(float(d[g.i[k], g.j[k]]) * xv[k] for k in range(g.m))
    for cols, _, lo, _hi in g.degree_rows():
        prob += pulp.lpSum(xv[k] for k in cols) == lo
    best: list[int] | None = None
    ub = math.inf
    lb = -math.inf
    status = "feasible"
    while clock.left() > 0.05:
        backend = make_pulp_solver(solver, clock.left(), threads, gap_abs=0.999 if ints else 1e-7)
        prob.solve(backend)
        info["mip_rounds"] += 1
        # PuLP maps HiGHS's time limit to status "Optimal": only sol_status tells
        # a proved optimum (LpSolutionOptimal) from an interrupted search.
        proved = pulp.LpStatus[prob.status] == "Optimal" and prob.sol_status == pulp.LpSolutionOptimal
        dual = pulp_bound(prob)
        if dual is not None:
            lb = max(lb, math.ceil(dual - 1e-6) if ints else dual)
        if not proved:
            xs = np.array([v.value() or 0.0 for v in xv])
            tour = g.tour_of(xs, depot) if prob.sol_status == pulp.LpSolutionIntegerFeasible else None
            if tour is not None and tour_cost(d, tour) < ub:
                best, ub = tour, tour_cost(d, tour)
                tracer.offer(ub)
            break
        xs = np.array([v.value() or 0.0 for v in xv])
        obj = float(pulp.value(prob.objective))
        lb = max(lb, math.ceil(obj - 1e-6) if ints else obj)  # a relaxation's optimum
        tour = g.tour_of(xs, depot)
        if tour is not None:
            best, ub = tour, tour_cost(d, tour)
            tracer.offer(ub)
            break
        patched = patch(d, cycles_of(g.successors(xs), n, directed), not directed)
        if tour_cost(d, patched) < ub:  # the subtours merged: a tour to report on timeout
            k = patched.index(depot)
            best, ub = patched[k:] + patched[:k], tour_cost(d, patched)
            tracer.offer(ub)
        for s in sep.components(g.support(xs)):
            if 2 <= s.size <= n - 2:
                prob += pulp.lpSum(xv[k] for k in g.inside(s)) <= s.size - 1
                info["cuts"] += 1
    if best is None:
        best = warm_tour(inst, 0.0)
        ub = tour_cost(d, best)
        tracer.offer(ub)
        status = "feasible"
    bound = min(lb, ub) if math.isfinite(lb) else None
    status = "optimal" if bound is not None and bound >= ub - 1e-6 else "feasible"
    return Outcome(best, status, bound, info)


def pulp_bound(prob: Any) -> float | None:
    """HiGHS's dual bound when PuLP solved with HiGHS in memory; None otherwise (CBC)."""
    model = getattr(prob, "solverModel", None)
    if model is None:
        return None
    try:
        b = float(model.getInfo().mip_dual_bound)
    except Exception:  # noqa: BLE001 - any failure means no bound to report
        return None
    return b if math.isfinite(b) else None


def make_pulp_solver(name: str, seconds: float, threads: int, gap_abs: float | None = None) -> Any:
    """A PuLP solver object: HiGHS (``pulp.HiGHS``) or CBC, silent, time-limited."""
    import pulp

    seconds = max(0.05, float(seconds))
    if name == "highs":
        from solvers.ilp.highs import ensure_threads

        ensure_threads(threads)
        kw: dict[str, Any] = {"msg": False, "timeLimit": seconds, "threads": threads}
        if gap_abs is not None:
            kw["gapAbs"] = gap_abs
            kw["gapRel"] = 0.0
        return pulp.HiGHS(**kw)
    kw = {"msg": False, "timeLimit": seconds, "threads": threads}
    if gap_abs is not None:
        kw["gapAbs"] = gap_abs
        kw["gapRel"] = 0.0
    return pulp.PULP_CBC_CMD(**kw)
