"""``aco`` with a learned DeepACO heatmap against plain ``aco`` at equal time (issue 23, item 3).

Every configuration solves every instance with the same time limit and seeds, one run at
a time, one thread; the heatmap's network runs inside the limit (its load is in the
warm-up). Every answer is re-scored by the evaluator. Gaps: TSPLIB files against
``datasets/BKS.csv`` (optima); generated instances against the committed reference
costs (``datasets/reference/<set>.csv``, PyVRP 1000 iterations) where there are some,
else against the best objective any run here found.

    python benchmarks/deepaco.py                                    # TSP 100-200 at 5 s
    python benchmarks/deepaco.py --cases tsplib --seeds 1 --limit 5
    python benchmarks/deepaco.py --problem cvrp --configs "aco|aco heatmap=deepaco:cvrp100"

Cases (``--cases``, comma-separated): ``tsplib`` (the shipped TSP files of 100-200 cities;
``--problem cvrp``: the X files of 100-200 customers), ``gen100`` / ``gen200`` (the first
``--count`` instances of the fixed test set of that size, seed 2002, as ``vrp train``
scores). ``--configs``: ``|``-separated, each a label-free ``aco`` followed by its
``key=value`` options.

``--oracle SECONDS`` adds a row that asks how much any heatmap could give: ``aco`` with an
oracle heatmap, 1 on the edges of the tour ``ga`` finds in ``SECONDS`` (the optimum on every
TSPLIB file here at 10 s) and 0.1 elsewhere, the same limit and seeds. A learned heatmap can at
best match it.
"""

from __future__ import annotations

import argparse
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meta import load  # noqa: E402  (the script's folder is on sys.path)

import solvers  # noqa: E402
from vrp.data import bks  # noqa: E402
from vrp.evaluate import evaluate  # noqa: E402
from vrp.io import read  # noqa: E402
from vrp.model import Instance  # noqa: E402

TSPLIB = ["kroA100", "rd100", "lin105", "ch130", "ch150", "kroA200"]
XFILES = ["X-n101-k25", "X-n106-k14", "X-n120-k6", "X-n157-k13", "X-n200-k36"]
DEFAULT_CONFIGS = {"tsp": "aco|aco heatmap=deepaco:tsp100", "cvrp": "aco|aco heatmap=deepaco:cvrp100"}


def parse_configs(text: str) -> list[tuple[str, dict[str, str]]]:
    """``"aco|aco heatmap=deepaco:tsp100 gamma=2"`` -> [(label, options), ...]."""
    out = []
    for part in text.split("|"):
        words = shlex.split(part)
        if not words or words[0] != "aco":
            raise SystemExit(f"--configs: each configuration starts with aco, got {part!r}")
        opts = dict(w.split("=", 1) for w in words[1:])
        out.append((" ".join(words), opts))
    return out


def cases(problem: str, which: list[str], count: int, split: str = "test") -> list[tuple[Instance, float | None]]:
    """(instance, reference) pairs; None: against the best found here."""
    from envs.train import fixed_set, read_references, reference_path

    out: list[tuple[Instance, float | None]] = []
    for case in which:
        if case == "tsplib":
            for name in (TSPLIB if problem == "tsp" else XFILES):
                entry = bks(name)
                out.append((read(name), entry.value if entry is not None else None))
        elif case.startswith("gen"):
            size = int(case[3:])
            refs = read_references(reference_path(problem, size, split))
            for inst in fixed_set(problem, size, split, count):
                out.append((inst, refs.get(inst.name)))
        else:
            raise SystemExit(f"--cases: tsplib, gen100, gen200, ...; got {case!r}")
    return out


