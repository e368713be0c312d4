"""THE plan run: read -> (input edits) -> validate -> build -> (model edits) -> solve -> extract -> write.

Every command that plans goes through here; commands differ only by the edits they hand it:
- an *input edit* changes the raw tables before validation (a scenario's overrides, a sampled draw), so
  every edited value is validated like any input: ``apply(raw, issues) -> list[str]`` (what it changed);
- a *model edit* changes the built model before the solve (frozen decisions of a previous plan, a
  stability term, the shared first stage of a hedged plan): ``apply(model, sets, data, issues)``, and
  optionally ``explain(diagnosis, data)`` when the edited plan is infeasible;
- an *input check* reads the validated tables and adds warnings without changing them (a plain run's check of
  the Scenarios rows it does not apply): ``check_valid(raw, issues)``.
Sequencers (compare, sweep, the hedged plan, bench) call `prepare` and `plan_prepared` many times, or
`run_plan` once; phase times go to the Timer, and `hooks` see the model, the result and the tables
(bench measures through them, never by patching).
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from models.build import build_model
from models.data import PlanData
from models.registry import describe
from models.solve import SolveOptions, SolveResult, remaining_time, solve, solver_version, time_budget
from planner import __version__
from planner.diagnose.diagnosis import Diagnosis, diagnose, name_scenario_cells, presolve_checks
from planner.exitcodes import EXIT_INFEASIBLE, EXIT_INVALID, EXIT_OK, EXIT_OTHER
from planner.input.reader import RawWorkbook, read_workbook
from planner.input.validate import add_edited_value_errors, validate_raw
from planner.issues import Issues
from planner.output.contract import Col, is_planned
from planner.output.extract import SolutionTables, extract
from planner.output.plan_writer import write_plan
from planner.output.xlsx import check_target

log = logging.getLogger("planner")
START_VARIABLES = ("Y", "W", "HB", "E", "A")  # the decisions one plan hands the next as a MIP start


class InputEdit(Protocol):
    def apply(self, raw: RawWorkbook, issues: Issues) -> list[str]: ...


class ModelEdit(Protocol):
    def apply(self, model, sets, data: PlanData, issues: Issues) -> None: ...


class InputCheck(Protocol):
    def check_valid(self, raw: RawWorkbook, issues: Issues) -> None: ...


@dataclass
class RunOptions:
    time_limit_s: float | None = None  # None: Settings.time_limit_s
    mip_rel_gap: float | None = None
    threads: int | None = None
    algorithm: str = "auto"
    input_edits: list = field(default_factory=list)  # InputEdit, applied in order before validation
    model_edits: list = field(default_factory=list)  # ModelEdit, applied in order after the build
    input_checks: list = field(default_factory=list)  # InputCheck, run on a valid workbook after validation
    always_diagnose: bool = False  # `planner diagnose`: a Diagnosis sheet even when the plan is feasible
    keep_decisions: bool = False  # Planned.decisions: the plan's decisions, a start for the next scenario
    weigh_start: bool = False  # compare: a given start (the base plan) competes with the lumpy-first plan

    def solve_options(self, data: PlanData) -> SolveOptions:
        s = data.settings
        return SolveOptions(
            time_limit_s=s.time_limit_s if self.time_limit_s is None else self.time_limit_s,
            mip_rel_gap=s.mip_rel_gap if self.mip_rel_gap is None else self.mip_rel_gap,
            threads=s.threads if self.threads is None else self.threads,
            algorithm=self.algorithm, weigh_start=self.weigh_start)


class Hooks:
    """Observers of one run (bench, tests). Every method is optional; the default does nothing."""

    def phase_done(self, name: str, seconds: float) -> None: ...

    def built(self, model, sets, data: PlanData) -> None: ...

    def solved(self, result: SolveResult) -> None: ...

    def extracted(self, solution: SolutionTables) -> None: ...


@dataclass
class Timer:
    phases: dict[str, float] = field(default_factory=dict)
    hooks: Hooks = field(default_factory=Hooks)
    quiet: bool = False  # time the phases without a progress line (a sequencer's inner runs)
    label: str = ""  # before each progress line: whose phase it is ("scenario hbm_cut: ") when several runs share it

    def phase(self, name: str):
        timer = self

        class _Phase:
            def __enter__(self):
                self.t0 = time.perf_counter()
                if not timer.quiet:
                    log.info("%s%-9s ...", timer.label, name)
                return self

            def __exit__(self, *exc):
                timer.phases[name] = timer.phases.get(name, 0.0) + time.perf_counter() - self.t0
                if not timer.quiet:
                    log.info("%s%-9s done in %.2f s", timer.label, name, timer.phases[name])
                timer.hooks.phase_done(name, timer.phases[name])
                return False

        return _Phase()


@dataclass
class Prepared:
    """The validated input of one plan (data is None when it is invalid) and what the input edits changed."""
    data: PlanData | None
    issues: Issues
    applied: list[str] = field(default_factory=list)
    edited: dict[str, str] = field(default_factory=dict)  # input cell -> the scenario row that set its value

    @property
    def valid(self) -> bool:
        return self.data is not None


@dataclass
class Planned:
    """One solved plan: the solver's result and, when it has a plan, its tables; else its diagnosis."""
    data: PlanData
    result: SolveResult
    solution: SolutionTables | None = None
    diagnosis: Diagnosis | None = None
    seconds: float = 0.0
    summary_rows: list = field(default_factory=list)  # Summary rows the model edits add (the stability term)
    decisions: dict | None = None  # {(variable, index): value} of START_VARIABLES when options.keep_decisions
    numerics: dict | None = None  # numerics_in_words of the result, said before the model is collected

    @property
    def status(self) -> str:
        return self.result.status

    @property
    def planned(self) -> bool:
        return is_planned(self.result.status)


