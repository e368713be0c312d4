"""Family 8, finished chips: ``IC[p,t] = IC[p,t-1] + B[p,t] - chips_per_rack[p] * sum_s Y[p,s,t]``,
``IC[p,-1] = initial_chip_inventory``; chips packaged in t can be deployed in t."""

import pytest

from tests.builders import minimal_sheets, solve_sheets

from tests.model.helpers import Q, add_row, row, set_row


def test_initial_chip_inventory_deployed_first(tmp_path):
    """Two quarters, demand 1,000 then 2,000 tok/s, penalty $5. L1: initial_chip_inventory 10 chips,
    chip_holding_cost $1 and die_holding_cost $1 per unit per quarter. SitePower 0.01 MW in Q1 (1 rack), 100 in Q2.
      Q1: one rack, from the 10 chips on hand: $1,000 capex and no holding. (Building it from a new wafer
          instead would cost $100 more and the 10 chips would be held: +$10.) IC[Q1] = 0.
      Q2: rack 2 from 1 wafer started in Q2 ($100) and packaged and deployed in Q2 (lead 0); a Q1 start
          would add 10 dies x $1 of holding. $1,000 capex.
    Objective = $1,000 + $100 + $1,000 = $2,100."""
    sheets = minimal_sheets(2)
    set_row(sheets, "Products", "L1", initial_chip_inventory=10, chip_holding_cost_usd=1, die_holding_cost_usd=1)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 1000, 2000]
    sheets["SitePower"][1] = ["S", 0.01, 100]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2100, rel=1e-6)
    assert s.value("B", "L1", 0) == pytest.approx(0, abs=1e-9)
    assert s.value("B", "L1", 1) == pytest.approx(10)
    assert s.value("W", "L1", "F", 0) == pytest.approx(0, abs=1e-9)
    assert s.value("W", "L1", "F", 1) == pytest.approx(1)
    assert s.value("IC", "L1", 0) == pytest.approx(0, abs=1e-9)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(1)
    assert s.value("Y", "L1", "S", 1) == pytest.approx(1)
    chips = row(s, "Chips", quarter=Q[0])
    assert chips["chips_deployed"] == pytest.approx(10)
    assert chips["chip_inventory_end"] == pytest.approx(0, abs=1e-9)


def test_leftover_chip_inventory_is_held(tmp_path):
    """One quarter, demand 1,000 tok/s, penalty $5, initial_chip_inventory 15, chip_holding_cost $2.
    One rack uses 10 chips ($1,000 capex); 5 chips are left at the end of Q1: 5 x $2 = $10 holding.
    (Deploying 1.5 racks to avoid holding costs $500 more.) Objective = $1,010."""
    sheets = minimal_sheets(1)
    set_row(sheets, "Products", "L1", initial_chip_inventory=15, chip_holding_cost_usd=2)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(1010, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(1)
    assert s.value("IC", "L1", 0) == pytest.approx(5)


def test_chips_of_a_product_that_serves_nothing_can_still_be_deployed(tmp_path):
    """One quarter, no demand. A retired SKU L2 (10 chips/rack, 10 kW, rack capex $1, no route, no Throughput
    row) has initial_chip_inventory 10 and chip_holding_cost $100 per chip per quarter.
    Formulation (8): IC[L2,Q1] = 10 + B - 10 x sum_s Y[L2,s,Q1]; Y is a decision variable on every (p, s)
    (only H, Z and F are restricted to listed pairs). Holding the 10 chips costs 10 x $100 = $1,000;
    deploying them as one rack at S costs $1 capex, 0.01 MW of S's 100 MW, power free -> $1.
    Objective = $1; Y[L2,S,Q1] = 1, IC = 0."""
    sheets = minimal_sheets(1)
    sheets["Demand"][1] = ["NA", "w", 0]
    add_row(sheets, "Products", "L2", 10, 10, 1, 40)
    set_row(sheets, "Products", "L2", initial_chip_inventory=10, chip_holding_cost_usd=100)
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(1, rel=1e-6)
    assert s.value("IC", "L2", 0) == pytest.approx(0, abs=1e-9)
