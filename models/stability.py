"""Re-plans that do not churn: a small stability term toward the previous plan's decisions.

Applied after build_model, as a model edit: for every rack deployment ``Y[p,s,t]``, wafer start ``W[p,f,t]``
and HBM purchase ``HB[v,t]`` of a quarter the previous plan also covers (matched by quarter label by the
caller), a deviation ``D >= x - x_prev``, ``D >= x_prev - x`` and the objective gains

    ``stability_weight * sum_j unit_cost_j * D_j``   [$k, not discounted]

with unit_cost the decision's own price (rack_capex_usd, the quarter's wafer cost, the vendor's stack price).
So the default weight 0.05 says "move a decision only if moving it saves more than 5% of what it costs": among
plans within the MIP gap of each other the solver keeps the previous one, while any real saving larger than
that still wins. Measured on the shipped example rolled one quarter and re-planned (bench/churn.py, gap 0.005
and 0.001): weight 0.01 kept the racks (0-1% moved) but moved 7.4% of the wafers and 8.5% of the HBM (the
previous plan's slack within its gap), 0.05 moved nothing at a cost 0.055% / 0.088% above the plan without
--previous (inside the gap). Earlier, at gap 0.001: weight 0.001 moved 11.8% of the racks, 0.005 5.4%.
The term is its own expression ``cost_stability``: it is not one of COST_COMPONENTS, so the
plan's objective_usd and its cost breakdown exclude it; the plan reports it separately.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyomo.environ as pyo

from models.costs import COST_COMPONENTS
from models.data import PlanData
from models.sets import USD_PER_OBJ
from models.solve import mip_duals, solve, to_standard_form

STABLE_VARIABLES = ("Y", "W", "HB")
MIN_UNIT_COST = 1e-3  # $k: a free decision still costs $1 per unit moved, so ties are broken toward the previous plan


def unit_costs(m: pyo.ConcreteModel, data: PlanData) -> dict[str, callable]:
    """Variable name -> index -> the decision's unit cost in $k."""
    capex = data.products["rack_capex_usd"].to_dict()
    stack = data.vendors["price_usd_per_stack"].to_dict()
    return {"Y": lambda idx: capex[idx[0]] / USD_PER_OBJ,
            "W": lambda idx: data.wafer_cost.get((idx[1], idx[2]), 0.0) / USD_PER_OBJ,
            "HB": lambda idx: stack[idx[0]] / USD_PER_OBJ}


def add_stability(m: pyo.ConcreteModel, data: PlanData, previous: dict[tuple[str, tuple], float],
                  weight: float) -> int:
    """Add the stability term for `previous` ((variable name, model index) -> previous value), switched off
    (``m.stability_on`` = 0) until solve_with_stability turns it on. Returns the number of decisions covered
    (0 and no change when the weight is 0 or nothing overlaps)."""
    cost_of = unit_costs(m, data)
    entries = [(name, idx, float(value)) for (name, idx), value in sorted(previous.items(), key=str)
               if name in STABLE_VARIABLES and idx in getattr(m, name) and not getattr(m, name)[idx].fixed]
    if weight <= 0 or not entries:
        return 0
    n = len(entries)
    m.stability_entries = entries
    m.stability_dev = pyo.Var(range(n), domain=pyo.NonNegativeReals, doc="|x - previous plan's x|")
    m.stability_above = pyo.Constraint(range(n), rule=lambda m, j: m.stability_dev[j] >= getattr(m, entries[j][0])[
        entries[j][1]] - entries[j][2])
    m.stability_below = pyo.Constraint(range(n), rule=lambda m, j: m.stability_dev[j] >= entries[j][2] - getattr(
        m, entries[j][0])[entries[j][1]])
    m.cost_stability = pyo.Expression(expr=weight * sum(max(cost_of[name](idx), MIN_UNIT_COST) * m.stability_dev[j]
                                                        for j, (name, idx, _v) in enumerate(entries)))
    m.stability_on = pyo.Param(initialize=0.0, mutable=True)
    m.total_cost.set_value(m.total_cost.expr + m.stability_on * m.cost_stability)
    return n


