"""The contracts every routing solver keeps, parametrised over the registry.

A solver joins this suite by registering. For each solver and each variant it
claims, on small generated instances:

- its solution is feasible (the evaluator says so);
- it returns within max(5 %, 0.5 s) of its time limit (after the warm-up; see
  tests/timing.py for why an overrun is measured twice);
- the same seed (and an iteration limit, through ``iteration_option``) gives the
  identical solution;
- it never beats the brute-force optimum (n <= 8);
- a variant it does not claim is rejected before any work.
"""

from __future__ import annotations

import pytest

import solvers
from envs.generate import PROBLEMS, generate
from tests.bruteforce import optimum
from tests.conftest import routing_solver_names
from tests.timing import slack, within
from vrp.evaluate import evaluate
from vrp.result import UnsupportedVariant

NAMES = routing_solver_names()


def _variants(name: str) -> frozenset[str]:
    """What a solver takes: its spec's variants, narrowed by its checkpoint for a neural name
    (``am:20`` takes the variants that have a shipped size-20 checkpoint)."""
    if solvers.spec(name).takes_argument:
        return solvers.get(name).variants
    return solvers.spec(name).variants


PAIRS = [(name, v) for name in NAMES for v in sorted(_variants(name))]
UNSUPPORTED = [(name, v) for name in NAMES for v in PROBLEMS if v not in _variants(name)]


def _solver(name: str, **options: object):
    return solvers.get(name, options=dict(options))


def _size(variant: str, small: bool) -> int:
    if small:
        return 7 if variant in ("tsp", "atsp") else 6
    return 20


def test_registry_matches_classes() -> None:
    for name in NAMES:
        s = _solver(name)
        if solvers.spec(name).takes_argument:
            assert s.variants and s.variants <= solvers.spec(name).variants, name
        else:
            assert s.variants == solvers.spec(name).variants, name
        assert s.name == solvers.spec(name).name


@pytest.mark.parametrize(("name", "variant"), PAIRS)
def test_feasible(name: str, variant: str, warmed: dict[str, float]) -> None:
    for seed, dist in ((1, "uniform"), (2, "clustered")):
        inst = generate(variant, 15, distribution=dist, seed=seed)
        result = _solver(name).solve(inst, time_limit=2.0, seed=seed)
        assert result.solution is not None, (name, variant, result.status)
        score = evaluate(inst, result.solution)
        assert score.feasible, (name, variant, seed, score.violation_lines()[:3])


@pytest.mark.parametrize(("name", "variant"), PAIRS)
def test_time_limit(name: str, variant: str, warmed: dict[str, float]) -> None:
    inst = generate(variant, _size(variant, small=False), seed=3)
    limit = 1.0
    allowed = slack(limit)
    result = within(allowed, lambda: _solver(name).solve(inst, time_limit=limit, seed=3), f"{name} on {variant}")
    assert result.runtime <= allowed
    assert result.status in ("optimal", "feasible", "timeout", "infeasible")


@pytest.mark.parametrize(("name", "variant"), PAIRS)
def test_deterministic(name: str, variant: str, warmed: dict[str, float]) -> None:
    inst = generate(variant, 12, seed=4, distribution="mixed")
    spec_cls = type(_solver(name))
    opt = spec_cls.iteration_option
    options = {opt: 25} if opt else {}
    limit = 60.0 if opt else 10.0
    a = _solver(name, **options).solve(inst, time_limit=limit, seed=7)
    b = _solver(name, **options).solve(inst, time_limit=limit, seed=7)
    assert a.solution is not None and b.solution is not None
    assert a.solution.routes == b.solution.routes, f"{name} on {variant}: same seed, different solutions"


@pytest.mark.parametrize(("name", "variant"), PAIRS)
def test_never_better_than_brute_force(name: str, variant: str, warmed: dict[str, float]) -> None:
    for seed in (5, 6):
        inst = generate(variant, _size(variant, small=True), seed=seed)
        best = optimum(inst)
        result = _solver(name).solve(inst, time_limit=2.0, seed=seed)
        assert result.solution is not None
        score = evaluate(inst, result.solution)
        assert score.feasible, score.violation_lines()
        if inst.sense == "min":
            assert score.objective >= best - 1e-6, (name, variant, score.objective, best)
        else:
            assert score.objective <= best + 1e-6, (name, variant, score.objective, best)
        if result.status == "optimal":
            assert abs(score.objective - best) <= 1e-6 * max(1.0, abs(best)), (name, variant)


@pytest.mark.parametrize(("name", "variant"), UNSUPPORTED)
def test_unsupported_variant_rejected(name: str, variant: str) -> None:
    inst = generate(variant, 8, seed=1)

    def rejected() -> None:
        with pytest.raises(UnsupportedVariant, match=variant):
            _solver(name).solve(inst, time_limit=5.0, seed=0)

    within(0.5, rejected, f"{name} rejecting {variant}")
