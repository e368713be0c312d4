"""planner compare: plan the base and each scenario of the Scenarios sheet, and write them side by side.

The input is read once; each scenario is applied to its own deep copy of the raw workbook, validated,
built, solved and extracted (no plan workbook per scenario). Every scenario is validated before any is
solved, so a bad override is reported at once. The comparison workbook holds:

- `Compare`: rows = KPIs (status, objective and its breakdown, service level, unmet tok/s, wafers by fab,
  HBM by vendor, racks, MW added, own/partner capex, deals signed), columns = scenarios, then the deltas
  of each scenario against base;
- `Charts`: native charts of service level and capex (own vs partner) per scenario, on the Compare cells;
- `CompareByQuarter`: long table scenario, quarter, metric, value (the plan workbook's PlanByQuarter rows);
- `Moves`: the decisions that moved most against base (wafers by fab, HBM by vendor, racks by site,
  expansion blocks by site, deals by partner);
- `Overrides`: the overrides each scenario applied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference, Series
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.utils import get_column_letter

from models.money import money
from models.costs import COST_COMPONENTS

from models.data import PlanData
from planner.output.contract import Col, is_planned
from planner.issues import Issues
from planner.output.plan_writer import UNIT_FORMATS, plan_by_quarter
from planner.output.xlsx import HEADER_FILL, HEADER_FONT, cell, change, finish_pages, printable, safe_save, write_frame
from planner.output.extract import SolutionTables
from planner import pipeline
from planner.output.xml_rows import PlanWorkbook
from planner.pipeline import RunOptions
from planner.whatif.scenarios import BASE, ScenarioEdit, scenario_names, warn_rows_of_no_scenario
from planner.input.reader import RawWorkbook

log = logging.getLogger("planner")



@dataclass
class ScenarioPlan:
    """One scenario through the pipeline. The Pyomo model is dropped once its tables are extracted."""

    name: str
    overrides: list[str] = field(default_factory=list)
    issues: Issues = field(default_factory=Issues)
    data: PlanData | None = None
    solution: SolutionTables | None = None
    status: str = "invalid"
    message: str = ""
    mip_gap: float | None = None
    seconds: float = 0.0
    decisions: tuple | None = None  # ({(variable, index): value}, SolveResult) once planned: a start for scenarios

    @property
    def planned(self) -> bool:
        return is_planned(self.status)


def prepare(raw: RawWorkbook, read_issues: Issues, name: str) -> ScenarioPlan:
    """Scenario `name` applied to a copy of `raw` and validated, through the one pipeline (raw is never changed)."""
    edits = [] if name == BASE else [ScenarioEdit(name)]
    prepared = pipeline.prepare(raw, read_issues, edits, timer=pipeline.Timer(label=f"scenario {name}: "))
    plan = ScenarioPlan(name, overrides=prepared.applied, issues=prepared.issues, data=prepared.data)
    if name == BASE:  # the base holds a Scenarios row of no scenario, so the scenarios' copies of it are not theirs
        warn_rows_of_no_scenario(raw, plan.issues)
    if plan.data is None:
        plan.message = f"{len(plan.issues.errors)} error(s) in the input workbook"
    return plan


def solve_prepared(plan: ScenarioPlan, options: RunOptions, base: tuple | None = None) -> ScenarioPlan:
    """Build, solve and extract the scenario through the pipeline (no diagnosis: compare only reports status).
    `base`: (decisions, result) of the base plan. A MIP scenario starts from the base plan's decisions (solve()
    completes the rest with those integers fixed, and uses no start when they do not fit the scenario) unless its
    own lumpy-first plan is cheaper (a scenario that moves the plan much); an LP of the same shape starts from the
    base's basis."""
    decisions, warm = base if base is not None else (None, None)
    planned = pipeline.plan_prepared(pipeline.Prepared(plan.data, plan.issues), replace(options, keep_decisions=True, weigh_start=True),
                                     warm=warm, diagnose_failures=False, start=decisions)
    result = planned.result
    plan.status, plan.message, plan.mip_gap = result.status, result.message, result.mip_gap
    plan.solution, plan.seconds = planned.solution, planned.seconds
    if planned.decisions is not None:
        plan.decisions = (planned.decisions, result)
    return plan


