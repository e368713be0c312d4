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
from models.gc_pause import paused_gc
from models.sets import TPS_PER_MTPS, USD_PER_MUSD, USD_PER_OBJ, ModelSets
from models.solve import SolveResult
from planner.output.contract import Col, LIMITS_SHOWN, PlanLimit, SolutionTables, TIDY_BY_NAME

from models.data import PlanData
from models.registry import FAMILIES

EPS = 1e-7
NEAR_BINDING = 0.99  # a limit used to this share is listed in Bottlenecks even without a shadow price


def _v(var) -> float:
    x = var.value
    return 0.0 if x is None or abs(x) < 1e-9 else float(x)


def _snap_whole(x: float) -> float:
    """Racks in service are a sum of whole racks in a continuous column: HiGHS returns it within its tolerance
    (438.9999999999998), which is noise, not a fraction of a rack."""
    whole = round(x)
    return float(whole) if abs(x - whole) < 1e-6 else float(x)


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


@paused_gc()  # the tables' many small frames and rows, no cyclic garbage (0.3 -> 0.2 s at bench's M)
def extract(m: pyo.ConcreteModel, sets: ModelSets, data: PlanData, result: SolveResult) -> SolutionTables:
    """The solved model `m` as SolutionTables: one tidy frame per output sheet, the cost breakdown, the
    objective and the KPIs, in the user's units (shadow prices from `result.duals`)."""
    out = SolutionTables()
    tables = out.tables
    tables["Wafers"] = wafers_table(m, sets, data)
    tables["Fabs"] = fabs_table(m, sets, data, result)
    tables["Chips"] = chips_table(m, sets, data)
    tables["HBM"] = hbm_table(m, sets, data, result)
    tables["HBMUse"] = hbm_use_table(m, sets, data)
    tables["Packaging"] = packaging_table(m, sets, data, result)
    tables["Deployments"] = deployments_table(m, sets, data)
    tables["Power"] = power_table(m, sets, data, result)
    tables["Serving"] = serving_table(m, sets, data, result)
    tables["Allocation"] = allocation_table(m, sets, data)
    tables["Capex"] = capex_table(m, sets, data)
    tables["Partners"] = partners_table(m, sets, data)
    tables["Budget"] = budget_table(m, sets, data, result)
    out.cost_breakdown_usd = cost_breakdown_usd(m)
    out.objective_usd = sum(out.cost_breakdown_usd.values())
    out.kpis = kpis(m, data, tables, out.cost_breakdown_usd)
    tables["Bottlenecks"] = bottlenecks(tables, data, steps_by_limit(result, data), joint_steps_by_limit(result, data))
    from planner.output.reasons import limited_by

    tables["Serving"][Col.limited_by] = limited_by(tables, data, sets)
    return out


def _columns(sheet: str, after: dict[str, tuple[str, ...]] | None = None, tail: tuple[str, ...] = ()) -> list[str]:
    """Column order of the extract's `sheet` frame: the output contract's columns plus the planner's own."""
    return TIDY_BY_NAME[sheet].with_extra(after, tail)


def _wafer_starts(m, sets: ModelSets, data: PlanData):
    """(product, fab, t, wafers, good dies out, arrival t) for every route and quarter, in route order."""
    lead = data.routes["lead_quarters"].to_dict()
    dpw = data.routes["dies_per_wafer"].to_dict()
    for (p, f) in sets.routes:
        for t in sets.T:
            w = _v(m.W[p, f, t])
            yield p, f, t, w, w * dpw[(p, f)] * data.yields[(p, f, t)], t + int(lead[(p, f)])


def wafers_table(m, sets: ModelSets, data: PlanData) -> pd.DataFrame:
    """Wafers: wafers started per route (product, fab) and quarter, the good dies they yield, the quarter
    they arrive in and whether that is inside the plan."""
    from planner.quarters import quarter_index, quarter_label

    q0 = quarter_index(data.quarters[0])
    rows = [{Col.product: p, Col.fab: f, Col.quarter: data.quarters[t], Col.wafers: w, Col.good_dies_out: good,
             Col.arrival_quarter: quarter_label(q0 + arrival), Col.arrives_in_plan: arrival < len(sets.T)}
            for (p, f, t, w, good, arrival) in _wafer_starts(m, sets, data)]
    return pd.DataFrame(rows, columns=_columns("Wafers", tail=(Col.arrives_in_plan,)))


