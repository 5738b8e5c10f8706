"""The ``cluster`` solver: territories within capacity, inner solvers, options, time."""

from __future__ import annotations

import numpy as np
import pytest

import solvers
from envs.generate import generate
from solvers.cluster import sub_instance, territories
from tests.timing import slack, within
from vrp.evaluate import evaluate
from vrp.io import read
from vrp.model import Instance
from vrp.result import SolverError, UnsupportedVariant


def _cluster(**options: object):
    return solvers.get("cluster", options=dict(options))


def _without_coords(inst: Instance) -> Instance:
    return Instance(name=inst.name + "-matrix", distances=np.array(inst.distances), demands=inst.demands,
                    capacity=inst.capacity)


@pytest.mark.parametrize("routes", [1, 3])
@pytest.mark.parametrize("which", ["X-n101-k25", "uniform", "clustered", "matrix"])
def test_every_territory_within_its_capacity(which: str, routes: int) -> None:
    if which == "X-n101-k25":
        inst = read(which)
    else:
        inst = generate("cvrp", 200, distribution="uniform" if which == "matrix" else which, seed=3)
        if which == "matrix":
            inst = _without_coords(inst)
    size = 40
    parts = territories(inst, size, routes, seed=1)
    seen = np.concatenate(parts)
    assert sorted(seen.tolist()) == sorted(int(c) for c in inst.customers)  # each customer exactly once
    for part in parts:
        assert part.size <= size
        assert inst.demands[part].sum() <= routes * inst.capacity + 1e-9, (which, part.size)
    # compact: fewer territories than a route each, about as many as the budget asks for
    budget = int(np.ceil(inst.demands.sum() / inst.capacity))
    assert len(parts) >= budget / routes


def test_territories_are_deterministic_under_a_seed() -> None:
    inst = generate("cvrp", 300, seed=4)
    a = territories(inst, 60, None, seed=2)
    b = territories(inst, 60, None, seed=2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b)) and len(a) == len(b)


def test_sub_instance_keeps_the_distances_and_the_convention() -> None:
    inst = read("X-n101-k25")
    members = np.array([5, 9, 40])
    sub = sub_instance(inst, members, 0)
    assert sub.variant == "cvrp" and sub.n == 4 and sub.rounding == inst.rounding
    assert sub.distances[1, 3] == inst.distances[5, 40] and sub.distances[0, 2] == inst.distances[0, 9]
    assert sub.demands.tolist() == inst.demands[[0, 5, 9, 40]].tolist()


@pytest.mark.parametrize("inner", ["nearest", "savings", "ga"])
def test_inner_solvers_give_feasible_solutions(inner: str, warmed: dict[str, float]) -> None:
    inst = generate("cvrp", 150, distribution="clustered", seed=5)
    res = _cluster(inner=inner, cluster_size=40).solve(inst, time_limit=2.0, seed=1)
    score = evaluate(inst, res.solution)
    assert res.status == "feasible" and score.feasible, score.violation_lines()[:3]
    assert res.info["territories"] >= 4 and res.info["inner"] == inner
    # the local search on the whole never makes it worse
    assert score.objective <= res.info["objective_before_improve"] + 1e-9
    assert res.trace[-1][1] == pytest.approx(score.objective)


def test_anytime_from_the_quick_routes_on(warmed: dict[str, float]) -> None:
    # every territory routed by nearest first: an incumbent before the inner solver's work,
    # which then only replaces a territory's routes where it does better
    inst = generate("cvrp", 150, distribution="clustered", seed=5)
    res = _cluster(inner="ga", cluster_size=40, improve=False).solve(inst, time_limit=2.0, seed=1)
    subs = [sub_instance(inst, m, k) for k, m in enumerate(territories(inst, 40, None, 1))]
    quick = sum(evaluate(sub, solvers.get("nearest").solve(sub, time_limit=1.0).solution).objective for sub in subs)
    assert res.trace[0][1] == pytest.approx(quick) and res.trace[0][0] < 0.5 * res.runtime
    values = [v for _, v in res.trace]
    assert len(values) >= 2 and all(b < a for a, b in zip(values, values[1:]))
    assert values[-1] == pytest.approx(evaluate(inst, res.solution).objective)


def test_open_routes(warmed: dict[str, float]) -> None:
    inst = generate("ocvrp", 120, seed=6)
    res = _cluster(cluster_size=30).solve(inst, time_limit=1.5, seed=1)
    assert evaluate(inst, res.solution).feasible


def test_deterministic_with_an_iteration_limit(warmed: dict[str, float]) -> None:
    inst = generate("cvrp", 120, seed=7)
    a = _cluster(cluster_size=40, max_iterations=30).solve(inst, time_limit=60.0, seed=3)
    b = _cluster(cluster_size=40, max_iterations=30).solve(inst, time_limit=60.0, seed=3)
    assert a.info["territories"] >= 3
    assert a.solution.routes == b.solution.routes


def test_time_limit_is_shared_and_kept(warmed: dict[str, float]) -> None:
    inst = generate("cvrp", 500, seed=8)
    for limit in (0.5, 2.0):
        res = within(slack(limit), lambda lim=limit: _cluster().solve(inst, time_limit=lim, seed=1),
                     f"cluster on cvrp500 at {limit} s")
        assert evaluate(inst, res.solution).feasible
    assert res.info["improve"] in ("improved", "no gain")


def test_options_are_validated() -> None:
    with pytest.raises(SolverError, match="unknown solver 'magic'"):
        _cluster(inner="magic")
    with pytest.raises(SolverError, match="cannot route its own"):
        _cluster(inner="cluster")
    with pytest.raises(SolverError, match="cannot route its own"):
        _cluster(inner="cluster@copy")
    with pytest.raises(SolverError, match="cluster_size"):
        _cluster(cluster_size=1)
    with pytest.raises(SolverError, match="routes"):
        _cluster(routes=0)
    assert _cluster(inner="nearest", cluster_size="50", improve="false").params.improve is False


def test_a_fleet_limit_is_rejected_before_any_work() -> None:
    base = generate("cvrp", 30, seed=9)
    inst = Instance(name="limited", coords=base.coords, distances=None, demands=base.demands,
                    capacity=base.capacity, num_vehicles=10)
    with pytest.raises(SolverError, match="unlimited fleet"):
        within(0.5, lambda: _cluster().solve(inst, time_limit=5.0), "rejecting a fleet limit")
    with pytest.raises(UnsupportedVariant):
        _cluster().solve(generate("vrptw", 10, seed=1), time_limit=5.0)


def test_neural_inner_reaches_beyond_its_training_size() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("rl4co")
    inst = generate("cvrp", 200, seed=10)
    solver = _cluster(inner="am:50", cluster_size=50)
    solver.warmup()
    res = solver.solve(inst, time_limit=10.0, seed=1)
    assert evaluate(inst, res.solution).feasible
    assert res.info["fallback_territories"] == 0
    # ocvrp: am:50 is the multi-variant size-50 policy there
    small = generate("ocvrp", 60, seed=1)
    assert evaluate(small, solver.solve(small, time_limit=5.0, seed=1).solution).feasible
    with pytest.raises(UnsupportedVariant):  # a tsp policy cannot route cvrp territories
        _cluster(inner="am:tsp20").solve(generate("cvrp", 60, seed=1), time_limit=5.0)


def test_a_missing_neural_extra_is_one_clear_error() -> None:
    import importlib.util

    if importlib.util.find_spec("torch") is not None and importlib.util.find_spec("rl4co") is not None:
        pytest.skip("the neural extra is installed")
    with pytest.raises(SolverError, match="neural"):
        _cluster(inner="am:50")
