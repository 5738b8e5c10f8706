"""RL-initialised GA (issue 23, item 2): ``ga`` against ``ga --option init=am:50`` and ``pyvrp``
at 1, 2, 5 and 10 s, one seed.

    python benchmarks/ga_init.py                                  # everything (about 10 min)
    python benchmarks/ga_init.py --limits 1,5 --instances X-n101-k25,generated:cvrp:100

Gaps are against ``datasets/BKS.csv`` for the shipped X files and, for generated instances
(uniform, seed 1, as ``vrp bench`` makes them), against the best objective any run of this
script found. Every answer is re-scored by the evaluator. Each solver runs once per limit,
one at a time, one thread, after an explicit warm-up (numba compile; for ``init=`` also the
checkpoint and its sampling-speed measurement) whose seconds are printed.

Time to 1 % is read from the anytime trace of the 10 s run (the first time the best cost
found was within 1 % of the reference; ``-`` when never). ``ga+am`` is ``ga`` with
``init=am:50``: its time includes the sampling.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meta import large_instance as instance  # noqa: E402  (the script's folder is on sys.path)
from meta import load  # noqa: E402

import solvers  # noqa: E402
from vrp.evaluate import evaluate  # noqa: E402

INSTANCES = ["X-n101-k25", "X-n120-k6", "X-n157-k13", "X-n200-k36", "X-n401-k29",
             "generated:cvrp:100", "generated:cvrp:200", "generated:cvrp:500"]
#: column label -> (solver name, options)
SOLVERS = {"ga": ("ga", {}), "ga+am": ("ga", {"init": "am:50"}), "pyvrp": ("pyvrp", {})}


def gap(obj: float | None, ref: float | None) -> float | None:
    return None if obj is None or ref is None else 100.0 * (obj - ref) / ref


def fmt(x: float | None, spec: str = "6.2f") -> str:
    return "-".rjust(len(format(0.0, spec))) if x is None else format(x, spec)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--instances", default=",".join(INSTANCES))
    ap.add_argument("--limits", default="1,2,5,10", help="seconds, comma-separated")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    names = args.instances.split(",")
    limits = [float(x) for x in args.limits.split(",")]
    labels = [k for k, (s, _) in SOLVERS.items() if s in solvers.names() and solvers.spec(s).installed()]

    print(f"# python benchmarks/ga_init.py --instances {args.instances} --limits {args.limits} --seed {args.seed}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')}  {load()}; one seed, one thread per run")
    built = {}
    for label in labels:
        name, opts = SOLVERS[label]
        t0 = time.perf_counter()
        built[label] = solvers.get(name, options=opts)
        warm = getattr(built[label], "warmup", None)
        if warm is not None:
            warm()
        print(f"# warm-up {label}: {time.perf_counter() - t0:.1f} s", flush=True)

    objs: dict[tuple[str, str, float], float | None] = {}
    traces: dict[tuple[str, str], list[tuple[float, float]]] = {}
    infos: dict[tuple[str, str, float], dict] = {}
    refs: dict[str, float | None] = {}
    for name in names:
        inst, ref = instance(name)
        refs[name] = ref
        for limit in limits:
            for label in labels:
                res = built[label].solve(inst, time_limit=limit, seed=args.seed)
                score = evaluate(inst, res.solution) if res.solution is not None else None
                objs[name, label, limit] = score.objective if score is not None and score.feasible else None
                infos[name, label, limit] = dict(res.info or {})
                if limit == max(limits):
                    traces[name, label] = list(res.trace or [])
                print(f"  {name} {label} {limit:g}s: {objs[name, label, limit]} in {res.runtime:.2f} s", flush=True,
                      file=sys.stderr)
    for name in names:  # generated: the best any run found
        if refs[name] is None:
            found = [v for (n, _, _), v in objs.items() if n == name and v is not None]
            refs[name] = min(found) if found else None

    head = f"{'instance':<20} {'reference':>10} | " + " | ".join(f"{lb:>7}" for lb in labels)
    for limit in limits:
        print(f"\n## gap % at {limit:g} s (ga+am: samples drawn / seeded into the population)")
        print(head + " | samples/seeded")
        print("-" * (len(head) + 18))
        sums: dict[str, list[float]] = {lb: [] for lb in labels}
        for name in names:
            cells = []
            for lb in labels:
                g = gap(objs[name, lb, limit], refs[name])
                if g is not None:
                    sums[lb].append(g)
                cells.append(fmt(g, "7.2f"))
            info = infos[name, "ga+am", limit] if "ga+am" in labels else {}
            extra = f"{info.get('init_samples', '-')}/{info.get('seeded', '-')}"
            print(f"{name:<20} {fmt(refs[name], '10.0f')} | " + " | ".join(cells) + f" | {extra}")
        print(f"{'mean':<20} {'':>10} | " + " | ".join(
            fmt(sum(v) / len(v) if len(v) == len(names) else None, "7.2f") for v in sums.values()))

    top = max(limits)
    print(f"\n## seconds to within 1 % of the reference (trace of the {top:g} s run; - never)")
    print(head)
    print("-" * len(head))
    for name in names:
        cells = []
        for lb in labels:
            ref = refs[name]
            hit = next((t for t, c in traces.get((name, lb), []) if ref is not None and c <= 1.01 * ref), None)
            cells.append(fmt(hit, "7.2f"))
        print(f"{name:<20} {fmt(refs[name], '10.0f')} | " + " | ".join(cells))

    if {"ga", "ga+am"} <= set(labels) and 1.0 in limits and 5.0 in limits:
        print("\n## goal: ga's 5 s quality in 1 s (ga+am at 1 s <= ga at 5 s)")
        for name in names:
            a, b = objs[name, "ga+am", 1.0], objs[name, "ga", 5.0]
            ok = a is not None and b is not None and a <= b
            print(f"{name:<20} ga+am 1 s {fmt(a, '10.0f')}  ga 5 s {fmt(b, '10.0f')}  {'met' if ok else 'missed'}")
    print(f"\n# {load()}")


if __name__ == "__main__":
    main()
