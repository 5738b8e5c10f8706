"""The neural solvers on the shipped checkpoints: load, feasible on real files, deterministic,
better than ``nearest``, clear errors on a mismatch."""

from __future__ import annotations

import dataclasses
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
    with pytest.raises(UnsupportedVariant, match=r"no shipped size-50 checkpoint for variant 'pctsp' \(pctsp: sizes 20\)"):
        solvers.get("am:50").solve(generate("pctsp", 10, seed=1), time_limit=5)
    with pytest.raises(SolverError, match="no shipped am checkpoint of size 100"):
        solvers.get("am:100")
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
    # (3 s: the first greedy decode and its polish must fit even on a loaded 2-core machine)
    r = within(slack(3.0), lambda: timed.solve(inst, time_limit=3.0, seed=0), f"{name} search=ls")
    assert r.runtime <= slack(3.0) and evaluate(inst, r.solution).feasible


def test_search_ls_rejects_what_the_local_search_cannot_take() -> None:
    solver = solvers.get("am:20", options={"search": "ls"})
    assert "op" not in solver.variants and "tsp" in solver.variants
    with pytest.raises(UnsupportedVariant, match="search=ls: the local search does not take variant 'op'"):
        solver.solve_batch([generate("op", 10, seed=1)], time_limit=5)
    with pytest.raises(SolverError, match="search: must be one of"):
        solvers.get("am:20", options={"search": "eas2"})


@pytest.mark.parametrize("variant", ["tsp", "cvrp"])
def test_decomposition_beyond_twice_the_training_size(variant: str) -> None:
    # 120 nodes for a size-20 policy: decomposed (tsp: parts merged; cvrp, under a search: territories)
    inst = generate(variant, 120, distribution="clustered", seed=4)
    opts = {} if variant == "tsp" else {"search": "ls", "max_iterations": "1"}
    auto = solvers.get("am:20", options=opts).solve(inst, time_limit=30, seed=0)
    assert evaluate(inst, auto.solution).feasible
    assert auto.info["decompose"] == ("parts" if variant == "tsp" else "territories")
    if variant == "tsp":
        assert auto.info["parts"] >= 6 and auto.info["fallback_parts"] == 0
    again = solvers.get("am:20", options=opts).solve(inst, time_limit=30, seed=0)
    assert again.solution.routes == auto.solution.routes  # deterministic (greedy; ls under max_iterations)
    whole = solvers.get("am:20", options={**opts, "decompose": "off"}).solve(inst, time_limit=30, seed=0)
    assert "decompose" not in whole.info and evaluate(inst, whole.solution).feasible
    # within twice the training size nothing is decomposed
    small = generate(variant, 40, seed=4)
    assert "decompose" not in solvers.get("am:20", options=opts).solve(small, time_limit=30, seed=0).info
    if variant != "cvrp":  # search=ls polishes the merged tour: never worse than the greedy parts
        ls = solvers.get("am:20", options={"search": "ls", "max_iterations": "2"}).solve(inst, time_limit=30, seed=0)
        assert ls.info["rounds"] == 2
        assert evaluate(inst, ls.solution).objective <= evaluate(inst, auto.solution).objective + 1e-6


@pytest.mark.parametrize("variant", ["cvrp", "ocvrp"])
def test_plain_decoding_far_beyond_the_training_size_goes_by_sectors(variant: str) -> None:
    from solvers.neural.decompose import SECTOR_ROTATIONS

    inst = generate(variant, 120, distribution="clustered", seed=4)  # 6 x a size-20 policy
    runs = [solvers.get("am:20").solve(inst, time_limit=60, seed=0) for _ in range(2)]
    info = runs[0].info
    assert info["decompose"] == "sectors" and info["part_size"] == 40 and info["parts"] == 3
    assert info["rotations"] == SECTOR_ROTATIONS  # every rotation fits in 60 s
    score = evaluate(inst, runs[0].solution)  # every customer once, every route within the capacity
    assert score.feasible and runs[0].trace[-1][1] == score.objective
    assert runs[0].solution.routes == runs[1].solution.routes  # deterministic
    assert info["giant_tours"] == SECTOR_ROTATIONS  # am:tsp20's tours of every node, split into routes
    assert info["revised"] == 2 * SECTOR_ROTATIONS  # every decoding's routes re-toured by am:tsp20
    plain = solvers.get("am:20", options={"revise": "off"}).solve(inst, time_limit=60, seed=0)
    assert "revised" not in plain.info and "giant_tours" not in plain.info
    assert evaluate(inst, plain.solution).feasible
    assert score.objective <= evaluate(inst, plain.solution).objective  # a route keeps the shorter order
    smaller = solvers.get("am:20", options={"part_size": "30"}).solve(inst, time_limit=60, seed=0)
    assert smaller.info["parts"] == 4 and evaluate(inst, smaller.solution).feasible
    # a fleet limit is not cut into sectors (they cannot share it): decoded whole
    limited = dataclasses.replace(inst, num_vehicles=40)
    assert "decompose" not in solvers.get("am:20").solve(limited, time_limit=60, seed=0).info


