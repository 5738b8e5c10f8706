"""A tiny real training run (rl4co AM, rollout baseline) and an exact resume."""

from __future__ import annotations

import argparse
import copy
import csv
import os
import shutil
import subprocess
import sys
import warnings

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("rl4co")

from envs.train import TrainConfig, train  # noqa: E402
from envs.train_cli import add_arguments, main, parse_duration  # noqa: E402

TINY = ["--problem", "tsp", "--size", "8", "--train-size", "192", "--batch-size", "64", "--val-size", "40",
        "--seed", "3", "--no-progress"]


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_tiny_run_then_exact_resume(tmp_path) -> None:
    out = tmp_path / "run"
    assert main([*TINY, "--epochs", "1", "--out", str(out)]) == 0
    rows = _rows(out / "metrics.csv")
    assert [r["epoch"] for r in rows] == ["0"] and int(rows[0]["samples"]) == 192
    assert float(rows[0]["val_cost"]) > 0
    for name in ("best.pt", "last.pt", "epoch-000.pt"):
        ck = torch.load(out / name, map_location="cpu", weights_only=True)
        assert ck["problem"] == "tsp" and ck["size"] == 8 and ck["model"] == "am"
        assert ck["samples_seen"] == 192 and ck["command"].startswith("vrp train --problem tsp --size 8")
        assert ck["normalisation"] and ck["wall_time_s"] > 0
    # a second run into the same folder without --resume is refused
    assert main([*TINY, "--epochs", "1", "--out", str(out)]) == 2

    saved = torch.load(out / "last.ckpt", map_location="cpu", weights_only=False)
    # A run killed after an epoch's CSV row but before Lightning wrote last.ckpt redoes that
    # epoch: its stale row must not stay.
    with open(out / "metrics.csv", "a") as fh:
        fh.write("1,384,-1,0,1,1,40,1,1,0.0001\n")
    seen: dict = {}

    from lightning.pytorch.callbacks import Callback

    class Probe(Callback):
        def on_train_start(self, trainer, pl_module):
            seen["epoch"] = trainer.current_epoch
            seen["weights"] = {k: v.clone() for k, v in pl_module.state_dict().items() if k.startswith("policy.")}
            seen["optim"] = copy.deepcopy(trainer.optimizers[0].state_dict())  # live tensors otherwise

    cfg = TrainConfig(problem="tsp", size=8, epochs=2, train_size=192, batch_size=64, val_size=40, seed=3,
                      out=str(out), resume=True, progress=False)
    train(cfg, callbacks=[Probe()])
    assert seen["epoch"] == 1 == saved["epoch"] + 1
    for k, v in seen["weights"].items():
        assert torch.equal(v, saved["state_dict"][k]), k
    opt_saved = saved["optimizer_states"][0]["state"]
    assert opt_saved and set(seen["optim"]["state"]) == set(opt_saved)
    for idx, st in opt_saved.items():
        for key, value in st.items():
            assert torch.equal(torch.as_tensor(seen["optim"]["state"][idx][key]), torch.as_tensor(value)), key
    rows = _rows(out / "metrics.csv")
    assert [r["epoch"] for r in rows] == ["0", "1"] and int(rows[1]["samples"]) == 384
    last = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
    assert last["epoch"] == 1 and last["samples_seen"] == 384
    assert last["lineage"] == [] and last["total_samples_seen"] == 384

    # --init from those weights: the new run's checkpoints name every stage behind them
    # (and its rollout baseline starts from those weights: no exponential warm-up epoch)
    out2 = tmp_path / "run2"
    warm: dict = {}

    class BaselineProbe(Callback):
        def on_train_start(self, trainer, pl_module):
            warm["alpha"] = pl_module.baseline.alpha
            warm["keys"] = set(pl_module.train_dataset[0].keys())

    cfg2 = TrainConfig(problem="tsp", size=8, epochs=1, train_size=192, batch_size=64, val_size=40, seed=3,
                       out=str(out2), init=str(out / "last.pt"), progress=False)
    train(cfg2, callbacks=[BaselineProbe()])
    assert warm["alpha"] == 1.0 and "extra" in warm["keys"]  # rollout baseline values precomputed
    ck = torch.load(out2 / "last.pt", map_location="cpu", weights_only=True)
    assert ck["init"] == str(out / "last.pt") and ck["init_samples_seen"] == 384
    (stage,) = ck["lineage"]
    assert stage["file"] == str(out / "last.pt") and stage["samples_seen"] == 384
    assert stage["commands"] == last["commands"] and len(stage["commands"]) == 2
    assert stage["wall_time_s"] == last["wall_time_s"]
    assert ck["samples_seen"] == 192 and ck["total_samples_seen"] == 384 + 192
    # resumed after its --init file was overwritten (by these very weights): the record stays;
    # and Lightning's "Checkpoint directory ... is not empty" is not shown (the folder is the run's own)
    shutil.copy(out2 / "last.pt", out / "last.pt")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main([*TINY, "--epochs", "2", "--out", str(out2), "--init", str(out / "last.pt"), "--resume"]) == 0
    assert not [w for w in caught if "is not empty" in str(w.message)]
    ck2 = torch.load(out2 / "last.pt", map_location="cpu", weights_only=True)
    assert ck2["lineage"] == ck["lineage"] and ck2["init_samples_seen"] == 384
    assert ck2["samples_seen"] == 384 and ck2["total_samples_seen"] == 384 + 384


