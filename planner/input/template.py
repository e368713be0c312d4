"""A blank input workbook generated from the schema: README, header comments, dropdowns, number ranges."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from planner.quarters import horizon, horizon_problem, parse_quarter
from planner.output.xlsx import safe_save
from planner.input.schema import SETTINGS, SHEETS, ColumnSpec, SheetSpec

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REQUIRED_FONT = Font(bold=True)
VALIDATED_ROWS = 10000


SETTINGS_HEADER_NOTES = ("The setting's name, one row each (required: plan_name, start_quarter, quarters; the others "
                         "have the default shown)",
                         "Its value: a number, TRUE/FALSE or text as the description says",
                         "What the setting means (for the reader; the planner ignores this column)")


def _comment(col: ColumnSpec) -> Comment:
    parts = [col.description or col.name]
    if col.unit:
        parts.append(f"Unit: {col.unit}")
    parts.append("Required" if col.required else f"Optional (default {col.default})" if col.default is not None
                 else "Optional")
    if col.range_text():
        parts.append(f"Allowed: {col.range_text()}")
    if col.references:
        parts.append(f"Must be a {col.references[1]} of sheet {col.references[0]}")
    return Comment("\n".join(parts), "planner", width=260, height=110)


def _key_column_letter(spec: SheetSpec, name: str) -> str:
    return get_column_letter(spec.column_names.index(name) + 1)


def _add_validations(ws, spec: SheetSpec, columns: list[ColumnSpec]) -> None:
    by_name = {s.name: s for s in SHEETS}
    for j, col in enumerate(columns, start=1):
        letter = get_column_letter(j)
        area = f"{letter}2:{letter}{VALIDATED_ROWS}"
        if col.references and col.references[0] in by_name and col.references[1] in by_name[col.references[0]].column_names:
            ref_sheet = by_name[col.references[0]]
            ref_letter = _key_column_letter(ref_sheet, col.references[1])
            dv = DataValidation(type="list", formula1=f"={ref_sheet.name}!${ref_letter}$2:${ref_letter}${VALIDATED_ROWS}",
                                allow_blank=True, showErrorMessage=True,
                                error=f"Pick a {col.references[1]} from sheet {ref_sheet.name}")
        elif col.dtype in ("float", "int") and col.minimum is not None and (col.min_exclusive or col.max_exclusive):
            # Excel's between / greaterThan bounds are inclusive or one-sided: an open end needs a formula
            dv = DataValidation(type="custom", formula1=_range_formula(f"{letter}2", col), allow_blank=True,
                                showErrorMessage=True, error=f"{col.name}: {col.range_text()}")
        elif col.dtype in ("float", "int") and col.minimum is not None:
            kind = "whole" if col.dtype == "int" else "decimal"
            if col.maximum is not None:
                dv = DataValidation(type=kind, operator="between", formula1=str(col.minimum), formula2=str(col.maximum),
                                    allow_blank=True, showErrorMessage=True, error=f"{col.name}: {col.range_text()}")
            else:
                dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=str(col.minimum),
                                    allow_blank=True, showErrorMessage=True, error=f"{col.name}: {col.range_text()}")
        elif col.dtype == "bool":
            dv = DataValidation(type="list", formula1='"TRUE,FALSE"', allow_blank=True)
        else:
            continue
        ws.add_data_validation(dv)
        dv.add(area)


def _range_formula(cell: str, col: ColumnSpec) -> str:
    """An Excel validation formula for `cell` (relative: it moves down the column) holding col's range."""
    tests = [f"ISNUMBER({cell})", f"{cell}{'>' if col.min_exclusive else '>='}{col.minimum:g}"]
    if col.maximum is not None:
        tests.append(f"{cell}{'<' if col.max_exclusive else '<='}{col.maximum:g}")
    if col.dtype == "int":
        tests.append(f"{cell}=INT({cell})")
    return f"AND({','.join(tests)})"


class TemplateError(ValueError):
    """The template cannot be written as asked; the message says why."""


def _quarter_bounds() -> tuple[int, int]:
    from planner.input.schema import SETTING_BY_KEY

    st = SETTING_BY_KEY["quarters"]
    return int(st.minimum), int(st.maximum)


