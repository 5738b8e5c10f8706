"""The ``vrp`` command line: solve, check, info, solvers, generate, train, average, bench, report.

Heavy packages (torch, rl4co, OR-Tools, PuLP) are imported only inside the handler
of the subcommand that needs them, so ``vrp --help`` starts fast. Bad input ends
in one line on stderr and exit code 2; no output file is created or overwritten.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad input detected by the CLI itself."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not usage + error: the house rule for bad input.
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _fmt(x: float | None, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if abs(x - round(x)) < 1e-9 and abs(x) < 1e15:
        return str(int(round(x)))
    return f"{x:.{digits}f}"


def _check_out_path(path: str | None, suffixes: tuple[str, ...] | None = None) -> None:
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"output {path} is a directory")
    if not p.parent.exists() and str(p.parent) not in ("", "."):
        raise UsageError(f"output folder {p.parent} does not exist")
    if suffixes and p.suffix.lower() not in suffixes:
        raise UsageError(f"output {path}: expected a {' or '.join(suffixes)} file")


def _parse_options(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        if "=" not in pair or not pair.split("=", 1)[0]:
            raise UsageError(f"--option expects key=value, got {pair!r}")
        k, v = pair.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _read_instance(args: argparse.Namespace) -> Any:
    from vrp import io

    source = args.instance
    if str(source).lower().endswith(".csv"):
        return io.read_customers_csv(source, matrix=getattr(args, "matrix", None),
                                     capacity=getattr(args, "capacity", None),
                                     num_vehicles=getattr(args, "vehicles", None),
                                     rounding=getattr(args, "rounding", None) or "exact")
    return io.read(source, rounding=getattr(args, "rounding", None))


def _is_network(path: str) -> bool:
    if not path.lower().endswith((".json", ".graphml")) or not Path(path).is_file():
        return False
    try:
        from vrp import network
    except ImportError:
        return False
    return bool(network.is_network_file(path))


def _reference(instance: Any, args: argparse.Namespace) -> Any:
    """The BKS entry, only when the instance is read under its file's own convention."""
    from vrp import data

    if getattr(args, "rounding", None) is not None:
        return None
    entry = data.bks(instance.name)
    if entry is None:
        return None
    if entry.n_nodes != instance.n:
        return None
    return entry


def _summary(instance: Any, score: Any, result: Any, solver: str, bks: Any, seed: int | None,
             time_limit: float | None) -> dict[str, Any]:
    from vrp.evaluate import gap_pct

    gap = gap_pct(score.objective, bks.value, score.sense) if bks is not None and score.feasible else None
    return {
        "instance": instance.name,
        "variant": instance.variant,
        "n": instance.n,
        "solver": solver,
        "objective": score.objective,
        "sense": score.sense,
        "cost": score.cost,
        "feasible": score.feasible,
        "violations": score.violation_lines(),
        "bks": bks.value if bks is not None else None,
        "bks_optimal": bks.optimal if bks is not None else None,
        "gap_pct": gap,
        "runtime_s": result.runtime if result is not None else None,
        "status": result.status if result is not None else None,
        "bound": result.bound if result is not None else None,
        "num_routes": score.num_routes,
        "routes": [list(r) for r in (result.solution.routes if result is not None and result.solution else [])],
        "skipped": list(score.skipped),
        "seed": seed,
        "time_limit": time_limit,
        "threads": getattr(result, "threads", None),
        "info": _jsonable(getattr(result, "info", None) or {}),
    }


