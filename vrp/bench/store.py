"""The results file: an append-only CSV that survives ``kill -9``, read back into typed rows."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vrp import robustness
from vrp.bench.errors import BenchError
from vrp.bench.metrics import primal_integral
from vrp.bench.rows import (
    COLUMNS,
    ROW_STATUSES,
    format_line,
    header_line,
    parse_cell,
    parse_trace,
    row_key,
)
from vrp.evaluate import gap_pct


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
