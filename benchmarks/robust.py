"""Robustness of every solver under uncertainty (issue 25): deterministic gap against expected
scenario cost, on-time and route-failure rates at two noise levels, and the degradation.

    python benchmarks/robust.py                         # the default run (327 s here, one worker)
    python benchmarks/robust.py --time-limit 10 --scenarios 2000
    python benchmarks/robust.py --out robust.csv        # keep (and resume) the sweep's rows

One ``vrp bench`` sweep (:func:`vrp.bench.run_sweep`: one worker, one thread, seed 1) solves the
six Solomon files and generated VRPTW and CVRP sets of size 50; ``ga@robust`` and
``ortools@robust`` are the same solvers planning with ``capacity_slack`` and ``tw_slack``
(:func:`vrp.scenarios.buffered`), the neural policy ``am:50`` runs as it is (CVRP only: no
shipped checkpoint solves VRPTW). Each solution is then simulated at both noise levels with
exactly the figures ``vrp bench --scenarios`` writes (:func:`vrp.robustness.row_cells`: the
scenario seed comes from ``--scenario-seed`` and the instance, so every solver meets the same
days). Gaps are to the best-known solution (Solomon) or to the best deterministic objective
any solver found (generated sets); the degradation is expected / deterministic cost - 1.
"""

from __future__ import annotations

import argparse
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meta import load  # noqa: E402  (benchmarks/meta.py: the machine load line)

import solvers  # noqa: E402
from envs.specs import resolve  # noqa: E402
from vrp import report, robustness  # noqa: E402
from vrp.bench import parse_routes, run_sweep  # noqa: E402
from vrp.bench_cli import supported_variants  # noqa: E402
from vrp.model import Solution  # noqa: E402
from vrp.scenarios import parse_noise  # noqa: E402

INSTANCES = ["solomon", "generated:vrptw:50:10:seed=1", "generated:cvrp:50:10:seed=1"]
SOLVERS = "nearest,savings,ortools,ortools@robust,ga,ga@robust,am:50"
ROBUST = {"capacity_slack": "0.1", "tw_slack": "0.02"}
LEVELS = {"low": "travel=lognormal:0.1 demand=normal:0.1", "high": "travel=lognormal:0.3 demand=normal:0.3"}
COLUMNS = ("mean_gap_pct", "exp_gap_pct", "on_time_pct", "failure_pct", "degradation_pct")
HEADERS = ("det. gap %", "exp. gap %", "on time %", "failures %", "degradation %")


def installed(name: str) -> bool:
    try:
        return solvers.spec(name).installed()
    except Exception:  # noqa: BLE001 - a solver that is not there is left out, and said so
        return False


def _cell(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def table(summary: list[dict], order: list[str]) -> str:
    """One markdown line per (group, solver) of a :func:`vrp.robustness.summarise` summary."""
    lines = ["| instances | solver | feasible runs | " + " | ".join(HEADERS) + " |",
             "|---|---|" + "---:|" * (len(HEADERS) + 1)]
    for s in sorted(summary, key=lambda s: (s["group"], order.index(s["solver"]))):
        lines.append(f"| {s['group']} | {s['solver']} | {s['runs']} | " + " | ".join(_cell(s[c]) for c in COLUMNS)
                     + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", nargs="+", default=INSTANCES)
    ap.add_argument("--solvers", default=SOLVERS)
    ap.add_argument("--time-limit", type=float, default=3.0, help="seconds per run (default 3)")
    ap.add_argument("--scenarios", type=int, default=1000)
    ap.add_argument("--scenario-seed", type=int, default=1)
    ap.add_argument("--lateness-penalty", type=float, default=1.0,
                    help="cost per time unit late (default 1: a time unit late costs as much as one of driving)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", default=None, help="results CSV of the sweep (default: a temporary file)")
    args = ap.parse_args(argv)

    command = "python benchmarks/robust.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    print(f"# robustness benchmark  {time.strftime('%Y-%m-%d %H:%M:%S')}  {platform.processor() or ''}")
    print(f"# command: {command.strip()}")
    print(f"# {load()}", flush=True)
    names = [n for n in args.solvers.split(",") if installed(n)]
    missing = [n for n in args.solvers.split(",") if n not in names]
    if missing:
        print(f"# left out (extra not installed): {', '.join(missing)}")
    options = {n: dict(ROBUST) for n in names if n.endswith("@robust")}
    items = resolve(args.instances)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="robust-")) / "robust.csv"
    t0 = time.perf_counter()
    stats = run_sweep(items, names, [args.time_limit], [1], out, factory=solvers.get, workers=args.workers,
                      options=options, supports=supported_variants(names, options=options))
    print(f"# sweep: {stats.written} runs in {stats.wall_s:.0f} s ({stats.skipped} resumed from {out}); "
          f"{load()}", flush=True)

    rows = report.load(out)
    by_name = {it.name: it for it in items}
    summaries: dict[str, list[dict]] = {}
    t1 = time.perf_counter()
    for spec in LEVELS.values():
        setting = robustness.ScenarioSetting(parse_noise(spec), args.scenarios, args.scenario_seed,
                                             args.lateness_penalty)
        scored = []
        for r in rows:
            if r.get("feasible") and r.get("routes"):
                sol = Solution(parse_routes(r["routes"]) or [])
                r = {**r, **robustness.row_cells(setting, by_name[r["instance"]], sol, None)}
            scored.append(r)
        summaries[spec] = robustness.summarise(scored)
    print(f"# scenario evaluation: {args.scenarios} scenarios x {len(LEVELS)} levels x {len(rows)} runs in "
          f"{time.perf_counter() - t1:.1f} s")
    robust_opts = " ".join(f"--option {n}:{k}={v}" for n in options for k, v in ROBUST.items())
    print(f"# the same figures, one level per sweep, from the CLI: vrp bench --instances {' '.join(args.instances)} "
          f"--solvers {','.join(names)} {robust_opts} --time-limits {args.time_limit:g} --seeds 1 "
          f"--scenarios {args.scenarios} --noise ... --scenario-seed {args.scenario_seed} "
          f"--lateness-penalty {args.lateness_penalty:g} --out FILE")
    print(f"# {args.time_limit:g} s per run, seed 1; {args.scenarios} scenarios per solution, lateness penalty "
          f"{args.lateness_penalty:g} per time unit; @robust = capacity_slack {ROBUST['capacity_slack']}, "
          f"tw_slack {ROBUST['tw_slack']}; means over feasible runs")
    for level, spec in LEVELS.items():
        print(f"\n## {level} noise: {spec}\n")
        print(table(summaries[spec], names))
    print(f"\n# total {time.perf_counter() - t0:.0f} s; {load()}")


if __name__ == "__main__":
    main()
