"""Solved model -> SolutionTables: tidy pandas frames in the user's units (USD, tok/s, MW, units).

Shadow prices are reported as the present-value USD the objective falls by when the limit is raised by
one unit of the user's input (per wafer, stack, chip, MW, USD of budget); for demand, the USD the
objective rises by per extra tok/s of demand. They come from the LP, or for a MIP from the LP with the
expansion blocks and deals fixed at the plan's values and racks continuous (models/prices.py; Summary's
duals_from says which).
"""

from __future__ import annotations


import pandas as pd
import pyomo.environ as pyo

from models.costs import COST_COMPONENTS
from models.sets import TPS_PER_MTPS, USD_PER_MUSD, USD_PER_OBJ, ModelSets
from models.solve import SolveResult
from planner.output.contract import SolutionTables  # noqa: F401 (the extract's product)

from models.data import PlanData

EPS = 1e-7
NEAR_BINDING = 0.99  # a limit used to this share is listed in Bottlenecks even without a shadow price


def _v(var) -> float:
    x = var.value
    return 0.0 if x is None or abs(x) < 1e-9 else float(x)


def _dual(result: SolveResult, con) -> float | None:
    if not result.duals:
        return None
    y = result.duals.get(con)
    return 0.0 if y is None else y


def _price(y: float | None, scale: float, sign: float = -1.0) -> float | None:
    if y is None:
        return None
    value = sign * y * scale
    return 0.0 if abs(value) < 1e-9 else value


