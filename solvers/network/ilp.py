"""``ilp`` for flow routing: PuLP models solved by HiGHS.

Two models, chosen by ``model`` (``auto``: arc-flow when it has at most
``arc_max_vars`` variables, else path-based):

**Path-based** (over candidate paths, :mod:`solvers.network.paths`): a binary
``y[f, j]`` per candidate path ``j`` of flow ``f``::

    max  sum  priority_f * demand_f * y[f, j]
    s.t. sum_j y[f, j] <= 1                          (one path, or rejected)
         sum_{(f, j) uses link e} demand_f * y[f, j] <= capacity_e

It is exact only over the ``k`` candidates, so it proves nothing about the real
problem: status ``feasible`` with ``info["optimal_over"] = "k-paths"`` when the
search below closes the gap, and no bound (``info["k_path_bound"]`` is the bound
over the candidates).

The hard part of these models is not the bound: their LP relaxations are highly
degenerate (many flows with the same value per unit of capacity), the LP bound is
usually within a few units of the optimum, and HiGHS's branch-and-bound spends its
time looking for the solution that fills the bottleneck links exactly. So the path
model is solved in steps (:class:`_Search`): a Lagrangian-guided start, the LP
bound, then *targets from the bound down* on models restricted by the LP prices
(:mod:`solvers.network.dual`: only solutions worth the target survive, and those
models are small), HiGHS's root cuts for tighter prices, RINS, and finally the whole
model from the best solution. (When every flow's candidate list holds every usable
simple path, or every flow is admitted, the model is exact and the status is
``optimal``.)

**Arc-flow** (over all simple paths; small cases): binaries ``x[f, e]`` and ``a[f]``::

    max  sum priority_f * demand_f * a[f]
    s.t. out_f(v) - in_f(v) = a[f] (v = source), -a[f] (v = target), 0 otherwise
         in_f(v) <= 1, no link into the source or out of the target
         sum_f demand_f * x[f, e] <= capacity_e
         sum_e x[f, e] <= max_hops_f,  sum_e latency_e x[f, e] <= max_latency_f

``in_f(v) <= 1`` keeps the chosen links a simple path plus, possibly, disjoint
cycles that only waste capacity; the path is read from the source and any cycle
dropped (which keeps every constraint). It reports ``optimal`` with its bound when
HiGHS proves it, else ``feasible`` with HiGHS's dual bound.

One thread unless ``threads`` says otherwise. When every objective coefficient is
an integer, an absolute gap below 1 is optimality and HiGHS is told so.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from solvers.network.base import NetworkSolver
from solvers.network.paths import WEIGHTS, candidate_paths
from vrp.network import FlowProblem, FlowSolution
from vrp.result import Result

MODELS = ("auto", "path", "arc")


@dataclass(frozen=True)
class ILPParams:
    """Parameters of the network ``ilp``.

    model
        ``auto`` (default), ``path`` or ``arc`` (see the module docstring).
    k
        Candidate paths per flow for the path model (Yen), default 5.
    weight
        ``hops`` (default) or ``latency``: the order of the candidates.
    arc_max_vars
        ``auto`` picks arc-flow when flows x links is at most this (default 5000).
    gap
        Relative MIP gap at which HiGHS stops (default 0: prove optimality).
    threads
        HiGHS threads (default 1).
    fix_and_solve
        Share of the time left after the candidates that the path model may spend on an LP-guided start
        (RINS: fix the variables on which the LP relaxation and the heuristic
        start agree, solve the rest) before
        the full MIP; 0 turns it off (default 0.15).
    dual_search
        Share of the time left after the LP relaxation that the path model may spend on
        targets from the LP bound down (see :class:`_Search`; integer objectives only);
        0 turns it off (default 0.6).
    """

    model: str = "auto"
    k: int = 5
    weight: str = "hops"
    arc_max_vars: int = 5000
    gap: float = 0.0
    threads: int = 1
    fix_and_solve: float = 0.15
    dual_search: float = 0.6

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model: must be one of {', '.join(MODELS)}, got {self.model!r}")
        if int(self.k) != self.k or self.k < 1:
            raise ValueError(f"k: must be a positive integer, got {self.k!r}")
        if self.weight not in WEIGHTS:
            raise ValueError(f"weight: must be one of {', '.join(WEIGHTS)}, got {self.weight!r}")
        if self.arc_max_vars < 0:
            raise ValueError(f"arc_max_vars: must be >= 0, got {self.arc_max_vars!r}")
        if not 0 <= self.gap < 1:
            raise ValueError(f"gap: must be in [0, 1), got {self.gap!r}")
        if int(self.threads) != self.threads or self.threads < 1:
            raise ValueError(f"threads: must be a positive integer, got {self.threads!r}")
        if not 0 <= self.fix_and_solve < 1:
            raise ValueError(f"fix_and_solve: must be in [0, 1), got {self.fix_and_solve!r}")
        if not 0 <= self.dual_search < 1:
            raise ValueError(f"dual_search: must be in [0, 1), got {self.dual_search!r}")


def _highs(p: ILPParams, time_left: float, integral: bool) -> Any:
    """PuLP's HiGHS interface with our options."""
    import pulp

    # Importing solvers.ilp.highs also swallows HiGHS's banner once per process.
    from solvers.ilp.highs import ensure_threads

    ensure_threads(p.threads)
    opts: dict[str, Any] = {}
    if integral:
        opts["mip_abs_gap"] = 1.0 - 1e-6
    return pulp.HiGHS(msg=False, timeLimit=max(time_left, 0.01), threads=p.threads, gapRel=p.gap, **opts)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """HiGHS prints a banner on C-level stdout once per process: keep stdout clean for ``--json``."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout (embedded interpreters)
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _margin(prob: Any, nonzeros: int) -> float:
    """Seconds to keep free for PuLP's model build and our read-back after HiGHS stops."""
    return 0.1 + 1.5 * getattr(prob, "vrp_overhead", 1e-5 * nonzeros)


