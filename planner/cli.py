"""Every command: arguments, printing and exit codes. Nothing imports this module but planner/__main__.py.

The modules a command needs are imported inside its function: `planner validate` and `planner template`
then start without Pyomo, HiGHS or Dask (start-up is most of their run time)."""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import re
import shlex
import sys
import threading
from pathlib import Path

from models.money import money
from planner import __version__
from planner.issues import Issues
from planner.exitcodes import EXIT_INFEASIBLE, EXIT_INVALID, EXIT_OK, EXIT_OTHER
from planner.output.contract import Col

log = logging.getLogger("planner")


def _print_issues(issues: Issues, stream=None) -> None:
    stream = stream or sys.stderr
    for issue in issues:
        print(str(issue), file=stream)
    if issues.errors:
        print(f"{len(issues.errors)} error(s), {len(issues.warnings)} warning(s)", file=stream)


def _print_warnings(warnings: list, shown: int = 5, where: str = "see the plan's Warnings sheet") -> None:
    """Warnings on the terminal: the first `shown`, then how many there are and `where` they all are."""
    for issue in warnings[:shown]:
        print(str(issue), file=sys.stderr)
    more = f" ({len(warnings) - shown} more)" if len(warnings) > shown else ""
    print(f"{len(warnings)} warning(s){more}; {where}", file=sys.stderr)


def default_output(input_path: Path, suffix: str = "plan") -> Path:
    return input_path.with_name(f"{input_path.stem}.{suffix}.xlsx")


def cmd_validate(args) -> int:
    import copy

    from planner.input.reader import read_workbook
    from planner.input.validate import validate_raw

    raw, issues = read_workbook(args.input)  # read once: the scenarios are checked on a copy of the same tables
    scenarios_raw = copy.deepcopy(raw) if raw is not None and {"Scenarios", "Uncertainty"} & set(raw.sheets) else None
    data, issues = validate_raw(raw, issues) if raw is not None else (None, issues)
    _print_issues(issues, sys.stdout)
    # the Scenarios and Uncertainty rows are checked whatever the base's errors: every error at once
    base_errors = None if data is not None else issues
    bad_sheets = _sheet_problems(scenarios_raw, base_errors) if scenarios_raw is not None else 0
    bad_scenarios, scenario_warnings = _validate_scenarios(args.input, scenarios_raw, base_errors, base_warnings=issues)
    if data is None or bad_sheets or bad_scenarios:
        if data is not None:  # the base is valid: say what is not (its errors were printed under each name)
            print(f"INVALID: {args.input}: the base workbook is valid, but " + ", ".join(
                part for part in (f"{bad_scenarios} scenario(s)" if bad_scenarios else "",
                                  f"{bad_sheets} Scenarios/Uncertainty problem(s)" if bad_sheets else "") if part)
                  + " cannot be applied (listed above)")
        return EXIT_INVALID
    print(f"OK: {args.input} is a valid input workbook ({data.T} quarters {data.quarters[0]}..{data.quarters[-1]}, "
          f"{len(data.products)} products, {len(data.sites)} sites, {len(issues.warnings)} warning(s)"
          + (f", and {scenario_warnings} in its scenarios)" if scenario_warnings else ")"))
    return EXIT_OK


def _knock_ons_dropped(issues: Issues, base_errors: Issues | None) -> Issues:
    """`issues` without the errors that only repeat a base error: one naming a cell the base has an error at,
    or a sheet the base reports missing (the base's error is the one to fix)."""
    if base_errors is None:
        return issues
    cells = [re.escape(i.cell) for i in base_errors.errors if "!" in i.cell]
    named_cell = re.compile(rf"(?<![A-Za-z0-9])({'|'.join(cells)})(?![0-9])") if cells else None  # D2, not D20
    missing = [i.sheet for i in base_errors.errors if i.cell in ("", i.sheet) and i.sheet]  # a whole sheet
    return Issues([i for i in issues.items if not (named_cell and named_cell.search(i.message))
                   and not any(f"sheet {m} " in i.message for m in missing)])


