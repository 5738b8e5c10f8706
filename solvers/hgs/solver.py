"""Hybrid genetic search (after Vidal 2012/2022, HGS-CVRP and PyVRP), our own code.

Giant-tour chromosomes, ordered crossover, optimal Split, education by the shared
granular local search, feasible and infeasible subpopulations managed by a biased
fitness (cost rank + broken-pairs diversity rank), adaptive penalties on excess
load and time warp, and restarts when the search stalls.

Above ``mutation_from`` customers (``strategy=auto``) a symmetric TSP is one tour improved by
2-opt/Or-opt and double-bridge kicks (``strategy=tour``: the exact model's warm start, far ahead
of the population there), and every other variant but atsp runs one trajectory
instead of a population: an iterated local search whose step is a ruin-and-recreate of a
string of neighbouring customers searched from there, accepted by late-acceptance hill
climbing (Burke and Bykov 2017), with an exhaustive search of every new best: the algorithm
PyVRP 0.14 runs. At 400-1000 nodes it beats the population at 1, 10 and 60 s.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from solvers.base import BaseSolver
from solvers.hgs.params import Params, check_init
from solvers.hgs.problem import Problem, build
from solvers.hgs.search import Search
from vrp.model import Instance
from vrp.result import Result, SolverError, Tracer
from vrp.scenarios import buffered
from vrp.stop import MaxIterations, MaxRuntime, NoImprovement, StoppingCriterion

__all__ = ["HGSSolver", "Params", "check_init", "warmup"]


class HGSSolver(BaseSolver):
    """Hybrid genetic search with granular local search (HGS-CVRP style).

    Returns status ``feasible`` with the best feasible solution; when none was found
    in time, status ``timeout`` with the least-penalised infeasible one (the
    evaluator lists its violations).
    """

    name = "ga"
    variants = frozenset({"tsp", "atsp", "cvrp", "ocvrp", "vrptw", "hcvrp"})
    Params = Params
    iteration_option = "max_iterations"

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        p: Params = self.params
        # An unknown checkpoint or a missing extra is an error now, not mid-solve.
        self.init_solver: Any = None
        if p.init is not None:
            from solvers.registry import get as get_solver

            try:
                self.init_solver = get_solver(p.init)
            except SolverError as exc:
                raise type(exc)(f"ga init={p.init}: {exc}") from None

    def warmup(self) -> float:
        """Compile the numba kernels (cached on disk after the first time) and, with ``init``, load
        the policy and measure its sampling speed; seconds taken."""
        t0 = time.perf_counter()
        warmup()
        if self.init_solver is not None:
            self.init_solver.warmup()
            self.init_solver.calibrate()
        return time.perf_counter() - t0

    def check(self, instance: Instance) -> None:
        """Every reason not to run, before any work: ``strategy=tour`` needs a symmetric tsp, the
        ``init`` policy must take the instance."""
        if self.params.strategy == "tour" and not (instance.variant in ("tsp", "atsp") and instance.is_symmetric):
            raise SolverError(f"ga strategy=tour: needs a symmetric tsp, got a {instance.variant} instance; "
                              f"use strategy=auto, ga or ils")
        if self.init_solver is not None:
            try:
                self.init_solver._check(instance)  # variant, checkpoint's problem, adapter, size
            except SolverError as exc:
                raise type(exc)(f"ga init={self.params.init}: {exc}") from None

    def _solve(self, instance: Instance, time_limit: float, seed: int, start: float) -> Result:
        p: Params = self.params
        self.check(instance)
        tracer = Tracer("min", start=start)
        planned = buffered(instance, p.capacity_slack, p.tw_slack)
        prob = build(planned)
        reserve = min(0.1, 0.02 * time_limit)
        clock = MaxRuntime(max(0.0, time_limit - reserve), start=start)
        stop: StoppingCriterion = clock
        if p.max_iterations is not None:
            stop = stop | MaxIterations(p.max_iterations)
        if p.no_improvement is not None:
            stop = stop | NoImprovement(p.no_improvement)
        # The initial population may take only a share of the time (not under an iteration
        # limit: the same seed must give the same solution whatever the machine's speed).
        timed = p.max_iterations is None and p.no_improvement is None
        seeds, init_info = self._seeds(planned, prob, seed, start, time_limit if timed else None)
        search = Search(prob, p, seed, tracer)
        search.run(stop, clock, p.init_share if timed else 1.0, seeds)
        best = search.best
        info = {"iterations": search.iterations, "restarts": search.restarts,
                "penalty_capacity": search.pc, "penalty_time_warp": search.ptw,
                "strategy": search.strategy, "mutation": search.mutation, "initial_population": search.initial_size, **init_info}
        if init_info:
            info["seeded"] = search.seeded
        if best is None:
            sol = None if search.best_any is None else prob.to_solution(search.best_any.nodes,
                                                                      search.best_any.starts)
            return Result(sol, "timeout", tracer.elapsed(), trace=tracer.trace, info=info)
        return Result(prob.to_solution(best.nodes, best.starts), "feasible", tracer.elapsed(),
                      trace=tracer.trace, info=info)

    def _seeds(self, planned: Instance, prob: Problem, seed: int, start: float, time_limit: float | None
               ) -> tuple[list[tuple[np.ndarray, np.ndarray]], dict[str, Any]]:
        """The ``init`` policy's allowed sampled solutions of ``planned`` as (nodes, starts), and
        what ``Result.info`` says of them (empty without ``init``).

        Timed runs give the sampling ``init_time`` of the limit (a policy not calibrated by the
        warm-up is calibrated now, inside that time); under an iteration limit all samples are drawn.
        """
        from vrp.evaluate import evaluate

        if self.init_solver is None:
            return [], {}
        p: Params = self.params
        budget = None
        if time_limit is not None:
            if getattr(self.init_solver, "cost_model", None) is None:
                self.init_solver.calibrate()
            budget = p.init_time * time_limit - (time.perf_counter() - start)
        sols, info = self.init_solver.sample_solutions(planned, p.init_samples, seed, budget)
        seeds = []
        for sol in sols:  # the policy's env may not model everything the instance asks (fleet, windows)
            if not evaluate(planned, sol).feasible or len(sol.routes) > prob.caps.size:
                continue
            seeds.append(prob.from_solution(sol))
        info = {"init": p.init, **info, "init_feasible": len(seeds),
                "init_sampling_s": time.perf_counter() - start}
        return seeds, info


def warmup() -> float:
    """Compile every numba kernel of the HGS on tiny instances; return the seconds it took."""
    from envs.generate import generate

    t0 = time.perf_counter()
    small: dict[str, Any] = {"max_iterations": 5, "pop_size": 3, "generation_size": 2, "nb_elite": 1}
    for problem in ("cvrp", "vrptw", "hcvrp", "tsp"):
        inst = generate(problem, 8, seed=0)
        HGSSolver(Params(**small)).solve(inst, time_limit=60.0, seed=0)
        if problem == "tsp":  # the kicks of large symmetric tsps
            HGSSolver(Params(strategy="tour", max_iterations=2)).solve(inst, time_limit=60.0, seed=0)
        else:  # the mutations of large instances, with polar sectors and without
            HGSSolver(Params(mutation=1.0, **small)).solve(inst, time_limit=60.0, seed=0)
            matrix = Instance(name="matrix", distances=inst.distances, demands=inst.demands,
                              capacity=inst.capacity, vehicle_capacities=inst.vehicle_capacities)
            HGSSolver(Params(mutation=1.0, **small)).solve(matrix, time_limit=60.0, seed=0)
    return time.perf_counter() - t0