@pytest.mark.parametrize("variant", ["cvrp", "ocvrp"])
def test_a_giant_tour_is_split_optimally_into_routes_within_the_capacity(variant: str) -> None:
    import numpy as np

    from solvers.neural.decompose import SPLIT_STARTS, split_tour

    inst = generate(variant, SPLIT_STARTS - 2, seed=9)  # fewer customers than start points: every start tried
    d, dem, cap, depot = inst.distances, np.asarray(inst.demands, float), float(inst.capacity), inst.depot
    tour = [int(v) for v in np.random.default_rng(3).permutation(inst.n)]  # the depot anywhere in it
    cycle = [v for v in tour if v != depot]

    def route_cost(seg: list[int]) -> float:  # the textbook Split's arc cost, written out here
        walk = [depot, *seg] if inst.open_routes else [depot, *seg, depot]
        return float(sum(d[a, b] for a, b in zip(walk, walk[1:])))

    def best_split(seq: list[int]) -> float:
        best = [0.0] + [float("inf")] * len(seq)
        for i in range(len(seq)):
            for j in range(i + 1, len(seq) + 1):
                if dem[seq[i:j]].sum() > cap + 1e-9:
                    break
                best[j] = min(best[j], best[i] + route_cost(seq[i:j]))
        return best[-1]

    expected = min(best_split(way[k:] + way[:k]) for way in (cycle, cycle[::-1]) for k in range(len(cycle)))
    split = split_tour(inst, tour)
    score = evaluate(inst, split)
    assert score.feasible  # every customer once, every route within the capacity
    assert score.objective == pytest.approx(expected)
    # the routes are consecutive pieces of the cycle, in one direction or the other
    pieces = [v for r in split.routes for v in r]
    k = cycle.index(pieces[0])
    assert pieces in (cycle[k:] + cycle[:k], (cycle[k::-1] + cycle[:k:-1]))


@pytest.mark.parametrize("variant", ["cvrp", "ocvrp"])
def test_route_revision_keeps_every_routes_customers_and_shortens_scrambled_routes(variant: str) -> None:
    import numpy as np

    from solvers.neural.decompose import revise_routes
    from vrp.model import Solution

    inst = dataclasses.replace(generate(variant, 60, seed=8), capacity=1e6)  # any split is feasible
    rng = np.random.default_rng(0)
    cust = [int(c) for c in rng.permutation(inst.customers)]
    scrambled = Solution([cust[k:k + 10] for k in range(0, 60, 10)])  # six routes in a random order
    assert evaluate(inst, scrambled).feasible
    tsp = solvers.get("am:tsp20", options={"decompose": "off"})

    def decode(subs: list, left: float) -> list:
        return [r.solution for r in tsp.solve_batch(subs, time_limit=60, seed=0)]

    revised = revise_routes(inst, scrambled, decode, 60.0)
    assert [sorted(r) for r in revised.routes] == [sorted(r) for r in scrambled.routes]
    d = inst.distances

    def length(route: list[int]) -> float:
        tour = [inst.depot, *route] if inst.open_routes else [inst.depot, *route, inst.depot]
        return float(sum(d[a, b] for a, b in zip(tour, tour[1:])))

    assert all(length(new) <= length(old) + 1e-9 for new, old in zip(revised.routes, scrambled.routes))
    assert evaluate(inst, revised).objective < 0.8 * evaluate(inst, scrambled).objective


