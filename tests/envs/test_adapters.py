"""Instance <-> TensorDict adapters and the rl4co generator: exact round trips, every problem.

Rollouts use each problem's environment (rl4co's, or our HCVRPEnv) stepped with random
allowed actions (from the env's action mask), so the reward is the env's and the cost is
our evaluator's: instance -> TensorDict -> actions -> Solution -> evaluator == env cost.
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
from vrp.model import Instance, Solution  # noqa: E402


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


#: (problem, instance variant): every neural problem on every variant it adapts
CASES = [("tsp", "tsp"), ("cvrp", "cvrp"), ("ocvrp", "ocvrp"), ("vrptw", "vrptw"), ("mtvrp", "cvrp"),
         ("mtvrp", "ocvrp"), ("mtvrp", "vrptw"), ("atsp", "atsp"), ("atsp", "tsp"), ("op", "op"),
         ("pctsp", "pctsp"), ("hcvrp", "hcvrp")]


@pytest.mark.parametrize(("problem", "variant"), CASES)
@pytest.mark.parametrize("distribution", ["uniform", "clustered", "mixed"])
def test_round_trip_cost_equals_reward(problem: str, variant: str, distribution: str) -> None:
    insts = [generate(variant, 15, distribution=distribution, seed=s) for s in range(4)]
    env = make_env(problem, 15)
    td, norms = to_tensordict(insts, problem=problem)
    actions, reward = random_rollout(env, td, seed=1)
    for inst, a, r, norm in zip(insts, actions, reward.tolist(), norms):
        sol = actions_to_solution(inst, a, norm, problem)
        score = evaluate(inst, sol)
        # a random hcvrp plan can run out of vehicles (the policy learns not to): then a
        # customer is missing, and the evaluator says so; every other env keeps its plans feasible
        if problem == "hcvrp" and not score.feasible:
            assert {v.kind for v in score.violations} == {"missing"}
        else:
            assert score.feasible, score.violation_lines()
        assert score.objective == pytest.approx(denormalise_cost(r, norm), rel=1e-5, abs=1e-9)


def test_hcvrp_routes_go_back_to_their_own_vehicles() -> None:
    inst = generate("hcvrp", 12, seed=3)
    caps = inst.vehicle_capacities
    td, (norm,) = to_tensordict(inst)
    assert sorted(norm.vehicle_order) == list(range(caps.size))
    assert list(caps[list(norm.vehicle_order)]) == sorted(caps, reverse=True)
    actions, _ = random_rollout(make_env("hcvrp", 12), td, seed=5)
    sol = actions_to_solution(inst, actions[0], norm)
    assert len(sol.routes) == caps.size
    loads = [sum(inst.demands[v] for v in r) for r in sol.routes]
    assert all(load <= cap + 1e-9 for load, cap in zip(loads, caps))


def test_time_windows_start_at_the_depot_departure() -> None:
    inst = generate("vrptw", 10, seed=4)
    tw = inst.time_windows.copy()
    tw[:, :] += 50.0  # the whole day later, and the depot serves for 7 units before leaving
    service = inst.service_times.copy()
    service[0] = 7.0
    later = inst.replace(time_windows=tw, service_times=service)
    td, (norm,) = to_tensordict(later)
    shifted = (tw - 57.0).clip(min=0.0) / norm.scale
    assert np.allclose(td["time_windows"][0].numpy(), shifted[[0, *range(1, 11)]], atol=1e-6)
    assert float(td["service_time"][0, 0]) == 0.0


def test_op_tour_over_its_rounded_limit_is_shortened() -> None:
    from envs.op.adapter import fit_length

    inst = generate("op", 12, seed=2)
    route = [int(v) for v in inst.customers]  # every customer: far over the limit
    kept, dropped = fit_length(inst, route, float(inst.max_length))
    assert dropped > 0 and len(kept) + dropped == len(route)
    assert evaluate(inst, Solution([kept])).feasible
    assert not evaluate(inst, Solution([route])).feasible


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


@pytest.mark.parametrize("problem", ["tsp", "cvrp", "ocvrp", "vrptw", "atsp", "op", "pctsp", "hcvrp"])
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
    key = next(iter(expected.keys()))
    assert torch.equal(again(6)[key], drawn[key])
    assert not torch.equal(again(6)[key], drawn[key])


def test_multi_variant_batches_mix_the_variants() -> None:
    gen = VrpGenerator("mtvrp", 10, seed=7)
    seeds = gen.next_seeds(60)
    kinds = [gen.variant_of(s) for s in seeds]
    assert set(kinds) == {"cvrp", "ocvrp", "vrptw"}
    td = gen.draw(seeds)
    expected, _ = to_tensordict(gen.instances(seeds), problem="mtvrp")
    for key in expected.keys():
        assert torch.equal(td[key], expected[key]), key
    opened = td["open_route"].squeeze(-1).tolist()
    assert opened == [k == "ocvrp" for k in kinds]
    timed = torch.isfinite(td["time_windows"][:, :, 1]).all(-1).tolist()
    assert timed == [k == "vrptw" for k in kinds]
    with pytest.raises(ValueError, match="variants"):
        VrpGenerator("mtvrp", 10, variants=["op"])


def test_unsupported_instances_are_clear_errors() -> None:
    with pytest.raises(AdapterError, match="trained on 'cvrp'"):
        to_tensordict(generate("vrptw", 5, seed=0), problem="cvrp")
    with pytest.raises(AdapterError, match="problem"):
        to_tensordict(generate("tsp", 5, seed=0), problem="flows")
    with pytest.raises(AdapterError, match="min_prize"):
        to_tensordict(generate("pctsp", 5, seed=0).replace(min_prize=0.0))
    matrix_only = Instance(name="m", distances=generate("tsp", 5, seed=0).distances)
    with pytest.raises(AdapterError, match="coords"):
        to_tensordict(matrix_only)
    with pytest.raises(AdapterError, match="one size"):
        to_tensordict([generate("tsp", 5, seed=0), generate("tsp", 6, seed=0)])
    from envs.adapters import check_supported

    with pytest.raises(AdapterError, match="trained on 'cvrp'"):
        check_supported(generate("tsp", 5, seed=0), "cvrp")
