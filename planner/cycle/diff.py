"""planner diff OLD.xlsx NEW.xlsx -o DIFF.xlsx: what changed between two plans, and which input cells explain it.

Reads two plan workbooks (their contract sheets and the InputValues echo) and writes DIFF.xlsx:

* ``Summary``    the changes in plain language, first;
* ``KPIs``       the Summary keys of both plans side by side (objective, service level, capex, ...);
* ``Decisions``  decisions that changed, ranked by cost impact: wafers by fab, HBM bought by vendor, racks by
                 site and product, expansion blocks by site, deals signed and partner funding. The impact is
                 the change times the input price the new plan used (InputValues): wafer_cost_usd (or
                 FabWaferCost), price_usd_per_stack, rack_capex_usd, capex_usd_per_mw x block_mw,
                 fixed_deal_cost_usd, financing_cost_rate. Undiscounted: an approximation to rank by.
* ``Bottlenecks`` limits that started or stopped binding (the plans' Bottlenecks sheets);
* ``InputChanges`` every input value that differs (InputValues of both plans joined on sheet, key and column),
                 with the decisions and limits it bears on;
* ``OutsideOverlap`` decisions in quarters only one plan covers (after a roll the horizons differ by a quarter).

Quarters are compared by label, so a rolled plan (horizon shifted by one quarter) is compared on the quarters
both plans cover.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models.money import money
from models.registry import FAMILIES
from planner.output.contract import FROZEN_QUARTERS_KEY, Col, is_planned
from planner.cycle.roll_plan import edited_cells_message, plan_value_problems
from planner.output.plan_reader import (DECISION_COLUMNS, Plan, PlanReadError, decisions, load_plan,  # noqa: F401
                                        numeric, read_plan, summary_values, truthy)
from planner.output.xml_rows import PlanWorkbook
from planner.quarters import parse_quarter, quarter_index
from planner.output.xlsx import (GAP_PERCENT, PERCENT, change as noise_free_change, check_target, finish_pages,
                                 number_format, safe_save, write_frame, write_key_values)

TOL = 1e-6


# ---- what a plan decided ---------------------------------------------------------------------------------

KPI_SKIP_PREFIXES = ("seconds_", "option_", "override_", "bottleneck_", "detail_file", "unmet_reason_")
KPI_SKIP = frozenset({"frozen_quarters", "solve_seconds", "solved_at", "input_sha256", "planner_version", "solver",
                      "input_file", "status_message", "duals_from"})
# input sheet -> decisions it bears on directly: (decision, which part of the input key names the decision key /
# detail); None = every decision of that kind
RELATED = {
    "FabCapacity": [(Col.wafers, 0, None)], "FabMinWafers": [(Col.wafers, 0, None)], "FabWaferCost": [(Col.wafers, 0, None)],
    "Fabs": [(Col.wafers, 0, None)], "Routes": [(Col.wafers, 1, None), ("racks", None, 0)],
    "Yield": [(Col.wafers, 1, None), ("racks", None, 0)], "ScheduledReceipts": [("racks", None, 0), (Col.wafers, None, None)],
    "HBMSupply": [("hbm", 0, None)], "HBMVendors": [("hbm", 0, None)],
    "SitePower": [("racks", 0, None), ("blocks", 0, None)], "Sites": [("racks", 0, None), ("blocks", 0, None)],
    "SiteExpansion": [("blocks", 0, None), ("racks", 0, None)], "InstalledBase": [("racks", 1, 0)],
    "Products": [("racks", None, 0), (Col.wafers, None, None), ("hbm", None, None)],
    "Partners": [("deal signed", 0, None), ("partner funding", 0, None)],
    "HBMMinStacks": [("hbm paid", 0, None), ("hbm", 0, None)], "HBMQualification": [("hbm", 0, None)],
    "PackagingCapacity": [("packaging blocks", 0, None)], "PackagingExpansion": [("packaging blocks", 0, None)],
}
GLOBAL = frozenset({"Demand", "Workloads", "Throughput", "Budget", "PackagingCapacity"})
# inputs `planner roll` rewrites from the closed quarter: a change there is the roll's own carry-over, not a decision
CARRY_OVER = frozenset({("Products", "initial_die_bank"), ("Products", "initial_chip_inventory"),
                        ("HBMVendors", "initial_inventory"), ("InstalledBase", "*"), ("ScheduledReceipts", "*"),
                        ("Partners", Col.commitment_usd), ("Partners", Col.min_deal_usd),
                        ("Partners", "fixed_deal_cost_usd"), ("Settings", "start_quarter"),
                        ("Settings", "plan_name")})  # roll renames a plan named after its horizon (rolled_plan_name)
ROLL_CAUSE = "roll carry-over"


def input_values(plan: Plan) -> pd.DataFrame:
    """InputValues, one row per (sheet, key, column): InstalledBase cohorts of one product/site are summed."""
    frame = plan.frames.get("InputValues")
    if frame is None or not len(frame):
        return pd.DataFrame(columns=[Col.sheet, Col.key, Col.column, Col.value, Col.cell])
    frame = frame.copy()
    for c in (Col.sheet, Col.key, Col.column):
        frame[c] = frame[c].astype(str)
    frame[Col.cell] = frame[Col.cell].map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    dup = frame.duplicated([Col.sheet, Col.key, Col.column], keep=False)
    if dup.any():
        def combine(g):
            nums = pd.to_numeric(g[Col.value], errors="coerce")
            value = float(nums.sum()) if nums.notna().all() else g[Col.value].iloc[0]
            return pd.Series({Col.value: value, Col.cell: ", ".join(x for x in g[Col.cell] if x)})
        merged = frame[dup].groupby([Col.sheet, Col.key, Col.column], sort=False).apply(combine, include_groups=False)
        frame = pd.concat([frame[~dup], merged.reset_index()], ignore_index=True)
    return frame[[Col.sheet, Col.key, Col.column, Col.value, Col.cell]]


def _same(a: object, b: object) -> bool:
    na = a is None or (isinstance(a, float) and math.isnan(a))
    nb = b is None or (isinstance(b, float) and math.isnan(b))
    if na or nb:
        return na and nb
    try:
        x, y = float(a), float(b)
        return abs(x - y) <= TOL * max(1.0, abs(x), abs(y))
    except (TypeError, ValueError):
        return str(a) == str(b)


def _num(v: object) -> float | None:
    try:
        x = float(v)
        return None if math.isnan(x) else x
    except (TypeError, ValueError):
        return None


def _fmt(v: object, sign: bool = False) -> str:
    """Numbers as the plan shows them: thousand separators, never an exponent (1,088,000, 261.2, 0.135)."""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    x = _num(v)
    if x is None:
        return "blank" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    plus = "+" if sign else ""
    if abs(x - round(x)) < 1e-9 * max(1.0, abs(x)):
        return f"{x:{plus},.0f}"
    if abs(x) >= 1000:
        return f"{x:{plus},.1f}"
    return f"{x:{plus},.4g}"


def _label(decision: str, key: str, detail: str, quarter: str) -> str:
    return {Col.wafers: f"wafers started at {key} in {quarter}", "hbm": f"HBM stacks bought from {key} in {quarter}",
            "racks": f"{detail} racks deployed at {key} in {quarter}",
            "blocks": f"expansion blocks started at {key} in {quarter}", "deal signed": f"deal {key} signed",
            "hbm paid": f"HBM stacks paid to {key} in {quarter}",
            "packaging blocks": f"packaging blocks started on {key} in {quarter}",
            "partner funding": f"partner {key} funding in {quarter}"}.get(decision, f"{decision} {key} {quarter}")


# ---- comparing -----------------------------------------------------------------------------------------

@dataclass
class DiffResult:
    summary: list[tuple[str, object, str]]
    kpis: pd.DataFrame
    decisions: pd.DataFrame
    bottlenecks: pd.DataFrame
    inputs: pd.DataFrame
    outside: pd.DataFrame


class _Prices:
    """Unit prices (USD) from the InputValues echo: the new plan's, else the old one's."""

    def __init__(self, *tables: pd.DataFrame):
        self.values: dict[tuple[str, str, str], tuple[float, str]] = {}
        for t in reversed(tables):
            for r in t.itertuples(index=False):
                x = _num(r.value)
                if x is not None:
                    self.values[(r.sheet, r.key, r.column)] = (x, r.cell)

    def get(self, sheet: str, key: str, column: str) -> tuple[float | None, str]:
        return self.values.get((sheet, key, column), (None, ""))

    def of(self, decision: str, key: str, detail: str, quarter: str) -> tuple[float | None, str]:
        if decision == Col.wafers:
            price, cell = self.get("FabWaferCost", key, quarter)
            return (price, f"FabWaferCost {cell}") if price is not None else \
                self._named("Fabs", key, "wafer_cost_usd")
        if decision in ("hbm", "hbm paid"):
            return self._named("HBMVendors", key, "price_usd_per_stack")
        if decision == "packaging blocks":
            return self._named("PackagingExpansion", key, "capex_usd_per_block")
        if decision == "racks":
            return self._named("Products", detail, "rack_capex_usd")
        if decision == "blocks":
            usd, c1 = self.get("SiteExpansion", key, "capex_usd_per_mw")
            mw, c2 = self.get("SiteExpansion", key, "block_mw")
            return (usd * mw, f"SiteExpansion capex_usd_per_mw x block_mw ({c1}, {c2})") if usd is not None and \
                mw is not None else (None, "")
        if decision == "deal signed":
            return self._named("Partners", key, "fixed_deal_cost_usd")
        if decision == "partner funding":
            return self._named("Partners", key, "financing_cost_rate")
        return None, ""

    def _named(self, sheet, key, column):
        price, cell = self.get(sheet, key, column)
        return price, f"{sheet} {column}" + (f" ({cell})" if cell else " (default)")


def compare(old: Plan, new: Plan) -> DiffResult:
    shared = [q for q in new.quarters if q in set(old.quarters)]
    shared_set = set(shared) | {""}
    old_in, new_in = input_values(old), input_values(new)
    prices = _Prices(new_in, old_in)

    # inputs
    joined = old_in.merge(new_in, on=[Col.sheet, Col.key, Col.column], how="outer", suffixes=("_old", "_new"),
                          indicator=True)
    is_quarter = joined[Col.column].map(lambda c: parse_quarter(str(c)) == str(c))
    in_overlap = ~is_quarter | joined[Col.column].isin(shared_set)
    changed_inputs = joined[in_overlap & ~joined.apply(lambda r: _same(r["value_old"], r["value_new"]), axis=1)]
    inputs = pd.DataFrame({
        Col.sheet: changed_inputs[Col.sheet], Col.key: changed_inputs[Col.key], Col.column: changed_inputs[Col.column],
        Col.old: changed_inputs["value_old"], Col.new: changed_inputs["value_new"],
        Col.change: [(_num(b) - _num(a)) if _num(a) is not None and _num(b) is not None else None
                   for a, b in zip(changed_inputs["value_old"], changed_inputs["value_new"])],
        Col.cell: [n if isinstance(n, str) and n else (o if isinstance(o, str) else "")
                 for o, n in zip(changed_inputs[Col.cell_old], changed_inputs["cell_new"])],
        Col.cell_old: changed_inputs[Col.cell_old].fillna(""),
    }).reset_index(drop=True)
    inputs[Col.cause] = [carry_over(r.sheet, r.column, old, new, r.key) for r in inputs.itertuples()]
    inputs[Col.what] = [f"{r.sheet} {r.key} {r.column}: {_fmt(r.old)} → {_fmt(r.new)}" + (f" ({r.cell})" if r.cell else "")
                      + (" [carried over by the roll]" if r.cause == ROLL_CAUSE else "") for r in inputs.itertuples()]

    # decisions
    d_old, d_new = decisions(old), decisions(new)
    keys = [Col.decision, Col.key, Col.detail, Col.quarter]
    dj = d_old.merge(d_new, on=keys, how="outer", suffixes=("_old", "_new"))
    dj[Col.unit] = dj["unit_new"].fillna(dj["unit_old"])
    dj[Col.quarter] = dj[Col.quarter].fillna("").astype(str)
    overlap = dj[Col.quarter].isin(shared_set)
    both = dj[overlap].copy()
    both[Col.old] = both["value_old"].fillna(0.0).astype(float)
    both[Col.new] = both["value_new"].fillna(0.0).astype(float)
    both[Col.change] = both[Col.new] - both[Col.old]
    both = both[(both[Col.change].abs() > TOL * both[[Col.old, Col.new]].abs().max(axis=1).clip(lower=1.0))]
    both, paid_apart = _hbm_paid_once(both, dj[overlap])
    rows = []
    for r in both.itertuples(index=False):
        price, basis = prices.of(r.decision, r.key, r.detail, r.quarter)
        if r.decision == "hbm" and (r.key, r.quarter) in paid_apart:
            price, basis = None, "its cost is on the HBM stacks paid row (take-or-pay floor)"
        rows.append({Col.decision: r.decision, Col.key: r.key, Col.detail: r.detail, Col.quarter: r.quarter,
                     Col.old: r.old, Col.new: r.new, Col.change: r.change, Col.unit: r.unit,
                     Col.unit_price_usd: price, Col.cost_impact_usd: r.change * price if price is not None else None,
                     Col.price_from: basis, Col.what: _label(r.decision, r.key, r.detail, r.quarter)})
    dec = pd.DataFrame(rows, columns=[Col.decision, Col.key, Col.detail, Col.quarter, Col.old, Col.new, Col.change, Col.unit,
                                      Col.unit_price_usd, Col.cost_impact_usd, Col.price_from, Col.what])
    if len(dec):
        # a decision with no price (a product only one plan knows) has no impact: the column may hold only None
        dec["_rank"] = pd.to_numeric(dec[Col.cost_impact_usd], errors="coerce").abs().fillna(0.0)
        dec["_abs"] = dec[Col.change].abs()
        dec = dec.sort_values(["_rank", "_abs", Col.decision, Col.key, Col.quarter], ascending=[False, False, True, True, True],
                              kind="mergesort").drop(columns=["_rank", "_abs"]).reset_index(drop=True)
    dec.insert(0, Col.rank, range(1, len(dec) + 1))
    dec[Col.input_changes], inputs[Col.bears_on] = _link(dec, inputs)

    outside = dj[~overlap].copy()
    outside[Col.plan] = ["old only" if q in set(old.quarters) else "new only" for q in outside[Col.quarter]]
    outside[Col.value] = outside["value_old"].where(outside[Col.plan] == "old only", outside["value_new"]).fillna(0.0)
    outside = outside[outside[Col.value].abs() > TOL]
    outside = outside.assign(what=[_label(r.decision, r.key, r.detail, r.quarter) for r in outside.itertuples()])
    outside = outside[[Col.plan, Col.decision, Col.key, Col.detail, Col.quarter, Col.value, Col.unit, Col.what]].sort_values(
        [Col.plan, Col.decision, Col.key, Col.quarter], kind="mergesort").reset_index(drop=True)

    bottlenecks = _binding_changes(old, new, shared_set, inputs)
    kpis = _kpis(old, new)
    if old.quarters != new.quarters and shared:
        kpis = pd.concat([_window_kpis(old, new, shared), kpis], ignore_index=True)
    result = DiffResult([], kpis, dec, bottlenecks, inputs, outside)
    result.summary = _summary(old, new, shared, result)
    return result


def _hbm_paid_once(both: pd.DataFrame, every: pd.DataFrame) -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    """HBM is paid on stacks paid (bought, or the take-or-pay floor if higher): a vendor-quarter whose paid
    stacks equal its bought stacks in both plans is one decision (the bought row, priced), not two rows counting
    the same money twice. `both` holds the changed decisions, `every` all of the shared quarters'. Returns `both`
    without those paid rows, and the vendor-quarters where a floor sets what is paid in a plan: there only the
    paid row carries the cost (bought stacks under the floor move no money)."""
    def values(decision):
        rows = every[every[Col.decision] == decision]
        return {(r.key, r.quarter): (0.0 if pd.isna(r.value_old) else float(r.value_old),
                                     0.0 if pd.isna(r.value_new) else float(r.value_new)) for r in rows.itertuples()}
    bought, paid = values("hbm"), values("hbm paid")
    close = lambda a, b: abs(a - b) <= TOL * max(1.0, abs(a), abs(b))  # noqa: E731
    apart = {k for k, b in bought.items() if k in paid and not all(map(close, b, paid[k]))}
    merged = pd.Series([(k, q) in bought and (k, q) not in apart for k, q in zip(both[Col.key], both[Col.quarter])],
                       index=both.index, dtype=bool)
    duplicate = (both[Col.decision] == "hbm paid") & merged
    return both[~duplicate], apart


def carry_over(sheet: str, column: str, old: Plan, new: Plan, key: str = "") -> str:
    """'roll carry-over' for an input a roll rewrites by itself (stocks at the new start, installed base,
    receipts, what is left of a signed deal) when the new plan starts later; 'input edit' otherwise."""
    rolled = bool(old.quarters and new.quarters) and quarter_index(new.quarters[0]) > quarter_index(old.quarters[0])
    hit = (sheet, column) in CARRY_OVER or (sheet, "*") in CARRY_OVER or (sheet, key) in CARRY_OVER
    return ROLL_CAUSE if rolled and (hit or _block_carried(sheet, column, key, old)) else "input edit"


# input sheets the roll rewrites for expansion blocks started in the closed quarter (their capacity from the
# quarter they arrive, and max_blocks down by them): plan sheet and key column that say how many were started
BLOCK_CARRY_OVER = {"SitePower": ("Power", Col.site, None), "SiteExpansion": ("Power", Col.site, "max_blocks"),
                    "PackagingCapacity": ("Packaging", Col.packaging_line, None),
                    "PackagingExpansion": ("Packaging", Col.packaging_line, "max_blocks")}


def _block_carried(sheet: str, column: str, key: str, old: Plan) -> bool:
    """A SitePower / SiteExpansion.max_blocks (or packaging) value of a site (line) where the old plan started
    blocks in its first quarter: the roll carried them over."""
    spec = BLOCK_CARRY_OVER.get(sheet)
    if spec is None or (spec[2] is not None and column != spec[2]) or not old.quarters:
        return False
    frame = old.frames.get(spec[0])
    if frame is None or not {Col.blocks_started, spec[1], Col.quarter} <= set(frame.columns):
        return False
    frame = numeric(frame, Col.blocks_started)
    here = frame[(frame[spec[1]].astype(str) == str(key)) & (frame[Col.quarter].astype(str) == old.quarters[0])]
    return bool((here[Col.blocks_started] > 1e-9).any())


def _relation(input_row, dec_row) -> int:
    """How directly an input change bears on a decision: 3 its own key, 2 every decision of its kind,
    1 everything (demand, budget, throughput, ...), 0 not at all; +1 in the same quarter."""
    parts = str(input_row.key).split("/")
    score = 1 if input_row.sheet in GLOBAL else 0
    for decision, key_part, detail_part in RELATED.get(input_row.sheet, ()):
        if decision != dec_row.decision:
            continue
        ok = (key_part is None or (key_part < len(parts) and parts[key_part] == dec_row.key)) and \
            (detail_part is None or (detail_part < len(parts) and parts[detail_part] == dec_row.detail))
        if ok:
            score = max(score, 3 if key_part is not None or detail_part is not None else 2)
    if score and str(input_row.column) == dec_row.quarter:
        score += 1
    return score


def _link(dec: pd.DataFrame, inputs: pd.DataFrame, limit: int = 4) -> tuple[list[str], list[str]]:
    """For each decision the input changes that bear on it (most direct first), and for each input change
    the decisions it bears on directly (its own key or kind, not merely 'everything')."""
    scores = [[_relation(i, d) for i in inputs.itertuples()] for d in dec.itertuples()]
    carried = [c == ROLL_CAUSE for c in inputs[Col.cause]] if Col.cause in inputs.columns else [False] * len(inputs)
    to_inputs = []
    for d, row in enumerate(scores):
        ranked = sorted((carried[j], -s, j) for j, s in enumerate(row) if s > 0)  # edits first, then carry-overs
        ranked = [(s, j) for _c, s, j in ranked]
        shown = [inputs[Col.what].iloc[j] for _s, j in ranked[:limit]]
        to_inputs.append("; ".join(shown) + (f"; and {len(ranked) - limit} more" if len(ranked) > limit else ""))
    to_decisions = []
    for j in range(len(inputs)):
        if len(inputs) and inputs[Col.sheet].iloc[j] in GLOBAL and not RELATED.get(inputs[Col.sheet].iloc[j]):
            to_decisions.append("every decision" if len(dec) else "")
            continue
        hits = [dec[Col.what].iloc[d] for d in range(len(dec)) if scores[d][j] >= 2]
        to_decisions.append("; ".join(hits[:limit]) + (f"; and {len(hits) - limit} more" if len(hits) > limit else ""))
    return to_inputs, to_decisions


def frozen_quarters(plan: Plan) -> set[str]:
    """The quarters a re-plan with --freeze fixed (its Summary's frozen_quarters), empty otherwise."""
    text = plan.summary.get(FROZEN_QUARTERS_KEY)
    return {q.strip() for q in str(text).split(",") if q.strip()} if text else set()


def _binds(row: dict) -> bool:
    """A limit binds in a plan when it is at its limit or priced: a whole-rack plan leaves half a wafer or $63k of a
    budget unused while the limit is still worth $45k a wafer (a new-user trial: 'stopped binding' at an unchanged
    price)."""
    price = _num(row.get(Col.shadow_price))
    return truthy(row.get(Col.binding)) or (price is not None and abs(price) > 1e-9)


def _binding_changes(old: Plan, new: Plan, shared: set[str], inputs: pd.DataFrame) -> pd.DataFrame:
    columns = [Col.change, Col.family, Col.key, Col.quarter, Col.what, Col.old_shadow_price, Col.new_shadow_price, Col.old_limit,
               Col.new_limit, Col.input_cell, Col.input_change]

    def table(plan: Plan) -> dict[tuple, dict]:
        b = plan.frames.get("Bottlenecks")
        if b is None or not len(b):
            return {}
        out = {}
        for r in b.to_dict("records"):
            out[(str(r[Col.family]), str(r[Col.key]), str(r[Col.quarter]))] = r
        return out

    a, b = table(old), table(new)
    frozen = set(frozen_quarters(new)) | set(frozen_quarters(old))  # either plan's frozen limits are unpriced
    rows = []
    for k in sorted(set(a) | set(b)):
        if k[2] not in shared or k[2] in frozen:  # a frozen quarter's limits are not priced: nothing to compare
            continue
        was, now = _binds(a.get(k, {})), _binds(b.get(k, {}))
        if was == now:
            continue
        r = b.get(k) or a.get(k)
        sheet = FAMILIES[k[0]].input_sheet if k[0] in FAMILIES else ""
        related = inputs[(inputs[Col.sheet] == sheet) & (inputs[Col.key] == k[1]) & (inputs[Col.column] == k[2])] \
            if sheet else inputs.iloc[0:0]
        rows.append({Col.change: "started binding" if now else "stopped binding", Col.family: k[0], Col.key: k[1],
                     Col.quarter: k[2], Col.what: r.get(Col.what, ""),
                     Col.old_shadow_price: _num(a.get(k, {}).get(Col.shadow_price)),
                     Col.new_shadow_price: _num(b.get(k, {}).get(Col.shadow_price)),
                     Col.old_limit: _num(a.get(k, {}).get(Col.limit)), Col.new_limit: _num(b.get(k, {}).get(Col.limit)),
                     Col.input_cell: str(r.get(Col.input_cell, "") if r.get(Col.input_cell) is not None else ""),
                     Col.input_change: "; ".join(related[Col.what])})
    frame = pd.DataFrame(rows, columns=columns)
    for c in (Col.old_shadow_price, Col.new_shadow_price, Col.old_limit, Col.new_limit):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    if len(frame):
        frame["_v"] = frame[[Col.old_shadow_price, Col.new_shadow_price]].abs().max(axis=1).fillna(0.0)
        frame = frame.sort_values([Col.change, "_v"], ascending=[False, False], kind="mergesort").drop(columns="_v")
    return frame.reset_index(drop=True)


def _kpis(old: Plan, new: Plan) -> pd.DataFrame:
    rows = []
    keys = list(old.summary) + [k for k in new.summary if k not in old.summary]
    for k in keys:
        if k in KPI_SKIP or k.startswith(KPI_SKIP_PREFIXES):
            continue
        a, b = old.summary.get(k), new.summary.get(k)
        x, y = _num(a), _num(b)
        if x is not None and y is not None:
            rows.append(_kpi_row(k, x, y))
        else:
            rows.append({Col.kpi: k, Col.old: _number_or_text(a), Col.new: _number_or_text(b),
                         Col.change: None, Col.change_share: None, Col.changed: not _same(a, b)})
    return pd.DataFrame(rows, columns=[Col.kpi, Col.old, Col.new, Col.change, Col.change_share, Col.changed])


def _kpi_row(kpi: str, x: float, y: float) -> dict:
    """A numeric KPI's row; float noise (a re-solve's -2.4e-06 on $2.4B: see xlsx.change) is written as
    0. `changed` keeps diff's tolerance TOL, so a change it calls too small to matter still shows its size."""
    changed = not _same(x, y)
    change = noise_free_change(x, y)
    # a KPI that is itself a share (a gap, a service level): its change is in points, a share of it means nothing
    relative = abs(x) > 1e-12 and number_format(kpi.split(" in ")[0]) not in (PERCENT, GAP_PERCENT)
    return {Col.kpi: kpi, Col.old: x, Col.new: y, Col.change: change,
            Col.change_share: change / abs(x) if relative else None, Col.changed: changed}


def share_text(share: float) -> str:
    """'(+1.2%)', and for a change under 0.1% enough digits to show it ('(+0.019%)'), never '(+0.0%)'."""
    if abs(share) >= 0.001:
        return f"({share:+.1%})"
    return f"({share:+.3%})" if abs(share) >= 5e-6 else f"({'+' if share >= 0 else '-'}<0.001%)"


def _number_or_text(value):
    """A KPI one plan lacks: the other's value stays a number when it is one (a stability cost, 4.9e-11)."""
    x = _num(value)
    return x if x is not None else (None if value is None else str(value))


def _window_kpis(old: Plan, new: Plan, shared: list[str]) -> pd.DataFrame:
    a, b = window(old, shared), window(new, shared)
    span = f"{shared[0]}..{shared[-1]}"
    rows = []
    for k in a:
        x, y = a[k], b[k]
        if x is None or y is None:
            continue
        rows.append(_kpi_row(f"{k} in {span}", x, y))
    return pd.DataFrame(rows, columns=[Col.kpi, Col.old, Col.new, Col.change, Col.change_share, Col.changed])


def _objective_headline(old: Plan, new: Plan) -> str:
    a, b = _num(old.summary.get(Col.objective_usd)), _num(new.summary.get(Col.objective_usd))
    if a is not None and b is not None:
        share = f" {share_text((b - a) / abs(a))}" if abs(a) > 1e-9 else ""
        verb = "more" if b > a else "less"
        text = (f"The new plan costs {money(abs(b - a))} {verb}{share}: {money(a)} → {money(b)} (present value)."
                if not _same(a, b) else f"The cost is unchanged at {money(b)}.")
        text += _within_gap(old, new, a, b)
    else:
        text = f"Objective {_objective_text(old, a)} → {_objective_text(new, b)}."
    sa, sb = _num(old.summary.get(Col.service_level)), _num(new.summary.get(Col.service_level))
    if sa is not None and sb is not None:
        text += f" Service level {sa:.1%} → {sb:.1%}."
    return text


def _mip_gap(plan: Plan) -> float | None:
    return _num(plan.summary.get("mip_gap"))


def _objective_text(plan: Plan, objective: float | None) -> str:
    return money(objective) if objective is not None else f"none ({plan.name} has no plan: status {plan.status})"


def _within_gap(old: Plan, new: Plan, a: float, b: float) -> str:
    """A cost change no larger than what either plan's MIP gap leaves open is not a finding: say so."""
    gaps = [(_mip_gap(p) or 0.0) * abs(x) for p, x in ((old, a), (new, b))]
    slack = max(gaps)
    if _same(a, b) or slack <= 0 or abs(b - a) > slack:
        return ""
    return (f" That is within the plans' MIP gap ({money(slack)}): the solver may simply have stopped at another "
            "plan of about the same cost.")


def _quarters_total(frame: pd.DataFrame | None, column: str, quarters: set[str]) -> float:
    """The sum of `column` over the rows of `quarters` (0 without the sheet or the column)."""
    if frame is None or column not in frame.columns or Col.quarter not in frame.columns:
        return 0.0
    frame = numeric(frame, column)
    return float(frame.loc[frame[Col.quarter].astype(str).isin(quarters), column].sum())


def window(plan: Plan, quarters: list[str]) -> dict[str, float]:
    """Totals of a plan over some of its quarters: capex, wafers, racks deployed, demand, served, unmet."""
    f, qs = plan.frames, set(quarters)
    out = {}
    packaging = ("Budget", Col.packaging_capex_usd)  # own-funded, on no site: in Summary's own_capex_usd too
    for key, *parts in ((Col.capex_usd, ("Capex", Col.capex_usd), packaging),
                        (Col.own_capex_usd, ("Capex", Col.own_usd), packaging),
                        (Col.wafers, ("Wafers", Col.wafers)), (Col.racks_deployed, ("Deployments", Col.racks_deployed)),
                        (Col.demand_tps, ("Serving", Col.demand_tps)), (Col.served_tps, ("Serving", Col.served_tps)),
                        (Col.unmet_tps, ("Serving", Col.unmet_tps))):
        out[key] = sum(_quarters_total(f.get(sheet), column, qs) for sheet, column in parts)
    out[Col.service_level] = out[Col.served_tps] / out[Col.demand_tps] if out[Col.demand_tps] > 0 else None
    return out


def _shared_headline(old: Plan, new: Plan, shared: list[str]) -> str:
    """Plans over different horizons: compare what both cover, and say so; the objectives are not comparable."""
    a, b = window(old, shared), window(new, shared)
    span = f"{shared[0]}..{shared[-1]}" if len(shared) > 1 else shared[0]
    change = b[Col.capex_usd] - a[Col.capex_usd]
    share = f" {share_text(change / a['capex_usd'])}" if a[Col.capex_usd] > 0 else ""
    capex = (f"capex unchanged at {money(a['capex_usd'])}" if _same(a[Col.capex_usd], b[Col.capex_usd]) else
             f"capex {money(a['capex_usd'])} → {money(b['capex_usd'])}{share}")
    text = (f"On the {len(shared)} quarter(s) both plans cover ({span}): {capex}, racks deployed "
            f"{_fmt(a['racks_deployed'])} → {_fmt(b['racks_deployed'])}, wafers {_fmt(round(a['wafers'], 1))} → {_fmt(round(b['wafers'], 1))}")
    if a[Col.service_level] is not None and b[Col.service_level] is not None:
        text += f", service level {a['service_level']:.1%} → {b['service_level']:.1%}"
    text += (f". The objectives ({money(_num(old.summary.get('objective_usd')))} over "
             f"{old.quarters[0]}..{old.quarters[-1]}, {money(_num(new.summary.get('objective_usd')))} over "
             f"{new.quarters[0]}..{new.quarters[-1]}) cover different horizons and are not compared.")
    return text


def _summary(old: Plan, new: Plan, shared: list[str], r: DiffResult) -> list[tuple[str, object, str]]:
    lines: list[tuple[str, object, str]] = [
        ("old_plan", old.name, f"status {old.status}, {old.quarters[0]}..{old.quarters[-1]}" if old.quarters else
         f"status {old.status}"),
        ("new_plan", new.name, f"status {new.status}, {new.quarters[0]}..{new.quarters[-1]}" if new.quarters else
         f"status {new.status}"),
    ]
    for plan in (old, new):
        if not is_planned(plan.status):
            lines.append(("warning", f"{plan.name} has no plan (status {plan.status}): its decisions count as 0",
                          "see its Diagnosis sheet"))
        elif plan.status == "feasible":
            gap = _mip_gap(plan)
            lines.append(("warning", f"{plan.name} is not proven optimal" + (f" (MIP gap {gap:.2%})" if gap else "")
                          + ": some decision changes may be the solver's choice among near-equal plans, not a "
                          "consequence of the inputs", "tighten mip_rel_gap to compare closely"))
    if old.quarters != new.quarters and shared:
        text = _shared_headline(old, new, shared)
    else:
        text = _objective_headline(old, new)
    lines.append(("headline", text, "KPIs sheet"))
    if old.quarters != new.quarters:
        span = f"{shared[0]}..{shared[-1]}" if shared else "none"
        lines.append(("horizon", f"The horizons differ; decisions and inputs are compared on the {len(shared)} shared "
                      f"quarter(s) {span}.", "OutsideOverlap sheet: decisions in the other quarters"))
    dec = r.decisions
    total = dec[Col.cost_impact_usd].sum(min_count=1) if len(dec) else None
    lines.append(("decisions", f"{len(dec)} decision(s) changed" + (
        f", worth about {money(float(total))} at input prices" if total is not None and not pd.isna(total) else "")
        + "." if len(dec) else "No decision changed.", "Decisions sheet, ranked by cost impact"))
    for i, row in enumerate(dec.head(5).itertuples(), start=1):
        impact = f", about {money(row.cost_impact_usd)}" if row.cost_impact_usd is not None and \
            not pd.isna(row.cost_impact_usd) else ""
        why = f"; inputs: {row.input_changes}" if row.input_changes else ""
        lines.append((f"decision_{i}", f"{row.what}: {_fmt(row.old)} → {_fmt(row.new)} {row.unit} "
                      f"({_fmt(row.change, sign=True)}{impact})", why.lstrip("; ")))
    bn = r.bottlenecks
    started = bn[bn[Col.change] == "started binding"] if len(bn) else bn
    stopped = bn[bn[Col.change] == "stopped binding"] if len(bn) else bn
    if len(bn):
        def names(frame):
            shown = "; ".join(f"{x.what or x.family + ' ' + x.key} in {x.quarter}" for x in frame.head(5).itertuples())
            return shown + (f"; and {len(frame) - 5} more" if len(frame) > 5 else "")
        text = []
        if len(started):
            text.append(f"{len(started)} limit(s) started binding: {names(started)}")
        if len(stopped):
            text.append(f"{len(stopped)} stopped binding: {names(stopped)}")
        lines.append(("limits", ". ".join(text) + ".", "Bottlenecks sheet"))
    else:
        lines.append(("limits", "No limit started or stopped binding.", "Bottlenecks sheet"))
    if frozen_quarters(new):
        lines.append(("limits_frozen", f"Limits of {', '.join(sorted(frozen_quarters(new)))} are not compared: the "
                      "new plan froze those quarters' decisions (--freeze), so their limits are not priced.", ""))
    inputs = r.inputs
    if len(inputs):
        edits = inputs[inputs[Col.cause] != ROLL_CAUSE]
        carried = len(inputs) - len(edits)
        explaining = edits[edits[Col.bears_on] != ""]
        lines.append(("inputs", f"{len(inputs)} input value(s) changed"
                      + (f": {len(edits)} edited, {carried} of the kind a roll rewrites by itself (stocks at the "
                         "new start, installed base, scheduled receipts, what is left of signed deals)" if carried else "")
                      + (f"; {len(explaining)} edit(s) bear directly on the changed decisions" if len(dec) else "")
                      + ".", "InputChanges sheet (column cause)"))
        ordered = pd.concat([explaining, edits[edits[Col.bears_on] == ""], inputs[inputs[Col.cause] == ROLL_CAUSE]])
        for i, row in enumerate(ordered.head(5).itertuples(), start=1):
            lines.append((f"input_{i}", row.what, f"bears on: {row.bears_on}" if row.bears_on else ""))
    else:
        lines.append(("inputs", "No input value changed" + (" in the shared quarters" if old.quarters != new.quarters
                                                             else "") + ".", "InputChanges sheet"))
    return lines


def diff(old_plan: str | Path, new_plan: str | Path, output: str | Path) -> Path:
    """Compare two plan workbooks and write DIFF.xlsx (see the module docstring). Returns the path written."""
    old_plan, new_plan, output = Path(old_plan), Path(new_plan), Path(output)
    check_target(output, new_plan)
    old, new = load_checked_plan(old_plan), load_checked_plan(new_plan)
    if old.name == new.name:  # a/plan.xlsx and b/plan.xlsx: every sentence would name 'plan.xlsx' for both
        old.shown_as, new.shown_as = str(old_plan), str(new_plan)
    return write_diff(compare(old, new), output, old_plan)


def load_checked_plan(path: str | Path) -> Plan:
    """The plan, refused (as roll and --freeze refuse it) when a cell is not what the planner writes: a diff of
    hand-edited values would report the edits as the planner's decisions."""
    path = Path(path)
    plan = load_plan(path)
    bad = plan_value_problems(path, plan.frames)
    if bad:
        raise PlanReadError(edited_cells_message(path, bad))
    return plan


def write_diff(result: DiffResult, output: Path, old_plan: Path) -> Path:
    wb = PlanWorkbook()
    write_key_values(wb, "Summary", result.summary, bold_keys=frozenset({"headline", "decisions", "limits", "inputs"}),
                     red_keys=frozenset({"warning"}), widths=(16, 100, 70))
    # 'service_level in 2026Q2..2028Q4' is a service level; a share of +0.019% keeps its digits
    shared_kpis = {str(k): number_format(str(k).split(" in ")[0]) for k in result.kpis[Col.kpi] if " in " in str(k)}
    write_frame(wb, "KPIs", result.kpis, formats={Col.change_share: "+0.0##%;-0.0##%;0.0%"}, unit_from=Col.kpi,
                unit_formats=shared_kpis)
    write_frame(wb, "Decisions", result.decisions, empty_note="No decision changed in the quarters both plans cover.")
    write_frame(wb, "Bottlenecks", result.bottlenecks, empty_note="No limit started or stopped binding.")
    write_frame(wb, "InputChanges", result.inputs, highlight=False, empty_note="No input value changed.")
    write_frame(wb, "OutsideOverlap", result.outside, empty_note="Both plans cover the same quarters.")
    old_name, new_name = (result.summary[0][1], result.summary[1][1]) if len(result.summary) > 1 else ("", "")
    finish_pages(wb, f"diff {old_name} → {new_name}")
    path, _note = safe_save(wb, output, old_plan)
    return path
