"""THE reader of a plan workbook: what roll, freeze, diff and compare read back from a written plan.

The plan's sheets and columns are the output contract (planner/output/contract.py); this module turns a
plan file back into frames, finds the Summary's key/value rows wherever they stand, and says where a
value lies ('PLAN.xlsx Wafers!D5') so an error can name it.
"""

from __future__ import annotations

import importlib.util
import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl.utils import get_column_letter

from planner.input.guard import file_kind_problem, not_a_zip_problem, uncached_formula_cells
from planner.input.names import name_key
from planner.input.reader import ReadLimits
from planner.quarters import parse_quarter, quarter_index
from planner.output.contract import PLAN_WORKBOOK, TIDY_BY_NAME, Col, is_planned, written_by


class PlanReadError(Exception):
    """A plan workbook cannot be read; the message says which file and why."""


def _engine() -> str:
    """calamine reads plan workbooks several times faster; it is a test extra, openpyxl always works."""
    return "calamine" if importlib.util.find_spec("python_calamine") else "openpyxl"


def read_plan(path: str | Path, sheets: list[str] | tuple[str, ...] | None = None,
              required: tuple[str, ...] = (), as_written: bool = False) -> dict[str, pd.DataFrame]:
    """The named sheets of a plan workbook as frames (all sheets when `sheets` is None).

    Keys stay text: 'NA' (a region) and 'None' are never read as missing values. A sheet the file lacks is
    left out, unless it is `required`, which raises PlanReadError. `as_written`: a plan the planner wrote, whose
    contract sheets hold their contract columns (an actuals workbook holds only some)."""
    path = Path(path)
    problem = file_kind_problem(path, ReadLimits().max_file_bytes)  # a FIFO or /dev/zero is never opened
    if problem:
        raise PlanReadError(problem.replace("the file", "the plan workbook", 1) if "does not exist" in problem
                            else problem)
    try:
        data = path.read_bytes()  # read once: pandas parses it, the formula scan reads its XML
    except OSError as exc:
        raise PlanReadError(f"cannot read {path.name}: {exc.strerror or exc}") from exc
    if not zipfile.is_zipfile(io.BytesIO(data)):  # a CSV renamed .xlsx: said as validate says it
        raise PlanReadError(f"{path.name}: {not_a_zip_problem(data, path.suffix.lower())}")
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine=_engine())
    except Exception as exc:  # calamine / openpyxl raise many types on damaged files
        detail = " ".join(str(exc).split())[:200]
        raise PlanReadError(f"{path.name} is not a readable .xlsx workbook (it is damaged: {detail}); open it in "
                            "Excel and save it again, or use a good copy") from exc
    with book:
        names = book.sheet_names
        # sheet names matched like an input's: ignoring case, spaces, '_' and '-' ('chips', 'Deploy ments')
        by_norm: dict[str, str] = {}
        for n in names:
            by_norm.setdefault(name_key(n), n)
        summary_sheet = by_norm.get(name_key("Summary"))
        summary_frame = _read_sheets(book, [summary_sheet])[summary_sheet] if summary_sheet else None
        summary = summary_values({"Summary": summary_frame}) if summary_frame is not None else {}
        _refuse_hedged(path, summary)
        kind = written_by(names)
        if kind is not None and kind != PLAN_WORKBOOK:
            raise PlanReadError(f"{path.name} is {kind}, not a plan workbook: give a plan that planner run wrote")
        missing = [s for s in required if name_key(s) not in by_norm]
        if missing and summary and Col.status in summary and not is_planned(summary[Col.status]):
            held = "a diagnosis, not decisions" if name_key("Diagnosis") in by_norm else "no decisions"
            raise PlanReadError(f"{path.name} has no plan (its Summary status is '{summary[Col.status]}'): "
                                f"it holds {held}")
        if missing:
            raise PlanReadError(f"{path.name} is not a plan workbook: sheet(s) {', '.join(missing)} missing "
                                f"(it has {', '.join(names[:12])})")
        wanted = {n: n for n in names} if sheets is None else \
            {s: by_norm[name_key(s)] for s in sheets if name_key(s) in by_norm}
        read = _read_sheets(book, [n for n in wanted.values() if n != summary_sheet])  # Summary is read already
        if summary_sheet:
            read[summary_sheet] = summary_frame
        frames = {name: read[actual] for name, actual in wanted.items()}
        _refuse_uncached_formulas(path, data, set(wanted.values()) | ({summary_sheet} if summary_sheet else set()))
        if as_written:
            _check_contract_columns(path, frames, wanted)
        return frames


UNCACHED_LISTED = 12  # formula cells named in the error; the rest are counted


