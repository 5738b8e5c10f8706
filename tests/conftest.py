"""Shared fixtures: solver warm-up (numba compiles) happens once, timed, before any timed solve."""

from __future__ import annotations

import time

import pytest

import solvers


def routing_solver_names() -> list[str]:
    """Every registered, installed routing solver name (with example arguments where needed)."""
    out = []
    for spec in solvers.specs(solvers.ROUTING):
        if not spec.installed():
            continue
        out.extend(spec.examples if spec.takes_argument else [spec.name])
    return out


@pytest.fixture(scope="session")
def warmed() -> dict[str, float]:
    """Compile every solver that has a ``warmup`` once; returns seconds per solver."""
    seconds: dict[str, float] = {}
    for name in routing_solver_names():
        solver = solvers.get(name)
        warm = getattr(solver, "warmup", None)
        if warm is not None:
            t0 = time.perf_counter()
            warm()
            seconds[name] = time.perf_counter() - t0
    if seconds:
        print("\nwarm-up (compile) seconds:", {k: round(v, 1) for k, v in seconds.items()})
    return seconds
