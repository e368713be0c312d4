"""Small random but valid input workbooks that use every input sheet of workbook.md.

`random_sheets(seed)` returns {sheet: rows} for `planner.input.writer.write_input_workbook`. Sizes are tiny (1-3
products, 1-2 fabs, 1-3 vendors, 1-3 sites in 1-2 regions, 2-4 quarters) and numbers small so every MIP solves in
well under a second, while the economics stay interesting: serving usually pays, but fab, HBM, packaging, power,
budget and partner limits bind in different seeds. `min_service_level` is mostly 0, so most plans are feasible;
a few seeds carry a service floor or an installed base above site power and are expected to be infeasible
(both the planner and the reference must then say so).
"""

from __future__ import annotations

import random


def _q_index(label: str) -> int:
    return int(label[:4]) * 4 + int(label[5]) - 1


def _q_label(i: int) -> str:
    return f"{i // 4}Q{i % 4 + 1}"


def _quarters(start: str, n: int) -> list[str]:
    i = _q_index(start)
    return [_q_label(i + k) for k in range(n)]


def _shift(start: str, k: int) -> str:
    return _q_label(_q_index(start) + k)


def random_sheets(seed: int) -> dict[str, list[list]]:
    rng = random.Random(seed)
    T = rng.randint(2, 4)
    start = rng.choice(["2026Q1", "2025Q3", "2027Q2", "2026Q4"])
    Q = _quarters(start, T)

    def maybe(x, p_blank=0.2):
        return None if rng.random() < p_blank else x

    def money(lo, hi):
        return round(rng.uniform(lo, hi), 2)

    # ---- Settings -------------------------------------------------------------------------------------
    settings = [["key", "value"], ["plan_name", f"crosscheck-{seed}"], ["start_quarter", start], ["quarters", T],
                ["discount_rate_annual", rng.choice([0, 0.05, 0.1, 0.2])],
                ["integer_racks", rng.random() < 0.7],
                ["integer_wafers", rng.random() < 0.4],
                ["budget_carryover", rng.random() < 0.5],
                ["capex_life_quarters", rng.choice([None, None, None, 0, 1, 2, 2.5, 3, 6, 12])],
                ["mip_rel_gap", 1e-9]]
    if rng.random() < 0.5:
        settings.append(["hours_per_quarter", rng.choice([2190, 2000, 2184, 0])])
    settings.append(["time_limit_s", 60])

    # ---- Products, fabs, routes -------------------------------------------------------------------------
    nP = rng.randint(1, 3)
    P = [f"P{i + 1}" for i in range(nP)]
    lines = ["default", "PK1", "PK2"][: rng.randint(1, 3)]
    products = [["product", "chips_per_rack", "rack_kw", "rack_capex_usd", "life_quarters", "stacks_per_chip",
                 "packaging_line", "packaging_cost_usd", "utilization", "initial_die_bank",
                 "initial_chip_inventory", "die_holding_cost_usd", "chip_holding_cost_usd"]]
    hbm_products = []
    for p in P:
        spc = rng.choice([0, 0, 1, 1.5, 2, 4]) if rng.random() < 0.8 else None
        if spc:
            hbm_products.append(p)
        products.append([p, rng.choice([4, 8, 10]), money(5, 40), money(200, 3000), rng.randint(1, 5), spc,
                         maybe(rng.choice(lines)), maybe(money(0, 20)), maybe(round(rng.uniform(0.5, 1.0), 3)),
                         maybe(rng.choice([0, 10, 35])), maybe(rng.choice([0, 8, 20])),
                         maybe(money(0, 3)), maybe(money(0, 5))])
    nF = rng.randint(1, 2)
    Fb = [f"F{i + 1}" for i in range(nF)]
    fabs = [["fab", "wafer_cost_usd", "foundry", "node"]] + [[f, money(50, 400), "Foundry", "N3"] for f in Fb]
    routes = [["product", "fab", "dies_per_wafer", "yield", "lead_quarters"]]
    route_keys = []
    for p in P:
        fs = [f for f in Fb if rng.random() < 0.7] or ([rng.choice(Fb)] if rng.random() < 0.9 else [])
        for f in fs:
            lead = rng.choice([0, 0, 0, 1, 1, 2, T])  # lead T: wafers never arrive inside the plan
            routes.append([p, f, rng.randint(5, 40), round(rng.uniform(0.4, 1.0), 3), lead])
            route_keys.append((p, f))
    fab_capacity = [["fab"] + Q] + [[f] + [rng.choice([0, 5, 10, 20, 40, 60]) for _ in Q] for f in Fb]
    fab_min = [["fab"] + Q] + [[f] + [maybe(rng.choice([0, 2, 5, 10, 2.5, 80]), 0.4) for _ in Q]
                               for f in Fb if rng.random() < 0.6]
    fab_cost = [["fab"] + Q] + [[f] + [maybe(money(40, 500), 0.5) for _ in Q] for f in Fb if rng.random() < 0.6]
    yields = [["product", "fab"] + Q] + [[p, f] + [maybe(round(rng.uniform(0.3, 1.0), 3), 0.5) for _ in Q]
                                         for (p, f) in route_keys if rng.random() < 0.5]
    receipts = [["product"] + Q] + [[p] + [maybe(rng.choice([0, 10, 50, 120]), 0.4) for _ in Q]
                                    for p in P if rng.random() < 0.5]

    # ---- HBM --------------------------------------------------------------------------------------------
    nV = rng.randint(1, 3)
    V = [f"V{i + 1}" for i in range(nV)]
    vendors = [["vendor", "price_usd_per_stack", "initial_inventory", "holding_cost_usd"]] + [
        [v, money(5, 60), maybe(rng.choice([0, 20, 100])), maybe(money(0, 3))] for v in V]
    supply = [["vendor"] + Q] + [[v] + [maybe(rng.choice([0, 40, 100, 300, 800]), 0.15) for _ in Q]
                                 for v in V if rng.random() < 0.9]
    qual = [["vendor", "product"]]
    for p in P:
        vs = [v for v in V if rng.random() < 0.6]
        if p in hbm_products and not vs and rng.random() < 0.9:
            vs = [rng.choice(V)]
        qual += [[v, p] for v in vs]
    used_lines = sorted({r[6] or "default" for r in products[1:]})
    packaging = [["packaging_line"] + Q] + [[k] + [maybe(rng.choice([0, 20, 60, 200]), 0.15) for _ in Q]
                                            for k in used_lines if rng.random() < 0.6]

    # ---- Sites, power -----------------------------------------------------------------------------------
    regions = ["NA", "EU"][: rng.randint(1, 2)]
    nS = rng.randint(1, 3)
    S = [f"S{i + 1}" for i in range(nS)]
    site_region = {s: rng.choice(regions) for s in S}
    sites = [["site", "region", "pue", "power_price_usd_per_mwh"]] + [
        [s, site_region[s], round(rng.uniform(1.0, 1.6), 2), money(0, 120)] for s in S]
    site_power = [["site"] + Q] + [[s] + [maybe(round(rng.uniform(0.03, 0.8), 3), 0.08) for _ in Q]
                                   for s in S if rng.random() < 0.95]
    expansion = [["site", "block_mw", "capex_usd_per_mw", "lead_quarters", "max_blocks"]] + [
        [s, rng.choice([0.05, 0.1, 0.25]), money(2000, 60000), rng.choice([0, 0, 1, 2, T]), rng.randint(0, 3)]
        for s in S if rng.random() < 0.6]
    base = [["product", "site", "racks", "retire_quarter"]]
    kw = {r[0]: r[2] for r in products[1:]}
    pue = {r[0]: r[2] for r in sites[1:]}
    power = {r[0]: [x or 0.0 for x in r[1:]] for r in site_power[1:]}
    mw_base: dict = {}
    for p in P:
        for s in S:
            if rng.random() < 0.2:
                retire = rng.choice([None, None, _shift(start, rng.randint(-1, T + 1))])
                racks = rng.choice([1, 1, 2, 0.5])
                # keep the base within the site's power (and the plan feasible) except now and then
                mw = racks * kw[p] * pue[s] / 1000.0 + max(mw_base.get((s, t), 0.0) for t in range(T))
                if mw > min(power.get(s, [0.0] * T)) and rng.random() < 0.85:
                    continue
                for t in range(T):
                    mw_base[(s, t)] = mw_base.get((s, t), 0.0) + racks * kw[p] * pue[s] / 1000.0
                base.append([p, s, racks, retire])

    # ---- Workloads, demand, links -----------------------------------------------------------------------
    nW = rng.randint(1, 2)
    Wk = [f"w{i + 1}" for i in range(nW)]
    workloads = [["workload", "unmet_penalty_usd_per_tps", "min_service_level"]]
    for w in Wk:
        msl = None if rng.random() < 0.92 else rng.choice([0, 0.02, 0.1, 0.5])
        workloads.append([w, money(0.5, 40), msl])
    throughput = [["product", "workload", "tokens_per_s_per_chip"]]
    for p in P:
        for w in Wk:
            if rng.random() < 0.75:
                throughput.append([p, w, rng.choice([20, 35, 50, 80, 120])])
    demand_regions = regions + (["APAC"] if rng.random() < 0.3 else [])
    demand = [["region", "workload"] + Q]
    for r in demand_regions:
        for w in Wk:
            if rng.random() < 0.85:
                demand.append([r, w] + [maybe(rng.choice([0, 200, 500, 1000, 2500, 5000]), 0.1) for _ in Q])
    links = [["site", "region"]]
    for s in S:
        for r in demand_regions:
            if r != site_region[s] and rng.random() < 0.4:
                links.append([s, r])
            elif r == site_region[s] and rng.random() < 0.1:
                links.append([s, r])  # listing the own region is allowed and changes nothing
    budget = [["item"] + Q, ["own_capex_usd"] + [maybe(rng.choice([0, 2000, 8000, 30000, 1e6]), 0.1) for _ in Q]]

    # ---- Partners ---------------------------------------------------------------------------------------
    nN = rng.choice([0, 1, 1, 2])
    partners = [["partner", "commitment_usd", "min_deal_usd", "fixed_deal_cost_usd", "financing_cost_rate",
                 "first_quarter", "last_quarter"]]
    partner_sites = [["partner", "site"]]
    for i in range(nN):
        n = f"N{i + 1}"
        a = rng.randint(-1, T - 1)
        b = rng.randint(max(a, 0), T)
        if rng.random() < 0.1:  # a window wholly outside the horizon: the partner funds nothing
            a, b = T, T + 2
        first = None if rng.random() < 0.4 and a <= 0 else _shift(start, a)
        last = None if rng.random() < 0.4 and T - 1 <= b <= T else _shift(start, b)
        commit = money(2000, 60000)
        min_deal = round(commit * (rng.uniform(0, 0.8) if rng.random() < 0.9 else 1.2), 2)
        partners.append([n, commit, maybe(min_deal, 0.3), maybe(money(0, 3000)),
                         maybe(round(rng.uniform(0, 0.3), 3)), first, last])
        for s in S:
            if rng.random() < 0.6:
                partner_sites.append([n, s])

    hbm_min, expansion_lines = _levers(seed, Q, products, vendors, qual, packaging)
    return {
        "HBMMinStacks": hbm_min, "PackagingExpansion": expansion_lines,
        "Settings": settings, "Products": products, "Fabs": fabs, "Routes": routes, "FabCapacity": fab_capacity,
        "FabMinWafers": fab_min, "FabWaferCost": fab_cost, "Yield": yields, "ScheduledReceipts": receipts,
        "HBMVendors": vendors, "HBMSupply": supply, "HBMQualification": qual, "PackagingCapacity": packaging,
        "Sites": sites, "SitePower": site_power, "SiteExpansion": expansion, "InstalledBase": base,
        "Workloads": workloads, "Throughput": throughput, "Demand": demand, "ServingLinks": links,
        "Budget": budget, "Partners": partners, "PartnerSites": partner_sites,
    }


