"""A planner's checklist for bad workbooks: every error names its sheet, cell, column and value."""

import hashlib

import pytest
from openpyxl import load_workbook

from planner.input.validate import validate_workbook
from tests.builders import minimal_sheets, write


def issues_of(tmp_path, sheets, name="in.xlsx"):
    data, issues = validate_workbook(write(tmp_path, sheets, name))
    return data, issues


def only(issues, severity="error"):
    return [i for i in issues if i.severity == severity]


def test_minimal_workbook_is_valid(tmp_path):
    data, issues = issues_of(tmp_path, minimal_sheets())
    assert data is not None and not issues.errors
    assert data.quarters == ["2026Q1", "2026Q2"]


def test_missing_required_sheet(tmp_path):
    sheets = minimal_sheets()
    del sheets["Routes"]
    data, issues = issues_of(tmp_path, sheets)
    assert data is None
    assert any(i.sheet == "Routes" and "required sheet 'Routes' is missing" in i.message for i in issues.errors)


def test_missing_required_column(tmp_path):
    sheets = minimal_sheets()
    sheets["Routes"] = [["product", "fab", "dies_per_wafer", "lead_quarters"], ["L1", "F", 10, 0]]
    _, issues = issues_of(tmp_path, sheets)
    [err] = [i for i in issues.errors if i.column == "yield"]
    assert err.cell == "Routes!1:1" and "required column 'yield' is missing" in err.message


def test_unknown_product_in_routes_lists_known_keys(tmp_path):
    sheets = minimal_sheets()
    sheets["Routes"].append(["L9", "F", 10, 0.5, 0])
    _, issues = issues_of(tmp_path, sheets)
    [err] = issues.errors
    assert err.cell == "Routes!A3" and err.column == "product" and err.value == "L9"
    assert "known: L1" in err.message


def test_duplicate_key(tmp_path):
    sheets = minimal_sheets()
    sheets["Products"].append(["L1", 8, 5, 10, 4])
    _, issues = issues_of(tmp_path, sheets)
    [err] = issues.errors
    assert err.cell == "Products!A3" and "duplicate key L1" in err.message and "row 2" in err.message


@pytest.mark.parametrize("bad", [0, 1.2, -0.1])
def test_yield_outside_zero_one(tmp_path, bad):
    sheets = minimal_sheets()
    sheets["Routes"][1][3] = bad
    _, issues = issues_of(tmp_path, sheets)
    [err] = issues.errors
    assert err.cell == "Routes!D2" and err.column == "yield" and "(0, 1]" in err.message


def test_negative_capacity_and_cost(tmp_path):
    sheets = minimal_sheets()
    sheets["FabCapacity"][1][2] = -5
    sheets["Fabs"][1][1] = -100
    _, issues = issues_of(tmp_path, sheets)
    cells = {i.cell: i for i in issues.errors}
    assert set(cells) == {"FabCapacity!C2", "Fabs!B2"}
    assert "cannot be negative" in cells["FabCapacity!C2"].message


def test_quarter_column_missing_from_horizon(tmp_path):
    sheets = minimal_sheets(3)
    sheets["SitePower"] = [["site", "2026Q1", "2026Q2"], ["S", 100, 100]]
    _, issues = issues_of(tmp_path, sheets)
    [err] = issues.errors
    assert err.sheet == "SitePower" and "2026Q3" in err.message and err.cell == "SitePower!1:1"


def test_malformed_quarter_header(tmp_path):
    sheets = minimal_sheets()
    sheets["Demand"][0].append("2026Q5")
    sheets["Demand"][1].append(5)
    _, issues = issues_of(tmp_path, sheets)
    [err] = issues.errors
    assert err.cell == "Demand!E1" and "malformed quarter" in err.message


def test_quarter_outside_horizon_is_a_warning(tmp_path):
    sheets = minimal_sheets()
    sheets["Demand"][0].append("2027Q1")
    sheets["Demand"][1].append(5)
    data, issues = issues_of(tmp_path, sheets)
    assert data is not None
    assert any(i.cell == "Demand!E1" and "outside the plan horizon" in i.message for i in issues.warnings)


