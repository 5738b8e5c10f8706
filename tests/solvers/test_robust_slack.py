"""Robust planning buffers of ``ga`` and ``ortools``: plans keep the slack, the evaluator scores the real instance."""

from __future__ import annotations

import numpy as np
import pytest

import solvers
from envs.generate import generate
from vrp.evaluate import evaluate
from vrp.result import SolverError
from vrp.scenarios import evaluate_scenarios

STOP = {"ga": {"max_iterations": "60"}, "ortools": {"solution_limit": "30"}}


def _solve(name: str, inst, **options: str):
    res = solvers.get(name, options={**STOP[name], **options}).solve(inst, time_limit=20, seed=3)
    assert res.solution is not None
    return res.solution


@pytest.mark.parametrize("name", ["ga", "ortools"])
def test_capacity_slack_leaves_room_on_every_vehicle(name: str) -> None:
    inst = generate("cvrp", 30, seed=4)
    plain = _solve(name, inst)
    robust = _solve(name, inst, capacity_slack="0.25")
    limit = 0.75 * inst.capacity
    loads = [inst.demands[list(r)].sum() for r in robust.routes if r]
    assert max(loads) <= limit + 1e-9 < max(inst.demands[list(r)].sum() for r in plain.routes if r)
    assert evaluate(inst, robust).feasible and len(robust.routes) >= len(plain.routes)
    noise = "demand=poisson"  # the same scenarios for both plans
    assert (evaluate_scenarios(inst, robust, noise, 400, seed=1).failure_rate
            < evaluate_scenarios(inst, plain, noise, 400, seed=1).failure_rate)


@pytest.mark.parametrize("name", ["ga", "ortools"])
def test_tw_slack_arrives_early_by_the_buffer(name: str) -> None:
    inst = generate("vrptw", 25, seed=6)
    horizon = float(inst.time_windows[0, 1] - inst.time_windows[0, 0])
    sol = _solve(name, inst, tw_slack="0.05")
    assert evaluate(inst, sol).feasible
    # On the deterministic day every customer is reached by its due time less the buffer
    # (or by its ready time / its earliest arrival from the depot, where the buffer is cut there).
    late = evaluate_scenarios(inst, sol, None, 1)
    assert late.on_time_rate == 1.0
    tight = inst.replace(time_windows=np.column_stack([
        inst.time_windows[:, 0],
        np.maximum(inst.time_windows[:, 1] - 0.05 * horizon,
                   np.maximum(inst.time_windows[:, 0], inst.distances[0]))]))
    assert not [v for v in evaluate(tight, sol).violations if v.kind == "time_window" and v.node != 0]


@pytest.mark.parametrize("name", ["ga", "ortools"])
def test_slack_is_validated(name: str) -> None:
    for bad in ("1", "-0.1", "1.5"):
        with pytest.raises(SolverError, match="capacity_slack: must be a fraction in"):
            solvers.get(name, options={"capacity_slack": bad})
    with pytest.raises(SolverError, match="tw_slack"):
        solvers.get(name, options={"tw_slack": "2"})


def test_a_label_after_at_names_a_configured_copy() -> None:
    copy = solvers.get("ga@robust", options={"capacity_slack": "0.1"})
    assert copy.name == "ga" and copy.params.capacity_slack == 0.1
    assert solvers.spec("am:50@x").name == "am" and solvers.spec("ortools@plain").name == "ortools"
    with pytest.raises(SolverError, match="unknown solver"):
        solvers.get("nosuch@robust")
