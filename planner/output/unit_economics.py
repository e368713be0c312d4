"""Unit economics of the plan: what a million tokens costs and how much energy it takes, per product and per
product x site, from the solution's tidy tables and the input data (never the Pyomo model).

Over the whole plan, undiscounted USD:

* tokens served = sum over quarters of served tok/s (Allocation) x hours_per_quarter x 3,600;
* rack capex = racks deployed x rack_capex_usd x a_t, the in-plan share of the capex (formulation.md: a_t =
  min(1, (T - t) / capex_life_quarters), 1 when charged as cash); installed-base racks carry no capex;
* power = racks installed x rack_kw x pue x hours_per_quarter / 1,000 x power_price_usd_per_mwh;
* wafers, HBM, packaging: by the product's own variables: its wafer starts (Wafers) x the fab's wafer price
  in that quarter, its HBM stacks (HBMUse) x the vendor's price, its chips packaged (Chips) x
  packaging_cost_usd. A product's manufacturing cost is shared among its sites by racks deployed there
  (by rack-quarters installed when it deployed none);
* energy = racks installed x rack_kw x pue x hours_per_quarter (kWh), all of it attributed to tokens served;
* capacity: a rack serves chips_per_rack x utilization x (tok/s per chip on the mix it served); capex per tok/s
  of capacity = rack_capex_usd / that; utilisation = chip-time busy serving / usable chip-time installed.

Left out (not caused by one product): site expansion capex, partner financing and deal costs, holding
costs, wafers paid under take-or-pay but not started, HBM bought but not used, the unmet-demand penalty.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from models.data import PlanData
from models.costs import capex_share
from planner.output.contract import Col, SolutionTables
from planner.output.sheet_rows import RowSheet
from planner.output.xlsx import add_table, number_format, printable

SECONDS_PER_HOUR = 3600.0
NOTES = [
    "Over the whole plan, undiscounted USD. Cost = rack capex at its in-plan share a_t (capex_life_quarters) "
    "+ power (racks installed x rack_kw x PUE x hours x power price) + wafers, HBM and packaging by the "
    "product's own variables (its wafer starts x wafer price, its HBM stacks x vendor price, its chips packaged "
    "x packaging cost).",
    "Energy = racks installed x rack_kw x PUE x hours (kWh), all attributed to the tokens served. Tokens = served "
    "tok/s x hours_per_quarter x 3,600, summed over quarters. Per site, a product's wafer, HBM and packaging cost "
    "is shared by racks deployed there.",
    "Not in it: site expansion capex, partner financing and deal costs, holding costs, take-or-pay wafers not "
    "started, HBM not used, the unmet-demand penalty. Capacity = chips_per_rack x utilization x tok/s per chip "
    "on the mix served; utilisation = busy chip-time / usable chip-time.",
]
COLUMNS = [Col.product, Col.site, "memory", "tokens_served", Col.capex_usd, "power_usd", "wafers_usd", "hbm_usd",
           "packaging_usd", Col.cost_usd, "cost_usd_per_mtok", "energy_kwh", "kwh_per_mtok", "capex_usd_per_tps",
           Col.utilization]
FORMATS = {"tokens_served": '#,##0', "cost_usd_per_mtok": '"$"#,##0.0000', "kwh_per_mtok": '#,##0.0000" kWh"',
           "energy_kwh": '#,##0" kWh"', "capex_usd_per_tps": '"$"#,##0.00'}


@dataclass
class UnitEconomics:
    by_product: pd.DataFrame
    by_site: pd.DataFrame
    sram_vs_hbm: dict[str, float]  # cost and energy ratios, SRAM-only products over HBM products


def _site_frame(data: PlanData, t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per (product, site): tokens, rack capex at a_t, power, energy, busy and usable chip-time."""
    hours = data.settings.hours_per_quarter
    prod, sites = data.products, data.sites
    qi = {q: i for i, q in enumerate(data.quarters)}
    dep = t["Deployments"].copy()
    dep["a"] = dep[Col.quarter].map(lambda q: capex_share(data, qi[q]))
    dep[Col.capex_usd] = dep[Col.racks_deployed] * dep[Col.product].map(prod["rack_capex_usd"]) * dep["a"]
    dep["energy_kwh"] = (dep[Col.racks_installed] * dep[Col.product].map(prod["rack_kw"])
                         * dep[Col.site].map(sites["pue"]) * hours)
    dep["power_usd"] = dep["energy_kwh"] / 1000.0 * dep[Col.site].map(sites["power_price_usd_per_mwh"])
    dep["usable"] = dep[Col.racks_installed] * dep[Col.product].map(prod["chips_per_rack"] * prod["utilization"])
    keys = [Col.product, Col.site]
    out = dep.groupby(keys)[[Col.racks_deployed, Col.racks_installed, Col.capex_usd, "energy_kwh", "power_usd",
                             "usable"]].sum()
    alloc = t["Allocation"]
    if len(alloc):
        alloc = alloc.assign(busy=alloc[Col.served_tps] / [data.throughput[(p, w)] for p, w in
                                                         zip(alloc[Col.product], alloc[Col.workload])])
        out = out.join(alloc.groupby(keys)[[Col.served_tps, "busy"]].sum(), how="left")
    else:
        out = out.assign(served_tps=0.0, busy=0.0)
    out = out.fillna({Col.served_tps: 0.0, "busy": 0.0})
    out["tokens_served"] = out[Col.served_tps] * hours * SECONDS_PER_HOUR
    return out.reset_index()


