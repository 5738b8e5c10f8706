"""The flow-routing model: validation, files, and the evaluator."""

from __future__ import annotations

import json
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envs.network_generate import TOPOLOGIES, generate_flows_problem
from vrp.model import InstanceError
from vrp.network import (
    FlowProblem,
    Flows,
    FlowSolution,
    Network,
    NetworkError,
    evaluate_flows,
    is_network_file,
    read_network,
    read_problem,
    read_solution,
    score_to_dict,
    write_network,
    write_problem,
    write_solution,
)


def diamond(cap: float = 10.0) -> Network:
    """0 -> 1 -> 3 and 0 -> 2 -> 3, plus 1 -> 2; latencies 1 except 0 -> 2 (5)."""
    return Network.from_links([(0, 1, cap, 1.0), (1, 3, cap, 1.0), (0, 2, cap, 5.0), (2, 3, cap, 1.0),
                               (1, 2, cap, 1.0)], name="diamond")


def problem(cap: float = 10.0, **flow_kw: object) -> FlowProblem:
    flows = Flows(source=(0, 0, 1), target=(3, 3, 3), demand=[6.0, 6.0, 3.0], priority=[2.0, 1.0, 1.0],
                  **flow_kw)  # type: ignore[arg-type]
    return FlowProblem(diamond(cap), flows, name="tiny")


# ----------------------------------------------------------------------------- validation
def test_network_arrays_and_freeze() -> None:
    net = diamond()
    assert (net.n, net.m) == (4, 5)
    assert net.capacity.tolist() == [10.0] * 5
    assert net.latency is not None and not net.latency.flags.writeable
    with pytest.raises(nx.NetworkXError):
        net.graph.add_edge(3, 0, capacity=1.0)
    e = net.link_index[(net.index[0], net.index[2])]
    assert net.latency[e] == 5.0


def test_undirected_graph_gives_two_links() -> None:
    g = nx.Graph()
    g.add_edge("a", "b", capacity=3)
    net = Network(g)
    assert net.m == 2 and set(net.link_index) == {(0, 1), (1, 0)}


@pytest.mark.parametrize(("links", "needle"), [
    ([(0, 1, -1.0)], "capacity: must be at least 0"),
    ([(0, 1, math.nan)], "capacity: must be finite"),
    ([(0, 1, "x")], "capacity: must be a number"),
    ([(0, 0, 1.0), (0, 1, 1.0)], "self-loop"),
    ([(0, 1, 1.0, 2.0), (1, 0, 1.0)], "latency: give a latency on every link or on none"),
    ([(0, 1, 1.0, -2.0)], "latency: must be at least 0"),
])
def test_bad_network(links: list[tuple], needle: str) -> None:
    with pytest.raises(NetworkError, match=needle):
        Network.from_links(links)


def test_network_needs_capacity_and_two_nodes() -> None:
    g = nx.DiGraph()
    g.add_edge(0, 1)
    with pytest.raises(NetworkError, match=r"links\[0 -> 1\]\.capacity: missing"):
        Network(g)
    g1 = nx.DiGraph()
    g1.add_node(0)
    with pytest.raises(NetworkError, match="at least 2 nodes"):
        Network(g1)


def test_flow_to_missing_node() -> None:
    flows = Flows(source=(0,), target=(9,), demand=[1.0])
    with pytest.raises(NetworkError, match=r"flows\[0\]\.target: node 9 is not in the network"):
        FlowProblem(diamond(), flows)


@pytest.mark.parametrize(("kw", "needle"), [
    ({"source": (0,), "target": (0,), "demand": [1.0]}, "equals its source"),
    ({"source": (0,), "target": (3,), "demand": [0.0]}, r"flows\[0\]\.demand: must be greater than 0"),
    ({"source": (0,), "target": (3,), "demand": [1.0], "priority": [-1.0]}, "priority: must be at least 0"),
    ({"source": (0, 1), "target": (3,), "demand": [1.0]}, "2 sources but 1 targets"),
    ({"source": (0,), "target": (3,), "demand": [1.0], "max_hops": [1.5]}, "max_hops: must be a whole number"),
])
def test_bad_flows(kw: dict, needle: str) -> None:
    with pytest.raises(NetworkError, match=needle):
        Flows(**kw)


