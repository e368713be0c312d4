"""Family 9, installed racks: ``R[p,s,t] = base[p,s,t] + sum_{tau = max(0, t-life+1)..t} Y[p,s,tau]``; a rack
deployed in tau serves tau .. tau+life-1; InstalledBase racks serve before their retire_quarter (blank: always)."""

import pytest

from tests.builders import minimal_sheets, solve_sheets, write

from tests.model.helpers import Q, row, set_row


def test_short_life_racks_must_be_replaced(tmp_path):
    """Three quarters, demand 1,000 tok/s each, penalty $5. L1 life_quarters 2. SitePower 0.01 MW every quarter
    (at most 1 rack installed at any time).
    Serving all demand needs R = 1 in every quarter: R0 = Y0, R1 = Y0 + Y1, R2 = Y1 + Y2 (the Q1 rack serves
    Q1, Q2 and is retired in Q3). R0 = 1 -> Y0 = 1; R1 = 1 -> Y1 = 0; R2 = 1 -> Y2 = 1.
    Each rack ($1,100) saves >= $5,000. Objective = 2 x $1,100 = $2,200."""
    sheets = minimal_sheets(3)
    set_row(sheets, "Products", "L1", life_quarters=2)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["SitePower"][1] = ["S", 0.01, 0.01, 0.01]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2200, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(1)
    assert s.value("Y", "L1", "S", 1) == pytest.approx(0, abs=1e-9)
    assert s.value("Y", "L1", "S", 2) == pytest.approx(1)
    for t in range(3):
        assert row(s, "Deployments", quarter=Q[t])["racks_installed"] == pytest.approx(1)
    assert s.table("Serving")["unmet_tps"].sum() == pytest.approx(0, abs=1e-6)


def test_life_one_quarter(tmp_path):
    """Two quarters, demand 1,000 each, penalty $5, life_quarters 1: a rack serves only the quarter it is
    deployed in, so a new rack every quarter: Y = 1, 1. Objective = 2 x $1,100 = $2,200."""
    sheets = minimal_sheets(2)
    set_row(sheets, "Products", "L1", life_quarters=1)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2200, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(1)
    assert s.value("Y", "L1", "S", 1) == pytest.approx(1)


def test_installed_base_retires(tmp_path):
    """Three quarters, demand 3,000 tok/s each, penalty $5. InstalledBase at S: 2 L1 racks retiring from
    2026Q2 (serve Q1 only) and 1 L1 rack with a blank retire_quarter (never retired).
    SitePower 0.03 MW each quarter (3 racks).
      Q1: base 2 + 1 = 3 racks -> 3,000 tok/s; power full, so nothing new can be deployed in Q1.
      Q2: the 2 retire -> base 1; deploy 2 new racks ($2,200) -> 3 racks.  Q3: 1 + 2 = 3.
    The base racks cost nothing (no capex, power free). Objective = $2,200; Y = 0, 2, 0."""
    sheets = minimal_sheets(3)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 3000, 3000, 3000]
    sheets["SitePower"][1] = ["S", 0.03, 0.03, 0.03]
    sheets["InstalledBase"] = [["product", "site", "racks", "retire_quarter"],
                               ["L1", "S", 2, "2026Q2"], ["L1", "S", 1, None]]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2200, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(0, abs=1e-9)
    assert s.value("Y", "L1", "S", 1) == pytest.approx(2)
    assert s.value("Y", "L1", "S", 2) == pytest.approx(0, abs=1e-9)
    for t in range(3):
        assert row(s, "Deployments", quarter=Q[t])["racks_installed"] == pytest.approx(3)
    assert s.table("Serving")["unmet_tps"].sum() == pytest.approx(0, abs=1e-6)


def test_the_installed_racks_row_states_the_racks_in_service_each_quarter(tmp_path):
    """The same InstalledBase (2 racks retiring from 2026Q2, 1 never): the family's row in words, as the
    Diagnosis conflict table shows it, says 3 racks in service in 2026Q1 and 1 from 2026Q2, with that limit."""
    from models.registry import describe
    from planner.input.validate import validate_workbook

    sheets = minimal_sheets(3)
    sheets["InstalledBase"] = [["product", "site", "racks", "retire_quarter"],
                               ["L1", "S", 2, "2026Q2"], ["L1", "S", 1, None]]
    data, _ = validate_workbook(write(tmp_path, sheets))
    q1, q2 = describe("installed_racks", ("L1", "S", 0), data), describe("installed_racks", ("L1", "S", 1), data)
    assert (q1.limit, q2.limit) == (3, 1)
    assert "= 3 racks in service (cohorts at InstalledBase!C2, InstalledBase!C3) in 2026Q1" in q1.text
    assert "= 1 racks in service in 2026Q2" in q2.text
    assert (q1.cell, q2.cell) == ("InstalledBase!C2", "InstalledBase!C3")  # 2026Q2 cites the cohort still serving