def _run(prob: Any, solver: Any, tracer_start: float) -> dict[str, Any]:
    """Solve and read HiGHS's own status, objective and dual bound (in our max sense)."""
    import highspy

    t0 = time.perf_counter()
    with _stdout_to_stderr():
        prob.solve(solver)
    h = prob.solverModel
    # PuLP rebuilds the HiGHS model in Python on every solve: time that HiGHS's own
    # limit does not see. Remember it so that the next solve leaves room for it.
    prob.vrp_overhead = max(getattr(prob, "vrp_overhead", 0.0), time.perf_counter() - t0 - h.getRunTime())
    status = h.getModelStatus()
    info = h.getInfo()
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    optimal = status == highspy.HighsModelStatus.kOptimal
    # PuLP hands HiGHS min(-objective): flip the signs back.
    return {
        "optimal": optimal,
        "has_solution": has_sol,
        "status": h.modelStatusToString(status),
        "objective": -info.objective_function_value if has_sol else None,
        "bound": -info.mip_dual_bound if np.isfinite(info.mip_dual_bound) else None,
        "gap": info.mip_gap if np.isfinite(info.mip_gap) else None,
        "nodes": int(info.mip_node_count),
        "seconds": time.perf_counter() - tracer_start,
    }


class _PathHighs:
    """The path model as PuLP built it in HiGHS, and the solves the path ``ilp`` runs on it.

    Vectors are in path order (``y[i]``); ``col`` maps them to HiGHS's columns.
    """

    def __init__(self, prob: Any, y: list[Any], p: ILPParams, integral: bool) -> None:
        self.integral = integral
        solver = _highs(p, 1.0, integral)
        with _stdout_to_stderr():
            solver.createAndConfigureSolver(prob)
            solver.buildSolverModel(prob)
        h = prob.solverModel
        self.h = h
        self.col = np.array([v.index for v in y], dtype=np.int64)
        n = h.getNumCol()
        self.cols = np.arange(n, dtype=np.int32)
        self.profit = -np.array(h.getLp().col_cost_)  # PuLP hands HiGHS min(-objective)
        self.cuts = 0
        self._extract()

    def _extract(self) -> None:
        """The rows as a CSR matrix, and their sides."""
        import highspy
        import scipy.sparse as sp

        lp = self.h.getLp()
        a = lp.a_matrix_
        fmt = sp.csr_matrix if a.format_ == highspy.MatrixFormat.kRowwise else sp.csc_matrix
        self.A = fmt((np.array(a.value_), np.array(a.index_), np.array(a.start_)),
                     shape=(lp.num_row_, lp.num_col_)).tocsr()
        self.rows = np.arange(lp.num_row_, dtype=np.int32)
        self.row_lower, self.row_upper = np.array(lp.row_lower_), np.array(lp.row_upper_)
        self.nnz = int(self.A.nnz)

    def add_root_cuts(self, until: float) -> np.ndarray | None:
        """Run HiGHS's root node (no presolve, so the cuts are on our columns) and keep its cut pool.

        The cuts hold for every solution better than the root's incumbent (no gap
        tolerance in this pass), which is returned: later searches only look above it.
        """
        import highspy

        h = self.h
        cb = highspy.cb.HighsCallbackType
        pool: list[tuple[Any, ...]] = []

        def grab(_kind: Any, _msg: Any, out: Any, _inp: Any, _user: Any) -> None:
            pool.append((int(out.cutpool_num_cut), np.array(out.cutpool_start), np.array(out.cutpool_index),
                         np.array(out.cutpool_value), np.array(out.cutpool_lower), np.array(out.cutpool_upper)))

        self.set_bounds()
        tune = (("presolve", "off"), ("mip_max_nodes", 1), ("mip_rel_gap", 0.0), ("mip_abs_gap", 0.0),
                ("mip_heuristic_effort", 0.0))
        saved = {k: h.getOptionValue(k)[1] for k, _ in tune}
        for k, v in tune:
            h.setOptionValue(k, v)
        h.setCallback(grab, None)
        h.startCallback(cb.kCallbackMipGetCutPool)
        try:
            run = self.run(until)
        finally:
            h.stopCallback(cb.kCallbackMipGetCutPool)
            for k, v in saved.items():
                h.setOptionValue(k, v)
        if pool and pool[-1][0] > 0 and (run["x"] is not None or run["status"] != "Infeasible"):
            ncut, start, index, value, lower, upper = pool[-1]
            h.addRows(ncut, lower, upper, len(index), start[:ncut].astype(np.int32), index.astype(np.int32), value)
            self.cuts += ncut
            self._extract()
        return run["x"]

    def value(self, x: np.ndarray) -> float:
        xh = np.zeros(self.profit.size)
        xh[self.col] = x
        return float(self.profit @ xh)

    def set_bounds(self, col_lower: np.ndarray | None = None, col_upper: np.ndarray | None = None,
                   row_lower: np.ndarray | None = None, row_upper: np.ndarray | None = None) -> None:
        """Column bounds and row sides in HiGHS order (None: the model's own)."""
        n = self.cols.size
        self.h.changeColsBounds(n, self.cols, np.zeros(n) if col_lower is None else col_lower,
                                np.ones(n) if col_upper is None else col_upper)
        self.h.changeRowsBounds(self.rows.size, self.rows, self.row_lower if row_lower is None else row_lower,
                                self.row_upper if row_upper is None else row_upper)

    def run(self, until: float, *, mip: bool = True, start: np.ndarray | None = None) -> dict[str, Any]:
        """Solve (the relaxation unless ``mip``) until ``until``; values in path order."""
        import highspy

        h = self.h
        n = self.cols.size
        kind = highspy.HighsVarType.kInteger if mip else highspy.HighsVarType.kContinuous
        h.changeColsIntegrality(n, self.cols, np.array([kind] * n))
        h.setOptionValue("time_limit", max(until - time.perf_counter() - _margin(self, self.nnz), 0.01))
        if start is not None:
            xh = np.zeros(n)
            xh[self.col] = start
            sol = highspy.HighsSolution()
            sol.col_value = xh.tolist()
            sol.value_valid = True
            h.setSolution(sol)
        t0 = time.perf_counter()
        with _stdout_to_stderr():
            h.run()
        # Time HiGHS's own limit does not see (our read-back): the next solve leaves room for it.
        self.vrp_overhead = max(getattr(self, "vrp_overhead", 0.0), time.perf_counter() - t0 - h.getRunTime())
        status = h.getModelStatus()
        info = h.getInfo()
        has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
        out: dict[str, Any] = {
            "optimal": status == highspy.HighsModelStatus.kOptimal,
            "infeasible": status == highspy.HighsModelStatus.kInfeasible,
            "status": h.modelStatusToString(status), "x": None, "row_dual": None,
            "nodes": int(info.mip_node_count) if mip else 0,
        }
        if has_sol:
            sol = h.getSolution()
            out["x"] = np.array(sol.col_value)[self.col]
            if mip:
                out["x"] = np.round(out["x"])
            out["value"] = -info.objective_function_value
            if not mip and sol.dual_valid:
                out["row_dual"] = np.array(sol.row_dual)
        return out


