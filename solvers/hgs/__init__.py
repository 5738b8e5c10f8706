"""Hybrid genetic search (registered as ``ga``) and the shared numba local search.

Numba kernels compile on first use (cached on disk); call :func:`warmup` once to
pay that cost outside any time limit.
"""

from __future__ import annotations

from solvers.hgs.solver import HGSSolver, Params, warmup

__all__ = ["HGSSolver", "Params", "warmup"]
