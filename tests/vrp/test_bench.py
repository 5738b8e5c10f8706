"""vrp bench: rows, resume after kill -9, torn lines, crashes and timeouts, workers, Ray."""

from __future__ import annotations

import csv
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import solvers
from envs.specs import load, resolve
from vrp.bench import (
    COLUMNS,
    BenchError,
    ResultsFile,
    format_line,
    plan,
    primal_integral,
    read_rows,
    row_key,
    run_sweep,
)

ROOT = Path(__file__).resolve().parents[2]
SLOW_PREFERENCE = ("ortools", "pyvrp", "ga", "aco")


def _slow_solver() -> str:
    """A registered solver that uses its time limit (so that a sweep takes a while)."""
    names = solvers.names()
    for name in SLOW_PREFERENCE:
        if name in names:
            return name
    pytest.skip(f"no time-limited solver registered yet (looked for {', '.join(SLOW_PREFERENCE)})")


# A factory for the runner's own failure paths: a solver that overruns its limit by far
# and one whose process dies. Everything else is the real registry.
class _Sleepy:
    name = "sleepy"
    variants = frozenset({"cvrp", "tsp"})

    def solve(self, instance, *, time_limit, seed=0):
        time.sleep(60)
        raise AssertionError("unreachable")


class _Dies:
    name = "dies"
    variants = frozenset({"cvrp", "tsp"})

    def solve(self, instance, *, time_limit, seed=0):
        os._exit(3)


class _Batched:
    """Runs ``nearest`` one instance at a time behind the batch interface neural solvers offer."""

    name = "am:fake"
    variants = frozenset({"cvrp"})
    calls: list[int] = []

    def solve_batch(self, instances, *, time_limit, seed=0):
        inner = solvers.get("nearest")
        _Batched.calls.append(len(instances))
        results = [inner.solve(inst, time_limit=time_limit, seed=seed) for inst in instances]
        for r in results:
            r.runtime = 0.0  # no per-instance time of its own: the runner splits the batch time
        return results


def factory(name, family="routing", options=None):
    if name == "sleepy":
        return _Sleepy()
    if name == "dies":
        return _Dies()
    if name == "am:fake":
        return _Batched()
    return solvers.get(name, family, options)


def _data_lines(path: Path) -> list[bytes]:
    lines = path.read_bytes().split(b"\n")
    assert lines[0].decode() == ",".join(COLUMNS)
    return lines[1:]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.fixture(scope="module")
def items():
    return resolve(["generated:cvrp:12:2:seed=3"])


def test_sweep_writes_one_row_per_key_and_resume_skips(tmp_path, items):
    out = tmp_path / "r.csv"
    stats = run_sweep(items, ["nearest", "savings"], [0.5], [1, 2], out, factory=factory, workers=0)
    assert stats.written == 8 and stats.skipped == 0
    rows = read_rows(out)
    assert len({row_key(r) for r in rows}) == 8
    for r in rows:
        assert r["status"] == "feasible" and r["feasible"] is True
        assert r["ref"] == "best-found" and r["gap_pct"] is None  # filled at report time
        assert r["objective"] == pytest.approx(r["cost"])
        assert r["source"].startswith("generated:cvrp:12:2:seed=3")
        assert r["threads"] == 1 and r["batch_size"] == 1
    before = out.read_bytes()
    again = run_sweep(items, ["nearest", "savings"], [0.5], [1, 2], out, factory=factory, workers=0)
    assert again.written == 0 and again.skipped == 8
    assert out.read_bytes() == before


def test_rows_score_through_the_evaluator_and_gap_against_bks(tmp_path):
    berlin = resolve(["berlin52"])
    assert berlin[0].bks == 7542 and berlin[0].group == "tsplib"
    out = tmp_path / "r.csv"
    run_sweep(berlin, ["nearest"], [1], [1], out, factory=factory, workers=0)
    (row,) = read_rows(out)
    from vrp.bench import parse_routes
    from vrp.evaluate import evaluate
    from vrp.model import Solution

    score = evaluate(berlin[0].instance, Solution(parse_routes(row["routes"])))
    assert row["objective"] == score.objective and row["feasible"]
    assert row["ref"] == "bks" and row["bks"] == 7542
    assert row["gap_pct"] == pytest.approx(100 * (score.objective - 7542) / 7542, abs=1e-4)
    assert 0 < row["primal_integral"] <= 1.0
    assert load(row["source"]) == berlin[0].instance


def test_generated_source_reloads_the_same_instance(items):
    for it in items:
        assert load(it.source) == it.instance


