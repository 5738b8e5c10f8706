"""Compact MIP models in PuLP for small instances: VRPTW, OP, PCTSP, HCVRP (and CVRP fallback).

All are arc models with MTZ-style ordering, load or time variables, meant for
small n (the solver refuses more than ``compact_limit`` customers, 25 by default,
with a message naming the limit): their LP relaxations are weak, so they prove
optimality quickly only on small instances.

- ``vrptw``: arrival times ``t_j >= t_i + s_i + d_ij - M_ij (1 - x_ij)`` with
  windows as bounds, loads ``u_j >= u_i + q_j - Q (1 - x_ij)``, at most
  ``num_vehicles`` routes.
- ``op``: visit indicators ``y``, one (possibly empty) route, MTZ order, total
  length ``<= max_length``; maximise collected prize.
- ``pctsp``: as op without the length limit, a prize quota, and distance plus
  the penalties of skipped nodes minimised.
- ``hcvrp``: vehicle-indexed arcs ``x_ijk`` and assignments ``y_ik`` (a two-index
  model cannot enforce per-vehicle capacities), one MTZ order shared by all.
- ``cvrp``/``ocvrp``: MTZ load model, used only when ``highspy`` is missing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from solvers.ilp.highs import Clock
from solvers.ilp.tsp import integral, make_pulp_solver, pulp_bound
from vrp.model import Instance, Solution
from vrp.result import Tracer


def _successors(values: dict[tuple[int, int], float]) -> dict[int, list[int]]:
    succ: dict[int, list[int]] = {}
    for (i, j), v in values.items():
        if v > 0.5:
            succ.setdefault(i, []).append(j)
    return succ


def _walk(succ: dict[int, list[int]], depot: int) -> list[list[int]]:
    routes = []
    for first in succ.get(depot, []):
        route, cur, guard = [], first, 0
        while cur != depot and guard <= len(succ) + 1:
            route.append(cur)
            cur = succ[cur][0]
            guard += 1
        routes.append(route)
    return routes


def solve_compact(inst: Instance, clock: Clock, tracer: Tracer, solver: str = "highs",
                  threads: int = 1) -> tuple[Solution | None, str, float | None, dict[str, Any]]:
    """Build and solve the compact model of ``inst``; return (solution, status, bound, info)."""
    import pulp

    v = inst.variant
    n, depot = inst.n, inst.depot
    d = inst.distances.copy()
    if inst.open_routes:
        d[:, depot] = 0.0
    nodes = list(range(n))
    cust = [i for i in nodes if i != depot]
    arcs = [(i, j) for i in nodes for j in nodes if i != j]
    sense = pulp.LpMaximize if v == "op" else pulp.LpMinimize
    prob = pulp.LpProblem(f"ilp_{v}", sense)
    info: dict[str, Any] = {"method": f"compact-mtz-{v}", "backend": solver}
    big_order = len(cust)

    if v == "hcvrp":
        assert inst.vehicle_capacities is not None and inst.demands is not None
        caps = [float(c) for c in inst.vehicle_capacities]
        veh = range(len(caps))
        xk = {(i, j, k): pulp.LpVariable(f"x_{i}_{j}_{k}", cat="Binary") for (i, j) in arcs for k in veh}
        yk = {(i, k): pulp.LpVariable(f"y_{i}_{k}", cat="Binary") for i in cust for k in veh}
        order = {i: pulp.LpVariable(f"o_{i}", 1, big_order) for i in cust}
        prob += pulp.lpSum(float(d[i, j]) * xk[i, j, k] for (i, j) in arcs for k in veh)
        for i in cust:
            prob += pulp.lpSum(yk[i, k] for k in veh) == 1
        for k in veh:
            for i in cust:
                prob += pulp.lpSum(xk[i, j, k] for j in nodes if j != i) == yk[i, k]
                prob += pulp.lpSum(xk[j, i, k] for j in nodes if j != i) == yk[i, k]
            out0 = pulp.lpSum(xk[depot, j, k] for j in cust)
            prob += out0 <= 1
            prob += out0 == pulp.lpSum(xk[j, depot, k] for j in cust)
            prob += pulp.lpSum(float(inst.demands[i]) * yk[i, k] for i in cust) <= caps[k]
        for i in cust:
            for j in cust:
                if i != j:
                    used = pulp.lpSum(xk[i, j, k] for k in veh)
                    prob += order[j] >= order[i] + 1 - big_order * (1 - used)
        x = None
    else:
        x = {(i, j): pulp.LpVariable(f"x_{i}_{j}", cat="Binary") for (i, j) in arcs}
        order = {i: pulp.LpVariable(f"o_{i}", 1, big_order) for i in cust}
        for i in cust:
            for j in cust:
                if i != j:
                    prob += order[j] >= order[i] + 1 - big_order * (1 - x[i, j])

    if v in ("op", "pctsp"):
        assert x is not None and inst.prizes is not None
        y = {i: pulp.LpVariable(f"y_{i}", cat="Binary") for i in cust}
        z = pulp.LpVariable("z", cat="Binary")  # the route is not empty
        for i in cust:
            prob += pulp.lpSum(x[i, j] for j in nodes if j != i) == y[i]
            prob += pulp.lpSum(x[j, i] for j in nodes if j != i) == y[i]
            prob += y[i] <= z
        prob += pulp.lpSum(x[depot, j] for j in cust) == z
        prob += pulp.lpSum(x[j, depot] for j in cust) == z
        length = pulp.lpSum(float(d[i, j]) * x[i, j] for (i, j) in arcs)
        prize = pulp.lpSum(float(inst.prizes[i]) * y[i] for i in cust)
        if v == "op":
            prob += prize
            prob += length <= float(inst.max_length)  # type: ignore[arg-type]
        else:
            assert inst.penalties is not None
            prob += length + pulp.lpSum(float(inst.penalties[i]) * (1 - y[i]) for i in cust)
            if inst.min_prize:
                prob += prize >= float(inst.min_prize)
    elif v in ("vrptw", "cvrp", "ocvrp"):
        assert x is not None and inst.demands is not None and inst.capacity is not None
        cap = float(inst.capacity)
        q = inst.demands
        k_max = inst.num_vehicles if inst.num_vehicles is not None else len(cust)
        prob += pulp.lpSum(float(d[i, j]) * x[i, j] for (i, j) in arcs)
        for i in cust:
            prob += pulp.lpSum(x[i, j] for j in nodes if j != i) == 1
            prob += pulp.lpSum(x[j, i] for j in nodes if j != i) == 1
        out0 = pulp.lpSum(x[depot, j] for j in cust)
        prob += out0 == pulp.lpSum(x[j, depot] for j in cust)
        prob += out0 <= k_max
        prob += out0 >= max(1, math.ceil(float(q.sum()) / cap - 1e-9))
        load = {i: pulp.LpVariable(f"u_{i}", float(q[i]), cap) for i in cust}
        for i in cust:
            for j in cust:
                if i != j:
                    prob += load[j] >= load[i] + float(q[j]) - cap * (1 - x[i, j])
        if v == "vrptw":
            assert inst.time_windows is not None
            tw = inst.time_windows
            s = inst.service_times if inst.service_times is not None else np.zeros(n)
            t = {i: pulp.LpVariable(f"t_{i}", float(tw[i, 0]), float(tw[i, 1])) for i in cust}
            start = float(tw[depot, 0]) + float(s[depot])
            for j in cust:
                # leaving the depot at its opening time is never worse (waiting is free)
                m = max(0.0, start + float(d[depot, j]) - float(tw[j, 0]))
                prob += t[j] >= start + float(d[depot, j]) - m * (1 - x[depot, j])
                for i in cust:
                    if i != j:
                        m = max(0.0, float(tw[i, 1] + s[i] + d[i, j] - tw[j, 0]))
                        prob += t[j] >= t[i] + float(s[i] + d[i, j]) - m * (1 - x[i, j])
            for i in cust:
                m = max(0.0, float(tw[i, 1] + s[i] + d[i, depot] - tw[depot, 1]))
                prob += t[i] + float(s[i] + d[i, depot]) <= float(tw[depot, 1]) + m * (1 - x[i, depot])

    ints = integral(d) and (v != "pctsp" or inst.penalties is None or integral(inst.penalties))
    if v == "op":
        ints = integral(inst.prizes)  # type: ignore[arg-type]
    backend = make_pulp_solver(solver, max(0.05, clock.left()), threads, gap_abs=0.999 if ints else 1e-7)
    prob.solve(backend)
    pstat = pulp.LpStatus[prob.status]
    sol_status = getattr(prob, "sol_status", None)
    info["pulp_status"] = pstat
    bound = pulp_bound(prob)
    if pstat == "Infeasible":
        return None, "infeasible", None, info
    if sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return None, "timeout", bound, info

    if v == "hcvrp":
        routes = []
        for k in range(len(inst.vehicle_capacities)):  # type: ignore[arg-type]
            succ = _successors({(i, j): xk[i, j, k].value() or 0.0 for (i, j) in arcs})
            r = _walk(succ, depot)
            routes.append(r[0] if r else [])
    else:
        assert x is not None
        routes = _walk(_successors({a: x[a].value() or 0.0 for a in arcs}), depot)
        if v in ("op", "pctsp"):
            routes = routes[:1] or [[]]
    obj = float(pulp.value(prob.objective) or 0.0)
    if v == "pctsp" and not cust:
        obj = 0.0
    tracer.offer(obj)
    status = "optimal" if sol_status == pulp.LpSolutionOptimal else "feasible"
    if status == "optimal":
        bound = obj
    return Solution(routes), status, bound, info
