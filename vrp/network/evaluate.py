"""The flow evaluator: the only place a flow objective is computed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # networkx is imported lazily: sniffing a file must stay cheap
    pass
from vrp.network.model import EPS, FlowProblem, FlowSolution, Node, _readonly


@dataclass(frozen=True)
class FlowViolation:
    """One broken rule, with the flow (id) or link ``(tail, head)`` it concerns."""

    kind: str  # path | capacity | latency | hops | flow
    message: str
    flow: int | None = None
    link: tuple[Node, Node] | None = None

    def __str__(self) -> str:
        where = f"flow {self.flow}: " if self.flow is not None else ""
        return f"{self.kind}: {where}{self.message}"


@dataclass(frozen=True)
class FlowScore:
    """What a flow solution is worth and whether it is allowed.

    ``objective`` = priority-weighted admitted demand (maximised); ``offered`` is the
    same sum over every flow (so ``objective / offered`` is the weighted acceptance).
    ``loads`` and ``utilisation`` are per link, in ``network.links`` order.
    """

    objective: float
    sense: str
    feasible: bool
    violations: tuple[FlowViolation, ...]
    admitted: tuple[int, ...]
    rejected: tuple[int, ...]
    admitted_demand: float
    offered_demand: float
    offered: float
    loads: np.ndarray
    utilisation: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def admitted_fraction(self) -> float:
        """Share of the offered demand (unweighted) that is admitted."""
        return self.admitted_demand / self.offered_demand if self.offered_demand else 0.0

    @property
    def max_utilisation(self) -> float:
        return float(self.utilisation.max()) if self.utilisation.size else 0.0

    @property
    def mean_utilisation(self) -> float:
        return float(self.utilisation.mean()) if self.utilisation.size else 0.0

    def violation_lines(self) -> list[str]:
        return [str(v) for v in self.violations]


def evaluate_flows(problem: FlowProblem, solution: FlowSolution) -> FlowScore:
    """Score ``solution`` on ``problem``: objective, feasibility, every violation, link loads.

    Checks, per admitted flow: the flow exists, its path starts at the source and
    ends at the target, every consecutive pair is a link, no node repeats, the
    latency and hop limits; then every link's load against its capacity.

    Returns
    -------
    FlowScore
        Never raises for a bad solution: everything is a reported violation. A
        flow id that does not exist is a ``flow`` violation and adds nothing.
    """
    net = problem.network
    fl = problem.flows
    F = len(fl)
    index = net.index
    link_index = net.link_index
    weight = fl.weight
    violations: list[FlowViolation] = []
    loads = np.zeros(net.m)
    admitted: list[int] = []
    lat = net.latency
    for f, path in solution.paths.items():
        if f >= F:
            violations.append(FlowViolation("flow", f"flow {f} does not exist (flows are 0..{F - 1})", flow=f))
            continue
        admitted.append(f)
        if len(path) < 2:
            violations.append(FlowViolation("path", f"path {list(path)} has fewer than two nodes", flow=f))
            continue
        if path[0] != fl.source[f] or path[-1] != fl.target[f]:
            violations.append(FlowViolation(
                "path", f"path runs {path[0]!r} -> {path[-1]!r}, the flow runs {fl.source[f]!r} -> {fl.target[f]!r}",
                flow=f))
        missing = [v for v in path if v not in index]
        if missing:
            violations.append(FlowViolation("path", f"node {missing[0]!r} is not in the network", flow=f))
            continue
        if len(set(path)) != len(path):
            seen: set[Node] = set()
            dup = next(v for v in path if v in seen or seen.add(v))  # type: ignore[func-returns-value]
            violations.append(FlowViolation("path", f"node {dup!r} repeats: the path is not simple", flow=f))
        total_latency = 0.0
        d = fl.demand[f]
        for u, v in zip(path[:-1], path[1:]):
            e = link_index.get((index[u], index[v]))
            if e is None:
                violations.append(FlowViolation("path", f"no link {u!r} -> {v!r}: the path is broken", flow=f,
                                                link=(u, v)))
                continue
            loads[e] += d
            if lat is not None:
                total_latency += lat[e]
        hops = len(path) - 1
        if fl.max_hops is not None and hops > fl.max_hops[f]:
            violations.append(FlowViolation("hops", f"{hops} links exceed the limit {fl.max_hops[f]:g}", flow=f))
        if fl.max_latency is not None and lat is not None and total_latency > fl.max_latency[f] + EPS:
            violations.append(FlowViolation(
                "latency", f"latency {total_latency:g} exceeds the limit {fl.max_latency[f]:g}", flow=f))
    cap = net.capacity
    over = np.flatnonzero(loads > cap + EPS * np.maximum(1.0, cap))
    for e in over.tolist():
        a, b = net.nodes[net.links[e, 0]], net.nodes[net.links[e, 1]]
        violations.append(FlowViolation(
            "capacity", f"link {a!r} -> {b!r} carries {loads[e]:g}, above its capacity {cap[e]:g}", link=(a, b)))
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(cap > 0, loads / np.where(cap > 0, cap, 1.0), np.where(loads > 0, np.inf, 0.0))
    adm = np.array(admitted, dtype=np.int64)
    rejected = np.setdiff1d(np.arange(F), adm)
    return FlowScore(
        objective=float(weight[adm].sum()),
        sense="max",
        feasible=not violations,
        violations=tuple(violations),
        admitted=tuple(int(f) for f in adm),
        rejected=tuple(int(f) for f in rejected),
        admitted_demand=float(fl.demand[adm].sum()),
        offered_demand=float(fl.demand.sum()),
        offered=float(weight.sum()),
        loads=_readonly(loads),
        utilisation=_readonly(util),
    )


def score_to_dict(score: FlowScore) -> dict[str, Any]:
    """A JSON-ready summary of a :class:`FlowScore` (for ``--json`` and solution files)."""
    return {
        "objective": score.objective,
        "sense": score.sense,
        "feasible": score.feasible,
        "violations": score.violation_lines(),
        "admitted": len(score.admitted),
        "rejected": len(score.rejected),
        "rejected_flows": list(score.rejected),
        "admitted_demand": score.admitted_demand,
        "offered_demand": score.offered_demand,
        "admitted_fraction": score.admitted_fraction,
        "offered_objective": score.offered,
        "max_utilisation": score.max_utilisation if math.isfinite(score.max_utilisation) else None,
        "mean_utilisation": score.mean_utilisation if math.isfinite(score.mean_utilisation) else None,
    }


evaluate_problem = evaluate_flows  # the name the CLI uses