@dataclass
class PlanOutcome:
    exit_code: int
    status: str
    message: str
    output: Path | None = None
    issues: Issues | None = None
    objective_usd: float | None = None
    phases: dict[str, float] = field(default_factory=dict)
    diagnosis_lines: list[str] = field(default_factory=list)  # the Diagnosis headline when there is no plan
    base_issues: Issues | None = None  # invalid only through its input edits: the valid base workbook's issues


def read(input_path: str | Path, timer: Timer | None = None) -> tuple[RawWorkbook | None, Issues]:
    timer = timer or Timer()
    with timer.phase("read"):
        return read_workbook(Path(input_path))


def prepare(raw: RawWorkbook | None, issues: Issues, input_edits=(), timer: Timer | None = None,
            copy_raw: bool = True, input_checks=()) -> Prepared:
    """Apply the input edits (to a copy of `raw` unless copy_raw is False), validate, then run the input checks
    on a valid result.

    Validation runs even when reading found faulty cells, so every error of the workbook is reported at once;
    it is skipped when an edit failed (its errors are located at the edit's own cells)."""
    timer = timer or Timer()
    issues = Issues(list(issues.items))
    if raw is None:
        return Prepared(None, issues)
    mine = copy.deepcopy(raw) if (copy_raw and input_edits) else raw
    applied: list[str] = []
    errors_before = len(issues.errors)
    for edit in input_edits:
        applied += edit.apply(mine, issues)
    if len(issues.errors) > errors_before:
        add_edited_value_errors(mine, issues)
        return Prepared(None, issues, applied)
    with timer.phase("validate"):
        data, issues = validate_raw(mine, issues)
        for check in input_checks if data is not None else ():
            check.check_valid(mine, issues)
    return Prepared(data, issues, applied, dict(mine.edited))


