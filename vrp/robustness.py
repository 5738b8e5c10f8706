"""Scenario figures on the command line, in bench rows and in reports (see :mod:`vrp.scenarios`).

- :class:`ScenarioSetting`: how many scenarios, which noise, which seed, which lateness
  penalty; :func:`add_arguments` / :func:`setting_from_args` read it from ``vrp check``
  and ``vrp bench``.
- :data:`COLUMNS` and :func:`row_cells`: the scenario columns of a ``vrp bench`` results
  file, computed in the worker right after the deterministic evaluation. The scenario
  seed of an instance comes from the sweep's ``--scenario-seed`` and the instance's name
  (:func:`instance_seed`), never the solver, so that every solution of an instance meets
  the same scenarios.
- :func:`summarise` / :func:`render_table` / :func:`to_markdown` / :func:`plot`: the
  robustness table and the deterministic-vs-expected plot of ``vrp report``, present only
  when a results file has the columns.

Light at import time: numpy and the scenario code are imported where they are used.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Scenario columns appended to a bench results file written with ``--scenarios``.
COLUMNS: tuple[str, ...] = (
    "scenarios", "exp_cost", "exp_cost_se", "cost_p95", "cost_p95_se", "exp_recourse", "exp_recourse_se",
    "exp_lateness", "exp_lateness_se", "on_time_rate", "on_time_rate_se", "failure_rate", "failure_rate_se",
    "exp_duration", "exp_duration_se",
)
FLOAT_COLUMNS = frozenset(COLUMNS[1:])
_SCORE_FIELDS = {"exp_cost": "cost", "exp_cost_se": "cost_se", "cost_p95": "cost_p95",
                 "cost_p95_se": "cost_p95_se", "exp_recourse": "recourse", "exp_recourse_se": "recourse_se",
                 "exp_lateness": "lateness", "exp_lateness_se": "lateness_se", "on_time_rate": "on_time_rate",
                 "on_time_rate_se": "on_time_rate_se", "failure_rate": "failure_rate",
                 "failure_rate_se": "failure_rate_se", "exp_duration": "duration",
                 "exp_duration_se": "duration_se"}

NOISE_HELP = ("KIND=VALUE, repeatable: travel=lognormal:CV, congestion=T:F,T:F,... (time-of-day factors from "
              "T time units after the depot opens), incident=P:DELAY, demand=poisson, demand=normal:CV")


@dataclass(frozen=True)
class ScenarioSetting:
    """A scenario evaluation request: ``scenarios`` days under ``noise`` from ``seed``."""

    noise: Any  # a vrp.scenarios.NoiseModel
    scenarios: int
    seed: int = 0
    lateness_penalty: float = 0.0

    def spec(self) -> str:
        """One line that identifies the setting (the ``scenarios`` column; a resume must match it)."""
        text = f"n={self.scenarios} seed={self.seed} {self.noise.spec()}"
        return text + (f" lateness_penalty={self.lateness_penalty:g}" if self.lateness_penalty else "")

    def evaluate(self, instance: Any, solution: Any, score: Any = None, seed: int | None = None) -> Any:
        """:func:`vrp.scenarios.evaluate_scenarios` with this setting (``seed`` overrides)."""
        from vrp.scenarios import evaluate_scenarios

        return evaluate_scenarios(instance, solution, self.noise, self.scenarios,
                                  self.seed if seed is None else seed,
                                  lateness_penalty=self.lateness_penalty, deterministic=score)


def add_arguments(parser: argparse.ArgumentParser, seed_flag: str = "--seed") -> None:
    """Add ``--scenarios``, ``--noise``, the scenario seed flag and ``--lateness-penalty``."""
    parser.add_argument("--scenarios", type=int, metavar="N", default=None,
                        help="also simulate N sampled days under --noise: expected cost, p95, on-time and "
                             "route-failure rates, with standard errors")
    parser.add_argument("--noise", action="append", default=[], metavar="KIND=VALUE", help=NOISE_HELP)
    parser.add_argument(seed_flag, type=int, default=0, dest="scenario_seed",
                        help="seed of the sampled scenarios (default 0)")
    parser.add_argument("--lateness-penalty", type=float, default=0.0, metavar="COST",
                        help="cost per time unit late added to each scenario's cost (default 0)")


def setting_from_args(args: argparse.Namespace, seed_flag: str = "--seed") -> ScenarioSetting | None:
    """The setting the flags ask for, None without ``--scenarios``; a bad flag is a NoiseError."""
    from vrp.scenarios import NoiseError, parse_noise

    if args.scenarios is None:
        if args.noise:
            raise NoiseError("--noise needs --scenarios N (how many days to sample)")
        return None
    if args.scenarios < 1:
        raise NoiseError(f"--scenarios: must be a positive integer, got {args.scenarios}")
    if args.scenario_seed < 0:
        raise NoiseError(f"{seed_flag}: must be an integer >= 0, got {args.scenario_seed}")
    if not (math.isfinite(args.lateness_penalty) and args.lateness_penalty >= 0):
        raise NoiseError(f"--lateness-penalty: must be a number >= 0, got {args.lateness_penalty:g}")
    return ScenarioSetting(parse_noise(args.noise), args.scenarios, args.scenario_seed, args.lateness_penalty)


# ---------------------------------------------------------------------------- bench rows
def instance_seed(seed: int, instance_name: str) -> int:
    """The scenario seed of one instance in a sweep: from the sweep's seed and the name only."""
    import numpy as np

    entropy = [int(seed), zlib.crc32(instance_name.encode("utf-8"))]
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint32)[0])


