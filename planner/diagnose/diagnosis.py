"""Explain a plan that cannot be solved: pre-solve checks, an irreducible conflict set, the smallest repair.

* Pre-solve checks find the common causes from the data alone, with cells.
* The conflict set is HiGHS's IIS of the LP (for a MIP: of its LP relaxation; if the relaxation is
  feasible the conflict needs integer decisions and we say so). On highspy 1.16 the default "light"
  IIS strategy returns no rows; strategy 4 (measured here) returns an irreducible set, 2 is the fallback.
* The repair is an elastic re-solve: every input limit a planner can change gets a slack (a service floor one
  per workload: its input is one cell), weighted by 1/|limit| so the least *relative* total change wins. The
  elastic LP is solved first, its repairs rounded to values a planner types (whole wafers, stacks, chips,
  blocks; MW to 0.01; USD to $1,000; service levels down to 0.1%) and checked on the MIP (whole racks, blocks,
  deals), widened a little until they fit; the elastic MIP (time-boxed) only when none does.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass

import highspy
import numpy as np
import pandas as pd

from models.solve import INF, SolveOptions, SolveResult, StandardForm, continuous_copy, new_highs, time_left
from models.sets import ModelSets

from models.data import PlanData
from models.money import money
from models.arrival import earliest_new_chip, serving_chain, stocked
from models.registry import FAMILIES, REPAIRABLE, describe, index_words
from planner.diagnose.findings import CHECK_COLUMNS, CONFLICT_COLUMNS, REPAIR_COLUMNS, Diagnosis  # noqa: F401
from planner.output.contract import Col

log = logging.getLogger("planner")


def presolve_checks(data: PlanData, sets: ModelSets) -> pd.DataFrame:
    """Common causes of infeasibility, found from the data alone."""
    rows = []
    Q = data.quarters
    exp = data.expansion
    for s in sorted(sets.racks_by_site):
        max_extra = float(exp.at[s, "block_mw"]) * int(exp.at[s, "max_blocks"]) if s in exp.index else 0.0
        lead = int(exp.at[s, "lead_quarters"]) if s in exp.index else 0
        for t in sets.T:
            base_mw = sum(sets.base_racks.get((p, s, t), 0.0) * sets.rack_mw[(p, s)] for p in sets.racks_by_site[s])
            limit = data.site_power.get((s, t), 0.0) + (max_extra if t >= lead else 0.0)
            if base_mw > limit + 1e-9:
                rows.append({Col.check: "installed base above site power", Col.sheet: "SitePower",
                             Col.cell: data.cell("SitePower", (s,), Q[t]), Col.key: s, Col.quarter: Q[t], Col.value: base_mw,
                             Col.limit: limit, Col.message: f"the installed base at {s} draws {base_mw:,.3f} MW in {Q[t]} "
                             f"but at most {limit:,.3f} MW can be available"})
    for (f, t), floor in sorted(data.fab_min_wafers.items()):
        cap = data.fab_capacity.get((f, t), 0.0)
        if floor > cap + 1e-9:
            rows.append({Col.check: "take-or-pay above capacity", Col.sheet: "FabMinWafers",
                         Col.cell: data.cell("FabMinWafers", (f,), Q[t]), Col.key: f, Col.quarter: Q[t], Col.value: floor,
                         Col.limit: cap, Col.message: f"{f} must be paid for {floor:,.0f} wafers in {Q[t]} but can start only "
                         f"{cap:,.0f}: the difference is paid for nothing"})
    level = data.workloads["min_service_level"].to_dict()
    for (r, w) in sets.demand_rows:
        if level.get(w, 0.0) <= 0 or sets.serve_by_demand.get((r, w)):
            continue
        for t in sets.T:
            if data.demand[(r, w, t)] > 0:
                rows.append({Col.check: "service floor nobody can serve", Col.sheet: "Demand",
                             Col.cell: data.cell("Demand", (r, w), Q[t]), Col.key: f"{r}/{w}", Col.quarter: Q[t],
                             Col.value: data.demand[(r, w, t)], Col.limit: 0.0,
                             Col.message: f"{w} in {r} must be {level[w]:.0%} served but no site serving {r} can run a "
                             f"product with throughput on {w} ({data.cell('Workloads', (w,), 'min_service_level')})"})
    rows += _floors_before_chips_arrive(data, sets, level)
    capex = data.products["rack_capex_usd"].to_dict()
    for n in data.partners.index:
        minimum = float(data.partners.at[n, "min_deal_usd"])
        if minimum <= 0:
            continue
        spots = sets.funding_by_partner.get(n, [])
        if not spots:
            rows.append({Col.check: "partner minimum cannot be spent", Col.sheet: "Partners",
                         Col.cell: data.cell("Partners", (n,), "min_deal_usd"), Col.key: n, Col.quarter: "", Col.value: minimum,
                         Col.limit: 0.0, Col.message: f"partner {n} has a minimum deal but no site/quarter it may fund: "
                         "the deal can never be signed"})
            continue
        cap = 0.0
        for (s, t) in spots:
            for p in sets.racks_by_site.get(s, ()):
                mw = sets.rack_mw[(p, s)]
                power = data.site_power.get((s, t), 0.0) + (float(data.expansion.at[s, "block_mw"])
                                                            * int(data.expansion.at[s, "max_blocks"])
                                                            if s in data.expansion.index else 0.0)
                cap += capex[p] * (power / mw if mw > 0 else 0.0)
            if s in data.expansion.index:
                cap += float(data.expansion.at[s, "block_mw"]) * float(data.expansion.at[s, "capex_usd_per_mw"]) * \
                    int(data.expansion.at[s, "max_blocks"])
        if minimum > cap + 1e-6:
            rows.append({Col.check: "partner minimum cannot be spent", Col.sheet: "Partners",
                         Col.cell: data.cell("Partners", (n,), "min_deal_usd"), Col.key: n, Col.quarter: "",
                         Col.value: minimum, Col.limit: cap, Col.message: f"partner {n}'s minimum deal {money(minimum)} exceeds "
                         f"the most its sites could absorb (about {money(cap)}): the deal can never be signed"})
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def _floors_before_chips_arrive(data: PlanData, sets: ModelSets, level: dict) -> list[dict]:
    """A service floor in a quarter before any chip that serves it can arrive (route lead times, receipts), where
    nothing is in stock or installed to serve it meanwhile."""
    rows = []
    Q = data.quarters
    for (r, w) in sets.demand_rows:
        if level.get(w, 0.0) <= 0 or not sets.serve_by_demand.get((r, w)):
            continue
        sites, products = serving_chain(r, w, data)
        if any(stocked(p, sites, data, sets) for p in products):
            continue
        tau, cell = min(earliest_new_chip(p, data, sets) for p in products)
        for t in range(min(tau, data.T)):
            if data.demand[(r, w, t)] > 0:
                when = Q[tau] if tau < data.T else "the end of the plan"
                rows.append({Col.check: "service floor before chips can arrive", Col.sheet: "Workloads",
                             Col.cell: data.cell("Workloads", (w,), "min_service_level"), Col.key: f"{r}/{w}",
                             Col.quarter: Q[t], Col.value: level[w], Col.limit: 0.0,
                             Col.message: f"{w} in {r} must be {level[w]:.0%} served in {Q[t]} but no chip can arrive "
                             f"before {when}" + (f" ({cell})" if cell else "") + " and none is in stock or installed"})
    return rows


def _row_meaning(form: StandardForm, i: int, data: PlanData):
    con, _sense = form.rows[i]
    return describe(con.parent_component().name, con.index(), data)


def conflict_set(form: StandardForm, data: PlanData, options: SolveOptions, pinned: dict | None = None
                 ) -> tuple[pd.DataFrame, str]:
    """IIS of the LP (relaxation). Returns (rows, which problem); empty rows when the relaxation is feasible.
    `pinned`: (variable name, index) -> a model edit's note on why that variable's bounds were set (bound_row)."""
    lp = continuous_copy(form.lp)
    is_mip = len(form.integer_columns) > 0
    for strategy in (4, 2):
        h = new_highs()
        h.setOptionValue("iis_strategy", strategy)
        if time_left(options.time_limit_s):
            h.setOptionValue("time_limit", float(time_left(options.time_limit_s)))
        h.passModel(lp)
        h.run()
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            return pd.DataFrame(columns=CONFLICT_COLUMNS), "LP relaxation is feasible"
        status, iis = h.getIis()
        if iis.row_index_ or iis.col_index_:
            break
    rows = []
    for i, bound in zip(iis.row_index_, iis.row_bound_):
        meaning = _row_meaning(form, i, data)
        limit = form.lp.row_upper_[i] if form.lp.row_upper_[i] < INF else form.lp.row_lower_[i]
        rows.append({Col.family: meaning.title, Col.spec: meaning.spec, Col.key: meaning.key, Col.quarter: meaning.quarter,
                     # the input's limit as the meaning states it (e.g. 36 racks of installed base), else the
                     # model row's right-hand side in user units (0 where the input sits on the left side)
                     Col.cell: meaning.cell,
                     Col.limit: float(meaning.limit) if meaning.limit is not None else float(limit) * meaning.scale,
                     Col.bound: {2: "lower", 3: "upper", 4: "both"}.get(int(bound), "row"), Col.meaning: meaning.text})
    for j, bound in zip(iis.col_index_, iis.col_bound_):
        row = bound_row(form.columns[j], int(bound), data, pinned or {})
        if row is not None:
            rows.append(row)
    which = "LP relaxation (integers relaxed)" if is_mip else "LP"
    frame = pd.DataFrame(rows, columns=CONFLICT_COLUMNS).drop_duplicates()
    return frame, which


def _peak_power_cell(site: str, data: PlanData) -> tuple[str, float]:
    """The SitePower cell of the site's most powerful quarter (the first one on a tie) and its MW."""
    if not data.T:
        return "", 0.0
    mw = [data.site_power.get((site, t), 0.0) for t in range(data.T)]
    t = max(range(data.T), key=lambda q: (mw[q], -q))
    return data.cell("SitePower", (site,), data.quarters[t]), mw[t]


