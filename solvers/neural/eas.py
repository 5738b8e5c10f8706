"""Efficient Active Search (Hottung, Kwon and Tierney, ICLR 2022) on the one instance being
solved: ``search=eas``.

The policy's weights stay frozen (the solver works on a deep copy; the cached policy of
:func:`~solvers.neural.checkpoints.load_policy` is shared). The encoder runs once; what is
fine-tuned is instance-specific:

- ``eas_mode=emb`` (EAS-Emb): the decoder's cached logit keys, the node embeddings the
  pointer scores every next node against (rl4co's ``EASEmb`` default, the paper's choice);
- ``eas_mode=lay`` (EAS-Lay): a residual layer ``h + W2 relu(W1 h + b1) + b2`` added to the
  pointer's attention heads, one per augmented copy, ``W2 = b2 = 0`` at the start (so the
  first step samples the unchanged policy).

Each step samples ``samples`` rollouts per augmented copy (``multistart``: one from every
first node, POMO style), and takes one Adam step on REINFORCE with the shared baseline (the
mean reward of the copy's rollouts of that step) plus ``eas_lambda`` times the imitation loss
(the negative teacher-forced log-likelihood of the incumbent, replayed on every copy). The
solver decodes the chosen ``decode`` mode first, so the incumbent starts from it and the result
is never worse than plain decoding.

The env's reward is the training signal; the evaluator scores every distinct allowed rollout
and picks the incumbent. Rollouts a fleet limit forbids are never the incumbent and count with
the step's worst reward in the loss.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

from vrp.evaluate import evaluate
from vrp.model import Instance, Solution
from vrp.result import Tracer

EAS_MODES = ("emb", "lay")


@dataclass
class EASConfig:
    """What one EAS run needs besides the instance (see :class:`~solvers.neural.NeuralParams`)."""

    mode: str = "emb"
    lr: float = 0.03
    lam: float = 0.013
    samples: int = 64
    multistart: bool = False
    augment: int = 1


def _repeat(x: Any, r: int) -> Any:
    """``x`` (a tensor, a tuple of them, or None) stacked ``r`` times along the batch, sample-major
    as rl4co's ``batchify`` orders it (row ``s * B + b`` is copy ``b``)."""
    import torch

    if r == 1 or x is None:
        return x
    if isinstance(x, tuple | list):
        return type(x)(_repeat(v, r) for v in x)
    if isinstance(x, torch.Tensor):
        return x.repeat(r, *([1] * (x.dim() - 1)))
    return x


def _frozen_encoder(hidden: Any, init_embeds: Any, copies: int) -> Any:
    """A module that returns the encoder output computed once, for a batch of any multiple of ``copies``."""
    import torch

    class FrozenEncoder(torch.nn.Module):
        def forward(self, td: Any) -> tuple[Any, Any]:
            r = int(td.batch_size[0]) // copies
            return _repeat(hidden, r), _repeat(init_embeds, r)

    return FrozenEncoder()


