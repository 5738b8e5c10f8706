"""Two construction baselines: ``nearest`` (nearest neighbour / nearest feasible
insertion, every routing variant) and ``savings`` (Clarke-Wright parallel savings,
time-window aware).

They are deterministic and fast (milliseconds to a second for 1000 nodes) and
are the honest floor every other solver is compared with.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from solvers.base import BaseSolver
from solvers.registry import ALL_ROUTING
from vrp.evaluate import evaluate
from vrp.model import Instance, Solution
from vrp.result import Result

EPS = 1e-6


class RouteChecker:
    """Feasibility of single routes under capacity, time windows and route length."""

    def __init__(self, instance: Instance) -> None:
        self.inst = instance
        self.d = instance.distances
        self.depot = instance.depot
        self.demand = instance.demands.tolist() if instance.demands is not None else [0.0] * instance.n
        tw = instance.time_windows
        self.ready = tw[:, 0].tolist() if tw is not None else None
        self.due = tw[:, 1].tolist() if tw is not None else None
        st = instance.service_times
        self.service = st.tolist() if st is not None else [0.0] * instance.n

    def load(self, route: list[int]) -> float:
        return float(sum(self.demand[v] for v in route))

    def length(self, route: list[int]) -> float:
        if not route:
            return 0.0
        d, o = self.d, self.depot
        total = d[o, route[0]] + sum(d[a, b] for a, b in zip(route, route[1:]))
        if not self.inst.open_routes:
            total += d[route[-1], o]
        return float(total)

    def time_ok(self, route: list[int]) -> bool:
        if self.ready is None or self.due is None:
            return True
        d, o = self.d, self.depot
        t, prev = self.ready[o], o
        for v in route:
            t = t + self.service[prev] + d[prev, v]
            if t > self.due[v] + EPS:
                return False
            t = max(t, self.ready[v])
            prev = v
        return t + self.service[prev] + d[prev, o] <= self.due[o] + EPS

    def ok(self, route: list[int], capacity: float) -> bool:
        if self.load(route) > capacity + EPS:
            return False
        if self.inst.max_length is not None and self.length(route) > self.inst.max_length + EPS:
            return False
        return self.time_ok(route)


def _insertion_cost(inst: Instance, route: list[int], pos: int, v: int) -> float:
    d, o = inst.distances, inst.depot
    prev = route[pos - 1] if pos > 0 else o
    if pos < len(route):
        nxt = route[pos]
        return float(d[prev, v] + d[v, nxt] - d[prev, nxt])
    if inst.open_routes:
        return float(d[prev, v])
    return float(d[prev, v] + d[v, o] - d[prev, o])


def best_insertion(inst: Instance, chk: RouteChecker, routes: list[list[int]], caps: list[float],
                   v: int, skip: int | None = None) -> tuple[float, int, int] | None:
    """Cheapest feasible (cost, route, position) to insert ``v``; None if nowhere fits."""
    best = None
    for r, route in enumerate(routes):
        if r == skip or chk.load(route) + chk.demand[v] > caps[r] + EPS:
            continue
        for pos in range(len(route) + 1):
            c = _insertion_cost(inst, route, pos, v)
            if best is not None and c >= best[0]:
                continue
            cand = route[:pos] + [v] + route[pos:]
            if chk.ok(cand, caps[r]):
                best = (c, r, pos)
    return best


def reduce_routes(inst: Instance, chk: RouteChecker, routes: list[list[int]], limit: int,
                  caps: list[float]) -> list[list[int]]:
    """Empty the smallest routes by feasible insertion until at most ``limit`` remain."""
    routes = [list(r) for r in routes if r]
    guard = 0
    while len(routes) > limit and guard < 4 * len(routes) + 10:
        guard += 1
        order = sorted(range(len(routes)), key=lambda r: (len(routes[r]), chk.load(routes[r])))
        for r in order:
            trial = [list(x) for x in routes]
            moved = True
            for v in list(trial[r]):
                trial[r].remove(v)
                ins = best_insertion(inst, chk, trial, [caps[0]] * len(trial), v, skip=r)
                if ins is None:
                    moved = False
                    break
                _, rr, pos = ins
                trial[rr].insert(pos, v)
            if moved:
                routes = [x for i, x in enumerate(trial) if i != r]
                break
        else:
            break
    return routes


@dataclass
class NearestParams:
    """Options of ``nearest``: none but the strategy for op (``nearest`` or ``ratio``)."""

    op_rule: str = "nearest"

    def __post_init__(self) -> None:
        if self.op_rule not in ("nearest", "ratio"):
            raise ValueError(f"op_rule: must be 'nearest' or 'ratio', got {self.op_rule!r}")


class NearestSolver(BaseSolver):
    """Nearest neighbour (tsp, atsp, cvrp, ocvrp, vrptw, op, pctsp) and nearest
    feasible insertion repairs (fleet limits, hcvrp, pctsp prize quota)."""

    name = "nearest"
    variants = ALL_ROUTING
    Params = NearestParams

    def _solve(self, instance: Instance, time_limit: float, seed: int, start: float) -> Result:
        v = instance.variant
        if v in ("tsp", "atsp"):
            routes = [self._tour(instance, list(instance.customers))]
        elif v == "op":
            routes = [self._op(instance)]
        elif v == "pctsp":
            routes = [self._pctsp(instance)]
        elif v == "hcvrp":
            routes = self._hcvrp(instance)
        else:
            routes = self._vrp(instance)
        return _result(instance, routes, start)

    @staticmethod
    def _tour(inst: Instance, todo: list[int]) -> list[int]:
        d = inst.distances
        left = np.zeros(inst.n, dtype=bool)
        left[todo] = True
        cur, tour = inst.depot, []
        for _ in range(len(todo)):
            row = np.where(left, d[cur], np.inf)
            nxt = int(np.argmin(row))
            tour.append(nxt)
            left[nxt] = False
            cur = nxt
        return tour

    def _vrp(self, inst: Instance) -> list[list[int]]:
        chk = RouteChecker(inst)
        d, o = inst.distances, inst.depot
        cap = inst.capacity_of(0)
        left = np.zeros(inst.n, dtype=bool)
        left[inst.customers] = True
        demand = np.asarray(chk.demand)
        routes: list[list[int]] = []
        while left.any():
            route: list[int] = []
            load, cur = 0.0, o
            t = chk.ready[o] if chk.ready is not None else 0.0
            while True:
                cand = left & (demand + load <= cap + EPS)
                if chk.ready is not None:
                    arrive = t + chk.service[cur] + d[cur]
                    start = np.maximum(arrive, inst.time_windows[:, 0])  # type: ignore[index]
                    back = start + inst.service_times + d[:, o]  # type: ignore[operator]
                    cand &= (arrive <= inst.time_windows[:, 1] + EPS) & (back <= chk.due[o] + EPS)  # type: ignore[index]
                    # nearest in time (Solomon's NN): travel plus waiting
                    score = np.where(cand, start - t, np.inf)
                else:
                    score = np.where(cand, d[cur], np.inf)
                if not cand.any():
                    break
                nxt = int(np.argmin(score))
                route.append(nxt)
                left[nxt] = False
                load += demand[nxt]
                if chk.ready is not None:
                    t = max(t + chk.service[cur] + d[cur, nxt], chk.ready[nxt])
                cur = nxt
            if not route:  # cannot even serve one customer alone: infeasible instance
                break
            routes.append(route)
        if left.any():
            return routes + [[int(v)] for v in np.flatnonzero(left)]
        if inst.num_vehicles is not None and len(routes) > inst.num_vehicles:
            routes = reduce_routes(inst, chk, routes, inst.num_vehicles, [cap] * len(routes))
        return routes

    def _hcvrp(self, inst: Instance) -> list[list[int]]:
        chk = RouteChecker(inst)
        assert inst.vehicle_capacities is not None
        caps = inst.vehicle_capacities.tolist()
        m = len(caps)
        d, o = inst.distances, inst.depot
        demand = np.asarray(chk.demand)
        left = np.zeros(inst.n, dtype=bool)
        left[inst.customers] = True
        routes: list[list[int]] = [[] for _ in range(m)]
        for k in sorted(range(m), key=lambda k: -caps[k]):
            load, cur = 0.0, o
            while True:
                cand = left & (demand + load <= caps[k] + EPS)
                if not cand.any():
                    break
                nxt = int(np.argmin(np.where(cand, d[cur], np.inf)))
                routes[k].append(nxt)
                left[nxt] = False
                load += demand[nxt]
                cur = nxt
        for v in np.flatnonzero(left):  # leftovers: cheapest feasible insertion anywhere
            ins = best_insertion(inst, chk, routes, caps, int(v))
            if ins is None:
                k = int(np.argmax([caps[r] - chk.load(routes[r]) for r in range(m)]))
                routes[k].append(int(v))
            else:
                routes[ins[1]].insert(ins[2], int(v))
        return routes

    def _op(self, inst: Instance) -> list[int]:
        d, o = inst.distances, inst.depot
        assert inst.prizes is not None and inst.max_length is not None
        left = np.zeros(inst.n, dtype=bool)
        left[inst.customers] = True
        route: list[int] = []
        cur, length = o, 0.0
        while True:
            reach = left & (length + d[cur] + d[:, o] <= inst.max_length + EPS)
            if not reach.any():
                break
            if self.params.op_rule == "ratio":
                score = np.where(reach, -inst.prizes / np.maximum(d[cur], 1e-9), np.inf)
            else:
                score = np.where(reach, d[cur], np.inf)
            nxt = int(np.argmin(score))
            route.append(nxt)
            length += d[cur, nxt]
            left[nxt] = False
            cur = nxt
        return route

    def _pctsp(self, inst: Instance) -> list[int]:
        d, o = inst.distances, inst.depot
        assert inst.prizes is not None and inst.penalties is not None
        quota = inst.min_prize or 0.0
        left = np.zeros(inst.n, dtype=bool)
        left[inst.customers] = True
        route: list[int] = []
        cur, prize = o, 0.0
        while prize < quota - 1e-12 and left.any():
            nxt = int(np.argmin(np.where(left, d[cur], np.inf)))
            route.append(nxt)
            prize += inst.prizes[nxt]
            left[nxt] = False
            cur = nxt
        # Then insert any node whose penalty exceeds its cheapest insertion cost.
        improved = True
        while improved:
            improved = False
            best = None
            for v in np.flatnonzero(left):
                costs = [_insertion_cost(inst, route, p, int(v)) for p in range(len(route) + 1)]
                p = int(np.argmin(costs))
                gain = inst.penalties[v] - costs[p]
                if gain > EPS and (best is None or gain > best[0]):
                    best = (gain, int(v), p)
            if best is not None:
                route.insert(best[2], best[1])
                left[best[1]] = False
                improved = True
        return route


@dataclass
class SavingsParams:
    """Options of ``savings``.

    neighbours
        Savings are computed only for each customer's ``neighbours`` nearest
        customers (0 = all pairs); keeps large instances fast.
    """

    neighbours: int = 0

    def __post_init__(self) -> None:
        if self.neighbours < 0:
            raise ValueError(f"neighbours: must be >= 0, got {self.neighbours}")


class SavingsSolver(BaseSolver):
    """Clarke-Wright parallel savings; merges keep capacity and time windows."""

    name = "savings"
    variants = frozenset({"cvrp", "ocvrp", "hcvrp", "vrptw"})
    Params = SavingsParams

    def _solve(self, instance: Instance, time_limit: float, seed: int, start: float) -> Result:
        inst = instance
        chk = RouteChecker(inst)
        d, o = inst.distances, inst.depot
        cust = inst.customers
        cap = float(inst.vehicle_capacities.max()) if inst.vehicle_capacities is not None else inst.capacity_of(0)
        # savings s(i, j) of serving j right after i
        back = 0.0 if inst.open_routes else 1.0
        s = back * d[cust, o][:, None] + d[o, cust][None, :] - d[np.ix_(cust, cust)]
        np.fill_diagonal(s, -np.inf)
        k = self.params.neighbours
        if k and k < len(cust) - 1:
            far = np.argsort(d[np.ix_(cust, cust)], axis=1)[:, k + 1:]
            np.put_along_axis(s, far, -np.inf, axis=1)
        flat = np.argsort(-s, axis=None, kind="stable")
        vals = s.ravel()[flat]
        flat = flat[vals > 0]
        route_of = {int(v): i for i, v in enumerate(cust)}
        routes: dict[int, list[int]] = {i: [int(v)] for i, v in enumerate(cust)}
        loads = {i: chk.demand[int(v)] for i, v in enumerate(cust)}
        symmetric = inst.is_symmetric and inst.time_windows is None
        nc = len(cust)
        firsts = cust[flat // nc].tolist()
        seconds = cust[flat % nc].tolist()
        # A node inside a route stays inside: its pairs are skipped without a look at the routes
        # (most of the n^2 pairs at 1000 nodes; the merges are the same as without the test).
        interior = [False] * inst.n
        for a, b in zip(firsts, seconds):
            if interior[a] or interior[b]:
                continue
            ra, rb = route_of[a], route_of[b]
            if ra == rb or loads[ra] + loads[rb] > cap + EPS:
                continue
            A, B = routes[ra], routes[rb]
            if A[-1] == a and B[0] == b:
                merged = A + B
            elif symmetric and A[0] == a and B[0] == b:
                merged = A[::-1] + B
            elif symmetric and A[-1] == a and B[-1] == b:
                merged = A + B[::-1]
            elif symmetric and A[0] == a and B[-1] == b:
                merged = A[::-1] + B[::-1]
            else:
                continue
            if inst.time_windows is not None and not chk.time_ok(merged):
                continue
            routes[ra] = merged
            for v in (a, b):
                if v != merged[0] and v != merged[-1]:
                    interior[v] = True
            loads[ra] += loads[rb]
            del routes[rb], loads[rb]
            for v in B:
                route_of[v] = ra
        result = [routes[k] for k in sorted(routes)]
        if inst.vehicle_capacities is not None:
            result = _assign_vehicles(inst, chk, result)
        elif inst.num_vehicles is not None and len(result) > inst.num_vehicles:
            result = reduce_routes(inst, chk, result, inst.num_vehicles, [cap] * len(result))
        return _result(inst, result, start)


def _assign_vehicles(inst: Instance, chk: RouteChecker, routes: list[list[int]]) -> list[list[int]]:
    """Routes to vehicles, largest load first into the tightest fitting vehicle; leftovers inserted."""
    assert inst.vehicle_capacities is not None
    caps = inst.vehicle_capacities.tolist()
    out: list[list[int]] = [[] for _ in caps]
    orphans: list[int] = []
    for route in sorted(routes, key=lambda r: -chk.load(r)):
        load = chk.load(route)
        free = [k for k in range(len(caps)) if not out[k] and caps[k] >= load - EPS]
        if free:
            out[min(free, key=lambda k: caps[k])] = list(route)
        else:
            orphans.extend(route)
    for v in orphans:
        ins = best_insertion(inst, chk, out, caps, v)
        if ins is None:
            k = int(np.argmax([caps[r] - chk.load(out[r]) for r in range(len(caps))]))
            out[k].append(v)
        else:
            out[ins[1]].insert(ins[2], v)
    return out


def _result(inst: Instance, routes: list[list[int]], start: float) -> Result:
    sol = Solution(routes)
    # The trace holds one point: the construction's value at the moment it was built.
    return Result(solution=sol, status="feasible", runtime=0.0,
                  trace=[(time.perf_counter() - start, evaluate(inst, sol).objective)])
