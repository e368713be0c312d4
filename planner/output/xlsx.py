"""Workbook-writing primitives: formatted tidy sheets, key/value sheets, safe (atomic) saving.

Workbooks are built in openpyxl's write-only mode (rows streamed, measured about twice as fast as
the normal mode on large tables). Strings are always written as text: a key such as
`=HYPERLINK(...)` taken from an input workbook never becomes a formula.
"""

from __future__ import annotations

import functools
import math
import os
import re
import sys
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from planner.output.contract import Col
from planner.output.xml_rows import StreamedSheet, column_letters, raw_rows_supported, row_xml

if TYPE_CHECKING:
    import pandas as pd  # imported where a frame is written: `planner template` starts without pandas

EXCEL_MAX_ROWS = 1_048_576
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(name="Calibri", bold=True, color="FFFFFF")
USD = '#,##0;[Red]-#,##0'
USD_CENTS = '#,##0.00;[Red]-#,##0.00'
NUMBER = '#,##0.###;[Red]-#,##0.###'
TPS = '#,##0" tok/s";[Red]-#,##0" tok/s"'
MW = '#,##0.000" MW";[Red]-#,##0.000" MW"'
PERCENT = '0.0%'
GAP_PERCENT = '0.00%'  # a MIP gap: 0.24%, where 0.1% is the default target and 0.5% the example's
WHOLE = '#,##0;[Red]-#,##0'  # racks and blocks (whole when they are integer variables), chips, stacks
ONE_DECIMAL = '#,##0.0;[Red]-#,##0.0'  # wafers and dies
FACTOR = '0.000'  # a sampled factor (sweep draws): 0.858, not '1'
YES_NO = '"yes";"yes";"no"'  # 1 -> yes, 0 -> no: a number a script reads back, a word a reviewer reads
RED_FILL = PatternFill("solid", fgColor="FFC7CE")
TABLE_STYLE = "TableStyleMedium2"


class OutputError(Exception):
    """The output could not be written where asked; the message says why and what to do."""


def shown_format(fmt: str | None, value) -> str | None:
    """The format a value gets: NUMBER's whole values WHOLE, as Excel shows '#,##0.###' of 3 as '3.'."""
    if fmt == NUMBER and type(value) in (int, float) and float(value).is_integer():
        return WHOLE
    return fmt


STATISTIC_SUFFIX = re.compile(r"_(p\d\d|c?var_\d\d)$")  # a sweep's objective_usd_p10, unmet_tps_cvar_95


def number_format(column: str) -> str:
    c = STATISTIC_SUFFIX.sub("", column.lower())  # a statistic of a quantity is shown in the quantity's unit
    if c.startswith(Col.probability):
        return PERCENT
    if c.startswith("factor "):  # a sweep draw's factor on an input ('factor HBMMinStacks|V|*'), not its unit
        return FACTOR
    if c.endswith("_gap"):
        return GAP_PERCENT
    if c in (Col.utilization, Col.service_level) or c.endswith(("_share", Col.utilization, Col.service_level)):
        return PERCENT
    if Col.shadow_price in c or "usd_per" in c:
        return USD_CENTS
    if c.endswith("usd") or c.startswith("cost_") or c == Col.value_usd:
        return USD
    if c.endswith("_tps"):
        return TPS
    if c.startswith("mw_") or c.endswith("_mw"):
        return MW
    if "wafer" in c or "dies" in c or c.startswith("die_"):
        return ONE_DECIMAL
    if "racks" in c or "blocks" in c or "chips" in c or Col.stacks in c:
        return WHOLE
    return NUMBER


