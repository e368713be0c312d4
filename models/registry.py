"""One entry per constraint family of formulation.md: what everything outside the model needs to know.

explain (a model row in words and its input cell), diagnose (which limits a repair may relax, and in
which direction), bottlenecks, freeze (which decisions a previous plan pins) and diff (which input
sheet bears on a limit) read this registry; none of them spells a family's name. The registry knows the model
side only: where a plan shows a family's limit or a decision is the output contract's (planner/output/contract.py
LIMITS_SHOWN, DECISIONS_SHOWN). Adding a family means its module, one entry here and, when the plan shows its
limit, one entry there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from models.data import PlanData
from models.money import money
from models.sets import TPS_PER_MTPS, USD_PER_MUSD


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


@dataclass(frozen=True)
class Family:
    """A constraint family (one Pyomo Constraint component named `name`)."""
    name: str
    spec: str  # number(s) in formulation.md
    title: str
    unit: str  # unit of the right-hand side as the user writes it
    scale: float = 1.0  # model rhs unit -> user unit (M tok/s -> tok/s: 1e6)
    input_sheet: str = ""  # the input sheet whose cells set the limit ('' for balances)
    repair: str = ""  # 'raise' or 'lower': how elastic repair moves the input; '' = not an input limit
    # (index, data) -> (cell, text, limit in user units); the key and quarter come from the index
    explain: Callable[[tuple, PlanData], tuple[str, str, float | None]] | None = None


@dataclass(frozen=True)
class Decision:
    """A decision a plan reports and a re-plan can freeze: the model variable and what it is (where a plan shows it
    is the output contract's: planner/output/contract.py DECISIONS_SHOWN)."""
    variable: str
    what: str
    gone: str  # why a frozen value cannot be applied when its key left the input ({0}, {1}: the keys)


def fmt(x: float, unit: str) -> str:
    """'$1,967,000', '1,967,000 tok/s', '118.25 wafers': separators, never scientific notation."""
    if unit == "USD":
        return money(x)
    if abs(x) >= 1e4:
        return f"{x:,.0f} {unit}"
    return f"{x:,.6g} {unit}"


def _wide(sheet: str, store: str, label: str = "", unit: str = ""):
    """Explain a row indexed (key, t) whose limit is wide-sheet cell sheet[key, quarter t]."""
    def explain(idx, data: PlanData):
        k, t = idx
        limit = getattr(data, store).get((k, t), 0.0)
        return (data.cell(sheet, (k,), data.quarters[t]),
                f"{sheet} {k} {data.quarters[t]} = {fmt(limit, unit)}{label}", limit)
    return explain


def _paid_cover(idx, data):
    f, t = idx
    return "", f"wafers paid at {f} in {data.quarters[t]} cover the wafers started", None


def _die_bank(idx, data):
    p, t = idx
    return (data.cell("Products", (p,), "initial_die_bank"), f"die bank of {p} in {data.quarters[t]} (dies arriving "
            "from wafers, ScheduledReceipts, initial die bank)", None)


def _hbm_content(idx, data):
    p, t = idx
    late = [f"{v} from {data.quarters[t0] if t0 < data.T else 'after the plan'}"
            for (v, q), t0 in sorted(data.qualified_from.items()) if q == p and t0 > 0]
    return (data.cell("Products", (p,), "stacks_per_chip"), f"each {p} chip needs "
            f"{data.products.at[p, 'stacks_per_chip']:g} HBM stacks from qualified vendors ({data.quarters[t]})"
            + (f"; qualified later: {', '.join(late)}" if late else ""), None)


def _hbm_inventory(idx, data):
    v, t = idx
    return data.cell("HBMVendors", (v,), "initial_inventory"), f"HBM inventory of {v} in {data.quarters[t]}", None


def _finished_chips(idx, data):
    p, t = idx
    return (data.cell("Products", (p,), "initial_chip_inventory"),
            f"finished-chip balance of {p} in {data.quarters[t]}", None)


def _installed_racks(idx, data):
    p, s, t = idx
    base = data.installed_base
    rows = base[(base["product"] == p) & (base["site"] == s)] if len(base) else base
    if len(rows):
        serving = rows[rows["retire_t"] > t]  # cohorts not yet retired by quarter t
        in_service = float(serving["racks"].sum())
        cells = [str(c) for c in (serving if len(serving) else rows)["cell"]]
        also = f" (cohorts at {', '.join(cells)})" if len(cells) > 1 else ""
        return (cells[0], f"InstalledBase {p} at {s} = {in_service:,.6g} racks in service{also} "
                f"in {data.quarters[t]}, plus racks deployed within life_quarters", in_service)
    return "", f"racks of {p} installed at {s} in {data.quarters[t]}: deployed within life_quarters", None


def _expansion_limit(idx, data):
    (s,) = idx
    limit = float(data.expansion.at[s, "max_blocks"])
    return data.cell("SiteExpansion", (s,), "max_blocks"), f"SiteExpansion {s} max_blocks = {int(limit)}", limit


def _hbm_paid_cover(idx, data):
    v, t = idx
    return "", f"HBM stacks paid to {v} in {data.quarters[t]} cover the stacks bought", None


def _packaging_expansion_limit(idx, data):
    (k,) = idx
    limit = float(data.packaging_expansion.at[k, "max_blocks"])
    return (data.cell("PackagingExpansion", (k,), "max_blocks"),
            f"PackagingExpansion {k} max_blocks = {int(limit)}", limit)


def _serving_capacity(idx, data):
    p, s, t = idx
    return "", f"serving capacity of {p} racks at {s} in {data.quarters[t]}", None


def _demand(idx, data):
    r, w, t = idx
    limit = data.demand[(r, w, t)]
    return (data.cell("Demand", (r, w), data.quarters[t]),
            f"Demand {r} / {w} / {data.quarters[t]} = {fmt(limit, 'tok/s')}", limit)


def _service_floor(idx, data):
    r, w, t = idx
    level = float(data.workloads.at[w, "min_service_level"])
    q = data.quarters[t]
    return (data.cell("Workloads", (w,), "min_service_level"), f"Demand {r} / {w} / {q} = "
            f"{fmt(data.demand[(r, w, t)], 'tok/s')} with min_service_level {level:.0%} "
            f"({data.cell('Demand', (r, w), q)})", level * data.demand[(r, w, t)])  # the floor, tok/s


def _capex(idx, data):
    s, t = idx
    return "", f"capex at {s} in {data.quarters[t]} is funded by own budget or partners", None


def _own_budget(idx, data):
    (t,) = idx
    carry = " (cumulative, budget_carryover)" if data.settings.budget_carryover else ""
    limit = data.budget[t]
    return (data.cell("Budget", ("own_capex_usd",), data.quarters[t]),
            f"Budget own_capex_usd {data.quarters[t]} = {fmt(limit, 'USD')}{carry}", limit)


def _partner(column: str, suffix: str = ""):
    def explain(idx, data):
        (n,) = idx
        limit = float(data.partners.at[n, column])
        return data.cell("Partners", (n,), column), f"Partners {n} {column} = {fmt(limit, 'USD')}{suffix}", limit
    return explain


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("fab_capacity", "1", "Fab capacity", "wafers", input_sheet="FabCapacity", repair="raise",
           explain=_wide("FabCapacity", "fab_capacity", unit="wafers")),
    Family("wafers_paid_cover_started", "2", "Take-or-pay (paid >= started)", "wafers", explain=_paid_cover),
    Family("take_or_pay", "2", "Take-or-pay floor", "wafers", input_sheet="FabMinWafers", repair="lower",
           explain=_wide("FabMinWafers", "fab_min_wafers", " (take-or-pay)", "wafers")),
    Family("die_bank", "3-4", "Good dies and die bank", "dies", explain=_die_bank),
    Family("packaging_capacity", "5", "Packaging capacity", "chips", input_sheet="PackagingCapacity",
           repair="raise", explain=_wide("PackagingCapacity", "packaging_capacity",
                                         " (plus packaging expansion blocks on line)", "chips")),
    Family("hbm_content", "6", "HBM content", "stacks", explain=_hbm_content),
    Family("hbm_supply", "7", "HBM supply", "stacks", input_sheet="HBMSupply", repair="raise",
           explain=_wide("HBMSupply", "hbm_supply", unit="stacks")),
    Family("hbm_inventory", "7", "HBM inventory", "stacks", explain=_hbm_inventory),
    Family("finished_chips", "8", "Finished chips", "chips", explain=_finished_chips),
    Family("installed_racks", "9", "Installed racks", "racks", explain=_installed_racks),
    Family("site_power", "10", "Site power", "MW", input_sheet="SitePower", repair="raise",
           explain=_wide("SitePower", "site_power", " (plus energised expansion blocks)", "MW")),
    Family("expansion_limit", "10", "Expansion blocks", "blocks", input_sheet="SiteExpansion", repair="raise",
           explain=_expansion_limit),
    Family("serving_capacity", "11", "Serving capacity", "chips", explain=_serving_capacity),
    Family("demand", "12", "Demand", "tok/s", TPS_PER_MTPS, explain=_demand),
    Family("service_floor", "13", "Service floor", "tok/s", TPS_PER_MTPS, input_sheet="Workloads", repair="lower",
           explain=_service_floor),
    Family("capex", "14", "Capex funding", "USD", USD_PER_MUSD, explain=_capex),
    Family("own_budget", "15", "Own budget", "USD", USD_PER_MUSD, input_sheet="Budget", repair="raise",
           explain=_own_budget),
    Family("hbm_paid_cover_bought", "17", "HBM take-or-pay (paid >= bought)", "stacks", explain=_hbm_paid_cover),
    Family("hbm_take_or_pay", "17", "HBM take-or-pay floor", "stacks", input_sheet="HBMMinStacks", repair="lower",
           explain=_wide("HBMMinStacks", "hbm_min_stacks", " (HBM take-or-pay)", "stacks")),
    Family("packaging_expansion_limit", "19", "Packaging expansion blocks", "blocks", input_sheet="PackagingExpansion",
           repair="raise", explain=_packaging_expansion_limit),
    Family("partner_commitment", "16", "Partner commitment", "USD", USD_PER_MUSD, input_sheet="Partners",
           repair="raise", explain=_partner("commitment_usd")),
    Family("partner_minimum", "16", "Partner minimum deal", "USD", USD_PER_MUSD, input_sheet="Partners",
           repair="lower", explain=_partner("min_deal_usd", " if signed")),
)}

