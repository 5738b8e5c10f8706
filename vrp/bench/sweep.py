"""Run (or resume) a sweep into a results file, in this process, in worker processes or on Ray."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from vrp import robustness
from vrp.bench.cluster import _run_ray
from vrp.bench.execute import execute, warm_up
from vrp.bench.plan import BenchItem, SolverFactory, _supported, plan
from vrp.bench.pool import _run_pool
from vrp.bench.rows import COLUMNS
from vrp.bench.store import ResultsFile


@dataclass
class SweepStats:
    """What a sweep did: rows written and how they ended."""

    planned: int = 0
    skipped: int = 0
    unsupported: int = 0
    written: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    repaired_bytes: int = 0
    wall_s: float = 0.0


ProgressFn = Callable[[dict[str, Any]], None]


def run_sweep(items: Sequence[BenchItem], solvers: Sequence[str], time_limits: Sequence[float],
              seeds: Sequence[int], out: str | os.PathLike[str], *, factory: SolverFactory,
              workers: int = 1, ray_address: str | None = None,
              options: dict[str, dict[str, Any]] | None = None,
              supports: dict[str, frozenset[str]] | None = None,
              versions: dict[str, str] | None = None,
              timeout_factor: float = 2.0, grace_s: float = 30.0,
              on_row: ProgressFn | None = None, on_plan: Callable[[int, int], None] | None = None,
              on_warmup: Callable[[dict[str, float]], None] | None = None,
              retry_failed: bool = False, scenarios: Any = None) -> SweepStats:
    """Run (or resume) a sweep, appending one row per (instance, solver, time limit, seed) to ``out``.

    Parameters
    ----------
    items
        Resolved instances (names unique).
    solvers, time_limits, seeds
        The grid; every combination with every instance is one row.
    out
        Results CSV; rows already there are skipped (resume).
    factory
        Picklable ``factory(name, family, options) -> Solver`` called inside the workers.
    workers
        Worker processes, one single-threaded solver each; 0 runs in this process
        (no hard timeout, no thread pinning).
    supports
        Variants each solver claims; (solver, instance) pairs outside them are not run.
    versions
        Library versions per solver for the ``solver_version`` column (see :func:`library_versions`).
    ray_address
        Run the tasks as Ray remote functions (``"local"`` starts a local Ray).
    retry_failed
        Run again the keys whose row says ``error`` or ``timeout`` (the new row supersedes it).
    scenarios
        A :class:`vrp.robustness.ScenarioSetting`: every row also gets the scenario columns
        (a file is resumed only with the setting it was written with).
    timeout_factor, grace_s
        A task still running after ``timeout_factor * time_limit + grace_s`` seconds
        (per instance of a batch) is killed and recorded as ``timeout``.
    """
    t_start = time.perf_counter()
    robustness.check_results_file(out, scenarios, COLUMNS)
    results = ResultsFile(out, COLUMNS + (robustness.COLUMNS if scenarios is not None else ()))
    done = results.open(retry_failed=retry_failed)
    stats = SweepStats(repaired_bytes=results.repaired_bytes)
    try:
        tasks = plan(items, solvers, time_limits, seeds, done=done, options=options, supports=supports,
                     versions=versions)
        if scenarios is not None:
            tasks = [replace(t, scenarios=scenarios) for t in tasks]
        stats.planned = sum(len(t.items) for t in tasks)
        runnable = sum(len(time_limits) * len(seeds) for s in solvers for it in items if _supported(supports, s, it))
        stats.unsupported = len(items) * len(solvers) * len(time_limits) * len(seeds) - runnable
        stats.skipped = runnable - stats.planned
        if on_plan is not None:
            on_plan(stats.planned, stats.skipped)

        def write(rows: list[dict[str, Any]]) -> None:
            for row in rows:
                results.append(row)
                stats.written += 1
                stats.statuses[row["status"]] = stats.statuses.get(row["status"], 0) + 1
                if on_row is not None:
                    on_row(row)

        warm = sorted({(t.solver, t.items[0].family, t.options) for t in tasks})
        if ray_address:
            _run_ray(tasks, factory, write, ray_address, workers, timeout_factor, grace_s)
        elif workers <= 0:
            if tasks:
                warmed = warm_up(warm, factory)
                if warmed and on_warmup is not None:
                    on_warmup(warmed)
            for task in tasks:
                write(execute(task, factory))
        else:
            _run_pool(tasks, factory, write, workers, timeout_factor, grace_s, warm, on_warmup)
    finally:
        results.close()
    stats.wall_s = time.perf_counter() - t_start
    return stats
