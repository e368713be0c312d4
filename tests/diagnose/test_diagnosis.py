"""Infeasible plans explained: the conflicting input cells and the smallest change, worked out by hand.

Base workbook (tests/builders.py): one rack = 10 chips = 1 wafer of fab F, serves 1,000 tok/s, draws
10 kW x PUE 1 = 0.01 MW, costs $1,000 capex. One quarter unless said otherwise.
"""

import logging

import pytest
from openpyxl import load_workbook

from models.build import build_model
from models.solve import SolveOptions, solve
from planner.diagnose.diagnosis import diagnose
from planner.pipeline import run_plan
from planner.input.validate import validate_workbook
from tests.builders import minimal_sheets, write


def with_floor(sheets, level=1.0):
    sheets["Workloads"] = [["workload", "unmet_penalty_usd_per_tps", "min_service_level"], ["w", 1, level]]
    return sheets


def diagnosis_of(tmp_path, sheets):
    data, issues = validate_workbook(write(tmp_path, sheets))
    assert data is not None, [str(i) for i in issues]
    model, sets = build_model(data)
    options = SolveOptions(time_limit_s=60)
    result = solve(model, options)
    assert result.status == "infeasible", result.message
    return diagnose(model, sets, data, result, options)


def cells(frame):
    return set(frame["cell"])


def test_service_floor_against_fab_capacity(tmp_path):
    """Demand 2,000 tok/s must be 100% served, but FabCapacity F = 1 wafer = 1 rack = 1,000 tok/s.
    Conflict: FabCapacity!B2 and the floor (Workloads!C2). Repairs by relative change: the floor's slack is
    1,000 of 2,000 tok/s (0.5), the fab's is 1 of 1 wafer (1.0): lower the floor to 50%. Alone, the fab
    needs 2 wafers."""
    sheets = with_floor(minimal_sheets(1))
    sheets["FabCapacity"][1] = ["F", 1]
    sheets["Demand"][1] = ["NA", "w", 2000]
    d = diagnosis_of(tmp_path, sheets)
    assert {"FabCapacity!B2", "Workloads!C2"} <= cells(d.conflict)
    [repair] = d.repairs.itertuples()
    assert repair.cell == "Workloads!C2" and repair.repaired == pytest.approx(0.5)
    fab = d.alternatives[d.alternatives["cell"] == "FabCapacity!B2"]
    assert fab["current"].iloc[0] == pytest.approx(1) and fab["repaired"].iloc[0] == pytest.approx(2)


def test_installed_base_above_site_power(tmp_path):
    """10 installed racks draw 0.1 MW at S, SitePower S = 0.05 MW: the conflict is the installed base row and the
    site's power; raise SitePower!B2 from 0.05 to 0.1 MW."""
    sheets = minimal_sheets(1)
    sheets["InstalledBase"] = [["product", "site", "racks"], ["L1", "S", 10]]
    sheets["SitePower"][1] = ["S", 0.05]
    d = diagnosis_of(tmp_path, sheets)
    assert cells(d.conflict) == {"SitePower!B2", "InstalledBase!C2"}
    [repair] = d.repairs.itertuples()
    assert repair.cell == "SitePower!B2"
    assert (repair.current, repair.repaired) == (pytest.approx(0.05), pytest.approx(0.1))
    assert "SitePower!B2" in set(d.checks["cell"])


