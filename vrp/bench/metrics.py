"""Metrics computed from a row's anytime trace."""

from __future__ import annotations

from collections.abc import Sequence


def primal_integral(trace: Sequence[tuple[float, float]], reference: float, horizon: float,
                    sense: str = "min") -> float:
    """Berthold's primal integral over ``[0, horizon]`` seconds (0 = optimal at once, ``horizon`` = never).

    The primal gap at time t is ``|ref - v| / max(|ref|, |v|)`` for the best value ``v``
    found by then (1 before the first solution, and when ``v`` and ``ref`` differ in sign);
    a value better than the reference counts as gap 0.
    """
    if horizon <= 0:
        return 0.0

    def gamma(v: float) -> float:
        worse = v > reference if sense == "min" else v < reference
        if not worse:
            return 0.0
        if v * reference < 0:
            return 1.0
        m = max(abs(v), abs(reference))
        return abs(reference - v) / m if m > 0 else 0.0

    total = 0.0
    t_prev, g_prev = 0.0, 1.0
    for t, v in sorted(trace):
        t = min(max(float(t), 0.0), horizon)
        total += g_prev * (t - t_prev)
        t_prev, g_prev = t, gamma(float(v))
    total += g_prev * (horizon - t_prev)
    return total
