"""Instance <-> TensorDict adapters and the rl4co generator: exact round trips.

Rollouts use rl4co's own environments stepped with random feasible actions (from the
env's action mask), so the reward is rl4co's and the cost is our evaluator's.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("rl4co")

from envs.adapters import (  # noqa: E402
    AdapterError,
    actions_to_solution,
    denormalise_cost,
    to_tensordict,
    unit_square,
)
from envs.generate import generate  # noqa: E402
from envs.rl4co_gen import VrpGenerator, make_env  # noqa: E402
from vrp.evaluate import evaluate  # noqa: E402
from vrp.io import read  # noqa: E402
from vrp.model import Instance  # noqa: E402


def random_rollout(env, td, seed: int):
    """Step rl4co's env with uniformly random feasible actions; returns (actions, reward)."""
    g = torch.Generator().manual_seed(seed)
    state = env.reset(td.clone())
    actions = []
    while not state["done"].all():
        mask = state["action_mask"].float()
        a = torch.multinomial(mask, 1, generator=g).squeeze(-1)
        actions.append(a)
        state.set("action", a)
        state = env.step(state)["next"]
    acts = torch.stack(actions, 1)
    return acts, env.get_reward(state, acts)


@pytest.mark.parametrize("problem", ["tsp", "cvrp"])
@pytest.mark.parametrize("distribution", ["uniform", "clustered", "mixed"])
def test_round_trip_cost_equals_reward(problem: str, distribution: str) -> None:
    insts = [generate(problem, 15, distribution=distribution, seed=s) for s in range(4)]
    env = make_env(problem, 15)
    td, norms = to_tensordict(insts)
    actions, reward = random_rollout(env, td, seed=1)
    for inst, a, r, norm in zip(insts, actions, reward.tolist(), norms):
        sol = actions_to_solution(inst, a)
        score = evaluate(inst, sol)
        assert score.feasible, score.violation_lines()
        assert score.objective == pytest.approx(denormalise_cost(r, norm), rel=1e-5)


def test_instances_of_another_size_than_training() -> None:
    # the env is built for size 20; a batch of 33-customer instances still decodes
    env = make_env("cvrp", 20)
    insts = [generate("cvrp", 33, seed=s) for s in range(3)]
    td, norms = to_tensordict(insts)
    actions, reward = random_rollout(env, td, seed=2)
    for inst, a, r, norm in zip(insts, actions, reward.tolist(), norms):
        score = evaluate(inst, actions_to_solution(inst, a))
        assert score.feasible
        assert score.objective == pytest.approx(denormalise_cost(r, norm), rel=1e-5)


@pytest.mark.parametrize("name", ["berlin52", "A-n32-k5"])
def test_rounded_files_differ_only_by_rounding(name: str) -> None:
    inst = read(name)
    assert inst.rounding == "nint"
    env = make_env(inst.variant, inst.num_customers if inst.variant == "cvrp" else inst.n)
    td, (norm,) = to_tensordict(inst)
    actions, reward = random_rollout(env, td, seed=3)
    sol = actions_to_solution(inst, actions[0])
    score = evaluate(inst, sol)
    assert score.feasible
    exact = evaluate(inst.replace(rounding="exact"), sol).objective
    assert exact == pytest.approx(denormalise_cost(reward.item(), norm), rel=1e-5)
    edges = sum(len(r) + 1 for r in sol.routes)
    assert abs(score.objective - exact) <= 0.5 * edges  # nint moves each edge by at most 0.5


def test_depot_not_first_node() -> None:
    base = generate("cvrp", 10, seed=7)
    perm = np.r_[1:5, 0, 5:base.n]  # the depot becomes node 4
    inst = Instance(name="moved", distances=None, coords=base.coords[perm], depot=4,
                    demands=base.demands[perm], capacity=base.capacity, rounding="exact", metric="euclidean")
    env = make_env("cvrp", 10)
    td, (norm,) = to_tensordict(inst)
    actions, reward = random_rollout(env, td, seed=4)
    sol = actions_to_solution(inst, actions[0])
    assert all(4 not in r for r in sol.routes)
    score = evaluate(inst, sol)
    assert score.feasible
    assert score.objective == pytest.approx(denormalise_cost(reward.item(), norm), rel=1e-5)


def test_unit_square_keeps_aspect_ratio() -> None:
    pts = np.array([[10.0, 5.0], [30.0, 5.0], [20.0, 15.0]])  # 20 wide, 10 high
    unit, lo, span = unit_square(pts)
    assert span == 20.0 and lo.tolist() == [10.0, 5.0]
    assert unit.tolist() == [[0.0, 0.0], [1.0, 0.0], [0.5, 0.5]]
    same, _, one = unit_square(np.zeros((3, 2)))
    assert one == 1.0 and not np.isnan(same).any()


@pytest.mark.parametrize("problem", ["tsp", "cvrp"])
@pytest.mark.parametrize("distribution", ["uniform", "clustered", "mixed"])
def test_generator_draws_exactly_vrp_generate(problem: str, distribution: str) -> None:
    gen = VrpGenerator(problem, 12, distribution, seed=5)
    seeds = gen.next_seeds(6)
    drawn = gen.draw(seeds)
    expected, _ = to_tensordict([generate(problem, 12, distribution=distribution, seed=int(s)) for s in seeds])
    assert set(drawn.keys()) == set(expected.keys())
    for key in expected.keys():
        assert torch.equal(drawn[key], expected[key]), key
    # successive calls give new data, the same stream gives the same data
    again = VrpGenerator(problem, 12, distribution, seed=5)
    assert torch.equal(again(6)["locs"], drawn["locs"])
    assert not torch.equal(again(6)["locs"], drawn["locs"])


def test_unsupported_instances_are_clear_errors() -> None:
    with pytest.raises(AdapterError, match="variant"):
        to_tensordict(generate("vrptw", 5, seed=0))
    matrix_only = Instance(name="m", distances=generate("tsp", 5, seed=0).distances)
    with pytest.raises(AdapterError, match="coords"):
        to_tensordict(matrix_only)
    with pytest.raises(AdapterError, match="one size"):
        to_tensordict([generate("tsp", 5, seed=0), generate("tsp", 6, seed=0)])
    from envs.adapters import check_supported

    with pytest.raises(AdapterError, match="trained on 'cvrp'"):
        check_supported(generate("tsp", 5, seed=0), "cvrp")