def _validate_scenarios(path, raw=None, base_errors: Issues | None = None, base_warnings: Issues | None = None
                        ) -> tuple[int, int]:
    """Apply each scenario of the Scenarios sheet to a copy of the workbook and validate it; print its errors,
    and the warnings it adds to the base's (`base_warnings`: the base workbook's issues). Returns how many
    scenarios have errors and how many warnings the scenarios add. `raw`: the workbook as read (None: nothing to
    check). On an invalid base (`base_errors` given) only the scenario's own rows are checked (sheet, key,
    column, operation), without knock-ons of the base's errors: validating the edited copy would repeat them."""
    import copy

    from planner.whatif.scenarios import apply_named_scenario, scenario_names
    from planner.input.validate import add_edited_value_errors, validate_raw

    if raw is None or "Scenarios" not in raw.sheets:
        return 0, 0
    failed = warned = 0
    for name in scenario_names(raw):
        issues = Issues()
        copy_ = copy.deepcopy(raw)
        apply_named_scenario(copy_, name, issues)
        if base_errors is None:
            validate_raw(copy_, issues) if issues.ok else add_edited_value_errors(copy_, issues)
        issues = _knock_ons_dropped(issues, base_errors)
        if issues.errors:
            failed += 1
            _print_scenario_errors(name, issues, Issues(), sys.stdout)
        elif base_warnings is not None:
            warned += _print_scenario_warnings(name, issues, base_warnings)
    return failed, warned


def _print_scenario_warnings(name: str, issues: Issues, base: Issues) -> int:
    """The warnings scenario `name` adds to the base workbook's, under its name (they do not fail validate); how
    many."""
    own = _added(issues.warnings, base.warnings)
    if own:
        _print_under(name, own, "warning", sys.stdout)
    return len(own)


def _print_scenario_errors(name: str, issues: Issues, base: Issues, stream=None) -> None:
    """The errors scenario `name` introduces into the valid base workbook (whose issues are `base`), under its name."""
    _print_under(name, _added(issues.errors, base), "error", stream or sys.stderr)


def _added(items, base) -> list:
    """The issues of `items` that `base` does not already have (compared as printed)."""
    known = {str(i) for i in base}
    return [i for i in items if str(i) not in known]


def _print_under(name: str, own: list, what: str, stream) -> None:
    print(f"scenario '{name}': {len(own)} {what}(s)", file=stream)
    for issue in own:
        print(f"  {issue}", file=stream)


def run_options(args, **more):
    from planner.pipeline import RunOptions

    return RunOptions(time_limit_s=getattr(args, "time_limit", None), mip_rel_gap=getattr(args, "mip_gap", None),
                      threads=getattr(args, "threads", None), algorithm=getattr(args, "algorithm", None) or "auto",
                      **more)


def plan_edits(args) -> dict[str, list]:
    """The input edits (a scenario), input checks (the scenarios a plain run does not apply) and model edits (a
    freeze, the stability term) the run's flags ask for, as RunOptions fields."""
    from planner.whatif.scenarios import ScenarioEdit, ScenarioRowsCheck

    input_edits, input_checks, model_edits = [], [], []
    if getattr(args, "scenario", None):
        input_edits.append(ScenarioEdit(args.scenario))
    else:  # a plain run applies no scenario: say which of them could not be applied
        input_checks.append(ScenarioRowsCheck())
    if getattr(args, "previous", None):
        from planner.cycle.stability import replan_edits

        model_edits += replan_edits(Path(args.previous), getattr(args, "freeze", 0) or 0)
    return {"input_edits": input_edits, "input_checks": input_checks, "model_edits": model_edits}


