"""The output contract as data: the stable sheets and columns of a plan workbook (workbook.md).

The writer orders each sheet's columns by this contract, the plan reader and the tests check a written
plan against it, and the README's output reference is generated from it. The planner may add columns
after the contract's; it never renames or drops one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports Col before any command: the vocabulary must not pull in pandas
    import pandas as pd

class Col:
    """Every output column name a command writes, once (attribute name == the name); code outside this module
    names an output column as `Col.x`, never as a literal (tests/test_architecture.py keeps it so)."""
    action = "action"
    alone_cost_usd = "alone_cost_usd"
    arrival_quarter = "arrival_quarter"
    arrives_in_plan = "arrives_in_plan"
    base = "base"
    base_value = "base_value"
    bears_on = "bears_on"
    bin = "bin"
    bin_high = "bin_high"
    bin_low = "bin_low"
    binding = "binding"
    blocks_started = "blocks_started"
    bought = "bought"
    bound = "bound"
    budget_usd = "budget_usd"
    capacity = "capacity"
    capex_usd = "capex_usd"
    cause = "cause"
    cell = "cell"
    cell_old = "cell_old"
    change = "change"
    change_share = "change_share"
    changed = "changed"
    check = "check"
    chip_inventory_end = "chip_inventory_end"
    chips_deployed = "chips_deployed"
    chips_installed = "chips_installed"
    column = "column"
    commitment_usd = "commitment_usd"
    cost_impact_usd = "cost_impact_usd"
    cost_usd = "cost_usd"
    current = "current"
    decision = "decision"
    demand_tps = "demand_tps"
    detail = "detail"
    die_bank_end = "die_bank_end"
    distribution = "distribution"
    draw = "draw"
    draw_share = "draw_share"
    draws = "draws"
    draws_binding = "draws_binding"
    eev_cost_usd = "eev_cost_usd"
    excess = "excess"
    fab = "fab"
    factor = "factor"
    gap_to_bound = "gap_to_bound"
    family = "family"
    first_quarter_changed = "first_quarter_changed"
    funded_usd = "funded_usd"
    funds_quarters = "funds_quarters"
    good_dies_in = "good_dies_in"
    good_dies_out = "good_dies_out"
    input_cell = "input_cell"
    input_change = "input_change"
    input_changes = "input_changes"
    inventory_end = "inventory_end"
    key = "key"
    keys = "keys"
    kpi = "kpi"
    limit = "limit"
    limited_by = "limited_by"
    max = "max"
    mean = "mean"
    meaning = "meaning"
    message = "message"
    metric = "metric"
    min = "min"
    min_deal_usd = "min_deal_usd"
    min_stacks = "min_stacks"
    min_wafers = "min_wafers"
    model_variable = "model_variable"
    mw_available = "mw_available"
    mw_used = "mw_used"
    new = "new"
    new_limit = "new_limit"
    new_shadow_price = "new_shadow_price"
    note = "note"
    objective_usd = "objective_usd"
    old = "old"
    old_limit = "old_limit"
    old_shadow_price = "old_shadow_price"
    one_more_unit_each_quarter_saves_usd = "one_more_unit_each_quarter_saves_usd"
    one_more_unit_saves_usd = "one_more_unit_saves_usd"
    option = "option"
    override = "override"
    own_capex_usd = "own_capex_usd"
    own_usd = "own_usd"
    p1 = "p1"
    p10 = "p10"
    p2 = "p2"
    p3 = "p3"
    p50 = "p50"
    p90 = "p90"
    packaged = "packaged"
    packaging_capex_usd = "packaging_capex_usd"
    packaging_line = "packaging_line"
    paid = "paid"
    partner = "partner"
    partner_capex_usd = "partner_capex_usd"
    partner_usd = "partner_usd"
    plan = "plan"
    price_from = "price_from"
    probability = "probability"
    product = "product"
    quarter = "quarter"
    racks_deployed = "racks_deployed"
    racks_installed = "racks_installed"
    rank = "rank"
    region = "region"
    repaired = "repaired"
    scenario = "scenario"
    scenario_value = "scenario_value"
    sd = "sd"
    seconds = "seconds"
    served_tps = "served_tps"
    service_level = "service_level"
    severity = "severity"
    shadow_price = "shadow_price"
    shadow_price_usd_per_chip = "shadow_price_usd_per_chip"
    shadow_price_usd_per_mw = "shadow_price_usd_per_mw"
    shadow_price_usd_per_stack = "shadow_price_usd_per_stack"
    shadow_price_usd_per_tps = "shadow_price_usd_per_tps"
    shadow_price_usd_per_wafer = "shadow_price_usd_per_wafer"
    sheet = "sheet"
    signed = "signed"
    site = "site"
    slack = "slack"
    source = "source"
    spec = "spec"
    stacks = "stacks"
    stage = "stage"
    status = "status"
    supply = "supply"
    take_or_pay_shadow_usd_per_stack = "take_or_pay_shadow_usd_per_stack"
    take_or_pay_shadow_usd_per_wafer = "take_or_pay_shadow_usd_per_wafer"
    unit = "unit"
    unit_price_usd = "unit_price_usd"
    unmet_tps = "unmet_tps"
    used = "used"
    utilization = "utilization"
    value = "value"
    value_usd = "value_usd"
    vendor = "vendor"
    wafers = "wafers"
    wafers_paid = "wafers_paid"
    wafers_started = "wafers_started"
    what = "what"
    workload = "workload"


# statuses that carry a plan (workbook.md: Summary.status); everything else has none
PLANNED_STATUSES = ("optimal", "feasible")
STATUSES = ("optimal", "feasible", "infeasible", "unbounded", "error")


def is_planned(status: str) -> bool:
    """True when a status carries a plan (decisions to read, roll, freeze or compare)."""
    return str(status).strip() in PLANNED_STATUSES


@dataclass(frozen=True)
class OutputSheet:
    """An output sheet as data: its contract columns (`keys`, `values`: workbook.md, never renamed or dropped) and
    every column the planner writes (`written`, in order: the contract's plus the planner's own; empty = exactly
    the contract's). `dynamic` says which columns are data, not names (one per partner, per quarter, ...)."""
    name: str
    keys: tuple[str, ...]  # the index of one row
    values: tuple[str, ...]  # contract value columns
    meaning: str = ""
    written: tuple[str, ...] = ()
    dynamic: str = ""

    def __post_init__(self):
        order = [c for c in self.all_columns if c in self.columns]
        if order != list(self.columns):
            raise ValueError(f"{self.name}: written columns must hold the contract's, in order")

    @property
    def columns(self) -> tuple[str, ...]:
        """The contract's columns (workbook.md)."""
        return self.keys + self.values

    @property
    def all_columns(self) -> tuple[str, ...]:
        """Every column the planner writes (the contract's and its own), in order; `dynamic` ones aside."""
        return self.written or self.columns

    @property
    def extras(self) -> tuple[str, ...]:
        """The planner's own columns, beyond the contract's."""
        return tuple(c for c in self.all_columns if c not in self.columns)

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


def _sheet(name: str, *columns: str, meaning: str = "", dynamic: str = "") -> OutputSheet:
    """A sheet outside the tidy contract: every column it writes, in order."""
    return OutputSheet(name, (), tuple(columns), meaning, dynamic=dynamic)


TIDY_SHEETS: tuple[OutputSheet, ...] = (
    OutputSheet("Wafers", ("product", "fab", "quarter"), ("wafers", "good_dies_out", "arrival_quarter"),
                "wafers started per route and quarter, and the good dies they yield",
                written=("product", "fab", "quarter", "wafers", "good_dies_out", "arrival_quarter",
                         "arrives_in_plan")),
    OutputSheet("Fabs", ("fab", "quarter"), ("wafers_started", "capacity", "min_wafers", "wafers_paid", "utilization",
                                             "shadow_price_usd_per_wafer"), "fab use and take-or-pay",
                written=("fab", "quarter", "wafers_started", "capacity", "min_wafers", "wafers_paid", "utilization",
                         "shadow_price_usd_per_wafer", "take_or_pay_shadow_usd_per_wafer")),
    OutputSheet("Chips", ("product", "quarter"), ("good_dies_in", "packaged", "die_bank_end", "chips_deployed",
                                                  "chip_inventory_end"), "dies and finished chips"),
    OutputSheet("HBM", ("vendor", "quarter"), ("supply", "bought", "paid", "min_stacks", "used", "inventory_end",
                                               "shadow_price_usd_per_stack"), "HBM stacks by vendor",
                written=("vendor", "quarter", "supply", "bought", "paid", "min_stacks", "used", "inventory_end",
                         "shadow_price_usd_per_stack", "take_or_pay_shadow_usd_per_stack")),
    OutputSheet("HBMUse", ("vendor", "product", "quarter"), ("stacks",), "HBM stacks per product"),
    OutputSheet("Packaging", ("packaging_line", "quarter"), ("packaged", "capacity", "blocks_started",
                                                             "shadow_price_usd_per_chip"),
                "packaging lines", written=("packaging_line", "quarter", "packaged", "capacity", "blocks_started",
                                            "shadow_price_usd_per_chip")),
    OutputSheet("Deployments", ("product", "site", "quarter"), ("racks_deployed", "racks_installed",
                                                                "chips_installed"), "racks by product and site"),
    OutputSheet("Power", ("site", "quarter"), ("mw_used", "mw_available", "blocks_started", "shadow_price_usd_per_mw"),
                "site power and expansion blocks",
                written=("site", "quarter", "mw_used", "mw_available", "blocks_started", "utilization",
                         "shadow_price_usd_per_mw")),
    OutputSheet("Serving", ("region", "workload", "quarter"), ("demand_tps", "served_tps", "unmet_tps",
                                                               "service_level", "limited_by"), "demand served and unmet",
                written=("region", "workload", "quarter", "demand_tps", "served_tps", "unmet_tps", "service_level",
                         "limited_by", "shadow_price_usd_per_tps")),
    OutputSheet("Allocation", ("product", "site", "region", "workload", "quarter"), ("served_tps",),
                "who serves whom"),
    OutputSheet("Capex", ("site", "quarter"), ("capex_usd", "own_usd", "partner_usd"),
                "capex by site, own and partner (one more column per partner)", dynamic="one column per partner"),
    OutputSheet("Partners", ("partner",), ("signed", "funded_usd", "commitment_usd", "min_deal_usd"), "deals",
                written=("partner", "signed", "funded_usd", "commitment_usd", "min_deal_usd", "funds_quarters")),
    OutputSheet("Budget", ("quarter",), ("own_capex_usd", "budget_usd", "shadow_price"), "own budget",
                written=("quarter", "own_capex_usd", "packaging_capex_usd", "budget_usd", "shadow_price")),
    OutputSheet("Bottlenecks", ("family", "key", "quarter"), ("slack", "shadow_price", "binding"),
                "binding limits, most valuable first",
                written=("family", "key", "quarter", "limit", "used", "slack", "shadow_price", "unit", "value_usd",
                         "one_more_unit_saves_usd", "one_more_unit_each_quarter_saves_usd", "binding", "utilization",
                         "input_cell", "what")),
)
TIDY_BY_NAME = {s.name: s for s in TIDY_SHEETS}
CONTRACT_SHEETS = tuple(s.name for s in TIDY_SHEETS)
# columns the plan writer adds to a tidy sheet for the reviewer (the extract's frame and the hedged plan lack them)
VIEW_ONLY = {"Partners": ("funds_quarters",)}

# Summary key/value rows a script can rely on (wherever they stand on the sheet)
SUMMARY_KEYS = ("plan_name", "status", "objective_usd", "mip_gap", "solve_seconds", "total_demand_tps",
                "total_served_tps", "service_level", "own_capex_usd", "partner_capex_usd", "input_sha256",
                "planner_version", "solver", "solved_at")
# the plan's Summary keys beyond SUMMARY_KEYS (a reviewer's; also one cost_<component>_usd per cost component,
# unmet_reason_<n> and bottleneck_<n>)
SUMMARY_EXTRA_KEYS = ("status_message", "horizon", "total_unmet_tps", "terminal_value_usd", "deals_signed",
                      "wafers_started", "hbm_stacks_bought", "hbm_stacks_paid", "racks_deployed", "racks_in_service", "mw_added",
                      "mw_used", "sram_vs_hbm_cost_ratio", "sram_vs_hbm_energy_ratio", "scenario", "input_file",
                      "frozen_decisions", "frozen_quarters")
FROZEN_QUARTERS_KEY = "frozen_quarters"  # a re-plan with --freeze: its frozen quarters, comma-separated

KEY_VALUE = ("key", "value", "note")  # Summary, Run and Inputs: key/value rows with a note
CHECK_COLUMNS = ("check", "sheet", "cell", "key", "quarter", "value", "limit", "message")
CONFLICT_COLUMNS = ("family", "spec", "key", "quarter", "cell", "limit", "bound", "meaning")
REPAIR_COLUMNS = ("family", "cell", "key", "quarter", "current", "repaired", "change", "unit", "action")
# the pre-solve checks of a freeze (planner/cycle/freeze.py): the Diagnosis checks table of a frozen re-plan
FREEZE_CHECK_COLUMNS = ("check", "sheet", "cell", "key", "quarter", "value", "limit", "excess", "message", "source")
# the plan workbook's sheets beyond the tidy ones (Diagnosis holds four tables, each with its own header row)
PLAN_SHEETS: tuple[OutputSheet, ...] = (
    _sheet("Summary", *KEY_VALUE, meaning="the plan on a page; its key/value rows wherever they stand"),
    _sheet("PlanByQuarter", "metric", "unit", dynamic="one column per quarter"),
    _sheet("Run", *KEY_VALUE), _sheet("Inputs", *KEY_VALUE),
    _sheet("InputValues", "sheet", "key", "column", "value", "cell"),
    _sheet("Warnings", "severity", "sheet", "cell", "column", "value", "message"),
    _sheet("Diagnosis.checks", *CHECK_COLUMNS), _sheet("Diagnosis.conflict", *CONFLICT_COLUMNS),
    _sheet("Diagnosis.repairs", *REPAIR_COLUMNS), _sheet("Diagnosis.alternatives", "option", *REPAIR_COLUMNS),
    _sheet("Diagnosis.freeze_checks", *FREEZE_CHECK_COLUMNS),
)
# `planner diff`
DIFF_SHEETS: tuple[OutputSheet, ...] = (
    _sheet("Summary", *KEY_VALUE),
    _sheet("KPIs", "kpi", "old", "new", "change", "change_share", "changed"),
    _sheet("Decisions", "rank", "decision", "key", "detail", "quarter", "old", "new", "change", "unit",
           "unit_price_usd", "cost_impact_usd", "price_from", "what", "input_changes"),
    _sheet("Bottlenecks", "change", "family", "key", "quarter", "what", "old_shadow_price", "new_shadow_price",
           "old_limit", "new_limit", "input_cell", "input_change"),
    _sheet("InputChanges", "sheet", "key", "column", "old", "new", "change", "cell", "cell_old", "cause", "what",
           "bears_on"),
    _sheet("OutsideOverlap", "plan", "decision", "key", "detail", "quarter", "value", "unit", "what"),
)
# the decisions a plan made, as the plan reader reads them back (diff compares these)
DECISION_FRAME = ("decision", "key", "detail", "quarter", "value", "unit")
# `planner compare`
COMPARE_SHEETS: tuple[OutputSheet, ...] = (
    _sheet("Compare", "metric", "unit", "base", dynamic="one column per scenario, then 'delta <scenario>' each"),
    _sheet("CompareByQuarter", "scenario", "quarter", "metric", "value"),
    _sheet("Moves", "scenario", "decision", "key", "unit", "base_value", "scenario_value", "change", "change_share",
           "first_quarter_changed"),
    _sheet("Overrides", "scenario", "override"),
)
# `planner sweep`
SWEEP_SHEETS: tuple[OutputSheet, ...] = (
    _sheet("Summary", *KEY_VALUE),
    _sheet("Distribution", "metric", "draws", "mean", "sd", "min", "p10", "p50", "p90", "max"),
    _sheet("Histogram", "metric", "bin", "bin_low", "bin_high", "draws", "draw_share"),
    _sheet("Binding", "family", "key", "draws_binding", "probability"),
    _sheet("Factors", "factor", "cell", "distribution", "p1", "p2", "p3"),
    _sheet("Draws", "draw", "status", "message", "gap_to_bound", "objective_usd", "service_level", "unmet_tps",
           "demand_tps", "own_capex_usd", "partner_capex_usd", "binding", "seconds",
           dynamic="'factor <cell>' per factor after draw; cost_<component>_usd per cost component before binding"),
)
# `planner run --stochastic`: Summary, Run, Inputs and Warnings as a plan's; the tidy sheets per scenario and stage
HEDGED_PREFIX = ("scenario", "stage")
HEDGED_SHEETS: tuple[OutputSheet, ...] = (
    _sheet("Scenarios", "scenario", "probability", "cost_usd", "service_level", "unmet_tps", "own_capex_usd",
           "partner_capex_usd", "status", "alone_cost_usd", "eev_cost_usd"),
    _sheet("Commitments", "decision", "keys", "quarter", "value", "model_variable"),
)
# every declared sheet of every workbook a command writes
ALL_SHEETS: tuple[OutputSheet, ...] = TIDY_SHEETS + PLAN_SHEETS + DIFF_SHEETS + COMPARE_SHEETS + SWEEP_SHEETS \
    + HEDGED_SHEETS + (_sheet("hedged", *HEDGED_PREFIX),)


# Which command wrote a workbook, told by sheets only that kind holds (first match wins: a hedged plan has a plan's
# Summary, Run and Inputs too; InputValues is left out of a huge plan). The plan reader and the input reader name
# the kind they were given instead of listing the sheets or columns it lacks.
PLAN_WORKBOOK = "a plan workbook (planner run)"
WORKBOOK_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("a sweep workbook (planner sweep)", ("Summary", "Distribution", "Draws")),
    ("a comparison workbook (planner compare)", ("Compare", "CompareByQuarter")),
    ("a diff workbook (planner diff)", ("Summary", "KPIs", "InputChanges")),
    ("a hedged plan (planner run --stochastic)", ("Summary", "Commitments", "Run")),
    (PLAN_WORKBOOK, ("Summary", "Run", "Inputs")),
)


