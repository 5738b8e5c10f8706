"""Neural solvers far beyond their training size: decomposition (issue 24, part 3).

``am:50`` (the size-50 policy of the instance's variant) on the shipped files of 280-1002
nodes, with ``decompose=auto`` (the default: parts of 50, see ``solvers/neural/decompose.py``)
and ``decompose=off``, greedy, sampling and ``search=ls``, beside ``savings`` (cvrp) and
``nearest``, at the same time limit, one seed. Gaps against the BKS; runtime as measured.

Usage::

    python benchmarks/decompose.py                      # every file, 10 s
    python benchmarks/decompose.py --files pr1002 X-n401-k29 --time 10 --seed 1
    python benchmarks/decompose.py --subproblems --files X-n401-k29 X-n502-k39 X-n1001-k43

``--subproblems`` asks what a cvrp decomposition could give the policy at best: ``ga`` solves
the file (``--time`` s), its routes are grouped by the angle of their centroids around the
depot into parts of at most ``--part`` customers, and the policy (``decompose=off``) routes
each part on its own (greedy with 8 augmentations, and 64 samples x 8); the table compares
its routes with the ``ga``'s on the same customers. A part is exactly the sub-problem a
cluster-first or an improvement-by-parts scheme (GLOP, L2D, select-and-optimise) hands the
policy, so a policy that is well above the ``ga`` here cannot bring a decomposition below a
good construction. A last column re-tours the greedy routes with ``am:tsp50`` (``revise=auto``).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

from solvers.cluster import sub_instance
from solvers.neural.decompose import revise_routes
from solvers.registry import get
from vrp import data
from vrp.evaluate import evaluate
from vrp.io import read
from vrp.model import Instance, Solution

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
    ap.add_argument("--subproblems", action="store_true", help="the policy on parts of a ga solution (see above)")
    ap.add_argument("--part", type=int, default=50, help="--subproblems: customers per part at most")
    args = ap.parse_args(argv)
    print("command: python benchmarks/decompose.py " + " ".join(sys.argv[1:] if argv is None else argv))
    if args.subproblems:
        return subproblems(args.files, args.time, args.seed, args.part)
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


def route_groups(inst: Instance, routes: list[list[int]], part: int) -> list[list[list[int]]]:
    """``routes`` in the order of their centroids' angles around the depot, cut into groups of at
    most ``part`` customers (a longer route is a group of its own)."""
    assert inst.coords is not None
    xy = np.asarray(inst.coords, float)
    ang = [float(np.arctan2(*(xy[r].mean(axis=0) - xy[inst.depot])[::-1])) for r in routes]
    groups: list[list[list[int]]] = [[]]
    for k in np.argsort(ang, kind="stable"):
        if groups[-1] and sum(map(len, groups[-1])) + len(routes[k]) > part:
            groups.append([])
        groups[-1].append(routes[k])
    return groups


def subproblems(files: list[str], limit: float, seed: int, part: int) -> int:
    modes = [("greedy x8", {"augment": 8}), ("sampling 64 x8", {"augment": 8, "decode": "sampling", "samples": 64})]
    heads = [m for m, _ in modes] + ["greedy x8, routes re-toured by am:tsp50"]
    print(f"\n| file | parts | customers per part | ga routes | {' | '.join(heads)} |")
    print("|---|---|---|---|" + "---|" * len(heads))
    for name in files:
        inst = read(name)
        if inst.variant not in ("cvrp", "ocvrp"):
            continue
        ga = get("ga")
        ga.warmup()
        ref = ga.solve(inst, time_limit=limit, seed=seed).solution
        assert ref is not None
        groups = route_groups(inst, [list(r) for r in ref.routes], part)
        subs, old = [], 0.0
        for k, g in enumerate(groups):
            members = np.array([v for r in g for v in r], dtype=np.int64)
            sub = sub_instance(inst, members, k)
            pos = {int(v): i + 1 for i, v in enumerate(members)}
            old += evaluate(sub, Solution([[pos[v] for v in r] for r in g])).objective
            subs.append(sub)
        cells = []
        decoded = []
        for _, opts in modes:
            am = get("am:50", options={"decompose": "off", **opts})
            am.warmup()
            decoded.append([r.solution for r in am.solve_batch(subs, time_limit=limit, seed=seed)])
            new = sum(evaluate(s, x).objective if x is not None else float("inf") for s, x in zip(subs, decoded[-1]))
            cells.append(f"{new:.0f} (+{100 * (new / old - 1):.1f} %)")
        # the greedy x8 routes (the first mode's) re-toured by am:tsp50 (greedy, then multistart), as revise=auto does
        greedy = decoded[0]
        for mode in ("greedy", "multistart"):
            tsp = get("am:tsp50", options={"decompose": "off", "augment": 8, "decode": mode})
            tsp.warmup()

            def tour(parts: list[Instance], left: float, tsp: Any = tsp) -> list[Solution | None]:
                return [r.solution for r in tsp.solve_batch(parts, time_limit=max(left, 1.0), seed=seed)]

            greedy = [revise_routes(s, x, tour, limit) if x is not None else None for s, x in zip(subs, greedy)]
        new = sum(evaluate(s, x).objective if x is not None else float("inf") for s, x in zip(subs, greedy))
        cells.append(f"{new:.0f} (+{100 * (new / old - 1):.1f} %)")
        sizes = [sum(map(len, g)) for g in groups]
        print(f"| {name} | {len(groups)} | {min(sizes)}-{max(sizes)} | {old:.0f} | {' | '.join(cells)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
