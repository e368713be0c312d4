"""Checks across sheets, once every sheet is typed: rows that another sheet makes useless (a product without a
route, demand nobody can serve, a line nobody uses, an expansion block no budget can pay). All are warnings
except a PackagingExpansion line without a capacity."""

from __future__ import annotations

import pandas as pd

from models.money import money
from models.data import Settings
from planner.input.checks.quarterly import QuarterSeries
from planner.input.checks.rows import Row, ValidationContext, WideRow, known_text, to_frame
from planner.input.checks.tables import Tables
from planner.input.names import name_key, nearest_name
from planner.input.schema import SHEET_BY_NAME


def packaging_expansion(ctx: ValidationContext, rows: list[Row], products: pd.DataFrame) -> pd.DataFrame:
    """(19) PackagingExpansion rows whose line has a PackagingCapacity row (others are located errors)."""
    listed = {keys[0] for keys in ctx.present.get("PackagingCapacity", ())}
    used = set(products["packaging_line"]) if len(products) else set()
    kept = []
    for r in rows:
        k = r.values["packaging_line"]
        cell = r.cells.get("packaging_line", "PackagingExpansion")
        if k not in listed:
            ctx.issues.error("PackagingExpansion", cell, "packaging_line", k,
                             f"packaging line '{k}' can expand only from a capacity: add its row to "
                             f"PackagingCapacity (lines there: {known_text(listed)})")
            continue
        if k not in used and _products_complete(ctx):
            ctx.issues.warning("PackagingExpansion", cell, "packaging_line", k,
                               f"no product uses packaging line '{k}'; its expansion is never needed")
        _check_block_adds_something(ctx, r, f"packaging line '{k}'", "block_chips", "chips")
        kept.append(r)
    return to_frame("PackagingExpansion", kept, ["packaging_line"])


def _check_block_adds_something(ctx: ValidationContext, r: Row, what: str, size_column: str, unit: str) -> None:
    """An expansion block of size 0, or with a lead time that reaches past the horizon (a block started in the first
    quarter adds capacity only after the plan), can never add anything in this plan: a warning at its cell."""
    T, sheet = len(ctx.quarters), "PackagingExpansion"
    size, lead = r.values.get(size_column), r.values.get("lead_quarters")
    if isinstance(size, (int, float)) and size == 0 and r.values.get("max_blocks"):
        ctx.issues.warning(sheet, r.cells.get(size_column, sheet), size_column, size,
                           f"{what}: a block of 0 {unit} adds nothing; its expansion is never useful")
    if isinstance(lead, (int, float)) and T and lead >= T:
        ctx.issues.warning(sheet, r.cells.get("lead_quarters", sheet), "lead_quarters", lead,
                           f"{what}: a block takes {lead:g} quarters to come on line, as long as the horizon or "
                           f"longer ({T} quarters): no block can add capacity inside this plan")


def _products_complete(ctx: ValidationContext) -> bool:
    """No Products row was left out for an error: only then can 'no product uses line k' be said."""
    return not any(i.sheet == "Products" and i.severity == "error" for i in ctx.issues.items)


def _check_products_usable(ctx: ValidationContext, tables: Tables) -> None:
    """Every product has a route (else no wafers) and, when it needs HBM, a qualified vendor."""
    products = tables.products
    # a route dropped for a bad fab is a route (its error is said at its cell): not 'no route' again
    routed = {p for p, _f in ctx.present.get("Routes", set()) | ctx.dropped.get("Routes", set())}
    qualified_products = {p for _v, p in tables.qualified}
    for p in products.index:
        cell = ctx.cells.get(("Products", (p,), "product"), "Products")
        if p not in routed:
            ctx.issues.warning("Products", cell, "product", p, f"product {p} has no route in Routes: no wafers can "
                               "be started for it (only its initial die bank and chips can be used)")
        if products.at[p, "stacks_per_chip"] > 0 and p not in qualified_products:
            ctx.issues.warning("Products", ctx.cells.get(("Products", (p,), "stacks_per_chip"), cell),
                               "stacks_per_chip", products.at[p, "stacks_per_chip"],
                               f"product {p} needs HBM but no vendor is qualified for it in HBMQualification: "
                               "it cannot be packaged")


def _typo_or_other_name(ctx: ValidationContext, name: str, meant: str):
    """issues.error for a name that differs from a known one only by case, spaces, _ or - ('na' for NA, 'CoWoS S'
    for CoWoS-S: surely a typo), issues.warning for one merely like it (Region2 beside Region1 is a valid
    workbook, formulation.md: a region no site serves has its demand unmet; a line not listed has no limit)."""
    return ctx.issues.error if name_key(name) == name_key(meant) else ctx.issues.warning


