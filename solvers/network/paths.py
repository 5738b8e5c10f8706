"""Candidate paths per flow (Yen's k shortest simple paths), shared by ``ilp`` and ``ga``.

Paths are in node positions (``network.index``) and as link numbers. A candidate
keeps the flow's latency and hop limits and uses only links whose capacity can
carry the flow's demand at all; flows with the same endpoints and limits share
one enumeration.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import numpy as np

from vrp.network import FlowProblem

WEIGHTS = ("hops", "latency")


@dataclass(frozen=True)
class Candidates:
    """The candidate paths of every flow.

    Attributes
    ----------
    paths
        ``paths[f]``: up to ``k`` tuples of node positions, shortest first.
    links
        ``links[f][j]``: the link numbers of ``paths[f][j]``.
    exhaustive
        ``(F,)`` bool: the flow's list holds *every* usable simple path (so a model
        over these candidates is exact for it).
    table
        ``(F, k)`` global path numbers (``-1`` where a flow has fewer candidates).
    path_flow, path_links, path_len
        Per global path: its flow, its links padded with the dummy link ``m``
        (``(P, L)``), and its number of links.
    """

    k: int
    paths: list[list[tuple[int, ...]]]
    links: list[list[tuple[int, ...]]]
    exhaustive: np.ndarray
    table: np.ndarray
    path_flow: np.ndarray
    path_links: np.ndarray
    path_len: np.ndarray
    seconds: float

    @property
    def num_paths(self) -> int:
        return int(self.path_flow.size)

    @property
    def all_exhaustive(self) -> bool:
        return bool(self.exhaustive.all())


def candidate_paths(problem: FlowProblem, k: int, *, weight: str = "hops", deadline: float | None = None,
                    max_examined: int = 50, prove_exhaustive: bool = True) -> Candidates:
    """Up to ``k`` usable candidate paths per flow, shortest (by ``weight``) first.

    Parameters
    ----------
    k
        Paths per flow (Yen's algorithm, ``networkx.shortest_simple_paths``).
    weight
        ``hops`` (fewest links: least capacity used) or ``latency``.
    deadline
        ``time.perf_counter()`` value after which the remaining endpoint pairs get
        only their single shortest usable path (so a solver keeps its time limit).
    max_examined
        At most ``max_examined * k`` paths are looked at per flow while skipping
        ones that break a limit.
    prove_exhaustive
        Ask Yen for one path more than ``k`` to learn whether a flow has more
        (``exhaustive``); without it, a flow with ``k`` candidates counts as not
        exhausted (about a sixth less work for k = 5).
    """
    import networkx as nx

    if int(k) != k or k < 1:
        raise ValueError(f"k: must be a positive integer, got {k!r}")
    if weight not in WEIGHTS:
        raise ValueError(f"weight: must be one of {', '.join(WEIGHTS)}, got {weight!r}")
    if weight == "latency" and not problem.network.has_latency:
        weight = "hops"
    t0 = time.perf_counter()
    net = problem.network
    fl = problem.flows
    F = len(fl)
    cap = net.capacity
    lat = net.latency
    g = nx.DiGraph()
    g.add_nodes_from(range(net.n))
    for e, (u, v) in enumerate(net.links.tolist()):
        g.add_edge(u, v, latency=float(lat[e]) if lat is not None else 1.0, cap=float(cap[e]), e=e)
    max_hops = fl.max_hops if fl.max_hops is not None else np.full(F, np.inf)
    max_lat = fl.max_latency if fl.max_latency is not None else np.full(F, np.inf)
    link_of = net.link_index
    memo: dict[tuple[int, int, float, float, float], tuple[list[tuple[int, ...]], list[tuple[int, ...]], bool]] = {}
    # Demands below the smallest capacity see the whole graph: share those enumerations.
    floor = float(cap.min()) if cap.size else 0.0

    out_paths: list[list[tuple[int, ...]]] = []
    out_links: list[list[tuple[int, ...]]] = []
    exhaustive = np.zeros(F, dtype=bool)
    for f in range(F):
        s, t = int(problem.src[f]), int(problem.dst[f])
        d = float(fl.demand[f])
        key = (s, t, d if d > floor else -1.0, float(max_hops[f]), float(max_lat[f]))
        hit = memo.get(key)
        if hit is None:
            late = deadline is not None and time.perf_counter() > deadline
            hit = _enumerate(g, s, t, d, 1 if late else k, weight, float(max_hops[f]), float(max_lat[f]),
                             link_of, max_examined * k, thin=d > floor, prove=prove_exhaustive)
            if late:
                hit = (hit[0], hit[1], False)
            memo[key] = hit
        out_paths.append(hit[0])
        out_links.append(hit[1])
        exhaustive[f] = hit[2]

    counts = np.array([len(p) for p in out_paths], dtype=np.int64)
    P = int(counts.sum())
    table = np.full((F, k), -1, dtype=np.int64)
    path_flow = np.repeat(np.arange(F, dtype=np.int64), counts)
    lengths = np.array([len(lk) for lks in out_links for lk in lks], dtype=np.int64)
    L = int(lengths.max()) if P else 1
    path_links = np.full((P, L), net.m, dtype=np.int64)
    g_id = 0
    for f in range(F):
        for j, lk in enumerate(out_links[f]):
            table[f, j] = g_id
            path_links[g_id, : len(lk)] = lk
            g_id += 1
    return Candidates(k=int(k), paths=out_paths, links=out_links, exhaustive=exhaustive, table=table,
                      path_flow=path_flow, path_links=path_links, path_len=lengths,
                      seconds=time.perf_counter() - t0)


def _enumerate(g: object, s: int, t: int, demand: float, k: int, weight: str, max_hops: float,
               max_lat: float, link_of: object, budget: int, *, thin: bool = True, prove: bool = True
               ) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]], bool]:
    """Yen's enumeration on the subgraph of links that can carry ``demand``; limits filter."""
    import networkx as nx

    assert isinstance(g, nx.DiGraph)
    # A filtered view is slow to walk: use it only when some link is too thin for this demand.
    view = nx.subgraph_view(g, filter_edge=lambda u, v: g[u][v]["cap"] >= demand) if thin else g
    paths: list[tuple[int, ...]] = []
    links: list[tuple[int, ...]] = []
    exhaustive = True
    wkey = "latency" if weight == "latency" else None
    try:
        gen = nx.shortest_simple_paths(view, s, t, weight=wkey)
        for examined, path in enumerate(gen):
            if len(paths) >= k or examined >= budget:
                exhaustive = False
                break
            hops = len(path) - 1
            latency = sum(g[u][v]["latency"] for u, v in itertools.pairwise(path))
            if weight == "hops" and hops > max_hops:
                break  # every later path is at least as long
            if weight == "latency" and latency > max_lat + 1e-6:
                break
            if hops > max_hops or latency > max_lat + 1e-6:
                continue
            paths.append(tuple(path))
            links.append(tuple(link_of[(u, v)] for u, v in itertools.pairwise(path)))  # type: ignore[index]
            if not prove and len(paths) >= k:
                exhaustive = False
                break
    except nx.NetworkXNoPath:
        pass
    return paths, links, exhaustive
