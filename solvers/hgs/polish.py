"""The HGS local search on one whole solution, for callers outside the genetic search
(the neural solvers' ``search=ls``, the ``cluster`` solver's final improvement)."""

from __future__ import annotations

import numpy as np

from vrp.evaluate import evaluate
from vrp.model import Instance, Solution

EPS = 1e-9


def polish(instance: Instance, solution: Solution, seed: int, granular: int = 20) -> Solution:
    """``solution`` improved to a local optimum of the ``ga``'s neighbourhoods (granular
    relocate/swap/2-opt/2-opt*, SWAP*), the routes of a feasible solution kept feasible:
    any excess load or time warp costs more than a move can save. The input itself when
    the search finds nothing better (by the evaluator) or the input is infeasible."""
    from solvers.hgs import kernels as K
    from solvers.hgs.localsearch import local_search
    from solvers.hgs.problem import build

    old = evaluate(instance, solution)
    if not old.feasible:
        return solution
    prob = build(instance)
    if not prob.limited and len(solution.routes) >= prob.caps.size:  # room for every route and an empty one
        prob.caps = np.full(len(solution.routes) + 1, float(prob.caps[0]))
    nodes, starts = prob.from_solution(solution)
    qmin = float(prob.dem[1:][prob.dem[1:] > 0].min()) if np.any(prob.dem[1:] > 0) else 1.0
    big = 100.0 * float(prob.D.max())
    pc, ptw = big / qmin, big  # per unit of excess load / of time warp
    out = local_search(nodes, starts, prob.caps, prob.hetero, pc, ptw, prob.D, prob.dem, prob.ready, prob.due,
                       prob.serv, prob.has_tw, prob.neighbours(granular), 3, K.new_state(seed), True,
                       prob.angle)
    cand = prob.to_solution(out[0], out[1])
    new = evaluate(instance, cand)
    return cand if new.feasible and new.objective < old.objective - EPS else solution
