"""A results row: its columns, its key, and how its cells are written to and read from CSV."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

from vrp import robustness

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


MAX_TRACE_POINTS = 64


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
