"""HBM: content per chip on qualified vendors only, supply, inventory."""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from models.data import PlanData

from models.costs import add_cost, discount_factor
from models.sets import USD_PER_OBJ, ModelSets


def add_hbm_content(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(6) HBM content: ``sum_{v qualified for p} H[v,p,t] = stacks_per_chip[p] * B[p,t]``  [stacks].

    H exists only on HBMQualification pairs, so an unqualified vendor can never be used; a product
    that needs HBM and has no qualified vendor cannot be packaged. Products with 0 stacks get no row."""
    vendors_of: dict[tuple[str, int], list[str]] = defaultdict(list)
    for (v, p, t) in sets.hbm_uses:
        vendors_of[(p, t)].append(v)
    stacks = data.products["stacks_per_chip"].to_dict()
    def stacks_per_chip_packaged(m, p, t):
        return sum(m.H[v, p, t] for v in vendors_of.get((p, t), ())) == stacks[p] * m.B[p, t]

    m.hbm_content = pyo.Constraint([(p, t) for p in sets.hbm_products for t in sets.T], rule=stacks_per_chip_packaged)


def add_hbm_supply(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(7) HBM supply: ``HB[v,t] <= HBMSupply[v,t]``  [stacks; 0 where the vendor has no row]."""
    def bought_within_supply(m, v, t):
        return m.HB[v, t] <= data.hbm_supply.get((v, t), 0.0)

    m.hbm_supply = pyo.Constraint([(v, t) for v in sets.vendors for t in sets.T], rule=bought_within_supply)
    price = data.vendors["price_usd_per_stack"].to_dict()
    floored = set(sets.hbm_floor_vendors)  # their cost is on stacks paid (family 17)
    add_cost(m, "hbm", sum(discount_factor(data, t) * price[v] / USD_PER_OBJ * m.HB[v, t]
                           for v in sets.vendors if v not in floored for t in sets.T))


def add_hbm_take_or_pay(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(17) HBM take-or-pay: ``HP[v,t] >= HB[v,t]`` and ``HP[v,t] >= HBMMinStacks[v,t]``  [stacks]; the HBM cost
    is ``hbm_price[v] * HP[v,t]``. Stacks paid but not bought are not delivered.

    HP exists only for vendors with a floor: without one HP = HB at the optimum, so their cost stays on HB."""
    def paid_cover_bought(m, v, t):
        return m.HP[v, t] >= m.HB[v, t]

    def paid_cover_floor(m, v, t):
        return m.HP[v, t] >= data.hbm_min_stacks[(v, t)]

    m.hbm_paid_cover_bought = pyo.Constraint([(v, t) for v in sets.hbm_floor_vendors for t in sets.T],
                                             rule=paid_cover_bought)
    m.hbm_take_or_pay = pyo.Constraint(sorted(data.hbm_min_stacks), rule=paid_cover_floor)
    price = data.vendors["price_usd_per_stack"].to_dict()
    add_cost(m, "hbm", sum(discount_factor(data, t) * price[v] / USD_PER_OBJ * m.HP[v, t]
                           for v in sets.hbm_floor_vendors for t in sets.T))


def add_hbm_inventory(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(7) HBM inventory: ``IH[v,t] = IH[v,t-1] + HB[v,t] - sum_p H[v,p,t]``, ``IH[v,-1] = HBMVendors.initial_inventory``."""
    products_of: dict[tuple[str, int], list[str]] = defaultdict(list)
    for (v, p, t) in sets.hbm_uses:
        products_of[(v, t)].append(p)
    initial = data.vendors["initial_inventory"].to_dict()

    def hbm_stock_balance(m, v, t):
        previous = m.IH[v, t - 1] if t > 0 else initial[v]
        return m.IH[v, t] == previous + m.HB[v, t] - sum(m.H[v, p, t] for p in products_of.get((v, t), ()))

    m.hbm_inventory = pyo.Constraint([(v, t) for v in sets.vendors for t in sets.T], rule=hbm_stock_balance)
    hold = data.vendors["holding_cost_usd"].to_dict()
    add_cost(m, "holding", sum(discount_factor(data, t) * hold[v] / USD_PER_OBJ * m.IH[v, t]
                               for v in sets.vendors if hold[v] for t in sets.T))
