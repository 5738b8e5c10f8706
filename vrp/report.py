"""Tables and plots from a ``vrp bench`` results file.

- :func:`load` reads the rows (a corrupt row is a :class:`~vrp.bench.BenchError` naming
  its line) and fills gaps against ``best-found`` references.
- :func:`summarise` gives one line per (solver, instance group, time limit): runs,
  feasible share, mean gap, mean runtime, mean primal integral, optimal/error/timeout counts.
- :func:`render_table` (rich), :func:`to_markdown`, :func:`to_csv` print it.
- :func:`plot_all` writes PNGs: gap vs runtime per solver (log time axis), the anytime
  curves of :mod:`vrp.convergence` (gap of the incumbent over time, from the traces), a
  performance profile, and the routes of the best solution found for a few instances.

Plots use matplotlib's object API with the Agg canvas (no pyplot state, no GUI backend).
"""

from __future__ import annotations

import csv
import io
import math
import os
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vrp import robustness
from vrp.bench import complete_rows, fmt_time_limit, latest_rows, parse_routes, read_rows

SUMMARY_COLUMNS = ("solver", "group", "time_limit", "runs", "feasible_pct", "mean_gap_pct", "max_gap_pct",
                   "mean_runtime_s", "mean_primal_integral", "optimal", "errors", "timeouts", "ref")


