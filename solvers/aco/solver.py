"""MAX-MIN ant system (Stützle & Hoos 2000) with the HGS local search on the best ants.

Ants build solutions over candidate lists with probability proportional to
``tau^alpha * eta^beta * prior^gamma``; ``eta = 1/d`` and ``prior`` is an optional
heatmap (a learned edge-probability matrix, DeepACO-style), given to ``solve`` or
set on the solver, or computed in the solve by a trained DeepACO network
(``heatmap=deepaco:tsp100``, see :mod:`solvers.aco.heatmap`; its time counts in the
time limit, its loading happens in :meth:`ACOSolver.warmup`). The best ants of each iteration are improved by the one local
search of the toolkit (:mod:`solvers.hgs.localsearch`); pheromone is evaporated,
deposited by the iteration-best or the best-so-far solution, and kept in
``[tau_min, tau_max]``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from solvers.aco import kernels as A
from solvers.base import BaseSolver
from solvers.hgs import kernels as K
from solvers.hgs.localsearch import local_search
from solvers.hgs.problem import build
from vrp.model import Instance
from vrp.result import Result, SolverError, Tracer
from vrp.stop import (
    MaxIterations,
    MaxRuntime,
    NoImprovement,
    StoppingCriterion,
    check_iteration_limits,
)


@dataclass
class Params:
    """Parameters of the ant colony.

    Attributes
    ----------
    max_iterations, no_improvement
        Stop after this many colony iterations / iterations without improvement.
    n_ants
        Ants per iteration.
    alpha, beta
        Exponents of pheromone and of the inverse distance.
    rho
        Evaporation rate.
    candidates
        Candidate-list length per node.
    ls_ants
        Best ants of each iteration improved by local search (0: none).
    p_best
        MAX-MIN parameter setting ``tau_min`` (probability of rebuilding the best).
    gamma
        Exponent of the heatmap prior (when one is given).
    heatmap
        A learned heatmap computed for each instance: ``deepaco:<checkpoint>`` (``deepaco:tsp100``,
        ``deepaco:runs/x/best.pt``) or a checkpoint path; None: no prior.
    """

    max_iterations: int | None = None
    no_improvement: int | None = None
    n_ants: int = 20
    alpha: float = 1.0
    beta: float = 3.0
    rho: float = 0.1
    candidates: int = 15
    ls_ants: int = 4
    p_best: float = 0.05
    gamma: float = 1.0
    heatmap: str | None = None

    def __post_init__(self) -> None:
        check_iteration_limits(self.max_iterations, self.no_improvement)
        if self.n_ants < 1:
            raise ValueError(f"n_ants: must be >= 1, got {self.n_ants}")
        if self.alpha < 0 or self.beta < 0 or self.gamma < 0:
            raise ValueError("alpha, beta, gamma: must be >= 0")
        if not 0.0 < self.rho < 1.0:
            raise ValueError(f"rho: must be in (0, 1), got {self.rho}")
        if self.candidates < 1:
            raise ValueError(f"candidates: must be >= 1, got {self.candidates}")
        if not 0 <= self.ls_ants <= self.n_ants:
            raise ValueError(f"ls_ants: must be in [0, n_ants], got {self.ls_ants}")
        if not 0.0 < self.p_best < 1.0:
            raise ValueError(f"p_best: must be in (0, 1), got {self.p_best}")


class ACOSolver(BaseSolver):
    """MAX-MIN ant system with local search and an optional heatmap prior."""

    name = "aco"
    variants = frozenset({"tsp", "atsp", "cvrp", "ocvrp"})
    Params = Params
    iteration_option = "max_iterations"

    def __init__(self, params: Any = None, heatmap: np.ndarray | None = None) -> None:
        super().__init__(params)
        self.heatmap = heatmap
        self.network = None
        if self.params.heatmap:
            from solvers.aco.heatmap import Heatmap

            self.network = Heatmap(self.params.heatmap)  # an unknown checkpoint fails here, before any work

    def warmup(self) -> float:
        """Compile the numba kernels (cached on disk after the first time) and load the heatmap
        network, if any; seconds taken."""
        t = warmup()
        if self.network is not None:
            t += self.network.load()
        return t

    def check(self, instance: Instance) -> None:
        """Every reason not to run on ``instance``, before any work (the heatmap network's problem,
        coordinates)."""
        if self.network is not None:
            self.network.check(instance)

    def solve(self, instance: Instance, *, time_limit: float, seed: int = 0,
              heatmap: np.ndarray | None = None) -> Result:
        """Solve ``instance``; ``heatmap`` (n x n, non-negative) overrides the solver's prior."""
        old = self.heatmap
        if heatmap is not None:
            self.heatmap = heatmap
        try:
            return super().solve(instance, time_limit=time_limit, seed=seed)
        finally:
            self.heatmap = old

    def _solve(self, instance: Instance, time_limit: float, seed: int, start: float) -> Result:
        p: Params = self.params
        tracer = Tracer("min", start=start)
        heatmap = self.heatmap
        heatmap_s = 0.0
        if heatmap is None and self.network is not None:
            heatmap = self.network(instance)  # inside the time limit
            heatmap_s = time.perf_counter() - start
        prob = build(instance)
        n = prob.n
        if heatmap is not None:
            h = np.asarray(heatmap, dtype=float)
            if h.shape != (n, n) or not np.isfinite(h).all() or (h < 0).any():
                raise SolverError(f"heatmap: expected a non-negative finite {n}x{n} matrix, got shape {h.shape}")
            h = h[np.ix_(prob.order, prob.order)]
        else:
            h = None
        reserve = min(0.1, 0.02 * time_limit)
        clock = MaxRuntime(max(0.0, time_limit - reserve), start=start)
        stop: StoppingCriterion = clock
        if p.max_iterations is not None:
            stop = stop | MaxIterations(p.max_iterations)
        if p.no_improvement is not None:
            stop = stop | NoImprovement(p.no_improvement)

        state = K.new_state(seed)
        D = prob.D
        if n <= 2:
            nodes = np.arange(1, n, dtype=np.int64)
            starts = np.zeros(prob.caps.size + 1, dtype=np.int64)
            starts[1:] = nodes.size
            return Result(prob.to_solution(nodes, starts), "feasible", tracer.elapsed(), trace=tracer.trace)
        neigh = prob.neighbours(20)
        kc = max(1, min(p.candidates, n - 1))
        with np.errstate(divide="ignore"):
            scale = float(np.mean(D[D > 0])) if (D > 0).any() else 1.0
            eta = scale / np.maximum(D, 1e-9 * scale)
        eta_beta = eta ** p.beta
        if h is not None:
            eta_beta = eta_beta * (h + 1e-12) ** p.gamma
        np.fill_diagonal(eta_beta, 0.0)
        eta_beta = np.ascontiguousarray(eta_beta)
        # candidate lists: the most desirable arcs by heuristic (and prior, when given)
        desir = np.maximum(eta_beta, eta_beta.T) if h is None else eta_beta.copy()
        np.fill_diagonal(desir, -1.0)
        cand = np.ascontiguousarray(np.argsort(-desir, axis=1, kind="stable")[:, :kc]).astype(np.int64)
        cap = float(prob.caps[0]) if not prob.single_route else 1e30
        symmetric = bool(np.array_equal(D, D.T))
        pc = 100.0 * max(0.1, float(D.max()) / max(1e-9, float(prob.dem.max()) if prob.dem.max() > 0 else 1.0))

        best_nodes: np.ndarray | None = None
        best_starts: np.ndarray | None = None
        best_cost = math.inf
        tau = np.ones((n, n))
        tmax = tmin = 1.0
        iterations = 0
        while True:
            if stop(best_cost) and best_nodes is not None:
                break
            iterations += 1
            weights = A.make_weights(tau, eta_beta, p.alpha)
            nodes, ends, nroutes, costs = A.construct(weights, cand, D, prob.dem, cap, p.n_ants, state)
            order = np.argsort(costs, kind="stable")
            it_best: tuple[float, Any, Any] = (math.inf, None, None)
            for rank, a in enumerate(order):
                nd = nodes[a].copy()
                st = np.concatenate(([0], ends[a, :nroutes[a]])).astype(np.int64)
                if st.size - 1 > prob.caps.size:
                    st = K.split(nd, prob.caps, prob.hetero, pc, 1.0, D, prob.dem, prob.ready, prob.due, prob.serv,
                                 prob.has_tw)
                else:
                    st = np.concatenate((st, np.full(prob.caps.size + 1 - st.size, nd.size, dtype=np.int64)))
                cost = float(costs[a])
                if rank < p.ls_ants:
                    o_nodes, o_starts, dist, excess, _, _, _ = local_search(
                        nd, st, prob.caps, prob.hetero, pc, 1.0, D, prob.dem, prob.ready, prob.due, prob.serv,
                        prob.has_tw, neigh, 3, state)
                    if excess <= 1e-9:
                        nd, st, cost = o_nodes, o_starts, float(dist)
                if cost < it_best[0]:
                    it_best = (cost, nd, st)
                if rank >= p.ls_ants and cost >= it_best[0]:
                    break
            if it_best[0] < best_cost - 1e-9:
                best_cost, best_nodes, best_starts = it_best
                tracer.offer(best_cost)
            # MAX-MIN update: evaporate, deposit (iteration-best, every 5th by best-so-far), clip
            tmax = 1.0 / (p.rho * best_cost) if best_cost > 0 else 1.0
            root = p.p_best ** (1.0 / n)
            tmin = min(tmax, tmax * (1.0 - root) / ((n / 2.0 - 1.0) * root)) if n > 2 else tmax
            if iterations == 1:
                tau[:] = tmax
            A.bound(tau, 1.0 - p.rho, 0.0, math.inf)
            if iterations % 5 == 0:
                A.deposit(tau, best_nodes, best_starts, 1.0 / max(best_cost, 1e-12), symmetric)
            else:
                A.deposit(tau, it_best[1], it_best[2], 1.0 / max(it_best[0], 1e-12), symmetric)
            A.bound(tau, 1.0, tmin, tmax)
        assert best_nodes is not None and best_starts is not None
        info: dict[str, Any] = {"iterations": iterations}
        if self.network is not None and self.heatmap is None:
            info["heatmap_s"] = round(heatmap_s, 4)
        return Result(prob.to_solution(best_nodes, best_starts), "feasible", tracer.elapsed(), trace=tracer.trace,
                      info=info)


def warmup() -> float:
    """Compile every numba kernel of the ant colony on tiny instances; seconds taken."""
    from envs.generate import generate
    from solvers.hgs.solver import warmup as hgs_warmup

    t0 = time.perf_counter()
    hgs_warmup()
    for problem in ("cvrp", "tsp"):
        inst = generate(problem, 8, seed=0)
        ACOSolver(Params(max_iterations=3, n_ants=4, ls_ants=2)).solve(inst, time_limit=60.0, seed=0)
    return time.perf_counter() - t0
