"""Scenario overrides that add and remove whole rows (Scenarios `operation` add_row / remove_row).

- **add_row**: the `key` names the new row (several keys joined with `/`, as for the other operations); every
  add_row row of the same scenario with the same sheet and key fills one cell of it: `column` (a column name; on
  wide sheets a quarter or a quarter range) = `value`; one row with a blank column and value adds the key alone. A sheet the workbook lacks is created (with the schema's
  columns). A row whose key already exists is an error: change it with set, or remove it first.
- **remove_row**: every row matching `key` is dropped (`*` parts match every value, as for the other operations:
  `Routes` `L2/*` drops every route of L2); `column` is blank or `*`.

The rows are then validated like any input: a value out of range, a missing required cell or an unknown key in
an added row is reported at the Scenarios cell that wrote it (or the row's key cell), and removing a row other
rows still name (a product with Routes rows) is reported where those rows are, unless the scenario removes them
too. Every problem with the operation itself is located at its Scenarios cell.
"""

from __future__ import annotations

from planner.input.convert import CellError, to_key, to_text
from planner.input.reader import RawRow, RawSheet, RawWorkbook, normalise_header
from planner.input.schema import SETTING_BY_KEY, SHEET_BY_NAME, SheetSpec
from planner.issues import Issues
from planner.quarters import parse_quarter, quarter_index, quarter_label
from planner.whatif.overrides import (NOT_TARGETS, Override, _key_splits, _known, _row_keys, _target_rows,
                                      _target_sheet)


def _error(ov: Override, field: str, value: object, message: str, issues: Issues) -> None:
    issues.error(sheet=ov.source, cell=ov.cell(field), column=field, value=value, message=message)


def _sheet_for_new_row(raw: RawWorkbook, ov: Override, issues: Issues) -> tuple[SheetSpec, RawSheet] | None:
    """The sheet a row is added to; a sheet the workbook lacks is created with the schema's columns."""
    text = to_text(ov.sheet)
    by_lower = {n.lower(): n for n in SHEET_BY_NAME if n not in NOT_TARGETS}
    name = by_lower.get((text or "").lower().replace(" ", ""))
    if name is None or name in raw.sheets:
        return _target_sheet(raw, ov, issues)  # reports a blank or unknown sheet
    spec = SHEET_BY_NAME[name]
    names = list(spec.keys) + ([c.name for c in spec.columns if c.name not in spec.keys] if spec.kind != "wide" else [])
    sheet = RawSheet(name, 1, {}, {})
    for column in names:
        _add_column(sheet, column)
    raw.sheets[name] = sheet
    return spec, sheet


def _add_column(sheet: RawSheet, column: str) -> None:
    if column in sheet.columns:
        return
    n = len(sheet.columns) + 1
    letter = ""
    while n:
        n, r = divmod(n - 1, 26)
        letter = chr(65 + r) + letter
    sheet.columns[column] = letter
    sheet.headers[column] = column


def _new_keys(raw: RawWorkbook, spec: SheetSpec, ov: Override, issues: Issues) -> tuple[str, ...] | None:
    """The key values of the new row, from the override's key (parts joined with /)."""
    try:
        text = to_key(ov.key) if isinstance(ov.key, (int, float)) and not isinstance(ov.key, bool) else \
            to_text(ov.key)
    except CellError as exc:
        _error(ov, "key", ov.key, str(exc), issues)
        return None
    if text is None or "*" in text:
        _error(ov, "key", text, "add_row needs the new row's key (no *); several keys are joined with /", issues)
        return None
    if spec.kind == "settings":
        return (text.strip().lower().replace(" ", "_"),)
    splits = [tuple(p) for p in _key_splits(text, len(spec.keys)) if all(p)] if len(spec.keys) > 1 else \
        [(text.strip(),)]
    if not splits:
        example = "/".join(f"<{k}>" for k in spec.keys)
        _error(ov, "key", text, f"rows of {spec.name} have {len(spec.keys)} keys ({', '.join(spec.keys)}); "
               f"write them joined with /, e.g. {example}", issues)
        return None
    if len(splits) == 1:
        return splits[0]
    return _known_split(raw, spec, ov, text, splits, issues)


def _known_split(raw: RawWorkbook, spec: SheetSpec, ov: Override, text: str, splits: list[tuple[str, ...]],
                 issues: Issues) -> tuple[str, ...] | None:
    """The reading of a key whose names hold '/' ('Dallas/Fort-Worth/L1' on a site/product sheet) in which the
    most parts are names the workbook already uses in the same key columns; an error when two readings tie."""
    used = {k: {str(row.values.get(k)).strip() for sheet in raw.sheets.values() if k in sheet.columns
                for row in sheet.rows if row.values.get(k) is not None} for k in spec.keys}
    score = {parts: sum(p in used[k] for p, k in zip(parts, spec.keys)) for parts in splits}
    best = max(score.values())
    winners = [parts for parts, n in score.items() if n == best]
    if len(winners) == 1:
        return winners[0]
    readings = "; ".join(" + ".join(parts) for parts in winners)
    _error(ov, "key", text, f"the key reads several ways as {', '.join(spec.keys)} ({readings}): a name holds '/'; "
           "add the names it uses to their own sheets first, or rename them without '/'", issues)
    return None


def _existing(spec: SheetSpec, sheet: RawSheet, keys: tuple[str, ...]) -> RawRow | None:
    for row in sheet.rows:
        if spec.kind == "settings":
            name = (to_text(row.values.get("key")) or "").strip().lower().replace(" ", "_")
            if (name,) == keys:
                return row
        elif _row_keys(spec, sheet, row) == keys:
            return row
    return None


