"""Why demand goes unmet: a `limited_by` reason for every Serving row with unmet > 0, and the top reasons.

For a row (region r, workload w, quarter t) the chain that could serve it is known from the model's structure:
the sites linked to r, the products with a throughput for w, their routes, HBM vendors and packaging line, the
site power and the own budget. A limit on that chain starves the row when its shadow price (models/prices.py:
for a MIP, from the LP with blocks and deals fixed and racks continuous) is above 0. Each such limit is valued
in USD per tok/s of this row: its price times what one tok/s of the row needs of it through the product that
uses it most (MW per tok/s of a rack at the site, stacks per tok/s, chips per tok/s, wafers per tok/s, capex
USD per tok/s). Most valuable first, each as ``family key quarter (input cell)``.

When no priced limit is on the chain, the reason is structural: no site serves the region, no product serves
the workload, a lead time (chips cannot arrive before quarter q), the end of the horizon (a rack deployed this
late serves fewer quarters of the plan than its life), or that serving costs more than the unmet penalty.
"""

from __future__ import annotations

import re

from collections import defaultdict
from functools import cache

import pandas as pd

from models.arrival import earliest_new_chip, serving_chain, stocked
from models.money import money
from models.costs import discount_factor
from models.data import PlanData
from models.registry import FAMILIES
from models.sets import ModelSets
from planner.input.schema import OWN_CAPEX_ITEM
from planner.output.contract import Col, LIMITS_SHOWN

MAX_REASONS = 3
EPS_PRICE = 1e-6


def _prices(tables: dict[str, pd.DataFrame], data: PlanData) -> dict[tuple[str, str, int], float]:
    """(family, key, t) -> shadow price > 0, in USD per unit of the limit, from the output tables."""
    t_of = {q: t for t, q in enumerate(data.quarters)}
    out: dict[tuple[str, str, int], float] = {}
    for family in FAMILIES.values():
        shown = LIMITS_SHOWN.get(family.name)
        frame = tables.get(shown.sheet) if shown is not None else None
        if frame is None or shown.price not in frame.columns:
            continue
        keys = frame[shown.key].astype(str) if shown.key else [shown.constant_key] * len(frame)
        for k, q, y in zip(keys, frame[Col.quarter], frame[shown.price]):
            if y is not None and pd.notna(y) and y > EPS_PRICE:
                out[(family.name, k, t_of[q])] = float(y)
    return out


def _needs(p: str, w: str, data: PlanData, sets: ModelSets) -> list[tuple[str, str, int, float]]:
    """What one tok/s of workload w served by product p needs, site power aside: (family, key, lead, units per
    tok/s); the limit's quarter may be any quarter up to `lead` quarters before the row's (lead <= 0)."""
    prod = data.products.loc[p]
    tps_chip = data.throughput[(p, w)] * float(prod["utilization"])
    if tps_chip <= 0:
        return []
    per_rack = float(prod["chips_per_rack"]) * tps_chip
    needs = [("packaging_capacity", str(prod["packaging_line"]), 0, 1.0 / tps_chip),
             ("own_budget", OWN_CAPEX_ITEM, 0, float(prod["rack_capex_usd"]) / per_rack)]
    if prod["stacks_per_chip"] > 0:
        needs += [("hbm_supply", v, 0, float(prod["stacks_per_chip"]) / tps_chip)
                  for (v, pp) in sets.hbm_pairs if pp == p]
    for (pp, f) in sets.routes:
        if pp == p:
            good = float(data.routes.at[(p, f), "dies_per_wafer"]) * float(data.routes.at[(p, f), "yield"])
            needs.append(("fab_capacity", f, -int(data.routes.at[(p, f), "lead_quarters"]), 1.0 / (good * tps_chip)))
    return needs


def _tps_per_rack(p: str, w: str, data: PlanData) -> float:
    prod = data.products.loc[p]
    return float(prod["chips_per_rack"]) * data.throughput[(p, w)] * float(prod["utilization"])


