"""The wide sheets (one column per quarter): read against the masters, then turned into {(keys..., t): value}
series, with the per-fab and per-route defaults of FabWaferCost and Yield and the one used row of Budget."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from planner.input.checks.rows import ValidationContext, WideRow, read_wide
from planner.input.schema import OWN_CAPEX_ITEM

WIDE_SHEETS = ("FabCapacity", "FabMinWafers", "FabWaferCost", "Yield", "ScheduledReceipts", "HBMSupply",
               "PackagingCapacity", "SitePower", "Demand", "Budget", "HBMMinStacks")


@dataclass
class QuarterSeries:
    """The wide sheets as the model takes them: keys + (t,) -> value."""
    fab_capacity: dict[tuple[str, int], float]
    fab_min_wafers: dict[tuple[str, int], float]  # non-zero only
    wafer_cost: dict[tuple[str, int], float]  # FabWaferCost where given, else Fabs.wafer_cost_usd
    yields: dict[tuple[str, str, int], float]  # Yield where given, else Routes.yield
    receipts: dict[tuple[str, int], float]  # non-zero only
    hbm_supply: dict[tuple[str, int], float]
    packaging_capacity: dict[tuple[str, int], float]
    site_power: dict[tuple[str, int], float]
    demand: dict[tuple[str, str, int], float]
    budget: dict[int, float]
    hbm_min_stacks: dict[tuple[str, int], float]  # non-zero only


def read_wide_sheets(ctx: ValidationContext, known: dict[str, set]) -> dict[str, list[WideRow]]:
    """The good rows of every wide sheet, by sheet."""
    return {name: read_wide(ctx, name, known) for name in WIDE_SHEETS}


def series_of(rows: list[WideRow], default: float = 0.0) -> dict[tuple, float]:
    """{keys + (t,): value} of every row and quarter; a blank quarter is `default`."""
    out = {}
    for keys, values, _row in rows:
        for t, v in values.items():
            out[keys + (t,)] = default if v is None else float(v)
    return out


def _nonzero(series: dict[tuple, float]) -> dict[tuple, float]:
    return {k: v for k, v in series.items() if v}


def wafer_costs(fabs: pd.DataFrame, rows: list[WideRow], T: int) -> dict[tuple[str, int], float]:
    """Each fab's Fabs.wafer_cost_usd in every quarter, replaced where FabWaferCost gives a value."""
    cost = {(f, t): float(fabs.at[f, "wafer_cost_usd"]) for f in fabs.index for t in range(T)}
    for (f,), values, _row in rows:
        for t, v in values.items():
            if v is not None:
                cost[(f, t)] = float(v)
    return cost


def route_yields(ctx: ValidationContext, routes: pd.DataFrame, rows: list[WideRow],
                 T: int) -> dict[tuple[str, str, int], float]:
    """Each route's Routes.yield in every quarter, replaced where Yield gives a value; a Yield row of no route
    is ignored with a warning."""
    route_keys = set(routes.index)
    yields = {(p, f, t): float(routes.at[(p, f), "yield"]) for (p, f) in routes.index for t in range(T)}
    for (p, f), values, row in rows:
        if (p, f) not in route_keys:
            if (p, f) in ctx.present.get("Routes", set()):
                continue  # the route's row has an error of its own, reported at its cell
            ctx.issues.warning("Yield", row.cells["product"], "product/fab", f"{p}/{f}",
                               f"no route {p}/{f} in Routes; these yields are ignored")
            continue
        for t, v in values.items():
            if v is not None:
                yields[(p, f, t)] = float(v)
    return yields


def _budget_item(written: str) -> str:
    """'Own Capex USD' and the like count as the own capex item; other items keep their name."""
    canonical = "_".join(written.split()).lower()
    return canonical if canonical == OWN_CAPEX_ITEM else written


