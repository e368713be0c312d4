"""Typed rows from raw sheets: the generic part of validation that every sheet check builds on.

A value that cannot be used is reported where it is (sheet, cell, column) and its row is marked, so the later
checks see every row whose keys are valid and report nothing twice.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import pandas as pd

from planner.input.convert import CellError, convert
from planner.input.names import likely_column, name_key, nearest_name
from planner.input.reader import RawRow, RawSheet, RawWorkbook
from planner.input.schema import SHEET_BY_NAME, ColumnSpec, SheetSpec
from planner.issues import Issues
from planner.quarters import looks_like_quarter, parse_quarter, quarter_spans

MAX_MAGNITUDE = 1e12  # above this a number overflows the scaled model (costs x quantities x discounting)
MIN_MAGNITUDE = 1e-9  # a non-zero number below this is lost in the solver's tolerances


@dataclass
class Row:
    values: dict[str, object]
    excel_row: int
    cells: dict[str, str]  # column -> "Sheet!C3"
    ok: bool = True  # False when a non-key value is bad: the key still counts as known (no cascading errors)


# one row of a wide (quarter-column) sheet: its keys, {t: value, None where blank}, and the row itself
WideRow = tuple[tuple, dict[int, "float | None"], Row]


@dataclass
class ValidationContext:
    """What the sheet checks share: the workbook, the issues found so far, the plan horizon, and what the checks
    have recorded for later ones (the cell of every value, the keys of every row)."""
    raw: RawWorkbook
    issues: Issues
    quarters: list[str]  # the horizon's labels; empty when Settings do not define one
    cells: dict[tuple, str] = field(default_factory=dict)  # (sheet, keys, column) -> "Sheet!C3"
    present: dict[str, set[tuple]] = field(default_factory=dict)  # sheet -> keys of its rows with valid keys
    # sheet -> keys of its rows dropped for an unknown reference (reported there): the row exists, so no later
    # check says it is missing
    dropped: dict[str, set[tuple]] = field(default_factory=dict)


def sane_range_problem(column: str, x: float) -> str | None:
    """Every number of the workbook lies where the scaled model stays sane: |x| <= 1e12 and, when not 0,
    |x| >= 1e-9. None when `x` is fine."""
    if abs(x) > MAX_MAGNITUDE:
        return (f"{column} = {x:g} is too large to plan with (at most {MAX_MAGNITUDE:g}); check the unit and the "
                "number of zeros")
    if x != 0 and abs(x) < MIN_MAGNITUDE:
        return (f"{column} = {x:g} is too small to plan with (0, or at least {MIN_MAGNITUDE:g}); check the unit")
    return None


def known_text(keys) -> str:
    """The known keys for a message: sorted, at most 15 shown, 'none' when there are none."""
    keys = sorted(str(k) for k in keys if k is not None)
    shown = ", ".join(keys[:15]) + (f" ... ({len(keys)} in all)" if len(keys) > 15 else "")
    return shown or "none"


def sheet_with_columns(raw: RawWorkbook, issues: Issues, name: str) -> RawSheet | None:
    """The sheet `name` (None when absent), reporting a missing required sheet and missing required columns."""
    spec = SHEET_BY_NAME[name]
    sheet = raw.sheets.get(name)
    if sheet is None and spec.required:
        issues.error(name, "", "", None, f"required sheet '{name}' is missing ({spec.description})")
    if sheet is None:
        return None
    align_headers(spec, sheet)
    for col in spec.columns:
        if col.required and col.name not in sheet.columns:
            issues.error(name, f"{sheet.title}!{sheet.header_row}:{sheet.header_row}", col.name, None,
                         f"required column '{col.name}' is missing from the header row "
                         f"(found: {known_text(sheet.columns)})")
    return sheet


def align_headers(spec: SheetSpec, sheet: RawSheet) -> None:
    """A header that is one of the sheet's columns but for case and separators ('StacksPerChip' is
    stacks_per_chip) is that column, as the README promises: renamed in place (a sheet that already has the
    column keeps it, and the other header is reported as unknown)."""
    by_key = {name_key(c): c for c in spec.column_names}
    for name in [n for n in sheet.columns if n not in spec.column_names]:
        meant = by_key.get(name_key(name))
        if meant is None or meant in sheet.columns:
            continue
        sheet.columns[meant] = sheet.columns.pop(name)
        sheet.headers[meant] = sheet.headers.pop(name)
        for row in sheet.rows:
            if name in row.values:
                row.values[meant] = row.values.pop(name)
            if name in row.faulty:
                row.faulty.discard(name)
                row.faulty.add(meant)


def in_range(issues: Issues, spec: SheetSpec, col: ColumnSpec, x: float, cell: str, label: str = "") -> bool:
    """Whether `x` is sane and within the column's bounds; reports the first problem found, under the column
    `label` (a wide sheet's quarter) or the column's own name."""
    label = label or col.name
    sane = sane_range_problem(col.name, x)
    if sane:
        issues.error(spec.name, cell, label, x, sane)
        return False
    bad = False
    if col.minimum is not None and (x < col.minimum or (col.min_exclusive and x <= col.minimum)):
        bad = True
    if col.maximum is not None and (x > col.maximum or (col.max_exclusive and x >= col.maximum)):
        bad = True
    if bad:
        what = {"yield": "yield must be in (0, 1]",
                "mip_rel_gap": "mip_rel_gap is a fraction from 0 to 0.5; write 0.01 for 1%"}.get(
            col.name, f"{col.name} must be {col.range_text()}")
        if col.minimum == 0 and not col.min_exclusive and x < 0:
            what = f"{col.name} cannot be negative"
        issues.error(spec.name, cell, label, x, what)
    return not bad


def typed_value(issues: Issues, spec: SheetSpec, col: ColumnSpec, raw: object, cell: str, required: bool,
                reported: bool = False, label: str = "") -> tuple[object, bool]:
    """(typed value, ok). `reported`: the reader already named this cell's fault; say nothing more of it.
    `label`: the column as the sheet names it, when not the column's own name (a wide sheet's quarter)."""
    if reported:
        return None, False
    try:
        value = convert(col.dtype, raw)
    except CellError as exc:
        issues.error(spec.name, cell, label or col.name, raw, str(exc))
        return None, False
    if value is None:
        if required:
            issues.error(spec.name, cell, label or col.name, None, f"'{col.name}' is required and is blank")
            return None, False
        return col.default, True
    if (spec.name, col.name) in LIMIT_COLUMNS and value > MAX_MAGNITUDE:
        issues.warning(spec.name, cell, label or col.name, value, f"{col.name} = {value:g} is read as "
                       f"{MAX_MAGNITUDE:g}, no practical limit (a limit above it gains the plan nothing and would "
                       "strain the solver's numbers)")
        value = type(value)(MAX_MAGNITUDE)
    if col.dtype in ("float", "int") and not in_range(issues, spec, col, float(value), cell, label):
        return None, False
    return value, True


# limits a planner may write as 'no limit' with a huge number (1e15, 1e30): read as MAX_MAGNITUDE, which no plan
# reaches; any other number above MAX_MAGNITUDE (a demand, a price) is an error
LIMIT_COLUMNS = frozenset({("FabCapacity", "capacity"), ("HBMSupply", "supply"), ("PackagingCapacity", "capacity"),
                           ("SitePower", "mw"), ("Budget", "budget"), ("Partners", "commitment_usd"),
                           ("SiteExpansion", "max_blocks"), ("PackagingExpansion", "max_blocks")})


def _warn_unknown_columns(issues: Issues, spec: SheetSpec, sheet: RawSheet) -> None:
    """A column the sheet does not have is ignored (a warning), unless it looks like a misspelt column the sheet
    lacks ('utilisation' for utilization): then the plan would silently take that column's default, an error."""
    known = set(spec.column_names)
    absent = [c for c in spec.column_names if c not in sheet.columns]
    for name, letter in sheet.columns.items():
        if name not in known and not (spec.kind == "wide" and name[:4].isdigit()):  # quarters: checked by the caller
            cell, header = f"{sheet.title}!{letter}{sheet.header_row}", sheet.headers[name]
            meant = likely_column(header, absent)
            if meant is not None:
                issues.error(spec.name, cell, name, header, f"column '{header}' is not part of sheet {spec.name}; "
                             f"did you mean '{meant}'? (as written, its values would be ignored and every row would "
                             f"take {meant}'s default)")
            else:
                issues.warning(spec.name, cell, name, header,
                               f"column '{header}' is not part of sheet {spec.name}; ignored")


