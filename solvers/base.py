"""A small base class that keeps the solver contracts (variant check, time limit, timing)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from vrp.model import Instance
from vrp.result import Result, check_supported, check_time_limit


class BaseSolver:
    """Subclasses set ``name``, ``variants``, optionally ``Params``, and implement ``_solve``.

    ``solve`` rejects an unsupported variant or a bad time limit before any work,
    times the whole call and stamps the solver name on the result.
    """

    name: ClassVar[str] = ""
    #: Name of the ``Params`` field that bounds the number of iterations (e.g.
    #: ``"max_iterations"``). With it set, the same seed gives the identical solution
    #: whatever the machine's speed (the determinism contract). None: the solver is
    #: deterministic whenever it finishes before its time limit (constructions, exact
    #: models on small instances).
    iteration_option: ClassVar[str | None] = None
    variants: ClassVar[frozenset[str]] = frozenset()
    Params: ClassVar[type | None] = None

    def __init__(self, params: Any = None) -> None:
        if params is None and self.Params is not None:
            params = self.Params()
        self.params = params
        #: Optional ``callback(seconds, best_objective)`` for live progress (the CLI sets it
        #: on a terminal); solvers pass it to their :class:`vrp.result.Tracer`.
        self.progress: Callable[[float, float], None] | None = None

    def solve(self, instance: Instance, *, time_limit: float, seed: int = 0) -> Result:
        check_supported(self, instance)  # type: ignore[arg-type]
        limit = check_time_limit(time_limit)
        start = time.perf_counter()
        result = self._solve(instance, limit, int(seed), start)
        result.runtime = time.perf_counter() - start
        result.solver = self.name
        return result

    def _solve(self, instance: Instance, time_limit: float, seed: int, start: float) -> Result:
        raise NotImplementedError
