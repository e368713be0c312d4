"""Family 18, qualification from a quarter: ``H[v,p,t]`` exists only for ``t >= HBMQualification.first_quarter``
(blank: from the start; a first quarter after the horizon: never inside the plan)."""

import pytest

from planner.input.validate import validate_workbook
from tests.builders import minimal_sheets, solve_sheets, write

from tests.model.helpers import Q, row, set_row


def _sheets(b_first):
    """Two quarters, demand 1,000 then 2,000 tok/s, penalty $5 (a rack always pays). L1 needs 1 stack per chip.
    Vendor A: $10 per stack, qualified from the start; vendor B: $1 per stack, qualified from `b_first`.
    Supply 100 stacks each, each quarter. Racks live 40 quarters, so the Q1 rack still serves in Q2."""
    sheets = minimal_sheets(2)
    set_row(sheets, "Products", "L1", stacks_per_chip=1)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 1000, 2000]
    sheets["HBMVendors"] = [["vendor", "price_usd_per_stack"], ["A", 10], ["B", 1]]
    sheets["HBMSupply"] = [["vendor"] + Q[:2], ["A", 100, 100], ["B", 100, 100]]
    sheets["HBMQualification"] = [["vendor", "product", "first_quarter"], ["A", "L1", None], ["B", "L1", b_first]]
    return sheets


def test_later_qualification_forces_the_dearer_vendor_first(tmp_path):
    """B qualified from 2026Q2. Q1's rack (10 chips) must use A's stacks: $1,100 + 10 x $10 = $1,200 (B's stacks
    bought in Q1 could only be held, and H[B,L1,Q1] does not exist). Q2's second rack uses B: $1,100 + 10 x $1 =
    $1,110. Objective = $2,310 (with B qualified from the start: 2 x $1,110 = $2,220)."""
    s = solve_sheets(tmp_path, _sheets(Q[1]))
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2310, rel=1e-6)
    assert ("B", "L1", 0) not in s.model.H
    assert s.value("H", "A", "L1", 0) == pytest.approx(10)
    assert s.value("H", "B", "L1", 1) == pytest.approx(10)
    assert row(s, "HBMUse", vendor="B", quarter=Q[1])["stacks"] == pytest.approx(10)
    assert len(s.table("HBMUse").query("vendor == 'B' and quarter == @Q[0]")) == 0


def test_blank_first_quarter_is_from_the_start(tmp_path):
    """B qualified from the start (blank): both racks use B's $1 stacks (in Q1 or Q2: racks and stacks cost the
    same in either, no discounting). Objective = 2 x $1,110 = $2,220; A is not used."""
    s = solve_sheets(tmp_path, _sheets(None))
    assert s.objective == pytest.approx(2220, rel=1e-6)
    assert s.value("H", "B", "L1", 0) + s.value("H", "B", "L1", 1) == pytest.approx(20)
    assert s.value("H", "A", "L1", 0) + s.value("H", "A", "L1", 1) == pytest.approx(0, abs=1e-9)


def test_first_quarter_after_the_horizon_is_never(tmp_path):
    """B qualified from 2030Q1, after the plan: only A is used. Objective = 2 x $1,200 = $2,400; a warning says so."""
    sheets = _sheets("2030Q1")
    data, issues = validate_workbook(write(tmp_path, sheets, "check.xlsx"))
    assert any(w.cell == "HBMQualification!C3" and "never used" in w.message for w in issues.warnings)
    s = solve_sheets(tmp_path, sheets)
    assert s.objective == pytest.approx(2400, rel=1e-6)
    assert not any(v == "B" for (v, _p, _t) in s.model.H)


def test_first_quarter_that_is_not_a_quarter_is_a_located_error(tmp_path):
    data, issues = validate_workbook(write(tmp_path, _sheets("soon")))
    assert data is None
    [err] = issues.errors
    assert err.cell == "HBMQualification!C3" and err.column == "first_quarter"
