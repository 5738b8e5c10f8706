"""Composable stopping criteria (after PyVRP's ``stop/``).

A criterion is called once per iteration with the current best objective (as a
value to minimise) and returns True when the search must stop. Combine them with
``|`` (stop when any says so)::

    stop = MaxRuntime(10) | NoImprovement(20_000)
"""

from __future__ import annotations

import time


class StoppingCriterion:
    def __call__(self, best: float) -> bool:
        raise NotImplementedError

    def __or__(self, other: StoppingCriterion) -> StoppingCriterion:
        return AnyOf(self, other)


class AnyOf(StoppingCriterion):
    def __init__(self, *criteria: StoppingCriterion) -> None:
        self.criteria = criteria

    def __call__(self, best: float) -> bool:
        # Evaluate all so that counters advance in lockstep.
        results = [c(best) for c in self.criteria]
        return any(results)


class MaxRuntime(StoppingCriterion):
    """Stop once ``seconds`` of wall-clock time have passed since construction (or ``start``)."""

    def __init__(self, seconds: float, start: float | None = None) -> None:
        if seconds < 0:
            raise ValueError(f"MaxRuntime: seconds must be >= 0, got {seconds}")
        self.seconds = seconds
        self.start = time.perf_counter() if start is None else start

    def remaining(self) -> float:
        return self.seconds - (time.perf_counter() - self.start)

    def __call__(self, best: float) -> bool:
        return time.perf_counter() - self.start >= self.seconds


class MaxIterations(StoppingCriterion):
    def __init__(self, iterations: int) -> None:
        if iterations < 0:
            raise ValueError(f"MaxIterations: iterations must be >= 0, got {iterations}")
        self.iterations = iterations
        self.count = 0

    def __call__(self, best: float) -> bool:
        self.count += 1
        return self.count > self.iterations


class NoImprovement(StoppingCriterion):
    """Stop after ``iterations`` consecutive calls without a strictly better ``best``."""

    def __init__(self, iterations: int) -> None:
        if iterations < 0:
            raise ValueError(f"NoImprovement: iterations must be >= 0, got {iterations}")
        self.iterations = iterations
        self.best = float("inf")
        self.count = 0

    def __call__(self, best: float) -> bool:
        if best < self.best:
            self.best = best
            self.count = 0
        else:
            self.count += 1
        return self.count >= self.iterations


def check_iteration_limits(max_iterations: int | None, no_improvement: int | None) -> None:
    """Validate the iteration limits of a solver's ``Params`` (None: no such limit)."""
    if max_iterations is not None and max_iterations < 0:
        raise ValueError(f"max_iterations: must be >= 0, got {max_iterations}")
    if no_improvement is not None and no_improvement < 1:
        raise ValueError(f"no_improvement: must be >= 1, got {no_improvement}")
