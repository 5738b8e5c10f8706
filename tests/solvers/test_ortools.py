"""The ``ortools`` adapter: every variant against brute force, limits, options, traces."""

from __future__ import annotations

import numpy as np
import pytest

import solvers
from envs.generate import PROBLEMS, generate
from tests.bruteforce import optimum
from tests.timing import slack, within
from vrp.evaluate import evaluate
from vrp.io import read
from vrp.model import Instance
from vrp.result import SolverError


def _ortools(**options: object):
    return solvers.get("ortools", options=dict(options))


@pytest.mark.parametrize("variant", PROBLEMS)
def test_feasible_and_never_better_than_brute_force(variant: str) -> None:
    inst = generate(variant, 7 if variant in ("tsp", "atsp") else 6, seed=31)
    best = optimum(inst)
    res = _ortools().solve(inst, time_limit=0.5, seed=0)
    assert res.status == "feasible" and res.solution is not None
    score = evaluate(inst, res.solution)
    assert score.feasible, score.violation_lines()
    if inst.sense == "min":
        assert score.objective >= best - 1e-6
        assert score.objective <= best * 1.05  # tiny instances: GLS should be (near) optimal
    else:
        assert score.objective <= best + 1e-6
        assert score.objective >= best * 0.95


def test_hcvrp_routes_belong_to_their_vehicles() -> None:
    inst = generate("hcvrp", 15, seed=2)
    res = _ortools().solve(inst, time_limit=1.0)
    assert len(res.solution.routes) == inst.vehicle_capacities.size
    loads = [sum(inst.demands[list(r)]) for r in res.solution.routes]
    assert all(load <= cap + 1e-9 for load, cap in zip(loads, inst.vehicle_capacities))
    assert evaluate(inst, res.solution).feasible


def test_time_limit_and_trace_on_x_instance() -> None:
    inst = read("X-n101-k25")
    limit = 2.0
    res = within(slack(limit), lambda: _ortools().solve(inst, time_limit=limit), "ortools on X-n101-k25")
    assert res.trace, "a solution callback must record the anytime trace"
    times = [t for t, _ in res.trace]
    costs = [c for _, c in res.trace]
    assert times == sorted(times) and costs == sorted(costs, reverse=True)
    score = evaluate(inst, res.solution)
    assert score.feasible
    # integer costs are exact (scale 1): the trace's last value is the evaluator's cost
    assert costs[-1] == pytest.approx(score.objective)


def test_solomon_is_scaled_exactly_and_feasible() -> None:
    from solvers.ortools_routing import cost_scale

    inst = read("C101")
    assert cost_scale(inst) == 10.0
    res = _ortools().solve(inst, time_limit=2.0)
    score = evaluate(inst, res.solution)
    assert score.feasible, score.violation_lines()[:3]
    assert score.num_routes <= inst.num_vehicles
    assert res.trace[-1][1] == pytest.approx(score.objective, abs=1e-6)


def test_options_from_strings_and_validation() -> None:
    s = solvers.get("ortools", options={"first_solution_strategy": "savings", "num_vehicles": "30",
                                        "gls_lambda": "0.2", "solution_limit": "100"})
    assert s.params.first_solution_strategy == "SAVINGS" and s.params.num_vehicles == 30
    with pytest.raises(SolverError, match="first_solution_strategy"):
        _ortools(first_solution_strategy="teleport")
    with pytest.raises(SolverError, match="metaheuristic"):
        _ortools(metaheuristic="magic")
    with pytest.raises(SolverError, match="unknown option"):
        _ortools(colour="red")


def test_fleet_option_is_used() -> None:
    inst = generate("cvrp", 20, seed=4)
    res = _ortools(num_vehicles=12).solve(inst, time_limit=0.5)
    assert res.info["num_vehicles"] == 12
    assert evaluate(inst, res.solution).feasible


def test_solution_limit_is_deterministic() -> None:
    inst = generate("cvrp", 20, seed=5)
    a = _ortools(solution_limit=50).solve(inst, time_limit=30.0, seed=1)
    b = _ortools(solution_limit=50).solve(inst, time_limit=30.0, seed=1)
    assert a.solution.routes == b.solution.routes


