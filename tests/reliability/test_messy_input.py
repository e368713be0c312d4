"""Messy-but-valid workbooks are read right; bad cells are located errors; nothing raises."""

import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.table import Table

from planner.input.validate import validate_workbook
from planner.input.reader import read_workbook, xml_is_defused
from tests.builders import minimal_sheets, solve_sheets, write


def test_defusedxml_is_active():
    assert xml_is_defused()


def test_numbers_as_text_and_nan_like_keys(tmp_path):
    sheets = minimal_sheets()
    sheets["FabCapacity"][1] = ["F", "200", " 12 "]
    for name, col in (("Sites", 1), ("Demand", 0)):
        sheets[name][1][col] = "NA"
    sheets["Workloads"].append(["None", 1])
    sheets["Workloads"].append(["null", 1])
    sheets["Workloads"].append(["n/a", 1])
    sheets["Demand"].append(["NA", "None", 5, 5])
    data, issues = validate_workbook(write(tmp_path, sheets))
    assert data is not None, [str(i) for i in issues]
    assert data.fab_capacity[("F", 0)] == 200 and data.fab_capacity[("F", 1)] == 12
    assert set(data.workloads.index) == {"w", "None", "null", "n/a"}
    assert ("NA", "None", 0) in data.demand


def test_excel_table_with_notes_above_and_totals_below(tmp_path):
    sheets = minimal_sheets()
    path = write(tmp_path, sheets)
    wb = load_workbook(path)
    del wb["Demand"]
    ws = wb.create_sheet("Demand")
    ws["A1"] = "Demand in tokens per second - edited by the planning team"
    ws.append([])
    ws.append(["region", "workload", "2026Q1", "2026Q2"])
    ws.append(["NA", "w", 1500, 2500])
    ws.append(["Total", None, 1500, 2500])
    table = Table(displayName="DemandTable", ref="A3:D5")
    table.totalsRowCount = 1
    ws.add_table(table)
    wb.save(path)
    data, issues = validate_workbook(path)
    assert data is not None, [str(i) for i in issues]
    assert data.demand == {("NA", "w", 0): 1500.0, ("NA", "w", 1): 2500.0}


def test_notes_above_the_header_without_a_table(tmp_path):
    sheets = minimal_sheets()
    sheets["Fabs"] = [["Wafer prices: illustrative"], [], ["fab", "wafer_cost_usd"], ["F", 100]]
    data, issues = validate_workbook(write(tmp_path, sheets))
    assert data is not None, [str(i) for i in issues]
    assert data.fabs.at["F", "wafer_cost_usd"] == 100


def test_stray_formatting_far_below(tmp_path):
    path = write(tmp_path, minimal_sheets())
    wb = load_workbook(path)
    ws = wb["Products"]
    from openpyxl.styles import Font
    ws.cell(row=200_000, column=3).font = Font(bold=True)
    ws.cell(row=150_000, column=1).value = "   "
    wb.save(path)
    data, issues = validate_workbook(path)
    assert data is not None, [str(i) for i in issues]
    assert list(data.products.index) == ["L1"]


def test_1904_dates_hidden_rows_and_sheets(tmp_path):
    path = write(tmp_path, minimal_sheets())
    wb = load_workbook(path)
    wb.epoch = __import__("openpyxl").utils.datetime.CALENDAR_MAC_1904
    wb["Routes"].row_dimensions[2].hidden = True
    wb["ServingLinks"].sheet_state = "hidden"
    wb.create_sheet("Scratch").sheet_state = "hidden"
    wb.save(path)
    data, issues = validate_workbook(path)
    assert data is not None
    messages = " | ".join(str(i) for i in issues.warnings)
    assert "hidden rows 2" in messages and "'ServingLinks' is hidden" in messages and "'Scratch' is hidden" in messages


