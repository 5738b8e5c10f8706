"""CVRP: rl4co's ``CVRPEnv``; demands divided by the capacity (vehicle capacity 1)."""

from envs.cvrp.adapter import CVRPProblem

PROBLEM = CVRPProblem()

__all__ = ["PROBLEM", "CVRPProblem"]