def _levers(seed: int, Q: list[str], products: list[list], vendors: list[list], qual: list[list],
            packaging: list[list]) -> tuple[list[list], list[list]]:
    """Families 17-20 on top of the base workbook, from their own random stream (so each seed's base workbook is
    what it was before them): HBMMinStacks floors, HBMQualification.first_quarter (blank, before, inside and after
    the horizon), PackagingExpansion on lines with a PackagingCapacity row, Products.terminal_value_usd_per_die.
    Edits `products` and `qual` in place; returns the HBMMinStacks and PackagingExpansion sheets."""
    rng = random.Random(10_007 * seed + 17)
    T = len(Q)
    products[0].append("terminal_value_usd_per_die")
    for row in products[1:]:
        row.append(rng.choice([None, None, 0, 1, 5, 20, 60]))
    qual[0].append("first_quarter")
    for row in qual[1:]:
        row.append(rng.choice([None, None, None, _shift(Q[0], -1), _shift(Q[0], rng.randint(1, T)),
                               _shift(Q[0], T + 2)]))
    hbm_min = [["vendor"] + Q] + [[r[0]] + [rng.choice([None, 0, 10, 50, 200]) for _ in Q]
                                  for r in vendors[1:] if rng.random() < 0.4]
    expansion = [["packaging_line", "block_chips", "capex_usd_per_block", "lead_quarters", "max_blocks"]]
    for r in packaging[1:]:
        if rng.random() < 0.6:
            expansion.append([r[0], rng.choice([10, 20, 60]), round(rng.uniform(5, 600), 2),
                              rng.choice([0, 1, 1, 2, T]), rng.randint(0, 3)])
    return hbm_min, expansion
