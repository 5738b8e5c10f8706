"""``vrp train``: options and handler (light: no torch at import).

Example::

    vrp train --problem cvrp --size 50 --model am --baseline rollout --epochs 20 \\
        --train-size 100000 --batch-size 512 --val-size 1000 --out runs/cvrp50

Beyond one machine, ``--devices N --num-nodes M --strategy ddp`` are passed to
Lightning unchanged (see Lightning's multi-node docs for the launch environment).
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys

from envs.adapters import PROBLEMS

#: the neural problems (envs.adapters is light: numpy only)
PROBLEM_NAMES = tuple(PROBLEMS)

EXAMPLE = ("example: vrp train --problem cvrp --size 50 --model am --baseline rollout --epochs 20 "
           "--train-size 100000 --batch-size 512 --val-size 1000 --out runs/cvrp50")


def parse_duration(text: str) -> float:
    """Seconds from ``3600``, ``90m``, ``2h``, ``1h30m`` or ``HH:MM:SS``."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    if re.fullmatch(r"\d+:\d{1,2}:\d{1,2}", text):
        h, m, s = (int(x) for x in text.split(":"))
        return float(h * 3600 + m * 60 + s)
    match = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?", text)
    if text and match and any(match.groups()):
        hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
        return hours * 3600 + minutes * 60 + seconds
    raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use seconds, 90m, 2h or HH:MM:SS)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define the ``vrp train`` options on ``parser``."""
    parser.epilog = EXAMPLE
    parser.add_argument("--problem", choices=PROBLEM_NAMES, required=True,
                        help="problem variant, or mtvrp: one policy for cvrp, ocvrp and vrptw (mixed batches)")
    parser.add_argument("--size", type=int, required=True, help="cities (tsp, atsp) or customers (the rest)")
    parser.add_argument("--model", choices=("am", "pomo", "matnet", "deepaco"), default=None,
                        help="am: attention model + REINFORCE (default; atsp: matnet); pomo: multi-start, shared "
                        "baseline; matnet: MatNet on the distance matrix (atsp); deepaco: a GNN heatmap for the "
                        "ant colony (tsp, cvrp; aco --option heatmap=deepaco:NAME)")
    parser.add_argument("--variants", default=None,
                        help="mtvrp: comma-separated variants of the mixed batches (default cvrp,ocvrp,vrptw)")
    parser.add_argument("--baseline", choices=("rollout", "shared", "exponential"), default=None,
                        help="REINFORCE baseline (default: rollout for am, shared for pomo)")
    parser.add_argument("--epochs", type=int, default=10, help="total epochs (also when resuming)")
    parser.add_argument("--train-size", type=int, default=100_000, help="instances per epoch")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--val-size", type=int, default=1000,
                        help="fixed validation instances (and the rollout baseline's evaluation set)")
    parser.add_argument("--distribution", choices=("uniform", "clustered", "mixed"), default="uniform")
    parser.add_argument("--out", required=True, help="run directory (metrics.csv, *.pt, last.ckpt)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.ckpt")
    parser.add_argument("--init", default=None, help="start from the weights of a .pt checkpoint "
                        "(e.g. a size-50 model for size 100); the rollout baseline starts from them, without the "
                        "exponential warm-up epoch of a run from scratch")
    parser.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--max-time", type=parse_duration, default=None,
                        help="wall-time bound of this run: stop after the last epoch that fits (2h, 90m, 3600)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--embed-dim", type=int, default=None, help="embedding size (default 128; deepaco 64)")
    parser.add_argument("--layers", type=int, default=None,
                        help="encoder layers (default am 3, pomo 6, matnet 5, deepaco 15 GNN layers)")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu", help="Lightning accelerator")
    parser.add_argument("--devices", default="1", help="devices per node, passed to Lightning")
    parser.add_argument("--num-nodes", type=int, default=1, help="nodes, passed to Lightning")
    parser.add_argument("--strategy", default="auto", help="Lightning strategy (auto, ddp, ...)")
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="force the progress bar (default: only on a terminal)")
    bar.add_argument("--no-progress", dest="progress", action="store_false")


def command_line(args: argparse.Namespace) -> str:
    """The ``vrp train`` command equivalent to ``args`` (stored in every checkpoint)."""
    parts = ["vrp", "train"]
    for key, value in vars(args).items():
        if key in ("func", "command", "progress") or value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        parts += [flag] if value is True else [flag, str(value)]
    return " ".join(shlex.quote(p) for p in parts)


def run(args: argparse.Namespace) -> int:
    """Handle ``vrp train``; returns the exit status."""
    from envs.train import LAYERS_KEY, TrainConfig, train

    policy_kwargs = {}
    model = args.model or ("matnet" if args.problem == "atsp" else "am")
    if args.embed_dim is not None:
        policy_kwargs["embed_dim"] = args.embed_dim
    if args.layers is not None:
        policy_kwargs[LAYERS_KEY.get(model, "num_encoder_layers")] = args.layers
    variants = [v.strip() for v in args.variants.split(",") if v.strip()] if args.variants else None
    cfg = TrainConfig(
        problem=args.problem, size=args.size, model=model, variants=variants, baseline=args.baseline, epochs=args.epochs,
        train_size=args.train_size, batch_size=args.batch_size, val_size=args.val_size, out=args.out,
        resume=args.resume, device=args.device, devices=args.devices, num_nodes=args.num_nodes,
        strategy=args.strategy, seed=args.seed, lr=args.lr, max_time=args.max_time,
        distribution=args.distribution, threads=args.threads, init=args.init, progress=args.progress,
        command=command_line(args),
        policy_kwargs=policy_kwargs,
    )
    try:
        out = train(cfg)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"vrp train: {exc}", file=sys.stderr)
        return 2
    print(f"done: {out}/best.pt (metrics: {out}/metrics.csv)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m envs.train_cli ...`` (same as ``vrp train ...``)."""
    parser = argparse.ArgumentParser(prog="vrp train", description="Train a policy with rl4co.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
