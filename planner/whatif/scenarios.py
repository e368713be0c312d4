"""Named what-if scenarios: overrides of input cells, applied to the raw workbook before validation.

The optional `Scenarios` sheet has one override per row: `scenario, sheet, key, column, operation, value`.

- `sheet`: any input sheet (Products, HBMSupply, Demand, Settings, ...).
- `key`: the row key; sheets keyed by several columns join them with `/` in key order (Demand: `EU/70b`);
  `*` is every row, and on multi-key sheets a `*` part is every value of that key (`EU/*`). Settings: the
  setting name.
- `column`: a column name (Products: `rack_capex_usd`), a quarter (`2026Q3`), a quarter range (`2026Q3:2027Q4`,
  both ends included) or `*` (every quarter of a wide sheet, every non-key column of a table). Settings: `value`.
- `operation`: `set` (the cell becomes `value`), `scale` (multiplied by `value`), `add` (`value` added);
  `add_row` (a new row named by `key`: every add_row row of the scenario with the same sheet and key fills one
  of its cells, `column` = `value`; a missing sheet is created) and `remove_row` (every row matching `key` is
  dropped; `column` blank or `*`). Rows are added and removed as written: the result is validated like any
  input (removing a product that Routes still names is an error there, unless the scenario removes those too).

The overrides of one scenario are applied in sheet order, each to the result of the ones before, to the
RawSheets in place; normal validation then checks the new values and names the overridden cells. Every
problem with an override itself is an error located at the Scenarios cell at fault. The same machinery
applies the sampled scale factors of `planner sweep` (the Uncertainty sheet).
"""

from __future__ import annotations

import copy

from planner.input.convert import to_text
from planner.input.names import nearest_name
from planner.issues import Issues
from planner.whatif.overrides import (NOT_TARGETS, OPERATIONS, ROW_OPERATIONS, Override,  # noqa: F401 (re-exported)
                                      _apply_cell_override, _known, _operation_name)
from planner.whatif.rows import add_row, remove_rows
from planner.input.reader import RawSheet, RawWorkbook

BASE = "base"
SCENARIO_COLUMNS = ("scenario", "sheet", "key", "column", "operation", "value")


# ---- reading the Scenarios sheet -------------------------------------------------------------------

def _missing_columns(sheet: RawSheet, names: tuple[str, ...], issues: Issues, source: str) -> bool:
    missing = [c for c in names if c not in sheet.columns]
    if missing:
        issues.error(sheet=source, cell=f"{sheet.title}!{sheet.header_row}:{sheet.header_row}",
                     column=", ".join(missing), value=None,
                     message=f"{source} is missing column(s) {', '.join(missing)} "
                             f"(found: {_known(sheet.columns)}; expected: {', '.join(names)})")
    return bool(missing)


def read_scenarios(raw: RawWorkbook, issues: Issues) -> dict[str, list[Override]] | None:
    """Scenario name -> its overrides in sheet order; {} without a Scenarios sheet, None when it is unusable."""
    sheet = raw.sheets.get("Scenarios")
    if sheet is None:
        return {}
    if _missing_columns(sheet, SCENARIO_COLUMNS, issues, "Scenarios"):
        return None
    out: dict[str, list[Override]] = {}
    for row in sheet.rows:
        cells = {c: sheet.cell(c, row.excel_row) for c in SCENARIO_COLUMNS}
        name = to_text(row.values.get("scenario"))
        if name is None:
            issues.error(sheet="Scenarios", cell=cells["scenario"], column="scenario", value=None,
                         message="the scenario name is blank; every override row names its scenario")
            continue
        if name.lower() == BASE:
            issues.error(sheet="Scenarios", cell=cells["scenario"], column="scenario", value=name,
                         message=f"'{BASE}' is the workbook as it is and cannot have overrides; name the scenario "
                                 "differently")
            continue
        v = row.values
        out.setdefault(name, []).append(Override(v.get("sheet"), v.get("key"), v.get("column"), v.get("operation"),
                                                 v.get("value"), cells, cells["scenario"], "Scenarios"))
    return out