def _refuse_uncached_formulas(path: Path, data: bytes, titles: set[str]) -> None:
    """A formula cell with no cached value (a file written by a script, never opened in a spreadsheet program)
    reads as blank: in actuals that would silently keep the plan's value, in a previous plan freeze nothing.
    Refused, every such cell named."""
    try:
        cells = uncached_formula_cells(data, titles)
    except Exception:  # pandas has read this file already; a package it reads but this scan cannot is left be
        return
    listed = [f"{title}!{get_column_letter(c)}{r} ({formula})"
              for title, found in cells.items() for (r, c), formula in sorted(found.items())]
    if not listed:
        return
    more = f" and {len(listed) - UNCACHED_LISTED} more" if len(listed) > UNCACHED_LISTED else ""
    raise PlanReadError(f"{path.name} has {len(listed)} formula cell(s) with no computed value (none saved, or a "
                        "script's placeholder in a file that asks to be recalculated when opened), which would "
                        "read as blank or 0: "
                        f"{', '.join(listed[:UNCACHED_LISTED])}{more}; open and save the workbook in Excel (or "
                        "LibreOffice) so their values are computed, or type the values")


def _check_contract_columns(path: Path, frames: dict[str, pd.DataFrame], actual: dict[str, str]) -> None:
    """A contract sheet the planner wrote holds its columns (workbook.md); one renamed or deleted by hand is a
    located error, not a crash or a silent 0 further on."""
    problems = []
    for name, frame in frames.items():
        spec = TIDY_BY_NAME.get(_contract_name(name))
        if spec is None:
            continue
        lost = [c for c in spec.columns if c not in frame.columns]
        if lost:
            problems.append(f"{actual[name]}!1:1 lacks column(s) {', '.join(lost)}")
    if problems:
        raise PlanReadError(f"{path.name} is not a plan workbook as the planner writes it: " + "; ".join(problems)
                            + " (a header renamed or deleted?)")


def _contract_name(name: str) -> str:
    return next((n for n in TIDY_BY_NAME if name_key(n) == name_key(name)), name)


def _read_sheets(book: pd.ExcelFile, sheets: list[str]) -> dict[str, pd.DataFrame]:
    """Sheets as frames with text column names; keys stay text ('NA' is a region, not a missing value)."""
    read = pd.read_excel(book, sheet_name=sheets, keep_default_na=False, na_values=[""]) if sheets else {}
    for frame in read.values():
        frame.columns = [str(c) for c in frame.columns]
    return read


HEDGED_ENGINE_KEY = "engine"  # a Summary key only a hedged plan writes (stochastic.md), ef or ph
HEDGED_ENGINES = ("ef", "ph")


def _refuse_hedged(path: Path, summary: dict[str, object]) -> None:
    """A hedged plan (`run --stochastic`) holds one row per scenario in its tidy sheets: read as one plan, its
    decisions would add up over the scenarios. roll, diff, --previous and --freeze read one plan only."""
    if str(summary.get(HEDGED_ENGINE_KEY, "")).strip().lower() in HEDGED_ENGINES:
        raise PlanReadError(f"{path.name} is a hedged plan (planner run --stochastic, engine "
                            f"{summary.get(HEDGED_ENGINE_KEY)}): its sheets hold every scenario's recourse, so it "
                            "cannot be rolled, diffed or re-planned from; use a plan made without --stochastic")


def plan_cell(path: str | Path, frame: pd.DataFrame, position: int, column: str, sheet: str) -> str:
    """'PLAN.xlsx Wafers!D5': where row `position` (0-based, in file order) of a plan sheet's column lies."""
    col = list(frame.columns).index(column) + 1 if column in frame.columns else 1
    return f"{Path(path).name} {sheet}!{get_column_letter(col)}{position + 2}"


SUMMARY_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def summary_values(frames: dict[str, pd.DataFrame]) -> dict[str, object]:
    """The key/value rows of a Summary sheet wherever they stand: in each row, the first cell that reads as a
    key (lower-case, digits and underscores: `objective_usd`) and the cell to its right. Section titles and
    table labels (capitals, spaces) are never keys; the first occurrence of a key wins."""
    s = frames.get("Summary")
    if s is None:
        return {}
    rows = [list(s.columns)] + s.astype(object).values.tolist()
    out: dict[str, object] = {}
    for row in rows:
        for j, key in enumerate(row[:-1]):
            if isinstance(key, str) and SUMMARY_KEY.match(key.strip()):
                key = key.strip()
                if key not in out and key != Col.key:
                    value = row[j + 1]
                    out[key] = None if isinstance(value, float) and math.isnan(value) else value
                break
    return out