@pytest.mark.slow
def test_resume_reproduces_an_uninterrupted_run(tmp_path) -> None:
    from lightning.pytorch.callbacks import Callback

    cfg = {"problem": "tsp", "size": 8, "epochs": 4, "train_size": 192, "batch_size": 64, "val_size": 40,
           "seed": 3, "progress": False}
    train(TrainConfig(**cfg, out=str(tmp_path / "whole")))

    class StopAfterEpoch1(Callback):  # like Ctrl-C there: rl4co has already drawn epoch 2's data
        def on_train_epoch_end(self, trainer, pl_module):
            if trainer.current_epoch == 1:
                trainer.should_stop = True

    train(TrainConfig(**cfg, out=str(tmp_path / "stopped")), callbacks=[StopAfterEpoch1()])
    train(TrainConfig(**{**cfg, "epochs": 2}, out=str(tmp_path / "ended")))  # its last epoch drew nothing

    class BetweenProbe(Callback):  # what the tracker holds when the resumed run starts
        def __init__(self):
            self.between = None

        def on_train_start(self, trainer, pl_module):
            self.between = [cb.between_s for cb in trainer.callbacks if hasattr(cb, "between_s")]

    for name in ("stopped", "ended"):
        assert len(_rows(tmp_path / name / "metrics.csv")) == 2
        saved = torch.load(tmp_path / name / "last.ckpt", map_location="cpu", weights_only=False)
        (between,) = [st["between_s"] for st in saved["callbacks"].values() if "between_s" in st]
        probe = BetweenProbe()
        train(TrainConfig(**cfg, out=str(tmp_path / name), resume=True), callbacks=[probe])
        # the time between epochs comes back with the run (the --max-time check after its first epoch uses it)
        assert between > 0 and probe.between == [between], name
        timing = ("epoch_s", "wall_s")
        strip = [{k: v for k, v in r.items() if k not in timing} for r in _rows(tmp_path / name / "metrics.csv")]
        assert strip == [{k: v for k, v in r.items() if k not in timing}
                         for r in _rows(tmp_path / "whole" / "metrics.csv")], name
        for epoch in range(4):
            a = torch.load(tmp_path / "whole" / f"epoch-{epoch:03d}.pt", weights_only=True)["state_dict"]
            b = torch.load(tmp_path / name / f"epoch-{epoch:03d}.pt", weights_only=True)["state_dict"]
            assert all(torch.equal(a[k], b[k]) for k in a), (name, epoch)


def test_max_time_stops_after_the_epoch_that_used_it(tmp_path, capsys) -> None:
    assert main([*TINY, "--epochs", "5", "--max-time", "0.01", "--out", str(tmp_path / "run")]) == 0
    assert [r["epoch"] for r in _rows(tmp_path / "run" / "metrics.csv")] == ["0"]
    assert "stopping:" in capsys.readouterr().out


def test_cli_options_and_durations() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--problem", "cvrp", "--size", "50", "--model", "pomo", "--out", "x",
                              "--devices", "2", "--num-nodes", "3", "--strategy", "ddp", "--max-time", "1h30m"])
    assert (args.model, args.devices, args.num_nodes, args.strategy) == ("pomo", "2", 3, "ddp")
    assert args.max_time == 5400.0
    assert parse_duration("01:00:05") == 3605.0 and parse_duration("90") == 90.0
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration("soon")


