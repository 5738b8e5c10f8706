"""``vrp average``: weight averaging of one training run's epoch checkpoints.

Stochastic weight averaging (Izmailov et al., 2018, "Averaging Weights Leads to Wider
Optima and Better Generalization"): with a constant learning rate the weights of
successive epochs scatter around a flat region of the loss; their mean sits nearer its
centre and usually decodes better than any one of them. This command averages the
``epoch-NNN.pt`` files of one ``vrp train --out`` directory, scores the mean on the same
fixed validation set, decoded as training does (greedy; multistart for POMO and MatNet),
and writes a weights-only checkpoint whose metadata names the averaged epochs and appends
this command to the training commands (so ``--init`` and the checkpoints README keep the
full record).

Floating-point tensors (weights, batch-norm running statistics) are averaged; integer
buffers (batch-norm step counters) are taken from the newest epoch.

Example::

    vrp average runs/tsp50 --last 5                  # -> runs/tsp50/average.pt
    vrp average runs/tsp50 --epochs 4-8 --out am-tsp50.pt

Light at import: torch and rl4co load when the command runs.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path
from typing import Any

EXAMPLE = ("examples:\n  vrp average runs/tsp50 --last 5\n"
           "  vrp average runs/tsp50 --epochs 4-8 --out am-tsp50.pt")
# what must agree between the averaged checkpoints
SAME = ("format", "problem", "size", "model", "env_name", "policy_kwargs", "distribution", "normalisation")


class AverageError(ValueError):
    """Bad input to ``vrp average`` (one line for the user)."""


def epoch_files(run: Path) -> dict[int, Path]:
    """``epoch -> path`` of the ``epoch-NNN.pt`` checkpoints in a run directory."""
    if not run.is_dir():
        raise AverageError(f"run: {run} is not a directory (pass a vrp train --out folder)")
    found = {}
    for path in run.glob("epoch-*.pt"):
        match = re.fullmatch(r"epoch-(\d+)\.pt", path.name)
        if match:
            found[int(match.group(1))] = path
    if not found:
        raise AverageError(f"run: {run} holds no epoch-NNN.pt checkpoints")
    return dict(sorted(found.items()))


def select_epochs(available: dict[int, Path], last: int | None, span: str | None) -> list[int]:
    """The epochs to average: ``span`` ``"A-B"`` (inclusive) or the newest ``last``."""
    if span is not None:
        match = re.fullmatch(r"(\d+)-(\d+)", span.strip())
        if not match or int(match.group(1)) > int(match.group(2)):
            raise AverageError(f"epochs: expected A-B with A <= B (e.g. 4-8), got {span!r}")
        wanted = list(range(int(match.group(1)), int(match.group(2)) + 1))
        missing = [e for e in wanted if e not in available]
        if missing:
            raise AverageError(f"epochs: no checkpoint for epoch {missing[0]} "
                               f"(the run has {min(available)}-{max(available)})")
        return wanted
    count = 5 if last is None else last
    if count < 1:
        raise AverageError(f"last: must be at least 1, got {count}")
    return list(available)[-count:]


def average_state(blobs: list[dict[str, Any]]) -> dict[str, Any]:
    """The mean of the checkpoints' ``state_dict`` (integer buffers from the last one)."""
    import torch

    first = blobs[0]
    for blob in blobs[1:]:
        for key in SAME:
            if blob.get(key) != first.get(key):
                raise AverageError(f"checkpoints differ in {key}: {first.get(key)!r} vs {blob.get(key)!r}")
        if blob["state_dict"].keys() != first["state_dict"].keys():
            raise AverageError("checkpoints differ in their parameters (not the same architecture)")
    out = {}
    for key, last_value in blobs[-1]["state_dict"].items():
        if torch.is_floating_point(last_value):
            stacked = torch.stack([b["state_dict"][key].to(torch.float64) for b in blobs])
            out[key] = stacked.mean(dim=0).to(last_value.dtype)
        else:
            out[key] = last_value.clone()
    return out


def validate(meta: dict[str, Any], state: dict[str, Any], count: int) -> dict[str, Any]:
    """Validation of ``state`` on the fixed validation set, decoded as ``vrp train`` does each epoch
    (greedy; multistart for POMO and MatNet)."""
    from envs import train
    from envs.rl4co_gen import make_env

    problem, size, distribution = meta["problem"], int(meta["size"]), meta.get("distribution", "uniform")
    variants = meta.get("variants") or None
    policy = train.make_policy(meta["model"], meta["env_name"], dict(meta["policy_kwargs"]), problem)
    policy.load_state_dict(state)
    instances = train.fixed_set(problem, size, "val", count, distribution, variants)
    decode = train.val_decode(meta["model"])
    costs = train.decode_costs(policy, make_env(problem, size, distribution, variants=variants), instances,
                               problem=problem, decode=decode)
    return train.validation_score(costs, instances, problem, size, decode)


