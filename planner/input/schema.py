"""The input workbook's contract, as data.

One `SheetSpec` per input sheet of `../shared/spec/workbook.md`. This module is the
only place that names sheets and columns: the reader, the validator, the template
writer and the README's sheet reference are all driven from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DType = Literal["key", "float", "int", "bool", "quarter", "text"]
SheetKind = Literal["table", "wide", "settings"]


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    dtype: DType
    required: bool = False
    default: object = None
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    references: tuple[str, str] | None = None  # (sheet, key column) this key must exist in
    description: str = ""
    max_exclusive: bool = False

    def range_text(self) -> str:
        lo = "" if self.minimum is None else ("> " if self.min_exclusive else ">= ") + f"{self.minimum:g}"
        hi = "" if self.maximum is None else ("< " if self.max_exclusive else "<= ") + f"{self.maximum:g}"
        return " and ".join(x for x in (lo, hi) if x)


@dataclass(frozen=True)
class SettingSpec:
    key: str
    dtype: DType
    required: bool = False
    default: object = None
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""
    min_exclusive: bool = False
    max_exclusive: bool = False

    def column(self) -> ColumnSpec:
        """The setting's value as a column spec (conversion and range checks)."""
        return ColumnSpec(self.key, self.dtype, minimum=self.minimum, maximum=self.maximum,
                          min_exclusive=self.min_exclusive, max_exclusive=self.max_exclusive)


@dataclass(frozen=True)
class SheetSpec:
    name: str
    kind: SheetKind
    description: str
    required: bool = True
    columns: tuple[ColumnSpec, ...] = ()  # key columns first (wide sheets: only the keys)
    keys: tuple[str, ...] = ()  # columns that together identify a row
    value: ColumnSpec | None = None  # wide sheets: meaning of each quarter cell
    blank_means: str = "0"  # wide sheets: what a blank quarter cell means

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _key(name: str, ref: tuple[str, str] | None = None, description: str = "") -> ColumnSpec:
    return ColumnSpec(name, "key", required=True, references=ref, description=description)


def _num(name: str, unit: str, description: str, required: bool = False, default: object = None,
         minimum: float | None = 0.0, maximum: float | None = None, min_exclusive: bool = False,
         dtype: DType = "float") -> ColumnSpec:
    return ColumnSpec(name, dtype, required=required, default=default, unit=unit, minimum=minimum,
                      maximum=maximum, min_exclusive=min_exclusive, description=description)


PRODUCT = ("Products", "product")
FAB = ("Fabs", "fab")
VENDOR = ("HBMVendors", "vendor")
SITE = ("Sites", "site")
WORKLOAD = ("Workloads", "workload")
PARTNER = ("Partners", "partner")
PACKAGING_LINE = ("Products", "packaging_line")

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("plan_name", "text", required=True, description="Name of the plan, shown in the output"),
    SettingSpec("start_quarter", "quarter", required=True, description="First quarter of the horizon, YYYYQn"),
    SettingSpec("quarters", "int", required=True, minimum=1, maximum=200, description="Number of quarters planned"),
    SettingSpec("discount_rate_annual", "float", default=0.10, minimum=0.0, maximum=1.0,
                description="Annual discount rate; quarter t is discounted by (1+rate)^(-t/4)"),
    SettingSpec("integer_racks", "bool", default=True, description="Racks deployed are whole numbers"),
    SettingSpec("integer_wafers", "bool", default=False, description="Wafer starts are whole numbers"),
    SettingSpec("budget_carryover", "bool", default=False,
                description="Unspent own budget carries over to later quarters"),
    SettingSpec("hours_per_quarter", "float", default=2190.0, minimum=0.0, description="Hours in a quarter"),
    SettingSpec("capex_life_quarters", "float", default=None, minimum=0.0,
                description="Asset life; capex is charged at its in-plan share. Blank = charged as cash"),
    SettingSpec("mip_rel_gap", "float", default=0.001, minimum=0.0, maximum=0.5,
                description="Relative MIP gap at which the solver stops"),
    SettingSpec("time_limit_s", "float", default=600.0, minimum=0.0,
                description="Solver time limit, seconds (0 = no limit)"),
    SettingSpec("threads", "int", default=0, minimum=0, maximum=1024, description="Solver threads (0 = solver default)"),
    SettingSpec("stability_weight", "float", default=0.05, minimum=0.0, maximum=1.0,
                description="With --previous: share of a decision's unit cost charged per unit it moves from the "
                "previous plan (0 = off)"),
    # hedged plans (stochastic.md); commit_quarters <= quarters is checked against the horizon in validation
    SettingSpec("commit_quarters", "int", default=1, minimum=1, maximum=200,
                description="Hedged plans: quarters t < commit_quarters are committed once for every scenario "
                            "(at most the horizon)"),
    SettingSpec("risk_weight", "float", default=0.0, minimum=0.0, maximum=1.0,
                description="Hedged plans: weight of CVaR in the objective (0 = risk neutral)"),
    SettingSpec("risk_alpha", "float", default=0.9, minimum=0.0, maximum=1.0, min_exclusive=True, max_exclusive=True,
                description="Hedged plans: CVaR level, the mean of the worst 1 - risk_alpha of costs"),
)

SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec("Settings", "settings", "Plan-wide settings, one key/value per row.",
              columns=(ColumnSpec("key", "key", required=True, description="Setting name"),
                       ColumnSpec("value", "text", required=True, description="Setting value")),
              keys=("key",)),
    SheetSpec("Products", "table", "One row per chip SKU.", keys=("product",), columns=(
        _key("product", description="Chip product (SKU)"),
        _num("chips_per_rack", "chips", "Chips in one rack", required=True, min_exclusive=True),
        _num("rack_kw", "kW", "IT power of one rack", required=True),
        _num("rack_capex_usd", "USD", "Capex of one rack, spent when deployed", required=True),
        _num("life_quarters", "quarters", "Quarters a deployed rack serves", required=True, minimum=1, dtype="int"),
        _num("stacks_per_chip", "stacks", "HBM stacks per chip (0 = SRAM only)", default=0.0),
        ColumnSpec("packaging_line", "key", default="default", description="Packaging line the chip uses"),
        _num("packaging_cost_usd", "USD", "Cost to package one chip", default=0.0),
        _num("utilization", "fraction", "Share of peak throughput usable", default=1.0, maximum=1.0),
        _num("initial_die_bank", "dies", "Good dies in the die bank at plan start", default=0.0),
        _num("initial_chip_inventory", "chips", "Finished chips on hand at plan start", default=0.0),
        _num("die_holding_cost_usd", "USD", "Holding cost per die per quarter", default=0.0),
        _num("chip_holding_cost_usd", "USD", "Holding cost per chip per quarter", default=0.0),
        _num("terminal_value_usd_per_die", "USD", "Worth of a die (or chip) left at the plan's end or arriving "
             "after it, credited at the last quarter's discount (family 20)", default=0.0),
    )),
    SheetSpec("Fabs", "table", "One row per fab (foundry and node).", keys=("fab",), columns=(
        _key("fab", description="Fab (foundry and node)"),
        _num("wafer_cost_usd", "USD", "Price of one wafer", required=True),
        ColumnSpec("foundry", "text", description="Foundry (free text)"),
        ColumnSpec("node", "text", description="Process node (free text)"),
    )),
    SheetSpec("Routes", "table", "Which product can be made at which fab.", keys=("product", "fab"), columns=(
        _key("product", PRODUCT, "Chip product"),
        _key("fab", FAB, "Fab"),
        _num("dies_per_wafer", "dies", "Gross dies per wafer", required=True, min_exclusive=True),
        _num("yield", "fraction", "Share of dies that are good", required=True, maximum=1.0, min_exclusive=True),
        _num("lead_quarters", "quarters", "Quarters from wafer start to good dies", required=True, dtype="int",
             maximum=40),
    )),
    SheetSpec("FabCapacity", "wide", "Wafer starts available per quarter.", keys=("fab",),
              columns=(_key("fab", FAB),), value=_num("capacity", "wafers", "Wafer starts per quarter")),
    SheetSpec("FabMinWafers", "wide", "Take-or-pay floor: wafers paid per quarter even if unused.", required=False,
              keys=("fab",), columns=(_key("fab", FAB),), value=_num("min_wafers", "wafers", "Wafers paid at least")),
    SheetSpec("FabWaferCost", "wide", "Per-quarter wafer price; blank = Fabs.wafer_cost_usd.", required=False,
              keys=("fab",), columns=(_key("fab", FAB),), value=_num("wafer_cost_usd", "USD", "Price of one wafer"),
              blank_means="Fabs.wafer_cost_usd"),
    SheetSpec("Yield", "wide", "Yield of wafers started in a quarter; blank = Routes.yield.", required=False,
              keys=("product", "fab"), columns=(_key("product", PRODUCT), _key("fab", FAB)),
              value=_num("yield", "fraction", "Good-die share", maximum=1.0, min_exclusive=True),
              blank_means="Routes.yield"),
    SheetSpec("ScheduledReceipts", "wide", "Good dies arriving from wafers started before the plan.", required=False,
              keys=("product",), columns=(_key("product", PRODUCT),), value=_num("dies", "dies", "Good dies arriving")),
    SheetSpec("HBMVendors", "table", "One row per HBM vendor.", keys=("vendor",), columns=(
        _key("vendor", description="HBM vendor"),
        _num("price_usd_per_stack", "USD", "Price of one HBM stack", required=True),
        _num("initial_inventory", "stacks", "Stacks on hand at plan start", default=0.0),
        _num("holding_cost_usd", "USD", "Holding cost per stack per quarter", default=0.0),
    )),
    SheetSpec("HBMSupply", "wide", "HBM stacks available to buy per quarter.", keys=("vendor",),
              columns=(_key("vendor", VENDOR),), value=_num("supply", "stacks", "Stacks available")),
    SheetSpec("HBMQualification", "table", "One row per qualified (vendor, product) pair.", keys=("vendor", "product"),
              columns=(_key("vendor", VENDOR), _key("product", PRODUCT),
                       ColumnSpec("first_quarter", "quarter", description="First quarter the pair may be used "
                                  "(blank: from the start; after the horizon: never in this plan)"))),
    SheetSpec("HBMMinStacks", "wide", "HBM take-or-pay: stacks paid per quarter even if not bought (family 17).",
              required=False, keys=("vendor",), columns=(_key("vendor", VENDOR),),
              value=_num("min_stacks", "stacks", "Stacks paid at least")),
    SheetSpec("PackagingCapacity", "wide", "Chips a packaging line can package per quarter; unlisted lines are unlimited.",
              required=False, keys=("packaging_line",), columns=(_key("packaging_line", PACKAGING_LINE),),
              value=_num("capacity", "chips", "Chips packaged per quarter")),
    SheetSpec("PackagingExpansion", "table", "Packaging-line expansion in blocks (family 19); unlisted lines cannot "
              "expand; a listed line must be in PackagingCapacity.", required=False, keys=("packaging_line",),
              columns=(
                  _key("packaging_line", PACKAGING_LINE, "Packaging line (a row of PackagingCapacity)"),
                  _num("block_chips", "chips", "Chips per quarter one block adds", required=True),
                  _num("capex_usd_per_block", "USD", "Capex of one block, own money, spent when started",
                       required=True),
                  _num("lead_quarters", "quarters", "Quarters from block start to capacity", required=True,
                       dtype="int", maximum=40),
                  _num("max_blocks", "blocks", "Blocks that can be started over the plan", required=True, dtype="int"),
              )),
    SheetSpec("Sites", "table", "One row per data-centre site.", keys=("site",), columns=(
        _key("site", description="Deployment site"),
        _key("region", description="Region the site is in (it always serves it)"),
        _num("pue", "ratio", "Power usage effectiveness", required=True, minimum=1.0),
        _num("power_price_usd_per_mwh", "USD/MWh", "Electricity price", required=True),
    )),
    SheetSpec("SitePower", "wide", "MW available at a site without expansion.", keys=("site",),
              columns=(_key("site", SITE),), value=_num("mw", "MW", "Power available")),
    SheetSpec("SiteExpansion", "table", "Power expansion options; unlisted sites cannot expand.", required=False,
              keys=("site",), columns=(
                  _key("site", SITE),
                  _num("block_mw", "MW", "MW added by one block", required=True),
                  _num("capex_usd_per_mw", "USD/MW", "Capex per MW of a block", required=True),
                  _num("lead_quarters", "quarters", "Quarters from block start to power", required=True, dtype="int",
                       maximum=40),
                  _num("max_blocks", "blocks", "Blocks that can be started over the plan", required=True, dtype="int"),
              )),
    SheetSpec("InstalledBase", "table", "Racks in service at plan start.", required=False, keys=("product", "site"),
              columns=(
                  _key("product", PRODUCT), _key("site", SITE),
                  _num("racks", "racks", "Racks in service", required=True),
                  ColumnSpec("retire_quarter", "quarter", description="Quarter from which the racks are retired (blank: never)"),
              )),
    SheetSpec("Workloads", "table", "One row per workload (model class).", keys=("workload",), columns=(
        _key("workload", description="Workload (model class)"),
        _num("unmet_penalty_usd_per_tps", "USD per tok/s per quarter", "Penalty for unmet demand", required=True),
        _num("min_service_level", "fraction", "Share of demand that must be served", default=0.0, maximum=1.0),
    )),
    SheetSpec("Throughput", "table", "Tokens/s one chip of a product sustains on a workload.",
              keys=("product", "workload"), columns=(
                  _key("product", PRODUCT), _key("workload", WORKLOAD),
                  # at least 0.01 tok/s: below it a chip-hour serves nothing a plan can use, and the serving row's
                  # coefficient (1e6 / tok/s per M tok/s) leaves what HiGHS solves reliably (hostile round 5: 1e-5
                  # gave a wrong INFEASIBLE); a product that cannot serve a workload has no Throughput row
                  _num("tokens_per_s_per_chip", "tok/s", "Throughput per chip (at least 0.01; no row: cannot serve)",
                       required=True, minimum=0.01),
              )),
    SheetSpec("Demand", "wide", "Tokens/s to serve per region, workload and quarter.", keys=("region", "workload"),
              columns=(_key("region", description="Demand region"), _key("workload", WORKLOAD)),
              value=_num("demand", "tok/s", "Tokens per second to serve")),
    SheetSpec("ServingLinks", "table", "Extra regions a site may serve (its own region is implied).",
              keys=("site", "region"), columns=(_key("site", SITE), _key("region", description="Region served"))),
    SheetSpec("Budget", "wide", "Own capex budget per quarter (row own_capex_usd).", keys=("item",),
              columns=(_key("item", description="Budget item; own_capex_usd"),),
              value=_num("budget", "USD", "Budget per quarter")),
    SheetSpec("Partners", "table", "Capex partners and their deal terms.", required=False, keys=("partner",), columns=(
        _key("partner", description="Capex partner"),
        _num("commitment_usd", "USD", "Most the partner funds over the plan", required=True),
        _num("min_deal_usd", "USD", "Least the deal must fund if signed", default=0.0),
        _num("fixed_deal_cost_usd", "USD", "One-off cost of signing", default=0.0),
        _num("financing_cost_rate", "fraction", "Cost per USD funded", default=0.0),
        ColumnSpec("first_quarter", "quarter", description="First quarter the partner funds (blank: plan start)"),
        ColumnSpec("last_quarter", "quarter", description="Last quarter the partner funds (blank: plan end)"),
    )),
    SheetSpec("PartnerSites", "table", "Sites each partner may fund.", required=False, keys=("partner", "site"),
              columns=(_key("partner", PARTNER), _key("site", SITE))),
    SheetSpec("Scenarios", "table", "What-if overrides of other sheets' cells (planner run --scenario, planner "
              "compare).", required=False, keys=("scenario", "sheet"), columns=(
                  _key("scenario", description="Scenario name; its rows are applied in order"),
                  _key("sheet", description="Sheet to override (e.g. HBMSupply, Products, Settings)"),
                  ColumnSpec("key", "text", required=True,
                             description="Row key; multi-key sheets join keys with / (EU/70b); * = every row"),
                  ColumnSpec("column", "text", required=True,
                             description="Column name, quarter (2026Q3), quarter range (2026Q3:2027Q4) or *"),
                  ColumnSpec("operation", "text", required=True,
                             description="set, scale, add, add_row (a new row; its column/value rows fill it) or "
                                         "remove_row"),
                  ColumnSpec("value", "text",
                             description="New value (set, add_row), factor (scale) or amount (add); blank for "
                                         "remove_row"),
              )),
    SheetSpec("Uncertainty", "table", "Random scale factors sampled by planner sweep (planner.whatif.sweep).",
              required=False, keys=("sheet", "key", "column"), columns=(
                  _key("sheet", description="Sheet whose cells are scaled"),
                  ColumnSpec("key", "text", required=True, description="Row key as in Scenarios; * = every row"),
                  ColumnSpec("column", "text", required=True, description="Column, quarter, quarter range or *"),
                  ColumnSpec("distribution", "text", required=True, description="uniform, normal or triangular"),
                  _num("p1", "factor", "uniform: low; normal: mean; triangular: low", required=True),
                  _num("p2", "factor", "uniform: high; normal: standard deviation; triangular: mode", required=True),
                  _num("p3", "factor", "triangular: high (unused otherwise)"),
              )),
    SheetSpec("ScenarioWeights", "table", "The weighted scenario set of a hedged plan (planner run --stochastic): "
              "Scenarios-sheet scenarios or base, probabilities adding up to 1.", required=False, keys=("scenario",),
              columns=(
                  _key("scenario", description="Scenario of the Scenarios sheet, or base (the workbook as it is)"),
                  _num("probability", "fraction", "Probability of the scenario; all add up to 1", required=True,
                       maximum=1.0),
              )),
)