def _new_columns(spec: SheetSpec, sheet: RawSheet, ov: Override, issues: Issues) -> list[str] | None:
    """The columns one add_row override fills: a column name, or on wide sheets a quarter or a quarter range."""
    text = to_text(ov.column)
    if text is None:
        _error(ov, "column", None, "the column is blank; name the column of the new row this value goes to", issues)
        return None
    if spec.kind == "settings":
        if text == "*" or normalise_header(text) == "value":
            return ["value"]
        _error(ov, "column", text, "a new Settings row has one column: write value", issues)
        return None
    if spec.kind == "wide":
        return _new_quarters(spec, sheet, ov, text, issues)
    name = normalise_header(text)
    if name in spec.keys:
        _error(ov, "column", text, f"'{name}' is a key column of {spec.name}: the add_row key sets it", issues)
        return None
    if name not in spec.column_names:
        columns = [c.name for c in spec.columns if c.name not in spec.keys]
        _error(ov, "column", text, f"unknown column '{text}' of {spec.name} (columns: {_known(columns)})", issues)
        return None
    _add_column(sheet, name)
    return [name]


def _new_quarters(spec: SheetSpec, sheet: RawSheet, ov: Override, text: str, issues: Issues) -> list[str] | None:
    lo_text, _sep, hi_text = text.replace("..", ":").partition(":")
    lo, hi = parse_quarter(lo_text.strip()), parse_quarter((hi_text or lo_text).strip())
    if lo is None or hi is None or quarter_index(lo) > quarter_index(hi):
        _error(ov, "column", text, f"{spec.name} holds one column per quarter; write a quarter (2026Q3) or a range "
               "(2026Q3:2027Q4)", issues)
        return None
    quarters = [quarter_label(i) for i in range(quarter_index(lo), quarter_index(hi) + 1)]
    for q in quarters:
        if q not in sheet.columns:  # a quarter the sheet lacks: blank (its meaning) for the rows already there
            _add_column(sheet, q)
            sheet.added_columns[q] = ov.cell("column")
    return quarters


def add_row(raw: RawWorkbook, group: list[Override], issues: Issues) -> str | None:
    """Add one row from the add_row overrides of one (sheet, key); the sentence saying what was added."""
    first = group[0]
    found = _sheet_for_new_row(raw, first, issues)
    if found is None:
        return None
    spec, sheet = found
    keys = _new_keys(raw, spec, first, issues)
    if keys is None:
        return None
    label = "/".join(keys)
    clash = _existing(spec, sheet, keys)
    if clash is not None:
        _error(first, "key", label, f"{spec.name} already has a row {label} ({sheet.cell(spec.keys[0], clash.excel_row)}"
               "); change its cells with set, or remove_row it first", issues)
        return None
    key_columns = ("key",) if spec.kind == "settings" else spec.keys
    values: dict[str, object] = dict(zip(key_columns, keys))
    cells = {k: first.cell("key") for k in key_columns}
    ok = True
    for ov in group:
        if to_text(ov.column) in (None, "*") and to_text(ov.value) is None:
            continue  # the key alone (a HBMQualification pair, a ServingLinks row)
        columns = _new_columns(spec, sheet, ov, issues)
        value = ov.value if not (isinstance(ov.value, str) and not ov.value.strip()) else None
        if value is None and columns is not None:
            _error(ov, "value", None, "the value is blank; write the new row's value for this column", issues)
            columns = None
        if columns is None:
            ok = False
            continue
        twice = [c for c in columns if c in values]
        if twice:
            _error(ov, "column", to_text(ov.column), f"{spec.name} {'/'.join(keys)}: {', '.join(twice)} is already "
                   f"filled by {cells[twice[0]]}; write each cell of the new row once", issues)
            ok = False
            continue
        for column in columns:
            values[column] = value
            cells[column] = ov.cell("value")
    if not ok:
        return None
    excel_row = max([sheet.header_row] + [r.excel_row for r in sheet.rows]) + 1
    sheet.rows.append(RawRow(excel_row, values))
    sheet.placed[excel_row] = (first.cell("key"), cells)
    filled = len(values) - len(key_columns)
    return f"{first.where}: {spec.name} {label} add_row ({filled} cell{'s' if filled != 1 else ''})"


def remove_rows(raw: RawWorkbook, ov: Override, issues: Issues) -> str | None:
    """Drop every row matching the override's key; the sentence saying what was removed."""
    found = _target_sheet(raw, ov, issues)
    if found is None:
        return None
    spec, sheet = found
    column = to_text(ov.column)
    if column not in (None, "*"):
        _error(ov, "column", column, "remove_row drops whole rows: leave the column blank or write *", issues)
        return None
    if to_text(ov.value) not in (None, ""):  # a value there was meant for something: set or add_row?
        _error(ov, "value", ov.value, "remove_row drops whole rows and takes no value: leave the value blank (to "
               "change a cell, use set)", issues)
        return None
    if spec.kind == "settings" and to_text(ov.key) and to_text(ov.key).strip().lower() in SETTING_BY_KEY and \
            SETTING_BY_KEY[to_text(ov.key).strip().lower()].required:
        _error(ov, "key", ov.key, f"setting {to_text(ov.key)} is required and cannot be removed", issues)
        return None
    matched = _target_rows(spec, sheet, ov, issues)
    if matched is None:
        return None
    rows, label = matched
    gone = {id(r) for r in rows}
    sheet.rows = [r for r in sheet.rows if id(r) not in gone]
    raw.edited.setdefault(spec.name, f"{ov.cell('key')} (remove_row {label})")  # a sheet-wide error names it
    return f"{ov.where}: {spec.name} {label} remove_row ({len(rows)} row{'s' if len(rows) != 1 else ''})"