def test_bad_combinations_are_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="shared"):
        train(TrainConfig(problem="tsp", size=5, model="pomo", baseline="rollout", out=str(tmp_path / "a")))
    with pytest.raises(ValueError, match="supports"):
        train(TrainConfig(problem="flows", size=5, out=str(tmp_path / "b")))
    with pytest.raises(ValueError, match="atsp trains matnet"):
        train(TrainConfig(problem="atsp", size=5, model="am", out=str(tmp_path / "b")))
    with pytest.raises(ValueError, match="variants"):
        train(TrainConfig(problem="cvrp", size=5, variants=["ocvrp"], out=str(tmp_path / "b")))
    with pytest.raises(ValueError, match="variants"):
        train(TrainConfig(problem="mtvrp", size=5, variants=["op"], out=str(tmp_path / "b")))
    assert not (tmp_path / "b").exists()
    with pytest.raises(FileNotFoundError, match="resume"):
        train(TrainConfig(problem="tsp", size=5, resume=True, out=str(tmp_path / "c")))


def test_a_live_run_locks_its_directory(tmp_path) -> None:
    from envs.run_lock import LOCK_NAME, lock_run, release_run

    out = tmp_path / "run"
    out.mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / LOCK_NAME).write_text(f"{other.pid}\n")
        r = subprocess.run([sys.executable, "-m", "vrp.cli", "train", "--problem", "tsp", "--size", "5",
                            "--epochs", "1", "--train-size", "8", "--batch-size", "4", "--val-size", "4",
                            "--resume", "--out", str(out)], capture_output=True, text=True, timeout=300)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert f"in use by a running vrp train (pid {other.pid})" in r.stderr
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]  # nothing written
    finally:
        other.kill()
        other.wait()
    lock = lock_run(out)  # its process is gone: the stale lock is taken over
    assert lock is not None and lock.read_text().split() == [str(os.getpid())]
    assert lock_run(out) == lock  # this process's own lock (a resume in the same interpreter)
    release_run(lock)
    assert not lock.exists()


def test_bad_architecture_is_one_line_and_writes_nothing(tmp_path) -> None:
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "vrp.cli", "train", "--problem", "tsp", "--size", "10",
                        "--epochs", "1", "--train-size", "64", "--batch-size", "32", "--val-size", "16",
                        "--embed-dim", "32", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "embed_dim" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()
    with pytest.raises(ValueError, match="layers"):
        train(TrainConfig(problem="tsp", size=5, out=str(tmp_path / "d"), policy_kwargs={"num_encoder_layers": 0}))


@pytest.mark.slow
@pytest.mark.parametrize("problem", ["cvrp", "ocvrp", "vrptw", "mtvrp", "atsp", "op", "pctsp", "hcvrp"])
def test_every_problem_trains_one_tiny_epoch_and_resumes(tmp_path, problem: str) -> None:
    out = tmp_path / problem
    args = ["--problem", problem, "--size", "6", "--train-size", "64", "--batch-size", "32", "--val-size", "12",
            "--seed", "5", "--no-progress", "--out", str(out)]
    assert main([*args, "--epochs", "1"]) == 0
    assert main([*args, "--epochs", "2", "--resume"]) == 0
    rows = _rows(out / "metrics.csv")
    assert [r["epoch"] for r in rows] == ["0", "1"] and int(rows[1]["samples"]) == 128
    ck = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
    assert ck["problem"] == problem and ck["model"] == ("matnet" if problem == "atsp" else "am")
    # validation decodes as the solver does by default: MatNet from every start
    decode = "multistart" if problem == "atsp" else "greedy"
    assert [r["val_decode"] for r in rows] == [decode, decode] and ck["val"]["decode"] == decode
    assert ck["variants"] == (["cvrp", "ocvrp", "vrptw"] if problem == "mtvrp" else [problem])
    assert len(ck["commands"]) == 2 and "--resume" in ck["commands"][1]
    # the checkpoint solves instances of its variants as a solver
    import solvers
    from envs.generate import generate
    from vrp.evaluate import evaluate

    solver = solvers.get(f"{ck['model']}:{out / 'last.pt'}")
    for variant in ck["variants"]:
        inst = generate(variant, 6, seed=9)
        result = solver.solve(inst, time_limit=30, seed=0)
        if result.solution is not None:  # an untrained hcvrp policy may run out of vehicles: then no solution
            assert evaluate(inst, result.solution).feasible
        else:
            assert problem == "hcvrp" and result.status == "timeout"


