"""Exact optima of tiny instances by plain enumeration: the reference the solvers are checked against.

Every route over every subset of customers is enumerated in every order, then
routes are combined by a set-partition recursion (per vehicle for hcvrp). Only
for n <= 8 nodes: it is slow by design and obviously correct.
"""

from __future__ import annotations

import itertools
import math
from functools import cache

from vrp.model import Instance

EPS = 1e-6


def _route_costs(inst: Instance) -> dict[frozenset[int], tuple[float, tuple[int, ...]]]:
    """Cheapest feasible single route (by distance) for every non-empty customer subset."""
    d = inst.distances
    o = inst.depot
    cust = [int(c) for c in inst.customers]
    tw = inst.time_windows
    service = inst.service_times
    best: dict[frozenset[int], tuple[float, tuple[int, ...]]] = {}
    for k in range(1, len(cust) + 1):
        for subset in itertools.combinations(cust, k):
            top = (math.inf, ())
            for perm in itertools.permutations(subset):
                cost = d[o, perm[0]] + sum(d[a, b] for a, b in zip(perm, perm[1:]))
                if not inst.open_routes:
                    cost += d[perm[-1], o]
                if cost >= top[0]:
                    continue
                if tw is not None:
                    t, prev, ok = tw[o, 0], o, True
                    for v in perm:
                        t = t + (service[prev] if service is not None else 0) + d[prev, v]
                        if t > tw[v, 1] + EPS:
                            ok = False
                            break
                        t = max(t, tw[v, 0])
                        prev = v
                    back = t + (service[prev] if service is not None else 0) + d[prev, o]
                    if not ok or back > tw[o, 1] + EPS:
                        continue
                top = (float(cost), perm)
            if top[1]:
                best[frozenset(subset)] = top
    return best


def optimum(inst: Instance) -> float:
    """The optimal objective (in the instance's own sense); inf/-inf when infeasible."""
    if inst.n > 9:
        raise ValueError("brute force is for n <= 9 nodes")
    routes = _route_costs(inst)
    cust = frozenset(int(c) for c in inst.customers)
    v = inst.variant
    if v in ("tsp", "atsp"):
        return routes[cust][0]
    if v == "op":
        best = 0.0
        for s, (c, _) in routes.items():
            if c <= inst.max_length + EPS:  # type: ignore[operator]
                best = max(best, float(sum(inst.prizes[list(s)])))  # type: ignore[index]
        return best
    if v == "pctsp":
        best = math.inf
        quota = inst.min_prize or 0.0
        total_pen = float(inst.penalties.sum())  # type: ignore[union-attr]
        if quota <= EPS:
            best = total_pen  # visiting nobody
        for s, (c, _) in routes.items():
            if float(sum(inst.prizes[list(s)])) >= quota - EPS:  # type: ignore[index]
                best = min(best, c + total_pen - float(sum(inst.penalties[list(s)])))  # type: ignore[index]
        return best
    demand = inst.demands
    assert demand is not None

    def load(s: frozenset[int]) -> float:
        return float(sum(demand[list(s)]))

    if v == "hcvrp":
        caps = inst.vehicle_capacities.tolist()  # type: ignore[union-attr]

        @cache
        def per_vehicle(k: int, left: frozenset[int]) -> float:
            if not left:
                return 0.0
            if k == len(caps):
                return math.inf
            best = per_vehicle(k + 1, left)  # vehicle k unused
            for r in range(1, len(left) + 1):
                for sub in itertools.combinations(sorted(left), r):
                    s = frozenset(sub)
                    if s in routes and load(s) <= caps[k] + EPS:
                        best = min(best, routes[s][0] + per_vehicle(k + 1, left - s))
            return best

        return per_vehicle(0, cust)

    cap = float(inst.capacity)  # type: ignore[arg-type]
    limit = inst.num_vehicles if inst.num_vehicles is not None else len(cust)

    @cache
    def partition(left: frozenset[int], k: int) -> float:
        if not left:
            return 0.0
        if k == 0:
            return math.inf
        first = min(left)
        rest = sorted(left - {first})
        best = math.inf
        for r in range(len(rest) + 1):
            for sub in itertools.combinations(rest, r):
                s = frozenset((first, *sub))
                if s in routes and load(s) <= cap + EPS:
                    best = min(best, routes[s][0] + partition(left - s, k - 1))
        return best

    return partition(cust, limit)
