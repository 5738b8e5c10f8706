"""MAX-MIN ant system (registered as ``aco``) reusing the HGS local search.

Call :func:`warmup` once to compile the numba kernels outside any time limit.
"""

from __future__ import annotations

from solvers.aco.solver import ACOSolver, Params, warmup

__all__ = ["ACOSolver", "Params", "warmup"]
