"""Families 12-13, demand and service floor: ``sum Z + U = Demand``;
``U <= (1 - min_service_level[w]) * Demand`` (infeasible when it cannot hold)."""

import pytest

from tests.builders import minimal_sheets, solve_sheets

from tests.model.helpers import Q, row, set_row


def _sheets(floor=None):
    """One quarter, demand 1,000 tok/s, penalty $0.50 per tok/s: a rack ($1,100) saves only $500."""
    sheets = minimal_sheets(1)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=0.5)
    if floor is not None:
        set_row(sheets, "Workloads", "w", min_service_level=floor)
    return sheets


def test_penalty_alone_leaves_demand_unmet(tmp_path):
    """No floor: a rack costs $1,100 and saves $500 -> none. Objective = 1,000 x $0.50 = $500."""
    s = solve_sheets(tmp_path, _sheets())
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(500, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(0, abs=1e-9)
    assert row(s, "Serving", quarter=Q[0])["unmet_tps"] == pytest.approx(1000)


def test_service_floor_forces_serving(tmp_path):
    """min_service_level 0.8: U <= 0.2 x 1,000 = 200 tok/s. Serving costs more than the penalty, so serve
    exactly the floor: 800 tok/s = 0.8 rack = $880; unmet 200 x $0.50 = $100. Objective = $980."""
    s = solve_sheets(tmp_path, _sheets(0.8))
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(980, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(0.8)
    serving = row(s, "Serving", quarter=Q[0])
    assert serving["unmet_tps"] == pytest.approx(200)
    assert serving["service_level"] == pytest.approx(0.8)


def test_service_floor_that_cannot_hold_is_infeasible(tmp_path):
    """min_service_level 0.8 but FabCapacity 0: no chip can be made, U = 1,000 > 200 -> infeasible."""
    sheets = _sheets(0.8)
    sheets["FabCapacity"][1] = ["F", 0]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "infeasible"


@pytest.mark.parametrize("linked, expected", [(True, 1100), (False, 5000)])
def test_serving_links_let_a_site_serve_another_region(tmp_path, linked, expected):
    """One quarter, demand 1,000 tok/s in region EU (no site there), penalty $5. Site S is in NA.
    With ServingLinks S -> EU: one rack at S serves EU: $1,100. Without the link: nothing can serve EU:
    1,000 x $5 = $5,000."""
    sheets = minimal_sheets(1)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["EU", "w", 1000]
    if linked:
        sheets["ServingLinks"].append(["S", "EU"])
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(expected, rel=1e-6)
    assert row(s, "Serving", region="EU")["unmet_tps"] == pytest.approx(0 if linked else 1000, abs=1e-6)
