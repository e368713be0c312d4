"""Family 10, site power: ``sum_p R * rack_kw * pue / 1000 <= SitePower + block_mw * sum_{tau <= t-lead} E[s,tau]``,
``sum_t E[s,t] <= max_blocks``; block capex = capex_usd_per_mw * block_mw, spent in the quarter it is started."""

import pytest

from tests.builders import minimal_sheets, solve_sheets

from tests.model.helpers import Q, row, set_row


def _sheets(max_blocks):
    """Three quarters, demand 2,000, 2,000, 4,000 tok/s, penalty $5 (a rack saves $5,000 per quarter).
    Site S: PUE 1.5, so a 10 kW rack draws 15 kW = 0.015 MW; SitePower 0.03 MW each quarter = 2 racks
    (3 racks if PUE were ignored). SiteExpansion S: block 0.015 MW (1 rack) at $20,000/MW = $300 a block,
    lead 2 quarters, max_blocks as given."""
    sheets = minimal_sheets(3)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Sites"][1] = ["S", "NA", 1.5, 0]
    sheets["SitePower"][1] = ["S", 0.03, 0.03, 0.03]
    sheets["Demand"][1] = ["NA", "w", 2000, 2000, 4000]
    sheets["SiteExpansion"] = [["site", "block_mw", "capex_usd_per_mw", "lead_quarters", "max_blocks"],
                               ["S", 0.015, 20000, 2, max_blocks]]
    return sheets


def test_expansion_started_lead_quarters_early_max_blocks_binds(tmp_path):
    """max_blocks 1.
      Q1, Q2: 0.03 MW / 0.015 = 2 racks -> 2,000 tok/s (Y0 = 2; more racks do not fit).
      Q3: 4,000 tok/s wanted. A block adds power from t = start + 2, so only a Q1 start helps Q3
          (Q2/Q3 starts would energise after the plan). E[Q1] = 1 ($300) -> 0.045 MW -> 3 racks:
          rack 3 in Q3 ($1,100). Block + rack = $1,400 < $5,000 saved.
      A second block would pay too, but max_blocks = 1: 1,000 tok/s unmet in Q3 -> $5,000.
    Objective = 3 x $1,100 + $300 + $5,000 = $8,600."""
    s = solve_sheets(tmp_path, _sheets(1))
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(8600, rel=1e-6)
    assert s.value("E", "S", 0) == pytest.approx(1)
    assert s.value("E", "S", 1) == pytest.approx(0, abs=1e-9)
    assert s.value("E", "S", 2) == pytest.approx(0, abs=1e-9)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(2)
    assert s.value("Y", "L1", "S", 1) == pytest.approx(0, abs=1e-9)
    assert s.value("Y", "L1", "S", 2) == pytest.approx(1)
    p0, p2 = row(s, "Power", site="S", quarter=Q[0]), row(s, "Power", site="S", quarter=Q[2])
    assert p0["mw_used"] == pytest.approx(0.03)
    assert p0["mw_available"] == pytest.approx(0.03)
    assert p0["blocks_started"] == pytest.approx(1)
    assert row(s, "Power", site="S", quarter=Q[1])["mw_available"] == pytest.approx(0.03)
    assert p2["mw_available"] == pytest.approx(0.045)
    assert p2["mw_used"] == pytest.approx(0.045)
    assert row(s, "Serving", quarter=Q[2])["unmet_tps"] == pytest.approx(1000)
    assert row(s, "Capex", site="S", quarter=Q[0])["capex_usd"] == pytest.approx(2 * 1000 + 300)


def test_two_blocks_allowed(tmp_path):
    """max_blocks 2: E[Q1] = 2 ($600) -> 0.06 MW in Q3 -> 4 racks; all demand served.
    Objective = 4 x $1,100 + $600 = $5,000."""
    s = solve_sheets(tmp_path, _sheets(2))
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(5000, rel=1e-6)
    assert s.value("E", "S", 0) == pytest.approx(2)
    assert s.value("Y", "L1", "S", 2) == pytest.approx(2)
    assert s.table("Serving")["unmet_tps"].sum() == pytest.approx(0, abs=1e-6)


def test_site_not_in_expansion_sheet_cannot_expand(tmp_path):
    """No SiteExpansion sheet: Q3 stays at 2 racks; 2,000 tok/s unmet in Q3 -> $10,000.
    Objective = 2 x $1,100 + $10,000 = $12,200."""
    sheets = _sheets(1)
    del sheets["SiteExpansion"]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(12200, rel=1e-6)
    assert row(s, "Serving", quarter=Q[2])["unmet_tps"] == pytest.approx(2000)


def test_power_binds_shadow_price(tmp_path):
    """One quarter, LP (no expansion), demand 2,000 tok/s, penalty $5, SitePower 0.01 MW (1 rack, PUE 1).
    1 rack ($1,100) serves 1,000 tok/s; 1,000 unmet x $5 = $5,000. Objective = $6,100.
    Shadow price (per MW, at the margin): a rack draws 0.01 MW, so dP MW more power fits 100 dP more racks,
    each saving $5,000 - $1,100 = $3,900 (demand for a second rack is there): 100 x $3,900 = $390,000 per MW.
    Less power loses the same per MW, so the dual is unique."""
    sheets = minimal_sheets(1)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 2000]
    sheets["SitePower"][1] = ["S", 0.01]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(6100, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(1)
    assert row(s, "Power", site="S", quarter=Q[0])["shadow_price_usd_per_mw"] == pytest.approx(390000, rel=1e-6)
