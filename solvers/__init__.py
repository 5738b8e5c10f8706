"""Every solver behind one interface, and the registry of names.

>>> import solvers
>>> solver = solvers.get("nearest")
>>> result = solver.solve(instance, time_limit=5, seed=1)
"""

from __future__ import annotations

from solvers.registry import (
    ALL_ROUTING,
    NETWORK,
    ROUTING,
    SolverSpec,
    get,
    names,
    register,
    spec,
    specs,
)

register(SolverSpec(
    "nearest", ROUTING, "solvers.construction:NearestSolver", ALL_ROUTING,
    "nearest neighbour / nearest feasible insertion"))
register(SolverSpec(
    "savings", ROUTING, "solvers.construction:SavingsSolver", frozenset({"cvrp", "ocvrp", "hcvrp", "vrptw"}),
    "Clarke-Wright parallel savings (time-window aware)"))

__all__ = ["ALL_ROUTING", "NETWORK", "ROUTING", "SolverSpec", "get", "names", "register", "spec", "specs"]
