"""Integer scaling for solvers that need integer data (OR-Tools, PyVRP).

Distances, durations and demands are scaled by a power of ten that makes them integral
when one exists (1 for TSPLIB/CVRPLIB, 10 for Solomon's one-decimal convention); what
cannot be made exact is rounded in the direction that keeps a scaled solution feasible
in the original units: costs and consumptions up, limits and capacities down.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def is_integral(values: Any, scale: float) -> bool:
    """Whether every ``value * scale`` is an integer (relative tolerance 1e-6)."""
    v = np.asarray(values, dtype=float) * scale
    return bool(np.all(np.abs(v - np.round(v)) <= 1e-6 * np.maximum(1.0, np.abs(v))))


def distance_scale(d: np.ndarray) -> float:
    """Factor that makes the distances integers; else ~7 significant digits per arc."""
    for s in (1.0, 10.0, 100.0):
        if is_integral(d, s):
            return s
    top = float(d.max()) or 1.0
    # ~7 significant digits per arc, and a whole route stays far below int64.
    return float(10 ** max(0, math.floor(math.log10(1e7 / top))))


def resource_scale(values: Any, scale: float) -> float:
    """``scale`` when it makes ``values`` integral, else at least 1000 (three decimals kept).

    For the resources a solver must not get wrong (durations, route lengths, demands):
    a coarse scale that rounds them would change feasibility.
    """
    return scale if is_integral(values, scale) else max(scale, 1000.0)


def _rounded(values: Any, scale: float, inexact: Any) -> np.ndarray:
    v = np.asarray(values, dtype=float) * scale
    r = np.round(v)
    return np.where(np.abs(v - r) <= 1e-6 * np.maximum(1.0, np.abs(v)), r, inexact(v)).astype(np.int64)


def scale_up(values: Any, scale: float) -> np.ndarray:
    """Round ``values * scale`` up, exactly when it is integral (durations, demands)."""
    return _rounded(values, scale, np.ceil)


def scale_down(values: Any, scale: float) -> Any:
    """Round ``values * scale`` down, exactly when it is integral (limits, capacities); a scalar stays one."""
    out = _rounded(values, scale, np.floor)
    return out if out.ndim else int(out)
