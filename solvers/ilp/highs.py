"""A thin incremental wrapper over ``highspy`` for the cutting-plane loops.

Why not PuLP here: a cutting-plane loop re-solves the LP after every round of
cuts. PuLP rebuilds and re-sends the whole model each time (and HiGHS restarts
from scratch), while ``highspy`` keeps the model and its basis, adds rows and
re-optimises with a few dual simplex pivots. PuLP remains the modelling layer for
the compact models (:mod:`solvers.ilp.compact`) and for the naive ``cuts=integer``
loop, which also runs with CBC when HiGHS is missing.
"""

from __future__ import annotations

import os
import sys
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

try:
    import highspy

    cb = highspy.cb.HighsCallbackType
except ImportError:  # pragma: no cover - exercised only without highspy
    highspy = None  # type: ignore[assignment]

INF = float("inf")


def _silence_banner() -> None:
    """HiGHS prints its banner on stdout at the first ``Highs()`` of a process; swallow it."""
    if highspy is None:
        return
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no real stdout: nothing to protect
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


_silence_banner()

_scheduler_threads: int | None = None


def ensure_threads(threads: int) -> None:
    """Size HiGHS's thread scheduler for a solve with ``threads`` threads.

    HiGHS keeps one scheduler per process, sized by the first solve; a later solve that
    asks for another count is refused ("the scheduler has already been initialized"),
    which would leave a solver with no answer from HiGHS. Every HiGHS model of ours
    calls this before it runs.
    """
    global _scheduler_threads
    if highspy is None:
        return
    if _scheduler_threads is not None and _scheduler_threads != int(threads):
        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads = int(threads)


def _dispatcher(ref: Any) -> Callable[..., None]:
    def dispatch(kind: object, _msg: object, data_out: Any, data_in: Any, _user: object) -> None:
        model = ref()
        if model is not None:
            model._callback(kind, data_out, data_in)

    return dispatch


def available() -> bool:
    return highspy is not None


