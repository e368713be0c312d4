"""The plan workbook a planner reviews: Summary first, Charts, Diagnosis when the plan failed, the stable
contract sheets of workbook.md (tidy, one row per index), PlanByQuarter, Inputs echo and Warnings.

Reads SolutionTables (pandas) only; never touches Pyomo.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference, Series
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.styles import Font

from models.solve import SolveResult

from models.data import PlanData
from planner.output.input_values import input_values
from planner.diagnose.diagnosis import Diagnosis
from planner.issues import Issues
from planner.output.xlsx import (EXCEL_MAX_ROWS, HEADER_FILL, HEADER_FONT, atomic_write, cell, number_format, safe_save,
                     write_frame, write_key_values)
from planner.output.reasons import unmet_reasons
from planner.output.extract import SolutionTables

CONTRACT_SHEETS = ("Wafers", "Fabs", "Chips", "HBM", "HBMUse", "Packaging", "Deployments", "Power", "Serving",
                   "Allocation", "Capex", "Partners", "Budget", "Bottlenecks")
STATUS_WORDS = {
    "optimal": "OPTIMAL: proven best plan for this input",
    "feasible": "FEASIBLE, NOT PROVEN OPTIMAL: a valid plan, but a better one may exist (see mip_gap)",
    "infeasible": "INFEASIBLE: no plan meets every hard limit; see the Diagnosis sheet",
    "unbounded": "UNBOUNDED: the cost can fall without limit; see the Diagnosis sheet",
    "error": "ERROR: the solver returned no plan; see status_message",
}
# how a too-long sheet is summed up inside the workbook (the full table goes beside it)
AGGREGATE_BY = {
    "Allocation": ["product", "region", "workload", "quarter"], "Deployments": ["product", "quarter"],
    "Wafers": ["product", "fab", "quarter"], "HBMUse": ["vendor", "product", "quarter"],
    "Serving": ["region", "workload", "quarter"], "Power": ["quarter"], "Capex": ["quarter"],
    "Chips": ["product", "quarter"], "Bottlenecks": None,
}
UNIT_WORD = {"USD per wafer": "wafer", "USD per stack": "stack", "USD per chip": "chip", "USD per MW": "MW",
             "USD per USD": "USD of budget"}


@dataclass
class WriteOptions:
    max_sheet_rows: int = EXCEL_MAX_ROWS - 1  # data rows per sheet before the table goes to a file beside
    detail_format: str = "parquet"  # parquet | csv
    detail_files: list[Path] = field(default_factory=list)


def top_bottlenecks(solution: SolutionTables, n: int = 5) -> list[str]:
    b = solution.tables["Bottlenecks"]
    lines = []
    for r in b.head(n).itertuples():
        unit = UNIT_WORD.get(r.unit, r.unit)
        where = f" (input {r.input_cell})" if r.input_cell else ""
        lines.append(f"{r.what} in {r.quarter}: one more {unit} is worth ${r.shadow_price:,.2f}{where}")
    return lines


def summary_rows(data: PlanData, result: SolveResult, solution: SolutionTables | None, meta: dict,
                 phases: dict[str, float], detail: list[Path]) -> list[tuple[str, object, str]]:
    gap_note = "relative gap between this plan and the best bound (0 for an LP)"
    rows: list[tuple[str, object, str]] = [
        ("plan_name", data.settings.plan_name, ""),
        ("status", result.status, STATUS_WORDS.get(result.status, "")),
        ("status_message", result.message, f"HiGHS model status: {result.highs_status}"),
        ("objective_usd", solution.objective_usd if solution else None,
         "discounted total cost (present value, USD); blank when there is no plan"),
        ("mip_gap", result.mip_gap if result.has_solution else None, gap_note),
        ("solve_seconds", result.solve_seconds, "HiGHS's own solve time"),
    ]
    if solution is None:
        rows += [("total_demand_tps", sum(data.demand.values()), "sum over demand rows and quarters, tok/s"),
                 ("total_served_tps", None, "no plan"), ("service_level", None, "no plan"),
                 ("own_capex_usd", None, "no plan"), ("partner_capex_usd", None, "no plan")]
    else:
        k = solution.kpis
        rows += [
            ("total_demand_tps", k["total_demand_tps"], "sum over demand rows and quarters, tok/s"),
            ("total_served_tps", k["total_served_tps"], "sum over demand rows and quarters, tok/s"),
            ("service_level", k["service_level"], "served / demand, all rows and quarters"),
            ("own_capex_usd", k["own_capex_usd"], "cash, all quarters"),
            ("partner_capex_usd", k["partner_capex_usd"], "cash, all quarters"),
        ]
        for i, line in enumerate(top_bottlenecks(solution), start=1):
            rows.append((f"bottleneck_{i}", line, "see the Bottlenecks sheet"))
        rows += unmet_reasons(solution.tables, data)  # unmet_reason_1..3 (planner/output/reasons.py)
        rows += [(f"cost_{c}_usd", v, "objective component (present value); they add up to objective_usd")
                 for c, v in solution.cost_breakdown_usd.items()]
        serving = solution.tables["Serving"]
        for key, group in serving.groupby("region", sort=True):
            d = group["demand_tps"].sum()
            rows.append((f"service_level_region_{key}", group["served_tps"].sum() / d if d > 0 else None, "served / demand"))
        for key, group in serving.groupby("workload", sort=True):
            d = group["demand_tps"].sum()
            rows.append((f"service_level_workload_{key}", group["served_tps"].sum() / d if d > 0 else None,
                         "served / demand"))
        partners = solution.tables["Partners"]
        signed = ", ".join(partners.loc[partners["signed"], "partner"].astype(str)) or "none"
        rows += [
            ("wafers_started", k["wafers_started"], "all fabs and quarters"),
            ("hbm_stacks_bought", k["hbm_stacks_bought"], "all vendors and quarters"),
            ("racks_deployed", k["racks_deployed"], "all products, sites and quarters"),
            ("mw_added", k["mw_added"], "MW of expansion blocks started"),
            ("deals_signed", k["deals_signed"], signed),
            ("duals_from", result.duals_from, "shadow prices: present-value USD per unit of the limit"),
        ]
    rows.append(("scenario", meta.get("scenario", "base"), "Scenarios sheet; base = the workbook as it is"))
    for i, text in enumerate(meta.get("overrides", []), start=1):
        rows.append((f"override_{i}", text, "applied before validation"))
    rows += meta.get("extra_summary", [])  # e.g. the stability term's weight and cost (planner/pipeline.py)
    if meta.get("frozen"):
        rows.append(("frozen_decisions", len(meta["frozen"]), "fixed to the previous plan's values (--freeze)"))
    rows += [
        ("input_file", meta["input_file"], ""), ("input_sha256", meta["input_sha256"], ""),
        ("planner_version", meta["planner_version"], ""), ("solver", meta["solver"], result.algorithm),
        ("solver_strategy", result.algorithm, result.algorithm_reason),
        ("solved_at", meta["solved_at"], "UTC"),
    ]
    for key, (value, where) in meta.get("numerics", {}).items():
        rows.append((f"coefficient_{key}", value, where))
    rows += [(f"option_{k}", v, "") for k, v in meta["options"].items()]
    rows += [(f"seconds_{k}", v, "phase time, wall clock") for k, v in phases.items()]
    for path in detail:
        rows.append(("detail_file", path.name, "full table beside this workbook (too long for an Excel sheet)"))
    return rows


def plan_by_quarter(data: PlanData, solution: SolutionTables) -> pd.DataFrame:
    """Rows = key quantities, columns = quarters: the view people compare over time."""
    t = solution.tables
    Q = data.quarters
    out: list[tuple[str, str, pd.Series]] = []

    def total(frame: pd.DataFrame, column: str) -> pd.Series:
        return frame.groupby("quarter")[column].sum().reindex(Q, fill_value=0.0) if len(frame) else \
            pd.Series(0.0, index=Q)

    def ratio(a: pd.Series, b: pd.Series) -> pd.Series:
        return (a / b.where(b > 0)).astype(float)

    s = t["Serving"]
    served, unmet, demand = total(s, "served_tps"), total(s, "unmet_tps"), total(s, "demand_tps")
    out += [("served_tps", "tok/s", served), ("unmet_tps", "tok/s", unmet), ("demand_tps", "tok/s", demand),
            ("service_level", "%", ratio(served, demand))]
    c = t["Capex"]
    out += [("own_capex_usd", "USD", total(c, "own_usd")), ("partner_capex_usd", "USD", total(c, "partner_usd"))]
    fabs = t["Fabs"]
    pack = t["Packaging"].dropna(subset=["capacity"]) if len(t["Packaging"]) else t["Packaging"]
    power = t["Power"]
    out += [("fab_utilization", "%", ratio(total(fabs, "wafers_started"), total(fabs, "capacity"))),
            ("hbm_utilization", "%", ratio(total(t["HBM"], "bought"), total(t["HBM"], "supply"))),
            ("packaging_utilization", "%", ratio(total(pack, "packaged"), total(pack, "capacity"))),
            ("power_utilization", "%", ratio(total(power, "mw_used"), total(power, "mw_available")))]
    dep = t["Deployments"]
    for p in data.products.index:
        out.append((f"racks_installed {p}", "racks", total(dep[dep["product"] == p], "racks_installed")))
    for p in data.products.index:
        out.append((f"racks_deployed {p}", "racks", total(dep[dep["product"] == p], "racks_deployed")))
    w = t["Wafers"]
    for f in data.fabs.index:
        out.append((f"wafers_started {f}", "wafers", total(w[w["fab"] == f], "wafers")))
    h = t["HBM"]
    for v in data.vendors.index:
        out.append((f"hbm_bought {v}", "stacks", total(h[h["vendor"] == v], "bought")))
    ch = t["Chips"]
    for p in data.products.index:
        out.append((f"chips_packaged {p}", "chips", total(ch[ch["product"] == p], "packaged")))
    out += [("mw_used", "MW", total(power, "mw_used")), ("mw_available", "MW", total(power, "mw_available")),
            ("blocks_started", "blocks", total(power, "blocks_started"))]
    frame = pd.DataFrame([[name, unit] + list(series.values) for name, unit, series in out],
                         columns=["metric", "unit"] + Q)
    return frame


UNIT_FORMATS = {"tok/s": '#,##0', "USD": '#,##0', "%": '0.0%', "MW": '#,##0.0', "racks": '#,##0.#',
                "wafers": '#,##0', "stacks": '#,##0', "chips": '#,##0', "blocks": '0'}


def write_plan_by_quarter(wb: Workbook, frame: pd.DataFrame):
    ws = wb.create_sheet("PlanByQuarter")
    ws.column_dimensions["A"].width = 34
    ws.freeze_panes = "C2"
    ws.append([cell(ws, c, font=HEADER_FONT, fill=HEADER_FILL) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        fmt = UNIT_FORMATS.get(row[1], "#,##0.##")
        ws.append([cell(ws, row[0]), cell(ws, row[1])] + [cell(ws, v, fmt) for v in row[2:]])
    return ws


def add_charts(wb: Workbook, pbq_ws, frame: pd.DataFrame, n_quarters: int, index: int = 1):
    """Native charts on the PlanByQuarter rows, so they update when the numbers are edited."""
    ws = wb.create_sheet("Charts", index)
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # the four charts print on one page
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 1
    row_of = {name: i + 2 for i, name in enumerate(frame["metric"])}
    first_col, last_col = 3, 2 + n_quarters

    def bar(title, names, y_title, anchor, stacked=True):
        chart = BarChart()
        chart.type = "col"
        chart.title, chart.y_axis.title = title, y_title
        if stacked:
            chart.grouping, chart.overlap = "stacked", 100
        _add_rows(chart, pbq_ws, [row_of[n] for n in names], first_col, last_col)
        chart.width, chart.height = 18, 8
        ws.add_chart(chart, anchor)

    def line(title, names, y_title, anchor):
        chart = LineChart()
        chart.title, chart.y_axis.title = title, y_title
        _add_rows(chart, pbq_ws, [row_of[n] for n in names], first_col, last_col)
        for series in chart.series:
            series.smooth = False  # a smoothed line overshoots: utilisation would appear above 100%
        chart.width, chart.height = 18, 8
        ws.add_chart(chart, anchor)

    bar("Demand: served vs unmet (tok/s)", ["served_tps", "unmet_tps"], "tok/s", "A1")
    bar("Capex by quarter: own vs partner (USD)", ["own_capex_usd", "partner_capex_usd"], "USD", "A18")
    line("Utilisation: fab, HBM, packaging, site power", ["fab_utilization", "hbm_utilization",
                                                          "packaging_utilization", "power_utilization"], "share", "A35")
    racks = [n for n in frame["metric"] if n.startswith("racks_installed ")]
    if racks:
        bar("Installed racks by product", racks, "racks", "A52")
    return ws


def _add_rows(chart, ws, rows: list[int], first_col: int, last_col: int) -> None:
    """One series per PlanByQuarter row, titled by the row's metric name (column A), with the quarter labels
    of row 1 as text categories (openpyxl's set_categories would declare them numeric)."""
    labels = Reference(ws, min_col=first_col, max_col=last_col, min_row=1, max_row=1)
    for r in rows:
        values = Reference(ws, min_col=first_col, max_col=last_col, min_row=r, max_row=r)
        series = Series(values, title=None)
        series.tx = SeriesLabel(strRef=StrRef(f"'{ws.title}'!$A${r}"))
        series.cat = AxDataSource(strRef=StrRef(f=str(labels)))
        chart.series.append(series)


def _aggregate(name: str, frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    keys = AGGREGATE_BY.get(name)
    if keys:
        numeric = [c for c in frame.columns if c not in keys and pd.api.types.is_numeric_dtype(frame[c])
                   and frame[c].dtype != bool and "shadow" not in c and c not in ("utilization", "service_level")]
        agg = frame.groupby(keys, sort=True, dropna=False)[numeric].sum().reset_index()
        if len(agg) <= limit:
            return agg
        frame = agg
    return frame.head(limit)


def _write_detail(name: str, frame: pd.DataFrame, output: Path, fmt: str) -> Path:
    suffix = ".parquet" if fmt == "parquet" else ".csv"
    target = output.with_name(f"{output.stem}.{name}{suffix}")
    try:
        return atomic_write(target, lambda tmp: frame.to_parquet(tmp, index=False) if fmt == "parquet"
                            else frame.to_csv(tmp, index=False))
    except ImportError:  # no Parquet engine installed
        return _write_detail(name, frame, output, "csv")


def write_plan(path: Path, data: PlanData, result: SolveResult, solution: SolutionTables | None,
               diagnosis: Diagnosis | None, meta: dict, phases: dict[str, float], issues: Issues,
               input_path: Path, options: WriteOptions | None = None) -> tuple[Path, str]:
    options = options or WriteOptions()
    path = Path(path)
    wb = Workbook(write_only=True)
    detail: list[Path] = []
    contract: dict[str, pd.DataFrame] = {}
    if solution is not None:
        for name in CONTRACT_SHEETS:
            frame = solution.tables[name]
            if len(frame) > options.max_sheet_rows:
                detail.append(_write_detail(name, frame, path, options.detail_format))
                frame = _aggregate(name, frame, options.max_sheet_rows)
            contract[name] = frame
    options.detail_files = detail
    bad = result.status != "optimal"
    write_key_values(wb, "Summary", summary_rows(data, result, solution, meta, phases, detail),
                     bold_keys=frozenset({"status", "objective_usd", "service_level"}),
                     red_keys=frozenset({"status", "status_message"}) if bad else frozenset())
    if diagnosis is not None:
        write_diagnosis(wb, diagnosis)
    if solution is not None:
        pbq = plan_by_quarter(data, solution)
        for name in CONTRACT_SHEETS:
            write_frame(wb, name, contract[name])
        pbq_ws = write_plan_by_quarter(wb, pbq)
        add_charts(wb, pbq_ws, pbq, data.T, index=2 if diagnosis is not None else 1)
    write_key_values(wb, "Inputs", inputs_echo(data, meta))
    values = input_values(data)
    if len(values) <= options.max_sheet_rows:
        write_frame(wb, "InputValues", values.astype({"value": object}), highlight=False)
    if len(issues):
        write_frame(wb, "Warnings", pd.DataFrame(
            [{"severity": i.severity, "sheet": i.sheet, "cell": i.cell, "column": i.column,
              "value": None if i.value is None else str(i.value), "message": i.message} for i in issues],
            columns=["severity", "sheet", "cell", "column", "value", "message"]))
    return safe_save(wb, path, input_path)


def inputs_echo(data: PlanData, meta: dict) -> list[tuple[str, object, str]]:
    rows = [(k, v, data.cell("Settings", (k,), "value") or "default") for k, v in asdict(data.settings).items()]
    rows.append(("horizon", f"{data.quarters[0]}..{data.quarters[-1]}", f"{data.T} quarters"))
    rows += [(f"option_{k}", v, "used for this run (Settings or command line)") for k, v in meta["options"].items()]
    rows.append(("input_file", meta["input_file"], meta["input_sha256"]))
    return rows


def write_diagnosis(wb: Workbook, diag: Diagnosis):
    ws = wb.create_sheet("Diagnosis")
    for letter, width in zip("ABCDEFGHI", (30, 22, 22, 14, 18, 16, 16, 12, 100)):
        ws.column_dimensions[letter].width = width
    ws.append([cell(ws, "What is wrong, in words", font=Font(bold=True, size=13))])
    for line in diag.summary:
        ws.append([cell(ws, line)])
    for title, frame in (("Conflict set: " + (diag.conflict_of or "none computed"), diag.conflict),
                         ("Smallest repair (least relative change of the input limits)", diag.repairs),
                         ("Alternatives: the least change within one kind of limit", diag.alternatives),
                         ("Pre-solve checks", diag.checks)):
        ws.append([])
        ws.append([cell(ws, title, font=Font(bold=True))])
        ws.append([cell(ws, c, font=HEADER_FONT, fill=HEADER_FILL) for c in frame.columns])
        for values in frame.itertuples(index=False, name=None):
            ws.append([cell(ws, v, number_format(str(c))) for c, v in zip(frame.columns, values)])
        if not len(frame):
            ws.append([cell(ws, "(none)")])
    return ws
