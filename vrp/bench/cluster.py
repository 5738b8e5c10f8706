"""The same sweep as Ray remote tasks (``vrp bench --ray ADDRESS``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from vrp.bench.errors import BenchError
from vrp.bench.execute import THREAD_ENV, _pin_torch, execute, failed_rows, warm_up
from vrp.bench.plan import SolverFactory, Task


def _ray_execute(task: Task, factory: SolverFactory) -> list[dict[str, Any]]:
    os.environ.update(THREAD_ENV)
    _pin_torch()
    # Warm-up inside the task (a Ray worker may be new): outside the timed solve, inside the deadline.
    warm_up([(task.solver, task.items[0].family, task.options)], factory)
    return execute(task, factory)


def _run_ray(tasks: list[Task], factory: SolverFactory, write: Callable[[list[dict[str, Any]]], None],
             address: str, workers: int, factor: float, grace: float) -> None:
    try:
        import ray
    except ImportError:
        raise BenchError('--ray needs Ray: pip install "vrp-toolkit[ray]"') from None
    started_here = not ray.is_initialized()
    if started_here:
        kwargs: dict[str, Any] = {"runtime_env": {"env_vars": dict(THREAD_ENV)}, "log_to_driver": False,
                                  "include_dashboard": False}
        try:
            if address == "local":  # a fresh single-machine cluster, never a stale one found on disk
                ray.init(address="local", num_cpus=max(workers, 1), **kwargs)
            else:
                ray.init(address=address, **kwargs)
        except Exception as exc:  # ConnectionError, auth errors, ...: one line, not a traceback
            raise BenchError(f"--ray {address}: cannot connect ({type(exc).__name__}: {exc})") from None
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(_ray_execute)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        # Only as many in flight as there are CPUs, so that a task's clock starts when it runs.
        slots = max(1, min(cpus, workers) if workers > 0 else cpus)
        queue = list(reversed(tasks))
        factory_ref = ray.put(factory)
        running: dict[Any, tuple[Task, float]] = {}
        while queue or running:
            while queue and len(running) < slots:
                task = queue.pop()
                running[remote.remote(task, factory_ref)] = (task, time.perf_counter())
            ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
            for ref in ready:
                task, t0 = running.pop(ref)
                try:
                    rows = ray.get(ref)
                except Exception as exc:
                    rows = failed_rows(task, "error", f"ray task failed: {type(exc).__name__}: {exc}",
                                       time.perf_counter() - t0)
                write(rows)
            now = time.perf_counter()
            for ref, (task, t0) in list(running.items()):
                if now - t0 > task.deadline(factor, grace):
                    ray.cancel(ref, force=True)
                    running.pop(ref)
                    write(failed_rows(task, "timeout", f"Ray task cancelled after {now - t0:.1f} s", now - t0))
    finally:
        if started_here:
            ray.shutdown()
