"""planner run NEXT.xlsx --previous PLAN.xlsx --freeze N: keep what is already committed.

The first N quarters of the new horizon (matched by quarter label) keep the previous plan's decisions:
wafer starts ``W[p,f,t]`` (Wafers.wafers), rack deployments ``Y[p,s,t]`` (Deployments.racks_deployed) and
expansion blocks ``E[s,t]`` (Power.blocks_started), packaging expansion blocks ``K[k,t]``
(Packaging.blocks_started); and every deal the previous plan signed stays signed
(``A[n] = 1``, Partners.signed). Everything else is re-optimised.

A frozen decision is pinned by its bounds (lower = upper = the previous value), not by Pyomo's ``fix()``: a
fixed variable is substituted as a constant, so a frozen commitment that no longer fits (FabCapacity cut below
the wafers already started, say) would make a constant row that Pyomo refuses before the solver ever sees the
model, and the Diagnosis could neither name the conflict nor offer the least change. With bounds, HiGHS reports
the plan infeasible and the diagnosis' elastic repair says which input to raise and by how much, while
``check_frozen`` names the frozen decisions over their limits from the data alone, with their cells.

A frozen decision whose index no longer exists (its route, site, product, expansion option or partner was
removed) is an input error located at the previous plan's cell; a frozen 0 there is simply dropped.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd

from models.money import money
from models.data import PlanData
from models.registry import FAMILIES, FROZEN_DECISIONS, Decision
from planner.input.schema import OWN_CAPEX_ITEM
from planner.output.contract import Col, DECISIONS_SHOWN, is_planned
from planner.output.plan_reader import PlanReadError, numeric, plan_cell, read_plan, summary_values, truthy
from planner.issues import Issues
from planner.cycle.roll_plan import expansion_sheets_missing, plan_value_problems

TOL = 1e-6
# plan sheet -> the decision it holds (model variable, key columns, value column, what it is, why an index can vanish)
FROZEN: dict[str, Decision] = {DECISIONS_SHOWN[d.variable].sheet: d for d in FROZEN_DECISIONS}
OPTIONAL_DECISION_SHEETS = frozenset({"Power", "Packaging"})  # a plan without expansion may lack them
CHECK_COLUMNS = [Col.check, Col.sheet, Col.cell, Col.key, Col.quarter, Col.value, Col.limit, Col.excess, Col.message, Col.source]


def pin(var, value: float) -> None:
    """Hold a variable at `value` through its bounds (see the module docstring for why not fix())."""
    var.setlb(value)
    var.setub(value)
    var.set_value(value, skip_validation=True)


def apply_freeze(model, sets, data: PlanData, previous_plan_path: Path, n_quarters: int,
                 issues: Issues) -> list[dict]:
    """Pin the first `n_quarters` quarters' decisions and the signed deals to the previous plan's values.

    Returns one dict per frozen decision: var, index (the model index), quarter, value, source
    ('PLAN.xlsx Wafers!D5'), what. Problems go to `issues` (errors stop the run before solving)."""
    path = Path(previous_plan_path)
    frames = _read_previous(path, issues)
    if frames is None:
        return []
    t_of = _frozen_quarters(frames, data, n_quarters, path.name, issues)
    if t_of is None or not _previous_values_ok(path, frames, data, issues):
        return []
    fixes: list[dict] = []
    for sheet, decision in FROZEN.items():
        fixes += _freeze_decision(model, decision, frames.get(sheet), path, t_of, issues)
    return fixes + _keep_deals_signed(model, frames.get("Partners"), path, issues)


def _read_previous(path: Path, issues: Issues) -> dict[str, pd.DataFrame] | None:
    """The previous plan's Summary, decision sheets and Partners; None (with an error) when it cannot be read or
    its status carries no plan."""
    name = path.name
    try:
        frames = read_plan(path, ["Summary", *FROZEN, "Partners"], required=("Summary",), as_written=True)
    except PlanReadError as exc:
        issues.error("", name, "", str(path), f"--previous: {exc}")
        return None
    status = str(summary_values(frames).get(Col.status, "")).strip()
    if not is_planned(status):
        issues.error("Summary", f"{name} Summary", Col.status, status,
                     f"the previous plan {name} has status '{status or 'unknown'}': it holds no decisions to freeze")
        return None
    return frames


def _frozen_quarters(frames: dict[str, pd.DataFrame], data: PlanData, n_quarters: int, name: str,
                     issues: Issues) -> dict[str, int] | None:
    """Quarter label -> t of the quarters to freeze (at most the horizon); a warning for those the previous plan
    lacks, None (with an error) when it has none of them."""
    n = int(n_quarters)
    if n > data.T:
        issues.warning("", name, "", n, f"--freeze {n} is longer than the horizon ({data.T} quarters): all of it is "
                       "frozen")
        n = data.T
    frozen_quarters = data.quarters[:n]
    covered: set[str] = set()
    for sheet in FROZEN:
        frame = frames.get(sheet)
        if frame is not None and Col.quarter in frame.columns:
            covered |= set(frame[Col.quarter].astype(str))
    missing = [q for q in frozen_quarters if q not in covered]
    if len(missing) == len(frozen_quarters):
        span = sorted(covered)
        issues.error("", name, "", ", ".join(frozen_quarters),
                     f"the previous plan {name} covers {span[0] + '..' + span[-1] if span else 'no quarter'}: none of "
                     f"the quarters to freeze ({', '.join(frozen_quarters)}) is in it")
        return None
    if missing:
        issues.warning("", name, "", ", ".join(missing), f"quarter(s) {', '.join(missing)} are not in the previous "
                       f"plan {name}: their decisions are not frozen")
    return {q: t for t, q in enumerate(frozen_quarters)}


def _previous_values_ok(path: Path, frames: dict[str, pd.DataFrame], data: PlanData, issues: Issues) -> bool:
    """False (with errors) when a decision value of the previous plan is not a plain number, when `issues`
    already holds an error, or when deals are to be kept and the plan has no Partners sheet."""
    for problem in plan_value_problems(path, {k: v for k, v in frames.items() if k in FROZEN or k == "Partners"}):
        where, _sep, text = problem.partition(": ")
        issues.error("", where, "", None, f"--previous: {text} (the plan was edited by hand?); fix or remove it")
    if not issues.ok:
        return False
    for sheet in expansion_sheets_missing(frames, data):
        issues.error(sheet, path.name, "", None, f"the previous plan {path.name} has no {sheet} sheet, though the "
                     "input can expand: the blocks it started cannot be frozen; use the plan workbook as the planner "
                     "wrote it")
        return False
    if "Partners" not in frames and len(data.partners):
        issues.error("Partners", path.name, "", None, f"the previous plan {path.name} has no Partners sheet: the deals "
                     "it signed cannot be kept signed; use the plan workbook as the planner wrote it")
        return False
    return True


def _freeze_decision(model, decision: Decision, frame: pd.DataFrame | None, path: Path, t_of: dict[str, int],
                     issues: Issues) -> list[dict]:
    """Pin `decision` (a registry FROZEN_DECISIONS entry) in the frozen quarters to the values of its sheet of the
    previous plan; the fixes made."""
    shown = DECISIONS_SHOWN[decision.variable]
    name, sheet, column = path.name, shown.sheet, shown.column
    if frame is None:
        if sheet not in OPTIONAL_DECISION_SHEETS:
            issues.error(sheet, name, "", None, f"the previous plan {name} has no {sheet} sheet")
        return []
    if sheet == "Packaging" and column not in frame.columns:
        return []  # a plan made before packaging expansion (family 19) started no packaging blocks
    lacking = [c for c in (*shown.keys, Col.quarter, column) if c not in frame.columns]
    if lacking:
        issues.error(sheet, f"{name} {sheet}", ", ".join(lacking), None,
                     f"the previous plan's {sheet} sheet has no column {', '.join(lacking)} (a table too long for "
                     "Excel is summed up there; its full table is in the file beside the plan): cannot freeze")
        return []
    var = getattr(model, decision.variable)
    frame = numeric(frame, column)
    fixes = []
    for i, row in enumerate(frame.to_dict("records")):
        q = str(row.get(Col.quarter))
        if q in t_of:
            fix = _freeze_row(var, decision, row, t_of[q], q, plan_cell(path, frame, i, column, sheet), issues)
            if fix is not None:
                fixes.append(fix)
    return fixes


def _freeze_row(var, decision: Decision, row: dict, t: int, q: str, source: str, issues: Issues) -> dict | None:
    """Pin one previous-plan row's value on `var[keys, t]`; None (an error when the value is not 0, or not whole
    for a whole-number variable) when it cannot be kept."""
    shown = DECISIONS_SHOWN[decision.variable]
    column, what = shown.column, decision.what
    value = float(row[column])
    value = 0.0 if abs(value) < 1e-9 else value
    key = tuple(str(row[k]) for k in shown.keys)
    index = key + (t,)
    label = f"{what} of {'/'.join(key)} in {q}"
    if index not in var:
        if abs(value) > TOL:
            issues.error(shown.sheet, source, column, value, f"{label} is frozen to {value:g} but cannot be kept: "
                         + decision.gone.format(*key, "") + "; remove the freeze or restore it")
        return None
    v = var[index]
    if v.is_integer() or v.is_binary():
        whole = round(value)
        if abs(value - whole) > TOL:
            issues.error(shown.sheet, source, column, value, f"{label} is frozen to {value:g}, not a whole number, "
                         f"but {what} are whole numbers in this workbook (Settings)")
            return None
        value = float(whole)
    pin(v, value)
    return {"var": decision.variable, "index": index, Col.quarter: q, Col.value: value, Col.source: source, Col.what: label}


def _keep_deals_signed(model, partners: pd.DataFrame | None, path: Path, issues: Issues) -> list[dict]:
    """Every deal the previous plan signed stays signed (A[n] = 1); an error for a partner no longer in Partners."""
    if partners is None or not len(partners) or Col.signed not in partners.columns:
        return []
    fixes = []
    for i, row in enumerate(partners.to_dict("records")):
        if not truthy(row.get(Col.signed)):
            continue
        partner = str(row[Col.partner])
        source = plan_cell(path, partners, i, Col.signed, "Partners")
        if partner not in model.A:
            issues.error("Partners", source, Col.signed, True, f"deal {partner} was signed in {path.name} but partner "
                         f"{partner} is no longer in Partners; keep its row (commitment left) to plan with it")
            continue
        pin(model.A[partner], 1.0)
        fixes.append({"var": "A", "index": partner, Col.quarter: "", Col.value: 1.0, Col.source: source,
                      Col.what: f"deal {partner} signed"})
    return fixes


class _Findings:
    """check_frozen's rows, in the order found."""

    def __init__(self):
        self.rows: list[dict] = []

    def add(self, check, sheet, cell, key, quarter, value, limit, message, sources) -> None:
        self.rows.append({Col.check: check, Col.sheet: sheet, Col.cell: cell, Col.key: key, Col.quarter: quarter,
                          Col.value: value, Col.limit: limit, Col.excess: value - limit, Col.message: message,
                          Col.source: "; ".join(sorted(set(sources))[:6]) + (" ..." if len(set(sources)) > 6 else "")})

    @staticmethod
    def over(value, limit) -> bool:
        return value > limit + TOL * max(1.0, abs(limit))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=CHECK_COLUMNS)


