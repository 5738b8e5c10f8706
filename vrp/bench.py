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
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vrp import robustness
from vrp.evaluate import gap_pct

# Columns, named like the keys of ``vrp solve --json`` where one exists.
COLUMNS: tuple[str, ...] = (
    "instance", "group", "variant", "n", "solver", "time_limit", "seed",
    "status", "objective", "sense", "cost", "feasible", "violations", "num_routes",
    "bks", "ref", "gap_pct", "bound", "runtime_s", "primal_integral",
    "threads", "batch_size", "solver_version", "options", "error", "source", "trace", "routes",
)
KEY: tuple[str, ...] = ("instance", "solver", "time_limit", "seed")
FLOAT_COLUMNS = frozenset({"objective", "cost", "bks", "gap_pct", "bound", "runtime_s", "primal_integral",
                           "time_limit"}) | robustness.FLOAT_COLUMNS
INT_COLUMNS = frozenset({"n", "seed", "violations", "num_routes", "threads", "batch_size"})
BOOL_COLUMNS = frozenset({"feasible"})
ROW_STATUSES = ("optimal", "feasible", "infeasible", "timeout", "error")

# Pinned in every worker so that one worker = one core (recorded in the ``threads`` column).
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}
NEURAL_PREFIXES = ("am:", "pomo:")
MAX_TRACE_POINTS = 64

SolverFactory = Callable[..., Any]


class BenchError(RuntimeError):
    """A sweep cannot run as asked (bad results file, bad arguments); the message says why."""


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


# ---------------------------------------------------------------------------- formatting
def fmt_time_limit(t: float) -> str:
    return f"{float(t):g}"


