"""``vrp bench`` and ``vrp report``: argument parsers and handlers (light at import time).

The lead's :mod:`vrp.cli` wires these in; ``python -m vrp.bench_cli bench|report ...``
runs them on their own. Only the handlers import :mod:`solvers` and :mod:`envs` (the CLI
is the one place that may, DESIGN.md): they hand :func:`solvers.get` and
:func:`envs.specs.resolve`/:func:`envs.specs.load` to :mod:`vrp.bench`/:mod:`vrp.report`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

BENCH_EXAMPLE = """example:
  vrp bench --instances tsplib cvrplib-x generated:cvrp:50:100:seed=1 --max-n 200 \\
      --solvers nearest,savings,ortools,ga --time-limits 1,10 --seeds 1,2 --out results.csv --workers 2
  (run the same command again to resume; then: vrp report results.csv)
  vrp bench --instances solomon --solvers ortools,ga,ga@robust --option ga@robust:capacity_slack=0.1 \\
      --scenarios 1000 --noise travel=lognormal:0.2 --noise demand=poisson --scenario-seed 1 --out robust.csv"""

REPORT_EXAMPLE = """example:
  vrp report results.csv                       # table on the terminal, plots in results-plots/
  vrp report results.csv --markdown --no-plots # a markdown table for a README"""


