"""The discounted cost (formulation.md, Objective), one named expression per cost component, in $k."""

from __future__ import annotations

import pyomo.environ as pyo

from models.data import PlanData

from models.sets import TPS_PER_MTPS, USD_PER_MUSD, USD_PER_OBJ, ModelSets

COST_COMPONENTS = ("wafers", "hbm", "packaging", "own_capex", "partner_financing", "partner_deal_costs", "power",
                   "holding", "unmet_penalty")


def discount_factor(data: PlanData, t: int) -> float:
    """``df_t = (1 + discount_rate_annual) ** (-t / 4)``."""
    return (1.0 + data.settings.discount_rate_annual) ** (-t / 4.0)


def capex_share(data: PlanData, t: int) -> float:
    """``a_t = min(1, (T - t) / capex_life_quarters)``; 1 (cash) when capex_life_quarters is blank."""
    life = data.settings.capex_life_quarters
    if not life:
        return 1.0
    return min(1.0, (data.T - t) / life)


def add_objective(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """Minimise ``sum_t df_t * (wafers + HBM + packaging + a_t*own capex + a_t*partner financing + power
    + holding + unmet penalty) + sum_n fixed_deal_cost_usd[n] * A[n]``, in $k (USD_PER_OBJ)."""
    T = sets.T
    df = {t: discount_factor(data, t) for t in T}
    a = {t: capex_share(data, t) for t in T}
    M = USD_PER_OBJ  # per-unit costs in USD -> objective units ($k)
    capex_unit = USD_PER_MUSD / USD_PER_OBJ  # O and F are in $M: 1 $M = 1,000 $k
    prod = data.products
    hours = data.settings.hours_per_quarter
    price = data.vendors["price_usd_per_stack"].to_dict()
    pack = prod["packaging_cost_usd"].to_dict()
    die_hold, chip_hold = prod["die_holding_cost_usd"].to_dict(), prod["chip_holding_cost_usd"].to_dict()
    hbm_hold = data.vendors["holding_cost_usd"].to_dict()
    power_price = data.sites["power_price_usd_per_mwh"].to_dict()
    rate = data.partners["financing_cost_rate"].to_dict()
    fixed = data.partners["fixed_deal_cost_usd"].to_dict()
    penalty = data.workloads["unmet_penalty_usd_per_tps"].to_dict()

    m.cost_wafers = pyo.Expression(expr=sum(
        df[t] * data.wafer_cost[(f, t)] / M * m.WP[f, t] for f in sets.fabs for t in T))
    m.cost_hbm = pyo.Expression(expr=sum(df[t] * price[v] / M * m.HB[v, t] for v in sets.vendors for t in T))
    m.cost_packaging = pyo.Expression(expr=sum(df[t] * pack[p] / M * m.B[p, t] for p in sets.products for t in T
                                               if pack[p]))
    m.cost_own_capex = pyo.Expression(expr=sum(df[t] * a[t] * capex_unit * m.O[s, t] for s in sets.capex_sites
                                               for t in T))
    m.cost_partner_financing = pyo.Expression(expr=sum(
        df[t] * a[t] * rate[n] * capex_unit * m.F[n, s, t] for (n, s, t) in sets.funding if rate[n]))
    m.cost_partner_deal_costs = pyo.Expression(expr=sum(fixed[n] / M * m.A[n] for n in data.partners.index
                                                        if fixed[n]))
    m.cost_power = pyo.Expression(expr=sum(
        df[t] * sets.rack_mw[(p, s)] * hours * power_price[s] / M * m.R[p, s, t] for (p, s) in sets.rack_pairs
        for t in T if power_price[s]))
    m.cost_holding = pyo.Expression(expr=sum(
        df[t] * (die_hold[p] / M * m.ID[p, t] + chip_hold[p] / M * m.IC[p, t]) for p in sets.products for t in T
        if die_hold[p] or chip_hold[p]) + sum(
        df[t] * hbm_hold[v] / M * m.IH[v, t] for v in sets.vendors for t in T if hbm_hold[v]))
    # penalty is USD per tok/s per quarter and U is in M tok/s: USD = penalty * 1e6 * U
    m.cost_unmet_penalty = pyo.Expression(expr=sum(
        df[t] * penalty[w] * (TPS_PER_MTPS / M) * m.U[r, w, t] for (r, w) in sets.demand_rows for t in T))
    m.total_cost = pyo.Objective(expr=sum(getattr(m, "cost_" + c) for c in COST_COMPONENTS), sense=pyo.minimize)
