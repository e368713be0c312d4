"""The pivots a reviewer reads across: rows = fab, vendor, site (x product), columns = quarters, with totals.

Built from the SolutionTables frames only; the `Pivots` sheet holds one section per pivot, each a title row,
a header row, one row per key, and a total row (flows also get a plan-total column).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from openpyxl.styles import Font
from openpyxl.worksheet.pagebreak import Break

from models.data import PlanData
from planner.output.contract import Col, SolutionTables
from planner.output.sheet_rows import RowSheet
from planner.output.xlsx import ONE_DECIMAL, PERCENT, USD, WHOLE, printable

TOTAL = "total"
MW = '#,##0.0;[Red]-#,##0.0'

BOLD = Font(name="Calibri", bold=True)


@dataclass
class Pivot:
    title: str
    frame: pd.DataFrame  # columns: key, detail, quarters..., [total]; last row = the total row
    fmt: str
    flow: bool  # flows sum over quarters (a total column); stocks do not
    labels: tuple[str, str] = (Col.site, "")


def pivot(frame: pd.DataFrame, key: str, column: str, quarters: list[str], detail: str | None = None,
          detail_value: str = "") -> pd.DataFrame:
    """Rows = key (x detail), columns = quarters, values = sum of `column`."""
    keys = [key] + ([detail] if detail else [])
    if len(frame):
        # groupby + unstack, not pivot_table: the same frames; the example's pivots 72 -> 56 ms
        p = frame.groupby(keys + [Col.quarter], sort=True)[column].sum().unstack(Col.quarter, fill_value=0.0)
        p = p.reindex(columns=quarters, fill_value=0.0).reset_index()
    else:
        p = pd.DataFrame(columns=keys + quarters)
    p.columns.name = None
    out = pd.DataFrame({Col.key: p[key].astype(str), Col.detail: p[detail].astype(str) if detail else detail_value})
    for q in quarters:
        out[q] = p[q].astype(float).values if len(p) else []
    return out


def with_totals(frame: pd.DataFrame, quarters: list[str], flow: bool, label: str = TOTAL) -> pd.DataFrame:
    frame = frame.copy()
    total = {Col.key: label, Col.detail: ""}
    total.update({q: float(frame[q].sum()) for q in quarters})
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    if flow:
        frame["plan total"] = frame[quarters].sum(axis=1)
    return frame


def pivots(data: PlanData, solution: SolutionTables) -> list[Pivot]:
    t, Q = solution.tables, data.quarters
    racks = WHOLE if data.settings.integer_racks else ONE_DECIMAL
    wafers = WHOLE if data.settings.integer_wafers else ONE_DECIMAL
    out = [
        Pivot("Wafers started by fab (wafers)", pivot(t["Wafers"], Col.fab, Col.wafers, Q), wafers, True, (Col.fab, "")),
        Pivot("HBM stacks bought by vendor (stacks)", pivot(t["HBM"], Col.vendor, Col.bought, Q), WHOLE, True,
              (Col.vendor, "")),
        Pivot("Racks deployed by site and product (racks)", pivot(t["Deployments"], Col.site, Col.racks_deployed, Q,
                                                                  Col.product), racks, True, (Col.site, Col.product)),
        Pivot("Racks installed (in service) by site and product (racks)",
              pivot(t["Deployments"], Col.site, Col.racks_installed, Q, Col.product), racks, False, (Col.site, Col.product)),
        Pivot("MW used by site (racks installed x rack kW x PUE, MW)", pivot(t["Power"], Col.site, Col.mw_used, Q), MW, False),
        Pivot("MW available by site (site power + expansion blocks online, MW)",
              pivot(t["Power"], Col.site, Col.mw_available, Q), MW, False),
        Pivot("Capex by site: own and partner (USD, cash)", _capex(t["Capex"], Q), USD, True, (Col.site, "funded by")),
    ]
    deals = _deals(t, Q)
    if len(deals):
        out.append(Pivot("Partner deals: funding by quarter (USD)", deals, USD, True, (Col.partner, "deal")))
    return [Pivot(p.title, with_totals(p.frame, Q, p.flow), p.fmt, p.flow, p.labels) for p in out]


def _capex(capex: pd.DataFrame, Q: list[str]) -> pd.DataFrame:
    own = pivot(capex, Col.site, Col.own_usd, Q, detail_value="own")
    partner = pivot(capex, Col.site, Col.partner_usd, Q, detail_value=Col.partner)
    return pd.concat([own, partner], ignore_index=True).sort_values([Col.key, Col.detail], kind="mergesort") \
        .reset_index(drop=True)


def _deals(t: dict[str, pd.DataFrame], Q: list[str]) -> pd.DataFrame:
    partners, capex = t["Partners"], t["Capex"]
    rows = []
    for r in partners.itertuples():
        funded = capex.groupby(Col.quarter)[r.partner].sum() if r.partner in capex.columns and len(capex) else {}
        row = {Col.key: str(r.partner), Col.detail: Col.signed if r.signed else "not signed"}
        row.update({q: float(funded.get(q, 0.0)) for q in Q})
        rows.append(row)
    return pd.DataFrame(rows, columns=[Col.key, Col.detail] + Q)


def write_pivots(wb, data: PlanData, tables: list[Pivot], index: int | None = None):
    """One sheet, one section per pivot; widths fit the numbers; prints one page wide."""
    ws = wb.create_sheet("Pivots") if index is None else wb.create_sheet("Pivots", index)
    Q = data.quarters
    key_width = max([len(str(k)) for p in tables for k in p.frame[Col.key]] + [10]) + 2
    detail_width = max([len(str(k)) for p in tables for k in p.frame[Col.detail]] + [8]) + 2
    biggest = max([float(p.frame[Q + (["plan total"] if p.flow else [])].abs().max().max()) for p in tables] + [1.0])
    number_width = max(11.0, len(f"{biggest:,.0f}") + 3)
    sheet = RowSheet(ws, [key_width, detail_width] + [number_width] * (len(Q) + 1))
    printable(ws, repeat_header=False)
    ws.freeze_panes = "C1"
    positions = {}
    for p in tables:
        sheet.section(p.title)
        sheet.header(list(p.labels) + Q + (["plan total"] if p.flow else []))
        first = sheet.row + 1
        for values in p.frame.itertuples(index=False, name=None):
            font = BOLD if values[0] == TOTAL else None
            items = [(1, values[0], None, font, None, 1, False), (2, values[1], None, font, None, 2, False)]
            items += [(3 + j, v, p.fmt, font, None, 3 + j, False) for j, v in enumerate(values[2:])]
            sheet.add(items)
        positions[p.title] = (first, sheet.row)
        sheet.blank()
    return ws, sheet, positions


def write_region_table(sheet: RowSheet, solution: SolutionTables) -> tuple[int, int]:
    """Demand, served and unmet tok/s by region over the plan (the Charts' served-vs-unmet picture reads it).
    Returns the first and last data rows."""
    s = solution.tables["Serving"]
    g = s.groupby(Col.region, sort=True)[[Col.demand_tps, Col.served_tps, Col.unmet_tps]].sum()
    sheet.ws.row_breaks.append(Break(id=sheet.row))  # the table and its chart print together on a new page
    sheet.section("Demand by region, summed over the quarters (tok/s)")
    sheet.header([Col.region, "", "served", "unmet", "demand", "service level"])
    first = sheet.row + 1
    for region, r in g.iterrows():
        level = r[Col.served_tps] / r[Col.demand_tps] if r[Col.demand_tps] > 0 else None
        sheet.add([(1, str(region), None, None, None, 1, False), (3, r[Col.served_tps], WHOLE, None, None, 3, False),
                   (4, r[Col.unmet_tps], WHOLE, None, None, 4, False), (5, r[Col.demand_tps], WHOLE, None, None, 5, False),
                   (6, level, PERCENT, None, None, 6, False)])
    return first, sheet.row
