"""OR-Tools routing library behind the solver interface (registered as ``ortools``).

A thin adapter: our :class:`~vrp.model.Instance` is translated into a
``RoutingModel`` (integer arc costs, dimensions, disjunctions), solved with a
metaheuristic (Guided Local Search by default) under the caller's time limit,
and the routes are translated back. The cost OR-Tools reports is only used for
the anytime trace; the evaluator re-scores.

The search starts from our own construction (``initial``: Clarke-Wright savings
where the variant has it, nearest neighbour elsewhere), read into the model with
``ReadAssignmentFromRoutes``: OR-Tools' own first solutions are poor on large
instances (on CVRPLIB X of 459-856 nodes it ended worse than ``savings`` alone).
The answer is never worse than that construction. With ``initial=none`` (or a
construction the model rejects) OR-Tools' ``first_solution_strategy`` builds it.

Variant mapping
---------------
tsp, atsp       one vehicle, arc costs only.
cvrp            a capacity dimension; unlimited fleets get ``num_vehicles``
                (default: first-fit-decreasing bin count plus a margin).
ocvrp           vehicles end at a dummy node reached from every customer at cost 0.
vrptw           a time dimension (travel time = distance, service at the origin),
                waiting allowed (slack), windows on every node and on the depot.
hcvrp           one vehicle per capacity, ``AddDimensionWithVehicleCapacity``;
                ``routes[k]`` is driven by vehicle ``k``.
op              disjunctions whose penalty is the prize (dominating a small distance
                tie-break) and a route-length dimension capped at ``max_length``.
pctsp           disjunctions whose penalty is the node's penalty, plus a prize
                dimension whose end cumul must reach the quota; the search starts from
                a tour through every node (always quota-feasible).

Integer scaling is *conservative* wherever a constraint is involved (travel and
service times rounded up, limits rounded down), so a solution OR-Tools accepts is
feasible under the exact data; on integer data (TSPLIB, CVRPLIB) and one-decimal
data (Solomon, scaled by 10) it is exact.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from solvers.base import BaseSolver
from solvers.construction import NearestSolver, SavingsSolver
from solvers.scaling import distance_scale, resource_scale, scale_down, scale_up
from vrp.evaluate import evaluate
from vrp.model import Instance, Solution
from vrp.result import Result, SolverError, Tracer
from vrp.scenarios import buffered, check_slack

FIRST_SOLUTION = tuple(k for k in routing_enums_pb2.FirstSolutionStrategy.Value.keys() if k != "UNSET")
METAHEURISTICS = tuple(k for k in routing_enums_pb2.LocalSearchMetaheuristic.Value.keys() if k != "UNSET")
_BIG = 10**12  # cost of an arc that must never be used (dummy end -> anything)
INITIAL = ("auto", "savings", "nearest", "none")


@dataclass
class OrtoolsParams:
    """Parameters of the ``ortools`` solver.

    Attributes
    ----------
    initial
        The first solution: ``savings`` (Clarke-Wright, where the variant has it:
        cvrp, ocvrp, hcvrp, vrptw; ``nearest`` elsewhere), ``nearest`` (the
        ``nearest`` solver's construction) or ``none`` (OR-Tools builds it with
        ``first_solution_strategy``). ``auto`` (the default) is ``savings``, or
        ``none`` when a ``first_solution_strategy`` is named. The initial solution
        replaces the first-solution strategy, the fleet is at least its routes, and
        the answer is never worse than it; a construction the model rejects
        (infeasible, or more routes than the fleet allows) falls back to
        ``first_solution_strategy``.
    first_solution_strategy
        OR-Tools ``FirstSolutionStrategy`` name, used when there is no initial
        solution; ``auto`` picks per variant (SAVINGS for hcvrp,
        PARALLEL_CHEAPEST_INSERTION for vrptw/ocvrp, PATH_CHEAPEST_ARC otherwise)
        and falls back to the others when the construction finds no solution.
    metaheuristic
        OR-Tools ``LocalSearchMetaheuristic`` name (GUIDED_LOCAL_SEARCH by default).
    num_vehicles
        Fleet size when the instance leaves it unlimited (cvrp/ocvrp); None picks
        the first-fit-decreasing bin count plus ``extra_vehicles``. Capped by the
        instance's own limit.
    extra_vehicles
        Vehicles added to the bin-packing estimate for an unlimited fleet.
    gls_lambda
        Guided Local Search lambda coefficient.
    neighbors_ratio
        Fraction of nodes each local-search operator considers as neighbours
        (``ls_operator_neighbors_ratio``); 1.0 disables the restriction.
    min_neighbors
        Lower bound on that neighbour count (``ls_operator_min_neighbors``).
    solution_limit
        Stop after this many solutions (makes a run deterministic, independent of
        the clock); None: only the time limit stops.
    log_search
        Let OR-Tools log its search to stderr.
    capacity_slack, tw_slack
        Robust planning buffers, fractions in [0, 1): plan with ``capacity x (1 -
        capacity_slack)`` and with every due time ``tw_slack x horizon`` earlier (horizon
        = the depot's due minus ready time), see :func:`vrp.scenarios.buffered`. The
        solution is scored on the real instance; 0 plans on it as it is.
    """

    initial: str = "auto"
    first_solution_strategy: str = "auto"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    num_vehicles: int | None = None
    extra_vehicles: int = 1
    gls_lambda: float = 0.1
    neighbors_ratio: float = 1.0
    min_neighbors: int = 1
    solution_limit: int | None = None
    log_search: bool = False
    capacity_slack: float = 0.0
    tw_slack: float = 0.0

    def __post_init__(self) -> None:
        self.initial = str(self.initial).lower()
        if self.initial not in INITIAL:
            raise ValueError(f"initial: must be one of {', '.join(INITIAL)}, got {self.initial!r}")
        check_slack("capacity_slack", self.capacity_slack)
        check_slack("tw_slack", self.tw_slack)
        self.first_solution_strategy = self.first_solution_strategy.upper()
        if self.first_solution_strategy != "AUTO" and self.first_solution_strategy not in FIRST_SOLUTION:
            raise ValueError(
                f"first_solution_strategy: must be auto or one of {', '.join(FIRST_SOLUTION)}, "
                f"got {self.first_solution_strategy!r}")
        if self.first_solution_strategy != "AUTO" and self.initial in ("savings", "nearest"):
            raise ValueError(f"initial={self.initial} replaces first_solution_strategy="
                             f"{self.first_solution_strategy}: give one of them (or initial=none)")
        self.metaheuristic = self.metaheuristic.upper()
        if self.metaheuristic not in METAHEURISTICS:
            raise ValueError(f"metaheuristic: must be one of {', '.join(METAHEURISTICS)}, got {self.metaheuristic!r}")
        if self.num_vehicles is not None and self.num_vehicles < 1:
            raise ValueError(f"num_vehicles: must be positive, got {self.num_vehicles}")
        if self.extra_vehicles < 0:
            raise ValueError(f"extra_vehicles: must be >= 0, got {self.extra_vehicles}")
        if not self.gls_lambda > 0:
            raise ValueError(f"gls_lambda: must be positive, got {self.gls_lambda}")
        if not 0 < self.neighbors_ratio <= 1:
            raise ValueError(f"neighbors_ratio: must be in (0, 1], got {self.neighbors_ratio}")
        if self.min_neighbors < 1:
            raise ValueError(f"min_neighbors: must be >= 1, got {self.min_neighbors}")
        if self.solution_limit is not None and self.solution_limit < 1:
            raise ValueError(f"solution_limit: must be positive, got {self.solution_limit}")


# ---------------------------------------------------------------- integer scaling
def cost_scale(instance: Instance) -> float:
    """Factor that makes the distances integers (1 for TSPLIB/CVRPLIB, 10 for Solomon)."""
    return distance_scale(instance.distances)


def ffd_bins(demands: np.ndarray, capacity: float) -> int:
    """Number of bins first-fit-decreasing needs (an upper bound on the minimum fleet)."""
    loads: list[float] = []
    for q in sorted((float(x) for x in demands if x > 0), reverse=True):
        for i, load in enumerate(loads):
            if load + q <= capacity + 1e-9:
                loads[i] = load + q
                break
        else:
            loads.append(q)
    return max(1, len(loads))


def fleet_size(instance: Instance, params: OrtoolsParams, at_least: int = 0) -> int:
    """Vehicles given to OR-Tools for this instance (``at_least``: an initial solution's routes)."""
    if instance.variant in ("tsp", "atsp", "op", "pctsp"):
        return 1
    if instance.vehicle_capacities is not None:
        return int(instance.vehicle_capacities.size)
    limit = instance.num_vehicles
    if params.num_vehicles is not None:
        k = params.num_vehicles
    else:
        assert instance.demands is not None and instance.capacity is not None
        k = ffd_bins(instance.demands, instance.capacity) + params.extra_vehicles
        if instance.variant == "vrptw" and limit is not None:
            k = limit  # windows, not capacity, usually decide the fleet
    k = max(k, at_least)
    return min(k, limit) if limit is not None else k


def initial_solver(variant: str, params: OrtoolsParams) -> str | None:
    """The construction ``initial`` names for this variant (None: OR-Tools builds the first solution)."""
    choice = params.initial
    if choice == "auto":
        choice = "savings" if params.first_solution_strategy == "AUTO" else "none"
    if choice == "none":
        return None
    if choice == "savings" and variant not in SavingsSolver.variants:
        return "nearest"
    return choice


def construct(instance: Instance, name: str, seed: int) -> Solution | None:
    """The construction's solution when the evaluator finds it feasible (OR-Tools would reject it otherwise)."""
    solver = SavingsSolver() if name == "savings" else NearestSolver()
    # A construction is a few milliseconds to a second even at 1000 nodes; its own limit is nominal.
    sol = solver.solve(instance, time_limit=3600.0, seed=seed).solution
    if not isinstance(sol, Solution) or not evaluate(instance, sol).feasible:
        return None
    return sol


# ---------------------------------------------------------------- the adapter
class OrtoolsSolver(BaseSolver):
    """OR-Tools routing: first solution + Guided Local Search, every routing variant."""

    name = "ortools"
    iteration_option = "solution_limit"
    variants = frozenset({"tsp", "atsp", "cvrp", "ocvrp", "vrptw", "op", "pctsp", "hcvrp"})
    Params = OrtoolsParams

    def _solve(self, instance: Instance, time_limit: float, seed: int, start: float) -> Result:
        p: OrtoolsParams = self.params
        instance = buffered(instance, p.capacity_slack, p.tw_slack)
        tracer = Tracer(instance.sense, start=start, callback=self.progress)
        margin = max(0.05, 0.01 * time_limit)  # room for translating the answer back
        if p.first_solution_strategy != "AUTO":
            strategies = [p.first_solution_strategy]
        else:
            # When a construction fails (tight windows or capacities), the next one
            # gets the remaining time: a failed construction returns at once.
            first = _Model.default_strategy_for(instance.variant)
            strategies = [first] + [s for s in ("PARALLEL_CHEAPEST_INSERTION", "SAVINGS", "PATH_CHEAPEST_ARC")
                                    if s != first]
        info: dict = {}
        status = "timeout"
        start_name = initial_solver(instance.variant, p)
        start_sol = construct(instance, start_name, seed) if start_name is not None else None
        attempts: list[str | None] = list(strategies)
        if start_sol is not None:
            start_obj = evaluate(instance, start_sol).objective
            tracer.offer(start_obj)
            attempts.insert(0, None)  # None: from the initial solution
            info = {"initial": start_name, "initial_objective": start_obj}
        for fss in attempts:
            remaining = time_limit - tracer.elapsed() - margin
            if remaining <= 0.01:
                break
            solution, model, code = self._attempt(instance, p, fss, tracer, start + time_limit - margin,
                                                  start_sol if fss is None else None)
            if fss is None and solution is None and code == _REJECTED:
                info["initial_rejected"] = True
                continue  # the model cannot take the construction: its own first solution then
            info.update({"first_solution_strategy": fss or "initial", "metaheuristic": p.metaheuristic,
                         "num_vehicles": model.num_vehicles, "cost_scale": model.scale, "ortools_status": code})
            if solution is not None:
                best = Solution(solution)
                if start_sol is not None and _better(instance, start_sol, best):
                    best = start_sol  # scaled integer costs can disagree with exact ones by a rounding
                return Result(best, "feasible", tracer.elapsed(), trace=tracer.trace, info=info)
            if code == getattr(pywrapcp.RoutingModel, "ROUTING_INFEASIBLE", -1):
                status = "infeasible"
                break
        if start_sol is not None:  # no time left for OR-Tools, or it found nothing better
            return Result(start_sol, "feasible", tracer.elapsed(), trace=tracer.trace, info=info)
        return Result(None, status, tracer.elapsed(), trace=tracer.trace, info=info)

    @staticmethod
    def _attempt(instance: Instance, p: OrtoolsParams, fss: str | None, tracer: Tracer,
                 deadline: float, start: Solution | None = None) -> tuple[list[tuple[int, ...]] | None, _Model, int]:
        """One OR-Tools search until ``deadline`` (``perf_counter`` seconds), from the strategy ``fss`` or
        (``fss`` None) from the solution ``start``.

        The search gets the time left once the model is built (a second at 1000 nodes on a busy machine).
        """
        model = _Model(instance, p, at_least=len(start.routes) if start is not None else 0)
        routing, manager = model.routing, model.manager

        def on_solution() -> None:
            tracer.offer(model.objective_of_cost(routing.CostVar().Value()))

        routing.AddAtSolutionCallback(on_solution)
        search = pywrapcp.DefaultRoutingSearchParameters()
        if fss is not None:
            search.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, fss)
        search.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, p.metaheuristic)
        search.guided_local_search_lambda_coefficient = p.gls_lambda
        search.ls_operator_neighbors_ratio = p.neighbors_ratio
        search.ls_operator_min_neighbors = p.min_neighbors
        search.log_search = p.log_search
        if p.solution_limit is not None:
            search.solution_limit = p.solution_limit
        if start is not None:
            initial = model.indices_of(start)
            if initial is None:
                return None, model, _REJECTED
        else:
            initial = model.initial_routes()
        if initial is not None:
            _time_left(search, deadline)  # closing the model wants a time limit for GLS
            routing.CloseModelWithParameters(search)
            assignment = routing.ReadAssignmentFromRoutes(initial, True)
            if assignment is None and start is not None:
                return None, model, _REJECTED
            _time_left(search, deadline)
            solution = routing.SolveFromAssignmentWithParameters(assignment, search) if assignment else None
        else:
            _time_left(search, deadline)
            solution = routing.SolveWithParameters(search)
        code = int(routing.status())
        if solution is None:
            return None, model, code
        return model.routes_of(solution, manager), model, code


