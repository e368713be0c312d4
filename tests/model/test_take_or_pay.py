"""Family 2, take-or-pay: ``WP[f,t] >= sum_p W[p,f,t]``, ``WP[f,t] >= FabMinWafers[f,t]``; wafers are charged
on WP (paid), not on W (started)."""

import pytest

from tests.builders import minimal_sheets, solve_sheets

from tests.model.helpers import Q, row, set_row


def _sheets():
    """Two quarters, demand 1,000 then 2,000 tok/s, unmet penalty $1.05 per tok/s per quarter."""
    sheets = minimal_sheets(2)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=1.05)
    sheets["Demand"][1] = ["NA", "w", 1000, 2000]
    return sheets


def test_without_floor_second_rack_does_not_pay(tmp_path):
    """Control case, no FabMinWafers sheet (WP = W).
    Rack 1 in Q1: $1,100, saves 1,000 tok/s x $1.05 x 2 quarters = $2,100 -> build.
    Rack 2 for Q2's extra 1,000 tok/s: $1,100 > $1,050 saved -> leave unmet.
    Objective = $1,100 + $1,050 = $2,150; one wafer paid, in Q1."""
    s = solve_sheets(tmp_path, _sheets())
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2150, rel=1e-6)
    assert s.value("WP", "F", 0) == pytest.approx(1)
    assert s.value("WP", "F", 1) == pytest.approx(0, abs=1e-9)
    assert row(s, "Serving", quarter=Q[1])["unmet_tps"] == pytest.approx(1000)


def test_paid_wafers_exceed_used_and_floor_changes_the_plan(tmp_path):
    """Same plan with FabMinWafers F = 5 in Q1 (blank in Q2 = 0).
    Q1: 5 wafers are paid whatever is started: WP[F,Q1] = 5 -> $500. Starting up to 5 wafers in Q1 is free.
    Rack 1 needs 1 wafer, rack 2 can use a second, already-paid Q1 wafer (its dies wait in the die bank
    at no holding cost): rack 2 now costs only its $1,000 capex < $1,050 saved -> build it.
    Q2 starts nothing (it would be paid on top: WP[F,Q2] = W = 0).
    Objective = $500 (5 paid wafers) + 2 x $1,000 capex + $0 unmet = $2,500 (< $2,150 + $500 = $2,650, the
    control plan plus the floor). Used wafers: 2 (any 2..5 Q1 starts are optimal), paid: 5."""
    sheets = _sheets()
    sheets["FabMinWafers"] = [["fab", Q[0], Q[1]], ["F", 5, None]]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2500, rel=1e-6)
    assert s.value("WP", "F", 0) == pytest.approx(5)
    assert s.value("WP", "F", 1) == pytest.approx(0, abs=1e-9)
    assert s.value("W", "L1", "F", 1) == pytest.approx(0, abs=1e-9)
    assert 2 - 1e-6 <= s.value("W", "L1", "F", 0) <= 5 + 1e-6
    assert row(s, "Deployments", quarter=Q[1])["racks_installed"] == pytest.approx(2)
    assert row(s, "Serving", quarter=Q[1])["unmet_tps"] == pytest.approx(0, abs=1e-6)
    fab = row(s, "Fabs", fab="F", quarter=Q[0])
    assert fab["min_wafers"] == pytest.approx(5)
    assert fab["wafers_paid"] == pytest.approx(5)
    # wafers whose dies are used: 20 dies packaged over the plan = 2 wafers < 5 paid
    packaged = s.table("Chips")["packaged"].sum()
    assert packaged == pytest.approx(20)


def test_floor_on_a_fab_paid_even_when_nothing_is_needed(tmp_path):
    """One quarter, demand 0. FabMinWafers F = 7: nothing is built, yet 7 wafers x $100 = $700 are paid.
    Objective = $700."""
    sheets = minimal_sheets(1)
    sheets["Demand"][1] = ["NA", "w", 0]
    sheets["FabMinWafers"] = [["fab", Q[0]], ["F", 7]]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(700, rel=1e-6)
    assert s.value("WP", "F", 0) == pytest.approx(7)
    assert row(s, "Fabs", fab="F", quarter=Q[0])["wafers_paid"] == pytest.approx(7)