def _sheet_problems(raw, base_errors: Issues | None = None) -> int:
    """Rows of the Scenarios sheet no scenario uses (blank name, 'base') and a faulty Uncertainty sheet (what
    `planner sweep` would refuse), printed with their cells, knock-ons of `base_errors` left out; returns how many
    sheets have errors."""
    from planner.whatif.scenarios import read_scenarios
    from planner.whatif.uncertainty import read_uncertainty

    failed = 0
    for name, check in (("Scenarios", read_scenarios), ("Uncertainty", read_uncertainty)):
        if name not in raw.sheets:
            continue
        problems = Issues()
        check(raw, problems)
        problems = _knock_ons_dropped(problems, base_errors)
        if problems.errors:
            failed += 1
            print(f"sheet {name}:")
            _print_issues(Issues(problems.errors), sys.stdout)
    return failed


def cmd_run(args, diagnose_only: bool = False) -> int:
    from planner.pipeline import run_plan

    input_path = Path(args.input)
    output = Path(args.output) if args.output else default_output(input_path,
                                                                    "diagnosis" if diagnose_only else "plan")
    options = run_options(args, **plan_edits(args), always_diagnose=diagnose_only)
    outcome = run_plan(input_path, output, options)
    if outcome.issues is not None and outcome.status == "invalid" and outcome.base_issues is not None:
        _print_issues(Issues(outcome.base_issues.warnings))  # the base is valid: the scenario broke it
        _print_scenario_errors(args.scenario, outcome.issues, outcome.base_issues)
        return outcome.exit_code
    if outcome.issues is not None and outcome.status == "invalid":
        _print_issues(outcome.issues)
        return outcome.exit_code
    if outcome.issues is not None and outcome.issues.warnings:
        _print_warnings(outcome.issues.warnings)
    objective = f", objective {money(outcome.objective_usd)}" if outcome.objective_usd is not None else ""
    print(f"{outcome.status.upper()}: {outcome.message}{objective}")
    for line in outcome.diagnosis_lines[:4]:  # what is wrong and the least change that fixes it, in words
        print(f"  {_shortened(line)}")
    if outcome.output:
        more = " (its Diagnosis sheet says what to change)" if outcome.diagnosis_lines else ""
        print(f"wrote {outcome.output}{more}")
    return outcome.exit_code


MORE_AT_END = re.compile(r"(; )?\(?and (\d+) more,? \(?see [^)]*\)$")


def _shortened(line: str, most: int = 300) -> str:
    """A terminal line of at most `most` characters, cut at a '; ' (the workbook has the full text)."""
    if len(line) <= most:
        return line
    cut = line.rfind("; ", 0, most)
    head = line[:cut if cut > 0 else most]
    rest = line[len(head):]
    listed_more = MORE_AT_END.search(rest)  # the line's own "; and 21 more (see ...)" counts 21, not 1
    hidden = rest.count("; ")
    if listed_more:  # "; and 21 more (see ...)" is no item itself; "x (and 6 more, see ...)" follows one
        hidden += int(listed_more.group(2)) - (1 if listed_more.group(1) else 0)
    return f"{head}; ... ({hidden} more in the Diagnosis sheet)"


def cmd_hedged(args) -> int:
    """planner run --stochastic [--engine ef|ph]: the hedged plan (planner/whatif/hedged.py, hedged_ph.py)."""
    from planner.signals import interrupted
    from planner.whatif.hedged import HedgedOptions, headline, plan_hedged

    input_path = Path(args.input)
    output = Path(args.output) if args.output else default_output(input_path, "plan")
    options = HedgedOptions(run=run_options(args), draws=args.draws, seed=args.seed or 0, engine=args.engine or "ef")
    if options.engine == "ph":
        from planner.whatif.hedged_ph import PHUnavailable, comm_world, plan_ph

        if args.time_limit is not None:
            options.ph_time_limit_s = args.time_limit  # --time-limit bounds PH's iterations too
        try:
            comm = comm_world()
        except PHUnavailable as exc:  # an option this install cannot run: as a bad option, before any work
            print(f"ERROR: {exc}", file=sys.stderr)
            return EXIT_INVALID
        if comm.rank != 0:  # every rank plans; rank 0 alone prints progress and the result and writes
            logging.getLogger("planner").setLevel(logging.WARNING)
        try:
            outcome, plan = plan_ph(input_path, output, options, comm)
        except Exception as exc:  # a subproblem mpi-sppy's solver saw stopped by Ctrl-C ('Infeasibility detected')
            if interrupted():
                raise KeyboardInterrupt from exc
            raise
        if comm.rank != 0:
            return outcome.exit_code
    else:
        outcome, plan = plan_hedged(input_path, output, options)
    if outcome.status == "invalid":
        _print_issues(outcome.issues)
        return outcome.exit_code
    if outcome.issues is not None and outcome.issues.warnings:
        _print_warnings(outcome.issues.warnings)
    gap = f", PH gap {plan.summary['ph_gap']:.3%}" if plan is not None and plan.summary.get("ph_gap") is not None \
        and "PH gap" not in outcome.message else ""
    print(f"{outcome.status.upper()}: {outcome.message}" + headline(plan) + gap)
    if outcome.output:
        print(f"wrote {outcome.output}")
    sys.stdout.flush()
    return outcome.exit_code


