"""Family 17, HBM take-or-pay: ``HP[v,t] >= HB[v,t]``, ``HP[v,t] >= HBMMinStacks[v,t]``; the HBM cost is charged
on HP (paid), not on HB (bought). Stacks paid but not bought are not delivered."""

import pytest

from planner.input.validate import validate_workbook
from tests.builders import minimal_sheets, solve_sheets, write

from tests.model.helpers import Q, row, set_row


def _sheets(n=1):
    """L1 needs 1 HBM stack per chip from vendor V ($10 per stack, holding $1 per stack per quarter, supply 100);
    one quarter, demand 2,000 tok/s, unmet penalty $1.15 per tok/s.
    A rack = 10 chips = 1 wafer ($100) + 10 stacks ($100) + $1,000 capex = $1,200 > $1,150 it saves."""
    sheets = minimal_sheets(n)
    set_row(sheets, "Products", "L1", stacks_per_chip=1)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=1.15)
    sheets["Demand"][1] = ["NA", "w"] + [2000] * n
    sheets["HBMVendors"] = [["vendor", "price_usd_per_stack", "holding_cost_usd"], ["V", 10, 1]]
    sheets["HBMSupply"] = [["vendor"] + Q[:n], ["V"] + [100] * n]
    sheets["HBMQualification"] = [["vendor", "product"], ["V", "L1"]]
    return sheets


def test_without_floor_no_rack_pays(tmp_path):
    """Control case, no HBMMinStacks sheet: $1,200 per rack > $1,150 saved, so nothing is built.
    Objective = 2,000 x $1.15 = $2,300; no stack bought or paid."""
    s = solve_sheets(tmp_path, _sheets())
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2300, rel=1e-6)
    assert s.value("HB", "V", 0) == pytest.approx(0, abs=1e-9)
    hbm = row(s, "HBM", vendor="V", quarter=Q[0])
    assert hbm["paid"] == pytest.approx(0, abs=1e-9) and hbm["min_stacks"] == 0


def test_floor_is_paid_and_makes_the_first_rack_pay(tmp_path):
    """HBMMinStacks V = 10: 10 stacks are paid ($100) whatever is bought. The first rack's stacks are then
    already paid: it costs $1,100 < $1,150 saved -> build it (HB = HP = 10). A second rack pays its own stacks:
    $1,200 > $1,150 -> not built. Objective = $100 + $1,100 + 1,000 x $1.15 = $2,350 (< $2,300 + $100, the
    control plus an unused floor)."""
    sheets = _sheets()
    sheets["HBMMinStacks"] = [["vendor", Q[0]], ["V", 10]]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2350, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(1)
    assert s.value("HB", "V", 0) == pytest.approx(10)
    assert s.value("HP", "V", 0) == pytest.approx(10)
    assert s.solution.cost_breakdown_usd["hbm"] == pytest.approx(100, rel=1e-6)
    hbm = row(s, "HBM", vendor="V", quarter=Q[0])
    assert hbm["paid"] == pytest.approx(10) and hbm["min_stacks"] == pytest.approx(10)


def test_floor_paid_but_not_delivered(tmp_path):
    """Demand 0, floor 7 stacks: 7 x $10 = $70 is paid; buying them would only add $1 holding per stack, so
    HB = 0 < HP = 7 (paid, not delivered). Objective = $70. The floor shows in Bottlenecks at its input cell."""
    sheets = _sheets()
    sheets["Demand"][1] = ["NA", "w", 0]
    sheets["HBMMinStacks"] = [["vendor", Q[0]], ["V", 7]]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(70, rel=1e-6)
    assert s.value("HB", "V", 0) == pytest.approx(0, abs=1e-9)
    hbm = row(s, "HBM", vendor="V", quarter=Q[0])
    assert hbm["paid"] == pytest.approx(7) and hbm["bought"] == pytest.approx(0, abs=1e-9)
    floor = s.table("Bottlenecks").query("family == 'hbm_take_or_pay'")
    assert list(floor["input_cell"]) == ["HBMMinStacks!B2"]


def test_unknown_vendor_is_a_located_error(tmp_path):
    sheets = _sheets()
    sheets["HBMMinStacks"] = [["vendor", Q[0]], ["Nobody", 10]]
    data, issues = validate_workbook(write(tmp_path, sheets))
    assert data is None
    [err] = issues.errors
    assert err.cell == "HBMMinStacks!A2" and "unknown vendor 'Nobody'" in err.message


def test_the_summary_shows_stacks_paid_beside_stacks_bought(tmp_path):
    """The floor case above (7 stacks paid, none bought): the Summary's key decisions add an hbm_stacks_paid row,
    so the $70 of HBM is not read as a quarter that spends nothing on HBM. Without a floor there is no such row."""
    from openpyxl import load_workbook
    from planner.pipeline import run_plan
    sheets = _sheets()
    sheets["Demand"][1] = ["NA", "w", 0]
    sheets["HBMMinStacks"] = [["vendor", Q[0]], ["V", 7]]
    plans = {}
    for name, s in (("floor", sheets), ("none", _sheets())):
        out = tmp_path / f"{name}.plan.xlsx"
        assert run_plan(write(tmp_path, s, f"{name}.xlsx"), out).status == "optimal"
        plans[name] = {r[0]: r[1:3] for r in load_workbook(out)["Summary"].iter_rows(values_only=True) if r[0]}
    assert plans["floor"]["hbm_stacks_bought"] == (0, 0) and plans["floor"]["hbm_stacks_paid"] == (7, 7)
    assert "hbm_stacks_paid" not in plans["none"]
