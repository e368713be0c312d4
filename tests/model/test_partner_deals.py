"""Family 16, partner deals: ``sum F[n,s,t] <= commitment * A[n]``, ``sum F[n,s,t] >= min_deal * A[n]``; F only on
PartnerSites and inside [first_quarter, last_quarter]; partner money costs ``a_t * financing_cost_rate * F``, and
signing costs ``fixed_deal_cost_usd * A`` (not discounted)."""

import pytest

from tests.builders import minimal_sheets, solve_sheets

from tests.model.helpers import Q, row, set_row

PARTNER_COLUMNS = ["partner", "commitment_usd", "min_deal_usd", "fixed_deal_cost_usd", "financing_cost_rate",
                   "first_quarter", "last_quarter"]


@pytest.mark.parametrize("min_deal, signed, racks, expected", [
    (0, True, 3, 900),
    (20000, True, 20, 4300),
    (30000, False, 1, 5100),
])
def test_minimum_deal_size_decides_signing(tmp_path, min_deal, signed, racks, expected):
    """One quarter, demand 3,000 tok/s, penalty $2 (a rack saves $2,000). Own budget $1,000 (1 rack).
    Partner P funds site S: commitment $1,000,000, fixed_deal_cost $300, financing_cost_rate 0.1.
    Not signing: 1 own rack ($100 wafer + $1,000 capex); 2,000 tok/s unmet x $2 = $4,000 -> $5,100.
    Signing: a partner-funded rack costs $100 wafer + 0.1 x $1,000 = $200 (own money would cost the full
    $1,000), so the partner funds every rack; plus $300 to sign.
      min_deal $0:      3 racks (all demand): 3 x $200 + $300 = $900 < $5,100 -> sign.
      min_deal $20,000: F >= $20,000 forces 20 racks (17 idle): 20 x $200 + $300 = $4,300 < $5,100 -> sign.
      min_deal $30,000: 30 racks: 30 x $200 + $300 = $6,300 > $5,100 -> do not sign; objective $5,100."""
    sheets = minimal_sheets(1)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=2)
    sheets["Demand"][1] = ["NA", "w", 3000]
    sheets["Budget"][1] = ["own_capex_usd", 1000]
    sheets["Partners"] = [PARTNER_COLUMNS, ["P", 1e6, min_deal, 300, 0.1, None, None]]
    sheets["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(expected, rel=1e-6)
    assert s.value("A", "P") == pytest.approx(1 if signed else 0)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(racks)
    partner = row(s, "Partners", partner="P")
    assert bool(partner["signed"]) is signed
    assert partner["funded_usd"] == pytest.approx(racks * 1000 if signed else 0, abs=1e-6)
    own = row(s, "Capex", site="S", quarter=Q[0])["own_usd"]
    assert own == pytest.approx(0 if signed else 1000, abs=1e-6)


def test_partner_window(tmp_path):
    """Three quarters, demand 1,000 tok/s each, penalty $5. Own budget $0 in every quarter.
    Partner P (site S): commitment $1,000,000, financing_cost_rate 0.1, no fixed cost, no minimum,
    window first_quarter = last_quarter = 2026Q2.
      Q1: nothing can be funded (own budget 0, partner outside its window): 1,000 tok/s unmet -> $5,000.
      Q2: P funds 1 rack: $100 wafer + 0.1 x $1,000 = $200; it serves Q2 and Q3 (life 40).
      Q3: P cannot fund (window over) and nothing more is needed.
    Objective = $5,000 + $200 = $5,200; Y = 0, 1, 0; F only exists in Q2."""
    sheets = minimal_sheets(3)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Budget"][1] = ["own_capex_usd", 0, 0, 0]
    sheets["Partners"] = [PARTNER_COLUMNS, ["P", 1e6, 0, 0, 0.1, "2026Q2", "2026Q2"]]
    sheets["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(5200, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(0, abs=1e-9)
    assert s.value("Y", "L1", "S", 1) == pytest.approx(1)
    assert s.value("Y", "L1", "S", 2) == pytest.approx(0, abs=1e-9)
    assert s.value("F", "P", "S", 1) * 1e6 == pytest.approx(1000)
    assert ("P", "S", 0) not in s.model.F and ("P", "S", 2) not in s.model.F
    assert row(s, "Serving", quarter=Q[0])["unmet_tps"] == pytest.approx(1000)


def test_commitment_caps_partner_funding(tmp_path):
    """One quarter, demand 3,000 tok/s, penalty $2, own budget $1,000.
    Partner P: commitment $1,500, rate 0.1, no fixed cost -> funds at most 1.5 racks.
    Partner racks: 1.5 x ($100 + $100) = $300. Own: 1 rack = $1,100 (saves $2,000). Remaining 0.5 rack: no money
    left -> 500 tok/s unmet x $2 = $1,000.
    Objective = $300 + $1,100 + $1,000 = $2,400."""
    sheets = minimal_sheets(1)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=2)
    sheets["Demand"][1] = ["NA", "w", 3000]
    sheets["Budget"][1] = ["own_capex_usd", 1000]
    sheets["Partners"] = [PARTNER_COLUMNS, ["P", 1500, 0, 0, 0.1, None, None]]
    sheets["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2400, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(2.5)
    assert row(s, "Partners", partner="P")["funded_usd"] == pytest.approx(1500)
    assert row(s, "Capex", site="S", quarter=Q[0])["own_usd"] == pytest.approx(1000)


def test_fixed_deal_cost_is_not_discounted(tmp_path):
    """Five quarters, discount_rate_annual 0.10, demand 1,000 tok/s only at t = 4, penalty $5, own budget 0.
    Partner P (site S, whole plan): commitment $1e6, rate 0.1, fixed_deal_cost $100.
    Sign and fund one rack at t = 4 (df_4 = 1/1.1): ($100 wafer + 0.1 x $1,000) / 1.1 = $181.818...;
    the $100 signing cost sits outside the sum over quarters: not discounted.
    Objective = $100 + $200/1.1 = $281.818 (not signing: $5,000/1.1 = $4,545)."""
    sheets = minimal_sheets(5, discount_rate_annual=0.10)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 0, 0, 0, 0, 1000]
    sheets["Budget"][1] = ["own_capex_usd", 0, 0, 0, 0, 0]
    sheets["Partners"] = [PARTNER_COLUMNS, ["P", 1e6, 0, 100, 0.1, None, None]]
    sheets["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(100 + 200 / 1.1, rel=1e-6)
    assert s.value("A", "P") == pytest.approx(1)
    assert s.value("Y", "L1", "S", 4) == pytest.approx(1)
    assert s.solution.cost_breakdown_usd["partner_deal_costs"] == pytest.approx(100, rel=1e-6)


def test_minimum_deal_met_with_racks_at_a_second_partner_site(tmp_path):
    """One quarter, demand 3,000 tok/s in NA, penalty $2; own budget $0. Site S (NA): SitePower 0.03 MW = 3 racks.
    Site S2 (region EU, no EU demand, no link): SitePower 100 MW, power free.
    Partner P funds S and S2: commitment $1e6, min_deal $5,000, rate 0.1, no fixed cost.
    Not signing: nothing can be built (no own money): 3,000 x $2 = $6,000.
    Signing: F >= $5,000 of rack capex; only 3 racks fit at S (serving all demand); the other 2 racks go to S2
    (Y[L1,S2] is a variable of the formulation; idle racks only cost money). 5 racks: 5 x $100 wafers +
    0.1 x $5,000 = $1,000 < $6,000 -> sign.
    Objective = $1,000."""
    sheets = minimal_sheets(1)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=2)
    sheets["Demand"][1] = ["NA", "w", 3000]
    sheets["Sites"].append(["S2", "EU", 1, 0])
    sheets["SitePower"][1] = ["S", 0.03]
    sheets["SitePower"].append(["S2", 100])
    sheets["Budget"][1] = ["own_capex_usd", 0]
    sheets["Partners"] = [PARTNER_COLUMNS, ["P", 1e6, 5000, 0, 0.1, None, None]]
    sheets["PartnerSites"] = [["partner", "site"], ["P", "S"], ["P", "S2"]]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(1000, rel=1e-6)
    assert s.value("A", "P") == pytest.approx(1)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(3)


@pytest.mark.parametrize("sites", [[["partner", "site"]], [["partner", "site"], ["P", "S"]]])
def test_a_partner_that_can_fund_nothing_is_never_signed(tmp_path, sites):
    """Partner P with no fixed cost and no minimum: signing costs nothing either way. With no PartnerSites row, or a
    window outside the horizon (2027Q1 of a 2026Q1 plan), P can fund nothing: the plan does not show it signed.
    Objective: a rack ($1,100) would serve one quarter only, so 1,000 tok/s go unmet: $1,000."""
    sheets = minimal_sheets(1)
    window = (None, None) if len(sites) == 1 else ("2027Q1", "2027Q1")
    sheets["Partners"] = [PARTNER_COLUMNS, ["P", 1e6, 0, 0, 0, *window]]
    sheets["PartnerSites"] = sites
    s = solve_sheets(tmp_path, sheets)
    assert s.objective == pytest.approx(1000, rel=1e-6)
    assert s.value("A", "P") == pytest.approx(0, abs=1e-9)
    assert s.model.A["P"].ub == 0