def _fix_and_solve(ph: _PathHighs, lp: np.ndarray, incumbent: np.ndarray, until: float) -> np.ndarray | None:
    """RINS-style primal heuristic: fix every variable on which the LP relaxation and the
    ``incumbent`` agree, solve the MIP left (until ``until``) from the incumbent.

    Returns the new 0/1 vector in path order, or None. HiGHS's own heuristics improve
    a start on the full model slowly; the small sub-MIP is solved in seconds.
    """
    if until - time.perf_counter() < 0.5:
        return None
    agree = np.abs(lp - incumbent) <= 1e-6
    lo, hi = np.zeros(ph.cols.size), np.ones(ph.cols.size)
    lo[ph.col[agree]] = incumbent[agree]
    hi[ph.col[agree]] = incumbent[agree]
    ph.set_bounds(lo, hi)
    run = ph.run(until, start=incumbent)
    return run["x"]


def _heuristic_start(problem: FlowProblem, cand: Any) -> list[int]:
    """Global candidate numbers of a good feasible start: the GA's Lagrangian-guided decoder, once."""
    from solvers.network.ga import Decoder, lagrangian_prices

    plain = Decoder(problem, cand)
    first = np.where(plain.num_valid > 0, 0, -1)[None, :]
    chosen, value = plain.decode(first.copy())
    prices, _ = lagrangian_prices(problem, cand, float(value[0]), iterations=200)
    guided = Decoder(problem, cand, prices)
    chosen2, value2 = guided.decode(np.where(guided.num_valid > 0, 0, -1)[None, :])
    dec, pick = (guided, chosen2[0]) if value2[0] >= value[0] else (plain, chosen[0])
    return [int(cand.table[f, dec.candidate_index(f, int(j))]) for f, j in enumerate(pick.tolist()) if j >= 0]


