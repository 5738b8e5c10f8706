"""``ga`` for flow routing: a genetic algorithm over the candidate paths, decoded with repair.

Chromosome: one gene per flow, the index of its preferred candidate path
(:mod:`solvers.network.paths`, the same ``k`` candidates as the path ILP) or ``-1``
("deferred"). Decoding, for the whole population at once (numpy, one step per
flow across every individual):

1. flows with a preferred path are taken in a fixed priority-aware order; each
   gets its preferred path if every link still has room, else its first
   candidate that has room (repair), else it is rejected;
2. deferred flows are then taken in the same order and admitted on their first
   candidate with room (fill).

So every decoded individual is capacity-feasible and maximal (no rejected flow
would fit), and every feasible solution over the candidates is the decoding of
some chromosome. Repairs are written back into the genes (Lamarckian).

The order and the "first candidate" come from link prices: a few hundred
subgradient steps on the Lagrangian relaxation of the capacity constraints
(:func:`lagrangian_prices`, vectorised) price every link; flows are ranked by
reduced profit ``priority * demand - demand * price(path)`` and try their
cheapest candidates first. (Without prices, or when the priced order decodes
worse: ``priority / hops``, shortest first.) The population starts from the
all-first-choice chromosome plus perturbations of it; then binary tournaments,
uniform crossover, mutation (defer, re-route, restore) and elitism, until the
time limit, an iteration limit (``generations``) or ``no_improvement``. Seeded:
the same seed and iteration limit give the same solution.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from solvers.network.base import NetworkSolver
from solvers.network.paths import WEIGHTS, Candidates, candidate_paths
from vrp.network import FlowProblem, FlowSolution
from vrp.result import Result, Tracer
from vrp.stop import MaxIterations, MaxRuntime, NoImprovement, StoppingCriterion


@dataclass(frozen=True)
class GAParams:
    """Parameters of the network ``ga``.

    k, weight
        Candidate paths per flow and their order (as the path ``ilp``).
    population
        Individuals per generation (default 48).
    elite
        Best individuals copied unchanged into the next generation (default 4).
    mutation
        Expected number of mutated genes per child (default 3).
    defer_rate
        Share of genes deferred in the initial perturbations (default 0.05).
    generations
        Iteration limit (None: until the time limit); with it, a run is deterministic.
    no_improvement
        Stop after this many generations without a better best (default 400).
    lagrangian
        Guide the decoder with Lagrangian link prices (default True; see the
        module docstring); False: plain ``priority / hops`` order, shortest first.
    """

    k: int = 5
    weight: str = "hops"
    population: int = 48
    elite: int = 4
    mutation: float = 3.0
    defer_rate: float = 0.05
    generations: int | None = None
    no_improvement: int = 400
    lagrangian: bool = True

    def __post_init__(self) -> None:
        if int(self.k) != self.k or self.k < 1:
            raise ValueError(f"k: must be a positive integer, got {self.k!r}")
        if self.weight not in WEIGHTS:
            raise ValueError(f"weight: must be one of {', '.join(WEIGHTS)}, got {self.weight!r}")
        if self.population < 4:
            raise ValueError(f"population: must be at least 4, got {self.population!r}")
        if not 0 <= self.elite < self.population:
            raise ValueError(f"elite: must be in [0, population), got {self.elite!r}")
        if self.mutation < 0:
            raise ValueError(f"mutation: must be >= 0, got {self.mutation!r}")
        if not 0 <= self.defer_rate <= 1:
            raise ValueError(f"defer_rate: must be in [0, 1], got {self.defer_rate!r}")
        if self.generations is not None and self.generations < 0:
            raise ValueError(f"generations: must be >= 0, got {self.generations!r}")
        if self.no_improvement < 1:
            raise ValueError(f"no_improvement: must be >= 1, got {self.no_improvement!r}")


def lagrangian_prices(problem: FlowProblem, cand: Candidates, lower: float, *, iterations: int = 300,
                      deadline: float | None = None) -> tuple[np.ndarray, float]:
    """Link prices from subgradient steps on the Lagrangian relaxation of the capacities.

    Relaxing ``sum demand * y <= capacity`` with prices ``lam >= 0`` leaves, per flow,
    "take the path of best reduced profit ``weight - demand * price(path)`` if positive".
    Polyak steps towards the primal value ``lower``. Returns the prices of the best
    (lowest) dual value, padded with a zero for the dummy link ``m``, and that value
    (an upper bound over the candidates only).
    """
    net = problem.network
    m = net.m
    fl = problem.flows
    w = fl.weight.astype(float)
    d = fl.demand.astype(float)
    cap = net.capacity.astype(float)
    P = cand.num_paths
    links = np.full((P + 1, cand.path_links.shape[1]), m, dtype=np.int64)
    links[:P] = cand.path_links
    table = np.where(cand.table >= 0, cand.table, P)
    valid = cand.table >= 0
    rows = np.arange(len(fl))
    lam = np.zeros(m + 1)
    best_val, best_lam = np.inf, lam.copy()
    theta, stall = 1.0, 0
    for _ in range(iterations):
        if deadline is not None and time.perf_counter() > deadline:
            break
        price = lam[links].sum(axis=1)
        red = w[:, None] - d[:, None] * price[table]
        red[~valid] = -np.inf
        j = red.argmax(axis=1)
        r = red[rows, j]
        adm = r > 0
        value = float(lam[:m] @ cap + r[adm].sum())
        if value < best_val - 1e-9:
            best_val, best_lam, stall = value, lam.copy(), 0
        else:
            stall += 1
            if stall >= 15:
                theta, stall = theta / 2, 0
        used = links[table[adm, j[adm]]]
        load = np.bincount(used.ravel(), weights=np.repeat(d[adm], used.shape[1]), minlength=m + 1)[:m]
        sub = load - cap
        sub[(lam[:m] <= 0) & (sub < 0)] = 0.0  # projected: a free link cannot get cheaper
        norm = float(sub @ sub)
        if norm <= 1e-12 or theta < 1e-4:
            break
        lam[:m] = np.maximum(0.0, lam[:m] + theta * max(value - lower, 1e-6) / norm * sub)
    return best_lam, float(best_val)


class Decoder:
    """Decodes a population of chromosomes into feasible admissions (see the module docstring).

    With link ``prices``, each flow's candidates are tried cheapest-first and flows
    are ranked by reduced profit ``weight - demand * price``; without, by
    ``priority / hops`` on the shortest candidate.
    """

    def __init__(self, problem: FlowProblem, cand: Candidates, prices: np.ndarray | None = None) -> None:
        net = problem.network
        fl = problem.flows
        self.F = F = len(fl)
        self.k = k = cand.k
        m = net.m
        self.weight = fl.weight.astype(float)
        self.demand = fl.demand.astype(float)
        # Extra path row P: an impossible path (its only link has -inf room).
        P = cand.num_paths
        links = np.full((P + 1, cand.path_links.shape[1]), m, dtype=np.int64)
        links[:P] = cand.path_links
        links[P, :] = m + 1
        table = np.where(cand.table >= 0, cand.table, P)
        valid = cand.table >= 0
        hops = np.append(cand.path_len, 0)[table].astype(float)
        if prices is not None:
            lam = np.append(prices[:m], [0.0, 0.0])
            price = lam[links].sum(axis=1)[table]  # (F, k)
            mean = float(lam[:m].mean()) if m else 0.0
            tie = np.where(valid, price + 0.01 * max(mean, 1e-9) * hops, np.inf)
            self.perm = np.argsort(tie, axis=1, kind="stable")
            best = np.take_along_axis(price, self.perm[:, :1], 1)[:, 0]
            score = np.where(valid.any(1), self.weight - self.demand * best, -np.inf)
        else:
            self.perm = np.tile(np.arange(k), (F, 1))
            prio = fl.priority.astype(float)  # type: ignore[union-attr]
            score = np.where(valid.any(1), prio / np.maximum(hops[:, 0], 1.0), -np.inf)
        table = np.take_along_axis(table, self.perm, 1)
        self.cand_links = links[table]  # (F, k, L), tried in this order
        self.valid = np.take_along_axis(valid, self.perm, 1)
        self.num_valid = self.valid.sum(1)
        self.capacity = np.concatenate([net.capacity.astype(float), [np.inf, -np.inf]])
        order = np.lexsort((np.arange(F), -self.weight, -score))
        self.rank = np.empty(F, dtype=np.int64)
        self.rank[order] = np.arange(F)

    def candidate_index(self, f: int, j: int) -> int:
        """The position in ``Candidates.paths[f]`` of decoder path ``j`` of flow ``f``."""
        return int(self.perm[f, j])

    def decode(self, genes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Admitted path index per flow (``-1`` rejected) and the objective, per individual.

        ``genes`` is updated in place with the repairs of non-deferred flows.
        """
        pop, F = genes.shape
        rows = np.arange(pop)
        key = self.rank[None, :] + F * (genes < 0)
        perm = np.argsort(key, axis=1, kind="stable")
        residual = np.broadcast_to(self.capacity, (pop, self.capacity.size)).copy()
        chosen = np.full((pop, F), -1, dtype=np.int64)
        cand_links, demand = self.cand_links, self.demand
        r2 = rows[:, None]
        for t in range(F):
            f = perm[:, t]
            d = demand[f] - 1e-9
            pref = genes[rows, f]
            lp = cand_links[f, np.maximum(pref, 0)]  # (pop, L)
            pick = np.where((pref >= 0) & (residual[r2, lp].min(axis=1) >= d), pref, -1)
            bad = np.flatnonzero(pick < 0)
            if bad.size:
                lb = cand_links[f[bad]]  # (nb, k, L)
                fits = residual[bad[:, None, None], lb].min(axis=2) >= d[bad, None]
                pick[bad] = np.where(fits.any(axis=1), fits.argmax(axis=1), -1)
            sel = np.flatnonzero(pick >= 0)
            if sel.size:
                # Links of one path are distinct; padding hits the +inf column.
                residual[sel[:, None], cand_links[f[sel], pick[sel]]] -= demand[f[sel], None]
            chosen[rows, f] = pick
        keep = genes >= 0  # Lamarckian repair: a non-deferred gene becomes what it decoded to
        genes[keep] = chosen[keep]
        value = np.where(chosen >= 0, self.weight[None, :], 0.0).sum(axis=1)
        return chosen, value