def _bound_words(name: str, index, quarter: str, upper: bool, value: float, data: PlanData
                 ) -> tuple[str, str, str, str]:
    """(family, spec, cell, sentence) of a bound the model itself sets (models/variables.py), in the planner's
    words; ('', '', '', '') for a bound without a known meaning."""
    if name == "E" and upper:
        s = index[0]
        return ("Expansion blocks", "10", data.cell("SiteExpansion", (s,), "max_blocks"),
                f"SiteExpansion {s} max_blocks = {value:g} (blocks per quarter at most)")
    if name == "Y" and upper:
        p, s, _t = index
        cell, mw = _peak_power_cell(s, data)
        extra = " plus every expansion block" if s in set(data.expansion.index) else ""
        return ("Site power", "10", cell, f"at most {value:g} racks of {p} can be deployed at {s} in {quarter}: the "
                f"most power {s} can ever have is {mw:g} MW (SitePower at its peak{extra})")
    if name == "A" and upper and value == 0:
        return ("Partner deal", "16", data.cell("Partners", (index,), "first_quarter"),
                f"partner {index} funds no site inside its window (PartnerSites, first/last quarter): its deal "
                "cannot be signed")
    return "", "", "", ""


def bound_row(var, bound: int, data: PlanData, pinned: dict) -> dict | None:
    """One conflict-set row for a variable bound HiGHS lists in its IIS (2 lower, 3 upper, 4 both): a decision a
    model edit pinned (a frozen one: the previous plan's cell), a bound the model sets from the input, or else the
    variable's own description. None for a bound that restricts nothing (lower 0)."""
    name, index = var.parent_component().name, var.index()
    upper = bound in (3, 4)
    value = var.ub if upper else var.lb
    if value is None or (not upper and value == 0):
        return None
    key, quarter = index_words(index, data)
    side = {2: "lower", 3: "upper", 4: "both"}.get(bound, "upper")
    why = pinned.get((name, index))
    if why is not None:  # a freeze names its previous plan's cell; another edit brings its own family and words
        family, spec, cell = why.get(Col.family, "Frozen decision"), "", why.get(Col.source, "")
        text = why.get(Col.meaning) or f"{why.get(Col.what, var.name)}: frozen at {value:g} by the previous plan (--freeze)"
    else:
        family, spec, cell, text = _bound_words(name, index, quarter, upper, value, data)
        if not family:
            doc = var.parent_component().doc or name
            family, text = "Decision bound", f"{doc} [{key}{' ' + quarter if quarter else ''}] " \
                f"{'<=' if upper else '>='} {value:g}"
    return {Col.family: family, Col.spec: spec, Col.key: key, Col.quarter: quarter, Col.cell: cell,
            Col.limit: float(value), Col.bound: side, Col.meaning: text}


