"""What a sweep runs: its instances, its tasks, and the plan of tasks still to do."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from vrp.bench.errors import BenchError
from vrp.bench.rows import fmt_time_limit, row_key

NEURAL_PREFIXES = ("am:", "pomo:")


SolverFactory = Callable[..., Any]


@dataclass(frozen=True)
class BenchItem:
    """One instance of a sweep.

    ``source`` is what reloads it (a path, a dataset name, ``generated:...#i``); ``group``
    is the row of the report it is counted in (``tsplib``, ``cvrplib-x``, ``generated:cvrp:50``).
    ``instance`` is an :class:`~vrp.model.Instance` (or a network model with its own
    ``evaluate``); ``bks`` the best-known objective under the instance's convention.
    """

    name: str
    group: str
    source: str
    instance: Any
    bks: float | None = None
    family: str = "routing"


@dataclass(frozen=True)
class Task:
    """One unit of work for a worker: a solver on one instance (or a batch, for neural solvers)."""

    items: tuple[BenchItem, ...]
    solver: str
    time_limit: float
    seed: int
    options: tuple[tuple[str, Any], ...] = ()
    version: str = ""  # the solver's library versions, as the caller knows them
    scenarios: Any = None  # a vrp.robustness.ScenarioSetting: scenario columns in every row

    @property
    def keys(self) -> list[tuple[str, str, str, str]]:
        return [row_key({"instance": it.name, "solver": self.solver, "time_limit": self.time_limit,
                         "seed": self.seed}) for it in self.items]

    def deadline(self, factor: float, grace: float) -> float:
        """Seconds after which the task is killed and recorded as ``timeout``."""
        return factor * self.time_limit * len(self.items) + grace


def plan(items: Sequence[BenchItem], solvers: Sequence[str], time_limits: Sequence[float],
         seeds: Sequence[int], *, done: Iterable[tuple[str, str, str, str]] = (),
         options: dict[str, dict[str, Any]] | None = None, batch_neural: bool = True,
         supports: dict[str, frozenset[str]] | None = None,
         versions: dict[str, str] | None = None) -> list[Task]:
    """The tasks still to run, in a stable order; neural solvers get one batch per group and variant
    (with ``search=ls|eas`` or ``decode=sampling`` one task per instance, as every anytime solver).

    ``supports`` maps a solver name to the variants it claims; other pairs are left out
    (not run, no row). Keys in ``done`` are skipped.
    """
    done = set(done)
    names = [it.name for it in items]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise BenchError(f"two instances share the name {dup[0]!r}: results are keyed by instance name")
    tasks: list[Task] = []
    for tl in time_limits:
        if not float(tl) > 0:
            raise BenchError(f"time limit must be positive, got {tl!r}")
    for solver in solvers:
        opts = tuple(sorted((options or {}).get(solver, {}).items()))
        ver = (versions or {}).get(solver, "")
        for tl in time_limits:
            for seed in seeds:
                todo = [it for it in items
                        if (it.name, solver, fmt_time_limit(tl), str(int(seed))) not in done
                        and _supported(supports, solver, it)]
                # Neural modes that use the time (search=ls|eas, decode=sampling) take the whole limit
                # per instance: one task each, like every search method (a crash loses one row).
                if batch_neural and solver.startswith(NEURAL_PREFIXES) and not _anytime(dict(opts)):
                    groups: dict[tuple[str, str], list[BenchItem]] = {}
                    for it in todo:
                        groups.setdefault((it.group, getattr(it.instance, "variant", "")), []).append(it)
                    tasks.extend(Task(tuple(g), solver, float(tl), int(seed), opts, ver) for g in groups.values())
                else:
                    tasks.extend(Task((it,), solver, float(tl), int(seed), opts, ver) for it in todo)
    return tasks


def _anytime(options: dict[str, Any]) -> bool:
    """Whether a neural solver's options make it use its time limit (search, or sampling until it)."""
    search = str(options.get("search", "none")).strip().lower() not in ("", "none")
    return search or str(options.get("decode", "")).strip().lower() == "sampling"


def _supported(supports: dict[str, frozenset[str]] | None, solver: str, item: BenchItem) -> bool:
    if supports is None or solver not in supports:
        return True
    return getattr(item.instance, "variant", "") in supports[solver]
