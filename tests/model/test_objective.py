"""The discounted objective: ``df_t = (1+r)^(-t/4)``; capex share ``a_t = min(1, (T-t)/L)``; power cost
``R * rack_kw * pue * hours_per_quarter * price / 1000``; FabWaferCost; integer racks."""

import pytest

from tests.builders import minimal_sheets, solve_sheets

from tests.model.helpers import Q, row, set_row


def test_discount_defers_a_rack_to_when_it_is_needed(tmp_path):
    """Five quarters, discount_rate_annual 0.10, demand only in the 5th quarter (t = 4): 1,000 tok/s, penalty $5.
    A rack is cheapest deployed (and its wafer started) at t = 4: df_4 = 1.1^(-4/4) = 1/1.1.
    Cost $1,100 / 1.1 = $1,000 (vs $5,000/1.1 of penalty). Objective = $1,000.00."""
    sheets = minimal_sheets(5, discount_rate_annual=0.10)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 0, 0, 0, 0, 1000]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(1000, rel=1e-6)
    assert s.value("Y", "L1", "S", 4) == pytest.approx(1)
    assert s.value("W", "L1", "F", 4) == pytest.approx(1)
    assert sum(s.value("Y", "L1", "S", t) for t in range(4)) == pytest.approx(0, abs=1e-9)


def test_discount_makes_a_rack_not_worth_it(tmp_path):
    """Two quarters, discount_rate_annual 0.10, demand 1,000 tok/s in both, penalty $0.555.
    df_0 = 1, df_1 = 1.1^(-1/4) = 0.976454.
    Rack in Q1: $1,100 vs penalty saved 555 x (1 + 0.976454) = $1,096.93 -> not worth it (undiscounted it would
    save $1,110 > $1,100). Rack in Q2: $1,100 x df_1 vs $555 x df_1 -> no.
    Objective = 555 x (1 + 1.1^(-0.25)) = $1,096.932."""
    sheets = minimal_sheets(2, discount_rate_annual=0.10)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=0.555)
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(555 * (1 + 1.1 ** -0.25), rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("life, expected, late_rack", [(8, 825, 1), (None, 1400, 0)])
def test_capex_life_share(tmp_path, life, expected, late_rack):
    """Four quarters, no discounting, demand 1,000, 1,000, 1,000, 2,000 tok/s, penalty $0.30.
    capex_life_quarters 8: a_t = min(1, (4 - t)/8): a_0 = 0.5, a_1 = 0.375, a_2 = 0.25, a_3 = 0.125.
      Rack 1 in Q1: $100 + 0.5 x $1,000 = $600, saves 4 x $300 = $1,200 (a later start saves less than it
      spares: Q2 start $475 but saves only $900) -> build in Q1.
      Rack 2 for Q4's extra 1,000 tok/s: $100 + 0.125 x $1,000 = $225 < $300 saved -> build in Q4.
      Objective = $600 + $225 = $825.
    Blank (cash, a_t = 1): rack 1 $1,100 < $1,200 -> build; rack 2 $1,100 > $300 -> no: $1,100 + $300 = $1,400."""
    settings = {} if life is None else {"capex_life_quarters": life}
    sheets = minimal_sheets(4, **settings)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=0.3)
    sheets["Demand"][1] = ["NA", "w", 1000, 1000, 1000, 2000]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(expected, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(1)
    assert s.value("Y", "L1", "S", 3) == pytest.approx(late_rack, abs=1e-9)


def test_capex_life_share_applies_to_partner_financing(tmp_path):
    """Two quarters, capex_life_quarters 4, own budget 0, partner P (site S, commitment $1e6, rate 0.1).
    Demand 1,000 tok/s both quarters, penalty $5. a_0 = min(1, 2/4) = 0.5.
    Rack in Q1 funded by P: $100 wafer + 0.5 x 0.1 x $1,000 = $150. Objective = $150."""
    sheets = minimal_sheets(2, capex_life_quarters=4)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Budget"][1] = ["own_capex_usd", 0, 0]
    sheets["Partners"] = [["partner", "commitment_usd", "financing_cost_rate"], ["P", 1e6, 0.1]]
    sheets["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(150, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(1)


@pytest.mark.parametrize("hours, expected", [(None, 2414), (2000, 2300)])
def test_power_cost(tmp_path, hours, expected):
    """One quarter, demand 1,000 tok/s, penalty $2.50 (a rack saves $2,500). Site S: PUE 1.5,
    $40/MWh. Power of one rack for a quarter = 10 kW x 1.5 x hours x $40 / 1000:
      default hours_per_quarter 2,190 -> $1,314: rack $1,100 + $1,314 = $2,414 < $2,500 -> build. Objective $2,414.
      hours_per_quarter 2,000 -> $1,200: $2,300."""
    settings = {} if hours is None else {"hours_per_quarter": hours}
    sheets = minimal_sheets(1, **settings)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=2.5)
    sheets["Sites"][1] = ["S", "NA", 1.5, 40]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(expected, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(1)
    assert s.solution.cost_breakdown_usd["power"] == pytest.approx(expected - 1100, rel=1e-6)


def test_power_cost_of_installed_base(tmp_path):
    """One quarter, demand 0, InstalledBase 2 L1 racks at S (never retired), PUE 1, $100/MWh, 2,190 h:
    the base racks draw power whether used or not: 2 x 10 kW x 2,190 h x $100 / 1000 = $4,380. Objective $4,380."""
    sheets = minimal_sheets(1)
    sheets["Sites"][1] = ["S", "NA", 1, 100]
    sheets["Demand"][1] = ["NA", "w", 0]
    sheets["InstalledBase"] = [["product", "site", "racks"], ["L1", "S", 2]]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(4380, rel=1e-6)


@pytest.mark.parametrize("penalty, racks, expected", [(5, 2, 2200), (2, 1, 2100)])
def test_integer_racks(tmp_path, penalty, racks, expected):
    """One quarter, integer_racks TRUE, demand 1,500 tok/s (1.5 racks' worth).
      Penalty $5: 0 racks $7,500; 1 rack $1,100 + 500 x $5 = $3,600; 2 racks $2,200 -> round up to 2.
      Penalty $2: 0 racks $3,000; 1 rack $1,100 + $1,000 = $2,100; 2 racks $2,200 -> 1 rack.
    (Continuous racks would give 1.5 racks = $1,650 in both cases.)"""
    sheets = minimal_sheets(1, integer_racks=True)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=penalty)
    sheets["Demand"][1] = ["NA", "w", 1500]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(expected, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(racks)


def test_fab_wafer_cost_override(tmp_path):
    """Two quarters, demand 1,000 then 2,000 tok/s, penalty $5. FabWaferCost F: $300 in Q1, blank in Q2
    (= Fabs.wafer_cost_usd $100).
    Rack 1 (needed in Q1, lead 0): Q1 wafer $300 + $1,000. Rack 2 (Q2): Q2 wafer $100 + $1,000.
    Objective = $1,300 + $1,100 = $2,400."""
    sheets = minimal_sheets(2)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 1000, 2000]
    sheets["FabWaferCost"] = [["fab", Q[0], Q[1]], ["F", 300, None]]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2400, rel=1e-6)
    assert s.value("W", "L1", "F", 0) == pytest.approx(1)
    assert s.value("W", "L1", "F", 1) == pytest.approx(1)


