"""Adapter for rl4co's ``MTVRPEnv`` (capacities, open routes, time windows).

Every instance becomes the env's full feature set, depot first:

=====================  ==========================================================
``locs`` (n, 2)        depot then customers, in the unit square (aspect kept)
``demand_linehaul``    demands / capacity (depot 0); ``demand_backhaul`` all 0
``vehicle_capacity``   1; ``capacity_original`` the capacity
``open_route``         the instance's ``open_routes``
``time_windows``       vrptw: ``(window - t0) / scale`` with ``t0`` the depot's ready
                       time plus its service time (the env's clock starts at 0 when
                       the vehicle leaves the depot); otherwise ``[0, inf]``
``service_time``       vrptw: service times / scale; otherwise 0
``distance_limit``     inf (no route-length limit in these variants); ``speed`` 1
=====================  ==========================================================

Travel time equals distance in our model, so time and distance share one scale. The
env steps with unrounded Euclidean distances: a file whose distances are truncated
(Solomon, one decimal) is scored by the evaluator on its own, shorter distances, so a
schedule the env allows is feasible there too. The fleet is unlimited in the env;
the solver drops decoded solutions with more routes than an instance's vehicles.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from envs.base import NeuralProblem, Normalisation, split_routes, unit_coords
from vrp.model import Instance, Solution


class MTVRPProblem(NeuralProblem):
    name: ClassVar[str] = "mtvrp"
    variants: ClassVar[frozenset[str]] = frozenset({"cvrp", "ocvrp", "vrptw"})
    env_name: ClassVar[str] = "mtvrp"
    normalisation: ClassVar[str] = ("coords: bounding box to unit square (aspect kept); demands: / capacity; "
                                    "time windows and service times: shifted to the depot's departure, / scale")
    train_variants: ClassVar[tuple[str, ...]] = ("cvrp", "ocvrp", "vrptw")
    multi_route: ClassVar[bool] = True

    def features(self, instance: Instance) -> tuple[dict[str, np.ndarray], Normalisation]:
        unit, norm = unit_coords(instance)
        assert instance.demands is not None and instance.capacity is not None  # cvrp family
        order = np.concatenate(([instance.depot], instance.customers))
        n = order.size
        capacity = float(instance.capacity)
        demand = instance.demands[order] / capacity
        demand[0] = 0.0
        if instance.time_windows is not None:
            service = (instance.service_times if instance.service_times is not None else np.zeros(n))[order]
            t0 = float(instance.time_windows[instance.depot, 0]) + float(service[0])
            tw = np.maximum(instance.time_windows[order] - t0, 0.0) / norm.scale
            service = service / norm.scale
            service[0] = 0.0
        else:
            tw = np.tile([0.0, np.inf], (n, 1))
            service = np.zeros(n)
        return {"locs": unit[order], "demand_linehaul": demand, "demand_backhaul": np.zeros(n),
                "vehicle_capacity": np.array([1.0]), "capacity_original": np.array([capacity]),
                "open_route": np.array([bool(instance.open_routes)]), "time_windows": tw,
                "service_time": service, "distance_limit": np.array([np.inf]), "speed": np.array([1.0])}, norm

    def to_solution(self, instance: Instance, actions: list[int], norm: Normalisation) -> Solution:
        return Solution(split_routes(instance, actions))

    def env_class(self) -> Any:
        from rl4co.envs import MTVRPEnv

        return MTVRPEnv
