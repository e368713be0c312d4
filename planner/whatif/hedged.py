"""planner run --stochastic: the hedged (two-stage stochastic) plan of ``../shared/spec/stochastic.md``.

A sequencer over the one pipeline: per scenario an input edit (a Scenarios-sheet scenario or a sampled
Uncertainty draw applied to a copy of the raw workbook, then validated), one model per scenario from
``models.build.build_model``, and a model edit (``models.stochastic.build_extensive_form``) that joins them
with one shared first stage. The extensive form is solved by ``models.solve.solve`` like every plan.

Order of the solves (each scenario's model is solved alone before it is joined into the extensive form):
1. each scenario alone: the wait-and-see optimum (WS), and an infeasible scenario is diagnosed by name;
2. the expected-value plan (the deterministic model on the probability-weighted mean data), then each scenario
   with the EV plan's commitments fixed: EEV;
3. the extensive form: RP, the hedged plan; its per-scenario recourse is extracted from each sub-block.
``vss_usd = EEV - RP``; ``evpi_usd = RP - WS`` (risk-neutral plans only).
"""

from __future__ import annotations

import copy
import logging
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyomo.environ as pyo

from models.data import PlanData
from models.money import money
from models.sets import USD_PER_OBJ, ModelSets
from models.solve import SolveOptions, SolveResult, solve, to_standard_form
from models.registry import index_words
from models.stochastic import (ScenarioModel, absent_commitments, build_extensive_form, objective_weights, build_scenario_model, cvar,
                               extensive_standard_form, first_stage, first_stage_values, fix_first_stage,
                               keys_some_lack, risk_objective, scenario_block, seed_risk_variables, unfix)

from planner.input.reader import RawWorkbook, read_workbook
from planner import pipeline
from planner.exitcodes import EXIT_INFEASIBLE, EXIT_INVALID, EXIT_OK, EXIT_OTHER
from planner.input.validate import scenario_weights
from planner.issues import Issue, Issues
from planner.pipeline import PlanOutcome, RunOptions, Timer
from planner.whatif.expected import expected_data
from planner.whatif.scenarios import OverridesEdit, ScenarioEdit, scenario_names, warn_rows_of_no_scenario
from planner.output.contract import Col

log = logging.getLogger("planner")

@dataclass
class HedgedOptions:
    run: RunOptions = field(default_factory=RunOptions)
    draws: int | None = None  # sample this many scenarios of the Uncertainty sheet instead of named scenarios
    seed: int = 0
    engine: str = "ef"  # ef | ph
    ph_iterations: int = 50
    ph_time_limit_s: float = 120.0


@dataclass
class Scenario:
    name: str
    probability: float
    overrides: list[str] = field(default_factory=list)
    data: PlanData | None = None
    model: pyo.ConcreteModel | None = None
    sets: ModelSets | None = None
    alone: SolveResult | None = None  # planned alone: wait and see
    alone_cost: float | None = None  # $k, the cheapest plan known for it alone (alone_best), once the plan is made
    edited: dict[str, str] = field(default_factory=dict)  # input cell -> the scenario row that set its value
    eev_cost: float | None = None  # $k, recourse with the expected-value plan's commitments fixed
    eev_gap: float = 0.0  # MIP gap of that recourse solve
    cost: float | None = None  # $k, in the hedged plan
    solution: object = None  # SolutionTables of its recourse in the hedged plan
    status: str = ""


@dataclass
class HedgedPlan:
    base: PlanData
    scenarios: list[Scenario]
    engine: str
    result: SolveResult | None = None  # the extensive form's solve (PH: the last evaluation's)
    summary: dict[str, object] = field(default_factory=dict)  # stochastic.md's Summary keys, USD
    notes: dict[str, str] = field(default_factory=dict)  # a sentence per Summary key
    committed: list[tuple] = field(default_factory=list)  # (variable, index, value) of the here-and-now decisions
    phases: dict[str, float] = field(default_factory=dict)


# ---- the scenario set (input edits) --------------------------------------------------------------------