SHEET_BY_NAME: dict[str, SheetSpec] = {s.name: s for s in SHEETS}
SETTING_BY_KEY: dict[str, SettingSpec] = {s.key: s for s in SETTINGS}
OWN_CAPEX_ITEM = "own_capex_usd"


def sheet(name: str) -> SheetSpec:
    return SHEET_BY_NAME[name]


def _setting_range(st: SettingSpec) -> str:
    """The allowed range of a setting, as validation checks it."""
    return st.column().range_text()


def markdown_reference() -> str:
    """The sheet reference for the README, generated from this schema."""
    out = ["| sheet | column | type | unit | required | default | allowed | meaning |",
           "|---|---|---|---|---|---|---|---|"]
    for s in SHEETS:
        req = "required" if s.required else "optional"
        if s.kind == "settings":
            for st in SETTINGS:
                out.append(f"| Settings ({req}) | `{st.key}` | {st.dtype} | | {'yes' if st.required else ''} | "
                           f"{'' if st.default is None else st.default} | {_setting_range(st)} | {st.description} |")
            continue
        for c in s.columns:
            out.append(f"| {s.name} ({req}) | `{c.name}` | {c.dtype} | {c.unit} | {'yes' if c.required else ''} | "
                       f"{'' if c.default is None else c.default} | {c.range_text()} | {c.description} |")
        if s.kind == "wide" and s.value is not None:
            v = s.value
            out.append(f"| {s.name} ({req}) | `YYYYQn`... | {v.dtype} | {v.unit} | | blank = {s.blank_means} | "
                       f"{v.range_text()} | {v.description}, one column per quarter |")
    return "\n".join(out)
