"""Heterogeneous-fleet CVRP: our own environment on rl4co's base (rl4co has none)."""

from envs.hcvrp.adapter import HCVRPProblem

PROBLEM = HCVRPProblem()

__all__ = ["PROBLEM", "HCVRPProblem"]