def check_items(setting: ScenarioSetting, items: Sequence[Any]) -> None:
    """Raise a NoiseError before any work when the noise does not apply to an instance of the sweep."""
    from vrp.model import Instance
    from vrp.scenarios import NoiseError

    for item in items:
        if not isinstance(item.instance, Instance):
            raise NoiseError(f"--scenarios: {item.name} is not a routing instance (scenarios are for routing)")
        try:
            setting.noise.check(item.instance)
        except NoiseError as exc:
            raise NoiseError(f"instance {item.name}: {exc}") from None


def row_cells(setting: ScenarioSetting | None, item: Any, solution: Any, score: Any) -> dict[str, Any]:
    """The scenario columns of one bench row (nothing without a setting)."""
    if setting is None:
        return {}
    try:
        result = setting.evaluate(item.instance, solution, score, instance_seed(setting.seed, item.name))
    except Exception as exc:  # a failure here must not cost the deterministic row
        return {"scenarios": setting.spec(), "error": f"scenario evaluation failed: {type(exc).__name__}: {exc}"}
    figures = result.to_dict()
    cells = {col: figures[attr] for col, attr in _SCORE_FIELDS.items()}
    cells["scenarios"] = setting.spec()
    return cells


def check_results_file(path: str | os.PathLike[str], setting: ScenarioSetting | None,
                       base_columns: Sequence[str]) -> None:
    """Refuse to resume a results file written with other scenario settings (or none)."""
    from vrp.bench import BenchError, read_rows

    p = Path(path)
    if not p.is_file() or p.stat().st_size == 0:
        return
    with open(p, encoding="utf-8", errors="replace") as fh:
        header = fh.readline().rstrip("\n").split(",")
    if header == list(base_columns):
        if setting is not None:
            raise BenchError(f"{p}: written without --scenarios; write the scenario figures to a new --out file")
        return
    if header != [*base_columns, *COLUMNS]:
        return  # not a results header at all: reading the file says what is wrong
    if setting is None:
        raise BenchError(f"{p}: written with --scenarios; resume it with the same --scenarios, --noise, "
                         f"--scenario-seed and --lateness-penalty")
    specs = {r["scenarios"] for r in read_rows(p, strict_tail=False) if r.get("scenarios")}
    other = specs - {setting.spec()}
    if other:
        raise BenchError(f"{p}: its rows were simulated with {sorted(other)[0]!r}, not {setting.spec()!r}; "
                         f"resume with the same flags or use a new --out file")


# ---------------------------------------------------------------------------- report
SUMMARY_COLUMNS = ("solver", "group", "time_limit", "runs", "mean_gap_pct", "exp_gap_pct", "exp_cost",
                   "cost_p95", "on_time_pct", "failure_pct", "degradation_pct")
HEADERS = {"solver": "solver", "group": "instances", "time_limit": "limit s", "runs": "runs",
           "mean_gap_pct": "det. gap %", "exp_gap_pct": "exp. gap %", "exp_cost": "exp. cost",
           "cost_p95": "p95 cost",
           "on_time_pct": "on time %", "failure_pct": "failures %", "degradation_pct": "degradation %"}


def has_columns(rows: Sequence[dict[str, Any]]) -> bool:
    """Whether any row carries scenario figures."""
    return any(r.get("exp_cost") is not None for r in rows)


def _base(row: dict[str, Any]) -> float | None:
    """The deterministic figure a scenario cost starts from: the objective (op: the distance)."""
    value = row.get("objective") if (row.get("sense") or "min") == "min" else row.get("cost")
    return None if value is None else float(value)


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [float(v) for v in values if v is not None and math.isfinite(v)]
    return statistics.fmean(vals) if vals else None


def degradation_pct(row: dict[str, Any]) -> float | None:
    """Expected scenario cost over the deterministic cost, minus 1, in percent."""
    base = _base(row)
    if row.get("exp_cost") is None or not base:
        return None
    return 100.0 * (float(row["exp_cost"]) / base - 1.0)