def row_key(row: dict[str, Any]) -> tuple[str, str, str, str]:
    """The identity of a row: (instance, solver, time limit, seed), canonically formatted."""
    return (str(row["instance"]), str(row["solver"]), fmt_time_limit(float(row["time_limit"])),
            str(int(row["seed"])))


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column == "time_limit":
        return fmt_time_limit(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return repr(round(value, 6)) if abs(value) < 1e15 else repr(value)
    text = str(value)
    # One physical line per row: that is what makes a torn write detectable and repairable.
    return text.replace("\r", " ").replace("\n", " ")


def format_line(row: dict[str, Any], columns: Sequence[str] = COLUMNS) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([_cell(c, row.get(c)) for c in columns])
    return buf.getvalue()


def header_line(columns: Sequence[str] = COLUMNS) -> str:
    return ",".join(columns) + "\n"


def parse_cell(column: str, text: str) -> Any:
    """Text of a CSV cell to a Python value; raises ValueError on a malformed number."""
    if text == "":
        return None
    if column in FLOAT_COLUMNS:
        return float(text)
    if column in INT_COLUMNS:
        return int(text)
    if column in BOOL_COLUMNS:
        if text not in ("true", "false"):
            raise ValueError(f"expected true or false, got {text!r}")
        return text == "true"
    return text


def format_routes(routes: Sequence[Sequence[int]] | None) -> str:
    """Routes as ``1 2 3|4 5`` (empty route = empty segment), for route plots in the report."""
    if routes is None:
        return ""
    return "|".join(" ".join(str(v) for v in r) for r in routes)


def parse_routes(text: str | None) -> list[list[int]] | None:
    if not text:
        return None
    return [[int(v) for v in seg.split()] for seg in text.split("|")]


def format_trace(trace: Sequence[tuple[float, float]]) -> str:
    pts = [(float(t), float(v)) for t, v in trace]
    if len(pts) > MAX_TRACE_POINTS:
        # Keep the first and last improvements and an even spread in between.
        idx = sorted({round(i * (len(pts) - 1) / (MAX_TRACE_POINTS - 1)) for i in range(MAX_TRACE_POINTS)})
        pts = [pts[i] for i in idx]
    return json.dumps([[round(t, 4), v] for t, v in pts], separators=(",", ":"))


def parse_trace(text: str | None) -> list[tuple[float, float]]:
    if not text:
        return []
    return [(float(t), float(v)) for t, v in json.loads(text)]


# ---------------------------------------------------------------------------- metrics
def primal_integral(trace: Sequence[tuple[float, float]], reference: float, horizon: float,
                    sense: str = "min") -> float:
    """Berthold's primal integral over ``[0, horizon]`` seconds (0 = optimal at once, ``horizon`` = never).

    The primal gap at time t is ``|ref - v| / max(|ref|, |v|)`` for the best value ``v``
    found by then (1 before the first solution, and when ``v`` and ``ref`` differ in sign);
    a value better than the reference counts as gap 0.
    """
    if horizon <= 0:
        return 0.0

    def gamma(v: float) -> float:
        worse = v > reference if sense == "min" else v < reference
        if not worse:
            return 0.0
        if v * reference < 0:
            return 1.0
        m = max(abs(v), abs(reference))
        return abs(reference - v) / m if m > 0 else 0.0

    total = 0.0
    t_prev, g_prev = 0.0, 1.0
    for t, v in sorted(trace):
        t = min(max(float(t), 0.0), horizon)
        total += g_prev * (t - t_prev)
        t_prev, g_prev = t, gamma(float(v))
    total += g_prev * (horizon - t_prev)
    return total


# ---------------------------------------------------------------------------- the results file
class ResultsFile:
    """An append-only CSV of bench rows that survives ``kill -9``.

    :meth:`open` repairs a torn last line (a row cut mid-write has no final newline),
    refuses a file with other columns or a corrupt complete line, and returns the
    keys already done (with ``retry_failed``, ``error``/``timeout`` rows do not count as
    done). :meth:`append` writes each row with one ``write`` and fsyncs.
    """

    def __init__(self, path: str | os.PathLike[str], columns: Sequence[str] = COLUMNS) -> None:
        self.path = Path(path)
        self.columns = tuple(columns)  # COLUMNS, plus the scenario columns in a sweep with --scenarios
        self.repaired_bytes = 0
        self._fh: Any = None

    def open(self, *, retry_failed: bool = False) -> set[tuple[str, str, str, str]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8", newline="")
        _lock(self._fh, self.path)
        keys: set[tuple[str, str, str, str]] = set()
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            self.repaired_bytes = len(data) - cut
            os.ftruncate(self._fh.fileno(), cut)
            os.fsync(self._fh.fileno())
            data = data[:cut]
        if data:
            for row in read_rows(self.path):
                if retry_failed and row["status"] in ("error", "timeout"):
                    keys.discard(row_key(row))  # run again; the newer row supersedes this one
                else:
                    keys.add(row_key(row))
        else:
            self._write(header_line(self.columns))
        return keys

    def _write(self, text: str) -> None:
        self._fh.write(text)
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def append(self, row: dict[str, Any]) -> None:
        if self._fh is None:
            raise BenchError("results file is not open")
        self._write(format_line(row, self.columns))

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _lock(fh: Any, path: Path) -> None:
    """One writer per results file: a second sweep on it would duplicate keys."""
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform
        return
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise BenchError(f"{path}: another vrp bench is writing this results file; "
                         f"let it finish or stop it, then run again to resume") from None


def read_rows(path: str | os.PathLike[str], *, strict_tail: bool = True) -> list[dict[str, Any]]:
    """Read a results file into typed rows; a malformed line is a :class:`BenchError` naming it.

    Each row gets ``_line`` (its 1-based line number). With ``strict_tail=False`` an
    unterminated last line (a sweep still writing, or killed mid-write) is ignored.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BenchError(f"{path}: no such results file") from None
    except UnicodeDecodeError as exc:
        raise BenchError(f"{path}: not a text results file ({exc.reason})") from None
    lines = text.split("\n")
    last_torn = lines[-1] != ""
    if last_torn and not strict_tail:
        lines = lines[:-1]
    elif not last_torn:
        lines = lines[:-1]
    if not lines or lines[0] == "":
        raise BenchError(f"{path}: empty results file (no header line)")
    header = next(csv.reader([lines[0]]))
    columns = tuple(header)
    if columns not in (COLUMNS, COLUMNS + robustness.COLUMNS):  # scenario columns are optional
        missing = [c for c in COLUMNS if c not in header]
        extra = [c for c in header if c not in COLUMNS]
        detail = (f"missing {', '.join(missing)}" if missing else "") + \
                 ("; " if missing and extra else "") + (f"unknown {', '.join(extra)}" if extra else "")
        raise BenchError(f"{path}:1: not a vrp bench results header ({detail or 'columns out of order'})")
    rows: list[dict[str, Any]] = []
    for lineno, line in enumerate(lines[1:], start=2):
        if line == "":
            raise BenchError(f"{path}:{lineno}: empty line in the results file")
        try:
            cells = next(csv.reader([line], strict=True))
        except csv.Error as exc:
            raise BenchError(f"{path}:{lineno}: malformed CSV ({exc})") from None
        if len(cells) != len(columns):
            raise BenchError(f"{path}:{lineno}: expected {len(columns)} fields, got {len(cells)} "
                             f"(truncated or corrupt row)")
        row: dict[str, Any] = {}
        for col, cell in zip(columns, cells):
            try:
                row[col] = parse_cell(col, cell)
            except ValueError:
                raise BenchError(f"{path}:{lineno}: column {col!r}: bad value {cell!r}") from None
        for col in ("instance", "solver", "time_limit", "seed", "status"):
            if row[col] is None:
                raise BenchError(f"{path}:{lineno}: column {col!r} is empty")
        if row["status"] not in ROW_STATUSES:
            raise BenchError(f"{path}:{lineno}: column 'status': unknown status {row['status']!r}")
        row["_line"] = lineno
        rows.append(row)
    return rows


def latest_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per key, the last one written (a rerun with ``--retry-failed`` supersedes a failure)."""
    last: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for r in rows:
        last[row_key(r)] = r
    if len(last) == len(rows):
        return rows
    keep = {id(r) for r in last.values()}
    return [r for r in rows if id(r) in keep]


def complete_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill gap and primal integral of rows without a BKS against the best feasible objective.

    The reference of such an instance is the best feasible objective over all rows of
    that instance in the file (``ref=best-found``). Rows are modified in place and returned.
    """
    best: dict[str, float] = {}
    for r in rows:
        if r.get("ref") == "best-found" and r.get("feasible") and r.get("objective") is not None:
            name, v = r["instance"], float(r["objective"])
            if name not in best or (v < best[name] if r.get("sense", "min") == "min" else v > best[name]):
                best[name] = v
    for r in rows:
        if r.get("ref") != "best-found":
            continue
        ref = best.get(r["instance"])
        r["ref_value"] = ref
        if ref is None:
            continue
        sense = r.get("sense") or "min"
        if r.get("feasible") and r.get("objective") is not None:
            r["gap_pct"] = gap_pct(float(r["objective"]), ref, sense)
        if r.get("primal_integral") is None and r.get("status") not in ("error", "timeout"):
            trace = parse_trace(r.get("trace"))
            r["primal_integral"] = primal_integral(trace, ref, float(r["time_limit"]), sense)
    for r in rows:
        if r.get("ref") == "bks":
            r["ref_value"] = r.get("bks")
        if r.get("primal_integral") is None and r.get("status") in ("error", "timeout"):
            r["primal_integral"] = float(r["time_limit"])  # no solution over the whole horizon
    return rows


# ---------------------------------------------------------------------------- executing tasks
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


def _worker_main(conn: Any, factory: SolverFactory, warm: Sequence[WarmSpec] = ()) -> None:
    """Loop of a worker process: warm up, say ready, then run tasks and send back rows; exit on EOF or None."""
    import signal

    # Ctrl-C goes to the whole process group: the parent stops the sweep, workers just die with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Solver libraries print banners on fd 1 (HiGHS, PyVRP): keep the CLI's stdout for its tables.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    os.environ.update(THREAD_ENV)
    _pin_torch()
    warmed = warm_up(warm, factory)
    _pin_torch()
    try:
        conn.send(("ready", warmed))
    except (BrokenPipeError, OSError):
        return
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        rows = execute(task, factory)
        try:
            conn.send(("rows", rows))
        except (BrokenPipeError, OSError):
            return


# ---------------------------------------------------------------------------- planning
def plan(items: Sequence[BenchItem], solvers: Sequence[str], time_limits: Sequence[float],
         seeds: Sequence[int], *, done: Iterable[tuple[str, str, str, str]] = (),
         options: dict[str, dict[str, Any]] | None = None, batch_neural: bool = True,
         supports: dict[str, frozenset[str]] | None = None,
         versions: dict[str, str] | None = None) -> list[Task]:
    """The tasks still to run, in a stable order; neural solvers get one batch per group and variant.

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
                if batch_neural and solver.startswith(NEURAL_PREFIXES):
                    groups: dict[tuple[str, str], list[BenchItem]] = {}
                    for it in todo:
                        groups.setdefault((it.group, getattr(it.instance, "variant", "")), []).append(it)
                    tasks.extend(Task(tuple(g), solver, float(tl), int(seed), opts, ver) for g in groups.values())
                else:
                    tasks.extend(Task((it,), solver, float(tl), int(seed), opts, ver) for it in todo)
    return tasks


def _supported(supports: dict[str, frozenset[str]] | None, solver: str, item: BenchItem) -> bool:
    if supports is None or solver not in supports:
        return True
    return getattr(item.instance, "variant", "") in supports[solver]


# ---------------------------------------------------------------------------- running
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


class _Worker:
    def __init__(self, ctx: Any, factory: SolverFactory, warm: Sequence[WarmSpec]) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, factory, tuple(warm)), daemon=True)
        self.proc.start()
        child.close()
        self.born = time.perf_counter()
        self.ready = False  # the task clock starts only once the worker has started up
        self.task: Task | None = None
        self.started = 0.0

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