def _typed_row(issues: Issues, spec: SheetSpec, sheet: RawSheet, raw: RawRow, complete: bool) -> Row | None:
    """The row's typed values; None when a key is bad (the row cannot be identified)."""
    values: dict[str, object] = {}
    cells: dict[str, str] = {}
    ok = keys_ok = True
    for col in spec.columns:
        if col.name not in sheet.columns:
            values[col.name] = col.default
            continue
        cell = sheet.cell(col.name, raw.excel_row)
        cells[col.name] = cell
        value, good = typed_value(issues, spec, col, raw.values.get(col.name), cell, col.required,
                                  col.name in raw.faulty)
        ok &= good
        if col.name in spec.keys:
            keys_ok &= good
        values[col.name] = value
    return Row(values, raw.excel_row, cells, ok and complete) if keys_ok else None


def typed_rows(issues: Issues, spec: SheetSpec, sheet: RawSheet) -> list[Row]:
    """Every row of `sheet` with valid keys, typed, duplicates of a key reported and dropped."""
    _warn_unknown_columns(issues, spec, sheet)
    if any(k not in sheet.columns for k in spec.keys):
        return []  # the missing key column is already reported; no row can be identified
    complete = all(c.name in sheet.columns for c in spec.columns if c.required)
    rows = [row for raw in sheet.rows if (row := _typed_row(issues, spec, sheet, raw, complete)) is not None]
    return unique_rows(issues, spec, rows)


