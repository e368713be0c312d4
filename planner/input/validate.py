"""Validate a raw workbook against the schema and build PlanData, collecting every issue at once.

The checks live in planner.input.checks, one module per concern; this module runs them in the order their
issues are listed: Settings and the horizon, the table sheets, the wide quarter sheets, the dated rows, the
cross-sheet checks, ScenarioWeights.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from models.data import PlanData
from planner.input.checks.dated import installed_base, partner_windows, qualified_from
from planner.input.checks.quarterly import build_series, read_wide_sheets
from planner.input.checks.references import check_references, packaging_expansion
from planner.input.checks.rows import MAX_MAGNITUDE, MIN_MAGNITUDE, Row, ValidationContext, sane_range_problem
from planner.input.checks.scenarios import check_scenario_weights
from planner.input.checks.settings import check_horizon, check_settings
from planner.input.checks.tables import build_tables, read_table_rows
from planner.input.reader import RawWorkbook, ReadLimits, read_workbook
from planner.issues import Issue, Issues

__all__ = ["MAX_MAGNITUDE", "MIN_MAGNITUDE", "Row", "sane_range_problem", "scenario_weights", "validate_raw",
           "validate_workbook"]


def _plan_data(raw: RawWorkbook, issues: Issues) -> PlanData | None:
    """PlanData when the workbook has no error; None otherwise (every problem is in `issues`)."""
    cells: dict[tuple, str] = {}
    settings, quarters = check_horizon(check_settings(raw, issues, cells), issues, cells)
    ctx = ValidationContext(raw, issues, quarters, cells)
    rows = read_table_rows(ctx)
    wide = read_wide_sheets(ctx, rows.known)
    tables = build_tables(rows)
    if not quarters:
        return None  # without a horizon no quarter can be placed; the sheets above are checked all the same
    series = build_series(ctx, wide, tables.fabs, tables.routes)
    base = installed_base(ctx, rows.links["InstalledBase"])
    partners = partner_windows(ctx, tables.partners, tables.partner_sites)
    first_quarters = qualified_from(ctx, rows.links["HBMQualification"])
    expansion_lines = packaging_expansion(ctx, rows.links["PackagingExpansion"], tables.products)
    check_references(ctx, tables, wide, settings, series)
    check_scenario_weights(ctx)  # only its issues here: a hedged plan reads the weights with scenario_weights()
    if not issues.ok:
        return None
    return PlanData(
        settings=settings, quarters=quarters, products=tables.products, fabs=tables.fabs, routes=tables.routes,
        vendors=tables.vendors, qualified=tables.qualified, sites=tables.sites, expansion=tables.expansion,
        installed_base=base, workloads=tables.workloads, throughput=tables.throughput, links=sorted(tables.links),
        partners=partners, partner_sites=tables.partner_sites, fab_capacity=series.fab_capacity,
        fab_min_wafers=series.fab_min_wafers, wafer_cost=series.wafer_cost, yields=series.yields,
        receipts=series.receipts, hbm_supply=series.hbm_supply, packaging_capacity=series.packaging_capacity,
        site_power=series.site_power, demand=series.demand, budget=series.budget, cells=cells, source=str(raw.path),
        sha256=raw.sha256, hbm_min_stacks=series.hbm_min_stacks, qualified_from=first_quarters,
        packaging_expansion=expansion_lines)


def scenario_weights(raw: RawWorkbook, issues: Issues) -> dict[str, float] | None:
    """The weighted scenario set of the ScenarioWeights sheet (None without the sheet); errors go to `issues`."""
    return check_scenario_weights(ValidationContext(raw, issues, quarters=[]))


def validate_workbook(path: str | Path, limits: ReadLimits | None = None) -> tuple[PlanData | None, Issues]:
    """Read and validate `path`; PlanData only when there is no error. Never raises on a bad workbook."""
    raw, issues = read_workbook(path, limits)
    if raw is None:
        return None, issues
    return validate_raw(raw, issues)


def validate_raw(raw: RawWorkbook, issues: Issues) -> tuple[PlanData | None, Issues]:
    """Validate an already-read workbook (issues from reading are kept and extended)."""
    found = len(issues.items)
    data = _plan_data(raw, issues)
    if data is None and issues.ok:
        issues.error("Settings", "", "", None, "the plan horizon is not defined (start_quarter, quarters)")
    if raw.edited:
        issues.items[found:] = [_name_the_edit(i, raw.edited) for i in issues.items[found:]]
    return data, issues


EDIT_SHEETS = ("Scenarios", "Uncertainty")  # the sheets whose rows edit other sheets' cells


def add_edited_value_errors(raw: RawWorkbook, issues: Issues) -> None:
    """When an input edit failed (a scenario row naming no cell), the values its other rows did write are still
    checked, so every error of the scenario is reported at once: `issues` gets the validation errors at a cell an
    edit set or at a Scenarios cell (an added row's value), not those elsewhere, which may only follow from the
    row that failed (a SitePower row for a site whose add_row failed)."""
    found = Issues()
    validate_raw(raw, found)
    edited = {c for c in raw.edited if "!" in c}
    known = {(i.cell, i.message) for i in issues.errors}
    for e in found.errors:
        at_edit_row = e.sheet in EDIT_SHEETS or str(e.cell).split("!")[0] in EDIT_SHEETS  # an added row's cell
        if (e.cell in edited or at_edit_row) and (e.cell, e.message) not in known:
            issues.items.append(e)


def _name_the_edit(issue: Issue, edited: dict[str, str]) -> Issue:
    """An issue at a cell a scenario changed says which scenario row did it: the input cell may look fine."""
    where = edited.get(issue.cell)
    if where is None:
        return issue
    if "!" not in issue.cell:  # a whole sheet (a row it lacks): a scenario removed rows from it
        return replace(issue, message=f"{issue.message} (the scenario row {where} removed rows from this sheet)")
    what = "the Uncertainty row" if where.startswith("Uncertainty!") else "the scenario row"
    return replace(issue, message=f"{issue.message} (the value after {what} {where}; the input "
                                  "cell holds another)")
