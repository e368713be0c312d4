"""Orchestration of one planning job: read -> validate -> build -> solve -> extract -> write, timed per phase."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from models.build import build_model
from models.solve import SolveOptions, SolveResult, solve, solver_version

from planner import __version__
from models.data import PlanData
from planner.issues import Issues
from planner.input.validate import validate_raw
from planner.input.reader import read_workbook

log = logging.getLogger("planner")

EXIT_OK, EXIT_OTHER, EXIT_INVALID, EXIT_INFEASIBLE = 0, 1, 2, 3


@dataclass
class RunOptions:
    time_limit_s: float | None = None  # None: Settings.time_limit_s
    mip_rel_gap: float | None = None
    threads: int | None = None
    algorithm: str = "auto"
    scenario: str | None = None  # apply this Scenarios-sheet scenario to the base workbook (planner.whatif.scenarios)
    previous_plan: Path | None = None  # freeze decisions of the first `freeze_quarters` from this plan (planner.cycle.freeze)
    freeze_quarters: int = 0
    always_diagnose: bool = False  # `planner diagnose`: a Diagnosis sheet even when the plan is feasible

    def solve_options(self, data: PlanData) -> SolveOptions:
        s = data.settings
        return SolveOptions(
            time_limit_s=s.time_limit_s if self.time_limit_s is None else self.time_limit_s,
            mip_rel_gap=s.mip_rel_gap if self.mip_rel_gap is None else self.mip_rel_gap,
            threads=s.threads if self.threads is None else self.threads,
            algorithm=self.algorithm)


@dataclass
class Timer:
    phases: dict[str, float] = field(default_factory=dict)

    def phase(self, name: str):
        timer = self

        class _Phase:
            def __enter__(self):
                self.t0 = time.perf_counter()
                log.info("%-9s ...", name)
                return self

            def __exit__(self, *exc):
                timer.phases[name] = timer.phases.get(name, 0.0) + time.perf_counter() - self.t0
                log.info("%-9s done in %.2f s", name, timer.phases[name])
                return False

        return _Phase()


@dataclass
class PlanOutcome:
    exit_code: int
    status: str
    message: str
    output: Path | None = None
    issues: Issues | None = None
    objective_usd: float | None = None
    phases: dict[str, float] = field(default_factory=dict)


def run_plan(input_path: str | Path, output_path: str | Path, options: RunOptions | None = None,
             write_options=None) -> PlanOutcome:
    """Plan `input_path` and write the plan workbook to `output_path`. Returns the outcome with its exit code."""
    from planner.diagnose.diagnosis import diagnose
    from planner.output.plan_writer import write_plan
    from planner.output.extract import extract

    from planner.output.xlsx import check_target

    options = options or RunOptions()
    input_path, output_path = Path(input_path), Path(output_path)
    check_target(output_path, input_path)
    timer = Timer()
    with timer.phase("read"):
        raw, issues = read_workbook(input_path)
    data = None
    applied: list[str] = []
    scenario_ok = True
    if raw is not None and options.scenario:
        from planner.whatif.scenarios import apply_named_scenario

        errors_before = len(issues.errors)
        applied = apply_named_scenario(raw, options.scenario, issues)
        scenario_ok = len(issues.errors) == errors_before
    # validate even when reading found faulty cells, so every error of the workbook is reported at once
    if raw is not None and scenario_ok:
        with timer.phase("validate"):
            data, issues = validate_raw(raw, issues)
    if data is None:
        return PlanOutcome(EXIT_INVALID, "invalid", f"{len(issues.errors)} error(s) in the input workbook",
                           issues=issues, phases=timer.phases)
    solve_options = options.solve_options(data)
    with timer.phase("build"):
        model, sets = build_model(data)
    frozen: list = []
    if options.previous_plan is not None and options.freeze_quarters > 0:
        from planner.cycle.freeze import apply_freeze

        frozen = apply_freeze(model, sets, data, Path(options.previous_plan), options.freeze_quarters, issues)
        if not issues.ok:
            return PlanOutcome(EXIT_INVALID, "invalid", "the previous plan cannot be frozen into this one",
                               issues=issues, phases=timer.phases)
    start, stability = [], {}
    if options.previous_plan is not None:
        from planner.cycle.stability import apply_stability

        start, stability = apply_stability(model, data, Path(options.previous_plan), issues)
    with timer.phase("solve"):
        if stability.get("stability_decisions"):
            from models.stability import solve_with_stability

            result = solve_with_stability(model, solve_options, start)
        else:
            result = solve(model, solve_options, start=start)
    timer.phases["handoff"] = result.handoff_seconds
    timer.phases["solver"] = result.solve_seconds
    timer.phases["duals"] = result.dual_seconds
    solution = None
    diagnosis = None
    with timer.phase("extract"):
        if result.has_solution:
            solution = extract(model, sets, data, result)
            if options.always_diagnose:
                from planner.diagnose.diagnosis import Diagnosis, presolve_checks

                diagnosis = Diagnosis(result.status, [f"The plan is {result.status}: every hard limit holds; "
                                                      "nothing conflicts."], checks=presolve_checks(data, sets))
                if len(diagnosis.checks):
                    diagnosis.summary.append("Pre-solve checks worth a look: " + "; ".join(
                        diagnosis.checks["message"].tolist()[:5]))
        else:
            diagnosis = diagnose(model, sets, data, result, solve_options)
            if frozen:
                from planner.cycle.freeze import explain_frozen

                explain_frozen(diagnosis, data, frozen)
    meta = run_metadata(data, result, solve_options, input_path)
    meta["scenario"] = options.scenario or "base"
    meta["overrides"] = applied
    meta["frozen"] = frozen
    meta["numerics"] = numerics_in_words(result.numerics, data)
    meta["extra_summary"] = stability_rows(model, stability) if result.has_solution else []
    with timer.phase("write"):
        written, note = write_plan(output_path, data, result, solution, diagnosis, meta, timer.phases, issues,
                                   input_path, write_options)
    if note:
        log.warning(note)
    exit_code = {"optimal": EXIT_OK, "feasible": EXIT_OK, "infeasible": EXIT_INFEASIBLE,
                 "unbounded": EXIT_INFEASIBLE}.get(result.status, EXIT_OTHER)
    return PlanOutcome(exit_code, result.status, result.message, written, issues,
                       solution.objective_usd if solution else None, timer.phases)


def stability_rows(model, stability: dict) -> list[tuple[str, object, str]]:
    """Summary rows of the stability term (planner/cycle/stability.py): weight, decisions, its cost."""
    if not stability:
        return []
    import pyomo.environ as pyo
    from models.sets import USD_PER_OBJ

    return [("stability_weight", stability["stability_weight"], "Settings: share of a decision's unit cost charged "
             "per unit it moves from the previous plan"),
            ("stability_decisions", stability["stability_decisions"], "racks, wafers and HBM purchases of the "
             "quarters the previous plan covers"),
            ("stability_cost_usd", pyo.value(model.cost_stability) * USD_PER_OBJ if hasattr(model, "cost_stability")
             else 0.0, "the stability term at this plan (weight x unit cost x units moved); not in objective_usd")]


def numerics_in_words(numerics: dict, data: PlanData) -> dict[str, tuple[float, str]]:
    """Coefficient ranges with the model row/column and the input cell behind each (model units: objective $k, capex $M, M tok/s)."""
    from models.registry import describe

    out = {}
    for key, (value, con, var) in numerics.items():
        parts = []
        if con is not None:
            meaning = describe(con.parent_component().name, con.index(), data)
            parts.append(f"row {con.name}" + (f" ({meaning.cell})" if meaning.cell else ""))
        if var is not None:
            parts.append(f"column {var.name}")
        out[key] = (value, ", ".join(parts))
    return out


def run_metadata(data: PlanData, result: SolveResult, options: SolveOptions, input_path: Path) -> dict[str, object]:
    return {
        "input_file": input_path.name,
        "input_sha256": data.sha256,
        "planner_version": __version__,
        "solver": result.solver or solver_version(),
        "solved_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "options": asdict(options),
    }
