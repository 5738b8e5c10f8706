"""What every neural problem adapter provides: ``Instance`` <-> rl4co ``TensorDict`` and back.

One :class:`NeuralProblem` per folder under ``envs/`` (``envs/tsp``, ``envs/op``, ...), as
rl4co lays out ``envs/routing/<problem>/``: the folder says how an instance becomes the
env's input (normalised features), which rl4co environment (or our own, on rl4co's base)
steps it, and how decoded actions become a :class:`~vrp.model.Solution` in the instance's
node indices. The evaluator, never the env's reward, gives the cost; the reward converts
to instance units through :class:`Normalisation` only to check the round trip and to
pick the best of several decoded candidates.

This module is light: numpy only at import; torch/tensordict/rl4co are imported by the
methods that need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from vrp.model import Instance, Solution

if TYPE_CHECKING:  # pragma: no cover
    from tensordict import TensorDict

#: keys that hold coordinates in the unit square (the dihedral augmentation maps them)
COORD_KEYS = ("locs", "depot")


class AdapterError(ValueError):
    """An instance cannot be given to a neural policy (variant, missing coordinates, ...)."""


@dataclass(frozen=True)
class Normalisation:
    """How one instance was scaled for the policy, and how to scale back.

    ``unit = (coords - offset) / scale``. An env reward converts to the instance's objective
    as ``objective = -reward * objective_scale`` (distances, penalties) or, for a maximised
    objective (op's prize), ``objective = reward * objective_scale``. ``objective_scale``
    defaults to ``scale``. ``vehicle_order`` maps the env's k-th vehicle to the instance's
    vehicle index (heterogeneous fleets).
    """

    offset: tuple[float, float]
    scale: float
    objective_scale: float | None = None
    maximise: bool = False
    vehicle_order: tuple[int, ...] | None = None

    def objective(self, reward: float) -> float:
        """An env reward in the instance's objective units."""
        factor = self.scale if self.objective_scale is None else self.objective_scale
        return float(reward) * factor if self.maximise else -float(reward) * factor


def unit_square(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalise one ``(n, 2)`` or a batch ``(B, n, 2)`` of layouts to the unit square.

    Returns ``(unit, offset, scale)`` with ``offset`` of shape ``(..., 2)`` and
    ``scale`` of shape ``(...)``: the longer side of each bounding box becomes 1.
    A degenerate layout (all points equal) keeps ``scale = 1``.
    """
    coords = np.asarray(coords, dtype=np.float64)
    lo = coords.min(axis=-2)
    span = (coords.max(axis=-2) - lo).max(axis=-1)
    span = np.where(span > 0, span, 1.0)
    unit = (coords - lo[..., None, :]) / span[..., None, None]
    return unit, lo, span


def unit_coords(instance: Instance) -> tuple[np.ndarray, Normalisation]:
    """The instance's coordinates in the unit square, and their normalisation."""
    if instance.coords is None:
        raise AdapterError(f"coords: instance {instance.name} has only a distance matrix; the attention "
                           "policies need node coordinates")
    unit, lo, span = unit_square(instance.coords)
    return unit, Normalisation((float(lo[0]), float(lo[1])), float(span))


def split_routes(instance: Instance, actions: list[int], customers: np.ndarray | None = None) -> list[list[int]]:
    """Routes from an action sequence in which 0 is the depot and ``k >= 1`` is ``customers[k - 1]``."""
    customers = instance.customers if customers is None else customers
    routes: list[list[int]] = []
    current: list[int] = []
    for a in actions:
        if a == 0:
            if current:
                routes.append(current)
            current = []
        else:
            current.append(int(customers[a - 1]))
    if current:
        routes.append(current)
    return routes


class NeuralProblem:
    """One problem's neural path. Subclasses set the class attributes and the three methods.

    Attributes
    ----------
    name
        The problem a checkpoint records (``tsp``, ``op``, ``mtvrp``, ...).
    variants
        The instance variants this problem adapts (``mtvrp``: cvrp, ocvrp, vrptw).
    env_name
        rl4co's name for the env (selects its embeddings), or ours (``hcvrp``).
    models
        The policy families trained on it (``am``, ``pomo``, ``matnet``).
    needs_coords
        Whether the policy reads coordinates (all but the matrix policies).
    """

    name: ClassVar[str] = ""
    variants: ClassVar[frozenset[str]] = frozenset()
    env_name: ClassVar[str] = ""
    models: ClassVar[tuple[str, ...]] = ("am", "pomo")
    needs_coords: ClassVar[bool] = True
    normalisation: ClassVar[str] = "coords: bounding box to unit square (aspect kept)"
    #: the variant of a training instance: one per problem, except the multi-variant one
    train_variants: ClassVar[tuple[str, ...]] = ()
    #: a decoded plan may leave customers unserved that the variant requires (a fleet that ran out)
    must_serve_all: ClassVar[bool] = False
    #: routes split by depot visits (action 0), as many as needed: a fleet limit is checked on them
    multi_route: ClassVar[bool] = False

    # ---- what a subclass provides ----
    def features(self, instance: Instance) -> tuple[dict[str, np.ndarray], Normalisation]:
        """The env input of one instance (numpy, no batch dimension) and its normalisation."""
        raise NotImplementedError

    def to_solution(self, instance: Instance, actions: list[int], norm: Normalisation) -> Solution:
        """Decoded actions as a :class:`Solution` in the instance's node indices."""
        raise NotImplementedError

    def env_class(self) -> type:
        """The rl4co environment class (ours for problems rl4co has none of)."""
        raise NotImplementedError

    def embeddings(self, embed_dim: int) -> dict[str, Any]:
        """Embedding modules for rl4co's attention policy where rl4co has none for ``env_name``."""
        return {}

    # ---- shared behaviour ----
    def check(self, instance: Instance) -> None:
        """Reject, with one line, an instance the policy cannot take as it is."""
        if instance.variant not in self.variants:
            raise AdapterError(f"variant: the {self.name} policies take {', '.join(sorted(self.variants))}, "
                               f"instance {instance.name} is {instance.variant!r}")
        if self.needs_coords and instance.coords is None:
            raise AdapterError(f"coords: instance {instance.name} has only a distance matrix; the attention "
                               "policies need node coordinates")

    def batch_key(self, instance: Instance) -> tuple[Any, ...]:
        """Instances with equal keys stack into one TensorDict."""
        return (instance.n,)

    def size_of(self, instance: Instance) -> int:
        """The size as ``vrp generate`` counts it (customers; cities for tsp/atsp)."""
        return instance.num_customers

    def augment(self, td: TensorDict, copies: int) -> TensorDict:
        """``copies`` (8) symmetric versions of a batch, batch ``copies x B``: the dihedral group of
        the unit square on the coordinate keys (the objective is invariant under it)."""
        import torch

        if copies != 8:
            raise AdapterError(f"augment: must be 1 or 8, got {copies}")

        def maps(xy: Any) -> list[Any]:
            x, y = xy[..., :1], xy[..., 1:]
            return [torch.cat(p, -1) for p in ((x, y), (y, x), (1 - x, y), (y, 1 - x), (x, 1 - y), (1 - y, x),
                                               (1 - x, 1 - y), (1 - y, 1 - x))]

        out = td.expand(8, *td.batch_size).clone().reshape(-1)
        for key in COORD_KEYS:
            if key in td.keys():
                out.set(key, torch.cat(maps(td[key]), 0))
        return out

    def make_env(self, size: int, generator: Any = None, seed: int | None = None) -> Any:
        """The environment, its generator sized for ``size`` (inference: a light stand-in)."""
        if generator is None:
            from envs.rl4co_gen import VrpGenerator

            generator = VrpGenerator(self.name, size, seed=0)
        env = self.env_class()(generator=generator, seed=seed)
        env.check_solution = False
        return env

    def to_tensordict(self, instances: list[Instance], device: str = "cpu") -> tuple[TensorDict, list[Normalisation]]:
        """Stack same-keyed instances into one (not yet reset) input ``TensorDict``."""
        if not instances:
            raise AdapterError("instances: need at least one")
        for inst in instances:
            self.check(inst)
        keys = {self.batch_key(i) for i in instances}
        if len(keys) != 1:
            raise AdapterError(f"instances: one batch needs one size, got {sorted(keys)} (group them first)")
        feats, norms = zip(*(self.features(i) for i in instances))
        return stack(list(feats), device), list(norms)


def stack(features: list[dict[str, np.ndarray]], device: str = "cpu") -> TensorDict:
    """One TensorDict from per-instance feature dicts (float32; boolean keys stay boolean)."""
    import torch
    from tensordict import TensorDict

    data = {}
    for k in features[0]:
        arr = np.stack([f[k] for f in features])
        data[k] = torch.as_tensor(arr, dtype=torch.bool if arr.dtype == bool else torch.float32)
    return TensorDict(data, batch_size=[len(features)], device=device)


def route_from_tour(instance: Instance, tour: list[int]) -> Solution:
    """A single route from a cyclic tour over all nodes (rotated to start at the depot)."""
    if sorted(tour) != list(range(instance.n)):
        raise AdapterError(f"actions: not a permutation of the {instance.n} nodes")
    k = tour.index(instance.depot)
    rotated = tour[k:] + tour[:k]
    return Solution([rotated[1:]])
