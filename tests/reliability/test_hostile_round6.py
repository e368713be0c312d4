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
