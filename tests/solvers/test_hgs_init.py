"""``ga --option init=am:50``: the policy's samples seed the HGS population (issue 23, item 2)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import solvers
from envs.generate import generate
from solvers.hgs import Params
from vrp.evaluate import evaluate
from vrp.result import SolverError, UnsupportedVariant

pytest.importorskip("torch")
pytest.importorskip("rl4co")


@pytest.fixture(scope="module")
def ga_am50() -> object:
    solver = solvers.get("ga", options={"init": "am:50"})
    solver.warmup()  # numba kernels, the checkpoint, the sampling cost model: outside any limit
    return solver


def test_init_seeds_a_feasible_solution_within_the_limit(ga_am50: object) -> None:
    inst = generate("cvrp", 50, seed=3)
    res = ga_am50.solve(inst, time_limit=3.0, seed=1)  # type: ignore[attr-defined]
    score = evaluate(inst, res.solution)
    assert res.status == "feasible" and score.feasible
    assert res.runtime <= 3.0 + 0.5  # DESIGN.md: max(5 %, 0.5 s)
    assert res.info["init"] == "am:50" and res.info["seeded"] > 0
    assert 0 < res.info["init_samples"] <= 64 and res.info["init_sampling_s"] < res.runtime
    assert res.info["initial_population"] >= res.info["seeded"]


def test_init_is_deterministic_under_an_iteration_limit() -> None:
    inst = generate("cvrp", 50, seed=4)
    solver = solvers.get("ga", options={"init": "am:50", "max_iterations": 50, "init_samples": 16})
    first = solver.solve(inst, time_limit=60.0, seed=7)
    again = solvers.get("ga", options={"init": "am:50", "max_iterations": 50, "init_samples": 16}).solve(
        inst, time_limit=60.0, seed=7)
    assert first.solution.routes == again.solution.routes  # type: ignore[union-attr]
    assert first.info["init_samples"] == 16 and first.info["seeded"] == again.info["seeded"] > 0


def test_no_init_is_todays_ga() -> None:
    inst = generate("cvrp", 30, seed=5)
    plain = solvers.get("ga", options={"max_iterations": 30}).solve(inst, time_limit=60.0, seed=2)
    none = solvers.get("ga", options={"max_iterations": 30, "init": "none"}).solve(inst, time_limit=60.0, seed=2)
    assert plain.solution.routes == none.solution.routes  # type: ignore[union-attr]
    assert "seeded" not in plain.info and "init" not in plain.info


@pytest.mark.parametrize("init", ["ga", "nearest", "cluster", "foo:1"])
def test_init_must_name_a_neural_solver(init: str) -> None:
    with pytest.raises((ValueError, SolverError), match="init"):
        Params(init=init)


def test_init_checkpoint_that_does_not_take_the_instance() -> None:
    solver = solvers.get("ga", options={"init": "am:tsp50"})
    with pytest.raises(UnsupportedVariant, match="init=am:tsp50"):
        solver.solve(generate("cvrp", 20, seed=0), time_limit=5.0)


def vrp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vrp.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("init, expect", [
    ("foo:1", "unknown solver"),
    ("nearest", "must name a neural solver"),
    ("am:999", "no shipped am checkpoint of size 999"),
    ("am:no-such.ckpt", "no file"),
    ("am:tsp50", "does not support variant 'cvrp'"),
])
def test_cli_bad_init_one_line_exit_2_before_any_work(init: str, expect: str) -> None:
    r = vrp("solve", "X-n101-k25", "--solver", "ga", "--option", f"init={init}", "--time-limit", "2")
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and expect in lines[0] and "init" in lines[0], r.stderr
    assert "warm-up" not in r.stderr and not r.stdout