def test_budget_uses_full_cash_even_with_capex_life(tmp_path):
    """Four quarters, capex_life_quarters 8 (a_0 = 0.5), demand 1,000 tok/s each quarter, penalty $5.
    Own budget $500 in Q1, $0 after (no carryover). The budget limits the full cash capex: $1,000 x Y0 <= $500
    -> 0.5 rack (not 1 rack, as charging the 0.5 share against it would allow).
    Cost 0.5 x ($100 + 0.5 x $1,000) = $300; unmet 500 tok/s x 4 quarters x $5 = $10,000.
    Objective = $10,300."""
    sheets = minimal_sheets(4, capex_life_quarters=8)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Budget"][1] = ["own_capex_usd", 500, 0, 0, 0]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(10300, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(0.5)
    assert row(s, "Budget", quarter=Q[0])["own_capex_usd"] == pytest.approx(500)


def test_integer_wafers(tmp_path):
    """One quarter, integer_wafers TRUE, 4 dies per wafer, demand 1,000 tok/s, penalty $5.
    A rack needs 10 dies = 2.5 wafers -> 3 whole wafers ($300; 2 dies left over, as dies or chips: no holding cost).
    Objective = $300 + $1,000 = $1,300 (continuous wafers: $1,250)."""
    sheets = minimal_sheets(1, integer_wafers=True)
    sheets["Routes"][1] = ["L1", "F", 4, 1, 0]
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(1300, rel=1e-6)
    assert s.value("W", "L1", "F", 0) == pytest.approx(3)
    assert s.value("ID", "L1", 0) + s.value("IC", "L1", 0) == pytest.approx(2)
