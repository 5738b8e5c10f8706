"""Open-route CVRP: rl4co's ``MTVRPEnv`` with open routes (no return leg is counted)."""

from typing import ClassVar

from envs.mtvrp.adapter import MTVRPProblem


class OCVRPProblem(MTVRPProblem):
    name: ClassVar[str] = "ocvrp"
    variants: ClassVar[frozenset[str]] = frozenset({"ocvrp"})
    train_variants: ClassVar[tuple[str, ...]] = ("ocvrp",)


PROBLEM = OCVRPProblem()

__all__ = ["PROBLEM", "OCVRPProblem"]
