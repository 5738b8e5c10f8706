"""The neural solvers on the shipped checkpoints: load, feasible on real files, deterministic,
better than ``nearest``, clear errors on a mismatch."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("rl4co")

import solvers  # noqa: E402
from envs.generate import generate, generate_many  # noqa: E402
from solvers.neural import checkpoint_dir, load_policy  # noqa: E402
from vrp.evaluate import evaluate  # noqa: E402
from vrp.io import read  # noqa: E402
from vrp.model import Instance  # noqa: E402
from vrp.result import SolverError, UnsupportedVariant  # noqa: E402

#: the neural solvers' checkpoints (deepaco-*.pt are aco's heatmaps: tests/solvers/test_aco_heatmap.py)
SHIPPED = sorted(p for p in checkpoint_dir().glob("*.pt") if not p.stem.startswith("deepaco-"))
#: a real file per problem where one is shipped (the rest: generated instances only)
#: (the size-20 vrptw policies need more than C101's 25 vehicles there: datasets/checkpoints/README.md)
REAL = {"tsp": "berlin52", "cvrp": "A-n32-k5", "vrptw": "R101", "mtvrp": "R101", "atsp": "ftv33"}


def test_checkpoints_are_shipped() -> None:
    stems = {p.stem for p in SHIPPED}
    assert {"am-tsp20", "am-cvrp20", "am-tsp50", "am-cvrp50", "pomo-tsp50"} <= stems, stems


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_checkpoint(path: Path) -> None:
    import torch

    blob = torch.load(path, map_location="cpu", weights_only=True)  # must not need pickled classes
    for key in ("problem", "size", "model", "normalisation", "command", "samples_seen", "wall_time_s"):
        assert key in blob, key
    assert path.stat().st_size < 20_000_000
    model, rest = path.stem.split("-", 1)
    assert rest == f"{blob['problem']}{blob['size']}" and model == blob["model"]

    solver = solvers.get(f"{model}:{rest}")
    solver.warmup()
    variants = blob.get("variants") or [blob["problem"]]
    if blob["problem"] in REAL:
        inst = read(REAL[blob["problem"]])
        a = solver.solve(inst, time_limit=10, seed=0)
        assert evaluate(inst, a.solution).feasible
        b = solvers.get(f"{model}:{rest}").solve(inst, time_limit=10, seed=0)
        assert a.solution.routes == b.solution.routes  # greedy / multistart are deterministic

    # feasible on 100 seeded instances of each variant and size, and better than nearest
    # there (more prize for op), otherwise it is not shipped
    near = solvers.get("nearest")
    for variant in variants:
        insts = generate_many(variant, int(blob["size"]), 100, seed=77)
        neural = solver.solve_batch(insts, time_limit=60, seed=0)
        assert all(r.solution is not None and evaluate(i, r.solution).feasible for i, r in zip(insts, neural))
        # MatNet draws its one-hot column embeddings at random for the whole batch (seeded): the
        # same batch gives the same routes, a different batch composition may not
        k = len(insts) if model == "matnet" else 10
        again = solvers.get(f"{model}:{rest}").solve_batch(insts[:k], time_limit=60, seed=0)
        assert [r.solution.routes for r in again] == [r.solution.routes for r in neural[:k]]
        ours = sum(evaluate(i, r.solution).objective for i, r in zip(insts, neural))
        theirs = sum(evaluate(i, near.solve(i, time_limit=10).solution).objective for i in insts)
        better = ours > theirs if insts[0].sense == "max" else ours < theirs
        assert better, (path.stem, variant, ours / theirs)


def test_mismatch_is_a_clear_error(tmp_path) -> None:
    solver = solvers.get("am:tsp20")
    assert solver.variants == {"tsp"}
    with pytest.raises(UnsupportedVariant, match="supports: tsp"):
        solver.solve(generate("cvrp", 10, seed=1), time_limit=5)
    with pytest.raises(UnsupportedVariant, match="vrptw"):
        solver.solve(generate("vrptw", 10, seed=1), time_limit=5)
    # a checkpoint given by path is known by what it holds, once loaded
    path = tmp_path / "mine.pt"
    path.write_bytes((checkpoint_dir() / "am-tsp20.pt").read_bytes())
    with pytest.raises(UnsupportedVariant, match="trained on 'tsp'"):
        solvers.get(f"am:{path}").solve(generate("cvrp", 10, seed=1), time_limit=5)
    with pytest.raises(SolverError, match="shipped"):
        solvers.get("am:tsp999")
    with pytest.raises(SolverError, match="augment"):
        solvers.get("am:tsp20", options={"augment": "3"})
    # am:N names the sizes that exist for a variant that has none of that size
    with pytest.raises(UnsupportedVariant, match=r"no shipped size-100 checkpoint for variant 'pctsp' \(pctsp: "):
        solvers.get("am:100").solve(generate("pctsp", 10, seed=1), time_limit=5)
    # a coordinate policy on a matrix-only instance: one line, before any work
    matrix_only = Instance(name="m", distances=generate("tsp", 6, seed=0).distances)
    with pytest.raises(SolverError, match="coords"):
        solvers.get("am:tsp20").solve(matrix_only, time_limit=5)
    # MatNet's one-hot columns bound the instance size
    with pytest.raises(SolverError, match="embeds at most 128 nodes"):
        solvers.get("matnet:atsp20").solve(generate("atsp", 200, seed=1), time_limit=5)


@pytest.mark.parametrize("options", [
    {"decode": "greedy", "augment": "8"},
    {"decode": "sampling", "samples": "8"},
    {"decode": "sampling", "samples": "4", "augment": "8"},
    {"decode": "multistart"},
    {"decode": "multistart", "augment": "8"},
])
@pytest.mark.parametrize("variant", ["tsp", "cvrp"])
def test_decodings_feasible_and_no_worse_than_greedy(options: dict, variant: str) -> None:
    insts = [generate(variant, 23, distribution="clustered", seed=s) for s in range(4)]
    greedy = solvers.get("am:20").solve_batch(insts, time_limit=30, seed=0)
    other = solvers.get("am:20", options=options).solve_batch(insts, time_limit=30, seed=3)
    for inst, g, o in zip(insts, greedy, other):
        so = evaluate(inst, o.solution)
        assert so.feasible
        # every mode's pool holds the plain greedy rollout (identity symmetry; sampling adds the greedy
        # rollouts; multistart starts from the greedy first node too): never worse, up to float32 noise
        assert so.objective <= evaluate(inst, g.solution).objective * (1 + 1e-5)
    again = solvers.get("am:20", options=options).solve_batch(insts, time_limit=30, seed=3)
    assert [r.solution.routes for r in again] == [r.solution.routes for r in other]


def test_solve_batch_groups_sizes_and_splits_time() -> None:
    insts = [generate("tsp", n, seed=s) for n in (12, 30) for s in range(3)] + [generate("cvrp", 12, seed=1)]
    results = solvers.get("am:20").solve_batch(insts, time_limit=30, seed=0)
    assert [r.info["batch"] for r in results] == [3, 3, 3, 3, 3, 3, 1]
    assert len({r.runtime for r in results[:3]}) == 1  # one group: batch time / batch size
    assert all(evaluate(i, r.solution).feasible for i, r in zip(insts, results))


def test_checkpoint_paths_resolve() -> None:
    path = checkpoint_dir() / "am-tsp20.pt"
    by_path = solvers.get(f"am:{path}")
    assert by_path.paths[None] == path
    _, meta = load_policy(str(path))
    assert meta["problem"] == "tsp"


@pytest.mark.parametrize(("name", "variant"), [("am:20", "tsp"), ("am:20", "cvrp"), ("am:cvrp50", "cvrp")])
def test_search_ls_feasible_no_worse_than_greedy_deterministic(name: str, variant: str) -> None:
    from tests.timing import slack, within

    inst = generate(variant, 40, distribution="clustered", seed=5)
    greedy = solvers.get(name).solve(inst, time_limit=30, seed=0)
    opts = {"search": "ls", "samples": "4", "augment": "8", "max_iterations": "3"}
    ls = solvers.get(name, options=opts)
    ls.warmup()
    a = ls.solve(inst, time_limit=60, seed=2)
    score = evaluate(inst, a.solution)
    assert score.feasible
    assert score.objective <= evaluate(inst, greedy.solution).objective + 1e-6
    assert a.info["rounds"] == 3 and a.info["polished"] >= 1
    assert a.trace and abs(a.trace[-1][1] - score.objective) < 1e-6  # the trace ends at what is returned
    b = solvers.get(name, options=opts).solve(inst, time_limit=60, seed=2)
    assert a.solution.routes == b.solution.routes
    # without an iteration limit it searches until (and returns within) the time limit
    timed = solvers.get(name, options={"search": "ls"})
    r = within(slack(1.0), lambda: timed.solve(inst, time_limit=1.0, seed=0), f"{name} search=ls")
    assert r.runtime <= slack(1.0) and evaluate(inst, r.solution).feasible


def test_search_ls_rejects_what_the_local_search_cannot_take() -> None:
    solver = solvers.get("am:20", options={"search": "ls"})
    assert "op" not in solver.variants and "tsp" in solver.variants
    with pytest.raises(UnsupportedVariant, match="search=ls: the local search does not take variant 'op'"):
        solver.solve_batch([generate("op", 10, seed=1)], time_limit=5)
    with pytest.raises(SolverError, match="search: must be one of"):
        solvers.get("am:20", options={"search": "eas2"})
