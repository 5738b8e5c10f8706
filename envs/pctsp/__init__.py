"""Prize-collecting TSP: rl4co's ``PCTSPEnv`` (deterministic prizes)."""

from envs.pctsp.adapter import PCTSPProblem

PROBLEM = PCTSPProblem()

__all__ = ["PROBLEM", "PCTSPProblem"]
