"""Read an input workbook once, read-only, into raw tables that remember where every value came from.

Nothing here knows what a column means: that is `schema.py` and `validate.py`. This module
only turns an .xlsx file into `RawSheet`s (header -> column letter, rows with their Excel row
number) and reports problems that are about cells rather than meaning: error values, formulas
with no cached value, merged cells, duplicate headers, unreadable files.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import sys
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml.ElementTree as DefusedET
import openpyxl
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.worksheet import Worksheet

from planner.issues import Issues
from planner.output.contract import PLAN_WORKBOOK, written_by
from planner.quarters import looks_like_quarter, parse_quarter
from planner.input.names import ZERO_WIDTH, nearest_name
from planner.input.schema import SHEETS

EXCEL_ERRORS = frozenset({"#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#GETTING_DATA",
                          "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!"})
MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024  # with the cell cap, keeps any admitted workbook under 1 GB parsed
MAX_ROWS_PER_SHEET = 1_048_576
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_CELLS = 1_000_000  # non-empty cells of the whole workbook: about 450 MB parsed (2M measured 865 MB)
MAX_SHARED_STRINGS = 500_000
HEADER_SEARCH_ROWS = 30


def _env_int(name: str, default: int) -> int:
    """A cap from the environment: '1000000', '1e9' and '1_000_000' are numbers; anything else keeps the default,
    said on stderr (a cap someone raised and that silently stayed would be refused later naming that variable)."""
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        value = float(text.replace("_", "").strip())
        if math.isfinite(value) and value >= 1 and value.is_integer():
            return int(value)
    except ValueError:
        pass
    sys.stderr.write(f"WARNING: {name}={text!r} is not a whole number of 1 or more; the default {default:,} is used\n")
    return default


@dataclass(frozen=True)
class ReadLimits:
    """Caps checked before (or while streaming, never after) any XML is parsed. Defaults can be changed with
    the environment variables PLANNER_MAX_UNCOMPRESSED_BYTES, PLANNER_MAX_ROWS_PER_SHEET, PLANNER_MAX_FILE_BYTES,
    PLANNER_MAX_CELLS and PLANNER_MAX_SHARED_STRINGS (read when the planner starts)."""
    max_uncompressed_bytes: int = _env_int("PLANNER_MAX_UNCOMPRESSED_BYTES", MAX_UNCOMPRESSED_BYTES)
    max_rows_per_sheet: int = _env_int("PLANNER_MAX_ROWS_PER_SHEET", MAX_ROWS_PER_SHEET)
    max_file_bytes: int = _env_int("PLANNER_MAX_FILE_BYTES", MAX_FILE_BYTES)
    max_cells: int = _env_int("PLANNER_MAX_CELLS", MAX_CELLS)
    max_shared_strings: int = _env_int("PLANNER_MAX_SHARED_STRINGS", MAX_SHARED_STRINGS)


def normalise_header(value: object) -> str:
    """'Chips per rack ', 'chips-per-rack', 'chips__per_rack' -> 'chips_per_rack' (case aside, spaces, _ and - are
    one separator); quarters -> 'YYYYQn'. The validator matches what is left without separators ('ChipsPerRack')
    against the sheet's own columns (planner.input.checks.rows.align_headers)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    # NFKC: a full-width 'ｐｒｏｄｕｃｔ' (an East Asian input method) is 'product'; zero-width characters go
    text = unicodedata.normalize("NFKC", str(value)).translate(ZERO_WIDTH).strip()
    q = parse_quarter(text)
    if q:
        return q
    return re.sub(r"[\s\-_]+", "_", text).strip("_").lower()



@dataclass
class RawRow:
    excel_row: int
    values: dict[str, object]  # normalised header -> raw cell value
    faulty: set[str] = field(default_factory=set)  # columns whose cell the reader already reported as an error


