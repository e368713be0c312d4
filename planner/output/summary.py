"""Summary: the plan on a page (one printed page, portrait), for a reviewer first and a script second.

Every row that carries a contract key (workbook.md: plan_name, status, objective_usd, mip_gap, ...) holds the
key in column A and its value in column B, so `planner.cycle.diff.summary_values` (and any script) finds it
wherever it stands; section titles and table rows use labels with capitals or spaces, never a key. How the
plan was made (solver options, phase times, coefficient ranges, versions) is on the Run sheet.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from openpyxl.styles import Font

from models.data import PlanData
from models.money import money
from planner.output.contract import FROZEN_QUARTERS_KEY, Col, SolutionTables
from planner.output.sheet_rows import NOTE, RowSheet
from planner.output.unit_economics import UnitEconomics
from planner.output.reasons import in_words, reason_label, unmet_reasons
from planner.output.xlsx import PERCENT, USD, number_format, printable
from planner.quarters import quarter_spans

if TYPE_CHECKING:  # the report reads the solver result, never Pyomo
    from models.solve import SolveResult

STATUS_WORDS = {
    "optimal": "OPTIMAL: proven best plan for this input",
    "feasible": "FEASIBLE, NOT PROVEN OPTIMAL: a valid plan, but a better one may exist (see mip_gap)",
    "infeasible": "INFEASIBLE: no plan meets every hard limit; see the Diagnosis sheet",
    "unbounded": "UNBOUNDED: the cost can fall without limit; see the Diagnosis sheet",
    "error": "ERROR: the solver returned no plan; see status_message",
}
UNIT_WORD = {"USD per wafer": "wafer", "USD per stack": "HBM stack", "USD per chip": "chip packaged",
             "USD per MW": "MW", "USD per USD": "USD of budget", "blocks": "expansion block"}
COST_WORDS = {Col.wafers: "wafers paid", "hbm": "HBM stacks", "packaging": "chip packaging",
              "own_capex": "own capex (at its in-plan share)", "partner_financing": "partner financing",
              "partner_deal_costs": "partner deal signing costs", "power": "electricity",
              "holding": "holding dies, chips and stacks", "unmet_penalty": "penalty for unmet demand",
              "terminal_value": "credit for what the plan leaves (terminal value)"}
MONEY_M = '"$"#,##0.0,,"M";[Red]-"$"#,##0.0,,"M"'
TPS = '#,##0" tok/s"'
RATIO = '0.00"x"'
BOLD = Font(name="Calibri", bold=True)
RED = Font(name="Calibri", bold=True, color="9C0006")
KEY_WIDTH, VALUE_WIDTH, QUARTER_WIDTH = 26.0, 21.0, 10.5


def write_summary(wb, data: PlanData, result: SolveResult, solution: SolutionTables | None, meta: dict,
                  detail: list[Path], ue: UnitEconomics | None = None, diagnosis=None):
    ws = wb.create_sheet("Summary", 0)
    n = max(data.T, 6)
    sheet = RowSheet(ws, [_key_width(data, solution), VALUE_WIDTH] + [QUARTER_WIDTH] * n)
    printable(ws, landscape=True, repeat_header=False)
    ws.page_setup.fitToHeight = 1  # the plan on one page
    ws.sheet_view.showGridLines = False
    sheet.header([Col.key, Col.value, Col.note])
    ws.merged_cells.add(f"C1:{_col(sheet.ncols)}1")
    _headline(sheet, data, result, solution, meta)
    if solution is None and diagnosis is not None and diagnosis.summary:
        sheet.section("What is wrong (the Diagnosis sheet has the tables and input cells)")
        for line in diagnosis.summary[:4]:
            sheet.add([(1, line, None, None, None, sheet.ncols, True)])
    if solution is not None:
        _costs(sheet, solution)
        _decisions(sheet, data, solution)
        _unmet(sheet, data, solution)
        _bottlenecks(sheet, solution)
        if ue is not None:
            _unit_economics(sheet, ue)
    _provenance(sheet, result, meta, detail)
    return ws


def _key_width(data: PlanData, solution: SolutionTables | None) -> float:
    """Column A fits every key and label it will hold (keys are never wrapped: a script reads them)."""
    labels = ["sram_vs_hbm_energy_ratio", "frozen_decisions"] + [f"{r} / {w}" for r, w in data.demand_rows]
    if solution is not None:
        labels += [f"cost_{c}_usd" for c in solution.cost_breakdown_usd]
        labels += [f"  of which {n}" for n in solution.tables["Partners"][Col.partner].astype(str)]
    return max([KEY_WIDTH] + [len(x) + 2 for x in labels])


def _col(j: int) -> str:
    from openpyxl.utils import get_column_letter
    return get_column_letter(j)


def _headline(sheet: RowSheet, data: PlanData, result: SolveResult, solution: SolutionTables | None, meta: dict):
    bad = result.status != "optimal"
    sheet.key_value("plan_name", data.settings.plan_name, font=BOLD)
    sheet.key_value(Col.status, result.status, note=STATUS_WORDS.get(result.status, ""), font=RED if bad else BOLD)
    sheet.key_value("status_message", result.message or "", font=RED if bad else None)
    sheet.key_value("horizon", f"{data.quarters[0]}..{data.quarters[-1]}",
                    note=f"{data.T} quarters; scenario {meta.get('scenario', 'base')}")
    k = solution.kpis if solution is not None else {}
    objective = solution.objective_usd if solution is not None else None
    sheet.key_value(Col.objective_usd, objective, USD, "discounted total cost, present value USD; blank when there "
                    "is no plan", font=BOLD)
    sheet.key_value("mip_gap", result.mip_gap if result.has_solution else None, '0.00%',
                    "relative gap between this plan and the best bound (0 for an LP)")
    demand = k.get("total_demand_tps", sum(data.demand.values()))
    served = k.get("total_served_tps")
    sheet.key_value(Col.service_level, k.get(Col.service_level), PERCENT, "served / demand, all rows and quarters",
                    font=BOLD)
    if solution is not None:
        _service_by(sheet, solution.tables["Serving"])
    sheet.key_value("total_demand_tps", demand, TPS, "sum over demand rows and quarters")
    sheet.key_value("total_served_tps", served, TPS, "sum over demand rows and quarters")
    sheet.key_value("total_unmet_tps", None if served is None else demand - served, TPS, "demand not served")
    sheet.key_value(Col.own_capex_usd, k.get(Col.own_capex_usd), USD,
                    "cash, all quarters: racks, power blocks (Capex) and packaging blocks (Budget)")
    sheet.key_value(Col.partner_capex_usd, k.get(Col.partner_capex_usd), USD, "cash partners fund, all quarters")
    sheet.key_value("terminal_value_usd", _terminal_value(solution), USD,
                    "credit for dies and chips left at the end (0 when unused)")
    if solution is not None:
        partners = solution.tables["Partners"]
        signed = ", ".join(partners.loc[partners[Col.signed].astype(bool), Col.partner].astype(str)) or "none"
        sheet.key_value("deals_signed", k.get("deals_signed"), '0', f"signed: {signed}")
    sheet.key_value("solve_seconds", result.solve_seconds, '0.0" s"', "HiGHS's own solve time; see Run")


def _terminal_value(solution: SolutionTables | None) -> float | None:
    if solution is None:
        return None
    if "terminal_value_usd" in solution.kpis:
        return solution.kpis["terminal_value_usd"]
    return -solution.cost_breakdown_usd.get("terminal_value", 0.0)


def _service_by(sheet: RowSheet, serving: pd.DataFrame) -> None:
    """One line per grouping: 'APAC 98.9% · EU 100.0% ...' (the same percent format as service_level)."""
    for column in (Col.region, Col.workload):
        parts = []
        for key, g in serving.groupby(column, sort=True):
            d = g[Col.demand_tps].sum()
            parts.append(f"{key} {_share_short_of_all(g['served_tps'].sum() / d)}" if d > 0 else f"{key} (no demand)")
        if parts:
            sheet.add([(1, f"  by {column}", None, None, None, 1, False),
                       (2, "  ·  ".join(parts), None, None, None, sheet.ncols, True)])


def _share_short_of_all(share: float) -> str:
    """98.9%; a share short of 100% never reads as 100.0% (0.99976 is '99.98%', 0.9999996 '>99.99%')."""
    text = f"{share:.1%}"
    if text != "100.0%" or share >= 1 - 1e-9:
        return text
    return f"{share:.2%}" if f"{share:.2%}" != "100.00%" else ">99.99%"


def _costs(sheet: RowSheet, solution: SolutionTables) -> None:
    sheet.section("Where the money goes (present value; the components add up to objective_usd)")
    total = solution.objective_usd or 0.0
    for c, v in solution.cost_breakdown_usd.items():
        share = f"{v / total:.1%} of the objective" if total else ""
        sheet.key_value(f"cost_{c}_usd", v, USD, f"{COST_WORDS.get(c, c)}; {share}" if share else COST_WORDS.get(c, c))


def _decisions(sheet: RowSheet, data: PlanData, solution: SolutionTables) -> None:
    """Quarters across: the key decisions of the plan and what they buy."""
    t, Q = solution.tables, data.quarters
    sheet.section("The key decisions, quarter by quarter (MW added: expansion blocks started)")
    sheet.header(["Decision", "Plan total"] + Q)

    def per_q(frame: pd.DataFrame, column: str) -> pd.Series:
        return frame.groupby(Col.quarter)[column].sum().reindex(Q, fill_value=0.0) if len(frame) else \
            pd.Series(0.0, index=Q)

    block = data.expansion["block_mw"] if len(data.expansion) else pd.Series(dtype=float)
    power = t["Power"].assign(mw_added=lambda f: f[Col.blocks_started] * f[Col.site].map(block).fillna(0.0))
    serving = t["Serving"]
    served, demand = per_q(serving, Col.served_tps), per_q(serving, Col.demand_tps)
    rows = [(Col.wafers_started, per_q(t["Wafers"], Col.wafers), '#,##0.0', True),
            ("hbm_stacks_bought", per_q(t["HBM"], Col.bought), '#,##0', True),
            *_paid_row(t["HBM"], per_q),
            (Col.racks_deployed, per_q(t["Deployments"], Col.racks_deployed), '#,##0', True),
            ("racks_in_service", per_q(t["Deployments"], Col.racks_installed), '#,##0', False),
            ("mw_added", per_q(power, "mw_added"), '#,##0.0', True),
            (Col.mw_used, per_q(t["Power"], Col.mw_used), '#,##0.0', False),
            # own capex as the headline counts it: racks and site blocks (Capex) plus packaging blocks (Budget)
            (Col.own_capex_usd, per_q(t["Capex"], Col.own_usd) + per_q(t["Budget"], Col.packaging_capex_usd), MONEY_M, True),
            (Col.partner_capex_usd, per_q(t["Capex"], Col.partner_usd), MONEY_M, True)]
    capex = t["Capex"]
    for r in t["Partners"].itertuples():
        if r.signed and r.partner in capex.columns:
            rows.append((f"  of which {r.partner}", per_q(capex, r.partner), MONEY_M, True))
    rows.append((Col.service_level, (served / demand.where(demand > 0)).astype(float), PERCENT, None))
    for label, series, fmt, flow in rows:
        total = series.sum() if flow else (served.sum() / demand.sum() if flow is None and demand.sum() else None)
        sheet.add([(1, label, None, None, None, 1, False), (2, total, fmt, BOLD, None, 2, False)]
                  + [(3 + j, v, fmt, None, None, 3 + j, False) for j, v in enumerate(series.values)])


def _paid_row(hbm: pd.DataFrame, per_q) -> list[tuple]:
    """The stacks paid, where a take-or-pay floor makes them more than those bought: the HBM cost is on them, so
    a quarter that buys none can still pay for 10,500 (a new-user trial read the spend there as zero)."""
    if not len(hbm) or Col.paid not in hbm.columns or not (hbm[Col.paid] > hbm[Col.bought] + 1e-6).any():
        return []
    return [("hbm_stacks_paid", per_q(hbm, Col.paid), '#,##0', True)]


def _unmet(sheet: RowSheet, data: PlanData, solution: SolutionTables, n: int = 5) -> None:
    """The demand rows with the most unmet tok/s, and why (Serving.limited_by when the plan reports it)."""
    s = solution.tables["Serving"]
    g = s.groupby([Col.region, Col.workload], sort=True).agg(demand=(Col.demand_tps, "sum"), unmet=(Col.unmet_tps, "sum"))
    g = g[g["unmet"] > 1e-6].sort_values("unmet", ascending=False, kind="mergesort").head(n)
    sheet.section("Unmet demand: where, and why" if len(g) else "Unmet demand: none, every tok/s is served")
    if not len(g):
        return
    sheet.header(["Region / workload", "Unmet tok/s", "Share of demand", "Why"])
    sheet.ws.merged_cells.add(f"D{sheet.row}:{_col(sheet.ncols)}{sheet.row}")
    for (region, workload), row in g.iterrows():
        rows = s[(s[Col.region] == region) & (s[Col.workload] == workload) & (s[Col.unmet_tps] > 1e-6)]
        sheet.add([(1, f"{region} / {workload}", None, None, None, 1, False),
                   (2, row["unmet"], TPS, None, None, 2, False),
                   (3, row["unmet"] / row["demand"] if row["demand"] else None, PERCENT, None, None, 3, False),
                   (4, _why(data, rows, workload), None, None, None, sheet.ncols, True, NOTE)])
    for key, text, note in unmet_reasons(solution.tables, data):  # unmet_reason_1..3, grouped by limit
        sheet.add([(1, key, None, None, None, 1, False), (2, text, None, None, None, sheet.ncols, True)])


def _why(data: PlanData, rows: pd.DataFrame, workload: str) -> str:
    quarters = quarter_spans(list(rows[Col.quarter]), data.quarters)
    if Col.limited_by in rows.columns:
        told = rows[[isinstance(x, str) and bool(x.strip()) for x in rows[Col.limited_by]]]
        if len(told):
            return f"{_reasons_by_share(told)} (unmet in {quarters})"
    penalty = float(data.workloads.at[workload, "unmet_penalty_usd_per_tps"]) if workload in data.workloads.index \
        else None
    price = f"; leaving it unmet costs ${penalty:,.2f} per tok/s per quarter, less than serving it" \
        if penalty is not None else ""
    return f"unmet in {quarters}{price}"


def _reasons_by_share(rows: pd.DataFrame) -> str:
    """The rows' first limits grouped over quarters, by their share of the unmet tok/s: the top one's full text
    (quarter and cell of its largest row), then the next two in words."""
    share = rows.groupby(rows[Col.limited_by].map(reason_label), sort=False)[Col.unmet_tps].sum()
    share = share.sort_values(ascending=False, kind="mergesort")
    total = float(share.sum()) or 1.0
    top = share.index[0]
    of_top = rows[rows[Col.limited_by].map(reason_label) == top]
    text = str(of_top.loc[of_top[Col.unmet_tps].idxmax(), Col.limited_by]).split("; ")[0]
    if len(share) == 1:
        return text
    rest = ", ".join(f"{in_words(label)} {_share(tps / total)}" for label, tps in share.iloc[1:3].items())
    more = f" and {len(share) - 3} more" if len(share) > 3 else ""
    return f"{text}: {_share(share.iloc[0] / total)} of it; then {rest}{more}"


def _share(x: float) -> str:
    return f"{x:.0%}" if x >= 0.005 else "<1%"


def _bottlenecks(sheet: RowSheet, solution: SolutionTables, n: int = 5) -> None:
    sheet.section("The five most valuable bottlenecks (raise these limits first)")
    for i, line in enumerate(bottleneck_sentences(solution, n), start=1):
        sheet.add([(1, f"bottleneck_{i}", None, None, None, 1, False), (2, line, None, None, None, sheet.ncols, True)])


def _dearest(rows: pd.DataFrame) -> pd.Series:
    """The row a sentence quotes: the largest measured one-more-unit saving, else the dearest shadow price."""
    if Col.one_more_unit_saves_usd in rows.columns and rows[Col.one_more_unit_saves_usd].notna().any():
        return rows.loc[rows[Col.one_more_unit_saves_usd].astype(float).idxmax()]
    return rows.loc[rows[Col.shadow_price].fillna(0.0).abs().idxmax()]


def _measured(rows: pd.DataFrame, column: str) -> float | None:
    """The largest measured saving of `column` among a limit's rows (None: none measured)."""
    if column not in rows.columns or not rows[column].notna().any():
        return None
    return float(rows[column].astype(float).max())


