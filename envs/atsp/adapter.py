"""ATSP adapter for rl4co's ``ATSPEnv`` (MatNet reads only the matrix).

``cost_matrix`` (n, n): the instance's distances (in its own rounding), the diagonal set
to 0, divided by the largest entry. No coordinates are needed, so an instance given as
a matrix alone (TSPLIB ``.atsp``, our JSON with ``distances``, a matrix CSV) is solved,
a symmetric one (variant ``tsp``) included. MatNet's column embeddings are random one-hot
vectors of the embedding width, so an instance has at most that many nodes (the solver
checks); its "augmentation" re-draws them (MatNet's own instance augmentation), since a
matrix has no dihedral symmetry.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from envs.base import NeuralProblem, Normalisation, route_from_tour
from vrp.model import Instance, Solution


class ATSPProblem(NeuralProblem):
    name: ClassVar[str] = "atsp"
    variants: ClassVar[frozenset[str]] = frozenset({"atsp", "tsp"})
    env_name: ClassVar[str] = "atsp"
    models: ClassVar[tuple[str, ...]] = ("matnet",)
    needs_coords: ClassVar[bool] = False
    normalisation: ClassVar[str] = "cost matrix: diagonal 0, / largest entry"
    train_variants: ClassVar[tuple[str, ...]] = ("atsp",)

    def size_of(self, instance: Instance) -> int:
        return instance.n

    def features(self, instance: Instance) -> tuple[dict[str, np.ndarray], Normalisation]:
        d = np.array(instance.distances, dtype=np.float64)
        np.fill_diagonal(d, 0.0)
        top = float(d.max())
        top = top if top > 0 else 1.0
        return {"cost_matrix": d / top}, Normalisation((0.0, 0.0), top)

    def to_solution(self, instance: Instance, actions: list[int], norm: Normalisation) -> Solution:
        return route_from_tour(instance, actions[: instance.n])

    def augment(self, td: Any, copies: int) -> Any:
        return td.expand(copies, *td.batch_size).clone().reshape(-1)

    def env_class(self) -> Any:
        from rl4co.envs import ATSPEnv

        return ATSPEnv