@dataclass
class RawSheet:
    title: str  # the sheet's own title in the file
    header_row: int
    columns: dict[str, str]  # normalised header -> column letter
    headers: dict[str, object]  # normalised header -> header as written
    rows: list[RawRow] = field(default_factory=list)
    # rows a scenario added (planner.whatif.scenarios add_row): excel_row -> (the Scenarios cell of the row,
    # {column: the Scenarios cell that filled it}); their cells are reported there, not in this sheet
    placed: dict[int, tuple[str, dict[str, str]]] = field(default_factory=dict)
    added_columns: dict[str, str] = field(default_factory=dict)  # column a scenario added -> the Scenarios cell

    def header_cell(self, column: str) -> str:
        """Where a column's header is: its cell, or the Scenarios cell whose add_row added the column."""
        if column in self.added_columns:
            return self.added_columns[column]
        return f"{self.title}!{self.columns.get(column, '?')}{self.header_row}"

    def cell(self, column: str, excel_row: int) -> str:
        if excel_row in self.placed:
            where, cells = self.placed[excel_row]
            return cells.get(column, where)
        letter = self.columns.get(column, "?")
        return f"{self.title}!{letter}{excel_row}"


@dataclass
class RawWorkbook:
    path: Path
    sha256: str
    sheets: dict[str, RawSheet]  # by spec sheet name
    edited: dict[str, str] = field(default_factory=dict)  # cell -> the scenario row that changed it (whatif)


def xml_is_defused() -> bool:
    """openpyxl parses with defusedxml (no entity expansion, no external entities) when it is installed."""
    return bool(getattr(openpyxl, "DEFUSEDXML", False))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _open_bytes(path: Path, issues: Issues, limits: ReadLimits) -> bytes | None:
    from planner.input.guard import file_kind_problem, not_a_zip_problem, read_capped

    problem = file_kind_problem(path, limits.max_file_bytes)  # os.stat only: a FIFO or /dev/zero is never read
    if problem:
        issues.error("", "", "", str(path), problem)
        return None
    lock = path.with_name("~$" + path.name)
    if lock.exists():
        issues.warning("", "", "", lock.name, "the workbook is open in Excel (lock file found): unsaved edits are "
                       "not included in this plan")
    try:
        data = read_capped(path, limits.max_file_bytes)
    except OSError as exc:
        issues.error("", "", "", str(path), f"cannot read {path}: {exc.strerror or exc}")
        return None
    if data is None:
        issues.error("", "", "", path.name, f"the file grew above the limit of {limits.max_file_bytes:,} bytes "
                     "while being read (PLANNER_MAX_FILE_BYTES); refusing it")
        return None
    suffix = path.suffix.lower()
    if not zipfile.is_zipfile(io.BytesIO(data)):
        issues.error("", "", "", path.name, not_a_zip_problem(data, suffix))
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            total = sum(i.file_size for i in z.infolist())
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        issues.error("", "", "", path.name, f"not a valid .xlsx workbook (a damaged zip: {exc}); "
                     "open it in Excel and save it again, or use a good copy")
        return None
    if total > limits.max_uncompressed_bytes:
        issues.error("", "", "", path.name, f"the workbook expands to {total:,} bytes, above the limit of "
                     f"{limits.max_uncompressed_bytes:,}; refusing to parse it (possible zip bomb)")
        return None
    try:
        too_long = _declared_rows(data, names, limits.max_rows_per_sheet)
    except Exception as exc:  # a damaged member: zipfile and zlib raise several types
        issues.error("", "", "", path.name, f"not a valid .xlsx workbook ({_root_cause(exc)}); "
                     "open it in Excel and save it again, or use a good copy")
        return None
    if too_long:
        titles = _member_titles(data, names)
        for member, rows in too_long:
            title = titles.get(member)
            issues.error(title or "", title or "", "", title or member,
                         f"sheet {title or member} declares {rows:,} rows, above the limit of "
                         f"{limits.max_rows_per_sheet:,} (PLANNER_MAX_ROWS_PER_SHEET); refusing to parse it")
        return None
    if "xl/workbook.xml" not in names:
        issues.error("", "", "", path.name, f"not a valid .xlsx workbook ({_other_zip_kind(data, names)})")
        return None
    if any(n.startswith("xl/externalLinks/") for n in names):
        issues.warning("", "", "", path.name, "the workbook links to other workbooks: cached values of linked "
                       "cells may be stale")
    if suffix == ".xlsm" or "xl/vbaProject.bin" in names:
        issues.warning("", "", "", path.name, "the workbook contains macros: they are never run nor copied")
    return data


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]*\d*:?[A-Z]*(\d+)"')


