"""Re-plans that do not churn: models/stability.py (the term) and `--previous` end to end (roll, re-plan).

Economy (tests/builders.py): a rack = 10 chips = 1 wafer ($100) + $1,000 capex, serves 1,000 tok/s; here two
identical sites S1 and S2 both serve NA, so where racks go is a tie the solver may break either way.
"""

from pathlib import Path

import pandas as pd
import pytest

from bench.churn import MOVES, volume_moved
from models.build import build_model
from models.solve import SolveOptions, solve
from planner.cycle.roll import roll
from planner.input.validate import validate_workbook
from planner.output.extract import extract
from planner.cycle.stability import replan_edits
from planner.pipeline import RunOptions, run_plan
from tests.builders import minimal_sheets, write
from tests.model.helpers import set_row


def two_sites(n=4, demand=(1000, 2000, 3000, 4000), integer=True):
    s = minimal_sheets(n, integer_racks=integer)
    set_row(s, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    s["Sites"] = [["site", "region", "pue", "power_price_usd_per_mwh"], ["S1", "NA", 1, 0], ["S2", "NA", 1, 0]]
    s["SitePower"] = [s["SitePower"][0], ["S1"] + [100] * n, ["S2"] + [100] * n]
    s["Demand"][1] = ["NA", "w"] + list(demand[:n])
    return s


@pytest.mark.parametrize("integer", [True, False])
def test_stability_term_keeps_a_tied_previous_choice_and_is_not_in_the_objective(tmp_path, integer):
    """The previous plan put each quarter's rack at whichever site the solver did not pick: with the term the plan
    follows it (a tie: same cost), objective_usd is the same $4,400 (4 racks x $1,100), and the term is 0.
    The same for an LP (continuous racks)."""
    from models.stability import add_stability, solve_with_stability

    data, _ = validate_workbook(write(tmp_path, two_sites(integer=integer)))
    m, sets = build_model(data)
    solve(m, SolveOptions(mip_rel_gap=1e-9))
    first = {t: ("S1" if m.Y["L1", "S1", t].value > 0.5 else "S2") for t in range(4)}
    other = {t: ("S2" if first[t] == "S1" else "S1") for t in range(4)}
    previous = {("Y", ("L1", s, t)): (1.0 if other[t] == s else 0.0) for s in ("S1", "S2") for t in range(4)}
    m2, sets2 = build_model(data)
    assert add_stability(m2, data, previous, 0.01) == 8
    result = solve_with_stability(m2, SolveOptions(mip_rel_gap=1e-9), [])
    solution = extract(m2, sets2, data, result)
    assert all(m2.Y["L1", other[t], t].value == pytest.approx(1) for t in range(4))
    assert solution.objective_usd == pytest.approx(4400, rel=1e-9)
    assert m2.cost_stability() == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("freeze", [0, 1])
def test_roll_and_replan_with_previous_keeps_the_plan(tmp_path, freeze):
    """Plan 6 quarters on two tied sites, roll one quarter with nothing new, re-plan with --previous: the racks,
    wafers and HBM of the 5 overlapping quarters move by at most 5%, at a cost within the gap of the re-plan
    without --previous; Summary reports the stability term apart from objective_usd."""
    sheets = two_sites(6, (1000, 2000, 3000, 4000, 5000, 6000))
    sheets["Settings"].append(["mip_rel_gap", 0.001])
    src = write(tmp_path, sheets)
    plan = tmp_path / "plan.xlsx"
    assert run_plan(src, plan).exit_code == 0
    nxt = roll(plan, src, tmp_path / "next.xlsx")
    plain = run_plan(nxt, tmp_path / "plain.xlsx")
    kept = run_plan(nxt, tmp_path / "kept.xlsx", RunOptions(model_edits=replan_edits(plan, freeze)))
    assert plain.exit_code == 0 and kept.exit_code == 0
    assert kept.objective_usd <= plain.objective_usd * (1 + 0.001) + 1e-6
    for sheet, keys, column in MOVES:
        assert volume_moved(plan, tmp_path / "kept.xlsx", sheet, keys, column) <= 0.05
    summary = pd.read_excel(tmp_path / "kept.xlsx", "Summary", engine="openpyxl").set_index("key")["value"]
    assert float(summary["stability_weight"]) == pytest.approx(0.05)
    assert float(summary["stability_cost_usd"]) >= 0


def test_roll_carries_expansion_blocks_started_in_the_closed_quarter(tmp_path):
    """SitePower 0.01 MW (1 rack); a 0.02 MW block ($20) energises 1 quarter after its start; demand 1,000 then
    3,000 tok/s: the plan starts one block in 2026Q1. Rolled: the block is committed, so SitePower of S is
    0.01 + 0.02 = 0.03 MW from 2026Q2 on and max_blocks goes from 2 to 1; the previous racks fit the new input."""
    from openpyxl import load_workbook

    sheets = minimal_sheets(3, integer_racks=True)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["SitePower"][1] = ["S", 0.01, 0.01, 0.01]
    sheets["Demand"][1] = ["NA", "w", 1000, 3000, 3000]
    sheets["SiteExpansion"] = [["site", "block_mw", "capex_usd_per_mw", "lead_quarters", "max_blocks"],
                               ["S", 0.02, 1000, 1, 2]]
    src = write(tmp_path, sheets)
    plan = tmp_path / "plan.xlsx"
    assert run_plan(src, plan).exit_code == 0
    power = pd.read_excel(plan, "Power", engine="openpyxl")
    assert float(power.loc[power["quarter"] == "2026Q1", "blocks_started"].iloc[0]) == pytest.approx(1)
    wb = load_workbook(roll(plan, src, tmp_path / "next.xlsx"))
    sp = [[c.value for c in r] for r in wb["SitePower"].iter_rows()]
    assert sp[0][1:] == ["2026Q2", "2026Q3", "2026Q4"] and sp[1][1:] == pytest.approx([0.03] * 3)
    assert wb["SiteExpansion"]["E2"].value == 1
    kept = run_plan(tmp_path / "next.xlsx", tmp_path / "kept.xlsx", RunOptions(model_edits=replan_edits(plan, 1)))
    assert kept.exit_code == 0


def _planned(tmp_path, sheets, name="plan.xlsx"):
    src = write(tmp_path, sheets, name.replace(".xlsx", "_in.xlsx"))
    out = tmp_path / name
    assert run_plan(src, out).exit_code == 0
    return src, out


def test_previous_that_is_not_a_plan_or_was_edited_is_a_located_error(tmp_path):
    """--previous naming the input workbook itself (no Summary sheet), or a plan whose Deployments!D2 holds
    'lots': exit 2 with the error at its cell, nothing written; never a silent plan without the term."""
    from openpyxl import load_workbook

    src, plan = _planned(tmp_path, two_sites())
    not_a_plan = run_plan(src, tmp_path / "a.xlsx", RunOptions(model_edits=replan_edits(src)))
    assert not_a_plan.exit_code == 2 and not (tmp_path / "a.xlsx").exists()
    assert any("--previous" in i.message and "Summary" in i.message for i in not_a_plan.issues.errors)
    wb = load_workbook(plan)
    ws = wb["Deployments"]
    column = [c.value for c in ws[1]].index("racks_deployed") + 1
    ws.cell(2, column, "lots")
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    bad = run_plan(src, tmp_path / "b.xlsx", RunOptions(model_edits=replan_edits(edited)))
    assert bad.exit_code == 2 and not (tmp_path / "b.xlsx").exists()
    [error] = bad.issues.errors
    assert error.cell.endswith(f"Deployments!{chr(64 + column)}2") and "'lots' is not a number" in error.message


def test_previous_plan_of_another_workbook_is_a_warning_and_no_stability_term(tmp_path):
    """The previous plan deployed racks of product L1; this input's only product is renamed ZZ: no decision
    matches, so the plan is made without the stability term (a warning says why), exit 0."""
    _src, plan = _planned(tmp_path, two_sites())
    renamed = {name: [[("ZZ" if v == "L1" else v) for v in r] for r in rows] for name, rows in two_sites().items()}
    other = write(tmp_path, renamed, "other.xlsx")
    outcome = run_plan(other, tmp_path / "z.xlsx", RunOptions(model_edits=replan_edits(plan)))
    assert outcome.exit_code == 0
    assert any("names a product, site, fab or vendor of this input" in i.message for i in outcome.issues.warnings)
    summary = pd.read_excel(tmp_path / "z.xlsx", "Summary", header=None, engine="openpyxl")
    assert "stability_decisions" not in set(summary[0].astype(str))


def test_shipped_example_rolled_and_replanned_with_previous_moves_nothing(tmp_path):
    """Issue 13's target on the shipped example at its own gap: roll one quarter with nothing new, re-plan with
    --previous: at most 5% of the racks, wafers and HBM of the overlapping quarters move (measured: 0%), at a
    cost within the gap of the re-plan without --previous (measured +0.055% against a 0.48% gap)."""
    src = Path(__file__).resolve().parents[2] / "inputs" / "example.xlsx"
    plan = tmp_path / "plan.xlsx"
    assert run_plan(src, plan).exit_code == 0
    nxt = roll(plan, src, tmp_path / "next.xlsx")
    plain = run_plan(nxt, tmp_path / "plain.xlsx")
    kept = run_plan(nxt, tmp_path / "kept.xlsx", RunOptions(model_edits=replan_edits(plan)))
    assert kept.exit_code == 0 and plain.exit_code == 0
    gap = float(pd.read_excel(tmp_path / "plain.xlsx", "Summary", engine="openpyxl").set_index("key")
                .at["mip_gap", "value"])
    assert kept.objective_usd <= plain.objective_usd * (1 + gap)
    for sheet, keys, column in MOVES:
        assert volume_moved(plan, tmp_path / "kept.xlsx", sheet, keys, column) <= 0.05, sheet


def test_a_kept_previous_plan_above_the_gap_says_why_in_its_message(monkeypatch):
    """The best plan without --previous costs $1,000k at 0.4% from its bound ($996k); the previous plan's decisions
    kept cost $1,003k (0.3% more, within mip_rel_gap 0.5%): the plan's gap to the bound is 0.698%, above 0.5%, and
    the message says that the kept decisions cost 0.3% more than the best plan found, not that the gap was met."""
    from types import SimpleNamespace

    import models.stability as stability
    from models.solve import SolveResult

    monkeypatch.setattr(stability.pyo, "value", lambda _e: 1003.0)
    monkeypatch.setattr(stability, "plan_cost", lambda _m: None)
    result = SolveResult("feasible", "", objective=1000.0, mip_gap=0.004)
    out = stability._as_plan_result(None, result, 996.0, SimpleNamespace(mip_rel_gap=0.005, duals=False),
                                    (1000.0, 0.004))
    assert out.mip_gap == pytest.approx(7 / 1003)
    assert out.message == ("MIP gap 0.6979% to the bound; not proven optimal: the previous plan's decisions were "
                           "kept (stability), at 0.3000% above the best plan found without them (itself 0.4000% from "
                           "the bound); a kept plan may cost up to 0.50% (mip_rel_gap) more than the best found")