def oracle_heatmap(instance: Instance, solution: Any) -> Any:
    """1 on the edges of ``solution``'s routes (both ways, the depot's too), 0.1 elsewhere."""
    import numpy as np

    h = np.full((instance.n, instance.n), 0.1)
    for route in solution.routes:
        walk = [instance.depot, *route, instance.depot]
        for a, b in zip(walk, walk[1:]):
            h[a, b] = h[b, a] = 1.0
    return h


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problem", choices=("tsp", "cvrp"), default="tsp")
    ap.add_argument("--cases", default="tsplib,gen100,gen200")
    ap.add_argument("--count", type=int, default=5, help="generated instances per size")
    ap.add_argument("--split", choices=("test", "val"), default="test",
                    help="generated set: test (seed 2002) or val (seed 1001, for tuning)")
    ap.add_argument("--limit", type=float, default=5.0, help="seconds per run")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--configs", default=None, help="'|'-separated aco configurations (see above)")
    ap.add_argument("--oracle", type=float, default=None, metavar="SECONDS",
                    help="add aco with the heatmap of a ga tour found in SECONDS (see above)")
    args = ap.parse_args(argv)
    configs = parse_configs(args.configs or DEFAULT_CONFIGS[args.problem])
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"# aco + DeepACO heatmap vs aco  {time.strftime('%Y-%m-%d %H:%M:%S')}  {platform.node()}")
    print("# command: python benchmarks/deepaco.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])))
    print(f"# {load()}")
    made = []
    for label, opts in configs:
        s = solvers.get("aco", options=opts)
        t0 = time.perf_counter()
        s.warmup()
        print(f"warm-up {label}: {time.perf_counter() - t0:.1f} s", flush=True)
        made.append((label, s))
    items = cases(args.problem, args.cases.split(","), args.count, args.split)
    oracles: dict[str, Any] = {}
    if args.oracle:
        label = f"aco oracle heatmap (ga {args.oracle:g} s)"
        made.append((label, solvers.get("aco")))
        ga = solvers.get("ga")
        for inst, _ in items:
            oracles[inst.name] = oracle_heatmap(inst, ga.solve(inst, time_limit=args.oracle, seed=0).solution)
    objs: dict[tuple[str, str], list[float | None]] = {}
    heat_s: dict[str, list[float]] = {label: [] for label, _ in made}
    print(f"\n## objective per seed ({args.limit:g} s, seeds {args.seeds})", flush=True)
    for inst, _ in items:
        for label, s in made:
            got: list[float | None] = []
            for seed in seeds:
                oracle = oracles.get(inst.name) if label.startswith("aco oracle") else None
                res = s.solve(inst, time_limit=args.limit, seed=seed, heatmap=oracle)
                score = evaluate(inst, res.solution) if res.solution is not None else None
                got.append(score.objective if score is not None and score.feasible else None)
                if "heatmap_s" in res.info:
                    heat_s[label].append(float(res.info["heatmap_s"]))
            objs[(inst.name, label)] = got
            print(f"{inst.name:<24} {label:<40} " + " ".join("-" if o is None else f"{o:10.1f}" for o in got),
                  flush=True)
    print(f"# {load()}")
    refs = {}
    for inst, ref in items:
        if ref is None:
            found = [o for label, _ in made for o in objs[(inst.name, label)] if o is not None]
            ref = min(found) if found else None
        refs[inst.name] = ref
    width = max(12, *(len(label) for label, _ in made))
    print(f"\n## mean gap % over seeds {args.seeds} at {args.limit:g} s "
          "(TSPLIB/X: vs the optimum/BKS; generated: vs the reference, else the best found by any run)")
    head = f"{'instance':<24} {'reference':>10}" + "".join(f" | {label:>{width}}" for label, _ in made)
    print(head)
    print("-" * len(head))
    means: dict[str, list[float]] = {label: [] for label, _ in made}
    for inst, _ in items:
        line = f"{inst.name:<24} {refs[inst.name] or 0:10.1f}"
        for label, _ in made:
            got = objs[(inst.name, label)]
            ref = refs[inst.name]
            gaps = [100.0 * (o - ref) / ref for o in got if o is not None and ref]
            m = sum(gaps) / len(gaps) if gaps and len(gaps) == len(got) else None
            if m is not None:
                means[label].append(m)
            line += f" | {('-' if m is None else format(m, '.3f')):>{width}}"
        print(line)
    line = f"{'mean':<24} {'':>10}"
    for label, _ in made:
        v = means[label]
        line += f" | {(format(sum(v) / len(v), '.3f') if len(v) == len(items) else '-'):>{width}}"
    print(line)
    for label, _ in made:
        if heat_s[label]:
            h = heat_s[label]
            print(f"# {label}: heatmap computed in the solve, mean {sum(h) / len(h):.3f} s, max {max(h):.3f} s")
    print(f"# {load()}", flush=True)


if __name__ == "__main__":
    main()
