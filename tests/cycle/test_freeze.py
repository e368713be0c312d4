"""planner run NEXT.xlsx --previous PLAN.xlsx --freeze N: the committed decisions stay, the rest is re-planned.

PLAN is the hand-checked 4-quarter plan of tests/test_roll.py ($470): wafers 0.5 (2026Q1) and 1 (2026Q2), racks
1 / 0 / 1 / 1, deal P signed. NEXT is its roll to 2026Q2..2027Q1 (5 chips on hand, rack A installed until 2027Q3,
5 dies arriving 2026Q3, P's deal: $4,000 left, $500 minimum, no fee), in which the planner cut the 2026Q4 demand
forecast from 3,000 to 2,000 tok/s.

Re-planned freely, rack C is only needed in 2027Q1: rack B (2026Q3) uses the 5 chips and the 5 arriving dies;
rack C's dies come from 1 wafer started 2026Q3 (lead 2). Cost: wafer 100 + financing 1% of $2,000 = 20 +
power (1+2+2+3 rack-quarters x $10) 80 + 5 chips held one quarter 5 = $205.

Frozen 2 quarters (2026Q2, 2026Q3): the wafer released in 2026Q2 stays (W = 1), none in 2026Q3, rack B stays in
2026Q3, deal P stays signed. Rack C's dies arrive 2026Q4 and wait in the die bank one quarter ($0.5 x 10 = 5,
cheaper than running the rack early for $10): $100 + 20 + 80 + 5 + 5 = $210.
"""

import pytest
from openpyxl import load_workbook

from models.build import build_model
from planner.cli import main
from planner.diagnose.diagnosis import Diagnosis
from planner.cycle.freeze import apply_freeze, check_frozen, explain_frozen
from planner.issues import Issues
from planner.cycle.roll import roll
from planner.cycle.freeze import FreezeEdit
from planner.pipeline import RunOptions, run_plan
from planner.input.validate import validate_workbook
from tests.builders import minimal_sheets, write
from tests.cycle.test_roll import planned, rolling_sheets


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("freeze")
    source, plan = planned(folder, rolling_sheets())
    nxt = roll(plan, source, folder / "next.xlsx")
    wb = load_workbook(nxt)
    assert wb["Demand"]["E1"].value == "2026Q4"
    wb["Demand"]["E2"] = 2000
    wb.save(nxt)
    return folder, plan, nxt


def summary(path):
    return {r[0]: r[1] for r in load_workbook(path)["Summary"].iter_rows(min_row=2, values_only=True)}


def column(path, sheet, name):
    wb = load_workbook(path)
    header = [c.value for c in wb[sheet][1]]
    j = header.index(name)
    return [r[j] for r in wb[sheet].iter_rows(min_row=2, values_only=True)]


def test_free_replan_moves_the_wafer(cycle):
    folder, _plan, nxt = cycle
    out = folder / "free.xlsx"
    outcome = run_plan(nxt, out)
    assert outcome.status == "optimal" and outcome.objective_usd == pytest.approx(205)
    assert column(out, "Wafers", "wafers") == pytest.approx([0, 1, 0, 0])
    assert column(out, "Deployments", "racks_deployed") == pytest.approx([0, 1, 0, 1])


def test_frozen_replan_keeps_commitments_and_reoptimises_the_rest(cycle):
    folder, plan, nxt = cycle
    out = folder / "frozen.xlsx"
    outcome = run_plan(nxt, out, RunOptions(model_edits=[FreezeEdit(plan, 2)]))
    assert outcome.status == "optimal" and outcome.objective_usd == pytest.approx(210)
    assert column(out, "Wafers", "wafers") == pytest.approx([1, 0, 0, 0])  # 2026Q2 released, kept
    assert column(out, "Deployments", "racks_deployed") == pytest.approx([0, 1, 0, 1])  # 2027Q1 re-optimised
    assert column(out, "Chips", "die_bank_end") == pytest.approx([0, 0, 10, 0])
    assert column(out, "Partners", "signed") == [True]
    assert summary(out)["frozen_decisions"] == 5


