"""VRPTW: rl4co's ``MTVRPEnv`` with time windows and service times (travel time = distance)."""

from typing import ClassVar

from envs.mtvrp.adapter import MTVRPProblem


class VRPTWProblem(MTVRPProblem):
    name: ClassVar[str] = "vrptw"
    variants: ClassVar[frozenset[str]] = frozenset({"vrptw"})
    train_variants: ClassVar[tuple[str, ...]] = ("vrptw",)


PROBLEM = VRPTWProblem()

__all__ = ["PROBLEM", "VRPTWProblem"]