def extract(m: pyo.ConcreteModel, sets: ModelSets, data: PlanData, result: SolveResult) -> SolutionTables:
    Q = data.quarters
    T = sets.T
    out = SolutionTables()
    tables = out.tables
    prod = data.products

    # Wafers and fabs
    lead = data.routes["lead_quarters"].to_dict()
    dpw = data.routes["dies_per_wafer"].to_dict()
    from planner.quarters import quarter_index, quarter_label
    q0 = quarter_index(Q[0])
    rows = []
    for (p, f) in sets.routes:
        for t in T:
            w = _v(m.W[p, f, t])
            arrival = t + int(lead[(p, f)])
            rows.append({"product": p, "fab": f, "quarter": Q[t], "wafers": w,
                         "good_dies_out": w * dpw[(p, f)] * data.yields[(p, f, t)],
                         "arrival_quarter": quarter_label(q0 + arrival), "arrives_in_plan": arrival < len(T)})
    tables["Wafers"] = pd.DataFrame(rows, columns=["product", "fab", "quarter", "wafers", "good_dies_out",
                                                   "arrival_quarter", "arrives_in_plan"])
    rows = []
    for f in sets.fabs:
        for t in T:
            started = sum(_v(m.W[p, g, t]) for (p, g) in sets.routes if g == f)
            cap = data.fab_capacity.get((f, t), 0.0)
            con = m.fab_capacity[f, t] if (f, t) in m.fab_capacity else None
            rows.append({"fab": f, "quarter": Q[t], "wafers_started": started, "capacity": cap,
                         "min_wafers": data.fab_min_wafers.get((f, t), 0.0), "wafers_paid": _v(m.WP[f, t]),
                         "utilization": started / cap if cap > 0 else None,
                         "shadow_price_usd_per_wafer": _price(_dual(result, con), USD_PER_OBJ) if con is not None
                         else None,
                         "take_or_pay_shadow_usd_per_wafer": _price(_dual(result, m.take_or_pay[f, t]), USD_PER_OBJ, 1.0)
                         if (f, t) in m.take_or_pay else None})
    tables["Fabs"] = pd.DataFrame(rows, columns=["fab", "quarter", "wafers_started", "capacity", "min_wafers",
                                                 "wafers_paid", "utilization", "shadow_price_usd_per_wafer",
                                                 "take_or_pay_shadow_usd_per_wafer"])

    # Chips
    good_in: dict[tuple[str, int], float] = {}
    for (p, f) in sets.routes:
        for t in T:
            arrival = t + int(lead[(p, f)])
            if arrival < len(T):
                good_in[(p, arrival)] = good_in.get((p, arrival), 0.0) + \
                    _v(m.W[p, f, t]) * dpw[(p, f)] * data.yields[(p, f, t)]
    rows = []
    per_rack = prod["chips_per_rack"].to_dict()
    for p in sets.products:
        for t in T:
            deployed = sum(_v(m.Y[p, s, t]) for s in sets.racks_by_product.get(p, ()))
            rows.append({"product": p, "quarter": Q[t],
                         "good_dies_in": good_in.get((p, t), 0.0) + data.receipts.get((p, t), 0.0),
                         "packaged": _v(m.B[p, t]), "die_bank_end": _v(m.ID[p, t]),
                         "chips_deployed": deployed * per_rack[p], "chip_inventory_end": _v(m.IC[p, t])})
    tables["Chips"] = pd.DataFrame(rows, columns=["product", "quarter", "good_dies_in", "packaged", "die_bank_end",
                                                  "chips_deployed", "chip_inventory_end"])

    # HBM
    rows = []
    for v in sets.vendors:
        for t in T:
            used = sum(_v(m.H[vv, p, t]) for (vv, p) in sets.hbm_pairs if vv == v and (vv, p, t) in m.H)
            bought = _v(m.HB[v, t])
            rows.append({"vendor": v, "quarter": Q[t], "supply": data.hbm_supply.get((v, t), 0.0),
                         "bought": bought, "paid": _v(m.HP[v, t]) if (v, t) in m.HP else bought,
                         "min_stacks": data.hbm_min_stacks.get((v, t), 0.0), "used": used,
                         "inventory_end": _v(m.IH[v, t]),
                         "shadow_price_usd_per_stack": _price(_dual(result, m.hbm_supply[v, t]), USD_PER_OBJ),
                         "take_or_pay_shadow_usd_per_stack": _price(_dual(result, m.hbm_take_or_pay[v, t]),
                                                                    USD_PER_OBJ, 1.0)
                         if (v, t) in m.hbm_take_or_pay else None})
    tables["HBM"] = pd.DataFrame(rows, columns=["vendor", "quarter", "supply", "bought", "paid", "min_stacks", "used",
                                                "inventory_end", "shadow_price_usd_per_stack",
                                                "take_or_pay_shadow_usd_per_stack"])
    tables["HBMUse"] = pd.DataFrame(
        [{"vendor": v, "product": p, "quarter": Q[t], "stacks": _v(m.H[v, p, t])} for (v, p, t) in sets.hbm_uses],
        columns=["vendor", "product", "quarter", "stacks"])

    # Packaging
    rows = []
    line_of = prod["packaging_line"].to_dict()
    for k in sorted(set(line_of.values())):
        members = [p for p in sets.products if line_of[p] == k]
        for t in T:
            limited = (k, t) in m.packaging_capacity
            rows.append({"packaging_line": k, "quarter": Q[t], "packaged": sum(_v(m.B[p, t]) for p in members),
                         "capacity": packaging_capacity(m, sets, data, k, t),
                         "blocks_started": _v(m.K[k, t]) if (k, t) in m.K else 0.0,
                         "shadow_price_usd_per_chip": _price(_dual(result, m.packaging_capacity[k, t]), USD_PER_OBJ)
                         if limited else None})
    tables["Packaging"] = pd.DataFrame(rows, columns=["packaging_line", "quarter", "packaged", "capacity",
                                                      "blocks_started", "shadow_price_usd_per_chip"])

    # Deployments and power
    rows = []
    for (p, s) in sets.rack_pairs:
        for t in T:
            installed = pyo.value(m.R[p, s, t])
            rows.append({"product": p, "site": s, "quarter": Q[t], "racks_deployed": _v(m.Y[p, s, t]),
                         "racks_installed": installed, "chips_installed": installed * per_rack[p]})
    tables["Deployments"] = pd.DataFrame(rows, columns=["product", "site", "quarter", "racks_deployed",
                                                        "racks_installed", "chips_installed"])
    rows = []
    exp = data.expansion
    for s in sets.sites:
        for t in T:
            used = sum(sets.rack_mw[(p, s)] * pyo.value(m.R[p, s, t]) for p in sets.racks_by_site.get(s, ()))
            avail = data.site_power.get((s, t), 0.0)
            started = 0.0
            if s in sets.expansion_sites:
                lead_s = int(exp.at[s, "lead_quarters"])
                avail += float(exp.at[s, "block_mw"]) * sum(_v(m.E[s, tau]) for tau in range(0, t - lead_s + 1))
                started = _v(m.E[s, t])
            con = m.site_power[s, t] if (s, t) in m.site_power else None
            rows.append({"site": s, "quarter": Q[t], "mw_used": used, "mw_available": avail, "blocks_started": started,
                         "utilization": used / avail if avail > 0 else None,
                         "shadow_price_usd_per_mw": _price(_dual(result, con), USD_PER_OBJ) if con is not None else None})
    tables["Power"] = pd.DataFrame(rows, columns=["site", "quarter", "mw_used", "mw_available", "blocks_started",
                                                  "utilization", "shadow_price_usd_per_mw"])

    # Serving and allocation
    rows = []
    for (r, w) in sets.demand_rows:
        for t in T:
            d = data.demand[(r, w, t)]
            unmet = _v(m.U[r, w, t]) * TPS_PER_MTPS
            served = max(d - unmet, 0.0)
            rows.append({"region": r, "workload": w, "quarter": Q[t], "demand_tps": d, "served_tps": served,
                         "unmet_tps": unmet, "service_level": served / d if d > 0 else None,
                         "shadow_price_usd_per_tps": _price(_dual(result, m.demand[r, w, t]),
                                                                    USD_PER_OBJ / TPS_PER_MTPS, 1.0)})
    tables["Serving"] = pd.DataFrame(rows, columns=["region", "workload", "quarter", "demand_tps", "served_tps",
                                                    "unmet_tps", "service_level", "shadow_price_usd_per_tps"])
    rows = []
    for (p, s, r, w) in sets.serve:
        for t in T:
            z = _v(m.Z[p, s, r, w, t])
            if z > 0:
                rows.append({"product": p, "site": s, "region": r, "workload": w, "quarter": Q[t],
                             "served_tps": z * TPS_PER_MTPS})
    tables["Allocation"] = pd.DataFrame(rows, columns=["product", "site", "region", "workload", "quarter",
                                                       "served_tps"])

    # Capex, partners, budget
    partners = list(data.partners.index)
    rows = []
    for s in sets.capex_sites:
        for t in T:
            own = _v(m.O[s, t]) * USD_PER_MUSD
            by_partner = {n: _v(m.F[n, s, t]) * USD_PER_MUSD if (n, s, t) in m.F else 0.0 for n in partners}
            row = {"site": s, "quarter": Q[t], "capex_usd": own + sum(by_partner.values()), "own_usd": own,
                   "partner_usd": sum(by_partner.values())}
            row.update(by_partner)
            rows.append(row)
    tables["Capex"] = pd.DataFrame(rows, columns=["site", "quarter", "capex_usd", "own_usd", "partner_usd"] + partners)
    rows = []
    for n in partners:
        funded = sum(_v(m.F[n, s, t]) for (s, t) in sets.funding_by_partner.get(n, ())) * USD_PER_MUSD
        rows.append({"partner": n, "signed": bool(round(_v(m.A[n]))), "funded_usd": funded,
                     "commitment_usd": float(data.partners.at[n, "commitment_usd"]),
                     "min_deal_usd": float(data.partners.at[n, "min_deal_usd"])})
    tables["Partners"] = pd.DataFrame(rows, columns=["partner", "signed", "funded_usd", "commitment_usd",
                                                     "min_deal_usd"])
    rows = []
    for t in T:
        packaging_usd = packaging_capex_usd(m, sets, t)
        own = sum(_v(m.O[s, t]) for s in sets.capex_sites) * USD_PER_MUSD + packaging_usd
        con = m.own_budget[t] if t in m.own_budget else None
        rows.append({"quarter": Q[t], "own_capex_usd": own, "packaging_capex_usd": packaging_usd,
                     "budget_usd": data.budget[t],
                     "shadow_price": _price(_dual(result, con), USD_PER_OBJ / USD_PER_MUSD)
                     if con is not None else None})
    tables["Budget"] = pd.DataFrame(rows, columns=["quarter", "own_capex_usd", "packaging_capex_usd", "budget_usd",
                                                   "shadow_price"])

    out.cost_breakdown_usd = {c: pyo.value(getattr(m, "cost_" + c)) * USD_PER_OBJ for c in COST_COMPONENTS}
    out.objective_usd = sum(out.cost_breakdown_usd.values())
    serving = tables["Serving"]
    total_demand = float(serving["demand_tps"].sum())
    total_served = float(serving["served_tps"].sum())
    out.kpis = {
        "total_demand_tps": total_demand, "total_served_tps": total_served,
        "service_level": total_served / total_demand if total_demand > 0 else None,
        "own_capex_usd": (float(tables["Capex"]["own_usd"].sum()) if len(tables["Capex"]) else 0.0)
        + float(tables["Budget"]["packaging_capex_usd"].sum()),
        "partner_capex_usd": float(tables["Capex"]["partner_usd"].sum()) if len(tables["Capex"]) else 0.0,
        "wafers_started": float(tables["Wafers"]["wafers"].sum()),
        "hbm_stacks_bought": float(tables["HBM"]["bought"].sum()),
        "racks_deployed": float(tables["Deployments"]["racks_deployed"].sum()),
        "mw_added": float(sum(_v(m.E[s, t]) * float(exp.at[s, "block_mw"]) for (s, t) in m.E)),
        "deals_signed": int(tables["Partners"]["signed"].sum()) if len(tables["Partners"]) else 0,
        "terminal_value_usd": -out.cost_breakdown_usd.get("terminal_value", 0.0) or 0.0,
        "packaging_blocks_started": float(sum(_v(m.K[k, t]) for (k, t) in m.K)),
    }
    tables["Bottlenecks"] = bottlenecks(tables, data)
    from planner.output.reasons import limited_by

    tables["Serving"]["limited_by"] = limited_by(tables, data, sets)
    return out


