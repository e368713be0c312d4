"""The horizon moves on one quarter, for planner roll: the new horizon, Settings, and the quarter columns of
every wide (time-phased) sheet shifted one quarter left, new quarters copied from the old last one."""

from __future__ import annotations

import re
from copy import copy
from dataclasses import dataclass

from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter

from models.data import PlanData
from planner.cycle.roll_book import ROLL_AUTHOR, InputBook
from planner.cycle.roll_plan import ClosedQuarter, RollError
from planner.input.reader import normalise_header
from planner.input.schema import SHEETS
from planner.quarters import horizon as quarters_from, horizon_problem, parse_quarter, quarter_index, quarter_label

NEW_FILL = PatternFill("solid", fgColor="FFEB9C")  # Excel's "neutral" yellow: look at me
NOT_REPEATED = frozenset({"ScheduledReceipts"})  # a new quarter of these starts blank


@dataclass(frozen=True)
class NextHorizon:
    """The horizon after the roll."""
    closed: str  # the quarter that closed (the old start)
    start: str  # the new start, the quarter after `closed`
    quarters: list[str]  # the new horizon, `start` first
    old_last: str  # the old horizon's last quarter: new quarters after it copy its column
    resized: bool  # --quarters asked for another length than Settings.quarters


def next_quarter(label: str, k: int = 1) -> str:
    return quarter_label(quarter_index(label) + k)


def next_horizon(data: PlanData, quarters: int | None) -> NextHorizon:
    """One quarter on from the input's horizon, `quarters` long (the input's length when None)."""
    q0 = data.quarters[0]
    new_start = next_quarter(q0)
    T = data.T if quarters is None else int(quarters)
    if not 1 <= T <= 200:
        raise RollError(f"--quarters must be between 1 and 200, not {T}")
    if horizon_problem(new_start, T):
        raise RollError(f"cannot roll past {q0}: {horizon_problem(new_start, T)}")
    return NextHorizon(q0, new_start, quarters_from(new_start, T), data.quarters[-1],
                       quarters is not None and quarters != data.T)


def roll_settings(book: InputBook, data: PlanData, closed: ClosedQuarter, horizon: NextHorizon) -> None:
    """Settings.start_quarter moves on; Settings.quarters becomes --quarters when that differs."""
    sheet = book.sheet("Settings")
    rows = {}
    for r in sheet.raw.rows:
        key = r.values.get("key")
        if isinstance(key, str):
            rows[key.strip().lower().replace(" ", "_")] = r.excel_row
    book.set(sheet, rows["start_quarter"], "value", horizon.start, "horizon moves on one quarter",
             f"{closed.plan_path.name}: {closed.quarter} has closed")
    name = data.settings.plan_name
    renamed = rolled_plan_name(name, data.quarters, horizon.quarters)
    if "plan_name" in rows and renamed != name:
        book.set(sheet, rows["plan_name"], "value", renamed, "plan_name names the new horizon",
                 f"{closed.quarter} has closed")
    if horizon.resized:
        book.set(sheet, rows["quarters"], "value", len(horizon.quarters), "horizon length", "--quarters")
        commit = data.settings.commit_quarters
        if "commit_quarters" in rows and commit > len(horizon.quarters):  # it must lie within the horizon
            book.set(sheet, rows["commit_quarters"], "value", len(horizon.quarters), "commit_quarters (was "
                     f"{commit}) within the shorter horizon", "--quarters")
    book.touched.add(sheet.ws.title)


def rolled_plan_name(name: str, old: list[str], new: list[str]) -> str:
    """The plan's name for the new horizon, so the next plan's header does not name the old one: the old first and
    last quarters become the new ones ('plan 2026Q1' -> 'plan 2026Q2'), and a span of years 'YYYY-YYYY' that is
    the old horizon's becomes the new one's ('2026-2028' -> '2026-2029'). A name that names no quarter or span is
    kept as it is."""
    if not name or not old or not new:
        return name
    swaps = {old[0]: new[0], old[-1]: new[-1]}
    out = re.sub(r"\b(\d{4})\s*[Qq]([1-4])\b",
                 lambda m: swaps.get(f"{m.group(1)}Q{m.group(2)}", m.group(0)), name)
    span_old, span_new = f"{old[0][:4]}-{old[-1][:4]}", f"{new[0][:4]}-{new[-1][:4]}"
    if span_old != span_new:
        out = re.sub(rf"\b{span_old[:4]}\s*[-\u2013]\s*{span_old[5:]}\b", span_new, out)
    return out


def shift_quarter_columns(book: InputBook, data: PlanData, closed: ClosedQuarter, horizon: NextHorizon) -> None:
    """Every wide sheet of the input, in the schema's order, laid out for the new horizon."""
    for spec in SHEETS:
        if spec.kind == "wide" and spec.name in book.raw.sheets:
            _shift_sheet(book, spec.name, horizon)