STARTUP_TIMEOUT_S = 180.0


def _run_pool(tasks: list[Task], factory: SolverFactory, write: Callable[[list[dict[str, Any]]], None],
              workers: int, factor: float, grace: float, warm: Sequence[WarmSpec] = (),
              on_warmup: Callable[[dict[str, float]], None] | None = None) -> None:
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("spawn")  # never fork a process that may hold torch or Ray threads

    def spawn() -> _Worker:
        saved = {k: os.environ.get(k) for k in THREAD_ENV}
        os.environ.update(THREAD_ENV)  # inherited by the child before it imports numpy
        try:
            return _Worker(ctx, factory, warm)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    if not tasks:
        return
    pool = [spawn() for _ in range(min(workers, len(tasks)))]
    queue = list(reversed(tasks))
    startup_failures = 0
    try:
        while True:
            for w in pool:
                if w.ready and w.task is None and queue:
                    w.task = queue.pop()
                    w.started = time.perf_counter()
                    try:
                        w.conn.send(w.task)
                    except (BrokenPipeError, OSError):
                        pass  # noticed below as a dead worker
            if not queue and all(w.task is None for w in pool):
                break
            now = time.perf_counter()
            remaining = [w.started + w.task.deadline(factor, grace) - now for w in pool if w.task is not None]
            active = [w for w in pool if w.task is not None or not w.ready]
            ready = wait([w.conn for w in active], timeout=max(0.0, min([1.0, *remaining])))
            for i, w in enumerate(pool):
                task = w.task
                now = time.perf_counter()
                if w.conn in ready:
                    try:
                        kind, payload = w.conn.recv()
                    except (EOFError, OSError):
                        w.proc.join(5)
                        code = w.proc.exitcode
                        w.kill()
                        pool[i] = spawn()
                        if task is None:
                            startup_failures += 1
                            if startup_failures >= 3:
                                raise BenchError(f"worker processes die at start-up (exit code {code})") from None
                            continue
                        write(failed_rows(task, "error", f"worker process died (exit code {code})",
                                          now - w.started))
                        continue
                    if kind == "ready":
                        w.ready = True
                        if payload and on_warmup is not None:
                            on_warmup(payload)
                    else:
                        w.task = None
                        write(payload)
                elif task is not None and now - w.started > task.deadline(factor, grace):
                    w.kill()
                    pool[i] = spawn()
                    write(failed_rows(task, "timeout",
                                      f"killed after {now - w.started:.1f} s (time limit "
                                      f"{fmt_time_limit(task.time_limit)} s x {len(task.items)})", now - w.started))
                elif not w.ready and now - w.born > STARTUP_TIMEOUT_S:
                    raise BenchError(f"a worker process did not start within {STARTUP_TIMEOUT_S:.0f} s")
    finally:
        for w in pool:
            try:
                w.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        for w in pool:
            w.proc.join(2)
            w.kill()


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