def test_product_without_route_and_hbm_product_without_vendor(tmp_path):
    sheets = minimal_sheets()
    sheets["Products"][0].append("stacks_per_chip")
    sheets["Products"][1].append(0)
    sheets["Products"].append(["G1", 8, 100, 1000, 8, 6])
    data, issues = issues_of(tmp_path, sheets)
    assert data is not None
    msgs = {(i.cell, i.column): i.message for i in issues.warnings}
    assert "no route" in msgs[("Products!A3", "product")]
    assert "no vendor is qualified" in msgs[("Products!F3", "stacks_per_chip")]


def test_demand_nobody_can_serve(tmp_path):
    sheets = minimal_sheets()
    sheets["Workloads"].append(["big", 1])
    sheets["Demand"].append(["NA", "big", 10, 10])
    sheets["Demand"].append(["EU", "w", 10, 10])
    data, issues = issues_of(tmp_path, sheets)
    assert data is not None
    msgs = {i.cell: i.message for i in issues.warnings}
    assert "no product can serve it" in msgs["Demand!B3"]
    assert "no site serves it" in msgs["Demand!A4"]


def test_partner_window_outside_horizon(tmp_path):
    sheets = minimal_sheets()
    sheets["Partners"] = [["partner", "commitment_usd", "first_quarter", "last_quarter"],
                          ["P", 1e6, "2030Q1", "2030Q4"], ["Q", 1e6, "2026Q2", "2026Q1"]]
    sheets["PartnerSites"] = [["partner", "site"], ["P", "S"], ["Q", "S"]]
    data, issues = issues_of(tmp_path, sheets)
    assert any(i.cell == "Partners!C2" and "outside the horizon" in i.message for i in issues.warnings)
    assert any(i.cell == "Partners!C3" and "after last_quarter" in i.message for i in issues.warnings)  # an empty window: funds nothing


def test_cell_level_faults_are_located(tmp_path):
    sheets = minimal_sheets()
    path = write(tmp_path, sheets)
    wb = load_workbook(path)
    wb["FabCapacity"]["B2"] = "=1/0"  # a formula with no cached value
    wb["Products"]["C2"] = "ten"  # text that is not a number
    wb["SitePower"]["B2"] = "#N/A"  # an Excel error value
    wb["Demand"].merge_cells("C2:D2")  # merged cells in data
    wb["Fabs"]["B2"] = "1,000"
    wb.save(path)
    data, issues = validate_workbook(path)
    assert data is None
    cells = {i.cell: i.message for i in issues.errors}
    assert "no cached value" in cells["FabCapacity!B2"]
    assert "found text 'ten'" in cells["Products!C2"]
    assert "Excel error value" in cells["SitePower!B2"]
    assert "merged cells (C2:D2)" in cells["Demand!C2"]
    assert "thousands separator" in cells["Fabs!B2"]
    assert len(issues.errors) == 5  # every fault at once, not just the first


def test_merged_header_cells_are_named_not_read_as_blank_headers(tmp_path):
    sheets = minimal_sheets()
    path = write(tmp_path, sheets)
    wb = load_workbook(path)
    wb["Sites"].merge_cells("B1:C1")  # 'region' spread over region and pue: pue's header is gone
    wb.save(path)
    data, issues = validate_workbook(path)
    assert data is None
    cells = {i.cell: i.message for i in issues.errors}
    assert "header cells B1:C1 are merged" in cells["Sites!B1:C1"]
    assert not any("blank header" in m for m in cells.values())  # the merge is the cause, said once
    assert any("'pue' is missing" in m for m in cells.values())
    assert not any("'region' is missing" in m for m in cells.values())  # the range's first cell keeps its header


def test_all_errors_come_back_together(tmp_path):
    sheets = minimal_sheets()
    del sheets["Budget"]
    sheets["Routes"][1][3] = 2
    sheets["Throughput"].append(["L1", "nope", 5])
    sheets["Sites"][1][2] = 0.5
    _, issues = issues_of(tmp_path, sheets)
    where = {i.cell or i.sheet for i in issues.errors}
    assert {"Budget", "Routes!D2", "Throughput!B3", "Sites!C2"} <= where


def test_input_file_is_never_written(tmp_path):
    path = write(tmp_path, minimal_sheets())
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    mtime = path.stat().st_mtime_ns
    validate_workbook(path)
    from planner.pipeline import run_plan
    run_plan(path, tmp_path / "out.xlsx")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert path.stat().st_mtime_ns == mtime


