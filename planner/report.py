"""SolutionTables -> the output workbook. Never touches Pyomo; writes atomically.

Sheet order: Summary first (what a reviewer reads), Diagnosis when the plan failed, the stable
contract sheets of workbook.md (tidy, one row per index), then the Inputs echo.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Iterable

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

CONTRACT_SHEETS = ("Wafers", "Fabs", "Chips", "HBM", "HBMUse", "Packaging", "Deployments", "Power", "Serving",
                   "Allocation", "Capex", "Partners", "Budget", "Bottlenecks")
EXCEL_MAX_ROWS = 1_048_576
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
USD = '#,##0;[Red]-#,##0'
USD_CENTS = '#,##0.00;[Red]-#,##0.00'
NUMBER = '#,##0.##;[Red]-#,##0.##'
PERCENT = '0.0%'
FORMULA_PREFIXES = ("=", "+", "-", "@")


class OutputError(Exception):
    """The output could not be written where asked; the message says why and what to do."""


def number_format(column: str) -> str:
    c = column.lower()
    if c in ("utilization", "service_level") or c.endswith("_share"):
        return PERCENT
    if "shadow_price" in c or c.endswith("usd_per_wafer") or "usd_per" in c:
        return USD_CENTS
    if c.endswith("usd") or c == "capex_usd" or c.startswith("cost_") or c == "value_usd":
        return USD
    return NUMBER


def _clean(value):
    """A value Excel can hold: numbers stay numbers, NaN/None become blank, numpy scalars become Python."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    return value


def write_cell(ws, row: int, col: int, value, fmt: str | None = None):
    value = _clean(value)
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # a string from the input is never a formula, whatever it starts with
    else:
        cell.value = value
        if fmt and isinstance(value, (int, float)) and not isinstance(value, bool):
            cell.number_format = fmt
    return cell


def write_frame(wb: Workbook, name: str, frame: pd.DataFrame, formats: dict[str, str] | None = None) -> None:
    ws = wb.create_sheet(name)
    columns = list(frame.columns)
    formats = formats or {}
    for j, col in enumerate(columns, start=1):
        cell = write_cell(ws, 1, j, str(col))
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
    fmts = [formats.get(str(c), number_format(str(c))) for c in columns]
    for i, row in enumerate(frame.itertuples(index=False, name=None), start=2):
        for j, value in enumerate(row, start=1):
            write_cell(ws, i, j, value, fmts[j - 1])
    ws.freeze_panes = "A2"
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(frame) + 1)}"
    size_columns(ws, [columns] + frame.head(200).astype(str).values.tolist())


def size_columns(ws, sample_rows: Iterable[Iterable[object]]) -> None:
    widths: dict[int, int] = {}
    for row in sample_rows:
        for j, value in enumerate(row, start=1):
            widths[j] = max(widths.get(j, 0), min(60, len(str(value)) + 2))
    for j, width in widths.items():
        ws.column_dimensions[get_column_letter(j)].width = max(10, width)


def write_key_values(wb: Workbook, name: str, rows: list[tuple[str, object, str]], index: int | None = None) -> None:
    ws = wb.create_sheet(name, index) if index is not None else wb.create_sheet(name)
    for j, head in enumerate(("key", "value", "note"), start=1):
        cell = write_cell(ws, 1, j, head)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
    for i, (key, value, note) in enumerate(rows, start=2):
        write_cell(ws, i, 1, key)
        write_cell(ws, i, 2, value, number_format(key))
        write_cell(ws, i, 3, note)
        ws.cell(i, 2).alignment = Alignment(horizontal="right") if isinstance(value, (int, float)) else Alignment()
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 48
    ws.column_dimensions["C"].width = 80


def safe_save(wb: Workbook, target: Path, input_path: Path | None = None) -> tuple[Path, str]:
    """Write to a temporary file beside `target`, then move it into place: a crash never leaves half a plan.

    Returns (path written, note). A target that is read-only or open in Excel is left alone and the
    plan goes to a fallback name beside it; the note says so."""
    target = Path(target)
    if input_path is not None and target.resolve() == Path(input_path).resolve():
        raise OutputError(f"the output {target} is the input workbook; the input is never overwritten. "
                          "Choose another name with -o")
    if target.suffix.lower() != ".xlsx":
        raise OutputError(f"the output {target} must end in .xlsx")
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"the output folder {folder} does not exist")
    note = ""
    locked = target.with_name("~$" + target.name).exists()
    if target.exists() and (locked or not os.access(target, os.W_OK)):
        why = "open in Excel" if locked else "read-only"
        fallback = _fallback_name(target)
        note = f"{target} is {why}; the plan was written to {fallback} instead"
        target = fallback
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".xlsx.tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write in {folder}: {exc}") from exc
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"could not write {target}: {exc}") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target, note


def _fallback_name(target: Path) -> Path:
    for i in range(1, 1000):
        candidate = target.with_name(f"{target.stem} ({i}){target.suffix}")
        if not candidate.exists():
            return candidate
    raise OutputError(f"no free fallback name beside {target}")