def scenario_set(raw: RawWorkbook, issues: Issues, draws: int | None, seed: int) -> list[tuple[str, float, object]]:
    """stochastic.md's scenario set: N sampled draws (as planner sweep samples them), else the ScenarioWeights
    rows, else every Scenarios-sheet scenario equally weighted (without base)."""
    if draws:
        from planner.whatif.uncertainty import read_uncertainty, sample_factors

        before = len(issues.errors)
        factors = read_uncertainty(raw, issues)
        if not factors:
            if len(issues.errors) == before:  # no factor row at all (a bad row is reported already)
                issues.error("Uncertainty", "", "", None, "--draws needs an Uncertainty sheet with factor rows "
                             "(sheet, key, column, distribution, p1, p2, p3)")
            return []
        matrix = sample_factors(factors, draws, seed)
        return [(f"draw {d}", 1.0 / draws, OverridesEdit([replace(f.override, value=float(x))
                                                          for f, x in zip(factors, matrix[d])])) for d in range(draws)]
    weights = scenario_weights(raw, issues)
    if weights is not None:
        return [(name, p, ScenarioEdit(name)) for name, p in weights.items()]  # 0 too: its constraints bind
    names = scenario_names(raw)
    if "ScenarioWeights" in raw.sheets and names:
        issues.warning("ScenarioWeights", "ScenarioWeights!A2", "scenario", None, "the ScenarioWeights sheet has no "
                       f"rows: the {len(names)} scenario(s) of the Scenarios sheet are weighted equally (base left out)")
    if not names:
        issues.error("ScenarioWeights", "", "", None, "a hedged plan needs scenarios: a ScenarioWeights sheet, "
                     "Scenarios sheet rows, or --draws N with an Uncertainty sheet")
    return [(name, 1.0 / len(names), ScenarioEdit(name)) for name in names]


def prepare(raw: RawWorkbook, name: str, probability: float, edit, base: Issues) -> tuple[Scenario, Issues]:
    """The scenario's input edit applied to a copy of `raw` and validated, through the one pipeline; its errors
    and the warnings the base workbook (`base`) does not have already, each naming the scenario."""
    prepared = pipeline.prepare(raw, Issues(), [edit], Timer(quiet=True))  # one "validate" line for them all
    sc = Scenario(name, probability, overrides=prepared.applied, data=prepared.data, edited=prepared.edited)
    known = {(w.cell, w.message) for w in base.warnings}
    named = Issues([Issue(i.severity, i.sheet, i.cell, i.column, i.value, f"scenario '{name}': {i.message}")
                    for i in prepared.issues.items if i.severity == "error" or (i.cell, i.message) not in known])
    return sc, named


def prepare_all(raw: RawWorkbook, issues: Issues, options: HedgedOptions) -> tuple[PlanData | None, list[Scenario]]:
    """The base workbook validated and every scenario of the set prepared; every error found goes to `issues` at
    once (the base's, the scenario set's, then each scenario's, naming it). No scenario is prepared on an invalid
    base: its errors would repeat the base's once per scenario."""
    prepared = pipeline.prepare(copy.deepcopy(raw), issues, timer=Timer(quiet=True))  # a copy: scenarios edit copies
    _add_new(issues, prepared.issues)
    warn_rows_of_no_scenario(raw, issues)  # the base's, once: each scenario's copy of it is then not its own
    found = Issues()
    specs = scenario_set(raw, found, options.draws, options.seed)
    _add_new(issues, found)  # the ScenarioWeights errors are the base validation's too: reported once
    base = prepared.data
    if base is None or not issues.ok:
        return None, []
    scenarios = []
    base_issues = Issues(list(issues.items))
    for name, p, edit in specs:
        sc, found_here = prepare(raw, name, p, edit, base_issues)
        issues.extend(found_here)
        scenarios.append(sc)
    _refuse_own_horizon_or_hedging(base, scenarios, issues)
    share_floor_vendors([sc.data for sc in scenarios if sc.data is not None])
    for sheet, cell, column, paid, message in committed_floors_without_owner(scenarios, base.settings.commit_quarters,
                                                                             base.quarters):
        issues.error(sheet, cell, column, paid, message)
    return base, scenarios


SHARED_SETTINGS = ("start_quarter", "quarters", "commit_quarters", "risk_weight", "risk_alpha")


def _refuse_own_horizon_or_hedging(base: PlanData, scenarios: list[Scenario], issues: Issues) -> None:
    """The scenarios of one hedged plan share its horizon and how it hedges (stochastic.md): a scenario or draw
    changing start_quarter, quarters, commit_quarters, risk_weight or risk_alpha would be averaged with plans of
    another horizon, or silently planned with the base's; refused at the row that changes it."""
    for sc in scenarios:
        if sc.data is None:
            continue
        for key in SHARED_SETTINGS:
            mine, theirs = getattr(sc.data.settings, key), getattr(base.settings, key)
            if mine == theirs:
                continue
            cell = base.cell("Settings", (key,), Col.value) or "Settings"
            by = sc.edited.get(cell, "")
            where = by.split(" ")[0] if "!" in by.split(" ")[0] else cell
            issues.error(where.split("!")[0], where, key, mine,
                         f"scenario '{sc.name}' sets {key} to {mine} (the base: {theirs}"
                         + (f", {cell}" if where != cell else "") + "): the scenarios of a hedged plan share one "
                         "horizon (start_quarter, quarters) and one commit_quarters, risk_weight and risk_alpha; set "
                         "it on the Settings sheet for all of them")


