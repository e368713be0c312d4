"""Family 11, serving capacity: ``sum_{r,w} Z[p,s,r,w,t] / tps[p,w] <= utilization[p] * chips_per_rack[p] * R[p,s,t]``."""

import pytest

from tests.builders import minimal_sheets, solve_sheets

from tests.model.helpers import Q, add_row, row, set_row


def test_two_products_different_throughput_and_utilization(tmp_path):
    """One quarter, demand 2,000 tok/s, penalty $5.
    L1: 10 chips/rack, 100 tok/s per chip, utilization 0.8 -> 800 tok/s per rack for $1,100 ($1.375 per tok/s).
    L2: 4 chips/rack, 500 tok/s per chip, utilization 0.5 -> 1,000 tok/s per rack, $1,000 capex, made at fab F2
        ($100 per wafer, 4 dies per wafer, capacity 1 wafer) -> $1,100 per rack ($1.10 per tok/s), at most 1 rack.
    Both cheaper than the $5 penalty; L2 first: 1 rack -> 1,000 tok/s.
    L1 for the other 1,000 tok/s: 1,000 / 800 = 1.25 racks = 1.25 wafers ($125) + $1,250 capex = $1,375.
    Objective = $1,100 + $1,375 = $2,475, nothing unmet."""
    sheets = minimal_sheets(1)
    set_row(sheets, "Products", "L1", utilization=0.8)
    add_row(sheets, "Products", "L2", 4, 10, 1000, 40)
    set_row(sheets, "Products", "L2", utilization=0.5)
    sheets["Fabs"].append(["F2", 100])
    sheets["Routes"].append(["L2", "F2", 4, 1, 0])
    sheets["FabCapacity"].append(["F2", 1])
    sheets["Throughput"].append(["L2", "w", 500])
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 2000]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2475, rel=1e-6)
    assert s.value("Y", "L2", "S", 0) == pytest.approx(1)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(1.25)
    assert row(s, "Allocation", product="L2")["served_tps"] == pytest.approx(1000)
    assert row(s, "Allocation", product="L1")["served_tps"] == pytest.approx(1000)
    assert row(s, "Serving", quarter=Q[0])["unmet_tps"] == pytest.approx(0, abs=1e-6)


def test_one_rack_shared_by_two_workloads(tmp_path):
    """One quarter, L1 utilization 0.8: a rack has 0.8 x 10 = 8 usable chips. SitePower 0.01 MW: 1 rack at most.
    Workload a: 100 tok/s per chip, penalty $3, demand 800 tok/s -> a chip on a is worth 100 x $3 = $300.
    Workload b: 400 tok/s per chip, penalty $1, demand 1,600 tok/s -> a chip on b is worth 400 x $1 = $400.
    The rack ($1,100) pays. b first: 1,600 / 400 = 4 chips; the other 4 chips serve a: 400 tok/s.
    Unmet a 400 tok/s x $3 = $1,200.
    Objective = $1,100 + $1,200 = $2,300."""
    sheets = minimal_sheets(1)
    set_row(sheets, "Products", "L1", utilization=0.8)
    sheets["Workloads"] = [["workload", "unmet_penalty_usd_per_tps"], ["a", 3], ["b", 1]]
    sheets["Throughput"] = [["product", "workload", "tokens_per_s_per_chip"], ["L1", "a", 100], ["L1", "b", 400]]
    sheets["Demand"] = [["region", "workload", Q[0]], ["NA", "a", 800], ["NA", "b", 1600]]
    sheets["SitePower"][1] = ["S", 0.01]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2300, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(1)
    assert row(s, "Serving", workload="a")["served_tps"] == pytest.approx(400)
    assert row(s, "Serving", workload="b")["served_tps"] == pytest.approx(1600)
    assert row(s, "Serving", workload="a")["unmet_tps"] == pytest.approx(400)
