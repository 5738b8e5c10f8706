"""CVRP adapter for rl4co's ``CVRPEnv``.

``depot`` (2,), ``locs`` (n-1, 2) customers in the unit square, ``demand`` (n-1,)
divided by the capacity, ``capacity`` (1,) the original capacity. Action 0 is the
depot, ``k`` the k-th customer. The fleet is unlimited in rl4co: an instance with a
fleet limit is solved, and a solution with more routes than vehicles is discarded by
the solver (the evaluator says why).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from envs.base import NeuralProblem, Normalisation, split_routes, unit_coords
from vrp.model import Instance, Solution


class CVRPProblem(NeuralProblem):
    name: ClassVar[str] = "cvrp"
    variants: ClassVar[frozenset[str]] = frozenset({"cvrp"})
    env_name: ClassVar[str] = "cvrp"
    normalisation: ClassVar[str] = "coords: bounding box to unit square (aspect kept); demands: / capacity"
    train_variants: ClassVar[tuple[str, ...]] = ("cvrp",)
    models: ClassVar[tuple[str, ...]] = ("am", "pomo", "deepaco")
    multi_route: ClassVar[bool] = True

    def features(self, instance: Instance) -> tuple[dict[str, np.ndarray], Normalisation]:
        unit, norm = unit_coords(instance)
        assert instance.demands is not None and instance.capacity is not None  # variant cvrp
        capacity = float(instance.capacity)
        customers = instance.customers
        return {"depot": unit[instance.depot], "locs": unit[customers],
                "demand": instance.demands[customers] / capacity, "capacity": np.array([capacity])}, norm

    def to_solution(self, instance: Instance, actions: list[int], norm: Normalisation) -> Solution:
        return Solution(split_routes(instance, actions))

    def env_class(self) -> Any:
        from rl4co.envs import CVRPEnv

        return CVRPEnv
