"""Every solver behind one interface, and the registry of names.

>>> import solvers
>>> solver = solvers.get("nearest")
>>> result = solver.solve(instance, time_limit=5, seed=1)
"""

from __future__ import annotations

from solvers.registry import (
    ALL_ROUTING,
    NETWORK,
    ROUTING,
    SolverSpec,
    get,
    names,
    register,
    spec,
    specs,
)

register(SolverSpec(
    "nearest", ROUTING, "solvers.construction:NearestSolver", ALL_ROUTING,
    "nearest neighbour / nearest feasible insertion"))
register(SolverSpec(
    "savings", ROUTING, "solvers.construction:SavingsSolver", frozenset({"cvrp", "ocvrp", "hcvrp", "vrptw"}),
    "Clarke-Wright parallel savings (time-window aware)"))
register(SolverSpec(
    "ortools", ROUTING, "solvers.ortools_routing:OrtoolsSolver", ALL_ROUTING,
    "OR-Tools routing: first solution + Guided Local Search", requires=("ortools",)))
register(SolverSpec(
    "ilp", ROUTING, "solvers.ilp:IlpSolver", ALL_ROUTING,
    "exact MIP (DFJ + cuts for tsp/atsp, capacity cuts for cvrp, compact MTZ models), HiGHS/CBC",
    requires=("pulp",)))
register(SolverSpec(
    "pyvrp", ROUTING, "solvers.pyvrp_ref:PyvrpSolver",
    frozenset({"tsp", "atsp", "cvrp", "ocvrp", "vrptw", "hcvrp", "op"}),
    "PyVRP 0.14 iterated local search (reference)", requires=("pyvrp",), extra="pyvrp"))
register(SolverSpec(
    "ga", ROUTING, "solvers.hgs:HGSSolver", frozenset({"tsp", "atsp", "cvrp", "ocvrp", "vrptw", "hcvrp"}),
    "hybrid genetic search (HGS: OX, optimal Split, granular LS + SWAP*, time warp, diversity), "
    "above 300 customers an iterated local search with late acceptance (tsp: 2-opt/Or-opt kicks; strategy=); "
    "no op/pctsp: its giant tours visit every customer; init=am:50 seeds it with policy samples",
    requires=("numba",)))
register(SolverSpec(
    "aco", ROUTING, "solvers.aco:ACOSolver", frozenset({"tsp", "atsp", "cvrp", "ocvrp"}),
    "MAX-MIN ant system over candidate lists + the HGS local search; optional learned heatmap prior "
    "(heatmap=deepaco:<checkpoint> of vrp train --model deepaco: a DeepACO network, needs the neural extra)",
    requires=("numba",)))

register(SolverSpec(
    "cluster", ROUTING, "solvers.cluster:ClusterSolver", frozenset({"cvrp", "ocvrp"}),
    "cluster first, route second: capacity-aware binary k-means territories, each routed by an inner solver "
    "(inner=ga|nearest|am:50|...), then the HGS local search on the whole",
    requires=("numba",)))

register(SolverSpec(
    "am", ROUTING, "solvers.neural:AMSolver",
    frozenset({"tsp", "cvrp", "ocvrp", "vrptw", "op", "pctsp", "hcvrp"}),
    "attention model (rl4co, REINFORCE + rollout baseline): am:<checkpoint>, am:op20, am:mtvrp20 (cvrp/ocvrp/vrptw "
    "in one), am:50 (the size-50 model of the instance's variant); search=ls|eas; decomposes beyond 2x its size",
    requires=("torch", "rl4co"), extra="neural", takes_argument=True, examples=("am:20", "am:mtvrp20", "am:50")))
register(SolverSpec(
    "pomo", ROUTING, "solvers.neural:POMOSolver", frozenset({"tsp", "cvrp", "ocvrp", "vrptw"}),
    "POMO (rl4co, shared baseline, multi-start decoding): pomo:<checkpoint>, pomo:tsp50, pomo:20 (ocvrp, vrptw)",
    requires=("torch", "rl4co"), extra="neural", takes_argument=True, examples=("pomo:20", "pomo:50")))
register(SolverSpec(
    "matnet", ROUTING, "solvers.neural:MatNetSolver", frozenset({"atsp", "tsp"}),
    "MatNet (rl4co, on the distance matrix alone; tsp given as a matrix too): matnet:atsp20, matnet:20",
    requires=("torch", "rl4co"), extra="neural", takes_argument=True, examples=("matnet:20",)))

register(SolverSpec(
    "ilp", NETWORK, "solvers.network.ilp:NetworkILP", frozenset({"flows"}),
    "flow admission + routing MIP: path-based over k shortest paths, or exact arc-flow (small), HiGHS",
    requires=("pulp", "highspy")))
register(SolverSpec(
    "ga", NETWORK, "solvers.network.ga:NetworkGA", frozenset({"flows"}),
    "genetic algorithm over k candidate paths per flow, repair decoder guided by Lagrangian prices"))
register(SolverSpec(
    "greedy", NETWORK, "solvers.network.greedy:NetworkGreedy", frozenset({"flows"}),
    "admit by priority x demand on the shortest residual path"))

__all__ = ["ALL_ROUTING", "NETWORK", "ROUTING", "SolverSpec", "get", "names", "register", "spec", "specs"]