FLOOR_OWNERS = (("fab_min_wafers", "fabs", "FabMinWafers", Col.fab, Col.wafers),  # the words: fab G, 5 wafers
                ("hbm_min_stacks", "vendors", "HBMMinStacks", Col.vendor, Col.stacks))


def committed_floors_without_owner(scenarios: list[Scenario], commit_quarters: int, quarters: list[str]
                                   ) -> list[tuple[str, str, str, float, str]]:
    """A take-or-pay floor in a committed quarter on a fab or vendor another scenario lacks: what is paid there is
    one here-and-now value for every scenario (stochastic.md), but the scenario without the fab pays nothing, so
    no hedged plan exists. Said before the solve, naming both, instead of an unexplained infeasible plan; each as
    (sheet, cell of the floor, quarter column, floor, message)."""
    found = [sc for sc in scenarios if sc.data is not None]
    messages = []
    for floors, table, sheet, what, unit in FLOOR_OWNERS:
        for sc in found:
            for (owner, t), paid in sorted(getattr(sc.data, floors).items()):
                lacking = [o.name for o in found if owner not in getattr(o.data, table).index]
                if t < commit_quarters and paid > 0 and lacking:
                    cell = sc.data.cell(sheet, (owner,), quarters[t]) or sheet
                    messages.append((sheet, cell, quarters[t], paid,
                        f"scenario {sc.name} pays {sheet} {owner} {quarters[t]} = {paid:,.0f} {unit} in a committed "
                        f"quarter, but {what} {owner} is not in scenario(s) {', '.join(lacking)}: a committed payment "
                        f"is one value for every scenario; give {owner} its rows in every scenario (capacity or "
                        f"supply 0 where it does not exist) or start the floor after the committed quarter(s)"))
    return messages


def share_floor_vendors(datas: list[PlanData]) -> None:
    """A vendor with an HBM take-or-pay floor in any scenario gets one (of 0) in every scenario: its stacks paid
    (HP, which without a floor are the stacks bought) are then one here-and-now decision shared by all."""
    vendors = {v for d in datas for (v, _t) in d.hbm_min_stacks}
    for d in datas:
        # a scenario without the vendor (removed by the scenario, or only added by another) has no stacks of it
        for v in (vendors - {v for (v, _t) in d.hbm_min_stacks}) & set(d.vendors.index):
            d.hbm_min_stacks[(v, 0)] = 0.0


def _add_new(issues: Issues, more: Issues) -> None:
    seen = {str(i) for i in issues.items}
    issues.extend(Issues([i for i in more.items if str(i) not in seen]))


# ---- the solves ------------------------------------------------------------------------------------------

def _quiet(options: SolveOptions) -> SolveOptions:
    return replace(options, duals=False)


ALONE_MIN_GAP = 0.01  # the wait-and-see solves serve WS (EVPI) and infeasibility: 1% is enough, and fast
ALONE_MAX_S = 30.0  # measured on the example: two scenarios hovered at 0.50-0.51% for the whole 120 s limit


def alone_options(options: SolveOptions) -> SolveOptions:
    """The wait-and-see solves: no duals, a gap of at least ALONE_MIN_GAP, at most ALONE_MAX_S each. WS is then
    known within their gaps, which mark_solver_tolerance adds to EVPI's tolerance."""
    limit = min(options.time_limit_s, ALONE_MAX_S) if options.time_limit_s else ALONE_MAX_S
    return replace(options, duals=False, mip_rel_gap=max(options.mip_rel_gap, ALONE_MIN_GAP), time_limit_s=limit)


def solve_alone(scenarios: list[Scenario], options: SolveOptions) -> Scenario | None:
    """Build and solve each scenario alone (wait and see). Returns the first scenario with no plan, if any."""
    for sc in scenarios:
        sc.model, sc.sets = build_scenario_model(sc.data)
        sc.alone = solve(sc.model, alone_options(options))
        sc.status = sc.alone.status
        if not sc.alone.has_solution:
            return sc
    return None


def evaluate_commitment(scenarios: list[Scenario], values: dict[tuple, float], commit: int,
                        options: SolveOptions) -> list[SolveResult]:
    """Each scenario with the here-and-now decisions fixed to `values`, its recourse planned alone."""
    results = []
    for sc in scenarios:
        fixed = fix_first_stage(sc.model, values, commit)
        try:
            results.append(solve(sc.model, _quiet(options)))
        finally:
            unfix(fixed)
    return results