def fabs_table(m, sets: ModelSets, data: PlanData, result: SolveResult) -> pd.DataFrame:
    """Fabs: wafers started per fab and quarter against FabCapacity, the take-or-pay floor (FabMinWafers) and
    wafers paid, utilisation, and the shadow prices of the capacity and of the floor (USD per wafer)."""
    rows = []
    for f in sets.fabs:
        for t in sets.T:
            started = sum(_v(m.W[p, g, t]) for (p, g) in sets.routes if g == f)
            cap = data.fab_capacity.get((f, t), 0.0)
            con = m.fab_capacity[f, t] if (f, t) in m.fab_capacity else None
            rows.append({Col.fab: f, Col.quarter: data.quarters[t], Col.wafers_started: started, Col.capacity: cap,
                         Col.min_wafers: data.fab_min_wafers.get((f, t), 0.0), Col.wafers_paid: _v(m.WP[f, t]),
                         Col.utilization: started / cap if cap > 0 else None,
                         Col.shadow_price_usd_per_wafer: _price(_dual(result, con), USD_PER_OBJ) if con is not None
                         else None,
                         Col.take_or_pay_shadow_usd_per_wafer: _price(_dual(result, m.take_or_pay[f, t]), USD_PER_OBJ, 1.0)
                         if (f, t) in m.take_or_pay else None})
    return pd.DataFrame(rows, columns=_columns("Fabs", tail=(Col.take_or_pay_shadow_usd_per_wafer,)))


def chips_table(m, sets: ModelSets, data: PlanData) -> pd.DataFrame:
    """Chips: per product and quarter, good dies arriving (wafers started lead quarters earlier, plus
    ScheduledReceipts), chips packaged, the die bank, chips deployed in racks and finished-chip inventory."""
    good_in: dict[tuple[str, int], float] = {}
    for (p, _f, _t, _w, good, arrival) in _wafer_starts(m, sets, data):
        if arrival < len(sets.T):
            good_in[(p, arrival)] = good_in.get((p, arrival), 0.0) + good
    per_rack = data.products["chips_per_rack"].to_dict()
    rows = []
    for p in sets.products:
        for t in sets.T:
            deployed = sum(_v(m.Y[p, s, t]) for s in sets.racks_by_product.get(p, ()))
            rows.append({Col.product: p, Col.quarter: data.quarters[t],
                         Col.good_dies_in: good_in.get((p, t), 0.0) + data.receipts.get((p, t), 0.0),
                         Col.packaged: _v(m.B[p, t]), Col.die_bank_end: _v(m.ID[p, t]),
                         Col.chips_deployed: deployed * per_rack[p], Col.chip_inventory_end: _v(m.IC[p, t])})
    return pd.DataFrame(rows, columns=_columns("Chips"))


def hbm_table(m, sets: ModelSets, data: PlanData, result: SolveResult) -> pd.DataFrame:
    """HBM: stacks per vendor and quarter: supply (HBMSupply), bought, paid (take-or-pay, HBMMinStacks), used
    by products, inventory, and the shadow prices of the supply and of the floor (USD per stack)."""
    rows = []
    for v in sets.vendors:
        for t in sets.T:
            used = sum(_v(m.H[vv, p, t]) for (vv, p) in sets.hbm_pairs if vv == v and (vv, p, t) in m.H)
            bought = _v(m.HB[v, t])
            rows.append({Col.vendor: v, Col.quarter: data.quarters[t], Col.supply: data.hbm_supply.get((v, t), 0.0),
                         Col.bought: bought, Col.paid: _v(m.HP[v, t]) if (v, t) in m.HP else bought,
                         Col.min_stacks: data.hbm_min_stacks.get((v, t), 0.0), Col.used: used,
                         Col.inventory_end: _v(m.IH[v, t]),
                         Col.shadow_price_usd_per_stack: _price(_dual(result, m.hbm_supply[v, t]), USD_PER_OBJ),
                         Col.take_or_pay_shadow_usd_per_stack: _price(_dual(result, m.hbm_take_or_pay[v, t]),
                                                                    USD_PER_OBJ, 1.0)
                         if (v, t) in m.hbm_take_or_pay else None})
    return pd.DataFrame(rows, columns=_columns("HBM",
                                               tail=(Col.take_or_pay_shadow_usd_per_stack,)))


