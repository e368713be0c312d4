"""When a product's chips can first serve: from stock and installed racks at once, new ones after a route's lead
time or a scheduled receipt. Read by the unmet-demand reasons and the pre-solve checks of a diagnosis."""

from __future__ import annotations

from models.data import PlanData
from models.sets import ModelSets


def serving_chain(r: str, w: str, data: PlanData) -> tuple[list[str], list[str]]:
    """(sites that serve region r, products with a throughput on workload w)."""
    sites = sorted({s for (s, rr) in data.links if rr == r})
    products = sorted({p for (p, ww) in data.throughput if ww == w})
    return sites, products


def stocked(p: str, sites: list[str], data: PlanData, sets: ModelSets) -> bool:
    """Whether p has chips before any can be made: stock, a die bank, or racks installed at one of `sites`."""
    prod = data.products.loc[p]
    return prod["initial_chip_inventory"] > 0 or prod["initial_die_bank"] > 0 or \
        any(sets.base_racks.get((p, s, 0), 0) > 0 for s in sites)


def earliest_new_chip(p: str, data: PlanData, sets: ModelSets) -> tuple[int, str]:
    """(first quarter a newly made or received chip of p can serve, the input cell that sets it); (T, '') never."""
    first = [(t, data.cell("ScheduledReceipts", (p,), data.quarters[t])) for (pp, t), v in data.receipts.items()
             if pp == p and v > 0]
    for (pp, f) in sets.routes:
        if pp == p:
            lead = int(data.routes.at[(p, f), "lead_quarters"])
            first.append((lead, data.cell("Routes", (p, f), "lead_quarters")))
    return min(first, default=(data.T, ""))