class _Chains:
    """The chain of each (region, workload) and the needs and tok/s per rack of each (product, workload), worked
    out once per plan (a plan has few of them and many unmet rows)."""

    def __init__(self, data: PlanData, sets: ModelSets):
        self.sets = sets
        self.chain = cache(lambda r, w: serving_chain(r, w, data))
        self.needs = cache(lambda p, w: _needs(p, w, data, sets))
        self.tps_per_rack = cache(lambda p, w: _tps_per_rack(p, w, data))


def _priced_limits(r, w, t, chains: _Chains, prices) -> list[tuple[float, str, str, int]]:
    """(USD per tok/s of this row, family, key, quarter) of the priced limits on the row's chain."""
    sites, products = chains.chain(r, w)
    best: dict[tuple[str, str], tuple[float, int]] = {}

    def offer(family, key, tau, value):
        if value > best.get((family, key), (0.0, -1))[0]:
            best[(family, key)] = (value, tau)

    for p in products:
        per_rack = chains.tps_per_rack(p, w)
        if per_rack <= 0:
            continue
        for s in sites:
            y = prices.get(("site_power", s, t))
            if y:
                offer("site_power", s, t, y * chains.sets.rack_mw[(p, s)] / per_rack)
        for family, key, lead, units in chains.needs(p, w):
            tau = _latest_priced(prices, family, key, t + lead)
            if tau is not None:
                offer(family, key, tau, prices[(family, key, tau)] * units)
    ranked = sorted(((v, f, k, tau) for (f, k), (v, tau) in best.items()), key=lambda x: (-x[0], x[1], x[2]))
    return ranked[:MAX_REASONS]


def _latest_priced(prices: dict, family: str, key: str, last: int) -> int | None:
    """The marginal unit serving quarter t is made (or bought, or spent) in the last quarter it can be
    (`last`: t, or t - lead for wafers) or the one before, the inventory carrying it on; a limit priced only
    much earlier starves this row through the die bank or inventory, and is taken when nothing closer is."""
    priced = [tau for tau in range(max(last - 1, 0), last + 1) if (family, key, tau) in prices]
    if not priced:
        priced = [tau for tau in range(0, last + 1) if (family, key, tau) in prices]
    return max(priced) if priced else None


def _cell(family: str, key: str, t: int, data: PlanData) -> str:
    sheet = {"site_power": "SitePower", "hbm_supply": "HBMSupply", "fab_capacity": "FabCapacity",
             "packaging_capacity": "PackagingCapacity", "own_budget": "Budget"}[family]
    cell = data.cell(sheet, (key,), data.quarters[t])
    return cell + _none_yet(family, key, t, data) if cell else cell


def _none_yet(family: str, key: str, t: int, data: PlanData) -> str:
    """' = 0: none before 2027Q1' for a capacity of 0 in quarter t (a fab not yet running, a vendor not yet
    shipping): the limit is real, but what to raise is the start, not the quarter's number."""
    table = {"site_power": data.site_power, "hbm_supply": data.hbm_supply, "fab_capacity": data.fab_capacity,
             "packaging_capacity": data.packaging_capacity}.get(family)
    if table is None or table.get((key, t), None) != 0:
        return ""
    later = [tau for tau in range(t + 1, data.T) if table.get((key, tau), 0) > 0]
    return f" = 0: none before {data.quarters[later[0]]}" if later else " = 0: none in the plan"


def structural_reason(r: str, w: str, t: int, data: PlanData, sets: ModelSets) -> str:
    sites, products = serving_chain(r, w, data)
    if not sites:
        return "no site serves region"
    if not products:
        return "no product serves workload"
    tau, cell = min(earliest_new_chip(p, data, sets) for p in products)
    if t < tau:  # what is in stock or installed serves what it can (its limits are priced first)
        when = data.quarters[tau] if tau < data.T else "the end of the plan"
        stock = " beyond the stock and installed racks" if any(stocked(p, sites, data, sets) for p in products) \
            else ""
        return f"lead time: chips cannot arrive before {when}" + (f" ({cell})" if cell else "") + stock
    life = min(int(data.products.at[p, "life_quarters"]) for p in products)
    if not data.settings.capex_life_quarters and data.T - t < life:
        return f"end of horizon: a rack deployed in {data.quarters[t]} serves {data.T - t} of its {life} quarters " \
               "in the plan, so its capex outweighs the unmet penalty"
    return "cost: serving costs more than the unmet penalty " \
           f"({data.cell('Workloads', (w,), 'unmet_penalty_usd_per_tps')})"