# ---- elastic repair ---------------------------------------------------------------------------------
# Every input limit a planner can change gets a slack column; a service floor gets one per workload (its input
# is one cell, Workloads.min_service_level, shared by every region and quarter). Measured on the shipped example
# with every min_service_level = 1 (issue 13): the elastic MIPs (one repair + one per family) took 242 of 246 s;
# the elastic LP then a MIP check with the rounded repairs takes seconds, the MIP only when the check fails.

WHOLE_UNITS = (Col.wafers, Col.stacks, "chips", "blocks", "racks")


@dataclass
class Slack:
    family: str
    rows: list[int]  # model rows it relaxes
    coefs: list[float]  # its coefficient in each
    weight: float  # cost of one unit (relative change)
    meaning: object  # RowMeaning of the (first) row
    current: float  # the input value now, user units
    per_unit: float  # user units per slack unit
    workload: str = ""


def _slack_weight(meaning) -> float:
    """Cost of one model unit of change, relative to the input value behind the limit; a limit of 0 counts
    changes relative to one unit of the input."""
    base = abs(meaning.limit) if meaning.limit else 1.0
    return meaning.scale / base


def _slacks(form: StandardForm, data: PlanData, families: tuple[str, ...]) -> list[Slack]:
    lp = form.lp
    out: list[Slack] = []
    floors: dict[str, Slack] = {}
    for i, (con, sense) in enumerate(form.rows):
        family = con.parent_component().name
        if family not in families:
            continue
        sign = -1.0 if sense == 1 else 1.0  # relax the row whichever way Pyomo oriented it
        meaning = _row_meaning(form, i, data)
        if family == "service_floor":
            r, w, t = con.index()
            level = float(data.workloads.at[w, "min_service_level"])
            slack = floors.setdefault(w, Slack(family, [], [], 1.0 / max(level, 1e-9), meaning, level, -1.0, w))
            slack.rows.append(i)
            slack.coefs.append(sign * data.demand[(r, w, t)] / meaning.scale)  # one unit = one share of demand
            continue
        current = meaning.limit if meaning.limit is not None else float(
            lp.row_upper_[i] if sign < 0 else lp.row_lower_[i]) * meaning.scale
        per_unit = meaning.scale if FAMILIES[family].repair == "raise" else -meaning.scale
        out.append(Slack(family, [i], [sign], _slack_weight(meaning), meaning, current, per_unit))
    return out + [floors[w] for w in sorted(floors)]