class NetworkGA(NetworkSolver):
    """Registered as ``ga`` in the network family."""

    name = "ga"
    Params = GAParams
    iteration_option = "generations"

    def _solve(self, problem: FlowProblem, time_limit: float, seed: int, start: float) -> Result:
        p: GAParams = self.params
        rng = np.random.default_rng(seed)
        deadline = start + time_limit
        cand = candidate_paths(problem, p.k, weight=p.weight, deadline=start + time_limit / 4,
                               prove_exhaustive=False)
        tracer = Tracer(sense="max", start=start)
        k_bound = None

        def first_choice(d: Decoder) -> np.ndarray:
            return np.where(d.num_valid > 0, 0, -1)[None, :].copy()

        dec = Decoder(problem, cand)
        lower = float(dec.decode(first_choice(dec))[1][0])  # the density greedy over the candidates
        tracer.offer(lower)
        if p.lagrangian:
            prices, k_bound = lagrangian_prices(problem, cand, lower, deadline=start + 0.4 * time_limit)
            guided = Decoder(problem, cand, prices)
            value0 = float(guided.decode(first_choice(guided))[1][0])
            if value0 >= lower:
                dec = guided
                tracer.offer(value0)
        F = dec.F
        stop: StoppingCriterion = MaxRuntime(time_limit, start=start) | NoImprovement(p.no_improvement)
        if p.generations is not None:
            stop = stop | MaxIterations(p.generations)
        nvalid = dec.num_valid

        def random_paths(shape: tuple[int, ...]) -> np.ndarray:
            # A random valid candidate index per flow (or -1 where a flow has none).
            r = (rng.random(shape) * np.maximum(nvalid, 1)).astype(np.int64)
            return np.where(nvalid > 0, r, -1)

        pop = p.population
        genes = np.zeros((pop, F), dtype=np.int64)
        genes[:, nvalid == 0] = -1
        for i in range(1, pop):
            defer = rng.random(F) < p.defer_rate * (i / pop) * 2
            reroute = rng.random(F) < 0.1 * (i / pop)
            genes[i] = np.where(reroute, random_paths((F,)), genes[i])
            genes[i, defer] = -1
        t0 = time.perf_counter()
        chosen, value = dec.decode(genes)
        gen_seconds = time.perf_counter() - t0
        best_i = int(np.argmax(value))
        best_val, best_sol = float(value[best_i]), chosen[best_i].copy()
        tracer.offer(best_val)
        generations = 0
        rate = min(1.0, p.mutation / max(F, 1))
        while not stop(-best_val):
            if time.perf_counter() + gen_seconds > deadline:
                break
            t0 = time.perf_counter()
            order = np.argsort(-value, kind="stable")
            elite = genes[order[: p.elite]]
            n_child = pop - p.elite
            # Binary tournaments.
            a = rng.integers(0, pop, (n_child, 2))
            b = rng.integers(0, pop, (n_child, 2))
            pa = np.where(value[a[:, 0]] >= value[a[:, 1]], a[:, 0], a[:, 1])
            pb = np.where(value[b[:, 0]] >= value[b[:, 1]], b[:, 0], b[:, 1])
            mask = rng.random((n_child, F)) < 0.5
            children = np.where(mask, genes[pa], genes[pb])
            # Mutation: defer an admitted flow, re-route, or restore a deferred one.
            mut = rng.random((n_child, F)) < rate
            kind = rng.random((n_child, F))
            repl = np.where(kind < 0.4, -1, random_paths((n_child, F)))
            children = np.where(mut, repl, children)
            genes = np.concatenate([elite, children])
            chosen, value = dec.decode(genes)
            generations += 1
            i = int(np.argmax(value))
            if value[i] > best_val + 1e-9:
                best_val, best_sol = float(value[i]), chosen[i].copy()
                tracer.offer(best_val)
            gen_seconds = max(gen_seconds * 0.7, time.perf_counter() - t0)
        paths = {f: cand.paths[f][dec.candidate_index(f, j)] for f, j in enumerate(best_sol.tolist()) if j >= 0}
        sol = FlowSolution.from_indices(problem, paths)
        status, bound = "feasible", None
        if len(paths) == F:
            status, bound = "optimal", problem.offered
        return Result(sol, status, 0.0, bound=bound, trace=tracer.trace,  # type: ignore[arg-type]
                      info={"generations": generations, "k": p.k, "candidate_seconds": round(cand.seconds, 3),
                            "paths": cand.num_paths, "k_path_bound": k_bound})
