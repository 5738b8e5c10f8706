"""Finding and loading neural checkpoints (``.pt`` files written by ``vrp train``).

A checkpoint argument is a path (``runs/x/best.pt``; a Lightning ``last.ckpt`` resolves to
the ``last.pt`` beside it; a run folder to its ``best.pt``), a shipped name (``tsp50`` is
``datasets/checkpoints/<model>-tsp50.pt``), or a bare size (``50``: the shipped size-50
checkpoint of each variant, the multi-variant one where a variant has none of its own).
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

from vrp.result import SolverError

SHIPPED = re.compile(r"^(?P<model>[a-z]+)-(?P<problem>[a-z]+)(?P<size>\d+)$")
#: multi-variant problems and the variants their checkpoints cover (no torch needed to know)
MULTI = {"mtvrp": ("cvrp", "ocvrp", "vrptw")}


def checkpoint_dir() -> Path:
    """``datasets/checkpoints`` (``VRP_DATA`` overrides the datasets folder)."""
    from envs.train import _datasets_dir

    return _datasets_dir() / "checkpoints"


def shipped(model: str) -> dict[tuple[str, int], Path]:
    """The shipped checkpoints of ``model`` by (problem, size), from their file names."""
    out: dict[tuple[str, int], Path] = {}
    folder = checkpoint_dir()
    for f in sorted(folder.glob(f"{model}-*.pt")) if folder.is_dir() else []:
        m = SHIPPED.match(f.stem)
        if m and m["model"] == model:
            out[(m["problem"], int(m["size"]))] = f
    return out


def covers(problem: str) -> tuple[str, ...]:
    """The instance variants a checkpoint of ``problem`` solves (by name; no loading)."""
    if problem in MULTI:
        return MULTI[problem]
    from envs.adapters import get_problem

    return tuple(sorted(get_problem(problem).variants))


def by_size(model: str, size: int, variants: frozenset[str]) -> dict[str, Path]:
    """Variant -> shipped size-``size`` checkpoint: its own problem's first, else a multi-variant one."""
    files = shipped(model)
    out: dict[str, Path] = {}
    for (problem, s), path in sorted(files.items(), key=lambda kv: kv[0][0] in MULTI):
        if s != size:
            continue
        for v in covers(problem):
            if v in variants:
                out.setdefault(v, path)
    return out


def sizes_for(model: str, variant: str) -> list[int]:
    """The sizes of the shipped ``model`` checkpoints that solve ``variant``."""
    return sorted({s for (p, s) in shipped(model) if variant in covers(p)})


def resolve_checkpoint(argument: str, model: str) -> Path:
    """A checkpoint path from ``argument``: a file, a run's ``last.ckpt``, a run folder, or a shipped name."""
    p = Path(argument).expanduser()
    if p.suffix == ".ckpt":
        p = p.with_suffix(".pt")
    if p.is_file():
        return p
    if p.is_dir() and (p / "best.pt").is_file():
        return p / "best.pt"
    if "/" not in argument and os.sep not in argument:
        path = checkpoint_dir() / f"{model}-{argument}.pt"
        if path.is_file():
            return path
        have = sorted(f.stem for f in checkpoint_dir().glob("*.pt")) if checkpoint_dir().is_dir() else []
        raise SolverError(f"checkpoint {argument!r}: no file {argument} and no shipped {path.name} "
                          f"(shipped: {', '.join(have) or 'none'})")
    raise SolverError(f"checkpoint {argument!r}: no such file")


@functools.lru_cache(maxsize=16)
def load_policy(path: str) -> tuple[Any, dict[str, Any]]:
    """Load (policy, metadata) from a weights-only checkpoint, cached per path."""
    import torch

    from envs.train import FORMAT, _quiet_libraries, make_policy

    _quiet_libraries()
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling problem is a bad checkpoint
        raise SolverError(f"checkpoint {path}: cannot be loaded with weights_only=True ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SolverError(f"checkpoint {path}: not a vrp-toolkit checkpoint (format {FORMAT})")
    meta = {k: v for k, v in data.items() if k != "state_dict"}
    policy = make_policy(meta["model"], meta["env_name"], dict(meta["policy_kwargs"]), meta["problem"])
    policy.load_state_dict(data["state_dict"])
    policy.eval()
    return policy, meta


def meta_variants(meta: dict[str, Any]) -> tuple[str, ...]:
    """The instance variants a loaded checkpoint solves."""
    return tuple(meta.get("variants") or covers(meta["problem"]))