def _check_capacity_rows(ctx: ValidationContext, tables: Tables, wide: dict[str, list[WideRow]]) -> None:
    """PackagingCapacity lines are used by a product; every fab, vendor and site has a capacity row."""
    lines = set(tables.products["packaging_line"]) if len(tables.products) else set()
    limited = {k for (k,), _values, _row in wide["PackagingCapacity"]}
    unused = sorted(k for k in limited if k not in lines and isinstance(k, str))
    misspelt = set()
    for p, line in tables.products["packaging_line"].items() if len(tables.products) else ():
        meant = nearest_name(line, unused) if isinstance(line, str) and line not in limited else None
        if meant is not None:  # a typo would plan this product on a line without a limit
            misspelt.add(meant)
            _typo_or_other_name(ctx, line, meant)("Products", ctx.cells.get(("Products", (p,), "packaging_line"),
                                                                             "Products"),
                                                  "packaging_line", line, f"packaging line '{line}' has no "
                                                  f"PackagingCapacity row, so it has no limit; did you mean "
                                                  f"'{meant}'? (names must match exactly)")
    for (k,), _values, row in wide["PackagingCapacity"]:
        if k not in lines and k not in misspelt and _products_complete(ctx):
            ctx.issues.warning("PackagingCapacity", row.cells["packaging_line"], "packaging_line", k,
                               f"no product uses packaging line '{k}' (lines in Products: {known_text(lines)})")
    for sheet, pool, what in (("FabCapacity", set(tables.fabs.index), "fab"),
                              ("HBMSupply", set(tables.vendors.index), "vendor"),
                              ("SitePower", set(tables.sites.index), "site")):
        if sheet not in ctx.raw.sheets:
            continue
        rows = ctx.present.get(sheet, set()) | ctx.dropped.get(sheet, set())  # a row with a bad key is a row
        listed = {name_key(keys[0]) for keys in rows}
        for key in sorted(k for k in pool if name_key(k) not in listed):
            ctx.issues.warning(sheet, ctx.raw.sheets[sheet].title, what, key,
                               f"{what} {key} has no row in {sheet}: its capacity is 0 in every quarter")


def _check_expansion_affordable(ctx: ValidationContext, tables: Tables, settings: Settings | None,
                                budget: dict[int, float]) -> None:
    """Without carry-over, an expansion block dearer than every quarter's budget needs a partner to be started."""
    if (settings.budget_carryover if settings else False) or not budget:
        return
    budget_max = max(budget.values())
    funded_sites = {s for (_n, s) in tables.partner_sites}
    for s, row in tables.expansion.iterrows():
        block_usd = float(row["block_mw"]) * float(row["capex_usd_per_mw"])
        if block_usd > budget_max and s not in funded_sites and row["max_blocks"] > 0:
            ctx.issues.warning("SiteExpansion", ctx.cells.get(("SiteExpansion", (s,), "capex_usd_per_mw"),
                                                              "SiteExpansion"), "capex_usd_per_mw",
                               row["capex_usd_per_mw"],
                               f"one expansion block at {s} costs {money(block_usd)}, more than any quarter's own "
                               f"budget (at most {money(budget_max)}) and no partner funds {s}: it can never "
                               "be started")


def _check_demand_servable(ctx: ValidationContext, tables: Tables, demand_rows: list[WideRow]) -> None:
    """Demand is there, and each row with demand has a product for its workload and a site for its region."""
    servers = {w for (_p, w) in tables.throughput}
    regions_served = {r for (_s, r) in tables.links}
    if "Demand" in ctx.raw.sheets and not demand_rows:
        ctx.issues.warning("Demand", ctx.raw.sheets["Demand"].title, "", None,
                           "no demand rows: the plan has nothing to serve")
    # a missing or faulty Throughput / Sites / ServingLinks sheet is reported once, at its own cells: no knock-on
    sure_of_servers = _sheets_sound(ctx, ("Throughput",))
    sure_of_sites = _sheets_sound(ctx, ("Sites", "ServingLinks"))
    for keys, values, row in demand_rows:
        r, w = keys
        total = sum(v or 0.0 for v in values.values())
        if total <= 0:
            continue
        if w not in servers and sure_of_servers:
            ctx.issues.warning("Demand", row.cells["workload"], "workload", w,
                               f"workload {w} has demand but no product can serve it (no Throughput row): "
                               "all of it will be unmet")
        meant = nearest_name(r, sorted(x for x in regions_served if isinstance(x, str))) \
            if r not in regions_served and isinstance(r, str) else None
        if meant is not None and sure_of_sites:  # 'na' for NA: its demand would go unmet without a word of why
            _typo_or_other_name(ctx, r, meant)("Demand", row.cells["region"], "region", r, f"region {r} has demand "
                                               f"but no site serves it; did you mean '{meant}'? (names must match "
                                               "exactly; as written, all of it is unmet)")
        elif r not in regions_served and sure_of_sites:
            ctx.issues.warning("Demand", row.cells["region"], "region", r,
                               f"region {r} has demand but no site serves it (no site in that region, no "
                               f"ServingLinks row): all of it will be unmet (regions served: "
                               f"{known_text(regions_served)})")


