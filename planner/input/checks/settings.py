"""The Settings sheet (key / value rows) and the plan horizon it defines."""

from __future__ import annotations

from models.data import Settings
from planner.input.checks.rows import known_text, sheet_with_columns, typed_value
from planner.input.convert import CellError, convert
from planner.input.names import name_key, nearest_name
from planner.input.reader import RawSheet, RawWorkbook
from planner.input.schema import SETTING_BY_KEY, SETTINGS, SHEET_BY_NAME
from planner.issues import Issues
from planner.quarters import horizon, horizon_problem

SETTING_BY_NAME_KEY = {name_key(k): k for k in SETTING_BY_KEY}


def _given_settings(sheet: RawSheet, issues: Issues, cells: dict[tuple, str]) -> dict[str, object]:
    """{setting key: typed value} of every good row; the value cells go to `cells`."""
    spec = SHEET_BY_NAME["Settings"]
    values: dict[str, object] = {}
    where: dict[str, str] = {}
    unknown: list[tuple[str, str]] = []
    for raw in sheet.rows:
        try:
            key = convert("key", raw.values.get("key"))
        except CellError as exc:
            issues.error("Settings", sheet.cell("key", raw.excel_row), "key", raw.values.get("key"), str(exc))
            continue
        if key is None:
            continue
        cell = sheet.cell("value", raw.excel_row)
        key_norm = SETTING_BY_NAME_KEY.get(name_key(key))  # "Start Quarter", "start-quarter", "StartQuarter"
        setting = SETTING_BY_KEY.get(key_norm) if key_norm else None
        if setting is None:
            unknown.append((key, sheet.cell("key", raw.excel_row)))
            continue
        if key_norm in where:
            issues.error("Settings", sheet.cell("key", raw.excel_row), "key", key,
                         f"setting '{key}' is given twice (first at {where[key_norm]})")
            continue
        value, good = typed_value(issues, spec, setting.column(), raw.values.get("value"), cell,
                                  required=setting.required)
        if good and value is None:  # a blank value is the setting's default, as a missing row is
            cells[("Settings", (key_norm,), "value")] = cell
            where[key_norm] = cell
            continue
        if good:
            values[key_norm] = value
            where[key_norm] = cell
            cells[("Settings", (key_norm,), "value")] = cell
            if value == 0 and key_norm in ZERO_MEANS:
                issues.warning("Settings", cell, key_norm, value, ZERO_MEANS[key_norm])
    _report_unknown(unknown, set(where), issues)
    return values


def _report_unknown(unknown: list[tuple[str, str]], given: set[str], issues: Issues) -> None:
    """An unknown setting is a warning (a note row is harmless), but one that is likely a misspelt setting not
    given elsewhere ('mip_gap' for mip_rel_gap) is an error: the plan would silently take the default."""
    for key, cell in unknown:
        meant = nearest_name(key, [k for k in SETTING_BY_KEY if k not in given])
        if meant:
            issues.error("Settings", cell, "key", key, f"unknown setting '{key}': did you mean '{meant}'? (as it "
                         f"is, it would be ignored and {meant} would take its default)")
        else:
            issues.warning("Settings", cell, "key", key,
                           f"unknown setting '{key}'; ignored (known: {known_text(SETTING_BY_KEY)})")


# 0 is a valid value (the spec's formulation is defined there) that is seldom meant: say what it does
ZERO_MEANS = {"hours_per_quarter": "hours_per_quarter 0: electricity costs nothing in this plan (a quarter has "
                                   "about 2,190 hours)",
              "capex_life_quarters": "capex_life_quarters 0 charges capex as cash, as a blank does (no in-plan share)"}


def _with_defaults(values: dict[str, object], sheet: RawSheet | None, issues: Issues) -> bool:
    """Fill the defaults of optional settings into `values`; False when a required one is missing."""
    ok = True
    for setting in SETTINGS:
        if setting.key in values:
            continue
        if not setting.required:
            values[setting.key] = setting.default
            continue
        # a required setting whose row was given but bad is reported already; only a missing row is new
        if sheet is not None and not any(i.sheet == "Settings" and i.column == setting.key for i in issues):
            issues.error("Settings", sheet.title, "key", setting.key,
                         f"required setting '{setting.key}' is missing ({setting.description})")
        ok = False
    return ok


def _commit_within_horizon(values: dict[str, object], issues: Issues, cells: dict[tuple, str]) -> None:
    """Settings.commit_quarters (hedged plans) is between 1 and the horizon."""
    commit, quarters = values.get("commit_quarters"), values.get("quarters")
    if isinstance(commit, int) and isinstance(quarters, int) and commit > quarters:
        issues.error("Settings", cells.get(("Settings", ("commit_quarters",), "value"), "Settings"),
                     "commit_quarters", commit, f"commit_quarters must be between 1 and the horizon "
                     f"({quarters} quarters)")
        values["commit_quarters"] = quarters


def check_settings(raw: RawWorkbook, issues: Issues, cells: dict[tuple, str]) -> Settings | None:
    """The typed Settings; None when a required one is missing or bad (every problem is in `issues`)."""
    sheet = sheet_with_columns(raw, issues, "Settings")
    values = _given_settings(sheet, issues, cells) if sheet is not None else {}
    if not _with_defaults(values, sheet, issues):
        return None
    _commit_within_horizon(values, issues, cells)
    return Settings(**values)


def check_horizon(settings: Settings | None, issues: Issues,
                  cells: dict[tuple, str]) -> tuple[Settings | None, list[str]]:
    """(settings, quarter labels of the horizon); (None, []) when the settings define no valid horizon."""
    if settings is not None:
        problem = horizon_problem(settings.start_quarter, settings.quarters)
        if problem:
            issues.error("Settings", cells.get(("Settings", ("start_quarter",), "value"), "Settings"),
                         "start_quarter", settings.start_quarter, problem)
            return None, []
        return settings, horizon(settings.start_quarter, settings.quarters)
    return None, []
