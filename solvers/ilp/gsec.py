"""Exact OP, PCTSP and HCVRP with generalized subtour cuts separated in rounds (HiGHS in memory).

Arc variables ``x`` and visit variables ``y`` (per vehicle for hcvrp: a
vehicle-indexed model, since a two-index model cannot enforce per-vehicle
capacities). Degrees: ``out(v) = in(v) = y_v``; a customer is visited only if
the route (vehicle) is used. Connectivity comes from the generalized subtour
elimination constraints

    x(A(S)) <= y(S) - y_i          for customer sets S and i in S

(equivalently ``x(δ+(S)) >= y_i``), separated on the LP relaxation (components,
then a depot-i minimum cut for every visited i) and on every integer answer
(its components away from the depot), re-solving until none is violated. Far
stronger than the MTZ models of :mod:`solvers.ilp.compact`, which remain the CBC
fallback.
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import numpy as np

from solvers.ilp import cuts as sep
from solvers.ilp.highs import Clock, HighsModel
from vrp.model import Instance, Solution
from vrp.result import Tracer

Row = tuple[np.ndarray, np.ndarray, float, float]


class _Block:
    """One vehicle's arcs and visits: column offsets into the model."""

    def __init__(self, n: int, x0: int, y0: int) -> None:
        i, j = np.nonzero(~np.eye(n, dtype=bool))
        self.n, self.i, self.j, self.m = n, i, j, i.size
        self.x0, self.y0 = x0, y0
        idx = np.full((n, n), -1, dtype=np.int64)
        idx[i, j] = x0 + np.arange(self.m)
        self.idx = idx

    def degree_rows(self) -> list[Row]:
        rows = []
        for v in range(self.n):
            out = self.idx[v][self.idx[v] >= 0]
            inn = self.idx[:, v][self.idx[:, v] >= 0]
            for cols in (out, inn):
                rows.append((np.append(cols, self.y0 + v), np.append(np.ones(cols.size), -1.0), 0.0, 0.0))
        return rows

    def gsec(self, s: np.ndarray, i: int) -> Row:
        inside = self.idx[np.ix_(s, s)][~np.eye(s.size, dtype=bool)]
        ys = self.y0 + s[s != i]
        return (np.concatenate([inside, ys]), np.concatenate([np.ones(inside.size), -np.ones(ys.size)]),
                -np.inf, 0.0)

    def support(self, x: np.ndarray) -> np.ndarray:
        w = np.zeros((self.n, self.n))
        w[self.i, self.j] = x[self.x0:self.x0 + self.m]
        return w + w.T

    def visits(self, x: np.ndarray) -> np.ndarray:
        return x[self.y0:self.y0 + self.n]

    def route(self, x: np.ndarray, depot: int) -> list[int] | None:
        succ = {}
        for k in np.flatnonzero(x[self.x0:self.x0 + self.m] > 0.5):
            succ[int(self.i[k])] = int(self.j[k])
        if depot not in succ:
            return []
        route, cur = [], succ[depot]
        while cur != depot:
            if cur in route or cur not in succ:
                return None
            route.append(cur)
            cur = succ[cur]
        return route

    def vector(self, route: list[int], depot: int, total: int) -> np.ndarray:
        x = np.zeros(total)
        if route:
            seq = [depot, *route, depot]
            for a, b in zip(seq, seq[1:]):
                x[self.idx[a, b]] = 1.0
            x[self.y0 + np.array([depot, *route])] = 1.0
        return x