def _csv_list(text: str, conv: Any, what: str) -> list[Any]:
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(conv(part))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what}: {part!r} is not a valid value") from None
    if not out:
        raise argparse.ArgumentTypeError(f"{what}: empty list")
    return out


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``vrp bench`` options to ``parser``."""
    parser.epilog = BENCH_EXAMPLE
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--instances", nargs="+", required=True, metavar="SPEC",
                        help="files, globs, dataset names, groups (tsplib, cvrplib, cvrplib-x, solomon) "
                             "or generated sets generated:PROBLEM:SIZE:COUNT[:seed=S][:distribution=D]")
    parser.add_argument("--solvers", required=True, help="comma-separated solver names (see `vrp solvers`)")
    parser.add_argument("--time-limits", default="10", help="comma-separated seconds (default 10)")
    parser.add_argument("--seeds", default="1", help="comma-separated integer seeds (default 1)")
    parser.add_argument("--out", required=True, help="results CSV: rows are appended; an existing file resumes")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes, one single-threaded solver each (0: in this process)")
    parser.add_argument("--ray", metavar="ADDRESS", default=None,
                        help="run the tasks on a Ray cluster (host:port, or 'local')")
    parser.add_argument("--max-n", type=int, default=None, help="skip instances with more nodes than this")
    parser.add_argument("--option", action="append", default=[], metavar="SOLVER:KEY=VALUE",
                        help="a solver option, repeatable (e.g. ga:population=50, am:cvrp50:decode=greedy)")
    parser.add_argument("--timeout-factor", type=float, default=2.0,
                        help="kill a run after FACTOR x time limit + --grace seconds (default 2)")
    parser.add_argument("--grace", type=float, default=30.0, help="seconds added to the kill deadline (default 30)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="run again the runs recorded as error or timeout (the new row supersedes the old)")
    parser.add_argument("--quiet", action="store_true", help="no progress and no summary table")
    from vrp.robustness import add_arguments as add_scenario_arguments

    add_scenario_arguments(parser, "--scenario-seed")


def _parse_options(items: list[str], solvers: list[str]) -> dict[str, dict[str, str]]:
    from vrp.bench import BenchError

    out: dict[str, dict[str, str]] = {}
    for item in items:
        head, eq, value = item.partition("=")
        solver, colon, key = head.rpartition(":")
        if not eq or not colon or not solver or not key:
            raise BenchError(f"--option {item!r}: expected SOLVER:KEY=VALUE")
        if solver not in solvers:
            raise BenchError(f"--option {item!r}: solver {solver!r} is not in --solvers")
        out.setdefault(solver, {})[key] = value
    return out


def _checkpoint_variants(solver: Any, variants: frozenset[str]) -> frozenset[str]:
    """The problems a checkpoint solver holds checkpoints for (``am:50`` -> tsp and cvrp if both ship)."""
    problem = getattr(solver, "problem", None)
    if isinstance(problem, str):
        return frozenset({problem}) & variants or variants
    paths = getattr(solver, "paths", None)
    if not isinstance(paths, dict):
        return variants
    found = {k for k in paths if isinstance(k, str)}
    if None in paths:
        try:
            found.add(str(solver.meta(None)["problem"]))
        except Exception:  # an unreadable checkpoint: its runs report the error
            return variants
    return frozenset(found) & variants or variants


def supported_variants(names: list[str], families: list[str] | None = None,
                       options: dict[str, dict[str, str]] | None = None) -> dict[str, frozenset[str]]:
    """The variants each named solver can run, for :func:`vrp.bench.run_sweep`'s ``supports``.

    An unknown name raises :class:`~vrp.result.SolverError` listing the valid ones, and
    options are validated, before any work. A checkpoint solver (``am:cvrp50``) runs
    only the problem its checkpoint was trained on.
    """
    import solvers

    options = options or {}
    out: dict[str, frozenset[str]] = {}
    for name in names:
        for fam in families or [solvers.ROUTING]:
            spec = solvers.spec(name, fam)
            variants = spec.variants
            if options.get(name) or spec.takes_argument:
                solver = solvers.get(name, fam, options.get(name))
                if spec.takes_argument:
                    variants = _checkpoint_variants(solver, variants)
            out[name] = out.get(name, frozenset()) | variants
    return out


def _versions(names: list[str], families: list[str]) -> dict[str, str]:
    import solvers
    from vrp.bench import library_versions

    out = {}
    for name in names:
        mods: list[str] = []
        for fam in families:
            mods += [m for m in solvers.spec(name, fam).requires if m not in mods]
        out[name] = library_versions(mods)
    return out


def run_bench(args: argparse.Namespace) -> int:
    """Handler of ``vrp bench``: resolve specs and solvers, run or resume the sweep, print a summary."""
    from vrp.bench import BenchError, run_sweep
    from vrp.result import SolverError
    from vrp.robustness import check_items, setting_from_args

    try:
        solver_names = _csv_list(args.solvers, str, "--solvers")
        time_limits = _csv_list(args.time_limits, float, "--time-limits")
        seeds = _csv_list(args.seeds, int, "--seeds")
    except argparse.ArgumentTypeError as exc:
        print(f"vrp bench: error: {exc}", file=sys.stderr)
        return 2
    try:
        import solvers
        from envs.specs import resolve

        if any(t <= 0 for t in time_limits):
            raise BenchError(f"--time-limits: must be positive, got {args.time_limits}")
        if args.workers < 0:
            raise BenchError(f"--workers: must be >= 0, got {args.workers}")
        options = _parse_options(args.option, solver_names)
        scenarios = setting_from_args(args, "--scenario-seed")
        items = resolve(args.instances, max_n=args.max_n)
        if scenarios is not None:
            check_items(scenarios, items)
        supports = supported_variants(solver_names, sorted({it.family for it in items}), options)
        progress = _Progress(quiet=args.quiet)
        stats = run_sweep(items, solver_names, time_limits, seeds, args.out, factory=solvers.get,
                          workers=args.workers, ray_address=args.ray, options=options, supports=supports,
                          versions=_versions(solver_names, sorted({it.family for it in items})),
                          timeout_factor=args.timeout_factor, grace_s=args.grace,
                          on_row=progress.row, on_plan=progress.plan, on_warmup=progress.warmup,
                          retry_failed=args.retry_failed, scenarios=scenarios)
        progress.close()
    except (BenchError, SolverError, OSError, ValueError) as exc:
        print(f"vrp bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vrp bench: interrupted; run the same command again to resume ({args.out})", file=sys.stderr)
        return 130
    if not args.quiet:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(stats.statuses.items())) or "nothing to do"
        msg = f"{stats.written} rows written ({counts}), {stats.skipped} already done, {stats.wall_s:.1f} s"
        if stats.unsupported:
            msg += f"; {stats.unsupported} (solver, instance) runs left out: variant not supported"
        if stats.repaired_bytes:
            msg += f"; repaired a torn last line ({stats.repaired_bytes} bytes dropped)"
        print(msg, file=sys.stderr)
        _print_summary(args.out)
    return 0


class _Progress:
    """A rich progress bar on a terminal; silent when piped."""

    def __init__(self, quiet: bool) -> None:
        self.bar: Any = None
        self.task: Any = None
        self.quiet = quiet
        self.warmed: set[str] = set()
        self.enabled = not quiet and sys.stderr.isatty()

    def plan(self, todo: int, skipped: int) -> None:
        if not self.enabled or todo == 0:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(TextColumn("bench"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            TextColumn("{task.description}"), console=Console(stderr=True), transient=True)
        self.bar.start()
        self.task = self.bar.add_task("", total=todo)

    def warmup(self, seconds: dict[str, float]) -> None:
        if self.quiet:
            return
        # Each worker warms up; say it once per solver (the first worker's time).
        shown = ", ".join(f"{name} {t:.1f} s" for name, t in seconds.items()
                          if t >= 0.05 and name not in self.warmed)
        self.warmed.update(seconds)
        if shown:
            msg = f"warm-up before timing (JIT compile / checkpoint load): {shown}"
            if self.bar is not None:
                self.bar.console.print(msg)
            else:
                print(msg, file=sys.stderr)

    def row(self, row: dict[str, Any]) -> None:
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"{row['solver']} {row['instance']} {row['status']}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _print_summary(path: str) -> None:
    from vrp import report

    rows = report.load(path)
    if rows:
        _print(report.render_table(report.summarise(rows), title=str(path), columns=report.COMPACT_COLUMNS))
        _print_robustness(rows, markdown=False)


def _print_robustness(rows: list[dict[str, Any]], markdown: bool) -> None:
    """The robustness table, when the results file has scenario columns."""
    from vrp import robustness

    if not robustness.has_columns(rows):
        return
    summary = robustness.summarise(rows)
    if markdown:
        sys.stdout.write("\n" + robustness.to_markdown(summary))
    else:
        _print(robustness.render_table(summary, title="robustness: " + next(
            (r["scenarios"] for r in rows if r.get("scenarios")), "")))


def _console() -> Any:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 160)


def _print(renderable: Any) -> None:
    _console().print(renderable)


def _print_table(summary: Any, title: str) -> None:
    from vrp import report

    console = _console()
    cols = report.SUMMARY_COLUMNS if console.width >= 150 else report.COMPACT_COLUMNS
    console.print(report.render_table(summary, title=title, columns=cols))


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``vrp report`` options to ``parser``."""
    parser.epilog = REPORT_EXAMPLE
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("results", help="a results CSV written by vrp bench")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table instead of the rich one")
    parser.add_argument("--csv", metavar="FILE", default=None, help="also write the summary as CSV ('-': stdout)")
    parser.add_argument("--plots", metavar="DIR", default=None,
                        help="folder for the PNG plots (default: RESULTS-plots beside the results file)")
    parser.add_argument("--no-plots", action="store_true", help="write no plots")
    parser.add_argument("--headline", action="store_true",
                        help="one line per solver, one column per instance group: mean gap / mean time")