CASE_FOLDED_ELSEWHERE = {"ScenarioWeights"}  # scenario names match ignoring case: 'weighted twice' says it better


def unique_rows(issues: Issues, spec: SheetSpec, rows: list[Row]) -> list[Row]:
    """The first row of every key; later ones are reported as duplicates."""
    if spec.name == "InstalledBase":  # each row is a cohort; several per (product, site) are allowed
        return rows
    seen: dict[tuple, Row] = {}
    seen_folded: dict[tuple, tuple] = {}
    out = []
    for row in rows:
        key = tuple(row.values[k] for k in spec.keys)
        written = "/".join(map(str, key))
        if key in seen:
            first = seen[key]
            issues.error(spec.name, row.cells[spec.keys[0]], "/".join(spec.keys), written,
                         f"duplicate key {written}: already on row {first.excel_row}")
            continue
        other = seen_folded.get(_folded(key)) if spec.name not in CASE_FOLDED_ELSEWHERE else None
        if other is not None:  # Excel's lookups and a planner's eye take them for one; the model would not
            issues.error(spec.name, row.cells[spec.keys[0]], "/".join(spec.keys), written,
                         f"key {written} differs from row {seen[other].excel_row}'s {'/'.join(map(str, other))} "
                         "only by case: use one spelling for one thing, or rename one")
            continue
        seen[key] = row
        seen_folded[_folded(key)] = key
        out.append(row)
    return out


def _folded(key: tuple) -> tuple:
    return tuple(k.casefold() if isinstance(k, str) else k for k in key)


def rows_with_known_refs(ctx: ValidationContext, spec: SheetSpec, rows: list[Row],
                         known: dict[str, set]) -> list[Row]:
    """The rows whose every reference (a product, a site, ...) is a key of the sheet it names."""
    out = []
    for row in rows:
        ok = True
        for col in spec.columns:
            # Products.packaging_line names a line, not a row: PackagingCapacity lists only limited lines
            if col.references is None or col.references[0] == "Products" and col.references[1] == "packaging_line":
                continue
            absent = col.references[0] not in ctx.raw.sheets
            if absent and SHEET_BY_NAME[col.references[0]].required:
                continue  # the missing sheet is reported once; its references are not checked against nothing
            if not absent and col.references[1] not in ctx.raw.sheets[col.references[0]].columns:
                continue  # the sheet lacks its key column: said once there, not as 'unknown ... (known: none)
            value = row.values.get(col.name)
            pool = known.get(col.references[0], set())
            if value is not None and value not in pool:
                meant = nearest_name(value, [k for k in pool if isinstance(k, str)]) if isinstance(value, str) \
                    else None
                # an optional sheet left out (Partners, while PartnerSites still names its partners) plans nothing
                hint = f"; did you mean '{meant}'? (names must match exactly)" if meant else \
                    f": the workbook has no {col.references[0]} sheet (add it, or delete this row)" if absent else \
                    f" (known: {known_text(pool)})"
                ctx.issues.error(spec.name, row.cells.get(col.name, spec.name), col.name, value,
                                 f"unknown {col.name} '{value}': not in {col.references[0]}{hint}")
                ok = False
        if ok:
            out.append(row)
        else:
            ctx.dropped.setdefault(spec.name, set()).add(tuple(row.values[k] for k in spec.keys))
    return out


