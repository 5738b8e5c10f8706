"""The CLI end to end, through subprocesses, including every kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vrp import data

ROOT = Path(__file__).resolve().parents[2]
X101 = str(data.find("X-n101-k25"))


def vrp(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vrp.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_solve_check_info_solvers(tmp_path: Path) -> None:
    out = tmp_path / "sol.sol"
    r = vrp("solve", X101, "--solver", "savings", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    for key in ("instance", "variant", "n", "solver", "objective", "sense", "cost", "feasible", "violations",
                "bks", "gap_pct", "runtime_s", "status", "bound", "routes", "skipped"):
        assert key in obj
    assert obj["feasible"] and obj["bks"] == 27591 and obj["gap_pct"] > 0
    assert out.exists()
    r = vrp("check", X101, str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["objective"] == obj["objective"]
    r = vrp("info", "X-n101-k25")
    assert r.returncode == 0 and "cvrp" in r.stdout and "27591" in r.stdout and "unlimited" in r.stdout
    r = vrp("solvers")
    assert r.returncode == 0 and "nearest" in r.stdout and "savings" in r.stdout


def test_solve_json_carries_the_solvers_info() -> None:
    # Result.info (how the solver got there: cuts, rounds, warm start) reaches --json, JSON-safe
    r = vrp("solve", "berlin52", "--solver", "ilp", "--time-limit", "60", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)["info"]
    assert info["method"] == "dfj-fractional" and info["cuts"] >= 1
    assert info["warm_start"]["cost"] >= json.loads(r.stdout)["objective"]


def test_solve_by_name_with_plot(tmp_path: Path) -> None:
    png = tmp_path / "tour.png"
    r = vrp("solve", "berlin52", "--solver", "nearest", "--plot", str(png))
    assert r.returncode == 0, r.stderr
    assert png.stat().st_size > 10_000
    assert "optimum" in r.stdout and "7542" in r.stdout


def test_check_reference_tour() -> None:
    tour = data.reference_solution("berlin52")
    r = vrp("check", "berlin52", str(tour), "--json")
    assert r.returncode == 0
    obj = json.loads(r.stdout)
    assert obj["objective"] == 7542 and obj["gap_pct"] == 0


def test_generate_then_solve(tmp_path: Path) -> None:
    r = vrp("generate", "--problem", "cvrp", "--size", "20", "--count", "3", "--distribution", "clustered",
            "--seed", "1", "--out", str(tmp_path / "gen"))
    assert r.returncode == 0, r.stderr
    files = sorted((tmp_path / "gen").glob("*.json"))
    assert len(files) == 3
    r = vrp("solve", str(files[0]), "--solver", "savings", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["feasible"]


def test_check_reports_violations(tmp_path: Path) -> None:
    sol = tmp_path / "bad.sol"
    sol.write_text("Route #1: 1 2 3\n")
    r = vrp("check", X101, str(sol), "--json")
    assert r.returncode == 1
    obj = json.loads(r.stdout)
    assert not obj["feasible"] and any("missing" in v for v in obj["violations"])


def _bad(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


P16 = data.find("P-n16-k8").read_text()


@pytest.mark.parametrize(
    ("case", "expect"),
    [
        ("missing_file", "no such file"),
        ("unknown_name", "no file and no dataset"),
        ("unknown_solver", "unknown solver"),
        ("unsupported_variant", "does not support variant"),
        ("zero_capacity", "CAPACITY"),
        ("negative_capacity", "CAPACITY"),
        ("demand_above_capacity", "exceeds the capacity"),
        ("non_square", "square"),
        ("nan_coords", "non-finite"),
        ("truncated", "expected 16 rows"),
        ("section_length", "expected 16 rows"),
        ("sol_bad_node", "does not exist"),
        ("time_limit_zero", "--time-limit"),
        ("time_limit_negative", "--time-limit"),
        ("bad_option", "unknown option"),
    ],
)
def test_bad_input_one_line_exit_2(case: str, expect: str, tmp_path: Path) -> None:
    out = tmp_path / "out.sol"
    out.write_text("precious\n")
    args: list[str]
    if case == "missing_file":
        args = ["solve", str(tmp_path / "nope.vrp")]
    elif case == "unknown_name":
        args = ["solve", "no-such-instance"]
    elif case == "unknown_solver":
        args = ["solve", "berlin52", "--solver", "magic"]
    elif case == "unsupported_variant":
        args = ["solve", "berlin52", "--solver", "savings"]
    elif case == "zero_capacity":
        args = ["solve", _bad(tmp_path, "z.vrp", P16.replace("CAPACITY : 35", "CAPACITY : 0"))]
    elif case == "negative_capacity":
        args = ["solve", _bad(tmp_path, "n.vrp", P16.replace("CAPACITY : 35", "CAPACITY : -3"))]
    elif case == "demand_above_capacity":
        args = ["solve", _bad(tmp_path, "d.vrp", P16.replace("CAPACITY : 35", "CAPACITY : 20"))]
    elif case == "non_square":
        args = ["solve", _bad(tmp_path, "m.tsp", "NAME: m\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\n"
                              "EDGE_WEIGHT_FORMAT: FULL_MATRIX\nEDGE_WEIGHT_SECTION\n0 1 2\n1 0 3\nEOF\n")]
        expect = "needs 9 numbers"
    elif case == "nan_coords":
        args = ["solve", _bad(tmp_path, "nan.vrp", P16.replace("2 37 52", "2 37 nan"))]
    elif case == "truncated":
        args = ["solve", _bad(tmp_path, "t.vrp", P16[: P16.index("8 52 41")])]
        expect = "NODE_COORD_SECTION"
    elif case == "section_length":
        args = ["solve", _bad(tmp_path, "s.vrp", P16.replace("16 37 69\n", ""))]
    elif case == "sol_bad_node":
        args = ["check", X101, _bad(tmp_path, "b.sol", "Route #1: 1 2 500\n")]
    elif case == "time_limit_zero":
        args = ["solve", "berlin52", "--time-limit", "0"]
    elif case == "time_limit_negative":
        args = ["solve", "berlin52", "--time-limit", "-1"]
    else:
        args = ["solve", "berlin52", "--option", "nope=1"]
    if args[0] == "solve":
        args += ["--out", str(out)]
    r = vrp(*args)
    assert r.returncode == 2, (case, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert expect.lower() in lines[0].lower(), lines[0]
    assert out.read_text() == "precious\n"  # nothing overwritten
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp files left


def test_help_is_light() -> None:
    code = ("import sys; from vrp import cli\n"
            "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'rl4co', 'ortools', 'pulp', 'tensordict', 'lightning', 'highspy') "
            "if m in sys.modules]\n"
            "print('HEAVY:' + ','.join(heavy))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    marker = [ln for ln in r.stdout.splitlines() if ln.startswith("HEAVY:")]
    assert marker == ["HEAVY:"], marker


@pytest.mark.parametrize("sub", ["solve", "check", "info", "solvers", "generate"])
def test_every_subcommand_has_help_with_example(sub: str) -> None:
    r = vrp(sub, "--help")
    assert r.returncode == 0 and "example" in r.stdout.lower()


def test_check_with_scenarios(tmp_path: Path) -> None:
    sol = tmp_path / "c101.sol"
    assert vrp("solve", "C101", "--solver", "savings", "--out", str(sol)).returncode == 0
    args = ["check", "C101", str(sol), "--scenarios", "300", "--noise", "travel=lognormal:0.2",
            "--noise", "demand=poisson", "--seed", "1"]
    r = vrp(*args, "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    sc = obj["scenarios"]
    assert sc["scenarios"] == 300 and sc["seed"] == 1 and sc["noise"] == "travel=lognormal:0.2 demand=poisson"
    assert sc["base"] == obj["objective"] and sc["cost"] >= sc["base"] and 0 < sc["cost_se"] < 10
    assert 0.5 < sc["on_time_rate"] <= 1 and 0 < sc["failure_rate"] < 1 and sc["lateness_penalty"] == 0
    assert vrp(*args, "--json").stdout == r.stdout  # same seed, same figures
    text = vrp(*args).stdout
    for label in ("expected cost", "recourse", "lateness", "cost p95", "on time", "route failures", "duration"):
        assert label in text
    plain = json.loads(vrp("check", "C101", str(sol), "--json", "--scenarios", "5").stdout)["scenarios"]
    assert plain["cost"] == obj["objective"] and plain["noise"] == "none"  # no noise: the evaluator's cost


@pytest.mark.parametrize(("extra", "expect"), [
    (["--scenarios", "0"], "--scenarios: must be a positive integer"),
    (["--scenarios", "10", "--noise", "travel=lognormal:-0.2"], "travel_cv: must be a number >= 0, got -0.2"),
    (["--scenarios", "10", "--noise", "travel=gamma:0.2"], "unknown travel noise 'gamma'"),
    (["--scenarios", "10", "--noise", "rain=1"], "expected KIND=VALUE"),
    (["--noise", "demand=poisson"], "--noise needs --scenarios"),
    (["--scenarios", "10", "--lateness-penalty", "-1"], "--lateness-penalty"),
    (["--scenarios", "10", "--noise", "demand=poisson", "--tsp"], "variant tsp has no demands"),
])
def test_bad_scenario_requests_are_one_line_exit_2(extra: list[str], expect: str) -> None:
    if "--tsp" in extra:
        extra.remove("--tsp")
        args = ["check", "berlin52", str(data.reference_solution("berlin52"))]
    else:
        args = ["check", X101, str(data.reference_solution("X-n101-k25"))]
    r = vrp(*args, *extra)
    assert r.returncode == 2, (extra, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert expect in lines[0], lines[0]
