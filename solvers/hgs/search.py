"""The search of ``ga`` on one problem: the population (genetic search, HGS-CVRP style) or,
above ``mutation_from`` customers, one trajectory (iterated local search with late acceptance)."""

from __future__ import annotations

import math

import numpy as np

from solvers.hgs import kernels as K
from solvers.hgs.localsearch import evaluate_routes, local_search, ruin_and_search
from solvers.hgs.params import Params
from solvers.hgs.population import Individual, SubPopulation
from solvers.hgs.problem import Problem
from vrp.result import Tracer
from vrp.stop import MaxRuntime, StoppingCriterion

RESTART_AFTER = 20000  # ``restart_after=None``: offspring without a new best before the population restarts
ILS_RESTART = 10  # ... and ``ils`` steps per customer before the walk goes back to the best
TOUR_KICKS = 50  # ``strategy=tour``: kicks per iteration
ILS_STARTS = 4  # educated random tours (or seeds) an ``ils`` run starts from, the least penalised


class Search:
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
        large = prob.n - 1 > params.mutation_from
        # one symmetric tour without time windows: the 2-opt/Or-opt kicks of ``strategy=tour``
        plain_tour = prob.single_route and prob.instance.is_symmetric  # as HGSSolver.check asks
        if params.strategy == "auto":
            self.strategy = ("tour" if plain_tour else "ga" if prob.single_route else "ils") if large else "ga"
        else:  # HGSSolver.check refused ``tour`` on anything but a symmetric tsp
            self.strategy = params.strategy
        self.restart_after = params.restart_after or (
            ILS_RESTART * (prob.n - 1) if self.strategy == "ils" else RESTART_AFTER)
        if self.strategy == "ils":
            self.mutation = 1.0  # every step is a ruin and recreate
        elif params.mutation is not None:
            self.mutation = params.mutation
        else:  # one route (tsp/atsp): crossover children only, as the population always ran it
            self.mutation = 0.9 if large and not prob.single_route else 0.0
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

    def evaluated(self, nodes: np.ndarray, starts: np.ndarray) -> Individual:
        """The routes ``nodes``/``starts`` as they are (no search), evaluated."""
        pr = self.prob
        dist, exc, warp, _ = evaluate_routes(nodes, starts, pr.caps, self.pc, self.ptw, pr.D, pr.dem, pr.ready,
                                             pr.due, pr.serv, pr.has_tw)
        return Individual(nodes, starts, dist, exc, warp, self.n)

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

    def register(self, ind: Individual, window: int) -> None:
        """Record whether ``ind`` keeps the load and time limits; every ``window`` records, adjust
        the penalties towards the target feasible fraction."""
        self.feas_load.append(ind.excess <= 1e-9)
        self.feas_tw.append(ind.warp <= 1e-9)
        if len(self.feas_load) >= window:
            self.manage_penalties()

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
        self.register(ind, 50)
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
            self.insert(self.evaluated(nodes, starts))
            return
        if self.strategy == "ils":
            self.run_ils(stop, clock, init_share, seeds)
            return
        if self.strategy == "tour":
            self.run_tour(stop, seeds)
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
            if self.iterations - self.last_improvement > self.restart_after:
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
            self.register(cand, 100)
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
            if self.iterations - self.last_improvement > self.restart_after and self.best is not None:
                self.restarts += 1
                self.last_improvement = self.iterations
                curr = self.best
                history = [None] * self.p.history
                at = 0

    def run_tour(self, stop: StoppingCriterion, seeds: list[tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        """One symmetric tour (tsp): 2-opt/Or-opt from the first seed or a nearest-neighbour tour,
        then batches of ``TOUR_KICKS`` double-bridge kicks on a segment, each searched again and
        kept when not worse (the exact model's warm start, :mod:`solvers.ilp.ils`); a batch is
        one iteration."""
        from solvers.ilp.ils import kicks, neighbours

        d = np.ascontiguousarray(self.prob.D, dtype=np.float64)
        neigh = neighbours(d)
        if seeds:
            cur = np.concatenate(([0], seeds[0][0])).astype(np.int64)
        else:
            cur = np.concatenate(([0], K.randomised_nearest_tour(self.prob.D, self.state, 1))).astype(np.int64)
        count = 0  # the first call only searches the start
        while not self._should_stop(stop):
            cur, cost = kicks(d, cur, neigh, count, int(self.rng.integers(2**31 - 1)))
            self.iterations += 1
            count = TOUR_KICKS
            if self.best is not None and cost >= self.best.dist - 1e-9:
                continue  # the kicks keep a tour no worse than their start: nothing new
            k = int(np.flatnonzero(cur == 0)[0])
            nodes = np.concatenate((cur[k + 1:], cur[:k]))
            self.offer(self.evaluated(nodes, np.array([0, nodes.size], dtype=np.int64)))

    def restart(self, clock: MaxRuntime, init_share: float = 1.0) -> None:
        self.restarts += 1
        self.feasible = SubPopulation(self.p, self.n)
        self.infeasible = SubPopulation(self.p, self.n)
        self.last_improvement = self.iterations
        self.initial_population(clock, init_share)
