"""An rl4co ``Generator`` that draws exactly what :func:`envs.generate.generate` draws.

Instance ``i`` of a batch is ``generate(problem, size, distribution=..., seed=s_i)``
passed through :func:`envs.adapters.to_tensordict`, for seeds ``s_i`` drawn from a
counter-based stream ``(seed, call)``; the same random draws are made in the same
order, without building :class:`~vrp.model.Instance` objects (which would compute
a distance matrix per instance). ``tests/envs/test_adapters.py`` checks the
equality instance by instance.
"""

from __future__ import annotations

import numpy as np
import torch
from rl4co.envs.common.utils import Generator
from tensordict import TensorDict

from envs.adapters import ENV_NAMES, unit_square
from envs.generate import DISTRIBUTIONS, capacity_for, layout


class VrpGenerator(Generator):
    """Training/validation data for rl4co envs from our generators.

    Parameters
    ----------
    problem
        ``tsp`` or ``cvrp``.
    size
        Cities (tsp) or customers (cvrp), as in ``vrp generate``.
    distribution
        ``uniform``, ``clustered`` or ``mixed``.
    seed
        Base seed of the stream of instance seeds.
    scale
        Coordinate scale passed to the generator (irrelevant after normalisation,
        kept for exact equality with ``vrp generate``).
    """

    def __init__(self, problem: str = "tsp", size: int = 20, distribution: str = "uniform", seed: int = 0,
                 scale: float = 1000.0, **kwargs: object) -> None:
        super().__init__(**kwargs)
        if problem not in ENV_NAMES:
            raise ValueError(f"problem: must be one of {', '.join(ENV_NAMES)}, got {problem!r}")
        if distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution: must be one of {', '.join(DISTRIBUTIONS)}, got {distribution!r}")
        self.problem = problem
        self.size = int(size)
        self.distribution = distribution
        self.seed = int(seed)
        self.scale = float(scale)
        self.calls = 0
        # attributes rl4co's envs read from their generator (specs, reset)
        self.num_loc = self.size
        self.min_loc, self.max_loc = 0.0, 1.0
        self.capacity = float(capacity_for(self.size)) if problem == "cvrp" else 1.0
        self.vehicle_capacity = 1.0
        self.min_demand, self.max_demand = 1, 10

    def next_seeds(self, count: int) -> np.ndarray:
        """Seeds for the next ``count`` instances (advances the call counter)."""
        rng = np.random.default_rng([self.seed, self.calls])
        self.calls += 1
        return rng.integers(0, 2**62, count, dtype=np.int64)

    def _generate(self, batch_size: list[int]) -> TensorDict:
        count = int(np.prod(batch_size)) if batch_size else 1
        td = self.draw(self.next_seeds(count))
        return td.reshape(*batch_size) if batch_size else td[0]

    def draw(self, seeds: np.ndarray | list[int]) -> TensorDict:
        """The TensorDict of ``generate(problem, size, distribution, seed=s)`` for each ``s``."""
        seeds = [int(s) for s in seeds]
        n = self.size if self.problem == "tsp" else self.size + 1
        units = np.empty((len(seeds), n, 2))
        demands = np.empty((len(seeds), self.size)) if self.problem == "cvrp" else None
        for b, s in enumerate(seeds):
            rng = np.random.default_rng(s)
            unit = layout(n, self.distribution, rng)
            if self.problem == "cvrp":
                if self.distribution != "uniform":
                    unit[0] = rng.random(2)
                demands[b] = rng.integers(1, 10, self.size)  # type: ignore[index]
            units[b] = unit
        unit, _, _ = unit_square(units * self.scale)
        if self.problem == "tsp":
            data = {"locs": torch.as_tensor(unit, dtype=torch.float32)}
        else:
            assert demands is not None
            data = {
                "depot": torch.as_tensor(unit[:, 0], dtype=torch.float32),
                "locs": torch.as_tensor(unit[:, 1:], dtype=torch.float32),
                "demand": torch.as_tensor(demands / self.capacity, dtype=torch.float32),
                "capacity": torch.full((len(seeds), 1), self.capacity),
            }
        return TensorDict(data, batch_size=[len(seeds)])


def make_env(problem: str, size: int, distribution: str = "uniform", seed: int = 0):  # noqa: ANN201
    """The rl4co environment for ``problem`` with a :class:`VrpGenerator`."""
    from rl4co.envs import CVRPEnv, TSPEnv

    gen = VrpGenerator(problem, size, distribution, seed)
    env_cls = TSPEnv if problem == "tsp" else CVRPEnv
    return env_cls(generator=gen, seed=seed)