def _input_limit(family: str, index: tuple, data: PlanData) -> tuple[str, str, float]:
    """(input sheet, cell, limit) of row `index` of constraint `family`, from its registry entry."""
    entry = FAMILIES[family]
    cell, _text, limit = entry.explain(index, data)
    return entry.input_sheet, cell, limit


def check_frozen(data: PlanData, fixes: list[dict]) -> pd.DataFrame:
    """Frozen decisions above the limits of the new input, from the data alone: each row says by how much and
    names the input cell (data.cell) to change, or the frozen decision (source) to release.

    * wafers vs FabCapacity: frozen starts at a fab in a quarter above its capacity;
    * blocks vs SiteExpansion.max_blocks: frozen blocks at a site above the most allowed;
    * racks vs site power: the installed base plus frozen racks still in service above SitePower plus the most
      expansion that can be energised by then (frozen blocks, and the blocks still free in unfrozen quarters);
    * capex vs budget: frozen racks and blocks cost more in a quarter than the own budget plus every partner that
      may fund there could pay (cumulative when Settings.budget_carryover)."""
    by_var: dict[str, list[dict]] = defaultdict(list)
    for fx in fixes:
        by_var[fx["var"]].append(fx)
    found = _Findings()
    blocks: dict[str, dict[int, dict]] = defaultdict(dict)  # site -> t -> the frozen blocks started
    for fx in by_var["E"]:
        s, t = fx["index"]
        blocks[s][t] = fx
    _check_frozen_wafers(data, by_var["W"], found)
    _check_frozen_block_limit(data, "expansion_limit", {k: list(by_t.values()) for k, by_t in blocks.items()}, found)
    lines: dict[str, list[dict]] = defaultdict(list)
    for fx in by_var["K"]:
        lines[fx["index"][0]].append(fx)
    _check_frozen_block_limit(data, "packaging_expansion_limit", lines, found)
    _check_frozen_power(data, by_var["Y"], blocks, found)
    _check_frozen_capex(data, by_var, found)
    return found.frame()


