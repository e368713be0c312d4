"""Say what a model row means in the planner's words, and which input cell sets its limit.

Every constraint family of formulation.md has one entry: the sheet/column behind its right-hand side,
the unit of that input, and a sentence. Used by the Diagnosis and Bottlenecks sheets.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.data import PlanData

# family -> (spec number, title, input unit, scale: model rhs unit -> user unit)
FAMILIES = {
    "fab_capacity": ("1", "Fab capacity", "wafers", 1.0),
    "wafers_paid_cover_started": ("2", "Take-or-pay (paid >= started)", "wafers", 1.0),
    "take_or_pay": ("2", "Take-or-pay floor", "wafers", 1.0),
    "die_bank": ("3-4", "Good dies and die bank", "dies", 1.0),
    "packaging_capacity": ("5", "Packaging capacity", "chips", 1.0),
    "hbm_content": ("6", "HBM content", "stacks", 1.0),
    "hbm_supply": ("7", "HBM supply", "stacks", 1.0),
    "hbm_inventory": ("7", "HBM inventory", "stacks", 1.0),
    "finished_chips": ("8", "Finished chips", "chips", 1.0),
    "installed_racks": ("9", "Installed racks", "racks", 1.0),
    "site_power": ("10", "Site power", "MW", 1.0),
    "expansion_limit": ("10", "Expansion blocks", "blocks", 1.0),
    "serving_capacity": ("11", "Serving capacity", "chips", 1.0),
    "demand": ("12", "Demand", "tok/s", 1e6),
    "service_floor": ("13", "Service floor", "tok/s", 1e6),
    "capex": ("14", "Capex funding", "USD", 1e6),
    "own_budget": ("15", "Own budget", "USD", 1e6),
    "partner_commitment": ("16", "Partner commitment", "USD", 1e6),
    "partner_minimum": ("16", "Partner minimum deal", "USD", 1e6),
}

# families whose right-hand side is an input limit a planner can change (elastic repair relaxes these)
REPAIRABLE = ("fab_capacity", "take_or_pay", "packaging_capacity", "hbm_supply", "site_power", "expansion_limit",
              "service_floor", "own_budget", "partner_commitment", "partner_minimum")


@dataclass(frozen=True)
class RowMeaning:
    family: str
    spec: str
    title: str
    key: str
    quarter: str
    cell: str
    unit: str
    scale: float
    text: str
    limit: float | None = None  # the input value behind the limit, in the user's unit


def _fmt(x: float, unit: str) -> str:
    if unit == "USD":
        return f"${x:,.0f}"
    return f"{x:,.6g} {unit}"


def describe(family: str, index: tuple, data: PlanData) -> RowMeaning:
    spec, title, unit, scale = FAMILIES.get(family, ("?", family, "", 1.0))
    Q = data.quarters
    idx = index if isinstance(index, tuple) else (index,)
    quarter = Q[idx[-1]] if idx and isinstance(idx[-1], int) and 0 <= idx[-1] < len(Q) else ""
    key, cell, text = "/".join(str(i) for i in idx if not isinstance(i, int)), "", title
    limit: float | None = None
    if family == "fab_capacity":
        f, t = idx
        cap = data.fab_capacity.get((f, t), 0.0)
        cell, text = data.cell("FabCapacity", (f,), Q[t]), f"FabCapacity {f} {Q[t]} = {_fmt(cap, unit)}"
        limit = cap
    elif family == "take_or_pay":
        f, t = idx
        cell = data.cell("FabMinWafers", (f,), Q[t])
        limit = data.fab_min_wafers.get((f, t), 0.0)
        text = f"FabMinWafers {f} {Q[t]} = {_fmt(limit, unit)} (take-or-pay)"
    elif family == "wafers_paid_cover_started":
        f, t = idx
        text = f"wafers paid at {f} in {Q[t]} cover the wafers started"
    elif family == "die_bank":
        p, t = idx
        cell = data.cell("Products", (p,), "initial_die_bank")
        text = f"die bank of {p} in {Q[t]} (dies arriving from wafers, ScheduledReceipts, initial die bank)"
    elif family == "packaging_capacity":
        k, t = idx
        cell = data.cell("PackagingCapacity", (k,), Q[t])
        limit = data.packaging_capacity.get((k, t), 0.0)
        text = f"PackagingCapacity {k} {Q[t]} = {_fmt(limit, unit)}"
    elif family == "hbm_content":
        p, t = idx
        cell = data.cell("Products", (p,), "stacks_per_chip")
        text = (f"each {p} chip needs {data.products.at[p, 'stacks_per_chip']:g} HBM stacks from qualified vendors "
                f"({Q[t]})")
    elif family == "hbm_supply":
        v, t = idx
        cell = data.cell("HBMSupply", (v,), Q[t])
        limit = data.hbm_supply.get((v, t), 0.0)
        text = f"HBMSupply {v} {Q[t]} = {_fmt(limit, unit)}"
    elif family == "hbm_inventory":
        v, t = idx
        cell = data.cell("HBMVendors", (v,), "initial_inventory")
        text = f"HBM inventory of {v} in {Q[t]}"
    elif family == "finished_chips":
        p, t = idx
        cell = data.cell("Products", (p,), "initial_chip_inventory")
        text = f"finished-chip balance of {p} in {Q[t]}"
    elif family == "installed_racks":
        p, s, t = idx
        base = data.installed_base
        rows = base[(base["product"] == p) & (base["site"] == s)] if len(base) else base
        if len(rows):
            cell = str(rows["cell"].iloc[0])
            text = (f"InstalledBase {p} at {s} = {rows['racks'].sum():,.6g} racks in service in {Q[t]}, plus racks "
                    f"deployed within life_quarters")
        else:
            text = f"racks of {p} installed at {s} in {Q[t]}: deployed within life_quarters"
    elif family == "site_power":
        s, t = idx
        cell = data.cell("SitePower", (s,), Q[t])
        limit = data.site_power.get((s, t), 0.0)
        text = f"SitePower {s} {Q[t]} = {_fmt(limit, unit)} (plus energised expansion blocks)"
    elif family == "expansion_limit":
        (s,) = idx
        cell = data.cell("SiteExpansion", (s,), "max_blocks")
        limit = float(data.expansion.at[s, "max_blocks"])
        text = f"SiteExpansion {s} max_blocks = {int(limit)}"
    elif family == "serving_capacity":
        p, s, t = idx
        text = f"serving capacity of {p} racks at {s} in {Q[t]}"
    elif family == "demand":
        r, w, t = idx
        cell = data.cell("Demand", (r, w), Q[t])
        limit = data.demand[(r, w, t)]
        text = f"Demand {r} / {w} / {Q[t]} = {_fmt(limit, unit)}"
    elif family == "service_floor":
        r, w, t = idx
        level = float(data.workloads.at[w, "min_service_level"])
        cell = data.cell("Workloads", (w,), "min_service_level")
        text = (f"Demand {r} / {w} / {Q[t]} = {_fmt(data.demand[(r, w, t)], unit)} with min_service_level "
                f"{level:.0%} ({data.cell('Demand', (r, w), Q[t])})")
    elif family == "capex":
        s, t = idx
        text = f"capex at {s} in {Q[t]} is funded by own budget or partners"
    elif family == "own_budget":
        (t,) = idx
        cell = data.cell("Budget", ("own_capex_usd",), Q[t])
        carry = " (cumulative, budget_carryover)" if data.settings.budget_carryover else ""
        limit = data.budget[t]
        text = f"Budget own_capex_usd {Q[t]} = {_fmt(limit, 'USD')}{carry}"
    elif family == "partner_commitment":
        (n,) = idx
        cell = data.cell("Partners", (n,), "commitment_usd")
        limit = float(data.partners.at[n, "commitment_usd"])
        text = f"Partners {n} commitment_usd = {_fmt(limit, 'USD')}"
    elif family == "partner_minimum":
        (n,) = idx
        cell = data.cell("Partners", (n,), "min_deal_usd")
        limit = float(data.partners.at[n, "min_deal_usd"])
        text = f"Partners {n} min_deal_usd = {_fmt(limit, 'USD')} if signed"
    return RowMeaning(family, spec, title, key, quarter, cell, unit, scale, text, limit)
