"""Orienteering adapter for rl4co's ``OPEnv``.

``depot`` (2,), ``locs`` (n-1, 2) in the unit square; ``prize`` (n-1,) the customers'
prizes divided by the largest one (any positive prizes: the env's reward is their sum, so
a common factor changes nothing); ``max_length`` the length limit divided by the
coordinate scale. The env masks with unrounded Euclidean lengths (and a 1e-6 margin);
a file whose distances are rounded up may then be over its limit by a rounding: the
tour is shortened (:func:`fit_length`, the visit whose removal costs least prize per
length saved goes first) and the solver's info says how many visits it dropped.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from envs.base import AdapterError, NeuralProblem, Normalisation, unit_coords
from vrp.model import Instance, Solution


def visits(instance: Instance, actions: list[int]) -> list[int]:
    """The customers of a single-route action sequence (0 = the depot, ``k`` = k-th customer)."""
    customers = instance.customers
    return [int(customers[a - 1]) for a in actions if a != 0]


def fit_length(instance: Instance, route: list[int], limit: float) -> tuple[list[int], int]:
    """Drop visits until the closed route is within ``limit`` under the instance's distances."""
    d = instance.distances
    depot = instance.depot
    prizes = instance.prizes if instance.prizes is not None else np.ones(instance.n)
    route = list(route)
    dropped = 0

    def length(r: list[int]) -> float:
        seq = [depot, *r, depot]
        return float(sum(d[a, b] for a, b in zip(seq[:-1], seq[1:])))

    while route and length(route) > limit + 1e-9:
        seq = [depot, *route, depot]
        saves = [d[seq[k - 1], seq[k]] + d[seq[k], seq[k + 1]] - d[seq[k - 1], seq[k + 1]]
                 for k in range(1, len(seq) - 1)]
        k = min(range(len(route)), key=lambda i: prizes[route[i]] / max(saves[i], 1e-12))
        route.pop(k)
        dropped += 1
    return route, dropped


class OPProblem(NeuralProblem):
    name: ClassVar[str] = "op"
    variants: ClassVar[frozenset[str]] = frozenset({"op"})
    env_name: ClassVar[str] = "op"
    models: ClassVar[tuple[str, ...]] = ("am",)
    normalisation: ClassVar[str] = ("coords: bounding box to unit square (aspect kept); prizes: / largest prize; "
                                    "max_length: / coordinate scale")
    train_variants: ClassVar[tuple[str, ...]] = ("op",)

    def check(self, instance: Instance) -> None:
        super().check(instance)
        assert instance.prizes is not None
        if instance.n < 2 or float(instance.prizes[instance.customers].max()) <= 0:
            raise AdapterError(f"prizes: instance {instance.name} has no customer with a positive prize")

    def features(self, instance: Instance) -> tuple[dict[str, np.ndarray], Normalisation]:
        unit, norm = unit_coords(instance)
        assert instance.prizes is not None and instance.max_length is not None  # variant op
        customers = instance.customers
        top = float(instance.prizes[customers].max())
        return ({"depot": unit[instance.depot], "locs": unit[customers], "prize": instance.prizes[customers] / top,
                 "max_length": np.array(float(instance.max_length) / norm.scale)},
                Normalisation(norm.offset, norm.scale, objective_scale=top, maximise=True))

    def to_solution(self, instance: Instance, actions: list[int], norm: Normalisation) -> Solution:
        assert instance.max_length is not None
        route, _ = fit_length(instance, visits(instance, actions), float(instance.max_length))
        return Solution([route])

    def env_class(self) -> Any:
        from rl4co.envs import OPEnv

        return OPEnv