def test_deepaco_tiny_epoch_then_resume(tmp_path) -> None:
    pytest.importorskip("torch_geometric")
    out = tmp_path / "deepaco"
    args = ["--model", "deepaco", "--problem", "tsp", "--size", "10", "--train-size", "8", "--batch-size", "4",
            "--val-size", "4", "--layers", "2", "--embed-dim", "16", "--seed", "5", "--no-progress", "--out", str(out)]
    assert main([*args, "--epochs", "1"]) == 0
    assert main([*args, "--epochs", "2", "--resume"]) == 0
    rows = _rows(out / "metrics.csv")
    assert [r["epoch"] for r in rows] == ["0", "1"] and int(rows[1]["samples"]) == 16
    assert all(float(r["val_cost"]) > 0 for r in rows)
    last = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
    assert last["model"] == "deepaco" and last["baseline"] == "shared" and last["samples_seen"] == 16
    assert last["policy_kwargs"]["num_layers_graph_encoder"] == 2 and last["policy_kwargs"]["embed_dim"] == 16
    assert len(last["commands"]) == 2 and "--model deepaco" in last["commands"][0] and "--resume" in last["commands"][1]
    # DeepACO trains tsp and cvrp only, with its own shared baseline
    assert main([*args[:2], "--problem", "op", *args[4:], "--epochs", "1"]) == 2
    assert main([*args, "--epochs", "1", "--baseline", "rollout"]) == 2


def test_multistart_validation_is_never_worse_than_greedy() -> None:
    from envs.rl4co_gen import make_env
    from envs.train import decode_costs, fixed_set
    from solvers.neural.checkpoints import checkpoint_dir, load_policy

    # am-tsp20 decodes deterministically: every start is tried, the greedy rollout's own among them
    policy, _ = load_policy(str(checkpoint_dir() / "am-tsp20.pt"))
    env = make_env("tsp", 20)
    instances = fixed_set("tsp", 20, "val", 12)
    greedy = decode_costs(policy, env, instances, problem="tsp")
    # batches of 5 instances x 20 starts: the chunking is exercised too
    best = decode_costs(policy, env, instances, batch_size=5, problem="tsp", decode="multistart")
    assert len(best) == len(greedy) == 12
    assert all(b <= g * (1 + 1e-6) for b, g in zip(best, greedy)) and sum(best) < sum(greedy)
    with pytest.raises(ValueError, match="decode"):
        decode_costs(policy, env, instances, problem="tsp", decode="sampling")
    # MatNet draws its column embeddings at random on every pass: compared on the mean
    policy, _ = load_policy(str(checkpoint_dir() / "matnet-atsp20.pt"))
    instances = fixed_set("atsp", 20, "val", 12)
    env = make_env("atsp", 20)
    greedy = decode_costs(policy, env, instances, problem="atsp")
    best = decode_costs(policy, env, instances, problem="atsp", decode="multistart")
    assert sum(best) < sum(greedy)
    # decoded under a fixed random state, which the caller's stream does not feel
    torch.manual_seed(5)
    before = torch.rand(3)
    torch.manual_seed(5)
    again = decode_costs(policy, env, instances, problem="atsp", decode="multistart")
    assert again == best and torch.equal(torch.rand(3), before)


def test_old_metrics_csv_gains_the_new_column(tmp_path) -> None:
    from envs.train import CSV_FIELDS, _widen_csv

    path = tmp_path / "metrics.csv"
    path.write_text(",".join(CSV_FIELDS[:-1]) + "\n0,64,-1,0,5.0,3.0,12,1,1,0.0001\n")
    _widen_csv(path)
    rows = _rows(path)
    assert list(rows[0]) == CSV_FIELDS and rows[0]["val_cost"] == "5.0" and rows[0]["val_decode"] == ""
    before = path.read_text()
    _widen_csv(path)  # already current: unchanged
    assert path.read_text() == before


def test_resume_rechooses_best_when_validation_decodes_otherwise(tmp_path, capsys) -> None:
    import math

    from envs.train import _tracker_class

    def tracker(model: str):
        return _tracker_class()(TrainConfig(problem="atsp", model=model, out=str(tmp_path)), {}, [], None)

    old = {"samples": 64, "wall": 1.0, "best": 5.0}  # written before best_decode existed: greedy
    t = tracker("matnet")
    t.load_state_dict(dict(old))
    assert math.isinf(t.best) and "best.pt is chosen afresh" in capsys.readouterr().out
    t = tracker("matnet")
    t.load_state_dict({**old, "best_decode": "multistart"})
    assert t.best == 5.0
    t = tracker("am")
    t.load_state_dict(dict(old))
    assert t.best == 5.0
