"""The output contract as data: the stable sheets and columns of a plan workbook (workbook.md).

The writer orders each sheet's columns by this contract, the plan reader and the tests check a written
plan against it, and the README's output reference is generated from it. The planner may add columns
after the contract's; it never renames or drops one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# statuses that carry a plan (workbook.md: Summary.status); everything else has none
PLANNED_STATUSES = ("optimal", "feasible")
STATUSES = ("optimal", "feasible", "infeasible", "unbounded", "error")


def is_planned(status: str) -> bool:
    """True when a status carries a plan (decisions to read, roll, freeze or compare)."""
    return str(status).strip() in PLANNED_STATUSES


@dataclass(frozen=True)
class OutputSheet:
    name: str
    keys: tuple[str, ...]  # the index of one row
    values: tuple[str, ...]  # contract value columns
    meaning: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        return self.keys + self.values

    def with_extra(self, after: dict[str, tuple[str, ...]] | None = None, tail: tuple[str, ...] = ()) -> list[str]:
        """The contract's columns with the planner's own: `after[c]` right after contract column c, `tail` at the
        end (the extract's column order; the writer puts the contract's first)."""
        after = after or {}
        unknown = set(after) - set(self.columns)
        if unknown:
            raise KeyError(f"{self.name} has no contract column {', '.join(sorted(unknown))}")
        out: list[str] = []
        for c in self.columns:
            out += [c, *after.get(c, ())]
        return out + list(tail)


TIDY_SHEETS: tuple[OutputSheet, ...] = (
    OutputSheet("Wafers", ("product", "fab", "quarter"), ("wafers", "good_dies_out", "arrival_quarter"),
                "wafers started per route and quarter, and the good dies they yield"),
    OutputSheet("Fabs", ("fab", "quarter"), ("wafers_started", "capacity", "min_wafers", "wafers_paid", "utilization",
                                             "shadow_price_usd_per_wafer"), "fab use and take-or-pay"),
    OutputSheet("Chips", ("product", "quarter"), ("good_dies_in", "packaged", "die_bank_end", "chips_deployed",
                                                  "chip_inventory_end"), "dies and finished chips"),
    OutputSheet("HBM", ("vendor", "quarter"), ("supply", "bought", "used", "inventory_end",
                                               "shadow_price_usd_per_stack"), "HBM stacks by vendor"),
    OutputSheet("HBMUse", ("vendor", "product", "quarter"), ("stacks",), "HBM stacks per product"),
    OutputSheet("Packaging", ("packaging_line", "quarter"), ("packaged", "capacity", "shadow_price_usd_per_chip"),
                "packaging lines"),
    OutputSheet("Deployments", ("product", "site", "quarter"), ("racks_deployed", "racks_installed",
                                                                "chips_installed"), "racks by product and site"),
    OutputSheet("Power", ("site", "quarter"), ("mw_used", "mw_available", "blocks_started", "shadow_price_usd_per_mw"),
                "site power and expansion blocks"),
    OutputSheet("Serving", ("region", "workload", "quarter"), ("demand_tps", "served_tps", "unmet_tps",
                                                               "service_level"), "demand served and unmet"),
    OutputSheet("Allocation", ("product", "site", "region", "workload", "quarter"), ("served_tps",),
                "who serves whom"),
    OutputSheet("Capex", ("site", "quarter"), ("capex_usd", "own_usd", "partner_usd"),
                "capex by site, own and partner (one more column per partner)"),
    OutputSheet("Partners", ("partner",), ("signed", "funded_usd", "commitment_usd", "min_deal_usd"), "deals"),
    OutputSheet("Budget", ("quarter",), ("own_capex_usd", "budget_usd", "shadow_price"), "own budget"),
    OutputSheet("Bottlenecks", ("family", "key", "quarter"), ("slack", "shadow_price", "binding"),
                "binding limits, most valuable first"),
)
TIDY_BY_NAME = {s.name: s for s in TIDY_SHEETS}
CONTRACT_SHEETS = tuple(s.name for s in TIDY_SHEETS)

# Summary key/value rows a script can rely on (wherever they stand on the sheet)
SUMMARY_KEYS = ("plan_name", "status", "objective_usd", "mip_gap", "solve_seconds", "total_demand_tps",
                "total_served_tps", "service_level", "own_capex_usd", "partner_capex_usd", "input_sha256",
                "planner_version", "solver", "solved_at")


def missing_columns(sheet: str, columns) -> list[str]:
    """Contract columns of `sheet` that `columns` lacks (empty when the sheet honours the contract)."""
    have = set(map(str, columns))
    return [c for c in TIDY_BY_NAME[sheet].columns if c not in have]


@dataclass
class SolutionTables:
    """A solved plan as tidy frames in the user's units, one per output sheet (the extract's product)."""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    cost_breakdown_usd: dict[str, float] = field(default_factory=dict)
    objective_usd: float | None = None
    kpis: dict[str, float] = field(default_factory=dict)
