"""Random instances of every variant (torch-free), seeded and reproducible.

Conventions follow Kool et al. (2019) and rl4co, so that a policy trained on
rl4co's distributions and every other solver see the same instances:

- coordinates in ``[0, scale]^2`` (``scale`` = 1000 by default), distances kept
  exact (floats, ``rounding="exact"``);
- ``size`` counts customers (the depot is extra) except for tsp/atsp, where it
  counts cities (node 0 is the start);
- cvrp demands are integers in 1..9 with capacity 30/40/50 for 20/50/100
  customers (interpolated for other sizes);
- op prizes grow with distance from the depot (Fischetti et al.), max length
  2/3/4 x scale for 20/50/100; pctsp prizes U(0, 4/n), penalties U(0, 3 L/n)
  with a prize quota of 1 (Kool et al.).

Node layouts: ``uniform``; ``clustered`` (Gaussian clusters, 3 to 8 centres);
``mixed`` (half uniform, half clustered).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vrp.model import Instance

PROBLEMS = ("tsp", "atsp", "cvrp", "ocvrp", "vrptw", "hcvrp", "op", "pctsp")
DISTRIBUTIONS = ("uniform", "clustered", "mixed")

_CAPACITY = {10: 20, 15: 25, 20: 30, 30: 33, 40: 37, 50: 40, 60: 43, 75: 45, 100: 50, 125: 55,
             150: 60, 200: 70, 500: 100, 1000: 150}
_LENGTH = {10: 1.5, 20: 2.0, 50: 3.0, 100: 4.0}


def _interp(table: dict[int, float], size: int) -> float:
    keys = sorted(table)
    return float(np.interp(size, keys, [table[k] for k in keys]))


def capacity_for(size: int) -> int:
    """Vehicle capacity used for a cvrp with ``size`` customers (rl4co's table)."""
    return int(round(_interp(_CAPACITY, size)))  # type: ignore[arg-type]


def max_length_for(size: int) -> float:
    """Route-length factor (times ``scale``) for op/pctsp of ``size`` nodes."""
    return _interp(_LENGTH, size)  # type: ignore[arg-type]


def layout(n: int, distribution: str, rng: np.random.Generator) -> np.ndarray:
    """``n`` points in the unit square under a named distribution."""
    if distribution == "uniform":
        return rng.random((n, 2))
    if distribution == "clustered":
        k = int(rng.integers(3, 9))
        centres = rng.uniform(0.1, 0.9, (k, 2))
        which = rng.integers(0, k, n)
        pts = centres[which] + rng.normal(0.0, 0.06, (n, 2))
        return np.clip(pts, 0.0, 1.0)
    if distribution == "mixed":
        half = n // 2
        pts = np.vstack([layout(half, "uniform", rng), layout(n - half, "clustered", rng)])
        return pts[rng.permutation(n)]
    raise ValueError(f"distribution: must be one of {', '.join(DISTRIBUTIONS)}, got {distribution!r}")


def generate(problem: str, size: int, *, distribution: str = "uniform", seed: int = 0,
             scale: float = 1000.0, name: str | None = None) -> Instance:
    """One random instance of ``problem`` with ``size`` customers (cities for tsp/atsp).

    Parameters
    ----------
    problem
        One of :data:`PROBLEMS`.
    size
        Number of customers (tsp/atsp: number of cities, at least 2).
    distribution
        Node layout: one of :data:`DISTRIBUTIONS`.
    seed
        Seed of the generator; the same arguments give the same instance.
    scale
        Side of the square the coordinates lie in.
    """
    if problem not in PROBLEMS:
        raise ValueError(f"problem: must be one of {', '.join(PROBLEMS)}, got {problem!r}")
    if int(size) != size or size < (2 if problem in ("tsp", "atsp") else 1):
        raise ValueError(f"size: must be a positive integer (at least 2 for {problem}), got {size!r}")
    if scale <= 0:
        raise ValueError(f"scale: must be positive, got {scale!r}")
    size = int(size)
    rng = np.random.default_rng(seed)
    name = name or f"{problem}{size}-{distribution}-s{seed}"
    n = size if problem in ("tsp", "atsp") else size + 1
    unit = layout(n, distribution, rng)
    if distribution != "uniform" and problem not in ("tsp", "atsp"):
        unit[0] = rng.random(2)  # depot placed uniformly, as rl4co does
    coords = unit * scale
    kw: dict[str, Any] = {"name": name, "coords": coords, "distances": None, "rounding": "exact",
                          "metric": "euclidean"}

    if problem == "atsp":
        base = np.sqrt(((coords[:, None] - coords[None]) ** 2).sum(-1))
        skew = rng.uniform(1.0, 1.5, (n, n))
        dist = base * skew
        np.fill_diagonal(dist, 0.0)
        return Instance(**{**kw, "distances": dist, "metric": "explicit"})
    if problem == "tsp":
        return Instance(**kw)

    if problem in ("cvrp", "ocvrp", "vrptw"):
        demands = np.concatenate(([0], rng.integers(1, 10, size))).astype(float)
        kw.update(demands=demands, capacity=capacity_for(size), open_routes=problem == "ocvrp")
        if problem == "vrptw":
            kw.update(_time_windows(coords, rng, scale))
        return Instance(**kw)

    if problem == "hcvrp":
        demands = np.concatenate(([0], rng.integers(1, 10, size))).astype(float)
        m = 3 if size <= 20 else 5
        total = demands.sum()
        # Random capacities whose sum leaves 30-50 % slack over the total demand, so
        # that a packing into m routes exists comfortably; each >= the largest demand.
        share = rng.uniform(0.6, 1.4, m)
        caps = np.ceil(share / share.sum() * total * rng.uniform(1.3, 1.5))
        caps = np.maximum(caps, 9.0)
        kw.update(demands=demands, vehicle_capacities=caps)
        return Instance(**kw)

    depot_dist = np.sqrt(((coords - coords[0]) ** 2).sum(-1))
    if problem == "op":
        prizes = 1.0 + np.floor(99.0 * depot_dist / max(depot_dist.max(), 1e-12)) / 100.0
        prizes[0] = 0.0
        kw.update(prizes=prizes, max_length=max_length_for(size) * scale)
        return Instance(**kw)

    # pctsp
    length = max_length_for(size)
    prizes = rng.uniform(0.0, 4.0 / size, n)
    penalties = rng.uniform(0.0, 3.0 * length / size, n) * scale
    prizes[0] = penalties[0] = 0.0
    quota = min(1.0, float(prizes.sum()))
    kw.update(prizes=prizes, penalties=penalties, min_prize=quota)
    return Instance(**kw)


def _time_windows(coords: np.ndarray, rng: np.random.Generator, scale: float) -> dict[str, Any]:
    """Solomon-like windows that a direct depot-customer-depot trip always meets."""
    n = coords.shape[0]
    d0 = np.sqrt(((coords - coords[0]) ** 2).sum(-1))
    service = np.full(n, 0.02 * scale)
    service[0] = 0.0
    horizon = 4.0 * scale
    latest_start = horizon - d0 - service  # must leave by then to be home in time
    centre = rng.uniform(d0, np.maximum(latest_start, d0))
    width = rng.uniform(0.05, 0.3, n) * horizon
    ready = np.maximum(0.0, centre - width / 2)
    due = np.minimum(centre + width / 2, latest_start)
    due = np.maximum(due, d0)
    ready = np.minimum(ready, due)
    tw = np.stack([ready, due], axis=1)
    tw[0] = [0.0, horizon]
    return {"time_windows": tw, "service_times": service}


def generate_many(problem: str, size: int, count: int, *, distribution: str = "uniform", seed: int = 0,
                  scale: float = 1000.0) -> list[Instance]:
    """``count`` instances; instance ``i`` is ``generate(..., seed=seed * 1_000_003 + i)``."""
    if count < 1:
        raise ValueError(f"count: must be positive, got {count!r}")
    return [generate(problem, size, distribution=distribution, seed=seed * 1_000_003 + i, scale=scale,
                     name=f"{problem}{size}-{distribution}-s{seed}-{i}") for i in range(count)]
