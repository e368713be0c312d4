"""Rows streamed as XML text are the very sheets openpyxl's cell path writes: every part of the workbook byte
for byte (values, styles, inline text, blanks, row heights), for every kind of value a plan sheet holds."""

import zipfile

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from planner.output import xlsx, xml_rows
from planner.output.sheet_rows import RowSheet
from planner.output.xml_rows import PlanWorkbook, raw_rows_supported


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "site": ["Dallas & <Co>", "  leading", "trailing  ", "   ", "", "=HYPERLINK(\"x\")", "x" * 40_000,
                 "bell\x07rings", "two\nlines", "tab\there"],
        "quarter": ["2026Q1"] * 10,
        "racks_deployed": [0.0, 1.5, 929.0000000000001, -2.25, np.nan, 1e20, 1e-300, 3.0, float("inf"), 7.0],
        "wafers_started": np.arange(10, dtype=np.int64),
        "signed": [True, False] * 5,
        "mixed_usd": [1, "text", None, 2.5, True, pd.NA, np.float64(3.0), "", 4, pd.Timestamp("2026-01-01")],
        "empty_tps": [None] * 10,
        "factor": [3.0, 0.858, 1, 1.0791, -2.0, 12_345.0, np.nan, 0.5, 7, 1e6],
    })


def _sheets(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if not n.startswith("docProps/")}


def _write(path, raw: bool, monkeypatch) -> None:
    monkeypatch.setattr(xlsx, "raw_rows_supported", lambda: raw)
    monkeypatch.setattr(xml_rows, "raw_rows_supported", lambda: raw)
    wb = PlanWorkbook() if raw else Workbook(write_only=True)  # openpyxl's own sheets and cell path
    xlsx.write_key_values(wb, "Summary", [("status", "optimal", "proven " * 30), ("objective_usd", 1.5e9, ""),
                                          ("signed", True, None), ("gap", float("nan"), "  padded  ")],
                          bold_keys=frozenset({"status"}), red_keys=frozenset({"gap"}))
    page = RowSheet(wb.create_sheet("Page"), [30, 16, 16, 40])
    page.section("The plan on a page")
    page.key_value("status", "optimal", note="proven within the gap " * 6)
    page.key_value("objective_usd", 1_085_241_000.5, xlsx.USD, note="  padded note  ")
    page.key_value("signed", True)
    page.blank()
    page.header(["quarter", "racks", "MW"], first=2)
    page.add([(1, "Dallas & <Co>", None, None, None, 1, False), (2, 929.0000000000001, xlsx.WHOLE, None, None, 2, False),
              (3, None, xlsx.MW, None, None, 4, False)])
    page.key_value("why", "a long sentence that wraps in its cell " * 5)
    xlsx.write_frame(wb, "Deployments", _frame())
    xlsx.write_frame(wb, "Again", _frame().iloc[::-1])  # styles already registered by the first sheet
    xlsx.write_frame(wb, "Nothing", _frame().iloc[:0])
    wb.save(path)


def test_the_text_rows_are_the_cell_path_byte_for_byte(tmp_path, monkeypatch):
    assert raw_rows_supported(), "openpyxl writes through et_xmlfile here: the fast path must be the one in use"
    _write(tmp_path / "cells.xlsx", False, monkeypatch)
    _write(tmp_path / "text.xlsx", True, monkeypatch)
    cells, text = _sheets(tmp_path / "cells.xlsx"), _sheets(tmp_path / "text.xlsx")
    assert cells.keys() == text.keys()
    for name in cells:
        assert cells[name] == text[name], name


def test_a_planner_reads_the_values_back(tmp_path, monkeypatch):
    _write(tmp_path / "text.xlsx", True, monkeypatch)
    ws = load_workbook(tmp_path / "text.xlsx")["Deployments"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows[0][:5] == ("Dallas & <Co>", "2026Q1", 0, 0, True)
    assert rows[1][0] == "  leading" and rows[2][0] == "trailing  "
    assert rows[2][2] == pytest.approx(929.0) and rows[4][2] is None  # NaN is a blank
    assert rows[5][0] == '=HYPERLINK("x")' and ws["A7"].data_type == "s"  # text stays text
    assert len(rows[6][0]) == 32_767  # Excel's longest text, as openpyxl cuts it
    assert rows[7][0] == "bell\ufffdrings"
    assert rows[1][5] == "text" and rows[3][5] == pytest.approx(2.5) and rows[9][5] == "2026-01-01T00:00:00"
    assert ws["C3"].number_format == xlsx.WHOLE and ws["F5"].number_format == xlsx.USD


def test_whole_values_of_a_plain_number_column_show_no_trailing_point(tmp_path, monkeypatch):
    """'#,##0.###' shows 3 as '3.' in Excel: a whole value of such a column gets '#,##0', the others keep
    three decimals (0.858 is not rounded to '1'); in Summary-style key/value rows too."""
    _write(tmp_path / "text.xlsx", True, monkeypatch)
    wb = load_workbook(tmp_path / "text.xlsx")
    ws = wb["Deployments"]
    column = [c.value for c in ws[1]].index("factor") + 1
    formats = {ws.cell(r, column).value: ws.cell(r, column).number_format for r in range(2, 12)
               if ws.cell(r, column).value is not None}
    assert formats[3] == formats[12_345] == formats[1_000_000] == xlsx.WHOLE
    assert formats[0.858] == formats[1.0791] == formats[0.5] == xlsx.NUMBER


def test_a_sweep_factor_column_shows_its_factor_not_the_inputs_unit():
    """'factor HBMMinStacks|V|*' holds 0.858, not stacks: three decimals, not '#,##0' (which showed '1')."""
    assert xlsx.number_format("factor HBMMinStacks|V|*") == xlsx.number_format("factor PackagingExpansion|x|max_blocks") \
        == xlsx.FACTOR == "0.000"
    assert xlsx.number_format("hbm_stacks_bought") == xlsx.WHOLE


def test_a_column_of_sentences_is_wide_enough_to_read(tmp_path):
    """Serving.limited_by runs to ~130 characters: its column is not cut at the 60 of other columns."""
    from openpyxl import load_workbook

    reason = "own_budget own_capex_usd 2027Q3 (Budget!E2): 62% of it; then power at Dallas-TX (site_power) 30%, " \
             "wafers at TSMC-N4 8%"
    wb = PlanWorkbook()
    xlsx.write_frame(wb, "Serving", pd.DataFrame({"region": ["NA"], "unmet_tps": [1.0], "limited_by": [reason]}))
    wb.save(tmp_path / "s.xlsx")
    ws = load_workbook(tmp_path / "s.xlsx")["Serving"]
    assert ws.column_dimensions["C"].width >= len(reason) and ws.column_dimensions["A"].width < 60
