from __future__ import annotations

import pytest

import solvers
from envs.generate import generate
from vrp import data, io
from vrp.evaluate import evaluate
from vrp.stop import MaxIterations, MaxRuntime, NoImprovement

SHIPPED = [(n, io.read(n).variant) for n in data.names()]


@pytest.mark.parametrize("solver", ["nearest", "savings"])
def test_feasible_on_every_shipped_instance(solver: str) -> None:
    s = solvers.get(solver)
    checked = 0
    for name, variant in SHIPPED:
        if variant not in s.variants:
            continue
        inst = io.read(name)
        result = s.solve(inst, time_limit=30)
        score = evaluate(inst, result.solution)
        assert score.feasible, (solver, name, score.violation_lines()[:3])
        bks = data.bks(name)
        if bks is not None:
            assert score.objective >= bks.value  # never better than the best known
        checked += 1
    assert checked >= 20


def test_savings_beats_nearest_on_x_instances() -> None:
    worse = 0
    for name in ("X-n101-k25", "X-n106-k14", "X-n120-k6", "X-n157-k13", "X-n200-k36"):
        inst = io.read(name)
        a = evaluate(inst, solvers.get("nearest").solve(inst, time_limit=5).solution).objective
        b = evaluate(inst, solvers.get("savings").solve(inst, time_limit=5).solution).objective
        worse += b > a
    assert worse == 0


def test_savings_respects_fleet_and_time_windows() -> None:
    inst = generate("vrptw", 60, seed=3, distribution="clustered").replace(num_vehicles=30)
    score = evaluate(inst, solvers.get("savings").solve(inst, time_limit=5).solution)
    assert score.feasible and score.num_routes <= 30


def test_options_are_validated() -> None:
    with pytest.raises(solvers.registry.SolverError, match="unknown option"):
        solvers.get("savings", options={"bogus": "1"})
    with pytest.raises(solvers.registry.SolverError, match="expected int"):
        solvers.get("savings", options={"neighbours": "many"})
    with pytest.raises(solvers.registry.SolverError, match="neighbours"):
        solvers.get("savings", options={"neighbours": "-1"})
    assert solvers.get("savings", options={"neighbours": "20"}).params.neighbours == 20


def test_stopping_criteria_combine() -> None:
    stop = MaxIterations(5) | NoImprovement(3)
    calls = 0
    while not stop(10.0):
        calls += 1
    assert calls == 3  # the first call sets the best; three calls without improvement stop it
    it = MaxIterations(4)
    assert [it(0.0) for _ in range(6)] == [False] * 4 + [True] * 2
    assert MaxRuntime(0.0)(0.0)
