"""Decision variables of formulation.md, on the sparse index sets. Capex money in $M, throughput in M tok/s."""

from __future__ import annotations

import math

import pyomo.environ as pyo

from models.data import PlanData

from models.sets import ModelSets


def rack_bounds(data: PlanData, sets: ModelSets):
    """Racks deployed in one quarter can never draw more than the most power the site can ever have:
    ``Y[p,s,t] <= floor(max_t (SitePower[s,t]) + block_mw * max_blocks) / (rack_kw * pue / 1000))``.
    Implied by the site-power rows (R >= Y), stated as a bound so the MIP's branching starts tight. Only for
    integer racks: on an LP the bound would tie with the power row and take its shadow price."""
    most_mw: dict[str, float] = {}
    for s in sets.sites:
        extra = 0.0
        if s in sets.expansion:
            extra = sets.expansion[s]["block_mw"] * sets.expansion[s]["max_blocks"]
        most_mw[s] = max((data.site_power.get((s, t), 0.0) for t in sets.T), default=0.0) + extra
    integer = data.settings.integer_racks

    def bounds(_m, p, s, _t):
        mw = sets.rack_mw[(p, s)]
        if mw <= 0 or not integer:
            return (0, None)
        return (0, math.floor(most_mw[s] / mw + 1e-9))

    return bounds


def add_variables(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    T = sets.T
    s = data.settings
    wafer_domain = pyo.NonNegativeIntegers if s.integer_wafers else pyo.NonNegativeReals
    rack_domain = pyo.NonNegativeIntegers if s.integer_racks else pyo.NonNegativeReals

    m.W = pyo.Var([(p, f, t) for (p, f) in sets.routes for t in T], domain=wafer_domain,
                  doc="wafers started for product p at fab f in quarter t")
    m.WP = pyo.Var([(f, t) for f in sets.fabs for t in T], domain=pyo.NonNegativeReals,
                   doc="wafers paid at fab f in t (take-or-pay)")
    m.B = pyo.Var([(p, t) for p in sets.products for t in T], domain=pyo.NonNegativeReals,
                  doc="dies packaged into finished chips in t")
    m.HB = pyo.Var([(v, t) for v in sets.vendors for t in T], domain=pyo.NonNegativeReals,
                   doc="HBM stacks bought from vendor v in t")
    m.H = pyo.Var(sets.hbm_uses, domain=pyo.NonNegativeReals,
                  doc="HBM stacks of vendor v used by product p in t, from the pair's first quarter (family 18)")
    m.HP = pyo.Var([(v, t) for v in sets.hbm_floor_vendors for t in T], domain=pyo.NonNegativeReals,
                   doc="HBM stacks paid to vendor v in t (take-or-pay, family 17; only vendors with a floor)")
    # no upper bound: max_blocks is the row packaging_expansion_limit alone, so a diagnosis can relax it
    m.K = pyo.Var([(k, t) for k in sets.packaging_expansion for t in T], domain=pyo.NonNegativeIntegers,
                  doc="packaging expansion blocks started on line k in t (family 19)")
    expansion = data.expansion["max_blocks"].to_dict() if len(data.expansion) else {}

    def block_bounds(_m, s, _t):
        return (0, expansion[s])

    m.Y = pyo.Var([(p, st, t) for (p, st) in sets.rack_pairs for t in T], domain=rack_domain,
                  bounds=rack_bounds(data, sets), doc="racks of product p deployed at site s in t")
    m.Z = pyo.Var([(p, st, r, w, t) for (p, st, r, w) in sets.serve for t in T], domain=pyo.NonNegativeReals,
                  doc="M tok/s of workload w in region r served by p at s")
    m.U = pyo.Var([(r, w, t) for (r, w) in sets.demand_rows for t in T], domain=pyo.NonNegativeReals,
                  doc="unmet demand, M tok/s")
    m.E = pyo.Var([(st, t) for st in sets.expansion_sites for t in T], domain=pyo.NonNegativeIntegers,
                  bounds=block_bounds, doc="power expansion blocks started at s in t")
    m.O = pyo.Var([(st, t) for st in sets.capex_sites for t in T], domain=pyo.NonNegativeReals,
                  doc="own-funded capex at s in t, $M")
    m.F = pyo.Var(sets.funding, domain=pyo.NonNegativeReals, doc="partner-funded capex, $M")
    # a partner that can fund nothing (no PartnerSites row inside its window) has no deal to sign
    m.A = pyo.Var(list(data.partners.index), domain=pyo.Binary,
                  bounds=lambda _m, n: (0, 1 if sets.funding_by_partner.get(n) else 0), doc="partner deal signed")
    m.ID = pyo.Var([(p, t) for p in sets.products for t in T], domain=pyo.NonNegativeReals, doc="die bank, end of t")
    m.IC = pyo.Var([(p, t) for p in sets.products for t in T], domain=pyo.NonNegativeReals,
                   doc="finished chips, end of t")
    m.IH = pyo.Var([(v, t) for v in sets.vendors for t in T], domain=pyo.NonNegativeReals,
                   doc="HBM stacks, end of t")