def _check_frozen_wafers(data: PlanData, fixes: list[dict], found: _Findings) -> None:
    """Frozen wafer starts at a fab in a quarter above FabCapacity (family 1)."""
    Q = data.quarters
    wafers: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for fx in fixes:
        _p, f, t = fx["index"]
        wafers[(f, t)].append(fx)
    for (f, t), group in sorted(wafers.items()):
        total = sum(fx[Col.value] for fx in group)
        sheet, cell, cap = _input_limit("fab_capacity", (f, t), data)
        if found.over(total, cap):
            found.add("frozen wafers above fab capacity", sheet, cell, f, Q[t], total, cap,
                      f"{total:,.6g} wafers already started at {f} in {Q[t]} (frozen) but {cell or 'FabCapacity ' + f} "
                      f"allows {cap:,.6g}: {total - cap:,.6g} over; raise the capacity or release the freeze",
                      [fx[Col.source] for fx in group])


# family -> (the input table of its blocks, the check's name, what is started, "at"/"on" the key)
BLOCK_LIMITS = {"expansion_limit": ("expansion", "frozen blocks above max_blocks", "expansion blocks", "at"),
                "packaging_expansion_limit": ("packaging_expansion", "frozen packaging blocks above max_blocks",
                                              "packaging blocks", "on")}