def test_xlsm_input_is_read_and_macros_never_copied(tmp_path):
    path = write(tmp_path, minimal_sheets())
    xlsm = tmp_path / "in.xlsm"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(xlsm, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/vbaProject.bin", b"\x00fake macro")
    data, issues = validate_workbook(xlsm)
    assert data is not None
    assert any("macros" in i.message for i in issues.warnings)
    from planner.pipeline import run_plan
    out = tmp_path / "plan.xlsx"
    assert run_plan(xlsm, out).exit_code == 0
    with zipfile.ZipFile(out) as z:
        assert not any("vba" in n.lower() for n in z.namelist())


@pytest.mark.parametrize("value,expected", [
    ("1,000", "thousands separator"), ("12%", "fraction"), (True, "TRUE/FALSE"), ("#DIV/0!", "Excel error"),
    ("#REF!", "Excel error"), ("inf", "found text 'inf'"), ("nan", "found text 'nan'")])
def test_bad_numeric_cells_are_located(tmp_path, value, expected):
    sheets = minimal_sheets()
    sheets["FabCapacity"][1][1] = value
    data, issues = validate_workbook(write(tmp_path, sheets))
    assert data is None
    [err] = issues.errors
    assert err.cell == "FabCapacity!B2" and expected in err.message


def test_duplicate_headers(tmp_path):
    sheets = minimal_sheets()
    sheets["Fabs"] = [["fab", "wafer_cost_usd", "Wafer Cost USD"], ["F", 100, 200]]
    data, issues = validate_workbook(write(tmp_path, sheets))
    [err] = issues.errors
    assert err.cell == "Fabs!C1" and "duplicate column header" in err.message


def test_lock_file_beside_the_input_warns(tmp_path):
    path = write(tmp_path, minimal_sheets())
    (tmp_path / "~$in.xlsx").write_bytes(b"owner")
    data, issues = validate_workbook(path)
    assert data is not None
    assert any("unsaved edits are not included" in i.message for i in issues.warnings)


def test_zip_bomb_and_row_caps(tmp_path):
    from planner.input.reader import ReadLimits
    path = write(tmp_path, minimal_sheets())
    _, issues = read_workbook(path, ReadLimits(max_uncompressed_bytes=1000))
    assert "zip bomb" in issues.errors[0].message
    _, issues = read_workbook(path, ReadLimits(max_rows_per_sheet=1))
    assert any("above the limit" in i.message and "refusing to parse" in i.message for i in issues.errors)


def test_xml_entity_expansion_is_refused(tmp_path):
    path = write(tmp_path, minimal_sheets())
    bomb = tmp_path / "bomb.xlsx"
    dtd = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bomb, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode().replace("<t>test</t>", "<t>&lol2;</t>")
                data = ('<?xml version="1.0"?>' + dtd + text).encode()
            dst.writestr(item, data)
    data, issues = validate_workbook(bomb)
    assert data is None and "not a valid .xlsx" in issues.errors[0].message
    assert "Entit" in issues.errors[0].message  # defusedxml's EntitiesForbidden, not a parse accident


def test_external_links_warn(tmp_path):
    path = write(tmp_path, minimal_sheets())
    linked = tmp_path / "linked.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(linked, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/externalLinks/externalLink1.xml", "<externalLink/>")
    data, issues = validate_workbook(linked)
    assert any("links to other workbooks" in i.message for i in issues.warnings)


def test_messy_workbook_plans_like_the_clean_one(tmp_path):
    clean = solve_sheets(tmp_path, minimal_sheets())
    sheets = minimal_sheets()
    sheets["Products"][0] = [" Product", "Chips Per Rack", "RACK_KW", "rack capex usd", "Life-Quarters"]
    sheets["Products"][1] = ["L1", "10", " 10 ", 1000.0, "40"]
    messy = solve_sheets(tmp_path / "..", sheets)
    assert messy.objective == pytest.approx(clean.objective, rel=1e-9)


def test_control_characters_in_keys_are_located_errors_and_never_crash_the_writer(tmp_path):
    from planner.input.convert import CellError, to_key
    from planner.output.xlsx import clean

    with pytest.raises(CellError, match="control characters"):
        to_key("S\x07")
    assert clean("bad\x01name") == "bad\ufffdname"


def test_corrupt_member_header_is_a_located_error(tmp_path):
    """Found by the fuzzer: a byte flipped in a member's local header (zipfile raises BadZipFile on open)."""
    path = write(tmp_path, minimal_sheets())
    data = bytearray(path.read_bytes())
    at = data.find(b"xl/worksheets/sheet1.xml")
    data[at] = 0
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(bytes(data))
    result, issues = validate_workbook(bad)
    assert result is None and "not a valid .xlsx" in issues.errors[0].message
