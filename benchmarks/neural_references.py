"""Reference costs for the neural validation/test sets (written under datasets/reference/).

Two kinds of reference, each scored by our evaluator (``vrp.evaluate``) in the instance's
own units:

- ``--solver pyvrp`` (tsp, cvrp: the first references): PyVRP (HGS) with a stated iteration
  or time limit. PyVRP needs integer distances: the exact float distances are multiplied by
  ``PRECISION`` and rounded for the search only; the stored cost is the evaluator's exact
  cost of the returned routes. A TSP is a one-vehicle routing problem without capacity.
- ``--solver ilp``: the proven optimum of our ``ilp`` solver (HiGHS, one thread) within
  ``--time`` seconds; an instance not proved in time is dropped (a ``# dropped`` line in the
  file says so, and the README of ``datasets/reference/`` counts them).
- ``--solver ga``/``--solver pyvrp`` through the solver registry for the other variants
  (``--iterations``: a load-independent budget).

Usage::

    python benchmarks/neural_references.py --problem tsp --size 20 --split val --count 200 --time 0.2
    python benchmarks/neural_references.py --problem op --size 20 --split test --count 200 --solver ilp --time 60

Appends to ``datasets/reference/<problem><size>-<split>.csv`` (skips names already there),
so the file can be built in pieces. The header of the file records the command that made it
and (``# then:``) each command that extended it.
"""

from __future__ import annotations

import argparse
import csv
import shlex
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from envs.generate import PROBLEMS  # noqa: E402
from envs.train import fixed_set, read_references, reference_path  # noqa: E402
from vrp.evaluate import evaluate  # noqa: E402
from vrp.model import Instance, Solution  # noqa: E402

PRECISION = 1000.0


def pyvrp_solve(instance: Instance, seconds: float | None = None, seed: int = 0,
                iterations: int | None = None) -> Solution:
    """Solve a tsp/cvrp with PyVRP for ``seconds`` or ``iterations``; routes in our node indices.

    An iteration limit makes the reference independent of the machine's load.
    """
    from pyvrp import Model
    from pyvrp.stop import MaxIterations, MaxRuntime

    m = Model()
    coords = instance.coords
    depot_idx = instance.depot
    order = [depot_idx] + [int(c) for c in instance.customers]
    locs = [m.add_location(float(coords[i, 0]), float(coords[i, 1])) for i in order]
    depot = m.add_depot(locs[0])
    if instance.variant == "tsp":
        m.add_vehicle_type(num_available=1, start_depot=depot, end_depot=depot)
        for loc in locs[1:]:
            m.add_client(loc)
    else:
        n_veh = instance.num_vehicles or instance.n
        m.add_vehicle_type(num_available=n_veh, capacity=int(round(instance.capacity)),
                           start_depot=depot, end_depot=depot)
        for i, loc in zip(order[1:], locs[1:]):
            m.add_client(loc, delivery=int(round(instance.demands[i])))
    dist = np.rint(instance.distances * PRECISION).astype(np.int64)
    for a, la in zip(order, locs):
        for b, lb in zip(order, locs):
            if a != b:
                m.add_edge(la, lb, distance=int(dist[a, b]))
    stop = MaxIterations(iterations) if iterations else MaxRuntime(float(seconds or 1.0))
    res = m.solve(stop=stop, seed=seed, display=False, collect_stats=False)
    if not res.best.is_feasible():
        if not iterations:
            raise RuntimeError(f"{instance.name}: pyvrp found no feasible solution in {seconds} s")
        return pyvrp_solve(instance, seed=seed + 1, iterations=2 * iterations)
    # activity idx counts clients from 0; location = idx + 1 (one depot first)
    routes = [[order[a.idx + 1] for a in route if a.is_client()] for route in res.best.routes()]
    return Solution(routes)


def reference_solver(problem: str, solver: str, seconds: float | None, iterations: int | None):  # noqa: ANN201
    """``solve(instance) -> (Solution | None, status)`` for the chosen reference solver."""
    if solver == "pyvrp" and problem in ("tsp", "cvrp"):
        return lambda inst: (pyvrp_solve(inst, seconds, iterations=iterations), "feasible")
    import solvers

    options: dict = {}
    if solver == "ilp":
        options = {"threads": 1}
    elif iterations:
        options = {"max_iterations": iterations}
    engine = solvers.get(solver, options=options)
    if hasattr(engine, "warmup"):
        engine.warmup()

    def solve(inst: Instance) -> tuple[Solution | None, str]:
        res = engine.solve(inst, time_limit=seconds or 3600.0, seed=0)
        return res.solution, res.status

    return solve