def _ranked_limits(b: pd.DataFrame) -> list[tuple]:
    """(family, key) most valuable first: by shadow price x limit summed over the quarters, except that a limit whose
    every measured step (one quarter, or all its priced quarters at once) saves under $1 goes last: raising it
    alone lowers nothing (another limit takes over at once), whatever its price says (a new-user trial: a
    site ranked third said 'one more MW saves $0')."""
    value = b.groupby([Col.family, Col.key], sort=False)[Col.value_usd].sum().sort_values(ascending=False,
                                                                                         kind="mergesort")
    def futile(limit) -> bool:
        rows = b[(b[Col.family] == limit[0]) & (b[Col.key] == limit[1])]
        saved = [x for x in (_measured(rows, Col.one_more_unit_saves_usd),
                             _measured(rows, Col.one_more_unit_each_quarter_saves_usd)) if x is not None]
        return bool(saved) and max(saved) < 1.0
    order = list(value.index)
    return [k for k in order if not futile(k)] + [k for k in order if futile(k)]


def _dollars(x: float) -> str:
    """'$2,190,000' (whole dollars: a price in millions has no cents worth reading), '$0.2048' below $100."""
    return money(x) if abs(x) >= 100 else f"${x:,.4g}"


def bottleneck_sentences(solution: SolutionTables, n: int = 5) -> list[str]:
    """One sentence per limit (family and key), most valuable first, naming every quarter it binds in."""
    b = solution.tables["Bottlenecks"]
    if not len(b):
        return ["No limit binds: every capacity has room to spare."]
    horizon = [str(q) for q in solution.tables["Budget"][Col.quarter]]  # one row per quarter, in order
    lines = []
    for family, key in _ranked_limits(b)[:n]:
        rows = group = b[(b[Col.family] == family) & (b[Col.key] == key)]
        binding = rows[rows[Col.binding].astype(bool)] if Col.binding in rows.columns else rows
        rows = binding if len(binding) else rows  # the quarters it binds in; else those it nearly fills
        top = _dearest(rows)
        unit = UNIT_WORD.get(top[Col.unit], top[Col.unit])
        what = str(top[Col.what])
        what = what[:1].upper() + what[1:]
        quarters = [str(q) for q in rows[Col.quarter] if str(q)]
        when = f" in {quarter_spans(quarters, horizon)}" if quarters else ""
        zero = [str(q) for q, x in zip(rows[Col.quarter], rows[Col.limit]) if str(q) and x == 0] \
            if Col.limit in rows.columns else []
        if zero:  # a fab not yet running binds too, but what to raise there is its start
            when += f" (its limit is 0 in {quarter_spans(zero, horizon)})"
        most = f"most in {top['quarter']}, " if len(quarters) > 1 else ""
        cell = f" ({most}input {top['input_cell']})" if top[Col.input_cell] else ""
        step = top.get(Col.one_more_unit_saves_usd)
        price = abs(top[Col.shadow_price])
        together = _measured(group, Col.one_more_unit_each_quarter_saves_usd)
        if together is not None and price > 1e-9:
            priced = [str(q) for q in group.loc[group[Col.one_more_unit_each_quarter_saves_usd].notna(), Col.quarter]]
            each = (f"in each of those {len(priced)} quarters" if sorted(priced) == sorted(quarters) else
                    f"in each of the {len(priced)} quarters it is priced in ({quarter_spans(priced, horizon)})")
            alone = f"; in {top[Col.quarter]} alone: {_dollars(step)}" if step is not None and not pd.isna(step) \
                else ""
            lines.append(f"{what} binds{when}: one more {unit} {each} saves {_dollars(together)} of discounted "
                         f"cost, re-solved{alone}{cell}.")
        elif step is not None and not pd.isna(step) and price > 1e-9:
            where = f" in {top[Col.quarter]}" if top[Col.quarter] else ""
            at = f" (input {top[Col.input_cell]})" if top[Col.input_cell] else ""
            # the value function is convex in the limit: the dual is at most the loss of one unit less
            tail = (f" (its shadow price: {_dollars(price)} per {unit})" if step >= 0.9 * price else
                    f"; one {unit} less would cost at least {_dollars(price)} (its shadow price)")
            lines.append(f"{what} binds{when}: one more {unit}{where}{at} saves {_dollars(step)} of discounted "
                         f"cost, re-solved{tail}.")
        elif price > 1e-9:
            lines.append(f"{what} binds{when}: one more {unit} saves up to {_dollars(price)} "
                         f"of discounted cost{cell}.")
        else:
            lines.append(f"{what} is used to {top['utilization']:.0%} or more{when}, unpriced (whole units leave "
                         f"a little room){cell}.")
    return lines


