"""The network family (ilp, ga, greedy): exactness against brute force, and the solver contracts."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import solvers
from envs.generate import generate
from envs.network_generate import generate_flows_problem
from solvers.network.paths import candidate_paths
from tests.timing import slack, within
from vrp.network import FlowProblem, Flows, FlowSolution, Network, evaluate_flows
from vrp.result import SolverError, UnsupportedVariant

NAMES = ("ilp", "ga", "greedy")


def brute_force(pb: FlowProblem) -> float:
    """Best objective over every choice of (reject | any simple path keeping the limits) per flow."""
    g = pb.network.graph
    fl = pb.flows
    lat = {(u, v): a.get("latency", 0.0) for u, v, a in g.edges(data=True)}
    options: list[list[list[tuple]]] = []
    for f in range(pb.num_flows):
        opts = []
        for p in nx.all_simple_paths(g, fl.source[f], fl.target[f]):
            links = list(zip(p[:-1], p[1:]))
            if fl.max_hops is not None and len(links) > fl.max_hops[f]:
                continue
            if fl.max_latency is not None and sum(lat[e] for e in links) > fl.max_latency[f] + 1e-9:
                continue
            opts.append(links)
        options.append(opts)
    residual = {(u, v): a["capacity"] for u, v, a in g.edges(data=True)}
    w = fl.weight
    best = 0.0

    def rec(f: int, value: float) -> None:
        nonlocal best
        if f == pb.num_flows:
            best = max(best, value)
            return
        rec(f + 1, value)  # reject
        d = fl.demand[f]
        for links in options[f]:
            if all(residual[e] >= d - 1e-9 for e in links):
                for e in links:
                    residual[e] -= d
                rec(f + 1, value + w[f])
                for e in links:
                    residual[e] += d

    rec(0, 0.0)
    return best


def tiny(seed: int) -> FlowProblem:
    """<= 6 nodes, <= 6 flows, capacities tight enough that routing and admission both matter."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 7))
    g = nx.gnp_random_graph(n, 0.55, seed=seed, directed=True)
    for u in range(n - 1):  # keep it connected one way round
        g.add_edge(u, u + 1)
    links = [(u, v, float(rng.integers(2, 8)), float(rng.integers(1, 4))) for u, v in g.edges]
    net = Network.from_links(links, nodes=range(n), name=f"tiny{seed}")
    F = int(rng.integers(3, 7))
    src = rng.integers(0, n - 1, F)
    dst = np.minimum(src + rng.integers(1, n, F), n - 1)
    dst = np.where(dst == src, n - 1, dst)
    limits = {}
    if seed % 3 == 0:
        limits["max_hops"] = [float(rng.integers(1, 4)) for _ in range(F)]
    if seed % 4 == 1:
        limits["max_latency"] = [float(rng.integers(2, 8)) for _ in range(F)]
    flows = Flows(source=tuple(src.tolist()), target=tuple(dst.tolist()), demand=rng.integers(1, 6, F).astype(float),
                  priority=rng.integers(1, 4, F).astype(float), **limits)  # type: ignore[arg-type]
    return FlowProblem(net, flows, name=f"tiny{seed}")


TINY = [tiny(s) for s in range(12)]


@pytest.mark.parametrize("pb", TINY, ids=lambda p: p.name)
def test_arc_flow_ilp_equals_brute_force(pb: FlowProblem) -> None:
    best = brute_force(pb)
    r = solvers.get("ilp", solvers.NETWORK, {"model": "arc"}).solve(pb, time_limit=20)
    s = evaluate_flows(pb, r.solution)
    assert s.feasible, s.violation_lines()
    assert r.status == "optimal" and r.info["model"] == "arc"
    assert s.objective == pytest.approx(best)
    assert r.bound is not None and r.bound >= best - 1e-6


@pytest.mark.parametrize("pb", TINY, ids=lambda p: p.name)
def test_heuristics_never_beat_brute_force(pb: FlowProblem) -> None:
    best = brute_force(pb)
    for name, opts in (("ilp", {"model": "path", "k": 2}), ("ga", {"generations": 20}), ("greedy", {})):
        r = solvers.get(name, solvers.NETWORK, opts).solve(pb, time_limit=10, seed=1)
        s = evaluate_flows(pb, r.solution)
        assert s.feasible, (name, s.violation_lines())
        assert s.objective <= best + 1e-6, name
        if r.status == "optimal":
            assert s.objective == pytest.approx(best), name


def test_path_ilp_reports_k_path_optimality_without_bound() -> None:
    pb = generate_flows_problem("grid", 9, 20, seed=3)  # a 3 x 3 grid: many paths per flow
    r = solvers.get("ilp", solvers.NETWORK, {"model": "path", "k": 1}).solve(pb, time_limit=30)
    s = evaluate_flows(pb, r.solution)
    assert s.feasible
    assert r.status == "feasible" and r.bound is None
    assert r.info["optimal_over"] == "k-paths" and "optimal over k-paths" in r.info["note"]
    arc = solvers.get("ilp", solvers.NETWORK, {"model": "arc"}).solve(pb, time_limit=60)
    assert arc.status == "optimal"
    assert evaluate_flows(pb, arc.solution).objective > s.objective  # one path per flow loses here


def test_path_ilp_with_every_path_is_exact() -> None:
    pb = TINY[2]
    cand = candidate_paths(pb, 50)
    assert cand.all_exhaustive
    r = solvers.get("ilp", solvers.NETWORK, {"model": "path", "k": 50}).solve(pb, time_limit=20)
    assert r.status == "optimal"
    assert evaluate_flows(pb, r.solution).objective == pytest.approx(brute_force(pb))