def _jsonable(obj: Any) -> Any:
    """``obj`` (a solver's ``Result.info``) with numpy values, tuples and odd keys made JSON-safe."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (str, bool, int, float)) or obj is None:
        return obj
    tolist = getattr(obj, "tolist", None)  # numpy scalars and arrays
    return _jsonable(tolist()) if callable(tolist) else str(obj)


def _print_summary(summary: dict[str, Any], extra: list[tuple[str, str]] | None = None) -> None:
    rows = [("instance", summary["instance"]), ("variant", f"{summary['variant']} (n={summary['n']})")]
    if summary.get("solver"):
        rows.append(("solver", summary["solver"]))
    label = "prize" if summary["sense"] == "max" else "objective"
    rows.append((label, _fmt(summary["objective"])))
    if summary["objective"] != summary["cost"]:
        rows.append(("distance", _fmt(summary["cost"])))
    rows.append(("routes", str(summary["num_routes"])))
    rows.append(("feasible", "yes" if summary["feasible"] else f"NO ({len(summary['violations'])} violations)"))
    if summary["bks"] is not None:
        kind = "optimum" if summary["bks_optimal"] else "BKS"
        gap = summary["gap_pct"]
        rows.append((kind, _fmt(summary["bks"])))
        rows.append(("gap", "-" if gap is None else f"{gap:.2f} %"))
    if summary.get("status"):
        rows.append(("status", summary["status"]))
    if summary.get("bound") is not None:
        rows.append(("bound", _fmt(summary["bound"])))
    if summary.get("runtime_s") is not None:
        rows.append(("runtime", f"{summary['runtime_s']:.2f} s"))
    rows += extra or []
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(show_header=False, box=None)
        for k, v in rows:
            table.add_row(f"[bold]{k}[/bold]", v)
        Console().print(table)
    else:
        width = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"{k:<{width}}  {v}")
    for line in summary["violations"][:20]:
        print(f"  violation: {line}")
    if len(summary["violations"]) > 20:
        print(f"  ... {len(summary['violations']) - 20} more violations")


# ----------------------------------------------------------------------------- solve


def _run_solver(solver: Any, instance: Any, time_limit: float, seed: int) -> Any:
    """Run a solve; on a terminal, show elapsed time and the best objective as it goes."""
    if not sys.stderr.isatty():
        return solver.solve(instance, time_limit=time_limit, seed=seed)
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    state: dict[str, float | None] = {"best": None}
    started = time.perf_counter()

    def render() -> Text:
        best = state["best"]
        elapsed = time.perf_counter() - started
        return Text(f"solving with {solver.name}: {elapsed:5.1f} s / {time_limit:g} s   "
                    f"best {'-' if best is None else _fmt(best)}")

    if hasattr(solver, "progress"):
        solver.progress = lambda t, best: state.__setitem__("best", best)
    with Live(render(), console=Console(stderr=True), refresh_per_second=4, transient=True,
              get_renderable=render):
        return solver.solve(instance, time_limit=time_limit, seed=seed)


def _warmup(solver: Any) -> None:
    warm = getattr(solver, "warmup", None)
    if warm is None:
        return
    # Outside the time limit: a cold JIT compile takes about a minute, loading the cache about a second.
    print("warm-up: compiling… or loading the JIT cache / checkpoint (not counted in the time limit)", file=sys.stderr,
          flush=True)
    t0 = time.perf_counter()
    warm()
    print(f"warm-up done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)


def cmd_solve(args: argparse.Namespace) -> int:
    if args.time_limit is None or not (args.time_limit > 0) or not math.isfinite(args.time_limit):
        raise UsageError(f"--time-limit must be a positive number of seconds, got {args.time_limit}")
    _check_out_path(args.out)
    _check_out_path(args.plot, (".png", ".pdf", ".svg"))
    options = _parse_options(args.option)
    if _is_network(args.instance):
        return _solve_network(args, options)

    import solvers
    from vrp import io
    from vrp.evaluate import evaluate
    from vrp.result import check_supported

    instance = _read_instance(args)
    solver = solvers.get(args.solver, options=options)
    check_supported(solver, instance)
    check = getattr(solver, "check", None)  # a solver's further reasons not to run (ga init=, aco heatmap=, cluster inner=)
    if callable(check):
        check(instance)
    _warmup(solver)
    result = _run_solver(solver, instance, args.time_limit, args.seed)
    bks = _reference(instance, args)
    if result.solution is None:
        if result.status == "infeasible":
            raise UsageError(f"instance {instance.name} is infeasible (proved by {solver.name})")
        reason = (result.info or {}).get("reason")  # a solver that knows why says so (a fleet limit, ...)
        print(f"{args.solver}: no solution found within {args.time_limit:g} s (status {result.status})"
              + (f": {reason}" if reason else ""), file=sys.stderr)
        return EXIT_FAIL
    score = evaluate(instance, result.solution)
    summary = _summary(instance, score, result, args.solver, bks, args.seed, args.time_limit)
    if args.out:
        io.write_solution(args.out, result.solution, cost=score.objective if score.sense == "min" else score.cost,
                          extra={k: summary[k] for k in ("instance", "variant", "solver", "objective", "cost",
                                                         "feasible", "status", "runtime_s")})
    if args.plot:
        from vrp.plot import plot_solution

        plot_solution(instance, result.solution, args.plot, title=_plot_title(summary))
    if args.json:
        print(json.dumps(summary))
    else:
        _print_summary(summary)
    return EXIT_OK if score.feasible else EXIT_FAIL


def _plot_title(summary: dict[str, Any]) -> str:
    title = f"{summary['instance']} · {summary.get('solver') or ''} · {summary['variant']} · " \
            f"{'prize' if summary['sense'] == 'max' else 'cost'} {_fmt(summary['objective'])}"
    if summary.get("gap_pct") is not None:
        title += f" · gap {summary['gap_pct']:.2f} %"
    if not summary["feasible"]:
        title += " · INFEASIBLE"
    return title


def _solve_network(args: argparse.Namespace, options: dict[str, str]) -> int:
    import solvers
    from vrp import network

    problem = network.read_problem(args.instance)
    solver = solvers.get(args.solver, family=solvers.NETWORK, options=options)
    result = _run_solver(solver, problem, args.time_limit, args.seed)
    if result.solution is None:
        print(f"{args.solver}: no solution (status {result.status})", file=sys.stderr)
        return EXIT_FAIL
    score = network.evaluate_flows(problem, result.solution)
    summary = network.score_to_dict(score)
    summary.update({"instance": Path(args.instance).stem, "solver": args.solver, "status": result.status,
                    "optimal_over": result.info.get("optimal_over"), "bound": result.bound,
                    "runtime_s": result.runtime, "seed": args.seed})
    if args.out:
        network.write_solution(args.out, result.solution, score)
    print(json.dumps(summary) if args.json else _network_lines(summary))
    return EXIT_OK if summary.get("feasible", True) else EXIT_FAIL


def _network_lines(summary: dict[str, Any]) -> str:
    """A flow-routing summary for a person: shares in percent, no lists."""
    lines = []
    for k, v in summary.items():
        if isinstance(v, list | dict) or (v is None and k == "optimal_over"):
            continue
        if isinstance(v, float) and (k.endswith(("_fraction", "_utilisation"))):
            text = f"{100.0 * v:.1f} %"
        elif isinstance(v, float) and k == "runtime_s":
            text = f"{v:.2f}"
        elif isinstance(v, float):
            text = f"{v:g}"
        else:
            text = str(v)
        lines.append(f"{k:<22} {text}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- check / info / solvers


def cmd_check(args: argparse.Namespace) -> int:
    if _is_network(args.instance):
        if args.scenarios is not None or args.noise:
            raise UsageError("--scenarios and --noise are for routing instances, not flow networks")
        from vrp import network

        problem = network.read_problem(args.instance)
        sol = network.read_solution(args.solution, problem)
        summary = network.score_to_dict(network.evaluate_flows(problem, sol))
        print(json.dumps(summary) if args.json else _network_lines(summary))
        return EXIT_OK if summary.get("feasible", True) else EXIT_FAIL
    from vrp import io
    from vrp.evaluate import evaluate
    from vrp.robustness import setting_from_args

    setting = setting_from_args(args)
    instance = _read_instance(args)
    solution = io.read_solution(args.solution, instance)
    score = evaluate(instance, solution)
    robust = setting.evaluate(instance, solution, score) if setting is not None else None

    class _Stub:
        runtime = status = bound = threads = None
        solution = None

    stub = _Stub()
    stub.solution = solution  # type: ignore[assignment]
    summary = _summary(instance, score, stub, "", _reference(instance, args), None, None)
    for k in ("runtime_s", "status", "bound", "seed", "time_limit", "threads", "info"):
        summary.pop(k, None)
    if robust is not None:
        summary["scenarios"] = robust.to_dict()
    if args.json:
        print(json.dumps(summary))
    else:
        _print_summary(summary, _scenario_lines(robust) if robust is not None else None)
    return EXIT_OK if score.feasible else EXIT_FAIL


def _scenario_lines(robust: Any) -> list[tuple[str, str]]:
    """The scenario figures of ``vrp check --scenarios`` for a person: mean ± standard error."""
    def pm(mean: float | None, se: float | None, scale: float = 1.0, unit: str = "") -> str:
        if mean is None:
            return "-"
        text = f"{_fmt(mean * scale)}{unit}"
        return text if se is None or math.isnan(se) else f"{text} ± {_fmt(se * scale)}{unit}"

    r = robust
    rows = [("scenarios", f"{r.scenarios} (seed {r.seed}): {r.noise.spec()}"),
            ("expected cost", f"{pm(r.cost, r.cost_se)} ({r.degradation_pct:+.2f} % over {_fmt(r.base)})"),
            ("  recourse", pm(r.recourse, r.recourse_se)),
            ("  lateness", f"{pm(r.lateness, r.lateness_se)} time units x penalty {r.lateness_penalty:g} "
                           f"= {_fmt(r.lateness_cost)}"),
            ("cost p95", pm(r.cost_p95, r.cost_p95_se))]
    if r.on_time_rate is not None:
        rows.append(("on time", pm(r.on_time_rate, r.on_time_rate_se, 100.0, " %")))
    if r.failure_rate is not None:
        rows.append(("route failures", pm(r.failure_rate, r.failure_rate_se, 100.0, " %")))
    rows.append(("duration", f"{pm(r.duration, r.duration_se)} (deterministic {_fmt(r.duration_deterministic)}, "
                             f"p95 {_fmt(r.duration_p95)})"))
    return rows


def cmd_info(args: argparse.Namespace) -> int:
    from vrp import data

    if args.list or not args.instance:
        for group in ("tsplib", "cvrplib", "solomon"):
            items = data.names(group)
            print(f"{group} ({len(items)}): {' '.join(items)}")
        return EXIT_OK
    instance = _read_instance(args)
    entry = _reference(instance, args)
    info: dict[str, Any] = {
        "instance": instance.name, "variant": instance.variant, "n": instance.n,
        "customers": instance.num_customers, "depot": instance.depot, "sense": instance.sense,
        "metric": instance.metric, "rounding": instance.rounding,
        "capacity": instance.capacity,
        "vehicle_capacities": None if instance.vehicle_capacities is None else instance.vehicle_capacities.tolist(),
        "vehicles": instance.num_vehicles if instance.num_vehicles is not None else "unlimited",
        "total_demand": None if instance.demands is None else float(instance.demands.sum()),
        "time_windows": instance.time_windows is not None, "open_routes": instance.open_routes,
        "max_length": instance.max_length, "min_prize": instance.min_prize,
        "bks": entry.value if entry else None,
        "bks_optimal": entry.optimal if entry else None,
    }
    if entry is not None:
        ref = data.reference_solution(instance.name)
        info["reference_solution"] = str(ref) if ref else None
    if args.json:
        print(json.dumps(info))
    else:
        for k, v in info.items():
            if v is None or v is False:
                continue
            print(f"{k:<20} {v}")
    return EXIT_OK


def cmd_solvers(args: argparse.Namespace) -> int:
    import solvers

    rows = []
    for s in solvers.specs():
        name = s.name + (":<checkpoint>" if s.takes_argument else "")
        extra = "yes" if s.installed() else f"no: pip install \"vrp-toolkit[{s.extra}]\"" if s.extra else "no"
        rows.append((s.family, name, ",".join(sorted(s.variants)) if s.family == "routing" else "flows",
                     extra, s.description))
    if args.json:
        print(json.dumps([dict(zip(("family", "name", "variants", "installed", "description"), r)) for r in rows]))
        return EXIT_OK
    headers = ("family", "name", "variants", "installed", "description")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    return EXIT_OK


# ----------------------------------------------------------------------------- generate


def cmd_generate(args: argparse.Namespace) -> int:
    if args.count < 1:
        raise UsageError(f"--count must be positive, got {args.count}")
    if args.problem == "flows":
        return _generate_flows(args)
    if args.size is None or args.size < 1:
        raise UsageError("--size must be a positive integer")
    from envs.generate import generate_many
    from vrp import io

    out = Path(args.out)
    single = out.suffix.lower() == ".json"
    if single and args.count != 1:
        raise UsageError("--out FILE.json writes one instance: use a folder with --count > 1")
    if single:
        _check_out_path(str(out))
    elif out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    try:
        instances = generate_many(args.problem, args.size, args.count, distribution=args.distribution,
                                  seed=args.seed, scale=args.scale)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if single:
        io.write_instance(out, instances[0])
        print(f"wrote {out}")
        return EXIT_OK
    out.mkdir(parents=True, exist_ok=True)
    for inst in instances:
        io.write_instance(out / f"{inst.name}.json", inst)
    print(f"wrote {len(instances)} {args.problem} instances of size {args.size} to {out}/")
    return EXIT_OK


def _generate_flows(args: argparse.Namespace) -> int:
    from envs.network_generate import generate_flows_problem
    from vrp import network

    _check_out_path(args.out, (".json",))
    problem = generate_flows_problem(topology=args.topology, nodes=args.nodes, flows=args.flows, seed=args.seed)
    network.write_problem(args.out, problem)
    print(f"wrote {args.out}")
    return EXIT_OK


# ----------------------------------------------------------------------------- parser


EXAMPLES = {
    "solve": "examples:\n  vrp solve datasets/cvrplib/X-n101-k25.vrp --solver savings --out sol.sol --json\n"
             "  vrp solve berlin52 --solver nearest --plot tour.png\n"
             "  vrp solve X-n101-k25 --solver ga --time-limit 30 --option population_size=40\n"
             "  vrp solve customers.csv --capacity 100 --matrix dist.csv --solver ortools",
    "check": "examples:\n  vrp check datasets/cvrplib/X-n101-k25.vrp sol.sol\n"
             "  vrp check berlin52 datasets/tsplib/berlin52.opt.tour --json\n"
             "  vrp check C101 sol.sol --scenarios 1000 --noise travel=lognormal:0.2 --noise demand=poisson --seed 1",
    "info": "examples:\n  vrp info X-n101-k25\n  vrp info --list",
    "solvers": "example:\n  vrp solvers",
    "generate": "examples:\n  vrp generate --problem cvrp --size 50 --count 100 --distribution clustered --seed 1 --out DIR\n"
                "  vrp generate --problem tsp --size 20 --out tsp20.json\n"
                "  vrp generate --problem flows --topology waxman --nodes 50 --flows 1000 --seed 1 --out net.json",
}


def _sub(subs: Any, name: str, help_: str) -> argparse.ArgumentParser:
    return subs.add_parser(name, help=help_, description=help_, epilog=EXAMPLES.get(name),
                           formatter_class=argparse.RawDescriptionHelpFormatter)


def _instance_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rounding", choices=("nint", "ceil", "dimacs", "exact"),
                   help="override the file's rounding convention (then no BKS gap is shown)")
    p.add_argument("--capacity", type=float, help="vehicle capacity for a customers CSV")
    p.add_argument("--vehicles", type=int, help="fleet size for a customers CSV")
    p.add_argument("--matrix", help="distance-matrix CSV to go with a customers CSV")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vrp", description="vrp-toolkit: solve, compare and learn routing problems.",
                     epilog="run `vrp COMMAND --help` for the options and an example of each command")
    parser.add_argument("--version", action="version", version="vrp-toolkit 0.1.0")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = _sub(subs, "solve", "Solve an instance file or a shipped dataset name.")
    p.add_argument("instance", help="instance file (.tsp .atsp .vrp .txt .json .csv) or dataset name")
    p.add_argument("--solver", default="nearest", help="solver name (see `vrp solvers`); default nearest")
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds (default 10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write the solution: .sol (CVRPLIB) or .json")
    p.add_argument("--option", action="append", metavar="KEY=VALUE", help="solver parameter (repeatable)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="FILE.png", help="draw the routes")
    _instance_args(p)
    p.set_defaults(func=cmd_solve)

    p = _sub(subs, "check", "Re-score a solution file (.sol, .opt.tour or JSON) on an instance.")
    p.add_argument("instance")
    p.add_argument("solution")
    p.add_argument("--json", action="store_true")
    _instance_args(p)
    from vrp.robustness import add_arguments as add_scenario_arguments

    add_scenario_arguments(p)
    p.set_defaults(func=cmd_check)

    p = _sub(subs, "info", "Describe an instance: variant, size, capacity, fleet, BKS.")
    p.add_argument("instance", nargs="?")
    p.add_argument("--list", action="store_true", help="list the shipped instances")
    p.add_argument("--json", action="store_true")
    _instance_args(p)
    p.set_defaults(func=cmd_info)

    p = _sub(subs, "solvers", "List the solvers, their variants and whether their extra is installed.")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_solvers)

    p = _sub(subs, "generate", "Generate random instances (our JSON) or a flow-routing network.")
    p.add_argument("--problem", required=True,
                   choices=("tsp", "atsp", "cvrp", "ocvrp", "vrptw", "hcvrp", "op", "pctsp", "flows"))
    p.add_argument("--size", type=int, help="customers (cities for tsp/atsp)")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--distribution", choices=("uniform", "clustered", "mixed"), default="uniform")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scale", type=float, default=1000.0, help="side of the coordinate square")
    p.add_argument("--topology", choices=("waxman", "barabasi", "grid"), default="waxman", help="flows only")
    p.add_argument("--nodes", type=int, default=50, help="flows only: network nodes")
    p.add_argument("--flows", type=int, default=1000, help="flows only: number of flows")
    p.add_argument("--out", required=True, help="folder (or FILE.json for one instance)")
    p.set_defaults(func=cmd_generate)

    _optional_subcommands(subs)
    return parser


# name, light module, help, its add-arguments and handler functions, its example attribute, description
_OPTIONAL = (
    ("train", "envs.train_cli", "Train a neural policy (AM, POMO, MatNet, DeepACO) with rl4co.", "add_arguments", "run",
     "EXAMPLE", True),
    ("average", "envs.average", "Average the weights of a training run's last epochs (SWA).", "add_arguments",
     "run", "EXAMPLE", True),
    ("bench", "vrp.bench_cli", "Run solvers x instances x time limits x seeds into a results CSV.",
     "add_bench_arguments", "run_bench", "BENCH_EXAMPLE", True),
    ("report", "vrp.bench_cli", "Tables and plots from a results CSV.", "add_report_arguments", "run_report",
     "REPORT_EXAMPLE", False),
)


def _optional_subcommands(subs: Any) -> None:
    """train, average, bench and report live in their own light modules (absent ones are left out)."""
    import importlib

    for name, module_name, help_, add, handler, example, describe in _OPTIONAL:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        p = subs.add_parser(name, help=help_, description=module.__doc__ if describe else None,
                            formatter_class=argparse.RawDescriptionHelpFormatter,
                            epilog=getattr(module, example, None))
        getattr(module, add)(p)
        p.set_defaults(func=getattr(module, handler))


def _known_errors() -> tuple[type[BaseException], ...]:
    from vrp.data import DataError
    from vrp.io import FormatError
    from vrp.model import InstanceError
    from vrp.result import SolverError
    from vrp.scenarios import NoiseError

    errs: list[type[BaseException]] = [UsageError, FormatError, InstanceError, SolverError, DataError, NoiseError]
    try:
        from vrp.network import NetworkError  # type: ignore[attr-defined]

        errs.append(NetworkError)
    except ImportError:
        pass
    return tuple(errs)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    known = _known_errors()
    try:
        return int(args.func(args) or 0)
    except known as exc:
        print(f"vrp {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"vrp {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug, said in one line; VRP_DEBUG=1 shows the traceback
        if os.environ.get("VRP_DEBUG"):
            raise
        print(f"vrp {args.command}: internal error: {exc.__class__.__name__}: {exc} "
              "(set VRP_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
