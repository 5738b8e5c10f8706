"""Search at inference time on top of a policy: ``search=ls`` (policy samples polished by the
HGS local search until the time limit); ``search=eas`` lives in :mod:`solvers.neural.eas`.

A round draws ``samples`` rollouts of the policy on the instance (with the 8 dihedral
augmentations when ``augment=8``), takes the ``polish`` best distinct ones it has not polished
before, and runs the ``ga``'s local search (granular relocate/swap/2-opt/2-opt*, SWAP*; the
same numba kernels, not a second implementation) on each until a local optimum. The first
round polishes the decoded solution of the chosen ``decode`` mode, so the result is never worse
than plain decoding. Rounds go on until the deadline, or ``max_iterations`` of them (then the
same seed gives the same solution on any machine).

The policy's rewards rank the samples; the evaluator scores every polished solution.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from vrp.evaluate import evaluate
from vrp.model import Instance, Solution
from vrp.result import Tracer

#: variants the local search takes (its giant-tour Split serves every customer: not op/pctsp)
LS_VARIANTS = frozenset({"tsp", "atsp", "cvrp", "ocvrp", "vrptw", "hcvrp"})
SEARCHES = ("none", "ls", "eas")


def sample_candidates(policy: Any, env: Any, adapter: Any, td: Any, samples: int, augment: int,
                      fleet: Any | None, customers: int) -> list[tuple[float, list[int]]]:
    """``samples`` x ``augment`` sampled rollouts of one instance ``td`` (batch 1): the allowed
    ones as (reward, actions), best reward first."""
    import torch

    from solvers.neural.decode import allowed

    base = adapter.augment(td, augment) if augment > 1 else td
    kw = {"num_samples": samples} if samples > 1 else {}  # the samples share one decoder cache per copy
    with torch.inference_mode():
        out = policy(env.reset(base.clone()), env, decode_type="sampling", **kw)
    rewards, actions = out["reward"], out["actions"]
    ok = allowed(actions[:, None, :], adapter, customers, fleet)[:, 0]
    order = torch.argsort(rewards, descending=True, stable=True).tolist()
    return [(float(rewards[k]), [int(x) for x in actions[k].tolist()]) for k in order if bool(ok[k])]


def distinct_solutions(cands: list[tuple[float, list[int]]], adapter: Any, instance: Instance, norm: Any,
                       limit: int | None = None) -> list[Solution]:
    """The first ``limit`` (all: None) distinct action sequences of ``cands`` as solutions, in order."""
    out: list[Solution] = []
    seen: set[tuple[int, ...]] = set()
    for _, acts in cands:
        if limit is not None and len(out) >= limit:
            break
        key = tuple(acts)
        if key not in seen:
            seen.add(key)
            out.append(adapter.to_solution(instance, acts, norm))
    return out


def ls_rounds(instance: Instance, first: Solution | None, draw: Callable[[int], list[Solution]],
              polish: Callable[[Solution, int], Solution], tracer: Tracer, deadline: float,
              max_iterations: int | None, seed: int) -> tuple[Solution | None, dict[str, Any]]:
    """The ``search=ls`` loop: polish ``first``, then ``draw(round)``'s solutions, until ``deadline``.

    Returns the best feasible solution (by the evaluator) and counters for ``Result.info``.
    """
    best: Solution | None = None
    best_obj = float("inf")
    seen: set[tuple[tuple[int, ...], ...]] = set()
    stats = {"rounds": 0, "polished": 0, "improved_by_ls": 0}

    def consider(sol: Solution, salt: int) -> None:
        nonlocal best, best_obj
        key = tuple(tuple(r) for r in sol.routes)
        if key in seen:
            return
        seen.add(key)
        out = polish(sol, seed * 1_000_003 + salt)  # the input itself unless feasible and better
        stats["polished"] += 1
        stats["improved_by_ls"] += out is not sol
        score = evaluate(instance, out)
        if score.feasible and score.objective < best_obj - 1e-9:
            best, best_obj = out, score.objective
            tracer.offer(score.objective)

    if first is not None:
        consider(first, 0)
    last = 0.0
    rnd = 0
    while max_iterations is None or rnd < max_iterations:
        if max_iterations is None and time.perf_counter() + last > deadline:
            break
        t0 = time.perf_counter()
        rnd += 1
        for k, sol in enumerate(draw(rnd)):
            consider(sol, rnd * 1000 + k + 1)
        last = time.perf_counter() - t0
    stats["rounds"] = rnd
    return best, stats