def load(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Rows of a results file, typed, one per key (the latest), ``best-found`` gaps filled in."""
    return complete_rows(latest_rows(read_rows(path, strict_tail=False)))


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.fmean(vals) if vals else None


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One summary line per (solver, group, time limit), in first-appearance order of solvers."""
    order: dict[str, int] = {}
    cells: dict[tuple[str, str, float], list[dict[str, Any]]] = {}
    for r in rows:
        order.setdefault(r["solver"], len(order))
        cells.setdefault((r["solver"], r.get("group") or "", float(r["time_limit"])), []).append(r)
    out = []
    for (solver, group, tl), rs in sorted(cells.items(), key=lambda kv: (kv[0][1], kv[0][2], order[kv[0][0]])):
        gaps = [r["gap_pct"] for r in rs if r.get("feasible") and r.get("gap_pct") is not None]
        refs = sorted({r.get("ref") or "" for r in rs})
        out.append({
            "solver": solver, "group": group, "time_limit": tl, "runs": len(rs),
            "feasible_pct": 100.0 * sum(1 for r in rs if r.get("feasible")) / len(rs),
            "mean_gap_pct": _mean(gaps),
            "max_gap_pct": max(gaps) if gaps else None,
            "mean_runtime_s": _mean([r.get("runtime_s") for r in rs]),
            "mean_primal_integral": _mean([r.get("primal_integral") for r in rs]),
            "optimal": sum(1 for r in rs if r["status"] == "optimal"),
            "errors": sum(1 for r in rs if r["status"] == "error"),
            "timeouts": sum(1 for r in rs if r["status"] == "timeout"),
            "ref": "/".join(refs),
        })
    return out


def _fmt(col: str, v: Any) -> str:
    if v is None:
        return "-"
    if col == "time_limit":
        return fmt_time_limit(v)
    if col in ("feasible_pct",):
        return f"{v:.0f}"
    if col in ("mean_gap_pct", "max_gap_pct"):
        return f"{v:.2f}"
    if col == "mean_runtime_s":
        return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 100 else f"{v:.0f}"
    if col == "mean_primal_integral":
        return f"{v:.3f}"
    return str(v)


HEADERS = {"solver": "solver", "group": "instances", "time_limit": "limit s", "runs": "runs",
           "feasible_pct": "feasible %", "mean_gap_pct": "mean gap %", "max_gap_pct": "max gap %",
           "mean_runtime_s": "time s", "mean_primal_integral": "primal int.", "optimal": "optimal",
           "errors": "errors", "timeouts": "timeouts", "ref": "ref"}


SHORT_HEADERS = {**HEADERS, "time_limit": "limit", "feasible_pct": "feas.%", "mean_gap_pct": "gap %",
                 "mean_runtime_s": "time s", "errors": "err", "timeouts": "t/o"}
COMPACT_COLUMNS = ("solver", "group", "time_limit", "runs", "feasible_pct", "mean_gap_pct", "mean_runtime_s",
                   "errors", "timeouts")


TEXT_COLUMNS = frozenset({"solver", "group", "ref"})  # left-aligned


def render_table(summary: Sequence[dict[str, Any]], title: str | None = None,
                 columns: Sequence[str] = SUMMARY_COLUMNS, headers: dict[str, str] | None = None,
                 fmt: Callable[[str, Any], str] = _fmt, caption: str | None = None) -> Any:
    """A rich :class:`~rich.table.Table` of the summary (``COMPACT_COLUMNS`` for narrow terminals).

    ``headers`` and ``fmt`` name and format the columns of another summary of the same
    shape (the robustness table of :mod:`vrp.robustness`).
    """
    from rich.table import Table

    table = Table(title=title, caption=caption)
    names = headers or (SHORT_HEADERS if tuple(columns) == COMPACT_COLUMNS else HEADERS)
    for col in columns:
        table.add_column(names[col], justify="left" if col in TEXT_COLUMNS else "right", no_wrap=True)
    prev_group = None
    for s in summary:
        if prev_group is not None and s["group"] != prev_group:
            table.add_section()
        prev_group = s["group"]
        table.add_row(*[fmt(c, s[c]) for c in columns])
    return table


def to_markdown(summary: Sequence[dict[str, Any]], columns: Sequence[str] = SUMMARY_COLUMNS,
                headers: dict[str, str] | None = None, fmt: Callable[[str, Any], str] = _fmt) -> str:
    """The summary as a GitHub markdown table (``headers``, ``fmt``: as :func:`render_table`)."""
    names = headers or HEADERS
    lines = ["| " + " | ".join(names[c] for c in columns) + " |",
             "|" + "|".join("---" if c in TEXT_COLUMNS else "---:" for c in columns) + "|"]
    for s in summary:
        lines.append("| " + " | ".join(fmt(c, s[c]) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def to_csv(summary: Sequence[dict[str, Any]]) -> str:
    """The summary as CSV text (full precision)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SUMMARY_COLUMNS)
    for s in summary:
        w.writerow(["" if s[c] is None else s[c] for c in SUMMARY_COLUMNS])
    return buf.getvalue()


def headline(rows: Sequence[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The README table: one line per solver, one column per instance group (time limits pooled).

    Returns the groups (columns, in order of appearance) and per solver a dict with, per
    group, a cell ``(mean gap %, mean runtime s, feasible runs, runs)`` or None where
    the solver did not run on that group.
    """
    summary = summarise([dict(r, time_limit=0.0) for r in rows])
    groups = list(dict.fromkeys(r.get("group") or "" for r in rows))
    lines: dict[str, dict[str, Any]] = {}
    for s in summary:
        line = lines.setdefault(s["solver"], {"solver": s["solver"]})
        feasible = round(s["feasible_pct"] * s["runs"] / 100.0)
        line[s["group"]] = (s["mean_gap_pct"], s["mean_runtime_s"], feasible, s["runs"])
    return groups, list(lines.values())


def _headline_cell(cell: Any, most: int = 0) -> str:
    if cell is None:
        return "-"
    gap, t, feasible, runs = cell
    text = ("-" if gap is None else f"{gap:.2f} %") + " / " + ("-" if t is None else _fmt("mean_runtime_s", t) + " s")
    notes = []
    if runs < most:  # e.g. a TSP-only solver on a group that also holds ATSPs
        notes.append(f"{runs}/{most} runs")
    if feasible < runs:
        notes.append(f"{feasible}/{runs} feasible")
    return text + (f" ({', '.join(notes)})" if notes else "")


def _most_runs(lines: list[dict[str, Any]], groups: list[str]) -> dict[str, int]:
    return {g: max((line[g][3] for line in lines if line.get(g)), default=0) for g in groups}


def headline_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """:func:`headline` as markdown: cells are "mean gap / mean time"."""
    groups, lines = headline(rows)
    counts = {g: len({r["instance"] for r in rows if (r.get("group") or "") == g}) for g in groups}
    most = _most_runs(lines, groups)
    out = ["| solver | " + " | ".join(f"{g} ({counts[g]})" for g in groups) + " |",
           "|---|" + "---:|" * len(groups)]
    for line in lines:
        out.append(f"| {line['solver']} | " + " | ".join(_headline_cell(line.get(g), most[g]) for g in groups) + " |")
    return "\n".join(out) + "\n"


def headline_table(rows: Sequence[dict[str, Any]], title: str | None = None) -> Any:
    """:func:`headline` as a rich table."""
    from rich.table import Table

    groups, lines = headline(rows)
    table = Table(title=title, caption="mean gap to reference / mean time per instance")
    most = _most_runs(lines, groups)
    table.add_column("solver")
    for g in groups:
        table.add_column(g, justify="right")
    for line in lines:
        table.add_row(line["solver"], *[_headline_cell(line.get(g), most[g]) for g in groups])
    return table


# ---------------------------------------------------------------------------- plots
def _figure(w: float, h: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def _colors(solvers: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return {s: cmap(i % 10) for i, s in enumerate(solvers)}


def group_panels(rows: Sequence[dict[str, Any]], width: float, height: float) -> tuple[Any, list[str], dict[str, Any], list[tuple[Any, str, list[dict[str, Any]]]]]:
    """A figure with one panel per instance group (up to six, three a line; otherwise one pooled panel).

    Returns the figure, the solvers in order of appearance, a colour per solver, and per
    panel its axes, its title and its rows.
    """
    groups = list(dict.fromkeys(r.get("group") or "" for r in rows))
    titles = groups if 1 < len(groups) <= 6 else ["all instances"]
    solvers = list(dict.fromkeys(r["solver"] for r in rows))
    cols = min(3, len(titles))
    nrows = math.ceil(len(titles) / cols)
    fig = _figure(width * cols, height * nrows)
    panels = []
    for k, title in enumerate(titles):
        mine = [r for r in rows if title == "all instances" or (r.get("group") or "") == title]
        panels.append((fig.add_subplot(nrows, cols, k + 1), title, mine))
    return fig, solvers, _colors(solvers), panels


def plot_gap_vs_runtime(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Mean gap against mean runtime per solver, one point per time limit (log time axis).

    One panel per instance group (up to six; more are pooled into one panel), so that
    a solver's mean is never taken over instances another solver did not run.
    """
    from matplotlib.ticker import NullFormatter

    fig, solvers, colors, panels = group_panels(rows, 5.2, 4.0)
    for ax, panel, mine in panels:
        summary = summarise([dict(r, group="") for r in mine])
        for r in mine:
            if r.get("feasible") and r.get("gap_pct") is not None and r.get("runtime_s"):
                ax.scatter(max(r["runtime_s"], 1e-4), r["gap_pct"], s=8, alpha=0.25, color=colors[r["solver"]],
                           linewidths=0)
        for s in solvers:
            pts = [(p["mean_runtime_s"], p["mean_gap_pct"], p["time_limit"]) for p in
                   sorted(summary, key=lambda p: p["time_limit"])
                   if p["solver"] == s and p["mean_runtime_s"] and p["mean_gap_pct"] is not None]
            if not pts:
                continue
            xs = [max(p[0], 1e-4) for p in pts]
            ax.plot(xs, [p[1] for p in pts], marker="o", color=colors[s], label=s)
            for x, (_, y, tl) in zip(xs, pts):
                ax.annotate(f"{fmt_time_limit(tl)}s", (x, y), textcoords="offset points", xytext=(4, 4),
                            fontsize=7, color=colors[s])
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # narrow ranges would label every minor tick
        ax.set_xlabel("mean runtime per instance (s, log scale)")
        ax.set_ylabel("mean gap to reference (%)")
        ax.set_title(panel, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.axhline(0.0, color="black", linewidth=0.6)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colors[s], marker="o", label=s) for s in solvers]
    if handles and len(panels) % min(3, len(panels)):
        fig.legend(handles=handles, loc="lower right", fontsize=8)  # in the empty panel slot
    elif handles:
        fig.axes[0].legend(handles=handles, fontsize=7)  # every solver, also those absent from panel 1
    fig.suptitle("Gap vs runtime (dots: single runs; labelled points: mean per time limit)", fontsize=10)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    return out


def performance_ratios(rows: Sequence[dict[str, Any]]) -> dict[str, list[float]]:
    """Dolan-Moré ratios per solver: objective over the best objective of each (instance, limit, seed).

    Infeasible and failed runs get ratio ``inf``; a solver with no row for a problem (a
    variant it does not support) is left out of that problem. For a maximised objective
    the ratio is best / objective, so 1 is always the best and larger is worse.
    """
    problems: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
    solvers: list[str] = []
    for r in rows:
        if r["solver"] not in solvers:
            solvers.append(r["solver"])
        key = (r["instance"], fmt_time_limit(r["time_limit"]), str(r["seed"]))
        problems.setdefault(key, {})[r["solver"]] = r
    ratios: dict[str, list[float]] = {s: [] for s in solvers}
    for runs in problems.values():
        vals = {s: float(r["objective"]) for s, r in runs.items()
                if r.get("feasible") and r.get("objective") is not None}
        sense = next(iter(runs.values())).get("sense") or "min"
        best = (min if sense == "min" else max)(vals.values()) if vals else None
        for s in runs:  # a solver that was not run on a problem (unsupported variant) is not counted
            v = vals.get(s)
            if v is None or best is None:
                ratios[s].append(math.inf)
            elif sense == "min":
                ratios[s].append(v / best if best > 0 else (1.0 if v == best else math.inf))
            else:
                ratios[s].append(best / v if v > 0 else (1.0 if v == best else math.inf))
    return ratios


def plot_performance_profile(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Share of problems each solver solves within a factor tau of the best (Dolan & Moré 2002)."""
    ratios = performance_ratios(rows)
    colors = _colors(list(ratios))
    finite = [r for rs in ratios.values() for r in rs if math.isfinite(r)]
    tmax = max(max(finite, default=1.0) * 1.05, 1.05)
    fig = _figure(7, 4.5)
    ax = fig.add_subplot()
    for s, rs in ratios.items():
        n = len(rs)
        xs = sorted(r for r in rs if math.isfinite(r))
        steps_x = [1.0] + xs + [tmax]
        steps_y = [0.0] + [(i + 1) / n for i in range(len(xs))] + [len(xs) / n]
        ax.step(steps_x, steps_y, where="post", color=colors[s], label=s)
    ax.set_xlim(1.0, tmax)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("tau: objective within a factor tau of the best run")
    ax.set_ylabel("share of the (instance, limit, seed) it ran")
    ax.set_title("Performance profile")
    ax.grid(True, alpha=0.3)
    if ratios:
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    return out


def best_rows(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The best feasible row (with routes) of every instance."""
    best: dict[str, dict[str, Any]] = {}
    for r in rows:
        if not (r.get("feasible") and r.get("objective") is not None and r.get("routes")):
            continue
        cur = best.get(r["instance"])
        better = cur is None or (r["objective"] < cur["objective"] if (r.get("sense") or "min") == "min"
                                 else r["objective"] > cur["objective"])
        if better:
            best[r["instance"]] = r
    return best


def plot_routes(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str],
                loader: Callable[[str], Any], max_instances: int = 6) -> Path | None:
    """Routes of the best solution of up to ``max_instances`` instances that have coordinates."""
    chosen: list[tuple[dict[str, Any], Any]] = []
    for name, r in best_rows(rows).items():
        if len(chosen) >= max_instances:
            break
        try:
            inst = loader(r["source"] or name)
        except Exception:
            continue  # a file moved since the sweep: plot the others
        if getattr(inst, "coords", None) is not None:
            chosen.append((r, inst))
    if not chosen:
        return None
    cols = min(3, len(chosen))
    nrows = math.ceil(len(chosen) / cols)
    fig = _figure(4.2 * cols, 4.0 * nrows)
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    for k, (r, inst) in enumerate(chosen):
        ax = fig.add_subplot(nrows, cols, k + 1)
        xy = inst.coords
        routes = parse_routes(r["routes"]) or []
        ax.scatter(xy[:, 0], xy[:, 1], s=6, color="0.5", zorder=2)
        for i, route in enumerate(routes):
            if not route:
                continue
            closed = not getattr(inst, "open_routes", False)
            seq = [inst.depot, *route] + ([inst.depot] if closed else [])
            ax.plot(xy[seq, 0], xy[seq, 1], linewidth=0.9, color=cmap(i % 20), zorder=1)
        if getattr(inst, "variant", "") not in ("tsp", "atsp"):
            ax.scatter([xy[inst.depot, 0]], [xy[inst.depot, 1]], marker="s", s=40, color="red", zorder=3)
        gap = r.get("gap_pct")
        gap_txt = f", gap {gap:.2f}%" if gap is not None else ""
        ax.set_title(f"{r['instance']}: {r['solver']}\n{r['objective']:g}{gap_txt} ({r.get('ref')})", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    return out


def plot_all(rows: Sequence[dict[str, Any]], outdir: str | os.PathLike[str],
             loader: Callable[[str], Any] | None = None) -> list[Path]:
    """Write every plot into ``outdir``; returns the files written."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [plot_gap_vs_runtime(rows, out / "gap_vs_runtime.png"),
             plot_performance_profile(rows, out / "performance_profile.png")]
    from vrp import convergence

    anytime = convergence.plot(rows, out / "gap_over_time.png")
    if anytime is not None:
        paths.append(anytime)
    if loader is not None:
        p = plot_routes(rows, out / "routes.png", loader)
        if p is not None:
            paths.append(p)
    if robustness.has_columns(rows):  # written with vrp bench --scenarios
        p = robustness.plot(rows, out / "robustness.png")
        if p is not None:
            paths.append(p)
    return paths
