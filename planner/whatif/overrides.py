"""One override of an input cell (a Scenarios row, or a sampled factor of the Uncertainty sheet): which sheet,
rows and columns it resolves to in the raw workbook, and set / scale / add applied to those cells. Every problem is
an issue located at the override's own cell."""

from __future__ import annotations

import math
from itertools import combinations
from dataclasses import dataclass, field

from planner.input.convert import CellError, to_key, to_number, to_text
from planner.issues import Issues
from planner.quarters import parse_quarter, quarter_index
from planner.input.schema import SETTING_BY_KEY, SHEET_BY_NAME, SheetSpec
from planner.input.reader import RawRow, RawSheet, RawWorkbook, normalise_header


OPERATIONS = ("set", "scale", "add")
ROW_OPERATIONS = ("add_row", "remove_row")
NOT_TARGETS = frozenset({"Scenarios", "Uncertainty"})  # sheets an override cannot change


@dataclass
class Override:
    """One override as written, with the cell of each of its fields (for messages)."""

    sheet: object
    key: object
    column: object
    operation: object
    value: object
    cells: dict[str, str] = field(default_factory=dict)  # field name -> "Scenarios!B3"
    where: str = ""  # the override's own cell, e.g. "Scenarios!A3"
    source: str = "Scenarios"  # the sheet the override comes from (issues are reported there)

    def cell(self, name: str) -> str:
        return self.cells.get(name, self.where)


@dataclass
class Target:
    """What an override resolved to: the sheet, the rows and the columns it changes."""

    spec: SheetSpec
    sheet: RawSheet
    rows: list[RawRow]
    columns: list[str]
    key_text: str
    column_text: str


def _known(values, limit: int = 15) -> str:
    values = [str(v) for v in values]
    shown = ", ".join(values[:limit]) + (f" ... ({len(values)} in all)" if len(values) > limit else "")
    return shown or "none"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _tidy(x: float) -> float:
    """Round away binary noise (3 x 0.7 = 2.0999999999999996 -> 2.1) so whole numbers stay whole."""
    return float(f"{x:.15g}")


def _target_sheet(raw: RawWorkbook, ov: Override, issues: Issues) -> tuple[SheetSpec, RawSheet] | None:
    text = to_text(ov.sheet)
    cell = ov.cell("sheet")
    if text is None:
        issues.error(sheet=ov.source, cell=cell, column="sheet", value=None,
                     message="the sheet is blank; name the input sheet to override, e.g. HBMSupply")
        return None
    by_lower = {n.lower(): n for n in SHEET_BY_NAME if n not in NOT_TARGETS}
    name = by_lower.get(text.lower().replace(" ", ""))
    if name is None:
        issues.error(sheet=ov.source, cell=cell, column="sheet", value=text,
                     message=f"unknown sheet '{text}' (sheets that can be overridden: {_known(by_lower.values(), 40)})")
        return None
    sheet = raw.sheets.get(name)
    if sheet is None:
        issues.error(sheet=ov.source, cell=cell, column="sheet", value=text,
                     message=f"sheet {name} is not in this workbook; an override changes existing cells only "
                             "(add the sheet with the rows to override)")
        return None
    return SHEET_BY_NAME[name], sheet


def _row_keys(spec: SheetSpec, sheet: RawSheet, row: RawRow) -> tuple[str | None, ...]:
    out = []
    for k in spec.keys:
        try:
            out.append(to_key(row.values.get(k)))
        except CellError:
            out.append(None)
    return tuple(out)


