"""A write-only sheet laid out row by row: cells at any column, merged spans, wrapped text and row heights
sized to the text, so a page reads like a report and no sentence is cut in print.

openpyxl's write-only sheets stream rows; merges, heights and column widths are kept on the sheet and
written when the workbook is saved.
"""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass, field

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from planner.output.xlsx import HEADER_FILL, HEADER_FONT, cell, clean, text_lines  # noqa: F401 (text_lines re-exported)
from planner.output.xml_rows import StreamedSheet

LINE_POINTS = 15.0  # height of one line of 11 pt text
SECTION_FILL = PatternFill("solid", fgColor="D9E1F2")
SECTION_FONT = Font(name="Calibri", bold=True, size=12, color="1F3864")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
NOTE = Alignment(horizontal="left", wrap_text=True, vertical="top", indent=1)  # a note keeps its distance from the value


@dataclass
class RowSheet:
    ws: object
    widths: list[float]
    row: int = 0
    heights: dict[int, float] = field(default_factory=dict)
    _styles: dict[tuple, tuple] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        for j, w in enumerate(self.widths, start=1):
            self.ws.column_dimensions[get_column_letter(j)].width = w

    @property
    def ncols(self) -> int:
        return len(self.widths)

    def span_width(self, first: int, last: int) -> float:
        return sum(self.widths[first - 1:last])

    def chars(self, first: int, last: int, font: Font | None = None) -> float:
        """Characters of running text that fit on one line of the span (a width unit is one '0' of the
        default font; running text averages a little narrower, bold a little wider)."""
        return (self.span_width(first, last) - 1) * (1.0 if font is not None and font.b else 1.1)

    def add(self, items: list[tuple], height_lines: int = 1) -> int:
        """One row. items: (column, value, fmt, font, fill, last_column_of_merge, wrap). Returns the row number."""
        self.row += 1
        cells: dict[int, object] = {}
        lines = height_lines
        fill = next((it[4] for it in items if it[4] is not None and it[5] == self.ncols), None)
        for col, value, fmt, font, fill, last, wrap, *align in items:
            alignment = align[0] if align else WRAP if isinstance(value, str) and wrap else TOP
            c = self._cell(value, fmt, font, fill, alignment)
            if isinstance(value, str) and alignment.wrap_text:
                indent = float(alignment.indent or 0) * 1.5  # an indent takes about 1.5 characters per level
                lines = max(lines, text_lines(value, self.chars(col, last, font) - indent))
            cells[col] = c
            if last > col:
                self.ws.merged_cells.add(f"{get_column_letter(col)}{self.row}:{get_column_letter(last)}{self.row}")
        if lines > 1:
            self.ws.row_dimensions[self.row].height = LINE_POINTS * lines + 2
            self.heights[self.row] = LINE_POINTS * lines + 2
        self._append([cells.get(j) or self._empty(fill) for j in range(1, self.ncols + 1)])
        return self.row

    def _append(self, cells: list) -> None:
        (self.ws.append_cells if isinstance(self.ws, StreamedSheet) else self.ws.append)(cells)

    def _empty(self, fill: PatternFill | None):
        """A styled blank, so the row has every column even for a reader that sizes rows by their cells
        (openpyxl read-only: a key whose value is blank still reads as (key, None))."""
        return self._cell(None, None, None, fill, TOP)

    def _cell(self, value, fmt: str | None, font: Font | None, fill: PatternFill | None, alignment: Alignment):
        """cell(value, fmt, font, fill) aligned; the style of each combination is worked out once per sheet
        (measured: assigning a font, fill and alignment hashes each of them, a third of the Summary's write)."""
        value = clean(value)
        numeric = bool(fmt) and isinstance(value, (int, float)) and not isinstance(value, bool)
        key = (id(font), id(fill), id(alignment), fmt if numeric else None)
        known = self._styles.get(key)
        if known is None:
            c = cell(self.ws, value, fmt, font=font, fill=fill)
            c.alignment = alignment
            self._styles[key] = (copy(c._style), font, fill, alignment)  # the objects kept alive: ids stay theirs
            return c
        c = cell(self.ws, value)
        c._style = copy(known[0])
        return c

    def blank(self) -> None:
        self.row += 1
        self._append([self._empty(None) for _j in range(self.ncols)])

    def section(self, title: str) -> None:
        self.add([(1, title, None, SECTION_FONT, SECTION_FILL, self.ncols, False)])

    def header(self, labels: list[str], first: int = 1) -> None:
        self.add([(first + j, v, None, HEADER_FONT, HEADER_FILL, first + j, True) for j, v in enumerate(labels)])

    def key_value(self, key: str, value, fmt: str | None = None, note: str = "", font: Font | None = None) -> int:
        """key in A, value in B, the note merged over the rest of the row; a long text value takes the row
        (and its note is left out: the value stays exactly what a script reads)."""
        if isinstance(value, str) and len(value) > self.widths[1] - 2:
            return self.add([(1, key, None, font, None, 1, False), (2, value, None, font, None, self.ncols, True)])
        items = [(1, key, None, font, None, 1, False), (2, value, fmt, font, None, 2, True)]
        if note:
            items.append((3, note, None, None, None, self.ncols, True, NOTE))
        return self.add(items)