def _elastic_lp(form: StandardForm, data: PlanData, slacks: list[Slack]) -> highspy.HighsLp:
    """The model with zero cost, one slack column per Slack at its weight, and (for partner commitments)
    s <= M * A[n]: an unsigned partner cannot fund."""
    lp = form.lp
    h = new_highs()
    h.passModel(lp)
    h.changeColsCost(lp.num_col_, np.arange(lp.num_col_, dtype=np.int32), np.zeros(lp.num_col_))
    for s in slacks:
        upper = s.current if s.family == "service_floor" else INF
        h.addCol(s.weight, 0.0, upper, len(s.rows), np.array(s.rows, dtype=np.int32), np.array(s.coefs, dtype=float))
    deal_column = {v.index(): j for j, v in enumerate(form.columns) if v.parent_component().name == "A"}
    for k, s in enumerate(slacks):
        con = form.rows[s.rows[0]][0]
        if s.family == "partner_commitment" and con.index() in deal_column:
            big = 10.0 * max(float(data.partners.at[con.index(), "commitment_usd"]) / s.meaning.scale, 1.0)
            h.addRow(-INF, 0.0, 2, np.array([lp.num_col_ + k, deal_column[con.index()]], dtype=np.int32),
                     np.array([1.0, -big]))
    return h.getLp()


class RepairOutOfTime(Exception):
    """An elastic re-solve stopped (time limit or Ctrl-C) before it found a repair: whether one exists is not
    known, which the diagnosis must not report as 'no change makes the plan feasible'."""


STOPPED = (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kInterrupt,
           highspy.HighsModelStatus.kIterationLimit, highspy.HighsModelStatus.kSolutionLimit)


