"""Gap tables of the shipped neural checkpoints against the committed references, every variant.

For each checkpoint in ``datasets/checkpoints`` and each variant it covers (the multi-variant
``mtvrp`` one: cvrp, ocvrp and vrptw), on the fixed test set with reference costs
(``datasets/reference/<variant><size>-test.csv``: PyVRP for tsp/cvrp, the proven ILP optimum
for the other size-20 sets, see each file's header), prints the mean gap of greedy decoding
and of 8x augmentation + sampling (POMO: greedy, multistart and multistart + 8x augmentation; MatNet:
multistart and multistart + sampling), the gap of ``nearest`` on the same instances, and the
inference time per instance (batch wall time / batch size, one thread). A gap is "how much
worse than the reference" in both senses (op maximises its prize). With ``--files``, the gap
against BKS on the shipped real files of the variant (TSPLIB ``.tsp``/``.atsp``, CVRPLIB of
at most 200 nodes, Solomon).

With ``--search-time T``, the file rows also run each ``--search`` mode instance by instance
with a limit of ``T`` seconds each (``--search-generated``: the generated rows too, on the
first ``--search-count`` instances): ``ls`` (8 augmentations x 8 samples a round, polished by
the local search), ``eas`` (Efficient Active Search, 64 rollouts a step) and ``sampling``
(``decode=sampling`` until the limit, 64 rollouts a pass: the equal-time baseline of ``eas``).
Their ms/instance column is the wall time per instance.

    python benchmarks/neural.py                      # everything shipped
    python benchmarks/neural.py --only am-op20 --count 200 --sample-count 100 --files
    python benchmarks/neural.py --write-meta         # also store the table in each checkpoint
    python benchmarks/neural.py --only am-cvrp50 --sizes 100 --count 10 --search-time 20 \
        --search eas sampling --search-generated --search-count 10   # EAS vs sampling at 20 s
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import solvers  # noqa: E402
from envs.train import fixed_set, read_references, reference_path  # noqa: E402
from solvers.neural import NeuralParams, checkpoint_dir, load_policy  # noqa: E402
from solvers.neural.checkpoints import MULTI  # noqa: E402
from vrp import data  # noqa: E402
from vrp.evaluate import evaluate, gap_pct  # noqa: E402
from vrp.io import read  # noqa: E402
from vrp.result import SolverError  # noqa: E402

#: the shipped real files a policy of each variant is scored on (those with a BKS)
FILES = {
    "tsp": ["burma14", "ulysses22", "att48", "eil51", "berlin52", "st70", "eil76", "kroA100", "rd100", "lin105",
            "ch130", "ch150", "kroA200"],
    "cvrp": ["P-n16-k8", "B-n31-k5", "A-n32-k5", "A-n45-k7", "E-n51-k5", "P-n51-k10", "A-n80-k10", "E-n101-k8",
             "X-n101-k25", "X-n106-k14", "X-n120-k6", "X-n157-k13", "X-n200-k36"],
    "vrptw": ["C101", "C201", "R101", "R201", "RC101", "RC201"],
    "atsp": ["ftv33", "ry48p", "ftv70", "kro124p"],
}


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def run_solver(solver, insts, refs, time_limit=None):
    """(mean gap %, feasible count, seconds per instance) of ``solver`` on ``insts`` (batched
    without a time limit; one by one with ``time_limit`` each)."""
    t0 = time.perf_counter()
    if time_limit is not None:
        results = [solver.solve(i, time_limit=time_limit, seed=0) for i in insts]
    elif hasattr(solver, "solve_batch"):
        results = solver.solve_batch(insts, time_limit=3600, seed=0)
    else:
        results = [solver.solve(i, time_limit=60, seed=0) for i in insts]
    wall = time.perf_counter() - t0
    gaps, feas = [], 0
    for inst, res, ref in zip(insts, results, refs):
        if res.solution is None:
            gaps.append(float("inf"))
            continue
        score = evaluate(inst, res.solution)
        feas += score.feasible
        gaps.append(gap_pct(score.objective, ref, inst.sense))
    return mean(gaps), feas, wall / len(insts)


def modes(model: str, samples: int) -> list[tuple[str, dict]]:
    if model == "pomo":
        return [("greedy", {"decode": "greedy"}), ("multistart", {"decode": "multistart"}),
                ("multistart+aug8", {"decode": "multistart", "augment": 8})]
    if model == "matnet":
        return [("greedy", {"decode": "greedy"}), ("multistart", {"decode": "multistart"})]
    return [("greedy", {"decode": "greedy"}),
            (f"aug8+sampling{samples}", {"decode": "sampling", "augment": 8, "samples": samples})]


def test_sets(problem: str) -> list[str]:
    """The variants whose test sets score a checkpoint of ``problem`` (its own; the multi-variant one's)."""
    return list(MULTI.get(problem, (problem,)))


def table_row(row: dict) -> str:
    return (f"| {row['checkpoint']} | {row['test']} | {row['n']} | {row['decoding']} | {row['gap_pct']:.2f} | "
            f"{row['nearest_gap_pct']:.2f} | {row['feasible']}/{row['n']} | {row['ms_per_instance']:.1f} |")


def score_generated(ck: Path, model: str, variant: str, size: int, args) -> list[dict]:
    path = reference_path(variant, size, "test")
    refs_map = read_references(path)
    if not refs_map:
        return []
    insts = [i for i in fixed_set(variant, size, "test", args.count) if i.name in refs_map]
    refs = [refs_map[i.name] for i in insts]
    near = run_solver(solvers.get("nearest"), insts, refs)
    rows = []
    timed = search_modes(args) if args.search_generated else []
    for label, opts, limit in [(label, opts, None) for label, opts in modes(model, args.samples)] + timed:
        if limit is not None:
            k = min(len(insts), args.search_count)
            solver = solvers.get(f"{model}:{ck}", options=opts)
            solver.warmup()
            gap, feas, per = run_solver(solver, insts[:k], refs[:k], limit)
            ngap = run_solver(solvers.get("nearest"), insts[:k], refs[:k])[0]
            rows.append({"checkpoint": ck.stem, "test": f"{variant}{size}-test", "n": k, "decoding": label,
                         "gap_pct": round(gap, 2), "nearest_gap_pct": round(ngap, 2), "feasible": feas,
                         "ms_per_instance": round(1000 * per, 2),
                         "reference": open(path).readline().strip("# \n")})
            print(table_row(rows[-1]), flush=True)
            continue
        k = len(insts) if label in ("greedy", "multistart") else min(len(insts), args.sample_count)
        solver = solvers.get(f"{model}:{ck}", options=opts)
        solver.warmup()
        gap, feas, per = run_solver(solver, insts[:k], refs[:k])
        ngap = near[0] if k == len(insts) else run_solver(solvers.get("nearest"), insts[:k], refs[:k])[0]
        rows.append({"checkpoint": ck.stem, "test": f"{variant}{size}-test", "n": k, "decoding": label,
                     "gap_pct": round(gap, 2), "nearest_gap_pct": round(ngap, 2), "feasible": feas,
                     "ms_per_instance": round(1000 * per, 2),
                     "reference": open(path).readline().strip("# \n")})
        print(table_row(rows[-1]), flush=True)
    return rows


#: the options of each ``--search`` mode (run instance by instance at ``--search-time``)
SEARCH_OPTIONS = {
    "ls": ("search=ls", {"search": "ls", "augment": 8, "samples": 8}),
    "eas": ("search=eas", {"search": "eas", "samples": 64}),
    # time-bounded sampling: 64 rollouts a pass, so that the deadline is checked as often as eas's
    "sampling": ("sampling", {"decode": "sampling", "samples": 10**9, "chunk": 64}),
}


def search_modes(args) -> list[tuple[str, dict, float | None]]:
    """The ``--search`` modes at ``--search-time`` (none without one)."""
    if not args.search_time:
        return []
    out = []
    for m in args.search:
        label, opts = SEARCH_OPTIONS[m]
        for lr in args.eas_lr if m == "eas" else [None]:
            extra = {} if lr is None else {"eas_lr": lr}
            tag = "" if lr is None else f" lr={lr:g}"
            out.append((f"{label}{tag} {args.search_time:g}s", {**opts, **extra}, args.search_time))
    return out


def file_modes(model: str, args) -> list[tuple[str, dict, float | None]]:
    """The decodings of the file rows: the batched ones, and the ``--search`` modes at ``--search-time``."""
    return [(label, opts, None) for label, opts in modes(model, args.samples)] + search_modes(args)


def score_files(ck: Path, model: str, variant: str, args) -> list[dict]:
    rows = []
    for name in FILES.get(variant, []):
        entry = data.bks(name)
        if entry is None:
            continue
        inst = read(name)
        if inst.variant != variant or inst.n > 200:
            continue
        for label, opts, limit in file_modes(model, args):
            solver = solvers.get(f"{model}:{ck}", options=opts)
            solver.warmup()
            try:
                gap, feas, per = run_solver(solver, [inst], [entry.value], limit)
            except SolverError as exc:  # e.g. more nodes than MatNet's embedding
                print(f"| {ck.stem} | {name} (BKS) | 1 | {label} | rejected: {exc} |", flush=True)
                break
            ngap = run_solver(solvers.get("nearest"), [inst], [entry.value])[0]
            rows.append({"checkpoint": ck.stem, "test": f"{name} (BKS)", "n": 1, "decoding": label,
                         "gap_pct": round(gap, 2), "nearest_gap_pct": round(ngap, 2), "feasible": feas,
                         "ms_per_instance": round(1000 * per, 2), "reference": "BKS.csv"})
            print(table_row(rows[-1]), flush=True)
    for label, _, _ in file_modes(model, args):
        mine = [r for r in rows if r["decoding"] == label]
        if mine:
            print(f"| {ck.stem} | mean of {len(mine)} {variant} files | {len(mine)} | {label} | "
                  f"{mean([r['gap_pct'] for r in mine]):.2f} | {mean([r['nearest_gap_pct'] for r in mine]):.2f} | "
                  f"{sum(r['feasible'] for r in mine)}/{len(mine)} | "
                  f"{mean([r['ms_per_instance'] for r in mine]):.1f} |", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="checkpoint stems (am-tsp20 ...)")
    ap.add_argument("--count", type=int, default=1000, help="test instances (at most those with references)")
    ap.add_argument("--sample-count", type=int, default=200, help="instances for the augment+sampling row")
    ap.add_argument("--samples", type=int, default=16, help="samples per augmentation")
    ap.add_argument("--sizes", type=int, nargs="*", default=None, help="test sizes (default: the checkpoint's, "
                    "and 100 for size-50 checkpoints)")
    ap.add_argument("--files", action="store_true", help="also the shipped real files of the variant (BKS)")
    ap.add_argument("--search-time", type=float, default=0.0,
                    help="file rows: also the --search modes, instance by instance with this limit each")
    ap.add_argument("--search", nargs="+", choices=sorted(SEARCH_OPTIONS), default=["ls"],
                    help="the modes of --search-time: ls (8 augmentations x 8 samples a round), eas (64 "
                    "rollouts a step), sampling (decode=sampling until the limit; default: ls)")
    ap.add_argument("--eas-lr", type=float, nargs="+", default=[NeuralParams.eas_lr],
                    help=f"the eas rows' learning rates, a row each (default: {NeuralParams.eas_lr}, the "
                    "solver's default)")
    ap.add_argument("--search-generated", action="store_true",
                    help="the generated rows also run the --search modes at --search-time")
    ap.add_argument("--search-count", type=int, default=10,
                    help="instances of the generated set for the --search rows")
    ap.add_argument("--no-generated", action="store_true", help="only the file rows")
    ap.add_argument("--write-meta", action="store_true", help="store the rows in each checkpoint's metadata")
    ap.add_argument("--csv", default=None, help="also write the rows to this CSV file")
    args = ap.parse_args(argv)

    ckpts = sorted(checkpoint_dir().glob("*.pt"))
    if args.only:
        ckpts = [c for c in ckpts if c.stem in args.only]
    rows = []
    print("command: python benchmarks/neural.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    print("| checkpoint | test set | n | decoding | gap % | nearest gap % | feasible | ms/instance |")
    print("|---|---|---|---|---|---|---|---|")
    for ck in ckpts:
        _, meta = load_policy(str(ck))
        problem, size, model = meta["problem"], int(meta["size"]), meta["model"]
        sizes = args.sizes or ([size, 100] if size == 50 else [size])
        ck_rows = []
        for variant in test_sets(problem):
            for test_size in [] if args.no_generated else sizes:
                ck_rows += score_generated(ck, model, variant, test_size, args)
            if args.files:
                ck_rows += score_files(ck, model, variant, args)
        rows += ck_rows
        if args.write_meta and ck_rows:
            import torch

            blob = torch.load(ck, map_location="cpu", weights_only=True)
            blob["gaps"] = ck_rows
            torch.save(blob, ck)
    if rows and args.csv:
        out = Path(args.csv)
        with out.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