def hbm_use_table(m, sets: ModelSets, data: PlanData) -> pd.DataFrame:
    """HBMUse: stacks of each vendor used by each product per quarter (qualified uses only)."""
    return pd.DataFrame([{Col.vendor: v, Col.product: p, Col.quarter: data.quarters[t], Col.stacks: _v(m.H[v, p, t])}
                         for (v, p, t) in sets.hbm_uses], columns=_columns("HBMUse"))


def packaging_table(m, sets: ModelSets, data: PlanData, result: SolveResult) -> pd.DataFrame:
    """Packaging: chips packaged per packaging line and quarter, the line's capacity (None when unlimited),
    expansion blocks started, and the capacity's shadow price (USD per chip)."""
    line_of = data.products["packaging_line"].to_dict()
    rows = []
    for k in sorted(set(line_of.values())):
        members = [p for p in sets.products if line_of[p] == k]
        for t in sets.T:
            limited = (k, t) in m.packaging_capacity
            rows.append({Col.packaging_line: k, Col.quarter: data.quarters[t],
                         Col.packaged: sum(_v(m.B[p, t]) for p in members),
                         Col.capacity: packaging_capacity(m, sets, data, k, t),
                         Col.blocks_started: _v(m.K[k, t]) if (k, t) in m.K else 0.0,
                         Col.shadow_price_usd_per_chip: _price(_dual(result, m.packaging_capacity[k, t]), USD_PER_OBJ)
                         if limited else None})
    return pd.DataFrame(rows, columns=_columns("Packaging"))


def deployments_table(m, sets: ModelSets, data: PlanData) -> pd.DataFrame:
    """Deployments: racks deployed per product, site and quarter, racks installed (in service) and their chips."""
    per_rack = data.products["chips_per_rack"].to_dict()
    rows = []
    for (p, s) in sets.rack_pairs:
        for t in sets.T:
            installed = _snap_whole(pyo.value(m.R[p, s, t]))
            rows.append({Col.product: p, Col.site: s, Col.quarter: data.quarters[t], Col.racks_deployed: _v(m.Y[p, s, t]),
                         Col.racks_installed: installed, Col.chips_installed: installed * per_rack[p]})
    return pd.DataFrame(rows, columns=_columns("Deployments"))


def _mw_available(m, sets: ModelSets, data: PlanData, s: str, t: int) -> tuple[float, float]:
    """(MW available at site s in t: SitePower plus energised expansion blocks, blocks started in t)."""
    avail = data.site_power.get((s, t), 0.0)
    if s not in sets.expansion_sites:
        return avail, 0.0
    exp = data.expansion
    lead = int(exp.at[s, "lead_quarters"])
    avail += float(exp.at[s, "block_mw"]) * sum(_v(m.E[s, tau]) for tau in range(0, t - lead + 1))
    return avail, _v(m.E[s, t])


def power_table(m, sets: ModelSets, data: PlanData, result: SolveResult) -> pd.DataFrame:
    """Power: MW used by installed racks per site and quarter against MW available (SitePower plus energised
    expansion blocks), blocks started, utilisation and the shadow price of power (USD per MW)."""
    rows = []
    for s in sets.sites:
        for t in sets.T:
            used = sum(sets.rack_mw[(p, s)] * pyo.value(m.R[p, s, t]) for p in sets.racks_by_site.get(s, ()))
            avail, started = _mw_available(m, sets, data, s, t)
            con = m.site_power[s, t] if (s, t) in m.site_power else None
            rows.append({Col.site: s, Col.quarter: data.quarters[t], Col.mw_used: used, Col.mw_available: avail,
                         Col.blocks_started: started, Col.utilization: used / avail if avail > 0 else None,
                         Col.shadow_price_usd_per_mw: _price(_dual(result, con), USD_PER_OBJ) if con is not None else None})
    return pd.DataFrame(rows, columns=_columns("Power", after={Col.blocks_started: (Col.utilization,)}))


