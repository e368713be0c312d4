"""Hostile inputs, round four (a session's trial of 468 cases): edits that used to plan something else than the
workbook says, or to fail with an unexpected error, are located errors."""

from __future__ import annotations

import pytest

from planner import cli
from tests.builders import minimal_sheets, write


def test_partner_sites_without_a_partners_sheet_is_an_error_at_each_row_not_an_unexpected_failure(tmp_path, capsys):
    """PartnerSites names partner P but the Partners sheet was deleted (or renamed): validate used to call the
    workbook valid and run failed with KeyError 'P'. Each PartnerSites row is an error at its partner cell."""
    s = minimal_sheets(2)
    s["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    src = write(tmp_path, s)
    assert cli.main(["-q", "validate", str(src)]) == 2
    assert "PartnerSites!A2 [partner] = 'P': unknown partner 'P': not in Partners: the workbook has no Partners " \
           "sheet (add it, or delete this row)" in capsys.readouterr().out
    assert cli.main(["-q", "run", str(src), "-o", str(tmp_path / "plan.xlsx")]) == 2
    said = capsys.readouterr()
    assert "unexpected failure" not in said.out + said.err and "PartnerSites!A2" in said.out + said.err
    assert not (tmp_path / "plan.xlsx").exists()


def _products_header(sheets, old, new):
    header = sheets["Products"][0]
    header[header.index(old)] = new
    return sheets


def test_a_header_written_in_camel_case_or_another_separator_is_its_column(tmp_path):
    """README: headers match ignoring case and _ / space / -. 'ChipsPerRack' and 'rack-KW' are chips_per_rack and
    rack_kw (so the rack's 10 chips and 10 kW are read, not refused as missing columns); the Settings key
    'Integer-Racks' is integer_racks (it was 'unknown setting; ignored')."""
    from planner.input.validate import validate_workbook

    s = _products_header(_products_header(minimal_sheets(1), "chips_per_rack", "ChipsPerRack"), "rack_kw", "rack-KW")
    s["Settings"] = [row if row[0] != "integer_racks" else ["Integer-Racks", True] for row in s["Settings"]]
    data, issues = validate_workbook(write(tmp_path, s))
    assert data is not None, [str(i) for i in issues]
    assert not [i for i in issues if "not part of sheet" in i.message or "unknown setting" in i.message]
    assert data.products.at["L1", "chips_per_rack"] == 10 and data.settings.integer_racks is True


def test_a_misspelt_optional_column_is_an_error_naming_the_column_it_likely_means(tmp_path, capsys):
    """'utilisation' for utilization: ignored, every product would run at the default utilization 1 (on the
    example the cost fell from $1,086M to $234M without an error). It is an error at its header cell."""
    s = minimal_sheets(1)
    s["Products"][0].append("utilisation")
    s["Products"][1].append(0.5)
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 2
    assert "Products!F1 [utilisation] = 'utilisation': column 'utilisation' is not part of sheet Products; did you " \
           "mean 'utilization'?" in capsys.readouterr().out


def test_data_under_a_cleared_header_is_an_error_at_its_first_cell(tmp_path, capsys):
    """Products' rack_capex_usd header cleared with the values left below it: the column was dropped without a
    word and every rack cost its default. An error at the first value, naming the column letter."""
    s = _products_header(minimal_sheets(1), "rack_capex_usd", None)
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 2
    out = capsys.readouterr().out
    assert "Products!D2 = 1000: data under a blank header (column D, header row 1)" in out


def test_an_optional_sheet_missing_a_quarter_column_is_warned_with_what_the_plan_assumes(tmp_path, capsys):
    """FabMinWafers with a row for F but no 2026Q2 column: workbook.md makes only a required sheet's missing quarter
    an error, and a blank floor is 0, so the plan has no floor there; the warning at the header row says so (it was
    read as 0 with the generic warning). PackagingCapacity alike: its listed line packages 0 chips in the missing
    quarter (a blank cell of a listed line is 0, not 'no limit'). Listed at 0 in 2026Q1 and missing in 2026Q2, no
    rack can be packaged: 2026Q2's 1,000 tok/s go unmet at $2 = $2,000 (with no limit there: a rack, $1,100)."""
    from tests.builders import solve_sheets

    s = minimal_sheets(2)
    s["FabMinWafers"] = [["fab", "2026Q1"], ["F", 5]]
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 0
    assert "FabMinWafers!1:1 [2026Q2]: quarter column(s) 2026Q2 of the horizon are missing: no fab has a take-or-pay " \
           "floor there" in capsys.readouterr().out
    s = minimal_sheets(2)
    s["Demand"][1] = ["NA", "w", 0, 1000]
    s["Workloads"][1] = ["w", 2]
    s["PackagingCapacity"] = [["packaging_line", "2026Q1"], ["default", 0]]
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 0
    assert "every listed line packages 0 chips there" in capsys.readouterr().out
    assert solve_sheets(tmp_path, s).objective == pytest.approx(2000, rel=1e-9)


@pytest.mark.parametrize("setting, value, said", [
    ("hours_per_quarter", 0, "hours_per_quarter 0: electricity costs nothing in this plan"),
    ("capex_life_quarters", 0, "capex_life_quarters 0 charges capex as cash, as a blank does"),
])
def test_settings_at_0_that_are_seldom_meant_say_what_they_do(tmp_path, capsys, setting, value, said):
    """hours_per_quarter 0 makes electricity free (the example: $980M instead of $1,086M); a capex life of 0 is
    cash, like a blank. Both are valid inputs of the spec, so a warning at the cell, not an error."""
    s = minimal_sheets(1)
    s["Settings"].append([setting, value])
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 0
    assert said in capsys.readouterr().out


def test_a_financing_rate_typed_as_a_percent_is_warned_with_how_to_write_it(tmp_path, capsys):
    """Partners.financing_cost_rate 13.5 (meant 13.5%): each funded USD costs $13.5 (the example: $1,660M)."""
    s = minimal_sheets(1)
    s["Partners"] = [["partner", "commitment_usd", "financing_cost_rate"], ["P", 1000, 13.5]]
    s["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 0
    assert "Partners!C2 [financing_cost_rate] = 13.5: partner P: each USD it funds costs $13.5; the rate is a " \
           "fraction: write 0.135 for 13.5%" in capsys.readouterr().out


def test_a_misspelt_packaging_line_is_an_error_not_a_line_without_a_limit(tmp_path, capsys):
    """Products says L1 is packaged on 'CoWoS S', PackagingCapacity limits 'CoWoS-S': L1 was planned on a line
    with no limit, with only a warning that no product uses CoWoS-S."""
    s = minimal_sheets(2)
    s["Products"][0].append("packaging_line")
    s["Products"][1].append("CoWoS S")
    s["PackagingCapacity"] = [["packaging_line", "2026Q1", "2026Q2"], ["CoWoS-S", 5, 5]]
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 2
    out = capsys.readouterr().out
    assert "Products!F2 [packaging_line] = 'CoWoS S': packaging line 'CoWoS S' has no PackagingCapacity row, so it " \
           "has no limit; did you mean 'CoWoS-S'?" in out
    assert "no product uses packaging line" not in out


def test_a_demand_region_that_differs_from_a_served_region_by_case_is_an_error(tmp_path, capsys):
    """Demand for region 'na' where site S serves 'NA': all of it would go unmet, with a warning only."""
    s = minimal_sheets(1)
    s["Demand"][1][0] = "na"
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 2
    assert "region na has demand but no site serves it; did you mean 'NA'?" in capsys.readouterr().out


def test_data_rows_below_an_excel_tables_range_are_an_error_but_a_note_is_not(tmp_path, capsys):
    """Demand as an Excel Table over A1:C2 with a second data row in row 3 (the Table was not resized): that row
    was dropped without a word (the example: three APAC rows, $957M instead of $1,086M). A one-cell note below
    the Table (row 5) stays fine, as the README says."""
    from openpyxl import load_workbook
    from openpyxl.worksheet.table import Table

    s = minimal_sheets(1)
    s["Workloads"].append(["w2", 1])
    s["Throughput"].append(["L1", "w2", 100])
    s["Demand"].append(["NA", "w2", 500])
    path = write(tmp_path, s)
    wb = load_workbook(path)
    wb["Demand"].add_table(Table(displayName="DemandTable", ref="A1:C2"))
    wb["Demand"]["A5"] = "note: 2026 demand from the sales forecast"
    wb.save(path)
    assert cli.main(["-q", "validate", str(path)]) == 2
    out = capsys.readouterr().out
    assert "Demand!A3: row(s) 3 below the Excel Table's range (rows 1..2) hold data in its columns and would not be " \
           "read" in out
    assert "row(s) 3, 5" not in out