def _other_zip_kind(data: bytes, names: set[str]) -> str:
    """What a zip that holds no xl/workbook.xml is, in words, with how to save it as .xlsx."""
    save = "open it in Excel or LibreOffice and save it as Excel Workbook (.xlsx)"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            mimetype = z.read("mimetype")[:100].decode("ascii", "replace") if "mimetype" in names else ""
    except Exception:  # a damaged member: said as no workbook inside
        mimetype = ""
    if "opendocument.spreadsheet" in mimetype:
        return f"it is an OpenDocument spreadsheet (.ods), whatever its name says; {save}"
    if "xl/workbook.bin" in names:
        return f"it is an Excel binary workbook (.xlsb), whatever its name says; {save}"
    if "word/document.xml" in names or "ppt/presentation.xml" in names:
        return "it is a Word or PowerPoint file, not a workbook"
    return f"no xl/workbook.xml inside; {save}"


def _member_titles(data: bytes, names: set[str]) -> dict[str, str]:
    """Worksheet part -> sheet title ({} when the workbook's parts cannot say)."""
    from planner.input.guard import _titles_by_member, sheet_names

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            workbook_xml = z.read("xl/workbook.xml") if "xl/workbook.xml" in names else b""
            return _titles_by_member(z, list(names), sheet_names(workbook_xml))
    except Exception:  # a damaged part: the message names the part instead
        return {}


def _declared_rows(data: bytes, names: set[str], cap: int) -> list[tuple[str, int]]:
    """Sheets whose <dimension> (read from the first bytes of their XML, before parsing) exceeds `cap` rows."""
    found = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")):
            with z.open(name) as f:
                head = f.read(4096)
            m = _DIMENSION.search(head)
            if m and int(m.group(1)) > cap:
                found.append((name, int(m.group(1))))
    return found


def _root_cause(exc: BaseException) -> str:
    chain = [exc]
    while (nxt := chain[-1].__cause__ or chain[-1].__context__) is not None and len(chain) < 10:
        chain.append(nxt)
    for e in chain:
        if type(e).__name__ in ("EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden"):
            return f"refused {type(e).__name__}: the file declares XML entities or a DTD (entity-expansion attack?)"
    root = chain[-1]
    detail = ' '.join(str(root).split())[:300]
    return f"{_DAMAGE_KIND.get(type(root).__name__, 'it cannot be parsed')}: {detail}" if detail else \
        _DAMAGE_KIND.get(type(root).__name__, "it cannot be parsed")


# what a damaged file's exception means, in words (a planner has no use for a Python class name)
_DAMAGE_KIND = {
    "ExpatError": "damaged XML inside", "ParseError": "damaged XML inside", "XMLSyntaxError": "damaged XML inside",
    "BadZipFile": "a damaged zip member", "BadZipfile": "a damaged zip member", "error": "a damaged zip member",
    "EOFError": "a zip member ends early", "KeyError": "a part it refers to is missing",
    "UnicodeDecodeError": "text that is not valid UTF-8 inside", "ValueError": "a value it cannot read",
    "TypeError": "a part it cannot read", "IndexError": "a part it cannot read", "AttributeError": "a part it cannot read",
}


def _load(data: bytes, data_only: bool, read_only: bool):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_workbook(io.BytesIO(data), data_only=data_only, read_only=read_only, keep_links=False)


