"""Write an input workbook from plain Python tables (used by the example builder, benchmarks and tests)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Mapping, Sequence

from openpyxl import Workbook

from planner.input.schema import SHEET_BY_NAME


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


def make_reproducible(path: str | Path, when: tuple[int, int, int, int, int, int] = (2026, 1, 1, 0, 0, 0)) -> None:
    """Rewrite an .xlsx with fixed zip entry times and document created/modified dates, so the same tables give
    the same bytes (and the same input_sha256 in every plan)."""
    path = Path(path)
    stamp = "%04d-%02d-%02dT%02d:%02d:%02dZ" % when
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                              lambda m: m.group(1) + stamp.encode() + m.group(3), data)
            entry = zipfile.ZipInfo(info.filename, date_time=when)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, data)
    path.write_bytes(buffer.getvalue())