def serving_table(m, sets: ModelSets, data: PlanData, result: SolveResult) -> pd.DataFrame:
    """Serving: demand per region, workload and quarter, tok/s served and unmet, the service level and the
    shadow price of demand (USD per tok/s). extract adds `limited_by` once the other tables exist."""
    rows = []
    for (r, w) in sets.demand_rows:
        for t in sets.T:
            d = data.demand[(r, w, t)]
            unmet = _v(m.U[r, w, t]) * TPS_PER_MTPS
            served = max(d - unmet, 0.0)
            rows.append({Col.region: r, Col.workload: w, Col.quarter: data.quarters[t], Col.demand_tps: d,
                         Col.served_tps: served, Col.unmet_tps: unmet, Col.service_level: served / d if d > 0 else None,
                         Col.shadow_price_usd_per_tps: _price(_dual(result, m.demand[r, w, t]),
                                                            USD_PER_OBJ / TPS_PER_MTPS, 1.0)})
    return pd.DataFrame(rows, columns=_columns("Serving", tail=(Col.shadow_price_usd_per_tps,)))


def allocation_table(m, sets: ModelSets, data: PlanData) -> pd.DataFrame:
    """Allocation: who serves whom: tok/s served by racks of a product at a site for a region and workload
    per quarter (only the links that carry traffic)."""
    rows = []
    for (p, s, r, w) in sets.serve:
        for t in sets.T:
            z = _v(m.Z[p, s, r, w, t])
            if z > 0:
                rows.append({Col.product: p, Col.site: s, Col.region: r, Col.workload: w, Col.quarter: data.quarters[t],
                             Col.served_tps: z * TPS_PER_MTPS})
    return pd.DataFrame(rows, columns=_columns("Allocation"))


def capex_table(m, sets: ModelSets, data: PlanData) -> pd.DataFrame:
    """Capex: capex per site and quarter (racks and expansion blocks), own and partner-funded, with one more
    column per partner (USD that partner funds there)."""
    partners = list(data.partners.index)
    rows = []
    for s in sets.capex_sites:
        for t in sets.T:
            own = _v(m.O[s, t]) * USD_PER_MUSD
            by_partner = {n: _v(m.F[n, s, t]) * USD_PER_MUSD if (n, s, t) in m.F else 0.0 for n in partners}
            row = {Col.site: s, Col.quarter: data.quarters[t], Col.capex_usd: own + sum(by_partner.values()),
                   Col.own_usd: own, Col.partner_usd: sum(by_partner.values())}
            row.update(by_partner)
            rows.append(row)
    return pd.DataFrame(rows, columns=_columns("Capex", tail=tuple(partners)))


def partners_table(m, sets: ModelSets, data: PlanData) -> pd.DataFrame:
    """Partners: each deal, whether it is signed, USD funded over the plan, its commitment and minimum deal."""
    rows = []
    for n in data.partners.index:
        funded = sum(_v(m.F[n, s, t]) for (s, t) in sets.funding_by_partner.get(n, ())) * USD_PER_MUSD
        rows.append({Col.partner: n, Col.signed: bool(round(_v(m.A[n]))), Col.funded_usd: funded,
                     Col.commitment_usd: float(data.partners.at[n, "commitment_usd"]),
                     Col.min_deal_usd: float(data.partners.at[n, "min_deal_usd"])})
    return pd.DataFrame(rows, columns=_columns("Partners"))


def budget_table(m, sets: ModelSets, data: PlanData, result: SolveResult) -> pd.DataFrame:
    """Budget: own capex per quarter (sites plus packaging blocks), of which packaging, against the own budget,
    and the budget's shadow price (USD per USD)."""
    rows = []
    for t in sets.T:
        packaging_usd = packaging_capex_usd(m, sets, t)
        own = sum(_v(m.O[s, t]) for s in sets.capex_sites) * USD_PER_MUSD + packaging_usd
        con = m.own_budget[t] if t in m.own_budget else None
        rows.append({Col.quarter: data.quarters[t], Col.own_capex_usd: own, Col.packaging_capex_usd: packaging_usd,
                     Col.budget_usd: data.budget[t],
                     Col.shadow_price: _price(_dual(result, con), USD_PER_OBJ / USD_PER_MUSD)
                     if con is not None else None})
    return pd.DataFrame(rows, columns=_columns("Budget", after={Col.own_capex_usd: (Col.packaging_capex_usd,)}))


