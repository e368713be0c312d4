"""Families 14-15, capex and own budget: ``C[s,t] = rack capex + block capex = O[s,t] + sum_n F[n,s,t]``;
``sum_s O[s,t] <= Budget[t]`` per quarter, or cumulatively over 0..t when budget_carryover is TRUE."""

import pytest

from tests.builders import minimal_sheets, solve_sheets

from tests.model.helpers import Q, row, set_row


def _sheets(carryover):
    """Two quarters, demand 0 then 2,000 tok/s, penalty $2 (a rack saves $2,000 in Q2).
    SitePower 0 MW in Q1 (nothing can be deployed in Q1), 100 MW in Q2. Budget own_capex_usd: $1,500 in Q1,
    $0 in Q2."""
    sheets = minimal_sheets(2, budget_carryover=carryover)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=2)
    sheets["Demand"][1] = ["NA", "w", 0, 2000]
    sheets["SitePower"][1] = ["S", 0, 100]
    sheets["Budget"][1] = ["own_capex_usd", 1500, 0]
    return sheets


def test_budget_binding_without_carryover(tmp_path):
    """budget_carryover FALSE: racks can only be deployed in Q2 (power), when the budget is $0: O[Q2] <= 0,
    so no rack. 2,000 tok/s unmet in Q2 x $2 = $4,000. Objective = $4,000."""
    s = solve_sheets(tmp_path, _sheets(False))
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(4000, rel=1e-6)
    assert s.value("Y", "L1", "S", 1) == pytest.approx(0, abs=1e-9)
    assert row(s, "Serving", quarter=Q[1])["unmet_tps"] == pytest.approx(2000)


def test_budget_binding_with_carryover(tmp_path):
    """budget_carryover TRUE: O[Q1] <= 1,500 and O[Q1] + O[Q2] <= 1,500 + 0. Q1's unspent $1,500 funds
    1.5 racks in Q2 (each $1,100 saves $2,000): $1,650; unmet 500 x $2 = $1,000. Objective = $2,650.
    Budget shadow price in Q2 (the binding cumulative row): $1 more -> 0.001 rack -> 1 tok/s served:
    saves $2, costs the $1 of own capex itself plus $0.10 of wafer -> $0.90 per USD. Q1's row is slack: 0."""
    s = solve_sheets(tmp_path, _sheets(True))
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2650, rel=1e-6)
    assert s.value("Y", "L1", "S", 1) == pytest.approx(1.5)
    assert s.value("O", "S", 1) * 1e6 == pytest.approx(1500)
    assert row(s, "Serving", quarter=Q[1])["unmet_tps"] == pytest.approx(500)
    budget = row(s, "Budget", quarter=Q[1])
    assert budget["own_capex_usd"] == pytest.approx(1500)
    assert budget["shadow_price"] == pytest.approx(0.9, rel=1e-6)
    assert row(s, "Budget", quarter=Q[0])["shadow_price"] == pytest.approx(0, abs=1e-9)


def test_expansion_capex_counts_against_budget(tmp_path):
    """Two quarters, demand 2,000 tok/s in both, penalty $5, SitePower 0.01 MW (1 rack),
    SiteExpansion S: 0.01 MW blocks at $50,000/MW = $500 a block, lead 1, max_blocks 5.
    Budget: $2,000 in Q1, $1,000 in Q2, no carryover.
      Q1: power for 1 rack: rack 1 ($1,000 capex) -> 1,000 tok/s unmet in Q1 ($5,000, unavoidable: a block
          started in Q1 energises in Q2). Start a block in Q1: $500. Q1 own capex $1,500 <= $2,000.
      Q2: rack 2 ($1,000 capex, = Q2 budget) on the new block. All demand served.
    Objective = 2 x $100 wafers + $2,000 rack capex + $500 block + $5,000 = $7,700.
    The Capex table shows the block's $500 in Q1's own capex."""
    sheets = minimal_sheets(2)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 2000, 2000]
    sheets["SitePower"][1] = ["S", 0.01, 0.01]
    sheets["SiteExpansion"] = [["site", "block_mw", "capex_usd_per_mw", "lead_quarters", "max_blocks"],
                               ["S", 0.01, 50000, 1, 5]]
    sheets["Budget"][1] = ["own_capex_usd", 2000, 1000]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(7700, rel=1e-6)
    assert s.value("E", "S", 0) == pytest.approx(1)
    assert row(s, "Capex", site="S", quarter=Q[0])["own_usd"] == pytest.approx(1500)
    assert row(s, "Capex", site="S", quarter=Q[1])["own_usd"] == pytest.approx(1000)


def test_budget_blocks_block_when_block_capex_exceeds_it(tmp_path):
    """As the previous plan but Q1 budget $1,400: rack 1 ($1,000) + block ($500) = $1,500 > $1,400.
    Options in Q1: (a) rack 1 + no block -> Q2 stuck at 1 rack; (b) 0.9 rack + block ($900 + $500 = $1,400).
      (a): Q1 1,000 unmet, Q2 1,000 unmet: $10,000 penalty + $1,100 = $11,100.
      (b): Q1 0.9 rack ($990) -> 1,100 tok/s unmet ($5,500); block $500; Q2: 0.1 + 1 = 1.1 more racks fit
           (power 0.02 MW = 2 racks) but Q2 budget $1,000 buys 1 rack: R = 1.9 -> 100 tok/s unmet ($500);
           Q2 rack $1,100. Total $990 + $500 + $1,100 + $5,500 + $500 = $8,590.
      E is integer. With E[Q1] = 1 the Q1 budget allows x <= 0.9 racks in Q1; each rack less in Q1 saves
      $1,100 but loses 1,000 tok/s x $5 in both quarters: x = 0.9 is best. E = 2 only lowers x (Q2's $1,000
      budget, not power, then limits Q2); a Q2 start energises after the plan.
    Objective = $8,590."""
    sheets = minimal_sheets(2)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 2000, 2000]
    sheets["SitePower"][1] = ["S", 0.01, 0.01]
    sheets["SiteExpansion"] = [["site", "block_mw", "capex_usd_per_mw", "lead_quarters", "max_blocks"],
                               ["S", 0.01, 50000, 1, 5]]
    sheets["Budget"][1] = ["own_capex_usd", 1400, 1000]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(8590, rel=1e-6)
    assert s.value("E", "S", 0) == pytest.approx(1)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(0.9)
    assert s.value("Y", "L1", "S", 1) == pytest.approx(1)
