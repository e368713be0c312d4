"""Hostile inputs, round six: what this session's trials found, each a located, plain-words answer."""

from __future__ import annotations

import re
import zipfile

from openpyxl import load_workbook

from planner import cli
from tests.builders import minimal_sheets, write


def _rewrite_member(src, dst, member, edit):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, edit(data) if info.filename == member else data)


def test_a_cell_with_broken_xml_names_its_sheet_and_the_cell_near_it(tmp_path, capsys):
    """One cell's XML broken by a tool (a mismatched closing tag in Fabs!B2): openpyxl cannot read the file at
    all, so every sheet is lost, but the message now says which sheet and which cell to look at."""
    src = write(tmp_path, minimal_sheets(1))
    titles = load_workbook(src).sheetnames
    member = f"xl/worksheets/sheet{titles.index('Fabs') + 1}.xml"
    damaged = tmp_path / "broken_cell.xlsx"
    _rewrite_member(src, damaged, member,
                    lambda b: re.sub(rb'(<c r="B2"[^>]*>.*?)</c>', rb"\1</x>", b, count=1, flags=re.S))
    assert cli.main(["validate", str(damaged)]) == 2
    said = capsys.readouterr().out
    assert "damaged XML inside" in said and "in sheet 'Fabs' near cell B2" in said


def test_formula_values_a_script_saved_as_placeholders_are_not_read_as_numbers(tmp_path, capsys):
    """xlsxwriter and pandas save each formula with the value 0 and ask the spreadsheet program to recompute
    everything on opening (calcPr fullCalcOnLoad). Demand =500+500 was read as 0 tok/s: 'OPTIMAL, objective $0',
    exit 0. Each such cell is now an error at its cell; a workbook that does not ask for it keeps its values."""
    src = write(tmp_path, minimal_sheets(1))
    wb = load_workbook(src)
    wb["Demand"]["C2"] = "=500+500"
    wb.save(src)
    titles = load_workbook(src).sheetnames
    member = f"xl/worksheets/sheet{titles.index('Demand') + 1}.xml"
    scripted = tmp_path / "scripted.xlsx"
    _rewrite_member(src, scripted, member, lambda b: b.replace(b"</f>", b"</f><v>0</v>", 1))
    assert b'fullCalcOnLoad="1"' in zipfile.ZipFile(scripted).read("xl/workbook.xml")  # as openpyxl writes it too
    assert cli.main(["validate", str(scripted)]) == 2
    said = capsys.readouterr().out
    assert "Demand!C2 [2026Q1] = '=500+500': formula whose saved value (0) was never computed" in said
    computed = tmp_path / "computed.xlsx"  # the same file once a spreadsheet program saved it: values are results
    _rewrite_member(scripted, computed, "xl/workbook.xml", lambda b: b.replace(b'fullCalcOnLoad="1"', b""))
    _rewrite_member(computed, tmp_path / "c2.xlsx", member, lambda b: b.replace(b"<v>0</v>", b"<v>1000</v>", 1))
    assert cli.main(["validate", str(tmp_path / "c2.xlsx")]) == 0


def test_a_wide_row_with_a_bad_key_still_has_its_values_checked():
    """FabCapacity row F2 (no such fab) with 'lots' and -3, SitePower row S repeated with '12 MW' and 'x': the
    key errors alone were shown, the four value errors only once the keys were fixed. All six at once."""
    import tempfile
    from pathlib import Path
    from planner.input.validate import validate_workbook
    s = minimal_sheets(2)
    s["FabCapacity"].append(["F2", "lots", -3])
    s["SitePower"].append(["S", "12 MW", "x"])
    _data, issues = validate_workbook(write(Path(tempfile.mkdtemp()), s))
    cells = {e.cell for e in issues.errors}
    assert cells == {"FabCapacity!A3", "FabCapacity!B3", "FabCapacity!C3", "SitePower!A3", "SitePower!B3",
                     "SitePower!C3"}


