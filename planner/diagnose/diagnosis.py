"""Explain a plan that cannot be solved: pre-solve checks, an irreducible conflict set, the smallest repair.

* Pre-solve checks find the common causes from the data alone, with cells.
* The conflict set is HiGHS's IIS of the LP (for a MIP: of its LP relaxation; if the relaxation is
  feasible the conflict needs integer decisions and we say so). On highspy 1.16 the default "light"
  IIS strategy returns no rows; strategy 4 (measured here) returns an irreducible set, 2 is the fallback.
* The repair is an elastic re-solve: every input limit a planner can change gets a slack, weighted by
  1/|limit| so the least *relative* total change wins; integers stay integer.
"""

from __future__ import annotations


import highspy
import numpy as np
import pandas as pd

from models.solve import INF, SolveOptions, SolveResult, StandardForm, continuous_copy, new_highs, time_left
from models.sets import ModelSets

from models.data import PlanData
from models.registry import FAMILIES, REPAIRABLE, describe
from planner.diagnose.findings import CHECK_COLUMNS, CONFLICT_COLUMNS, REPAIR_COLUMNS, Diagnosis  # noqa: F401


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
                rows.append({"check": "installed base above site power", "sheet": "SitePower",
                             "cell": data.cell("SitePower", (s,), Q[t]), "key": s, "quarter": Q[t], "value": base_mw,
                             "limit": limit, "message": f"the installed base at {s} draws {base_mw:,.3f} MW in {Q[t]} "
                             f"but at most {limit:,.3f} MW can be available"})
    for (f, t), floor in sorted(data.fab_min_wafers.items()):
        cap = data.fab_capacity.get((f, t), 0.0)
        if floor > cap + 1e-9:
            rows.append({"check": "take-or-pay above capacity", "sheet": "FabMinWafers",
                         "cell": data.cell("FabMinWafers", (f,), Q[t]), "key": f, "quarter": Q[t], "value": floor,
                         "limit": cap, "message": f"{f} must be paid for {floor:,.0f} wafers in {Q[t]} but can start only "
                         f"{cap:,.0f}: the difference is paid for nothing"})
    level = data.workloads["min_service_level"].to_dict()
    for (r, w) in sets.demand_rows:
        if level.get(w, 0.0) <= 0 or sets.serve_by_demand.get((r, w)):
            continue
        for t in sets.T:
            if data.demand[(r, w, t)] > 0:
                rows.append({"check": "service floor nobody can serve", "sheet": "Demand",
                             "cell": data.cell("Demand", (r, w), Q[t]), "key": f"{r}/{w}", "quarter": Q[t],
                             "value": data.demand[(r, w, t)], "limit": 0.0,
                             "message": f"{w} in {r} must be {level[w]:.0%} served but no site serving {r} can run a "
                             f"product with throughput on {w} ({data.cell('Workloads', (w,), 'min_service_level')})"})
    capex = data.products["rack_capex_usd"].to_dict()
    for n in data.partners.index:
        minimum = float(data.partners.at[n, "min_deal_usd"])
        if minimum <= 0:
            continue
        spots = sets.funding_by_partner.get(n, [])
        if not spots:
            rows.append({"check": "partner minimum cannot be spent", "sheet": "Partners",
                         "cell": data.cell("Partners", (n,), "min_deal_usd"), "key": n, "quarter": "", "value": minimum,
                         "limit": 0.0, "message": f"partner {n} has a minimum deal but no site/quarter it may fund: "
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
            rows.append({"check": "partner minimum cannot be spent", "sheet": "Partners",
                         "cell": data.cell("Partners", (n,), "min_deal_usd"), "key": n, "quarter": "",
                         "value": minimum, "limit": cap, "message": f"partner {n}'s minimum deal ${minimum:,.0f} exceeds "
                         f"the most its sites could absorb (about ${cap:,.0f}): the deal can never be signed"})
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def _row_meaning(form: StandardForm, i: int, data: PlanData):
    con, _sense = form.rows[i]
    return describe(con.parent_component().name, con.index(), data)


def conflict_set(form: StandardForm, data: PlanData, options: SolveOptions) -> tuple[pd.DataFrame, str]:
    """IIS of the LP (relaxation). Returns (rows, which problem); empty rows when the relaxation is feasible."""
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
        rows.append({"family": meaning.title, "spec": meaning.spec, "key": meaning.key, "quarter": meaning.quarter,
                     "cell": meaning.cell, "limit": float(limit) * meaning.scale,
                     "bound": {2: "lower", 3: "upper", 4: "both"}.get(int(bound), "row"), "meaning": meaning.text})
    for j, bound in zip(iis.col_index_, iis.col_bound_):
        var = form.columns[j]
        name = var.parent_component().name
        if name == "E" and int(bound) in (3, 4):
            s = var.index()[0]
            rows.append({"family": "Expansion blocks", "spec": "10", "key": s, "quarter": data.quarters[var.index()[1]],
                         "cell": data.cell("SiteExpansion", (s,), "max_blocks"), "limit": float(var.ub), "bound": "upper",
                         "meaning": f"SiteExpansion {s} max_blocks = {var.ub:g} (blocks per quarter at most)"})
        elif int(bound) in (3, 4) and var.ub is not None:
            rows.append({"family": "variable bound", "spec": "", "key": var.name, "quarter": "", "cell": "",
                         "limit": float(var.ub), "bound": "upper", "meaning": f"{var.name} <= {var.ub:g}"})
    which = "LP relaxation (integers relaxed)" if is_mip else "LP"
    frame = pd.DataFrame(rows, columns=CONFLICT_COLUMNS).drop_duplicates()
    return frame, which


# relaxing these limits means raising the input value; the others (floors) are lowered
def _slack_weight(family: str, con, meaning, data: PlanData) -> float:
    """Cost of one model unit of change, relative to the input value behind the limit (a service floor:
    relative to its demand row). A limit of 0 counts changes relative to one unit of the input."""
    if family == "service_floor":
        r, w, t = con.index()
        return 1.0 / max(data.demand[(r, w, t)] / meaning.scale, 1e-12)
    base = abs(meaning.limit) if meaning.limit else 1.0
    return meaning.scale / base


def elastic_repair(form: StandardForm, data: PlanData, options: SolveOptions,
                   families: tuple[str, ...] = REPAIRABLE) -> pd.DataFrame | None:
    """Least relative total change of the input limits of `families` that makes the plan feasible
    (None when no such change exists). Integers stay integer.

    Each relaxed row gets a slack s >= 0: a <= row becomes a x - s <= b (the limit rises by s), a >= row
    a x + s >= b (the floor falls by s). A partner's commitment is a coefficient of A[n], so its slack is
    only allowed on a signed deal (s <= M * A[n]); otherwise unsigned partners would fund for free."""
    lp = form.lp
    slack_rows: list[int] = []
    signs: list[float] = []
    for i, (con, sense) in enumerate(form.rows):
        if con.parent_component().name not in families:
            continue
        slack_rows.append(i)
        signs.append(-1.0 if sense == 1 else 1.0)  # relax the row whichever way Pyomo oriented it
    if not slack_rows:
        return None
    h = new_highs()
    if time_left(options.time_limit_s):
        h.setOptionValue("time_limit", float(time_left(options.time_limit_s)))
    h.setOptionValue("mip_rel_gap", 1e-6)
    h.passModel(lp)
    h.changeColsCost(lp.num_col_, np.arange(lp.num_col_, dtype=np.int32), np.zeros(lp.num_col_))
    n = len(slack_rows)
    meanings = [_row_meaning(form, i, data) for i in slack_rows]
    weights = np.array([_slack_weight(form.rows[i][0].parent_component().name, form.rows[i][0], meanings[k], data)
                        for k, i in enumerate(slack_rows)])
    h.addCols(n, weights, np.zeros(n), np.full(n, INF), n, np.arange(n, dtype=np.int32),
              np.array(slack_rows, dtype=np.int32), np.array(signs, dtype=float))
    deal_column = {v.index(): j for j, v in enumerate(form.columns) if v.parent_component().name == "A"}
    for k, i in enumerate(slack_rows):
        con = form.rows[i][0]
        if con.parent_component().name == "partner_commitment" and con.index() in deal_column:
            big = 10.0 * max(float(data.partners.at[con.index(), "commitment_usd"]) / meanings[k].scale, 1.0)
            h.addRow(-INF, 0.0, 2, np.array([lp.num_col_ + k, deal_column[con.index()]], dtype=np.int32),
                     np.array([1.0, -big]))
    # an A[n] of 1e-7 is "integer" at the default tolerance and would let s <= big * A leak funding
    h.setOptionValue("mip_feasibility_tolerance", 1e-10)
    h.run()
    if h.getInfo().primal_solution_status != 2:
        return None
    x = np.asarray(h.getSolution().col_value)[lp.num_col_:lp.num_col_ + n]
    rows = []
    for k, i in enumerate(slack_rows):
        if x[k] <= 1e-9:
            continue
        meaning = meanings[k]
        con = form.rows[i][0]
        family = con.parent_component().name
        change = float(x[k]) * meaning.scale
        if family == "service_floor":
            r, w, t = con.index()
            demand = data.demand[(r, w, t)]
            level = float(data.workloads.at[w, "min_service_level"])
            new_level = max(0.0, level - change / demand)
            rows.append({"family": meaning.title, "cell": meaning.cell, "key": f"{r}/{w}", "quarter": meaning.quarter,
                         "current": level, "repaired": new_level, "change": new_level - level, "unit": "share",
                         "action": f"lower min_service_level of {w} ({meaning.cell}) from {level:.1%} to "
                         f"{new_level:.1%} for {r} in {meaning.quarter}"})
            continue
        current = meaning.limit if meaning.limit is not None else float(
            lp.row_upper_[i] if signs[k] < 0 else lp.row_lower_[i]) * meaning.scale
        new, verb = (current + change, "raise") if FAMILIES[family].repair == "raise" else (current - change, "lower")
        rows.append({"family": meaning.title, "cell": meaning.cell, "key": meaning.key, "quarter": meaning.quarter,
                     "current": current, "repaired": new, "change": new - current, "unit": meaning.unit,
                     "action": f"{verb} {meaning.cell or meaning.text} from {current:,.6g} to {new:,.6g} "
                     f"{meaning.unit} ({meaning.text})"})
    return pd.DataFrame(rows, columns=REPAIR_COLUMNS)


def repair_alternatives(form: StandardForm, data: PlanData, options: SolveOptions) -> pd.DataFrame:
    """The least change in each single family that alone restores feasibility ("or" options)."""
    present = sorted({con.parent_component().name for con, _s in form.rows} & set(REPAIRABLE))
    frames = []
    for k, family in enumerate(present, start=1):
        repair = elastic_repair(form, data, options, (family,))
        if repair is not None and len(repair):
            frames.append(repair.assign(option=k))
    if not frames:
        return pd.DataFrame(columns=["option"] + REPAIR_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    return out[["option"] + REPAIR_COLUMNS]


def diagnose(model, sets: ModelSets, data: PlanData, result: SolveResult, options: SolveOptions) -> Diagnosis:
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
        diag.conflict, diag.conflict_of = conflict_set(form, data, options)
        repairs = elastic_repair(form, data, options)
        diag.repairs = repairs if repairs is not None else pd.DataFrame(columns=REPAIR_COLUMNS)
        diag.summary.append("The plan is infeasible: the hard limits below cannot all hold at once.")
        if len(diag.conflict):
            diag.summary.append(f"Conflict set ({diag.conflict_of}): " + "; ".join(
                f"{r.meaning} [{r.cell}]" if r.cell else r.meaning for r in diag.conflict.itertuples()))
        elif diag.conflict_of:
            diag.summary.append(f"The {diag.conflict_of}: the conflict needs whole-number decisions (racks, "
                                "expansion blocks, deals signed); see the repairs.")
        diag.alternatives = repair_alternatives(form, data, options)
        if len(diag.repairs):
            diag.summary.append("Smallest change that makes the plan feasible: " + "; and ".join(
                diag.repairs["action"].tolist()[:5]))
        elif repairs is None:
            diag.summary.append("No change to the input limits alone makes the plan feasible: check the structure "
                                "(routes, qualifications, serving links, throughput).")
        for _option, group in diag.alternatives.groupby("option", sort=True):
            diag.summary.append("Or, changing only " + group["family"].iloc[0].lower() + ": " + "; and ".join(
                group["action"].tolist()[:5]) + (f" (and {len(group) - 5} more cells)" if len(group) > 5 else ""))
    if len(diag.checks):
        diag.summary.append("Pre-solve checks: " + "; ".join(diag.checks["message"].tolist()[:5]))
    return diag
