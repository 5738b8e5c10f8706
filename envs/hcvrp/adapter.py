"""HCVRP adapter for our :class:`envs.hcvrp.env.HCVRPEnv`.

``depot``, ``locs`` in the unit square; ``demand`` and ``capacities`` divided by the
largest capacity, the vehicles sorted by capacity, largest first (stable), the order kept
in the normalisation so that the env's k-th route becomes the route of the instance's
vehicle ``order[k]``. Instances stack into one batch when they have the same number of
nodes and vehicles.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from envs.base import NeuralProblem, Normalisation, unit_coords
from vrp.model import Instance, Solution


class HCVRPProblem(NeuralProblem):
    name: ClassVar[str] = "hcvrp"
    variants: ClassVar[frozenset[str]] = frozenset({"hcvrp"})
    env_name: ClassVar[str] = "hcvrp"
    models: ClassVar[tuple[str, ...]] = ("am",)
    normalisation: ClassVar[str] = ("coords: bounding box to unit square (aspect kept); demands and capacities: "
                                    "/ largest capacity; vehicles sorted by capacity, largest first")
    train_variants: ClassVar[tuple[str, ...]] = ("hcvrp",)
    must_serve_all: ClassVar[bool] = True

    def batch_key(self, instance: Instance) -> tuple[Any, ...]:
        assert instance.vehicle_capacities is not None
        return (instance.n, int(instance.vehicle_capacities.size))

    def features(self, instance: Instance) -> tuple[dict[str, np.ndarray], Normalisation]:
        unit, norm = unit_coords(instance)
        assert instance.demands is not None and instance.vehicle_capacities is not None  # variant hcvrp
        caps = np.asarray(instance.vehicle_capacities, dtype=np.float64)
        order = np.argsort(-caps, kind="stable")
        top = float(caps.max())
        customers = instance.customers
        return ({"depot": unit[instance.depot], "locs": unit[customers],
                 "demand": instance.demands[customers] / top, "capacities": caps[order] / top},
                Normalisation(norm.offset, norm.scale, vehicle_order=tuple(int(k) for k in order)))

    def to_solution(self, instance: Instance, actions: list[int], norm: Normalisation) -> Solution:
        assert norm.vehicle_order is not None
        m = len(norm.vehicle_order)
        customers = instance.customers
        routes: list[list[int]] = [[] for _ in range(m)]
        k = 0
        for a in actions:
            if a == 0:
                k += 1
                if k >= m:
                    break
            else:
                routes[norm.vehicle_order[k]].append(int(customers[a - 1]))
        return Solution(routes)

    def env_class(self) -> Any:
        from envs.hcvrp.env import HCVRPEnv

        return HCVRPEnv

    def embeddings(self, embed_dim: int) -> dict[str, Any]:
        from envs.hcvrp.embeddings import policy_modules

        return policy_modules(embed_dim)