def average_run(run: str | Path, *, last: int | None = None, epochs: str | None = None,
                out: str | Path | None = None, val_size: int | None = None, force: bool = False,
                command: str = "") -> tuple[Path, dict[str, Any]]:
    """Average epoch checkpoints of ``run`` into ``out`` (default ``run/average.pt``).

    Returns the written path and its metadata. Raises :class:`AverageError` on bad input,
    before anything is written.
    """
    import torch

    from envs.train import _commands, save_state

    run = Path(run)
    available = epoch_files(run)
    chosen = select_epochs(available, last, epochs)
    target = Path(out) if out is not None else run / "average.pt"
    if target.exists() and not force:
        raise AverageError(f"out: {target} exists (pass --force to replace it)")
    if not target.parent.is_dir():
        raise AverageError(f"out: folder {target.parent} does not exist")
    try:
        blobs = [torch.load(available[e], map_location="cpu", weights_only=True) for e in chosen]
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file: say which
        raise AverageError(f"run: cannot read the epoch checkpoints of {run}: {exc}".splitlines()[0]) from exc
    if any(not isinstance(b, dict) or "state_dict" not in b or "problem" not in b for b in blobs):
        raise AverageError(f"run: {run} holds epoch files that are not vrp train checkpoints")
    state = average_state(blobs)
    newest = blobs[-1]
    count = int(val_size or newest.get("val", {}).get("instances") or 1000)
    val = validate(newest, state, count)
    meta = {k: v for k, v in newest.items() if k != "state_dict"}
    meta["averaged"] = {"run": str(run), "epochs": chosen,
                        "val_costs": [b.get("val", {}).get("cost") for b in blobs],
                        "val_decodes": [b.get("val", {}).get("decode", "greedy") for b in blobs],
                        "samples_seen": [b.get("samples_seen") for b in blobs]}
    meta["val"] = val
    if command:
        meta["commands"] = _commands(newest) + [command]
    save_state(target, state, meta)
    return target, meta


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define the ``vrp average`` options on ``parser``."""
    parser.epilog = EXAMPLE
    parser.add_argument("run", help="a vrp train --out directory (its epoch-NNN.pt files)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--last", type=int, default=None, help="average the newest K epochs (default 5)")
    which.add_argument("--epochs", default=None, help="average epochs A-B (inclusive), e.g. 4-8")
    parser.add_argument("--out", default=None, help="output checkpoint (default RUN/average.pt)")
    parser.add_argument("--val-size", type=int, default=None,
                        help="validation instances (default: as many as the run validated on)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--force", action="store_true", help="replace an existing --out file")


def command_line(args: argparse.Namespace) -> str:
    """The ``vrp average`` command equivalent to ``args`` (stored in the checkpoint)."""
    parts = ["vrp", "average", str(args.run)]
    for key in ("last", "epochs", "out", "val_size"):
        value = getattr(args, key)
        if value is not None:
            parts += ["--" + key.replace("_", "-"), str(value)]
    return " ".join(shlex.quote(p) for p in parts)


def run(args: argparse.Namespace) -> int:
    """Handle ``vrp average``; returns the exit status."""
    if args.val_size is not None and args.val_size < 1:
        print(f"vrp average: val-size: must be at least 1, got {args.val_size}", file=sys.stderr)
        return 2
    import torch

    from envs.train import _quiet_libraries

    _quiet_libraries()
    torch.set_num_threads(max(1, int(args.threads)))
    try:
        path, meta = average_run(args.run, last=args.last, epochs=args.epochs, out=args.out,
                                 val_size=args.val_size, force=args.force, command=command_line(args))
    except AverageError as exc:
        print(f"vrp average: {exc}", file=sys.stderr)
        return 2
    averaged = meta["averaged"]
    for epoch, cost, decode in zip(averaged["epochs"], averaged["val_costs"], averaged["val_decodes"]):
        print(f"epoch {epoch}: val_cost {cost:.4f} ({decode})" if cost is not None else f"epoch {epoch}: val_cost -")
    val = meta["val"]
    gap = "-" if val["gap_pct"] is None else f"{val['gap_pct']:.3f}"
    print(f"average of {len(averaged['epochs'])} epochs: val_cost {val['cost']:.4f} val_gap {gap}% "
          f"({val['instances']} instances, {val['decode']})")
    print(f"done: {path}")
    return 0