def expected_value_plan(scenarios: list[Scenario], commit: int, options: SolveOptions, absent: set[tuple] = frozenset()
                        ) -> tuple[dict[tuple, float] | None, list[str]]:
    """The first-stage decisions of the deterministic plan on the expected data (None when it has no plan).
    `absent`: commitments some scenario cannot take, held at 0 here as in the hedged plan (else the plan's other
    commitments, own capex say, would pay for racks no scenario may then deploy)."""
    data, notes = expected_data([sc.data for sc in scenarios], [sc.probability for sc in scenarios])
    model, _sets = build_scenario_model(data)
    fix_first_stage(model, dict.fromkeys(absent, 0.0), commit)
    result = solve(model, _quiet(options))
    if not result.has_solution:
        notes.append(f"the expected-value plan is {result.status}: {result.message}")
        return None, notes
    values = first_stage_values(model, commit)
    notes.extend(pay_every_floor(values, [sc.data for sc in scenarios], commit))
    return values, notes


# (variable, PlanData floor table, unit, how the note writes a number: wafers to a tenth, stacks whole)
PAID_FLOORS = (("WP", "fab_min_wafers", Col.wafers, ",.1f"), ("HP", "hbm_min_stacks", "HBM stacks", ",.0f"))


def pay_every_floor(values: dict[tuple, float], datas: list[PlanData], commit: int) -> list[str]:
    """Raise the committed wafers and stacks paid (WP, HP) to the highest take-or-pay floor of any scenario. A floor
    is a contract term, not a choice: paid >= floor_s in every scenario, and paid is one here-and-now value, so any
    commitment pays max_s floor_s, as the hedged plan does. The plan on the mean data pays only the mean floor,
    which alone would make EEV infinite wherever a scenario's floor is higher (what a 'VSS' would then measure is
    the mean of a contract term, not the value of hedging). Returns a note per raised value."""
    notes = []
    for name, floors, unit, fmt in PAID_FLOORS:
        for (key, t), paid in [(k[1], v) for k, v in values.items() if k[0] == name and k[1][-1] < commit]:
            highest = max(getattr(d, floors).get((key, t), 0.0) for d in datas)
            if highest > paid:
                values[(name, (key, t))] = highest
                notes.append(f"the expected-value plan pays {key}'s highest take-or-pay floor of any scenario in "
                             f"{datas[0].quarters[t]}, {highest:{fmt}} {unit} (it planned {paid:{fmt}}: the mean floor)")
    return notes


def solve_extensive_form(base: PlanData, scenarios: list[Scenario], options: SolveOptions
                         ) -> tuple[pyo.ConcreteModel, SolveResult]:
    s = base.settings
    ef = build_extensive_form([ScenarioModel(sc.name, sc.probability, sc.model) for sc in scenarios],
                              s.commit_quarters, s.risk_weight, s.risk_alpha)
    return ef, solve(ef, options)


class _ScaledDuals(dict):
    """A scenario's view of the extensive form's duals: divided by its weight (its probability, or the trace
    weight of one of probability 0: models.stochastic.objective_weights), so a shadow price reads as
    that scenario's own (exact for a risk-neutral plan; with CVaR, per unit of probability)."""

    def __init__(self, duals: dict, factor: float):
        super().__init__()
        self._duals, self._factor = duals, factor

    def get(self, key, default=None):
        y = self._duals.get(key)
        return default if y is None else y * self._factor

    def __bool__(self) -> bool:
        return bool(self._duals)


def extract_scenarios(ef: pyo.ConcreteModel, result: SolveResult, scenarios: list[Scenario]) -> None:
    from planner.output.extract import extract

    weights = objective_weights([sc.probability for sc in scenarios])
    for i, (sc, weight) in enumerate(zip(scenarios, weights)):
        scaled = replace(result, duals=_ScaledDuals(result.duals, 1.0 / weight),
                         one_more_unit={con: v / weight for con, v in result.one_more_unit.items()})
        sc.cost = float(pyo.value(ef.cost[i]))
        sc.solution = extract(scenario_block(ef, i), sc.sets, sc.data, scaled)
        sc.status = result.status


def committed_decisions(scenarios: list[Scenario], commit: int) -> list[tuple]:
    values = first_stage_values(scenarios[0].model, commit)
    return [(name, idx, x) for (name, idx), x in values.items()]


# ---- what the hedged plan reports ------------------------------------------------------------------------

def _usd(x_k: float | None) -> float | None:
    return None if x_k is None else float(x_k) * USD_PER_OBJ


