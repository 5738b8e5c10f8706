"""ATSP: rl4co's ``ATSPEnv`` with MatNet, a policy on the distance matrix alone."""

from envs.atsp.adapter import ATSPProblem

PROBLEM = ATSPProblem()

__all__ = ["PROBLEM", "ATSPProblem"]
