"""Family 3, good dies: ``G[p,t] = sum_f W[p,f,t-L] * dies_per_wafer * yield[p,f,t-L] + ScheduledReceipts[p,t]``;
yield is that of the START quarter (Yield sheet, blank = Routes.yield); wafers started in the last L quarters
yield nothing inside the plan and are still paid."""

import pytest

from tests.builders import minimal_sheets, solve_sheets

from tests.model.helpers import Q, row, set_row


def test_lead_time_and_quarter_varying_yield(tmp_path):
    """Three quarters, lead 1 quarter, Routes.yield 0.8; Yield sheet L1/F: Q1 0.5, Q2 blank (-> 0.8), Q3 0.25.
    Demand 0, 1,000, 2,000 tok/s; penalty $5 per tok/s per quarter (a rack saves $5,000 per quarter).
      Dies arriving in Q2 come from Q1 starts at yield 0.5: 5 good dies per wafer.
      Dies arriving in Q3 come from Q1 starts (0.5) or Q2 starts (0.8: 8 per wafer).
      Q3 starts arrive in Q4, after the plan: they yield nothing -> not started.
    Rack 1 (needed from Q2): 10 dies / 5 = 2 Q1 wafers = $200, + $1,000 capex; saves $10,000 -> build.
    Rack 2 (needed in Q3): 10 dies from Q2 wafers: 10 / 8 = 1.25 wafers = $125 (from Q1 wafers it would be
    $200), + $1,000; saves $5,000 -> build.
    Objective = $200 + $125 + 2 x $1,000 = $2,325; W = 2, 1.25, 0.
    (Had the yield been taken at the arrival quarter, Q1 wafers would yield 0.8 and Q2 wafers 0.25:
    $125 + $125 + $2,000 = $2,250.)"""
    sheets = minimal_sheets(3)
    sheets["Routes"][1] = ["L1", "F", 10, 0.8, 1]
    sheets["Yield"] = [["product", "fab", Q[0], Q[1], Q[2]], ["L1", "F", 0.5, None, 0.25]]
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 0, 1000, 2000]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2325, rel=1e-6)
    assert s.value("W", "L1", "F", 0) == pytest.approx(2)
    assert s.value("W", "L1", "F", 1) == pytest.approx(1.25)
    assert s.value("W", "L1", "F", 2) == pytest.approx(0, abs=1e-9)
    assert s.value("Y", "L1", "S", 1) == pytest.approx(1)
    assert s.value("Y", "L1", "S", 2) == pytest.approx(1)
    assert row(s, "Chips", quarter=Q[1])["good_dies_in"] == pytest.approx(10)
    assert row(s, "Chips", quarter=Q[2])["good_dies_in"] == pytest.approx(10)
    w1 = row(s, "Wafers", quarter=Q[1])
    assert w1["good_dies_out"] == pytest.approx(10)
    assert w1["arrival_quarter"] == Q[2]
    assert s.table("Serving")["unmet_tps"].sum() == pytest.approx(0, abs=1e-6)


def test_scheduled_receipts_and_late_starts_not_made(tmp_path):
    """Three quarters, lead 2 quarters, yield 1. ScheduledReceipts L1: 10 dies in Q1, 10 in Q2.
    Demand 1,000, 2,000, 3,000 tok/s; penalty $5.
      Q1: the 10 received dies -> rack 1 ($1,000 capex).  Q2: 10 received dies -> rack 2 ($1,000).
      Q3: the only dies that can arrive come from Q1 starts (lead 2): 1 wafer ($100) -> rack 3 ($1,000).
      Q2 and Q3 starts would arrive in Q4/Q5, after the plan: none are started.
    Each rack saves >= $5,000 > its cost. Objective = $100 + 3 x $1,000 = $3,100, nothing unmet."""
    sheets = minimal_sheets(3)
    sheets["Routes"][1] = ["L1", "F", 10, 1, 2]
    sheets["ScheduledReceipts"] = [["product", Q[0], Q[1], Q[2]], ["L1", 10, 10, None]]
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 1000, 2000, 3000]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(3100, rel=1e-6)
    assert s.value("W", "L1", "F", 0) == pytest.approx(1)
    assert s.value("W", "L1", "F", 1) == pytest.approx(0, abs=1e-9)
    assert s.value("W", "L1", "F", 2) == pytest.approx(0, abs=1e-9)
    for t in range(3):
        assert s.value("Y", "L1", "S", t) == pytest.approx(1)
        assert row(s, "Chips", quarter=Q[t])["good_dies_in"] == pytest.approx(10)
    assert row(s, "Wafers", quarter=Q[0])["arrival_quarter"] == Q[2]


def test_wafers_started_in_last_lead_quarters_yield_nothing_but_are_paid(tmp_path):
    """Two quarters, lead 1. FabCapacity F: 0 in Q1, 1,000 in Q2. FabMinWafers F: 2 in Q2.
    Demand 0 then 1,000 tok/s; penalty $5.
    Q2's demand needs dies arriving in Q2, i.e. Q1 starts: capacity 0. Q2 starts arrive in Q3, outside the
    plan, so they cannot serve anything: all 1,000 tok/s of Q2 is unmet -> $5,000.
    The 2 take-or-pay wafers of Q2 are still paid: $200.
    Objective = $5,200."""
    sheets = minimal_sheets(2)
    sheets["Routes"][1] = ["L1", "F", 10, 1, 1]
    sheets["FabCapacity"][1] = ["F", 0, 1000]
    sheets["FabMinWafers"] = [["fab", Q[0], Q[1]], ["F", None, 2]]
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 0, 1000]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(5200, rel=1e-6)
    assert s.value("WP", "F", 1) == pytest.approx(2)
    assert row(s, "Serving", quarter=Q[1])["unmet_tps"] == pytest.approx(1000)
    assert row(s, "Chips", quarter=Q[1])["good_dies_in"] == pytest.approx(0, abs=1e-9)
    assert row(s, "Deployments", quarter=Q[1])["racks_installed"] == pytest.approx(0, abs=1e-9)