class _Search:
    """The path ``ilp``'s steps on one :class:`_PathHighs`, with the best solution so far.

    1. The LP relaxation gives an upper bound ``D`` (:mod:`solvers.network.dual`); a
       start worth ``floor(D)`` is optimal at once.
    2. Targets from ``floor(D)`` down (integer objectives only, no gap tolerance): the
       model restricted for target ``T`` keeps every solution worth ``T`` or more; if
       HiGHS proves its maximum and that is at least ``T``, it is the optimum, else
       nothing is worth ``T`` and the bound drops to ``T - 1``. The top target is tried
       on the LP's prices, the rest after HiGHS's root cuts (tighter prices); the descent
       stops at the first target HiGHS cannot settle within its share of the time.
    3. RINS (:func:`_fix_and_solve`) improves the best solution.
    4. The whole model from the best solution for the time left: HiGHS's proof, or the
       best solution reaching the bound, settles the answer.
    """

    def __init__(self, ph: _PathHighs, start: float) -> None:
        self.ph, self.start = ph, start
        self.x = np.zeros(ph.col.size)
        self.z = 0.0
        self.trace: list[tuple[float, float]] = []
        self.upper: float | None = None
        self.proven = False
        self.refuted = 0
        self.nodes = 0
        self.last_status = "not run"

    def offer(self, x: np.ndarray | None) -> bool:
        """Keep ``x`` if it is better than the best so far."""
        if x is None:
            return False
        v = self.ph.value(x)
        if self.trace and v <= self.z + 1e-9:
            return False
        self.x, self.z = x, v
        self.trace.append((time.perf_counter() - self.start, v))
        self._check()
        return True

    def _check(self) -> None:
        if self.upper is not None and self.z >= self.upper - 1e-6:
            self.proven = True

    def _run(self, until: float, **kw: Any) -> dict[str, Any]:
        run = self.ph.run(until, **kw)
        self.nodes += run["nodes"]
        self.last_status = run["status"]
        return run

    def _descend(self, dual: Any, until: float, *, first_only: bool = False) -> None:
        """Targets from the bound down (step 2); stops at the first one HiGHS cannot settle.

        The model restricted for target ``T`` holds every solution worth ``T`` or more
        (and maybe others): if HiGHS proves its maximum ``v``, then ``v >= T`` is the
        optimum, and ``v < T`` (or no solution) means nothing is worth ``T``.
        """
        ph = self.ph
        assert self.upper is not None
        T = int(self.upper)
        while T > self.z + 0.5 and time.perf_counter() < until - 0.2:
            r = dual.at(T)
            ph.set_bounds(r.col_lower, r.col_upper, r.row_lower, r.row_upper)
            run = self._run(until)
            self.offer(run["x"])
            if not (run["optimal"] or run["infeasible"]):
                return
            if run["optimal"] and run["value"] >= T - 1e-6:
                self.proven = True
                return
            self.upper = T - 1.0
            self.refuted += 1
            self._check()
            T -= 1
            if first_only:
                return

    def run_all(self, p: ILPParams, deadline: float) -> None:
        from solvers.network.dual import DualRestriction

        ph = self.ph
        exact = p.gap == 0  # HiGHS's "optimal" proves the optimum only without a gap tolerance
        ph.set_bounds()
        lp = self._run(deadline, mip=False)
        dual = None
        if lp["optimal"] and lp["row_dual"] is not None:
            dual = DualRestriction(ph.A, ph.row_lower, ph.row_upper, ph.profit, lp["row_dual"])
            self.upper = dual.integer_bound if ph.integral else dual.bound
            self._check()
        if self.proven:
            return
        integral = dual is not None and ph.integral and exact
        if integral and p.dual_search:
            assert dual is not None
            now = time.perf_counter()
            until = now + p.dual_search * (deadline - now)
            # The top target on the LP's own prices first (often settles it in a second),
            # then HiGHS's root cuts for tighter prices and the rest of the descent.
            self._descend(dual, min(until, now + 0.2 * (until - now)), first_only=True)
            if not self.proven and until - time.perf_counter() > 1.0:
                now = time.perf_counter()
                self.offer(ph.add_root_cuts(now + 0.4 * (until - now)))
                if not self.proven and ph.cuts:
                    ph.set_bounds()
                    lp = self._run(until, mip=False)
                    if lp["optimal"] and lp["row_dual"] is not None:
                        dual = DualRestriction(ph.A, ph.row_lower, ph.row_upper, ph.profit, lp["row_dual"])
                        assert self.upper is not None
                        self.upper = min(self.upper, dual.integer_bound)
                        self._check()
                    else:  # no prices for the rows with cuts: the final step runs the plain model
                        dual = None
                if not self.proven and dual is not None:
                    self._descend(dual, until)
        if self.proven:
            return
        now = time.perf_counter()
        if p.fix_and_solve and ph.col.size >= 200 and lp["x"] is not None:
            self.offer(_fix_and_solve(ph, lp["x"], self.x, now + p.fix_and_solve * (deadline - now)))
            self.last_status = "rins"
        if self.proven or deadline - time.perf_counter() < 0.05:
            return
        # The whole model from the best solution (HiGHS's own heuristics need an incumbent):
        # reaching our bound, or HiGHS's proof, settles the answer.
        ph.set_bounds()
        run = self._run(deadline, start=self.x)
        self.offer(run["x"])
        if exact and run["optimal"] and run["x"] is not None and self.z >= run["value"] - 1e-6:
            self.proven = True