def _run_elastic(lp: highspy.HighsLp, n0: int, n: int, options: SolveOptions, integer: bool,
                 fixed: np.ndarray | None = None) -> np.ndarray | None:
    """Slack values of the elastic model (LP or MIP; `fixed`: slacks held at these values, a feasibility
    check), or None when it has no solution; RepairOutOfTime when it stopped before it knew."""
    h = new_highs()
    if time_left(options.time_limit_s):
        h.setOptionValue("time_limit", float(time_left(options.time_limit_s)))
    h.setOptionValue("mip_rel_gap", 1e-4)
    h.setOptionValue("mip_feasibility_tolerance", 1e-10)  # A[n] = 1e-7 would let s <= M * A leak funding
    model = lp if integer else continuous_copy(lp)
    h.passModel(model)
    if fixed is not None:
        idx = np.arange(n0, n0 + n, dtype=np.int32)
        h.changeColsBounds(n, idx, fixed, fixed)
    h.run()
    if h.getInfo().primal_solution_status != 2:
        if h.getModelStatus() in STOPPED:
            raise RepairOutOfTime(h.modelStatusToString(h.getModelStatus()))
        return None
    return np.asarray(h.getSolution().col_value)[n0:n0 + n]


def _typeable(s: Slack, x: float, whole_integer: bool) -> float:
    """The slack rounded so the repaired input is a value a planner types: whole wafers, stacks, chips, blocks
    (up for a raise, down for a lowered floor), MW to 0.01, USD to $1,000, a service level down to 0.1%."""
    if x <= 1e-9:
        return 0.0
    if s.family == "service_floor":
        level = math.floor((s.current - x) * 1000 + 1e-6) / 1000
        return s.current - max(level, 0.0)
    step = 1.0 if s.meaning.unit in WHOLE_UNITS or whole_integer else 0.01 if s.meaning.unit == "MW" else \
        1000.0 if s.meaning.unit == "USD" else 0.0
    if step <= 0:
        return x
    new = s.current + x * s.per_unit
    rounded = (math.ceil(new / step - 1e-6) if s.per_unit > 0 else math.floor(new / step + 1e-6)) * step
    if s.per_unit < 0:
        rounded = max(rounded, 0.0)
    return max((rounded - s.current) / s.per_unit, 0.0)


def elastic_repair(form: StandardForm, data: PlanData, options: SolveOptions,
                   families: tuple[str, ...] = REPAIRABLE) -> pd.DataFrame | None:
    """Least relative total change of the input limits of `families` that makes the plan feasible, each at a
    value a planner can type (None when no change exists). The elastic LP first; its repairs rounded and checked
    on the MIP; the elastic MIP only when that check fails (integers stay integer)."""
    slacks = _slacks(form, data, families)
    if not slacks:
        return None
    lp = _elastic_lp(form, data, slacks)
    n0, n = form.lp.num_col_, len(slacks)
    is_mip = len(form.integer_columns) > 0
    x = _run_elastic(lp, n0, n, options, integer=False)
    if x is None:
        return None
    rounded = _checked(lp, n0, slacks, x, options) if is_mip else _rounded(slacks, x, 0.0)
    if rounded is None:  # no widened LP repair fits the whole-number decisions: the elastic MIP, time-boxed
        boxed = SolveOptions(time_limit_s=min(CHECK_SECONDS * 6, time_left(options.time_limit_s) or CHECK_SECONDS * 6))
        x = _run_elastic(lp, n0, n, boxed, integer=True)
        if x is None:
            return None
        rounded = _rounded(slacks, x, 0.0)
    return _repair_frame(slacks, rounded)


CHECK_SECONDS = 5.0
MARGINS = (0.0, 0.002, 0.01, 0.03, 0.1)  # widen the LP repair by these shares until the MIP fits


def _rounded(slacks: list[Slack], x: np.ndarray, margin: float) -> np.ndarray:
    return np.array([_typeable(s, float(v) * (1.0 + margin) + (margin if s.family == "service_floor" and v > 1e-9
                                                                 else 0.0), False) for s, v in zip(slacks, x)])


