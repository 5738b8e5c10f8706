"""PyVRP (MIT) as the reference solver ``pyvrp`` (optional extra ``vrp-toolkit[pyvrp]``).

A thin adapter onto ``pyvrp.solve`` (PyVRP 0.14: iterated local search): our
instance becomes a ``ProblemData`` with integer matrices, PyVRP's best solution
becomes our routes, and the evaluator re-scores them.

Variants it handles faithfully:

tsp, atsp   one vehicle without capacity (PyVRP takes asymmetric matrices).
cvrp        one vehicle type; an unlimited fleet gets one vehicle per customer
            (PyVRP pays nothing for unused vehicles).
ocvrp       vehicles end at a second, dummy depot that every client reaches at
            cost 0 (and from which nothing is reachable).
vrptw       durations = distances (+ service at the client), client windows, the
            depot window on the vehicle type, the instance's fleet limit.
hcvrp       one vehicle type per vehicle (``num_available=1``), so ``routes[k]``
            maps back to vehicle ``k``.
op          optional clients with prizes; the length limit as ``max_distance``
            on a fine distance matrix that costs nothing, and a coarse duration
            matrix as a tie-break worth far less than the smallest prize.

Not pctsp: PyVRP has no minimum-prize quota, so it cannot model that variant.

Integer scaling: integral data (TSPLIB, CVRPLIB) is used as is, one-decimal
data (Solomon) is scaled by 10, and float data by a power of ten (about seven
significant digits per arc); travel and service times are rounded up and limits
down wherever a constraint depends on them, so an accepted solution is feasible
under the exact data.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxIterations, MultipleCriteria

from solvers.base import BaseSolver
from solvers.scaling import distance_scale, resource_scale, scale_down, scale_up
from vrp.model import Instance, Solution
from vrp.result import Result, Tracer

_FAR = 10**12  # an arc that must never be used (dummy end depot -> anything)


@dataclass
class PyvrpParams:
    """Parameters of the ``pyvrp`` solver.

    Attributes
    ----------
    max_iterations
        Stop after this many iterations as well (deterministic under a seed); None:
        only the time limit stops.
    num_vehicles
        Fleet size for an unlimited cvrp/ocvrp fleet; None gives one per customer.
    """

    max_iterations: int | None = None
    num_vehicles: int | None = None

    def __post_init__(self) -> None:
        if self.max_iterations is not None and self.max_iterations < 1:
            raise ValueError(f"max_iterations: must be positive, got {self.max_iterations}")
        if self.num_vehicles is not None and self.num_vehicles < 1:
            raise ValueError(f"num_vehicles: must be positive, got {self.num_vehicles}")


class PyvrpSolver(BaseSolver):
    """PyVRP's iterated local search, the open-source reference."""

    name = "pyvrp"
    iteration_option = "max_iterations"
    variants = frozenset({"tsp", "atsp", "cvrp", "ocvrp", "vrptw", "hcvrp", "op"})
    Params = PyvrpParams

    def _solve(self, instance: Instance, time_limit: float, seed: int, start: float) -> Result:
        p: PyvrpParams = self.params
        tracer = Tracer(instance.sense, start=start, callback=self.progress)
        data, order, scale, to_objective = build(instance, p)
        margin = max(0.05, 0.01 * time_limit)
        remaining = time_limit - tracer.elapsed() - margin
        if remaining <= 0:
            return Result(None, "timeout", tracer.elapsed(), trace=tracer.trace, threads=1)
        # PyVRP's MaxRuntime starts at its first call, after its neighbour lists and the
        # exhaustive descent from a random solution (over a second at 1000 nodes on a busy
        # machine, which was run on top of the limit): our deadline counts them.
        stop: Any = Deadline(time.perf_counter() + remaining)
        if p.max_iterations is not None:
            stop = MultipleCriteria([stop, MaxIterations(p.max_iterations)])
        offset = tracer.elapsed()
        # PyVRP caps its penalty per unit of excess load/time; with finely scaled float
        # distances the default cap (1e5) is below one arc's cost, so raise it with them.
        mat = np.asarray(data.distance_matrices()[0])
        top = float(mat[mat < _FAR].max())
        params = pyvrp.SolveParams(penalty=pyvrp.PenaltyParams(max_penalty=max(1e5, 10.0 * top)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            res = pyvrp.solve(data, stop=stop, seed=seed, collect_stats=True, display=False, params=params)
        elapsed = offset
        for rt, datum in zip(res.stats.runtimes, res.stats.data):
            elapsed += rt
            if datum.best_feas:
                _offer_at(tracer, elapsed, to_objective(datum.best_cost))
        best = res.best
        info = {"iterations": res.num_iterations, "cost_scale": scale, "pyvrp_cost": res.cost()}
        if not best.is_feasible():
            return Result(None, "timeout", tracer.elapsed(), trace=tracer.trace, info=info)
        routes = translate_back(instance, best, order)
        return Result(Solution(routes), "feasible", tracer.elapsed(), trace=tracer.trace, info=info)


class Deadline:
    """A PyVRP stopping criterion: stop at a wall-clock instant (``time.perf_counter`` seconds)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def __call__(self, best_cost: float) -> bool:
        return time.perf_counter() >= self.deadline


def _offer_at(tracer: Tracer, seconds: float, value: float) -> None:
    """Record an improvement at a known time (PyVRP reports its statistics afterwards)."""
    better = tracer.best is None or (value < tracer.best - 1e-9 if tracer.sense == "min"
                                     else value > tracer.best + 1e-9)
    if better:
        tracer.best = float(value)
        tracer.trace.append((seconds, float(value)))
        if tracer.callback is not None:
            tracer.callback(seconds, float(value))


def build(inst: Instance, p: PyvrpParams) -> tuple[pyvrp.ProblemData, list[int], float, Callable[[float], float]]:
    """Our instance as a ``ProblemData``; returns (data, node of each location, scale, cost->objective)."""
    v = inst.variant
    depot = inst.depot
    order = [depot, *[int(i) for i in inst.customers]]  # location k is our node order[k]
    d = inst.distances[np.ix_(order, order)]
    n = len(order)
    coords = inst.coords[order] if inst.coords is not None else np.zeros((n, 2))
    scale = distance_scale(d)
    dist = np.round(d * scale).astype(np.int64)
    duration = dist.copy()
    if inst.time_windows is not None:
        service = inst.service_times[order] if inst.service_times is not None else np.zeros(n)
        tscale = resource_scale(d, scale)
        duration = scale_up(d, tscale)
        service_int = scale_up(service, tscale)
        ready = scale_up(inst.time_windows[order, 0], tscale)
        due = scale_down(inst.time_windows[order, 1], tscale)
    unit_distance, unit_duration = 1, 0
    prizes = np.zeros(n, dtype=np.int64)
    max_distance = None
    prize_scale = 1.0
    if v == "op":
        assert inst.prizes is not None and inst.max_length is not None
        # Fine matrix for the length limit (costs nothing); coarse tie-break as "duration".
        lscale = resource_scale(d, scale)
        dist = scale_up(d, lscale)
        max_distance = int(scale_down(inst.max_length, lscale))
        duration = np.round(d * 1000.0 / max(float(inst.max_length), 1e-12)).astype(np.int64)
        total = float(inst.prizes.sum()) or 1.0
        prize_scale = 1e9 / total
        prizes = np.round(inst.prizes[order] * prize_scale).astype(np.int64)
        unit_distance, unit_duration = 0, 1

    ends_dummy = inst.open_routes
    locations = [pyvrp.Location(x=float(c[0]), y=float(c[1])) for c in coords]
    if ends_dummy:
        locations.append(pyvrp.Location(x=float(coords[0][0]), y=float(coords[0][1])))
        big = np.full((n + 1, n + 1), _FAR, dtype=np.int64)
        big[:n, :n] = dist
        big[:, n] = 0  # every location -> dummy end depot is free
        big[n, n] = 0
        dist = big
        duration = dist.copy()
    depots = [pyvrp.Depot(location=0)]
    if ends_dummy:
        depots.append(pyvrp.Depot(location=n))

    demand_scale = 1.0
    if inst.demands is not None:
        demand_scale = resource_scale(inst.demands, 1.0)
        dem = scale_up(inst.demands[order], demand_scale)
    clients = []
    for k in range(1, n):
        kw: dict = {"location": k}
        if inst.demands is not None:
            kw["delivery"] = [int(dem[k])]
        if inst.time_windows is not None:
            kw.update(service_duration=int(service_int[k]), tw_early=int(ready[k]), tw_late=int(due[k]))
        if v == "op":
            kw.update(prize=int(prizes[k]), required=False)
        clients.append(pyvrp.Client(**kw))

    common: dict = {"start_depot": 0, "end_depot": 1 if ends_dummy else 0,
                    "unit_distance_cost": unit_distance, "unit_duration_cost": unit_duration}
    if max_distance is not None:
        common["max_distance"] = max_distance
    if inst.time_windows is not None:
        common.update(tw_early=int(ready[0]), tw_late=int(due[0]))
    if v == "hcvrp":
        assert inst.vehicle_capacities is not None
        vtypes = [pyvrp.VehicleType(num_available=1, capacity=[int(scale_down(c, demand_scale))],
                                    name=str(k), **common)
                  for k, c in enumerate(inst.vehicle_capacities)]
    elif inst.demands is not None:
        fleet = inst.num_vehicles or p.num_vehicles or (n - 1)
        if inst.num_vehicles is not None and p.num_vehicles is not None:
            fleet = min(inst.num_vehicles, p.num_vehicles)
        cap = int(scale_down(inst.capacity, demand_scale))
        vtypes = [pyvrp.VehicleType(num_available=int(fleet), capacity=[cap], **common)]
    else:
        vtypes = [pyvrp.VehicleType(num_available=1, **common)]

    data = pyvrp.ProblemData(locations=locations, clients=clients, depots=depots, vehicle_types=vtypes,
                             distance_matrices=[dist], duration_matrices=[duration])  # type: ignore[list-item]

    total_prize = float(inst.prizes.sum()) if inst.prizes is not None and v == "op" else 0.0

    def to_objective(cost: float) -> float:
        if v == "op":
            # cost = tie-break (< ~1000) + uncollected prizes * prize_scale
            return total_prize - float(cost) / prize_scale
        return float(cost) / scale

    return data, order, scale, to_objective


def translate_back(inst: Instance, best: pyvrp.Solution, order: list[int]) -> list[tuple[int, ...]]:
    """PyVRP routes as our routes (node indices)."""
    v = inst.variant
    routes = []
    for route in best.routes():
        # Activities: depot, clients (``idx`` = client index; client k sits at location k + 1).
        nodes = tuple(order[int(a.idx) + 1] for a in route if a.is_client())
        routes.append((int(route.vehicle_type()), nodes))
    if v == "hcvrp":
        assert inst.vehicle_capacities is not None
        out: list[tuple[int, ...]] = [() for _ in range(inst.vehicle_capacities.size)]
        for vt, nodes in routes:
            out[vt] = nodes
        return out
    got = [nodes for _, nodes in routes if nodes]
    if v in ("tsp", "atsp", "op"):
        return got[:1] or [()]
    return got


Params = PyvrpParams  # the name the registry and users look for