def alone_best(sc: Scenario) -> float | None:
    """$k: the cheapest plan known for scenario s alone. Its own solve stops at a gap; its recourse in the hedged
    plan and in the expected-value plan are plans of s too, so WS <= RP holds whatever the gaps (EVPI >= 0)."""
    own = sc.alone.objective if sc.alone is not None and sc.alone.has_solution else None
    known = [c for c in (own, sc.cost, sc.eev_cost) if c is not None]
    return min(known) if known else None


def _alone_slack(sc: Scenario) -> float:
    """$k: how far the best plan known for s alone may lie above its optimum (down to its own solve's bound)."""
    if sc.alone is None or not sc.alone.has_solution:
        return 0.0
    bound = sc.alone.objective - (sc.alone.mip_gap or 0.0) * abs(sc.alone.objective)
    return max(0.0, alone_best(sc) - bound)


def value_of_information(plan: HedgedPlan, rp_k: float, eev: list[SolveResult] | None, ev_notes: list[str]) -> None:
    """vss_usd = EEV - RP and evpi_usd = RP - WS (stochastic.md), with a sentence each."""
    s = plan.base.settings
    probs = [sc.probability for sc in plan.scenarios]
    for sc in plan.scenarios:
        sc.alone_cost = alone_best(sc)
    ws = sum(sc.probability * sc.alone_cost for sc in plan.scenarios)
    plan.summary["wait_and_see_usd"] = _usd(ws)
    plan.notes["wait_and_see_usd"] = ("WS: sum_s p_s x the optimum of scenario s planned alone (knowing its future): "
                                      "the best plan found for s alone, by its own solve (stopped at a gap of at least "
                                      f"{ALONE_MIN_GAP:.0%} or after {ALONE_MAX_S:.0f} s) or as its recourse in the "
                                      "hedged or the expected-value plan; so each scenario's alone_cost_usd "
                                      "(Scenarios sheet) may sit up to that gap above what `planner run --scenario` "
                                      "finds")
    if eev and all(r.has_solution for r in eev):
        eev_k = risk_objective([r.objective for r in eev], probs, s.risk_weight, s.risk_alpha)
        plan.summary["eev_usd"] = _usd(eev_k)
        plan.summary["vss_usd"] = _usd(eev_k - rp_k)
        plan.notes["eev_usd"] = "EEV: the objective when the expected-value plan's commitments are fixed"
        plan.notes["vss_usd"] = (f"a plan that ignores the spread of the scenarios would cost "
                                 f"{money(plan.summary['vss_usd'])} more (EEV - RP)")
    else:
        bad = [sc.name for sc, r in zip(plan.scenarios, eev or []) if not r.has_solution]
        plan.summary["eev_usd"] = plan.summary["vss_usd"] = None
        plan.notes["vss_usd"] = ("not defined: " + "; ".join(ev_notes) if not eev else
                                 "infinite: the expected-value plan's commitments leave no plan in scenario(s) "
                                 + ", ".join(bad))
    if s.risk_weight > 0:
        plan.summary["evpi_usd"] = None
        plan.notes["evpi_usd"] = "blank: EVPI is defined for a risk-neutral plan (risk_weight = 0)"
    else:
        plan.summary["evpi_usd"] = _usd(rp_k - ws)
        plan.notes["evpi_usd"] = f"knowing the future would be worth {money(plan.summary['evpi_usd'])} (RP - WS)"
    for note in ev_notes:
        plan.notes.setdefault("expected_value_plan", note)


TOLERANCE_MARK = "within solver tolerance"
RANGE_IN_NOTE = re.compile(r"lies between (\$[\d,]+) and (\$[\d,]+)")  # hedged_ph's note of a value's range


def mark_solver_tolerance(plan: HedgedPlan) -> None:
    """VSS = EEV - RP and EVPI = RP - WS are differences of MIP objectives, each known only within its gap: say so
    when a value is smaller than the gaps are worth (RP's gap plus the probability-weighted gaps of the EEV
    recourse solves for VSS, of the wait-and-see solves for EVPI)."""
    rp = plan.summary.get(Col.objective_usd)
    if rp is None:
        return
    rp_tol = abs(rp) * (plan.summary.get("mip_gap") or 0.0)

    def weighted(cost_and_gap) -> float:
        return sum(sc.probability * abs(c) * USD_PER_OBJ * g for sc, (c, g) in zip(plan.scenarios, cost_and_gap)
                   if c is not None)

    tolerances = {"vss_usd": rp_tol + weighted((sc.eev_cost, sc.eev_gap) for sc in plan.scenarios),
                  "evpi_usd": rp_tol + sum(sc.probability * _alone_slack(sc) for sc in plan.scenarios) * USD_PER_OBJ}
    for key, tolerance in tolerances.items():
        value = plan.summary.get(key)
        if value is not None and tolerance > 0 and abs(value) < tolerance:
            plan.notes[key] = (plan.notes.get(key, "") + f"; {TOLERANCE_MARK}: the MIP gaps are worth up to "
                               f"{money(tolerance)}, so this value is not significant (lower Settings.mip_rel_gap)")