def read_workbook(path: str | Path, limits: ReadLimits | None = None) -> tuple[RawWorkbook | None, Issues]:
    """Read every sheet the schema knows into RawSheets. Never writes to `path`."""
    limits = limits or ReadLimits()
    path = Path(path)
    issues = Issues()
    if not xml_is_defused():
        issues.error("", "", "", "defusedxml", "refusing to read untrusted workbooks: defusedxml is not installed or "
                     "OPENPYXL_DEFUSEDXML is not True; reinstall the planner")
        return None, issues
    data = _open_bytes(path, issues, limits)
    if data is None:
        return None, issues
    digest = hashlib.sha256(data).hexdigest()
    from planner.input.guard import CapExceeded, StrictOOXML, scan_package

    try:
        scan = scan_package(data, max_rows=limits.max_rows_per_sheet, max_cells=limits.max_cells,
                            max_shared_strings=limits.max_shared_strings)
    except StrictOOXML as exc:
        issues.error("", "", "", path.name, exc.message)
        return None, issues
    except CapExceeded as exc:
        issues.error("", "", "", path.name, str(exc))
        return None, issues
    except Exception as exc:  # a damaged member: zipfile and zlib raise several types
        issues.error("", "", "", path.name, f"not a valid .xlsx workbook ({_root_cause(exc)}); "
                     "open it in Excel and save it again, or use a good copy")
        return None, issues
    del data
    try:
        values_wb = _load(scan.data, data_only=True, read_only=False)
        # formula cells were found while streaming (planner.input.guard): the workbook is parsed once; the formula
        # view is parsed only if a sheet's part could not be matched to its title (a damaged relationship)
        formulas_wb = _load(scan.data, data_only=False, read_only=True) \
            if len(scan.formulas) < len(scan.formula_members) else None
    except Exception as exc:  # openpyxl raises many types on damaged files
        issues.error("", "", "", path.name, _unreadable(exc, scan.data))
        return None, issues
    try:
        by_lower: dict[str, str] = {}
        written = set(scan.sheet_names) or set(values_wb.sheetnames)
        first_of: dict[str, str] = {}
        for name in scan.sheet_names:
            key = name.strip().lower()
            if key in first_of:
                issues.error(name, name, "", name, f"two sheets are named '{first_of[key]}' and '{name}', which "
                             "differ only by case or spaces; rename or delete one (the planner cannot tell which "
                             "is meant)")
            else:
                first_of[key] = name
        for title in values_wb.sheetnames:
            if title not in written and any(title.lower().startswith(w.strip().lower()) and title[len(w):].isdigit()
                                            for w in written):
                continue  # openpyxl's rename ('products1') of a name that differs only by case (already reported)
            key = title.strip().lower()
            if key in by_lower:
                if by_lower[key] is not None and not any(i.cell == title for i in issues.errors):
                    issues.error(title, title, "", title, f"two sheets are both named '{title}' (ignoring case and "
                                 f"spaces): '{by_lower[key]}' and '{title}'")
                by_lower[key] = None
                continue
            by_lower[key] = title
        kind = written_by(values_wb.sheetnames)
        if kind is not None and "settings" not in by_lower:
            issues.error("", "", "", path.name, f"{path.name} is {kind}, not an input workbook: give the input "
                         "workbook it was made from (a plan's Inputs sheet names it)"
                         + ("; planner roll takes PLAN.xlsx first, then INPUT.xlsx" if kind == PLAN_WORKBOOK else ""))
            return None, issues
        sheets: dict[str, RawSheet] = {}
        for spec in SHEETS:
            title = by_lower.get(spec.name.lower())
            if title is None:
                continue
            ws = values_wb[title]
            if not isinstance(ws, Worksheet):
                issues.error(title, title, "", title, f"sheet '{title}' is a chart sheet, not a table; the "
                             f"{spec.name} table must be a worksheet (rename the chart sheet)")
                continue
            if ws.sheet_state != "visible":
                issues.warning(title, title, "", "", f"sheet '{title}' is hidden; it is read like any other")
            if ws.max_row > limits.max_rows_per_sheet:
                issues.error(title, title, "", ws.max_row, f"sheet has {ws.max_row:,} rows, above the limit of "
                             f"{limits.max_rows_per_sheet:,}")
                continue
            fws = formulas_wb[title] if formulas_wb is not None else scan.formulas.get(title)
            sheets[spec.name] = _read_sheet(ws, fws, spec.keys or ("key",), issues, scan.stale_formulas)
        other = sorted(k for k in set(by_lower) - {s.name.lower() for s in SHEETS} - {"readme", "rollnotes"} if by_lower[k])
        for key in other:
            title = by_lower[key]
            ws = values_wb[title]
            if getattr(ws, "sheet_state", "visible") != "visible":
                issues.warning(title, title, "", "", f"sheet '{title}' is hidden (not a planner sheet; ignored)")
            else:
                issues.warning(title, title, "", "", _unknown_sheet(title))
    finally:
        if formulas_wb is not None:
            formulas_wb.close()
        values_wb.close()
    return RawWorkbook(path, digest, sheets), issues


