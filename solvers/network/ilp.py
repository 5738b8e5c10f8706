"""``ilp`` for flow routing: PuLP models solved by HiGHS.

Two models, chosen by ``model`` (``auto``: arc-flow when it has at most
``arc_max_vars`` variables, else path-based):

**Path-based** (over candidate paths, :mod:`solvers.network.paths`): a binary
``y[f, j]`` per candidate path ``j`` of flow ``f``::

    max  sum  priority_f * demand_f * y[f, j]
    s.t. sum_j y[f, j] <= 1                          (one path, or rejected)
         sum_{(f, j) uses link e} demand_f * y[f, j] <= capacity_e

It is exact only over the ``k`` candidates, so it proves nothing about the real
problem: status ``feasible`` with ``info["optimal_over"] = "k-paths"`` when HiGHS
closes the gap, and no bound. (When every flow's candidate list holds every usable
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
    """

    model: str = "auto"
    k: int = 5
    weight: str = "hops"
    arc_max_vars: int = 5000
    gap: float = 0.0
    threads: int = 1
    fix_and_solve: float = 0.15

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


def _highs(p: ILPParams, time_left: float, integral: bool, *, warm: bool = False, mip: bool = True) -> Any:
    """PuLP's HiGHS interface; with ``warm``, the variables' initial values are handed to HiGHS as a start."""
    import highspy
    import pulp

    import solvers.ilp.highs  # noqa: F401 - swallows HiGHS's banner once per process

    class _HiGHS(pulp.HiGHS):  # type: ignore[misc, name-defined]
        def callSolver(self, lp: Any) -> None:
            if warm:
                h = lp.solverModel
                values = [0.0] * h.getNumCol()
                for var in lp.variables():
                    values[var.index] = float(var.varValue or 0.0)
                sol = highspy.HighsSolution()
                sol.col_value = values
                sol.value_valid = True
                h.setSolution(sol)
            lp.solverModel.run()

    opts: dict[str, Any] = {}
    if integral and mip:
        opts["mip_abs_gap"] = 1.0 - 1e-6
    return _HiGHS(mip=mip, msg=False, timeLimit=max(time_left, 0.01), threads=p.threads, gapRel=p.gap, **opts)


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


def _fix_and_solve(prob: Any, y: list[Any], incumbent: list[int], p: ILPParams, integral: bool,
                   until: float) -> list[int] | None:
    """RINS-style primal heuristic: fix every variable on which the LP relaxation and the
    ``incumbent`` agree, solve the MIP left (until ``until``), restore the bounds.

    Returns the indices of the chosen paths, or None. HiGHS's own heuristics improve
    a start on the full model slowly; the small sub-MIP is solved in seconds.
    """
    if until - time.perf_counter() < 0.5:
        return None
    relaxed = _run(prob, _highs(p, until - time.perf_counter() - _margin(prob, len(y) * 6), integral, mip=False),
                   0.0)
    if not relaxed["optimal"]:
        return None
    lp = [float(v.varValue or 0.0) for v in y]
    inc = np.zeros(len(y))
    inc[incumbent] = 1.0
    fixed = []
    for v, x, z in zip(y, lp, inc.tolist()):
        if abs(x - z) <= 1e-6:
            fixed.append(v)
            v.lowBound = v.upBound = int(z)
    try:
        for v, z in zip(y, inc.tolist()):
            v.setInitialValue(z)
        if until - time.perf_counter() < 0.2:
            return None
        run = _run(prob, _highs(p, until - time.perf_counter() - _margin(prob, len(y) * 6), integral, warm=True),
                   0.0)
        if not run["has_solution"]:
            return None
        return [i for i, v in enumerate(y) if (v.varValue or 0.0) > 0.5]
    finally:
        for v in fixed:
            v.lowBound, v.upBound = 0, 1


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
        trace: list[tuple[float, float]] = []
        start_paths: list[int] = []
        start_value = 0.0
        if P:
            start_paths = _heuristic_start(problem, cand)
            start_value = float(w[cand.path_flow[start_paths]].sum()) if start_paths else 0.0
            trace.append((time.perf_counter() - start, start_value))
            now = time.perf_counter()
            if p.fix_and_solve and P >= 200:
                better = _fix_and_solve(prob, y, start_paths, p, integral, now + p.fix_and_solve * (deadline - now))
                if better is not None:
                    value = float(w[cand.path_flow[better]].sum()) if better else 0.0
                    if value > start_value:
                        start_paths, start_value = better, value
                        trace.append((time.perf_counter() - start, value))
            for v in y:
                v.setInitialValue(0)
            for i in start_paths:
                y[i].setInitialValue(1)
        built = time.perf_counter() - start
        if P == 0:
            return Result(FlowSolution({}), "optimal" if cand.all_exhaustive else "feasible", 0.0,  # type: ignore[arg-type]
                          bound=0.0 if cand.all_exhaustive else None, trace=[(built, 0.0)], threads=p.threads,
                          info={"model": "path", "k": p.k, "paths": 0})
        nnz = int(cand.path_len.sum()) + 2 * P
        run = _run(prob, _highs(p, deadline - time.perf_counter() - _margin(prob, nnz), integral, warm=True), start)
        chosen: dict[int, list[int]] = {}
        if run["has_solution"]:
            for i in range(P):
                if (y[i].varValue or 0.0) > 0.5:
                    f = pf[i]
                    j = int(np.flatnonzero(cand.table[f] == i)[0])
                    chosen[f] = list(cand.paths[f][j])
        value = float(w[list(chosen)].sum()) if chosen else 0.0
        if P and value < start_value:  # HiGHS stopped before it even took our start: keep the start
            chosen = {}
            for i in start_paths:
                f = pf[i]
                chosen[f] = list(cand.paths[f][int(np.flatnonzero(cand.table[f] == i)[0])])
            value = start_value
        info: dict[str, Any] = {"model": "path", "k": p.k, "weight": p.weight, "paths": P,
                                "candidate_seconds": round(cand.seconds, 3), "build_seconds": round(built, 3),
                                "highs_status": run["status"], "mip_gap": run["gap"], "nodes": run["nodes"],
                                "k_path_bound": run["bound"]}
        status, bound = "feasible", None
        if run["optimal"] and run["objective"] is not None and value >= run["objective"] - 1e-6:
            info["optimal_over"] = "k-paths"
            info["note"] = f"optimal over k-paths (k={p.k}); no bound on the unrestricted problem"
            if cand.all_exhaustive:
                status, bound = "optimal", run["bound"] if run["bound"] is not None else value
                info["note"] = "optimal: every flow's candidates are all its usable simple paths"
        if len(chosen) == problem.num_flows:
            status, bound = "optimal", problem.offered  # everything admitted: nothing can do better
        if not trace or value > trace[-1][1]:
            trace.append((run["seconds"], value))
        return Result(FlowSolution.from_indices(problem, chosen), status, 0.0,  # type: ignore[arg-type]
                      bound=bound, trace=trace, threads=p.threads, info=info)

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