def plan_cost(m: pyo.ConcreteModel):
    """The plan's own cost ($k): the sum of the cost components, without the stability term."""
    return sum(getattr(m, "cost_" + c) for c in COST_COMPONENTS)


def _set_deviations(m: pyo.ConcreteModel) -> None:
    for j, (name, idx, value) in enumerate(m.stability_entries):
        x = getattr(m, name)[idx].value or 0.0
        m.stability_dev[j].set_value(abs(x - value), skip_validation=True)


def solve_with_stability(m: pyo.ConcreteModel, options, start: list):
    """(A) the plan's cost plus the stability term, from `start` (the previous plan); (B) the plan's own cost,
    started from plan A, to get the best bound LB and the plain plan's cost C_B. Plan A is kept when it costs at
    most C_B (1 + mip_rel_gap), i.e. within the gap of the plan made without --previous; else plan B (then the
    previous plan was not within the gap). The gap reported is plan A's to LB. Prices come from the plan-cost
    model at the plan returned (an LP's from the LP). A model without the term is solved once.

    Measured: a single lexicographic solve (min deviation s.t. cost <= LB (1 + gap)) took 120 s on the rolled
    example and moved 23% of the racks (the cost cut row stalls branch-and-cut); A then B took about 30 s, 0.8%."""
    if not hasattr(m, "stability_on"):
        return solve(m, options, start=start)
    m.stability_on.set_value(1.0)
    first = solve(m, replace(options, duals=False), start=start)
    m.stability_on.set_value(0.0)
    if not first.has_solution:
        return solve(m, options, start=start)
    kept = [(v, v.value) for v in m.component_data_objects(pyo.Var) if v.value is not None]
    cost_a = pyo.value(plan_cost(m))
    left = max(1.0, options.time_limit_s - first.solve_seconds) if options.time_limit_s else 0.0
    second = solve(m, replace(options, duals=False, time_limit_s=left), start=kept)
    if not second.has_solution:
        second = first
    bound = second.objective * (1.0 - (second.mip_gap or 0.0))
    if cost_a <= second.objective * (1.0 + options.mip_rel_gap) + 1e-9 * abs(second.objective):
        for v, x in kept:
            v.set_value(x, skip_validation=True)
    second.solve_seconds += first.solve_seconds
    second.handoff_seconds += first.handoff_seconds
    return _as_plan_result(m, second, bound, options, (second.objective, second.mip_gap or 0.0))


def _as_plan_result(m, result, bound, options, plain: tuple[float, float]):
    """`result` carrying the plan now in the model: its own cost, its gap to `bound`, prices at it. `plain`: the
    cost and gap of the best plan found without the stability term, which the words compare it with."""
    cost = pyo.value(plan_cost(m))
    gap = max(0.0, (cost - bound) / abs(cost)) if cost else 0.0
    result.objective, result.mip_gap = cost, gap
    if gap > 1e-6:
        result.status = "feasible"
        plain_cost, plain_gap = plain
        excess = (cost - plain_cost) / abs(plain_cost) if plain_cost else 0.0
        tolerance = f"{options.mip_rel_gap:.2%} (mip_rel_gap)"
        result.message = (f"MIP gap {gap:.4%} to the bound; not proven optimal" + (
            f": the previous plan's decisions were kept (stability), at {excess:.4%} above the best plan found "
            f"without them (itself {plain_gap:.4%} from the bound); a kept plan may cost up to {tolerance} more "
            "than the best found" if excess > 1e-9 else
            f" (stability: a plan within {tolerance} of the best found keeps the previous plan's decisions)"))
    if options.duals:
        form = to_standard_form(m)
        x = np.array([v.value or 0.0 for v in form.columns], dtype=float)
        result.duals, result.duals_from, result.one_more_unit = mip_duals(form, x, options, result.solve_seconds)
        result.duals_from = result.duals_from if result.is_mip else "LP"
        result.form = form
    return result