def plan_prepared(prepared: Prepared, options: RunOptions, timer: Timer | None = None, warm=None,
                  diagnose_failures: bool = True, start: dict | None = None, solver=None) -> Planned | None:
    """Build, edit, solve and extract a valid prepared input. None when a model edit reported an error.

    `warm`: the SolveResult of a plan of the same shape (an LP starts from its basis); `start`: another plan's
    decisions ({(variable, index): value}, `Planned.decisions`) handed to a MIP as its first incumbent;
    `solver`: a callable like models.solve.solve (model, options, warm=, start=) -> SolveResult, e.g. a sweep's
    models.resolve.ResolveSession.solve (default: a model edit's own solve, else models.solve.solve)."""
    timer = timer or Timer()
    t0 = time.perf_counter()
    data, issues = prepared.data, prepared.issues
    solve_options = options.solve_options(data)
    with timer.phase("build"):
        model, sets = build_model(data)
    for edit in options.model_edits:
        edit.apply(model, sets, data, issues)
    if not issues.ok:
        return None
    timer.hooks.built(model, sets, data)
    first, own = mip_start(model, start), solve
    for edit in options.model_edits:  # an edit may hand the solver a start (a previous plan) or solve its own way
        first += getattr(edit, "start", [])
        own = getattr(edit, "solve", own)
    solver = solver or own
    solve_started = time.perf_counter()  # one time limit for the solve, its duals and the diagnosis re-solves
    with timer.phase("solve"):
        result = solver(model, solve_options, warm=warm, start=first)
    timer.phases.update(handoff=result.handoff_seconds, solver=result.solve_seconds, duals=result.dual_seconds)
    timer.hooks.solved(result)
    planned = Planned(data, result, numerics=numerics_in_words(result.numerics, data))
    if result.has_solution:
        planned.summary_rows = [row for edit in options.model_edits if hasattr(edit, "summary_rows")
                                for row in edit.summary_rows(model)]
        if options.keep_decisions:
            planned.decisions = {(n, i): float(v.value or 0.0) for n in START_VARIABLES
                                 for i, v in getattr(model, n).items()}
    with timer.phase("extract"):
        if result.has_solution:
            planned.solution = extract(model, sets, data, result)
            for edit in options.model_edits:  # what an edit did to the plan, in its own words (a freeze)
                if hasattr(edit, "explain_solution"):
                    edit.explain_solution(planned.solution, data)
            timer.hooks.extracted(planned.solution)
            if options.always_diagnose:
                planned.diagnosis = feasible_diagnosis(result.status, data, sets)
        elif diagnose_failures:
            with time_budget(remaining_time(solve_options.time_limit_s, solve_started)):
                pinned = {k: v for edit in options.model_edits for k, v in getattr(edit, "pinned", {}).items()}
                planned.diagnosis = diagnose(model, sets, data, result, solve_options, pinned)
            for edit in options.model_edits:
                if hasattr(edit, "explain"):
                    edit.explain(planned.diagnosis, data)
            name_scenario_cells(planned.diagnosis, prepared.edited)
    planned.seconds = time.perf_counter() - t0
    return planned


def mip_start(model, decisions: dict | None) -> list:
    """(VarData, value) pairs of `decisions` ({(variable, index): value}) on the indices this model has."""
    if not decisions:
        return []
    return [(getattr(model, n)[i], x) for (n, i), x in decisions.items() if i in getattr(model, n)]


def feasible_diagnosis(status: str, data: PlanData, sets) -> Diagnosis:
    """`planner diagnose` on a plan that has one: nothing conflicts; the pre-solve checks still speak."""
    diagnosis = Diagnosis(status, [f"The plan is {status}: every hard limit holds; nothing conflicts."],
                          checks=presolve_checks(data, sets))
    if len(diagnosis.checks):
        diagnosis.summary.append("Pre-solve checks worth a look: " + "; ".join(
            diagnosis.checks[Col.message].tolist()[:5]))
    return diagnosis


def exit_code_of(status: str) -> int:
    return {"optimal": EXIT_OK, "feasible": EXIT_OK, "infeasible": EXIT_INFEASIBLE,
            "unbounded": EXIT_INFEASIBLE}.get(status, EXIT_OTHER)


