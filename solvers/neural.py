"""Neural constructive solvers ``am:<checkpoint>`` and ``pomo:<checkpoint>`` (rl4co policies).

The checkpoint is a path to a ``.pt`` written by ``vrp train`` (``runs/x/best.pt``; a
Lightning ``last.ckpt`` resolves to the ``last.pt`` beside it) or a shorthand for a
shipped one: ``am:tsp50`` is ``datasets/checkpoints/am-tsp50.pt``.

Decoding (options): ``decode=greedy`` (one rollout), ``decode=sampling`` with
``samples=N`` rollouts (plus the greedy one), ``decode=multistart`` (POMO: one greedy rollout from every
first node, plus the plain greedy one); ``augment=8`` runs each on the 8 symmetries of the unit square (the
tour length is invariant under them) and keeps the best. The best rollout is chosen
by the policy's own (unrounded) length; the evaluator scores it as always.

``solve_batch`` decodes many instances together (grouped by variant and size); each
result's ``runtime`` is the group's wall time divided by its size, which is the
honest per-instance time of batched inference (documented in ``vrp bench``).
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from solvers.base import BaseSolver
from vrp.model import Instance
from vrp.result import Result, SolverError, UnsupportedVariant, check_time_limit

DECODES = ("greedy", "sampling", "multistart")


@dataclass(frozen=True)
class NeuralParams:
    """Decoding options of the neural solvers.

    decode
        ``greedy``, ``sampling`` or ``multistart`` (default: greedy for am, multistart for pomo).
    samples
        Rollouts for ``sampling`` (decoded ``chunk`` at a time while time remains).
    augment
        1 (none) or 8 (dihedral symmetries of the unit square).
    chunk
        Instances x rollouts decoded in one forward pass (memory bound).
    threads
        torch CPU threads during the solve.
    """

    decode: str | None = None
    samples: int = 64
    augment: int = 1
    chunk: int = 4096
    threads: int = 1

    def __post_init__(self) -> None:
        if self.decode is not None and self.decode not in DECODES:
            raise ValueError(f"decode: must be one of {', '.join(DECODES)}, got {self.decode!r}")
        if self.samples < 1:
            raise ValueError(f"samples: must be positive, got {self.samples}")
        if self.augment not in (1, 8):
            raise ValueError(f"augment: must be 1 or 8, got {self.augment}")
        if self.chunk < 1 or self.threads < 1:
            raise ValueError("chunk and threads must be positive")


def checkpoint_dir() -> Path:
    """``datasets/checkpoints`` (``VRP_DATA`` overrides the datasets folder)."""
    from envs.train import _datasets_dir

    return _datasets_dir() / "checkpoints"


def resolve_checkpoint(argument: str, model: str) -> Path:
    """A checkpoint path from ``argument``: a file, a run's ``last.ckpt``, or a shorthand."""
    p = Path(argument).expanduser()
    if p.suffix == ".ckpt":
        p = p.with_suffix(".pt")
    if p.is_file():
        return p
    if p.is_dir() and (p / "best.pt").is_file():
        return p / "best.pt"
    if "/" not in argument and os.sep not in argument:
        shipped = checkpoint_dir() / f"{model}-{argument}.pt"
        if shipped.is_file():
            return shipped
        have = sorted(f.stem for f in checkpoint_dir().glob("*.pt")) if checkpoint_dir().is_dir() else []
        raise SolverError(f"checkpoint {argument!r}: no file {argument} and no shipped {shipped.name} "
                          f"(shipped: {', '.join(have) or 'none'})")
    raise SolverError(f"checkpoint {argument!r}: no such file")