def cmd_compare(args) -> int:
    from planner.input.reader import read_workbook
    from planner.output.xlsx import check_target
    from planner.whatif.compare import compare_plans, selected_names, write_compare

    input_path = Path(args.input)
    output = Path(args.output) if getattr(args, "output", None) else default_output(input_path, "compare")
    check_target(output, input_path)
    options = run_options(args)
    raw, read_issues = read_workbook(input_path)
    if raw is None:
        _print_issues(read_issues)
        return EXIT_INVALID
    names = selected_names(raw, getattr(args, "scenarios", None))
    plans = compare_plans(raw, read_issues, names, options)
    if plans[0].data is None:  # the base workbook is invalid: what `planner validate` prints, once
        _print_issues(plans[0].issues)
        return EXIT_INVALID
    invalid = [p for p in plans if p.data is None]
    if invalid:
        _print_issues(Issues(plans[0].issues.warnings))
        for p in invalid:
            _print_scenario_errors(p.name, p.issues, plans[0].issues)
        return EXIT_INVALID
    warnings = compare_warnings(plans)
    if warnings:
        _print_warnings(warnings, where="planner validate lists them all")
    written, note = write_compare(output, plans, input_path)
    if note:
        log.warning(note)
    for p in plans:
        objective = f", objective {money(p.solution.objective_usd)}" if p.solution else ""
        service = p.solution.kpis.get(Col.service_level) if p.solution else None
        service_text = f", service level {service:.1%}" if service is not None else ""
        hint = f" (why: planner run {shlex.quote(str(input_path))} --scenario {shlex.quote(p.name)} writes its Diagnosis)" \
            if p.status in ("infeasible", "unbounded") and p.name != Col.base else ""
        print(f"{p.name}: {p.status.upper()}{objective}{service_text}{hint}")
    print(f"wrote {written}")
    if any(p.status in ("infeasible", "unbounded") for p in plans):
        return EXIT_INFEASIBLE
    if any(not p.planned for p in plans):
        return EXIT_OTHER
    return EXIT_OK


def compare_warnings(plans) -> list[str]:
    """The base's warnings, then each scenario's own (those the base does not have) under its name: a warning
    that only one scenario's edit causes must not read as the base workbook's."""
    base = plans[0].issues.warnings
    lines = [str(i) for i in base]
    for p in plans[1:]:
        lines += [f"scenario '{p.name}': {i}" for i in _added(p.issues.warnings, base)]
    return list(dict.fromkeys(lines))  # once, in order found


