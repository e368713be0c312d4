"""Shadow prices of a MIP (models/prices.py): from the LP with the blocks and deals fixed and racks continuous.

With whole racks a limit that cannot take one more rack is binding although it is not met exactly; the LP with
every integer fixed prices it at 0 (the racks cannot move), which says nothing to a planner. These cases are
worked by hand on the economy of tests/model/helpers.py: one rack = 10 chips = 1 wafer ($100) + $1,000 capex,
serves 1,000 tok/s, draws 0.01 MW (PUE 1); here the unmet penalty is $5 per tok/s, so a rack saves $5,000.
"""

import pytest

from models.prices import DUALS_FROM_LUMPY_FIXED
from tests.builders import solve_sheets
from tests.model.helpers import Q, row, whole_racks, with_scarce_hbm


def _bottleneck(s, family):
    b = s.table("Bottlenecks")
    hits = b[b["family"] == family]
    assert len(hits), f"no {family} bottleneck in {b.to_dict('records')}"
    return hits.iloc[0]


def test_site_power_with_whole_racks_is_priced(tmp_path):
    """SitePower 0.025 MW = 2.5 racks: 2 whole racks fit (0.02 MW, 80% used), 2,000 of 4,000 tok/s unmet.
    MIP: 2 x $1,100 + 2,000 x $5 = $12,200.
    Price: with racks continuous (blocks and deals fixed; there are none) 2.5 racks fit; one more MW lets in
    100 racks, each saving $5,000 - $1,100 = $3,900: $390,000 per MW (the fixed-integer LP says $0).
    The half rack that cannot fit makes the row binding in Bottlenecks."""
    sheets = whole_racks()
    sheets["SitePower"][1] = ["S", 0.025]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(12200, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(2)
    assert s.result.duals_from == DUALS_FROM_LUMPY_FIXED
    assert row(s, "Power", site="S", quarter=Q[0])["shadow_price_usd_per_mw"] == pytest.approx(390000, rel=1e-6)
    b = _bottleneck(s, "site_power")
    assert b["binding"] and b["shadow_price"] == pytest.approx(390000, rel=1e-6)
    assert b["input_cell"] == "SitePower!B2"


def test_hbm_supply_with_whole_racks_is_priced(tmp_path):
    """L1 needs 1 HBM stack per chip (10 per rack) from vendor V at $10; HBMSupply 25 stacks = 2.5 racks.
    MIP: 2 racks, 20 stacks: 2 x ($1,100 + $100) + 2,000 x $5 = $12,400.
    Price: a stack is a tenth of a rack: ($5,000 - $1,100 - $100) / 10 = $380 per stack."""
    sheets = with_scarce_hbm(whole_racks())
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(12400, rel=1e-6)
    assert row(s, "HBM", vendor="V", quarter=Q[0])["shadow_price_usd_per_stack"] == pytest.approx(380, rel=1e-6)
    b = _bottleneck(s, "hbm_supply")
    assert b["binding"] and b["input_cell"] == "HBMSupply!B2"


def test_fab_capacity_ahead_of_a_lead_time_is_priced(tmp_path):
    """Route lead 1 quarter; two quarters; FabCapacity 2.5 wafers in Q1, 0 in Q2. Dies of Q1's wafers arrive in
    Q2; Q1's demand cannot be served at all (lead time).
    MIP: 2 wafers in Q1 -> 2 racks in Q2: 2 x $1,100 + (4,000 + 2,000) x $5 = $32,200.
    Price of a Q1 wafer: with racks continuous 2.5 wafers make 2.5 racks in Q2; one more wafer = one more rack:
    $5,000 - $1,100 = $3,900 per wafer. The Q2 fab row has no value (nothing it starts arrives in the plan)."""
    sheets = whole_racks(2)
    sheets["Routes"][1] = ["L1", "F", 10, 1, 1]
    sheets["FabCapacity"][1] = ["F", 2.5, 0]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(32200, rel=1e-6)
    assert row(s, "Fabs", fab="F", quarter=Q[0])["shadow_price_usd_per_wafer"] == pytest.approx(3900, rel=1e-6)
    assert row(s, "Serving", quarter=Q[0])["unmet_tps"] == pytest.approx(4000)


def test_a_large_mips_price_lp_is_solved_by_interior_point(tmp_path, monkeypatch):
    """A price LP of more than IPM_FROM_COLUMNS columns gets interior point + crossover, like any LP of its size
    (dual simplex left bench's MIP-M, 100k columns, without its racks-continuous prices): here the threshold is
    lowered so the site-power case above is 'large', and it is priced the same, $390,000 per MW."""
    from models import solve as msolve

    algorithms = []
    highs = msolve._highs
    monkeypatch.setattr(msolve, "IPM_FROM_COLUMNS", 0)
    monkeypatch.setattr(msolve, "_highs", lambda options, algorithm, is_mip: algorithms.append(algorithm) or
                        highs(options, algorithm, is_mip))
    sheets = whole_racks()
    sheets["SitePower"][1] = ["S", 0.025]
    s = solve_sheets(tmp_path, sheets)
    assert s.objective == pytest.approx(12200, rel=1e-6)
    assert algorithms[-1] == "ipm" and s.result.duals_from == DUALS_FROM_LUMPY_FIXED
    assert row(s, "Power", site="S", quarter=Q[0])["shadow_price_usd_per_mw"] == pytest.approx(390000, rel=1e-6)
