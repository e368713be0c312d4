"""Hedged plans (stochastic.md): hand-worked two-stage optima, VSS and EVPI, CVaR, an infeasible scenario,
ScenarioWeights validation, and progressive hedging agreeing with the extensive form.

The economy is tests/builders.minimal_sheets over 2 quarters, commit_quarters 1: a rack = 1 wafer ($100) + $1,000
capex = $1,100 serves 1,000 tok/s in both quarters (lead 0, no discounting, continuous racks); unmet demand costs
$1 per tok/s per quarter. Demand is d_s in both quarters: lo 1,000 or hi 3,000 tok/s, probability 1/2 each (mean
2,000). Racks of quarter 1 are committed before d_s is known; in quarter 2 a rack costs $1.1 per tok/s to save $1
of penalty, so no scenario ever builds then. With x tok/s of racks committed:
    cost_s(x) = 1.1 x + 2 max(0, d_s - x)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from planner.cli import main
from planner.pipeline import RunOptions
from models.sets import USD_PER_OBJ
from planner.whatif.hedged import HedgedOptions, plan_hedged


def plan_hedged_any(src, out, options: HedgedOptions):
    if options.engine == "ph":
        from planner.whatif.hedged_ph import plan_hedged_ph  # mpi-sppy is an optional extra

        return plan_hedged_ph(src, out, options)
    return plan_hedged(src, out, options)
from tests.builders import minimal_sheets, write

HEADER = ["scenario", "sheet", "key", "column", "operation", "value"]
ROOT = Path(__file__).resolve().parents[2]


def two_scenarios(**settings) -> dict:
    s = minimal_sheets(2, **{"commit_quarters": 1, "risk_alpha": 0.5, **settings})
    s["Demand"][1] = ["NA", "w", 2000, 2000]
    s["Scenarios"] = [HEADER, ["lo", "Demand", "NA/w", "*", "scale", 0.5], ["hi", "Demand", "NA/w", "*", "scale", 1.5]]
    s["ScenarioWeights"] = [["scenario", "probability"], ["lo", 0.5], ["hi", 0.5]]
    return s


def hedged(tmp_path, sheets, **options):
    src = write(tmp_path, sheets)
    return plan_hedged_any(src, tmp_path / "hedged.xlsx", HedgedOptions(run=RunOptions(mip_rel_gap=1e-9), **options))


def committed_racks(plan) -> float:
    return sum(v for (name, _idx, v) in plan.committed if name == "Y")


def test_hedged_commitment_differs_from_the_mean_value_plan(tmp_path):
    """Risk neutral. Marginal value of committed capacity is 2 P(d > x) against its cost 1.1: up to 1,000 it saves 2
    for sure; beyond 1,000 only in hi (2 x 1/2 = 1 < 1.1). RP: x = 1,000 (one rack):
        RP = 1/2 (1,100) + 1/2 (1,100 + 2 x 2,000) = $3,100.
    The mean-value plan (d = 2,000) commits x = 2,000: lo 2,200, hi 2,200 + 2 x 1,000 = 4,200: EEV = $3,200,
    VSS = EEV - RP = $100. Alone, lo builds 1,000 ($1,100) and hi 3,000 ($3,300): WS = $2,200, EVPI = RP - WS = $900.
    CVaR_0.5 of (1,100, 5,100) is the hi cost, $5,100."""
    outcome, plan = hedged(tmp_path, two_scenarios())
    assert outcome.exit_code == 0, [str(i) for i in outcome.issues]
    s = plan.summary
    assert committed_racks(plan) == pytest.approx(1.0, rel=1e-6)
    assert s["objective_usd"] == pytest.approx(3100, rel=1e-6)
    assert s["expected_cost_usd"] == pytest.approx(3100, rel=1e-6)
    assert s["cvar_cost_usd"] == pytest.approx(5100, rel=1e-6)
    assert s["eev_usd"] == pytest.approx(3200, rel=1e-6)
    assert s["vss_usd"] == pytest.approx(100, rel=1e-6)
    assert s["wait_and_see_usd"] == pytest.approx(2200, rel=1e-6)
    assert s["evpi_usd"] == pytest.approx(900, rel=1e-6)
    wb = load_workbook(outcome.output)
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    for key in ("expected_cost_usd", "cvar_cost_usd", "objective_usd", "vss_usd", "evpi_usd", "scenarios",
                "commit_quarters", "risk_weight", "risk_alpha", "engine"):
        assert key in summary
    assert summary["engine"] == "ef" and summary["scenarios"] == 2
    rows = list(wb["Scenarios"].iter_rows(values_only=True))
    assert rows[0][:3] == ("scenario", "probability", "cost_usd")
    assert [r[0] for r in rows[1:]] == ["lo", "hi", "expected"]
    assert [r[2] for r in rows[1:3]] == [pytest.approx(1100), pytest.approx(5100)]
    assert wb["Scenarios"]._charts, "a chart of cost and service level per scenario"
    deploy = list(wb["Deployments"].iter_rows(values_only=True))
    assert deploy[0][:2] == ("scenario", "stage")
    assert {r[0] for r in deploy[1:]} == {"lo", "hi"}
    quarter = deploy[0].index("quarter")
    assert {r[1] for r in deploy[1:] if r[quarter] == "2026Q1"} == {"committed"}  # racks of the committed quarter
    serving = list(wb["Serving"].iter_rows(values_only=True))
    assert {r[1] for r in serving[1:]} == {"recourse"}  # tok/s served: per scenario, even in 2026Q1


def test_risk_weight_commits_more(tmp_path):
    """risk_weight 0.5, risk_alpha 0.5: with two equally likely scenarios CVaR_0.5 is the hi cost. For 1,000 <= x <=
    3,000: E = 3,000 + 0.1 x, CVaR = 6,000 - 0.9 x, objective = 4,500 - 0.4 x, falling: commit x = 3,000 (3 racks;
    below 1,000 it falls faster still). Both scenarios then cost $3,300: objective = expected = CVaR = $3,300.
    The mean-value plan's x = 2,000 gives (2,200, 4,200): 0.5 x 3,200 + 0.5 x 4,200 = $3,700, VSS = $400. EVPI is
    blank for a risk-averse plan."""
    outcome, plan = hedged(tmp_path, two_scenarios(risk_weight=0.5))
    assert outcome.exit_code == 0
    s = plan.summary
    assert committed_racks(plan) == pytest.approx(3.0, rel=1e-6)
    assert s["objective_usd"] == pytest.approx(3300, rel=1e-6)
    assert s["cvar_cost_usd"] == pytest.approx(3300, rel=1e-6)
    assert s["vss_usd"] == pytest.approx(400, rel=1e-6)
    assert s["evpi_usd"] is None


def test_infeasible_scenario_is_diagnosed_by_name(tmp_path, capsys):
    """Scenario 'outage' sets fab F's capacity to 0 and requires full service: no racks can ever be made, so it has
    no plan whatever is committed; the hedged plan exits 3 and its Diagnosis names the scenario."""
    s = two_scenarios()
    s["Workloads"] = [["workload", "unmet_penalty_usd_per_tps", "min_service_level"], ["w", 1, 0]]
    s["Scenarios"] += [["outage", "FabCapacity", "F", "*", "set", 0],
                       ["outage", "Workloads", "w", "min_service_level", "set", 1]]
    s["ScenarioWeights"] = [["scenario", "probability"], ["lo", 0.4], ["outage", 0.6]]
    src = write(tmp_path, s)
    out = tmp_path / "plan.xlsx"
    assert main(["-q", "run", str(src), "--stochastic", "-o", str(out)]) == 3
    assert "outage" in capsys.readouterr().out
    wb = load_workbook(out)
    text = " ".join(str(r[0]) for r in wb["Diagnosis"].iter_rows(values_only=True) if r and r[0])
    assert "scenario 'outage'" in text


@pytest.mark.parametrize("rows, cell, words", [
    ([["lo", 0.5], ["hi", 0.4]], "ScenarioWeights!B2:B3", "add up to 0.9"),
    ([["lo", -0.5], ["hi", 1.5]], "ScenarioWeights!B2", "cannot be negative"),
    ([["lo", 0.5], ["boom", 0.5]], "ScenarioWeights!A3", "unknown scenario 'boom'"),
    ([["lo", 0.5], ["lo", 0.5]], "ScenarioWeights!A3", "duplicate key"),
    ([["lo", 0.5], ["LO", 0.5]], "ScenarioWeights!A3", "scenario 'lo' is weighted twice (first at ScenarioWeights!A2)"),
    ([["base", 0.5], ["BASE", 0.5]], "ScenarioWeights!A3", "scenario 'base' is weighted twice"),
])
def test_scenario_weights_errors_are_located(tmp_path, capsys, rows, cell, words):
    s = two_scenarios()
    s["ScenarioWeights"] = [["scenario", "probability"]] + rows
    src = write(tmp_path, s)
    assert main(["-q", "run", str(src), "--stochastic", "-o", str(tmp_path / "p.xlsx")]) == 2
    err = capsys.readouterr().err
    assert cell in err and words in err
    assert main(["validate", str(src)]) == 2


def test_base_may_be_weighted_and_settings_are_checked(tmp_path, capsys):
    """base (d = 2,000) and hi (3,000), 1/2 each: committing x, cost = 1.1 x + (2,000 - x)+ x 2 x 1/2 ... the marginal
    value of capacity is 2 below 2,000 and 1 above: x = 2,000. base 2,200; hi 2,200 + 2,000 = 4,200: RP = $3,200."""
    s = two_scenarios()
    s["ScenarioWeights"] = [["scenario", "probability"], ["Base", 0.5], ["hi", 0.5]]
    outcome, plan = hedged(tmp_path, s)
    assert [sc.name for sc in plan.scenarios] == ["base", "hi"]
    assert plan.summary["objective_usd"] == pytest.approx(3200, rel=1e-6)
    s = two_scenarios(risk_weight=2, commit_quarters=3)
    src = write(tmp_path, s, "bad.xlsx")
    assert main(["validate", str(src)]) == 2
    out = capsys.readouterr().out
    assert "risk_weight must be >= 0 and <= 1" in out and "commit_quarters must be between 1 and the horizon" in out


# ---- progressive hedging ---------------------------------------------------------------------------------

def _has_mpisppy() -> bool:
    try:
        import mpisppy  # noqa: F401
    except Exception:
        return False
    return True


needs_ph = pytest.mark.skipif(not _has_mpisppy(), reason="mpi-sppy is not installed (pip install -e '.[stochastic]')")


def _mpiexec() -> str | None:
    here = Path(sys.executable).parent / "mpiexec"
    return str(here) if here.exists() else shutil.which("mpiexec")


def sampled(tmp_path) -> Path:
    """The two-scenario economy with demand scaled by uniform(0.5, 1.5) draws instead of named scenarios."""
    s = two_scenarios()
    del s["ScenarioWeights"]
    s["Uncertainty"] = [["sheet", "key", "column", "distribution", "p1", "p2", "p3"],
                        ["Demand", "NA/w", "*", "uniform", 0.5, 1.5, None]]
    return write(tmp_path, s, "sampled.xlsx")


def _ph_agrees(ph_summary: dict, ef_objective: float) -> None:
    lower, upper = ph_summary["ph_lower_bound_usd"], ph_summary["ph_upper_bound_usd"]
    assert lower <= ef_objective * (1 + 1e-6) and ef_objective <= upper * (1 + 1e-6)
    assert (upper - lower) / upper == pytest.approx(ph_summary["ph_gap"], abs=1e-9)


@needs_ph
def test_ph_agrees_with_ef_on_one_process(tmp_path):
    """The two-scenario case (EF optimum $3,100) and 20 sampled draws: PH's Lagrangian lower bound and the cost of
    the plan it writes (its upper bound) bracket the extensive form's optimum; the gap it reports is theirs."""
    _outcome, ef = hedged(tmp_path, two_scenarios())
    outcome, ph = hedged(tmp_path, two_scenarios(), engine="ph")
    assert outcome.exit_code == 0
    # a plan whose PH bounds do not meet is never called optimal
    assert outcome.status == ("optimal" if ph.summary["ph_gap"] <= 1e-6 else "feasible"), ph.summary["ph_gap"]
    _ph_agrees(ph.summary, ef.summary["objective_usd"])
    assert ph.summary["ph_upper_bound_usd"] == pytest.approx(3100, rel=1e-6)  # the optimum, found
    src = sampled(tmp_path)
    _o, ef20 = plan_hedged(src, tmp_path / "ef20.xlsx", HedgedOptions(draws=20, seed=3))
    o20, ph20 = plan_hedged_any(src, tmp_path / "ph20.xlsx", HedgedOptions(draws=20, seed=3, engine="ph"))
    assert o20.status == ("optimal" if ph20.summary["ph_gap"] <= 1e-6 else "feasible"), ph20.summary["ph_gap"]
    assert ph20.summary["scenarios"] == ef20.summary["scenarios"] == 20
    _ph_agrees(ph20.summary, ef20.summary["objective_usd"])