def _note_present(ctx: ValidationContext, spec: SheetSpec, rows: list[Row]) -> None:
    """Keys of every row with valid keys, even where another cell is bad: cross-checks use these, so one
    bad cell is reported once and not again as a missing row elsewhere."""
    ctx.present[spec.name] = {tuple(row.values[k] for k in spec.keys) for row in rows}


def read_table(ctx: ValidationContext, name: str, known: dict[str, set]) -> list[Row]:
    """The rows of the table sheet `name` with valid keys and known references (bad values: `ok` False);
    their keys go to `ctx.present`, their cells to `ctx.cells`."""
    spec = SHEET_BY_NAME[name]
    sheet = sheet_with_columns(ctx.raw, ctx.issues, name)
    if sheet is None:
        return []
    rows = rows_with_known_refs(ctx, spec, typed_rows(ctx.issues, spec, sheet), known)
    _note_present(ctx, spec, rows)
    for row in rows:
        keys = tuple(row.values[k] for k in spec.keys)
        for col, cell in row.cells.items():
            ctx.cells[(name, keys, col)] = cell
    return rows


def _shown(header: object) -> str:
    return repr(header) if isinstance(header, str) else f"'{header}'"  # repr shows a hidden character as \\u200b


def _not_a_quarter(header: object) -> str:
    """Why a header that starts like a year is no quarter, in words (its zero-width characters are dropped before
    it is read: one left is another unprintable character)."""
    if isinstance(header, (datetime.date, datetime.datetime)):
        return "a date: Excel turned it into one; type it as text"
    if isinstance(header, (int, float)):
        return "a number"
    hidden = [c for c in str(header) if not c.isprintable()]
    if hidden:
        return "it holds an invisible character, " + ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(hidden))
    return "not YYYYQn"


def _check_quarter_columns(ctx: ValidationContext, spec: SheetSpec, sheet: RawSheet) -> None:
    """Quarter columns outside the horizon are ignored (a warning); missing ones of a limiting sheet are errors."""
    in_horizon = set(ctx.quarters)
    for column in sheet.columns:
        if column[:4].isdigit() and parse_quarter(column) != column.upper():
            header = sheet.headers.get(column, column)
            ctx.issues.warning(spec.name, sheet.header_cell(column), column, header,
                               f"header {_shown(header)} is not a quarter ({_not_a_quarter(header)}): write "
                               "quarters as text YYYYQn, e.g. 2026Q1; this column is ignored")
        elif column[:4].isdigit() and column not in in_horizon and ctx.quarters:
            ctx.issues.warning(spec.name, sheet.header_cell(column), column, column,
                               f"quarter {column} is outside the plan horizon "
                               f"{ctx.quarters[0]}..{ctx.quarters[-1]}; ignored")
    missing = quarter_spans([q for q in ctx.quarters if q not in sheet.columns], ctx.quarters)  # '2029Q1..2035Q4'
    where = f"{sheet.title}!{sheet.header_row}:{sheet.header_row}"
    if missing and spec.required and sheet.rows:
        ctx.issues.error(spec.name, where, missing, None, f"quarter column(s) {missing} of the horizon are missing")
    elif missing and sheet.rows:
        meaning = MISSING_QUARTER_MEANS.get(spec.name, "every row takes the sheet's default there, as for a blank cell")
        ctx.issues.warning(spec.name, where, missing, None, f"quarter column(s) {missing} of "
                           f"the horizon are missing: {meaning}; add the column if that is not meant")


# optional sheets whose missing quarter column changes the plan most (workbook.md: only a required sheet's missing
# quarter is an error; a blank cell means 0 here): the warning says what the plan then assumes
MISSING_QUARTER_MEANS = {
    "PackagingCapacity": "every listed line packages 0 chips there (a blank cell of a listed line is 0)",
    "FabMinWafers": "no fab has a take-or-pay floor there (a blank cell is 0)",
    "HBMMinStacks": "no vendor has a take-or-pay floor there (a blank cell is 0)",
}


