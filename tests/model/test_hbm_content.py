"""Family 6, HBM content: ``sum_{v qualified for p} H[v,p,t] = stacks_per_chip[p] * B[p,t]``; H exists only on
HBMQualification pairs, so an unqualified vendor is never used; stacks are paid at purchase (HB)."""

import pytest

from tests.builders import minimal_sheets, solve_sheets

from tests.model.helpers import Q, row, set_row


def _sheets(qualified):
    """One quarter, demand 1,000 tok/s, penalty $5. L1 needs 2 HBM stacks per chip.
    Vendors: V1 $50 per stack, V2 $10 per stack; supply 1,000 stacks each."""
    sheets = minimal_sheets(1)
    set_row(sheets, "Products", "L1", stacks_per_chip=2)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["HBMVendors"] = [["vendor", "price_usd_per_stack"], ["V1", 50], ["V2", 10]]
    sheets["HBMSupply"] = [["vendor", Q[0]], ["V1", 1000], ["V2", 1000]]
    sheets["HBMQualification"] = [["vendor", "product"]] + [[v, "L1"] for v in qualified]
    return sheets


def test_unqualified_cheap_vendor_never_used(tmp_path):
    """Only V1 is qualified for L1; V2 is five times cheaper but unqualified.
    Rack: 10 chips x 2 stacks = 20 stacks from V1 x $50 = $1,000, + 1 wafer $100 + $1,000 capex = $2,100,
    which saves $5,000 -> build. V2 buys nothing (its stacks could not go into L1).
    Objective = $2,100; HB[V1] = 20 = stacks_per_chip x chips packaged, HB[V2] = 0."""
    s = solve_sheets(tmp_path, _sheets(["V1"]))
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2100, rel=1e-6)
    assert s.value("B", "L1", 0) == pytest.approx(10)
    assert s.value("HB", "V1", 0) == pytest.approx(20)
    assert s.value("HB", "V2", 0) == pytest.approx(0, abs=1e-9)
    assert s.value("H", "V1", "L1", 0) == pytest.approx(20)
    assert ("V2", "L1", 0) not in s.model.H
    assert row(s, "HBM", vendor="V2", quarter=Q[0])["used"] == pytest.approx(0, abs=1e-9)
    assert s.solution.cost_breakdown_usd["hbm"] == pytest.approx(1000, rel=1e-6)


def test_both_qualified_cheapest_used(tmp_path):
    """Both vendors qualified: the 20 stacks come from V2 at $10 = $200.
    Objective = $200 + $100 + $1,000 = $1,300."""
    s = solve_sheets(tmp_path, _sheets(["V1", "V2"]))
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(1300, rel=1e-6)
    assert s.value("HB", "V2", 0) == pytest.approx(20)
    assert s.value("HB", "V1", 0) == pytest.approx(0, abs=1e-9)


def test_no_qualified_vendor_means_no_chip(tmp_path):
    """No vendor qualified for L1 (which needs HBM): no chip can be packaged, nothing is served.
    Objective = 1,000 tok/s x $5 = $5,000."""
    s = solve_sheets(tmp_path, _sheets([]))
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(5000, rel=1e-6)
    assert s.value("B", "L1", 0) == pytest.approx(0, abs=1e-9)
