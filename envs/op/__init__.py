"""Orienteering: rl4co's ``OPEnv`` (Kool et al.'s attention model trained on it)."""

from envs.op.adapter import OPProblem

PROBLEM = OPProblem()

__all__ = ["PROBLEM", "OPProblem"]