class HighsModel:
    """One HiGHS model: columns once, rows added in rounds, LP or MIP solves."""

    def __init__(self, costs: np.ndarray, lower: np.ndarray, upper: np.ndarray, threads: int = 1) -> None:
        assert highspy is not None
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        ensure_threads(threads)
        h.setOptionValue("threads", int(threads))
        h.setOptionValue("random_seed", 0)
        n = int(costs.size)
        h.addCols(n, np.asarray(costs, dtype=np.float64), np.asarray(lower, dtype=np.float64),
                  np.asarray(upper, dtype=np.float64), 0, np.zeros(0, np.int32), np.zeros(0, np.int32),
                  np.zeros(0, np.float64))
        self.h = h
        self.num_cols = n
        self.costs = np.asarray(costs, dtype=np.float64).copy()
        self.integer = False
        # HiGHS checks its own time limit only between work units (it overran by seconds
        # on dense cut rows); the interrupt callbacks stop it at this wall-clock deadline.
        self.deadline: float | None = None
        self._incumbent: Callable[[np.ndarray], None] | None = None
        # A weak reference: HiGHS holding a bound method would keep every model alive.
        h.setCallback(_dispatcher(weakref.ref(self)), None)
        for kind in (cb.kCallbackSimplexInterrupt, cb.kCallbackMipInterrupt):
            h.startCallback(kind)

    def _callback(self, kind: object, data_out: Any, data_in: Any) -> None:
        if kind in (cb.kCallbackMipImprovingSolution, cb.kCallbackMipSolution):
            if self._incumbent is not None:
                self._incumbent(np.array(data_out.mip_solution))
        elif data_in is not None and self.deadline is not None and time.perf_counter() > self.deadline:
            data_in.user_interrupt = True

    def add_rows(self, rows: Sequence[tuple[np.ndarray, np.ndarray, float, float]]) -> None:
        """Add rows ``lo <= sum(val * x[idx]) <= hi``."""
        if not rows:
            return
        starts = np.zeros(len(rows), dtype=np.int32)
        pos = 0
        for k, (idx, _, _, _) in enumerate(rows):
            starts[k] = pos
            pos += len(idx)
        index = np.concatenate([np.asarray(r[0], dtype=np.int32) for r in rows])
        value = np.concatenate([np.asarray(r[1], dtype=np.float64) for r in rows])
        lo = np.array([r[2] for r in rows], dtype=np.float64)
        hi = np.array([r[3] for r in rows], dtype=np.float64)
        self.h.addRows(len(rows), lo, hi, int(index.size), starts, index, value)

    def drop_slack_rows(self, first: int, tol: float = 1e-6) -> int:
        """Delete the rows from ``first`` on that are slack at the last LP optimum.

        The LP optimum and its value are unchanged (a constraint that does not bind
        can go); the MIP gets a smaller model. Returns how many rows went.
        """
        sol = self.h.getSolution()
        lp = self.h.getLp()
        act = np.asarray(sol.row_value)[first:]
        lo = np.asarray(lp.row_lower_)[first:]
        hi = np.asarray(lp.row_upper_)[first:]
        slack = (act > lo + tol) & (act < hi - tol)
        rows = (np.flatnonzero(slack) + first).astype(np.int32)
        if rows.size:
            self.h.deleteRows(int(rows.size), rows)
        return int(rows.size)

    def set_time_limit(self, seconds: float) -> None:
        """Stop the next solves ``seconds`` from now (HiGHS's limit, and the interrupt deadline)."""
        self.deadline = time.perf_counter() + max(0.0, float(seconds))
        self.h.setOptionValue("time_limit", max(0.01, 0.9 * float(seconds) - 0.1))

    def solve_lp(self) -> tuple[str, float, np.ndarray, np.ndarray]:
        """Solve the LP; return (status, objective, x, reduced costs).

        Without presolve: on the 1M-column arc model of a 1000-node CVRP, HiGHS's LP
        presolve ran 7 s past a 3 s limit (it answers no interrupt), while the simplex
        alone solved that LP in 2 s. The MIP solves keep it (:meth:`make_integer`).
        """
        self.h.setOptionValue("presolve", "off")
        self.h.run()
        status = self._status()
        if status != "optimal":
            return status, INF, np.zeros(self.num_cols), np.zeros(self.num_cols)
        sol = self.h.getSolution()
        obj = float(self.h.getInfo().objective_function_value)
        return status, obj, np.array(sol.col_value), np.array(sol.col_dual)

    def make_integer(self, columns: np.ndarray | None = None) -> None:
        self._integrality(columns, highspy.HighsVarType.kInteger)
        self.h.setOptionValue("presolve", "choose")
        self.integer = True

    def make_continuous(self) -> None:
        """Drop the integrality of every column (the LP relaxation of the current model)."""
        self._integrality(None, highspy.HighsVarType.kContinuous)
        self.integer = False

    def _integrality(self, columns: np.ndarray | None, kind: Any) -> None:
        cols = np.arange(self.num_cols, dtype=np.int32) if columns is None else np.asarray(columns, np.int32)
        self.h.changeColsIntegrality(int(cols.size), cols, np.full(cols.size, kind))

    def fix_upper(self, columns: np.ndarray, upper: float = 0.0) -> None:
        cols = np.asarray(columns, dtype=np.int32)
        if cols.size == 0:
            return
        lo = np.zeros(cols.size)
        hi = np.full(cols.size, upper)
        self.h.changeColsBounds(int(cols.size), cols, lo, hi)

    def set_mip_gaps(self, integral_costs: bool) -> None:
        # Integer costs: a gap below 1 proves optimality; otherwise ask for a tight gap.
        self.h.setOptionValue("mip_rel_gap", 0.0 if integral_costs else 1e-9)
        self.h.setOptionValue("mip_abs_gap", 1.0 - 1e-6 if integral_costs else 1e-7)
        # A restart presolves the whole model again, which HiGHS does not interrupt: on
        # hundreds of dense cut rows that overran the time limit by seconds.
        self.h.setOptionValue("mip_allow_restart", False)

    def set_cutoff(self, value: float) -> None:
        """Prune every MIP node whose bound is above ``value`` (HiGHS's ``objective_bound``): the
        search then looks only for solutions at or below it, and answers "infeasible" when none exists."""
        self.h.setOptionValue("objective_bound", float(value))

    def hint(self, x: np.ndarray) -> None:
        """Give HiGHS a starting solution.

        Not used by the loops: with HiGHS 1.16 a user solution combined with presolve
        reductions can be accepted with a wrong objective (seen on a 6-city ATSP:
        the hint tour of cost 3800.4 reported as 3109.4 and "optimal", below the LP
        bound), which would make a wrong optimality claim. Kept for experiments.
        """
        idx = np.flatnonzero(x > 0.5).astype(np.int32)
        try:
            self.h.setSolution(int(idx.size), idx, x[idx].astype(np.float64))
        except (TypeError, AttributeError):  # older highspy: dense solution object
            sol = highspy.HighsSolution()
            sol.col_value = list(map(float, x))
            self.h.setSolution(sol)

    def on_incumbent(self, fn: Callable[[np.ndarray], None], every: bool = False) -> None:
        """Call ``fn(x)`` with every improving MIP solution (subtour solutions included), or with
        ``every`` one HiGHS finds, improving or not."""
        self._incumbent = fn
        self.h.startCallback(cb.kCallbackMipSolution if every else cb.kCallbackMipImprovingSolution)

    def solve_mip(self) -> tuple[str, float | None, float, np.ndarray | None]:
        """Solve the MIP; return (status, incumbent objective or None, dual bound, x or None)."""
        t0 = time.perf_counter()
        self.h.run()
        status = self._status()
        info = self.h.getInfo()
        bound = float(info.mip_dual_bound)
        has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
        if not has_sol:
            return status, None, bound, None
        x = np.array(self.h.getSolution().col_value)
        obj = float(info.objective_function_value)
        true = float(self.costs @ x)
        if abs(true - obj) > 1e-6 * max(1.0, abs(true)):
            # HiGHS's answer disagrees with its own solution: do not trust it, solve
            # again without presolve (where the disagreement has been seen), when the
            # time left allows; else the solution stands unproved, with no bound.
            spent = time.perf_counter() - t0
            if self.deadline is not None and self.deadline - time.perf_counter() < 3.0 * spent + 1.0:
                return "timeout", true, -INF, x
            self.h.setOptionValue("presolve", "off")
            if self.deadline is not None:  # what is left of this solve's time, not a fresh limit
                self.h.setOptionValue("time_limit", max(0.01, self.deadline - time.perf_counter()))
            try:
                self.h.run()
            finally:
                self.h.setOptionValue("presolve", "choose")
            status = self._status()
            info = self.h.getInfo()
            bound = float(info.mip_dual_bound)
            if info.primal_solution_status != 2:
                return status, None, bound, None
            x = np.array(self.h.getSolution().col_value)
            obj = float(info.objective_function_value)
            if abs(float(self.costs @ x) - obj) > 1e-6 * max(1.0, abs(obj)):
                raise RuntimeError("HiGHS returned a solution whose objective it misreports")
        return status, obj, bound, x

    def _status(self) -> str:
        ms = self.h.getModelStatus()
        s = self.h.modelStatusToString(ms).lower()
        if s == "optimal":
            return "optimal"
        if s == "infeasible":
            return "infeasible"
        if "time limit" in s or "interrupt" in s:
            return "timeout"
        return s


class Clock:
    """Deadline bookkeeping shared by the loops."""

    def __init__(self, start: float, limit: float, margin: float = 0.0) -> None:
        self.start = start
        self.deadline = start + limit - margin

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start