def test_apply_freeze_returns_each_fix_with_its_source(cycle):
    _folder, plan, nxt = cycle
    data, _issues = validate_workbook(nxt)
    model, sets = build_model(data)
    issues = Issues()
    fixes = apply_freeze(model, sets, data, plan, 2, issues)
    assert issues.ok and not len(issues)
    got = {(f["var"], f["index"]): (f["value"], f["source"]) for f in fixes}
    assert got == {
        ("W", ("L1", "F", 0)): (1.0, "plan.xlsx Wafers!D3"),
        ("W", ("L1", "F", 1)): (0.0, "plan.xlsx Wafers!D4"),
        ("Y", ("L1", "S", 0)): (0.0, "plan.xlsx Deployments!D3"),
        ("Y", ("L1", "S", 1)): (1.0, "plan.xlsx Deployments!D4"),
        ("A", "P"): (1.0, "plan.xlsx Partners!B2"),
    }
    assert model.W["L1", "F", 0].lb == model.W["L1", "F", 0].ub == 1.0
    assert model.W["L1", "F", 2].ub is None  # 2026Q4 is free
    assert not len(check_frozen(data, fixes))


def test_cli_run_with_freeze(cycle):
    folder, plan, nxt = cycle
    out = folder / "cli.xlsx"
    assert main(["-q", "run", str(nxt), "-o", str(out), "--previous", str(plan), "--freeze", "2"]) == 0
    assert summary(out)["objective_usd"] == pytest.approx(210)


def test_capacity_cut_below_committed_wafers(cycle, tmp_path):
    """FabCapacity 2026Q2 cut to 0.4 wafer, below the 1 wafer already released: infeasible. check_frozen names
    the cell and the excess (0.6); the Diagnosis' repair raises FabCapacity!B2 from 0.4 back to 1."""
    _folder, plan, nxt = cycle
    wb = load_workbook(nxt)
    wb["FabCapacity"]["B2"] = 0.4
    cut = tmp_path / "cut.xlsx"
    wb.save(cut)
    out = tmp_path / "cut.plan.xlsx"
    outcome = run_plan(cut, out, RunOptions(model_edits=[FreezeEdit(plan, 2)]))
    assert outcome.status == "infeasible" and outcome.exit_code == 3
    text = " ".join(str(c) for row in load_workbook(out)["Diagnosis"].iter_rows(values_only=True) for c in row if c)
    assert "raise FabCapacity!B2 from 0.4 to 1" in text
    # the conflict set names the frozen wafer in words at the previous plan's cell, not as W[L1,F,0] >= 1
    conflict = [r for r in load_workbook(out)["Diagnosis"].iter_rows(values_only=True) if r[0] == "Frozen decision"]
    assert [r[2:8] for r in conflict] == [("L1/F", "2026Q2", "plan.xlsx Wafers!D3", 1, "lower",
                                           "wafers started of L1/F in 2026Q2: frozen at 1 by the previous plan "
                                           "(--freeze)")]

    data, _issues = validate_workbook(cut)
    model, sets = build_model(data)
    fixes = apply_freeze(model, sets, data, plan, 2, Issues())
    [row] = check_frozen(data, fixes).itertuples()
    assert (row.check, row.cell, row.key, row.quarter) == ("frozen wafers above fab capacity", "FabCapacity!B2", "F",
                                                          "2026Q2")
    assert (row.value, row.limit, row.excess) == (pytest.approx(1), pytest.approx(0.4), pytest.approx(0.6))
    assert row.source == "plan.xlsx Wafers!D3"
    diag = Diagnosis("infeasible", summary=["The plan is infeasible: ..."])
    explain_frozen(diag, data, fixes)
    assert diag.summary[1].startswith("Frozen decisions no longer fit") and "FabCapacity!B2" in diag.summary[1]
    assert diag.checks["cell"].tolist() == ["FabCapacity!B2"]


def test_a_removed_route_is_an_error_at_the_previous_plans_cell(cycle, tmp_path):
    """The fab F is renamed G: the wafer released at F in 2026Q2 cannot be kept (the frozen 0 of 2026Q3 is
    harmless and dropped)."""
    _folder, plan, nxt = cycle
    wb = load_workbook(nxt)
    wb["Fabs"]["A2"], wb["Routes"]["B2"], wb["FabCapacity"]["A2"] = "G", "G", "G"
    moved = tmp_path / "moved.xlsx"
    wb.save(moved)
    outcome = run_plan(moved, tmp_path / "moved.plan.xlsx", RunOptions(model_edits=[FreezeEdit(plan, 2)]))
    assert outcome.status == "invalid" and outcome.exit_code == 2
    [error] = outcome.issues.errors
    assert error.cell == "plan.xlsx Wafers!D3" and "L1/F" in error.message
    assert not (tmp_path / "moved.plan.xlsx").exists()


