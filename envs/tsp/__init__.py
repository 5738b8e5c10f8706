"""TSP: rl4co's ``TSPEnv``; the policy reads every city's coordinates."""

from envs.tsp.adapter import TSPProblem

PROBLEM = TSPProblem()

__all__ = ["PROBLEM", "TSPProblem"]