@needs_ph
@pytest.mark.skipif(_mpiexec() is None, reason="no mpiexec (pip install mpich)")
def test_ph_under_mpiexec_two_processes(tmp_path):
    """mpiexec -n 2 planner run --stochastic --engine ph on 20 sampled draws: rank 0 writes one workbook whose
    bounds bracket the extensive form's optimum."""
    src = sampled(tmp_path)
    _o, ef20 = plan_hedged(src, tmp_path / "ef20.xlsx", HedgedOptions(draws=20, seed=3))
    out = tmp_path / "ph2.xlsx"
    cmd = [_mpiexec(), "-n", "2", sys.executable, "-m", "planner.cli", "-q", "run", str(src), "--stochastic",
           "--draws", "20", "--seed", "3", "--engine", "ph", "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.count("wrote ") == 1
    summary = {r[0]: r[1] for r in load_workbook(out)["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["engine"] == "ph" and summary["ph_processes"] == 2
    _ph_agrees(summary, ef20.summary["objective_usd"])


def test_vss_smaller_than_the_mip_gaps_is_marked_not_significant():
    """RP $1,000,000 at a 0.5% gap ($5,000). One scenario (probability 1) planned alone at $800,000 ($800 k objective
    units) with a 1% gap ($8,000) and its EEV recourse at $1,000,000 with a 0.2% gap ($2,000). VSS tolerance
    $5,000 + $2,000 = $7,000: a VSS of $-0.4 prints as $0 and is not significant. EVPI tolerance $5,000 + $8,000 =
    $13,000: an EVPI of $20,000 is significant."""
    from types import SimpleNamespace

    from models.money import money
    from planner.whatif.hedged import HedgedPlan, mark_solver_tolerance

    alone = SimpleNamespace(objective=800.0, mip_gap=0.01, has_solution=True)
    scenario = SimpleNamespace(probability=1.0, alone=alone, eev_cost=1000.0, eev_gap=0.002, cost=None)
    plan = HedgedPlan(base=None, scenarios=[scenario], engine="ef",
                      summary={"objective_usd": 1_000_000.0, "mip_gap": 0.005, "vss_usd": -0.4, "evpi_usd": 20_000.0},
                      notes={"vss_usd": "v", "evpi_usd": "e"})
    mark_solver_tolerance(plan)
    assert money(-0.4) == "$0" and money(1234.6) == "$1,235"
    assert "not significant" in plan.notes["vss_usd"] and "$7,000" in plan.notes["vss_usd"]
    assert plan.notes["evpi_usd"] == "e"
    plan.summary["evpi_usd"], plan.notes["evpi_usd"] = 12_000.0, "e"
    mark_solver_tolerance(plan)
    assert "$13,000" in plan.notes["evpi_usd"]


def test_every_error_of_a_hedged_plan_is_reported_at_once(tmp_path, capsys):
    """A bad rack_kw cell (Products!C2 = 'ten'), an unknown scenario and probabilities adding up to 1.2: the run
    exits 2 and prints all three, each at its cell, the weights' errors once."""
    s = two_scenarios()
    s["Products"][1][2] = "ten"
    s["ScenarioWeights"] = [["scenario", "probability"], ["lo", 0.5], ["nosuch", 0.7]]
    code = main(["-q", "run", str(write(tmp_path, s)), "--stochastic", "-o", str(tmp_path / "h.xlsx")])
    out = capsys.readouterr()
    text = out.out + out.err
    assert code == 2
    assert "Products!C2" in text and "unknown scenario 'nosuch'" in text and "add up to 1.2" in text
    assert text.count("unknown scenario 'nosuch'") == 1
    assert not (tmp_path / "h.xlsx").exists()


def test_ph_claims_a_proof_only_when_its_bounds_meet():
    """Bounds 99 and 100: feasible with a 1% gap. Bounds meeting: optimal. A 'lower' bound of 120 above the plan's
    cost of 100 (MIP subproblems stopped early): no gap is claimed and the plan is not called optimal."""
    from planner.whatif.hedged_ph import ph_proof

    assert ph_proof(99.0, 100.0, {"optimal"})[:2] == ("feasible", pytest.approx(0.01))
    assert ph_proof(100.0, 100.0, {"optimal"})[:2] == ("optimal", 0.0)
    assert ph_proof(100.0, 100.0, {"optimal", "feasible"})[0] == "feasible"
    status, gap, words = ph_proof(120.0, 100.0, {"optimal"})
    assert (status, gap) == ("feasible", None) and "not valid" in words


@needs_ph
def test_ph_bounds_are_valid_for_whole_racks(tmp_path):
    """The two-scenario case with whole racks (1,000 tok/s per rack, so the LP optimum is whole too: EF $3,100):
    PH's lower bound (each scenario alone at its MIP bound: 1/2 x 1,100 + 1/2 x 3,300 = $2,200) is below the
    extensive form's optimum and its upper bound is the cost of the plan it writes."""
    _o, ef = hedged(tmp_path, two_scenarios(integer_racks=True))
    assert ef.summary["objective_usd"] == pytest.approx(3100, rel=1e-6)
    outcome, ph = hedged(tmp_path, two_scenarios(integer_racks=True), engine="ph")
    assert outcome.exit_code == 0
    assert ph.summary["ph_lower_bound_usd"] == pytest.approx(2200, rel=1e-6)
    _ph_agrees(ph.summary, ef.summary["objective_usd"])


@needs_ph
def test_ph_agrees_with_ef_on_the_shipped_example(tmp_path):
    """The example's four weighted scenarios (MIP: whole racks, blocks, deals), 60 s per solve: PH's lower bound is
    below the extensive form's plan, and the two plans' costs differ by less than their gaps together."""
    run = RunOptions(time_limit_s=60)
    _o, ef = plan_hedged(ROOT / "inputs" / "example.xlsx", tmp_path / "ef.xlsx", HedgedOptions(run=run))
    outcome, ph = plan_hedged_any(ROOT / "inputs" / "example.xlsx", tmp_path / "ph.xlsx",
                                  HedgedOptions(run=run, engine="ph", ph_time_limit_s=60))
    assert outcome.exit_code == 0 and outcome.status == "feasible"
    e, p = ef.summary["objective_usd"], ph.summary["ph_upper_bound_usd"]
    assert ph.summary["ph_lower_bound_usd"] <= e * (1 + 1e-9)
    assert abs(e - p) <= ph.summary["ph_gap"] * p + (ef.summary["mip_gap"] or 0.0) * e


def test_the_hedged_summary_holds_results_and_the_run_sheet_the_solver_details(tmp_path):
    _outcome, _plan = hedged(tmp_path, two_scenarios())
    wb = load_workbook(tmp_path / "hedged.xlsx", read_only=True)
    summary = [r[0] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)]
    run = [r[0] for r in wb["Run"].iter_rows(min_row=2, values_only=True)]
    assert "vss_usd" in summary and not any(str(k).startswith(("option_", "seconds_")) for k in summary)
    assert "option_mip_rel_gap" in run and "seconds_solve" in run
    assert {"input_sha256", "planner_version", "python"} <= set(run) and not any(" " in str(k) for k in run)


def _canonical(form) -> tuple[dict, dict, dict]:
    """A standard form as {(row, var): coefficient}, {row: (lower, upper)}, {var: (lower, upper, cost, integer)}
    keyed by the Pyomo objects (so two forms of one model compare whatever their row and column order)."""
    import numpy as np

    lp = form.lp
    start = np.asarray(lp.a_matrix_.start_)
    index, value = np.asarray(lp.a_matrix_.index_), np.asarray(lp.a_matrix_.value_)
    ints = set(form.integer_columns.tolist())
    coefficients = {}
    for j, var in enumerate(form.columns):
        for k in range(start[j], start[j + 1]):
            con, _sense = form.rows[index[k]]
            key = (id(con), id(var))
            coefficients[key] = coefficients.get(key, 0.0) + float(value[k])
    rows = {}
    for r, (con, _sense) in enumerate(form.rows):
        rows.setdefault(id(con), []).append((float(lp.row_lower_[r]), float(lp.row_upper_[r])))
    columns = {id(v): (float(lp.col_lower_[j]), float(lp.col_upper_[j]), float(lp.col_cost_[j]), j in ints)
               for j, v in enumerate(form.columns)}
    return coefficients, {k: sorted(v) for k, v in rows.items()}, columns


@pytest.mark.parametrize("risk_weight", [0.0, 0.5])
def test_the_assembled_extensive_form_is_pyomos_compile_coefficient_by_coefficient(tmp_path, risk_weight):
    """The extensive form handed to HiGHS is assembled from the scenarios' own compiled forms (issue 18): every
    coefficient, row bound, column bound, cost, integrality and the objective's constant equal Pyomo's compile of
    the extensive-form model (risk neutral and with CVaR), and both solve to the same $3,100 / $3,300."""
    from models.build import build_model
    from models.solve import SolveOptions, solve, to_standard_form
    from models.stochastic import ScenarioModel, build_extensive_form, extensive_standard_form
    from planner.input.reader import read_workbook
    from planner.whatif.hedged import prepare_all

    src = write(tmp_path, two_scenarios(risk_weight=risk_weight, integer_racks=True))
    raw, issues = read_workbook(src)
    base, scenarios = prepare_all(raw, issues, HedgedOptions())
    models = [build_model(sc.data)[0] for sc in scenarios]
    forms = [to_standard_form(m) for m in models]  # each with its own objective active, as after its alone solve
    ef = build_extensive_form([ScenarioModel(sc.name, sc.probability, m) for sc, m in zip(scenarios, models)],
                              base.settings.commit_quarters, risk_weight, base.settings.risk_alpha)
    assembled, compiled = extensive_standard_form(ef, forms), to_standard_form(ef)
    a, b = _canonical(assembled), _canonical(compiled)
    assert a[0].keys() == b[0].keys() and all(a[0][k] == pytest.approx(b[0][k], rel=1e-12) for k in b[0])
    assert a[1] == b[1] and a[2].keys() == b[2].keys()
    assert all(a[2][k] == pytest.approx(b[2][k], rel=1e-12) for k in b[2])
    assert assembled.offset == pytest.approx(compiled.offset, rel=1e-12, abs=1e-12)
    result = solve(ef, SolveOptions(mip_rel_gap=1e-9, duals=False), form=assembled)
    assert result.objective * 1e3 == pytest.approx(3100 if risk_weight == 0 else 3300, rel=1e-6)


def test_a_hedged_plan_is_refused_by_roll_diff_and_previous(tmp_path, capsys):
    """A hedged plan's tidy sheets hold one row per scenario: rolled, diffed or used as --previous it would add
    the scenarios' decisions together (a trial rolled twice the die bank). Each command refuses it, exit 2,
    saying it is a hedged plan, and writes nothing."""
    src = write(tmp_path, two_scenarios())
    plan = tmp_path / "hedged.xlsx"
    assert main(["-q", "run", str(src), "--stochastic", "-o", str(plan)]) == 0
    plain = tmp_path / "plain.xlsx"
    assert main(["-q", "run", str(src), "-o", str(plain)]) == 0
    capsys.readouterr()
    commands = {"roll": ["roll", str(plan), str(src), "-o", str(tmp_path / "next.xlsx")],
                "diff": ["diff", str(plain), str(plan), "-o", str(tmp_path / "diff.xlsx")],
                "previous": ["run", str(src), "--previous", str(plan), "-o", str(tmp_path / "again.xlsx")]}
    for name, argv in commands.items():
        assert main(["-q", *argv]) == 2, name
        printed = capsys.readouterr()
        assert "is a hedged plan" in printed.out + printed.err, name
    assert not any((tmp_path / f).exists() for f in ("next.xlsx", "diff.xlsx", "again.xlsx"))


def floor_in_one_scenario() -> dict:
    s = minimal_sheets(2, commit_quarters=1)
    s["Products"] = [["product", "chips_per_rack", "rack_kw", "rack_capex_usd", "life_quarters", "stacks_per_chip"],
                     ["L1", 10, 10, 1000, 40, 1]]
    s["HBMVendors"] = [["vendor", "price_usd_per_stack"], ["V", 10]]
    s["HBMSupply"] = [["vendor", "2026Q1", "2026Q2"], ["V", 100, 100]]
    s["HBMQualification"] = [["vendor", "product"], ["V", "L1"]]
    s["HBMMinStacks"] = [["vendor", "2026Q1", "2026Q2"], ["V", 0, 0]]
    s["Demand"] = [["region", "workload", "2026Q1", "2026Q2"], ["NA", "w", 0, 0]]
    s["Scenarios"] = [HEADER, ["hi", "HBMMinStacks", "V", "2026Q1", "set", 10]]
    s["ScenarioWeights"] = [["scenario", "probability"], ["base", 0.5], ["hi", 0.5]]
    return s


def test_a_take_or_pay_floor_of_one_scenario_is_paid_in_every_scenario(tmp_path):
    """stochastic.md: HP (HBM stacks paid) of the committed quarter is one value for all. No demand; HBM at $10 a
    stack; scenario `hi` puts a floor of 10 stacks on V in 2026Q1 (committed), base has none. The floor binds the
    shared HP: both pay 10 x $10 = $100, RP = $100; alone, base pays nothing: WS = (0 + 100) / 2 = $50."""
    s = floor_in_one_scenario()
    outcome, plan = hedged(tmp_path, s)
    assert outcome.exit_code == 0, [str(i) for i in outcome.issues]
    assert plan.summary["objective_usd"] == pytest.approx(100, rel=1e-6)
    assert plan.summary["wait_and_see_usd"] == pytest.approx(50, rel=1e-6)
    paid = [v for (name, idx, v) in plan.committed if name == "HP" and idx == ("V", 0)]
    assert paid == [pytest.approx(10, rel=1e-6)]
    # the plan on the mean data pays the mean floor, 5 stacks, which leaves hi no plan; a floor is a contract term,
    # so the expected-value commitment pays the highest floor, 10: EEV = $100 in both, VSS = 0 (not infinite)
    assert plan.summary["eev_usd"] == pytest.approx(100, rel=1e-6)
    assert plan.summary["vss_usd"] == pytest.approx(0, abs=1e-6)
    assert "10 HBM stacks (it planned 5: the mean floor)" in plan.notes["expected_value_plan"]  # stacks whole


def route_in_one_scenario() -> dict:
    s = minimal_sheets(2, commit_quarters=1)
    s["Fabs"] = [["fab", "wafer_cost_usd"], ["F", 100], ["G", 100]]
    s["FabWaferCost"] = [["fab", "2026Q1", "2026Q2"], ["G", 10, 100]]
    s["FabCapacity"] = [["fab", "2026Q1", "2026Q2"], ["F", 1000, 1000], ["G", 1000, 1000]]
    s["Demand"] = [["region", "workload", "2026Q1", "2026Q2"], ["NA", "w", 0, 1000]]
    s["Workloads"] = [["workload", "unmet_penalty_usd_per_tps"], ["w", 2]]
    s["Scenarios"] = [HEADER, ["cheap", "Routes", "L1/G", "dies_per_wafer", "add_row", 10],
                      ["cheap", "Routes", "L1/G", "yield", "add_row", 1],
                      ["cheap", "Routes", "L1/G", "lead_quarters", "add_row", 0]]
    s["ScenarioWeights"] = [["scenario", "probability"], ["base", 0.5], ["cheap", 0.5]]
    return s


def test_a_commitment_one_scenario_cannot_make_is_made_by_none(tmp_path):
    """Scenario `cheap` adds the route L1 at fab G, whose wafers cost $10 in 2026Q1 and $100 after (F's: $100).
    Demand 1,000 tok/s in 2026Q2 only, unmet at $2 per tok/s: one rack = 1 wafer + $1,000 capex. Alone, base pays $1,100; cheap starts
    its wafer at G in 2026Q1 and banks the dies: $1,010; WS = $1,055. Hedged, a G wafer in the committed 2026Q1
    is a decision base cannot take, so no scenario takes it: both pay $1,100, RP = EEV = $1,100."""
    s = route_in_one_scenario()
    outcome, plan = hedged(tmp_path, s)
    assert outcome.exit_code == 0, [str(i) for i in outcome.issues]
    assert plan.summary["wait_and_see_usd"] == pytest.approx(1055, rel=1e-6)
    assert plan.summary["objective_usd"] == pytest.approx(1100, rel=1e-6)
    assert plan.summary["eev_usd"] == pytest.approx(1100, rel=1e-6)


def test_the_expected_data_is_the_weighted_mean_of_every_cell_whatever_the_scenario_order(tmp_path):
    """stochastic.md: the expected-value plan's data is every scenario-dependent cell at its weighted mean. Cells
    kept without their zeros (take-or-pay floors, receipts) are 0 where a scenario lacks them; packaging expansion
    is averaged like every table."""
    from dataclasses import replace

    import pandas as pd

    from planner.input.validate import validate_workbook
    from planner.whatif.expected import expected_data

    sheets = minimal_sheets(2)
    sheets["HBMVendors"].append(["V", 10])
    data, _issues = validate_workbook(write(tmp_path, sheets))
    lines = pd.DataFrame({"block_chips": [10.0], "capex_usd_per_block": [100.0], "lead_quarters": [1],
                          "max_blocks": [2]}, index=pd.Index(["CoWoS"], name="packaging_line"))
    first = replace(data, fab_min_wafers={}, receipts={}, hbm_min_stacks={}, packaging_expansion=lines)
    second = replace(data, fab_min_wafers={("F", 0): 100.0}, receipts={("L1", 1): 50.0},
                     hbm_min_stacks={("V", 0): 40.0},
                     packaging_expansion=lines.assign(capex_usd_per_block=[300.0]))
    for order in ([first, second], [second, first]):
        mean, _notes = expected_data(order, [0.5, 0.5])
        assert mean.fab_min_wafers == {("F", 0): 50.0}
        assert mean.receipts == {("L1", 1): 25.0}
        assert mean.hbm_min_stacks == {("V", 0): 20.0}
        assert mean.packaging_expansion.loc["CoWoS", "capex_usd_per_block"] == 200.0
    # a floor of a fab the mean data's tables lack (one scenario added it) cannot be held by the mean plan
    mean, notes = expected_data([first, replace(second, fab_min_wafers={("G", 0): 10.0})], [0.5, 0.5])
    assert mean.fab_min_wafers == {} and any("G is not in the first scenario's fabs" in n for n in notes)


@needs_ph
@pytest.mark.parametrize("sheets, optimum, ws", [(floor_in_one_scenario, 100, None),
                                                 (route_in_one_scenario, 1100, 1055)])
def test_ph_hedges_what_every_scenario_can_commit_and_holds_the_rest_at_0(tmp_path, sheets, optimum, ws):
    """The two cases above under progressive hedging: a floor one scenario has and a route one scenario adds give
    the extensive form's hand-worked optimum ($100, $1,100), and the route case its WS: each scenario planned alone,
    cheap with its G wafer ($1,055, EVPI $45), not PH's first iteration, which held that wafer at 0 ($1,100)."""
    outcome, ph = hedged(tmp_path, sheets(), engine="ph")
    assert outcome.exit_code == 0, [str(i) for i in outcome.issues]
    assert ph.summary["ph_upper_bound_usd"] == pytest.approx(optimum, rel=1e-6)
    if ws is not None:
        assert ph.summary["wait_and_see_usd"] == pytest.approx(ws, rel=1e-6)
        assert ph.summary["evpi_usd"] == pytest.approx(optimum - ws, rel=1e-6)


def test_wait_and_see_takes_the_cheapest_plan_known_for_each_scenario_so_evpi_is_never_negative(tmp_path):
    """A wait-and-see solve stops at its gap: scenario a's own solve found $92.48k (1% gap) while its recourse in
    the hedged plan costs $91.93k, itself a plan of a alone. WS uses the cheaper: (91.93 + 50) / 2 = $70.965k;
    RP = (91.93 + 50.5) / 2 = $71.215k; EVPI = RP - WS = $250 >= 0, not RP minus the stopped solves' -$240."""
    from models.solve import SolveResult
    from planner.input.validate import validate_workbook
    from planner.whatif.hedged import HedgedPlan, Scenario, value_of_information

    data, _issues = validate_workbook(write(tmp_path, minimal_sheets(2)))
    a = Scenario("a", 0.5, alone=SolveResult("feasible", "", objective=92.48, mip_gap=0.01), cost=91.93)
    b = Scenario("b", 0.5, alone=SolveResult("optimal", "", objective=50.0, mip_gap=0.0), cost=50.5)
    plan = HedgedPlan(data, [a, b], "ef")
    value_of_information(plan, rp_k=71.215, eev=None, ev_notes=[])
    assert plan.summary["wait_and_see_usd"] == pytest.approx(70_965, rel=1e-9)
    assert plan.summary["evpi_usd"] == pytest.approx(250, rel=1e-6)
    assert a.alone_cost == pytest.approx(91.93) and b.alone_cost == pytest.approx(50.0)


@needs_ph
def test_quiet_ph_prints_only_the_plans_lines(tmp_path, capfd):
    """-q: no progress lines, mpi-sppy's included ('Entering solve loop in PHBase.Iter0', its timers)."""
    src = write(tmp_path, two_scenarios())
    assert main(["-q", "run", str(src), "--stochastic", "--engine", "ph", "-o", str(tmp_path / "ph.xlsx")]) == 0
    out = capfd.readouterr().out
    assert "PHBase" not in out and "mpi-sppy" not in out and "[" not in out.split("\n")[0][:2]
    assert out.splitlines()[-1].startswith("wrote ")


@needs_ph
def test_ph_progress_goes_to_stderr_without_highs_banner_or_mpisppys_bound_caution(tmp_path):
    """Without -q, in a process of its own: stdout holds the result line and 'wrote' alone; mpi-sppy's progress
    ('Entering solve loop in PHBase.Iter0') is on stderr beside the planner's phases; HiGHS's banner (an INFO record
    of Pyomo's appsi logger) and mpi-sppy's caution that Lagrangian bounds may be wrong with integer recourse (the
    planner bounds MIP scenarios otherwise) are not printed; the PH gap is said once."""
    src = write(tmp_path, two_scenarios(integer_racks=True))
    done = subprocess.run([sys.executable, "-m", "planner.cli", "run", str(src), "--stochastic", "--engine", "ph",
                           "-o", str(tmp_path / "ph.xlsx")], capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and lines[1].startswith("wrote "), done.stdout
    assert lines[0].count("PH gap") <= 1
    assert "PHBase" in done.stderr and " ph " in done.stderr
    both = done.stdout + done.stderr
    assert "Running HiGHS" not in both and "Lagrangian bounds might not be correct" not in both


def test_a_weight_for_a_name_that_differs_only_by_case_from_two_scenarios_is_refused(tmp_path, capsys):
    """Scenarios `hi` and `Hi` both exist: the weight row `HI` could be either (--scenario HI refuses it too)."""
    s = two_scenarios()
    s["Scenarios"].append(["Hi", "Demand", "NA/w", "*", "scale", 1.2])
    s["ScenarioWeights"] = [["scenario", "probability"], ["lo", 0.5], ["HI", 0.5]]
    src = write(tmp_path, s)
    assert main(["-q", "run", str(src), "--stochastic", "-o", str(tmp_path / "p.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "ScenarioWeights!A3" in err and "could be any of" in err


def test_risk_weight_1_still_plans_every_scenario_at_its_cheapest_recourse(tmp_path):
    """CVaR alone (risk_weight 1) prices only the tail: without a trace of expected cost a scenario outside it may
    be left at any cost up to the tail's (measured on this case before: base at $21,256 and 81% served, against
    $14,514 at 100%). Four quarters, two products (L1 SRAM, G1 with HBM from two vendors), two sites; base 0.5 /
    boom x1.5 0.25 / bust x0.5 0.25 of demand from 2026Q2, risk_alpha 0.9: each scenario's recourse is its
    cheapest given the commitment, checked by planning each with the committed decisions fixed."""
    from models.build import build_model
    from models.solve import SolveOptions, solve
    from models.stochastic import fix_first_stage

    n = 4
    Q = [f"2026Q{i}" for i in range(1, 5)]
    s = minimal_sheets(n, commit_quarters=1, risk_weight=1)
    s["Products"] = [["product", "chips_per_rack", "rack_kw", "rack_capex_usd", "life_quarters", "stacks_per_chip",
                      "packaging_line"], ["L1", 10, 10, 1000, 40, 0, "P"], ["G1", 8, 10, 2000, 40, 4, "P"]]
    s["Routes"] = [["product", "fab", "dies_per_wafer", "yield", "lead_quarters"], ["L1", "F", 10, 1, 0],
                   ["G1", "F", 8, 1, 0]]
    s["HBMVendors"] = [["vendor", "price_usd_per_stack"], ["V1", 20], ["V2", 5]]
    s["HBMSupply"] = [["vendor"] + Q, ["V1"] + [400] * n, ["V2"] + [400] * n]
    s["HBMQualification"] = [["vendor", "product", "first_quarter"], ["V1", "G1", None], ["V2", "G1", Q[1]]]
    s["PackagingCapacity"] = [["packaging_line"] + Q, ["P"] + [200] * n]
    s["Sites"] = [["site", "region", "pue", "power_price_usd_per_mwh"], ["S", "NA", 1, 0], ["T", "EU", 1.2, 10]]
    s["SitePower"] = [["site"] + Q, ["S"] + [100] * n, ["T"] + [100] * n]
    s["Workloads"] = [["workload", "unmet_penalty_usd_per_tps"], ["w", 1], ["big", 5]]
    s["Throughput"] = [["product", "workload", "tokens_per_s_per_chip"], ["L1", "w", 100], ["G1", "big", 300]]
    s["Demand"] = [["region", "workload"] + Q, ["NA", "w"] + [3000] * n, ["EU", "w"] + [3000] * n,
                   ["NA", "big"] + [1200 * (i + 1) for i in range(n)]]
    s["Scenarios"] = [HEADER, ["boom", "Demand", "*", "2026Q2:2026Q4", "scale", 1.5],
                      ["bust", "Demand", "*", "2026Q2:2026Q4", "scale", 0.5]]
    s["ScenarioWeights"] = [["scenario", "probability"], ["base", 0.5], ["boom", 0.25], ["bust", 0.25]]
    outcome, plan = hedged(tmp_path, s)
    assert outcome.exit_code == 0, [str(i) for i in outcome.issues]
    values = {(name, idx): v for name, idx, v in plan.committed}
    for sc in plan.scenarios:
        model, _sets = build_model(sc.data)
        fix_first_stage(model, values, 1)
        r = solve(model, SolveOptions(mip_rel_gap=1e-9, duals=False))
        assert r.status == "optimal" and sc.cost == pytest.approx(r.objective, rel=1e-6, abs=1e-6), sc.name


def test_the_mean_value_plan_holds_at_0_what_some_scenario_cannot_commit(tmp_path):
    """fixtures/remove_product_scenario.xlsx (from a hostile-input round: 4 quarters, SRAM L1 and HBM G1, two
    sites, an HBM floor; base 0.5 / nog1 0.5, nog1 removing G1 with remove_row). The mean-value plan committed own
    capex for racks that, with G1's commitments held at 0 (nog1 cannot take them), no scenario could deploy: VSS
    read 'infinite: ... leave no plan in base, nog1'. With G1 held at 0 in the mean-value plan too, EEV is a
    plan and VSS >= 0 (measured: RP $45,714, EEV $48,984)."""
    import shutil

    src = tmp_path / "in.xlsx"
    shutil.copy(ROOT / "tests" / "whatif" / "fixtures" / "remove_product_scenario.xlsx", src)
    outcome, plan = plan_hedged_any(src, tmp_path / "h.xlsx", HedgedOptions(run=RunOptions(time_limit_s=60)))
    assert outcome.exit_code == 0, [str(i) for i in outcome.issues]
    assert plan.summary["vss_usd"] is not None, plan.notes["vss_usd"]
    assert plan.summary["vss_usd"] >= -1e-6 and plan.summary["eev_usd"] >= plan.summary["objective_usd"] - 1e-6


def test_commitments_are_in_the_users_units_and_the_chart_sits_below_the_scenarios(tmp_path):
    """lo (1,000 tok/s) and hi (3,000 tok/s), one committed quarter: a rack deployed in 2026Q1 ($1,100) saves
    $2,000 in hi but nothing in lo beyond the first, so the plan commits 1 rack at S, i.e. $1,000 own capex in
    2026Q1: shown as 1,000 USD (the model holds $M), racks whole, wafers to one decimal."""
    from planner.output.xlsx import ONE_DECIMAL, USD, WHOLE

    hedged(tmp_path, two_scenarios())
    wb = load_workbook(tmp_path / "hedged.xlsx")
    rows = {(r[0].value, r[1].value, r[2].value): r[3] for r in wb["Commitments"].iter_rows(min_row=2)}
    capex = rows[("own capex, USD", "S", "2026Q1")]
    assert capex.value == pytest.approx(1000) and capex.number_format == USD
    racks = rows[("racks deployed", "L1/S", "2026Q1")]
    assert racks.value == pytest.approx(1) and racks.number_format == WHOLE
    assert rows[("wafers started", "L1/F", "2026Q1")].number_format == ONE_DECIMAL
    [chart] = wb["Scenarios"]._charts
    assert chart.anchor._from.col == 0 and chart.anchor._from.row > wb["Scenarios"].max_row - 1


def test_packaging_blocks_of_a_line_one_scenario_does_not_use_are_still_one_shared_decision(tmp_path):
    """Line P packages 10 chips a quarter and can expand by blocks of 100 chips ($10, lead 1); line M has 1,000.
    Demand 20,000 tok/s in 2026Q2 only = 20 racks = 200 chips. base (0.9) packages L1 on P: 10 in Q1 + 10 in Q2 +
    2 blocks started in the committed Q1 -> $22,000 racks + $20 = $22,020. mv (0.1) moves L1 to line M: no block
    needed, $22,000 alone. Hedged: the 2 blocks are committed for both (mv pays their $20 too): RP = $22,020,
    WS = 0.9 x 22,020 + 0.1 x 22,000 = $22,018, EVPI = $2. (Had mv's model no K for the line it does not use, the
    blocks would be held at 0 in every scenario: base could not expand, RP ~ $85k.)"""
    Q = ["2026Q1", "2026Q2"]
    s = minimal_sheets(2, commit_quarters=1)
    s["Products"] = [["product", "chips_per_rack", "rack_kw", "rack_capex_usd", "life_quarters", "packaging_line"],
                     ["L1", 10, 10, 1000, 40, "P"]]
    s["PackagingCapacity"] = [["packaging_line"] + Q, ["P", 10, 10], ["M", 1000, 1000]]
    s["PackagingExpansion"] = [["packaging_line", "block_chips", "capex_usd_per_block", "lead_quarters",
                                "max_blocks"], ["P", 100, 10, 1, 5]]
    s["Demand"] = [["region", "workload"] + Q, ["NA", "w", 0, 20000]]
    s["Workloads"] = [["workload", "unmet_penalty_usd_per_tps"], ["w", 5]]
    s["Scenarios"] = [HEADER, ["mv", "Products", "L1", "packaging_line", "set", "M"]]
    s["ScenarioWeights"] = [["scenario", "probability"], ["base", 0.9], ["mv", 0.1]]
    outcome, plan = hedged(tmp_path, s)
    assert outcome.exit_code == 0, [str(i) for i in outcome.issues]
    assert plan.summary["objective_usd"] == pytest.approx(22020, rel=1e-6)
    assert plan.summary["wait_and_see_usd"] == pytest.approx(22018, rel=1e-6)
    assert plan.summary["evpi_usd"] == pytest.approx(2, rel=1e-4)
    assert [(idx, v) for (name, idx, v) in plan.committed if name == "K"] == [(("P", 0), pytest.approx(2))]


def test_a_committed_take_or_pay_on_a_fab_or_vendor_another_scenario_lacks_is_a_clear_error(tmp_path, capsys):
    """Scenario g adds fab G with a take-or-pay of 5 wafers in the committed 2026Q1; base has no fab G. What is
    paid in 2026Q1 is one value for every scenario, and base cannot pay G: no hedged plan exists. Said before the
    solve, naming both (was: a crash building the mean-value plan). A vendor removed by a scenario while base
    pays a floor to it is refused the same way (was: a KeyError)."""
    s = minimal_sheets(2, commit_quarters=1)
    s["FabMinWafers"] = [["fab", "2026Q1", "2026Q2"]]
    s["Scenarios"] = [HEADER, *[["g", sheet, key, column, "add_row", value] for sheet, key, column, value in (
        ("Fabs", "G", "wafer_cost_usd", 50), ("FabCapacity", "G", "2026Q1:2026Q2", 100),
        ("Routes", "L1/G", "dies_per_wafer", 10), ("Routes", "L1/G", "yield", 1), ("Routes", "L1/G", "lead_quarters", 0),
        ("FabMinWafers", "G", "2026Q1:2026Q2", 5))]]
    s["ScenarioWeights"] = [["scenario", "probability"], ["base", 0.5], ["g", 0.5]]
    outcome, _plan = hedged(tmp_path, s)
    assert outcome.exit_code == 2
    [error] = [i for i in outcome.issues.errors if "scenario g pays FabMinWafers G 2026Q1 = 5 wafers in a committed "
               "quarter, but fab G is not in scenario(s) base" in i.message]
    assert (error.cell, error.column, error.value) == ("Scenarios!F7", "2026Q1", 5)  # the scenario row of the floor
    v = minimal_sheets(2, commit_quarters=1)
    v["Products"][0].append("stacks_per_chip")
    v["Products"][1].append(1)
    v["HBMVendors"] = [["vendor", "price_usd_per_stack"], ["V", 10], ["V2", 5]]
    v["HBMSupply"] = [["vendor", "2026Q1", "2026Q2"], ["V", 100, 100], ["V2", 100, 100]]
    v["HBMQualification"] = [["vendor", "product"], ["V", "L1"], ["V2", "L1"]]
    v["HBMMinStacks"] = [["vendor", "2026Q1", "2026Q2"], ["V2", 10, 0]]
    v["Scenarios"] = [HEADER, *[["nov2", sheet, key, None, "remove_row", None] for sheet, key in (
        ("HBMVendors", "V2"), ("HBMSupply", "V2"), ("HBMQualification", "V2/L1"), ("HBMMinStacks", "V2"))]]
    v["ScenarioWeights"] = [["scenario", "probability"], ["base", 0.5], ["nov2", 0.5]]
    (tmp_path / "v").mkdir()
    outcome, _plan = hedged(tmp_path / "v", v)
    assert outcome.exit_code == 2
    assert any("vendor V2 is not in scenario(s) nov2" in i.message for i in outcome.issues.errors)


def test_a_partner_that_can_fund_nothing_can_still_sign_in_a_hedged_plan_when_it_has_no_minimum(tmp_path):
    """A deal whose PartnerSites lie outside its window funds nothing: planned alone it is never signed (A <= 0).
    In a hedged plan's scenario model, without a minimum deal it stays signable (A <= 1: the deal is one decision
    shared with the scenarios where it funds); with a minimum it cannot be met, so A <= 0 still."""
    from models.build import build_model
    from models.stochastic import build_scenario_model
    from planner.input.validate import validate_workbook

    for minimum, hedged_upper in ((5000, 0), (0, 1)):
        s = minimal_sheets(2)
        s["Partners"] = [["partner", "commitment_usd", "min_deal_usd", "first_quarter", "last_quarter"],
                         ["P", 10000, minimum, "2026Q1", "2026Q2"]]
        s["PartnerSites"] = [["partner", "site"]]
        data, issues = validate_workbook(write(tmp_path, s, f"min{minimum}.xlsx"))
        assert data is not None, [str(i) for i in issues]
        assert build_model(data)[0].A["P"].ub == 0
        assert build_scenario_model(data)[0].A["P"].ub == hedged_upper, minimum


@needs_ph
def test_a_ph_subproblem_that_pays_for_stacks_stays_bounded(tmp_path):
    """PH prices each here-and-now variable with a weight w; HP (stacks paid) has only lower rows (>= bought,
    >= floor), so a weight below -$10 (V's price) would pay for infinitely many stacks and HiGHS says
    'infeasible or unbounded'. implied_bounds caps HP at max(HBMSupply 100, HBMMinStacks 10) = 100: with a weight
    of -$1,000 a stack in 2026Q1 the subproblem pays for 100 stacks, no more."""
    import pyomo.environ as pyo

    from models.solve import SolveOptions, solve
    from models.stochastic import build_scenario_model
    from planner.input.validate import validate_workbook
    from planner.whatif.hedged_ph import implied_bounds

    s = floor_in_one_scenario()
    s["HBMMinStacks"] = [["vendor", "2026Q1", "2026Q2"], ["V", 10, 0]]
    data, issues = validate_workbook(write(tmp_path, s))
    assert data is not None, [str(i) for i in issues]
    model, _sets = build_scenario_model(data)
    implied_bounds(model, data)
    assert model.HP["V", 0].ub == 100
    model.total_cost.deactivate()
    model.lagrangian = pyo.Objective(expr=model.total_cost.expr - 1.0 * model.HP["V", 0])  # $k: -$1,000 a stack
    result = solve(model, SolveOptions())
    assert result.status == "optimal"
    assert model.HP["V", 0].value == pytest.approx(100)


@needs_ph
def test_ph_writes_the_mean_value_commitments_when_they_cost_less_than_phs_own():
    """Two equally likely scenarios. PH's candidates cost 100 and 90 ($k, expected); the mean-value plan's
    commitments, already costed for the EEV, 80 (a: 70, b: 90): those are written, so VSS = EEV - RP >= 0. A
    candidate a scenario cannot plan with never wins."""
    from types import SimpleNamespace

    from planner.whatif.hedged_ph import best_candidate

    scenarios = [SimpleNamespace(name="a", probability=0.5), SimpleNamespace(name="b", probability=0.5)]
    costs = {"ph1": {"a": ("optimal", 100.0), "b": ("optimal", 100.0)},
             "ph2": {"a": ("optimal", 80.0), "b": ("feasible", 100.0)},
             "bad": {"a": ("optimal", 1.0), "b": ("infeasible", None)}}
    evaluator = SimpleNamespace(costs=lambda values: costs[values["id"]])
    ev = {"id": "ev"}
    best, k = best_candidate(evaluator, [{"id": "ph1"}, {"id": "ph2"}, {"id": "bad"}], scenarios,
                             known=[(ev, {"a": ("optimal", 70.0), "b": ("optimal", 90.0)})])
    assert best is ev and k == pytest.approx(80.0)
    best, k = best_candidate(evaluator, [{"id": "ph1"}, {"id": "ph2"}], scenarios)
    assert best == {"id": "ph2"} and k == pytest.approx(90.0)


def test_a_scenario_with_its_own_horizon_or_hedging_settings_is_refused_at_its_row(tmp_path, capsys):
    """hi plans 1 quarter instead of 2 and lo sets risk_weight 0.5: averaging a 1-quarter plan with 2-quarter ones
    (or hedging lo alone at another risk weight) means nothing, so both are refused at their Scenarios rows (F4, F5)
    before any solve; a draw of the Uncertainty sheet that scales quarters likewise, at its Uncertainty row."""
    s = two_scenarios()
    s["Scenarios"] += [["hi", "Settings", "quarters", "value", "set", 1], ["lo", "Settings", "risk_weight", "value",
                                                                          "set", 0.5]]
    s["Settings"].append(["risk_weight", 0])
    src = write(tmp_path, s)
    assert main(["-q", "run", str(src), "--stochastic", "-o", str(tmp_path / "p.xlsx")]) == 2
    said = capsys.readouterr()
    text = said.out + said.err
    assert "Scenarios!F4" in text and "scenario 'hi' sets quarters to 1 (the base: 2" in text
    assert "Scenarios!F5" in text and "scenario 'lo' sets risk_weight to 0.5" in text
    assert not (tmp_path / "p.xlsx").exists()

    u = two_scenarios()
    del u["ScenarioWeights"]
    u["Uncertainty"] = [["sheet", "key", "column", "distribution", "p1", "p2", "p3"],
                        ["Settings", "quarters", "value", "uniform", 0.5, 0.5, None]]
    src = write(tmp_path, u, "u.xlsx")
    assert main(["-q", "run", str(src), "--stochastic", "--draws", "2", "-o", str(tmp_path / "u.plan.xlsx")]) == 2
    text = "".join(capsys.readouterr())
    assert "Uncertainty!" in text and "sets quarters to 1" in text


def with_full_service_at_weight_0(name: str, demand_scale: float) -> dict:
    """two_scenarios() plus scenario `name` of probability 0: demand x `demand_scale`, every tok/s to be served."""
    s = two_scenarios()
    s["Scenarios"].append([name, "Workloads", "w", "min_service_level", "set", 1])
    s["Scenarios"].append([name, "Demand", "NA/w", "*", "scale", demand_scale])
    s["Workloads"] = [["workload", "unmet_penalty_usd_per_tps", "min_service_level"], ["w", 1, 0]]
    s["ScenarioWeights"].append([name, 0])
    return s


def test_a_scenario_weighted_0_still_binds_every_commitment(tmp_path, capsys):
    """stochastic.md: the set is exactly the ScenarioWeights rows, each with formulation.md's constraints. lo 0.5,
    hi 0.5 and 'floor' 0, where floor (demand 3,000, every tok/s served: min_service_level 1) needs 3 racks in the
    committed quarter. So x = 3 (not test_hedged_commitment_differs_from_the_mean_value_plan's 1):
        lo 3 x 1,100 = 3,300 (nothing unmet), hi 3,300 (3,000 served), RP = $3,300; floor's cost 3,300 counts 0.
    (The planner used to leave it out: $3,100.) validate and run warn at ScenarioWeights!B4 what probability 0
    means."""
    outcome, plan = hedged(tmp_path, with_full_service_at_weight_0("floor", demand_scale=1.5))
    assert outcome.exit_code == 0, [str(i) for i in outcome.issues]
    assert plan.summary["scenarios"] == 3
    assert committed_racks(plan) == pytest.approx(3.0, rel=1e-6)
    assert plan.summary["objective_usd"] == pytest.approx(3300, rel=1e-6)
    assert plan.summary["expected_cost_usd"] == pytest.approx(3300, rel=1e-6)
    floor = next(sc for sc in plan.scenarios if sc.name == "floor")
    assert floor.probability == 0 and floor.cost * USD_PER_OBJ == pytest.approx(3300, rel=1e-6)
    [warning] = [w for w in outcome.issues.warnings if w.cell == "ScenarioWeights!B4"]
    assert "probability 0: in a hedged plan its constraints still bind every commitment" in warning.message
    assert main(["validate", str(tmp_path / "in.xlsx")]) == 0
    assert "ScenarioWeights!B4" in capsys.readouterr().out


def test_a_scenario_weighted_0_that_cannot_be_met_makes_the_hedged_plan_infeasible(tmp_path):
    """'tight' (probability 0): demand x 1,000 with every tok/s to be served, beyond any capacity. stochastic.md:
    an infeasible scenario makes the stochastic plan infeasible, and its diagnosis names the scenario."""
    outcome, _plan = hedged(tmp_path, with_full_service_at_weight_0("tight", demand_scale=1000))
    assert outcome.exit_code == 3
    assert "tight" in outcome.message


def test_a_hedged_plan_says_the_warnings_its_scenarios_add(tmp_path, capsys):
    """hi adds demand in EU, which no site serves (a warning of its own, not the base's): run --stochastic prints it
    under its scenario's name, as a plain run prints its warnings, and the plan's Warnings sheet lists it."""
    s = two_scenarios()
    s["Scenarios"].append(["hi", "Demand", "EU/w", "2026Q1:2026Q2", "add_row", 10])
    src = write(tmp_path, s)
    out = tmp_path / "p.xlsx"
    assert main(["-q", "run", str(src), "--stochastic", "-o", str(out)]) == 0
    said = capsys.readouterr()
    assert "WARNING" in said.out + said.err and "scenario 'hi':" in said.out + said.err
    sheet = load_workbook(out)["Warnings"]
    assert any("scenario 'hi':" in str(c.value) for row in sheet.iter_rows() for c in row)


@needs_ph
def test_ph_scenarios_sheet_gives_each_scenarios_cost_alone(tmp_path):
    """Whole racks, so PH plans each scenario alone for its bound: lo alone builds 1 rack ($1,100), hi 3 ($3,300)
    (test_hedged_commitment_differs_from_the_mean_value_plan); the Scenarios sheet says so, as the EF's does."""
    outcome, _ph = hedged(tmp_path, two_scenarios(integer_racks=True), engine="ph")
    assert outcome.exit_code == 0
    rows = list(load_workbook(tmp_path / "hedged.xlsx")["Scenarios"].iter_rows(values_only=True))
    col = rows[0].index("alone_cost_usd")
    assert {r[0]: r[col] for r in rows[1:3]} == {"lo": pytest.approx(1100), "hi": pytest.approx(3300)}


def test_the_terminal_line_carries_the_tolerance_caveat():
    """VSS $0 and an EVPI smaller than the MIP gaps are worth print as not significant, as the Summary says."""
    from types import SimpleNamespace

    from planner.whatif.hedged import headline

    plan = SimpleNamespace(summary={"objective_usd": 1.3e9, "expected_cost_usd": 1.3e9, "scenarios": 4,
                                    "vss_usd": 0.0, "evpi_usd": 6_395_173.0},
                           notes={"vss_usd": "x; within solver tolerance: the MIP gaps are worth up to $6.7M",
                                  "evpi_usd": "knowing the future would be worth $6,395,173"})
    line = headline(plan)
    assert "VSS $0 (within solver tolerance: not significant)" in line
    assert "EVPI $6,395,173" in line and "EVPI $6,395,173 (" not in line


def test_ph_values_of_information_give_their_range_between_the_bounds():
    """PH knows RP only between its bounds (lower 990, upper 1,000 $k): VSS = EEV - RP with EEV 1,001 lies between
    $1,000 and $11,000, EVPI = RP - WS with WS 980 between $10,000 and $20,000; mip_gap is said to be undefined."""
    from types import SimpleNamespace

    from planner.whatif.hedged_ph import _value_of_information

    plan = SimpleNamespace(summary={"ph_lower_bound_usd": 990_000.0}, notes={})
    _value_of_information(plan, 1000.0, 980.0, 1001.0)
    assert plan.summary["vss_usd"] == pytest.approx(1000.0) and plan.summary["evpi_usd"] == pytest.approx(20_000.0)
    assert plan.notes["vss_usd"].endswith("it lies between $1,000 and $11,000")
    assert plan.notes["evpi_usd"].endswith("it lies between $10,000 and $20,000")


def test_pyomos_aborted_with_a_solution_warning_is_not_shown(caplog):
    """A PH subproblem stopped at its time limit with a plan: Pyomo's warning about it is not a planner's concern."""
    import logging

    import planner.whatif.hedged_ph  # noqa: F401 (installs the filter)

    with caplog.at_level(logging.WARNING, logger="pyomo.core"):
        logging.getLogger("pyomo.core").warning("Loading a SolverResults object with an 'aborted' status, but "
                                                "containing a solution")
        logging.getLogger("pyomo.core").warning("another warning")
    assert [r.getMessage() for r in caplog.records] == ["another warning"]


def test_ph_notes_without_a_finite_lower_bound_give_no_range():
    """A scenario alone with no plan makes the wait-and-see bound -inf: the notes then give no range (money(inf)
    used to raise OverflowError after the whole PH run, and no workbook was written)."""
    from types import SimpleNamespace

    from planner.whatif.hedged_ph import _value_of_information

    plan = SimpleNamespace(summary={"ph_lower_bound_usd": float("-inf")}, notes={})
    _value_of_information(plan, 1000.0, 980.0, 1001.0)
    assert "lies between" not in plan.notes["vss_usd"] + plan.notes["evpi_usd"]


def test_a_scenario_that_needs_a_commitment_another_scenario_lacks_is_diagnosed_with_both_named(tmp_path, capsys):
    """Every scenario has a plan alone, the hedged plan has none: 'walks' removes partner P (its rows), so
    the deal, one here-and-now decision, is 0 in every scenario; 'hi' (3,000 tok/s, every token served) needs 3
    racks = $3,000 of capex in 2026Q1 but its own budget is $1,000 there, so without P it cannot be planned.
    The Diagnosis names both scenarios and the deal held at 0 as a shared commitment, and its smallest repair is
    hi's floor at 1,000 / 3,000 = 33.3% (relative change 0.667, against the budget's 2.0)."""
    s = two_scenarios()
    s["Workloads"] = [["workload", "unmet_penalty_usd_per_tps", "min_service_level"], ["w", 1, 1]]
    s["Budget"] = [["item", "2026Q1", "2026Q2"], ["own_capex_usd", 1000, 0]]
    s["Partners"] = [["partner", "commitment_usd", "min_deal_usd", "first_quarter", "last_quarter"],
                     ["P", 10000, 0, "2026Q1", "2026Q2"]]
    s["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    s["Scenarios"] = [HEADER, ["walks", "Demand", "NA/w", "*", "scale", 0.5],
                      ["walks", "Partners", "P", None, "remove_row", None],
                      ["walks", "PartnerSites", "P/S", None, "remove_row", None],
                      ["hi", "Demand", "NA/w", "*", "scale", 1.5]]
    s["ScenarioWeights"] = [["scenario", "probability"], ["walks", 0.5], ["hi", 0.5]]
    src = write(tmp_path, s)
    for alone in ("walks", "hi"):
        assert main(["-q", "run", str(src), "--scenario", alone, "-o", str(tmp_path / f"{alone}.xlsx")]) == 0
    out = tmp_path / "plan.xlsx"
    assert main(["-q", "run", str(src), "--stochastic", "-o", str(out)]) == 3
    said = capsys.readouterr().out
    # P's deal and its funding of S in 2026Q1: here-and-now decisions that 'walks' has not
    assert "scenario 'hi' cannot be planned without the 2 commitment(s) that scenario(s) 'walks' cannot take" in said
    rows = list(load_workbook(out)["Diagnosis"].iter_rows(values_only=True))
    text = " ".join(str(r[0]) for r in rows if r and r[0])
    assert "lower min_service_level of w (Workloads!C2) from 100.0% to 33.3%" in text
    shared = [r for r in rows if r and r[0] == "Shared commitment"]
    assert [r[2] for r in shared] == ["P/S"] and "held at 0 in every scenario, because scenario 'walks'" in shared[0][7]


def test_scenarios_that_need_different_commitments_are_infeasible_together_with_each_ones_cost_alone(tmp_path):
    """Every token served; racks of 2026Q1 are committed. 'lo' (1,000 tok/s) has $1,000 of own budget in 2026Q1:
    at most 1 rack then; 'hi' (3,000 tok/s, budget $3,000) needs 3 racks in 2026Q1. No commitment is lacking in
    either, so no one scenario is to blame: exit 3, the Summary says every scenario has a plan alone but no one
    commitment suits them all, and the Scenarios sheet gives each one's cost alone (1 rack $1,100; 3 racks $3,300)."""
    s = two_scenarios()
    s["Workloads"] = [["workload", "unmet_penalty_usd_per_tps", "min_service_level"], ["w", 1, 1]]
    s["Budget"] = [["item", "2026Q1", "2026Q2"], ["own_capex_usd", 3000, 0]]
    s["Scenarios"] += [["lo", "Budget", "own_capex_usd", "2026Q1", "set", 1000]]
    src = write(tmp_path, s)
    out = tmp_path / "plan.xlsx"
    assert main(["-q", "run", str(src), "--stochastic", "-o", str(out)]) == 3
    wb = load_workbook(out)
    summary = {r[0]: r[1:] for r in wb["Summary"].iter_rows(values_only=True) if r and r[0]}
    assert summary["status"][0] == "infeasible" and "every scenario can be planned alone" in summary["status"][1]
    assert "plan pairs of scenarios" in summary["status_message"][0]
    header, *rows = wb["Scenarios"].iter_rows(values_only=True)
    alone = {r[header.index("scenario")]: r[header.index("alone_cost_usd")] for r in rows}
    assert alone == {"lo": pytest.approx(1100), "hi": pytest.approx(3300)}


def test_ph_values_of_information_that_its_gap_could_erase_are_marked_and_never_negative():
    """PH bounds 990 and 1,000 $k, WS 995, EEV 1,000.5: EVPI = RP - WS lies between 990 - 995 and 1,000 - 995, but
    EVPI is never negative, so between $0 and $5,000, and it is marked within solver tolerance (the terminal says
    'not significant'); VSS = EEV - RP between $500 and $10,500 stays a finding, and the terminal gives its range
    (it printed '$500' alone, the end at PH's upper bound, beside a not-significant EVPI: new-user trial)."""
    from types import SimpleNamespace

    from planner.whatif.hedged import TOLERANCE_MARK, headline
    from planner.whatif.hedged_ph import _value_of_information

    plan = SimpleNamespace(summary={"ph_lower_bound_usd": 990_000.0}, notes={})
    _value_of_information(plan, 1000.0, 995.0, 1000.5)
    assert "it lies between $0 and $5,000" in plan.notes["evpi_usd"] and TOLERANCE_MARK in plan.notes["evpi_usd"]
    assert plan.notes["vss_usd"].endswith("it lies between $500 and $10,500")
    plan.summary.update(objective_usd=1e6, expected_cost_usd=1e6, scenarios=2)
    assert "EVPI $5,000 (within solver tolerance: not significant)" in headline(plan)
    assert "VSS between $500 and $10,500 (PH's gap)," in headline(plan)


def test_the_expected_value_plan_averages_settings_that_are_data(tmp_path):
    """Two equally likely scenarios that differ only in Settings.hours_per_quarter (0 and 4,380; mean 2,190). A 1 MW
    rack at $1/MWh costs $1,100 + 2 x hours over the two quarters; unmet demand costs $2,000.
    The expected-value plan (hours 2,190): a committed rack costs 1,100 + 4,380 = 5,480 > 2,000, so it commits
    nothing: EEV = 2,000 = RP, vss_usd = 0. (With the first scenario's hours, 0, it committed a rack: EEV 5,480,
    vss $3,480, and the answer depended on the Scenarios sheet's row order.)"""
    s = minimal_sheets(2, commit_quarters=1, hours_per_quarter=2190)
    s["Products"][1] = ["L1", 10, 1000, 1000, 40]
    s["Sites"][1] = ["S", "NA", 1, 1]
    s["Scenarios"] = [HEADER, ["A", "Settings", "hours_per_quarter", "value", "set", 0],
                      ["B", "Settings", "hours_per_quarter", "value", "set", 4380]]
    outcome, plan = hedged(tmp_path, s)
    assert outcome.exit_code == 0, [str(i) for i in outcome.issues]
    assert plan.summary["objective_usd"] == pytest.approx(2000, rel=1e-6)
    assert plan.summary["vss_usd"] == pytest.approx(0, abs=1e-3)


def test_engine_ph_without_mpi_sppy_installed_is_exit_2(tmp_path, monkeypatch, capsys):
    """--engine ph on an install without the stochastic extra cannot work: exit 2 like a bad option (was 1), with
    the pip command that installs it."""
    import planner.whatif.hedged_ph as ph

    def missing():
        raise ph.PHUnavailable("--engine ph needs mpi-sppy and mpi4py (No module named 'mpisppy'); install them "
                               "with pip install -e '.[stochastic]'")
    monkeypatch.setattr(ph, "comm_world", missing)
    src = write(tmp_path, two_scenarios())
    assert main(["-q", "run", str(src), "--stochastic", "--engine", "ph", "-o", str(tmp_path / "ph.xlsx")]) == 2
    assert "pip install -e '.[stochastic]'" in capsys.readouterr().err
    assert not (tmp_path / "ph.xlsx").exists()


def test_a_committed_deal_reads_yes_or_no(tmp_path):
    """A deal in Commitments showed '1' where the plan's Partners sheet shows 'yes' (new-user trial): stored 1/0,
    shown yes/no."""
    from planner.output.xlsx import YES_NO

    s = two_scenarios()
    s["Partners"] = [["partner", "commitment_usd"], ["P", 5000]]
    s["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    hedged(tmp_path, s)
    wb = load_workbook(tmp_path / "hedged.xlsx")
    deals = [r for r in wb["Commitments"].iter_rows(min_row=2) if str(r[0].value).startswith("partner deal signed")]
    assert deals and all(r[3].number_format == YES_NO and r[3].value in (0, 1) for r in deals)


@needs_ph
def test_ph_prints_a_progress_line_per_iteration(tmp_path, caplog):
    """A PH run was silent between mpi-sppy's 'Entering solve loop' and the end (93 s on the example): a line after
    iteration 0 and after each later iteration, with the elapsed time."""
    import logging

    with caplog.at_level(logging.INFO, logger="planner"):
        outcome, _ph = hedged(tmp_path, two_scenarios(), engine="ph")
    assert outcome.exit_code == 0
    lines = [r.getMessage() for r in caplog.records if "PH iteration" in r.getMessage()]
    assert lines and lines[0].startswith("solve     PH iteration 0: every scenario solved alone (")