def test_not_an_xlsx(tmp_path):
    for name, content in (("a.csv", b"product,fab\nL1,F\n"), ("b.xls", b"\xd0\xcf\x11\xe0garbage"),
                          ("c.xlsx", b"PK\x03\x04broken")):
        path = tmp_path / name
        path.write_bytes(content)
        data, issues = validate_workbook(path)
        assert data is None
        assert "not a valid .xlsx" in issues.errors[0].message


def test_messy_but_valid_values(tmp_path):
    """Numbers stored as text, keys pandas would call NaN, integer keys, headers in another case."""
    sheets = minimal_sheets()
    sheets["Sites"] = [["Site", " REGION ", "PUE", "Power Price USD per MWh"], ["S", "NA", " 1.2 ", "50"]]
    sheets["Products"][1][0] = 123
    sheets["Routes"][1][0] = "123"
    sheets["Throughput"][1][0] = 123.0
    data, issues = issues_of(tmp_path, sheets)
    assert data is not None, [str(i) for i in issues]
    assert list(data.sites["region"]) == ["NA"]
    assert data.sites.at["S", "pue"] == 1.2
    assert list(data.products.index) == ["123"]


def test_expansion_block_no_budget_can_pay_for(tmp_path):
    sheets = minimal_sheets()
    sheets["SiteExpansion"] = [["site", "block_mw", "capex_usd_per_mw", "lead_quarters", "max_blocks"],
                               ["S", 10, 2e6, 1, 3]]
    sheets["Budget"][1] = ["own_capex_usd", 1e6, 1.5e6]
    data, issues = issues_of(tmp_path, sheets)
    assert data is not None
    [w] = [i for i in issues.warnings if i.sheet == "SiteExpansion"]
    assert w.cell == "SiteExpansion!C2" and "can never be started" in w.message


def test_budget_item_matches_ignoring_case_and_spaces(tmp_path):
    sheets = minimal_sheets()
    sheets["Budget"][1][0] = " Own Capex USD "
    data, issues = issues_of(tmp_path, sheets)
    assert data is not None and data.budget[0] == 1e9, [str(i) for i in issues]
    assert data.cell("Budget", ("own_capex_usd",), "2026Q2") == "Budget!C2"


def test_run_reports_every_error_once_like_validate(tmp_path):
    """Reader faults (a formula with no cached value) and validation faults come back together from `run`,
    each named once: no 'required and blank' echo of the faulty cell, no 'no route' warning because the
    route row has a bad yield, no 'no capacity row' warning because that row has a bad number."""
    from openpyxl import load_workbook

    from planner.pipeline import run_plan

    path = write(tmp_path, minimal_sheets())
    wb = load_workbook(path)
    wb["Products"]["B2"] = "=1/0"
    wb["Routes"]["D2"] = 1.7
    wb["FabCapacity"]["C2"] = "1,000"
    wb.save(path)
    outcome = run_plan(path, tmp_path / "plan.xlsx")
    assert outcome.exit_code == 2
    assert [i.cell for i in outcome.issues.errors] == ["Products!B2", "Routes!D2", "FabCapacity!C2"]
    assert not outcome.issues.warnings
    assert not (tmp_path / "plan.xlsx").exists()