def test_a_number_cell_saved_as_nan_names_its_cell(tmp_path, capsys):
    """<v>NaN</v> in a number cell (a tool writing a float NaN): openpyxl cannot read the file; the message said
    "invalid literal for int() with base 10: 'NaN'". It now names the sheet and the cell."""
    src = write(tmp_path, minimal_sheets(1))
    titles = load_workbook(src).sheetnames
    member = f"xl/worksheets/sheet{titles.index('Products') + 1}.xml"
    damaged = tmp_path / "nan.xlsx"
    _rewrite_member(src, damaged, member,
                    lambda b: re.sub(rb'(<c r="B2"[^>]*>)<v>[^<]*</v>', rb"\1<v>NaN</v>", b, count=1))
    assert cli.main(["validate", str(damaged)]) == 2
    said = capsys.readouterr().out
    assert "in sheet 'Products' cell B2: 'NaN' is saved as a number but is not one" in said
    assert "int()" not in said


def test_an_ods_or_xlsb_under_an_xlsx_name_is_named_with_how_to_save_it(tmp_path, capsys):
    ods = tmp_path / "plan.xlsx"
    with zipfile.ZipFile(ods, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    assert cli.main(["validate", str(ods)]) == 2
    assert "it is an OpenDocument spreadsheet (.ods), whatever its name says" in capsys.readouterr().out
    xlsb = tmp_path / "binary.xlsx"
    with zipfile.ZipFile(xlsb, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.bin", b"\x00\x01")
    assert cli.main(["validate", str(xlsb)]) == 2
    assert "it is an Excel binary workbook (.xlsb)" in capsys.readouterr().out


def test_a_misspelt_setting_is_an_error_naming_the_setting_meant(tmp_path):
    """'mip_gap 0.2' and 'time_limit 5' were warnings: the plan ran at mip_rel_gap 0.001 and 600 s. Each is an
    error naming the setting meant; a row of no setting's likeness ('notes') stays a warning."""
    from planner.input.validate import validate_workbook
    s = minimal_sheets(2)
    s["Settings"] += [["mip_gap", 0.2], ["time_limit", 5], ["notes", "hello"]]
    data, issues = validate_workbook(write(tmp_path, s))
    assert data is None
    errors = {e.value: e.message for e in issues.errors}
    assert "did you mean 'mip_rel_gap'?" in errors["mip_gap"] and "did you mean 'time_limit_s'?" in errors["time_limit"]
    assert [w.value for w in issues.warnings if "unknown setting" in w.message] == ["notes"]
    s["Settings"] = [r for r in s["Settings"] if r[0] != "notes"] + [["mip_rel_gap", 0.01]]  # both given: a note
    data, issues = validate_workbook(write(tmp_path, s, "both.xlsx"))
    assert "mip_gap" not in {e.value for e in issues.errors}


def test_ctrl_c_in_a_hedged_plan_stops_it_and_writes_nothing(tmp_path):
    """Ctrl-C in `run --stochastic` stopped only the scenario solve it landed in: the hedged plan went on and was
    written, exit 0 (and the second press was taken for the first). It now stops the whole run, nothing written,
    exit 1: a hedged plan against a half-solved scenario is not one to keep."""
    import signal
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "hedged.xlsx"
    p = subprocess.Popen([sys.executable, "-m", "planner.cli", "run", str(root / "inputs" / "example.xlsx"),
                          "--stochastic", "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         cwd=root)
    for line in p.stderr:  # the scenarios' solves have started
        if "alone" in line:
            break
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 1, (stdout, stderr)
    assert "interrupted; nothing was written" in stderr  # after "Ctrl-C: stopping" if it landed inside a solve
    assert "Traceback" not in stderr and not out.exists()


def test_data_in_a_hidden_column_is_read_and_said(tmp_path):
    from planner.input.validate import validate_workbook
    src = write(tmp_path, minimal_sheets(2))
    wb = load_workbook(src)
    wb["SitePower"].column_dimensions["C"].hidden = True  # 2026Q2's power, out of sight
    wb.save(src)
    data, issues = validate_workbook(src)
    assert data is not None
    assert any("hidden column(s) C (2026Q2) hold data; they are included in the plan" in w.message
               for w in issues.warnings)


def test_sweep_workers_are_capped_at_four_per_core(capsys):
    """--workers 300 on a 2-core machine would start 300 processes (~30 GB): refused before any work, exit 2."""
    import os
    from planner.cli_checks import max_workers
    assert max_workers() == max(4, (os.cpu_count() or 1) * 4)
    too_many = str(max_workers() + 1)
    assert cli.main(["sweep", "in.xlsx", "--draws", "2", "--workers", too_many, "-o", "s.xlsx"]) == 2
    assert f"--workers must be from 0 (one per core) to {max_workers()} on this machine" in capsys.readouterr().err