def test_open_routes_end_at_last_customer() -> None:
    inst = generate("ocvrp", 15, seed=6)
    res = _ortools().solve(inst, time_limit=0.5)
    score = evaluate(inst, res.solution)
    assert score.feasible
    assert all(0 not in r and inst.n not in r for r in res.solution.routes)


def test_unreachable_time_window_gives_no_solution() -> None:
    coords = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 10.0]])
    tw = np.array([[0.0, 1000.0], [0.0, 50.0], [0.0, 500.0]])
    inst = Instance(name="tw", coords=coords, distances=None, demands=np.array([0, 1, 1]), capacity=10,
                    time_windows=tw, service_times=np.zeros(3))
    res = _ortools().solve(inst, time_limit=1.0)
    assert res.solution is None and res.status in ("infeasible", "timeout")


def test_initial_option_is_validated() -> None:
    assert _ortools().params.initial == "auto"
    assert _ortools(initial="Savings").params.initial == "savings"
    with pytest.raises(SolverError, match="initial"):
        _ortools(initial="sweep")
    with pytest.raises(SolverError, match="give one of them"):
        _ortools(initial="nearest", first_solution_strategy="savings")
    # naming a strategy alone means: OR-Tools builds the first solution
    s = _ortools(first_solution_strategy="savings")
    from solvers.ortools_routing import initial_solver

    assert initial_solver("cvrp", s.params) is None
    assert initial_solver("cvrp", _ortools().params) == "savings"
    assert initial_solver("tsp", _ortools().params) == "nearest"  # no savings for tsp
    assert initial_solver("tsp", _ortools(initial="savings").params) == "nearest"
    assert initial_solver("cvrp", _ortools(initial="none").params) is None


@pytest.mark.parametrize("variant", PROBLEMS)
def test_never_worse_than_the_construction_it_starts_from(variant: str) -> None:
    inst = generate(variant, 40, seed=8)
    for initial in ("auto", "nearest"):
        res = _ortools(initial=initial).solve(inst, time_limit=0.5, seed=0)
        construction = "savings" if initial == "auto" and variant in ("cvrp", "ocvrp", "hcvrp", "vrptw") else "nearest"
        assert res.info["initial"] == construction
        built = evaluate(inst, solvers.get(construction).solve(inst, time_limit=5).solution)
        score = evaluate(inst, res.solution)
        assert score.feasible
        if inst.sense == "min":
            assert score.objective <= built.objective + 1e-9
        else:
            assert score.objective >= built.objective - 1e-9
        assert res.trace[0][1] == pytest.approx(built.objective)  # the trace starts at the construction


def test_the_fleet_is_at_least_the_initial_routes() -> None:
    inst = generate("cvrp", 30, seed=9)
    nearest = solvers.get("nearest").solve(inst, time_limit=5).solution
    # one vehicle asked for, but the initial solution needs more: the fleet follows it
    res = _ortools(initial="nearest", num_vehicles=1).solve(inst, time_limit=0.5)
    assert res.info["num_vehicles"] >= len(nearest.routes)
    assert res.info["first_solution_strategy"] == "initial"
    assert evaluate(inst, res.solution).feasible


def test_a_construction_the_model_rejects_falls_back_to_ortools(monkeypatch: pytest.MonkeyPatch) -> None:
    import solvers.ortools_routing as ort
    from vrp.model import Solution

    base = generate("cvrp", 12, seed=10)
    inst = Instance(name="limited", coords=base.coords, distances=None, demands=base.demands,
                    capacity=base.capacity, num_vehicles=6)
    # A start with one route per customer: more routes than the fleet allows
    monkeypatch.setattr(ort, "construct", lambda i, name, seed: Solution([[int(v)] for v in i.customers]))
    res = _ortools().solve(inst, time_limit=1.0)
    assert res.info["initial_rejected"] and res.info["first_solution_strategy"] == "PATH_CHEAPEST_ARC"
    score = evaluate(inst, res.solution)
    assert score.feasible and score.num_routes <= 6
