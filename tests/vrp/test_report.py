"""vrp report: tables, best-found gaps, plots, and clear errors on corrupt results files."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import solvers
from envs.specs import resolve
from vrp import report
from vrp.bench import COLUMNS, BenchError, read_rows, run_sweep

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "results.csv"
    items = resolve(["berlin52", "X-n101-k25", "generated:cvrp:15:3:seed=4"])
    supports = {n: solvers.spec(n).variants for n in ("nearest", "savings")}
    run_sweep(items, ["nearest", "savings"], [0.5, 1], [1], out, factory=solvers.get, workers=0,
              supports=supports)
    return out


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "vrp.cli", "report", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_best_found_reference_fills_gaps(results):
    rows = report.load(results)
    gen = [r for r in rows if r["group"] == "generated:cvrp:15"]
    assert gen and all(r["ref"] == "best-found" for r in gen)
    for name in {r["instance"] for r in gen}:
        mine = [r for r in gen if r["instance"] == name]
        best = min(r["objective"] for r in mine)
        for r in mine:
            assert r["gap_pct"] == pytest.approx(100 * (r["objective"] - best) / best)
            assert r["primal_integral"] is not None
        assert min(r["gap_pct"] for r in mine) == 0.0
    x = [r for r in rows if r["instance"] == "X-n101-k25"]
    assert all(r["ref"] == "bks" and r["bks"] == 27591 and r["gap_pct"] > 0 for r in x)


def test_summary_groups_by_solver_group_and_limit(results):
    rows = report.load(results)
    summary = report.summarise(rows)
    keys = {(s["solver"], s["group"], s["time_limit"]) for s in summary}
    # savings does not do tsp: no (savings, tsplib) line at all.
    assert ("savings", "tsplib", 0.5) not in keys and ("nearest", "tsplib", 0.5) in keys
    assert len(keys) == len(summary) == 2 * 2 + 2 * 2 + 1 * 2
    for s in summary:
        mine = [r for r in rows if (r["solver"], r["group"], r["time_limit"]) ==
                (s["solver"], s["group"], s["time_limit"])]
        assert s["runs"] == len(mine)
        assert s["mean_gap_pct"] == pytest.approx(sum(r["gap_pct"] for r in mine) / len(mine))
        assert s["feasible_pct"] == 100.0
    md = report.to_markdown(summary)
    assert md.splitlines()[0].startswith("| solver | instances | limit s |")
    assert len(md.splitlines()) == 2 + len(summary)


def test_report_cli_renders_table_and_writes_plots(results, tmp_path):
    res = _run(str(results), "--plots", str(tmp_path / "plots"), "--csv", str(tmp_path / "s.csv"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    for word in ("nearest", "savings", "tsplib", "cvrplib-x", "generated:cvrp:15", "mean gap %"):
        assert word in res.stdout
    for name in ("gap_vs_runtime.png", "gap_over_time.png", "performance_profile.png", "routes.png"):
        data = (tmp_path / "plots" / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0].startswith("solver,group,time_limit,runs,feasible_pct,mean_gap_pct")
    assert len(lines) == 1 + len(report.summarise(report.load(results)))
    md = _run(str(results), "--markdown", "--no-plots", "--headline", cwd=tmp_path)
    assert md.returncode == 0, md.stderr
    lines = md.stdout.splitlines()
    assert lines[0] == "| solver | tsplib (1) | cvrplib-x (1) | generated:cvrp:15 (3) |"
    assert lines[2].startswith("| nearest | ") and lines[3].startswith("| savings | - | ")
    assert len(lines) == 4


def test_performance_ratios():
    rows = [
        {"instance": "a", "time_limit": 1.0, "seed": 1, "solver": "x", "feasible": True, "objective": 10.0,
         "sense": "min"},
        {"instance": "a", "time_limit": 1.0, "seed": 1, "solver": "y", "feasible": True, "objective": 12.0,
         "sense": "min"},
        {"instance": "b", "time_limit": 1.0, "seed": 1, "solver": "x", "feasible": False, "objective": 5.0,
         "sense": "max"},
        {"instance": "b", "time_limit": 1.0, "seed": 1, "solver": "y", "feasible": True, "objective": 4.0,
         "sense": "max"},
    ]
    ratios = report.performance_ratios(rows)
    assert ratios["x"] == [1.0, math.inf]
    assert ratios["y"] == [pytest.approx(1.2), 1.0]


def _set_field(lines: list[str], index: int, column: str, value: str) -> None:
    cells = lines[index].split(",")
    # The damaged columns sit before any quoted cell, so a plain split finds them.
    cells[COLUMNS.index(column)] = value
    lines[index] = ",".join(cells)


@pytest.mark.parametrize("damage, message", [
    (lambda lines: lines.__setitem__(2, lines[2].rsplit(",", 3)[0]), r"results\.csv:3: expected 28 fields"),
    (lambda lines: lines.__setitem__(3, lines[3].replace(",feasible,", ",great,", 1)),
     r"results\.csv:4: column 'status': unknown status 'great'"),
    (lambda lines: _set_field(lines, 2, "n", "5x2"), r"results\.csv:3: column 'n': bad value '5x2'"),
    (lambda lines: _set_field(lines, 4, "objective", "12,5"), r"results\.csv:5: expected 28 fields"),
    (lambda lines: _set_field(lines, 1, "feasible", "yes"), r"results\.csv:2: column 'feasible': bad value"),
    (lambda lines: lines.__setitem__(0, lines[0].replace("objective", "obj")),
     r"results\.csv:1: not a vrp bench results header"),
    (lambda lines: lines.insert(2, ""), r"results\.csv:3: empty line"),
])
def test_corrupt_rows_give_a_clear_error_naming_the_line(results, tmp_path, damage, message):
    lines = results.read_text().split("\n")
    damage(lines)
    bad = tmp_path / "results.csv"
    bad.write_text("\n".join(lines))
    with pytest.raises(BenchError, match=message):
        report.load(bad)
    res = _run(str(bad), "--no-plots", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert res.stderr.startswith("vrp report: error: ") and "results.csv:" in res.stderr


def test_report_reads_a_file_still_being_written(results, tmp_path):
    text = results.read_text()
    partial = tmp_path / "partial.csv"
    partial.write_text(text + text.splitlines()[1][:40])  # a row being written right now
    assert len(report.load(partial)) == len(read_rows(results))
