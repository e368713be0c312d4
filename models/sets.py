"""Sparse index sets, built from the validated tables (never dense Cartesian products).

Only existing routes, qualifications, serving links, product-workload pairs and demand rows make
variables. Racks Y[p,s,t] exist for every product and site, as in the spec: a rack that serves no
demand can still matter (deploying idle chips that would pay holding cost, or spending toward a
partner's minimum deal), so pruning them would change optima.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from models.data import PlanData

USD_PER_MUSD = 1e6  # capex, budget and partner money are in $M inside the model
TPS_PER_MTPS = 1e6  # throughput in M tok/s
# The objective is in $k: per-unit costs span ~$0.1 (holding a die) to ~$1e5 (a tok/s unmet for a quarter).
# In $M a $1 holding cost is 1e-6, at HiGHS's tolerances: measured, presolve then returned a worse plan as
# "optimal" on random workbooks (tests/crosscheck); in $k it is 1e-3.
USD_PER_OBJ = 1e3


@dataclass
class ModelSets:
    T: list[int]
    products: list[str]
    fabs: list[str]
    vendors: list[str]
    sites: list[str]
    routes: list[tuple[str, str]]
    hbm_pairs: list[tuple[str, str]]  # (vendor, product) qualified, product uses HBM
    hbm_products: list[str]  # products with stacks_per_chip > 0
    line_products: dict[str, list[str]]  # packaging lines with a capacity row -> products on them
    rack_pairs: list[tuple[str, str]]  # (product, site)
    serve: list[tuple[str, str, str, str]]  # (product, site, region, workload)
    serve_by_rack: dict[tuple[str, str], list[tuple[str, str]]]
    serve_by_demand: dict[tuple[str, str], list[tuple[str, str]]]
    demand_rows: list[tuple[str, str]]
    expansion_sites: list[str]
    capex_sites: list[str]
    funding: list[tuple[str, str, int]]  # (partner, site, t) inside the partner's window
    funding_by_site: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    funding_by_partner: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    base_racks: dict[tuple[str, str, int], float] = field(default_factory=dict)
    racks_by_site: dict[str, list[str]] = field(default_factory=dict)
    racks_by_product: dict[str, list[str]] = field(default_factory=dict)
    rack_mw: dict[tuple[str, str], float] = field(default_factory=dict)  # grid MW per rack: rack_kw * pue / 1000
    expansion: dict[str, dict[str, float]] = field(default_factory=dict)  # site -> SiteExpansion row
    hbm_uses: list[tuple[str, str, int]] = field(default_factory=list)  # (v, p, t), t >= first_quarter (family 18)
    hbm_floor_vendors: list[str] = field(default_factory=list)  # vendors with an HBMMinStacks floor (family 17)
    packaging_expansion: dict[str, dict[str, float]] = field(default_factory=dict)  # line -> PackagingExpansion row


def qualified_uses(hbm_pairs: list[tuple[str, str]], first_use: dict[tuple[str, str], int],
                   T: list[int]) -> list[tuple[str, str, int]]:
    """(18) Qualification from a quarter: ``H[v,p,t]`` exists only for ``t >= first_quarter[v,p]``
    (HBMQualification.first_quarter; blank = from the start; after the horizon = never, so the pair has no H)."""
    return [(v, p, t) for (v, p) in hbm_pairs for t in T if t >= first_use.get((v, p), 0)]


def build_sets(data: PlanData) -> ModelSets:
    T = list(range(data.T))
    products = list(data.products.index)
    stacks = data.products["stacks_per_chip"].to_dict()
    hbm_products = [p for p in products if stacks[p] > 0]
    first_use = data.qualified_from
    hbm_pairs = [(v, p) for (v, p) in data.qualified if stacks.get(p, 0) > 0 and first_use.get((v, p), 0) < len(T)]
    hbm_uses = qualified_uses(hbm_pairs, first_use, T)
    hbm_floor_vendors = sorted({v for (v, _t) in data.hbm_min_stacks})

    limited_lines = sorted({k for (k, _t) in data.packaging_capacity})
    line_of = data.products["packaging_line"].to_dict()
    line_products = {k: [p for p in products if line_of[p] == k] for k in limited_lines}

    servers_of_workload: dict[str, list[str]] = defaultdict(list)
    for (p, w) in sorted(data.throughput):
        servers_of_workload[w].append(p)
    sites_of_region: dict[str, list[str]] = defaultdict(list)
    for (s, r) in data.links:
        sites_of_region[r].append(s)
    demand_rows = data.demand_rows
    serve = sorted({(p, s, r, w) for (r, w) in demand_rows for s in sites_of_region.get(r, ())
                    for p in servers_of_workload.get(w, ())})
    serve_by_rack: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    serve_by_demand: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for (p, s, r, w) in serve:
        serve_by_rack[(p, s)].append((r, w))
        serve_by_demand[(r, w)].append((p, s))

    base_racks: dict[tuple[str, str, int], float] = defaultdict(float)
    for row in data.installed_base.itertuples(index=False):
        for t in T:
            if t < row.retire_t:
                base_racks[(row.product, row.site, t)] += row.racks
    rack_pairs = [(p, s) for p in products for s in sorted(data.sites.index)]
    racks_by_site: dict[str, list[str]] = defaultdict(list)
    racks_by_product: dict[str, list[str]] = defaultdict(list)
    for (p, s) in rack_pairs:
        racks_by_site[s].append(p)
        racks_by_product[p].append(s)

    expansion_sites = sorted(set(data.expansion.index) & set(data.sites.index))
    capex_sites = sorted(set(racks_by_site) | set(expansion_sites))
    capex_set = set(capex_sites)
    funding = []
    for (n, s) in data.partner_sites:
        if s not in capex_set:
            continue
        a, b = int(data.partners.at[n, "first_t"]), int(data.partners.at[n, "last_t"])
        funding.extend((n, s, t) for t in T if a <= t <= b)
    funding.sort()
    funding_by_site: dict[tuple[str, int], list[str]] = defaultdict(list)
    funding_by_partner: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (n, s, t) in funding:
        funding_by_site[(s, t)].append(n)
        funding_by_partner[n].append((s, t))

    rack_mw = {(p, s): data.rack_mw(p, s) for (p, s) in rack_pairs}
    expansion = {s: {k: float(v) for k, v in row.items()} for s, row in data.expansion.to_dict("index").items()}
    # every listed line, even one no product uses: its blocks only cost there, but in a hedged plan they are one
    # decision shared with the scenarios whose products use the line (pruned, they would be held at 0 in all)
    packaging_expansion = {k: {c: float(v) for c, v in row.items()}
                           for k, row in data.packaging_expansion.to_dict("index").items()}

    return ModelSets(
        T=T, products=products, fabs=list(data.fabs.index), vendors=list(data.vendors.index),
        sites=list(data.sites.index), routes=list(data.routes.index), hbm_pairs=hbm_pairs, hbm_products=hbm_products,
        line_products=line_products, rack_pairs=rack_pairs, serve=serve, serve_by_rack=dict(serve_by_rack),
        serve_by_demand=dict(serve_by_demand), demand_rows=demand_rows, expansion_sites=expansion_sites,
        capex_sites=capex_sites, funding=funding, funding_by_site=dict(funding_by_site),
        funding_by_partner=dict(funding_by_partner), base_racks=dict(base_racks), racks_by_site=dict(racks_by_site),
        racks_by_product=dict(racks_by_product), rack_mw=rack_mw, expansion=expansion, hbm_uses=hbm_uses,
        hbm_floor_vendors=hbm_floor_vendors, packaging_expansion=packaging_expansion)