@pytest.mark.parametrize("part_augment", ["1", "8"])
def test_eas_on_territories_is_deterministic_under_an_iteration_limit(part_augment: str) -> None:
    inst = generate("cvrp", 120, distribution="clustered", seed=4)  # > 3 x 20: territories under eas
    opts = {"search": "eas", "max_iterations": "2", "part_augment": part_augment}
    runs = [solvers.get("am:20", options=opts).solve(inst, time_limit=60, seed=0) for _ in range(2)]
    assert runs[0].info["decompose"] == "territories" and runs[0].info["territories"] >= 3
    assert evaluate(inst, runs[0].solution).feasible
    assert runs[0].solution.routes == runs[1].solution.routes


def test_decomposed_tsp_beats_the_whole_policy_far_beyond_its_size() -> None:
    inst = generate("tsp", 400, seed=9)
    parts = solvers.get("am:20").solve(inst, time_limit=30, seed=0)
    whole = solvers.get("am:20", options={"decompose": "off"}).solve(inst, time_limit=30, seed=0)
    assert evaluate(inst, parts.solution).objective < evaluate(inst, whole.solution).objective


def test_decomposed_eas_holds_the_greedy_parts_at_once() -> None:
    inst = generate("tsp", 130, seed=6)  # 6.5 x a size-20 policy: parts under search=eas
    opts = {"search": "eas", "max_iterations": "2"}
    r = solvers.get("am:20", options=opts).solve(inst, time_limit=30, seed=0)
    greedy = solvers.get("am:20").solve(inst, time_limit=30, seed=0)  # the same parts, decoded greedily
    assert r.info["decompose"] == "parts" and len(r.trace) >= 1
    first_t, first_v = r.trace[0]
    assert first_v == evaluate(inst, greedy.solution).objective  # the incumbent within a forward pass
    assert evaluate(inst, r.solution).objective == r.trace[-1][1] <= first_v
    again = solvers.get("am:20", options=opts).solve(inst, time_limit=30, seed=0)
    assert again.solution.routes == r.solution.routes


def test_decomposition_threshold_grows_with_the_search() -> None:
    from solvers.neural.decompose import wants_decomposition

    inst = generate("tsp", 70, seed=3)  # 3.5 x a size-20 policy
    assert wants_decomposition(inst, 20, "auto", "none") and wants_decomposition(inst, 20, "auto", "eas")
    assert not wants_decomposition(inst, 20, "auto", "ls")  # its local search does better on the whole
    assert not wants_decomposition(generate("tsp", 60, seed=3), 20, "auto", "eas")  # 3 x: not more than
    assert wants_decomposition(generate("tsp", 81, seed=3), 20, "auto", "ls")
    assert not wants_decomposition(generate("tsp", 81, seed=3), 20, "off", "ls")
    # cvrp without a search: sweep sectors of twice the training size, from two of them (3 x)
    assert not wants_decomposition(generate("cvrp", 59, seed=3), 20, "auto", "none")
    assert wants_decomposition(generate("cvrp", 60, seed=3), 20, "auto", "none")


def test_decompose_options_are_validated() -> None:
    with pytest.raises(SolverError, match="decompose: must be one of auto, off"):
        solvers.get("am:20", options={"decompose": "always"})
    with pytest.raises(SolverError, match="revise: must be one of auto, off"):
        solvers.get("am:20", options={"revise": "tsp"})
    with pytest.raises(SolverError, match="part_size: must be at least 4"):
        solvers.get("am:20", options={"part_size": "2"})


def _shipped_sizes() -> list[tuple[str, int, int]]:
    """(model-problem, smaller size, larger size) for every problem shipped at several sizes."""
    by: dict[str, list[int]] = {}
    for p in SHIPPED:
        model, rest = p.stem.split("-", 1)
        problem = rest.rstrip("0123456789")
        by.setdefault(f"{model}-{problem}", []).append(int(rest[len(problem):]))
    return [(k, a, b) for k, sizes in sorted(by.items()) for a in sorted(sizes) for b in sorted(sizes) if a < b]