@functools.lru_cache(maxsize=16)
def load_policy(path: str) -> tuple[Any, dict[str, Any]]:
    """Load (policy, metadata) from a weights-only checkpoint, cached per path."""
    import torch

    from envs.train import FORMAT, make_policy

    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling problem is a bad checkpoint
        raise SolverError(f"checkpoint {path}: cannot be loaded with weights_only=True ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SolverError(f"checkpoint {path}: not a vrp-toolkit checkpoint (format {FORMAT})")
    meta = {k: v for k, v in data.items() if k != "state_dict"}
    policy = make_policy(meta["model"], meta["env_name"], dict(meta["policy_kwargs"]))
    policy.load_state_dict(data["state_dict"])
    policy.eval()
    return policy, meta


@functools.lru_cache(maxsize=4)
def _env(env_name: str) -> Any:
    from rl4co.envs import CVRPEnv, TSPEnv

    env = (TSPEnv if env_name == "tsp" else CVRPEnv)(seed=0)
    env.check_solution = False
    return env


def dihedral8(td: Any) -> Any:
    """The 8 symmetries of the unit square applied to ``locs`` (and ``depot``): batch 8 x B."""
    import torch

    def maps(xy: Any) -> list[Any]:
        x, y = xy[..., :1], xy[..., 1:]
        return [torch.cat(p, -1) for p in ((x, y), (y, x), (1 - x, y), (y, 1 - x), (x, 1 - y), (1 - y, x),
                                           (1 - x, 1 - y), (1 - y, 1 - x))]

    out = td.expand(8, *td.batch_size).clone().reshape(-1)
    for key in ("locs", "depot"):
        if key in td.keys():
            out.set(key, torch.cat(maps(td[key]), 0))
    return out


def decode(policy: Any, env: Any, td: Any, decode: str, samples: int, augment: int, chunk: int,
           deadline: float | None = None) -> tuple[Any, Any]:
    """Best (rewards ``(B,)``, actions ``(B, L)``) over the chosen decoding for a batch ``td``."""
    import torch
    from rl4co.utils.ops import batchify, unbatchify

    bsz = td.batch_size[0]
    base = dihedral8(td) if augment == 8 else td
    best_r = torch.full((bsz,), -float("inf"))
    best_a: list[Any] = [None] * bsz

    def take(rewards: Any, actions: Any) -> None:
        # rewards (K, B) / actions (K, B, L) with K candidates per instance
        r, k = rewards.max(0)
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
        take_repeated(policy(env.reset(base.clone()), env, decode_type="greedy"), 1)
        if decode == "multistart":
            n_starts = env.get_num_starts(env.reset(td[:1].clone()))
            out = policy(env.reset(base.clone()), env, decode_type="multistart_greedy", num_starts=n_starts)
            take_repeated(out, n_starts)
        elif decode == "sampling":
            per = max(1, chunk // max(1, augment * bsz))
            done = 0
            while done < samples:
                k = min(per, samples - done)
                rep = batchify(base, k) if k > 1 else base
                take_repeated(policy(env.reset(rep.clone()), env, decode_type="sampling"), k)
                done += k
                if deadline is not None and time.perf_counter() > deadline:
                    break
    return best_r, best_a


class _NeuralSolver(BaseSolver):
    """Shared by ``am`` and ``pomo``: load a checkpoint, adapt, decode, map back.

    The argument is a checkpoint (path or shorthand such as ``tsp50``), or a bare size
    (``am:50``): then the shipped checkpoint of that size for the instance's variant
    (``am-tsp50.pt`` for a tsp, ``am-cvrp50.pt`` for a cvrp).
    """

    model: ClassVar[str] = "am"
    default_decode: ClassVar[str] = "greedy"
    variants: ClassVar[frozenset[str]] = frozenset({"tsp", "cvrp"})
    Params = NeuralParams
    iteration_option = "samples"

    def __init__(self, argument: str | None = None, params: NeuralParams | None = None) -> None:
        super().__init__(params)
        if not argument:
            raise SolverError(f"solver {self.name!r} needs a checkpoint: {self.name}:<checkpoint>")
        self.argument = argument
        # variant -> checkpoint; the key None means "whatever problem the checkpoint holds"
        self.paths: dict[str | None, Path] = {}
        if argument.isdigit():
            for v in sorted(self.variants):
                f = checkpoint_dir() / f"{self.model}-{v}{argument}.pt"
                if f.is_file():
                    self.paths[v] = f
            if not self.paths:
                raise SolverError(f"checkpoint {argument!r}: no shipped {self.model} checkpoint of size {argument}")
        else:
            self.paths[None] = resolve_checkpoint(argument, self.model)

    def path_for(self, instance: Instance) -> Path:
        """The checkpoint that solves ``instance``; UnsupportedVariant on a mismatch."""
        if instance.variant in self.paths:
            return self.paths[instance.variant]
        if None in self.paths:
            path = self.paths[None]
            problem = load_policy(str(path))[1]["problem"]
            if problem == instance.variant:
                return path
            raise UnsupportedVariant(
                f"solver {self.name}:{self.argument} was trained on {problem!r}; instance {instance.name} "
                f"is variant {instance.variant!r}")
        raise UnsupportedVariant(f"solver {self.name}:{self.argument} has no shipped checkpoint for variant "
                                 f"{instance.variant!r} (has: {', '.join(str(k) for k in self.paths)})")

    def meta(self, variant: str | None = None) -> dict[str, Any]:
        """Metadata (problem, size, model, command, gaps, ...) of a checkpoint; loads it."""
        path = self.paths.get(variant) or next(iter(self.paths.values()))
        return load_policy(str(path))[1]

    def warmup(self) -> None:
        """Import torch/rl4co and load the checkpoints (cached), outside any timed solve."""
        for path in self.paths.values():
            _, meta = load_policy(str(path))
            _env(meta["env_name"])

    def solve(self, instance: Instance, *, time_limit: float, seed: int = 0) -> Result:
        start = time.perf_counter()
        result = self.solve_batch([instance], time_limit=time_limit, seed=seed)[0]
        result.runtime = time.perf_counter() - start
        return result

    def solve_batch(self, instances: list[Instance], *, time_limit: float, seed: int = 0) -> list[Result]:
        """Solve many instances in batches of one variant and size; ``time_limit`` bounds each batch's
        sampling loop (greedy and multistart are a single pass).

        Each result's ``runtime`` is its group's wall time divided by the group size: the honest
        per-instance time of batched inference.
        """
        import torch

        from envs.adapters import AdapterError, actions_to_solution, check_supported, to_tensordict

        for inst in instances:  # every check before any work
            if inst.variant not in self.variants:
                raise UnsupportedVariant(f"solver {self.name!r} does not support variant {inst.variant!r} "
                                         f"(supports: {', '.join(sorted(self.variants))})")
            self.path_for(inst)
            try:
                check_supported(inst)
            except AdapterError as exc:
                raise SolverError(str(exc)) from None
        limit = check_time_limit(time_limit)
        p = self.params
        mode = p.decode or self.default_decode
        groups: dict[tuple[str, int], list[int]] = {}
        for k, inst in enumerate(instances):
            groups.setdefault((inst.variant, inst.n), []).append(k)
        results: list[Result | None] = [None] * len(instances)
        threads = torch.get_num_threads()
        torch.set_num_threads(p.threads)
        try:
            with torch.random.fork_rng():
                for idx in groups.values():
                    g0 = time.perf_counter()
                    torch.manual_seed(seed)
                    path = self.path_for(instances[idx[0]])
                    policy, meta = load_policy(str(path))
                    env = _env(meta["env_name"])
                    n = instances[idx[0]].n
                    # one forward pass holds instances x augment (x starts for multistart)
                    step = max(1, p.chunk // (p.augment * (n if mode == "multistart" else 1)))
                    deadline = g0 + 0.85 * limit
                    sols = []
                    for s in range(0, len(idx), step):
                        part = [instances[k] for k in idx[s:s + step]]
                        td, _ = to_tensordict(part)
                        _, actions = decode(policy, env, td, mode, p.samples, p.augment, p.chunk, deadline)
                        sols += [actions_to_solution(inst, a) for inst, a in zip(part, actions)]
                    per_inst = (time.perf_counter() - g0) / len(idx)
                    for k, sol in zip(idx, sols):
                        results[k] = Result(sol, "feasible", per_inst, solver=self.name, threads=p.threads,
                                            info={"checkpoint": str(path), "decode": mode, "augment": p.augment,
                                                  "samples": p.samples if mode == "sampling" else 1,
                                                  "batch": len(idx)})
        finally:
            torch.set_num_threads(threads)
        return results  # type: ignore[return-value]


class AMSolver(_NeuralSolver):
    """Attention Model (Kool et al. 2019) trained with REINFORCE + greedy rollout baseline."""

    name = "am"
    model = "am"
    default_decode = "greedy"


class POMOSolver(_NeuralSolver):
    """POMO (Kwon et al. 2020): multi-start greedy decoding by default."""

    name = "pomo"
    model = "pomo"
    default_decode = "multistart"