def _check_frozen_block_limit(data: PlanData, family: str, groups: dict[str, list[dict]], found: _Findings) -> None:
    """Frozen blocks at a site (family 10) or on a packaging line (family 19) above its max_blocks."""
    table, check, noun, where = BLOCK_LIMITS[family]
    for key, group in sorted(groups.items()):
        total = sum(fx[Col.value] for fx in group)
        if key in getattr(data, table).index:
            sheet, cell, most = _input_limit(family, (key,), data)
        else:
            sheet = FAMILIES[family].input_sheet
            cell, most = data.cell(sheet, (key,), "max_blocks"), 0.0
        if found.over(total, most):
            found.add(check, sheet, cell, key, "", total, most,
                      f"{total:,.6g} {noun} already started {where} {key} (frozen) but {sheet} max_blocks "
                      f"{cell or key} allows {most:,.6g}: {total - most:,.6g} over", [fx[Col.source] for fx in group])


def _check_frozen_power(data: PlanData, fixes: list[dict], blocks: dict[str, dict[int, dict]],
                        found: _Findings) -> None:
    """The installed base plus frozen racks still in service at a site above the most MW it can have (family 10)."""
    life = data.products["life_quarters"].to_dict()
    racks: dict[str, list[dict]] = defaultdict(list)
    for fx in fixes:
        if fx[Col.value] > 0:
            racks[fx["index"][1]].append(fx)
    for s, group in sorted(racks.items()):
        mw = {p: data.rack_mw(p, s) for p in data.products.index}
        fixed_blocks = {tau: fx[Col.value] for tau, fx in blocks.get(s, {}).items()}
        base = data.installed_base[data.installed_base["site"] == s]
        for t in range(data.T):
            alive = [fx for fx in group if fx["index"][2] <= t < fx["index"][2] + int(life[fx["index"][0]])]
            if not alive:
                continue
            needed = sum(fx[Col.value] * mw[fx["index"][0]] for fx in alive)
            needed += sum(r.racks * mw[r.product] for r in base.itertuples() if t < r.retire_t)
            sheet, cell, available = _most_power(data, s, t, fixed_blocks)
            if found.over(needed, available):
                q = data.quarters[t]
                found.add("frozen racks above site power", sheet, cell, s, q, needed, available,
                          f"racks already deployed at {s} (frozen) and the installed base need {needed:,.6g} MW in {q} "
                          f"but at most {available:,.6g} MW can be available (SitePower {cell or s} plus expansion): "
                          f"{needed - available:,.6g} MW over", [fx[Col.source] for fx in alive])