# families whose right-hand side is an input limit a planner can change (elastic repair relaxes these)
REPAIRABLE = tuple(name for name, f in FAMILIES.items() if f.repair)

# decisions a previous plan's workbook holds and `--previous --freeze` pins
FROZEN_DECISIONS: tuple[Decision, ...] = (
    Decision("W", "wafers started", "the route {0}/{1} is no longer in Routes"),
    Decision("Y", "racks deployed", "product {0} or site {1} is no longer in Products / Sites"),
    Decision("E", "expansion blocks started", "site {0} is no longer in SiteExpansion (or Sites)"),
    Decision("K", "packaging expansion blocks started", "line {0} is no longer in PackagingExpansion (or PackagingCapacity)"),
)
# every decision a plan reports per quarter: the frozen ones and HBM purchases (a re-plan's stability term reads
# racks, wafers and HBM; its MIP start also the blocks)
PLAN_DECISIONS: tuple[Decision, ...] = FROZEN_DECISIONS + (
    Decision("HB", "HBM stacks bought", "vendor {0} is no longer in HBMVendors"),
)


def index_words(index, data: PlanData) -> tuple[str, str]:
    """(key, quarter label) of a model index: ('GPU-4N/Dammam-SA', '2026Q2') for [GPU-4N,Dammam-SA,1]."""
    idx = index if isinstance(index, tuple) else (index,)
    Q = data.quarters
    quarter = Q[idx[-1]] if idx and isinstance(idx[-1], int) and 0 <= idx[-1] < len(Q) else ""
    return "/".join(str(i) for i in idx if not isinstance(i, int)), quarter


def describe(family: str, index, data: PlanData) -> RowMeaning:
    """Model row `family[index]` in the planner's words, with the input cell behind its limit."""
    entry = FAMILIES.get(family) or Family(family, "?", family, "")
    idx = index if isinstance(index, tuple) else (index,)
    key, quarter = index_words(idx, data)
    cell, text, limit = entry.explain(idx, data) if entry.explain else ("", entry.title, None)
    return RowMeaning(entry.name, entry.spec, entry.title, key, quarter, cell, entry.unit, entry.scale, text, limit)
