"""Instance generators (torch-free) and, lazily, the rl4co adapters and training."""

from envs.generate import DISTRIBUTIONS, PROBLEMS, generate, generate_many

__all__ = ["DISTRIBUTIONS", "PROBLEMS", "generate", "generate_many"]
