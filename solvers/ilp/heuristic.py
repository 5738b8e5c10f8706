"""Warm starts for the exact models: a good tour fast, so that the MIP starts with a cutoff.

OR-Tools (a core dependency) runs Guided Local Search for a small budget; when it
is not importable a nearest-neighbour tour improved by 2-opt is used instead.
"""

from __future__ import annotations

import numpy as np

from vrp.model import Instance


def tour_cost(d: np.ndarray, tour: list[int]) -> float:
    t = np.asarray(tour)
    return float(d[t, np.roll(t, -1)].sum())


def nearest_neighbour(d: np.ndarray, start: int = 0) -> list[int]:
    n = d.shape[0]
    left = np.ones(n, dtype=bool)
    left[start] = False
    tour = [start]
    cur = start
    for _ in range(n - 1):
        row = np.where(left, d[cur], np.inf)
        cur = int(np.argmin(row))
        left[cur] = False
        tour.append(cur)
    return tour


def two_opt(d: np.ndarray, tour: list[int], max_passes: int = 50) -> list[int]:
    """Best-improvement 2-opt, vectorised per first edge (symmetric distances)."""
    t = np.array(tour)
    n = t.size
    if n < 5:
        return list(t)
    for _ in range(max_passes):
        improved = False
        for i in range(n - 2):
            a, b = t[i], t[i + 1]
            c = t[i + 2:]
            e = np.roll(t, -1)[i + 2:]
            if i == 0:
                c, e = c[:-1], e[:-1]
            delta = d[a, c] + d[b, e] - d[a, b] - d[c, e]
            k = int(np.argmin(delta))
            if delta[k] < -1e-9:
                j = i + 2 + k
                t[i + 1:j + 1] = t[i + 1:j + 1][::-1]
                improved = True
        if not improved:
            break
    return list(t)


def warm_tour(instance: Instance, seconds: float) -> list[int]:
    """A good closed tour through every node of ``instance`` (depot first)."""
    d = instance.distances
    depot = instance.depot
    try:
        from solvers.ortools_routing import OrtoolsSolver
    except ImportError:  # pragma: no cover - ortools is a core dependency
        OrtoolsSolver = None  # noqa: N806
    if OrtoolsSolver is not None and seconds >= 0.1 and instance.n > 3:
        plain = Instance(name=instance.name, distances=d, depot=depot)
        res = OrtoolsSolver().solve(plain, time_limit=seconds)
        if res.solution is not None and len(res.solution.routes[0]) == instance.n - 1:
            return [depot, *res.solution.routes[0]]
    tour = nearest_neighbour(d, depot)
    if instance.is_symmetric:
        tour = two_opt(d, tour)
    return tour
