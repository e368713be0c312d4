"""Command line: planner run | validate | template | diagnose. Progress, messages and exit codes only."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from planner import __version__
from planner.issues import Issues
from planner.pipeline import EXIT_INVALID, EXIT_OK, EXIT_OTHER, RunOptions

log = logging.getLogger("planner")


def _print_issues(issues: Issues, stream=None) -> None:
    stream = stream or sys.stderr
    for issue in issues:
        print(str(issue), file=stream)
    if issues.errors:
        print(f"{len(issues.errors)} error(s), {len(issues.warnings)} warning(s)", file=stream)


def default_output(input_path: Path, suffix: str = "plan") -> Path:
    return input_path.with_name(f"{input_path.stem}.{suffix}.xlsx")


def cmd_validate(args) -> int:
    from planner.input.validate import validate_workbook

    data, issues = validate_workbook(args.input)
    _print_issues(issues, sys.stdout)
    if data is None:
        return EXIT_INVALID
    bad_scenarios = _validate_scenarios(args.input)
    if bad_scenarios:
        return EXIT_INVALID
    print(f"OK: {args.input} is a valid input workbook ({data.T} quarters {data.quarters[0]}..{data.quarters[-1]}, "
          f"{len(data.products)} products, {len(data.sites)} sites, {len(issues.warnings)} warning(s))")
    return EXIT_OK


def _validate_scenarios(path) -> int:
    """Apply each scenario of the Scenarios sheet to a copy of the workbook and validate it; print its errors."""
    import copy

    from planner.whatif.scenarios import apply_named_scenario, scenario_names
    from planner.input.validate import validate_raw
    from planner.input.reader import read_workbook

    raw, _ = read_workbook(path)
    if raw is None or "Scenarios" not in raw.sheets:
        return 0
    failed = 0
    for name in scenario_names(raw):
        issues = Issues()
        copy_ = copy.deepcopy(raw)
        apply_named_scenario(copy_, name, issues)
        if issues.ok:
            validate_raw(copy_, issues)
        if issues.errors:
            failed += 1
            print(f"scenario '{name}':")
            _print_issues(Issues(issues.errors), sys.stdout)
    return failed


def cmd_run(args, diagnose_only: bool = False) -> int:
    from planner.pipeline import run_plan

    input_path = Path(args.input)
    output = Path(args.output) if args.output else default_output(input_path,
                                                                    "diagnosis" if diagnose_only else "plan")
    options = RunOptions(time_limit_s=args.time_limit, mip_rel_gap=args.mip_gap, threads=args.threads,
                         algorithm=args.algorithm, scenario=getattr(args, "scenario", None),
                         previous_plan=Path(args.previous) if getattr(args, "previous", None) else None,
                         freeze_quarters=getattr(args, "freeze", 0) or 0, always_diagnose=diagnose_only)
    outcome = run_plan(input_path, output, options)
    if outcome.issues is not None and outcome.status == "invalid":
        _print_issues(outcome.issues)
        return outcome.exit_code
    if outcome.issues is not None and outcome.issues.warnings:
        print(f"{len(outcome.issues.warnings)} input warning(s); see the Warnings sheet", file=sys.stderr)
    objective = f", objective ${outcome.objective_usd:,.0f}" if outcome.objective_usd is not None else ""
    print(f"{outcome.status.upper()}: {outcome.message}{objective}")
    if outcome.output:
        print(f"wrote {outcome.output}")
    return outcome.exit_code


def cmd_template(args) -> int:
    from planner.input.template import write_template

    path, note = write_template(Path(args.output), args.start, args.quarters)
    print(f"wrote {path}{' (' + note + ')' if note else ''}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="planner", description="AI-chip capacity planner (Excel in, plan out)")
    parser.add_argument("--version", action="version", version=f"planner {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    sub = parser.add_subparsers(dest="command", required=True)

    def solve_flags(p):
        p.add_argument("input", help="input workbook (.xlsx)")
        p.add_argument("-o", "--output", help="output workbook (.xlsx); default INPUT.plan.xlsx beside the input")
        p.add_argument("--time-limit", type=float, help="solver time limit in seconds (default Settings.time_limit_s)")
        p.add_argument("--mip-gap", type=float, help="relative MIP gap (default Settings.mip_rel_gap)")
        p.add_argument("--threads", type=int, help="solver threads (default Settings.threads; 0 = solver default)")
        p.add_argument("--algorithm", choices=("auto", "simplex", "ipm"), default="auto",
                       help="LP algorithm (auto: by size)")

    p = sub.add_parser("run", help="plan a workbook and write the plan workbook")
    solve_flags(p)
    p.add_argument("--scenario", help="apply this scenario of the Scenarios sheet to the base workbook")
    p.add_argument("--previous", help="previous plan workbook whose first --freeze quarters are kept")
    p.add_argument("--freeze", type=int, default=0, help="number of leading quarters frozen to --previous")
    p.add_argument("--stochastic", action="store_true",
                   help="hedged plan: commit the first Settings.commit_quarters once for every weighted scenario")
    p.add_argument("--draws", type=int, help="--stochastic: N sampled scenarios of the Uncertainty sheet")
    p.add_argument("--seed", type=int, default=0, help="--stochastic --draws: the sampling seed (as planner sweep)")
    p.add_argument("--engine", choices=("ef", "ph"), default="ef",
                   help="--stochastic: ef = extensive form on HiGHS; ph = progressive hedging on mpi-sppy")
    solve_flags(sub.add_parser("diagnose", help="plan a workbook and explain why it cannot be planned"))
    p = sub.add_parser("compare", help="plan the base and each scenario; write a side-by-side comparison")
    solve_flags(p)
    p.add_argument("--scenarios", help="comma-separated scenario names (default: base and every scenario)")
    p = sub.add_parser("sweep", help="plan N sampled scenarios from the Uncertainty sheet")
    solve_flags(p)
    p.add_argument("--draws", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=0, help="local processes (0 = one per core)")
    p.add_argument("--scheduler", help="Dask distributed scheduler address, e.g. tcp://HOST:8786")
    p = sub.add_parser("roll", help="write next quarter's input workbook from a plan and its input")
    p.add_argument("plan")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--actuals", help="workbook of actual inventories / installed base to use instead of the plan")
    p.add_argument("--quarters", type=int, help="horizon length of the new workbook (default: the same)")
    p = sub.add_parser("diff", help="what changed between two plans, and why")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("-o", "--output", required=True)
    p = sub.add_parser("validate", help="check an input workbook; exit 0 when valid, 2 when not")
    p.add_argument("input")
    p = sub.add_parser("template", help="write a blank input workbook")
    p.add_argument("output")
    p.add_argument("--start", default="2026Q1", help="first quarter, YYYYQn")
    p.add_argument("--quarters", type=int, default=12, help="number of quarters")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)
    try:
        if args.command == "validate":
            return cmd_validate(args)
        if args.command == "run" and getattr(args, "stochastic", False):
            from planner.whatif.hedged import cmd_hedged

            return cmd_hedged(args)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "diagnose":
            return cmd_run(args, diagnose_only=True)
        if args.command == "template":
            return cmd_template(args)
        if args.command == "compare":
            from planner.whatif.compare import cmd_compare

            return cmd_compare(args)
        if args.command == "sweep":
            from planner.whatif.sweep import cmd_sweep

            return cmd_sweep(args)
        if args.command == "roll":
            from planner.cycle.roll import cmd_roll

            return cmd_roll(args)
        if args.command == "diff":
            from planner.cycle.diff import cmd_diff

            return cmd_diff(args)
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return EXIT_OTHER
    except Exception as exc:  # the last line of defence: a message, never a traceback
        from planner.output.xlsx import OutputError

        if isinstance(exc, OutputError):
            print(f"ERROR: {exc}", file=sys.stderr)
            return EXIT_OTHER
        log.debug("unexpected failure", exc_info=True)
        print(f"ERROR: unexpected failure ({type(exc).__name__}: {exc}). Nothing was written to the input. "
              "Please report this with the input workbook.", file=sys.stderr)
        return EXIT_OTHER
    return EXIT_OTHER


if __name__ == "__main__":
    sys.exit(main())
