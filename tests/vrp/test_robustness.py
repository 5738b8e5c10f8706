"""Scenario columns in vrp bench, resume rules, the robustness table and plot of vrp report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import solvers
from envs.specs import resolve
from vrp import report, robustness
from vrp.bench import COLUMNS, BenchError, parse_routes, read_rows, run_sweep
from vrp.bench_cli import supported_variants
from vrp.model import Solution
from vrp.scenarios import parse_noise

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"
SETTING = robustness.ScenarioSetting(parse_noise("travel=lognormal:0.2 demand=poisson"), 150, seed=3)
NAMES = ["nearest", "nearest@copy", "savings"]  # a labelled copy: the same solutions, its own rows


def _sweep(out: Path, setting=SETTING, names=NAMES, items=None):
    items = items or resolve(["generated:vrptw:12:2:seed=5", "generated:cvrp:12:2:seed=5"])
    return run_sweep(items, names, [0.5], [1], out, factory=solvers.get, workers=0,
                     supports=supported_variants(names), scenarios=setting)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("robust") / "r.csv"
    _sweep(out)
    return out


def test_rows_carry_the_scenario_figures_of_the_worker(results):
    rows = read_rows(results)
    assert results.read_text().splitlines()[0] == ",".join(COLUMNS + robustness.COLUMNS)
    assert len(rows) == 12 and all(r["scenarios"] == SETTING.spec() for r in rows)
    for r in rows:
        assert r["exp_cost"] >= r["objective"] and r["exp_cost_se"] > 0 and 0 <= r["failure_rate"] <= 1
        assert (r["on_time_rate"] is not None) == (r["variant"] == "vrptw")
    # The figures are those of vrp.scenarios with the instance's seed (independent of the solver) ...
    items = {it.name: it for it in resolve(["generated:vrptw:12:2:seed=5", "generated:cvrp:12:2:seed=5"])}
    r = rows[0]
    sol = Solution(parse_routes(r["routes"]))
    again = SETTING.evaluate(items[r["instance"]].instance, sol, None,
                             robustness.instance_seed(SETTING.seed, r["instance"]))
    assert r["exp_cost"] == pytest.approx(again.cost, abs=1e-6) and r["cost_p95"] == pytest.approx(again.cost_p95)
    # ... so two solvers that find the same solution meet the same scenarios and get the same figures.
    by = {(r["solver"], r["instance"]): r for r in rows}
    for name in items:
        a, b = by[("nearest", name)], by[("nearest@copy", name)]
        assert a["routes"] == b["routes"]
        assert all(a[c] == b[c] for c in robustness.COLUMNS)
    assert robustness.instance_seed(3, "a") != robustness.instance_seed(3, "b")


def test_resume_keeps_the_setting_and_old_files_stay_readable(results, tmp_path):
    assert _sweep(results).written == 0  # resume: nothing left to do
    other = robustness.ScenarioSetting(parse_noise("travel=lognormal:0.2"), 150, seed=3)
    with pytest.raises(BenchError, match="simulated with 'n=150 seed=3 travel=lognormal:0.2 demand=poisson'"):
        _sweep(results, other)
    with pytest.raises(BenchError, match="written with --scenarios"):
        _sweep(results, None)
    plain = tmp_path / "plain.csv"
    _sweep(plain, None, ["nearest"])
    assert plain.read_text().splitlines()[0] == ",".join(COLUMNS)  # no scenarios: the file is as before
    with pytest.raises(BenchError, match="written without --scenarios"):
        _sweep(plain, SETTING, ["nearest"])
    assert _sweep(plain, None, ["nearest", "savings"]).written == 4  # and resumes as before
    rows = report.load(plain)
    assert not robustness.has_columns(rows) and "exp_cost" not in rows[0]
    assert robustness.summarise(rows) == []
    assert "robustness.png" not in [p.name for p in report.plot_all(rows, tmp_path / "plots")]


def test_robustness_summary_table_and_plot(results, tmp_path):
    rows = report.load(results)
    summary = robustness.summarise(rows)
    assert [(s["solver"], s["group"]) for s in summary][:3] == [
        ("nearest", "generated:cvrp:12"), ("nearest@copy", "generated:cvrp:12"), ("savings", "generated:cvrp:12")]
    for s in summary:
        mine = [r for r in rows if r["solver"] == s["solver"] and r["group"] == s["group"]]
        assert s["runs"] == 2
        assert s["degradation_pct"] == pytest.approx(
            sum(100 * (r["exp_cost"] / r["objective"] - 1) for r in mine) / 2)
        assert (s["on_time_pct"] is None) == (s["group"] == "generated:cvrp:12")
    md = robustness.to_markdown(summary).splitlines()
    assert md[0] == ("| solver | instances | limit s | runs | det. gap % | exp. gap % | exp. cost | p95 cost "
                     "| on time % | failures % | degradation % |") and len(md) == 2 + len(summary)
    best = min(r["objective"] for r in rows if r["instance"] == rows[0]["instance"])
    assert robustness.expected_gap_pct(rows[0]) == pytest.approx(100 * (rows[0]["exp_cost"] / best - 1))
    paths = report.plot_all(rows, tmp_path / "plots")
    png = tmp_path / "plots" / "robustness.png"
    assert png in paths and png.read_bytes().startswith(PNG)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "vrp.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_bench_and_report_command_lines(tmp_path):
    out = tmp_path / "r.csv"
    res = _cli("bench", "--instances", "generated:cvrp:10:2:seed=1", "--solvers", "nearest,savings", "--out",
               str(out), "--scenarios", "100", "--noise", "demand=normal:0.3", "--scenario-seed", "7",
               "--lateness-penalty", "2", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "degradation %" in res.stdout and "n=100 seed=7 demand=normal:0.3 lateness_penalty=2" in res.stdout
    rep = _cli("report", str(out), "--markdown", "--no-plots", cwd=tmp_path)
    assert rep.returncode == 0 and "| det. gap % |" in rep.stdout, rep.stderr


@pytest.mark.parametrize("args, message", [
    (["--scenarios", "0"], "--scenarios: must be a positive integer"),
    (["--noise", "travel=lognormal:0.2"], "--noise needs --scenarios"),
    (["--scenarios", "5", "--noise", "demand=poisson"], "instance berlin52: demand=poisson: variant tsp has no"),
    (["--scenarios", "5", "--noise", "travel=lognormal"], "travel CV: expected a number"),
    (["--scenarios", "5", "--scenario-seed", "-1"], "--scenario-seed: must be an integer >= 0"),
])
def test_bad_scenario_flags_are_one_line_exit_2(tmp_path, args, message):
    res = _cli("bench", "--instances", "berlin52", "--solvers", "nearest", "--out", str(tmp_path / "r.csv"),
               *args, cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and message in res.stderr, res.stderr
    assert not (tmp_path / "r.csv").exists()
