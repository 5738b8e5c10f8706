"""Decoding a batch with a policy: greedy, sampling, multistart, each optionally augmented.

Every mode's candidate pool holds the plain (augmented) greedy rollouts, so no mode is
worse than greedy. The best candidate is chosen by the env's reward (the policy's own
unrounded objective); a candidate that breaks what the env does not model (a fleet limit,
a customer left unserved by a plan that ran out of vehicles) is chosen only when nothing
else is left, and then the solver reports no solution.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from envs.base import NeuralProblem
from vrp.model import Instance

#: penalty on the reward of a candidate that the instance forbids (never chosen over an allowed one)
FORBIDDEN = 1e9


@functools.lru_cache(maxsize=32)
def env_for(problem: str, size: int) -> Any:
    """The rl4co environment of ``problem`` for instances of ``size`` (cached)."""
    from envs.adapters import get_problem

    return get_problem(problem).make_env(size, seed=0)


def fleet_limits(instances: list[Instance], adapter: NeuralProblem) -> Any:
    """``(B,)`` float route caps of ``instances`` for :func:`allowed` (inf: unlimited, or a
    single-route problem)."""
    import torch

    return torch.tensor([float(i.num_vehicles) if i.num_vehicles and adapter.multi_route else float("inf")
                         for i in instances])


def route_counts(actions: Any) -> Any:
    """Non-empty routes of action sequences ``(..., L)`` in which 0 is the depot."""
    import torch

    served = actions > 0
    nxt = torch.cat([actions[..., 1:], torch.zeros_like(actions[..., :1])], -1)
    return (served & (nxt == 0)).sum(-1)


def allowed(actions: Any, adapter: NeuralProblem, customers: int, fleet: Any | None) -> Any:
    """Which candidates ``(K, B, L)`` the instances allow beyond the env's own rules."""
    import torch

    ok = torch.ones(actions.shape[:-1], dtype=torch.bool)
    if adapter.must_serve_all:
        ok &= (actions > 0).sum(-1) >= customers
    if fleet is not None:
        ok &= route_counts(actions) <= fleet
    return ok


def decode(policy: Any, env: Any, adapter: NeuralProblem, td: Any, mode: str, samples: int, augment: int,
           chunk: int, deadline: float | None = None, fleet: Any | None = None, customers: int = 0
           ) -> tuple[Any, list[Any]]:
    """Best (rewards ``(B,)``, actions per instance) over the chosen decoding of a batch ``td``.

    ``fleet`` (``(B,)`` float, inf = unlimited) caps the routes of a candidate; ``customers``
    is what a complete plan serves (checked where the adapter says plans can fall short).
    A reward at or below ``-FORBIDDEN / 2`` means that no candidate was allowed.
    """
    import torch
    from rl4co.utils.ops import unbatchify

    bsz = td.batch_size[0]
    base = adapter.augment(td, augment) if augment > 1 else td
    best_r = torch.full((bsz,), -float("inf"))
    best_a: list[Any] = [None] * bsz

    def take(rewards: Any, actions: Any) -> None:
        # rewards (K, B) / actions (K, B, L) with K candidates per instance
        ok = allowed(actions, adapter, customers, fleet)
        r, k = torch.where(ok, rewards, rewards - FORBIDDEN).max(0)
        for b in range(bsz):
            if r[b] > best_r[b]:
                best_r[b] = r[b]
                best_a[b] = actions[k[b], b]

    def take_repeated(out: Any, k: int) -> None:
        # k rollouts per (augmented) instance: (A*B, k) -> K = A*k candidates per instance
        r = unbatchify(out["reward"], k) if k > 1 else out["reward"][:, None]
        a = unbatchify(out["actions"], k) if k > 1 else out["actions"][:, None]
        take(r.reshape(augment, bsz, k).permute(0, 2, 1).reshape(-1, bsz),
             a.reshape(augment, bsz, k, -1).permute(0, 2, 1, 3).reshape(augment * k, bsz, -1))

    with torch.inference_mode():
        # The plain (augmented) greedy rollouts are in every mode's pool, so no mode is worse
        # than greedy (multistart forces the start greedy would pick too, but a batch of
        # another shape can break a near-tie the other way).
        t0 = time.perf_counter()
        take_repeated(policy(env.reset(base.clone()), env, decode_type="greedy"), 1)
        one = time.perf_counter() - t0  # one rollout per (augmented) instance
        if mode == "multistart":
            n_starts = env.get_num_starts(env.reset(td[:1].clone()))
            out = policy(env.reset(base.clone()), env, decode_type="multistart_greedy", num_starts=n_starts)
            take_repeated(out, n_starts)
        elif mode == "sampling":
            per = max(1, chunk // max(1, augment * bsz))
            done = 0
            while done < samples:
                k = min(per, samples - done)
                if deadline is not None:  # a pass costs about k greedy passes: fit it to the time left
                    fits = int((deadline - time.perf_counter()) / max(one, 1e-6))
                    if fits < 1:
                        break
                    k = min(k, fits)
                # num_samples: rl4co batchifies after the encoder and keeps one decoder cache per
                # instance (several times faster than batchifying the input; the same rows)
                kw = {"num_samples": k} if k > 1 else {}
                take_repeated(policy(env.reset(base.clone()), env, decode_type="sampling", **kw), k)
                done += k
                if deadline is not None and time.perf_counter() > deadline:
                    break
    return best_r, best_a