# ---- KPIs -------------------------------------------------------------------------------------------

def _sum_by(frame: pd.DataFrame, key: str, column: str) -> dict[str, float]:
    if not len(frame):
        return {}
    return {str(k): float(v) for k, v in frame.groupby(key, sort=True)[column].sum().items()}


def kpis(plan: ScenarioPlan, fabs: list[str], vendors: list[str]) -> list[tuple[str, str, object]]:
    """(metric, unit, value) rows of the Compare sheet; values are None when the scenario has no plan."""
    s = plan.solution
    rows: list[tuple[str, str, object]] = [(Col.status, "", plan.status)]

    def add(metric: str, unit: str, value):
        rows.append((metric, unit, value if s is not None else None))

    k = s.kpis if s is not None else {}
    add(Col.objective_usd, "USD", s.objective_usd if s else None)
    for c in COST_COMPONENTS:
        add(f"cost_{c}_usd", "USD", s.cost_breakdown_usd.get(c) if s else None)
    add(Col.service_level, "%", k.get(Col.service_level))
    serving = s.tables["Serving"] if s else pd.DataFrame()
    add(Col.demand_tps, "tok/s", k.get("total_demand_tps"))
    add(Col.served_tps, "tok/s", k.get("total_served_tps"))
    add(Col.unmet_tps, "tok/s", float(serving[Col.unmet_tps].sum()) if s else None)
    add(Col.wafers_started, Col.wafers, k.get(Col.wafers_started))
    by_fab = _sum_by(s.tables["Wafers"], Col.fab, Col.wafers) if s else {}
    for f in fabs:
        add(f"wafers_started {f}", Col.wafers, by_fab.get(f, 0.0))
    add("hbm_stacks_bought", Col.stacks, k.get("hbm_stacks_bought"))
    by_vendor = _sum_by(s.tables["HBM"], Col.vendor, Col.bought) if s else {}
    for v in vendors:
        add(f"hbm_bought {v}", Col.stacks, by_vendor.get(v, 0.0))
    add(Col.racks_deployed, "racks", k.get(Col.racks_deployed))
    add("mw_added", "MW", k.get("mw_added"))
    add(Col.own_capex_usd, "USD", k.get(Col.own_capex_usd))
    add(Col.partner_capex_usd, "USD", k.get(Col.partner_capex_usd))
    add("deals_signed", "deals", k.get("deals_signed"))
    rows.append(("mip_gap", "%", plan.mip_gap if plan.planned else None))
    rows.append(("overrides", "", len(plan.overrides)))
    return rows


def same_horizon(base: ScenarioPlan, p: ScenarioPlan) -> bool:
    """Both plan the same quarters: only then are their totals compared (a scenario of Settings quarters 8 against
    a 12-quarter base showed -$752M and +3.9 pts that were only the missing quarters)."""
    return base.data is None or p.data is None or base.data.quarters == p.data.quarters


def horizon_text(p: ScenarioPlan) -> str:
    return f"{p.data.quarters[0]}..{p.data.quarters[-1]}" if p.data is not None and p.data.quarters else "none"


def compare_frame(plans: list[ScenarioPlan]) -> pd.DataFrame:
    """metric, unit, one column per scenario, then `delta NAME` for each scenario against base."""
    fabs = sorted({str(f) for p in plans if p.data is not None for f in p.data.fabs.index})
    vendors = sorted({str(v) for p in plans if p.data is not None for v in p.data.vendors.index})
    table = {p.name: kpis(p, fabs, vendors) for p in plans}
    first = table[plans[0].name]
    frame = pd.DataFrame({Col.metric: [m for m, _u, _v in first], Col.unit: [u for _m, u, _v in first]})
    for p in plans:
        frame[p.name] = pd.Series([v for _m, _u, v in table[p.name]], dtype=object)
    base = plans[0].name
    for p in plans[1:]:
        deltas = []
        comparable = same_horizon(plans[0], p)
        for (metric, _u, b), (_m, _u2, v) in zip(table[base], table[p.name]):
            numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (b, v))
            deltas.append(change(b, v) if comparable and numeric and metric not in ("overrides",) else None)
        frame[f"delta {p.name}"] = pd.Series(deltas, dtype=object)
    return _mark_tolerance(frame, plans)


