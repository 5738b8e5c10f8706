"""Quality/speed table of the classical solvers (issue 4): ``ilp`` and ``ortools``.

Every answer is re-scored by the evaluator; gaps are against ``datasets/BKS.csv``.

    python benchmarks/classical.py                       # everything but pcb442
    python benchmarks/classical.py --sections tsp,atsp   # a subset
    python benchmarks/classical.py --pcb442              # add pcb442 at 300 s (last)
    python benchmarks/classical.py --naive-limit 300     # time for the naive DFJ loop

Sections: ``tsp`` (ilp proves berlin52 ... kroA200, each <= 60 s; the naive
``cuts=integer`` loop beside it), ``atsp`` (ftv33, ry48p, ftv70), ``cvrp``
(P-n16-k8, B-n31-k5 at 120 s), ``x`` (ortools on five X instances at 10 s and
60 s, tuned defaults beside a plain GLS model), ``solomon`` (ortools, 30 s).
Runs one solve at a time, one thread each; the machine load is printed.
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
from vrp.evaluate import evaluate, gap_pct  # noqa: E402
from vrp.io import read  # noqa: E402

TSP = ["berlin52", "kroA100", "ch150", "a280", "kroA200"]
ATSP = ["ftv33", "ry48p", "ftv70"]
CVRP = ["P-n16-k8", "B-n31-k5"]
X = ["X-n101-k25", "X-n106-k14", "X-n120-k6", "X-n157-k13", "X-n200-k36"]
SOLOMON = ["C101", "C201", "R101", "R201", "RC101", "RC201"]
PLAIN_GLS = {"first_solution_strategy": "PATH_CHEAPEST_ARC", "metaheuristic": "GUIDED_LOCAL_SEARCH"}

HEADER = (f"{'section':<8} {'instance':<11} {'solver':<22} {'limit':>6} {'status':<9} {'objective':>10} "
          f"{'bound':>10} {'BKS':>9} {'gap%':>6} {'bgap%':>6} {'time s':>7}")


def run(section: str, name: str, solver: str, options: dict, limit: float, label: str | None = None) -> dict:
    inst = read(name)
    ref = bks(name)
    s = solvers.get(solver, options=options)
    t0 = time.perf_counter()
    res = s.solve(inst, time_limit=limit, seed=1)
    wall = time.perf_counter() - t0
    obj = gap = bgap = None
    if res.solution is not None:
        score = evaluate(inst, res.solution)
        if score.feasible:
            obj = score.objective
            gap = gap_pct(obj, ref.value, inst.sense) if ref else None
    if res.bound is not None and obj is not None:
        bgap = 100.0 * (obj - res.bound) / abs(obj) if obj else 0.0
    row = {"section": section, "instance": name, "solver": label or solver, "limit": limit,
           "status": res.status, "objective": obj, "bound": res.bound, "bks": ref.value if ref else None,
           "gap": gap, "bgap": bgap, "time": wall}

    def f(v: float | None, spec: str) -> str:
        return "-" if v is None else format(v, spec)

    print(f"{section:<8} {name:<11} {row['solver']:<22} {limit:>6g} {res.status:<9} {f(obj, '10.1f')} "
          f"{f(res.bound, '10.1f')} {f(row['bks'], '9.1f')} {f(gap, '6.2f')} {f(bgap, '6.2f')} {wall:7.1f}",
          flush=True)
    return row


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sections", default="tsp,atsp,cvrp,x,solomon")
    ap.add_argument("--pcb442", action="store_true", help="add ilp on pcb442 at 300 s, run last")
    ap.add_argument("--naive-limit", type=float, default=240.0,
                    help="time limit for the naive cuts=integer loop (kroA200 needs ~200 s)")
    ap.add_argument("--no-naive", action="store_true", help="skip the naive loop rows")
    args = ap.parse_args(argv)
    sections = args.sections.split(",")

    print(f"# {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"load average at start: {os.getloadavg()}")
    t_warm = time.perf_counter()
    solvers.get("ilp").warmup()
    print(f"# ilp warm-up (numba compile or cache load): {time.perf_counter() - t_warm:.1f} s")
    print(HEADER)
    rows = []
    if "tsp" in sections:
        for name in TSP:
            rows.append(run("tsp", name, "ilp", {}, 60.0))
            if not args.no_naive:
                rows.append(run("tsp", name, "ilp", {"cuts": "integer"}, args.naive_limit, "ilp cuts=integer"))
    if "atsp" in sections:
        for name in ATSP:
            rows.append(run("atsp", name, "ilp", {}, 60.0))
    if "cvrp" in sections:
        for name in CVRP:
            rows.append(run("cvrp", name, "ilp", {}, 120.0))
    if "x" in sections:
        for limit in (10.0, 60.0):
            for name in X:
                rows.append(run("x", name, "ortools", {}, limit))
                rows.append(run("x", name, "ortools", PLAIN_GLS, limit, "ortools plain GLS"))
    if "solomon" in sections:
        for name in SOLOMON:
            rows.append(run("solomon", name, "ortools", {}, 30.0))
    if args.pcb442:
        rows.append(run("tsp", "pcb442", "ilp", {}, 300.0))

    print()
    for section, limit, solver in (("x", 10.0, "ortools"), ("x", 10.0, "ortools plain GLS"),
                                   ("x", 60.0, "ortools"), ("x", 60.0, "ortools plain GLS"),
                                   ("solomon", 30.0, "ortools")):
        gaps = [r["gap"] for r in rows if r["section"] == section and r["limit"] == limit
                and r["solver"] == solver and r["gap"] is not None]
        if gaps:
            print(f"mean gap {section} {solver} {limit:g} s: {sum(gaps) / len(gaps):.2f} % over {len(gaps)}")
    tsp_fast = {r["instance"]: r["time"] for r in rows if r["solver"] == "ilp" and r["status"] == "optimal"}
    tsp_naive = {r["instance"]: r for r in rows if r["solver"] == "ilp cuts=integer"}
    for name, r in tsp_naive.items():
        if name in tsp_fast:
            note = "" if r["status"] == "optimal" else f" (naive not proved: at least {r['time']:.0f} s)"
            print(f"speed-up {name}: naive {r['time']:.1f} s / fractional {tsp_fast[name]:.1f} s = "
                  f"{r['time'] / tsp_fast[name]:.1f}x{note}")
    print(f"# load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