def expected_gap_pct(row: dict[str, Any]) -> float | None:
    """The expected scenario cost's gap to the row's deterministic reference, in percent (minimised only)."""
    ref = row.get("ref_value")
    if row.get("exp_cost") is None or not ref or (row.get("sense") or "min") != "min":
        return None
    return 100.0 * (float(row["exp_cost"]) / float(ref) - 1.0)


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per (solver, group, time limit) over the feasible rows with scenario figures.

    ``mean_gap_pct`` is the deterministic gap, ``exp_gap_pct`` the expected cost's gap to the
    same reference (rows read by :func:`vrp.report.load`, which sets it), ``degradation_pct``
    the mean of expected over deterministic cost minus 1.
    """
    order: dict[str, int] = {}
    cells: dict[tuple[str, str, float], list[dict[str, Any]]] = {}
    for r in rows:
        order.setdefault(r["solver"], len(order))
        if r.get("feasible") and r.get("exp_cost") is not None:
            cells.setdefault((r["solver"], r.get("group") or "", float(r["time_limit"])), []).append(r)
    out = []
    for (solver, group, tl), rs in sorted(cells.items(), key=lambda kv: (kv[0][1], kv[0][2], order[kv[0][0]])):
        on_time = _mean([r.get("on_time_rate") for r in rs])
        failures = _mean([r.get("failure_rate") for r in rs])
        out.append({
            "solver": solver, "group": group, "time_limit": tl, "runs": len(rs),
            "mean_gap_pct": _mean([r.get("gap_pct") for r in rs]),
            "exp_gap_pct": _mean([expected_gap_pct(r) for r in rs]),
            "exp_cost": _mean([r.get("exp_cost") for r in rs]),
            "cost_p95": _mean([r.get("cost_p95") for r in rs]),
            "on_time_pct": None if on_time is None else 100.0 * on_time,
            "failure_pct": None if failures is None else 100.0 * failures,
            "degradation_pct": _mean([degradation_pct(r) for r in rs]),
        })
    return out


def _fmt(col: str, v: Any) -> str:
    if v is None:
        return "-"
    if col == "time_limit":
        return f"{float(v):g}"
    if col in ("exp_cost", "cost_p95"):
        return f"{v:.1f}"
    if col in ("mean_gap_pct", "exp_gap_pct", "on_time_pct", "failure_pct", "degradation_pct"):
        return f"{v:.2f}"
    return str(v)


def render_table(summary: Sequence[dict[str, Any]], title: str | None = None) -> Any:
    """The robustness summary as a rich table."""
    from vrp import report

    return report.render_table(summary, title, SUMMARY_COLUMNS, HEADERS, _fmt,
                               caption="means over feasible runs; degradation = expected / deterministic cost - 1")


def to_markdown(summary: Sequence[dict[str, Any]]) -> str:
    """The robustness summary as a GitHub markdown table."""
    from vrp import report

    return report.to_markdown(summary, SUMMARY_COLUMNS, HEADERS, _fmt)


def plot(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> Path | None:
    """Deterministic against expected scenario cost, both in % over the instance's reference.

    One point per run, one colour per solver, the solver's mean as a large marker; one
    panel per instance group (up to six). Points above the diagonal lose under noise.
    """
    from vrp.report import group_panels

    runs = [r for r in rows if r.get("feasible") and r.get("exp_cost") is not None and r.get("ref_value")
            and (r.get("sense") or "min") == "min"]
    if not runs:
        return None
    fig, solvers, colors, panels = group_panels(runs, 5.0, 4.4)
    for ax, panel, mine in panels:
        lo, hi = math.inf, -math.inf
        for s in solvers:
            pts = [(100.0 * (base / r["ref_value"] - 1.0), gap) for r in mine
                   if r["solver"] == s and (base := _base(r)) is not None and (gap := expected_gap_pct(r)) is not None]
            if not pts:
                continue
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            lo, hi = min(lo, *xs, *ys), max(hi, *xs, *ys)
            ax.scatter(xs, ys, s=10, alpha=0.35, color=colors[s], linewidths=0)
            ax.scatter([statistics.fmean(xs)], [statistics.fmean(ys)], s=70, color=colors[s], edgecolors="black",
                       linewidths=0.6, label=s, zorder=3)
        if math.isfinite(lo):
            ax.plot([lo, hi], [lo, hi], color="black", linewidth=0.6, linestyle="--")
        ax.set_xlabel("deterministic cost, % over reference")
        ax.set_ylabel("expected scenario cost, % over reference")
        ax.set_title(panel, fontsize=10)
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    spec = next((r.get("scenarios") for r in runs if r.get("scenarios")), "")
    fig.suptitle(f"Deterministic vs expected cost per solver\n{spec}", fontsize=8)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    return out