@pytest.mark.slow
def test_kill9_then_resume_gives_exactly_twelve_rows(tmp_path):
    """2 instances x 3 solvers x 2 seeds, SIGKILL once >= 4 rows are written, then resume."""
    slow = _slow_solver()
    out = tmp_path / "results.csv"
    cmd = [sys.executable, "-m", "vrp.cli", "bench", "--instances", "generated:cvrp:12:2:seed=3",
           "--solvers", f"nearest,savings,{slow}", "--time-limits", "1", "--seeds", "1,2",
           "--out", str(out), "--workers", "1", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=_env(), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    rows_at_kill = 0
    while time.time() < deadline and proc.poll() is None:
        if out.exists():
            rows_at_kill = out.read_bytes().count(b"\n") - 1
            if rows_at_kill >= 4:
                break
        time.sleep(0.02)
    assert proc.poll() is None, f"the sweep ended before it could be killed: {proc.stderr.read().decode()}"
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and its workers, as kill -9 of the session would
    proc.wait(10)
    before = out.read_bytes()
    complete_before = before[: before.rfind(b"\n") + 1]
    assert 4 <= complete_before.count(b"\n") - 1 < 12

    res = subprocess.run(cmd, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr
    after = out.read_bytes()
    assert after.startswith(complete_before)  # lines written before the kill are byte-identical
    lines = _data_lines(out)
    assert lines[-1] == b"" and all(lines[:-1])  # ends with a newline, no empty or torn line
    rows = read_rows(out)
    assert len(rows) == 12
    keys = [row_key(r) for r in rows]
    assert len(set(keys)) == 12
    assert {k[1] for k in keys} == {"nearest", "savings", slow}
    assert all(r["status"] in ("feasible", "optimal") for r in rows), [r["error"] for r in rows]


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_resumes(tmp_path):
    slow = _slow_solver()
    out = tmp_path / "results.csv"
    cmd = [sys.executable, "-m", "vrp.cli", "bench", "--instances", "generated:cvrp:12:6:seed=5",
           "--solvers", slow, "--time-limits", "1", "--seeds", "1", "--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=_env(), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") - 1 >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the sweep ended before Ctrl-C"
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends to the foreground group
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err and "Traceback" not in err
    gone = time.time() + 15
    while time.time() < gone:  # no worker left behind (multiprocessing's tracker exits within ~2 s)
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)
    rows = read_rows(out)
    assert 2 <= len(rows) < 6 and all(r["status"] == "feasible" for r in rows)
    res = subprocess.run(cmd + ["--quiet"], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    rows = read_rows(out)
    assert len(rows) == len({row_key(r) for r in rows}) == 6


def test_a_second_writer_is_refused(tmp_path):
    first = ResultsFile(tmp_path / "r.csv")
    first.open()
    with pytest.raises(BenchError, match="another vrp bench is writing this results file"):
        ResultsFile(tmp_path / "r.csv").open()
    first.close()
    ResultsFile(tmp_path / "r.csv").open()


def test_torn_last_line_is_cut_and_the_row_rerun(tmp_path, items):
    out = tmp_path / "r.csv"
    run_sweep(items, ["nearest"], [0.5], [1, 2], out, factory=factory, workers=0)
    good = out.read_bytes()
    lines = good.split(b"\n")
    # Simulate a kill in the middle of writing the last row: drop it, keep half of it.
    torn = b"\n".join(lines[:-2]) + b"\n" + lines[-2][: len(lines[-2]) // 2]
    out.write_bytes(torn)
    with pytest.raises(BenchError, match=r"r\.csv:5: expected 28 fields|r\.csv:5: "):
        read_rows(out)  # a reader that does not repair names the line
    stats = run_sweep(items, ["nearest"], [0.5], [1, 2], out, factory=factory, workers=0)
    assert stats.repaired_bytes == len(lines[-2]) // 2
    assert stats.written == 1
    fixed = out.read_bytes()
    assert fixed.startswith(b"\n".join(lines[:-2]) + b"\n")
    assert len(read_rows(out)) == 4


def test_other_header_is_refused(tmp_path, items):
    out = tmp_path / "r.csv"
    out.write_text("instance,solver,cost\nx,y,1\n")
    with pytest.raises(BenchError, match=r"r\.csv:1: not a vrp bench results header \(missing"):
        run_sweep(items, ["nearest"], [0.5], [1], out, factory=factory, workers=0)
    assert out.read_text() == "instance,solver,cost\nx,y,1\n"


@pytest.mark.slow
def test_crash_timeout_and_dead_worker_give_rows_and_the_sweep_goes_on(tmp_path, items):
    out = tmp_path / "r.csv"
    berlin = resolve(["berlin52"])
    stats = run_sweep(items + berlin, ["savings", "sleepy", "dies", "nearest"], [0.2], [1], out,
                      factory=factory, workers=2, timeout_factor=1.0, grace_s=1.0)
    rows = {(r["instance"], r["solver"]): r for r in read_rows(out)}
    assert len(rows) == stats.written == 12
    # savings does not do tsp: the exception becomes an error row naming it.
    assert rows[("berlin52", "savings")]["status"] == "error"
    assert "UnsupportedVariant" in rows[("berlin52", "savings")]["error"]
    for it in items + berlin:
        assert rows[(it.name, "sleepy")]["status"] == "timeout"
        assert rows[(it.name, "sleepy")]["runtime_s"] < 10
        assert rows[(it.name, "dies")]["status"] == "error"
        assert "worker process died (exit code 3)" in rows[(it.name, "dies")]["error"]
        assert rows[(it.name, "nearest")]["status"] == "feasible"
    assert stats.wall_s < 20


def test_unsupported_pairs_are_left_out_when_variants_are_known(tmp_path, items):
    berlin = resolve(["berlin52"])
    supports = {"savings": solvers.spec("savings").variants}
    out = tmp_path / "r.csv"
    stats = run_sweep(items + berlin, ["savings"], [0.5], [1], out, factory=factory, workers=0,
                      supports=supports)
    assert stats.written == 2 and stats.unsupported == 1
    assert {r["instance"] for r in read_rows(out)} == {it.name for it in items}


def test_neural_names_run_batched_with_per_instance_time(tmp_path):
    many = resolve(["generated:cvrp:10:5:seed=2"])
    tasks = plan(many, ["am:fake", "nearest"], [1.0], [1])
    assert [len(t.items) for t in tasks] == [5, 1, 1, 1, 1, 1]
    # Anytime modes take the whole limit per instance: one task each, never a batch.
    anytime = plan(many, ["am:fake", "am:fake@eas"], [1.0], [1],
                   options={"am:fake": {"search": "ls"}, "am:fake@eas": {"search": "eas"}})
    assert [len(t.items) for t in anytime] == [1] * 10
    sampling = plan(many, ["am:fake"], [1.0], [1], options={"am:fake": {"decode": "sampling"}})
    assert [len(t.items) for t in sampling] == [1] * 5
    assert [len(t.items) for t in plan(many, ["am:fake"], [1.0], [1], options={"am:fake": {"search": "none"}})] == [5]
    _Batched.calls.clear()
    out = tmp_path / "r.csv"
    run_sweep(many, ["am:fake"], [1.0], [1], out, factory=factory, workers=0)
    assert _Batched.calls == [5]
    rows = read_rows(out)
    assert len(rows) == 5 and all(r["batch_size"] == 5 and r["feasible"] for r in rows)
    assert len({r["runtime_s"] for r in rows}) == 1  # batch time / batch size, the same for each


def test_primal_integral():
    # Optimal from t=0: zero. Never a solution: the whole horizon.
    assert primal_integral([(0.0, 100.0)], 100.0, 10.0) == 0.0
    assert primal_integral([], 100.0, 10.0) == 10.0
    # No solution for 2 s, then 25 % worse (gap 20/120... of max) until 6 s, then optimal.
    val = primal_integral([(2.0, 125.0), (6.0, 100.0)], 100.0, 10.0)
    assert val == pytest.approx(2.0 + 4.0 * (25.0 / 125.0))
    # Maximisation: 80 against 100 is a gap of 0.2.
    assert primal_integral([(0.0, 80.0)], 100.0, 1.0, sense="max") == pytest.approx(0.2)
    assert math.isfinite(primal_integral([(0.5, -3.0)], 2.0, 1.0))


def test_lines_are_single_physical_lines():
    row = {c: None for c in COLUMNS}
    row.update(instance="a,b", solver="nearest", time_limit=1.0, seed=1, status="error",
               error='boom\nline two "quoted", comma')
    line = format_line(row)
    assert line.count("\n") == 1 and line.endswith("\n")
    parsed = next(csv.reader([line[:-1]]))
    assert parsed[COLUMNS.index("error")] == 'boom line two "quoted", comma'


def test_results_file_appends_with_fsync(tmp_path):
    f = ResultsFile(tmp_path / "x.csv")
    assert f.open() == set()
    row = {c: None for c in COLUMNS}
    row.update(instance="i", solver="s", time_limit=2, seed=3, status="timeout")
    f.append(row)
    f.close()
    assert read_rows(tmp_path / "x.csv")[0]["time_limit"] == 2.0
    assert ResultsFile(tmp_path / "x.csv").open() == {("i", "s", "2", "3")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_ray_sweep_against_a_local_head(tmp_path):
    try:
        import ray  # noqa: F401
    except ImportError:
        pytest.skip("the ray extra is not installed (pip install 'vrp-toolkit[ray]')")
    ray_bin = shutil.which("ray")
    if ray_bin is None:
        pytest.skip("the ray extra is installed without its `ray` command")
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="vrpray")  # short: Ray's socket paths must fit in 107 bytes
    env = _env()
    env["RAY_AUTH_MODE"] = "disabled"  # a throw-away head on the loopback interface
    head = subprocess.Popen(
        ["timeout", "240", ray_bin, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
         "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats", "--block",
         f"--temp-dir={temp}"],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        out = tmp_path / "ray.csv"
        cmd = [sys.executable, "-m", "vrp.cli", "bench", "--instances", "generated:cvrp:12:2:seed=3",
               "--solvers", "nearest,savings", "--time-limits", "1", "--seeds", "1", "--out", str(out),
               "--ray", f"127.0.0.1:{port}", "--quiet"]
        up = time.time() + 90
        while time.time() < up:  # the head's GCS port opens a few seconds after start
            assert head.poll() is None, head.stderr.read().decode()[-2000:]
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=150)
        assert res.returncode == 0, res.stderr[-2000:]
        rows = read_rows(out)
        assert len(rows) == 4
        assert len({row_key(r) for r in rows}) == 4
        assert all(r["status"] == "feasible" for r in rows)
    finally:
        try:
            os.killpg(head.pid, signal.SIGTERM)
            head.wait(5)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
        try:
            os.killpg(head.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        head.wait(10)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.parametrize("args, message", [
    (["--solvers", "nearest,nosuch"], "unknown solver 'nosuch'"),
    (["--solvers", "nearest", "--time-limits", "0"], "--time-limits: must be positive"),
    (["--solvers", "nearest", "--instances", "generated:cvrp:x:3"], "bad generated spec"),
    (["--solvers", "nearest", "--instances", "nosuch_dataset"], "nosuch_dataset: no file, dataset name, group"),
    (["--solvers", "nearest", "--option", "nearest:bogus=1"], "unknown option 'bogus'"),
])
def test_bad_bench_arguments_are_one_line_exit_2(tmp_path, args, message):
    base = {"--instances": ["berlin52"], "--out": [str(tmp_path / "r.csv")]}
    for i in range(0, len(args), 2):
        base[args[i]] = [args[i + 1]]
    argv = [a for k, v in base.items() for a in (k, *v)]
    res = subprocess.run([sys.executable, "-m", "vrp.cli", "bench", *argv], env=_env(), capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and message in res.stderr, res.stderr
    assert not (tmp_path / "r.csv").exists()  # nothing written before the arguments are known good


def test_retry_failed_reruns_errors_and_the_report_keeps_the_latest(tmp_path):
    from vrp import report

    berlin = resolve(["berlin52"])
    out = tmp_path / "r.csv"
    run_sweep(berlin, ["savings", "nearest"], [0.5], [1], out, factory=factory, workers=0)
    assert [r["status"] for r in read_rows(out)] == ["error", "feasible"]
    again = run_sweep(berlin, ["savings", "nearest"], [0.5], [1], out, factory=factory, workers=0)
    assert again.written == 0
    retry = run_sweep(berlin, ["savings", "nearest"], [0.5], [1], out, factory=factory, workers=0,
                      retry_failed=True)
    assert retry.written == 1 and len(read_rows(out)) == 3
    latest = report.load(out)
    assert len(latest) == 2 and latest[-1]["_line"] == 4


def test_network_problems_bench_with_their_own_evaluator(tmp_path):
    from envs.network_generate import generate_flows_problem
    from vrp.network import write_problem

    path = tmp_path / "net.json"
    write_problem(path, generate_flows_problem("waxman", nodes=10, flows=20, seed=3))
    items = resolve([str(path)])
    assert items[0].family == "network" and items[0].bks is None
    out = tmp_path / "r.csv"
    run_sweep(items, ["greedy", "ilp"], [2], [1], out, factory=factory, workers=0)
    rows = {r["solver"]: r for r in read_rows(out)}
    assert rows["greedy"]["sense"] == "max" and rows["greedy"]["feasible"] and rows["ilp"]["feasible"]
    from vrp import report

    done = {r["solver"]: r for r in report.load(out)}
    best = max(done["greedy"]["objective"], done["ilp"]["objective"])
    assert done["ilp"]["objective"] == best  # priority-weighted admitted demand: more is better
    assert done["greedy"]["gap_pct"] == pytest.approx(100 * (best - done["greedy"]["objective"]) / best)
