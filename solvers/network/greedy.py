"""``greedy``: admit flows by priority x demand, each on its shortest path with room left.

Flows are taken in decreasing ``priority * demand`` (ties: lower flow id first);
each is routed on a shortest path (fewest links, or least latency) of the residual
network, the links whose remaining capacity can still carry its demand; a flow for
which no such path keeps its hop/latency limit is rejected. One pass, no search:
the reference the ILP and the GA are measured against.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

import numpy as np

from solvers.network.base import NetworkSolver
from vrp.network import FlowProblem, FlowSolution
from vrp.result import Result

ORDERS = ("value", "density")


@dataclass(frozen=True)
class GreedyParams:
    """Parameters of ``greedy``.

    order
        ``value``: decreasing priority x demand (the classic rule, default);
        ``density``: decreasing priority per unit of capacity (priority / hops of
        the shortest path), which usually admits more.
    weight
        ``hops`` (default) or ``latency``: what "shortest" means.
    """

    order: str = "value"
    weight: str = "hops"

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise ValueError(f"order: must be one of {', '.join(ORDERS)}, got {self.order!r}")
        if self.weight not in ("hops", "latency"):
            raise ValueError(f"weight: must be hops or latency, got {self.weight!r}")


def greedy_paths(problem: FlowProblem, order: str = "value", weight: str = "hops") -> dict[int, list[int]]:
    """The greedy admission: flow id -> path of node positions."""
    net = problem.network
    fl = problem.flows
    n, F = net.n, len(fl)
    use_latency = weight == "latency" and net.latency is not None
    lat = net.latency.tolist() if net.latency is not None else [1.0] * net.m
    cost = lat if use_latency else [1.0] * net.m
    out_adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for e, (u, v) in enumerate(net.links.tolist()):
        out_adj[u].append((v, e))
    residual = net.capacity.astype(float).tolist()
    max_hops = fl.max_hops.tolist() if fl.max_hops is not None else [float("inf")] * F
    max_lat = fl.max_latency.tolist() if fl.max_latency is not None else [float("inf")] * F
    weight_f = fl.weight
    if order == "value":
        keys = -weight_f
    else:
        import networkx as nx

        g = nx.DiGraph()
        g.add_edges_from(net.links.tolist())
        hops = dict(nx.all_pairs_shortest_path_length(g))
        h = np.array([hops[s].get(t, n) for s, t in zip(problem.src.tolist(), problem.dst.tolist())], dtype=float)
        keys = -(fl.priority / h)  # type: ignore[operator]
    ranked = np.lexsort((np.arange(F), keys))
    src, dst, dem = problem.src.tolist(), problem.dst.tolist(), fl.demand.tolist()
    paths: dict[int, list[int]] = {}
    for f in ranked.tolist():
        d = dem[f]
        path = _shortest(out_adj, residual, cost, lat, src[f], dst[f], d, max_hops[f], max_lat[f])
        if path is None:
            continue
        nodes, links = path
        for e in links:
            residual[e] -= d
        paths[f] = nodes
    return paths


def _shortest(out_adj: list[list[tuple[int, int]]], residual: list[float], cost: list[float],
              lat: list[float], s: int, t: int, demand: float, max_hops: float, max_lat: float
              ) -> tuple[list[int], list[int]] | None:
    """Dijkstra on the links with room for ``demand``; None if none reaches ``t`` within the limits.

    The limits are checked on the shortest path found (a resource-constrained
    shortest path is not attempted: greedy stays a one-pass rule).
    """
    dist = {s: 0.0}
    prev: dict[int, tuple[int, int]] = {}
    heap = [(0.0, s)]
    done = set()
    need = demand - 1e-9
    while heap:
        du, u = heapq.heappop(heap)
        if u in done:
            continue
        done.add(u)
        if u == t:
            break
        for v, e in out_adj[u]:
            if residual[e] >= need and v not in done:
                nd = du + cost[e]
                if nd < dist.get(v, float("inf")):
                    dist[v] = nd
                    prev[v] = (u, e)
                    heapq.heappush(heap, (nd, v))
    if t not in done:
        return None
    nodes = [t]
    links = []
    while nodes[-1] != s:
        u, e = prev[nodes[-1]]
        links.append(e)
        nodes.append(u)
    nodes.reverse()
    links.reverse()
    if len(links) > max_hops or sum(lat[e] for e in links) > max_lat + 1e-6:
        return None
    return nodes, links


class NetworkGreedy(NetworkSolver):
    """Registered as ``greedy`` in the network family."""

    name = "greedy"
    Params = GreedyParams

    def _solve(self, problem: FlowProblem, time_limit: float, seed: int, start: float) -> Result:
        p: GreedyParams = self.params
        paths = greedy_paths(problem, p.order, p.weight)
        sol = FlowSolution.from_indices(problem, paths)
        value = float(problem.flows.weight[list(paths)].sum()) if paths else 0.0
        t = time.perf_counter() - start
        return Result(sol, "feasible", t, trace=[(t, value)],  # type: ignore[arg-type]
                      info={"order": p.order, "weight": p.weight, "admitted": len(paths)})
