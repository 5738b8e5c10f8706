"""Evaluator speed: median time to score a large solution (distance matrix already built).

Targets (issue 3): the BKS of X-n1001-k43 in <= 1 ms median; a 1000-customer vrptw
solution in <= 5 ms median.

    python benchmarks/evaluate.py
"""

from __future__ import annotations

import statistics
import time

import solvers
from envs.generate import generate
from vrp import data, io
from vrp.evaluate import evaluate


def median_ms(fn, repeats: int = 200) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main() -> None:
    rows = []
    x = io.read("X-n1001-k43")
    sol = io.read_solution(data.reference_solution("X-n1001-k43"), x)  # type: ignore[arg-type]
    rows.append(("X-n1001-k43 BKS (cvrp, 1000 customers)", median_ms(lambda: evaluate(x, sol)), 1.0,
                 evaluate(x, sol).feasible))
    tw = generate("vrptw", 1000, seed=1)
    tw_sol = solvers.get("nearest").solve(tw, time_limit=60).solution
    rows.append(("generated vrptw, 1000 customers (nearest)", median_ms(lambda: evaluate(tw, tw_sol)), 5.0,
                 evaluate(tw, tw_sol).feasible))
    pr = io.read("pr1002")
    tour = io.read_solution(data.reference_solution("pr1002"), pr)  # type: ignore[arg-type]
    rows.append(("pr1002 optimal tour (tsp, 1002 nodes)", median_ms(lambda: evaluate(pr, tour)), None,
                 evaluate(pr, tour).feasible))
    print(f"{'case':<44} {'median ms':>10} {'target ms':>10} {'met':>5} {'feasible':>9}")
    for name, ms, target, feas in rows:
        met = "-" if target is None else ("yes" if ms <= target else "NO")
        print(f"{name:<44} {ms:>10.3f} {('-' if target is None else f'{target:g}'):>10} {met:>5} {str(feas):>9}")


if __name__ == "__main__":
    main()
