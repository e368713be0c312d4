"""Capex and its funding: own budget, partner deals with binary signing and a minimum size. Money in $M."""

from __future__ import annotations

import pyomo.environ as pyo

from models.data import PlanData

from models.costs import add_cost, capex_share, discount_factor
from models.packaging import packaging_capex_musd
from models.sets import USD_PER_MUSD, USD_PER_OBJ, ModelSets

# O and F are in $M, the objective in $k
OBJ_PER_MUSD = USD_PER_MUSD / USD_PER_OBJ


def add_capex(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(14) Capex: ``C[s,t] = sum_p rack_capex_usd[p] * Y[p,s,t] + capex_usd_per_mw[s] * block_mw[s] * E[s,t]``
    and ``C[s,t] = O[s,t] + sum_n F[n,s,t]``  [$M]. Spent in the quarter the rack is deployed or the block started."""
    capex = data.products["rack_capex_usd"].to_dict()

    def capex_funded(m, s, t):
        spend = sum(capex[p] / USD_PER_MUSD * m.Y[p, s, t] for p in sets.racks_by_site.get(s, ()))
        if s in sets.expansion:
            block_usd = sets.expansion[s]["capex_usd_per_mw"] * sets.expansion[s]["block_mw"]
            spend = spend + block_usd / USD_PER_MUSD * m.E[s, t]
        funded = m.O[s, t] + sum(m.F[n, s, t] for n in sets.funding_by_site.get((s, t), ()))
        return funded == spend

    m.capex = pyo.Constraint([(s, t) for s in sets.capex_sites for t in sets.T], rule=capex_funded)
    rate = data.partners["financing_cost_rate"].to_dict()
    add_cost(m, "own_capex", sum(discount_factor(data, t) * capex_share(data, t) * OBJ_PER_MUSD * m.O[s, t]
                                 for s in sets.capex_sites for t in sets.T))
    add_cost(m, "partner_financing", sum(discount_factor(data, t) * capex_share(data, t) * rate[n] * OBJ_PER_MUSD
                                         * m.F[n, s, t] for (n, s, t) in sets.funding if rate[n]))


def add_own_budget(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(15) Own budget: ``sum_s O[s,t] + packaging capex[t] <= Budget.own_capex_usd[t]``, or with
    Settings.budget_carryover ``sum_{tau<=t} (sum_s O[s,tau] + packaging capex[tau]) <= sum_{tau<=t}
    Budget.own_capex_usd[tau]``  [$M]; packaging capex ``sum_k capex_usd_per_block[k] * K[k,t]`` (family 19)."""
    cumulative = data.settings.budget_carryover

    def own_spend_within_budget(m, t):
        quarters = range(0, t + 1) if cumulative else (t,)
        spent = [m.O[s, tau] for tau in quarters for s in sets.capex_sites]
        if sets.packaging_expansion:
            spent += [packaging_capex_musd(m, sets, tau) for tau in quarters]
        if not spent:
            return pyo.Constraint.Skip
        return sum(spent) <= sum(data.budget[tau] for tau in quarters) / USD_PER_MUSD

    m.own_budget = pyo.Constraint(sets.T, rule=own_spend_within_budget)


def add_partner_deals(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(16) Partner deals: ``sum_{s,t} F[n,s,t] <= commitment_usd[n] * A[n]`` and
    ``sum_{s,t} F[n,s,t] >= min_deal_usd[n] * A[n]``  [$M]; F only on PartnerSites inside the partner's window."""
    commitment = data.partners["commitment_usd"].astype(float).to_dict()
    minimum = data.partners["min_deal_usd"].astype(float).to_dict()
    funded = [n for n in data.partners.index if sets.funding_by_partner.get(n)]

    def funded_by(m, n):
        return sum(m.F[n, s, t] for (s, t) in sets.funding_by_partner[n])

    def within_commitment(m, n):
        return funded_by(m, n) <= commitment[n] / USD_PER_MUSD * m.A[n]

    def at_least_minimum(m, n):
        return funded_by(m, n) >= minimum[n] / USD_PER_MUSD * m.A[n]

    m.partner_commitment = pyo.Constraint(funded, rule=within_commitment)
    m.partner_minimum = pyo.Constraint([n for n in funded if minimum[n] > 0], rule=at_least_minimum)
    fixed = data.partners["fixed_deal_cost_usd"].to_dict()
    add_cost(m, "partner_deal_costs", sum(fixed[n] / USD_PER_OBJ * m.A[n] for n in data.partners.index if fixed[n]))