def written_by(sheet_names) -> str | None:
    """The kind of workbook (WORKBOOK_KINDS) whose sheets `sheet_names` holds, sheet names matched as the plan
    reader matches them (names.name_key: without case, spaces, _ and -); None for any other."""
    from planner.input.names import name_key  # here: every command imports Col at start-up, and difflib with it

    have = {name_key(n) for n in sheet_names}
    return next((kind for kind, marks in WORKBOOK_KINDS if all(name_key(m) in have for m in marks)), None)


def hedged_columns(sheet: str) -> tuple[str, ...]:
    """The columns of a tidy sheet in the hedged plan: scenario and stage, then the extract's columns."""
    view = VIEW_ONLY.get(sheet, ())
    return HEDGED_PREFIX + tuple(c for c in TIDY_BY_NAME[sheet].all_columns if c not in view)


@dataclass(frozen=True)
class PlanLimit:
    """Where a constraint family's limit is shown in a plan, per key and quarter: the output sheet, the column of
    its key (blank: the one key `constant_key`), of the limit, of what is used and of the shadow price; the price's
    unit and the limit in words ({key} is filled in). Bottlenecks and the reasons for unmet demand read it."""
    sheet: str
    key: str
    limit: str
    used: str
    price: str
    unit: str
    what: str
    constant_key: str = ""


