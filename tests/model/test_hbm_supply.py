"""Family 7, HBM supply and inventory: ``HB[v,t] <= HBMSupply[v,t]``;
``IH[v,t] = IH[v,t-1] + HB[v,t] - sum_p H[v,p,t]``, ``IH[v,-1] = initial_inventory``; holding_cost_usd on IH."""

import pytest

from tests.builders import minimal_sheets, solve_sheets

from tests.model.helpers import Q, row, set_row


def _sheets(n, supply, **vendor):
    """L1 needs 1 HBM stack per chip; one vendor V at $10 per stack, qualified for L1; penalty $5."""
    sheets = minimal_sheets(n)
    set_row(sheets, "Products", "L1", stacks_per_chip=1)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["HBMVendors"] = [["vendor", "price_usd_per_stack"], ["V", 10]]
    set_row(sheets, "HBMVendors", "V", **vendor)
    sheets["HBMSupply"] = [["vendor"] + Q[:n], ["V"] + list(supply)]
    sheets["HBMQualification"] = [["vendor", "product"], ["V", "L1"]]
    return sheets


def test_supply_binds_demand_unmet_and_shadow_price(tmp_path):
    """One quarter, demand 1,000 tok/s, HBM supply 5 stacks.
    5 stacks -> 5 chips -> 0.5 rack -> 500 tok/s. Cost 0.5 x $1,100 + 5 x $10 = $600; unmet 500 x $5 = $2,500.
    Objective = $3,100.
    Shadow price: one more stack -> 1 chip -> 0.1 rack -> 100 tok/s more served: saves $500, costs
    0.1 x $1,100 + $10 = $120 -> $380 per stack (one stack less: the reverse)."""
    s = solve_sheets(tmp_path, _sheets(1, [5]))
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(3100, rel=1e-6)
    assert s.value("HB", "V", 0) == pytest.approx(5)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(0.5)
    hbm = row(s, "HBM", vendor="V", quarter=Q[0])
    assert hbm["bought"] == pytest.approx(5)
    assert hbm["shadow_price_usd_per_stack"] == pytest.approx(380, rel=1e-6)
    assert row(s, "Serving", quarter=Q[0])["unmet_tps"] == pytest.approx(500)


def test_initial_inventory_adds_to_supply(tmp_path):
    """As above with HBMVendors.initial_inventory 3: 3 + 5 = 8 stacks -> 0.8 rack -> 800 tok/s.
    Cost 0.8 x $1,100 + 5 bought x $10 = $930 (the initial stacks are not bought); unmet 200 x $5 = $1,000.
    Objective = $1,930."""
    s = solve_sheets(tmp_path, _sheets(1, [5], initial_inventory=3))
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(1930, rel=1e-6)
    assert s.value("HB", "V", 0) == pytest.approx(5)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(0.8)
    assert s.value("IH", "V", 0) == pytest.approx(0, abs=1e-9)


def test_buy_early_into_inventory_when_later_supply_short(tmp_path):
    """Two quarters, demand 1,000 then 2,000 tok/s. HBM supply 30 stacks in Q1, 5 in Q2; holding $2 per stack
    per quarter. To keep the plan from dodging HBM holding: SitePower 0.01 MW in Q1 (1 rack only) and
    chip_holding_cost $5 per chip (holding a chip costs more than holding its stack).
      Q1: rack 1 uses 10 stacks.  Q2: rack 2 needs 10 stacks but only 5 can be bought in Q2:
      buy the other 5 in Q1 and hold them one quarter: 5 x ($10 + $2) = $60, far less than leaving
      500 tok/s unmet ($2,500). IH[Q1] = 5, IH[Q2] = 0.
    HBM bought: 15 + 5 = 20 x $10 = $200; holding 5 x $2 = $10; wafers 2 x $100 = $200; capex $2,000.
    Objective = $2,410.
    Shadow price of Q2 supply: one more Q2 stack replaces one bought early: saves the $2 holding
    (Q1 supply is slack: 0)."""
    sheets = _sheets(2, [30, 5], holding_cost_usd=2)
    set_row(sheets, "Products", "L1", chip_holding_cost_usd=5)
    sheets["Demand"][1] = ["NA", "w", 1000, 2000]
    sheets["SitePower"][1] = ["S", 0.01, 100]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2410, rel=1e-6)
    assert s.value("HB", "V", 0) == pytest.approx(15)
    assert s.value("HB", "V", 1) == pytest.approx(5)
    assert s.value("IH", "V", 0) == pytest.approx(5)
    assert s.value("IH", "V", 1) == pytest.approx(0, abs=1e-9)
    assert s.value("IC", "L1", 0) == pytest.approx(0, abs=1e-9)
    assert s.solution.cost_breakdown_usd["holding"] == pytest.approx(10, rel=1e-6)
    assert row(s, "HBM", vendor="V", quarter=Q[1])["shadow_price_usd_per_stack"] == pytest.approx(2, rel=1e-6)
    assert row(s, "HBM", vendor="V", quarter=Q[0])["shadow_price_usd_per_stack"] == pytest.approx(0, abs=1e-6)
    assert s.table("Serving")["unmet_tps"].sum() == pytest.approx(0, abs=1e-6)
