"""A run directory's lock: one live ``vrp train`` per ``--out``.

Two trainings writing the same directory would interleave ``metrics.csv`` rows and
overwrite each other's checkpoints. :func:`lock_run` writes ``out/.train.lock`` with the
owner's pid; :func:`release_run` removes it when the run ends (and at exit after an error).
"""

from __future__ import annotations

import os
from pathlib import Path

LOCK_NAME = ".train.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_run(out: Path) -> Path | None:
    """Refuse a second live ``vrp train`` in ``out`` (two would interleave metrics and checkpoints).

    The lock is ``out/.train.lock`` holding the owner's pid; a lock whose process is gone
    (a killed run) or that this process holds (a resume in the same interpreter) is taken
    over. Removed when the run ends, or at exit after an error. Ranks other than 0 of a
    multi-process launch share rank 0's lock.
    """
    import atexit

    if os.environ.get("LOCAL_RANK", "0") != "0" or os.environ.get("NODE_RANK", "0") != "0":
        return None
    lock = out / LOCK_NAME
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.close(fd)
    except FileExistsError:
        try:
            pid = int(lock.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pid = None  # half-written by a process that died: stale
        if pid is not None and pid != os.getpid() and _alive(pid):
            raise FileExistsError(f"out: {out} is in use by a running vrp train (pid {pid}); "
                                  "wait for it to end or pass another --out") from None
    lock.write_text(f"{os.getpid()}\n")
    atexit.register(release_run, lock)
    return lock


def release_run(lock: Path | None) -> None:
    """Remove ``lock`` if this process still holds it."""
    if lock is None:
        return
    try:
        if int(lock.read_text().split()[0]) == os.getpid():
            lock.unlink()
    except (OSError, ValueError, IndexError):
        pass