def cost_breakdown_usd(m) -> dict[str, float]:
    """Present-value USD of each objective component (models/costs.py COST_COMPONENTS), in that order."""
    return {c: pyo.value(getattr(m, "cost_" + c)) * USD_PER_OBJ for c in COST_COMPONENTS}


def kpis(m, data: PlanData, tables: dict[str, pd.DataFrame], cost: dict[str, float]) -> dict[str, float]:
    """Headline numbers of the plan (Summary): demand and service, own and partner capex, wafers, stacks, racks,
    MW added, deals signed, terminal value and packaging blocks."""
    serving, capex = tables["Serving"], tables["Capex"]
    total_demand = float(serving[Col.demand_tps].sum())
    total_served = float(serving[Col.served_tps].sum())
    exp = data.expansion
    return {
        "total_demand_tps": total_demand, "total_served_tps": total_served,
        Col.service_level: total_served / total_demand if total_demand > 0 else None,
        Col.own_capex_usd: (float(capex[Col.own_usd].sum()) if len(capex) else 0.0)
        + float(tables["Budget"][Col.packaging_capex_usd].sum()),
        Col.partner_capex_usd: float(capex[Col.partner_usd].sum()) if len(capex) else 0.0,
        Col.wafers_started: float(tables["Wafers"][Col.wafers].sum()),
        "hbm_stacks_bought": float(tables["HBM"][Col.bought].sum()),
        Col.racks_deployed: float(tables["Deployments"][Col.racks_deployed].sum()),
        "mw_added": float(sum(_v(m.E[s, t]) * float(exp.at[s, "block_mw"]) for (s, t) in m.E)),
        "deals_signed": int(tables["Partners"][Col.signed].sum()) if len(tables["Partners"]) else 0,
        "terminal_value_usd": -cost.get("terminal_value", 0.0) or 0.0,
        "packaging_blocks_started": float(sum(_v(m.K[k, t]) for (k, t) in m.K)),
    }


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


def _shown_rows(frame: pd.DataFrame, shown: PlanLimit):
    """(key, quarter, limit, used, price) of each row of a family's plan sheet that has a limit; a missing price
    (no duals) is None, so the row is listed only when it is near-binding."""
    keys = frame[shown.key].astype(str) if shown.key else [shown.constant_key] * len(frame)
    for key, quarter, limit, used, price in zip(keys, frame[Col.quarter], frame[shown.limit], frame[shown.used],
                                                frame[shown.price]):
        if limit is None or pd.isna(limit):
            continue
        yield key, quarter, float(limit), float(used), None if price is None or pd.isna(price) else float(price)


def steps_by_limit(result: SolveResult, data: PlanData) -> dict[tuple, float]:
    """{(family, key or None, quarter label or ''): USD} of result.one_more_unit: what one more unit of a limit
    saves, re-solved (models.prices.one_more_unit), keyed as Bottlenecks names its rows."""
    steps = {}
    for con, saving in (result.one_more_unit or {}).items():
        idx = con.index()
        parts = list(idx) if isinstance(idx, tuple) else [idx]
        t = parts.pop() if parts and isinstance(parts[-1], int) else None
        quarter = data.quarters[t] if t is not None and 0 <= t < len(data.quarters) else ""
        key = str(parts[0]) if len(parts) == 1 else ("/".join(map(str, parts)) if parts else None)
        steps[(con.parent_component().local_name, key, quarter)] = saving * USD_PER_OBJ
    return steps


def joint_steps_by_limit(result: SolveResult, data: PlanData) -> dict[tuple, tuple[float, set[str]]]:
    """{(family, key or None): (USD, quarter labels)} of result.one_more_unit.joint: what one more unit of a limit
    in every quarter it is priced in saves at once, re-solved (models.prices.one_more_unit)."""
    joint = getattr(result.one_more_unit, "joint", {}) or {}
    out = {}
    for (family, parts), (saving, ts) in joint.items():
        key = str(parts[0]) if len(parts) == 1 else ("/".join(map(str, parts)) if parts else None)
        out[(family, key)] = (saving * USD_PER_OBJ, {data.quarters[t] for t in ts if 0 <= t < len(data.quarters)})
    return out