def _shift_sheet(book: InputBook, name: str, horizon: NextHorizon) -> None:
    sheet = book.sheet(name)
    qcols = {q: c for q, c in sheet.columns.items() if parse_quarter(q) == q}
    if not qcols:
        return
    added, placed = _shift_quarters(sheet.ws, sheet.header_row, qcols, horizon.old_last, horizon.quarters,
                                    repeat=name not in NOT_REPEATED)
    book.touched.add(sheet.ws.title)
    ws = sheet.ws
    # the columns moved: the later steps look them up in the shifted index (book.shifted), not the input's
    sheet.columns = {normalise_header(ws.cell(sheet.header_row, c).value): c for c in range(1, ws.max_column + 1)
                     if ws.cell(sheet.header_row, c).value not in (None, "")}
    book.shifted[name] = sheet
    dropped = sorted((q for q in qcols if q not in placed), key=quarter_index)
    if dropped:
        book.note("quarter column(s) dropped", sheet.ws.title, "", ", ".join(dropped),
                  "outside the new horizon (the values stay in the input workbook)")
    for q in added:
        col = placed[q]
        ref = f"{sheet.ws.title}!{get_column_letter(col)}{sheet.header_row}"
        if name in NOT_REPEATED:
            book.note("new quarter column", sheet.ws.title, ref, q, "blank (no receipts known yet) except dies "
                      "of wafers in flight: review")
        else:
            book.note("new quarter column", sheet.ws.title, ref, q, f"values copied from {horizon.old_last}: "
                      "review and edit them")


def _quarter_layout(qcols: dict[str, int], old_last: str,
                    new_quarters: list[str]) -> tuple[list[tuple[str, int, bool]], list[str]]:
    """(the new quarter columns in order as (quarter, source column, new?), the quarters added)."""
    start, end = quarter_index(new_quarters[0]), quarter_index(new_quarters[-1])
    old_end = quarter_index(old_last)
    # kept: the new horizon's quarters, and quarters the planner typed beyond the old horizon (ignored with a
    # warning, as before); dropped: the closed quarter(s), and old-horizon quarters a shorter --quarters leaves out
    layout = [(q, c, False) for q, c in qcols.items()
              if quarter_index(q) >= start and (quarter_index(q) <= end or quarter_index(q) > old_end)]
    present = {q for q, _c, _n in layout}
    added = []
    if old_last in qcols:
        for q in new_quarters:
            if quarter_index(q) > old_end and q not in present:
                layout.append((q, qcols[old_last], True))
                added.append(q)
    layout.sort(key=lambda x: quarter_index(x[0]))
    return layout, added


def _shift_quarters(ws, header_row: int, qcols: dict[str, int], old_last: str, new_quarters: list[str],
                    repeat: bool) -> tuple[list[str], dict[str, int]]:
    """Lay the quarter columns of a wide sheet out for the new horizon, in the slots the old quarter columns held.

    Columns before the new start are dropped; quarters the new horizon adds after `old_last` are copies of the
    `old_last` column (blank when not `repeat`), their header marked. Returns (added quarters, quarter -> column)."""
    layout, added = _quarter_layout(qcols, old_last, new_quarters)
    slots = sorted(qcols.values())
    max_row = max(ws.max_row, header_row)
    rows = range(header_row, max_row + 1)
    # every source column is read before any is overwritten: a column may move onto another's slot
    snapshot = {c: [(ws.cell(r, c).value, copy(ws.cell(r, c)._style), ws.cell(r, c).comment) for r in rows]
                for c in set(qcols.values())}
    plain_header = next((snapshot[c][0][1] for _q, c, _n in layout
                         if not (snapshot[c][0][2] and snapshot[c][0][2].author == ROLL_AUTHOR)), None)
    if len(layout) > len(slots):
        k = len(layout) - len(slots)
        ws.insert_cols(slots[-1] + 1, k)
        slots += list(range(slots[-1] + 1, slots[-1] + 1 + k))
    elif len(layout) < len(slots):
        for c in sorted(slots[len(layout):], reverse=True):
            ws.delete_cols(c)
        slots = slots[: len(layout)]
    placed = {}
    for (q, src, new), col in zip(layout, slots):
        _copy_column(ws, rows, snapshot[src], col, q, new, repeat, plain_header)
        if new:
            head = ws.cell(header_row, col)
            head.fill = NEW_FILL
            what = (f"values copied from {old_last}" if repeat else "blank: no receipts known yet")
            head.comment = Comment(f"New quarter {q}, added by planner roll: {what}. Review and edit, then clear "
                                   "this colour.", ROLL_AUTHOR, width=300, height=90)
        placed[q] = col
    return added, placed


def _copy_column(ws, rows: range, source: list[tuple], col: int, quarter: str, new: bool, repeat: bool,
                 plain_header) -> None:
    """Column `col` becomes `source` (value, style, comment by row; its header `quarter`). A new quarter's
    values are kept only when `repeat`, its comments never."""
    for i, r in enumerate(rows):
        value, style, comment = source[i]
        cell = ws.cell(r, col)
        cell._style = copy(style)
        if i == 0:
            cell.value = quarter
            if comment is not None and comment.author == ROLL_AUTHOR:  # last roll's mark: cleared
                comment = None
                if plain_header is not None:
                    cell._style = copy(plain_header)
            cell.comment = comment
        else:
            cell.value = value if (repeat or not new) else None
            cell.comment = comment if not new else None