def _target_rows(spec: SheetSpec, sheet: RawSheet, ov: Override, issues: Issues) -> tuple[list[RawRow], str] | None:
    cell = ov.cell("key")
    raw_key = ov.key
    try:
        text = to_key(raw_key) if isinstance(raw_key, (int, float)) and not isinstance(raw_key, bool) \
            else to_text(raw_key)
    except CellError as exc:
        issues.error(sheet=ov.source, cell=cell, column="key", value=raw_key, message=str(exc))
        return None
    if text is None:
        issues.error(sheet=ov.source, cell=cell, column="key", value=None,
                     message="the key is blank; write the row key, or * for every row")
        return None
    if spec.kind == "settings":
        if text == "*":
            issues.error(sheet=ov.source, cell=cell, column="key", value=text,
                         message="Settings overrides name one setting; * is not allowed there")
            return None
        want = text.strip().lower().replace(" ", "_")
        rows = [r for r in sheet.rows if (to_text(r.values.get("key")) or "").strip().lower().replace(" ", "_") == want]
        if not rows:
            hint = "add a row for it to the Settings sheet first" if want in SETTING_BY_KEY else \
                f"known settings: {_known(SETTING_BY_KEY)}"
            issues.error(sheet=ov.source, cell=cell, column="key", value=text,
                         message=f"setting '{text}' is not in the Settings sheet ({hint})")
            return None
        return rows, want
    missing = [k for k in spec.keys if k not in sheet.columns]
    if missing:
        issues.error(sheet=ov.source, cell=cell, column="key", value=text,
                     message=f"sheet {spec.name} has no key column {', '.join(missing)}; its rows cannot be matched")
        return None
    if text == "*":
        splits = [["*"] * len(spec.keys)]
    elif len(spec.keys) == 1:
        splits = [[text]]
    else:
        splits = _key_splits(text, len(spec.keys))
        if not splits:
            example = "/".join(f"<{k}>" for k in spec.keys)
            issues.error(sheet=ov.source, cell=cell, column="key", value=text,
                         message=f"rows of {spec.name} have {len(spec.keys)} keys ({', '.join(spec.keys)}); "
                                 f"write them joined with /, e.g. {example}, or * for every row")
            return None
    rows = []
    for row in sheet.rows:
        keys = _row_keys(spec, sheet, row)
        if any(all(p == "*" or p == k for p, k in zip(parts, keys)) for parts in splits):
            rows.append(row)
    if not rows:
        known = sorted({"/".join(str(k) for k in _row_keys(spec, sheet, r)) for r in sheet.rows})
        issues.error(sheet=ov.source, cell=cell, column="key", value=text,
                     message=f"no row of {spec.name} has key '{text}' (keys there: {_known(known)})")
        return None
    label = "all rows" if text == "*" else text
    return rows, label


def _key_splits(text: str, n_keys: int) -> list[list[str]]:
    """Every way to read `text` as n_keys keys joined with '/': one way unless a key itself holds a '/'
    ('Dallas/Fort-Worth/2027Q1' on a two-key sheet is tried as both Dallas + Fort-Worth/2027Q1 and
    Dallas/Fort-Worth + 2027Q1)."""
    pieces = text.split("/")
    if len(pieces) < n_keys:
        return []
    return [["/".join(pieces[a:b]).strip() for a, b in zip((0, *cuts), (*cuts, len(pieces)))]
            for cuts in combinations(range(1, len(pieces)), n_keys - 1)]


def _quarter_columns(sheet: RawSheet) -> list[str]:
    return sorted((c for c in sheet.columns if parse_quarter(c) == c), key=quarter_index)