def bottlenecks(tables: dict[str, pd.DataFrame], data: PlanData, steps: dict[tuple, float] | None = None,
                joint: dict[tuple, tuple[float, set[str]]] | None = None) -> pd.DataFrame:
    """Binding or near-binding limits, most valuable first: value = shadow price x limit.

    `binding` means used within 1e-6 of the limit, or (whole racks) with less left than one more rack needs; a limit used to 99% or more is listed too (near-binding:
    with whole racks a power limit is rarely met exactly, and a MIP's fixed-integer duals price it at 0)."""
    rows = []
    steps, joint = steps or {}, joint or {}
    whole = whole_rack_slack(data)

    def add(family, key, quarter, limit, used, price, unit, sheet, keys, column, what):
        slack = limit - used
        if abs(slack) <= 1e-9 * max(1.0, abs(limit)):
            slack, used = 0.0, limit  # the solver's 1e-8 of a $112M budget is a budget used in full
        binding = abs(slack) <= 1e-6 * max(1.0, abs(limit)) or (0 <= slack < whole.get((family, key), 0.0))
        near = binding or (limit > 0 and used >= NEAR_BINDING * limit)
        if (price is None or abs(price) < 1e-9) and not (near and used > 0):
            return
        step = steps.get((family, str(key), str(quarter)), steps.get((family, None, str(quarter))))
        together, quarters = joint.get((family, str(key)), joint.get((family, None), (None, set())))
        rows.append({Col.family: family, Col.key: key, Col.quarter: quarter, Col.limit: limit, Col.used: used, Col.slack: slack,
                     Col.shadow_price: price or 0.0, Col.unit: unit, Col.value_usd: abs(price or 0.0) * abs(limit),
                     Col.one_more_unit_saves_usd: step,
                     Col.one_more_unit_each_quarter_saves_usd: together if str(quarter) in quarters else None,
                     Col.binding: bool(binding), Col.utilization: used / limit if limit > 0 else None,
                     Col.input_cell: data.cell(sheet, keys, column), Col.what: what})

    for family in FAMILIES.values():
        shown = LIMITS_SHOWN.get(family.name)
        if shown is not None:
            for key, quarter, limit, used, price in _shown_rows(tables[shown.sheet], shown):
                add(family.name, key, quarter, limit, used, price, shown.unit, family.input_sheet, (key,),
                    quarter, shown.what.format(key=key))
    for r in tables["HBM"].itertuples():
        if r.min_stacks > 0 and r.bought < r.min_stacks - 1e-6:  # the floor binds: stacks paid, not bought
            add("hbm_take_or_pay", r.vendor, r.quarter, r.min_stacks, r.paid, r.take_or_pay_shadow_usd_per_stack,
                "USD per stack", "HBMMinStacks", (r.vendor,), r.quarter,
                f"HBM take-or-pay floor of {r.vendor} ({r.min_stacks - r.bought:,.0f} stacks paid, not bought)")
    power = tables["Power"]
    for s in data.expansion.index:
        started = float(power.loc[power[Col.site] == s, Col.blocks_started].sum()) if len(power) else 0.0
        limit = float(data.expansion.at[s, "max_blocks"])
        add("expansion_limit", s, "", limit, started, None, "blocks", "SiteExpansion", (s,), "max_blocks",
            f"expansion blocks at {s}")
    packaging = tables["Packaging"]
    for k in data.packaging_expansion.index:
        started = float(packaging.loc[packaging[Col.packaging_line] == k, Col.blocks_started].sum()) if len(packaging) \
            else 0.0
        add("packaging_expansion_limit", k, "", float(data.packaging_expansion.at[k, "max_blocks"]), started, None,
            "blocks", "PackagingExpansion", (k,), "max_blocks", f"packaging expansion blocks on line {k}")
    frame = pd.DataFrame(rows, columns=_columns("Bottlenecks", after={Col.quarter: (Col.limit, Col.used),
                                                                      Col.shadow_price: (Col.unit, Col.value_usd,
                                                                                         Col.one_more_unit_saves_usd,
                                                                                         Col.one_more_unit_each_quarter_saves_usd)},
                                                tail=(Col.utilization, Col.input_cell, Col.what)))
    return frame.sort_values([Col.value_usd, Col.family, Col.key, Col.quarter], ascending=[False, True, True, True],
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