def limited_by(tables: dict[str, pd.DataFrame], data: PlanData, sets: ModelSets) -> list[str]:
    """One text per Serving row ('' where nothing is unmet), in the Serving table's order."""
    prices = _prices(tables, data)
    chains = _Chains(data, sets)
    t_of = {q: t for t, q in enumerate(data.quarters)}
    serving = tables["Serving"]
    out = []
    for r, w, q, unmet in zip(serving[Col.region], serving[Col.workload], serving[Col.quarter], serving[Col.unmet_tps]):
        if not unmet or unmet <= 1e-6:
            out.append("")
            continue
        t = t_of[q]
        ranked = _priced_limits(r, w, t, chains, prices)
        if ranked:
            out.append("; ".join(f"{f} {k} {data.quarters[tau]}" + (f" ({c})" if (c := _cell(f, k, tau, data)) else "")
                                 for (_v, f, k, tau) in ranked))
        else:
            out.append(structural_reason(r, w, t, data, sets))
    return out


def unmet_reasons(tables: dict[str, pd.DataFrame], data: PlanData, n: int = 3) -> list[tuple[str, object, str]]:
    """Summary rows unmet_reason_1..n: the first limit of each unmet row, grouped by limit (family and key, over
    quarters), with the unmet tok/s and the present value of its unmet penalty, largest value first."""
    serving = tables["Serving"]
    if Col.limited_by not in serving.columns:
        return []
    penalty = data.workloads["unmet_penalty_usd_per_tps"].to_dict()
    t_of = {q: t for t, q in enumerate(data.quarters)}
    groups: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for w, q, unmet, reason in zip(serving[Col.workload], serving[Col.quarter], serving[Col.unmet_tps], serving[Col.limited_by]):
        if not reason:
            continue
        g = groups[reason_label(reason)]
        g[0] += float(unmet)
        g[1] += float(unmet) * float(penalty[w]) * discount_factor(data, t_of[q])
        g[2] += 1
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1][1], kv[0]))[:n]
    rows = []
    for i, (label, (tps, usd, count)) in enumerate(ranked, start=1):
        words = in_words(label)
        rows.append((f"unmet_reason_{i}", f"{words}: {tps:,.0f} tok/s unmet over {count} row-quarter(s), "
                     f"{money(usd)} of unmet-demand penalty (present value)", "the Serving sheet's limited_by"))
    return rows


def reason_label(reason: str) -> str:
    """A limited_by text's first limit without its quarter and cell ('site_power Dallas-TX'), or the kind of a
    structural reason ('lead time', 'end of horizon')."""
    first = reason.split("; ")[0]
    family = first.split(" ")[0]
    if family in _FAMILY_WORDS:  # 'site_power New York 2027Q2 (SitePower!G2)': the key may hold spaces
        limit = _FAMILY_LIMIT.match(first)
        return f"{family} {limit.group(1)}" if limit else " ".join(first.split(" ")[:2])
    return first.split(":")[0] if ":" in first else first


_FAMILY_LIMIT = re.compile(r"^\w+ (.+?)(?: \d{4}Q[1-4])?(?: \(.*\))?$")


_FAMILY_WORDS = {"site_power": "power at", "hbm_supply": "HBM from", "fab_capacity": "wafers at",
                 "packaging_capacity": "packaging on line", "own_budget": "the own capex budget"}


def in_words(label: str) -> str:
    parts = label.split(" ", 1)
    if parts[0] == "own_budget":
        return "the own capex budget (Budget)"
    if parts[0] in _FAMILY_WORDS:
        return f"{_FAMILY_WORDS[parts[0]]} {parts[1]} ({parts[0]})"
    return label
