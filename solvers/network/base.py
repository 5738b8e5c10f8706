"""The network family's small base class: the same contract as :class:`solvers.base.BaseSolver`."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from vrp.network import VARIANT, FlowProblem
from vrp.result import Result, UnsupportedVariant, check_time_limit


class NetworkSolver:
    """Subclasses set ``name``, optionally ``Params``, and implement ``_solve``.

    ``solve`` rejects anything but a :class:`~vrp.network.FlowProblem` and a bad time
    limit before any work, times the whole call and stamps the solver name.
    """

    name: ClassVar[str] = ""
    variants: ClassVar[frozenset[str]] = frozenset({VARIANT})
    Params: ClassVar[type | None] = None
    iteration_option: ClassVar[str | None] = None  # the option that makes a run deterministic, if any

    def __init__(self, params: Any = None) -> None:
        if params is None and self.Params is not None:
            params = self.Params()
        self.params = params

    def solve(self, problem: FlowProblem, *, time_limit: float, seed: int = 0) -> Result:
        if not isinstance(problem, FlowProblem):
            variant = getattr(problem, "variant", type(problem).__name__)
            raise UnsupportedVariant(
                f"solver {self.name!r} (network family) solves flow problems, not variant {variant!r}")
        limit = check_time_limit(time_limit)
        start = time.perf_counter()
        result = self._solve(problem, limit, int(seed), start)
        result.runtime = time.perf_counter() - start
        result.solver = self.name
        return result

    def _solve(self, problem: FlowProblem, time_limit: float, seed: int, start: float) -> Result:
        raise NotImplementedError
