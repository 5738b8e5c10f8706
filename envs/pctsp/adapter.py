"""Prize-collecting TSP adapter for rl4co's ``PCTSPEnv`` (the deterministic one).

``depot``, ``locs`` in the unit square; ``penalty`` the skip penalties divided by the
coordinate scale (they add to lengths); ``deterministic_prize`` the prizes divided by the
quota (``min_prize``): the env's quota is fixed at 1. The prizes are shrunk by a factor
``1 - 1e-5`` more, so that a tour the env lets close in float32 holds the quota in the
evaluator's float64 too. ``stochastic_prize`` equals the deterministic one (rl4co's
stochastic PCTSP is another problem, not adapted). Reward = -(length + penalties of the
skipped), in unit lengths. An instance without a positive quota is rejected: the env
cannot represent "no quota".
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from envs.base import AdapterError, NeuralProblem, Normalisation, unit_coords
from envs.op.adapter import visits
from vrp.model import Instance, Solution

QUOTA_MARGIN = 1e-5


class PCTSPProblem(NeuralProblem):
    name: ClassVar[str] = "pctsp"
    variants: ClassVar[frozenset[str]] = frozenset({"pctsp"})
    env_name: ClassVar[str] = "pctsp"
    models: ClassVar[tuple[str, ...]] = ("am",)
    normalisation: ClassVar[str] = ("coords: bounding box to unit square (aspect kept); prizes: / quota; "
                                    "penalties: / coordinate scale")
    train_variants: ClassVar[tuple[str, ...]] = ("pctsp",)

    def check(self, instance: Instance) -> None:
        super().check(instance)
        if not instance.min_prize or instance.min_prize <= 0:
            raise AdapterError(f"min_prize: the pctsp policies need a positive prize quota (rl4co's env fixes it "
                               f"at 1 after scaling), instance {instance.name} has {instance.min_prize!r}")

    def features(self, instance: Instance) -> tuple[dict[str, np.ndarray], Normalisation]:
        unit, norm = unit_coords(instance)
        assert instance.prizes is not None and instance.penalties is not None and instance.min_prize
        customers = instance.customers
        prize = instance.prizes[customers] / float(instance.min_prize) * (1.0 - QUOTA_MARGIN)
        return {"depot": unit[instance.depot], "locs": unit[customers],
                "penalty": instance.penalties[customers] / norm.scale,
                "deterministic_prize": prize, "stochastic_prize": prize.copy()}, norm

    def to_solution(self, instance: Instance, actions: list[int], norm: Normalisation) -> Solution:
        return Solution([visits(instance, actions)])

    def env_class(self) -> Any:
        from rl4co.envs import PCTSPEnv

        return PCTSPEnv
