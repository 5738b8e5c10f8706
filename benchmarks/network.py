"""Flow routing (PFAR) targets of issue 8, as a printed table.

    python benchmarks/network.py                   # the full table (a few minutes)
    python benchmarks/network.py --quick           # 2 seeds, shorter limits (a smoke run)

Rows:

1. waxman 50 nodes / 1000 flows, k = 5, seeds 1-5: path-based ``ilp`` (limit 60 s;
   target: optimal over its candidates), ``ga`` (10 s; target >= 98 % of the ILP),
   ``greedy`` (reference); admitted share of the offered demand at the ILP answer
   (target 50-80 %) and ILP over greedy (target >= 3 %).
2. waxman 50 nodes / 3000 flows, k = 5, seed 1: ``ilp`` with 120 s (target: optimal
   over candidates or <= 0.5 % MIP gap), ``ga`` 10 s, ``greedy``.
3. 12 nodes / 30 flows (waxman and grid, seeds 1-5): exact arc-flow ``ilp`` against the
   path-based ``ilp`` with k = 5: how much restricting to k paths loses.

Every objective is the evaluator's (:func:`vrp.network.evaluate_flows`); times are
wall-clock on this machine (the load average is printed with the table), with the
CPU seconds the process got beside the ILP's (on a shared machine they differ).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time

import solvers
from envs.network_generate import generate_flows_problem
from vrp.network import FlowProblem, evaluate_flows


def run(name: str, pb: FlowProblem, limit: float, seed: int = 1, **options: object) -> dict:
    solver = solvers.get(name, solvers.NETWORK, dict(options))
    t0 = time.perf_counter()
    c0 = resource.getrusage(resource.RUSAGE_SELF)
    r = solver.solve(pb, time_limit=limit, seed=seed)
    wall = time.perf_counter() - t0
    c1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
    s = evaluate_flows(pb, r.solution)
    assert s.feasible, (name, pb.name, s.violation_lines()[:3])
    return {"obj": s.objective, "wall": wall, "cpu": cpu, "status": r.status, "info": r.info, "bound": r.bound,
            "admitted": s.admitted_fraction}


def pct(a: float, b: float) -> float:
    return 100.0 * (a / b - 1.0) if b else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 seeds, 20 s ILP limits, no 3000-flow ILP")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--ilp-limit", type=float, default=60.0)
    ap.add_argument("--ilp-limit-3000", type=float, default=120.0)
    ap.add_argument("--ga-limit", type=float, default=10.0)
    args = ap.parse_args()
    seeds = range(1, (2 if args.quick else args.seeds) + 1)
    ilp_limit = 20.0 if args.quick else args.ilp_limit
    print(f"# PFAR benchmark  {platform.node()}  {os.cpu_count()} cpus  load average at start "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print()
    print(f"| instance | ilp obj | ilp status | k-path gap | ilp wall s (cpu s) | admitted | ga obj ({args.ga_limit:g} s) | ga/ilp | "
          "greedy obj | ilp/greedy |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    summary: dict[str, list[float]] = {"ga": [], "greedy": [], "adm": [], "t": []}
    cases = [(1000, s, ilp_limit) for s in seeds]
    cases.append((3000, 1, 20.0 if args.quick else args.ilp_limit_3000))
    for flows, seed, limit in cases:
        pb = generate_flows_problem("waxman", 50, flows, seed)
        ilp = run("ilp", pb, limit, model="path", k=5)
        ga = run("ga", pb, args.ga_limit, seed=seed, k=5)
        gr = run("greedy", pb, args.ga_limit)
        gap = ilp["info"].get("mip_gap")
        optimal_k = ilp["info"].get("optimal_over") == "k-paths" or ilp["status"] == "optimal"
        print(f"| waxman 50n {flows}f s{seed} | {ilp['obj']:.0f} | "
              f"{'optimal over k-paths' if optimal_k else ilp['info'].get('highs_status')} | "
              f"{100 * gap:.3f} % | {ilp['wall']:.1f} ({ilp['cpu']:.1f}) | {100 * ilp['admitted']:.1f} % | {ga['obj']:.0f} | "
              f"{100 * ga['obj'] / ilp['obj']:.2f} % | {gr['obj']:.0f} | +{pct(ilp['obj'], gr['obj']):.1f} % |",
              flush=True)
        if flows == 1000:
            summary["ga"].append(100 * ga["obj"] / ilp["obj"])
            summary["greedy"].append(pct(ilp["obj"], gr["obj"]))
            summary["adm"].append(100 * ilp["admitted"])
            summary["t"].append(ilp["wall"])
    print()
    print(f"1000 flows over {len(summary['ga'])} seeds: ga/ilp min {min(summary['ga']):.2f} % "
          f"mean {statistics.mean(summary['ga']):.2f} %; ilp over greedy min +{min(summary['greedy']):.1f} % "
          f"mean +{statistics.mean(summary['greedy']):.1f} %; admitted {min(summary['adm']):.1f}-"
          f"{max(summary['adm']):.1f} %; ilp wall max {max(summary['t']):.1f} s")
    print()
    print("| instance | arc-flow obj | arc status | arc s | path k=5 obj | path status | k-path loss |")
    print("|---|---|---|---|---|---|---|")
    losses = []
    for topology in ("waxman", "grid"):
        for seed in seeds:
            pb = generate_flows_problem(topology, 12, 30, seed)
            arc = run("ilp", pb, 60.0, model="arc")
            path = run("ilp", pb, 60.0, model="path", k=5)
            loss = 100.0 * (1.0 - path["obj"] / arc["obj"]) if arc["obj"] else 0.0
            losses.append(loss)
            print(f"| {topology} 12n 30f s{seed} | {arc['obj']:.0f} | {arc['status']} | {arc['wall']:.2f} | "
                  f"{path['obj']:.0f} | {path['status']} | {loss:.2f} % |", flush=True)
    print()
    print(f"k = 5 loses {statistics.mean(losses):.2f} % on average (max {max(losses):.2f} %); "
          f"load average at end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
