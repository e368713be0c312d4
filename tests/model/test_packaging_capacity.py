"""Family 5, packaging capacity: ``sum_{p on line k} B[p,t] <= PackagingCapacity[k,t]``; a line not listed in
PackagingCapacity is unlimited, a blank cell of a listed line is 0. packaging_cost_usd is charged per chip packaged."""

import pytest

from tests.builders import minimal_sheets, solve_sheets

from tests.model.helpers import Q, add_row, is_blank, row, set_row


def test_limited_line_and_unlisted_line(tmp_path):
    """One quarter, demand 3,000 tok/s, penalty $2 (a rack saves $2,000).
    L1 on line A, packaging_cost $5 per chip: rack = $100 wafer + 10 x $5 + $1,000 = $1,150.
    L2 (same chip, made at F too) on line B, rack capex $1,500: rack = $100 + $1,500 = $1,600.
    PackagingCapacity: line A = 10 chips; line B not listed -> unlimited.
    Both racks pay (< $2,000); L1 is cheaper, but line A packages only 10 chips = 1 L1 rack.
    The other 2,000 tok/s: 2 L2 racks (20 chips on line B, no limit).
    Objective = $1,150 + 2 x $1,600 = $4,350, nothing unmet.
    Shadow price of line A: one more chip = 0.1 L1 rack replacing 0.1 L2 rack: 0.1 x ($1,600 - $1,150) = $45
    (one chip less: the reverse, same $45)."""
    sheets = minimal_sheets(1)
    set_row(sheets, "Products", "L1", packaging_line="A", packaging_cost_usd=5)
    add_row(sheets, "Products", "L2", 10, 10, 1500, 40)
    set_row(sheets, "Products", "L2", packaging_line="B")
    add_row(sheets, "Routes", "L2", "F", 10, 1, 0)
    add_row(sheets, "Throughput", "L2", "w", 100)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=2)
    sheets["Demand"][1] = ["NA", "w", 3000]
    sheets["PackagingCapacity"] = [["packaging_line", Q[0]], ["A", 10]]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(4350, rel=1e-6)
    assert s.value("B", "L1", 0) == pytest.approx(10)
    assert s.value("B", "L2", 0) == pytest.approx(20)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(1)
    assert s.value("Y", "L2", "S", 0) == pytest.approx(2)
    assert s.solution.cost_breakdown_usd["packaging"] == pytest.approx(50, rel=1e-6)
    a = row(s, "Packaging", packaging_line="A", quarter=Q[0])
    assert a["packaged"] == pytest.approx(10)
    assert a["capacity"] == pytest.approx(10)
    assert a["shadow_price_usd_per_chip"] == pytest.approx(45, rel=1e-6)
    b = row(s, "Packaging", packaging_line="B", quarter=Q[0])
    assert b["packaged"] == pytest.approx(20)
    assert is_blank(b["capacity"])


def test_blank_cell_of_listed_line_is_zero(tmp_path):
    """Two quarters, demand 1,000 then 2,000 tok/s, penalty $5. L1 on line `default`, listed in
    PackagingCapacity with 10 chips in Q1 and a BLANK Q2 cell (= 0).
    Only 10 chips can ever be packaged (all in Q1) -> at most 1 rack: build it in Q1 ($1,100, saves $10,000).
    Q2's extra 1,000 tok/s cannot be served: $5,000.
    Objective = $1,100 + $5,000 = $6,100 (a blank read as 'unlimited' would give $2,200)."""
    sheets = minimal_sheets(2)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 1000, 2000]
    sheets["PackagingCapacity"] = [["packaging_line", Q[0], Q[1]], ["default", 10, None]]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(6100, rel=1e-6)
    assert s.value("B", "L1", 0) == pytest.approx(10)
    assert s.value("B", "L1", 1) == pytest.approx(0, abs=1e-9)
    assert row(s, "Serving", quarter=Q[1])["unmet_tps"] == pytest.approx(1000)