class NetworkILP(NetworkSolver):
    """Registered as ``ilp`` in the network family."""

    name = "ilp"
    Params = ILPParams

    def _solve(self, problem: FlowProblem, time_limit: float, seed: int, start: float) -> Result:
        p: ILPParams = self.params
        model = p.model
        if model == "auto":
            model = "arc" if problem.num_flows * problem.network.m <= p.arc_max_vars else "path"
        deadline = start + time_limit
        if model == "arc":
            return self._arc(problem, p, deadline, start)
        return self._path(problem, p, deadline, start)

    # ------------------------------------------------------------------ path model
    def _path(self, problem: FlowProblem, p: ILPParams, deadline: float, start: float) -> Result:
        import pulp

        fl = problem.flows
        w = fl.weight
        # Leave HiGHS at least a third of the budget when candidates are slow to enumerate.
        cand = candidate_paths(problem, p.k, weight=p.weight, deadline=start + (deadline - start) / 3)
        prob = pulp.LpProblem("pfar_path", pulp.LpMaximize)
        P = cand.num_paths
        y = [pulp.LpVariable(f"y{i}", cat="Binary") for i in range(P)]
        pf = cand.path_flow.tolist()
        prob += pulp.LpAffineExpression([(y[i], float(w[pf[i]])) for i in range(P)])
        for f in range(problem.num_flows):
            ids = cand.table[f][cand.table[f] >= 0].tolist()
            if len(ids) > 1:
                prob += pulp.LpAffineExpression([(y[i], 1.0) for i in ids]) <= 1, f"one_{f}"
        on_link: list[list[int]] = [[] for _ in range(problem.network.m)]
        for i, lk in enumerate(cand.path_links.tolist()):
            for e in lk[: cand.path_len[i]]:
                on_link[e].append(i)
        dem = fl.demand
        cap = problem.network.capacity
        for e, ids in enumerate(on_link):
            if ids and dem[[pf[i] for i in ids]].sum() > cap[e] + 1e-9:
                prob += pulp.LpAffineExpression([(y[i], float(dem[pf[i]])) for i in ids]) <= float(cap[e]), f"cap_{e}"
        integral = bool(np.all(w == np.round(w)))
        if P == 0:
            return Result(FlowSolution({}), "optimal" if cand.all_exhaustive else "feasible", 0.0,  # type: ignore[arg-type]
                          bound=0.0 if cand.all_exhaustive else None, trace=[(time.perf_counter() - start, 0.0)],
                          threads=p.threads, info={"model": "path", "k": p.k, "paths": 0})
        ph = _PathHighs(prob, y, p, integral)
        search = _Search(ph, start)
        x0 = np.zeros(P)
        x0[_heuristic_start(problem, cand)] = 1.0
        search.offer(x0)
        built = time.perf_counter() - start
        search.run_all(p, deadline)

        chosen: dict[int, list[int]] = {}
        for i in np.flatnonzero(search.x > 0.5).tolist():
            f = pf[i]
            chosen[f] = list(cand.paths[f][int(np.flatnonzero(cand.table[f] == i)[0])])
        value = float(w[list(chosen)].sum()) if chosen else 0.0
        info: dict[str, Any] = {"model": "path", "k": p.k, "weight": p.weight, "paths": P,
                                "candidate_seconds": round(cand.seconds, 3), "build_seconds": round(built, 3),
                                "highs_status": search.last_status, "nodes": search.nodes,
                                "k_path_bound": search.upper, "targets_refuted": search.refuted,
                                "mip_gap": (search.upper - value) / max(abs(value), 1e-9)
                                if search.upper is not None else None}
        status, bound = "feasible", None
        if search.proven:
            info["optimal_over"] = "k-paths"
            info["note"] = f"optimal over k-paths (k={p.k}); no bound on the unrestricted problem"
            if cand.all_exhaustive:
                status, bound = "optimal", value
                info["note"] = "optimal: every flow's candidates are all its usable simple paths"
        if len(chosen) == problem.num_flows:
            status, bound = "optimal", problem.offered  # everything admitted: nothing can do better
        return Result(FlowSolution.from_indices(problem, chosen), status, 0.0,  # type: ignore[arg-type]
                      bound=bound, trace=search.trace, threads=p.threads, info=info)

    # ------------------------------------------------------------------ arc model
    def _arc(self, problem: FlowProblem, p: ILPParams, deadline: float, start: float) -> Result:
        import pulp

        net = problem.network
        fl = problem.flows
        w = fl.weight
        F, m, n = len(fl), net.m, net.n
        tails, heads = net.links[:, 0].tolist(), net.links[:, 1].tolist()
        cap = net.capacity
        lat = net.latency
        prob = pulp.LpProblem("pfar_arc", pulp.LpMaximize)
        a = [pulp.LpVariable(f"a{f}", cat="Binary") for f in range(F)]
        x: dict[tuple[int, int], Any] = {}
        on_link: list[list[tuple[int, Any]]] = [[] for _ in range(m)]
        for f in range(F):
            s, t, d = int(problem.src[f]), int(problem.dst[f]), float(fl.demand[f])
            out_v: list[list[Any]] = [[] for _ in range(n)]
            in_v: list[list[Any]] = [[] for _ in range(n)]
            for e in range(m):
                if cap[e] < d - 1e-9 or heads[e] == s or tails[e] == t:
                    continue
                var = pulp.LpVariable(f"x{f}_{e}", cat="Binary")
                x[(f, e)] = var
                out_v[tails[e]].append(var)
                in_v[heads[e]].append(var)
                on_link[e].append((f, var))
            for v in range(n):
                rhs = a[f] if v == s else (-a[f] if v == t else 0)
                prob += pulp.lpSum(out_v[v]) - pulp.lpSum(in_v[v]) == rhs, f"flow_{f}_{v}"
                if len(in_v[v]) > 1:
                    prob += pulp.lpSum(in_v[v]) <= 1, f"in_{f}_{v}"
            mine = [x[(f, e)] for e in range(m) if (f, e) in x]
            if fl.max_hops is not None and np.isfinite(fl.max_hops[f]):
                prob += pulp.lpSum(mine) <= float(fl.max_hops[f]), f"hops_{f}"
            if fl.max_latency is not None and lat is not None and np.isfinite(fl.max_latency[f]):
                prob += pulp.LpAffineExpression([(x[(f, e)], float(lat[e])) for e in range(m) if (f, e) in x]) \
                    <= float(fl.max_latency[f]) * a[f], f"lat_{f}"
        prob += pulp.LpAffineExpression([(a[f], float(w[f])) for f in range(F)])
        for e in range(m):
            if on_link[e] and sum(fl.demand[f] for f, _ in on_link[e]) > cap[e] + 1e-9:
                prob += pulp.LpAffineExpression([(var, float(fl.demand[f])) for f, var in on_link[e]]) \
                    <= float(cap[e]), f"cap_{e}"
        integral = bool(np.all(w == np.round(w)))
        nnz = 4 * len(x)
        run = _run(prob, _highs(p, deadline - time.perf_counter() - _margin(prob, nnz), integral), start)
        chosen: dict[int, list[int]] = {}
        if run["has_solution"]:
            for f in range(F):
                if (a[f].varValue or 0.0) < 0.5:
                    continue
                nxt = {tails[e]: heads[e] for (ff, e), var in x.items() if ff == f and (var.varValue or 0.0) > 0.5}
                path = [int(problem.src[f])]
                while path[-1] != problem.dst[f] and path[-1] in nxt and len(path) <= n:
                    path.append(nxt[path[-1]])
                if path[-1] == problem.dst[f]:
                    chosen[f] = path
        value = float(w[list(chosen)].sum()) if chosen else 0.0
        info = {"model": "arc", "variables": len(x) + F, "highs_status": run["status"], "mip_gap": run["gap"],
                "nodes": run["nodes"]}
        if run["optimal"]:
            status, bound = "optimal", run["bound"] if run["bound"] is not None else value
            bound = max(bound, value)
        else:
            status, bound = "feasible", run["bound"]
        return Result(FlowSolution.from_indices(problem, chosen), status, 0.0,  # type: ignore[arg-type]
                      bound=bound, trace=[(run["seconds"], value)], threads=p.threads, info=info)
