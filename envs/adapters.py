"""``Instance`` <-> rl4co ``TensorDict`` adapters for the neural solvers.

Only the variants whose rl4co environment matches our model exactly are adapted:

=======  ===========  ===========================================================
variant  rl4co env    what is passed
=======  ===========  ===========================================================
tsp      ``tsp``      ``locs`` (n, 2): every city, node order kept
cvrp     ``cvrp``     ``depot`` (2,), ``locs`` (n-1, 2) customers, ``demand``
                      divided by the capacity (vehicle capacity 1)
=======  ===========  ===========================================================

Coordinates are normalised to the unit square keeping the aspect ratio: the
bounding box's lower corner goes to the origin and its longer side to 1
(:class:`Normalisation`). rl4co's rewards are tour lengths in these units; a
length times ``Normalisation.scale`` is the length in the instance's own units
(exactly, for ``rounding="exact"``; files with rounded distances differ only by
their rounding, since the evaluator always scores with ``instance.distances``).
The training generator (:mod:`envs.rl4co_gen`) applies the same normalisation,
so a policy sees at inference what it saw in training.

This module is light: numpy only at import; torch/tensordict are imported by the
functions that build tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from vrp.model import Instance, Solution

if TYPE_CHECKING:  # pragma: no cover
    from tensordict import TensorDict

#: variants with an rl4co environment we adapt, and the rl4co env name
ENV_NAMES = {"tsp": "tsp", "cvrp": "cvrp"}
NORMALISATION = "coords: bounding box to unit square (aspect kept); demands: / capacity"


class AdapterError(ValueError):
    """An instance cannot be given to a neural policy (variant, missing coordinates, ...)."""


@dataclass(frozen=True)
class Normalisation:
    """``unit = (coords - offset) / scale``; lengths in instance units = unit lengths * scale."""

    offset: tuple[float, float]
    scale: float


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


def check_supported(instance: Instance, problem: str | None = None) -> str:
    """The rl4co env name for ``instance``; a clear error when it cannot be adapted."""
    if instance.variant not in ENV_NAMES:
        raise AdapterError(
            f"variant: neural policies here handle {', '.join(ENV_NAMES)}, got {instance.variant!r} "
            f"({instance.name})"
        )
    if problem is not None and instance.variant != problem:
        raise AdapterError(
            f"problem mismatch: the policy was trained on {problem!r}, instance {instance.name} is "
            f"{instance.variant!r}"
        )
    if instance.coords is None:
        raise AdapterError(f"coords: instance {instance.name} has only a distance matrix; the attention "
                           "policies need node coordinates")
    return ENV_NAMES[instance.variant]


def _features(instance: Instance) -> tuple[dict[str, np.ndarray], Normalisation]:
    check_supported(instance)
    unit, lo, span = unit_square(instance.coords)  # type: ignore[arg-type]
    norm = Normalisation((float(lo[0]), float(lo[1])), float(span))
    if instance.variant == "tsp":
        # rl4co's TSP tour may start anywhere; the depot is re-inserted at decoding.
        return {"locs": unit}, norm
    depot = instance.depot
    customers = instance.customers
    assert instance.demands is not None and instance.capacity is not None  # cvrp: check_supported
    capacity = float(instance.capacity)
    demands = instance.demands[customers] / capacity
    return {"depot": unit[depot], "locs": unit[customers], "demand": demands,
            "capacity": np.array([capacity])}, norm


def to_tensordict(instances: list[Instance] | Instance, *, device: str = "cpu"
                  ) -> tuple[TensorDict, list[Normalisation]]:
    """Stack same-sized instances of one variant into an rl4co input ``TensorDict``.

    Returns the (not yet reset) TensorDict and each instance's normalisation.
    """
    import torch
    from tensordict import TensorDict

    if isinstance(instances, Instance):
        instances = [instances]
    if not instances:
        raise AdapterError("instances: need at least one")
    variants = {i.variant for i in instances}
    sizes = {i.n for i in instances}
    if len(variants) != 1 or len(sizes) != 1:
        raise AdapterError(f"instances: one batch needs one variant and one size, got {sorted(variants)} / "
                           f"{sorted(sizes)} (group them first)")
    feats, norms = zip(*(_features(i) for i in instances))
    data = {k: torch.as_tensor(np.stack([f[k] for f in feats]), dtype=torch.float32) for k in feats[0]}
    return TensorDict(data, batch_size=[len(instances)], device=device), list(norms)


def actions_to_solution(instance: Instance, actions: Any) -> Solution:
    """Map one rl4co action sequence back to a :class:`Solution` in the instance's node indices."""
    acts = [int(a) for a in np.asarray(actions).reshape(-1)]
    if instance.variant == "tsp":
        tour = acts[: instance.n]
        if sorted(tour) != list(range(instance.n)):
            raise AdapterError(f"actions: not a permutation of the {instance.n} cities")
        k = tour.index(instance.depot)
        rotated = tour[k:] + tour[:k]
        return Solution([rotated[1:]])
    if instance.variant == "cvrp":
        customers = instance.customers
        routes: list[list[int]] = []
        current: list[int] = []
        for a in acts:
            if a == 0:
                if current:
                    routes.append(current)
                current = []
            else:
                current.append(int(customers[a - 1]))
        if current:
            routes.append(current)
        return Solution(routes)
    raise AdapterError(f"variant: cannot map actions for {instance.variant!r}")


def denormalise_cost(reward: float, norm: Normalisation) -> float:
    """A (negative-length) rl4co reward as a length in the instance's units."""
    return -float(reward) * norm.scale
