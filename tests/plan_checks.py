"""Re-check a plan workbook's numbers against its own echo of the input: capacities, balances, demand.

Reads only the output workbook (the contract sheets and InputValues), never the model."""

from __future__ import annotations

import pandas as pd

TOL = 1e-5


def _close(a, b, scale=1.0):
    return abs(a - b) <= TOL * max(1.0, abs(scale), abs(a), abs(b))


def check_plan(path) -> list[str]:
    x = pd.read_excel(path, sheet_name=None, engine="calamine", keep_default_na=False, na_values=[""])
    problems: list[str] = []
    inputs = x["InputValues"]
    value = {(r.sheet, str(r.key), str(r.column)): r.value for r in inputs.itertuples()}
    quarters = [c for c in x["PlanByQuarter"].columns if c not in ("metric", "unit")]
    products = sorted({k[1] for k in value if k[0] == "Products"})

    def inp(sheet, key, column, default=0.0):
        v = value.get((sheet, key, column), default)
        return default if v is None or (isinstance(v, float) and v != v) else float(v)

    for r in x["Fabs"].itertuples():
        if r.wafers_started > r.capacity + TOL * max(1, r.capacity):
            problems.append(f"Fabs {r.fab} {r.quarter}: started {r.wafers_started} > capacity {r.capacity}")
        if r.wafers_paid + TOL * max(1, r.wafers_paid) < max(r.wafers_started, r.min_wafers):
            problems.append(f"Fabs {r.fab} {r.quarter}: paid {r.wafers_paid} < started/min")
    chips = x["Chips"]
    for p in products:
        rows = chips[chips["product"].astype(str) == p].set_index("quarter").reindex(quarters)
        bank, stock = inp("Products", p, "initial_die_bank"), inp("Products", p, "initial_chip_inventory")
        for q, r in rows.iterrows():
            bank = bank + r.good_dies_in - r.packaged
            stock = stock + r.packaged - r.chips_deployed
            if not _close(bank, r.die_bank_end, bank):
                problems.append(f"Chips {p} {q}: die bank {r.die_bank_end} != balance {bank}")
            if not _close(stock, r.chip_inventory_end, stock):
                problems.append(f"Chips {p} {q}: chip inventory {r.chip_inventory_end} != balance {stock}")
            bank, stock = r.die_bank_end, r.chip_inventory_end
            if min(r.die_bank_end, r.chip_inventory_end) < -TOL:
                problems.append(f"Chips {p} {q}: negative inventory")
    hbm = x["HBM"]
    for v in sorted(hbm["vendor"].astype(str).unique()):
        stock = inp("HBMVendors", v, "initial_inventory")
        for r in hbm[hbm["vendor"].astype(str) == v].itertuples():
            if r.bought > r.supply + TOL * max(1, r.supply):
                problems.append(f"HBM {v} {r.quarter}: bought {r.bought} > supply {r.supply}")
            stock = stock + r.bought - r.used
            if not _close(stock, r.inventory_end, stock) or r.inventory_end < -TOL:
                problems.append(f"HBM {v} {r.quarter}: inventory {r.inventory_end} != balance {stock}")
            stock = r.inventory_end
    for r in x["Packaging"].itertuples():
        if pd.notna(r.capacity) and r.capacity != "" and r.packaged > float(r.capacity) + TOL * max(1, float(r.capacity)):
            problems.append(f"Packaging {r.packaging_line} {r.quarter}: {r.packaged} > {r.capacity}")
    for r in x["Power"].itertuples():
        if r.mw_used > r.mw_available + TOL * max(1, r.mw_available):
            problems.append(f"Power {r.site} {r.quarter}: used {r.mw_used} > available {r.mw_available}")
    alloc = x["Allocation"]
    served = alloc.groupby([alloc["region"].astype(str), alloc["workload"].astype(str), "quarter"])["served_tps"].sum()
    for r in x["Serving"].itertuples():
        if not _close(r.served_tps + r.unmet_tps, r.demand_tps, r.demand_tps):
            problems.append(f"Serving {r.region}/{r.workload} {r.quarter}: served + unmet != demand")
        if not _close(served.get((str(r.region), str(r.workload), r.quarter), 0.0), r.served_tps, r.demand_tps):
            problems.append(f"Serving {r.region}/{r.workload} {r.quarter}: Allocation does not add up")
    dep = x["Deployments"].set_index([x["Deployments"]["product"].astype(str), x["Deployments"]["site"].astype(str),
                                      "quarter"])
    busy = {}
    for r in alloc.itertuples():
        tps = inp("Throughput", f"{r.product}/{r.workload}", "tokens_per_s_per_chip")
        key = (str(r.product), str(r.site), r.quarter)
        busy[key] = busy.get(key, 0.0) + r.served_tps / tps
    for key, chips_busy in busy.items():
        racks = dep.loc[key, "racks_installed"]
        cap = inp("Products", key[0], "utilization", 1.0) * inp("Products", key[0], "chips_per_rack") * racks
        if chips_busy > cap + TOL * max(1, cap):
            problems.append(f"Serving capacity {key}: {chips_busy} chips busy > {cap}")
    for r in x["Capex"].itertuples():
        if not _close(r.capex_usd, r.own_usd + r.partner_usd, r.capex_usd):
            problems.append(f"Capex {r.site} {r.quarter}: total != own + partner")
    carry = str(value.get(("Settings", "budget_carryover", "value"), "False")) in ("True", "TRUE", "1")
    spent = budget = 0.0
    for r in x["Budget"].itertuples():
        spent, budget = (spent if carry else 0.0) + r.own_capex_usd, (budget if carry else 0.0) + r.budget_usd
        if spent > budget + TOL * max(1, budget):
            problems.append(f"Budget {r.quarter}: own capex {spent} > budget {budget}")
    for r in x["Partners"].itertuples():
        signed = str(r.signed).lower() in ("true", "1")
        if r.funded_usd > (r.commitment_usd if signed else 0.0) + TOL * max(1, r.commitment_usd):
            problems.append(f"Partners {r.partner}: funded {r.funded_usd} beyond its (signed) commitment")
        if signed and r.funded_usd + TOL * max(1, r.min_deal_usd) < r.min_deal_usd:
            problems.append(f"Partners {r.partner}: signed but funded below the minimum deal")
    summary = dict(zip(x["Summary"]["key"], x["Summary"]["value"]))
    parts = sum(float(v) for k, v in summary.items() if str(k).startswith("cost_") and str(k).endswith("_usd"))
    if not _close(parts, float(summary["objective_usd"]), float(summary["objective_usd"])):
        problems.append(f"Summary: cost components {parts} do not add up to objective {summary['objective_usd']}")
    return problems