def scenario_names(raw: RawWorkbook) -> list[str]:
    """The scenarios of the Scenarios sheet, in order of first appearance (without 'base')."""
    found = read_scenarios(raw, Issues())
    return list(found) if found else []


def find_scenario(raw: RawWorkbook, name: str, issues: Issues) -> list[Override] | None:
    """The overrides of scenario `name` ([] for base); None (and an error) when there is no such scenario."""
    name = str(name).strip()
    if name.lower() == BASE:
        return []
    # a row of no scenario (a blank name, one named base) is the sheet's error, reported once by the sheet's own
    # check: it made every valid scenario 'cannot be applied' (hostile round 5: 14 copies of one error)
    rows_read = Issues()
    scenarios = read_scenarios(raw, rows_read)
    if scenarios is None:
        issues.extend(rows_read)
        return None
    sheet = raw.sheets.get("Scenarios")
    if sheet is None:
        issues.error(sheet="Scenarios", cell="", column="scenario", value=name,
                     message=f"scenario '{name}' was asked for but the workbook has no Scenarios sheet")
        return None
    if name in scenarios:
        return scenarios[name]
    folded = [n for n in scenarios if n.casefold() == name.casefold()]
    if len(folded) == 1:
        return scenarios[folded[0]]
    near = nearest_name(name, list(scenarios), cutoff=0.75)
    hint = f"did you mean {near}? " if near else ""
    # the name was asked for (--scenario, --scenarios): no cell of the workbook holds it
    issues.error(sheet="Scenarios", cell="Scenarios", column="scenario", value=name,
                 message=f"scenario '{name}' could be any of {_known(folded)} (names that differ only by case): "
                         "write it as in the Scenarios sheet" if folded else
                         f"unknown scenario '{name}' ({hint}known: {_known([BASE] + list(scenarios))})")
    return None


def apply_named_scenario(raw: RawWorkbook, name: str, issues: Issues) -> list[str]:
    """Apply scenario `name` of the Scenarios sheet to `raw` in place, before validation.

    Returns one sentence per override applied; every problem goes to `issues` located at its Scenarios cell."""
    overrides = find_scenario(raw, name, issues)
    if not overrides:
        return []
    return apply_overrides(raw, overrides, issues)


# ---- resolving and applying overrides --------------------------------------------------------------


def _key_matches(pattern: str, key: str) -> bool:
    """'L1/*' matches 'L1/G', not 'L2/G': part by part, '*' matching any part (as remove_row matches rows)."""
    parts, wanted = pattern.split("/"), key.split("/")
    return len(parts) == len(wanted) and all(p in ("*", k) for p, k in zip(parts, wanted))


def _in_order(overrides: list[Override], issues: Issues) -> list[Override | list[Override]]:
    """The overrides in order, the add_row rows of one (sheet, key) gathered into one list at the first's place;
    a remove_row of that key (or of a pattern with *) in between ends the gathering, so add_row K, remove_row K,
    add_row K leaves the second row K (each operation takes effect in its order). A set/scale/add of the new
    row between its add_row rows would take effect before the later ones, against the sheet order: an error at the
    later add_row row."""
    out: list[Override | list[Override]] = []
    groups: dict[tuple[str, str], list[Override]] = {}
    changed_between: dict[tuple[str, str], Override] = {}
    for ov in overrides:
        name = (to_text(ov.sheet) or "").lower().replace(" ", "")
        key = "/".join(p.strip() for p in str(ov.key if ov.key is not None else "").split("/"))
        if _operation_name(ov) == "remove_row":
            for sheet_key in [g for g in groups if g[0] == name and _key_matches(key, g[1])]:
                del groups[sheet_key]
        if _operation_name(ov) != "add_row":
            for sheet_key in [g for g in groups if g[0] == name and _key_matches(key, g[1])]:
                changed_between.setdefault(sheet_key, ov)
            out.append(ov)
            continue
        if (name, key) in changed_between and (name, key) in groups:
            other = changed_between[(name, key)]
            issues.error(ov.source, ov.cell("operation"), "operation", "add_row",
                         f"this add_row row of {to_text(ov.sheet)} {key} comes after {other.cell('operation')} "
                         f"({_operation_name(other)}) changed the new row: keep a new row's add_row rows together, "
                         "then the rows that change it")
        if (name, key) not in groups:
            groups[(name, key)] = []
            changed_between.pop((name, key), None)
            out.append(groups[(name, key)])
        groups[(name, key)].append(ov)
    return out