def _record_command(path: Path, command: str) -> None:
    """Add ``# then: COMMAND`` to the header of an existing file that COMMAND extends."""
    with path.open(newline="") as fh:  # keep the rows' line endings (the csv writer's \r\n)
        lines = fh.readlines()
    head = 0
    while head < len(lines) and lines[head].startswith("#"):
        head += 1
    if any(command in line for line in lines[:head]):
        return
    lines.insert(head, f"# then: {command}\n")
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as fh:
        fh.writelines(lines)
    tmp.replace(path)


def _forget_dropped(path: Path, name: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(ln for ln in lines if not ln.startswith(f"# dropped {name}:")))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", choices=PROBLEMS, required=True)
    ap.add_argument("--solver", choices=("pyvrp", "ilp", "ga"), default="pyvrp",
                    help="pyvrp (tsp/cvrp: our own PyVRP model; other variants: the registry's pyvrp), ilp "
                    "(proven optima only) or ga")
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--split", choices=("val", "test"), required=True)
    ap.add_argument("--count", type=int, required=True, help="first COUNT instances of the fixed set")
    lim = ap.add_mutually_exclusive_group(required=True)
    lim.add_argument("--time", type=float, help="seconds per instance (wall clock; ilp: the proof's limit)")
    lim.add_argument("--iterations", type=int, help="iterations per instance (pyvrp, ga: load-independent)")
    ap.add_argument("--retry-dropped", action="store_true",
                    help="try the instances dropped before again (e.g. proofs lost to a loaded machine); "
                    "a proved one replaces its '# dropped' line, one dropped again keeps it")
    args = ap.parse_args(argv)
    path = reference_path(args.problem, args.size, args.split)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = set(read_references(path))
    dropped = set()
    if path.exists():  # an instance dropped before is not tried again (nor listed twice), unless retried
        dropped = {line.split()[2].rstrip(":") for line in path.read_text().splitlines()
                   if line.startswith("# dropped ")}
        if not args.retry_dropped:
            done |= dropped
    new = not path.exists()
    command = "python benchmarks/neural_references.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    if args.solver == "ilp" and not args.time:
        ap.error("--solver ilp needs --time (the proof's limit per instance)")
    limit = f"{args.iterations} iterations" if args.iterations else f"{args.time:g} s"
    solve = reference_solver(args.problem, args.solver, args.time, args.iterations)
    instances = fixed_set(args.problem, args.size, args.split, args.count)
    if not new and any(inst.name not in done for inst in instances):
        _record_command(path, command)
    t0 = time.time()
    with path.open("a", newline="") as fh:
        if new:
            what = "proven optimum of ilp (HiGHS, 1 thread), at most" if args.solver == "ilp" else args.solver
            fh.write(f"# reference: {what} {limit} per instance (seed 0), scored by vrp.evaluate\n")
            fh.write(f"# command: {command}\n")
        w = csv.writer(fh)
        if new:
            w.writerow(["name", "cost", "solver", "limit", "seconds"])
        for k, inst in enumerate(instances):
            if inst.name in done:
                continue
            t1 = time.perf_counter()
            sol, status = solve(inst)
            secs = time.perf_counter() - t1
            if sol is None or (args.solver == "ilp" and status != "optimal"):
                if inst.name not in dropped:
                    fh.write(f"# dropped {inst.name}: {args.solver} status {status} within {limit}\n")
                    fh.flush()
                continue
            score = evaluate(inst, sol)
            if not score.feasible:
                raise RuntimeError(f"{inst.name}: {args.solver} returned an infeasible solution: {score.violations}")
            w.writerow([inst.name, f"{score.objective:.6f}", args.solver, limit, f"{secs:.2f}"])
            fh.flush()
            if inst.name in dropped:  # proved on a retry: its dropped line goes
                _forget_dropped(path, inst.name)
            if (k + 1) % 50 == 0:
                print(f"{k + 1}/{len(instances)} ({time.time() - t0:.0f} s)", flush=True)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
