"""Worker processes, one single-threaded solver each, with a hard deadline per task."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from vrp.bench.errors import BenchError
from vrp.bench.execute import THREAD_ENV, WarmSpec, _pin_torch, execute, failed_rows, warm_up
from vrp.bench.plan import SolverFactory, Task
from vrp.bench.rows import fmt_time_limit


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