def _unknown_sheet(title: str) -> str:
    """'SiteExpansions' -> "... did you mean SiteExpansion?" (difflib on names without case, spaces, _ and -)."""
    near = nearest_name(title, [s.name for s in SHEETS], cutoff=0.75)
    hint = f"; did you mean {near}?" if near else ""
    return f"sheet '{title}' is not an input sheet of the planner; it is ignored{hint}"


_CELL_REF = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3}\d+)"')
# a number cell (no t, or t="n") and its saved value, which must read as a number
_NUMBER_CELL = re.compile(rb'<(?:\w+:)?c\s([^>]*?)>\s*(?:<(?:\w+:)?f[^>]*(?:/>|>.*?</(?:\w+:)?f>)\s*)?'
                          rb'<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>', re.S)
_NUMBER_TEXT = re.compile(rb'^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$')


def _unreadable(exc: BaseException, data: bytes) -> str:
    """Why openpyxl could not read the package, in words, with the sheet and cell where that can be found."""
    where = _where_xml_breaks(data)
    detail = where.lstrip(", ") if "saved as a number" in where else f"{_damage(exc)}{where}"  # no int() talk
    return f"not a valid .xlsx workbook ({detail}); open it in Excel and save it again, or use a good copy"


def _where_xml_breaks(data: bytes) -> str:
    """', in sheet 'Fabs' near cell B7' for the first worksheet whose XML does not parse, or whose number cell
    holds no number (a tool's NaN or INF), '' when none does or the damage lies elsewhere: the planner cannot read
    around it, but the planner can go and fix that cell."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
            titles = _member_titles(data, set(names))
            for name in sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")):
                part = z.read(name)
                try:
                    DefusedET.fromstring(part)
                except DefusedET.ParseError as exc:
                    line, column = exc.position
                    offset = sum(len(x) + 1 for x in part.split(b"\n")[:line - 1]) + column
                    cells = _CELL_REF.findall(part[:offset])
                    near = f" near cell {cells[-1].decode()}" if cells else ""
                    return f", in sheet '{titles.get(name, name)}'{near}"
                for m in _NUMBER_CELL.finditer(part):
                    kind = re.search(rb'\bt="([^"]*)"', m.group(1))
                    ref = re.search(rb'\br="([A-Z]{1,3}\d+)"', m.group(1))
                    if (kind is None or kind.group(1) == b"n") and ref and not _NUMBER_TEXT.match(m.group(2)):
                        text = m.group(2).decode("utf-8", "replace")[:40]
                        return f", in sheet '{titles.get(name, name)}' cell {ref.group(1).decode()}: {text!r} is " \
                               "saved as a number but is not one"
    except Exception:  # damaged beyond the sheets' XML: the message without a place
        return ""
    return ""


def _damage(exc: BaseException) -> str:
    """A damaged-file exception in words (a dangling pivot cache shows up as a bare KeyError)."""
    text = _root_cause(exc)
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = tb.tb_frame.f_code.co_filename if tb is not None else ""
    if isinstance(exc, KeyError) and ("pivot" in where or "reader/excel" in where):
        return (f"a pivot table refers to a pivot cache ({exc}) the file does not hold; the workbook is damaged: "
                "delete the pivot table or repair the file in Excel")
    return text


def _find_table_area(ws, key_columns: tuple[str, ...]) -> tuple[int, int | None, int | None]:
    """(header row, last data row or None, last row of the Table with its totals rows or None). An Excel Table
    (ListObject) wins; else the first row within the top rows holding all key headers; else row 1."""
    for table in ws.tables.values():
        min_col, min_row, max_col, max_row = range_boundaries(table.ref)
        headers = {normalise_header(ws.cell(min_row, c).value) for c in range(min_col, max_col + 1)}
        if all(k in headers for k in key_columns):
            last = max_row - (table.totalsRowCount or 0)
            return min_row, last, max_row
    for r in range(1, min(ws.max_row, HEADER_SEARCH_ROWS) + 1):
        headers = {normalise_header(c.value) for c in ws[r]}
        if all(k in headers for k in key_columns):
            return r, None, None
    return 1, None, None


def _read_sheet(ws, fws, key_columns: tuple[str, ...], issues: Issues, stale_formulas: bool = False) -> RawSheet:
    title = ws.title
    header_row, last_row, table_end = _find_table_area(ws, key_columns)
    columns: dict[str, str] = {}
    headers: dict[str, object] = {}
    col_index: dict[int, str] = {}
    max_col = ws.max_column
    merged_header_columns = _report_merged_header(ws, header_row, issues)
    for c in range(1, max_col + 1):
        raw = ws.cell(header_row, c).value
        name = normalise_header(raw)
        if not name or c in merged_header_columns:
            continue
        letter = get_column_letter(c)
        if looks_like_quarter(str(raw)) and not parse_quarter(str(raw)):
            issues.error(title, f"{title}!{letter}{header_row}", str(raw), raw,
                         "malformed quarter header; write quarters as YYYYQn with n in 1..4, e.g. 2026Q1")
            continue
        if name in columns:
            issues.error(title, f"{title}!{letter}{header_row}", name, raw,
                         f"duplicate column header '{raw}' (also in column {columns[name]})")
            continue
        columns[name] = letter
        headers[name] = raw
        col_index[c] = name
    sheet = RawSheet(title, header_row, columns, headers)

    merged_cells: dict[tuple[int, int], str] = {}
    for rng in ws.merged_cells.ranges:
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                merged_cells[(r, c)] = str(rng)
    formula_cells = _formula_cells(fws, header_row)

    by_row: dict[int, dict[int, object]] = {}
    _report_stray_data(ws, header_row, last_row, table_end, col_index, merged_header_columns, issues)
    for (r, c), cell in ws._cells.items():  # only cells that exist in the file: stray formatting far below costs nothing
        if r <= header_row or (last_row is not None and r > last_row) or c not in col_index:
            continue
        if cell.value is not None or (r, c) in formula_cells or (r, c) in merged_cells:
            by_row.setdefault(r, {})[c] = cell
    for (r, c) in list(formula_cells) + list(merged_cells):
        if r > header_row and (last_row is None or r <= last_row) and c in col_index:
            by_row.setdefault(r, {}).setdefault(c, ws.cell(r, c))

    hidden: list[int] = []
    reported_merges: set[str] = set()
    for r in sorted(by_row):
        values: dict[str, object] = {}
        faulty: set[str] = set()
        for c, cell in sorted(by_row[r].items()):
            name = col_index[c]
            v = cell.value
            ref = f"{title}!{get_column_letter(c)}{r}"
            if (r, c) in merged_cells:
                rng = merged_cells[(r, c)]
                if rng not in reported_merges:
                    reported_merges.add(rng)
                    issues.error(title, ref, name, v, f"merged cells ({rng}) in the data area; "
                                 "unmerge them and fill every cell")
                faulty.add(name)
                continue
            if (isinstance(v, str) and v.strip().upper() in EXCEL_ERRORS) or cell.data_type == "e":
                issues.error(title, ref, name, v, f"Excel error value {v}; fix the formula or the value")
                faulty.add(name)
                continue
            if stale_formulas and v is not None and (r, c) in formula_cells:
                issues.error(title, ref, name, formula_cells[(r, c)], f"formula whose saved value ({v!r}) was never "
                             "computed: the file asks to be recalculated when opened, as a script (xlsxwriter, "
                             "pandas, openpyxl) writes it; open and save it in Excel (or LibreOffice) so its values "
                             "are computed, or type the value")
                faulty.add(name)
                continue
            if v is None and (r, c) in formula_cells:
                issues.error(title, ref, name, formula_cells[(r, c)], "formula with no cached value, or one whose "
                             "result is empty text (\"\"): give the cell a value, or, for a workbook written by a "
                             "script, open and save it in Excel (or LibreOffice) so its values are computed")
                faulty.add(name)
                continue
            if isinstance(v, str) and not v.strip():
                v = None
            values[name] = v
        if all(v is None for v in values.values()) and not faulty:
            continue
        if ws.row_dimensions[r].hidden:
            hidden.append(r)
        sheet.rows.append(RawRow(r, values, faulty))
    if hidden:
        shown = ", ".join(str(r) for r in hidden[:20]) + (" ..." if len(hidden) > 20 else "")
        issues.warning(title, title, "", "", f"hidden rows {shown} hold data; they are included in the plan")
    _warn_hidden_columns(ws, col_index, sheet, issues)
    return sheet


def _warn_hidden_columns(ws, col_index: dict[int, str], sheet: RawSheet, issues: Issues) -> None:
    """Hidden columns are read like any other (as hidden rows are): say so, so a hidden quarter or an old value
    kept out of sight is not planned unnoticed."""
    # openpyxl keeps adjacent columns of one format as one dimension (min..max)
    spans = [(d.min, d.max) for d in ws.column_dimensions.values() if d.hidden and d.min and d.max]
    hidden = [f"{get_column_letter(c)} ({name})" for c, name in sorted(col_index.items())
              if any(lo <= c <= hi for lo, hi in spans) and any(row.values.get(name) is not None for row in sheet.rows)]
    if hidden:
        issues.warning(ws.title, ws.title, "", "", f"hidden column(s) {', '.join(hidden[:10])}"
                       f"{' ...' if len(hidden) > 10 else ''} hold data; they are included in the plan")


def _report_merged_header(ws, header_row: int, issues: Issues) -> set[int]:
    """Columns whose header cell is merged into another's: Excel shows one header over several columns, but
    only the range's first cell holds it, so the others would read as blank headers (their data unread)."""
    columns: set[int] = set()
    for rng in ws.merged_cells.ranges:
        if not rng.min_row <= header_row <= rng.max_row:
            continue
        columns.update(range(rng.min_col + 1, rng.max_col + 1))  # the first cell's header stands
        first = ws.cell(rng.min_row, rng.min_col).value
        issues.error(ws.title, f"{ws.title}!{rng.coord}", normalise_header(first), first,
                     f"header cells {rng.coord} are merged: unmerge them and give each column its own header "
                     "(one column per header)")
    return columns


