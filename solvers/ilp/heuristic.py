"""Warm starts for the exact models: a good tour fast, so that the MIP starts with a cutoff.

Symmetric: iterated 2-opt/Or-opt compiled with numba (:mod:`solvers.ilp.ils`).
Asymmetric: OR-Tools (a core dependency) Guided Local Search for a small budget.
Fallback: a nearest-neighbour tour improved by 2-opt.
"""

from __future__ import annotations

import sys

import numpy as np

from vrp.model import Instance, Solution


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


def ils_ready() -> bool:
    mod = sys.modules.get("solvers.ilp.ils")
    return bool(mod is not None and getattr(mod, "WARM", False))


def warm_tour(instance: Instance, seconds: float) -> list[int]:
    """A good closed tour through every node of ``instance`` (depot first)."""
    d = instance.distances
    depot = instance.depot
    if instance.is_symmetric and seconds > 0 and instance.n >= 8 and (seconds >= 1.0 or ils_ready()):
        # Loading the compiled code costs seconds in a fresh process: only worth it
        # for a real budget, or once it is loaded (after ``IlpSolver.warmup``).
        from solvers.ilp.ils import improve

        tour = improve(d, nearest_neighbour(d, depot), seconds)
        k = tour.index(depot)
        return tour[k:] + tour[:k]
    try:
        from solvers.ortools_routing import OrtoolsSolver
    except ImportError:  # pragma: no cover - ortools is a core dependency
        OrtoolsSolver = None  # type: ignore[assignment,misc]  # noqa: N806
    if OrtoolsSolver is not None and seconds >= 0.1 and instance.n > 3:
        plain = Instance(name=instance.name, distances=d, depot=depot)
        res = OrtoolsSolver().solve(plain, time_limit=seconds)
        if isinstance(res.solution, Solution) and len(res.solution.routes[0]) == instance.n - 1:
            return [depot, *res.solution.routes[0]]
    tour = nearest_neighbour(d, depot)
    if instance.is_symmetric:
        tour = two_opt(d, tour)
    return tour


def cycles_of(succ: dict[int, list[int]], n: int, directed: bool) -> list[list[int]]:
    """The cycles of a 2-regular (or in/out-degree-1) integer point, as node orders."""
    seen = np.zeros(n, dtype=bool)
    out = []
    for s in range(n):
        if seen[s]:
            continue
        cyc, prev, cur = [s], -1, s
        seen[s] = True
        while True:
            options = succ.get(cur, [])
            nxt = next((v for v in options if v != prev), None) if not directed else (options[0] if options else None)
            if nxt is None or nxt == s or seen[nxt]:
                break
            prev, cur = cur, nxt
            seen[cur] = True
            cyc.append(cur)
        out.append(cyc)
    return out


def patch(d: np.ndarray, cycles: list[list[int]], symmetric: bool) -> list[int]:
    """Merge subtours into one tour, cheapest 2-exchange first (then 2-opt when symmetric)."""
    cyc = [list(c) for c in cycles]
    while len(cyc) > 1:
        base = cyc[0]
        a = np.array(base)
        b = np.roll(a, -1)
        best = (np.inf, 1, 0, 0, False)
        for k in range(1, len(cyc)):
            c = np.array(cyc[k])
            e = np.roll(c, -1)
            # remove (a_i, b_i) and (c_j, e_j); add (a_i, e_j) and (c_j, b_i): keeps direction
            delta = d[a][:, e] + d[c][:, b].T - d[a, b][:, None] - d[c, e][None, :]
            p, q = np.unravel_index(int(np.argmin(delta)), delta.shape)
            if delta[p, q] < best[0]:
                best = (float(delta[p, q]), k, int(p), int(q), False)
            if symmetric:  # the other cycle reversed: add (a_i, c_j) and (e_j, b_i)
                delta = d[a][:, c] + d[e][:, b].T - d[a, b][:, None] - d[c, e][None, :]
                p, q = np.unravel_index(int(np.argmin(delta)), delta.shape)
                if delta[p, q] < best[0]:
                    best = (float(delta[p, q]), k, int(p), int(q), True)
        _, k, i, j, rev = best
        other = cyc[k]
        m = len(other)
        if not rev:
            piece = [other[(j + 1 + t) % m] for t in range(m)]  # e_j ... c_j
        else:
            piece = [other[(j - t) % m] for t in range(m)]  # c_j ... e_j
        cyc[0] = base[: i + 1] + piece + base[i + 1:]
        del cyc[k]
    tour = cyc[0]
    return two_opt(d, tour) if symmetric else tour
