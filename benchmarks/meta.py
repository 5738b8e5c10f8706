"""Side-by-side tables of the metaheuristics (issue 5): ``ga`` and ``aco`` against
``pyvrp`` (the reference HGS) and ``ortools`` at equal time, seed 1.

Every answer is re-scored by the evaluator; gaps are against ``datasets/BKS.csv``.

    python benchmarks/meta.py                          # every section (about 35 min)
    python benchmarks/meta.py --sections tsp,solomon   # a subset
    python benchmarks/meta.py --sections x --limits 10 # X instances at 10 s only

Sections:
  ``x``       X-n101-k25 ... X-n200-k36: ga, pyvrp, ortools at 10 s and 60 s
              (targets: ga mean gap <= 1 % at 60 s, ga below ortools on each)
  ``tsp``     kroA100, ch150, a280: ga at 30 s (target <= 0.5 %); aco on kroA100
              and ch150 at 30 s (target <= 2 %)
  ``solomon`` C101 ... RC201: ga at 60 s (target mean gap <= 3 %)
  ``open``    the X instances with open routes (no BKS): ga, aco, ortools at 30 s

Solvers run one at a time, one thread each, after an explicit warm-up (numba
compile) whose seconds are printed; the machine load is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import solvers  # noqa: E402
from vrp.data import bks  # noqa: E402
from vrp.evaluate import evaluate  # noqa: E402
from vrp.io import read  # noqa: E402
from vrp.model import Instance  # noqa: E402

X = ["X-n101-k25", "X-n106-k14", "X-n120-k6", "X-n157-k13", "X-n200-k36"]
TSP = ["kroA100", "ch150", "a280"]
ACO_TSP = ["kroA100", "ch150"]
SOLOMON = ["C101", "C201", "R101", "R201", "RC101", "RC201"]


def load() -> str:
    try:
        a, b, c = os.getloadavg()
        return f"load average {a:.2f} {b:.2f} {c:.2f} on {os.cpu_count()} cores"
    except OSError:
        return "load average unknown"


def available(name: str) -> bool:
    try:
        return name in solvers.names() and solvers.spec(name).installed()
    except Exception:  # noqa: BLE001 - a reference solver that is not there is simply left out
        return False


def warm(names: list[str]) -> None:
    for name in names:
        s = solvers.get(name)
        w = getattr(s, "warmup", None)
        if w is not None:
            print(f"compiling {name}...", end=" ", flush=True)
            t0 = time.perf_counter()
            w()
            print(f"{time.perf_counter() - t0:.1f} s", flush=True)


def solve(solver: str, inst: Instance, limit: float) -> tuple[float | None, float]:
    s = solvers.get(solver)
    t0 = time.perf_counter()
    res = s.solve(inst, time_limit=limit, seed=1)
    wall = time.perf_counter() - t0
    if res.solution is None:
        return None, wall
    score = evaluate(inst, res.solution)
    return (score.objective if score.feasible else None), wall


def gap(obj: float | None, ref: float | None) -> float | None:
    if obj is None or ref is None:
        return None
    return 100.0 * (obj - ref) / ref


def table(title: str, names: list[str], cols: list[str], limit: float, open_routes: bool = False,
          show_gap: bool = True) -> dict[str, dict[str, float | None]]:
    """Run every solver in ``cols`` on every instance; print one row per instance."""
    print(f"\n## {title} ({limit:g} s, seed 1)", flush=True)
    head = f"{'instance':<12} {'BKS':>9}"
    for c in cols:
        head += f" | {c:>9} {'gap%' if show_gap else 'time':>6}"
    print(head)
    print("-" * len(head), flush=True)
    out: dict[str, dict[str, float | None]] = {c: {} for c in cols}
    for name in names:
        inst = read(name)
        if open_routes:
            inst = inst.replace(open_routes=True, name=name + "-open")
        entry = None if open_routes else bks(name)
        ref = entry.value if entry is not None else None
        line = f"{name:<12} {('-' if ref is None else format(ref, '9.1f')):>9}"
        for c in cols:
            obj, wall = solve(c, inst, limit)
            g = gap(obj, ref)
            out[c][name] = g if show_gap else obj
            o = "-" if obj is None else format(obj, "9.1f")
            if show_gap:
                line += f" | {o:>9} {('-' if g is None else format(g, '6.2f')):>6}"
            else:
                line += f" | {o:>9} {wall:6.1f}"
        print(line, flush=True)
    if show_gap:
        line = f"{'mean':<12} {'':>9}"
        for c in cols:
            vals = [v for v in out[c].values() if v is not None]
            m = sum(vals) / len(vals) if vals and len(vals) == len(names) else None
            line += f" | {'':>9} {('-' if m is None else format(m, '6.2f')):>6}"
        print(line, flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sections", default="x,tsp,solomon,open")
    ap.add_argument("--limits", default="10,60", help="time limits of the x section")
    args = ap.parse_args(argv)
    sections = args.sections.split(",")
    print(f"# metaheuristics benchmark  {time.strftime('%Y-%m-%d %H:%M:%S')}  {platform.processor() or ''}")
    print(f"# {load()}")
    refs = [n for n in ("pyvrp", "ortools") if available(n)]
    warm(["ga", "aco", *refs])

    if "x" in sections:
        cols = ["ga", *refs]
        for limit in [float(v) for v in args.limits.split(",")]:
            res = table("CVRP X instances", X, cols, limit)
            if "ortools" in res:
                wins = 0
                for n in X:
                    g, o = res["ga"].get(n), res["ortools"].get(n)
                    if g is not None and o is not None and g < o:
                        wins += 1
                print(f"ga below ortools on {wins}/{len(X)}")
            print(f"# {load()}", flush=True)
    if "tsp" in sections:
        table("TSP", TSP, ["ga"], 30.0)
        table("TSP", ACO_TSP, ["aco"], 30.0)
        print(f"# {load()}", flush=True)
    if "solomon" in sections:
        table("VRPTW Solomon", SOLOMON, ["ga"], 60.0)
        print(f"# {load()}", flush=True)
    if "open" in sections:
        cols = ["ga", "aco", *(["ortools"] if "ortools" in refs else [])]
        table("open CVRP: X instances with open routes (objective, wall s)", X, cols, 30.0, open_routes=True,
              show_gap=False)
    print(f"\n# {load()}")


if __name__ == "__main__":
    main()