def _whole_if_noise(value: float) -> float:
    """3968.0 for the solver's 3967.999999999996: a finite value within 1e-11 (relative, at least 1e-11) of a whole
    number is that number, so a reviewer reading a cell, and a plan read back, see 3968. Only whole numbers are
    snapped (a cheap test on every cell of a large plan); 0.3 and 261.224 stay as they are."""
    frac = value % 1.0
    if frac:
        tol = 1e-11 * (value if value > 1.0 else -value if value < -1.0 else 1.0)
        if frac <= tol:
            return value - frac
        if 1.0 - frac <= tol:
            return value - frac + 1.0
    return value


NOISE = 1e-12  # relative: a difference this small between two solves is floating-point noise, written as 0


def change(old: float, new: float) -> float:
    """new - old as a reviewer reads it: each side rid of its whole-number noise first (so 1,198,635,000 against
    1,198,643,000.0000002 is -8,000, not -8,000.000000238), and a difference under NOISE of the larger side
    (a re-solve's -2.4e-07 on $1.09B) is 0."""
    old, new = _whole_if_noise(float(old)), _whole_if_noise(float(new))
    delta = new - old
    return delta if abs(delta) > NOISE * max(1.0, abs(old), abs(new)) else 0.0


def clean(value):
    """A value Excel can hold: numbers stay numbers, NaN/inf/None become blank, numpy scalars become Python."""
    if type(value) is float:  # most values of a plan: answered first
        return _whole_if_noise(value) if math.isfinite(value) else None
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        return _whole_if_noise(value) if math.isfinite(value) else None
    pd = sys.modules.get("pandas")  # no pandas value exists before pandas is imported
    if pd is not None:
        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            return value.isoformat()
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)  # control characters cannot be stored in xlsx
    return value


def text_lines(text: str, width: float) -> int:
    """Lines a text takes in a wrapped cell `width` characters wide (a word never splits)."""
    width = max(width, 1.0)
    lines = 0
    for paragraph in str(text).split("\n"):
        lines, used = lines + 1, 0
        for word in paragraph.split():
            n = len(word)
            if used and used + 1 + n > width:
                lines, used = lines + 1, 0
            if n > width:  # a word longer than the cell breaks anyway
                lines += math.ceil(n / width) - 1
                n = n % width
            used += n + (1 if used else 0)
    return lines


def cell(ws, value, fmt: str | None = None, font: Font | None = None, fill: PatternFill | None = None):
    value = clean(value)
    c = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        c.data_type = "s"  # text stays text, whatever it starts with
    elif fmt and isinstance(value, (int, float)) and not isinstance(value, bool):
        c.number_format = shown_format(fmt, value)
    if font is not None:
        c.font = font
    if fill is not None:
        c.fill = fill
    return c


# columns of sentences (Serving's limited_by runs to ~130 characters): wide enough to read on one line
SENTENCE_COLUMNS = frozenset({Col.limited_by, Col.message, Col.meaning, Col.input_change, Col.input_changes})


def _widths(columns: list[str], sample: Iterable[Iterable[object]]) -> list[int]:
    widths = [len(str(c)) + 3 for c in columns]
    caps = [140 if str(c) in SENTENCE_COLUMNS else 60 for c in columns]
    for row in sample:
        for j, value in enumerate(row):
            if j < len(widths):
                text = f"{value:,.2f}" if isinstance(value, float) and math.isfinite(value) else str(value)
                widths[j] = max(widths[j], min(caps[j], len(text) + 3))
    return [max(9, w) for w in widths]