def run_report(args: argparse.Namespace) -> int:
    """Handler of ``vrp report``: table (rich/markdown/CSV) and PNG plots."""
    from pathlib import Path

    from vrp import report
    from vrp.bench import BenchError

    try:
        rows = report.load(args.results)
        if not rows:
            raise BenchError(f"{args.results}: no rows yet")
        summary = report.summarise(rows)
        if args.headline:
            if args.markdown:
                sys.stdout.write(report.headline_markdown(rows))
            else:
                _print(report.headline_table(rows, title=str(args.results)))
        elif args.markdown:
            sys.stdout.write(report.to_markdown(summary))
        elif args.csv != "-":
            _print_table(summary, str(args.results))
        if not args.headline and args.csv != "-":
            _print_robustness(rows, markdown=args.markdown)
        if args.csv:
            text = report.to_csv(summary)
            if args.csv == "-":
                sys.stdout.write(text)
            else:
                Path(args.csv).write_text(text)
        if not args.no_plots:
            from envs.specs import load as load_instance

            res = Path(args.results)
            outdir = Path(args.plots) if args.plots else res.with_name(res.stem + "-plots")
            written = report.plot_all(rows, outdir, loader=load_instance)
            print("plots: " + ", ".join(str(p) for p in written), file=sys.stderr)
    except (BenchError, OSError) as exc:
        print(f"vrp report: error: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m vrp.bench_cli bench|report ...`` (the same handlers as ``vrp bench``/``vrp report``)."""
    parser = argparse.ArgumentParser(prog="vrp")
    sub = parser.add_subparsers(dest="command", required=True)
    add_bench_arguments(sub.add_parser("bench", help="run or resume a benchmark sweep"))
    add_report_arguments(sub.add_parser("report", help="tables and plots from a results file"))
    args = parser.parse_args(argv)
    return run_bench(args) if args.command == "bench" else run_report(args)


if __name__ == "__main__":
    sys.exit(main())