def _sheets_sound(ctx: ValidationContext, names: tuple[str, ...]) -> bool:
    """The required ones of `names` are present and none has an error so far."""
    required = {n for n in names if SHEET_BY_NAME[n].required}
    return required <= set(ctx.raw.sheets) and not any(i.sheet in names for i in ctx.issues.errors)


def _check_links_used(ctx: ValidationContext, tables: Tables, demand_rows: list[WideRow]) -> None:
    """A serving link to a region with neither demand nor a site serves nothing."""
    region_pool = set(tables.sites["region"]) | {keys[0] for keys, _v, _r in demand_rows}
    for (s, r) in tables.links:
        if r not in region_pool:
            ctx.issues.warning("ServingLinks", ctx.cells.get(("ServingLinks", (s, r), "region"), "ServingLinks"),
                               "region", r, f"region {r} has no demand and no site; the link is unused")


TERMINAL_VALUE_WARN_RATIO = 1.5


def _check_terminal_value_below_die_cost(ctx: ValidationContext, tables: Tables) -> None:
    """A terminal value per die far above what a good die costs (wafer cost / (dies per wafer x yield)) makes
    starting wafers only to hold their dies at the end pay: the plan becomes a die factory. Near the cost is what
    the terminal value is for (the plan keeps buying in its last lead-time quarters, as dies in flight are worth
    about their replacement cost); TERMINAL_VALUE_WARN_RATIO times the cost is not."""
    products, routes, fabs = tables.products, tables.routes, tables.fabs
    if "terminal_value_usd_per_die" not in products.columns or not len(routes):
        return
    for (p, f), route in routes.iterrows():
        value = float(products.at[p, "terminal_value_usd_per_die"]) if p in products.index else 0.0
        good = float(route["dies_per_wafer"]) * float(route["yield"])
        if value <= 0 or good <= 0 or f not in fabs.index:
            continue
        die_cost = float(fabs.at[f, "wafer_cost_usd"]) / good
        if value > TERMINAL_VALUE_WARN_RATIO * die_cost:
            ctx.issues.warning("Products", ctx.cells.get(("Products", (p,), "terminal_value_usd_per_die"), "Products"),
                               "terminal_value_usd_per_die", value,
                               f"the terminal value of a die of {p} ({money(value)}) is over "
                               f"{TERMINAL_VALUE_WARN_RATIO:g} times what a good die costs at {f} ({money(die_cost)}: "
                               "wafer cost / (dies per wafer x yield)): the plan starts wafers only to hold their "
                               "dies at the end; value a die at about its replacement cost")
            return


def _check_hbm_floors_usable(ctx: ValidationContext, tables: Tables, wide: dict[str, list[WideRow]]) -> None:
    """A vendor's take-or-pay floor (HBMMinStacks) when it is qualified for no product: every floor stack is paid
    for and none can be packaged."""
    if not _sheets_sound(ctx, ("HBMQualification", "HBMVendors")):
        return
    qualified_vendors = {v for v, _p in tables.qualified}
    for (vendor,), values, row in wide["HBMMinStacks"]:
        floor = sum(x for x in values.values() if x)
        if floor > 0 and vendor not in qualified_vendors:
            ctx.issues.warning("HBMMinStacks", row.cells.get("vendor", "HBMMinStacks"), "vendor", vendor,
                               f"vendor {vendor} has a take-or-pay floor ({floor:,.0f} stacks in all) but is "
                               "qualified for no product in HBMQualification: the plan pays for those stacks and "
                               "can use none of them")


def check_references(ctx: ValidationContext, tables: Tables, wide: dict[str, list[WideRow]],
                     settings: Settings | None, series: QuarterSeries) -> None:
    """Every cross-sheet check, in the order their warnings are listed."""
    _check_products_usable(ctx, tables)
    _check_hbm_floors_usable(ctx, tables, wide)
    _check_capacity_rows(ctx, tables, wide)
    _check_expansion_affordable(ctx, tables, settings, series.budget)
    _check_demand_servable(ctx, tables, wide["Demand"])
    _check_links_used(ctx, tables, wide["Demand"])
    _check_terminal_value_below_die_cost(ctx, tables)
