"""What a solver returns (:class:`Result`) and the protocol every solver implements."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from vrp.model import Instance, Solution

if TYPE_CHECKING:  # vrp.network imports this module
    from vrp.network import FlowSolution

STATUSES = ("optimal", "feasible", "infeasible", "timeout", "error")


class SolverError(RuntimeError):
    """A solver cannot run as asked (unsupported variant, bad option, missing extra)."""


class UnsupportedVariant(SolverError):
    pass


@dataclass
class Result:
    """The outcome of one ``solve`` call.

    Parameters
    ----------
    solution
        Best solution found, or None (status ``infeasible``/``timeout``): a routing
        :class:`~vrp.model.Solution`, or a :class:`~vrp.network.FlowSolution` from a
        flow-routing solver.
    status
        ``optimal`` (proved), ``feasible`` (found, not proved), ``infeasible``
        (proved none exists), ``timeout`` (nothing found in time).
    runtime
        Wall-clock seconds of the solve, start-up included.
    bound
        Proven bound in the objective's own direction (lower when minimising,
        upper when maximising), or None.
    trace
        Anytime trace of (seconds, best objective as the solver sees it); reports
        and primal integrals use it. Never a reported cost: the evaluator's is.
    """

    solution: Solution | FlowSolution | None
    status: str
    runtime: float
    solver: str = ""
    bound: float | None = None
    trace: list[tuple[float, float]] = field(default_factory=list)
    threads: int = 1
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status: must be one of {STATUSES}, got {self.status!r}")
        if self.solution is None and self.status in ("optimal", "feasible"):
            raise ValueError(f"status {self.status!r} needs a solution")


@runtime_checkable
class Solver(Protocol):
    """Every solver: a name, the variants it supports, and ``solve``."""

    name: str
    variants: frozenset[str]

    def solve(self, instance: Instance, *, time_limit: float, seed: int = 0) -> Result: ...


def check_supported(solver: Solver, instance: Instance) -> None:
    """Raise :class:`UnsupportedVariant` before any work when the variant is not supported."""
    if instance.variant not in solver.variants:
        raise UnsupportedVariant(
            f"solver {solver.name!r} does not support variant {instance.variant!r} "
            f"(supports: {', '.join(sorted(solver.variants))})"
        )


def check_time_limit(time_limit: float) -> float:
    try:
        t = float(time_limit)
    except (TypeError, ValueError):
        raise SolverError(f"time limit must be a number of seconds, got {time_limit!r}") from None
    if not t > 0:
        raise SolverError(f"time limit must be positive, got {time_limit!r}")
    return t


class Tracer:
    """Records the anytime trace (seconds since start, best objective) and the clock."""

    def __init__(self, sense: str = "min", start: float | None = None,
                 callback: Callable[[float, float], None] | None = None) -> None:
        self.start = time.perf_counter() if start is None else start
        self.sense = sense
        self.best: float | None = None
        self.trace: list[tuple[float, float]] = []
        self.callback = callback

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def offer(self, value: float) -> bool:
        """Record ``value`` if it improves on the best; return whether it did."""
        better = self.best is None or (value < self.best - 1e-9 if self.sense == "min" else value > self.best + 1e-9)
        if better:
            self.best = float(value)
            t = self.elapsed()
            self.trace.append((t, self.best))
            if self.callback is not None:
                self.callback(t, self.best)
        return better