def _mark_tolerance(frame: pd.DataFrame, plans: list[ScenarioPlan]) -> pd.DataFrame:
    """A row `objective_delta_vs_gap`: under each delta column, whether the objective's delta is within solver
    tolerance (smaller than the larger MIP gap of the two plans times the base objective): such a delta may be
    the solver stopping at a different plan inside the gap, not an effect of the scenario."""
    base = plans[0]
    row = {Col.metric: "objective_delta_vs_gap", Col.unit: ""}
    for p in plans[1:]:
        text = None
        if not same_horizon(base, p):
            text = f"not compared: {p.name} plans {horizon_text(p)}, base {horizon_text(base)}"
        elif base.solution is not None and p.solution is not None:
            tolerance = max(base.mip_gap or 0.0, p.mip_gap or 0.0) * abs(base.solution.objective_usd)
            delta = p.solution.objective_usd - base.solution.objective_usd
            text = (f"within solver tolerance (|delta| < gap {money(tolerance)})" if abs(delta) < tolerance and
                    tolerance > 0 else f"beyond solver tolerance (gap {money(tolerance)})")
        row[f"delta {p.name}"] = text
    return pd.concat([frame, pd.DataFrame([row])], ignore_index=True)


def by_quarter(plans: list[ScenarioPlan]) -> pd.DataFrame:
    parts = []
    for p in plans:
        if p.solution is None:
            continue
        wide = plan_by_quarter(p.data, p.solution).drop(columns=[Col.unit])
        long = wide.melt(id_vars=[Col.metric], var_name=Col.quarter, value_name=Col.value)
        long.insert(0, Col.scenario, p.name)
        parts.append(long[[Col.scenario, Col.quarter, Col.metric, Col.value]])
    if not parts:
        return pd.DataFrame(columns=[Col.scenario, Col.quarter, Col.metric, Col.value])
    out = pd.concat(parts, ignore_index=True)
    out[Col.value] = out[Col.value].astype(float)
    return out


def _decisions(p: ScenarioPlan) -> dict[tuple[str, str, str], pd.Series]:
    """(decision, key, unit) -> per-quarter series of the plan's main decisions."""
    t = p.solution.tables
    Q = p.data.quarters
    out: dict[tuple[str, str, str], pd.Series] = {}

    def series(frame, key, column, decision, unit):
        if not len(frame):
            return
        grouped = frame.groupby([key, Col.quarter], sort=True)[column].sum()
        for k in sorted({str(x) for x in frame[key]}):
            values = grouped[grouped.index.get_level_values(0).astype(str) == k]
            s = pd.Series(values.values, index=values.index.get_level_values(1)).reindex(Q, fill_value=0.0)
            out[(decision, k, unit)] = s.astype(float)

    series(t["Wafers"], Col.fab, Col.wafers, "wafers by fab", Col.wafers)
    series(t["HBM"], Col.vendor, Col.bought, "HBM bought by vendor", Col.stacks)
    series(t["Deployments"], Col.site, Col.racks_deployed, "racks deployed by site", "racks")
    series(t["Power"], Col.site, Col.blocks_started, "expansion blocks by site", "blocks")
    for r in t["Partners"].itertuples():
        out[("deal signed", str(r.partner), "deal")] = pd.Series([float(r.signed)], index=[Col.plan])
        out[("deal funding", str(r.partner), "USD")] = pd.Series([float(r.funded_usd)], index=[Col.plan])
    return out