def summarize(plan: HedgedPlan, objective_k: float, engine_note: str = "") -> None:
    s = plan.base.settings
    costs = [sc.cost for sc in plan.scenarios]
    probs = [sc.probability for sc in plan.scenarios]
    plan.summary.update({
        "expected_cost_usd": _usd(sum(p * c for p, c in zip(probs, costs))),
        "cvar_cost_usd": _usd(cvar(costs, probs, s.risk_alpha)),
        Col.objective_usd: _usd(objective_k),
        "scenarios": len(plan.scenarios), "commit_quarters": s.commit_quarters, "risk_weight": s.risk_weight,
        "risk_alpha": s.risk_alpha, "engine": plan.engine})
    plan.notes.update({
        "expected_cost_usd": "sum_s p_s cost_s: the probability-weighted cost of the hedged plan (present value)",
        "cvar_cost_usd": f"CVaR at {s.risk_alpha:g}: the mean cost of the worst {1 - s.risk_alpha:.0%} of outcomes",
        Col.objective_usd: "RP: (1 - risk_weight) x expected cost + risk_weight x CVaR, minimised",
        "scenarios": "scenarios in the set", "commit_quarters": "quarters committed once for every scenario",
        "risk_weight": "0 = risk neutral", "risk_alpha": "CVaR level", "engine": engine_note or plan.engine})


def run_ef(base: PlanData, scenarios: list[Scenario], options: SolveOptions, timer: Timer) -> HedgedPlan:
    """The extensive form with VSS and EVPI (the scenarios are already solved alone)."""
    commit = base.settings.commit_quarters
    plan = HedgedPlan(base, scenarios, "ef")
    with timer.phase("ev plan"):
        absent = absent_commitments([sc.model for sc in scenarios], commit)
        ev_values, ev_notes = expected_value_plan(scenarios, commit, options, absent)
        if ev_values is not None:  # a decision some scenario cannot take is 0 in all (as in the extensive form)
            ev_values.update(dict.fromkeys(absent, 0.0))
        eev = evaluate_commitment(scenarios, ev_values, commit, options) if ev_values is not None else None
        for sc, r in zip(scenarios, eev or []):
            sc.eev_cost, sc.eev_gap = r.objective, r.mip_gap or 0.0
    with timer.phase("build"):
        # each scenario's form of its alone solve (compiled with its own objective active), not compiled again
        forms = [sc.alone.form if sc.alone is not None and sc.alone.form is not None else to_standard_form(sc.model)
                 for sc in scenarios]
        ef = build_extensive_form([ScenarioModel(sc.name, sc.probability, sc.model) for sc in scenarios], commit,
                                  base.settings.risk_weight, base.settings.risk_alpha)
        seed_risk_variables(ef)
    with timer.phase("solve"):
        assembled = time.perf_counter()
        form = extensive_standard_form(ef, forms)
        assembled = time.perf_counter() - assembled
        # after the EEV solves every scenario holds its recourse to the EV plan's one commitment: a feasible
        # extensive-form plan, so the MIP starts from it (and RP <= EEV: VSS >= 0 however early it stops)
        plan.result = solve(ef, replace(options, mip_start=eev is not None and all(r.has_solution for r in eev)),
                            form=form)
        plan.result.handoff_seconds += assembled
    timer.phases["handoff"] = plan.result.handoff_seconds
    timer.phases["solver"] = plan.result.solve_seconds
    if not plan.result.has_solution:
        for sc in scenarios:
            sc.status, sc.alone_cost = plan.result.status, alone_best(sc)  # the Scenarios sheet: each one's plan alone
        return plan
    with timer.phase("extract"):
        extract_scenarios(ef, plan.result, scenarios)
        plan.committed = committed_decisions(scenarios, commit)
    # the objective of the Settings' risk_weight (the EF solves risk_weight 1 with a trace of expected cost)
    rp = risk_objective([float(pyo.value(ef.cost[i])) for i in ef.SCENARIOS], ef._probabilities,
                        base.settings.risk_weight, base.settings.risk_alpha)
    summarize(plan, rp, "extensive form: every scenario in one model, solved by HiGHS")
    value_of_information(plan, rp, eev, ev_notes)
    plan.summary["mip_gap"] = plan.result.mip_gap
    mark_solver_tolerance(plan)
    return plan


# ---- the run ---------------------------------------------------------------------------------------------

