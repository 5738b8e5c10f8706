"""The one evaluator: the only place in vrp-toolkit where a cost is computed."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vrp.model import Instance, InstanceError, Solution

EPS = 1e-6


@dataclass(frozen=True)
class Violation:
    """One broken constraint, with the route (0-based) and node where it happened."""

    kind: str
    message: str
    route: int | None = None
    node: int | None = None

    def __str__(self) -> str:
        where = f"route {self.route + 1}: " if self.route is not None else ""
        return f"{self.kind}: {where}{self.message}"


@dataclass(frozen=True)
class Score:
    """What a solution is worth and whether it is allowed.

    ``objective`` is what the variant optimises in direction ``sense``
    (distance for most; distance + penalties for pctsp; collected prize for op);
    ``cost`` is always the travelled distance.
    """

    objective: float
    sense: str
    cost: float
    feasible: bool
    violations: tuple[Violation, ...] = ()
    num_routes: int = 0
    route_costs: tuple[float, ...] = ()
    skipped: tuple[int, ...] = ()
    prize: float = 0.0
    penalty: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def violation_lines(self) -> list[str]:
        return [str(v) for v in self.violations]


def gap_pct(objective: float, reference: float, sense: str = "min") -> float:
    """How much worse ``objective`` is than ``reference``, in percent, whatever the sense.

    Negative when the objective beats the reference.
    """
    if reference == 0:
        return 0.0 if objective == reference else float("inf")
    diff = objective - reference if sense == "min" else reference - objective
    return 100.0 * diff / abs(reference)


def _check_nodes(instance: Instance, flat: np.ndarray) -> None:
    if flat.size and (flat.min() < 0 or flat.max() >= instance.n):
        bad = int(flat[(flat < 0) | (flat >= instance.n)][0])
        raise InstanceError(f"routes: node {bad} does not exist (nodes are 0..{instance.n - 1})")


def evaluate(instance: Instance, solution: Solution) -> Score:
    """Score ``solution`` on ``instance``: objective, distance, feasibility, violations.

    Parameters
    ----------
    instance
        The instance the solution claims to solve.
    solution
        Routes of node indices, depot not included.

    Returns
    -------
    Score
        Raises :class:`~vrp.model.InstanceError` only when a route names a node
        that does not exist; everything else is a reported violation.
    """
    depot = instance.depot
    dist = instance.distances
    routes = [r for r in solution.routes]
    lengths = np.fromiter((len(r) for r in routes), dtype=np.int64, count=len(routes))
    flat = np.fromiter(itertools.chain.from_iterable(routes), dtype=np.int64, count=int(lengths.sum()))
    _check_nodes(instance, flat)
    violations: list[Violation] = []

    # Coverage: duplicates, depot inside a route, missing customers.
    counts = np.bincount(flat, minlength=instance.n)
    if counts[depot]:
        violations.append(Violation("depot", f"the depot {depot} appears inside a route"))
    dup = np.flatnonzero(counts > 1)
    for v in dup[dup != depot]:
        violations.append(Violation("duplicate", f"node {int(v)} is visited {int(counts[v])} times", node=int(v)))
    missing = np.flatnonzero(counts == 0)
    missing = missing[missing != depot]
    if not instance.allows_skipping:
        for v in missing:
            violations.append(Violation("missing", f"node {int(v)} is not visited", node=int(v)))

    # Distances per route, vectorised: depot, r1..., depot, r2..., depot.
    nonempty = np.flatnonzero(lengths > 0)
    route_costs = np.zeros(len(routes))
    if nonempty.size:
        lens = lengths[nonempty]
        seq = np.full(int(lens.sum()) + nonempty.size + 1, depot, dtype=np.int64)
        pos = np.concatenate(([0], np.cumsum(lens + 1)[:-1])) + 1  # where each route starts in seq
        mask = np.ones(seq.size, dtype=bool)
        mask[pos - 1] = False
        mask[-1] = False
        seq[mask] = flat
        arcs = dist[seq[:-1], seq[1:]]
        per_route = np.add.reduceat(arcs, pos - 1)
        if instance.open_routes:
            last = seq[pos + lens - 1]
            per_route = per_route - dist[last, depot]
        route_costs[nonempty] = per_route
    cost = float(route_costs.sum())
    if instance.cost_decimals is not None:
        route_costs = np.round(route_costs, instance.cost_decimals)
        cost = round(cost, instance.cost_decimals)
    num_routes = int(nonempty.size)

    # Fleet.
    if instance.vehicle_capacities is not None:
        if len(routes) > instance.vehicle_capacities.size:
            violations.append(Violation(
                "fleet", f"{len(routes)} routes given for {instance.vehicle_capacities.size} vehicles"))
    elif instance.num_vehicles is not None and num_routes > instance.num_vehicles:
        violations.append(Violation("fleet", f"{num_routes} routes use more than the {instance.num_vehicles} vehicles"))

    # Capacity.
    if instance.demands is not None and nonempty.size:
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[nonempty]
        loads = np.add.reduceat(instance.demands[flat], starts)
        if instance.vehicle_capacities is not None:
            m = instance.vehicle_capacities.size
            caps = np.array([instance.vehicle_capacities[k] if k < m else 0.0 for k in nonempty])
        else:
            caps = np.full(nonempty.size, float(instance.capacity))  # type: ignore[arg-type]
        for k in np.flatnonzero(loads > caps + EPS):
            r = int(nonempty[k])
            violations.append(Violation(
                "capacity", f"load {loads[k]:g} exceeds capacity {caps[k]:g}", route=r))

    if instance.time_windows is not None:
        violations.extend(_time_window_violations(instance, routes))

    prize = 0.0
    penalty = 0.0
    objective = cost
    if instance.variant in ("op", "pctsp"):
        assert instance.prizes is not None
        visited = np.unique(flat[flat != depot])
        prize = float(instance.prizes[visited].sum())
    if instance.variant == "op":
        objective = prize
        for r in nonempty.tolist():
            if route_costs[r] > instance.max_length + EPS:  # type: ignore[operator]
                violations.append(Violation(
                    "route_length", f"length {route_costs[r]:g} exceeds the limit {instance.max_length:g}",
                    route=int(r)))
    elif instance.variant == "pctsp":
        assert instance.penalties is not None
        penalty = float(instance.penalties[missing].sum())
        objective = cost + penalty
        if instance.cost_decimals is not None and np.array_equal(instance.penalties, np.round(instance.penalties)):
            objective = round(objective, instance.cost_decimals)
        quota = instance.min_prize or 0.0
        if prize < quota - EPS:
            violations.append(Violation("prize_quota", f"collected prize {prize:g} is below the quota {quota:g}"))

    return Score(
        objective=float(objective),
        sense=instance.sense,
        cost=cost,
        feasible=not violations,
        violations=tuple(violations),
        num_routes=num_routes,
        route_costs=tuple(float(c) for c in route_costs),
        skipped=tuple(int(v) for v in missing) if instance.allows_skipping else (),
        prize=prize,
        penalty=penalty,
    )


def _time_window_violations(instance: Instance, routes: list[tuple[int, ...]]) -> list[Violation]:
    """Sequential schedule per route: arrive, wait until ready, serve, drive on."""
    assert instance.time_windows is not None
    depot = instance.depot
    dist = instance.distances
    ready = instance.time_windows[:, 0].tolist()
    due = instance.time_windows[:, 1].tolist()
    service = instance.service_times.tolist() if instance.service_times is not None else [0.0] * instance.n
    out: list[Violation] = []
    for r, route in enumerate(routes):
        if not route:
            continue
        drow = dist  # local alias for speed
        t = ready[depot]
        prev = depot
        waiting = 0.0
        for v in route:
            arrival = t + service[prev] + drow[prev, v]
            if arrival > due[v] + EPS:
                out.append(Violation(
                    "time_window",
                    f"node {v} reached at {arrival:g}, after its window [{ready[v]:g}, {due[v]:g}] closed"
                    f" (waited {waiting:g} earlier on this route)",
                    route=r, node=int(v)))
            if arrival < ready[v]:
                waiting += ready[v] - arrival
                t = ready[v]
            else:
                t = arrival
            prev = v
        back = t + service[prev] + drow[prev, depot]
        if back > due[depot] + EPS:
            out.append(Violation(
                "time_window", f"returns to the depot at {back:g}, after it closes at {due[depot]:g}", route=r,
                node=depot))
    return out
