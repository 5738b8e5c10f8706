"""Neural solvers far beyond their training size: decomposition (issue 24, part 3).

``am:50`` (the size-50 policy of the instance's variant) on the shipped files of 280-1002
nodes, with ``decompose=auto`` (the default: parts of 50, see ``solvers/neural/decompose.py``)
and ``decompose=off``, greedy, sampling and ``search=ls``, beside ``savings`` (cvrp) and
``nearest``, at the same time limit, one seed. Gaps against the BKS; runtime as measured.

Usage::

    python benchmarks/decompose.py                      # every file, 10 s
    python benchmarks/decompose.py --files pr1002 X-n401-k29 --time 10 --seed 1
"""

from __future__ import annotations

import argparse
import sys
import time

from solvers.registry import get
from vrp import data
from vrp.evaluate import evaluate
from vrp.io import read

FILES = ["a280", "pcb442", "rat783", "pr1002", "X-n401-k29", "X-n502-k39", "X-n1001-k43"]
ROWS = [
    ("am:50 greedy, decompose=auto", "am:50", {}),
    ("am:50 greedy, decompose=off", "am:50", {"decompose": "off"}),
    ("am:50 sampling, decompose=auto", "am:50", {"decode": "sampling"}),
    ("am:50 search=ls, decompose=auto", "am:50", {"search": "ls"}),
    ("savings", "savings", {}),
    ("nearest", "nearest", {}),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", nargs="+", default=FILES)
    ap.add_argument("--time", type=float, default=10.0, help="seconds per run")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    print("command: python benchmarks/decompose.py " + " ".join(sys.argv[1:] if argv is None else argv))
    print("\n| file | n | solver | gap % | runtime s | decomposition |\n|---|---|---|---|---|---|")
    sums: dict[str, list[float]] = {}
    for name in args.files:
        inst = read(name)
        entry = data.bks(name)
        assert entry is not None, name
        for label, solver_name, opts in ROWS:
            solver = get(solver_name, options=opts)
            if inst.variant not in solver.variants:
                continue
            warm = getattr(solver, "warmup", None)
            if callable(warm):
                warm()
            t0 = time.perf_counter()
            res = solver.solve(inst, time_limit=args.time, seed=args.seed)
            wall = time.perf_counter() - t0
            score = evaluate(inst, res.solution) if res.solution is not None else None
            gap = 100 * (score.objective / entry.value - 1) if score and score.feasible else float("nan")
            sums.setdefault(f"{inst.variant}: {label}", []).append(gap)
            how = res.info.get("decompose", "-")
            if how != "-":
                how += f" ({res.info.get('parts', res.info.get('territories'))} parts)"
            print(f"| {name} | {inst.n} | {label} | {gap:.2f} | {wall:.2f} | {how} |", flush=True)
    print("\n| variant: solver | files | mean gap % |\n|---|---|---|")
    for key, gaps in sums.items():
        print(f"| {key} | {len(gaps)} | {sum(gaps) / len(gaps):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