# family name (models/registry.py) -> where the plan shows its limit (Bottlenecks, Serving.limited_by)
LIMITS_SHOWN: dict[str, PlanLimit] = {
    "fab_capacity": PlanLimit("Fabs", "fab", "capacity", "wafers_started", "shadow_price_usd_per_wafer",
                              "USD per wafer", "wafer starts at {key}"),
    "packaging_capacity": PlanLimit("Packaging", "packaging_line", "capacity", "packaged", "shadow_price_usd_per_chip",
                                    "USD per chip", "packaging on line {key}"),
    "hbm_supply": PlanLimit("HBM", "vendor", "supply", "bought", "shadow_price_usd_per_stack", "USD per stack",
                            "HBM from {key}"),
    "site_power": PlanLimit("Power", "site", "mw_available", "mw_used", "shadow_price_usd_per_mw", "USD per MW",
                            "power at {key}"),
    "own_budget": PlanLimit("Budget", "", "budget_usd", "own_capex_usd", "shadow_price", "USD per USD",
                            "own capex budget", constant_key="own_capex_usd"),
}


@dataclass(frozen=True)
class DecisionShown:
    """Where a plan shows a model decision (models/registry.py Decision): its sheet, key columns and value column."""
    sheet: str
    keys: tuple[str, ...]
    column: str


# model variable -> where the plan shows it, per quarter (freeze pins it from there, a re-plan starts from it)
DECISIONS_SHOWN: dict[str, DecisionShown] = {
    "W": DecisionShown("Wafers", ("product", "fab"), "wafers"),
    "Y": DecisionShown("Deployments", ("product", "site"), "racks_deployed"),
    "E": DecisionShown("Power", ("site",), "blocks_started"),
    "K": DecisionShown("Packaging", ("packaging_line",), "blocks_started"),
    "HB": DecisionShown("HBM", ("vendor",), "bought"),
}


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
