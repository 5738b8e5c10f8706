"""Gap tables of the shipped neural checkpoints (am/pomo) against the committed references.

For each checkpoint in ``datasets/checkpoints`` and each fixed test set with reference
costs (``datasets/reference/<problem><size>-test.csv``, PyVRP, see its header), prints
the mean gap of greedy decoding and of 8x augmentation + sampling (POMO: multistart and
multistart + 8x augmentation), the gap of ``nearest`` on the same instances, and the
inference time per instance (batch wall time / batch size, one thread). Then the gap
against BKS on the shipped TSPLIB / CVRPLIB files of at most 200 nodes.

    python benchmarks/neural.py                      # everything shipped
    python benchmarks/neural.py --only am-tsp20 --count 1000 --sample-count 200
    python benchmarks/neural.py --write-meta         # also store the table in each checkpoint
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
from solvers.neural import checkpoint_dir, load_policy  # noqa: E402
from vrp import data  # noqa: E402
from vrp.evaluate import evaluate  # noqa: E402
from vrp.io import read  # noqa: E402

TSPLIB = ["burma14", "ulysses22", "att48", "eil51", "berlin52", "st70", "eil76", "kroA100", "rd100", "lin105",
          "ch130", "ch150", "kroA200"]
CVRPLIB = ["P-n16-k8", "B-n31-k5", "A-n32-k5", "A-n45-k7", "E-n51-k5", "P-n51-k10", "A-n80-k10", "E-n101-k8",
           "X-n101-k25", "X-n106-k14", "X-n120-k6", "X-n157-k13", "X-n200-k36"]


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def run_solver(solver, insts, refs, sense="min"):
    t0 = time.perf_counter()
    if hasattr(solver, "solve_batch"):
        results = solver.solve_batch(insts, time_limit=3600, seed=0)
    else:
        results = [solver.solve(i, time_limit=60, seed=0) for i in insts]
    wall = time.perf_counter() - t0
    gaps, feas = [], 0
    for inst, res, ref in zip(insts, results, refs):
        score = evaluate(inst, res.solution)
        feas += score.feasible
        gaps.append(100.0 * (score.objective / ref - 1.0))
    return mean(gaps), feas, wall / len(insts)


def modes(model: str, samples: int) -> list[tuple[str, dict]]:
    if model == "pomo":
        return [("multistart", {"decode": "multistart"}), ("multistart+aug8", {"decode": "multistart", "augment": 8})]
    return [("greedy", {"decode": "greedy"}),
            (f"aug8+sampling{samples}", {"decode": "sampling", "augment": 8, "samples": samples})]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="checkpoint stems (am-tsp20 ...)")
    ap.add_argument("--count", type=int, default=1000, help="test instances (at most those with references)")
    ap.add_argument("--sample-count", type=int, default=200, help="instances for the augment+sampling row")
    ap.add_argument("--samples", type=int, default=16, help="samples per augmentation")
    ap.add_argument("--sizes", type=int, nargs="*", default=None, help="test sizes (default: the checkpoint's, "
                    "and 100 for size-50 checkpoints)")
    ap.add_argument("--files", action="store_true", help="also the TSPLIB/CVRPLIB files of <= 200 nodes")
    ap.add_argument("--write-meta", action="store_true", help="store the rows in each checkpoint's metadata")
    ap.add_argument("--csv", default=None, help="also write the rows to this CSV file")
    args = ap.parse_args(argv)

    ckpts = sorted(checkpoint_dir().glob("*.pt"))
    if args.only:
        ckpts = [c for c in ckpts if c.stem in args.only]
    rows = []
    print("| checkpoint | test set | n | decoding | gap % | nearest gap % | feasible | ms/instance |")
    print("|---|---|---|---|---|---|---|---|")
    for ck in ckpts:
        _, meta = load_policy(str(ck))
        problem, size, model = meta["problem"], int(meta["size"]), meta["model"]
        sizes = args.sizes or ([size, 100] if size == 50 else [size])
        ck_rows = []
        for test_size in sizes:
            refs_map = read_references(reference_path(problem, test_size, "test"))
            if not refs_map:
                continue
            insts = [i for i in fixed_set(problem, test_size, "test", args.count) if i.name in refs_map]
            refs = [refs_map[i.name] for i in insts]
            near = run_solver(solvers.get("nearest"), insts, refs)
            for label, opts in modes(model, args.samples):
                k = len(insts) if label in ("greedy", "multistart") else min(len(insts), args.sample_count)
                solver = solvers.get(f"{model}:{ck}", options=opts)
                solver.warmup()
                gap, feas, per = run_solver(solver, insts[:k], refs[:k])
                ngap = near[0] if k == len(insts) else run_solver(solvers.get("nearest"), insts[:k], refs[:k])[0]
                row = {"checkpoint": ck.stem, "test": f"{problem}{test_size}-test", "n": k, "decoding": label,
                       "gap_pct": round(gap, 2), "nearest_gap_pct": round(ngap, 2), "feasible": feas,
                       "ms_per_instance": round(1000 * per, 2),
                       "reference": open(reference_path(problem, test_size, "test")).readline().strip("# \n")}
                ck_rows.append(row)
                print(f"| {ck.stem} | {row['test']} | {k} | {label} | {row['gap_pct']:.2f} | "
                      f"{row['nearest_gap_pct']:.2f} | {feas}/{k} | {row['ms_per_instance']:.1f} |", flush=True)
        if args.files:
            names = TSPLIB if problem == "tsp" else CVRPLIB
            for name in names:
                entry = data.bks(name)
                inst = read(name)
                if entry is None or inst.variant != problem or inst.coords is None or inst.n > 200:
                    continue
                for label, opts in modes(model, args.samples):
                    solver = solvers.get(f"{model}:{ck}", options=opts)
                    gap, feas, per = run_solver(solver, [inst], [entry.value])
                    ngap = run_solver(solvers.get("nearest"), [inst], [entry.value])[0]
                    row = {"checkpoint": ck.stem, "test": name, "n": 1, "decoding": label,
                           "gap_pct": round(gap, 2), "nearest_gap_pct": round(ngap, 2), "feasible": feas,
                           "ms_per_instance": round(1000 * per, 2), "reference": "BKS.csv"}
                    ck_rows.append(row)
                    print(f"| {ck.stem} | {name} (BKS) | 1 | {label} | {gap:.2f} | {ngap:.2f} | {feas}/1 | "
                          f"{1000 * per:.1f} |", flush=True)
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