def _manufacturing(data: PlanData, t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per product: wafers, HBM and packaging cost of the product's own wafer starts, stacks and chips."""
    qi = {q: i for i, q in enumerate(data.quarters)}
    w = t["Wafers"]
    wafers = (w[Col.wafers] * [data.wafer_cost[(f, qi[q])] for f, q in zip(w[Col.fab], w[Col.quarter])]) if len(w) else w
    h = t["HBMUse"]
    hbm = h[Col.stacks] * h[Col.vendor].map(data.vendors["price_usd_per_stack"]) if len(h) else h
    c = t["Chips"]
    pack = c[Col.packaged] * c[Col.product].map(data.products["packaging_cost_usd"])
    out = pd.DataFrame(index=pd.Index(data.products.index, name=Col.product))
    out["wafers_usd"] = wafers.groupby(w[Col.product]).sum() if len(w) else 0.0
    out["hbm_usd"] = hbm.groupby(h[Col.product]).sum() if len(h) else 0.0
    out["packaging_usd"] = pack.groupby(c[Col.product]).sum() if len(c) else 0.0
    return out.fillna(0.0)


def _ratios(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame[Col.cost_usd] = frame[[Col.capex_usd, "power_usd", "wafers_usd", "hbm_usd", "packaging_usd"]].sum(axis=1)
    mtok = frame["tokens_served"] / 1e6
    frame["cost_usd_per_mtok"] = (frame[Col.cost_usd] / mtok.where(mtok > 0)).astype(float)
    frame["kwh_per_mtok"] = (frame["energy_kwh"] / mtok.where(mtok > 0)).astype(float)
    frame[Col.utilization] = (frame["busy"] / frame["usable"].where(frame["usable"] > 0)).astype(float)
    return frame


def _capex_per_tps(data: PlanData, frame: pd.DataFrame) -> pd.Series:
    """rack_capex_usd / (chips_per_rack x utilization x tok/s per busy chip on the mix served)."""
    prod = data.products.loc[frame[Col.product]]
    per_chip = frame[Col.served_tps] / frame["busy"].where(frame["busy"] > 0)
    capacity = prod["chips_per_rack"].values * prod["utilization"].values * per_chip
    return (prod["rack_capex_usd"].values / capacity.where(capacity > 0)).astype(float)


def unit_economics(data: PlanData, solution: SolutionTables) -> UnitEconomics:
    t = solution.tables
    site = _site_frame(data, t)
    made = _manufacturing(data, t)
    weight = site[Col.racks_deployed].where(site.groupby(Col.product)[Col.racks_deployed].transform("sum") > 0,
                                          site[Col.racks_installed])
    share = (weight / weight.groupby(site[Col.product]).transform("sum").where(lambda x: x > 0)).fillna(0.0)
    for c in made.columns:
        site[c] = site[Col.product].map(made[c]) * share
    numeric = [Col.racks_deployed, Col.racks_installed, Col.capex_usd, "energy_kwh", "power_usd", "usable", Col.served_tps,
               "busy", "tokens_served"]
    product = site.groupby(Col.product)[numeric].sum().reindex(data.products.index, fill_value=0.0)
    product = product.join(made).reset_index().rename(columns={"index": Col.product})
    product[Col.site] = "all sites"
    memory = (data.products["stacks_per_chip"] > 0).map({True: "HBM", False: "SRAM"})
    out = []
    for per_site, frame in ((False, product), (True, site)):
        frame = _ratios(frame)
        frame["memory"] = frame[Col.product].map(memory)
        frame["capex_usd_per_tps"] = _capex_per_tps(data, frame).values
        if per_site:  # a product with no rack at a site in the whole plan has no row there
            frame = frame[(frame[Col.racks_installed] > 0) | (frame["tokens_served"] > 0)]
        out.append(frame[COLUMNS].reset_index(drop=True))
    return UnitEconomics(out[0], out[1], _group_ratios(out[0]))


def _group_ratios(by_product: pd.DataFrame) -> dict[str, float]:
    """Cost and energy per million tokens of the SRAM-only products together over the HBM products together."""
    g = by_product.groupby("memory")[[Col.cost_usd, "energy_kwh", "tokens_served"]].sum()
    if not {"SRAM", "HBM"} <= set(g.index) or (g["tokens_served"] <= 0).any():
        return {}
    per = g[[Col.cost_usd, "energy_kwh"]].div(g["tokens_served"] / 1e6, axis=0)
    return {"sram_cost_usd_per_mtok": per.at["SRAM", Col.cost_usd], "hbm_cost_usd_per_mtok": per.at["HBM", Col.cost_usd],
            "sram_kwh_per_mtok": per.at["SRAM", "energy_kwh"], "hbm_kwh_per_mtok": per.at["HBM", "energy_kwh"],
            "cost_ratio": per.at["SRAM", Col.cost_usd] / per.at["HBM", Col.cost_usd],
            "energy_ratio": per.at["SRAM", "energy_kwh"] / per.at["HBM", "energy_kwh"]}


def _widths(ue: UnitEconomics) -> list[float]:
    """Each column as wide as its header or its longest number as displayed (no ###)."""
    both = pd.concat([ue.by_product, ue.by_site], ignore_index=True)
    out = []
    for c in COLUMNS:
        fmt = FORMATS.get(c, "")
        decimals = 4 if "0000" in fmt else 2 if ".00" in fmt else 0
        extra = 4 if "kWh" in fmt else 1 if "$" in fmt else 0
        longest = max((len(f"{v:,.{decimals}f}") + extra if isinstance(v, (int, float)) and v == v else len(str(v))
                       for v in both[c]), default=4)
        out.append(max(len(c) + 4, longest + 3, 10))
    return out


def write_unit_economics(wb, ue: UnitEconomics):
    """Notes first (what is in the numbers), then per product and per product x site, each an Excel Table."""
    ws = wb.create_sheet("UnitEconomics")
    sheet = RowSheet(ws, _widths(ue))
    printable(ws, repeat_header=False)
    sheet.section("Unit economics over the plan: what a million tokens costs, and the energy it takes")
    for note in NOTES:
        sheet.add([(1, note, None, None, None, sheet.ncols, True)])
    for title, frame in (("Per product", ue.by_product), ("Per product and site", ue.by_site)):
        sheet.blank()
        sheet.section(title)
        sheet.header(COLUMNS)
        top = sheet.row
        for values in frame.itertuples(index=False, name=None):
            sheet.add([(j, v, FORMATS.get(c, number_format(c)), None, None, j, False)
                       for j, (c, v) in enumerate(zip(COLUMNS, values), start=1)])
        if len(frame):
            add_table(wb, ws, COLUMNS, sheet.row, first_row=top)
    return ws