def write_frame(wb: Workbook, name: str, frame: pd.DataFrame, formats: dict[str, str] | None = None,
                highlight: bool = True, unit_from: str | None = None, empty_note: str | None = None,
                unit_formats: dict[str, str] | None = None):
    """A tidy table: styled frozen header, sized columns, number formats by unit, filter, highlights.
    `unit_from`: a column naming each row's quantity (a KPI's key): the row's numbers take that name's format,
    except in columns `formats` names (a small table of mixed units, e.g. diff's KPIs); `unit_formats` maps a name
    that is no unit of its own (a model variable 'W') to its format. `empty_note`: the row an
    empty table shows under its header ('No decision changed'), so its page is not a bare header."""
    import pandas as pd

    ws = wb.create_sheet(name)
    columns = [str(c) for c in frame.columns]
    formats = formats or {}
    fmts = [formats.get(c, number_format(c)) for c in columns]
    widths = _widths(columns, frame.head(200).itertuples(index=False, name=None))
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.freeze_panes = "A2"
    # a sentence column (limited_by, message) prints wrapped: it does not push a table onto a second page
    printable(ws, width_chars=sum(min(w, 40) if c in SENTENCE_COLUMNS else w for c, w in zip(columns, widths)))
    ws.append([cell(ws, c, font=HEADER_FONT, fill=HEADER_FILL) for c in columns])
    numeric = [fmts[j] if pd.api.types.is_numeric_dtype(frame.dtypes.iloc[j]) and frame.dtypes.iloc[j] != bool
               else None for j in range(len(columns))]
    # one styled cell per numeric column, reused row after row: write-only rows are serialized as they are
    # appended, and a new WriteOnlyCell with its number format per value was a fifth of the write (issue 18)
    templates = [None if f is None or f == NUMBER else _num(ws, 0.0, f) for f in numeric]
    as_text = isinstance(ws, StreamedSheet) and raw_rows_supported()
    letters = column_letters(len(columns))
    style_ids = [_style_picker(ws, f) for f in fmts]
    by_row = columns.index(unit_from) if unit_from in columns else None
    for row in frame.itertuples(index=False, name=None):
        if by_row is not None:
            unit = (unit_formats or {}).get(str(row[by_row])) or number_format(str(row[by_row]))
            ws.append([cell(ws, v, formats.get(c, unit)) for c, v in zip(columns, row)])
            continue
        xml = row_xml(ws.rows_written + 1, letters, row, style_ids, clean) if as_text else None
        if xml is not None:
            ws.append_xml(xml)
            continue
        ws.append([cell(ws, v, fmts[j]) if (templates[j] is None or isinstance(v, str)) else _reuse(templates[j], v)
                   for j, v in enumerate(row)])
    if empty_note and not len(frame):
        ws.append([cell(ws, empty_note)])
    last = len(frame) + 1
    if columns and len(frame):
        add_table(wb, ws, columns, last)
    elif columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}2"
    if highlight and len(frame):
        for j, c in enumerate(columns, start=1):
            rng = f"{get_column_letter(j)}2:{get_column_letter(j)}{last}"
            if c in (Col.utilization,) or c.endswith("_utilization"):
                ws.conditional_formatting.add(rng, ColorScaleRule(start_type="num", start_value=0, start_color="FFFFFF",
                                                                  end_type="num", end_value=1, end_color="F8696B"))
            elif c == Col.unmet_tps:
                ws.conditional_formatting.add(rng, CellIsRule(operator="greaterThan", formula=["0"], fill=RED_FILL))
            elif c == Col.service_level:
                ws.conditional_formatting.add(rng, ColorScaleRule(start_type="num", start_value=0, start_color="F8696B",
                                                                  end_type="num", end_value=1, end_color="FFFFFF"))
    return ws


def add_table(wb: Workbook, ws, columns: list[str], last_row: int, first_row: int = 1) -> Table | None:
    """An Excel Table (filters, banded rows) over A1:<last column><last_row>, named uniquely in the workbook.

    In write-only mode openpyxl cannot read the header back, so the table's columns are named here. Headers
    that Excel would refuse (blank or repeated, ignoring case) get a plain filter instead."""
    ref = f"A{first_row}:{get_column_letter(len(columns))}{max(first_row + 1, last_row)}"
    if len({c.lower() for c in columns}) < len(columns) or not all(c.strip() for c in columns):
        ws.auto_filter.ref = ref
        return None
    taken = wb.__dict__.setdefault("_planner_table_names", set())
    base = "T_" + (re.sub(r"\W", "_", ws.title) or "sheet")
    name, i = base, 1
    while name.lower() in taken:
        i += 1
        name = f"{base}_{i}"
    taken.add(name.lower())
    table = Table(displayName=name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name=TABLE_STYLE, showRowStripes=True, showColumnStripes=False)
    table.tableColumns = [TableColumn(id=j, name=c) for j, c in enumerate(columns, start=1)]
    table.autoFilter = AutoFilter(ref=table.ref)
    with warnings.catch_warnings():  # "in write-only mode you must add table columns manually": done above
        warnings.simplefilter("ignore", UserWarning)
        ws.add_table(table)
    return table