def _invalid(issues: Issues, timer: Timer) -> PlanOutcome:
    return PlanOutcome(EXIT_INVALID, "invalid", f"{len(issues.errors)} error(s) in the input workbook or its "
                       "scenarios", issues=issues, phases=timer.phases)


def _meta(base: PlanData, result: SolveResult | None, options: RunOptions, input_path: Path) -> dict:
    return pipeline.run_metadata(base, result or SolveResult("error", ""), options, input_path, [])


def write_infeasible(output: Path, input_path: Path, sc: Scenario, run: RunOptions, issues: Issues,
                     timer: Timer, result: SolveResult | None = None, pinned: dict | None = None,
                     why: str = "", message: str = "") -> PlanOutcome:
    """A scenario with no plan makes the hedged plan infeasible: its diagnosis (of `result`, default its plan
    alone), naming it. `pinned`/`why`/`message`: the commitments held for all scenarios that it cannot be planned
    with, the Diagnosis headline and the terminal's message that say so."""
    from planner.diagnose.diagnosis import diagnose, name_scenario_cells
    from planner.output.plan_writer import write_plan

    result = result or sc.alone
    with timer.phase("diagnose"):
        diagnosis = diagnose(sc.model, sc.sets, sc.data, result, run.solve_options(sc.data), pinned)
        name_scenario_cells(diagnosis, sc.edited)
    diagnosis.summary.insert(0, why or f"The hedged plan is {result.status}: scenario '{sc.name}' cannot be "
                             "planned even on its own (whatever is committed); its conflict is below.")
    meta = _meta(sc.data, result, run, input_path)
    meta.update(scenario=sc.name, overrides=sc.overrides, numerics={})
    written, _note = write_plan(output, sc.data, result, None, diagnosis, meta, timer.phases, issues, input_path)
    code = EXIT_INFEASIBLE if result.status in ("infeasible", "unbounded") else EXIT_OTHER
    message = message or f"scenario '{sc.name}': {result.message}"
    return PlanOutcome(code, result.status, message, written, issues, phases=timer.phases)


def commitments_some_cannot_take(names: list[str], stages: list[dict]) -> dict[tuple, list[str]]:
    """Here-and-now decisions some scenarios have and others lack (`stages`: each scenario's first_stage) -> the
    scenarios that lack them: the hedged plan holds each at 0 in every scenario (absent_commitments)."""
    keys = [set(stage) for stage in stages]
    return {key: [n for n, mine in zip(names, keys) if key not in mine] for key in sorted(keys_some_lack(keys), key=str)}


def detach_from_extensive_form(sc: Scenario) -> None:
    """The scenario's model on its own again (the extensive form held it as a block, its objective deactivated):
    its rows are then named as the registry knows them (site_power, not scenario_1.site_power)."""
    parent = sc.model.parent_block()
    if parent is not None:
        parent.del_component(sc.model)
    sc.model.total_cost.activate()


@contextmanager
def held_at_zero(sc: Scenario, variables: dict[tuple, object], lacking: dict[tuple, list[str]]):
    """Scenario `sc` with `variables` (its commitments other scenarios lack, `lacking` naming those) held at 0 by
    their bounds (so a conflict set can name them, as a freeze does); yields {(variable, index): why} for the
    diagnosis, restores the bounds after."""
    saved = {k: (v.lb, v.ub) for k, v in variables.items()}
    pinned = {}
    for (name, index), var in variables.items():
        key, quarter = index_words(index, sc.data)
        what = f"{var.parent_component().doc or name} [{key}{' ' + quarter if quarter else ''}]"
        others = ", ".join(f"'{n}'" for n in lacking[(name, index)])
        pinned[(name, index)] = {Col.family: "Shared commitment", Col.source: f"scenario {others}",
                                 Col.meaning: f"{what}: held at 0 in every scenario, because scenario {others} "
                                 "cannot take it and a here-and-now decision has one value in all of them"}
        var.setlb(0.0)
        var.setub(0.0)
    try:
        yield pinned
    finally:
        for k, (lb, ub) in saved.items():
            variables[k].setlb(lb)
            variables[k].setub(ub)


