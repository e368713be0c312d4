"""Site power with expansion blocks that take lead_quarters to energise."""

from __future__ import annotations

import pyomo.environ as pyo

from models.data import PlanData

from models.costs import add_cost, discount_factor
from models.sets import USD_PER_OBJ, ModelSets


def energised(sets: ModelSets, s: str, t: int) -> list[int]:
    """Quarters tau whose expansion blocks at s carry power in t: ``tau <= t - lead[s]``."""
    return list(range(0, t - int(sets.expansion[s]["lead_quarters"]) + 1))


def add_site_power(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(10) Site power: ``sum_p R[p,s,t] * rack_kw[p] * pue[s] / 1000
    <= SitePower[s,t] + block_mw[s] * sum_{tau <= t - lead[s]} E[s,tau]``  [MW].

    SitePower is 0 where the site has no row; a site absent from SiteExpansion cannot expand."""

    def power_drawn_within_available(m, s, t):
        used = sum(sets.rack_mw[(p, s)] * m.R[p, s, t] for p in sets.racks_by_site[s])
        if s in sets.expansion:
            block = sets.expansion[s]["block_mw"]
            used = used - sum(block * m.E[s, tau] for tau in energised(sets, s, t))
        return used <= data.site_power.get((s, t), 0.0)

    m.site_power = pyo.Constraint([(s, t) for s in sorted(sets.racks_by_site) for t in sets.T], rule=power_drawn_within_available)
    # energy: MW drawn * hours * USD/MWh, on racks installed
    hours = data.settings.hours_per_quarter
    price = data.sites["power_price_usd_per_mwh"].to_dict()
    add_cost(m, "power", sum(discount_factor(data, t) * sets.rack_mw[(p, s)] * hours * price[s] / USD_PER_OBJ
                             * m.R[p, s, t] for (p, s) in sets.rack_pairs if price[s] for t in sets.T))


def add_expansion_limit(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(10) Expansion limit: ``sum_t E[s,t] <= max_blocks[s]``  [blocks; SiteExpansion.max_blocks]."""
    def blocks_within_max(m, s):
        return sum(m.E[s, t] for t in sets.T) <= sets.expansion[s]["max_blocks"]

    m.expansion_limit = pyo.Constraint(sets.expansion_sites, rule=blocks_within_max)
