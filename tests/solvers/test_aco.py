"""The ant colony: quality on a small TSPLIB instance, the heatmap prior, determinism."""

from __future__ import annotations

import numpy as np
import pytest

import solvers
from envs.generate import generate
from solvers.aco import ACOSolver, Params
from vrp.data import find
from vrp.evaluate import evaluate
from vrp.io import read, read_solution
from vrp.result import SolverError


def test_aco_solves_ulysses22_to_optimality() -> None:
    inst = read("ulysses22")
    r = solvers.get("aco", options={"no_improvement": 50}).solve(inst, time_limit=10, seed=1)
    assert evaluate(inst, r.solution).objective == 7013  # type: ignore[arg-type]


@pytest.mark.parametrize("variant", ["tsp", "atsp", "cvrp", "ocvrp"])
def test_aco_deterministic_and_feasible(variant: str) -> None:
    inst = generate(variant, 20, seed=2)
    a = solvers.get("aco", options={"max_iterations": 10}).solve(inst, time_limit=60, seed=3)
    b = solvers.get("aco", options={"max_iterations": 10}).solve(inst, time_limit=60, seed=3)
    assert a.solution is not None and b.solution is not None
    assert a.solution.routes == b.solution.routes
    assert evaluate(inst, a.solution).feasible
    assert a.info["iterations"] == 10


def test_heatmap_prior_steers_construction() -> None:
    """With the optimal tour's edges as a sharp prior and no local search, the ants rebuild it."""
    inst = read("ulysses22")
    opt = read_solution(find("ulysses22").with_suffix(".opt.tour"), inst)
    order = [inst.depot, *opt.routes[0]]
    heat = np.full((inst.n, inst.n), 1e-6)
    for a, b in zip(order, order[1:] + order[:1]):
        heat[a, b] = heat[b, a] = 1.0
    params = Params(max_iterations=5, ls_ants=0, gamma=3.0)
    guided = ACOSolver(params).solve(inst, time_limit=30, seed=1, heatmap=heat)
    plain = ACOSolver(params).solve(inst, time_limit=30, seed=1)
    g = evaluate(inst, guided.solution).objective  # type: ignore[arg-type]
    p = evaluate(inst, plain.solution).objective  # type: ignore[arg-type]
    assert g == 7013
    assert p > g


def test_bad_heatmap_rejected() -> None:
    inst = generate("tsp", 10, seed=1)
    with pytest.raises(SolverError, match="heatmap"):
        ACOSolver().solve(inst, time_limit=1, seed=0, heatmap=np.ones((3, 3)))