def write_shared_conflict(output: Path, input_path: Path, scenarios: list[Scenario], commit: int, run: RunOptions,
                          issues: Issues, timer: Timer) -> PlanOutcome | None:
    """Every scenario has a plan alone but the extensive form has none: the first scenario that has no plan once
    the commitments other scenarios cannot take are held at 0 (a partner one scenario removes, a route or a
    qualification one scenario lacks), diagnosed like a plan with those pinned. None when no scenario is (the
    conflict then lies in commitments all scenarios can take, which one value cannot suit)."""
    stages = [first_stage(sc.model, commit) for sc in scenarios]
    lacking = commitments_some_cannot_take([sc.name for sc in scenarios], stages)
    options = alone_options(run.solve_options(scenarios[0].data))
    for sc, stage in zip(scenarios, stages):
        mine = {k: var for k, var in stage.items() if k in lacking}
        if not mine:
            continue
        detach_from_extensive_form(sc)
        with held_at_zero(sc, mine, lacking) as pinned:
            with timer.phase("alone"):
                result = solve(sc.model, options)
            if result.status not in ("infeasible", "unbounded"):
                continue
            culprits = sorted({n for k in mine for n in lacking[k]})
            message = (f"every scenario can be planned alone, but scenario '{sc.name}' cannot be planned without "
                       f"the {len(mine)} commitment(s) that scenario(s) {', '.join(repr(n) for n in culprits)} "
                       "cannot take, which are therefore 0 in every scenario (one here-and-now value for all); its "
                       "conflict is below, those commitments named as shared.")
            return write_infeasible(output, input_path, sc, run, issues, timer, result, pinned,
                                    f"The hedged plan is infeasible: {message}", message)
    return None


def plan_hedged(input_path: str | Path, output_path: str | Path, options: HedgedOptions | None = None,
                write: bool = True) -> tuple[PlanOutcome, HedgedPlan | None]:
    """The hedged plan of `input_path`, written to `output_path` (only when `write`)."""
    from planner.output.xlsx import check_target

    options = options or HedgedOptions()
    input_path, output_path = Path(input_path), Path(output_path)
    if options.engine != "ef":
        raise ValueError("plan_hedged solves the extensive form; progressive hedging is hedged_ph.plan_ph")
    check_target(output_path, input_path)
    timer = Timer()
    with timer.phase("read"):
        raw, issues = read_workbook(input_path)
    if raw is None:
        return _invalid(issues, timer), None
    with timer.phase("validate"):
        base, scenarios = prepare_all(raw, issues, options)
    if base is None or not issues.ok:
        return _invalid(issues, timer), None
    solve_options = options.run.solve_options(base)
    with timer.phase("alone"):
        bad = solve_alone(scenarios, solve_options)
    if bad is not None:
        return write_infeasible(output_path, input_path, bad, options.run, issues, timer), None
    plan = run_ef(base, scenarios, solve_options, timer)
    if plan.result is not None and plan.result.status == "infeasible":
        shared = write_shared_conflict(output_path, input_path, scenarios, base.settings.commit_quarters,
                                       options.run, issues, timer) if write else None
        if shared is not None:
            return shared, None
    plan.phases = timer.phases
    status = plan.result.status if plan.result is not None else "error"
    code = {"optimal": EXIT_OK, "feasible": EXIT_OK, "infeasible": EXIT_INFEASIBLE,
            "unbounded": EXIT_INFEASIBLE}.get(status, EXIT_OTHER)
    objective = plan.summary.get(Col.objective_usd)
    message = plan.result.message if plan.result is not None else "no result"
    if status == "infeasible":  # no scenario fails with only the commitments others lack held at 0
        message = ("every scenario can be planned alone, but no one commitment of the first "
                   f"{base.settings.commit_quarters} quarter(s) and of the partner deals suits them all: plan "
                   "pairs of scenarios (ScenarioWeights) to find the two that conflict")
        plan.result.message = message
    written = None
    if write:
        from planner.output.hedged_writer import write_hedged_plan

        with timer.phase("write"):
            meta = _meta(base, plan.result, options.run, input_path)
            written, note = write_hedged_plan(output_path, plan, meta, timer.phases, issues, input_path)
        if note:
            log.warning(note)
    return PlanOutcome(code, status, message, written, issues, objective, timer.phases), plan


def headline(plan: HedgedPlan | None) -> str:
    if plan is None or plan.summary.get(Col.objective_usd) is None:
        return ""
    s = plan.summary
    def value(key: str, name: str) -> str:
        if s.get(key) is None:
            return ""
        note = plan.notes.get(key, "")
        caveat = " (within solver tolerance: not significant)" if TOLERANCE_MARK in note else ""
        # under PH the value is known only between PH's bounds: say the range, not just the end at RP's upper bound
        spread = RANGE_IN_NOTE.search(note)
        if spread and not caveat:
            return f", {name} between {spread.group(1)} and {spread.group(2)} (PH's gap)"
        return f", {name} {money(s[key])}{caveat}"

    vss, evpi = value("vss_usd", "VSS"), value("evpi_usd", "EVPI")
    return (f", {s['scenarios']} scenarios, objective {money(s['objective_usd'])}, expected cost "
            f"{money(s['expected_cost_usd'])}{vss}{evpi}")