def _separate(block: _Block, x: np.ndarray, depot: int, exact: bool) -> list[Row]:
    """Violated GSECs of one block: components away from the depot, then depot-i min cuts."""
    w = block.support(x)
    y = block.visits(x)
    rows: list[Row] = []
    seen: set[bytes] = set()
    for comp in sep.components(w):
        if depot in comp:
            continue
        i = int(comp[np.argmax(y[comp])])
        if y[i] > 1e-6:
            rows.append(block.gsec(comp, i))
            seen.add(np.sort(comp).tobytes())
    if rows or not exact:
        return rows
    g = nx.Graph()
    a, b = np.nonzero(np.triu(w, 1) > 1e-9)
    for u, v in zip(a.tolist(), b.tolist()):
        g.add_edge(u, v, capacity=float(w[u, v]))
    for i in np.argsort(-y):
        i = int(i)
        if i == depot or y[i] < 1e-6 or i not in g or depot not in g:
            continue
        value, (side_d, side_i) = nx.minimum_cut(g, depot, i)
        if value < 2.0 * y[i] - 1e-6:
            s = np.array(sorted(side_i if depot in side_d else side_d), dtype=np.int64)
            key = s.tobytes()
            if depot not in s and key not in seen:
                seen.add(key)
                rows.append(block.gsec(s, i))
    return rows