def _checked(lp, n0: int, slacks: list[Slack], x: np.ndarray, options: SolveOptions) -> np.ndarray | None:
    """The LP repair rounded to typeable values and widened by MARGINS until the plan with whole racks, blocks
    and deals is feasible with it (each check a time-boxed MIP with the slacks fixed); None if none fits."""
    boxed = SolveOptions(time_limit_s=min(CHECK_SECONDS, time_left(options.time_limit_s) or CHECK_SECONDS))
    for margin in MARGINS:
        rounded = _rounded(slacks, x, margin)
        try:
            if _run_elastic(lp, n0, len(slacks), boxed, integer=True, fixed=rounded) is not None:
                return rounded
        except RepairOutOfTime:  # a check cut short proves nothing: the next, wider one, then the elastic MIP
            continue
    return None


def _repair_frame(slacks: list[Slack], x: np.ndarray) -> pd.DataFrame:
    rows = []
    for s, v in zip(slacks, x):
        if v <= 1e-9:
            continue
        m = s.meaning
        if s.family == "service_floor":
            new = max(0.0, s.current - v)
            rows.append({Col.family: m.title, Col.cell: m.cell, Col.key: s.workload, Col.quarter: "", Col.current: s.current,
                         Col.repaired: new, Col.change: new - s.current, Col.unit: "share",
                         Col.action: f"lower min_service_level of {s.workload} ({m.cell}) from {s.current:.1%} to "
                         f"{new:.1%}"})
            continue
        new = s.current + v * s.per_unit
        verb = "raise" if s.per_unit > 0 else "lower"
        rows.append({Col.family: m.title, Col.cell: m.cell, Col.key: m.key, Col.quarter: m.quarter, Col.current: s.current,
                     Col.repaired: new, Col.change: new - s.current, Col.unit: m.unit,
                     Col.action: f"{verb} {m.cell or m.text} from {amount(s.current, m.unit, False)} to "
                     f"{amount(new, m.unit)} ({m.text})"})
    return pd.DataFrame(rows, columns=REPAIR_COLUMNS)


def amount(x: float, unit: str, with_unit: bool = True) -> str:
    """A number as a planner reads it: $86,000,000 (never 8.6e+07), 118 wafers, 19.67 MW."""
    if unit == "USD":
        return money(x)
    if abs(x - round(x)) < 1e-9 or abs(x) >= 1000:
        text = f"{x:,.0f}"
    else:
        text = f"{x:,.4g}" if abs(x) < 1 else f"{x:,.2f}"
    return f"{text} {unit}" if with_unit else text


def repair_alternatives(form: StandardForm, data: PlanData, options: SolveOptions) -> tuple[pd.DataFrame, list[str]]:
    """The least change in each single family that alone restores feasibility ("or" options), and the families
    whose search stopped (time limit, Ctrl-C) before it knew."""
    present = sorted({con.parent_component().name for con, _s in form.rows} & set(REPAIRABLE))
    frames, out_of_time = [], []
    for k, family in enumerate(present, start=1):
        t0 = time.perf_counter()
        stopped = False
        try:
            repair = elastic_repair(form, data, options, (family,))
        except RepairOutOfTime:
            repair, stopped = None, True
            out_of_time.append(FAMILIES[family].title.lower() if family in FAMILIES else family)
        seconds = time.perf_counter() - t0
        log.info("diagnose  alternative %d/%d (%s) %s", k, len(present), family,
                 f"not searched: out of time ({seconds:.2f} s)" if stopped else f"in {seconds:.2f} s")
        if repair is not None and len(repair):
            frames.append(repair.assign(option=k))
    out = pd.concat(frames, ignore_index=True)[[Col.option] + REPAIR_COLUMNS] if frames else \
        pd.DataFrame(columns=[Col.option] + REPAIR_COLUMNS)
    return out, out_of_time


def name_scenario_cells(diag: Diagnosis, edited: dict[str, str]) -> None:
    """A cell whose value a scenario row set is named with that row wherever the diagnosis cites it: the input
    cell holds another value ('raise FabCapacity!B2 (as set by the scenario row Scenarios!F4 (set 0)) ...')."""
    edited = {c: where for c, where in edited.items() if "!" in c}  # cells; a sheet name is a removed row's
    if not edited:
        return
    cited = re.compile(r"(?<![A-Za-z0-9!])(" + "|".join(re.escape(c) for c in edited) + r")(?![0-9])")

    def named(text):
        return cited.sub(lambda m: f"{m.group(1)} (as set by the scenario row {edited[m.group(1)]})", text) \
            if isinstance(text, str) else text

    diag.summary = [named(line) for line in diag.summary]
    for frame in (diag.repairs, diag.alternatives, diag.conflict):
        for column in (Col.action, Col.meaning):
            if column in frame.columns:
                frame[column] = frame[column].map(named)


