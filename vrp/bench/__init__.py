"""The benchmark runner: instances x solvers x time limits x seeds, appended to a results file.

One row per (instance, solver, time limit, seed) is appended, flushed and fsync'ed as
soon as it finishes, so that an interrupted sweep (Ctrl-C, ``kill -9``) resumes with the
same command: keys already in the file are skipped, a torn last line is cut off, and
the lines written before stay byte-identical.

This module never imports :mod:`solvers` or :mod:`envs` (DESIGN.md): the caller hands
it a picklable *solver factory* ``factory(name, family, options) -> Solver`` (in the
CLI: :func:`solvers.get`) and already-resolved :class:`BenchItem` s. Worker processes
and Ray tasks call the factory themselves.

Every solution is scored by :func:`vrp.evaluate.evaluate`; the gap is "how much worse
than the reference, in percent" whatever the sense. The reference is the best-known
solution when one is known (``ref=bks``); otherwise the best feasible objective in the
results file (``ref=best-found``), filled in when the file is read
(:func:`complete_rows`), because it changes as rows arrive.

One concept a module: :mod:`~vrp.bench.rows` (columns, key, cell format),
:mod:`~vrp.bench.metrics` (primal integral), :mod:`~vrp.bench.store` (the results file),
:mod:`~vrp.bench.plan` (items, tasks, the plan), :mod:`~vrp.bench.execute` (one task in
this process), :mod:`~vrp.bench.pool` (worker processes), :mod:`~vrp.bench.cluster` (Ray),
:mod:`~vrp.bench.sweep` (:func:`run_sweep`). Everything public is re-exported here.
"""

from vrp.bench.errors import BenchError
from vrp.bench.execute import (
    THREAD_ENV,
    WarmSpec,
    execute,
    failed_rows,
    library_versions,
    result_row,
    solver_version,
    warm_up,
)
from vrp.bench.metrics import primal_integral
from vrp.bench.plan import NEURAL_PREFIXES, BenchItem, SolverFactory, Task, plan
from vrp.bench.rows import (
    BOOL_COLUMNS,
    COLUMNS,
    FLOAT_COLUMNS,
    INT_COLUMNS,
    KEY,
    MAX_TRACE_POINTS,
    ROW_STATUSES,
    fmt_time_limit,
    format_line,
    format_routes,
    format_trace,
    header_line,
    parse_cell,
    parse_routes,
    parse_trace,
    row_key,
)
from vrp.bench.store import ResultsFile, complete_rows, latest_rows, read_rows
from vrp.bench.sweep import ProgressFn, SweepStats, run_sweep

__all__ = [
    "BOOL_COLUMNS", "COLUMNS", "FLOAT_COLUMNS", "INT_COLUMNS", "KEY", "MAX_TRACE_POINTS", "NEURAL_PREFIXES",
    "ROW_STATUSES", "THREAD_ENV", "BenchError", "BenchItem", "ProgressFn", "ResultsFile", "SolverFactory",
    "SweepStats", "Task", "WarmSpec", "complete_rows", "execute", "failed_rows", "fmt_time_limit",
    "format_line", "format_routes", "format_trace", "header_line", "latest_rows", "library_versions",
    "parse_cell", "parse_routes", "parse_trace", "plan", "primal_integral", "read_rows", "result_row",
    "row_key", "run_sweep", "solver_version", "warm_up",
]