def test_an_open_ended_partner_window_after_the_horizon_is_a_warning_not_an_error(tmp_path):
    """first_quarter 2030Q1 (after the 2026Q1..2026Q4 horizon) and a blank last_quarter: the window 2030Q1.. is
    open-ended, so it lies outside the horizon (a warning), never 'after last_quarter nan'."""
    sheets = minimal_sheets()
    sheets["Partners"] = [["partner", "commitment_usd", "first_quarter", "last_quarter"], ["P", 1e6, "2030Q1", None]]
    sheets["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    data, issues = issues_of(tmp_path, sheets)
    assert data is not None and not issues.errors
    [warning] = [i for i in issues.warnings if i.cell == "Partners!C2"]
    assert "2030Q1..(open) lies outside the horizon" in warning.message


@pytest.mark.parametrize("first, last, cell, column", [(None, "2027Q2", "Partners!D2", "last_quarter"),
                                                       ("2025Q3", "2026Q2", "Partners!C2", "first_quarter"),
                                                       (None, "2025Q1", "Partners!D2", "last_quarter")])
def test_a_partner_window_off_the_horizon_is_warned_at_the_end_that_is_off(tmp_path, first, last, cell, column):
    """Horizon 2026Q1..2026Q2: a window ending 2027Q2 is cut at its last_quarter cell (D2), one starting 2025Q3 at
    its first_quarter cell (C2); one that ended in 2025Q1 lies before the plan: its last_quarter (D2) is off."""
    sheets = minimal_sheets()
    sheets["Partners"] = [["partner", "commitment_usd", "first_quarter", "last_quarter"], ["P", 1e6, first, last]]
    sheets["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    _data, issues = issues_of(tmp_path, sheets)
    [warning] = [i for i in issues.warnings if "window" in i.message]
    assert (warning.cell, warning.column) == (cell, column)


def test_a_bad_start_quarter_still_reports_bad_quarter_values(tmp_path):
    """start_quarter '2026Q5' leaves no horizon, yet a negative demand in Demand!C2 is reported with it: every
    error at once, not the horizon's alone."""
    sheets = minimal_sheets()
    sheets["Settings"][2] = ["start_quarter", "2026Q5"]
    sheets["Demand"][1] = ["NA", "w", -5, 1000]
    data, issues = issues_of(tmp_path, sheets)
    assert data is None
    cells = {i.cell: i.message for i in issues.errors}
    assert "2026Q5" in cells["Settings!B3"]
    assert "negative" in cells["Demand!C2"]


def test_validate_reports_scenario_and_uncertainty_rows_even_when_the_base_has_errors(tmp_path, capsys):
    """FabCapacity!B2 = -50 (a base error), a Scenarios row naming an unknown sheet and an Uncertainty row with an
    unknown distribution: validate lists all three at once (before: the base's error alone), exit 2."""
    from planner.cli import main

    sheets = minimal_sheets()
    sheets["FabCapacity"][1][1] = -50
    sheets["Scenarios"] = [["scenario", "sheet", "key", "column", "operation", "value"],
                           ["typo", "HBMSuply", "*", "*", "scale", 0.5]]
    sheets["Uncertainty"] = [["sheet", "key", "column", "distribution", "p1", "p2", "p3"],
                             ["Demand", "*", "*", "gauss", 0.9, 1.1, None]]
    assert main(["validate", str(write(tmp_path, sheets))]) == 2
    out = capsys.readouterr().out
    assert "FabCapacity!B2" in out and "unknown sheet 'HBMSuply'" in out and "unknown distribution" in out


@pytest.mark.parametrize("fault", ["no Sites sheet", "blank route yield"])
def test_a_faulty_sheet_is_reported_once_without_knock_on_warnings(tmp_path, fault):
    """Sites deleted: one error (the missing sheet), not also "region NA has demand but no site serves it"; a
    blank Routes yield: one error at its cell, not also "no route L1/F in Routes" for the route's Yield row."""
    sheets = minimal_sheets()
    if fault == "no Sites sheet":
        del sheets["Sites"]
    else:
        header = sheets["Routes"][0]
        sheets["Routes"][1][header.index("yield")] = None
        sheets["Yield"] = [["product", "fab", "2026Q1", "2026Q2"], ["L1", "F", 0.5, 0.5]]
    _data, issues = issues_of(tmp_path, sheets)
    assert len(issues.errors) == 1 and not issues.warnings, [str(i) for i in issues]


def test_a_quarter_header_with_a_two_digit_year_is_an_error_at_its_cell(tmp_path):
    """FabCapacity's 2026Q2 header written 'Q2-26': an error at FabCapacity!C1 saying how to write quarters
    (before: a warning that an unknown column is ignored)."""
    sheets = minimal_sheets()
    sheets["FabCapacity"][0][2] = "Q2-26"
    _data, issues = issues_of(tmp_path, sheets)
    cells = {i.cell: i.message for i in issues.errors}
    assert "malformed quarter header" in cells["FabCapacity!C1"]
    assert not any("ignored" in w.message and "Q2-26" in w.message for w in issues.warnings)


def test_a_knock_on_is_only_an_error_naming_the_base_errors_own_cell():
    """Base error at Products!D2: a scenario row failing on Products!D2 repeats it (left out); one failing on
    Products!D20 is its own error (kept)."""
    from planner.cli import _knock_ons_dropped
    from planner.issues import Issues

    base, rows = Issues(), Issues()
    base.error("Products", "Products!D2", "rack_capex_usd", "x", "expected a number")
    rows.error("Scenarios", "Scenarios!F3", "value", 2, "cannot scale 1 cell(s): Products!D20 (text)")
    rows.error("Scenarios", "Scenarios!F4", "value", 2, "cannot scale 1 cell(s): Products!D2 (text)")
    assert [i.cell for i in _knock_ons_dropped(rows, base).errors] == ["Scenarios!F3"]


def test_validate_shows_the_warnings_a_scenario_adds(tmp_path, capsys):
    """Scenario 'odd' adds a Budget row 'other_capex': its plan would ignore that row, so validate says so under
    the scenario's name (a warning: exit 0), and does not repeat the base's own warnings for every scenario."""
    from planner.cli import main

    sheets = minimal_sheets()
    sheets["Settings"].append(["colour", "blue"])  # the base's own warning: an unknown Settings key
    sheets["Scenarios"] = [["scenario", "sheet", "key", "column", "operation", "value"],
                           ["odd", "Budget", "other_capex", "2026Q1", "add_row", 5],
                           ["fine", "Demand", "NA/w", "*", "scale", 0.5]]
    assert main(["validate", str(write(tmp_path, sheets))]) == 0
    out = capsys.readouterr().out
    assert "scenario 'odd': 1 warning(s)" in out and "budget item 'other_capex' is not used" in out
    assert "scenario 'fine'" not in out and out.count("unknown setting 'colour'") == 1
    assert "1 warning(s), and 1 in its scenarios)" in out  # the OK line counts the scenario's warning too


def test_run_warns_about_a_scenario_that_cannot_be_applied(tmp_path, capsys):
    """Scenario 'typo' names Demand key 'EU/w', which the workbook lacks: `planner validate` fails (exit 2), and a
    plain `planner run` (which plans the workbook as it is, without scenarios) still plans it, exit 0, but warns at
    Scenarios!C2 on the terminal and in the plan's Warnings sheet; `--scenario typo` refuses it (exit 2)."""
    from planner.cli import main

    sheets = minimal_sheets()
    sheets["Scenarios"] = [["scenario", "sheet", "key", "column", "operation", "value"],
                           ["typo", "Demand", "EU/w", "*", "scale", 0.5]]
    src, out = write(tmp_path, sheets), tmp_path / "p.xlsx"
    assert main(["validate", str(src)]) == 2
    capsys.readouterr()
    assert main(["-q", "run", str(src), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "WARNING Scenarios!C2 [key] = 'EU/w': scenario 'typo' cannot be applied" in err
    assert "1 warning(s); see the plan's Warnings sheet" in err
    rows = list(load_workbook(out)["Warnings"].iter_rows(min_row=2, values_only=True))
    assert [(r[2], r[4]) for r in rows] == [("Scenarios!C2", "EU/w")]
    assert main(["-q", "run", str(src), "--scenario", "typo", "-o", str(tmp_path / "t.xlsx")]) == 2


def test_a_remembered_table_frame_is_each_callers_own_and_keyed_by_value_and_type():
    """`planner validate` re-validates every scenario; equal sheets reuse one frame, which no caller can spoil."""
    from planner.input.checks.rows import Row, to_frame

    def fab_rows(capacity):
        return [Row({"fab": "F", "wafer_cost_usd": capacity, "foundry": "TSMC", "node": "N4"}, 2, {})]

    first = to_frame("Fabs", fab_rows(100.0), ["fab"])
    first.loc["F", "wafer_cost_usd"] = -1.0  # a caller edits its frame
    again = to_frame("Fabs", fab_rows(100.0), ["fab"])
    assert again.loc["F", "wafer_cost_usd"] == 100.0
    other = to_frame("Fabs", fab_rows(200.0), ["fab"])
    assert other.loc["F", "wafer_cost_usd"] == 200.0
    as_text = to_frame("Workloads", [Row({"workload": "1", "unmet_penalty_usd_per_tps": 1.0, "min_service_level": 0.0}, 2, {})], ["workload"])
    as_int = to_frame("Workloads", [Row({"workload": 1, "unmet_penalty_usd_per_tps": 1.0, "min_service_level": 0.0}, 2, {})], ["workload"])
    assert list(as_text.index) == ["1"] and list(as_int.index) == [1]


def test_a_blank_setting_value_is_the_settings_default_as_a_missing_row_is(tmp_path):
    """The template writes every setting's row: a planner who clears a value means the default (workbook.md)."""
    sheets = minimal_sheets()
    blanked = ["discount_rate_annual", "integer_racks", "hours_per_quarter", "mip_rel_gap", "time_limit_s",
               "commit_quarters"]
    given = [row for row in sheets["Settings"] if row[0] not in blanked]
    sheets["Settings"] = given + [[key, None] for key in blanked]
    data, issues = issues_of(tmp_path, sheets)
    assert not issues.errors, issues.errors
    s = data.settings
    assert (s.discount_rate_annual, s.integer_racks, s.hours_per_quarter) == (0.10, True, 2190)
    assert (s.mip_rel_gap, s.time_limit_s, s.commit_quarters) == (0.001, 600, 1)


def test_a_setting_given_blank_and_again_is_given_twice(tmp_path):
    sheets = minimal_sheets()
    sheets["Settings"] = [row for row in sheets["Settings"] if row[0] != "discount_rate_annual"]
    sheets["Settings"] += [["discount_rate_annual", None], ["discount_rate_annual", 0.2]]
    _, issues = issues_of(tmp_path, sheets)
    assert any("given twice" in i.message for i in issues.errors)


def test_an_unused_packaging_line_is_said_only_when_every_product_row_was_read(tmp_path):
    """Products!B3 is bad, so row 3 (line cowos) is left out; PackagingCapacity's cowos is not 'used by no
    product' then. With the row fixed and the line truly unused, the warning is given."""
    sheets = minimal_sheets()
    sheets["Products"] = [["product", "chips_per_rack", "rack_kw", "rack_capex_usd", "life_quarters",
                           "packaging_line"], ["L1", 10, 10, 1000, 40, "soic"], ["L2", "ten", 10, 1000, 40, "cowos"]]
    sheets["PackagingCapacity"] = [["packaging_line", "2026Q1", "2026Q2"], ["cowos", 10, 10]]
    _, issues = issues_of(tmp_path, sheets)
    assert any(i.cell == "Products!B3" for i in issues.errors)
    assert not any("no product uses packaging line" in i.message for i in issues.warnings)
    sheets["Products"][2] = ["L2", 10, 10, 1000, 40, "soic"]
    _, issues = issues_of(tmp_path, sheets, "fixed.xlsx")
    assert any("no product uses packaging line 'cowos'" in i.message for i in issues.warnings)


def test_a_terminal_value_above_what_a_die_costs_is_warned(tmp_path):
    """A die of L1 costs $100 / (10 x 1) = $10 at F: a terminal value of $50 per die would make the plan start
    wafers only to hold dies at the end (a session saw 'OPTIMAL ... objective -$1,582,286'); $12 (about the
    replacement cost, as the example's) is fine."""
    for value, warned in ((50, True), (12, False)):
        sheets = minimal_sheets()
        sheets["Products"][0].append("terminal_value_usd_per_die")
        sheets["Products"][1].append(value)
        _, issues = issues_of(tmp_path, sheets, f"tv{value}.xlsx")
        hits = [i for i in issues.warnings if i.column == "terminal_value_usd_per_die"]
        assert bool(hits) is warned and (not hits or "($10: wafer cost" in hits[0].message)


def test_take_or_pay_floors_above_what_can_be_delivered_are_warned(tmp_path):
    """FabMinWafers 1,200 wafers in 2026Q2 against a capacity of 1,000: 200 paid and never started. HBMMinStacks of
    vendor V: 50 stacks in both quarters against supply 40 / 60: one warning, at 2026Q1, naming the later quarter
    count only when there is one (here none). Floors within the limit (fab 2026Q1: 500) are not warned."""
    sheets = minimal_sheets(2)
    sheets["FabMinWafers"] = [["fab", "2026Q1", "2026Q2"], ["F", 500, 1200]]
    sheets["HBMVendors"] = [["vendor", "price_usd_per_stack"], ["V", 10]]
    sheets["HBMSupply"] = [["vendor", "2026Q1", "2026Q2"], ["V", 40, 60]]
    sheets["HBMMinStacks"] = [["vendor", "2026Q1", "2026Q2"], ["V", 50, 50]]
    _data, issues = issues_of(tmp_path, sheets)
    warnings = only(issues, "warning")
    floors = [w for w in warnings if "never delivered" in w.message]
    assert [(w.cell, w.column) for w in floors] == [("FabMinWafers!C2", "2026Q2"), ("HBMMinStacks!B2", "2026Q1")]
    assert "F pays for 1,200 wafers in 2026Q2, above the fab's capacity of 1,000 (FabCapacity!C2): the 200" \
        in floors[0].message
    assert "V pays for 50 stacks in 2026Q1, above the vendor's supply of 40 (HBMSupply!B2): the 10" in floors[1].message


def test_a_floor_is_not_compared_with_a_capacity_row_that_has_an_error(tmp_path):
    """FabCapacity!C2 = -5 is the error; the row's capacities were not read, so the floor of 500 in 2026Q1 is not
    said to be 'above the fab's capacity of 0 (FabCapacity!B2)', which holds 1,000."""
    sheets = minimal_sheets(2)
    sheets["FabMinWafers"] = [["fab", "2026Q1", "2026Q2"], ["F", 500, 500]]
    sheets["FabCapacity"][1][2] = -5
    _data, issues = issues_of(tmp_path, sheets)
    assert [e.cell for e in issues.errors] == ["FabCapacity!C2"]
    assert not [w for w in issues.warnings if "never delivered" in w.message]


def test_a_quarter_excel_turned_into_a_date_is_named_as_a_date_not_python():
    import datetime as dt

    from planner.input.convert import CellError, to_quarter

    with pytest.raises(CellError) as info:
        to_quarter(dt.datetime(2027, 4, 1))
    assert str(info.value) == ("expected a quarter like 2026Q1, found the date 2027-04-01 (write the quarter as "
                               "text, e.g. 2027Q2)")


def test_keys_that_differ_only_by_case_are_one_name_twice(tmp_path):
    """Sites 'S' and 's' (and their SitePower rows): Excel's lookups take them for one site, the model would plan
    two. An error at each second row, naming the first."""
    sheets = minimal_sheets()
    sheets["Sites"].append(["s", "NA", 1, 0])
    sheets["SitePower"].append(["s", 100, 100])
    _, issues = issues_of(tmp_path, sheets)
    assert [(i.cell, i.value) for i in issues.errors] == [("Sites!A3", "s"), ("SitePower!A3", "s")]
    assert all("differs from row 2's S only by case" in i.message for i in issues.errors)


def test_a_misspelt_reference_names_the_key_it_likely_means_and_causes_no_knock_on(tmp_path):
    """SitePower and PartnerSites write 'Site-1' for Sites' 'Site 1': each row is an error naming 'Site 1', and
    neither 'site Site 1 has no row in SitePower' nor 'partner P has no row in PartnerSites' follows, since both
    rows exist (their own errors say what is wrong with them)."""
    sheets = minimal_sheets()
    sheets["Sites"][1][0] = "Site 1"
    sheets["SitePower"][1][0] = "Site-1"
    sheets["Partners"] = [["partner", "commitment_usd", "min_deal_usd", "first_quarter", "last_quarter",
                           "return_rate_quarterly"], ["P", 1000, 0, None, None, 0.01]]
    sheets["PartnerSites"] = [["partner", "site"], ["P", "site-1"]]
    _, issues = issues_of(tmp_path, sheets)
    assert sorted(i.cell for i in issues.errors) == ["PartnerSites!B2", "SitePower!A2"]
    assert all("did you mean 'Site 1'?" in i.message for i in issues.errors)
    assert not any("has no row" in i.message for i in issues)


def test_an_hbm_floor_of_a_vendor_qualified_for_nothing_is_warned(tmp_path):
    """Vendor V has a 30 + 20 = 50-stack take-or-pay floor but no HBMQualification row: all 50 are paid and none
    can be packaged. Once V is qualified for product L1 the warning goes."""
    sheets = minimal_sheets(2)
    sheets["HBMVendors"] = [["vendor", "price_usd_per_stack"], ["V", 10]]
    sheets["HBMSupply"] = [["vendor", "2026Q1", "2026Q2"], ["V", 60, 60]]
    sheets["HBMMinStacks"] = [["vendor", "2026Q1", "2026Q2"], ["V", 30, 20]]
    _data, issues = issues_of(tmp_path, sheets)
    [hit] = [w for w in issues.warnings if "qualified for no product" in w.message]
    assert hit.cell == "HBMMinStacks!A2" and "(50 stacks in all)" in hit.message
    sheets["HBMQualification"].append(["V", "L1"])
    _data, issues = issues_of(tmp_path, sheets, "qualified.xlsx")
    assert not [w for w in issues.warnings if "qualified for no product" in w.message]