MIN_QUARTERS, MAX_QUARTERS = _quarter_bounds()


def build_template(start: str = "2026Q1", quarters: int = 12) -> Workbook:
    start_q = parse_quarter(start)
    if start_q is None:
        raise TemplateError(f"--start must be a quarter like 2026Q1 (a four-digit year, quarter 1 to 4), "
                            f"not {start!r}")
    if not isinstance(quarters, int) or not MIN_QUARTERS <= quarters <= MAX_QUARTERS:
        raise TemplateError(f"--quarters must be a whole number from {MIN_QUARTERS} to {MAX_QUARTERS} "
                            f"(Settings.quarters), not {quarters}")
    problem = horizon_problem(start_q, quarters)
    if problem:
        raise TemplateError(problem)
    labels = horizon(start_q, quarters)
    wb = Workbook()
    readme = wb.active
    readme.title = "README"
    readme.append(["sheet", "required", "columns", "what it holds"])
    for c in readme[1]:
        c.font = REQUIRED_FONT
    for spec in SHEETS:
        cols = ", ".join(c.name + ("*" if c.required else "") for c in spec.columns)
        if spec.kind == "wide":
            cols += ", then one column per quarter (YYYYQn): " + (spec.value.description if spec.value else "")
            cols += f"; blank = {spec.blank_means}"
        readme.append([spec.name, "yes" if spec.required else "optional", cols, spec.description])
    readme.append([])
    readme.append(["Columns marked * are required. Keys are text; numbers are plain numbers (no 1,000 or 12%)."])
    readme.column_dimensions["A"].width = 20
    readme.column_dimensions["C"].width = 110
    readme.column_dimensions["D"].width = 70

    for spec in SHEETS:
        ws = wb.create_sheet(spec.name)
        if spec.kind == "settings":
            ws.append(["key", "value", "description"])
            for st in SETTINGS:
                value = {"start_quarter": start_q, "quarters": quarters, "plan_name": "New plan"}.get(st.key, st.default)
                ws.append([st.key, value, st.description])
            for c, words in zip(ws[1], SETTINGS_HEADER_NOTES):
                c.font, c.fill = REQUIRED_FONT, HEADER_FILL
                c.comment = Comment(words, "planner", width=260, height=80)
            ws.freeze_panes = "A2"
            ws.column_dimensions["A"].width = 24
            ws.column_dimensions["B"].width = 16
            ws.column_dimensions["C"].width = 80
            continue
        columns = list(spec.columns)
        headers = [c.name for c in columns] + (labels if spec.kind == "wide" else [])
        ws.append(headers)
        for j, col in enumerate(columns, start=1):
            cell = ws.cell(1, j)
            cell.comment = _comment(col)
            cell.font = REQUIRED_FONT if col.required else Font(italic=True)
            cell.fill = HEADER_FILL
        if spec.kind == "wide" and spec.value is not None:
            quarter_cols = [spec.value] * len(labels)
            for j in range(len(columns) + 1, len(headers) + 1):
                cell = ws.cell(1, j)
                cell.comment = _comment(spec.value)
                cell.fill = HEADER_FILL
            _add_validations(ws, spec, columns + quarter_cols)
        else:
            _add_validations(ws, spec, columns)
        if spec.name == "Budget":
            ws.append(["own_capex_usd"])
        ws.freeze_panes = ws.cell(2, len(spec.keys) + 1 if spec.kind == "wide" else 1)
        for j, h in enumerate(headers, start=1):
            ws.column_dimensions[get_column_letter(j)].width = max(12, len(str(h)) + 4)
    return wb


def write_template(path: Path, start: str = "2026Q1", quarters: int = 12, force: bool = False) -> tuple[Path, str]:
    """Write a blank input workbook. An existing file (an input workbook, perhaps) is refused unless `force`."""
    path = Path(path)
    if path.exists() and not force:
        raise TemplateError(f"{path} already exists; the template never overwrites a file (it may be an input "
                            "workbook). Choose another name, or pass --force to replace it")
    if path.is_dir():
        raise TemplateError(f"{path} is a folder; give the template's file name")
    return safe_save(build_template(start, quarters), path, replace=force)
