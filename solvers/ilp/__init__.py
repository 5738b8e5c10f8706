"""Exact models (registered as routing solver ``ilp``): they prove optimality or report a bound.

========  ==============================================================  =========
variant   model                                                           size
========  ==============================================================  =========
tsp/atsp  DFJ, subtour cuts separated on the LP (min cuts) then on        any
          integer points; reduced-cost fixing; HiGHS (:mod:`.tsp`)
cvrp      two-index arc model, rounded capacity cuts in rounds            ~30-50
ocvrp     (:mod:`.cvrp`)
hcvrp     vehicle-indexed arcs + visits, generalized subtour cuts         <= limit
          in rounds (:mod:`.gsec`)
vrptw     arcs + arrival times + loads, MTZ, PuLP (:mod:`.compact`)       <= limit
op/pctsp  arcs + visit indicators, generalized subtour cuts (:mod:`.gsec`) <= limit
========  ==============================================================  =========

``limit`` is ``Params.compact_limit`` customers (25 by default): a compact model
beyond it is refused with a :class:`~vrp.result.SolverError` that names the limit,
instead of running for hours.

Solvers: HiGHS (``highspy``, in memory for the cutting loops and through
``pulp.HiGHS`` for the compact models); CBC (PuLP's bundled ``PULP_CBC_CMD``) when
HiGHS is missing or asked for, in which case TSP/ATSP use the naive integer-cut
loop and CVRP, OP, PCTSP and HCVRP the compact MTZ models in PuLP. The reported ``bound`` is always a proven one
(in the objective's direction); ``optimal`` is claimed only when it meets the
objective.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from solvers.base import BaseSolver
from solvers.ilp import highs as _highs
from solvers.ilp.highs import Clock
from vrp.model import Instance, Solution
from vrp.result import Result, SolverError, Tracer

CUTS = ("fractional", "integer")
BACKENDS = ("auto", "highs", "cbc")


@dataclass
class IlpParams:
    """Parameters of the ``ilp`` solver.

    Attributes
    ----------
    cuts
        TSP/ATSP subtour separation: ``fractional`` (LP min cuts, then integer
        points; needs highspy) or ``integer`` (the naive loop: component cuts on
        integer points only, a full MIP re-solve per round, in PuLP).
    solver
        ``auto`` (HiGHS when highspy is importable, else CBC), ``highs`` or ``cbc``.
    threads
        Threads the MIP solver may use (1 by default, as every solver here).
    compact_limit
        Most customers the compact MTZ models (vrptw, op, pctsp, hcvrp) accept.
    warm_start
        Seconds for the heuristic start (iterated 2-opt/Or-opt for symmetric TSP,
        OR-Tools otherwise); None picks a small share of the time limit; 0 disables it.
    blossoms
        Also separate 2-matching (blossom) inequalities on the symmetric TSP LP, once
        no subtour cut is violated. They raise the root bound (kroA100 20937 -> 21176,
        pcb442 50500 -> 50672), so reduced-cost fixing leaves fewer free columns and
        the MIP rounds, cut off at the incumbent, finish sooner (a280 20.6 -> 5.0 s,
        pcb442 253 -> 113 s measured here). Once no blossom is violated, combs with
        larger teeth (:func:`solvers.ilp.cuts.comb_cuts`) raise it further (att532
        0.54 -> 0.35 % below the optimum). On by default; ``blossoms=false`` turns both off.
    reseparate
        After each MIP round whose answer had subtours (and got their cuts), solve the
        LP relaxation again and separate subtour/blossom cuts from it until none is
        violated, then fix columns against the new LP bound: every round then starts
        from a stronger model with fewer free columns (kroA200 53 -> 34 s, pcb442
        293 -> 103 s, both measured beside two trainings). On by default.
    polish
        Between MIP rounds, the cheapest integer point met (subtours patched into a tour)
        is polished by the iterated 2-opt/Or-opt for the default warm-start budget
        (symmetric TSP, once the local search is compiled, as after :meth:`IlpSolver.warmup`).
        The incumbent improves long before the MIP itself finds better tours, and fixes
        more columns (att532: the optimum at 194 instead of 276 s). On by default.
    """

    cuts: str = "fractional"
    solver: str = "auto"
    threads: int = 1
    compact_limit: int = 25
    warm_start: float | None = None
    blossoms: bool = True
    reseparate: bool = True
    polish: bool = True

    def __post_init__(self) -> None:
        if self.cuts not in CUTS:
            raise ValueError(f"cuts: must be one of {', '.join(CUTS)}, got {self.cuts!r}")
        if self.solver not in BACKENDS:
            raise ValueError(f"solver: must be one of {', '.join(BACKENDS)}, got {self.solver!r}")
        if self.threads < 1:
            raise ValueError(f"threads: must be >= 1, got {self.threads}")
        if self.compact_limit < 1:
            raise ValueError(f"compact_limit: must be >= 1, got {self.compact_limit}")
        if self.warm_start is not None and self.warm_start < 0:
            raise ValueError(f"warm_start: must be >= 0 seconds, got {self.warm_start}")


class IlpSolver(BaseSolver):
    """Exact MIP models (PuLP / highspy + HiGHS, CBC fallback)."""

    name = "ilp"
    variants = frozenset({"tsp", "atsp", "cvrp", "ocvrp", "vrptw", "op", "pctsp", "hcvrp"})
    Params = IlpParams

    def warmup(self) -> None:
        """Compile the numba tour improver once (cached on disk), outside any time limit."""
        import numpy as np

        from solvers.ilp.ils import improve

        pts = np.random.default_rng(0).random((12, 2))
        improve(np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1)), list(range(12)), 0.01)

    def backend(self) -> str:
        want = self.params.solver
        if want == "auto":
            return "highs" if _highs.available() else "cbc"
        if want == "highs" and not _highs.available():
            raise SolverError("ilp: solver=highs needs highspy: pip install highspy")
        return want

    def _solve(self, instance: Instance, time_limit: float, seed: int, start: float) -> Result:
        p: IlpParams = self.params
        v = instance.variant
        backend = self.backend()
        compact = v in ("vrptw", "op", "pctsp", "hcvrp") or (v in ("cvrp", "ocvrp") and backend == "cbc")
        if compact and instance.num_customers > p.compact_limit:
            raise SolverError(
                f"ilp: the compact {v} model is limited to {p.compact_limit} customers "
                f"(compact_limit), this instance has {instance.num_customers}; "
                f"use ortools/ga, or raise compact_limit at your own risk")
        tracer = Tracer(instance.sense, start=start, callback=self.progress)
        # HiGHS answers its interrupt a few tenths of a second late on dense cut rows.
        clock = Clock(start, time_limit, margin=max(0.2, 0.03 * time_limit))
        info: dict = {"backend": backend}

        if v in ("tsp", "atsp"):
            from solvers.ilp import tsp

            if p.cuts == "integer" or backend == "cbc":
                out = tsp.solve_naive(instance, clock, tracer, solver=backend, threads=p.threads)
            else:
                out = tsp.solve_dfj(instance, clock, tracer, threads=p.threads, warm_seconds=p.warm_start,
                                     blossoms=p.blossoms, reseparate=p.reseparate, polish=p.polish)
            info.update(out.info)
            sol = Solution.from_tour(out.tour, instance.depot) if out.tour is not None else None
            return self._result(sol, out.status, out.bound, tracer, info, p)
        if compact:
            from solvers.ilp.compact import solve_compact

            # A heuristic answer first: the compact MIP may not find one in time, and
            # a caller with a short time limit still gets a feasible solution.
            budget = p.warm_start if p.warm_start is not None else min(0.1 * time_limit, 1.0, 0.02 * instance.n)
            fallback = _heuristic(instance, budget, tracer)
            if v in ("op", "pctsp", "hcvrp") and backend == "highs":
                from solvers.ilp.gsec import solve_gsec

                sol, status, bound, extra = solve_gsec(instance, clock, tracer, threads=p.threads, start=fallback)
            else:
                sol, status, bound, extra = solve_compact(instance, clock, tracer, solver=backend,
                                                          threads=p.threads)
            sol, status = _better(instance, sol, status, fallback)
        else:
            from solvers.ilp.cvrp import solve_cvrp

            sol, status, bound, extra = solve_cvrp(instance, clock, tracer, threads=p.threads,
                                                   warm_seconds=p.warm_start)
        info.update(extra)
        return self._result(sol, status, bound, tracer, info, p)

    @staticmethod
    def _result(sol: Solution | None, status: str, bound: float | None, tracer: Tracer, info: dict,
                p: IlpParams) -> Result:
        if sol is None and status in ("optimal", "feasible"):
            status = "timeout"
        if bound is not None and not math.isfinite(bound):
            bound = None
        return Result(sol, status, time.perf_counter() - tracer.start, bound=bound, trace=tracer.trace,
                      threads=p.threads, info=info)


def _heuristic(instance: Instance, seconds: float, tracer: Tracer) -> Solution | None:
    """OR-Tools' answer in ``seconds`` (None when it finds nothing or is missing)."""
    if seconds < 0.05:
        return None
    try:
        from solvers.ortools_routing import OrtoolsSolver
    except ImportError:  # pragma: no cover - ortools is a core dependency
        return None
    from vrp.evaluate import evaluate

    res = OrtoolsSolver().solve(instance, time_limit=seconds)
    if not isinstance(res.solution, Solution):
        return None
    score = evaluate(instance, res.solution)
    if not score.feasible:
        return None
    tracer.offer(score.objective)
    return res.solution


def _better(instance: Instance, sol: Solution | None, status: str,
            fallback: Solution | None) -> tuple[Solution | None, str]:
    """Keep the MIP's answer unless the heuristic one is better (or the MIP has none)."""
    if fallback is None or status == "optimal":
        return sol, status
    if sol is None:
        return fallback, "feasible"
    from vrp.evaluate import evaluate

    a, b = evaluate(instance, sol), evaluate(instance, fallback)
    worse = (b.objective < a.objective) if instance.sense == "min" else (b.objective > a.objective)
    return (fallback, "feasible") if (worse or not a.feasible) else (sol, status)


Params = IlpParams  # the name the registry and users look for
