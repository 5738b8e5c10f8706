"""Multi-variant VRP (RouteFinder's idea): rl4co's ``MTVRPEnv`` for cvrp, ocvrp and vrptw.

One policy trained on mixed batches of the three variants; ``envs/ocvrp`` and
``envs/vrptw`` are the same env restricted to one variant (per-variant policies).
"""

from envs.mtvrp.adapter import MTVRPProblem

PROBLEM = MTVRPProblem()

__all__ = ["PROBLEM", "MTVRPProblem"]
