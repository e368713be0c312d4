"""Fabs and dies: fab capacity, take-or-pay, good dies with lead times and yield, die bank."""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from models.data import PlanData

from models.costs import add_cost, discount_factor
from models.sets import USD_PER_OBJ, ModelSets


def add_fab_capacity(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(1) Fab capacity: ``sum_p W[p,f,t] <= FabCapacity[f,t]``  [wafers; FabCapacity sheet, 0 if no row].

    Only fabs with at least one route get a row (a fab nobody can use has no wafers to limit)."""
    routes_at: dict[str, list[str]] = defaultdict(list)
    for (p, f) in sets.routes:
        routes_at[f].append(p)
    def wafer_starts_within_capacity(m, f, t):
        return sum(m.W[p, f, t] for p in routes_at[f]) <= data.fab_capacity.get((f, t), 0.0)

    m.fab_capacity = pyo.Constraint([(f, t) for f in sorted(routes_at) for t in sets.T],
                                    rule=wafer_starts_within_capacity)


def add_take_or_pay(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(2) Take-or-pay: ``WP[f,t] >= sum_p W[p,f,t]`` and ``WP[f,t] >= FabMinWafers[f,t]``  [wafers].

    The wafer cost is charged on WP (objective), so paid wafers exceed used ones only under a floor."""
    routes_at: dict[str, list[str]] = defaultdict(list)
    for (p, f) in sets.routes:
        routes_at[f].append(p)
    def paid_cover_started(m, f, t):
        return m.WP[f, t] >= sum(m.W[p, f, t] for p in routes_at[f])

    def paid_cover_floor(m, f, t):
        return m.WP[f, t] >= data.fab_min_wafers[(f, t)]

    m.wafers_paid_cover_started = pyo.Constraint([(f, t) for f in sorted(routes_at) for t in sets.T],
                                                 rule=paid_cover_started)
    m.take_or_pay = pyo.Constraint(sorted(k for k, v in data.fab_min_wafers.items() if v > 0), rule=paid_cover_floor)
    add_cost(m, "wafers", sum(discount_factor(data, t) * data.wafer_cost[(f, t)] / USD_PER_OBJ * m.WP[f, t]
                              for f in sets.fabs for t in sets.T))


def good_dies_in(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> dict[tuple[str, int], list]:
    """(3) Good dies arriving in t, as linear terms:
    ``G[p,t] = sum_f W[p,f,t-L[p,f]] * dies_per_wafer[p,f] * yield[p,f,t-L[p,f]] + ScheduledReceipts[p,t]``.

    Wafers started in the last L quarters arrive after the horizon: they are paid and yield nothing here."""
    terms: dict[tuple[str, int], list] = defaultdict(list)
    lead = data.routes["lead_quarters"].to_dict()
    dpw = data.routes["dies_per_wafer"].to_dict()
    for (p, f) in sets.routes:
        L = int(lead[(p, f)])
        for t0 in sets.T:
            t = t0 + L
            if t < len(sets.T):
                terms[(p, t)].append(dpw[(p, f)] * data.yields[(p, f, t0)] * m.W[p, f, t0])
    return terms


def add_die_bank(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(4) Die bank: ``ID[p,t] = ID[p,t-1] + G[p,t] - B[p,t]``, ``ID[p,-1] = Products.initial_die_bank``  [dies]."""
    arriving = good_dies_in(m, data, sets)
    initial = data.products["initial_die_bank"].to_dict()

    def die_bank_balance(m, p, t):
        previous = m.ID[p, t - 1] if t > 0 else initial[p]
        return m.ID[p, t] == previous + sum(arriving.get((p, t), ())) + data.receipts.get((p, t), 0.0) - m.B[p, t]

    m.die_bank = pyo.Constraint([(p, t) for p in sets.products for t in sets.T], rule=die_bank_balance)
    hold = data.products["die_holding_cost_usd"].to_dict()
    add_cost(m, "holding", sum(discount_factor(data, t) * hold[p] / USD_PER_OBJ * m.ID[p, t]
                               for p in sets.products if hold[p] for t in sets.T))


def dies_after_horizon(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> dict[str, list]:
    """Good dies of wafers started inside the plan that arrive after it, as linear terms per product:
    ``sum_f sum_{t : t + L[p,f] >= T} W[p,f,t] * dies_per_wafer[p,f] * yield[p,f,t]``."""
    terms: dict[str, list] = defaultdict(list)
    lead = data.routes["lead_quarters"].to_dict()
    dpw = data.routes["dies_per_wafer"].to_dict()
    for (p, f) in sets.routes:
        for t in sets.T:
            if t + int(lead[(p, f)]) >= len(sets.T):
                terms[p].append(dpw[(p, f)] * data.yields[(p, f, t)] * m.W[p, f, t])
    return terms


def add_terminal_value(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(20) Terminal value, a credit (negative cost component ``terminal_value``):
    ``TV = df_{T-1} * sum_p tv[p] * (ID[p,T-1] + IC[p,T-1] + sum_f sum_{t : t + L[p,f] >= T} W[p,f,t] *
    dies_per_wafer[p,f] * yield[p,f,t])``, tv = Products.terminal_value_usd_per_die (default 0)."""
    if "terminal_value_usd_per_die" not in data.products.columns or not sets.T:
        return
    tv = data.products["terminal_value_usd_per_die"].fillna(0.0).to_dict()
    last = sets.T[-1]
    in_flight = dies_after_horizon(m, data, sets)
    value = sum(tv[p] / USD_PER_OBJ * (m.ID[p, last] + m.IC[p, last] + sum(in_flight.get(p, ())))
                for p in sets.products if tv[p])
    add_cost(m, "terminal_value", -discount_factor(data, last) * value)
