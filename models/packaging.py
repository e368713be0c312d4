"""Packaging lines and finished chips."""

from __future__ import annotations

import pyomo.environ as pyo

from models.data import PlanData

from models.costs import add_cost, capex_share, discount_factor
from models.sets import USD_PER_MUSD, USD_PER_OBJ, ModelSets


def add_packaging_capacity(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(5) Packaging capacity: ``sum_{p on line k} B[p,t] <= PackagingCapacity[k,t]``  [chips]; with family 19
    ``... <= PackagingCapacity[k,t] + block_chips[k] * sum_{tau <= t - lead[k]} K[k,tau]``.

    Only lines listed in PackagingCapacity are limited; a blank cell of a listed line is 0."""
    def packaged_within_capacity(m, k, t):
        packaged = sum(m.B[p, t] for p in sets.line_products[k])
        if k in sets.packaging_expansion:
            block = sets.packaging_expansion[k]["block_chips"]
            packaged = packaged - sum(block * m.K[k, tau] for tau in packaging_blocks_on_line(sets, k, t))
        return packaged <= data.packaging_capacity[(k, t)]

    m.packaging_capacity = pyo.Constraint([(k, t) for k, ps in sets.line_products.items() if ps for t in sets.T],
                                          rule=packaged_within_capacity)
    cost = data.products["packaging_cost_usd"].to_dict()
    add_cost(m, "packaging", sum(discount_factor(data, t) * cost[p] / USD_PER_OBJ * m.B[p, t]
                                 for p in sets.products if cost[p] for t in sets.T))


def packaging_blocks_on_line(sets: ModelSets, k: str, t: int) -> list[int]:
    """Quarters tau whose packaging blocks on line k add capacity in t: ``tau <= t - lead[k]``."""
    return list(range(0, t - int(sets.packaging_expansion[k]["lead_quarters"]) + 1))


def packaging_capex_musd(m: pyo.ConcreteModel, sets: ModelSets, t: int):
    """Own capex of packaging blocks started in t, $M: ``sum_k capex_usd_per_block[k] * K[k,t]`` (family 19)."""
    return sum(sets.packaging_expansion[k]["capex_usd_per_block"] / USD_PER_MUSD * m.K[k, t]
               for k in sets.packaging_expansion)


def add_packaging_expansion(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(19) Packaging-line expansion: ``sum_t K[k,t] <= max_blocks[k]``  [blocks; PackagingExpansion.max_blocks];
    its capex ``capex_usd_per_block[k] * K[k,t]`` is own money in t: in the own budget (15, see finance) and in the
    objective as own capex at ``a_t``. Partners do not fund packaging. The capacity it adds is in family 5."""
    def blocks_within_max(m, k):
        return sum(m.K[k, t] for t in sets.T) <= sets.packaging_expansion[k]["max_blocks"]

    m.packaging_expansion_limit = pyo.Constraint(sorted(sets.packaging_expansion), rule=blocks_within_max)
    add_cost(m, "own_capex", sum(discount_factor(data, t) * capex_share(data, t) * USD_PER_MUSD / USD_PER_OBJ
                                 * packaging_capex_musd(m, sets, t) for t in sets.T if sets.packaging_expansion))


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
