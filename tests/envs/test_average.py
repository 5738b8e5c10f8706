"""``vrp average``: weight averaging of a run's epoch checkpoints (real policies, real validation)."""

from __future__ import annotations

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("rl4co")

import solvers  # noqa: E402
from envs.average import average_run  # noqa: E402
from solvers.neural import checkpoint_dir  # noqa: E402
from vrp.cli import main  # noqa: E402
from vrp.evaluate import evaluate  # noqa: E402
from vrp.io import read  # noqa: E402


def _shipped(name: str) -> dict:
    return torch.load(checkpoint_dir() / f"{name}.pt", map_location="cpu", weights_only=True)


def _run_dir(tmp_path, epochs: dict[int, dict]):
    run = tmp_path / "run"
    run.mkdir()
    for epoch, blob in epochs.items():
        torch.save(blob, run / f"epoch-{epoch:03d}.pt")
    return run


def _perturbed(blob: dict, seed: int, epoch: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    state = {k: (v * (1 + 0.01 * torch.randn(v.shape, generator=gen)) if torch.is_floating_point(v) else v + seed)
             for k, v in blob["state_dict"].items()}
    return {**blob, "state_dict": state, "epoch": epoch, "samples_seen": 1000 * (epoch + 1),
            "val": {**blob["val"], "cost": 100.0 + epoch}}


def _cli(*args: str):
    return subprocess.run([sys.executable, "-m", "vrp.cli", "average", *args], capture_output=True, text=True,
                          timeout=300)


def test_the_average_is_the_mean_and_solves_a_real_file(tmp_path) -> None:
    base = _shipped("am-tsp20")
    run = _run_dir(tmp_path, {e: _perturbed(base, e + 1, e) for e in range(4)})
    path, meta = average_run(run, epochs="1-3", val_size=50, command="vrp average run --epochs 1-3")
    assert path == run / "average.pt"
    blob = torch.load(path, map_location="cpu", weights_only=True)
    parts = [torch.load(run / f"epoch-{e:03d}.pt", weights_only=True)["state_dict"] for e in (1, 2, 3)]
    for key, value in blob["state_dict"].items():
        if torch.is_floating_point(value):
            assert torch.allclose(value, sum(p[key] for p in parts) / 3, atol=1e-6), key
        else:
            assert torch.equal(value, parts[-1][key]), key  # step counters: the newest epoch's
    assert blob["averaged"]["epochs"] == [1, 2, 3] and blob["averaged"]["val_costs"] == [101.0, 102.0, 103.0]
    assert blob["commands"] == [*base["commands"], "vrp average run --epochs 1-3"]
    assert blob["samples_seen"] == 4000 and blob["problem"] == "tsp" and blob["size"] == 20
    assert blob["val"]["instances"] == 50 and blob["val"]["cost"] > 0
    result = solvers.get(f"am:{path}").solve(read("ulysses22"), time_limit=60, seed=0)
    assert evaluate(read("ulysses22"), result.solution).feasible


@pytest.mark.slow
def test_averaging_copies_reproduces_the_training_validation(tmp_path) -> None:
    # The shipped am-tsp20 stored the validation cost its training run measured; the mean of
    # three copies of it is the same policy, so vrp average must measure the same cost.
    base = _shipped("am-tsp20")
    run = _run_dir(tmp_path, {e: base for e in (5, 6, 7)})
    r = _cli(str(run), "--last", "3", "--out", str(tmp_path / "avg.pt"))
    assert r.returncode == 0, r.stderr
    blob = torch.load(tmp_path / "avg.pt", map_location="cpu", weights_only=True)
    assert blob["val"]["instances"] == base["val"]["instances"] == 1000
    assert blob["val"]["cost"] == pytest.approx(base["val"]["cost"], rel=1e-5)
    assert blob["commands"][-1] == f"vrp average {run} --last 3 --out {tmp_path / 'avg.pt'}"
    assert "average of 3 epochs" in r.stdout


def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys) -> None:
    base = _shipped("am-tsp20")
    run = _run_dir(tmp_path, {0: base, 1: _shipped("am-tsp50")})
    out = tmp_path / "avg.pt"
    cases = [
        ([str(tmp_path / "missing")], "not a directory"),
        ([str(tmp_path), "--out", str(out)], "no epoch-NNN.pt"),
        ([str(run), "--epochs", "3-1", "--out", str(out)], "A <= B"),
        ([str(run), "--epochs", "0-4", "--out", str(out)], "no checkpoint for epoch 2"),
        ([str(run), "--last", "0", "--out", str(out)], "at least 1"),
        ([str(run), "--out", str(out)], "differ in size"),
        ([str(run), "--last", "1", "--out", str(tmp_path / "no" / "avg.pt")], "does not exist"),
    ]
    for args, message in cases:
        assert main(["average", *args]) == 2, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
        assert not out.exists() and not (run / "average.pt").exists()
    out.write_bytes(b"keep")
    assert main(["average", str(run), "--last", "1", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and out.read_bytes() == b"keep"
    r = _cli(str(run), "--out", str(out))  # the installed entry point: no traceback either
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
