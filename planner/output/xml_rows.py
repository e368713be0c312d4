"""Tidy-table rows streamed as XML text: the same bytes openpyxl writes for them, without a cell object per value.

Why (issue 18, bench/RESULTS.md): a large plan's tidy sheets are tens of thousands of cells, and openpyxl's
write-only path spends ~25 us on each (a WriteOnlyCell, its value binding, its style look-up, an Element
serialized by et_xmlfile): 1.1 s of the 30K plan's 1.2 s write. A tidy row holds only numbers, text, booleans
and blanks, in one style per column, so its XML is a format string. `StreamedSheet` is openpyxl's write-only
sheet that also accepts such a row as text, and writes the plain cells of any other row as text too (every
sheet of a PlanWorkbook is one); everything else about the sheet (columns, panes, tables, conditional formats,
print setup, styles) stays openpyxl's. tests/output/test_xml_rows.py checks that sheets written this way are
byte for byte the sheets openpyxl's own write-only cell path writes.

The text goes to et_xmlfile's incremental writer; with lxml installed (openpyxl then writes through lxml,
which takes no raw text) `raw_rows_supported()` is False and write_frame uses the cell path.
"""

from __future__ import annotations

import functools
import io
import math
from typing import Callable

import openpyxl
from openpyxl import Workbook
from openpyxl.cell._writer import write_cell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments.comment_sheet import CommentRecord
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.xml.functions import xmlfile

EXCEL_MAX_TEXT = 32_767  # openpyxl truncates longer text (Cell.check_string)


class RowXml(str):
    """One whole <row> element as XML text."""


class RowCells(list):
    """One row's cells, one per column from A on (each its own cell object, as RowSheet makes them)."""


class StreamedSheet(WriteOnlyWorksheet):
    """openpyxl's write-only worksheet; `append_xml` streams a row given as XML text, in order with `append`.
    `rows_written` is the number of the last row streamed."""

    rows_written = 0

    def append_xml(self, xml: str) -> None:
        self._send(RowXml(xml))

    def append_cells(self, cells: list) -> None:
        """ws.append(cells) for a row of distinct cell objects, without openpyxl's per-value binding."""
        self._send(RowCells(cells))

    def _send(self, row) -> None:
        """Into the row stream, as openpyxl's `append` does once it has checked the row."""
        self._get_writer()
        if self._rows is None:
            self._rows = self._write_rows()
            next(self._rows)
        self._rows.send(row)

    def _write_rows(self):
        """openpyxl 3.1's WriteOnlyWorksheet._write_rows: RowXml rows written as they are, RowCells rows cell by
        cell without value binding, other rows as openpyxl binds them; plain cells of both written as text."""
        try:
            xf = self._writer.xf.send(True)
        except StopIteration:
            self._already_saved()
        with xf.element("sheetData"):
            row_idx = 1
            try:
                while True:
                    row = (yield)
                    if isinstance(row, RowXml):
                        xf._file(row)
                    elif isinstance(row, RowCells):
                        self._write_cells(xf, _placed(row, row_idx), row_idx)
                    else:
                        self._write_cells(xf, self._values_to_row(row, row_idx), row_idx)
                    self.rows_written = row_idx
                    row_idx += 1
            except GeneratorExit:
                pass
        self._writer.xf.send(None)

    def _write_cells(self, xf, cells, row_idx: int) -> None:
        """openpyxl's WorksheetWriter.write_row, each plain cell (number, text, boolean, blank) written as text.
        Each cell is written as `cells` yields it: `_values_to_row` reuses one cell object for plain values."""
        if not raw_rows_supported():
            self._writer.write_row(xf, cells, row_idx)
            return
        with xf.element("row", {"r": f"{row_idx}", **dict(self.row_dimensions.get(row_idx, {}))}):
            for c in cells:
                if c._comment is not None:
                    self._comments.append(CommentRecord.from_cell(c))
                text = cell_text(c)
                if text is None:
                    write_cell(xf, self, c, c.has_style)
                elif text:
                    xf._file(text)