def _target_columns(spec: SheetSpec, sheet: RawSheet, ov: Override, issues: Issues) -> tuple[list[str], str] | None:
    cell = ov.cell("column")
    text = to_text(ov.column)
    if text is None:
        issues.error(sheet=ov.source, cell=cell, column="column", value=None,
                     message="the column is blank; write a column name, a quarter (2026Q3), a range "
                             "(2026Q3:2027Q4) or *")
        return None
    quarters = _quarter_columns(sheet)
    if spec.kind == "settings":
        if text == "*" or normalise_header(text) == "value":
            return ["value"], "value"
        issues.error(sheet=ov.source, cell=cell, column="column", value=text,
                     message="Settings overrides change the column 'value' (write value or *)")
        return None
    separator = ":" if ":" in text else ".." if ".." in text else None
    if separator:
        lo_text, hi_text = (p.strip() for p in text.split(separator, 1))
        lo, hi = parse_quarter(lo_text), parse_quarter(hi_text)
        if lo is None or hi is None:
            issues.error(sheet=ov.source, cell=cell, column="column", value=text,
                         message="a quarter range is written FIRST:LAST with quarters like 2026Q3, e.g. 2026Q3:2027Q4")
            return None
        if quarter_index(lo) > quarter_index(hi):
            issues.error(sheet=ov.source, cell=cell, column="column", value=text,
                         message=f"the quarter range {lo}:{hi} ends before it starts")
            return None
        if spec.kind != "wide":
            issues.error(sheet=ov.source, cell=cell, column="column", value=text,
                         message=f"{spec.name} has no quarter columns; name one of its columns "
                                 f"({_known(_value_columns(spec, sheet))})")
            return None
        chosen = [q for q in quarters if quarter_index(lo) <= quarter_index(q) <= quarter_index(hi)]
        if not chosen:
            issues.error(sheet=ov.source, cell=cell, column="column", value=text,
                         message=f"no quarter column of {spec.name} lies in {lo}:{hi} "
                                 f"(its quarters: {_span(quarters)})")
            return None
        return chosen, f"{lo}..{hi}"
    if text == "*":
        chosen = quarters if spec.kind == "wide" else _value_columns(spec, sheet)
        if not chosen:
            issues.error(sheet=ov.source, cell=cell, column="column", value=text,
                         message=f"{spec.name} has no column an override can change")
            return None
        return chosen, "all quarters" if spec.kind == "wide" else "all columns"
    name = normalise_header(text)
    if spec.kind == "wide":
        if parse_quarter(name) != name:
            issues.error(sheet=ov.source, cell=cell, column="column", value=text,
                         message=f"{spec.name} holds one column per quarter; write a quarter (2026Q3), a range "
                                 "(2026Q3:2027Q4) or *")
            return None
        if name not in sheet.columns:
            issues.error(sheet=ov.source, cell=cell, column="column", value=text,
                         message=f"quarter {name} is not a column of {spec.name} (its quarters: {_span(quarters)})")
            return None
        return [name], name
    if name in spec.keys:
        issues.error(sheet=ov.source, cell=cell, column="column", value=text,
                     message=f"'{name}' is a key column of {spec.name}; keys cannot be overridden")
        return None
    if name not in spec.column_names:
        issues.error(sheet=ov.source, cell=cell, column="column", value=text,
                     message=f"unknown column '{text}' of {spec.name} (columns: {_known(_value_columns(spec, None))})")
        return None
    if name not in sheet.columns:
        issues.error(sheet=ov.source, cell=cell, column="column", value=text,
                     message=f"column {name} is not in sheet {spec.name} of this workbook; add the column (blank "
                             "cells are fine) so the override has cells to change")
        return None
    return [name], name


def _value_columns(spec: SheetSpec, sheet: RawSheet | None) -> list[str]:
    names = [c.name for c in spec.columns if c.name not in spec.keys]
    return [n for n in names if sheet is None or n in sheet.columns]


def _span(quarters: list[str]) -> str:
    return f"{quarters[0]}..{quarters[-1]}" if quarters else "none"


def resolve(raw: RawWorkbook, ov: Override, issues: Issues) -> Target | None:
    """Which cells an override changes; None (with errors at the override's cells) when it matches nothing."""
    found = _target_sheet(raw, ov, issues)
    if found is None:
        return None
    spec, sheet = found
    rows = _target_rows(spec, sheet, ov, issues)
    columns = _target_columns(spec, sheet, ov, issues)
    if rows is None or columns is None:
        return None
    return Target(spec, sheet, rows[0], columns[0], rows[1], columns[1])