def solve_gsec(inst: Instance, clock: Clock, tracer: Tracer, threads: int = 1,
               start: Solution | None = None) -> tuple[Solution | None, str, float | None, dict[str, Any]]:
    """OP / PCTSP / HCVRP by GSEC cutting planes (see the module docstring)."""
    v = inst.variant
    n, depot, d = inst.n, inst.depot, inst.distances
    cust = np.array([c for c in range(n) if c != depot])
    info: dict[str, Any] = {"method": f"gsec-cuts-{v}", "lp_rounds": 0, "mip_rounds": 0, "cuts": 0}
    m_arcs = n * (n - 1)
    vehicles = int(inst.vehicle_capacities.size) if v == "hcvrp" else 1  # type: ignore[union-attr]
    blocks = [_Block(n, k * (m_arcs + n), k * (m_arcs + n) + m_arcs) for k in range(vehicles)]
    total = vehicles * (m_arcs + n)
    costs = np.zeros(total)
    lower, upper = np.zeros(total), np.ones(total)
    offset = 0.0  # constant term of the objective (pctsp: every penalty)
    sign = 1.0  # the model minimises; op's prize is maximised as -prize
    rows: list[Row] = []
    for b in blocks:
        costs[b.x0:b.x0 + b.m] = d[b.i, b.j]
        rows += b.degree_rows()
        for c in cust:  # a customer is visited only by a used vehicle / route
            rows.append((np.array([b.y0 + c, b.y0 + depot]), np.array([1.0, -1.0]), -np.inf, 0.0))
    if v == "op":
        assert inst.prizes is not None and inst.max_length is not None
        b = blocks[0]
        costs[:] = 0.0
        costs[b.y0 + cust] = -inst.prizes[cust]
        sign = -1.0
        length = float(inst.max_length)
        rows.append((np.arange(b.x0, b.x0 + b.m), d[b.i, b.j].astype(float), -np.inf, length))
        # No route of length <= L uses an arc (i, j) with d(0,i) + d(i,j) + d(j,0) > L.
        via = d[depot, b.i] + d[b.i, b.j] + d[b.j, depot]
        upper[b.x0 + np.flatnonzero(via > length + 1e-9)] = 0.0
        far = cust[d[depot, cust] + d[cust, depot] > length + 1e-9]
        upper[b.y0 + far] = 0.0
    elif v == "pctsp":
        assert inst.prizes is not None and inst.penalties is not None
        b = blocks[0]
        costs[b.y0 + cust] = -inst.penalties[cust]
        offset = float(inst.penalties[cust].sum())
        if inst.min_prize:
            rows.append((b.y0 + cust, inst.prizes[cust].astype(float), float(inst.min_prize), np.inf))
    else:  # hcvrp
        assert inst.vehicle_capacities is not None and inst.demands is not None
        caps = inst.vehicle_capacities
        for c in cust:
            rows.append((np.array([b.y0 + c for b in blocks]), np.ones(vehicles), 1.0, 1.0))
        for k, b in enumerate(blocks):
            rows.append((b.y0 + cust, inst.demands[cust].astype(float), -np.inf, float(caps[k])))
        # symmetry: among equal vehicles, use the lower-numbered one first
        for k in range(vehicles - 1):
            if caps[k] == caps[k + 1]:
                rows.append((np.array([blocks[k].y0 + depot, blocks[k + 1].y0 + depot]), np.array([1.0, -1.0]),
                             0.0, np.inf))
    model = HighsModel(costs, lower, upper, threads=threads)
    model.add_rows(rows)

    def objective(model_value: float) -> float:
        return sign * (model_value + offset)

    best_x: np.ndarray | None = None
    best_val = math.inf
    if start is not None:
        vec = np.zeros(total)
        for k, b in enumerate(blocks):
            r = list(start.routes[k]) if k < len(start.routes) else []
            vec += b.vector(r, depot, total)
        best_x, best_val = vec, float(costs @ vec)

    lb = -math.inf
    while clock.left() > 0:
        model.set_time_limit(clock.left())
        status, obj, x, _ = model.solve_lp()
        if status == "infeasible":
            return None, "infeasible", None, info
        if status != "optimal":
            break
        info["lp_rounds"] += 1
        lb = max(lb, obj)
        found = [r for b in blocks for r in _separate(b, x, depot, exact=True)]
        if not found and v == "hcvrp":
            found = _capacity_rows(blocks, inst, x)
        if not found:
            break
        model.add_rows(found)
        info["cuts"] += len(found)

    model.make_integer()
    model.set_mip_gaps(False)
    status = "feasible"
    while clock.left() > 0.05:
        model.set_time_limit(clock.left())
        mstatus, mobj, mbound, xs = model.solve_mip()
        info["mip_rounds"] += 1
        if mstatus == "infeasible" and best_x is None:
            return None, "infeasible", None, info
        if math.isfinite(mbound):
            lb = max(lb, mbound)
        if xs is None:
            break
        found = [r for b in blocks for r in _separate(b, xs, depot, exact=False)]
        if not found:
            val = float(costs @ xs)
            if val < best_val - 1e-9:
                best_x, best_val = xs, val
                tracer.offer(objective(val))
            if mstatus == "optimal":
                lb = max(lb, val)
            break
        if mstatus != "optimal":
            break
        lb = max(lb, float(mobj))  # type: ignore[arg-type]
        model.add_rows(found)
        info["cuts"] += len(found)
    if best_x is None:
        return None, "timeout", (objective(lb) if math.isfinite(lb) else None), info
    routes = [b.route(best_x, depot) or [] for b in blocks]
    lb = min(lb, best_val)
    tol = 1e-9 * max(1.0, abs(best_val)) + 1e-7
    if lb >= best_val - tol:
        status = "optimal"
        lb = best_val
    bound = objective(lb) if math.isfinite(lb) else None
    return Solution(routes), status, bound, info


def _capacity_rows(blocks: list[_Block], inst: Instance, x: np.ndarray) -> list[Row]:
    """Rounded capacity cuts on the fleet-aggregated arcs.

    Every customer leaves exactly once over all vehicles, so
    ``sum_k x_k(A(S)) <= |S| - k(S)`` is valid, with ``k(S)`` the least number of
    vehicles (largest first) whose capacities add up to ``d(S)``.
    """
    assert inst.demands is not None and inst.vehicle_capacities is not None
    w = np.sum([b.support(x) for b in blocks], axis=0)
    rows: list[Row] = []
    caps = inst.vehicle_capacities
    for s, need in sep.capacity_cuts(w, inst.demands, float(caps.max()), inst.depot, fleet=caps):
        cols = np.concatenate([b.idx[np.ix_(s, s)][~np.eye(s.size, dtype=bool)] for b in blocks])
        rows.append((cols, np.ones(cols.size), -np.inf, float(s.size - need)))
    return rows