def test_previous_plan_outside_the_horizon(cycle, tmp_path):
    _folder, plan, _nxt = cycle
    sheets = minimal_sheets(2, start="2030Q1")
    source = write(tmp_path, sheets)
    outcome = run_plan(source, tmp_path / "p.xlsx", RunOptions(model_edits=[FreezeEdit(plan, 1)]))
    assert outcome.status == "invalid"
    assert "none of the quarters to freeze" in outcome.issues.errors[0].message


def test_check_frozen_blocks_power_and_budget(tmp_path):
    """One quarter, site S (PUE 1, SitePower 0.05 MW, expansion 0.01 MW blocks at $1,000/MW, lead 0, at most 2),
    own budget $500, no partner. Frozen: 10 racks (0.1 MW, $10,000) and 3 blocks (0.03 MW, $30).
    Blocks: 3 > 2 by 1. Power: 0.1 MW needed, at most 0.05 + 3 frozen blocks x 0.01 = 0.08: 0.02 over.
    Budget: $10,030 against $500: $9,530 short."""
    sheets = minimal_sheets(1)
    sheets["SitePower"][1] = ["S", 0.05]
    sheets["SiteExpansion"] = [["site", "block_mw", "capex_usd_per_mw", "lead_quarters", "max_blocks"],
                               ["S", 0.01, 1000, 0, 2]]
    sheets["Budget"][1] = ["own_capex_usd", 500]
    data, issues = validate_workbook(write(tmp_path, sheets))
    assert data is not None, [str(i) for i in issues]
    fixes = [{"var": "Y", "index": ("L1", "S", 0), "value": 10.0, "source": "P.xlsx Deployments!D2"},
             {"var": "E", "index": ("S", 0), "value": 3.0, "source": "P.xlsx Power!E2"}]
    found = {r.check: r for r in check_frozen(data, fixes).itertuples()}
    assert set(found) == {"frozen blocks above max_blocks", "frozen racks above site power",
                          "frozen capex above budget"}
    blocks = found["frozen blocks above max_blocks"]
    assert (blocks.cell, blocks.excess) == ("SiteExpansion!E2", pytest.approx(1))
    power = found["frozen racks above site power"]
    assert (power.cell, power.value, power.limit) == ("SitePower!B2", pytest.approx(0.1), pytest.approx(0.08))
    budget = found["frozen capex above budget"]
    assert (budget.cell, budget.excess) == ("Budget!B2", pytest.approx(9530))
    assert "P.xlsx Deployments!D2" in budget.source and "P.xlsx Power!E2" in budget.source


def test_unmet_demand_in_a_frozen_quarter_is_the_freezes_not_cost(tmp_path):
    """The plan serves 1,000 tok/s with one rack from 2026Q1. Re-planned with 2026Q1's demand raised to 2,000 and
    that quarter frozen: its racks stay 1, 1,000 tok/s go unmet there. The reason used to read 'cost: serving
    costs more than the unmet penalty' (a frozen quarter's limits carry no price); it is the freeze."""
    sheets = minimal_sheets(2)
    sheets["Workloads"][1] = ["w", 5]
    src = write(tmp_path, sheets, "in.xlsx")
    plan = tmp_path / "plan.xlsx"
    assert main(["-q", "run", str(src), "-o", str(plan)]) == 0
    sheets["Demand"][1] = ["NA", "w", 2000, 1000]
    nxt = write(tmp_path, sheets, "next.xlsx")
    out = tmp_path / "frozen.xlsx"
    assert main(["-q", "run", str(nxt), "-o", str(out), "--previous", str(plan), "--freeze", "1"]) == 0
    reasons = dict(zip(column(out, "Serving", "quarter"), column(out, "Serving", "limited_by")))
    assert reasons["2026Q1"] == "frozen by --freeze: 2026Q1's racks, wafers and HBM are the previous plan's (plan.xlsx)"
    assert any("frozen by --freeze" in str(v) for k, v in summary(out).items() if str(k).startswith("unmet_reason"))