def run_plan(input_path: str | Path, output_path: str | Path, options: RunOptions | None = None,
             write_options=None, hooks: Hooks | None = None) -> PlanOutcome:
    """Plan `input_path` and write the plan workbook to `output_path`. Returns the outcome with its exit code."""
    options = options or RunOptions()
    input_path, output_path = Path(input_path), Path(output_path)
    check_target(output_path, input_path)
    timer = Timer(hooks=hooks or Hooks())
    raw, issues = read(input_path, timer)
    base = prepare(raw, issues, (), timer) if options.input_edits else None  # the workbook as `validate` sees it
    if base is not None and not base.valid:
        return PlanOutcome(EXIT_INVALID, "invalid", f"{len(base.issues.errors)} error(s) in the input workbook",
                           issues=base.issues, phases=timer.phases)
    prepared = prepare(raw, issues, options.input_edits, timer, copy_raw=False, input_checks=options.input_checks)
    if not prepared.valid:
        return PlanOutcome(EXIT_INVALID, "invalid", f"{len(prepared.issues.errors)} error(s) in the input workbook",
                           issues=prepared.issues, phases=timer.phases,
                           base_issues=base.issues if base is not None else None)
    planned = plan_prepared(prepared, options, timer)
    if planned is None:
        failed = [getattr(e, "failure_message", "") for e in options.model_edits]
        return PlanOutcome(EXIT_INVALID, "invalid", "; ".join(m for m in failed if m) or "a model edit failed",
                           issues=prepared.issues, phases=timer.phases)
    meta = run_metadata(planned.data, planned.result, options, input_path, prepared.applied, planned.numerics)
    meta["extra_summary"] = planned.summary_rows
    with timer.phase("write"):
        written, note = write_plan(output_path, planned.data, planned.result, planned.solution, planned.diagnosis,
                                   meta, timer.phases, prepared.issues, input_path, write_options)
    if note:
        log.warning(note)
    solution = planned.solution
    lines = list(planned.diagnosis.summary) if planned.diagnosis is not None and solution is None else []
    return PlanOutcome(exit_code_of(planned.status), planned.status, planned.result.message, written,
                       prepared.issues, solution.objective_usd if solution else None, timer.phases, lines)


def numerics_in_words(numerics: dict, data: PlanData) -> dict[str, tuple[float, str]]:
    """Coefficient ranges with the model row/column and the input cell behind each (model units: objective $k,
    capex $M, M tok/s). Said while the model lives (plan_prepared): a row keeps only a weak reference to its
    constraint, so once the model is collected neither is known (then the range alone)."""
    out = {}
    for key, (value, con, var) in numerics.items():
        parts = []
        family = con.parent_component() if con is not None else None
        if family is not None:
            meaning = describe(family.name, con.index(), data)
            parts.append(f"row {con.name}" + (f" ({meaning.cell})" if meaning.cell else ""))
        if var is not None and var.parent_component() is not None:
            parts.append(f"column {var.name}")
        out[key] = (value, ", ".join(parts))
    return out


def run_metadata(data: PlanData, result: SolveResult, options: RunOptions, input_path: Path,
                 applied: list[str], numerics: dict | None = None) -> dict[str, object]:
    """What the plan workbook says about how it was made; model edits add their own keys (e.g. `frozen`).
    `numerics`: numerics_in_words of the result, said while its model lived (Planned.numerics)."""
    meta: dict[str, object] = {
        "input_file": input_path.name,
        "input_sha256": data.sha256,
        "planner_version": __version__,
        "solver": result.solver or solver_version(),
        "solved_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "options": asdict(options.solve_options(data)),
        Col.scenario: "base", "overrides": applied, "frozen": [],
        "numerics": numerics if numerics is not None else numerics_in_words(result.numerics, data),
    }
    for edit in [*options.input_edits, *options.model_edits]:
        meta.update(getattr(edit, "meta", {}) or {})
    return meta