@pytest.mark.parametrize(("key", "small", "large"), _shipped_sizes(), ids=lambda v: str(v))
def test_larger_models_beat_smaller_on_their_size(key: str, small: int, large: int) -> None:
    # a shipped larger model must beat a smaller one of its problem on its own size (mean cost on
    # 100 instances; the smaller one as a user gets it there, decomposed beyond twice its size)
    model, problem = key.split("-")
    variant = "cvrp" if problem == "mtvrp" else problem
    insts = generate_many(variant, large, 100, seed=77)
    mean = {}
    for size in (small, large):
        res = solvers.get(f"{model}:{problem}{size}").solve_batch(insts, time_limit=60, seed=0)
        mean[size] = sum(evaluate(i, r.solution).objective for i, r in zip(insts, res)) / len(insts)
    better = mean[large] > mean[small] if insts[0].sense == "max" else mean[large] < mean[small]
    assert better, (key, mean)


@pytest.mark.parametrize(("name", "variant", "options"), [
    ("am:20", "cvrp", {}),
    ("am:20", "op", {}),  # no local search involved: every variant of the policy takes eas
    ("am:20", "pctsp", {}),
    ("am:20", "hcvrp", {}),  # our own env: its context takes rl4co's (instances, samples) batches
    ("am:20", "vrptw", {"eas_mode": "lay"}),  # the multi-variant policy
    ("am:20", "tsp", {"eas_mode": "lay", "augment": "8", "samples": "4"}),
    ("pomo:tsp50", "tsp", {}),  # multistart: one rollout from every first node per step
    ("matnet:atsp20", "atsp", {"eas_mode": "lay"}),
])
def test_search_eas_feasible_no_worse_than_greedy_deterministic(name: str, variant: str, options: dict) -> None:
    import torch

    inst = generate(variant, 20, seed=5) if variant in ("atsp", "vrptw") else generate(
        variant, 20, distribution="clustered", seed=5)
    greedy = solvers.get(name).solve(inst, time_limit=30, seed=2)
    opts = {"search": "eas", "samples": "8", "max_iterations": "3", **options}
    eas = solvers.get(name, options=opts)
    policy, _ = load_policy(str(eas.path_for(inst)))
    before = {k: v.clone() for k, v in policy.state_dict().items()}
    a = eas.solve(inst, time_limit=60, seed=2)
    score = evaluate(inst, a.solution)
    assert score.feasible
    g = evaluate(inst, greedy.solution).objective
    assert (score.objective <= g + 1e-6) if inst.sense == "min" else (score.objective >= g - 1e-6)
    assert a.info["search"] == "eas" and a.info["steps"] == 3 and a.info["evaluated"] >= 1
    assert a.trace and abs(a.trace[-1][1] - score.objective) < 1e-6  # the trace ends at what is returned
    # the shared cached policy is untouched: same weights, no gradients left on it
    after = policy.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in policy.parameters())
    b = solvers.get(name, options=opts).solve(inst, time_limit=60, seed=2)
    assert a.solution.routes == b.solution.routes


def test_search_eas_improves_and_keeps_the_time_limit() -> None:
    from tests.timing import slack, within

    inst = generate("cvrp", 40, distribution="clustered", seed=7)
    greedy = evaluate(inst, solvers.get("am:20").solve(inst, time_limit=30, seed=0).solution).objective
    a = solvers.get("am:20", options={"search": "eas", "samples": "16", "max_iterations": "10"}).solve(
        inst, time_limit=60, seed=0)
    assert evaluate(inst, a.solution).objective < greedy  # ten steps of 16 rollouts find something better
    # without an iteration limit it searches until (and returns within) the time limit
    timed = solvers.get("am:20", options={"search": "eas"})
    timed.warmup()
    r = within(slack(1.0), lambda: timed.solve(inst, time_limit=1.0, seed=0), "am:20 search=eas")
    assert r.runtime <= slack(1.0) and evaluate(inst, r.solution).feasible and r.info["steps"] >= 1


@pytest.mark.parametrize(("option", "value"), [("eas_mode", "tab"), ("eas_lr", "0"), ("eas_lambda", "-1"),
                                               ("max_iterations", "0"), ("part_augment", "3")])
def test_search_eas_rejects_bad_options(option: str, value: str) -> None:
    with pytest.raises(SolverError, match=option):
        solvers.get("am:20", options={"search": "eas", option: value})