def test_latency_limit_needs_latency() -> None:
    net = Network.from_links([(0, 1, 1.0)])
    with pytest.raises(NetworkError, match="no latency"):
        FlowProblem(net, Flows(source=(0,), target=(1,), demand=[1.0], max_latency=[3.0]))


def test_error_is_an_instance_error() -> None:
    # The CLI turns InstanceError (and so NetworkError) into one line and exit 2.
    assert issubclass(NetworkError, InstanceError)


# ----------------------------------------------------------------------------- evaluator
def test_evaluator_objective_and_loads() -> None:
    pb = problem()
    sol = FlowSolution({0: (0, 1, 3), 2: [1, 2, 3]})
    s = evaluate_flows(pb, sol)
    assert s.feasible, s.violation_lines()
    assert s.objective == 2 * 6 + 1 * 3
    assert s.admitted == (0, 2) and s.rejected == (1,)
    assert s.admitted_demand == 9 and s.offered_demand == 15 and s.offered == 21
    net = pb.network
    load = {(net.nodes[u], net.nodes[v]): s.loads[e] for (u, v), e in net.link_index.items()}
    assert load == {(0, 1): 6, (1, 3): 6, (0, 2): 0, (2, 3): 3, (1, 2): 3}
    assert s.max_utilisation == pytest.approx(0.6)
    d = score_to_dict(s)
    assert json.loads(json.dumps(d))["rejected_flows"] == [1]


def test_evaluator_catches_over_capacity() -> None:
    s = evaluate_flows(problem(), FlowSolution({0: (0, 1, 3), 1: (0, 1, 2, 3)}))
    assert not s.feasible
    kinds = {(v.kind, v.link) for v in s.violations}
    assert kinds == {("capacity", (0, 1))}
    assert "carries 12, above its capacity 10" in s.violation_lines()[0]
    assert s.objective == 18  # counted, but the solution is infeasible


@pytest.mark.parametrize(("path", "needle"), [
    ((0, 3), "no link 0 -> 3: the path is broken"),
    ((0, 1, 2, 1, 3), "node 1 repeats"),
    ((1, 3), "path runs 1 -> 3, the flow runs 0 -> 3"),
    ((0, 7, 3), "node 7 is not in the network"),
    ((0,), "fewer than two nodes"),
])
def test_evaluator_catches_a_broken_path(path: tuple, needle: str) -> None:
    s = evaluate_flows(problem(), FlowSolution({0: path}))
    assert not s.feasible
    assert any(v.kind == "path" and v.flow == 0 and needle in v.message for v in s.violations), s.violation_lines()


def test_evaluator_limits_and_unknown_flow() -> None:
    pb = problem(20.0, max_latency=[3.0, math.inf, math.inf], max_hops=[2, 2, math.inf])
    s = evaluate_flows(pb, FlowSolution({0: (0, 2, 3), 1: (0, 1, 2, 3), 7: (0, 1)}))
    kinds = sorted((v.kind, v.flow) for v in s.violations)
    assert kinds == [("flow", 7), ("hops", 1), ("latency", 0)]


# ----------------------------------------------------------------------------- files
def test_json_round_trip(tmp_path) -> None:
    pb = problem(max_latency=[3.0, math.inf, math.inf])
    path = tmp_path / "net.json"
    write_problem(path, pb)
    assert is_network_file(path)
    back = read_problem(path)
    assert back.name == "tiny" and back.network.m == 5
    assert back.flows.demand.tolist() == pb.flows.demand.tolist()
    assert back.flows.max_latency is not None and back.flows.max_latency[0] == 3.0
    assert back.flows.max_hops is None
    assert np.array_equal(back.network.capacity, pb.network.capacity)
    sol = FlowSolution({0: (0, 1, 3)})
    spath = tmp_path / "sol.json"
    write_solution(spath, sol, evaluate_flows(pb, sol), problem=pb)
    assert read_solution(spath, back) == sol
    assert json.loads(spath.read_text())["score"]["objective"] == 12.0


