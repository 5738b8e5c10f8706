"""``aco --option heatmap=deepaco:...``: a DeepACO network's heatmap as the colony's prior."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("rl4co")
pytest.importorskip("torch_geometric")

import solvers  # noqa: E402
from envs.generate import generate  # noqa: E402
from solvers.neural.checkpoints import checkpoint_dir  # noqa: E402
from vrp import data  # noqa: E402
from vrp.evaluate import evaluate  # noqa: E402
from vrp.io import read  # noqa: E402
from vrp.model import Instance  # noqa: E402
from vrp.result import SolverError  # noqa: E402

SHIPPED = sorted(checkpoint_dir().glob("deepaco-*.pt"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, str]:
    """One tiny epoch of a tsp and a cvrp heatmap network (a few seconds): problem -> best.pt."""
    from envs.train_cli import main

    out = {}
    for problem in ("tsp", "cvrp"):
        run = tmp_path_factory.mktemp(f"deepaco-{problem}")
        assert main(["--model", "deepaco", "--problem", problem, "--size", "10", "--epochs", "1", "--train-size",
                     "8", "--batch-size", "4", "--val-size", "4", "--layers", "2", "--embed-dim", "16",
                     "--out", str(run), "--no-progress"]) == 0
        out[problem] = str(run / "best.pt")
    return out


@pytest.mark.parametrize("problem", ["tsp", "cvrp"])
def test_heatmap_feasible_deterministic_and_in_node_order(tiny: dict[str, str], problem: str) -> None:
    inst = generate(problem, 15, seed=4)
    opts = {"heatmap": f"deepaco:{tiny[problem]}", "max_iterations": 5}
    a_solver = solvers.get("aco", options=opts)
    a_solver.warmup()
    a = a_solver.solve(inst, time_limit=60, seed=2)
    b = solvers.get("aco", options=opts).solve(inst, time_limit=60, seed=2)
    assert a.solution is not None and evaluate(inst, a.solution).feasible
    assert a.solution.routes == b.solution.routes
    assert a.info["iterations"] == 5 and a.info["heatmap_s"] >= 0
    h = a_solver.network(inst)
    assert h.shape == (inst.n, inst.n) and np.isfinite(h).all() and (h >= 0).all() and not np.diag(h).any()
    # the network reads the instance's own node order: relabelling the nodes permutes the heatmap
    perm = np.r_[0, np.arange(inst.n - 1, 0, -1)]
    moved = inst.replace(coords=inst.coords[perm], name=inst.name + "-perm",
                         **({"demands": inst.demands[perm]} if problem == "cvrp" else {}))
    assert np.allclose(a_solver.network(moved), h[np.ix_(perm, perm)], atol=1e-5)


def test_bad_heatmaps_are_refused_before_any_work(tiny: dict[str, str]) -> None:
    for bad, match in [("deepaco:tsp999", "no shipped deepaco-tsp999.pt"), ("bogus", "expected deepaco:"),
                       ("deepaco:no/such/file.pt", "no such file")]:
        with pytest.raises(SolverError, match=match):
            solvers.get("aco", options={"heatmap": bad})
    am = sorted(checkpoint_dir().glob("am-tsp*.pt"))[0]
    with pytest.raises(SolverError, match="not a deepaco heatmap"):
        solvers.get("aco", options={"heatmap": str(am)}).check(generate("tsp", 10, seed=0))
    tsp = solvers.get("aco", options={"heatmap": tiny["tsp"]})  # a bare path is taken too
    with pytest.raises(SolverError, match="trained on tsp"):
        tsp.check(generate("cvrp", 10, seed=0))
    ulysses = read("ulysses22")
    matrix = Instance(name="ulysses22-matrix", distances=np.array(ulysses.distances))
    assert matrix.variant == "tsp"
    with pytest.raises(SolverError, match="only a distance matrix"):
        tsp.check(matrix)


def test_cli_bad_heatmap_is_one_line_exit_2(tiny: dict[str, str]) -> None:
    for heat in ("deepaco:tsp999", f"deepaco:{tiny['cvrp']}"):
        r = subprocess.run([sys.executable, "-m", "vrp.cli", "solve", str(data.find("ulysses22")), "--solver", "aco", "--option",
                            f"heatmap={heat}", "--time-limit", "1"], capture_output=True, text=True, timeout=300)
        assert r.returncode == 2, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "heatmap" in r.stderr
        assert "warm-up" not in r.stderr  # refused before the warm-up


def test_heatmap_checkpoints(tiny: dict[str, str]) -> None:
    """Every shipped heatmap (none yet: see the README) and a freshly trained one of each problem
    keep their record and solve, deterministically under an iteration limit."""
    import torch

    runs = [(p, f"deepaco:{p.stem.removeprefix('deepaco-')}") for p in SHIPPED]
    runs += [(Path(path), f"deepaco:{path}") for path in tiny.values()]
    for path, name in runs:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        for key in ("problem", "size", "model", "normalisation", "command", "samples_seen", "wall_time_s"):
            assert key in blob, (path, key)
        assert blob["model"] == "deepaco" and path.stat().st_size < 20_000_000
        if path in SHIPPED:
            assert path.stem == f"deepaco-{blob['problem']}{blob['size']}"
        inst = read("kroA100") if blob["problem"] == "tsp" else read("X-n101-k25")
        opts = {"heatmap": name, "max_iterations": 3}
        solver = solvers.get("aco", options=opts)
        solver.warmup()
        a = solver.solve(inst, time_limit=60, seed=1)
        b = solvers.get("aco", options=opts).solve(inst, time_limit=60, seed=1)
        assert evaluate(inst, a.solution).feasible and a.solution.routes == b.solution.routes