def test_partner_minimum_that_cannot_be_spent(tmp_path):
    """1,000 tok/s must be served: one whole rack ($1,000). Own budget is 0, so partner P must fund it, but
    P's minimum deal is $5,000 and site power (0.015 MW) fits one rack only: no signable deal. The LP
    relaxation is feasible (A = 0.2), so the conflict needs integers. Relative repairs: min deal 5,000 -> 1,000
    (0.8) beats the floor 100% -> 0% (1.0) and power 0.015 -> 0.05 MW (2.33)."""
    sheets = with_floor(minimal_sheets(1, integer_racks=True))
    sheets["Budget"][1] = ["own_capex_usd", 0]
    sheets["SitePower"][1] = ["S", 0.015]
    sheets["Partners"] = [["partner", "commitment_usd", "min_deal_usd"], ["P", 1e6, 5000]]
    sheets["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    d = diagnosis_of(tmp_path, sheets)
    assert d.conflict_of == "LP relaxation is feasible"
    [repair] = d.repairs.itertuples()
    assert repair.cell == "Partners!C2"
    assert (repair.current, repair.repaired) == (pytest.approx(5000), pytest.approx(1000))


def test_service_floor_nobody_can_serve(tmp_path):
    """Workload big has 50% floor and 1,000 tok/s demand but no product has throughput on it."""
    sheets = minimal_sheets(1)
    sheets["Workloads"] = [["workload", "unmet_penalty_usd_per_tps", "min_service_level"], ["w", 1, 0],
                           ["big", 1, 0.5]]
    sheets["Demand"].append(["NA", "big", 1000])
    d = diagnosis_of(tmp_path, sheets)
    assert {"Workloads!C3", "Demand!C3"} <= cells(d.conflict)
    assert "Demand!C3" in set(d.checks["cell"])
    [repair] = d.repairs.itertuples()
    assert repair.cell == "Workloads!C3" and repair.repaired == pytest.approx(0.0)


def test_service_floor_before_chips_can_arrive(tmp_path):
    """Route lead 1 (Routes!E2), nothing in stock or installed, a 50% floor: 2026Q1 cannot be served at all. The
    pre-solve check names the floor's cell, the quarter and the lead time; 2026Q2 is not listed."""
    sheets = with_floor(minimal_sheets(2), 0.5)
    sheets["Routes"][1] = ["L1", "F", 10, 1, 1]
    d = diagnosis_of(tmp_path, sheets)
    found = d.checks[d.checks["check"] == "service floor before chips can arrive"]
    assert list(found["quarter"]) == ["2026Q1"] and list(found["cell"]) == ["Workloads!C2"]
    assert "before 2026Q2 (Routes!E2)" in found["message"].iloc[0]


def test_own_budget_against_service_floor(tmp_path):
    """Racks are continuous; the floor needs 1 rack ($1,000) but the budget is $500. Relative repairs: the floor
    100% -> 50% (0.5) beats the budget 500 -> 1,000 (1.0); alone, the budget must be $1,000."""
    sheets = with_floor(minimal_sheets(1))
    sheets["Budget"][1] = ["own_capex_usd", 500]
    d = diagnosis_of(tmp_path, sheets)
    assert {"Budget!B2", "Workloads!C2"} <= cells(d.conflict)
    [repair] = d.repairs.itertuples()
    assert repair.cell == "Workloads!C2" and repair.repaired == pytest.approx(0.5)
    budget = d.alternatives[d.alternatives["cell"] == "Budget!B2"]
    assert budget["repaired"].iloc[0] == pytest.approx(1000)


def test_mixed_causes_all_repaired_together(tmp_path):
    """Both faults at once: installed base above power at S, and an unservable floor on big."""
    sheets = minimal_sheets(1)
    sheets["InstalledBase"] = [["product", "site", "racks"], ["L1", "S", 10]]
    sheets["SitePower"][1] = ["S", 0.05]
    sheets["Workloads"] = [["workload", "unmet_penalty_usd_per_tps", "min_service_level"], ["w", 1, 0],
                           ["big", 1, 0.5]]
    sheets["Demand"].append(["NA", "big", 1000])
    d = diagnosis_of(tmp_path, sheets)
    assert cells(d.conflict) & {"SitePower!B2", "Workloads!C3"}
    assert {"SitePower!B2", "Workloads!C3"} == cells(d.repairs)
    assert {"SitePower!B2", "Demand!C3"} <= set(d.checks["cell"])


def test_run_exits_3_and_writes_diagnosis(tmp_path):
    sheets = minimal_sheets(1)
    sheets["InstalledBase"] = [["product", "site", "racks"], ["L1", "S", 10]]
    sheets["SitePower"][1] = ["S", 0.05]
    out = tmp_path / "plan.xlsx"
    outcome = run_plan(write(tmp_path, sheets), out)
    assert outcome.exit_code == 3 and outcome.status == "infeasible"
    wb = load_workbook(out)
    assert wb.sheetnames[:2] == ["Summary", "Diagnosis"]
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["status"] == "infeasible" and summary["objective_usd"] is None
    text = " ".join(str(c.value) for row in wb["Diagnosis"].iter_rows() for c in row if c.value)
    assert "SitePower!B2" in text and "raise" in text


def test_diagnose_command_on_a_feasible_plan_reports_checks(tmp_path):
    """Take-or-pay above capacity is not infeasible under the spec (paid wafers are not capped), but it is paid for
    nothing: `planner diagnose` says so, with the cell."""
    from planner.cli import main

    sheets = minimal_sheets(1)
    sheets["FabMinWafers"] = [["fab", "2026Q1"], ["F", 2000]]
    out = tmp_path / "diag.xlsx"
    assert main(["-q", "diagnose", str(write(tmp_path, sheets)), "-o", str(out)]) == 0
    wb = load_workbook(out)
    assert wb.sheetnames[:2] == ["Summary", "Diagnosis"]
    text = " ".join(str(c.value) for row in wb["Diagnosis"].iter_rows() for c in row if c.value)
    assert "FabMinWafers!B2" in text and "take-or-pay above capacity" in text


def test_packaging_expansion_limit_is_a_repairable_limit(tmp_path):
    """Issue 14 (family 19). Two quarters; Q2's 2,500 tok/s (25 chips) must be fully served, Q1 has no demand.
    Line `default` packages 10 chips a quarter; chips packaged in Q1 are kept, so at most 20 chips by Q2. A
    PackagingExpansion block adds 5 chips a quarter from the next quarter, but max_blocks is 0: infeasible. The
    expansion limit PackagingExpansion!E2 is an input limit the repair may raise: one block (0 -> 1) gives 25."""
    sheets = with_floor(minimal_sheets(2))
    sheets["Demand"][1] = ["NA", "w", 0, 2500]
    sheets["PackagingCapacity"] = [["packaging_line", "2026Q1", "2026Q2"], ["default", 10, 10]]
    sheets["PackagingExpansion"] = [["packaging_line", "block_chips", "capex_usd_per_block", "lead_quarters",
                                     "max_blocks"], ["default", 5, 100, 1, 0]]
    d = diagnosis_of(tmp_path, sheets)
    limit = d.alternatives[d.alternatives["cell"] == "PackagingExpansion!E2"]
    assert len(limit) == 1
    assert limit["current"].iloc[0] == pytest.approx(0) and limit["repaired"].iloc[0] == pytest.approx(1)
def test_a_long_conflict_set_is_listed_short_in_words(tmp_path):
    """A 100% floor on 12,500 tok/s in the last of 12 quarters, a fab of 1 wafer (1 rack) a quarter: all 12 quarters'
    wafers give 12 racks, so every quarter's fab limit is in the conflict set.
    The words list 8 and 'N more (see the conflict set table)' (one cell held 7,292 characters on the example with
    every floor at 1 and printed across 99 pages); the table holds them all."""
    sheets = with_floor(minimal_sheets(12))
    sheets["FabCapacity"][1] = ["F"] + [1] * 12
    sheets["Demand"][1] = ["NA", "w"] + [0] * 11 + [12_500]
    d = diagnosis_of(tmp_path, sheets)
    [words] = [line for line in d.summary if line.startswith("Conflict set")]
    assert len(d.conflict) > 8
    assert f"{len(d.conflict)} limits" in words and f"and {len(d.conflict) - 8} more (see the conflict set table)" in words
    assert len(words) < 1500


def test_repairs_are_typeable_one_cell_per_workload_and_listed_in_full(tmp_path):
    """Whole racks (integer_racks), two quarters, 100% floor on w, demand 2,500 tok/s each quarter, FabCapacity 1
    wafer = 1 rack = 1,000 tok/s per quarter, budget $1e9. The LP repair lowers the floor to 40% in Q1 (1,000 of
    2,500 served, racks stay for Q2) -- one cell, Workloads!C2, for both quarters (not one per quarter): 'lower
    min_service_level of w (Workloads!C2) from 100.0% to 40.0%'. Alone, the fab needs whole wafers: 3 in Q1
    (2,500 tok/s needs 2.5 racks, whole racks: 3), typed as '1 to 3', never 2.5; money is written with separators."""
    from planner.diagnose.diagnosis import amount, listed

    sheets = with_floor(minimal_sheets(2, integer_racks=True))
    sheets["FabCapacity"][1] = ["F", 1, 1]
    sheets["Demand"][1] = ["NA", "w", 2500, 2500]
    d = diagnosis_of(tmp_path, sheets)
    [repair] = d.repairs.itertuples()
    assert repair.cell == "Workloads!C2" and repair.quarter == "" and repair.repaired == pytest.approx(0.4)
    assert repair.action == "lower min_service_level of w (Workloads!C2) from 100.0% to 40.0%"
    fab = d.alternatives[d.alternatives["family"] == "Fab capacity"]
    assert set(fab["repaired"]) <= {float(int(x)) for x in fab["repaired"]}  # whole wafers
    assert fab["repaired"].max() == pytest.approx(3)
    assert amount(86_000_000, "USD") == "$86,000,000" and amount(118.253, "wafers") == "118.25 wafers"
    assert listed([f"a{i}" for i in range(7)]) == "a0; and a1; and a2; and a3; and a4; and 2 more (see the repair table)"


def test_the_terminal_says_what_to_change(tmp_path, capsys):
    """An infeasible plan (100% floor, one wafer a quarter, 2,500 tok/s): exit 3, and the terminal prints the
    Diagnosis headline with the smallest change and points to the Diagnosis sheet."""
    from planner.cli import main

    sheets = with_floor(minimal_sheets(2, integer_racks=True))
    sheets["FabCapacity"][1] = ["F", 1, 1]
    sheets["Demand"][1] = ["NA", "w", 2500, 2500]
    code = main(["-q", "run", str(write(tmp_path, sheets)), "-o", str(tmp_path / "d.xlsx")])
    out = capsys.readouterr().out
    assert code == 3
    assert "Smallest change that makes the plan feasible: lower min_service_level of w (Workloads!C2)" in out
    assert "Diagnosis sheet says what to change" in out


def test_a_rack_bound_from_site_power_is_named_in_words(tmp_path):
    """Whole racks, one quarter, SitePower S = 0.015 MW: a rack draws 0.01 MW, so at most floor(0.015 / 0.01) = 1
    rack can ever stand at S (a bound on Y, models/variables.py rack_bounds). A 100% floor on 1,500 tok/s needs 1.5
    racks, which the power row alone allows (0.015 MW) but the bound does not: the relaxation's conflict is the
    floor and that bound, named as site power at SitePower!B2, not as 'Y[L1,S,0] <= 1'."""
    sheets = with_floor(minimal_sheets(1, integer_racks=True))
    sheets["SitePower"][1] = ["S", 0.015]
    sheets["Demand"][1] = ["NA", "w", 1500]
    d = diagnosis_of(tmp_path, sheets)
    bound = d.conflict[d.conflict["meaning"].str.startswith("at most")]
    assert [tuple(r) for r in bound[["family", "key", "quarter", "cell", "limit", "bound"]].itertuples(index=False)] \
        == [("Site power", "L1/S", "2026Q1", "SitePower!B2", 1.0, "upper")]
    assert bound["meaning"].iloc[0] == ("at most 1 racks of L1 can be deployed at S in 2026Q1: the most power S can "
                                        "ever have is 0.015 MW (SitePower at its peak)")
    assert not d.conflict["meaning"].str.contains(r"\[").any()


def test_the_terminal_counts_what_a_shortened_line_leaves_out():
    """A terminal line is cut at 300 characters; the count of what is left out adds the line's own 'and N more':
    8 limits listed and 21 more, 3 shown -> 5 + 21 = 26 more; 5 findings '(and 6 more, ...)', 2 shown -> 3 + 6."""
    from planner.cli import _shortened

    listed_8 = "Conflict set: " + "; ".join(f"limit number {i} is long enough" for i in range(8))
    assert _shortened(listed_8 + "; and 21 more (see the conflict set table)", 120).endswith(
        "limit number 2 is long enough; ... (26 more in the Diagnosis sheet)")
    listed_5 = "Frozen: " + "; ".join(f"limit number {i} is long enough" for i in range(5))
    assert _shortened(listed_5 + " (and 6 more, see Pre-solve checks)", 100).endswith(
        "limit number 1 is long enough; ... (9 more in the Diagnosis sheet)")


def test_a_repair_search_out_of_time_says_so_not_that_no_repair_exists(tmp_path, monkeypatch, caplog):
    """The workbook of the typeable-repairs test (its repair: the floor to 40%), diagnosed with no time left:
    every elastic re-solve stops at its time limit before it finds a repair. That is not 'no change makes the plan
    feasible': the headline says the search stopped and how to give it more time, and names the one-family
    searches it did not finish."""
    import planner.diagnose.diagnosis as diagnosis

    sheets = with_floor(minimal_sheets(2, integer_racks=True))
    sheets["FabCapacity"][1] = ["F", 1, 1]
    sheets["Demand"][1] = ["NA", "w", 2500, 2500]
    data, _issues = validate_workbook(write(tmp_path, sheets))
    model, sets = build_model(data)
    options = SolveOptions(time_limit_s=60)
    result = solve(model, options)
    assert result.status == "infeasible"
    monkeypatch.setattr(diagnosis, "time_left", lambda limit: 1e-9)
    with caplog.at_level(logging.INFO, logger="planner"):
        d = diagnose(model, sets, data, result, options)
    # the progress lines say a search was skipped, not that it ran (they read 'alternative 1/12 ... in 0.01 s')
    assert any("not searched: out of time" in r.getMessage() for r in caplog.records)
    text = " ".join(d.summary)
    assert len(d.repairs) == 0 and "No change to the input limits alone" not in text
    assert "The search for the smallest change stopped (time limit reached) before it found one within the " \
           "time limit (60 s, shared with the plan's solve)" in text
    assert "run `planner diagnose` again with a larger --time-limit" in text
    assert "Not searched, out of time: the change in " in text and "service floor" in text.lower()
    monkeypatch.undo()
    again = diagnose(model, sets, data, result, options)
    assert again.repairs["action"].tolist() == ["lower min_service_level of w (Workloads!C2) from 100.0% to 40.0%"]


def test_the_diagnosis_sheet_shows_a_service_floor_repair_in_percent(tmp_path):
    """The repair table showed the floor as 'current 1, repaired 0.398' (unit share) under a headline that says
    'from 100.0% to 39.8%': the share's values are written in percent (the stored value stays 0.4)."""
    sheets = with_floor(minimal_sheets(2, integer_racks=True))
    sheets["FabCapacity"][1] = ["F", 1, 1]
    sheets["Demand"][1] = ["NA", "w", 2500, 2500]
    out = tmp_path / "plan.xlsx"
    assert run_plan(write(tmp_path, sheets), out).exit_code == 3
    ws = load_workbook(out)["Diagnosis"]
    shares = [row for row in ws.iter_rows() if any(c.value == "share" for c in row)]
    assert shares
    for row in shares:
        values = [c for c in row if isinstance(c.value, float)]
        assert values and all(c.number_format.endswith("%") for c in values)
