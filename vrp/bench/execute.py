"""Running one task in this process: the solver's warm-up, its solve, and the scored rows."""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from vrp import robustness
from vrp.bench.errors import BenchError
from vrp.bench.metrics import primal_integral
from vrp.bench.plan import BenchItem, SolverFactory, Task
from vrp.bench.rows import format_routes, format_trace
from vrp.evaluate import gap_pct

# Pinned in every worker so that one worker = one core (recorded in the ``threads`` column).
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}


def _options_text(options: Sequence[tuple[str, Any]]) -> str:
    return json.dumps(dict(options), sort_keys=True, separators=(",", ":")) if options else ""


def solver_version(solver: Any, libraries: str = "") -> str:
    """``vrp-toolkit X``, the versions of the libraries it wraps, and its own ``version`` attribute."""
    try:
        from importlib.metadata import version

        base = f"vrp-toolkit {version('vrp-toolkit')}"
    except Exception:  # not installed: running from a bare checkout
        base = "vrp-toolkit"
    parts = [base, libraries, str(getattr(solver, "version", "") or "")]
    return "; ".join(p for p in parts if p)


def library_versions(modules: Iterable[str]) -> str:
    """``ortools 9.15.x; pulp 3.3.0`` for the importable modules a solver needs (installed ones only)."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for m in modules:
        try:
            out.append(f"{m} {version(m)}")
        except PackageNotFoundError:
            continue
    return "; ".join(out)


def _base_row(item: BenchItem, task: Task) -> dict[str, Any]:
    inst = item.instance
    return {
        "instance": item.name, "group": item.group, "variant": getattr(inst, "variant", ""),
        "n": getattr(inst, "n", None), "solver": task.solver, "time_limit": task.time_limit,
        "seed": task.seed, "sense": getattr(inst, "sense", "min"), "bks": item.bks,
        "ref": "bks" if item.bks is not None else "best-found", "batch_size": len(task.items),
        "options": _options_text(task.options), "source": item.source,
    }


def failed_rows(task: Task, status: str, message: str, runtime: float | None = None,
                version: str = "") -> list[dict[str, Any]]:
    """Rows for a task that crashed (``error``) or was killed over its deadline (``timeout``)."""
    rows = []
    for item in task.items:
        row = _base_row(item, task)
        # No solution over the whole horizon: the primal integral's worst value.
        row.update(status=status, error=message[:500], feasible=False, solver_version=version,
                   runtime_s=None if runtime is None else runtime / len(task.items),
                   primal_integral=float(task.time_limit))
        rows.append(row)
    return rows


def _score(item: BenchItem, solution: Any) -> Any:
    from vrp.evaluate import evaluate
    from vrp.model import Instance

    inst = item.instance
    if not isinstance(inst, Instance):  # the network model beside Instance has its own evaluator
        from vrp.network import FlowProblem, evaluate_flows

        if isinstance(inst, FlowProblem):
            return evaluate_flows(inst, solution)
        raise BenchError(f"cannot score a {type(inst).__name__}")
    return evaluate(inst, solution)


def result_row(item: BenchItem, task: Task, result: Any, runtime: float, version: str) -> dict[str, Any]:
    """One row from a solver's :class:`~vrp.result.Result`, scored by the evaluator."""
    row = _base_row(item, task)
    row.update(status=result.status, runtime_s=runtime, bound=result.bound,
               threads=getattr(result, "threads", 1), solver_version=version, feasible=False)
    trace = list(getattr(result, "trace", []) or [])
    sol = result.solution
    if sol is not None:
        try:
            score = _score(item, sol)
        except Exception as exc:  # a solution naming a node that does not exist
            row.update(status="error", error=f"evaluator rejected the solution: {exc}")
            return row
        row.update(objective=score.objective, sense=score.sense, cost=getattr(score, "cost", None), feasible=score.feasible,
                   violations=len(score.violations), num_routes=getattr(score, "num_routes", None),
                   routes=format_routes(getattr(sol, "routes", None)))
        if score.violations:
            row["error"] = "; ".join(str(v) for v in score.violations[:3])
        if score.feasible:
            if not trace or trace[-1][1] != score.objective:
                # The evaluator's value holds from the end of the run on (traces use the solver's own view).
                trace.append((min(runtime, task.time_limit), score.objective))
            if item.bks is not None:
                row["gap_pct"] = gap_pct(score.objective, item.bks, score.sense)
        row.update(robustness.row_cells(task.scenarios, item, sol, score))
    row["trace"] = format_trace(trace) if trace else ""
    if item.bks is not None:
        feasible_trace = trace if row["feasible"] else []
        row["primal_integral"] = primal_integral(feasible_trace, item.bks, task.time_limit, row["sense"])
    return row