def numeric(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Coerce columns to floats (blank -> 0); a sheet with no rows reads as text."""
    frame = frame.copy()
    for c in columns:
        if c in frame.columns:
            frame[c] = pd.to_numeric(frame[c], errors="coerce").fillna(0.0).astype(float)
    return frame


def truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "y")
    try:
        return bool(value) and not (isinstance(value, float) and math.isnan(value))
    except (TypeError, ValueError):
        return False


# ---- what a plan decided ---------------------------------------------------------------------------------

DECISION_COLUMNS = [Col.decision, Col.key, Col.detail, Col.quarter, Col.value, Col.unit]


@dataclass
class Plan:
    path: Path
    frames: dict[str, pd.DataFrame]
    summary: dict[str, object] = field(default_factory=dict)
    quarters: list[str] = field(default_factory=list)
    shown_as: str = ""  # how messages name it when its file name alone is ambiguous (two plans both 'plan.xlsx')

    @property
    def name(self) -> str:
        return self.shown_as or self.path.name

    @property
    def status(self) -> str:
        return str(self.summary.get(Col.status, "unknown"))


def load_plan(path: str | Path) -> Plan:
    frames = read_plan(path, required=("Summary",), as_written=True)
    plan = Plan(Path(path), frames, summary_values(frames))
    inputs = frames.get("Inputs")
    quarters: set[str] = set()
    if inputs is not None and Col.key in inputs.columns:
        echo = dict(zip(inputs[Col.key].astype(str), inputs[Col.value].astype(str)))
        h = echo.get("horizon", "")
        if ".." in h:
            a, b = (x.strip() for x in h.split(".."))
            if parse_quarter(a) and parse_quarter(b):
                quarters = {f"{i // 4}Q{i % 4 + 1}" for i in range(quarter_index(a), quarter_index(b) + 1)}
    for name in ("Wafers", "Chips", "Deployments", "Serving", "Budget"):
        frame = frames.get(name)
        if frame is not None and Col.quarter in frame.columns:
            quarters |= {str(q) for q in frame[Col.quarter] if parse_quarter(str(q)) == str(q)}
    plan.quarters = sorted(quarters, key=quarter_index)
    return plan


def decisions(plan: Plan) -> pd.DataFrame:
    """The decisions a plan made, one row per (decision, key, detail, quarter): wafers by fab, HBM stacks bought
    by vendor, racks by site and product, expansion blocks by site, deals signed, partner funding by quarter."""
    f = plan.frames
    parts = []

    def grouped(sheet, keys, column, decision, unit, detail=None):
        frame = f.get(sheet)
        cols = keys + ([detail] if detail else []) + [Col.quarter]
        if frame is None or not len(frame) or any(c not in frame.columns for c in [column, *cols]):
            return  # no plan, or a table summed up for Excel (its full table is in the file beside the plan)
        frame = numeric(frame, column)
        g = frame.groupby([frame[c].astype(str) for c in cols], sort=True)[column].sum().reset_index()
        parts.append(pd.DataFrame({Col.decision: decision, Col.key: g[keys[0]].astype(str),
                                   Col.detail: g[detail].astype(str) if detail else "", Col.quarter: g[Col.quarter],
                                   Col.value: g[column].astype(float), Col.unit: unit}))

    grouped("Wafers", [Col.fab], Col.wafers, Col.wafers, Col.wafers)
    grouped("HBM", [Col.vendor], Col.bought, "hbm", Col.stacks)
    grouped("HBM", [Col.vendor], Col.paid, "hbm paid", Col.stacks)
    grouped("Packaging", [Col.packaging_line], Col.blocks_started, "packaging blocks", "blocks")
    grouped("Deployments", [Col.site], Col.racks_deployed, "racks", "racks", detail=Col.product)
    grouped("Power", [Col.site], Col.blocks_started, "blocks", "blocks")
    partners = f.get("Partners")
    if partners is not None and len(partners) and Col.partner in partners.columns:
        names = partners[Col.partner].astype(str).tolist()
        parts.append(pd.DataFrame({Col.decision: "deal signed", Col.key: names, Col.detail: "", Col.quarter: "",
                                   Col.value: [1.0 if truthy(v) else 0.0 for v in partners[Col.signed]], Col.unit: Col.signed}))
        capex = f.get("Capex")
        if capex is not None and len(capex):
            for n in names:
                if n in capex.columns:
                    c = numeric(capex, n)
                    g = c.groupby(c[Col.quarter].astype(str))[n].sum()
                    parts.append(pd.DataFrame({Col.decision: "partner funding", Col.key: n, Col.detail: "",
                                               Col.quarter: g.index.astype(str), Col.value: g.values.astype(float),
                                               Col.unit: "USD"}))
    if not parts:
        return pd.DataFrame(columns=DECISION_COLUMNS)
    return pd.concat(parts, ignore_index=True)[DECISION_COLUMNS]