def moves(plans: list[ScenarioPlan]) -> pd.DataFrame:
    """Decisions that moved against base, most moved first (by relative change, then absolute)."""
    columns = [Col.scenario, Col.decision, Col.key, Col.unit, Col.base_value, Col.scenario_value, Col.change, Col.change_share,
               Col.first_quarter_changed]
    base = plans[0]
    if base.solution is None:
        return pd.DataFrame(columns=columns)
    ref = _decisions(base)
    rows = []
    for p in plans[1:]:
        if p.solution is None or not same_horizon(base, p):
            continue
        mine = _decisions(p)
        ranked = []
        for key in sorted(set(ref) | set(mine)):
            a = ref.get(key, pd.Series(dtype=float))
            b = mine.get(key, pd.Series(dtype=float))
            index = list(dict.fromkeys(list(a.index) + list(b.index)))
            a, b = a.reindex(index, fill_value=0.0), b.reindex(index, fill_value=0.0)
            total_a, total_b = float(a.sum()), float(b.sum())
            change = total_b - total_a
            tol = 1e-6 * max(1.0, abs(total_a), abs(total_b))
            diff = (b - a).abs() > tol
            if abs(change) <= tol and not diff.any():
                continue
            first = next((q for q, d in diff.items() if d), None)
            share = change / abs(total_a) if abs(total_a) > tol else None
            ranked.append({Col.scenario: p.name, Col.decision: key[0], Col.key: key[1], Col.unit: key[2],
                           Col.base_value: total_a, Col.scenario_value: total_b, Col.change: change,
                           Col.change_share: share, Col.first_quarter_changed: first if first != Col.plan else None})
        ranked.sort(key=lambda r: (-(float("inf") if r[Col.change_share] is None else abs(r[Col.change_share])),
                                   -abs(r[Col.change]), r[Col.decision], r[Col.key]))
        rows += ranked
    return pd.DataFrame(rows, columns=columns)


def overrides_frame(plans: list[ScenarioPlan]) -> pd.DataFrame:
    rows = [{Col.scenario: p.name, Col.override: text} for p in plans for text in p.overrides]
    rows += [{Col.scenario: p.name, Col.override: "(none: the workbook as it is)"} for p in plans if not p.overrides]
    order = {p.name: i for i, p in enumerate(plans)}
    rows.sort(key=lambda r: order[r[Col.scenario]])
    return pd.DataFrame(rows, columns=[Col.scenario, Col.override])


# ---- the workbook -----------------------------------------------------------------------------------