def _residual_layer(copies: int, dim: int, project_out: Any) -> Any:
    """EAS-Lay before the pointer's output projection: ``project_out(h + layer_c(h))`` where ``c`` is
    the augmented copy a row belongs to (rows are sample-major: row ``i`` is copy ``i % copies``)."""
    import torch

    class EASLayer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w1 = torch.nn.Parameter(torch.empty(copies, dim, dim))
            self.b1 = torch.nn.Parameter(torch.empty(copies, 1, dim))
            self.w2 = torch.nn.Parameter(torch.zeros(copies, dim, dim))
            self.b2 = torch.nn.Parameter(torch.zeros(copies, 1, dim))
            torch.nn.init.xavier_uniform_(self.w1)
            torch.nn.init.xavier_uniform_(self.b1)
            self.project_out = project_out

        def forward(self, h: Any) -> Any:
            shape = h.shape
            x = h.reshape(-1, copies, int(h[0].numel()) // dim, dim)  # (r, copies, rows, dim)
            y = torch.relu(torch.matmul(x, self.w1) + self.b1)
            x = x + torch.matmul(y, self.w2) + self.b2
            return self.project_out(x.reshape(shape))

    return EASLayer()


def prepare(policy: Any, env: Any, base: Any, cfg: EASConfig) -> tuple[Any, list[Any]]:
    """A deep copy of ``policy`` with its encoder output frozen for ``base`` (the augmented
    instance, not reset) and the instance parameters of ``cfg.mode`` added; returns
    (policy copy, the parameters to optimise)."""
    import torch

    pol = copy.deepcopy(policy)
    pol.requires_grad_(False)
    pol.eval()
    copies = int(base.batch_size[0])
    with torch.no_grad():
        hidden, init_embeds = pol.encoder(env.reset(base.clone()))
    pol.encoder = _frozen_encoder(hidden, init_embeds, copies)
    decoder = pol.decoder
    if cfg.mode == "emb":
        with torch.no_grad():
            key = decoder._precompute_cache(hidden).logit_key
        param = torch.nn.Parameter(key.detach().clone())
        precompute = decoder._precompute_cache

        def with_keys(embeddings: Any, *args: Any, **kwargs: Any) -> Any:
            cache = precompute(embeddings, *args, **kwargs)
            cache.logit_key = _repeat(param, int(cache.logit_key.shape[0]) // copies)
            return cache

        decoder._precompute_cache = with_keys
        return pol, [param]
    pointer = decoder.pointer
    dim = int(pointer.project_out.in_features)
    layer = _residual_layer(copies, dim, pointer.project_out)
    pointer.project_out = layer
    return pol, [layer.w1, layer.b1, layer.w2, layer.b2]


def eas_steps(instance: Instance, policy: Any, env: Any, adapter: Any, td: Any, norm: Any, cfg: EASConfig,
              first: tuple[Solution, Any] | None, tracer: Tracer, deadline: float, max_iterations: int | None,
              fleet: Any | None, customers: int) -> tuple[tuple[Solution, Any] | None, dict[str, Any]]:
    """The ``search=eas`` loop on one instance ``td`` (batch 1, not reset) until ``deadline``, or
    ``max_iterations`` steps (then the clock is not read, so the same seed gives the same result).

    ``first`` is the decoded (solution, actions) the incumbent starts from. Returns the best
    (solution, actions) by the evaluator and counters for ``Result.info``.
    """
    import torch

    from solvers.neural.decode import allowed

    sign = 1.0 if instance.sense == "min" else -1.0
    best: tuple[Solution, Any] | None = None
    best_key = float("inf")
    seen: set[tuple[int, ...]] = set()
    stats = {"steps": 0, "rollouts": 0, "evaluated": 0, "improved_by_eas": 0}

    def consider(acts: Any, from_search: bool) -> None:
        nonlocal best, best_key
        key = tuple(int(x) for x in acts.tolist())
        if key in seen:
            return
        seen.add(key)
        sol = adapter.to_solution(instance, list(key), norm)
        score = evaluate(instance, sol)
        stats["evaluated"] += 1
        if score.feasible and sign * score.objective < best_key - 1e-9:
            best, best_key = (sol, acts.clone()), sign * score.objective
            stats["improved_by_eas"] += from_search
            tracer.offer(score.objective)

    if first is not None:
        seen.add(tuple(int(x) for x in first[1].tolist()))
        score = evaluate(instance, first[0])
        if score.feasible:
            best, best_key = (first[0], first[1].clone()), sign * score.objective
            tracer.offer(score.objective)

    base = adapter.augment(td, cfg.augment) if cfg.augment > 1 else td
    copies = int(base.batch_size[0])
    pol, params = prepare(policy, env, base, cfg)
    opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=1e-6)
    starts = env.get_num_starts(env.reset(td.clone())) if cfg.multistart else 0
    last = 0.0
    step = 0
    with torch.enable_grad():
        while max_iterations is None or step < max_iterations:
            if max_iterations is None and time.perf_counter() + last > deadline:
                break
            t0 = time.perf_counter()
            step += 1
            if cfg.multistart:
                out = pol(env.reset(base.clone()), env, decode_type="multistart_sampling", num_starts=starts)
                k = starts
            else:
                # num_samples: the decoder keeps one cache per copy and scores all samples against
                # it (rl4co's multi-start path), several times faster than batchifying the input
                out = pol(env.reset(base.clone()), env, decode_type="sampling", num_samples=cfg.samples)
                k = cfg.samples
            actions = out["actions"].detach()
            reward = out["reward"].detach().view(k, copies)
            ok = allowed(actions[:, None, :], adapter, customers, fleet)[:, 0].view(k, copies)
            if not bool(ok.all()):  # forbidden rollouts count as the step's worst
                worst = reward.min()
                reward = torch.where(ok, reward, worst)
            advantage = reward - reward.mean(0, keepdim=True)
            loss = -(advantage * out["log_likelihood"].view(k, copies)).mean()
            if best is not None and cfg.lam > 0:
                inc = best[1][None].expand(copies, -1)
                ll = pol(env.reset(base.clone()), env, actions=inc)["log_likelihood"]
                # a copy whose float distances forbid the replay (a tight route length) teaches nothing
                loss = loss - cfg.lam * torch.where(torch.isfinite(ll), ll, torch.zeros_like(ll)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            stats["rollouts"] += k * copies
            for i in torch.argsort(out["reward"].detach(), descending=True).tolist():
                if bool(ok.view(-1)[i]):
                    consider(actions[i], True)
            last = time.perf_counter() - t0
    stats["steps"] = step
    return best, stats
