"""vrp report's anytime curves: the incumbent's gap over time, from real bench traces."""

from __future__ import annotations

from pathlib import Path

import pytest

import solvers
from envs.specs import resolve
from vrp import convergence, report
from vrp.bench import parse_trace, run_sweep

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def rows(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("conv") / "results.csv"
    items = resolve(["berlin52", "generated:cvrp:15:2:seed=5"])
    run_sweep(items, ["nearest", "ga"], [0.5], [1], out, factory=solvers.get, workers=0)
    return report.load(out)


def test_curve_ends_on_the_table_mean_and_never_rises(rows):
    times = [10 ** (k / 20) for k in range(-60, 1)]  # 1 ms .. 1 s
    for solver in ("nearest", "ga"):
        for group in {r["group"] for r in rows}:
            mine = [r for r in rows if r["solver"] == solver and r["group"] == group]
            pts = convergence.curve(mine, times)
            assert pts, (solver, group)
            assert pts[-1][1] == pytest.approx(sum(r["gap_pct"] for r in mine) / len(mine))
            assert pts[-1][0] == pytest.approx(max(r["runtime_s"] for r in mine))
            gaps = [g for _, g in pts]
            assert all(b <= a + 1e-9 for a, b in zip(gaps, gaps[1:])), (solver, group, gaps)


def test_incumbent_follows_the_trace(rows):
    run = next(r for r in rows if r["solver"] == "ga" and r["instance"] == "berlin52")
    trace = parse_trace(run["trace"])
    assert trace and run["ref_value"] == 7542
    first_t, first_v = trace[0]
    if first_t > 0:
        assert convergence.incumbent_gap(run, first_t / 2) is None  # nothing held yet
    if first_t < run["runtime_s"]:
        assert convergence.incumbent_gap(run, first_t) == pytest.approx(100 * (first_v - 7542) / 7542)
    assert convergence.incumbent_gap(run, run["runtime_s"]) == pytest.approx(run["gap_pct"])


def test_a_run_without_solution_empties_its_curve(rows):
    mine = [dict(r) for r in rows if r["solver"] == "ga"]
    mine[0]["feasible"] = False
    assert convergence.curve(mine, [0.01, 0.1, 1.0]) == []


def test_plot_is_written_by_report(rows, tmp_path: Path):
    paths = report.plot_all(rows, tmp_path)
    data = (tmp_path / "gap_over_time.png").read_bytes()
    assert tmp_path / "gap_over_time.png" in paths and data.startswith(PNG) and len(data) > 10_000