def _operation(ov: Override, issues: Issues) -> tuple[str, object] | None:
    op = to_text(ov.operation)
    op = op.lower() if op else op
    ok = True
    if op not in OPERATIONS:
        issues.error(sheet=ov.source, cell=ov.cell("operation"), column="operation", value=ov.operation,
                     message=f"unknown operation {ov.operation!r}; write set, scale, add, add_row or remove_row")
        ok = False
    value = ov.value
    if isinstance(value, str) and not value.strip():
        value = None
    if value is None:
        issues.error(sheet=ov.source, cell=ov.cell("value"), column="value", value=None,
                     message="the value is blank; write the new value (set), the factor (scale) or the amount (add)")
        return None
    if op in ("scale", "add"):
        try:
            value = to_number(value)
        except CellError as exc:
            issues.error(sheet=ov.source, cell=ov.cell("value"), column="value", value=ov.value,
                         message=f"{op} needs a number: {exc}")
            return None
    return (op, value) if ok else None


def _blank_base(spec: SheetSpec, column: str, key: str) -> float | None:
    """What a blank target cell means as a number (None: it falls back to another input, so it is left alone)."""
    if spec.kind == "wide":
        return 0.0 if spec.blank_means == "0" else None
    if spec.kind == "settings":
        default = SETTING_BY_KEY[key].default if key in SETTING_BY_KEY else None
    else:
        default = spec.column(column).default
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        return float(default)
    return None


def _operation_name(ov: Override) -> str:
    op = to_text(ov.operation)
    return op.strip().lower() if op else ""


def _apply_cell_override(raw: RawWorkbook, ov: Override, issues: Issues) -> str | None:
    """set / scale / add on the cells an override resolves to; the sentence saying what changed."""
    target = resolve(raw, ov, issues)
    operation = _operation(ov, issues)
    if target is None or operation is None:
        return None
    op, value = operation
    changed = blank = 0
    bad: list[str] = []
    text_only = True  # every bad cell holds text: the column is what is wrong, not the factor
    for row in target.rows:
        for column in target.columns:
            ref = target.sheet.cell(column, row.excel_row)
            if op == "set":
                row.values[column] = value
                raw.edited[ref] = f"{ov.cell('value')} (set {_fmt(value)})"
                changed += 1
                continue
            current = row.values.get(column)
            try:
                x = to_number(current)
            except CellError as exc:
                bad.append(f"{ref} ({exc})")
                continue
            if x is None:
                x = _blank_base(target.spec, column, target.key_text)
                if x is None:
                    blank += 1
                    continue
            new = x * value if op == "scale" else x + value
            if not math.isfinite(new):
                bad.append(f"{ref} (the result is not a finite number)")
                text_only = False
                continue
            row.values[column] = _tidy(new)
            raw.edited[ref] = f"{ov.cell('value')} ({op} {_fmt(value)})"
            changed += 1
    if bad and text_only:
        issues.error(sheet=ov.source, cell=ov.cell("column"), column="column", value=ov.column,
                     message=f"cannot {op} {len(bad)} cell(s) that hold text, not numbers: {_known(bad, 5)}")
        return None
    if bad:
        issues.error(sheet=ov.source, cell=ov.cell("value"), column="value", value=ov.value,
                     message=f"cannot {op} {len(bad)} cell(s): {_known(bad, 5)}")
        return None
    note = f"{changed} cell{'s' if changed != 1 else ''}"
    if blank:
        note += f"; {blank} blank cell{'s' if blank != 1 else ''} left blank ({target.spec.blank_means})"
        if not changed:
            issues.warning(sheet=ov.source, cell=ov.where, column="", value=None,
                           message=f"every cell this override matches is blank (blank = "
                                   f"{target.spec.blank_means}); nothing changed")
    return (f"{ov.where}: {target.spec.name} {target.key_text} {target.column_text} {op} {_fmt(value)} "
            f"({note})")
