"""Hybrid genetic search (after Vidal 2012/2022, HGS-CVRP and PyVRP), our own code.

Giant-tour chromosomes, ordered crossover, optimal Split, education by the shared
granular local search, feasible and infeasible subpopulations managed by a biased
fitness (cost rank + broken-pairs diversity rank), adaptive penalties on excess
load and time warp, and restarts when the search stalls.

Above ``mutation_from`` customers (``strategy=auto``) the same kernels drive one trajectory
instead of a population: an iterated local search whose step is a ruin-and-recreate of a
string of neighbouring customers searched from there, accepted by late-acceptance hill
climbing (Burke and Bykov 2017), with an exhaustive search of every new best: the algorithm
PyVRP 0.14 runs. At 400-1000 nodes it beats the population at 1, 10 and 60 s.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from solvers.base import BaseSolver
from solvers.hgs import kernels as K
from solvers.hgs.localsearch import evaluate_routes, local_search, ruin_and_search
from solvers.hgs.problem import Problem, build
from vrp.model import Instance
from vrp.result import Result, SolverError, Tracer
from vrp.scenarios import buffered, check_slack
from vrp.stop import (
    MaxIterations,
    MaxRuntime,
    NoImprovement,
    StoppingCriterion,
    check_iteration_limits,
)

STRATEGIES = ("auto", "ga", "ils")
ILS_STARTS = 4  # educated random tours (or seeds) an ``ils`` run starts from, the least penalised


@dataclass
class Params:
    """Parameters of the hybrid genetic search (defaults after HGS-CVRP).

    Attributes
    ----------
    strategy
        ``ga`` (the population), ``ils`` (one trajectory, late acceptance) or ``auto``:
        ``ils`` above ``mutation_from`` customers (not on tsp/atsp), ``ga`` below.
    history
        Late-acceptance history length of ``ils`` (PyVRP's default, 300).
    max_iterations
        Stop after this many offspring (``ils``: steps) (None: no limit). With a seed this
        makes the run deterministic.
    no_improvement
        Stop after this many offspring without a better feasible solution (None: never).
    pop_size
        Minimum subpopulation size mu.
    generation_size
        Offspring lambda added before survivors are selected.
    nb_elite
        Elite individuals protected by the biased fitness.
    nb_close
        Neighbours averaged in the diversity contribution.
    granular
        Neighbours per customer in the local search.
    max_segment
        Longest segment the local search relocates (Or-opt length), 1..3.
    target_feasible
        Target fraction of feasible offspring for the penalty controller.
    repair_probability
        Probability to repair an infeasible offspring with ten-fold penalties.
    restart_after
        Restart the population after this many iterations without improvement (``ils``:
        go back to the best solution and forget the history).
    mutation
        Probability that an offspring is a parent ruined and recreated (a string of
        ``ruin_min`` to ``ruin_max`` neighbouring customers taken out and put back at
        their cheapest places) and educated by a search that starts from those customers,
        instead of a crossover child educated by a search over every customer. At 1000
        nodes the first costs a few milliseconds, the second a tenth of a second.
        None: 0 up to ``mutation_from`` customers, 0.9 above (0 for tsp/atsp).
    mutation_from
        Customers above which ``mutation=None`` mutates.
    ruin_min, ruin_max
        Customers taken out by a mutation or an ``ils`` step (uniform between the two; 5-10
        beat 5-25 and 5-15 on X-n502 and X-n1001 at 10 s and on X-n401 and X-n502 at 60 s).
    ruin_swap_star
        Whether the search after a mutation tries SWAP* (two thirds of its time at 1000
        nodes when it does).
    ruin_best
        Probability that a mutation ruins the best feasible solution found so far instead
        of a parent chosen by binary tournament (0: never, and no random number is drawn
        for it, so the search is the same as without the option).
    init_share
        Most of the time limit the initial population may take (at least two
        individuals are made): at 1000 nodes its 4 x ``pop_size`` educations from
        random tours took longer than a 10 s limit.
    capacity_slack, tw_slack
        Robust planning buffers, fractions in [0, 1): plan with ``capacity x (1 -
        capacity_slack)`` and with every due time ``tw_slack x horizon`` earlier (horizon
        = the depot's due minus ready time), see :func:`vrp.scenarios.buffered`. The
        solution is scored on the real instance; 0 plans on it as it is.
    init
        A neural solver (``am:50``, ``am:mtvrp20``, ``pomo:<checkpoint>``, ...) whose sampled
        solutions seed the initial population (EARLI-style RL initialisation); None: random
        tours only. The sampling counts in the time limit; the checkpoint is loaded and its
        sampling speed measured in :meth:`HGSSolver.warmup`.
    init_samples
        Rollouts sampled in one batched forward pass for ``init``; the allowed distinct ones
        are educated by the local search and inserted (they replace as many random tours).
    init_time
        Most of the time limit the sampling may take (its number of samples is cut to fit,
        down to none); not applied under an iteration limit, where all ``init_samples`` are
        drawn so that the same seed gives the same solution on any machine.
    """

    strategy: str = "auto"
    history: int = 300
    max_iterations: int | None = None
    no_improvement: int | None = None
    pop_size: int = 25
    generation_size: int = 40
    nb_elite: int = 4
    nb_close: int = 5
    granular: int = 20
    max_segment: int = 3
    target_feasible: float = 0.2
    repair_probability: float = 0.5
    restart_after: int = 20000
    mutation: float | None = None
    mutation_from: int = 300
    ruin_min: int = 5
    ruin_max: int = 10
    ruin_swap_star: bool = True
    ruin_best: float = 0.0
    init_share: float = 0.2
    capacity_slack: float = 0.0
    tw_slack: float = 0.0
    init: str | None = None
    init_samples: int = 64
    init_time: float = 0.3

    def __post_init__(self) -> None:
        check_iteration_limits(self.max_iterations, self.no_improvement)
        self.strategy = str(self.strategy).lower()
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy: must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        if self.history < 1:
            raise ValueError(f"history: must be >= 1, got {self.history}")
        check_slack("capacity_slack", self.capacity_slack)
        check_slack("tw_slack", self.tw_slack)
        if self.pop_size < 2:
            raise ValueError(f"pop_size: must be >= 2, got {self.pop_size}")
        if self.generation_size < 1:
            raise ValueError(f"generation_size: must be >= 1, got {self.generation_size}")
        if not 0 <= self.nb_elite <= self.pop_size:
            raise ValueError(f"nb_elite: must be in [0, pop_size], got {self.nb_elite}")
        if self.nb_close < 1:
            raise ValueError(f"nb_close: must be >= 1, got {self.nb_close}")
        if self.granular < 1:
            raise ValueError(f"granular: must be >= 1, got {self.granular}")
        if not 1 <= self.max_segment <= 3:
            raise ValueError(f"max_segment: must be 1, 2 or 3, got {self.max_segment}")
        if not 0.0 < self.target_feasible < 1.0:
            raise ValueError(f"target_feasible: must be in (0, 1), got {self.target_feasible}")
        if not 0.0 <= self.repair_probability <= 1.0:
            raise ValueError(f"repair_probability: must be in [0, 1], got {self.repair_probability}")
        if self.restart_after < 1:
            raise ValueError(f"restart_after: must be >= 1, got {self.restart_after}")
        if self.mutation is not None and not 0.0 <= self.mutation <= 1.0:
            raise ValueError(f"mutation: must be in [0, 1], got {self.mutation}")
        if self.mutation_from < 0:
            raise ValueError(f"mutation_from: must be >= 0, got {self.mutation_from}")
        if not 1 <= self.ruin_min <= self.ruin_max:
            raise ValueError(f"ruin_min, ruin_max: need 1 <= ruin_min <= ruin_max, got {self.ruin_min}, "
                             f"{self.ruin_max}")
        if not 0.0 <= self.ruin_best <= 1.0:
            raise ValueError(f"ruin_best: must be in [0, 1], got {self.ruin_best}")
        if not 0.0 < self.init_share <= 1.0:
            raise ValueError(f"init_share: must be in (0, 1], got {self.init_share}")
        if self.init is not None:
            check_init(self.init)
        if self.init_samples < 1:
            raise ValueError(f"init_samples: must be >= 1, got {self.init_samples}")
        if not 0.0 < self.init_time < 1.0:
            raise ValueError(f"init_time: must be in (0, 1), got {self.init_time}")


def check_init(name: str) -> None:
    """Raise unless ``name`` is a neural solver (``am:50``, ``pomo:<checkpoint>``, ...); an
    unknown solver name is a :class:`vrp.result.SolverError` that lists the valid ones."""
    from solvers.registry import spec

    try:
        found = spec(name)
    except SolverError as exc:
        raise ValueError(f"init: {exc}") from None
    if not (found.takes_argument and found.target.startswith("solvers.neural:")):
        raise ValueError(f"init: must name a neural solver with its checkpoint (am:50, am:mtvrp20, "
                         f"pomo:<checkpoint>, ...), got {name!r}")


class Individual:
    __slots__ = ("nodes", "starts", "dist", "excess", "warp", "succ", "pred", "tour")

    def __init__(self, nodes: np.ndarray, starts: np.ndarray, dist: float, excess: float, warp: float,
                 n: int, angle: np.ndarray | None = None) -> None:
        self.nodes = nodes
        self.starts = starts
        self.tour = nodes
        if angle is not None and starts.size > 2:
            # giant tour for crossover: routes in order of the polar angle of their barycentre
            # (HGS-CVRP), so that OX inherits groups of neighbouring routes
            lens = np.diff(starts)
            keep = np.flatnonzero(lens > 0)
            if keep.size > 1:
                ang = angle[nodes]
                key = np.array([np.arctan2(np.sin(ang[starts[r]:starts[r + 1]]).mean(),
                                           np.cos(ang[starts[r]:starts[r + 1]]).mean()) for r in keep])
                self.tour = np.concatenate([nodes[starts[r]:starts[r + 1]] for r in keep[np.argsort(key)]])
        self.dist = dist
        self.excess = excess
        self.warp = warp
        self.succ, self.pred = K.succ_pred(nodes, starts, n)

    @property
    def feasible(self) -> bool:
        return self.excess <= 1e-9 and self.warp <= 1e-9

    def penalised(self, pc: float, ptw: float) -> float:
        return self.dist + pc * self.excess + ptw * self.warp


class SubPopulation:
    """Individuals with their pairwise broken-pairs distances and biased fitness."""

    def __init__(self, params: Params, n: int) -> None:
        self.params = params
        self.n = n
        self.members: list[Individual] = []
        self.prox = np.zeros((0, 0))
        self._fit: tuple[float, float, np.ndarray] | None = None  # (pc, ptw, fitness), reset on change

    def __len__(self) -> int:
        return len(self.members)

    def _distances(self, ind: Individual) -> np.ndarray:
        if not self.members:
            return np.zeros(0)
        succ = np.stack([m.succ for m in self.members])[:, 1:]
        pred = np.stack([m.pred for m in self.members])[:, 1:]
        s, p = ind.succ[1:], ind.pred[1:]
        broken = (succ != s) & (pred != s)
        broken |= (p == 0)[None, :] & (pred != 0) & (succ != 0)
        return broken.sum(axis=1) / max(1, self.n - 1)

    def add(self, ind: Individual) -> None:
        d = self._distances(ind)
        k = len(self.members)
        prox = np.zeros((k + 1, k + 1))
        prox[:k, :k] = self.prox
        prox[k, :k] = d
        prox[:k, k] = d
        self.prox = prox
        self.members.append(ind)
        self._fit = None

    def remove(self, idx: int) -> None:
        del self.members[idx]
        self.prox = np.delete(np.delete(self.prox, idx, axis=0), idx, axis=1)
        self._fit = None

    def fitness(self, pc: float, ptw: float) -> np.ndarray:
        """Biased fitness (lower is better): cost rank + (1 - elite/size) diversity rank."""
        if self._fit is not None and self._fit[0] == pc and self._fit[1] == ptw:
            return self._fit[2]
        k = len(self.members)
        if k == 1:
            return np.zeros(1)
        cost = np.array([m.penalised(pc, ptw) for m in self.members])
        close = min(self.params.nb_close, k - 1)
        pr = self.prox + np.diag(np.full(k, np.inf))
        div = np.sort(pr, axis=1)[:, :close].mean(axis=1)
        cost_rank = np.empty(k)
        cost_rank[np.argsort(cost, kind="stable")] = np.arange(k) / (k - 1)
        div_rank = np.empty(k)
        div_rank[np.argsort(-div, kind="stable")] = np.arange(k) / (k - 1)
        elite = min(self.params.nb_elite, k)
        fit = cost_rank + (1.0 - elite / k) * div_rank
        self._fit = (pc, ptw, fit)
        return fit

    def survivors(self, pc: float, ptw: float) -> None:
        """Remove clones first, then the worst biased fitness, down to ``pop_size``."""
        while len(self.members) > self.params.pop_size:
            k = len(self.members)
            pr = self.prox + np.diag(np.full(k, np.inf))
            clones = np.flatnonzero(pr.min(axis=1) <= 1e-12)
            if clones.size:
                cost = np.array([self.members[i].penalised(pc, ptw) for i in clones])
                self.remove(int(clones[int(np.argmax(cost))]))
                continue
            self.remove(int(np.argmax(self.fitness(pc, ptw))))


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
        """Every reason not to run, before any work: the ``init`` policy must take the instance."""
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
        search = _Search(prob, p, seed, tracer)
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


class _Search:
    def __init__(self, prob: Problem, params: Params, seed: int, tracer: Tracer) -> None:
        self.prob = prob
        self.p = params
        self.rng = np.random.default_rng(seed)
        self.state = K.new_state(seed)
        self.tracer = tracer
        self.n = prob.n
        self.neigh = prob.neighbours(params.granular)
        dmax = float(prob.D.max()) if prob.n > 1 else 1.0
        qmax = float(prob.dem.max()) if prob.dem.max() > 0 else 1.0
        self.pc = max(0.1, min(1000.0, dmax / qmax))
        self.ptw = 1.0
        self.feas_load: list[bool] = []
        self.feas_tw: list[bool] = []
        self.feasible = SubPopulation(params, prob.n)
        self.infeasible = SubPopulation(params, prob.n)
        self.best: Individual | None = None
        self.best_any: Individual | None = None
        self.iterations = 0
        self.restarts = 0
        self.last_improvement = 0
        self._fit_cache: dict[int, np.ndarray] = {}
        large = prob.n - 1 > params.mutation_from and not prob.single_route
        self.strategy = "ils" if params.strategy == "ils" or (params.strategy == "auto" and large) else "ga"
        if self.strategy == "ils":
            self.mutation = 1.0  # every step is a ruin and recreate
        elif params.mutation is not None:
            self.mutation = params.mutation
        else:
            self.mutation = 0.9 if large and params.strategy == "ga" else 0.0
        # SWAP* on the route pairs whose polar sectors overlap (HGS-CVRP) where mutations make
        # it the bulk of the work; below, on pairs with neighbouring customers, as before
        self.sectors = prob.angle if self.mutation > 0.0 else None
        self.initial_size = 0
        self.seeded = 0

    # ------------------------------------------------------------------ pieces
    def educate(self, tour: np.ndarray) -> Individual:
        pr = self.prob
        starts = K.split(tour, pr.caps, pr.hetero, self.pc, self.ptw, pr.D, pr.dem, pr.ready, pr.due, pr.serv,
                         pr.has_tw)
        return self.improve(tour, starts, self.pc, self.ptw)

    def improve(self, nodes: np.ndarray, starts: np.ndarray, pc: float, ptw: float) -> Individual:
        pr = self.prob
        nodes, starts, dist, excess, warp, _, _ = local_search(
            nodes, starts, pr.caps, pr.hetero, pc, ptw, pr.D, pr.dem, pr.ready, pr.due, pr.serv, pr.has_tw,
            self.neigh, self.p.max_segment, self.state, True, self.sectors)
        return Individual(nodes, starts, dist, excess, warp, self.n, self.prob.angle)

    def insert(self, ind: Individual) -> None:
        sub = self.feasible if ind.feasible else self.infeasible
        sub.add(ind)
        if len(sub) >= self.p.pop_size + self.p.generation_size:
            sub.survivors(self.pc, self.ptw)
        self.offer(ind)

    def offer(self, ind: Individual) -> None:
        """Keep ``ind`` as the best feasible solution (or, while there is none, as the
        least-penalised one) when it is better."""
        if ind.feasible:
            if self.best is None or ind.dist < self.best.dist - 1e-9:
                self.best = ind
                self.last_improvement = self.iterations
                self.tracer.offer(ind.dist)
        elif self.best is None:
            pen = ind.penalised(self.pc, self.ptw)
            if self.best_any is None or pen < self.best_any.penalised(self.pc, self.ptw):
                self.best_any = ind

    def select(self) -> Individual:
        """Binary tournament on biased fitness over both subpopulations."""
        pool = self.feasible.members + self.infeasible.members
        fits = np.concatenate([self.feasible.fitness(self.pc, self.ptw) if len(self.feasible) else np.zeros(0),
                               self.infeasible.fitness(self.pc, self.ptw) if len(self.infeasible) else np.zeros(0)])
        a = int(self.rng.integers(len(pool)))
        b = int(self.rng.integers(len(pool)))
        return pool[a] if fits[a] <= fits[b] else pool[b]

    def tour_of(self, ind: Individual) -> np.ndarray:
        return ind.tour

    def random_tour(self) -> np.ndarray:
        if self.prob.single_route:
            # one long route: start from short randomised tours, else the first
            # educations cost more than the whole search
            return K.randomised_nearest_tour(self.prob.D, self.state, 3)
        return (self.rng.permutation(self.n - 1) + 1).astype(np.int64)

    def manage_penalties(self) -> None:
        def adjust(pen: float, hist: list[bool]) -> float:
            if not hist:
                return pen
            frac = sum(hist) / len(hist)
            if frac < self.p.target_feasible - 0.05:
                pen = min(100000.0, pen * 1.2)
            elif frac > self.p.target_feasible + 0.05:
                pen = max(0.1, pen * 0.85)
            return pen
        self.pc = adjust(self.pc, self.feas_load)
        if self.prob.has_tw:
            self.ptw = adjust(self.ptw, self.feas_tw)
        self.feas_load.clear()
        self.feas_tw.clear()

    def ruin(self, ind: Individual, pc: float, ptw: float, remove: np.ndarray | None = None) -> Individual:
        """``ind`` with a string of neighbouring customers taken out, put back and searched from."""
        pr = self.prob
        if remove is None:
            size = int(self.rng.integers(self.p.ruin_min, self.p.ruin_max + 1))
            seed = int(self.rng.integers(1, self.n))
            near = self.neigh[seed, :size - 1]
            remove = np.concatenate(([seed], near)).astype(np.int64)
        nodes, starts, dist, excess, warp, _, _ = ruin_and_search(
            ind.nodes, ind.starts, pr.caps, pr.hetero, pc, ptw, pr.D, pr.dem, pr.ready, pr.due, pr.serv,
            pr.has_tw, self.neigh, self.p.max_segment, self.state, remove, self.p.ruin_swap_star, self.sectors)
        return Individual(nodes, starts, dist, excess, warp, self.n, self.prob.angle)

    def repair(self, ind: Individual) -> Individual:
        """Ten-fold penalties: by a whole search, or (mutating) by ruining the routes that break a limit."""
        if self.mutation == 0.0:
            return self.improve(ind.nodes, ind.starts, self.pc * 10.0, self.ptw * 10.0)
        pr = self.prob
        if pr.has_tw:  # time warp is not kept per route here: any customers
            remove = ind.nodes
        else:
            bad = [ind.nodes[ind.starts[r]:ind.starts[r + 1]] for r in range(len(ind.starts) - 1)
                   if pr.dem[ind.nodes[ind.starts[r]:ind.starts[r + 1]]].sum() > pr.caps[r] + 1e-9]
            remove = np.concatenate(bad) if bad else ind.nodes[:1]
        if remove.size > 2 * self.p.ruin_max:
            remove = self.rng.choice(remove, 2 * self.p.ruin_max, replace=False)
        return self.ruin(ind, self.pc * 10.0, self.ptw * 10.0, remove.astype(np.int64))

    def offspring(self, tour: np.ndarray | None = None, parent: Individual | None = None,
                  routes: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Educate a crossover child ``tour``, or mutate ``parent``, or improve the solution ``routes``
        (nodes, starts); insert it (and maybe its repair)."""
        if routes is not None:
            ind = self.improve(routes[0], routes[1], self.pc, self.ptw)
        elif parent is None:
            assert tour is not None
            ind = self.educate(tour)
        else:
            ind = self.ruin(parent, self.pc, self.ptw)
        self.feas_load.append(ind.excess <= 1e-9)
        self.feas_tw.append(ind.warp <= 1e-9)
        if len(self.feas_load) >= 50:
            self.manage_penalties()
        self.insert(ind)
        if not ind.feasible and self.rng.random() < self.p.repair_probability:
            rep = self.repair(ind)
            if rep.feasible:
                self.insert(rep)

    def initial_population(self, clock: MaxRuntime, share: float = 1.0,
                           seeds: list[tuple[np.ndarray, np.ndarray]] | None = None,
                           size: int | None = None) -> bool:
        """The ``seeds`` (solutions as nodes, starts) improved by the local search, then educated random
        tours up to ``size`` (default 4 x pop_size) in all, or as many as ``share`` of the time left
        allows (two at least)."""
        size = 4 * self.p.pop_size if size is None else size
        seeds = seeds or []
        for routes in seeds:
            self.offspring(routes=routes)
            self.initial_size += 1
            self.seeded += 1
            if clock(0.0):
                return False
        budget = MaxRuntime(max(0.0, clock.remaining()) * share)
        for k in range(max(2, size - len(seeds))):
            self.offspring(self.random_tour())
            self.initial_size += 1
            if clock(0.0):
                return False
            if share < 1.0 and k >= 1 and budget(0.0):
                break
        return True

    def _should_stop(self, stop: StoppingCriterion) -> bool:
        return bool(stop(self.best.dist if self.best is not None else math.inf))

    # ------------------------------------------------------------------ main loop
    def run(self, stop: StoppingCriterion, clock: MaxRuntime, init_share: float = 1.0,
            seeds: list[tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        if self.prob.n <= 2:
            nodes = np.arange(1, self.n, dtype=np.int64)
            starts = np.zeros(self.prob.caps.size + 1, dtype=np.int64)
            starts[1:] = nodes.size
            dist, exc, warp, _ = evaluate_routes(nodes, starts, self.prob.caps, self.pc, self.ptw, self.prob.D,
                                                 self.prob.dem, self.prob.ready, self.prob.due, self.prob.serv,
                                                 self.prob.has_tw)
            self.insert(Individual(nodes, starts, dist, exc, warp, self.n))
            return
        if self.strategy == "ils":
            self.run_ils(stop, clock, init_share, seeds)
            return
        if not self.initial_population(clock, init_share, seeds):
            return
        while not self._should_stop(stop):
            self.iterations += 1
            if self.mutation > 0.0 and self.rng.random() < self.mutation:
                use_best = (self.p.ruin_best > 0.0 and self.best is not None
                            and self.rng.random() < self.p.ruin_best)
                self.offspring(parent=self.best if use_best else self.select())
            else:
                a = self.select()
                b = self.select()
                self.offspring(K.ox_crossover(self.tour_of(a), self.tour_of(b), self.state))
            if self.iterations - self.last_improvement > self.p.restart_after:
                self.restart(clock, init_share)

    def run_ils(self, stop: StoppingCriterion, clock: MaxRuntime, init_share: float = 1.0,
                seeds: list[tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        """One trajectory from the least-penalised start: each step ruins and recreates a string
        of neighbouring customers of the current solution and searches from them; the step is
        accepted when it beats the current solution or the one ``history`` accepted steps ago
        (late-acceptance hill climbing, with both enhancements of Burke and Bykov's section
        4.2, as PyVRP); a new best is searched again over every customer."""
        # the starts: the seeds and educated random tours, ILS_STARTS at most, in a quarter of the share
        if not self.initial_population(clock, init_share / 4.0, seeds, ILS_STARTS):
            return
        pool = self.feasible.members + self.infeasible.members
        curr = min(pool, key=lambda m: m.penalised(self.pc, self.ptw))
        start = curr
        history: list[Individual | None] = [None] * self.p.history  # a ring: slot k is k steps back
        at = 0
        while not self._should_stop(stop):
            self.iterations += 1
            cand = self.ruin(curr, self.pc, self.ptw)
            self.feas_load.append(cand.excess <= 1e-9)
            self.feas_tw.append(cand.warp <= 1e-9)
            if len(self.feas_load) >= 100:
                self.manage_penalties()
            if cand.feasible and (self.best is None or cand.dist < self.best.dist - 1e-9):
                full = self.improve(cand.nodes, cand.starts, self.pc, self.ptw)
                if full.feasible and full.dist < cand.dist:
                    cand = full
            self.offer(cand)
            cand_cost = cand.penalised(self.pc, self.ptw)
            curr_cost = curr.penalised(self.pc, self.ptw)
            old = history[at]
            late = (start if old is None else old).penalised(self.pc, self.ptw)
            if cand_cost < late or cand_cost < curr_cost:
                curr, curr_cost = cand, cand_cost
            if old is None or curr_cost < late:
                history[at] = curr
            at = (at + 1) % len(history)
            if self.iterations - self.last_improvement > self.p.restart_after and self.best is not None:
                self.restarts += 1
                self.last_improvement = self.iterations
                curr = self.best
                history = [None] * self.p.history
                at = 0

    def restart(self, clock: MaxRuntime, init_share: float = 1.0) -> None:
        self.restarts += 1
        self.feasible = SubPopulation(self.p, self.n)
        self.infeasible = SubPopulation(self.p, self.n)
        self.last_improvement = self.iterations
        self.initial_population(clock, init_share)


def warmup() -> float:
    """Compile every numba kernel of the HGS on tiny instances; return the seconds it took."""
    from envs.generate import generate

    t0 = time.perf_counter()
    small: dict[str, Any] = {"max_iterations": 5, "pop_size": 3, "generation_size": 2, "nb_elite": 1}
    for problem in ("cvrp", "vrptw", "hcvrp", "tsp"):
        inst = generate(problem, 8, seed=0)
        HGSSolver(Params(**small)).solve(inst, time_limit=60.0, seed=0)
        if problem != "tsp":  # the mutations of large instances, with polar sectors and without
            HGSSolver(Params(mutation=1.0, **small)).solve(inst, time_limit=60.0, seed=0)
            matrix = Instance(name="matrix", distances=inst.distances, demands=inst.demands,
                              capacity=inst.capacity, vehicle_capacities=inst.vehicle_capacities)
            HGSSolver(Params(mutation=1.0, **small)).solve(matrix, time_limit=60.0, seed=0)
    return time.perf_counter() - t0

