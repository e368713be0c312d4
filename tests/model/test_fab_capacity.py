"""Family 1, fab capacity: ``sum_p W[p,f,t] <= FabCapacity[f,t]``; its dual is reported in
Fabs.shadow_price_usd_per_wafer (USD the objective falls by per extra wafer of capacity)."""

import pytest

from tests.builders import minimal_sheets, solve_sheets

from tests.model.helpers import Q, add_row, row, set_row


def test_capacity_binds_demand_unmet_and_shadow_price(tmp_path):
    """Two quarters, demand 5,000 tok/s in each, unmet penalty $2 per tok/s per quarter.
    FabCapacity F: 3 wafers in Q1 (2026Q1), 1,000 in Q2.

    A rack = 1 wafer ($100) + $1,000 = $1,100 and serves 1,000 tok/s, i.e. saves $2,000 per quarter it serves
    (life 40: a Q1 rack serves both quarters, saving $4,000; a Q2 rack saves $2,000). Both exceed $1,100, so
    every rack the wafers allow is built, up to demand.
      Q1: 3 wafers -> 30 dies (lead 0, yield 1) -> 3 racks -> 3,000 tok/s; 2,000 tok/s unmet -> $4,000.
      Q2: 2 more racks (wafers plentiful) -> 5 racks -> 5,000 tok/s, nothing unmet.
    Objective = 5 racks x $1,100 + $4,000 = $9,500.
    Shadow price of Q1 capacity: one more Q1 wafer moves one rack from Q2 to Q1 (same $1,100) and serves
    1,000 tok/s more in Q1: saves $2,000 (one wafer less costs the same $2,000, so the dual is unique).
    Q2 capacity is slack: shadow price 0."""
    sheets = minimal_sheets(2)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=2)
    sheets["Demand"][1] = ["NA", "w", 5000, 5000]
    sheets["FabCapacity"][1] = ["F", 3, 1000]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(9500, rel=1e-6)
    assert s.value("W", "L1", "F", 0) == pytest.approx(3)
    assert s.value("W", "L1", "F", 1) == pytest.approx(2)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(3)
    assert s.value("Y", "L1", "S", 1) == pytest.approx(2)
    assert row(s, "Serving", quarter=Q[0])["unmet_tps"] == pytest.approx(2000)
    assert row(s, "Serving", quarter=Q[1])["unmet_tps"] == pytest.approx(0, abs=1e-6)
    q1 = row(s, "Fabs", fab="F", quarter=Q[0])
    assert q1["wafers_started"] == pytest.approx(3)
    assert q1["utilization"] == pytest.approx(1.0)
    assert q1["shadow_price_usd_per_wafer"] == pytest.approx(2000, rel=1e-6)
    assert row(s, "Fabs", fab="F", quarter=Q[1])["shadow_price_usd_per_wafer"] == pytest.approx(0, abs=1e-6)


def test_capacity_is_shared_by_products_at_the_fab(tmp_path):
    """One quarter. Two identical products on fab F: L1 serves workload w (penalty $2), L2 serves w2
    (penalty $3); demand 3,000 tok/s of each. FabCapacity F = 4 wafers for both together.

    Each wafer makes one rack of either product ($1,100). An L2 rack saves $3,000, an L1 rack $2,000: both pay,
    L2 first. L2: 3 racks (its demand) = 3 wafers; the 4th wafer -> 1 L1 rack. Capacity binds (3 + 1 = 4).
    Unmet: w 3,000 - 1,000 = 2,000 tok/s x $2 = $4,000; w2 none.
    Objective = 4 x $1,100 + $4,000 = $8,400.
    Shadow price: one more wafer -> one more L1 rack: $2,000 - $1,100 = $900 (one less loses the L1 rack: same)."""
    sheets = minimal_sheets(1)
    add_row(sheets, "Products", "L2", 10, 10, 1000, 40)
    add_row(sheets, "Routes", "L2", "F", 10, 1, 0)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=2)
    add_row(sheets, "Workloads", "w2", 3)
    add_row(sheets, "Throughput", "L2", "w2", 100)
    sheets["Demand"] = [["region", "workload", Q[0]], ["NA", "w", 3000], ["NA", "w2", 3000]]
    sheets["FabCapacity"][1] = ["F", 4]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(8400, rel=1e-6)
    assert s.value("W", "L2", "F", 0) == pytest.approx(3)
    assert s.value("W", "L1", "F", 0) == pytest.approx(1)
    assert s.value("Y", "L2", "S", 0) == pytest.approx(3)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(1)
    assert row(s, "Serving", workload="w")["unmet_tps"] == pytest.approx(2000)
    assert row(s, "Serving", workload="w2")["unmet_tps"] == pytest.approx(0, abs=1e-6)
    fab = row(s, "Fabs", fab="F", quarter=Q[0])
    assert fab["wafers_started"] == pytest.approx(4)
    assert fab["shadow_price_usd_per_wafer"] == pytest.approx(900, rel=1e-6)