def test_graphml_network(tmp_path) -> None:
    pb = generate_flows_problem("grid", 9, 5, seed=2)
    gpath = tmp_path / "net.graphml"
    write_problem(tmp_path / "p.json", pb, graphml=gpath)
    assert json.loads((tmp_path / "p.json").read_text())["network"] == "net.graphml"
    back = read_problem(tmp_path / "p.json")
    assert back.network.nodes == pb.network.nodes
    assert np.array_equal(back.network.capacity, pb.network.capacity)
    assert np.allclose(back.network.latency, pb.network.latency)  # type: ignore[arg-type]
    assert read_network(gpath).m == pb.network.m
    write_network(tmp_path / "n.json", pb.network)
    assert read_network(tmp_path / "n.json").m == pb.network.m


def test_graphml_string_labels_and_missing_capacity(tmp_path) -> None:
    g = nx.Graph()
    g.add_edge("a", "b", capacity=2.0)
    g.add_edge("b", "c")
    nx.write_graphml(g, tmp_path / "g.graphml")
    with pytest.raises(NetworkError, match=r"g\.graphml: links\['b' -> 'c'\]\.capacity: missing"):
        read_network(tmp_path / "g.graphml")


def _doc() -> dict:
    return {"problem": "flows", "version": 1, "name": "x",
            "network": {"nodes": [0, 1, 2], "links": [{"source": 0, "target": 1, "capacity": 5},
                                                      {"source": 1, "target": 2, "capacity": 5}]},
            "flows": [{"source": 0, "target": 2, "demand": 1, "priority": 2}]}


@pytest.mark.parametrize(("change", "needle"), [
    (lambda d: d["flows"][0].update(target=9), r"flows\[0\]\.target: node 9 is not in the network"),
    (lambda d: d["network"]["links"][1].update(capacity=-3), r"network\.links\[1\]\.capacity: must be at least 0"),
    (lambda d: d["flows"][0].pop("demand"), r"flows\[0\]\.demand: missing"),
    (lambda d: d["network"]["links"].append({"source": 0, "target": 1, "capacity": 1}), "given twice"),
    (lambda d: d.update(version=2), "version"),
    (lambda d: d["flows"][0].update(priority="high"), r"flows\[0\]\.priority: must be a number"),
])
def test_bad_files_name_file_and_field(tmp_path, change, needle) -> None:
    doc = _doc()
    change(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(NetworkError, match=needle) as info:
        read_problem(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_not_json(tmp_path) -> None:
    path = tmp_path / "net.json"
    path.write_text('{"problem": "flows", nope')
    assert is_network_file(path)  # the sniff is cheap; reading says what is wrong
    with pytest.raises(NetworkError, match=r"net\.json: not valid JSON \(line 1"):
        read_problem(path)
    with pytest.raises(NetworkError, match="no such file"):
        read_problem(tmp_path / "missing.json")
    other = tmp_path / "inst.json"
    other.write_text(json.dumps({"name": "cvrp", "distances": [[0]]}))
    assert not is_network_file(other) and not is_network_file(tmp_path / "missing.json")


def test_bad_solution_file(tmp_path) -> None:
    path = tmp_path / "sol.json"
    path.write_text(json.dumps({"paths": {"x": [0, 1]}}))
    with pytest.raises(NetworkError, match=r"sol\.json: paths: flow id must be an integer"):
        read_solution(path)


# ----------------------------------------------------------------------------- generator
@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_generator(topology: str) -> None:
    a = generate_flows_problem(topology, 30, 200, seed=5)
    b = generate_flows_problem(topology, 30, 200, seed=5)
    assert a.network.n == 30 and a.num_flows == 200
    assert nx.is_strongly_connected(a.network.graph)
    assert np.array_equal(a.network.capacity, b.network.capacity) and a.flows.source == b.flows.source
    assert a.network.capacity.min() >= a.flows.demand.max()
    assert generate_flows_problem(topology, 30, 200, seed=6).flows.source != a.flows.source


def test_generator_limits() -> None:
    pb = generate_flows_problem("waxman", 12, 20, seed=1, latency_slack=0.2, hop_slack=1)
    assert pb.flows.max_latency is not None and pb.flows.max_hops is not None
    with pytest.raises(ValueError, match="topology"):
        generate_flows_problem("ring", 10, 10)


# ----------------------------------------------------------------------------- property
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.5, 3.0))
def test_evaluator_matches_a_direct_count(seed: int, scale: float) -> None:
    """Random admissions on random simple paths: loads, objective and feasibility by hand."""
    rng = np.random.default_rng(seed)
    pb = generate_flows_problem("barabasi", 8, 10, seed=seed, load=scale)
    g = pb.network.graph
    paths = {}
    for f in range(pb.num_flows):
        if rng.random() < 0.7:
            options = list(nx.all_simple_paths(g, pb.flows.source[f], pb.flows.target[f], cutoff=5))
            paths[f] = options[int(rng.integers(len(options)))]
    s = evaluate_flows(pb, FlowSolution(paths))
    load: dict[tuple[int, int], float] = {}
    for f, p in paths.items():
        for u, v in zip(p[:-1], p[1:]):
            load[(u, v)] = load.get((u, v), 0.0) + pb.flows.demand[f]
    over = any(x > g[u][v]["capacity"] + 1e-6 for (u, v), x in load.items())
    assert s.feasible == (not over)
    assert s.objective == pytest.approx(sum(pb.flows.weight[f] for f in paths))
    assert s.loads.sum() == pytest.approx(sum(load.values()))