def own_capex_budget(ctx: ValidationContext, rows: list[WideRow], T: int) -> dict[int, float]:
    """The own capex budget per quarter (0 without a Budget sheet). Its cells are also recorded under the
    canonical item name, so the registry finds them however the item is written."""
    budget: dict[int, float] = {t: 0.0 for t in range(T)}
    by_item = {_budget_item(keys[0]): (values, row) for keys, values, row in rows}
    if "Budget" not in ctx.raw.sheets:
        return budget
    if OWN_CAPEX_ITEM not in by_item:
        ctx.issues.error("Budget", ctx.raw.sheets["Budget"].title, "item", None,
                         f"Budget has no row '{OWN_CAPEX_ITEM}' (the own capex budget per quarter)")
    for item, (_values, row) in by_item.items():
        if item != OWN_CAPEX_ITEM:
            ctx.issues.warning("Budget", row.cells["item"], "item", item,
                               f"budget item '{item}' is not used (only '{OWN_CAPEX_ITEM}')")
    if OWN_CAPEX_ITEM in by_item:
        values, row = by_item[OWN_CAPEX_ITEM]
        budget = {t: (v or 0.0) for t, v in values.items()}
        written = row.values["item"]
        for q in ctx.quarters + ["item"]:
            if ("Budget", (written,), q) in ctx.cells:
                ctx.cells[("Budget", (OWN_CAPEX_ITEM,), q)] = ctx.cells[("Budget", (written,), q)]
    return budget


FLOORS = (  # floor sheet, limit sheet, unit, the limit in words, QuarterSeries fields of the floor and the limit
    ("FabMinWafers", "FabCapacity", "wafers", "the fab's capacity", "fab_min_wafers", "fab_capacity"),
    ("HBMMinStacks", "HBMSupply", "stacks", "the vendor's supply", "hbm_min_stacks", "hbm_supply"),
)


def warn_floors_above_limits(ctx: ValidationContext, series: QuarterSeries) -> None:
    """A take-or-pay floor above what can be started or bought in its quarter is paid in full but the excess is
    never delivered: legal (a contract may be that bad), but worth a planner's second look. One warning per row,
    at its first such quarter."""
    for floor_sheet, limit_sheet, unit, words, floor_field, limit_field in FLOORS:
        floors, limits = getattr(series, floor_field), getattr(series, limit_field)
        faulty = _rows_with_errors(ctx, limit_sheet)
        above: dict[str, list[int]] = {}
        for (key, t), paid in sorted(floors.items()):
            limit_row = _row_of(ctx.cells.get((limit_sheet, (key,), ctx.quarters[t]), ""))
            if limit_row in faulty:  # its limits were not read: comparing with 0 would be a false alarm
                continue
            if paid > limits.get((key, t), 0.0) + 1e-9:
                above.setdefault(key, []).append(t)
        for key, ts in above.items():
            q = ctx.quarters[ts[0]]
            paid, limit = floors[(key, ts[0])], limits.get((key, ts[0]), 0.0)
            limit_cell = ctx.cells.get((limit_sheet, (key,), q), f"no {limit_sheet} row: 0")
            more = f" (and {len(ts) - 1} later quarter(s))" if len(ts) > 1 else ""
            ctx.issues.warning(floor_sheet, ctx.cells.get((floor_sheet, (key,), q), floor_sheet), q, paid,
                               f"{key} pays for {paid:,.0f} {unit} in {q}{more}, above {words} of {limit:,.0f} "
                               f"({limit_cell}): the {paid - limit:,.0f} above it are paid and never delivered")


def _row_of(cell: str) -> int | None:
    """'FabCapacity!C2' -> 2."""
    digits = "".join(ch for ch in cell.split("!")[-1] if ch.isdigit())
    return int(digits) if "!" in cell and digits else None


def _rows_with_errors(ctx: ValidationContext, sheet: str) -> set[int]:
    return {r for i in ctx.issues.errors if i.sheet == sheet and (r := _row_of(i.cell)) is not None}


def build_series(ctx: ValidationContext, wide: dict[str, list[WideRow]], fabs: pd.DataFrame,
                 routes: pd.DataFrame) -> QuarterSeries:
    """Every wide sheet as a series; the Yield rows without a route, the Budget items and the take-or-pay floors
    above their limits are checked here."""
    T = len(ctx.quarters)
    series = QuarterSeries(
        fab_capacity=series_of(wide["FabCapacity"]),
        fab_min_wafers=_nonzero(series_of(wide["FabMinWafers"])),
        wafer_cost=wafer_costs(fabs, wide["FabWaferCost"], T),
        yields=route_yields(ctx, routes, wide["Yield"], T),
        receipts=_nonzero(series_of(wide["ScheduledReceipts"])),
        hbm_supply=series_of(wide["HBMSupply"]),
        packaging_capacity=series_of(wide["PackagingCapacity"]),
        site_power=series_of(wide["SitePower"]),
        demand=series_of(wide["Demand"]),
        budget=own_capex_budget(ctx, wide["Budget"], T),
        hbm_min_stacks=_nonzero(series_of(wide["HBMMinStacks"])))
    warn_floors_above_limits(ctx, series)
    return series
