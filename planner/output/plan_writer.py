"""The plan workbook a planner reviews: Summary first (the plan on a page, summary.py), Diagnosis when the plan
failed, Charts, Pivots (pivots.py), UnitEconomics (unit_economics.py), the stable contract sheets of workbook.md
(tidy, one row per index, Excel Tables), PlanByQuarter, Run (run_sheet.py), Inputs echo and Warnings.

Reads SolutionTables (pandas) only; never touches Pyomo.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference, Series
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter



from models.data import PlanData
from planner.output.input_values import input_values
from planner.diagnose.findings import Diagnosis
from planner.issues import Issues
from planner.output.xlsx import (EXCEL_MAX_ROWS, HEADER_FILL, HEADER_FONT, ONE_DECIMAL, PERCENT, WHOLE, YES_NO,
                                  atomic_write, cell, finish_pages, number_format, printable, safe_save, text_lines,
                                  write_frame, write_key_values)
from planner.output.contract import CONTRACT_SHEETS, Col, SolutionTables
from planner.output.pivots import pivots, write_pivots, write_region_table
from planner.output.run_sheet import run_rows
from planner.output.summary import STATUS_WORDS, write_summary  # noqa: F401  (STATUS_WORDS: kept importable)
from planner.output.unit_economics import UnitEconomics, unit_economics, write_unit_economics
from planner.output.xml_rows import PlanWorkbook
from planner.quarters import quarter_spans

if TYPE_CHECKING:  # the writer reads the solver result, never Pyomo
    from models.solve import SolveResult
# how a too-long sheet is summed up inside the workbook (the full table goes beside it)
AGGREGATE_BY = {
    "Allocation": [Col.product, Col.region, Col.workload, Col.quarter], "Deployments": [Col.product, Col.quarter],
    "Wafers": [Col.product, Col.fab, Col.quarter], "HBMUse": [Col.vendor, Col.product, Col.quarter],
    "Serving": [Col.region, Col.workload, Col.quarter], "Power": [Col.quarter], "Capex": [Col.quarter],
    "Chips": [Col.product, Col.quarter], "Bottlenecks": None,
}


@dataclass
class WriteOptions:
    max_sheet_rows: int = EXCEL_MAX_ROWS - 1  # data rows per sheet before the table goes to a file beside
    detail_format: str = "parquet"  # parquet | csv
    detail_files: list[Path] = field(default_factory=list)


def plan_by_quarter(data: PlanData, solution: SolutionTables) -> pd.DataFrame:
    """Rows = key quantities, columns = quarters: the view people compare over time."""
    t = solution.tables
    Q = data.quarters
    out: list[tuple[str, str, pd.Series]] = []

    def total(frame: pd.DataFrame, column: str) -> pd.Series:
        return frame.groupby(Col.quarter)[column].sum().reindex(Q, fill_value=0.0) if len(frame) else \
            pd.Series(0.0, index=Q)

    def ratio(a: pd.Series, b: pd.Series) -> pd.Series:
        return (a / b.where(b > 0)).astype(float)

    s = t["Serving"]
    served, unmet, demand = total(s, Col.served_tps), total(s, Col.unmet_tps), total(s, Col.demand_tps)
    out += [(Col.served_tps, "tok/s", served), (Col.unmet_tps, "tok/s", unmet), (Col.demand_tps, "tok/s", demand),
            (Col.service_level, "%", ratio(served, demand))]
    c, budget = t["Capex"], t.get("Budget", pd.DataFrame())
    packaging = total(budget, Col.packaging_capex_usd) if Col.packaging_capex_usd in budget.columns else 0.0
    # packaging expansion capex is own-funded and on no site: in own capex as in Summary's own_capex_usd
    out += [(Col.own_capex_usd, "USD", total(c, Col.own_usd) + packaging),
            (Col.partner_capex_usd, "USD", total(c, Col.partner_usd))]
    fabs = t["Fabs"]
    pack = t["Packaging"].dropna(subset=[Col.capacity]) if len(t["Packaging"]) else t["Packaging"]
    power = t["Power"]
    out += [("fab_utilization", "%", ratio(total(fabs, Col.wafers_started), total(fabs, Col.capacity))),
            ("hbm_utilization", "%", ratio(total(t["HBM"], Col.bought), total(t["HBM"], Col.supply))),
            ("packaging_utilization", "%", ratio(total(pack, Col.packaged), total(pack, Col.capacity))),
            ("power_utilization", "%", ratio(total(power, Col.mw_used), total(power, Col.mw_available)))]
    dep = t["Deployments"]
    for p in data.products.index:
        out.append((f"racks_installed {p}", "racks", total(dep[dep[Col.product] == p], Col.racks_installed)))
    for p in data.products.index:
        out.append((f"racks_deployed {p}", "racks", total(dep[dep[Col.product] == p], Col.racks_deployed)))
    w = t["Wafers"]
    for f in data.fabs.index:
        out.append((f"wafers_started {f}", Col.wafers, total(w[w[Col.fab] == f], Col.wafers)))
    h = t["HBM"]
    for v in data.vendors.index:
        out.append((f"hbm_bought {v}", Col.stacks, total(h[h[Col.vendor] == v], Col.bought)))
    ch = t["Chips"]
    for p in data.products.index:
        out.append((f"chips_packaged {p}", "chips", total(ch[ch[Col.product] == p], Col.packaged)))
    out += [(Col.mw_used, "MW", total(power, Col.mw_used)), (Col.mw_available, "MW", total(power, Col.mw_available)),
            (Col.blocks_started, "blocks", total(power, Col.blocks_started))]
    frame = pd.DataFrame([[name, unit] + list(series.values) for name, unit, series in out],
                         columns=[Col.metric, Col.unit] + Q)
    return frame


UNIT_FORMATS = {"tok/s": '#,##0', "USD": '#,##0', "%": '0.0%', "MW": '#,##0.0', "racks": '#,##0',
                Col.wafers: '#,##0.0', Col.stacks: '#,##0', "chips": '#,##0', "blocks": '#,##0'}


def write_plan_by_quarter(wb: Workbook, frame: pd.DataFrame, data: PlanData | None = None):
    """Quarters across; every column wide enough for its largest number (no ###), one page wide."""
    ws = wb.create_sheet("PlanByQuarter")
    formats = dict(UNIT_FORMATS)
    if data is not None and not data.settings.integer_racks:
        formats["racks"] = '#,##0.0'
    ws.column_dimensions["A"].width = max([len(str(m)) for m in frame[Col.metric]] + [20]) + 2
    ws.column_dimensions["B"].width = 8
    for j, q in enumerate(frame.columns[2:], start=3):
        biggest = pd.to_numeric(frame[q], errors="coerce").abs().max()
        digits = len(f"{biggest:,.0f}") if pd.notna(biggest) else 4
        ws.column_dimensions[get_column_letter(j)].width = max(10, digits + 4)
    ws.freeze_panes = "C2"
    printable(ws)
    ws.print_title_cols = "A:B"
    ws.append([cell(ws, c, font=HEADER_FONT, fill=HEADER_FILL) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        fmt = formats.get(row[1], "#,##0.##")
        ws.append([cell(ws, row[0]), cell(ws, row[1])] + [cell(ws, v, fmt) for v in row[2:]])
    return ws


def add_charts(wb: Workbook, pbq_ws, frame: pd.DataFrame, n_quarters: int, index: int = 1):
    """Native charts on the PlanByQuarter rows, so they update when the numbers are edited."""
    ws = wb.create_sheet("Charts", index)
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # the four charts print on one page
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 1
    row_of = {name: i + 2 for i, name in enumerate(frame[Col.metric])}
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

    bar("Demand: served vs unmet (tok/s)", [Col.served_tps, Col.unmet_tps], "tok/s", "A1")
    bar("Capex by quarter: own vs partner (USD)", [Col.own_capex_usd, Col.partner_capex_usd], "USD", "A18")
    line("Utilisation: fab, HBM, packaging, site power", ["fab_utilization", "hbm_utilization",
                                                          "packaging_utilization", "power_utilization"], "share", "A35")
    racks = [n for n in frame[Col.metric] if n.startswith("racks_installed ")]
    if racks:
        bar("Installed racks by product", racks, "racks", "A52")
    return ws


def add_region_chart(charts_ws, pivot_ws, rows: tuple[int, int]) -> None:
    """Served vs unmet tok/s by region over the plan: a stacked bar per region, on the Pivots cells, drawn
    beside them (on `charts_ws`)."""
    first, last = rows
    if last < first:
        return
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "bar", "stacked", 100
    chart.title, chart.x_axis.title = "Served vs unmet by region (tok/s, all quarters)", None
    for col in (3, 4):
        values = Reference(pivot_ws, min_col=col, max_col=col, min_row=first, max_row=last)
        series = Series(values, title=None)
        series.tx = SeriesLabel(strRef=StrRef(f"'{pivot_ws.title}'!${get_column_letter(col)}${first - 1}"))
        series.cat = AxDataSource(strRef=StrRef(f=f"'{pivot_ws.title}'!$A${first}:$A${last}"))
        chart.series.append(series)
    chart.width, chart.height = 16, 3 + 0.9 * (last - first + 1)
    charts_ws.add_chart(chart, f"H{first - 1}")


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
                   and frame[c].dtype != bool and "shadow" not in c and c not in (Col.utilization, Col.service_level)]
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


def sheet_formats(data: PlanData) -> dict[str, dict[str, str]]:
    """Display formats by unit where the column name alone does not tell: stacks, chips, whole racks."""
    racks = WHOLE if data.settings.integer_racks else ONE_DECIMAL
    wafers = WHOLE if data.settings.integer_wafers else ONE_DECIMAL
    stacks = {c: WHOLE for c in (Col.supply, Col.bought, Col.paid, Col.min_stacks, Col.used, Col.inventory_end, Col.stacks)}
    return {"HBM": stacks, "HBMUse": stacks, "Packaging": {Col.packaged: WHOLE, Col.capacity: WHOLE},
            "Chips": {Col.packaged: WHOLE}, "Deployments": {Col.racks_deployed: racks, Col.racks_installed: racks},
            "Wafers": {Col.wafers: wafers}, "Fabs": {Col.wafers_started: wafers, Col.capacity: wafers,
                                                   Col.min_wafers: wafers, Col.wafers_paid: wafers},
            "Partners": {Col.signed: YES_NO}, "Power": {Col.blocks_started: WHOLE}}


def partners_view(partners: pd.DataFrame, capex: pd.DataFrame, quarters: list[str]) -> pd.DataFrame:
    """Partners as a reviewer reads it: signed shown yes/no (stored 1/0, so roll, freeze and diff read it back
    as true/false), and the quarters the deal funds."""
    out = partners.copy()
    out[Col.signed] = out[Col.signed].astype(bool).astype(int)
    funds = []
    for n in out[Col.partner]:
        if n in capex.columns and len(capex):
            by_q = capex.groupby(Col.quarter)[n].sum()
            funded = [q for q in quarters if by_q.get(q, 0.0) > 1e-6]
        else:
            funded = []
        funds.append(quarter_spans(funded, quarters) or "none")
    out[Col.funds_quarters] = funds
    return out


def write_plan(path: Path, data: PlanData, result: SolveResult, solution: SolutionTables | None,
               diagnosis: Diagnosis | None, meta: dict, phases: dict[str, float], issues: Issues,
               input_path: Path, options: WriteOptions | None = None) -> tuple[Path, str]:
    options = options or WriteOptions()
    path = Path(path)
    wb = PlanWorkbook()
    detail: list[Path] = []
    contract: dict[str, pd.DataFrame] = {}
    if solution is not None:
        for name in CONTRACT_SHEETS:
            frame = solution.tables[name]
            if name == "Partners":
                frame = partners_view(frame, solution.tables["Capex"], data.quarters)
            if len(frame) > options.max_sheet_rows:
                detail.append(_write_detail(name, frame, path, options.detail_format))
                frame = _aggregate(name, frame, options.max_sheet_rows)
            contract[name] = frame
    options.detail_files = detail
    ue = unit_economics(data, solution) if solution is not None else None
    write_summary(wb, data, result, solution, meta, detail, ue, diagnosis)
    if diagnosis is not None:
        write_diagnosis(wb, diagnosis)
    if solution is not None:
        _write_plan_sheets(wb, data, solution, contract, ue, chart_index=2 if diagnosis is not None else 1)
    write_key_values(wb, "Run", run_rows(result, meta, phases, detail),
                     red_keys=frozenset({Col.status, "status_message"}) if result.status != "optimal" else frozenset())
    write_key_values(wb, "Inputs", inputs_echo(data, meta))
    values = input_values(data)
    if len(values) <= options.max_sheet_rows:
        write_frame(wb, "InputValues", values.astype({Col.value: object}), highlight=False)
    if len(issues):
        write_frame(wb, "Warnings", pd.DataFrame(
            [{Col.severity: i.severity, Col.sheet: i.sheet, Col.cell: i.cell, Col.column: i.column,
              Col.value: None if i.value is None else str(i.value), Col.message: i.message} for i in issues],
            columns=[Col.severity, Col.sheet, Col.cell, Col.column, Col.value, Col.message]))
    finish_pages(wb, data.settings.plan_name)
    return safe_save(wb, path, input_path)


def _write_plan_sheets(wb: Workbook, data: PlanData, solution: SolutionTables, contract: dict[str, pd.DataFrame],
                       ue: UnitEconomics, chart_index: int) -> None:
    """Pivots and UnitEconomics after Charts, then the contract sheets, PlanByQuarter; Charts go in front."""
    pivot_ws, pivot_rows, _positions = write_pivots(wb, data, pivots(data, solution))
    regions = write_region_table(pivot_rows, solution)
    write_unit_economics(wb, ue)
    formats = sheet_formats(data)
    for name in CONTRACT_SHEETS:
        write_frame(wb, name, contract[name], formats=formats.get(name))
    pbq = plan_by_quarter(data, solution)
    pbq_ws = write_plan_by_quarter(wb, pbq, data)
    add_charts(wb, pbq_ws, pbq, data.T, index=chart_index)
    add_region_chart(pivot_ws, pivot_ws, regions)


def inputs_echo(data: PlanData, meta: dict) -> list[tuple[str, object, str]]:
    rows = [(k, v, data.cell("Settings", (k,), "value") or "default") for k, v in asdict(data.settings).items()]
    rows.append(("horizon", f"{data.quarters[0]}..{data.quarters[-1]}", f"{data.T} quarters"))
    rows += [(f"option_{k}", v, "used for this run (Settings or command line)") for k, v in meta["options"].items()]
    rows.append(("input_file", meta["input_file"], meta["input_sha256"]))
    return rows


SHARE_COLUMNS = frozenset({Col.current, Col.repaired, Col.change})  # a repair row's values, in its unit


def write_diagnosis(wb: Workbook, diag: Diagnosis):
    ws = wb.create_sheet("Diagnosis")
    widths = (30, 22, 22, 14, 18, 16, 16, 12, 100)
    for letter, width in zip("ABCDEFGHI", widths):
        ws.column_dimensions[letter].width = width
    printable(ws, repeat_header=False)
    ws.append([cell(ws, "What is wrong, in words", font=Font(name="Calibri", bold=True, size=13))])
    for row, line in enumerate(diag.summary, start=2):  # each wraps across the table's width, as tall as its text
        c = cell(ws, line)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        ws.merged_cells.add(f"A{row}:I{row}")
        ws.row_dimensions[row].height = 15 * text_lines(line, (sum(widths) - 1) * 1.1) + 2
        ws.append([c])
    for title, frame in (("Conflict set: " + (diag.conflict_of or "none computed"), diag.conflict),
                         ("Smallest repair (least relative change of the input limits)", diag.repairs),
                         ("Alternatives: the least change within one kind of limit", diag.alternatives),
                         ("Pre-solve checks", diag.checks)):
        ws.append([])
        ws.append([cell(ws, title, font=Font(name="Calibri", bold=True))])
        ws.append([cell(ws, c, font=HEADER_FONT, fill=HEADER_FILL) for c in frame.columns])
        unit_at = list(frame.columns).index(Col.unit) if Col.unit in frame.columns else None
        for values in frame.itertuples(index=False, name=None):
            # a service floor's share shows as the headline says it (39.8%, not 0.398)
            share = unit_at is not None and values[unit_at] == "share"
            ws.append([cell(ws, v, PERCENT if share and c in SHARE_COLUMNS else number_format(str(c)))
                       for c, v in zip(frame.columns, values)])
        if not len(frame):
            ws.append([cell(ws, "(none)")])
    return ws
