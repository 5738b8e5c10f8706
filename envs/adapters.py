"""The neural problems by name, and ``Instance`` <-> rl4co ``TensorDict`` for any of them.

One folder per problem holds its adapter (see :class:`envs.base.NeuralProblem`):

==========  ====================  ==========================================================
problem     environment           what the policy reads
==========  ====================  ==========================================================
tsp         rl4co ``TSPEnv``      city coordinates
cvrp        rl4co ``CVRPEnv``     coordinates, demands / capacity
ocvrp       rl4co ``MTVRPEnv``    coordinates, demands / capacity, open routes
vrptw       rl4co ``MTVRPEnv``    + time windows and service times (shifted, / scale)
mtvrp       rl4co ``MTVRPEnv``    cvrp, ocvrp and vrptw in one policy (mixed batches)
atsp        rl4co ``ATSPEnv``     the distance matrix / its largest entry (MatNet)
op          rl4co ``OPEnv``       coordinates, prizes / largest, length limit / scale
pctsp       rl4co ``PCTSPEnv``    coordinates, prizes / quota, penalties / scale
hcvrp       ours (``HCVRPEnv``)   coordinates, demands and capacities / largest capacity
==========  ====================  ==========================================================

Coordinates are normalised to the unit square keeping the aspect ratio (the bounding box's
lower corner to the origin, its longer side to 1). The env's reward converts back to the
instance's units through :class:`~envs.base.Normalisation` (exactly for ``rounding="exact"``;
files with rounded distances differ by their rounding, and the evaluator always scores with
``instance.distances``). Training data come from the same generators as ``vrp generate``
(:mod:`envs.rl4co_gen`), so a policy sees at inference what it saw in training.

Light at import: the problem modules are imported when asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from envs.base import AdapterError, NeuralProblem, Normalisation, unit_square
from vrp.model import Instance, Solution

if TYPE_CHECKING:  # pragma: no cover
    from tensordict import TensorDict

#: problem name -> the module whose ``PROBLEM`` adapts it
PROBLEMS = {"tsp": "envs.tsp", "cvrp": "envs.cvrp", "ocvrp": "envs.ocvrp", "vrptw": "envs.vrptw",
            "mtvrp": "envs.mtvrp", "atsp": "envs.atsp", "op": "envs.op", "pctsp": "envs.pctsp",
            "hcvrp": "envs.hcvrp"}
#: what the coordinate-based checkpoints of the first releases recorded
NORMALISATION = "coords: bounding box to unit square (aspect kept); demands: / capacity"

__all__ = ["PROBLEMS", "AdapterError", "NeuralProblem", "Normalisation", "actions_to_solution", "check_supported",
           "denormalise_cost", "get_problem", "to_tensordict", "unit_square"]


def get_problem(name: str) -> NeuralProblem:
    """The adapter of problem ``name`` (one of :data:`PROBLEMS`)."""
    if name not in PROBLEMS:
        raise AdapterError(f"problem: neural policies here handle {', '.join(PROBLEMS)}, got {name!r}")
    return importlib.import_module(PROBLEMS[name]).PROBLEM


def check_supported(instance: Instance, problem: str | None = None) -> str:
    """The problem that adapts ``instance`` (``problem``, or its own variant); a clear error otherwise."""
    name = problem or instance.variant
    if problem is None and name not in PROBLEMS:
        raise AdapterError(f"variant: neural policies here handle {', '.join(p for p in PROBLEMS if p != 'mtvrp')}, "
                           f"got {instance.variant!r} ({instance.name})")
    adapter = get_problem(name)
    if instance.variant not in adapter.variants:
        raise AdapterError(f"problem mismatch: the policy was trained on {name!r}, instance {instance.name} is "
                           f"{instance.variant!r}")
    adapter.check(instance)
    return name


def to_tensordict(instances: list[Instance] | Instance, *, problem: str | None = None, device: str = "cpu"
                  ) -> tuple[TensorDict, list[Normalisation]]:
    """Stack same-sized instances into one rl4co input ``TensorDict`` (not yet reset).

    ``problem`` names the adapter (default: the instances' variant, which must then be one).
    Returns the TensorDict and each instance's normalisation.
    """
    if isinstance(instances, Instance):
        instances = [instances]
    if not instances:
        raise AdapterError("instances: need at least one")
    if problem is None:
        variants = {i.variant for i in instances}
        if len(variants) != 1:
            raise AdapterError(f"instances: one batch needs one variant and one size, got {sorted(variants)} "
                               "(group them first)")
        problem = check_supported(instances[0])
    sizes = {i.n for i in instances}
    if len(sizes) != 1:
        raise AdapterError(f"instances: one batch needs one variant and one size, got {sorted(sizes)} "
                           "(group them first)")
    for inst in instances:
        check_supported(inst, problem)
    return get_problem(problem).to_tensordict(instances, device=device)


def actions_to_solution(instance: Instance, actions: Any, norm: Normalisation | None = None,
                        problem: str | None = None) -> Solution:
    """Map one rl4co action sequence back to a :class:`Solution` in the instance's node indices."""
    import numpy as np

    adapter = get_problem(problem or instance.variant)
    if norm is None:
        norm = adapter.features(instance)[1]
    acts = [int(a) for a in np.asarray(actions).reshape(-1)]
    return adapter.to_solution(instance, acts, norm)


def denormalise_cost(reward: float, norm: Normalisation) -> float:
    """An rl4co reward as the objective in the instance's units."""
    return norm.objective(reward)
