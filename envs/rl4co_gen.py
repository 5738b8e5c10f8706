"""An rl4co ``Generator`` that draws exactly what :func:`envs.generate.generate` draws.

Instance ``i`` of a batch is ``generate(variant, size, distribution=..., seed=s_i)``
passed through the problem's adapter (:mod:`envs.adapters`), for seeds ``s_i`` drawn
from a counter-based stream ``(seed, call)``. A multi-variant problem (``mtvrp``) draws
the variant of each instance from its seed, so one batch mixes the variants (RouteFinder's
mixed-batch training). ``tests/envs/test_adapters.py`` checks the equality instance by
instance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rl4co.envs.common.utils import Generator
from tensordict import TensorDict

from envs.adapters import PROBLEMS, get_problem
from envs.base import stack
from envs.generate import DISTRIBUTIONS, capacity_for, generate, max_length_for


class VrpGenerator(Generator):
    """Training/validation data for rl4co envs from our generators.

    Parameters
    ----------
    problem
        A neural problem (:data:`envs.adapters.PROBLEMS`).
    size
        Cities (tsp/atsp) or customers (the rest), as in ``vrp generate``.
    distribution
        ``uniform``, ``clustered`` or ``mixed``.
    seed
        Base seed of the stream of instance seeds.
    scale
        Coordinate scale passed to the generator (irrelevant after normalisation,
        kept for exact equality with ``vrp generate``).
    variants
        The variants drawn (default: the problem's own; ``mtvrp``: cvrp, ocvrp, vrptw).
    """

    def __init__(self, problem: str = "tsp", size: int = 20, distribution: str = "uniform", seed: int = 0,
                 scale: float = 1000.0, variants: Sequence[str] | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        if problem not in PROBLEMS:
            raise ValueError(f"problem: must be one of {', '.join(PROBLEMS)}, got {problem!r}")
        if distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution: must be one of {', '.join(DISTRIBUTIONS)}, got {distribution!r}")
        self.adapter = get_problem(problem)
        self.variants = tuple(variants or self.adapter.train_variants)
        bad = [v for v in self.variants if v not in self.adapter.variants]
        if bad or not self.variants:
            raise ValueError(f"variants: {problem} policies take {', '.join(sorted(self.adapter.variants))}, "
                             f"got {', '.join(bad) or 'none'}")
        self.problem = problem
        self.size = int(size)
        self.distribution = distribution
        self.seed = int(seed)
        self.scale = float(scale)
        self.calls = 0
        # attributes rl4co's envs read from their generator (specs, reset, start nodes)
        self.num_loc = self.size
        self.min_loc, self.max_loc = 0.0, 1.0
        self.min_dist, self.max_dist = 0.0, 1.0
        self.capacity = float(capacity_for(self.size))
        self.vehicle_capacity = 1.0
        self.min_demand, self.max_demand = 1, 10
        self.prize_required = 1.0
        self.max_length = max_length_for(self.size)

    def next_seeds(self, count: int) -> np.ndarray:
        """Seeds for the next ``count`` instances (advances the call counter)."""
        rng = np.random.default_rng([self.seed, self.calls])
        self.calls += 1
        return rng.integers(0, 2**62, count, dtype=np.int64)

    def variant_of(self, seed: int) -> str:
        """The variant of the instance drawn with ``seed``."""
        return self.variants[int(seed) % len(self.variants)]

    def _generate(self, batch_size: list[int]) -> TensorDict:
        count = int(np.prod(batch_size)) if batch_size else 1
        td = self.draw(self.next_seeds(count))
        return td.reshape(*batch_size) if batch_size else td[0]

    def instances(self, seeds: np.ndarray | list[int]) -> list:
        """The instances ``generate(variant, size, distribution, seed=s)`` for each seed ``s``."""
        return [generate(self.variant_of(s), self.size, distribution=self.distribution, seed=int(s),
                         scale=self.scale) for s in seeds]

    def draw(self, seeds: np.ndarray | list[int]) -> TensorDict:
        """The input TensorDict of :meth:`instances` (what the adapter gives the policy at inference)."""
        return stack([self.adapter.features(inst)[0] for inst in self.instances(seeds)])


def make_env(problem: str, size: int, distribution: str = "uniform", seed: int = 0,
             variants: Sequence[str] | None = None):  # noqa: ANN201
    """The environment of ``problem`` with a :class:`VrpGenerator`."""
    gen = VrpGenerator(problem, size, distribution, seed, variants=variants)
    return gen.adapter.make_env(size, generator=gen, seed=seed)