def sweep_targets(output: Path) -> tuple[Path, Path]:
    """(workbook, draws file) of a sweep: OUT.xlsx and OUT.draws.parquet, or, when either is read-only or the
    workbook is open in Excel, the first free pair 'OUT (n).xlsx' / 'OUT (n).draws.parquet' (a read-only
    parquet was overwritten, and the kept workbook then named another sweep's draws)."""
    from planner.output.xlsx import is_read_only, open_in

    def parquet_of(x: Path) -> Path:
        return x.with_name(f"{x.stem}.draws.parquet")

    parquet = parquet_of(output)
    blocked = (output.exists() and (open_in(output) or is_read_only(output))) or \
        (parquet.exists() and not parquet.is_dir() and is_read_only(parquet))
    if not blocked:
        return output, parquet
    for i in range(1, 1000):
        x = output.with_name(f"{output.stem} ({i}){output.suffix}")
        if not x.exists() and not parquet_of(x).exists():
            log.warning("%s or its draws file is read-only or open; the sweep is written to %s and %s instead",
                        output, x, parquet_of(x))
            return x, parquet_of(x)
    return output, parquet


def cmd_sweep(args) -> int:
    import os
    import time

    from planner.issues import InputError
    from planner.output.contract import PLANNED_STATUSES
    from planner.output.xlsx import check_target
    from planner.output.sweep_report import quantiles, write_parquet, write_summary
    from planner.whatif.sweep import SchedulerError, run_sweep

    input_path = Path(args.input)
    output = Path(args.output) if getattr(args, "output", None) else default_output(input_path, "sweep")
    check_target(output, input_path)
    output, parquet_target = sweep_targets(output)
    if parquet_target.is_dir():  # found before hours of draws, not after them
        print(f"ERROR: the sweep's draws file {parquet_target} is a folder; choose another name with -o",
              file=sys.stderr)
        return EXIT_INVALID
    draws = int(getattr(args, "draws", 20))
    if draws < 1:
        print("ERROR: --draws must be at least 1", file=sys.stderr)
        return EXIT_INVALID
    scheduler = getattr(args, "scheduler", None)
    workers = getattr(args, "workers", 0) or 0
    t0 = time.perf_counter()
    try:
        frame = run_sweep(input_path, draws, getattr(args, "seed", 0) or 0, scheduler=scheduler, workers=workers,
                          time_limit=getattr(args, "time_limit", None), mip_gap=getattr(args, "mip_gap", None),
                          threads=getattr(args, "threads", None), algorithm=getattr(args, "algorithm", None) or "auto",
                          progress=not getattr(args, "quiet", False))
    except InputError as exc:
        _print_issues(exc.issues)
        return EXIT_INVALID
    except SchedulerError as exc:
        print(f"ERROR: {exc}. Nothing was written", file=sys.stderr)
        return EXIT_OTHER
    # the draws go to a staged file moved into place only once the workbook is written: a failed write leaves
    # neither (hostile round 5: the parquet stayed behind 'Nothing was written')
    staged = write_parquet(frame, parquet_target.with_name(f".{parquet_target.name}.staged"))
    runner = f"Dask {scheduler}" if scheduler else \
        f"{min(workers or os.cpu_count() or 1, draws)} local process(es)"
    meta = {"input_file": input_path.name, "seed": getattr(args, "seed", 0) or 0, "runner": runner,
            "parquet": parquet_target.name, Col.seconds: time.perf_counter() - t0}
    try:
        written, note = write_summary(output, frame, meta, input_path)
        parquet = parquet_target
        os.replace(staged, parquet)
    finally:
        staged.unlink(missing_ok=True)
    if note:
        log.warning(note)
    planned = frame[frame[Col.status].isin(PLANNED_STATUSES)]
    print(f"{len(planned)}/{len(frame)} draws planned")
    if len(planned):
        q = quantiles(planned[Col.service_level])
        c = quantiles(planned[Col.objective_usd])
        print(f"service level P10 {q['p10']:.1%}  P50 {q['p50']:.1%}  P90 {q['p90']:.1%}; "
              f"cost P10 {money(c['p10'])}  P50 {money(c['p50'])}  P90 {money(c['p90'])}")
    print(f"wrote {written} and {parquet}")
    statuses = set(frame[Col.status])
    if statuses <= set(PLANNED_STATUSES):
        return EXIT_OK
    if statuses & {"infeasible", "unbounded", "invalid"}:
        return EXIT_INFEASIBLE
    return EXIT_OTHER


