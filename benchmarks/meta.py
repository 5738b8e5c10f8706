"""Side-by-side tables of the metaheuristics (issue 5): ``ga`` and ``aco`` against
``pyvrp`` (the reference HGS) and ``ortools`` at equal time, seed 1.

Every answer is re-scored by the evaluator; gaps are against ``datasets/BKS.csv``.

    python benchmarks/meta.py                          # every section (about 35 min + 55 min large)
    python benchmarks/meta.py --sections tsp,solomon   # a subset
    python benchmarks/meta.py --sections x --limits 10 # X instances at 10 s only

Sections:
  ``x``       X-n101-k25 ... X-n200-k36: ga, pyvrp, ortools at 10 s and 60 s
              (targets: ga mean gap <= 1 % at 60 s, ga below ortools on each)
  ``tsp``     kroA100, ch150, a280: ga at 30 s (target <= 0.5 %); aco on kroA100
              and ch150 at 30 s (target <= 2 %)
  ``tsp-large`` pcb442, rat783, pr1002: ga (``strategy=auto``: the 2-opt/Or-opt kicks of
              ``strategy=tour`` above 300 customers), the population (``strategy=ga``)
              and pyvrp at 10 s and 60 s (not in the default run)
  ``solomon`` C101 ... RC201: ga at 60 s (target mean gap <= 3 %)
  ``open``    the X instances with open routes (no BKS): ga, aco, ortools at 30 s
  ``large``   X-n401-k29, X-n502-k39, X-n1001-k43 and generated CVRP 500 and 1000
              (uniform, seed 1): ga, pyvrp and cluster at 1, 10 and 60 s
              (``--large-limits``), seeds 1-3 (``--seeds``); mean gap over the seeds,
              against the BKS, or (generated) against the best any run found.
              Targets: ga's mean <= pyvrp's + 0.1 point at 10 and 60 s, <= pyvrp's at 1 s

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
LARGE = ["X-n401-k29", "X-n502-k39", "X-n1001-k43", "generated:cvrp:500", "generated:cvrp:1000"]
TSP = ["kroA100", "ch150", "a280"]
LARGE_TSP = ["pcb442", "rat783", "pr1002"]
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


def solve(solver: str, inst: Instance, limit: float, seed: int = 1) -> tuple[float | None, float]:
    """``solver`` is a registry name, or one with options: ``ga[strategy=ga]``."""
    name, _, rest = solver.partition("[")
    opts = dict(kv.split("=", 1) for kv in rest.rstrip("]").split(",")) if rest else None
    s = solvers.get(name, options=opts)
    t0 = time.perf_counter()
    res = s.solve(inst, time_limit=limit, seed=seed)
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


def large_instance(name: str) -> tuple[Instance, float | None]:
    """A shipped file with its BKS, or ``generated:cvrp:N`` (uniform, seed 1, as ``vrp bench`` makes it)."""
    if name.startswith("generated:"):
        from envs.generate import generate_many

        _, problem, size = name.split(":")
        return generate_many(problem, int(size), 1, seed=1)[0], None
    entry = bks(name)
    return read(name), (entry.value if entry is not None else None)


def large_table(cols: list[str], limits: list[float], seeds: list[int]) -> None:
    """Every solver, instance, limit and seed, one run at a time; mean gaps over the seeds."""
    objs: dict[tuple[str, str, float], list[float | None]] = {}
    walls: dict[tuple[str, float], list[float]] = {}
    refs: dict[str, float | None] = {}
    for limit in limits:
        print(f"\n## large CVRP ({limit:g} s, seeds {','.join(map(str, seeds))}): objective per seed, wall s",
              flush=True)
        for name in LARGE:
            inst, ref = large_instance(name)
            refs[name] = ref
            for c in cols:
                got = []
                for seed in seeds:
                    obj, wall = solve(c, inst, limit, seed)
                    got.append(obj)
                    walls.setdefault((c, limit), []).append(wall)
                objs[(name, c, limit)] = got
                print(f"{name:<20} {c:<8} " + " ".join("-" if o is None else f"{o:10.1f}" for o in got)
                      + f"  (max wall {max(walls[(c, limit)][-len(seeds):]):.2f})", flush=True)
        print(f"# {load()}", flush=True)
    for name in LARGE:  # generated sets: the best objective any run found
        if refs[name] is None:
            found = [o for (n, _, _), v in objs.items() if n == name for o in v if o is not None]
            refs[name] = min(found) if found else None
    for limit in limits:
        print(f"\n## large CVRP: mean gap % over {len(seeds)} seeds at {limit:g} s "
              f"(generated: against the best found by any run)")
        head = f"{'instance':<20} {'reference':>10}" + "".join(f" | {c:>8}" for c in cols)
        print(head)
        print("-" * len(head))
        means: dict[str, list[float]] = {c: [] for c in cols}
        for name in LARGE:
            line = f"{name:<20} {refs[name] or 0:10.1f}"
            for c in cols:
                gaps = [gap(o, refs[name]) for o in objs[(name, c, limit)]]
                ok = [g for g in gaps if g is not None]
                m = sum(ok) / len(ok) if ok and len(ok) == len(gaps) else None
                if m is not None:
                    means[c].append(m)
                line += f" | {('-' if m is None else format(m, '8.2f')):>8}"
            print(line)
        line = f"{'mean':<20} {'':>10}"
        for c in cols:
            v = means[c]
            line += f" | {(format(sum(v) / len(v), '8.2f') if len(v) == len(LARGE) else '-'):>8}"
        print(line)
        if "pyvrp" in cols and "ga" in cols:
            slack = 0.0 if limit <= 1.0 else 0.1
            met = [n for n, g, p in zip(LARGE, means["ga"], means["pyvrp"]) if g <= p + slack + 1e-12]
            print(f"ga within pyvrp + {slack:g} point on {len(met)}/{len(LARGE)} instances", flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sections", default="x,tsp,solomon,open,large")
    ap.add_argument("--limits", default="10,60", help="time limits of the x section")
    ap.add_argument("--large-limits", default="1,10,60", help="time limits of the large section")
    ap.add_argument("--seeds", default="1,2,3", help="seeds of the large section")
    ap.add_argument("--large-solvers", default="ga,pyvrp,cluster", help="solvers of the large section")
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
    if "tsp-large" in sections:
        cols = ["ga", "ga[strategy=ga]", *(["pyvrp"] if "pyvrp" in refs else [])]
        for limit in (10.0, 60.0):
            table("large TSP", LARGE_TSP, cols, limit)
        print(f"# {load()}", flush=True)
    if "solomon" in sections:
        table("VRPTW Solomon", SOLOMON, ["ga"], 60.0)
        print(f"# {load()}", flush=True)
    if "open" in sections:
        cols = ["ga", "aco", *(["ortools"] if "ortools" in refs else [])]
        table("open CVRP: X instances with open routes (objective, wall s)", X, cols, 30.0, open_routes=True,
              show_gap=False)
    if "large" in sections:
        cols = [c for c in args.large_solvers.split(",") if available(c)]
        warm([c for c in cols if c not in ("ga", "pyvrp")])
        large_table(cols, [float(v) for v in args.large_limits.split(",")],
                    [int(v) for v in args.seeds.split(",")])
    print(f"\n# {load()}")


if __name__ == "__main__":
    main()