def execute(task: Task, factory: SolverFactory) -> list[dict[str, Any]]:
    """Run one task in this process and return its rows; a crash becomes ``error`` rows."""
    start = time.perf_counter()
    family = task.items[0].family
    try:
        solver = factory(task.solver, family, dict(task.options))
    except Exception as exc:
        return failed_rows(task, "error", f"{type(exc).__name__}: {exc}", time.perf_counter() - start)
    _pin_torch()
    version = solver_version(solver, task.version)
    batch = getattr(solver, "solve_batch", None)
    if len(task.items) > 1 and callable(batch):
        t0 = time.perf_counter()
        try:
            results = batch([it.instance for it in task.items], time_limit=task.time_limit, seed=task.seed)
        except Exception as exc:
            return failed_rows(task, "error", _describe(exc), time.perf_counter() - t0, version)
        wall = time.perf_counter() - t0
        if len(results) != len(task.items):
            return failed_rows(task, "error", f"solve_batch returned {len(results)} results for "
                                              f"{len(task.items)} instances", wall, version)
        # Per-instance time = batch time / batch size; a solver that batches by size reports
        # its own per-group share, used when it adds up to the measured wall time.
        own = [float(getattr(r, "runtime", 0.0) or 0.0) for r in results]
        consistent = all(x > 0 for x in own) and sum(own) <= wall * 1.01 + 1e-3
        times = own if consistent else [wall / len(task.items)] * len(task.items)
        return [result_row(it, task, res, float(t), version) for it, res, t in zip(task.items, results, times)]
    rows = []
    for item in task.items:
        single = replace(task, items=(item,))
        t0 = time.perf_counter()
        try:
            res = solver.solve(item.instance, time_limit=task.time_limit, seed=task.seed)
        except Exception as exc:
            rows.extend(failed_rows(single, "error", _describe(exc), time.perf_counter() - t0, version))
            continue
        row = result_row(item, single, res, time.perf_counter() - t0, version)
        row["batch_size"] = len(task.items)
        rows.append(row)
    return rows


def _describe(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _pin_torch() -> None:
    """One torch thread in a pinned worker (torch reads OMP_NUM_THREADS only at import)."""
    torch = sys.modules.get("torch")
    if torch is not None and os.environ.get("OMP_NUM_THREADS") == "1":
        try:
            torch.set_num_threads(1)
        except Exception:
            pass


WarmSpec = tuple[str, str, tuple[tuple[str, Any], ...]]  # (solver, family, options)


def _warmup_fn(solver: Any) -> Callable[[], Any] | None:
    fn = getattr(solver, "warmup", None)
    if callable(fn):
        return fn
    # A module-level ``warmup()`` beside the solver class (numba kernels compiled on tiny instances).
    fn = getattr(sys.modules.get(type(solver).__module__), "warmup", None)
    return fn if callable(fn) else None


def warm_up(specs: Sequence[WarmSpec], factory: SolverFactory) -> dict[str, float]:
    """Run each solver's explicit warm-up (JIT compile, checkpoint load) once; seconds per solver.

    Done at a worker's start, before any task clock runs, as the solver contract asks.
    A solver that cannot even be built is skipped here: its tasks report the error.
    """
    out: dict[str, float] = {}
    for name, family, options in specs:
        try:
            solver = factory(name, family, dict(options))
            fn = _warmup_fn(solver)
            if fn is None:
                continue
            t0 = time.perf_counter()
            fn()
            out[name] = time.perf_counter() - t0
        except Exception:
            continue
    return out