def _quarter_series(ctx: ValidationContext, spec: SheetSpec, sheet: RawSheet, row: Row, raw: RawRow,
                    keys: tuple) -> tuple[dict[int, float | None], bool]:
    """({t: value or None for blank}, ok) of one wide row; the quarter cells go to `ctx.cells`. Without a horizon
    (a bad start_quarter) every quarter column of the sheet is still checked, so all errors show at once."""
    series: dict[int, float | None] = {}
    ok = True
    for t, q in enumerate(ctx.quarters or [c for c in sheet.columns if looks_like_quarter(c)]):
        if q not in sheet.columns:
            series[t] = None
            continue
        cell = sheet.cell(q, row.excel_row)
        value, good = typed_value(ctx.issues, spec, spec.value, raw.values.get(q), cell, required=False,
                                  reported=q in raw.faulty, label=q)
        ok &= good
        series[t] = value
        ctx.cells[(spec.name, keys, q)] = cell
    return series, ok


def read_wide(ctx: ValidationContext, name: str, known: dict[str, set]) -> list[WideRow]:
    """The rows of the wide sheet `name` whose keys and every quarter value are good."""
    spec = SHEET_BY_NAME[name]
    sheet = sheet_with_columns(ctx.raw, ctx.issues, name)
    if sheet is None:
        return []
    _check_quarter_columns(ctx, spec, sheet)
    rows = rows_with_known_refs(ctx, spec, typed_rows(ctx.issues, spec, sheet), known)
    _note_present(ctx, spec, rows)
    raw_by_row = {r.excel_row: r for r in sheet.rows}
    out = []
    for row in rows:
        keys = tuple(row.values[k] for k in spec.keys)
        series, ok = _quarter_series(ctx, spec, sheet, row, raw_by_row[row.excel_row], keys)
        for k in spec.keys:
            ctx.cells[(name, keys, k)] = row.cells.get(k, "")
        if ok and row.ok:
            out.append((keys, series, row))
    _check_dropped_rows_values(ctx, spec, sheet, {row.excel_row for row in rows})
    return out


def _check_dropped_rows_values(ctx: ValidationContext, spec: SheetSpec, sheet: RawSheet, kept: set[int]) -> None:
    """The quarter cells of a wide row dropped for its key (unknown, repeated) are still checked, so every error
    of the sheet shows at once (a hostile trial: 'lots' and -3 beside an unknown fab showed only once the fab was
    fixed). Their cells are not recorded: the key is not the plan's."""
    quarters = ctx.quarters or [c for c in sheet.columns if looks_like_quarter(c)]
    for raw in sheet.rows:
        if raw.excel_row in kept:
            continue
        for q in quarters:
            if q in sheet.columns:
                typed_value(ctx.issues, spec, spec.value, raw.values.get(q), sheet.cell(q, raw.excel_row),
                            required=False, reported=q in raw.faulty, label=q)


# frames of tables already built in this process, by content: `planner validate` checks every scenario on a
# copy of the workbook, and most sheets of a copy are the base's own rows; pandas' frame construction is most
# of a sheet's validation time. Small and bounded: an entry is one sheet's frame.
_FRAMES: dict[tuple, pd.DataFrame] = {}
_FRAMES_KEPT = 64


def to_frame(name: str, rows: list[Row], index: list[str]) -> pd.DataFrame:
    """The good rows as a frame with the sheet's columns and dtypes, indexed and sorted by `index`.

    The same rows give the same frame; each caller gets its own shallow copy (pandas copies on write)."""
    spec = SHEET_BY_NAME[name]
    columns = list(spec.column_names)
    good = [r.values for r in rows if r.ok]
    key = (name, tuple(index), tuple(tuple((type(v), v) for v in (vals.get(c) for c in columns)) for vals in good))
    try:
        frame = _FRAMES.get(key)
    except TypeError:  # a value that cannot be hashed: build it, unremembered
        return _build_frame(spec, columns, good, index)
    if frame is None:
        frame = _build_frame(spec, columns, good, index)
        if len(_FRAMES) >= _FRAMES_KEPT:
            _FRAMES.pop(next(iter(_FRAMES)))
        _FRAMES[key] = frame
    return frame.copy(deep=False)


def _build_frame(spec: SheetSpec, columns: list[str], good: list[dict], index: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(good, columns=columns)
    for col in spec.columns:
        if col.dtype in ("float",):
            frame[col.name] = frame[col.name].astype(float)
        elif col.dtype == "int":
            frame[col.name] = frame[col.name].astype("int64")
    if index:
        frame = frame.set_index(index).sort_index()
    return frame