HEADER_PLAN_CHARS = 100  # of the plan's name in a page header: with '&&' escapes and the codes, well under 255


def finish_pages(wb: Workbook, plan_name: str) -> None:
    """Every printed page names the plan (left), the sheet (right) and its page number (footer)."""
    plan = str(plan_name or "")
    if len(plan) > HEADER_PLAN_CHARS:  # Excel refuses a header over 255 characters, codes included
        plan = plan[:HEADER_PLAN_CHARS - 1] + "…"
    plan = plan.replace("&", "&&")
    for ws in wb.worksheets:
        ws.oddHeader.left.text = plan
        ws.oddHeader.right.text = "&A"
        ws.oddFooter.left.text = "&A"
        ws.oddFooter.right.text = "page &P of &N"
        for part in (ws.oddHeader.left, ws.oddHeader.right, ws.oddFooter.left, ws.oddFooter.right):
            part.size = 8


PAGE_WIDTH_CHARS = 260  # column widths (characters) one landscape page holds before the print gets too small to read


def printable(ws, landscape: bool = True, repeat_header: bool = True, width_chars: float = 0) -> None:
    """Print (and convert to PDF) landscape, header row repeated (unless told not to), one page wide; a table wider
    than PAGE_WIDTH_CHARS (a sweep's Draws: 26 columns) over as many pages as keep it readable, with its first
    column repeated on each."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    pages = max(1, math.ceil(width_chars / PAGE_WIDTH_CHARS))
    ws.page_setup.fitToWidth = pages
    ws.page_setup.fitToHeight = 0
    if repeat_header:
        ws.print_title_rows = "1:1"
    if pages > 1:
        ws.print_title_cols = "A:A"


def _style_picker(ws, fmt: str | None):
    """value -> the style id of a number in `fmt` (shown_format's), each registered once."""
    style_id = functools.cache(lambda shown: _num(ws, 0.0, shown).style_id)
    if fmt != NUMBER:
        return lambda _value: style_id(fmt)
    return lambda value: style_id(shown_format(fmt, value))


def _reuse(template, value):
    """`template` (a styled WriteOnlyCell) holding `value`; None and booleans stay plain values, as in _num."""
    value = clean(value)
    if value is None or isinstance(value, bool):
        return value
    template.value = value
    return template


def _num(ws, value, fmt):
    value = clean(value)
    if value is None or isinstance(value, bool):
        return value
    c = WriteOnlyCell(ws, value=value)
    c.number_format = fmt
    return c


def write_key_values(wb: Workbook, name: str, rows: list[tuple[str, object, str]],
                     bold_keys: frozenset[str] = frozenset(), red_keys: frozenset[str] = frozenset(),
                     widths: tuple[float, float, float] = (34, 52, 90)):
    """key | value | note rows; a text longer than its column wraps, and its row is as tall as the text."""
    ws = wb.create_sheet(name)
    key_width = max([widths[0]] + [len(str(r[0])) + 2 for r in rows])
    for letter, width in zip("ABC", (key_width, widths[1], widths[2])):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    printable(ws)
    ws.append([cell(ws, h, font=HEADER_FONT, fill=HEADER_FILL) for h in (Col.key, Col.value, Col.note)])
    wrap, top = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
    for i, (key, value, note) in enumerate(rows, start=2):
        font = Font(name="Calibri", bold=True, color="9C0006") if key in red_keys else \
            Font(name="Calibri", bold=True) if key in bold_keys else None
        cells = [cell(ws, key, font=font), cell(ws, value, number_format(key), font=font), cell(ws, note)]
        lines = 1
        for j, (c, width) in enumerate(zip(cells, (key_width,) + tuple(widths[1:]))):
            long = isinstance(c.value, str) and len(c.value) > width - 2
            c.alignment = Alignment(horizontal="left", indent=1, vertical="top", wrap_text=long) if j == 2 else \
                wrap if long else top
            if long:
                lines = max(lines, text_lines(c.value, (width - 1) * (1.0 if c.font and c.font.b else 1.1)))
        if lines > 1:
            ws.row_dimensions[i].height = 15 * lines + 2
        ws.append(cells)
    return ws


def safe_save(wb: Workbook, target: Path, input_path: Path | None = None, replace: bool = True) -> tuple[Path, str]:
    """Write to a temporary file beside `target`, then move it into place: a crash never leaves half a plan.

    Returns (path written, note). A target that is read-only or open in Excel is left alone and the
    plan goes to a fallback name beside it; the note says so. `replace` False: a target that exists when the file
    is moved into place (another run wrote it meanwhile) is an OutputError, never replaced."""
    target = Path(target)
    try:
        check_target(target, input_path)
    except BaseException:
        _discard(wb)
        raise
    folder = target.parent
    note = ""
    locked = open_in(target)
    if target.exists() and (locked or is_read_only(target)):
        why = f"open in {locked}" if locked else "read-only"
        fallback = _fallback_name(target)
        note = f"{target} is {why}; the plan was written to {fallback} instead"
        target = fallback
    try:
        atomic_write(target, lambda tmp: save_workbook(wb, tmp), replace=replace)
    except FileExistsError:
        _discard(wb)
        raise OutputError(f"{target} appeared while this file was written (another run?); it was left as it is, "
                          "and nothing was written. Run again with another name or --force") from None
    except OSError as exc:
        _discard(wb)
        raise OutputError(f"could not write {target} (folder {folder}): {os_error_text(exc)}") from None
    except BaseException:
        _discard(wb)
        raise
    return target, note


def open_in(target: Path) -> str:
    """The spreadsheet program that holds `target` open, by the lock file it keeps beside it ('' when none):
    Excel's ~$NAME.xlsx, LibreOffice's .~lock.NAME.xlsx#."""
    if target.with_name("~$" + target.name).exists():
        return "Excel"
    if target.with_name(f".~lock.{target.name}#").exists():
        return "LibreOffice"
    return ""


def save_workbook(wb: Workbook, filename: str) -> None:
    """`wb.save(filename)`; when it fails (disk full), the zip file it had open is closed at once: otherwise
    ZipFile.__del__ tries to finish it later and prints a traceback."""
    try:
        wb.save(filename)
    except BaseException as exc:
        _abandon_zips(exc.__traceback__)
        raise


def _abandon_zips(tb) -> None:
    """Close, without writing anything more, every ZipFile held by the frames of a failed save."""
    from zipfile import ZipFile

    while tb is not None:
        for value in list(tb.tb_frame.f_locals.values()):
            for z in (value, getattr(value, "archive", None), getattr(value, "_archive", None)):
                if isinstance(z, ZipFile) and z.fp is not None:
                    fp, z.fp = z.fp, None  # ZipFile.close() (and __del__) do nothing once fp is None
                    try:
                        fp.close()
                    except OSError:
                        pass
        tb = tb.tb_next


def os_error_text(exc: OSError) -> str:
    """An OSError in words, with what to do for the common ones (disk full, no permission)."""
    import errno

    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return "the disk is full (no space left on device); free some space and run again. Nothing was written"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied; choose a folder you can write to. Nothing was written"
    if exc.errno == errno.EROFS:
        return "the file system is read-only. Nothing was written"
    return exc.strerror or str(exc)


def is_read_only(path: Path) -> bool:
    """No write permission bit at all (checked on the mode bits, not os.access: root passes os.access)."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) or not os.access(path, os.W_OK)


def new_file_mode() -> int:
    """The mode a new file gets under this process's umask (0o666 & ~umask)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


_pending_temps: set[str] = set()  # temporary files being written; removed on SIGTERM (planner.signals)
written_files: list[Path] = []  # every file atomic_write moved into place in this process (abort messages)


def remove_pending_temps() -> None:
    for tmp in list(_pending_temps):
        try:
            os.unlink(tmp)
        except OSError:
            pass
        _pending_temps.discard(tmp)


def _move_unless_there(tmp: str, target: Path) -> None:
    """tmp to target unless target exists: a hard link (atomic), or, on a file system without them (FAT, some
    network shares), a check and a rename."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError:
        if os.path.lexists(target):
            raise FileExistsError(str(target)) from None
        os.replace(tmp, target)


def atomic_write(target: Path, write: Callable[[str], object], replace: bool = True) -> Path:
    """`write(tmp)` to a temporary file beside `target`, then move it into place; the temporary file never
    survives a failure, and an existing `target` is only replaced by a complete file. `replace` False: the move
    is a hard link, which fails with FileExistsError when `target` exists by then (no check-then-rename race)."""
    target = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix + ".tmp", dir=target.parent)
    _pending_temps.add(tmp)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, new_file_mode())  # mkstemp's 0600 must not survive the rename
        if replace:
            os.replace(tmp, target)
        else:
            _move_unless_there(tmp, target)
        written_files.append(target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        _pending_temps.discard(tmp)
    return target


def _discard(wb: Workbook) -> None:
    """Finish the streams of a write-only workbook whose save failed, so nothing writes later from a finaliser."""
    for ws in getattr(wb, "_sheets", []):
        if getattr(ws, "closed", True) is False:
            try:
                ws.close()
            except Exception:
                pass


def same_file(a: Path, b: Path) -> bool:
    """`a` and `b` name the same file (by path, or by inode when both exist: hard links, symlinks)."""
    a, b = Path(a), Path(b)
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except (OSError, RuntimeError):  # RuntimeError: resolve() of a symlink loop (Python 3.11)
        return False


def check_not_an_input(target: Path | str, *inputs: Path | str | None, what: str = "output") -> None:
    """Every file a command reads is an input, never an output: refuse (before any work) a target that is one."""
    target = Path(target)
    for path in inputs:
        if path is not None and same_file(target, Path(path)):
            raise OutputError(f"the {what} {target} is also read by this command ({Path(path)}); a file that is "
                              "read is never overwritten. Choose another name with -o")


def check_target(target: Path, input_path: Path | None = None) -> None:
    """Refuse, before any work, an output that would overwrite the input or cannot be an .xlsx."""
    if input_path is not None and target.exists() and target.resolve() == Path(input_path).resolve():
        raise OutputError(f"the output {target} is the input workbook; the input is never overwritten. "
                          "Choose another name with -o")
    if input_path is not None and target.resolve() == Path(input_path).resolve():
        raise OutputError(f"the output {target} is the input workbook; choose another name with -o")
    if target.suffix.lower() != ".xlsx":
        raise OutputError(f"the output {target} must end in .xlsx")
    if not target.parent.is_dir():
        raise OutputError(f"the output folder {target.parent} does not exist")


def _fallback_name(target: Path) -> Path:
    for i in range(1, 1000):
        candidate = target.with_name(f"{target.stem} ({i}){target.suffix}")
        if not candidate.exists():
            return candidate
    raise OutputError(f"no free fallback name beside {target}")
