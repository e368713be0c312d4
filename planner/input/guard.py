"""Checks on an untrusted input file before openpyxl parses it, in bounded memory.

- Only a regular file is opened (a FIFO, a device such as /dev/zero or a folder is refused from os.stat,
  before any read), and only up to `max_file_bytes`.
- What the file is when it is not an .xlsx: a password-protected workbook (an OLE2 container holding an
  EncryptedPackage), an Excel 97-2003 .xls (OLE2 without one), a Strict Open XML workbook.
- One streaming pass over every worksheet's XML (never the whole member in memory): rows are counted against
  `max_rows_per_sheet` whatever the sheet's <dimension> says, cells with no value and no formula (styling only)
  are dropped, the cells left are counted against `max_cells`, and shared strings against
  `max_shared_strings`. The slimmed package is what openpyxl parses, so a million styled empty rows cost
  nothing, and the memory openpyxl needs is bounded by the cell cap.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
STRICT_NS = b"http://purl.oclc.org/ooxml/spreadsheetml/main"
CHUNK = 1 << 20

_ROW = re.compile(rb"<(?:\w+:)?row[\s>/]")
_EMPTY_CELL = re.compile(rb"<(?:\w+:)?c(?:\s[^>]*?)?(?:/>|>\s*</(?:\w+:)?c>)")
_CELL = re.compile(rb"<(?:\w+:)?c[\s>]")
_EMPTY_ROW = re.compile(rb"<(?:\w+:)?row(?:\s[^>]*?)?(?:/>|>\s*</(?:\w+:)?row>)")
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_FULL_CELL = re.compile(rb"<(?:\w+:)?c(\s[^>]*?)?(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF = re.compile(rb'\sr="([A-Z]+)([0-9]+)"')
_F_TEXT = re.compile(rb"<(?:\w+:)?f(?:\s[^>]*?)?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_V = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>")
_CACHED_VALUE = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*?)?(?<!/)>[^<]+<")  # '<v>2</v>'; '<v />', '<v></v>' hold none
_REL = re.compile(rb"<(?:\w+:)?Relationship\s[^>]*?>")
_SI = re.compile(rb"<(?:\w+:)?si[\s>/]")
_SHEET = re.compile(rb"<(?:\w+:)?sheet\s[^>]*?name=\"([^\"]*)\"[^>]*?(?:r:|\w+:)?id=\"([^\"]*)\"|"
                    rb"<(?:\w+:)?sheet\s[^>]*?(?:r:|\w+:)?id=\"([^\"]*)\"[^>]*?name=\"([^\"]*)\"")


@dataclass
class Scan:
    data: bytes  # the package openpyxl parses (empty cells dropped)
    sheet_names: list[str] = field(default_factory=list)  # as written in xl/workbook.xml, in order
    formula_members: set[str] = field(default_factory=set)  # worksheet parts holding at least one formula
    formulas: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)  # sheet title -> formula cells
    stale_formulas: bool = False  # saved values of formulas were never computed (recalculates_on_load)


_FULL_CALC = re.compile(rb'<(?:\w+:)?calcPr\b[^>]*\bfullCalcOnLoad\s*=\s*["\'](?:1|true)["\']')


def recalculates_on_load(workbook_xml: bytes) -> bool:
    """The workbook asks the spreadsheet program to recompute every formula when opened (calcPr fullCalcOnLoad):
    what a script writes (xlsxwriter and pandas store each formula's value as 0, openpyxl stores none), so the
    values saved with its formulas are not their results. Excel and LibreOffice clear it when they save."""
    return bool(_FULL_CALC.search(workbook_xml))


def file_kind_problem(path: Path, max_file_bytes: int) -> str | None:
    """Why `path` cannot be opened as a workbook, from os.stat alone (nothing is read)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return f"the file {path} does not exist"
    except OSError as exc:
        return f"cannot open {path}: {exc.strerror or exc}"
    if stat.S_ISDIR(st.st_mode):
        return f"{path} is a folder, not an .xlsx workbook"
    if not stat.S_ISREG(st.st_mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "a device" if
                stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "not a regular file")
        return f"{path} is {kind}, not an .xlsx workbook file; give the path of a saved workbook"
    if st.st_size > max_file_bytes:
        return (f"the file is {st.st_size:,} bytes, above the limit of {max_file_bytes:,} "
                "(PLANNER_MAX_FILE_BYTES); refusing to read it")
    return None


def read_capped(path: Path, max_file_bytes: int) -> bytes | None:
    """The file's bytes, read once; None when it grew beyond the cap while being read."""
    with open(path, "rb") as f:
        data = f.read(max_file_bytes + 1)
    return None if len(data) > max_file_bytes else data


def not_a_zip_problem(data: bytes, suffix: str) -> str:
    """What a file that is not a zip container is, in words."""
    if data[:8] == OLE2_MAGIC:
        if "EncryptedPackage".encode("utf-16-le") in data or b"EncryptedPackage" in data:
            return ("the workbook is password-protected (encrypted); open it in Excel, remove the password "
                    "(File > Info > Protect Workbook > Encrypt with Password) and save it as .xlsx")
        return ("it is an Excel 97-2003 file (.xls), whatever its name says; open it in Excel and save it as "
                "Excel Workbook (.xlsx)")
    kind = {".xls": "an old binary .xls file", ".csv": "a CSV file"}.get(suffix, "not a zip container")
    return f"not a valid .xlsx workbook ({kind}); save it as .xlsx from Excel"


def sheet_names(workbook_xml: bytes) -> list[tuple[str, str]]:
    """(name, relationship id) of every sheet of xl/workbook.xml, in order, names unescaped."""
    out = []
    for m in _SHEET.finditer(workbook_xml):
        name, rid = (m.group(1), m.group(2)) if m.group(1) is not None else (m.group(4), m.group(3))
        out.append((unescape(name.decode("utf-8", "replace")), rid.decode("utf-8", "replace")))
    return out


class CapExceeded(Exception):
    pass


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _formula_cells(part: bytes, found: dict[tuple[int, int], str], uncached_only: bool = False) -> None:
    """(row, column) -> '=formula' of every formula cell in `part` (whole rows); a cell with no cached <v>
    value is how the reader finds 'formula with no cached value'. `uncached_only`: only those cells."""
    for m in _FULL_CELL.finditer(part):
        body = m.group(2)
        if not body or b"<f" not in body and b":f" not in body:
            continue
        f = _F_TEXT.search(body)
        ref = _REF.search(m.group(1) or b"")
        if f is None or ref is None or uncached_only and _CACHED_VALUE.search(body):
            continue
        text = unescape((f.group(1) or b"").decode("utf-8", "replace"))
        found[(int(ref.group(2)), _column_number(ref.group(1)))] = "=" + (text or "(shared formula)")


def _stream_member(z: zipfile.ZipFile, name: str, out, *, max_rows: int, max_cells: int, cells_so_far: int,
                   formulas: dict[tuple[int, int], str] | None = None):
    """Copy worksheet `name` to `out` without its empty cells and rows; formula cells go to `formulas`.
    Returns (rows, cells, has_formula)."""
    rows = cells = 0
    formula = False
    carry = b""
    with z.open(name) as f:
        while True:
            chunk = f.read(CHUNK)
            buf = carry + chunk
            if chunk:
                # whole rows only (an empty row is only seen as empty with its closing tag); the rest waits for
                # the next chunk, unless one row is huge: then whole tags
                cut = buf.rfind(b"</row>") + len(b"</row>")
                if cut < len(b"</row>"):
                    cut = buf.rfind(b">") + 1 if len(buf) > 16 * CHUNK else 0
                if cut == 0:
                    carry = buf
                    continue
                part, carry = buf[:cut], buf[cut:]
            else:
                part, carry = buf, b""
            rows += len(_ROW.findall(part))
            if rows > max_rows:
                raise CapExceeded(f"a sheet ({name}) holds more than {max_rows:,} rows, above the limit "
                                  "(PLANNER_MAX_ROWS_PER_SHEET); refusing to parse it")
            part = _EMPTY_ROW.sub(b"", _EMPTY_CELL.sub(b"", part))
            cells += len(_CELL.findall(part))
            if cells_so_far + cells > max_cells:
                raise CapExceeded(f"the workbook holds more than {max_cells:,} non-empty cells, above the limit "
                                  "(PLANNER_MAX_CELLS); refusing to parse it")
            if _FORMULA.search(part):
                formula = True
                if formulas is not None:
                    _formula_cells(part, formulas)
            out.write(part)
            if not chunk:
                break
    return rows, cells, formula


def _count_shared_strings(z: zipfile.ZipFile, name: str, cap: int) -> int:
    count = 0
    carry = b""
    with z.open(name) as f:
        while chunk := f.read(CHUNK):
            buf = carry + chunk
            cut = buf.rfind(b"<")
            part, carry = (buf[:cut], buf[cut:]) if cut > 0 else (buf, b"")
            count += len(_SI.findall(part))
            if count > cap:
                raise CapExceeded(f"the workbook holds more than {cap:,} shared strings, above the limit "
                                  "(PLANNER_MAX_SHARED_STRINGS); refusing to parse it")
    return count + len(_SI.findall(carry))


def scan_package(data: bytes, *, max_rows: int, max_cells: int, max_shared_strings: int) -> Scan:
    """Stream every worksheet once (caps, empty cells dropped) and return the package openpyxl should parse.
    Raises CapExceeded (message in words) or zipfile/zlib errors on a damaged file."""
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    workbook_xml = src.read("xl/workbook.xml") if "xl/workbook.xml" in names else b""
    sheets = sheet_names(workbook_xml)
    scan = Scan(b"", [n for n, _rid in sheets], stale_formulas=recalculates_on_load(workbook_xml))
    title_of = _titles_by_member(src, names, sheets)
    if STRICT_NS in workbook_xml[:8192]:
        raise StrictOOXML()
    for name in names:
        if name.lower() == "xl/sharedstrings.xml":
            _count_shared_strings(src, name, max_shared_strings)
    out_buf = io.BytesIO()
    cells = 0
    with zipfile.ZipFile(out_buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for info in src.infolist():
            name = info.filename
            if name.startswith("xl/worksheets/") and name.endswith(".xml") and "/_rels/" not in name:
                found: dict[tuple[int, int], str] = {}
                with out.open(zipfile.ZipInfo(name, date_time=info.date_time), "w") as dst:
                    _rows, n, formula = _stream_member(src, name, dst, max_rows=max_rows, max_cells=max_cells,
                                                       cells_so_far=cells, formulas=found)
                cells += n
                if formula:
                    scan.formula_members.add(name)
                    if name in title_of:
                        scan.formulas[title_of[name]] = found
            else:
                out.writestr(info, src.read(name))
    scan.data = out_buf.getvalue()
    return scan


def _titles_by_member(z: zipfile.ZipFile, names: list[str], sheets: list[tuple[str, str]]) -> dict[str, str]:
    """Worksheet part ('xl/worksheets/sheet1.xml') -> its sheet title, from xl/_rels/workbook.xml.rels."""
    if "xl/_rels/workbook.xml.rels" not in names:
        return {}
    target_of = {}
    for tag in _REL.findall(z.read("xl/_rels/workbook.xml.rels")):
        rid = re.search(rb'\sId="([^"]*)"', tag)
        target = re.search(rb'\sTarget="([^"]*)"', tag)
        if rid and target:
            t = unescape(target.group(1).decode("utf-8", "replace"))
            member = t.lstrip("/") if t.startswith("/") else "xl/" + t
            target_of[rid.group(1).decode()] = re.sub(r"[^/]+/\.\./", "", member)
    return {target_of[rid]: title for title, rid in sheets if rid in target_of}


def uncached_formula_cells(data: bytes, titles: set[str]) -> dict[str, dict[tuple[int, int], str]]:
    """Sheet title -> {(row, column): '=formula'} of the formula cells of the sheets `titles` that hold no cached
    value (no <v>; every formula cell when the workbook recalculates on load, whose saved values are not results):
    a workbook written by a program that does not compute formulas, which every reader of cached values
    (openpyxl's data_only, calamine, pandas) sees as blank cells or 0. Only parts that hold a formula are parsed
    cell by cell."""
    z = zipfile.ZipFile(io.BytesIO(data))
    names = z.namelist()
    workbook_xml = z.read("xl/workbook.xml") if "xl/workbook.xml" in names else b""
    title_of = _titles_by_member(z, names, sheet_names(workbook_xml))
    stale = recalculates_on_load(workbook_xml)  # then no formula's saved value is its result
    found: dict[str, dict[tuple[int, int], str]] = {}
    for member, title in title_of.items():
        if title not in titles or member not in names:
            continue
        part = z.read(member)
        if not _FORMULA.search(part):
            continue
        cells: dict[tuple[int, int], str] = {}
        _formula_cells(part, cells, uncached_only=not stale)
        if cells:
            found[title] = cells
    return found


class StrictOOXML(Exception):
    """The workbook is saved as Strict Open XML, which openpyxl cannot read."""

    message = ("the workbook is saved as Strict Open XML Spreadsheet, which the planner cannot read; in Excel use "
               "File > Save As > Excel Workbook (.xlsx)")
