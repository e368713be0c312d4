"""Family 4, die bank: ``ID[p,t] = ID[p,t-1] + G[p,t] - B[p,t]``, ``ID[p,-1] = Products.initial_die_bank``;
``die_holding_cost[p] * ID[p,t]`` is charged on every end-of-quarter bank."""

import pytest

from tests.builders import minimal_sheets, solve_sheets

from tests.model.helpers import Q, row, set_row


def test_initial_die_bank_used_before_new_wafers_with_holding_cost(tmp_path):
    """Two quarters, demand 1,000 then 2,000 tok/s, penalty $5. L1: initial_die_bank 15 dies,
    die_holding_cost $1 per die per quarter, chip_holding_cost $2 per chip per quarter.
    SitePower S: 0.01 MW in Q1 (exactly 1 rack of 10 kW at PUE 1), 100 MW in Q2.
      Q1: only one rack fits. Its 10 chips come from 10 bank dies (free) rather than 1 new wafer ($100).
          5 dies remain and cannot be discarded: kept as dies ($1 each) beats packaging them into chips
          ($2 each) -> ID[Q1] = 5, holding $5.
      Q2: rack 2 needs 10 dies: the 5 banked + 5 new = 0.5 wafer started in Q2 ($50). (Started in Q1 they
          would add 5 dies x $1 of holding.) ID[Q2] = 0.
      Capex 2 x $1,000 = $2,000; nothing unmet (each rack saves >= $5,000).
    Objective = $5 + $50 + $2,000 = $2,055."""
    sheets = minimal_sheets(2)
    set_row(sheets, "Products", "L1", initial_die_bank=15, die_holding_cost_usd=1, chip_holding_cost_usd=2)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 1000, 2000]
    sheets["SitePower"][1] = ["S", 0.01, 100]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2055, rel=1e-6)
    assert s.value("W", "L1", "F", 0) == pytest.approx(0, abs=1e-9)
    assert s.value("W", "L1", "F", 1) == pytest.approx(0.5)
    assert s.value("B", "L1", 0) == pytest.approx(10)
    assert s.value("B", "L1", 1) == pytest.approx(10)
    assert s.value("ID", "L1", 0) == pytest.approx(5)
    assert s.value("ID", "L1", 1) == pytest.approx(0, abs=1e-9)
    assert s.value("IC", "L1", 0) == pytest.approx(0, abs=1e-9)
    assert row(s, "Chips", quarter=Q[0])["die_bank_end"] == pytest.approx(5)
    assert s.solution.cost_breakdown_usd["holding"] == pytest.approx(5, rel=1e-6)


def test_die_bank_alone_serves_without_any_wafer(tmp_path):
    """One quarter, demand 1,000 tok/s, penalty $2, L1 initial_die_bank 10.
    The rack's 10 chips come from the bank: cost = $1,000 capex only (a new wafer would add $100), and it
    saves $2,000 of penalty. Objective = $1,000; W = 0."""
    sheets = minimal_sheets(1)
    set_row(sheets, "Products", "L1", initial_die_bank=10)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=2)
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(1000, rel=1e-6)
    assert s.value("W", "L1", "F", 0) == pytest.approx(0, abs=1e-9)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(1)