def _most_power(data: PlanData, s: str, t: int, fixed_blocks: dict[int, float]) -> tuple[str, str, float]:
    """(input sheet, cell, MW): the most site s can have in t: SitePower plus the frozen blocks energised by then
    and, when an unfrozen quarter could still start them in time, every block left under max_blocks."""
    exp = data.expansion
    lead = int(exp.at[s, "lead_quarters"]) if s in exp.index else 0
    block_mw = float(exp.at[s, "block_mw"]) if s in exp.index else 0.0
    most = float(exp.at[s, "max_blocks"]) if s in exp.index else 0.0
    energised = sum(v for tau, v in fixed_blocks.items() if tau <= t - lead)
    if s in exp.index and any(tau not in fixed_blocks for tau in range(0, t - lead + 1)):
        energised += max(0.0, most - sum(fixed_blocks.values()))
    sheet, cell, power = _input_limit("site_power", (s, t), data)
    return sheet, cell, power + block_mw * energised


def _frozen_spend(data: PlanData, by_var: dict[str, list[dict]]):
    """Per quarter: capex of the frozen racks, expansion and packaging blocks (USD), the sites it is at, the
    frozen decisions' sources."""
    capex_usd = data.products["rack_capex_usd"].to_dict()
    exp, pexp = data.expansion, data.packaging_expansion
    spend: dict[int, float] = defaultdict(float)
    spend_sites: dict[int, set] = defaultdict(set)
    spend_sources: dict[int, list[str]] = defaultdict(list)
    for fx in by_var["Y"]:
        p, s, t = fx["index"]
        if fx[Col.value] > 0:
            spend[t] += capex_usd[p] * fx[Col.value]
            spend_sites[t].add(s)
            spend_sources[t].append(fx[Col.source])
    for fx in by_var["E"]:
        s, t = fx["index"]
        if fx[Col.value] > 0 and s in exp.index:
            spend[t] += float(exp.at[s, "capex_usd_per_mw"]) * float(exp.at[s, "block_mw"]) * fx[Col.value]
            spend_sites[t].add(s)
            spend_sources[t].append(fx[Col.source])
    for fx in by_var["K"]:
        k, t = fx["index"]
        if fx[Col.value] > 0 and k in pexp.index:
            spend[t] += float(pexp.at[k, "capex_usd_per_block"]) * fx[Col.value]
            spend_sources[t].append(fx[Col.source])
    return spend, spend_sites, spend_sources


def _funding_limit(data: PlanData, quarters, sites: set) -> float:
    """The most capex `quarters` can fund at `sites`: their own budget plus the commitment of every partner that
    may fund one of those sites in one of those quarters."""
    partners = data.partners
    helpers = {n for (n, s) in data.partner_sites if s in sites and n in partners.index
               and any(int(partners.at[n, "first_t"]) <= tau <= int(partners.at[n, "last_t"]) for tau in quarters)}
    return sum(data.budget.get(tau, 0.0) for tau in quarters) + \
        sum(float(partners.at[n, Col.commitment_usd]) for n in helpers)


