"""Write an input workbook from plain Python tables (used by the example builder, benchmarks and tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from openpyxl import Workbook

from .schema import SHEET_BY_NAME


def write_input_workbook(path: str | Path, sheets: Mapping[str, Sequence[Sequence[object]]]) -> Path:
    """`sheets`: sheet name -> rows, the first row being the header. Sheet order follows the schema."""
    wb = Workbook()
    wb.remove(wb.active)
    order = [s for s in SHEET_BY_NAME if s in sheets] + [s for s in sheets if s not in SHEET_BY_NAME]
    for name in order:
        ws = wb.create_sheet(name)
        for r, row in enumerate(sheets[name], start=1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(r, c, value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # text that looks like a formula stays text (as Excel's leading ')
    path = Path(path)
    wb.save(path)
    return path


def settings_rows(**values: object) -> list[list[object]]:
    return [["key", "value"]] + [[k, v] for k, v in values.items()]