def test_auto_model_picks_by_size() -> None:
    small = solvers.get("ilp", solvers.NETWORK).solve(TINY[0], time_limit=10)
    assert small.info["model"] == "arc"
    big = solvers.get("ilp", solvers.NETWORK, {"arc_max_vars": 10}).solve(TINY[0], time_limit=10)
    assert big.info["model"] == "path"


def test_candidates_keep_limits_and_capacity() -> None:
    pb = generate_flows_problem("grid", 16, 40, seed=1, latency_slack=0.3, hop_slack=1)
    cand = candidate_paths(pb, 4)
    net, fl = pb.network, pb.flows
    for f in range(pb.num_flows):
        assert 1 <= len(cand.paths[f]) <= 4
        for p, lk in zip(cand.paths[f], cand.links[f]):
            assert p[0] == pb.src[f] and p[-1] == pb.dst[f] and len(set(p)) == len(p)
            assert len(lk) <= fl.max_hops[f]  # type: ignore[index]
            assert net.latency[list(lk)].sum() <= fl.max_latency[f] + 1e-6  # type: ignore[index]
        hops = [len(lk) for lk in cand.links[f]]
        assert hops == sorted(hops)


def test_greedy_order_is_priority_times_demand() -> None:
    # One link of capacity 5: greedy admits the biggest priority x demand (2 x 4) first,
    # then nothing else fits, while the optimum takes the two flows worth 3 x 2 + 3 x 2.
    net = Network.from_links([(0, 1, 5.0)])
    fl = Flows(source=(0, 0, 0), target=(1, 1, 1), demand=[4.0, 2.0, 2.0], priority=[2.0, 3.0, 3.0])
    pb = FlowProblem(net, fl)
    g = solvers.get("greedy", solvers.NETWORK).solve(pb, time_limit=1)
    assert g.solution.admitted == (0,)
    assert evaluate_flows(pb, g.solution).objective == 8
    for name in ("ilp", "ga"):
        r = solvers.get(name, solvers.NETWORK).solve(pb, time_limit=5)
        assert evaluate_flows(pb, r.solution).objective == 12, name


# ----------------------------------------------------------------------------- contracts
def test_registry() -> None:
    assert sorted(solvers.names(solvers.NETWORK)) == ["ga", "greedy", "ilp"]
    for name in NAMES:
        s = solvers.get(name, solvers.NETWORK)
        assert s.name == name and s.variants == solvers.spec(name, solvers.NETWORK).variants == {"flows"}
    assert type(solvers.get("ilp")).__module__ != type(solvers.get("ilp", solvers.NETWORK)).__module__
    with pytest.raises(SolverError, match="unknown option 'kk'"):
        solvers.get("ilp", solvers.NETWORK, {"kk": "3"})
    with pytest.raises(SolverError, match="k: must be a positive integer"):
        solvers.get("ga", solvers.NETWORK, {"k": "0"})
    assert solvers.get("ilp", solvers.NETWORK, {"k": "3"}).params.k == 3


@pytest.mark.parametrize("name", NAMES)
def test_rejects_a_routing_instance_before_work(name: str) -> None:
    inst = generate("cvrp", 5, seed=1)

    def rejected() -> None:
        with pytest.raises(UnsupportedVariant, match="cvrp"):
            solvers.get(name, solvers.NETWORK).solve(inst, time_limit=5)  # type: ignore[arg-type]

    within(0.5, rejected, name)
    with pytest.raises(SolverError, match="time limit"):
        solvers.get(name, solvers.NETWORK).solve(TINY[0], time_limit=0)


@pytest.mark.parametrize("name", NAMES)
def test_time_limit_and_feasible(name: str) -> None:
    pb = generate_flows_problem("waxman", 30, 300, seed=4)
    limit = 1.0
    r = within(slack(limit), lambda: solvers.get(name, solvers.NETWORK).solve(pb, time_limit=limit, seed=2), name)
    assert r.solver == name and r.trace
    s = evaluate_flows(pb, r.solution)
    assert s.feasible, s.violation_lines()[:3]
    assert 0 < s.objective <= pb.offered


def test_ga_deterministic_and_anytime() -> None:
    pb = generate_flows_problem("barabasi", 25, 150, seed=2)
    runs = [solvers.get("ga", solvers.NETWORK, {"generations": 15}).solve(pb, time_limit=60, seed=5)
            for _ in range(2)]
    assert runs[0].solution == runs[1].solution
    assert runs[0].info["generations"] == 15
    values = [v for _, v in runs[0].trace]
    assert values == sorted(values)
    assert values[-1] == evaluate_flows(pb, runs[0].solution).objective
    other = solvers.get("ga", solvers.NETWORK, {"generations": 15}).solve(pb, time_limit=60, seed=6)
    assert evaluate_flows(pb, other.solution).feasible


def test_ga_and_ilp_beat_greedy_on_a_generated_problem() -> None:
    pb = generate_flows_problem("waxman", 20, 120, seed=1)
    opts = {"ilp": {}, "ga": {"generations": 30}, "greedy": {}}
    val = {name: evaluate_flows(pb, solvers.get(name, solvers.NETWORK, opts[name]).solve(pb, time_limit=10, seed=1)
                                .solution).objective for name in NAMES}
    assert val["ilp"] >= val["ga"] >= val["greedy"]
    assert val["ilp"] > val["greedy"]


def test_empty_answer_is_a_solution() -> None:
    # A flow whose demand no link can carry: nothing to admit, still a (feasible) solution.
    net = Network.from_links([(0, 1, 1.0)])
    pb = FlowProblem(net, Flows(source=(0,), target=(1,), demand=[5.0]))
    for name in NAMES:
        r = solvers.get(name, solvers.NETWORK).solve(pb, time_limit=5)
        assert r.solution == FlowSolution({}), name
        assert evaluate_flows(pb, r.solution).feasible
