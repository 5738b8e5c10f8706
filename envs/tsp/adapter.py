"""TSP adapter: ``locs`` (n, 2) every city in the unit square, node order kept.

rl4co's tour may start anywhere; the depot (node 0 unless the file says otherwise) is
put first when the tour becomes a route. Reward = -tour length in unit-square lengths.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from envs.base import NeuralProblem, Normalisation, route_from_tour, unit_coords
from vrp.model import Instance, Solution


class TSPProblem(NeuralProblem):
    name: ClassVar[str] = "tsp"
    variants: ClassVar[frozenset[str]] = frozenset({"tsp"})
    env_name: ClassVar[str] = "tsp"
    train_variants: ClassVar[tuple[str, ...]] = ("tsp",)
    models: ClassVar[tuple[str, ...]] = ("am", "pomo", "deepaco")

    def size_of(self, instance: Instance) -> int:
        return instance.n

    def features(self, instance: Instance) -> tuple[dict[str, np.ndarray], Normalisation]:
        unit, norm = unit_coords(instance)
        return {"locs": unit}, norm

    def to_solution(self, instance: Instance, actions: list[int], norm: Normalisation) -> Solution:
        return route_from_tour(instance, actions[: instance.n])

    def env_class(self) -> Any:
        from rl4co.envs import TSPEnv

        return TSPEnv