def apply_overrides(raw: RawWorkbook, overrides: list[Override], issues: Issues) -> list[str]:
    """Apply overrides in order to `raw` in place; one sentence per applied override (or added / removed row)."""
    applied: list[str] = []
    for item in _in_order(overrides, issues):
        if isinstance(item, list):
            note = add_row(raw, item, issues)
        elif _operation_name(item) == "remove_row":
            note = remove_rows(raw, item, issues)
        else:
            note = _apply_cell_override(raw, item, issues)
        if note:
            applied.append(note)
    return applied


# ---- scenarios as input edits of the one pipeline ----------------------------------------------------------

class ScenarioEdit:
    """Input edit: scenario `name` of the Scenarios sheet, applied to the raw tables before validation."""

    def __init__(self, name: str):
        self.name = name
        self.meta: dict[str, object] = {"scenario": name}

    def apply(self, raw: RawWorkbook, issues: Issues) -> list[str]:
        warn_rows_of_no_scenario(raw, issues)
        applied = apply_named_scenario(raw, self.name, issues)
        self.meta["overrides"] = applied
        return applied


def warn_rows_of_no_scenario(raw: RawWorkbook, issues: Issues) -> None:
    """A Scenarios row of no scenario (a blank name, one named base) as a warning at its cell: no plan uses it, and
    it does not stop the scenarios whose rows are sound."""
    if "Scenarios" not in raw.sheets:
        return
    rows_read = Issues()
    read_scenarios(raw, rows_read)
    for e in rows_read.errors:
        issues.warning(e.sheet, e.cell, e.column, e.value, f"{e.message} (this row belongs to no scenario: no "
                       "plan uses it)")


class ScenarioRowsCheck:
    """Input check (pipeline.InputCheck: no edit) of a plain `planner run`, which applies no scenario: once the workbook is valid, each
    scenario of the Scenarios sheet is tried on a copy of the tables, and what would stop one (an unknown key, a
    column no sheet has) becomes a warning at its Scenarios cell, so the plan is made but does not hide a what-if
    that `compare`, `sweep` and `--scenario` refuse. Only the scenario's own rows are checked, not a validation
    of its result (that is `planner validate`'s, which fails on them). On an invalid workbook nothing is added:
    the run prints what validate prints."""

    def check_valid(self, raw: RawWorkbook, issues: Issues) -> None:
        if "Scenarios" not in raw.sheets:
            return
        warn_rows_of_no_scenario(raw, issues)  # said once, not under each scenario
        for name in scenario_names(raw):
            found = Issues()
            apply_named_scenario(copy.deepcopy(raw), name, found)
            for e in found.errors:
                issues.warning(e.sheet, e.cell, e.column, e.value, f"scenario '{name}' cannot be applied: {e.message} "
                               "(this plan does not use it; compare and --scenario refuse it)")


class OverridesEdit:
    """Input edit: a given list of overrides (a sampled draw of the Uncertainty sheet)."""

    def __init__(self, overrides: list[Override]):
        self.overrides = overrides

    def apply(self, raw: RawWorkbook, issues: Issues) -> list[str]:
        return apply_overrides(raw, self.overrides, issues)
