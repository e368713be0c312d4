"""The input workbook planner roll edits: opened once (openpyxl, values instead of formulas), with the sheet,
row and column look-ups the roll steps need, and every edit recorded as a Note.

The roll steps (roll_steps.py) change cells only through InputBook.set, so each change is listed on RollNotes.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries

from planner.cycle.roll_notes import Note
from planner.cycle.roll_plan import RollError
from planner.input.convert import CellError, convert
from planner.input.reader import RawSheet, RawWorkbook
from planner.input.schema import SHEET_BY_NAME, SHEETS

ROLL_AUTHOR = "planner roll"  # the author of every comment a roll writes (the next roll clears its header marks)


@dataclass
class BookSheet:
    """An input sheet being edited: its worksheet and where its header and columns are."""
    ws: object
    raw: RawSheet | None  # None for a sheet the roll created
    header_row: int
    columns: dict[str, int]  # normalised header -> column index (1-based)
    keys: tuple[str, ...]
    rows: dict[tuple, int] = field(default_factory=dict)  # key tuple -> Excel row


@dataclass
class InputBook:
    """The workbook being rolled, the input as read and validated (`raw`: where its sheets, headers and rows
    are), and what the edits so far did: notes, the sheets touched (their Excel tables are refitted) and the
    wide sheets whose quarter columns were shifted (their column index is the shifted one)."""
    wb: Workbook
    raw: RawWorkbook
    notes: list[Note]
    touched: set[str] = field(default_factory=set)
    shifted: dict[str, BookSheet] = field(default_factory=dict)

    def note(self, what: str, sheet: str, cell: str, value: object, source: str, level: str = "info") -> None:
        self.notes.append(Note(what, sheet, cell, value, source, level))

    def sheet(self, name: str, create_header: list[str] | None = None) -> BookSheet | None:
        """The input sheet `name` with its rows by key; created with `create_header` if the input lacks it
        (None when it lacks it and no header is given)."""
        spec = SHEET_BY_NAME[name]
        raw = self.raw.sheets.get(name)
        if raw is None:
            if create_header is None:
                return None
            ws = self._create_sheet(name, create_header)
            return BookSheet(ws, None, 1, {h: i for i, h in enumerate(create_header, start=1)}, spec.keys)
        ws = self.wb[raw.title]
        columns = {n: column_index_from_string(letter) for n, letter in raw.columns.items()}
        sheet = BookSheet(ws, raw, raw.header_row, columns, spec.keys)
        for r in raw.rows:
            try:
                key = tuple(convert("key", r.values.get(k)) for k in spec.keys)
            except CellError:
                continue
            if all(k is not None for k in key):
                sheet.rows.setdefault(key, r.excel_row)
        return sheet

    def _create_sheet(self, name: str, header: list[str]):
        # placed after the last present sheet that comes before it in the schema's order
        order = [s.name for s in SHEETS]
        after = [s for s in order[: order.index(name)] if s in self.raw.sheets]
        index = self.wb.sheetnames.index(self.raw.sheets[after[-1]].title) + 1 if after else len(self.wb.sheetnames)
        ws = self.wb.create_sheet(name, index)
        for j, h in enumerate(header, start=1):
            c = ws.cell(1, j, h)
            c.font = Font(bold=True)
        ws.freeze_panes = "B2"
        self.note("sheet created", name, f"{name}!A1", name, "the rolled plan needs it")
        self.touched.add(name)
        return ws

    def column(self, sheet: BookSheet, name: str) -> int:
        """The column of `name`, added after the last header if the sheet lacks it."""
        if name in sheet.columns:
            return sheet.columns[name]
        last = max([c for c in range(1, sheet.ws.max_column + 1)
                    if sheet.ws.cell(sheet.header_row, c).value not in (None, "")], default=0)
        col = last + 1
        cell = sheet.ws.cell(sheet.header_row, col, name)
        if last:
            cell._style = copy(sheet.ws.cell(sheet.header_row, last)._style)
        sheet.columns[name] = col
        self.touched.add(sheet.ws.title)
        self.note("column added", sheet.ws.title, f"{sheet.ws.title}!{cell.coordinate}", name, "needed for a rolled value")
        return col

    def set(self, sheet: BookSheet, row: int, column: str, value: object, what: str, source: str,
            comment: bool = False) -> None:
        """Write `value` to `column` of `row` and note it (with the value it replaced); `comment` also puts
        what and where from on the cell."""
        col = self.column(sheet, column)
        cell = sheet.ws.cell(row, col)
        old = cell.value
        cell.value = value
        if comment:
            cell.comment = Comment(f"{what}\nfrom {source}", ROLL_AUTHOR, width=300, height=80)
        self.note(what, sheet.ws.title, f"{sheet.ws.title}!{cell.coordinate}", value,
                  f"{source}" + (f" (was {old})" if old not in (None, "") and old != value else ""))

    def append_row(self, sheet: BookSheet) -> int:
        """The Excel row after the last one with a key: where a new row goes. In an Excel Table with a totals row,
        a row inserted above the totals (after them, the new racks were read as totals and the old totals row
        became a blank data row: the rolled workbook did not validate)."""
        ws = sheet.ws
        for table in ws.tables.values():
            _c0, top, _c1, bottom = range_boundaries(table.ref)
            if top == sheet.header_row and table.totalsRowCount:
                first_total = bottom - int(table.totalsRowCount) + 1
                ws.insert_rows(first_total)
                table.ref = f"{table.ref.split(':')[0]}:{get_column_letter(_c1)}{bottom + 1}"
                return first_total
        key_cols = [sheet.columns[k] for k in sheet.keys if k in sheet.columns] or [1]
        last = sheet.header_row
        for r in range(sheet.header_row + 1, ws.max_row + 1):
            if any(ws.cell(r, c).value not in (None, "") for c in key_cols):
                last = r
        return last + 1

    def fit_touched_tables(self) -> None:
        for title in self.touched:
            fit_tables(self.wb[title])


def open_input_book(input_path: Path, raw: RawWorkbook, notes: list[Note]) -> InputBook:
    """The input workbook, read once, as cached values (openpyxl cannot compute formulas; the planner reads
    values); each sheet of the input that had formulas gets a warning note."""
    data_bytes = input_path.read_bytes()
    if hashlib.sha256(data_bytes).hexdigest() != raw.sha256:  # replaced since it was validated (a sync client)
        raise RollError(f"the input workbook {input_path.name} changed while it was being rolled (it is not the file "
                        "that was validated and matched to the plan); roll it again when nothing writes to it")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = load_workbook(io.BytesIO(data_bytes), data_only=True, keep_links=False)
    book = InputBook(wb, raw, notes)
    _note_formulas(book, data_bytes)
    return book


def _note_formulas(book: InputBook, data_bytes: bytes) -> None:
    # a second, formula-keeping parse of the same bytes: only it tells a formula from its cached value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fwb = load_workbook(io.BytesIO(data_bytes), read_only=True, data_only=False, keep_links=False)
    try:
        for sheet in book.raw.sheets.values():
            count = 0
            for row in fwb[sheet.title].iter_rows():
                for c in row:
                    v = getattr(c, "value", None)
                    if isinstance(v, str) and v.startswith("=") and getattr(c, "data_type", "") == "f":
                        count += 1
            if count:
                book.note("formulas replaced by their values", sheet.title, "", count,
                          "openpyxl cannot recompute formulas: the new workbook holds the values the input's "
                          "formulas had", "warning")
    finally:
        fwb.close()


def fit_tables(ws) -> None:
    """Excel tables (ListObjects) on an edited sheet: span the header run and every data row again."""
    for table in ws.tables.values():
        min_col, min_row, _max_col, _max_row = range_boundaries(table.ref)
        max_col = min_col
        while ws.cell(min_row, max_col + 1).value not in (None, ""):
            max_col += 1
        max_row = min_row + 1
        for r in range(min_row + 1, ws.max_row + 1):
            if any(ws.cell(r, c).value not in (None, "") for c in range(min_col, max_col + 1)):
                max_row = r
        ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{max_row}"
        table.ref = ref
        if table.autoFilter is not None:
            table.autoFilter.ref = ref
        table.tableColumns = []  # re-read from the header cells when saved
