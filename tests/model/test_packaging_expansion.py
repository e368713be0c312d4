"""Family 19, packaging-line expansion: integer ``K[k,t]``, ``sum_t K[k,t] <= max_blocks[k]``, and family 5 becomes
``sum_{p on k} B[p,t] <= PackagingCapacity[k,t] + block_chips[k] * sum_{tau <= t - lead[k]} K[k,tau]``; the block's
capex is own money spent when started: in the own budget (15) and in the objective as own capex (at a_t)."""

import pytest

from planner.input.validate import validate_workbook
from tests.builders import minimal_sheets, solve_sheets, write

from tests.model.helpers import Q, row, set_row


def _sheets(budget_q1=1e9, expansion=True):
    """Two quarters, demand 1,000 then 3,000 tok/s, penalty $2 per tok/s. Line `default` packages 10 chips a
    quarter (1 rack). PackagingExpansion: blocks of 10 chips per quarter, $500 each, lead 1 quarter, at most 1."""
    sheets = minimal_sheets(2)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=2)
    sheets["Demand"][1] = ["NA", "w", 1000, 3000]
    sheets["PackagingCapacity"] = [["packaging_line", Q[0], Q[1]], ["default", 10, 10]]
    if expansion:
        sheets["PackagingExpansion"] = [["packaging_line", "block_chips", "capex_usd_per_block", "lead_quarters",
                                         "max_blocks"], ["default", 10, 500, 1, 1]]
    sheets["Budget"] = [["item", Q[0], Q[1]], ["own_capex_usd", budget_q1, 1e9]]
    return sheets


def test_without_expansion_packaging_caps_the_racks(tmp_path):
    """Control: 10 chips a quarter -> one rack in Q1 ($1,100), one more in Q2 ($1,100); Q2 leaves 1,000 tok/s
    unmet ($2,000). Objective = $4,200."""
    s = solve_sheets(tmp_path, _sheets(expansion=False))
    assert s.objective == pytest.approx(4200, rel=1e-6)
    assert row(s, "Serving", quarter=Q[1])["unmet_tps"] == pytest.approx(1000)


def test_block_started_a_lead_time_ahead(tmp_path):
    """A block started in Q1 (lead 1) adds 10 chips in Q2: the third rack costs $1,100 + $500 = $1,600 < $2,000
    saved. A block started in Q2 would add capacity only after the plan. Objective = 3 x $1,100 + $500 = $3,800.
    Own capex in Q1 = $1,000 rack + $500 block = $1,500 (Budget sheet); Q2 capacity 20 chips."""
    s = solve_sheets(tmp_path, _sheets())
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(3800, rel=1e-6)
    assert s.value("K", "default", 0) == pytest.approx(1)
    assert s.value("K", "default", 1) == pytest.approx(0, abs=1e-9)
    assert s.solution.cost_breakdown_usd["own_capex"] == pytest.approx(3500, rel=1e-6)
    q2 = row(s, "Packaging", packaging_line="default", quarter=Q[1])
    assert q2["capacity"] == pytest.approx(20) and q2["packaged"] == pytest.approx(20)
    assert row(s, "Packaging", packaging_line="default", quarter=Q[0])["blocks_started"] == pytest.approx(1)
    assert row(s, "Budget", quarter=Q[0])["own_capex_usd"] == pytest.approx(1500)
    assert row(s, "Serving", quarter=Q[1])["unmet_tps"] == pytest.approx(0, abs=1e-6)


def test_block_capex_counts_in_the_own_budget(tmp_path):
    """Own budget in Q1 = $1,200: the Q1 rack ($1,000) and the block ($500) no longer fit together. With the
    block, at most 0.7 rack in Q1: $300 wafers + $3,000 racks + $500 + 300 tok/s x $2 unmet = $4,400 > $4,200
    without it. So no block: objective = $4,200 (the control)."""
    s = solve_sheets(tmp_path, _sheets(budget_q1=1200))
    assert s.objective == pytest.approx(4200, rel=1e-6)
    assert s.value("K", "default", 0) == pytest.approx(0, abs=1e-9)


def test_expansion_of_a_line_without_capacity_row_is_a_located_error(tmp_path):
    sheets = _sheets()
    sheets["PackagingExpansion"].append(["CoWoS", 10, 500, 1, 1])
    data, issues = validate_workbook(write(tmp_path, sheets))
    assert data is None
    [err] = issues.errors
    assert err.cell == "PackagingExpansion!A3" and "add its row to PackagingCapacity" in err.message


@pytest.mark.parametrize("block_chips, lead, cell, words", [
    (0, 1, "PackagingExpansion!B2", "a block of 0 chips adds nothing"),
    (10, 2, "PackagingExpansion!D2", "a block takes 2 quarters to come on line, as long as the horizon or longer"),
])
def test_an_expansion_that_can_add_nothing_is_warned(tmp_path, block_chips, lead, cell, words):
    """Two quarters: blocks of 0 chips, or a lead of 2 quarters (a block started in 2026Q1 adds chips from 2026Q3,
    after the plan), can never add capacity: a warning at the cell, and the plan is the control's $4,200."""
    sheets = _sheets()
    sheets["PackagingExpansion"][1] = ["default", block_chips, 500, lead, 1]
    data, issues = validate_workbook(write(tmp_path, sheets))
    assert data is not None
    assert [(w.cell, words in w.message) for w in issues.warnings] == [(cell, True)]
    assert solve_sheets(tmp_path, sheets).objective == pytest.approx(4200, rel=1e-6)


def test_own_capex_adds_up_the_same_in_summary_plan_by_quarter_and_diff(tmp_path):
    """The case above: own capex $1,000 (Q1 rack) + $500 (block, on no site) + $2,000 (Q2 racks) = $3,500. Summary's
    own_capex_usd, PlanByQuarter's own_capex_usd row ($1,500 in Q1, $2,000 in Q2) and diff's window all say $3,500;
    the Capex sheet (by site) holds the $3,000 of racks."""
    from planner.cycle.diff import load_checked_plan, window
    from planner.output.plan_writer import plan_by_quarter
    from planner.pipeline import run_plan

    out = tmp_path / "p.xlsx"
    assert run_plan(write(tmp_path, _sheets()), out).exit_code == 0
    s = solve_sheets(tmp_path, _sheets())
    assert s.solution.kpis["own_capex_usd"] == pytest.approx(3500, rel=1e-6)
    quarters = s.data.quarters
    by_quarter = plan_by_quarter(s.data, s.solution).set_index("metric")
    assert [float(x) for x in by_quarter.loc["own_capex_usd", quarters]] == [pytest.approx(1500), pytest.approx(2000)]
    assert float(s.table("Capex")["own_usd"].sum()) == pytest.approx(3000)
    assert window(load_checked_plan(out), quarters)["own_capex_usd"] == pytest.approx(3500, rel=1e-6)