_REJECTED = -100  # our status code: the model rejected the initial solution


def _time_left(search: Any, deadline: float) -> None:
    search.time_limit.FromMilliseconds(max(1, int((deadline - time.perf_counter()) * 1000)))


def _better(instance: Instance, a: Solution, b: Solution) -> bool:
    """Whether ``a`` is strictly better than ``b`` by the evaluator (feasible first)."""
    sa, sb = evaluate(instance, a), evaluate(instance, b)
    if sa.feasible != sb.feasible:
        return sa.feasible
    return sa.objective < sb.objective if instance.sense == "min" else sa.objective > sb.objective


class _Model:
    """Translation of one instance into a RoutingModel (and back)."""

    def __init__(self, inst: Instance, p: OrtoolsParams, at_least: int = 0) -> None:
        self.inst = inst
        self.variant = v = inst.variant
        n = inst.n
        self.num_vehicles = k = fleet_size(inst, p, at_least)
        self.scale = scale = cost_scale(inst)
        dist = inst.distances
        depot = inst.depot
        open_routes = inst.open_routes
        self.num_nodes = n + 1 if open_routes else n
        self.dummy = n if open_routes else None
        if open_routes:
            ends = [n] * k
            manager = pywrapcp.RoutingIndexManager(self.num_nodes, k, [depot] * k, ends)
        else:
            manager = pywrapcp.RoutingIndexManager(n, k, depot)
        routing = pywrapcp.RoutingModel(manager)
        self.manager, self.routing = manager, routing

        if v == "op":
            # Arc costs are only a tie-break worth at most ~1000 in total; the
            # prize penalties dominate them by construction.
            cscale = 1000.0 / max(float(inst.max_length), 1e-12)  # type: ignore[arg-type]
            arc = np.round(dist * cscale).astype(np.int64)
        else:
            cscale = scale
            arc = np.round(dist * scale).astype(np.int64)
        self.cost_scale = cscale
        arc_cb = routing.RegisterTransitMatrix(self._extend(arc, open_routes).tolist())
        routing.SetArcCostEvaluatorOfAllVehicles(arc_cb)

        if inst.demands is not None:
            dem_scale = resource_scale(inst.demands, 1.0)
            dem = scale_up(inst.demands, dem_scale)
            if open_routes:
                dem = np.append(dem, 0)
            dem_cb = routing.RegisterUnaryTransitVector(dem.tolist())
            if inst.vehicle_capacities is not None:
                caps = [int(scale_down(c, dem_scale)) for c in inst.vehicle_capacities]
            else:
                caps = [int(scale_down(inst.capacity, dem_scale))] * k
            routing.AddDimensionWithVehicleCapacity(dem_cb, 0, caps, True, "load")

        if inst.time_windows is not None:
            tscale = resource_scale(dist, scale)
            service = inst.service_times if inst.service_times is not None else np.zeros(n)
            travel = scale_up(dist + service[:, None], tscale)
            np.fill_diagonal(travel, 0)
            ready = scale_up(inst.time_windows[:, 0], tscale)
            due = scale_down(inst.time_windows[:, 1], tscale)
            horizon = int(due.max())
            time_cb = routing.RegisterTransitMatrix(travel.tolist())
            routing.AddDimension(time_cb, horizon, horizon, False, "time")
            tdim = routing.GetDimensionOrDie("time")
            for node in range(n):
                if node == depot:
                    continue
                tdim.CumulVar(manager.NodeToIndex(node)).SetRange(int(ready[node]), int(due[node]))
            for veh in range(k):
                tdim.CumulVar(routing.Start(veh)).SetRange(int(ready[depot]), int(due[depot]))
                tdim.CumulVar(routing.End(veh)).SetRange(int(ready[depot]), int(due[depot]))
                routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.Start(veh)))
                routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.End(veh)))

        if v == "op":
            assert inst.prizes is not None and inst.max_length is not None
            lscale = resource_scale(dist, scale)
            length = scale_up(dist, lscale)
            len_cb = routing.RegisterTransitMatrix(length.tolist())
            limit = int(scale_down(inst.max_length, lscale))
            routing.AddDimension(len_cb, 0, limit, True, "length")
            prizes = inst.prizes
            positive = prizes[prizes > 0]
            self.prize_scale = pscale = max(1e6 / float(prizes.max() or 1.0),
                                            2000.0 / float(positive.min()) if positive.size else 1.0)
            self.total_prize = float(prizes.sum())
            for node in range(n):
                if node != depot:
                    routing.AddDisjunction([manager.NodeToIndex(node)], int(round(prizes[node] * pscale)))

        if v == "pctsp":
            assert inst.prizes is not None and inst.penalties is not None
            pen = np.round(inst.penalties * scale).astype(np.int64)
            for node in range(n):
                if node != depot:
                    routing.AddDisjunction([manager.NodeToIndex(node)], int(pen[node]))
            quota = inst.min_prize or 0.0
            if quota > 0:
                pr_scale = 1e6 / max(float(inst.prizes.max()), 1e-12)
                pr = scale_down(inst.prizes, pr_scale)
                pr[depot] = 0
                need = int(scale_up(np.array([quota]), pr_scale)[0])
                if quota >= float(inst.prizes.sum()) - 1e-9:
                    need = int(pr.sum())  # every node is required: keep it satisfiable
                need = min(need, int(pr.sum()))
                prize_cb = routing.RegisterUnaryTransitVector(pr.tolist())
                routing.AddDimension(prize_cb, 0, int(pr.sum()), True, "prize")
                routing.GetDimensionOrDie("prize").CumulVar(routing.End(0)).SetMin(need)

    @staticmethod
    def _extend(arc: np.ndarray, open_routes: bool) -> np.ndarray:
        if not open_routes:
            return arc
        n = arc.shape[0]
        out = np.full((n + 1, n + 1), _BIG, dtype=np.int64)
        out[:n, :n] = arc
        out[:, n] = 0  # anything -> dummy end is free: the route ends there
        return out

    @staticmethod
    def default_strategy_for(variant: str) -> str:
        # Measured on the X and Solomon sets (10 s): PATH_CHEAPEST_ARC beat SAVINGS and
        # LOCAL_CHEAPEST_INSERTION on cvrp; PATH_CHEAPEST_ARC found no first solution on
        # R101 where PARALLEL_CHEAPEST_INSERTION did.
        if variant == "hcvrp":
            return "SAVINGS"
        if variant in ("vrptw", "ocvrp"):
            return "PARALLEL_CHEAPEST_INSERTION"
        return "PATH_CHEAPEST_ARC"

    def initial_routes(self) -> list[list[int]] | None:
        """A start for pctsp: a nearest-neighbour tour through every node (meets any quota)."""
        if self.variant != "pctsp":
            return None
        inst = self.inst
        dist = inst.distances
        left = set(int(i) for i in inst.customers)
        cur, tour = inst.depot, []
        while left:
            nxt = min(left, key=lambda j: dist[cur, j])
            tour.append(self.manager.NodeToIndex(nxt))
            left.remove(nxt)
            cur = nxt
        return [tour]

    def indices_of(self, solution: Solution) -> list[list[int]] | None:
        """Our routes as OR-Tools index lists, one per vehicle (None: more routes than vehicles)."""
        routes = [list(r) for r in solution.routes]
        if self.variant != "hcvrp":
            routes = [r for r in routes if r]
        if len(routes) > self.num_vehicles:
            return None
        routes += [[] for _ in range(self.num_vehicles - len(routes))]
        return [[self.manager.NodeToIndex(int(v)) for v in r] for r in routes]

    def objective_of_cost(self, cost: int) -> float:
        """The solver-side objective of an OR-Tools cost (trace only, never reported as truth)."""
        if self.variant == "op":
            return self.total_prize - cost / self.prize_scale
        return cost / self.cost_scale

    def routes_of(self, solution: Any, manager: Any) -> list[tuple[int, ...]]:
        routing = self.routing
        routes: list[tuple[int, ...]] = []
        for veh in range(self.num_vehicles):
            idx = solution.Value(routing.NextVar(routing.Start(veh)))
            route = []
            while not routing.IsEnd(idx):
                route.append(manager.IndexToNode(idx))
                idx = solution.Value(routing.NextVar(idx))
            routes.append(tuple(route))
        if self.variant == "hcvrp":
            return routes  # routes[k] belongs to vehicle k, empty ones included
        nonempty = [r for r in routes if r]
        if self.variant in ("tsp", "atsp", "op", "pctsp"):
            return nonempty or [()]
        if not nonempty:
            raise SolverError("ortools returned no route for an instance with customers")
        return nonempty


Params = OrtoolsParams  # the name the registry and users look for
