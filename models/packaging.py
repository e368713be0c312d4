"""Packaging lines and finished chips."""

from __future__ import annotations

import pyomo.environ as pyo

from models.data import PlanData

from models.costs import add_cost, discount_factor
from models.sets import USD_PER_OBJ, ModelSets


def add_packaging_capacity(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(5) Packaging capacity: ``sum_{p on line k} B[p,t] <= PackagingCapacity[k,t]``  [chips].

    Only lines listed in PackagingCapacity are limited; a blank cell of a listed line is 0."""
    def packaged_within_capacity(m, k, t):
        return sum(m.B[p, t] for p in sets.line_products[k]) <= data.packaging_capacity[(k, t)]

    m.packaging_capacity = pyo.Constraint([(k, t) for k, ps in sets.line_products.items() if ps for t in sets.T],
                                          rule=packaged_within_capacity)
    cost = data.products["packaging_cost_usd"].to_dict()
    add_cost(m, "packaging", sum(discount_factor(data, t) * cost[p] / USD_PER_OBJ * m.B[p, t]
                                 for p in sets.products if cost[p] for t in sets.T))


def add_finished_chips(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(8) Finished chips: ``IC[p,t] = IC[p,t-1] + B[p,t] - chips_per_rack[p] * sum_s Y[p,s,t]``,
    ``IC[p,-1] = Products.initial_chip_inventory``  [chips]. Chips packaged in t can be deployed in t."""
    initial = data.products["initial_chip_inventory"].to_dict()
    per_rack = data.products["chips_per_rack"].to_dict()

    def finished_chip_balance(m, p, t):
        previous = m.IC[p, t - 1] if t > 0 else initial[p]
        deployed = sum(m.Y[p, s, t] for s in sets.racks_by_product.get(p, ()))
        return m.IC[p, t] == previous + m.B[p, t] - per_rack[p] * deployed

    m.finished_chips = pyo.Constraint([(p, t) for p in sets.products for t in sets.T], rule=finished_chip_balance)
    hold = data.products["chip_holding_cost_usd"].to_dict()
    add_cost(m, "holding", sum(discount_factor(data, t) * hold[p] / USD_PER_OBJ * m.IC[p, t]
                               for p in sets.products if hold[p] for t in sets.T))