def packaging_capacity(m, sets: ModelSets, data: PlanData, k: str, t: int) -> float | None:
    """Chips line k can package in t: PackagingCapacity plus energised expansion blocks (family 19); None when
    the line is not limited."""
    if k not in sets.line_products:
        return None
    capacity = data.packaging_capacity.get((k, t), 0.0)
    if k in sets.packaging_expansion:
        block = sets.packaging_expansion[k]["block_chips"]
        lead = int(sets.packaging_expansion[k]["lead_quarters"])
        capacity += block * sum(_v(m.K[k, tau]) for tau in range(0, t - lead + 1))
    return capacity


def packaging_capex_usd(m, sets: ModelSets, t: int) -> float:
    """Own capex of packaging blocks started in t (family 19), USD."""
    return sum(sets.packaging_expansion[k]["capex_usd_per_block"] * _v(m.K[k, t]) for k in sets.packaging_expansion)


def bottlenecks(tables: dict[str, pd.DataFrame], data: PlanData) -> pd.DataFrame:
    """Binding or near-binding limits, most valuable first: value = shadow price x limit.

    `binding` means used within 1e-6 of the limit, or (whole racks) with less left than one more rack needs; a limit used to 99% or more is listed too (near-binding:
    with whole racks a power limit is rarely met exactly, and a MIP's fixed-integer duals price it at 0)."""
    rows = []

    whole = whole_rack_slack(data)

    def add(family, key, quarter, limit, used, price, unit, sheet, keys, column, what):
        slack = limit - used
        binding = abs(slack) <= 1e-6 * max(1.0, abs(limit)) or (0 <= slack < whole.get((family, key), 0.0))
        near = binding or (limit > 0 and used >= NEAR_BINDING * limit)
        if (price is None or abs(price) < 1e-9) and not (near and used > 0):
            return
        rows.append({"family": family, "key": key, "quarter": quarter, "limit": limit, "used": used, "slack": slack,
                     "shadow_price": price or 0.0, "unit": unit, "value_usd": abs(price or 0.0) * abs(limit),
                     "binding": bool(binding), "utilization": used / limit if limit > 0 else None,
                     "input_cell": data.cell(sheet, keys, column), "what": what})

    for r in tables["Fabs"].itertuples():
        add("fab_capacity", r.fab, r.quarter, r.capacity, r.wafers_started, r.shadow_price_usd_per_wafer,
            "USD per wafer", "FabCapacity", (r.fab,), r.quarter, f"wafer starts at {r.fab}")
    for r in tables["HBM"].itertuples():
        add("hbm_supply", r.vendor, r.quarter, r.supply, r.bought, r.shadow_price_usd_per_stack, "USD per stack",
            "HBMSupply", (r.vendor,), r.quarter, f"HBM from {r.vendor}")
    for r in tables["HBM"].itertuples():
        if r.min_stacks > 0 and r.bought < r.min_stacks - 1e-6:  # the floor binds: stacks paid, not bought
            add("hbm_take_or_pay", r.vendor, r.quarter, r.min_stacks, r.paid, r.take_or_pay_shadow_usd_per_stack,
                "USD per stack", "HBMMinStacks", (r.vendor,), r.quarter,
                f"HBM take-or-pay floor of {r.vendor} ({r.min_stacks - r.bought:,.0f} stacks paid, not bought)")
    for r in tables["Packaging"].itertuples():
        if r.capacity is not None and pd.notna(r.capacity):
            add("packaging_capacity", r.packaging_line, r.quarter, r.capacity, r.packaged, r.shadow_price_usd_per_chip,
                "USD per chip", "PackagingCapacity", (r.packaging_line,), r.quarter,
                f"packaging on line {r.packaging_line}")
    for r in tables["Power"].itertuples():
        if r.shadow_price_usd_per_mw is not None and pd.notna(r.shadow_price_usd_per_mw):
            add("site_power", r.site, r.quarter, r.mw_available, r.mw_used, r.shadow_price_usd_per_mw, "USD per MW",
                "SitePower", (r.site,), r.quarter, f"power at {r.site}")
    for r in tables["Budget"].itertuples():
        if r.shadow_price is not None and pd.notna(r.shadow_price):
            add("own_budget", "own_capex_usd", r.quarter, r.budget_usd, r.own_capex_usd, r.shadow_price,
                "USD per USD", "Budget", ("own_capex_usd",), r.quarter, "own capex budget")
    power = tables["Power"]
    for s in data.expansion.index:
        started = float(power.loc[power["site"] == s, "blocks_started"].sum()) if len(power) else 0.0
        limit = float(data.expansion.at[s, "max_blocks"])
        add("expansion_limit", s, "", limit, started, None, "blocks", "SiteExpansion", (s,), "max_blocks",
            f"expansion blocks at {s}")
    packaging = tables["Packaging"]
    for k in data.packaging_expansion.index:
        started = float(packaging.loc[packaging["packaging_line"] == k, "blocks_started"].sum()) if len(packaging) \
            else 0.0
        add("packaging_expansion_limit", k, "", float(data.packaging_expansion.at[k, "max_blocks"]), started, None,
            "blocks", "PackagingExpansion", (k,), "max_blocks", f"packaging expansion blocks on line {k}")
    frame = pd.DataFrame(rows, columns=["family", "key", "quarter", "limit", "used", "slack", "shadow_price", "unit",
                                        "value_usd", "binding", "utilization", "input_cell", "what"])
    return frame.sort_values(["value_usd", "family", "key", "quarter"], ascending=[False, True, True, True],
                             kind="mergesort").reset_index(drop=True)


def whole_rack_slack(data: PlanData) -> dict[tuple[str, str], float]:
    """(family, key) -> the least of the limit one more whole rack needs: MW at a site, HBM stacks of a vendor.
    A limit with less slack than this binds: the rack that would use it cannot fit. Empty for continuous racks."""
    if not data.settings.integer_racks:
        return {}
    prod = data.products
    out: dict[tuple[str, str], float] = {}
    for s in data.sites.index:
        mw = [float(kw) * float(data.sites.at[s, "pue"]) / 1000.0 for kw in prod["rack_kw"] if kw > 0]
        if mw:
            out[("site_power", s)] = min(mw)
    for (v, p) in data.qualified:
        stacks = float(prod.at[p, "stacks_per_chip"]) * float(prod.at[p, "chips_per_rack"])
        if stacks > 0:
            out[("hbm_supply", v)] = min(out.get(("hbm_supply", v), stacks), stacks)
    return out