def _report_stray_data(ws, header_row: int, last_row: int | None, table_end: int | None,
                       col_index: dict[int, str], merged_header_columns: set[int], issues: Issues) -> None:
    """Data the sheet would not read, which would silently plan something else: rows of data below an Excel
    Table's range (the Table not resized; a one-cell note below it is fine) and values under a blank header (a
    cleared header: its column would take its default)."""
    title = ws.title
    unnamed: dict[int, int] = {}  # column -> first row with a value under a blank header
    below: dict[int, int] = {}  # row below the Table -> how many of its columns hold a value there
    outside = math.inf if table_end is None else table_end
    for (r, c), cell in ws._cells.items():
        if r <= header_row or (c in col_index and r <= outside) or not _filled(cell.value):
            continue  # the data area (read by _read_sheet) first: the cheap test for most cells
        if c in col_index:
            below[r] = below.get(r, 0) + 1
        elif (last_row is None or r <= last_row) and ws.cell(header_row, c).value in (None, "") \
                and c not in merged_header_columns and r < unnamed.get(c, r + 1):
            unnamed[c] = r
    rows_below = sorted(r for r, n in below.items() if n >= 2)  # a note is one cell; a row of data fills several
    if rows_below:
        shown = ", ".join(str(r) for r in rows_below[:10]) + (" ..." if len(rows_below) > 10 else "")
        issues.error(title, f"{title}!A{rows_below[0]}", "", None, f"row(s) {shown} below the Excel Table's range "
                     f"(rows {header_row}..{table_end}) hold data in its columns and would not be read: extend the "
                     "Table (Table Design > Resize Table) to include them, or move them out of its columns")
    for c, r in sorted(unnamed.items()):
        letter = get_column_letter(c)
        issues.error(title, f"{title}!{letter}{r}", "", ws.cell(r, c).value,
                     f"data under a blank header (column {letter}, header row {header_row}): name the column, or "
                     "clear its cells if they are notes")


def _filled(value) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _formula_cells(fws, header_row: int) -> dict[tuple[int, int], str]:
    """Cells holding a formula (read from the formula view of the same file; None: the file has none)."""
    found: dict[tuple[int, int], str] = {}
    if fws is None:
        return found
    if isinstance(fws, dict):  # found while streaming the sheet's XML
        return {rc: f for rc, f in fws.items() if rc[0] > header_row}
    for row in fws.iter_rows(min_row=header_row + 1):
        for cell in row:
            v = getattr(cell, "value", None)
            if isinstance(v, str) and v.startswith("=") or getattr(cell, "data_type", None) == "f":
                found[(cell.row, cell.column)] = str(v)
    return found