# ----------------------------------------------------------------------------- CLI
@pytest.mark.parametrize(("change", "needle"), [
    (lambda d: d["flows"][0].update(target=9), "flows[0].target: node 9 is not in the network"),
    (lambda d: d["network"]["links"][0].update(capacity=-1), "network.links[0].capacity: must be at least 0"),
    (None, "not valid JSON"),
])
def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys, change, needle) -> None:
    from vrp.cli import main

    path = tmp_path / "net.json"
    if change is None:
        path.write_text('{"problem": "flows", "network": ')
    else:
        doc = _doc()
        change(doc)
        path.write_text(json.dumps(doc))
    for argv in (["solve", str(path), "--solver", "greedy", "--time-limit", "1"],
                 ["check", str(path), str(tmp_path / "sol.json")]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert needle in err and str(path) in err and len(err.splitlines()) == 1, err


def test_cli_generate_solve_check(tmp_path, capsys) -> None:
    from vrp.cli import main

    net, sol = tmp_path / "net.json", tmp_path / "sol.json"
    assert main(["generate", "--problem", "flows", "--topology", "grid", "--nodes", "9", "--flows", "15",
                 "--seed", "1", "--out", str(net)]) == 0
    assert main(["solve", str(net), "--solver", "ilp", "--time-limit", "5", "--json", "--out", str(sol)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["feasible"] and out["solver"] == "ilp" and out["status"] == "optimal"
    assert main(["check", str(net), str(sol), "--json"]) == 0
    checked = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert checked["objective"] == out["objective"]


def test_pickle_round_trip() -> None:
    # Bench workers are processes: problems go in, solutions and scores come back.
    import pickle

    pb = generate_flows_problem("waxman", 10, 8, seed=1, hop_slack=2)
    back = pickle.loads(pickle.dumps(pb))
    assert back.name == pb.name and back.meta == pb.meta and back.network.nodes == pb.network.nodes
    assert np.array_equal(back.network.capacity, pb.network.capacity) and not back.flows.demand.flags.writeable
    assert back.flows.max_hops is not None and np.array_equal(back.flows.max_hops, pb.flows.max_hops)
    sol = FlowSolution({0: [pb.flows.source[0], pb.flows.target[0]]})
    assert pickle.loads(pickle.dumps(sol)) == sol
    s = evaluate_flows(back, sol)
    assert pickle.loads(pickle.dumps(s)).objective == s.objective
