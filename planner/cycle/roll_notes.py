"""What planner roll changed, and the writing of the rolled workbook: the Note record, the RollNotes sheet
(first in the workbook) and the atomic save."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from planner.output.xlsx import printable, safe_save

NOTES_SHEET = "RollNotes"


@dataclass
class Note:
    what: str
    sheet: str
    cell: str
    value: object
    source: str
    level: str = "info"  # info | warning


def write_notes_sheet(wb: Workbook, notes: list[Note], headline: str) -> None:
    """The RollNotes sheet, first and selected: `headline`, how to read it, then one row per note (warnings
    in bold red). A RollNotes sheet of an earlier roll is replaced."""
    if NOTES_SHEET in wb.sheetnames:
        del wb[NOTES_SHEET]
    ws = wb.create_sheet(NOTES_SHEET, 0)
    head = Font(bold=True)
    ws.append([headline])
    ws["A1"].font = Font(bold=True, size=12)
    ws.append(["Yellow quarter headers are new quarters copied from the old last quarter: review and edit them. "
               "This sheet is not read by the planner."])
    ws.append([])
    ws.append(["what", "sheet", "cell", "value", "from"])
    for c in ws[4]:
        c.font = head
    for n in notes:
        ws.append([n.what, n.sheet, n.cell, n.value if not isinstance(n.value, bool) else str(n.value),
                   n.source])
        if n.level == "warning":
            ws.cell(ws.max_row, 1).font = Font(bold=True, color="9C0006")
    for letter, width in zip("ABCDE", (52, 18, 22, 14, 100)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A5"
    printable(ws, repeat_header=False)
    ws.print_title_rows = "4:4"  # the notes' header on every printed page
    for other in wb.worksheets:
        other.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0


def save_rolled(wb: Workbook, notes: list[Note], headline: str, output_path: Path, input_path: Path,
                replace: bool = True) -> Path:
    """Write the RollNotes sheet, then the workbook to a temporary file moved into place. Returns the path
    written; when the save had to go elsewhere, that is noted (after the sheet: the list, not the sheet, says it)."""
    write_notes_sheet(wb, notes, headline)
    path, moved = safe_save(wb, output_path, input_path, replace=replace)
    if moved:
        notes.append(Note("output moved", "", "", str(path), moved, "warning"))
    return path