def _check_frozen_capex(data: PlanData, by_var: dict[str, list[dict]], found: _Findings) -> None:
    """Frozen capex in a quarter (by it, with Settings.budget_carryover) above the own budget plus every partner
    that may fund it (families 14-16)."""
    spend, spend_sites, spend_sources = _frozen_spend(data, by_var)
    carry = data.settings.budget_carryover
    for t in sorted(spend):
        quarters = range(0, t + 1) if carry else (t,)
        frozen_spend = sum(spend.get(tau, 0.0) for tau in quarters)
        limit = _funding_limit(data, quarters, set().union(*(spend_sites.get(tau, set()) for tau in quarters)))
        if found.over(frozen_spend, limit):
            q = data.quarters[t]
            sheet, cell, _budget = _input_limit("own_budget", (t,), data)
            found.add("frozen capex above budget", sheet, cell, OWN_CAPEX_ITEM, q, frozen_spend, limit,
                      f"racks and blocks already committed cost {money(frozen_spend)} {'by' if carry else 'in'} {q} "
                      f"but the own budget ({cell}) plus every partner that may fund them give at most {money(limit)}: "
                      f"{money(frozen_spend - limit)} short",
                      [src for tau in quarters for src in spend_sources.get(tau, [])])


def explain_frozen(diagnosis, data: PlanData, fixes: list[dict]):
    """Add check_frozen's findings to a Diagnosis (planner.diagnose.diagnosis): rows first in its pre-solve checks, and
    one summary line. Returns the findings."""
    found = check_frozen(data, fixes)
    if not len(found):
        if fixes:
            diagnosis.summary.append(f"{len(fixes)} decisions are frozen to the previous plan (--freeze); none is "
                                     "above its own limit, but together with the rest they may be what conflicts.")
        return found
    frame = found.copy()
    if diagnosis.checks is not None and len(diagnosis.checks):
        frame = pd.concat([frame, diagnosis.checks], ignore_index=True)
    diagnosis.checks = frame
    line = "Frozen decisions no longer fit the new input: " + "; ".join(found[Col.message].tolist()[:5]) + \
        (f" (and {len(found) - 5} more, see Pre-solve checks)" if len(found) > 5 else "")
    diagnosis.summary.insert(1 if diagnosis.summary else 0, line)
    return found


class FreezeEdit:
    """Model edit: the first `n_quarters` decisions of a previous plan pinned (`--previous PLAN --freeze N`)."""

    failure_message = "the previous plan cannot be frozen into this one"

    def __init__(self, previous_plan: Path, n_quarters: int):
        self.previous_plan, self.n_quarters = Path(previous_plan), int(n_quarters)
        self.frozen: list[dict] = []
        self.meta: dict[str, object] = {"frozen": self.frozen}

    def apply(self, model, sets, data: PlanData, issues: Issues) -> None:
        self.frozen[:] = apply_freeze(model, sets, data, self.previous_plan, self.n_quarters, issues)
        # the quarters actually frozen: one the previous plan does not cover is only warned about, not frozen
        pinned = {f[Col.quarter] for f in self.frozen}
        self.meta["frozen_quarters"] = [q for q in data.quarters[:min(self.n_quarters, data.T)] if q in pinned]

    @property
    def pinned(self) -> dict[tuple, dict]:
        """(variable, index) -> its freeze (source cell, what, value): the Diagnosis names a frozen bound by it."""
        return {(f["var"], f["index"]): f for f in self.frozen}

    def explain(self, diagnosis, data: PlanData) -> None:
        if self.frozen:
            explain_frozen(diagnosis, data, self.frozen)

    def explain_solution(self, solution, data: PlanData) -> None:
        """Unmet demand in a frozen quarter is the freeze's: its limits carry no price there (the decisions are
        fixed), so the reasons fell through to 'cost: serving costs more than the unmet penalty', which is false."""
        frozen = set(self.meta.get("frozen_quarters", []))
        serving = solution.tables.get("Serving")
        if not frozen or serving is None or Col.limited_by not in serving.columns:
            return
        rows = serving[Col.quarter].isin(frozen) & (serving[Col.unmet_tps] > 1e-6)
        serving.loc[rows, Col.limited_by] = [
            f"frozen by --freeze: {q}'s racks, wafers and HBM are the previous plan's ({self.previous_plan.name})"
            for q in serving.loc[rows, Col.quarter]]