def _unit_economics(sheet: RowSheet, ue: UnitEconomics) -> None:
    r = ue.sram_vs_hbm
    if not r:
        return
    sram = ", ".join(ue.by_product.loc[ue.by_product["memory"] == "SRAM", Col.product].astype(str))
    hbm = ", ".join(ue.by_product.loc[ue.by_product["memory"] == "HBM", Col.product].astype(str))
    sheet.section(f"SRAM chips ({sram}) against HBM chips ({hbm}), on the mix each served (UnitEconomics sheet)")
    sheet.key_value("sram_vs_hbm_cost_ratio", r["cost_ratio"], RATIO,
                    f"cost per million tokens: ${r['sram_cost_usd_per_mtok']:,.4f} SRAM vs "
                    f"${r['hbm_cost_usd_per_mtok']:,.4f} HBM (capex share, power, wafers, HBM, packaging)")
    sheet.key_value("sram_vs_hbm_energy_ratio", r["energy_ratio"], RATIO,
                    f"energy per million tokens: {r['sram_kwh_per_mtok']:,.3f} kWh SRAM vs "
                    f"{r['hbm_kwh_per_mtok']:,.3f} kWh HBM (rack kW x PUE x hours)")


def _provenance(sheet: RowSheet, result: SolveResult, meta: dict, detail: list[Path]) -> None:
    sheet.section("Where this plan comes from (solver details on the Run sheet)")
    sheet.key_value(Col.scenario, meta.get(Col.scenario, Col.base), note="Scenarios sheet; base = the workbook as it is")
    for i, text in enumerate(meta.get("overrides", []), start=1):
        sheet.key_value(f"override_{i}", text, note="applied before validation")
    for key, value, note in meta.get("extra_summary", []):  # e.g. the stability term's weight and cost
        sheet.key_value(key, value, number_format(key) if isinstance(value, (int, float)) else None, note=note)
    if meta.get("frozen"):
        sheet.key_value("frozen_decisions", len(meta["frozen"]), '0', "fixed to the previous plan's values (--freeze)")
        sheet.key_value(FROZEN_QUARTERS_KEY, ", ".join(meta.get("frozen_quarters", [])),
                        note="their decisions are fixed: their limits are not priced (planner diff leaves them out)")
    sheet.key_value("input_file", meta["input_file"])
    sheet.key_value("input_sha256", meta["input_sha256"])
    sheet.key_value("planner_version", meta["planner_version"])
    sheet.key_value("solver", meta["solver"], note=result.algorithm)
    sheet.key_value("solved_at", meta["solved_at"], note="UTC")
    for path in detail:
        sheet.key_value("detail_file", path.name, note="full table beside this workbook (too long for a sheet)")