def _within(options: SolveOptions) -> str:
    limit = options.time_limit_s
    return f" within the time limit ({limit:g} s, shared with the plan's solve)" if limit and limit > 0 else ""


def listed(actions: list[str], shown: int = 5, table: str = "the repair table", joiner: str = "; and ") -> str:
    """The first `shown` actions, then 'and N more' (the full list when it is short)."""
    text = joiner.join(actions[:shown])
    return text + (f"; and {len(actions) - shown} more (see {table})" if len(actions) > shown else "")


def diagnose(model, sets: ModelSets, data: PlanData, result: SolveResult, options: SolveOptions,
             pinned: dict | None = None) -> Diagnosis:
    """`pinned`: (variable name, index) -> why a model edit set its bounds (see bound_row)."""
    diag = Diagnosis(result.status)
    diag.checks = presolve_checks(data, sets)
    form = result.form
    if result.status == "unbounded":
        diag.summary.append("The plan is unbounded: some cost can fall without limit. Check for negative costs or "
                            "prices in the input; every cost column must be >= 0.")
    elif result.status == "error":
        diag.summary.append(f"The solver stopped without a plan: {result.message}.")
    if form is None:
        diag.summary.append(f"The model could not be handed to the solver: {result.message}")
        return diag
    if result.status == "infeasible":
        _explain_infeasible(diag, form, data, options, pinned)
    if len(diag.checks):
        diag.summary.append("Pre-solve checks: " + listed(diag.checks[Col.message].tolist()))
    return diag


def _explain_infeasible(diag: Diagnosis, form: StandardForm, data: PlanData, options: SolveOptions,
                        pinned: dict | None) -> None:
    """The conflict set, the smallest repair and the one-family alternatives of an infeasible plan, in words."""
    t0 = time.perf_counter()
    diag.conflict, diag.conflict_of = conflict_set(form, data, options, pinned)
    log.info("diagnose  conflict set: %d rows in %.2f s", len(diag.conflict), time.perf_counter() - t0)
    t0 = time.perf_counter()
    try:
        repairs, repair_stopped = elastic_repair(form, data, options), ""
    except RepairOutOfTime as stopped:
        repairs, repair_stopped = None, str(stopped)
    log.info("diagnose  smallest repair: %d cell(s) in %.2f s", 0 if repairs is None else len(repairs),
             time.perf_counter() - t0)
    diag.repairs = repairs if repairs is not None else pd.DataFrame(columns=REPAIR_COLUMNS)
    diag.summary.append("The plan is infeasible: the hard limits below cannot all hold at once.")
    if len(diag.conflict):
        # the set can hold every quarter's rows of several limits (75 on the example with every floor at 1)
        diag.summary.append(f"Conflict set ({diag.conflict_of}, {len(diag.conflict)} limits): " + listed(
            [f"{r.meaning} [{r.cell}]" if r.cell else r.meaning for r in diag.conflict.itertuples()],
            shown=8, table="the conflict set table", joiner="; "))
    elif diag.conflict_of:
        diag.summary.append(f"The {diag.conflict_of}: the conflict needs whole-number decisions (racks, "
                            "expansion blocks, deals signed); see the repairs.")
    diag.alternatives, skipped = repair_alternatives(form, data, options)
    if len(diag.repairs):
        diag.summary.append("Smallest change that makes the plan feasible: " + listed(
            diag.repairs[Col.action].tolist()))
    elif repair_stopped:
        diag.summary.append(f"The search for the smallest change stopped ({repair_stopped.lower()}) before it "
                            f"found one{_within(options)}: whether a change of the input limits alone makes the "
                            "plan feasible is not known; run `planner diagnose` again with a larger --time-limit.")
    elif repairs is None:
        diag.summary.append("No change to the input limits alone makes the plan feasible: check the structure "
                            "(routes, qualifications, serving links, throughput).")
    for _option, group in diag.alternatives.groupby(Col.option, sort=True):
        diag.summary.append("Or, changing only " + group[Col.family].iloc[0].lower() + ": " + listed(
            group[Col.action].tolist()))
    if skipped:
        diag.summary.append("Not searched, out of time: the change in " + ", ".join(skipped) + " alone.")
