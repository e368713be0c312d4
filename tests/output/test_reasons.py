"""Serving.limited_by and Summary's unmet_reason_N (planner/output/reasons.py), on the hand-worked cases of
tests/model/test_mip_prices.py (one rack = 1,000 tok/s, saves $5,000; whole racks)."""

from planner.output.reasons import unmet_reasons
from tests.builders import minimal_sheets, solve_sheets
from tests.model.helpers import Q, add_row, row, set_row, whole_racks, with_scarce_hbm


def test_power_with_whole_racks_starves_the_row(tmp_path):
    """SitePower 0.025 MW = 2.5 racks: 2 racks, 2,000 tok/s unmet, limited by power at S (SitePower!B2)."""
    sheets = whole_racks()
    sheets["SitePower"][1] = ["S", 0.025]
    s = solve_sheets(tmp_path, sheets)
    assert row(s, "Serving", quarter=Q[0])["limited_by"] == "site_power S 2026Q1 (SitePower!B2)"
    (key, text, _note), = unmet_reasons(s.solution.tables, s.data)
    assert key == "unmet_reason_1"
    assert text.startswith("power at S (site_power): 2,000 tok/s unmet") and "$10,000 of unmet" in text


def test_hbm_starves_the_row(tmp_path):
    """HBMSupply 25 stacks = 2.5 racks (10 stacks per rack), power ample: limited by HBM from V."""
    sheets = with_scarce_hbm(whole_racks())
    s = solve_sheets(tmp_path, sheets)
    assert row(s, "Serving", quarter=Q[0])["limited_by"] == "hbm_supply V 2026Q1 (HBMSupply!B2)"


def test_lead_time_then_fab(tmp_path):
    """Route lead 1: nothing can serve Q1 (chips arrive from Q2, Routes!E2); Q2 is limited by Q1's wafers."""
    sheets = whole_racks(2)
    sheets["Routes"][1] = ["L1", "F", 10, 1, 1]
    sheets["FabCapacity"][1] = ["F", 2.5, 0]
    s = solve_sheets(tmp_path, sheets)
    assert row(s, "Serving", quarter=Q[0])["limited_by"] == "lead time: chips cannot arrive before 2026Q2 (Routes!E2)"
    assert row(s, "Serving", quarter=Q[1])["limited_by"] == "fab_capacity F 2026Q1 (FabCapacity!B2)"


def test_structural_reasons(tmp_path):
    """Region EU has demand but no site; workload v has demand but no product with a throughput for it; the
    served row has no reason."""
    sheets = minimal_sheets(1)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    add_row(sheets, "Demand", "EU", "w", 500)
    add_row(sheets, "Workloads", "v", 1)
    add_row(sheets, "Demand", "NA", "v", 300)
    s = solve_sheets(tmp_path, sheets)
    assert row(s, "Serving", region="EU", workload="w")["limited_by"] == "no site serves region"
    assert row(s, "Serving", region="NA", workload="v")["limited_by"] == "no product serves workload"
    assert row(s, "Serving", region="NA", workload="w")["limited_by"] == ""


def test_end_of_horizon(tmp_path):
    """Capex charged as cash, penalty $0.5: a rack ($1,100) deployed in Q1 saves 2 x $500 = $1,000 over the
    2-quarter plan, one deployed in Q2 $500: nothing is served. A rack lives 40 quarters, so in either quarter the
    reason is the end of the horizon."""
    sheets = minimal_sheets(2)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=0.5)
    s = solve_sheets(tmp_path, sheets)
    assert row(s, "Serving", quarter=Q[0])["limited_by"].startswith("end of horizon: a rack deployed in 2026Q1 ")
    assert row(s, "Serving", quarter=Q[1])["limited_by"].startswith("end of horizon: a rack deployed in 2026Q2 "
                                                                     "serves 1 of its 40 quarters")


def test_lead_time_beyond_the_installed_racks(tmp_path):
    """Route lead 1 and one installed rack at S: in Q1 the installed rack serves 1,000 of the 2,000 tok/s and no new
    chip can arrive before Q2: the rest is unmet for the lead time, not for the end of the horizon."""
    sheets = whole_racks(2)
    sheets["Routes"][1] = ["L1", "F", 10, 1, 1]
    sheets["Demand"][1] = ["NA", "w", 2000, 2000]
    sheets["InstalledBase"] = [["product", "site", "racks"], ["L1", "S", 1]]
    s = solve_sheets(tmp_path, sheets)
    q1 = row(s, "Serving", quarter=Q[0])
    assert q1["unmet_tps"] == 1000
    assert q1["limited_by"] == ("lead time: chips cannot arrive before 2026Q2 (Routes!E2) beyond the stock and "
                                "installed racks")


def test_summary_why_weighs_every_unmet_quarter_by_its_tok_s():
    """Summary's Why of one region / workload: the limit behind most unmet tok/s over all its quarters first (its
    largest row's text), then the others with their shares; not the first quarter's reason alone."""
    import pandas as pd

    from planner.output.summary import _reasons_by_share

    rows = pd.DataFrame({"unmet_tps": [0.25, 40.0, 30.0, 5.0],
                         "limited_by": ["cost: serving costs more than the unmet penalty (Workloads!B2)",
                                        "own_budget own_capex_usd 2027Q3 (Budget!E2)",
                                        "site_power D 2027Q4 (SitePower!H2); own_budget 2027Q4 (Budget!F2)",
                                        "own_budget own_capex_usd 2028Q1 (Budget!G2)"]})
    assert _reasons_by_share(rows) == ("own_budget own_capex_usd 2027Q3 (Budget!E2): 60% of it; then power at D "
                                       "(site_power) 40%, cost <1%")


def test_a_reason_label_keeps_a_key_that_holds_spaces():
    """'site_power New York 2027Q2 (SitePower!G2)' groups as the limit 'site_power New York', not 'site_power New'
    (which would merge New York with New Jersey in Summary's Why)."""
    from planner.output.reasons import reason_label

    assert reason_label("site_power New York 2027Q2 (SitePower!G2); hbm_supply V 2027Q2 (HBMSupply!C2)") == \
        "site_power New York"
    assert reason_label("hbm_supply SK hynix 2026Q4 (HBMSupply!E2)") == "hbm_supply SK hynix"
    assert reason_label("lead time: chips cannot arrive before 2026Q3 (Routes!E4)") == "lead time"


def test_a_fab_not_yet_running_says_so(tmp_path):
    """FabCapacity 0 wafers in 2026Q1, 2.5 from 2026Q2 (a fab that starts later; no lead time): 2026Q1 is starved
    by the fab, and the reason says its capacity there is 0 and when it starts, so the planner raises the start,
    not the quarter's number (a new-user trial: 'fab_capacity SS-SF4X 2026Q1 (FabCapacity!B3)', a cell of 0)."""
    sheets = whole_racks(2)
    sheets["FabCapacity"][1] = ["F", 0, 2.5]
    s = solve_sheets(tmp_path, sheets)
    assert row(s, "Serving", quarter=Q[0])["limited_by"].startswith(
        "fab_capacity F 2026Q1 (FabCapacity!B2 = 0: none before 2026Q2)")
    assert "= 0" not in row(s, "Serving", quarter=Q[1])["limited_by"]