def _write_compare(wb: Workbook, frame: pd.DataFrame):
    ws = wb.create_sheet("Compare")
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 9
    for j in range(3, len(frame.columns) + 1):
        ws.column_dimensions[get_column_letter(j)].width = max(16, len(str(frame.columns[j - 1])) + 4)
    ws.freeze_panes = "C2"
    printable(ws)
    ws.append([cell(ws, c, font=HEADER_FONT, fill=HEADER_FILL) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        fmt = UNIT_FORMATS.get(row[1], "#,##0.##")
        if row[0] == "mip_gap":
            fmt = "0.00%"
        ws.append([cell(ws, row[0]), cell(ws, row[1])] + [cell(ws, v, fmt) for v in row[2:]])
    return ws


def _add_charts(wb: Workbook, compare_ws, frame: pd.DataFrame, n_scenarios: int):
    """Native charts on the Compare cells: they follow edits of the numbers."""
    ws = wb.create_sheet("Charts", 1)
    ws.page_setup.orientation = "landscape"  # the three charts print together on one page
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 1
    row_of = {m: i + 2 for i, m in enumerate(frame[Col.metric])}
    first_col, last_col = 3, 2 + n_scenarios

    def chart(title, metrics, y_title, anchor, stacked=False, percent=False, columns=(first_col, last_col)):
        c = BarChart()
        c.type = "col"
        c.title, c.y_axis.title = title, y_title
        if stacked:
            c.grouping, c.overlap = "stacked", 100
        for m in metrics:
            r = row_of[m]
            series = Series(Reference(compare_ws, min_col=columns[0], max_col=columns[1], min_row=r, max_row=r),
                            title=None)
            series.tx = SeriesLabel(strRef=StrRef(f"'{compare_ws.title}'!$A${r}"))
            series.cat = AxDataSource(strRef=StrRef(  # scenario names are text: a string reference
                f"'{compare_ws.title}'!${get_column_letter(columns[0])}$1:${get_column_letter(columns[1])}$1"))
            c.series.append(series)
        if percent:
            c.y_axis.number_format = "0%"
            c.y_axis.scaling.min = 0
        c.width, c.height = 18, 8
        ws.add_chart(c, anchor)

    chart("Service level per scenario", [Col.service_level], "served / demand", "A1", percent=True)
    chart("Capex per scenario: own vs partner (USD)", [Col.own_capex_usd, Col.partner_capex_usd], "USD", "L1",
          stacked=True)
    if n_scenarios > 1:  # the scenarios' objectives lie within a few % of each other: bars from 0 hide that
        chart("Objective vs base per scenario (present-value USD)", [Col.objective_usd], "USD more than base",
              "A18", columns=(last_col + 1, last_col + n_scenarios - 1))
    else:
        chart("Objective (present-value USD)", [Col.objective_usd], "USD", "A18")
    return ws


def write_compare(path: Path, plans: list[ScenarioPlan], input_path: Path) -> tuple[Path, str]:
    frame = compare_frame(plans)
    wb = PlanWorkbook()
    compare_ws = _write_compare(wb, frame)
    _add_charts(wb, compare_ws, frame, len(plans))
    write_frame(wb, "CompareByQuarter", by_quarter(plans))
    write_frame(wb, "Moves", moves(plans))
    write_frame(wb, "Overrides", overrides_frame(plans), highlight=False)
    base = next((p.data for p in plans if p.data is not None), None)
    finish_pages(wb, f"compare: {base.settings.plan_name}" if base is not None else "compare")
    return safe_save(wb, path, input_path)


# ---- the command ------------------------------------------------------------------------------------

def selected_names(raw: RawWorkbook, asked: str | None) -> list[str]:
    """Base first, then the asked scenarios (default: every scenario of the sheet), without repeats."""
    known = scenario_names(raw)
    names = [n.strip() for n in asked.split(",") if n.strip()] if asked else known
    out = [BASE]
    for n in names:
        folded = [k for k in known if k.casefold() == n.casefold()]
        n = n if n in known or len(folded) != 1 else folded[0]  # 'COWOS_PLUS' is cowos_plus: planned once
        if n.lower() != BASE and n not in out:
            out.append(n)
    return out


def compare_plans(raw: RawWorkbook, read_issues: Issues, names: list[str],
                  options: RunOptions) -> list[ScenarioPlan]:
    """Validate the base (as `planner validate` does) and, when it is valid, every scenario; then (only when all
    are valid) solve each in turn. An invalid base is returned alone."""
    plans = [prepare(raw, read_issues, names[0])]
    if plans[0].data is None:
        return plans
    plans += [prepare(raw, read_issues, n) for n in names[1:]]
    if any(p.data is None for p in plans):
        return plans
    for p in plans[1:]:
        if not same_horizon(plans[0], p):
            said = (f"scenario {p.name} plans {horizon_text(p)} where base plans {horizon_text(plans[0])}: its totals "
                    "are shown but not compared (no deltas, no Moves)")
            p.issues.warning("Scenarios", "", Col.scenario, p.name, said)
            p.issues.items.insert(0, p.issues.items.pop())  # first: its 'outside the horizon' warnings are many
    for i, p in enumerate(plans, start=1):
        log.info("scenario %d/%d %s ...", i, len(plans), p.name)
        solve_prepared(p, options, plans[0].decisions if i > 1 else None)
        objective = f", objective {money(p.solution.objective_usd)}" if p.solution else ""
        log.info("scenario %s: %s%s (%.2f s)", p.name, p.status, objective, p.seconds)
    return plans
