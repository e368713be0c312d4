"""Family 20, terminal value: ``TV = df_{T-1} * sum_p tv[p] * (ID[p,T-1] + IC[p,T-1] + sum_f sum_{t: t+L >= T}
W[p,f,t] * dies_per_wafer * yield)``, subtracted from the cost (component terminal_value = -TV)."""

import pytest

from planner.input.validate import validate_workbook
from tests.builders import minimal_sheets, solve_sheets, write

from tests.model.helpers import set_row


def _sheets(tv, rate=0):
    """Two quarters, no demand, route lead 1 quarter (wafers of Q1 arrive in Q2, those of Q2 after the plan),
    10 good dies per wafer at $100, fab capacity 1,000 a quarter; 3 finished chips on hand at the start."""
    sheets = minimal_sheets(2, discount_rate_annual=rate)
    sheets["Demand"][1] = ["NA", "w", 0, 0]
    sheets["Routes"][1] = ["L1", "F", 10, 1, 1]
    set_row(sheets, "Products", "L1", initial_chip_inventory=3, terminal_value_usd_per_die=tv)
    return sheets


def test_low_terminal_value_buys_no_wafers(tmp_path):
    """tv = $5 per die: a wafer's 10 dies are worth $50 < $100, so no wafer is started. The 3 chips on hand are
    still there at the end: TV = 3 x $5 = $15. Objective = -$15; Summary terminal_value_usd = $15."""
    s = solve_sheets(tmp_path, _sheets(5))
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(-15, rel=1e-6)
    assert s.value("W", "L1", "F", 1) == pytest.approx(0, abs=1e-9)
    assert s.solution.kpis["terminal_value_usd"] == pytest.approx(15, rel=1e-6)
    assert s.solution.cost_breakdown_usd["terminal_value"] == pytest.approx(-15, rel=1e-6)


def test_dies_in_flight_and_in_the_die_bank_are_credited(tmp_path):
    """tv = $15: a wafer's dies are worth $150 > $100. Q1's 1,000 wafers end in the die bank or as chips
    (ID[T-1] + IC[T-1] = 10,000 + 3: packaging is free, so either), Q2's 1,000 are in flight after the plan (10,000 dies): TV = 15 x (10,000 + 3 + 10,000) = $300,045.
    Cost 2,000 x $100 = $200,000. Objective = -$100,045: the plan buys wafers up to its last quarter."""
    s = solve_sheets(tmp_path, _sheets(15))
    assert s.objective == pytest.approx(-100_045, rel=1e-6)
    assert s.value("W", "L1", "F", 0) == pytest.approx(1000)
    assert s.value("W", "L1", "F", 1) == pytest.approx(1000)
    assert s.value("ID", "L1", 1) + s.value("IC", "L1", 1) == pytest.approx(10_003)
    assert s.solution.kpis["terminal_value_usd"] == pytest.approx(300_045, rel=1e-6)


def test_terminal_value_is_discounted_at_the_last_quarter(tmp_path):
    """As above at 10% a year: df_1 = 1.1^(-1/4). Wafers of Q1 cost $100, of Q2 $100 x df_1; TV = df_1 x 15 x
    20,003. Both quarters still buy (150 df_1 > 100). Objective = 100,000 + 100,000 df_1 - 300,045 df_1."""
    df1 = 1.1 ** -0.25
    s = solve_sheets(tmp_path, _sheets(15, rate=0.1))
    assert s.objective == pytest.approx(100_000 + 100_000 * df1 - 300_045 * df1, rel=1e-6)


def test_negative_terminal_value_is_a_located_error(tmp_path):
    data, issues = validate_workbook(write(tmp_path, _sheets(-1)))
    assert data is None
    [err] = issues.errors
    assert err.column == "terminal_value_usd_per_die" and err.cell.startswith("Products!") and \
        "cannot be negative" in err.message
