"""PlanData: the validated, typed input tables the model consumes.

Every table here has sorted keys and defaults filled in. Time-phased values are sparse dicts
keyed by (key..., t) with t the quarter index 0..T-1 of the horizon. `cells` maps every input
value back to the workbook cell it came from, so results and diagnoses can name it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Settings:
    plan_name: str
    start_quarter: str
    quarters: int
    discount_rate_annual: float = 0.10
    integer_racks: bool = True
    integer_wafers: bool = False
    budget_carryover: bool = False
    hours_per_quarter: float = 2190.0
    capex_life_quarters: float | None = None
    mip_rel_gap: float = 0.001
    time_limit_s: float = 600.0
    threads: int = 0
    stability_weight: float = 0.01  # --previous: models/stability.py
    commit_quarters: int = 1  # hedged plans (stochastic.md): quarters t < commit_quarters are here-and-now
    risk_weight: float = 0.0
    risk_alpha: float = 0.9


@dataclass
class PlanData:
    settings: Settings
    quarters: list[str]  # labels of t = 0..T-1
    products: pd.DataFrame  # index product
    fabs: pd.DataFrame  # index fab
    routes: pd.DataFrame  # index (product, fab)
    vendors: pd.DataFrame  # index vendor
    qualified: list[tuple[str, str]]  # (vendor, product)
    sites: pd.DataFrame  # index site
    expansion: pd.DataFrame  # index site
    installed_base: pd.DataFrame  # columns product, site, racks, retire_t (T+ means never)
    workloads: pd.DataFrame  # index workload
    throughput: dict[tuple[str, str], float]  # (product, workload) -> tok/s per chip
    links: list[tuple[str, str]]  # (site, region), own region included
    partners: pd.DataFrame  # index partner; first_t, last_t clipped to the horizon
    partner_sites: list[tuple[str, str]]  # (partner, site)
    fab_capacity: dict[tuple[str, int], float]
    fab_min_wafers: dict[tuple[str, int], float]
    wafer_cost: dict[tuple[str, int], float]  # resolved: FabWaferCost or Fabs.wafer_cost_usd
    yields: dict[tuple[str, str, int], float]  # resolved: Yield or Routes.yield
    receipts: dict[tuple[str, int], float]
    hbm_supply: dict[tuple[str, int], float]
    packaging_capacity: dict[tuple[str, int], float]  # only lines listed in PackagingCapacity
    site_power: dict[tuple[str, int], float]
    demand: dict[tuple[str, str, int], float]  # every (region, workload) row of Demand, every t
    budget: dict[int, float]
    cells: dict[tuple, str] = field(default_factory=dict)  # (sheet, keys tuple, column) -> "Sheet!C3"
    # HBMMinStacks, > 0 only (family 17); a hedged plan adds 0 floors so that every scenario pays its vendors alike
    hbm_min_stacks: dict[tuple[str, int], float] = field(default_factory=dict)
    # (vendor, product) -> first quarter index the pair may be used (family 18); absent = 0; >= T = never
    qualified_from: dict[tuple[str, str], int] = field(default_factory=dict)
    # index packaging_line: block_chips, capex_usd_per_block, lead_quarters, max_blocks (family 19)
    packaging_expansion: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["block_chips", "capex_usd_per_block", "lead_quarters", "max_blocks"],
        index=pd.Index([], name="packaging_line")))
    source: str = ""
    sha256: str = ""

    @property
    def T(self) -> int:
        return len(self.quarters)

    def cell(self, sheet: str, keys: tuple, column: str | None) -> str:
        """The input cell a value came from ('' when it was a default)."""
        return self.cells.get((sheet, keys, column), "")

    def rack_mw(self, product: str, site: str) -> float:
        """Grid MW one rack of `product` draws at `site`: ``rack_kw * pue / 1000``."""
        return float(self.products.at[product, "rack_kw"]) * float(self.sites.at[site, "pue"]) / 1000.0

    @property
    def demand_rows(self) -> list[tuple[str, str]]:
        return sorted({(r, w) for (r, w, _t) in self.demand})
