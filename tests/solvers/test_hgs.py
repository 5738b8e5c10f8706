"""The HGS kernels against independent references: Split against brute force, the
local search's move deltas against the evaluator, crossover, determinism."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import solvers
from envs.generate import generate
from solvers.hgs import kernels as K
from solvers.hgs.localsearch import local_search, ruin_and_search
from solvers.hgs.problem import Problem, build
from vrp.evaluate import evaluate
from vrp.model import Instance, Solution
from vrp.result import SolverError


def penalised_reference(inst: Instance, solution: Solution, pc: float, ptw: float, hetero: bool) -> float:
    """Distance (from the evaluator) + pc * excess load + ptw * time warp, in plain Python."""
    score = evaluate(inst, solution)
    total = score.cost
    for k, route in enumerate(solution.routes):
        if not route:
            continue
        if inst.demands is not None:
            cap = inst.capacity_of(k) if hetero else float(inst.capacity)  # type: ignore[arg-type]
            total += pc * max(0.0, float(sum(inst.demands[v] for v in route)) - cap)
        if inst.time_windows is not None:
            tw, d, s = inst.time_windows, inst.distances, inst.service_times
            t, prev, warp = tw[0, 0], 0, 0.0
            for v in [*route, 0]:
                t = t + s[prev] + d[prev, v]
                if t > tw[v, 1]:
                    warp += t - tw[v, 1]
                    t = tw[v, 1]
                t = max(t, tw[v, 0])
                prev = v
            total += ptw * warp
    return total


def _split_cost(prob: Problem, tour: np.ndarray, starts: np.ndarray, pc: float, ptw: float) -> float:
    sol = prob.to_solution(tour, starts) if not prob.hetero else Solution(
        [tuple(int(prob.order[v]) for v in tour[starts[k]:starts[k + 1]]) for k in range(len(starts) - 1)])
    return penalised_reference(prob.instance, sol, pc, ptw, prob.hetero)


def _brute_split(prob: Problem, tour: np.ndarray, pc: float, ptw: float, slots: int) -> float:
    n = tour.size
    best = np.inf
    # every way of cutting the tour into consecutive pieces, assigned to slots 0, 1, ... in order
    for cuts in itertools.product((0, 1), repeat=n - 1):
        pieces, cur = [], [tour[0]]
        for k, c in enumerate(cuts):
            if c:
                pieces.append(cur)
                cur = []
            cur.append(tour[k + 1])
        pieces.append(cur)
        if len(pieces) > slots:
            continue
        if prob.hetero:
            # pieces keep their order; empty slots may sit anywhere between them
            for chosen in itertools.combinations(range(slots), len(pieces)):
                routes = [[] for _ in range(slots)]
                for piece, slot in zip(pieces, chosen):
                    routes[slot] = piece
                sol = Solution([[int(prob.order[v]) for v in r] for r in routes])
                best = min(best, penalised_reference(prob.instance, sol, pc, ptw, True))
        else:
            sol = Solution([[int(prob.order[v]) for v in r] for r in pieces])
            best = min(best, penalised_reference(prob.instance, sol, pc, ptw, False))
    return best


@pytest.mark.parametrize("variant", ["cvrp", "ocvrp", "vrptw", "hcvrp"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_split_is_optimal(variant: str, seed: int) -> None:
    inst = generate(variant, 8, seed=seed)
    prob = build(inst)
    rng = np.random.default_rng(seed)
    pc, ptw = 3.0, 2.0
    for _ in range(3):
        tour = (rng.permutation(prob.n - 1) + 1).astype(np.int64)
        starts = K.split(tour, prob.caps, prob.hetero, pc, ptw, prob.D, prob.dem, prob.ready, prob.due, prob.serv,
                         prob.has_tw)
        assert starts[0] == 0 and starts[-1] == tour.size and np.all(np.diff(starts) >= 0)
        got = _split_cost(prob, tour, starts, pc, ptw)
        want = _brute_split(prob, tour, pc, ptw, prob.caps.size)
        assert got == pytest.approx(want, abs=1e-6), (variant, seed, tour.tolist())


def test_split_respects_a_limited_fleet() -> None:
    inst = generate("cvrp", 8, seed=4).replace(num_vehicles=2)
    prob = build(inst)
    tour = np.arange(1, prob.n, dtype=np.int64)
    starts = K.split(tour, prob.caps, prob.hetero, 1.0, 1.0, prob.D, prob.dem, prob.ready, prob.due, prob.serv,
                     prob.has_tw)
    assert starts.size == 3
    got = _split_cost(prob, tour, starts, 1.0, 1.0)
    assert got == pytest.approx(_brute_split(prob, tour, 1.0, 1.0, 2), abs=1e-6)


VARIANTS = ["tsp", "atsp", "cvrp", "ocvrp", "vrptw", "hcvrp"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(variant=st.sampled_from(VARIANTS), seed=st.integers(0, 10_000), size=st.integers(5, 25),
       pc=st.floats(0.0, 50.0), ptw=st.floats(0.0, 50.0), max_seg=st.integers(1, 3))
def test_move_deltas_match_the_evaluator(variant: str, seed: int, size: int, pc: float, ptw: float,
                                         max_seg: int) -> None:
    """Sum of the applied moves' deltas (as the move evaluator computed them) equals
    the evaluator's penalised cost difference; the search never gets worse."""
    inst = generate(variant, size, seed=seed, distribution="mixed")
    prob = build(inst)
    rng = np.random.default_rng(seed)
    nodes = (rng.permutation(prob.n - 1) + 1).astype(np.int64)
    m = prob.caps.size
    cuts = np.sort(rng.integers(0, nodes.size + 1, m - 1))
    starts = np.concatenate(([0], cuts, [nodes.size])).astype(np.int64)
    before = _split_cost(prob, nodes, starts, pc, ptw)
    out = local_search(nodes, starts, prob.caps, prob.hetero, pc, ptw, prob.D, prob.dem, prob.ready, prob.due,
                       prob.serv, prob.has_tw, prob.neighbours(8), max_seg, K.new_state(seed))
    o_nodes, o_starts, dist, excess, warp, total, predicted = out
    after = _split_cost(prob, o_nodes, o_starts, pc, ptw)
    assert sorted(o_nodes.tolist()) == list(range(1, prob.n))
    assert after == pytest.approx(predicted, rel=1e-9, abs=1e-6)
    assert after == pytest.approx(total, rel=1e-9, abs=1e-6)
    assert after <= before + 1e-6
    sol = Solution([[int(prob.order[v]) for v in o_nodes[o_starts[k]:o_starts[k + 1]]] for k in range(m)])
    assert dist == pytest.approx(evaluate(inst, sol).cost, rel=1e-9, abs=1e-6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(variant=st.sampled_from(VARIANTS), seed=st.integers(0, 10_000), size=st.integers(5, 25),
       pc=st.floats(0.0, 50.0), ptw=st.floats(0.0, 50.0), removed=st.integers(1, 8))
def test_ruin_and_search_deltas_match_the_evaluator(variant: str, seed: int, size: int, pc: float, ptw: float,
                                                    removed: int) -> None:
    """After ruin and recreate, the restricted search's predicted cost is the evaluator's."""
    inst = generate(variant, size, seed=seed, distribution="mixed")
    prob = build(inst)
    rng = np.random.default_rng(seed)
    nodes = (rng.permutation(prob.n - 1) + 1).astype(np.int64)
    m = prob.caps.size
    cuts = np.sort(rng.integers(0, nodes.size + 1, m - 1))
    starts = np.concatenate(([0], cuts, [nodes.size])).astype(np.int64)
    remove = rng.choice(np.arange(1, prob.n), size=min(removed, prob.n - 1), replace=False).astype(np.int64)
    out = ruin_and_search(nodes, starts, prob.caps, prob.hetero, pc, ptw, prob.D, prob.dem, prob.ready, prob.due,
                          prob.serv, prob.has_tw, prob.neighbours(8), 3, K.new_state(seed), remove)
    o_nodes, o_starts, dist, excess, warp, total, predicted = out
    assert sorted(o_nodes.tolist()) == list(range(1, prob.n))
    after = _split_cost(prob, o_nodes, o_starts, pc, ptw)
    assert after == pytest.approx(predicted, rel=1e-9, abs=1e-6)
    assert after == pytest.approx(total, rel=1e-9, abs=1e-6)


def test_ox_crossover_is_a_permutation_keeping_a_slice() -> None:
    state = K.new_state(3)
    rng = np.random.default_rng(3)
    for _ in range(50):
        p1 = (rng.permutation(30) + 1).astype(np.int64)
        p2 = (rng.permutation(30) + 1).astype(np.int64)
        child = K.ox_crossover(p1, p2, state)
        assert sorted(child.tolist()) == list(range(1, 31))
        assert int(np.sum(child == p1)) >= 2


@pytest.mark.parametrize("variant", VARIANTS)
def test_ga_deterministic_and_feasible(variant: str) -> None:
    inst = generate(variant, 20, seed=11)
    a = solvers.get("ga", options={"max_iterations": 30}).solve(inst, time_limit=60, seed=5)
    b = solvers.get("ga", options={"max_iterations": 30}).solve(inst, time_limit=60, seed=5)
    assert a.solution is not None and a.solution.routes == b.solution.routes  # type: ignore[union-attr]
    assert evaluate(inst, a.solution).feasible
    assert a.trace and all(t2 >= t1 and c2 < c1 for (t1, c1), (t2, c2) in zip(a.trace, a.trace[1:]))


def test_ga_finds_the_optimum_of_a_small_tsp() -> None:
    from vrp.io import read

    inst = read("ulysses22")
    r = solvers.get("ga", options={"no_improvement": 200}).solve(inst, time_limit=10, seed=1)
    assert evaluate(inst, r.solution).objective == 7013  # type: ignore[arg-type]


def test_params_are_validated() -> None:
    with pytest.raises(SolverError, match="max_segment"):
        solvers.get("ga", options={"max_segment": "4"})
    with pytest.raises(SolverError, match="unknown option"):
        solvers.get("ga", options={"colour": "red"})
    with pytest.raises(SolverError, match="mutation"):
        solvers.get("ga", options={"mutation": "1.5"})
    with pytest.raises(SolverError, match="ruin_min"):
        solvers.get("ga", options={"ruin_min": "30", "ruin_max": "20"})
    with pytest.raises(SolverError, match="init_share"):
        solvers.get("ga", options={"init_share": "0"})
    with pytest.raises(SolverError, match="ruin_best"):
        solvers.get("ga", options={"ruin_best": "1.5"})
    with pytest.raises(SolverError, match="strategy"):
        solvers.get("ga", options={"strategy": "tabu"})
    with pytest.raises(SolverError, match="history"):
        solvers.get("ga", options={"history": "0"})
    with pytest.raises(SolverError, match="restart_after"):
        solvers.get("ga", options={"restart_after": "0"})
    assert solvers.get("ga", options={"restart_after": "500"}).params.restart_after == 500
    assert solvers.get("ga", options={"strategy": "ILS"}).params.strategy == "ils"
    assert solvers.get("ga", options={"mutation": "0.5"}).params.mutation == 0.5


def test_iteration_limit_is_exact() -> None:
    inst = generate("cvrp", 15, seed=1)
    r = solvers.get("ga", options={"max_iterations": 12}).solve(inst, time_limit=60, seed=1)
    assert r.info["iterations"] == 12


def test_large_instances_mutate_and_stay_deterministic() -> None:
    """With ``strategy=ga`` above ``mutation_from`` customers most offspring are ruin-and-recreate
    mutations; an iteration limit still gives the same solution (the initial population is
    then not timed)."""
    inst = generate("cvrp", 60, seed=12)
    opts = {"strategy": "ga", "mutation_from": 30, "max_iterations": 40, "pop_size": 5, "generation_size": 5}
    a = solvers.get("ga", options=opts).solve(inst, time_limit=60.0, seed=4)
    b = solvers.get("ga", options=opts).solve(inst, time_limit=60.0, seed=4)
    assert a.info["mutation"] == 0.9 and a.info["initial_population"] == 20
    assert a.info["strategy"] == "ga"
    assert a.solution.routes == b.solution.routes
    assert evaluate(inst, a.solution).feasible
    small = solvers.get("ga", options={"max_iterations": 5}).solve(inst, time_limit=60.0, seed=4)
    assert small.info["mutation"] == 0.0 and small.info["strategy"] == "ga"  # below the default threshold
    # ruin_best=0 draws no random number: the same search as without the option
    c = solvers.get("ga", options={**opts, "ruin_best": 0.0}).solve(inst, time_limit=60.0, seed=4)
    assert c.solution.routes == a.solution.routes
    for extra in ({"ruin_best": 0.5}, {"ruin_swap_star": False}):
        d = solvers.get("ga", options={**opts, **extra}).solve(inst, time_limit=60.0, seed=4)
        e = solvers.get("ga", options={**opts, **extra}).solve(inst, time_limit=60.0, seed=4)
        assert d.solution.routes == e.solution.routes and evaluate(inst, d.solution).feasible


@pytest.mark.parametrize("problem", ["cvrp", "vrptw", "tsp"])
def test_ils_steps_are_deterministic_and_improve_the_start(problem: str) -> None:
    """``strategy=auto`` is one trajectory above ``mutation_from`` customers (not on tsp); forced with
    ``strategy=ils`` on any variant it is deterministic under an iteration limit, feasible, and
    no worse than its start (a run of one step)."""
    inst = generate(problem, 60, seed=14)
    opts = {"strategy": "ils", "max_iterations": 150, "history": 20}
    a = solvers.get("ga", options=opts).solve(inst, time_limit=60.0, seed=5)
    b = solvers.get("ga", options=opts).solve(inst, time_limit=60.0, seed=5)
    assert a.info["strategy"] == "ils" and a.info["iterations"] == 150
    assert a.solution.routes == b.solution.routes
    ea = evaluate(inst, a.solution)
    assert ea.feasible
    one = solvers.get("ga", options={**opts, "max_iterations": 1}).solve(inst, time_limit=60.0, seed=5)
    assert ea.objective <= evaluate(inst, one.solution).objective + 1e-9
    # restart_after=None is ten steps per customer for ils; a short one goes back to the best, which it keeps
    assert a.info["restarts"] == 0
    back = solvers.get("ga", options={**opts, "restart_after": 5}).solve(inst, time_limit=60.0, seed=5)
    assert back.info["restarts"] > 0 and evaluate(inst, back.solution).feasible
    assert evaluate(inst, back.solution).objective <= evaluate(inst, one.solution).objective + 1e-9
    auto = solvers.get("ga", options={"mutation_from": 30, "max_iterations": 3}).solve(inst, time_limit=60.0,
                                                                                        seed=5)
    assert auto.info["strategy"] == ("tour" if problem == "tsp" else "ils")


def test_tour_strategy_kicks_one_symmetric_tour() -> None:
    """``strategy=tour`` (auto above ``mutation_from`` on a symmetric tsp, never on atsp or a
    routing variant) is deterministic under an iteration limit, feasible, and each batch of kicks
    keeps the best tour: more iterations are never worse."""
    inst = generate("tsp", 80, seed=15)
    opts = {"strategy": "tour", "max_iterations": 20}
    a = solvers.get("ga", options=opts).solve(inst, time_limit=60.0, seed=5)
    b = solvers.get("ga", options=opts).solve(inst, time_limit=60.0, seed=5)
    assert a.info["strategy"] == "tour" and a.info["iterations"] == 20
    assert a.solution.routes == b.solution.routes
    ea = evaluate(inst, a.solution)
    assert ea.feasible and sorted(a.solution.routes[0]) == list(range(1, inst.n))
    one = solvers.get("ga", options={**opts, "max_iterations": 1}).solve(inst, time_limit=60.0, seed=5)
    assert ea.objective <= evaluate(inst, one.solution).objective + 1e-9
    assert a.trace and a.trace[-1][1] == pytest.approx(ea.objective)
    auto = {"mutation_from": 30, "max_iterations": 2}
    assert solvers.get("ga", options=auto).solve(inst, time_limit=60.0, seed=5).info["strategy"] == "tour"
    atsp = generate("atsp", 40, seed=15)
    on_atsp = solvers.get("ga", options=auto).solve(atsp, time_limit=60.0, seed=5)
    assert on_atsp.info["strategy"] == "ga" and on_atsp.info["mutation"] == 0.0
    # the population on one route above the threshold stays without mutations (tsp/atsp)
    pop = solvers.get("ga", options={**auto, "strategy": "ga"}).solve(inst, time_limit=60.0, seed=5)
    assert pop.info["strategy"] == "ga" and pop.info["mutation"] == 0.0
    with pytest.raises(SolverError, match="strategy=tour"):
        solvers.get("ga", options=opts).solve(generate("cvrp", 20, seed=15), time_limit=5.0)
    with pytest.raises(SolverError, match="strategy=tour"):
        solvers.get("ga", options=opts).solve(atsp, time_limit=5.0)


def test_the_initial_population_takes_a_share_of_the_time() -> None:
    inst = generate("cvrp", 400, seed=13)
    res = solvers.get("ga", options={"init_share": 0.05}).solve(inst, time_limit=1.0, seed=1)
    assert 2 <= res.info["initial_population"] < 100
    assert res.info["iterations"] > 0 and evaluate(inst, res.solution).feasible
