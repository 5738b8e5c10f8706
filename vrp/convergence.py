"""Anytime curves of ``vrp report``: the mean gap of the incumbent against time, from the traces.

Every solver writes its anytime trace (time, objective of each new incumbent) into the
results file. :func:`curve` turns the rows of one solver and time limit into the mean gap
of the best solution held at each moment, so that a neural search, a metaheuristic and an
exact solver stand on one time axis (a greedy policy is a single point at its runtime).

- The reference of a row is the one its gap uses (``ref_value``: the BKS, or the best
  found in the file); the trace's values are the solver's own, and from its runtime on a
  row holds the evaluator's objective, so that a curve ends on the table's mean gap.
- A point at time t is drawn only once every run of the curve holds a solution (a mean
  over the instances that happen to have one would flatter slow starters), and up to the
  longest runtime of its runs (a solver that stopped early is not drawn as still running).

Light at import time: numpy and matplotlib are imported where they are used.
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vrp.bench import parse_trace
from vrp.evaluate import gap_pct


def _incumbents(row: dict[str, Any]) -> tuple[float, float, list[float], list[float]] | None:
    """(runtime, final gap, trace times, gap of the best so far at each) of a row, None without
    a feasible solution or a reference; the trace is parsed once here, not per time point."""
    ref = row.get("ref_value")
    if ref is None or not row.get("feasible") or row.get("objective") is None:
        return None
    sense = row.get("sense") or "min"
    times: list[float] = []
    gaps: list[float] = []
    best: float | None = None
    for s, v in sorted(parse_trace(row.get("trace"))):
        best = v if best is None else (min(best, v) if sense == "min" else max(best, v))
        times.append(s)
        gaps.append(gap_pct(best, float(ref), sense))
    final = gap_pct(float(row["objective"]), float(ref), sense)
    return float(row.get("runtime_s") or 0.0), final, times, gaps


def _gap_at(inc: tuple[float, float, list[float], list[float]], t: float) -> float | None:
    runtime, final, times, gaps = inc
    if t >= runtime:
        return final
    k = bisect.bisect_right(times, t)
    return gaps[k - 1] if k else None


def incumbent_gap(row: dict[str, Any], t: float) -> float | None:
    """The gap (%) of the best solution ``row`` held at ``t`` seconds, None before its first."""
    inc = _incumbents(row)
    return None if inc is None else _gap_at(inc, t)


def curve(rows: Sequence[dict[str, Any]], times: Sequence[float]) -> list[tuple[float, float]]:
    """(t, mean incumbent gap) over ``rows`` at each of ``times`` where every row holds a solution.

    Rows that never found a feasible solution make the whole curve empty: the mean would
    leave them out silently.
    """
    incs = [_incumbents(r) for r in rows]
    if not rows or any(inc is None for inc in incs):
        return []
    held = [inc for inc in incs if inc is not None]
    end = max(inc[0] for inc in held)
    out = []
    for t in times:
        if t > end:
            break
        gaps = [_gap_at(inc, t) for inc in held]
        if all(g is not None for g in gaps):
            out.append((float(t), sum(gaps) / len(gaps)))  # type: ignore[arg-type]
    if not out or out[-1][0] < end:
        gaps = [_gap_at(inc, end) for inc in held]
        out.append((end, sum(gaps) / len(gaps)))  # type: ignore[arg-type]
    return out


def plot(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> Path | None:
    """One panel per instance group: per solver, its curve at its longest time limit (log time).

    Returns None when no row has a trace to draw (a file of failed runs only).
    """
    import numpy as np

    from vrp.report import group_panels

    usable = [r for r in rows if r.get("status") not in ("error", "timeout")]
    if not any(r.get("feasible") for r in usable):
        return None
    fig, solvers, colors, panels = group_panels(usable, 5.2, 4.0)
    longest = max(float(r["time_limit"]) for r in usable)
    times = [float(t) for t in np.logspace(-3, math.log10(max(longest, 2e-3)) + 0.05, 120)]
    for ax, title, mine in panels:
        for s in solvers:
            runs = [r for r in mine if r["solver"] == s]
            if not runs:
                continue
            tl = max(float(r["time_limit"]) for r in runs)
            runs = [r for r in runs if float(r["time_limit"]) == tl]
            pts = curve(runs, times)
            if not pts:
                continue
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            ax.plot([max(x, 1e-3) for x in xs], ys, color=colors[s], label=s, marker="o" if len(pts) == 1 else None,
                    drawstyle="steps-post")
        ax.set_xscale("log")
        ax.set_xlabel("time (s, log scale)")
        ax.set_ylabel("mean gap of the incumbent (%)")
        ax.set_title(f"{title}: at each solver's longest limit", fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.axhline(0.0, color="black", linewidth=0.6)
        if ax.lines:
            ax.legend(fontsize=7)
    fig.suptitle("Anytime: mean gap of the best solution held so far (all runs of a solver hold one)", fontsize=10)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    return out
