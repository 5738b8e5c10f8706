"""The ``pyvrp`` reference adapter: the variants it claims, faithfully translated."""

from __future__ import annotations

import pytest

import solvers
from envs.generate import generate
from tests.bruteforce import optimum
from vrp.evaluate import evaluate
from vrp.io import read
from vrp.result import UnsupportedVariant

pytest.importorskip("pyvrp")

CLAIMED = ["tsp", "atsp", "cvrp", "ocvrp", "vrptw", "hcvrp", "op"]


def _pyvrp(**options: object):
    return solvers.get("pyvrp", options=dict(options))


@pytest.mark.parametrize("variant", CLAIMED)
def test_tiny_instances_solved_to_optimality(variant: str) -> None:
    inst = generate(variant, 7 if variant in ("tsp", "atsp") else 6, seed=41)
    best = optimum(inst)
    res = _pyvrp().solve(inst, time_limit=0.5, seed=1)
    score = evaluate(inst, res.solution)
    assert score.feasible, score.violation_lines()
    # never better than the optimum, and on 6-7 customers PyVRP finds it
    assert score.objective == pytest.approx(best, rel=1e-6)


def test_pctsp_is_not_claimed() -> None:
    assert "pctsp" not in solvers.spec("pyvrp").variants
    with pytest.raises(UnsupportedVariant):
        _pyvrp().solve(generate("pctsp", 6, seed=1), time_limit=1.0)


def test_hcvrp_vehicle_mapping() -> None:
    inst = generate("hcvrp", 20, seed=3)
    res = _pyvrp().solve(inst, time_limit=1.0, seed=1)
    assert len(res.solution.routes) == inst.vehicle_capacities.size
    assert evaluate(inst, res.solution).feasible


def test_max_iterations_is_deterministic() -> None:
    inst = generate("vrptw", 20, seed=4)
    a = _pyvrp(max_iterations=300).solve(inst, time_limit=30.0, seed=3)
    b = _pyvrp(max_iterations=300).solve(inst, time_limit=30.0, seed=3)
    assert a.solution.routes == b.solution.routes
    assert a.info["iterations"] == 300


def test_x_instance_quality_and_trace() -> None:
    inst = read("X-n101-k25")
    res = _pyvrp().solve(inst, time_limit=2.0, seed=1)
    score = evaluate(inst, res.solution)
    assert score.feasible
    assert score.objective <= 27591 * 1.05
    assert res.trace and res.trace[-1][1] == pytest.approx(score.objective)