def cmd_roll(args) -> int:
    from planner.cycle.roll import NOTES_SHEET, Note, RollError, roll
    from planner.input.validate import validate_workbook
    from planner.output.plan_reader import PlanReadError

    notes: list[Note] = []
    try:
        path = roll(args.plan, args.input, args.output, getattr(args, "actuals", None),
                    getattr(args, "quarters", None), notes=notes, replace=bool(getattr(args, "force", False)))
    except (RollError, PlanReadError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return EXIT_INVALID
    for n in notes:
        if n.level == "warning":
            print(f"WARNING {n.cell or n.sheet}: {n.what}: {n.source}", file=sys.stderr)
    data, issues = validate_workbook(path)
    for issue in issues:
        print(str(issue), file=sys.stderr)
    if data is None:
        print(f"ERROR: the rolled workbook {path} does not validate ({len(issues.errors)} error(s), listed above): "
              "it was written so that you can fix them there (a Scenarios row on the closed quarter, say); "
              "run planner validate on it after", file=sys.stderr)
        return EXIT_INVALID
    new_cols = sorted({n.value for n in notes if n.what == "new quarter column"})
    print(f"wrote {path}: horizon {data.quarters[0]}..{data.quarters[-1]} ({data.T} quarters), "
          f"{len(notes)} change(s) listed on its {NOTES_SHEET} sheet"
          + (f"; new quarter(s) {', '.join(map(str, new_cols))} copied from the old last quarter: review the "
             "yellow columns" if new_cols else ""))
    return EXIT_OK


def cmd_diff(args) -> int:
    from planner.cycle.diff import compare, load_checked_plan, write_diff
    from planner.output.plan_reader import PlanReadError
    from planner.output.xlsx import check_target

    try:
        check_target(Path(args.output), Path(args.new))
        old, new = load_checked_plan(args.old), load_checked_plan(args.new)
        result = compare(old, new)
        path = write_diff(result, Path(args.output), Path(args.old))
    except PlanReadError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return EXIT_INVALID
    for key, value, _note in result.summary:
        if key in ("headline", "horizon", "decisions", "limits", "limits_frozen", "inputs", "warning") or key.startswith("decision_"):
            print(value)
    print(f"wrote {path}")
    return EXIT_OK


def cmd_template(args) -> int:
    from planner.input.template import TemplateError, write_template

    try:
        path, note = write_template(Path(args.output), args.start, args.quarters, force=args.force)
    except TemplateError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return EXIT_INVALID
    print(f"wrote {path}{' (' + note + ')' if note else ''}")
    return EXIT_OK


def _written_since(count: int) -> str:
    from planner.output.xlsx import written_files

    done = written_files[count:]
    return f"{', '.join(map(str, done))} had already been written" if done else "nothing was written"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="planner", description="AI-chip capacity planner (Excel in, plan out)")
    parser.add_argument("--version", action="version", version=f"planner {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    sub = parser.add_subparsers(dest="command", required=True)

    def solve_flags(p, suffix="plan"):
        p.add_argument("input", help="input workbook (.xlsx)")
        p.add_argument("-o", "--output", help=f"output workbook (.xlsx); default INPUT.{suffix}.xlsx beside the input")
        p.add_argument("--time-limit", type=float, help="solver time limit in seconds (default Settings.time_limit_s)")
        p.add_argument("--mip-gap", type=float, help="relative MIP gap (default Settings.mip_rel_gap)")
        p.add_argument("--threads", type=int, help="solver threads (default Settings.threads; 0 = solver default)")
        p.add_argument("--algorithm", choices=("auto", "simplex", "ipm"), default="auto",
                       help="LP algorithm (auto: by size)")

    p = sub.add_parser("run", help="plan a workbook and write the plan workbook")
    solve_flags(p)
    p.add_argument("--scenario", help="apply this scenario of the Scenarios sheet to the base workbook")
    p.add_argument("--previous", help="previous plan workbook: its first --freeze quarters are kept, and the rest of "
                   "its racks, wafers and HBM move only where that saves enough (the stability term, "
                   "Settings.stability_weight)")
    p.add_argument("--freeze", type=int, default=0, help="number of leading quarters frozen to --previous")
    p.add_argument("--stochastic", action="store_true",
                   help="hedged plan: commit the first Settings.commit_quarters once for every weighted scenario")
    p.add_argument("--draws", type=int, help="--stochastic: N sampled scenarios of the Uncertainty sheet")
    p.add_argument("--seed", type=int, help="--stochastic --draws: the sampling seed (default 0, as planner sweep)")
    p.add_argument("--engine", choices=("ef", "ph"),
                   help="--stochastic: ef = extensive form on HiGHS (default); ph = progressive hedging on mpi-sppy")
    solve_flags(sub.add_parser("diagnose", help="plan a workbook and explain why it cannot be planned"), "diagnosis")
    p = sub.add_parser("compare", help="plan the base and each scenario; write a side-by-side comparison")
    solve_flags(p, "compare")
    p.add_argument("--scenarios", help="comma-separated scenario names (default: base and every scenario)")
    p = sub.add_parser("sweep", help="plan N sampled scenarios from the Uncertainty sheet")
    solve_flags(p, "sweep")
    p.add_argument("--draws", type=int, default=20, help="number of sampled draws (default 20)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0): same seed, same draws")
    p.add_argument("--workers", type=int, default=0, help="local processes (default 0: one per core)")
    p.add_argument("--scheduler", help="Dask distributed scheduler address, e.g. tcp://HOST:8786")
    p = sub.add_parser("roll", help="write next quarter's input workbook from a plan and its input")
    p.add_argument("plan", help="the plan workbook of the quarter that closed (planner run's output)")
    p.add_argument("input", help="the input workbook that plan was made from")
    p.add_argument("-o", "--output", required=True,
                   help="next quarter's input workbook (.xlsx); an existing file is refused unless --force")
    p.add_argument("--actuals", help="workbook of actual inventories / installed base to use instead of the plan")
    p.add_argument("--quarters", type=int, help="horizon length of the new workbook (default: the same)")
    p.add_argument("--force", action="store_true", help="replace NEXT.xlsx if it exists")
    p = sub.add_parser("diff", help="what changed between two plans, and why")
    p.add_argument("old", help="the earlier plan workbook (planner run's output)")
    p.add_argument("new", help="the later plan workbook, e.g. the re-plan after a roll")
    p.add_argument("-o", "--output", required=True, help="the diff workbook to write (.xlsx)")
    p = sub.add_parser("validate", help="check an input workbook; exit 0 when valid, 2 when not")
    p.add_argument("input", help="input workbook (.xlsx) and every scenario of its Scenarios sheet")
    p = sub.add_parser("template", help="write a blank input workbook")
    p.add_argument("output", help="the blank input workbook to write (.xlsx); an existing file is refused unless "
                   "--force")
    p.add_argument("--start", default="2026Q1", help="first quarter, YYYYQn (default 2026Q1)")
    p.add_argument("--quarters", type=int, default=12, help="number of quarters (default 12)")
    p.add_argument("--force", action="store_true", help="replace OUT.xlsx if it exists")
    for command in sub.choices.values():  # -q also after the command: `planner run IN.xlsx -q`
        command.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress lines")
    return parser


def _refuse_unknown_options(parser: argparse.ArgumentParser, command: str, unknown: list[str]) -> None:
    """argparse reports an unknown option with the top-level usage; say it with the command's own usage and the
    option it most likely means (`--time-limt` -> `--time-limit`)."""
    import difflib

    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    known = [o for a in sub._actions for o in a.option_strings if o.startswith("--")]
    hints = [f"did you mean {near[0]}?" for u in unknown if u.startswith("-")
             for near in [difflib.get_close_matches(u.split("=", 1)[0], known, n=1, cutoff=0.7)] if near]
    sub.error(f"unrecognized arguments: {' '.join(unknown)}" + (f" ({'; '.join(hints)})" if hints else ""))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        _refuse_unknown_options(parser, args.command, unknown)  # exits 2, as argparse does
    # the planner's progress at INFO, other libraries' only from WARNING (appsi's HiGHS banner is an INFO record)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
    logging.getLogger("planner").setLevel(logging.WARNING if args.quiet else logging.INFO)
    from planner.cli_checks import argument_problems
    from planner.signals import Terminated, discard_unfinished, install_handlers, stdout_closed

    problems = argument_problems(args)
    if problems:
        for problem in problems:
            print(f"ERROR: {problem}", file=sys.stderr)
        return EXIT_INVALID
    # a hedged plan is many solves: one Ctrl-C stopping one of them would hedge against a half-planned scenario
    hedged = args.command == "run" and getattr(args, "stochastic", False)
    restore_handlers = install_handlers(keep_best=args.command in ("run", "diagnose") and not hedged)
    from planner.output.xlsx import written_files

    started = len(written_files)
    try:
        if args.command == "validate":
            return cmd_validate(args)
        if args.command == "run" and getattr(args, "stochastic", False):
            return cmd_hedged(args)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "diagnose":
            return cmd_run(args, diagnose_only=True)
        if args.command == "template":
            return cmd_template(args)
        if args.command == "compare":
            return cmd_compare(args)
        if args.command == "sweep":
            return cmd_sweep(args)
        if args.command == "roll":
            return cmd_roll(args)
        if args.command == "diff":
            return cmd_diff(args)
    except KeyboardInterrupt:
        discard_unfinished()
        print(f"interrupted; {_written_since(started)}", file=sys.stderr)
        return EXIT_OTHER
    except Terminated as exc:
        discard_unfinished()
        print(f"stopped by {exc.name}; temporary files removed, {_written_since(started)}", file=sys.stderr)
        return 128 + exc.signum
    except BrokenPipeError:  # stdout closed early (`planner validate ... | head`)
        return stdout_closed()
    except Exception as exc:  # the last line of defence: a message, never a traceback
        from planner.output.xlsx import OutputError

        if isinstance(exc, OutputError):
            print(f"ERROR: {exc}", file=sys.stderr)
            return EXIT_OTHER
        log.debug("unexpected failure", exc_info=True)
        print(f"ERROR: unexpected failure ({type(exc).__name__}: {exc}). Nothing was written to the input. "
              "Please report this with the input workbook.", file=sys.stderr)
        return EXIT_OTHER
    finally:
        restore_handlers()
    return EXIT_OTHER


def entry() -> None:
    """The `planner` command: main(), then, after a plan or a validation, an exit that skips freeing every object
    one by one (measured: 0.4 s of a 30K-variable plan's 4 s run went to freeing its Pyomo model at exit). What
    was written is closed and in place by then; the exit handlers (logging, openpyxl's temporary files) still run.
    Commands that may hold worker threads or MPI (sweep, compare, roll, PH) exit the usual way."""
    argv = sys.argv[1:]
    _usable_std_streams()
    code = main(argv)
    if not _exits_fast(argv):
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    atexit._run_exitfuncs()
    os._exit(code)


def _usable_std_streams() -> None:
    """Started with stdout or stderr closed (cron, a daemon, `>&-`), Python has sys.stdout None and descriptor 1
    free: a flush raised AttributeError and HiGHS's banner guard (os.dup(1)) OSError, so no plan was written.
    A closed descriptor is pointed at /dev/null, so what would be printed is dropped. On a terminal whose encoding
    cannot show a key ('ascii', 'latin-1'), a character it lacks is written as an escape, not an
    UnicodeEncodeError."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_WRONLY)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(fd, "w", closefd=False, errors="backslashreplace"))
        elif hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (OSError, ValueError):
                pass


def _exits_fast(argv: list[str]) -> bool:
    command = next((a for a in argv if not a.startswith("-")), "")
    return (command in ("run", "diagnose", "validate", "template") and "--stochastic" not in argv
            and "mpi4py" not in sys.modules and threading.active_count() == 1)


if __name__ == "__main__":
    entry()