def _placed(cells: list, row_idx: int):
    for col_idx, c in enumerate(cells, 1):
        if c is None:
            continue
        c.column, c.row = col_idx, row_idx
        if c.hyperlink is not None:
            c.hyperlink.ref = c.coordinate
        yield c


class PlanWorkbook(Workbook):
    """A write-only workbook whose sheets are StreamedSheets."""

    def __init__(self):
        super().__init__(write_only=True)

    def create_sheet(self, title=None, index=None):
        ws = StreamedSheet(parent=self, title=title)
        self._add_sheet(sheet=ws, index=index)
        return ws


def cell_text(cell) -> str | None:
    """The <c> element openpyxl's etree_write_cell writes for a cell holding a number, text, a boolean or
    nothing ("" when openpyxl writes none); None for anything else (a formula, a date, a link, a comment)."""
    value, kind = cell._value, cell.data_type
    if cell.hyperlink is not None or cell._comment is not None:
        return None
    styled = cell.has_style
    if value is None and not styled:
        return ""
    style = f' s="{cell.style_id}"' if styled else ""
    if kind == "s" and (value is None or type(value) is str):
        return _element(cell.coordinate, style, kind, value)
    if kind not in ("n", "b"):
        return None
    if value is None or (type(value) in (int, float, bool) and math.isfinite(value)):
        return _element(cell.coordinate, style, kind, value)
    return None


def _element(ref: str, style: str, kind: str, value) -> str:
    """<c> as openpyxl's etree_write_cell writes it. `style`: ' s="N"' or ''; `kind`: 's' (written as an inline
    string), 'n' or 'b'; `value`: text for 's', a finite number or bool otherwise, or None."""
    if kind == "s":
        if not value:
            return f'<c r="{ref}"{style} t="inlineStr" />'
        return f'<c r="{ref}"{style} t="inlineStr">{_text(value)}</c>'
    if value is None:
        return f'<c r="{ref}"{style} t="{kind}" />'
    return f'<c r="{ref}"{style} t="{kind}"><v>{"%.16g" % value}</v></c>'


@functools.cache
def raw_rows_supported() -> bool:
    """openpyxl writes through et_xmlfile (not lxml), whose incremental writer takes text as it is."""
    if openpyxl.LXML:
        return False
    out = io.BytesIO()
    with xmlfile(out) as xf:
        with xf.element("probe"):
            write = getattr(xf, "_file", None)
            if not callable(write):
                return False
            write("<c/>")
    return out.getvalue().endswith(b"<probe><c/></probe>")


def _text(value: str) -> str:
    value = value[:EXCEL_MAX_TEXT]
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    stripped = value.strip()
    space = ' xml:space="preserve"' if stripped and stripped != value else ""  # openpyxl's `whitespace`
    return f'<is><t{space}>{escaped}</t></is>'


def cell_xml(ref: str, value, style_id: Callable[[object], int]) -> str | None:
    """The <c> element openpyxl writes for a tidy cell holding `value` (already `clean`ed): numbers in the
    column's style for that value (`style_id(value)`, registered when first used, as openpyxl does), text as an
    inline string,
    booleans plain, None nothing. None for a type it does not know."""
    kind = type(value)
    if value is None:
        return ""
    if kind is bool:
        return _element(ref, "", "b", value)
    if kind is str:
        return None if ILLEGAL_CHARACTERS_RE.search(value) else _element(ref, "", "s", value)
    if kind is float or kind is int:
        return _element(ref, f' s="{style_id(value)}"', "n", value)
    return None


def row_xml(row_idx: int, letters: list[str], values, style_ids: list[Callable[[object], int]],
            clean: Callable[[object], object]) -> str | None:
    """A whole <row> of a tidy table, or None when one of its values needs openpyxl's cell path."""
    parts = [f'<row r="{row_idx}">']
    for letter, value, style_id in zip(letters, values, style_ids):
        c = cell_xml(f"{letter}{row_idx}", clean(value), style_id)
        if c is None:
            return None
        parts.append(c)
    parts.append("</row>")
    return "".join(parts)


def column_letters(n: int) -> list[str]:
    return [get_column_letter(j) for j in range(1, n + 1)]
