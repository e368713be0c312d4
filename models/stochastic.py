"""The extensive form of a two-stage hedged plan (``../shared/spec/stochastic.md``): a model edit that joins
one planning model per scenario.

Each scenario's model (``models.build.build_model`` on that scenario's data) becomes a sub-block of one
ConcreteModel; its own objective is deactivated and its cost ``cost_s`` (the sum of its ``cost_<component>``
expressions, $k: models.sets.USD_PER_OBJ) enters

    minimise (1 - risk_weight) * sum_s p_s cost_s + risk_weight * CVaR_alpha
    CVaR_alpha = eta + 1 / (1 - alpha) * sum_s p_s excess_s,   excess_s >= cost_s - eta,  excess_s >= 0

(Rockafellar-Uryasev; ``eta``, the value at risk, is one first-stage variable). Nonanticipativity: every
here-and-now variable (``FIRST_STAGE_BY_QUARTER`` in quarters t < commit_quarters, and every
``FIRST_STAGE_ALWAYS``) takes one value in every scenario:

    x_s[k] == x_ref[k]   for each scenario s other than the first that has variable k

The lists of first-stage variable names are data: a family adding a here-and-now variable adds one name.
Nothing here reads the workbook; models/ imports nothing of planner/.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.environ as pyo

from models.build import build_model
from models.data import PlanData
from models.handoff import column_arrays, import_scipy_sparse
from models.solve import INF, StandardForm

# here-and-now in quarters t < commit_quarters; the quarter is each variable's last index
FIRST_STAGE_BY_QUARTER = ("W", "WP", "HB", "HP", "H", "B", "Y", "E", "K", "O", "F")
FIRST_STAGE_ALWAYS = ("A",)  # partner deals: signed before the scenarios unfold


def build_scenario_model(data: PlanData) -> tuple[pyo.ConcreteModel, object]:
    """build_model of one scenario of a hedged plan. A deal without a minimum (min_deal_usd 0) stays signable
    where it can fund nothing: a plan alone leaves such a deal unsigned (A <= 0, it would only cost), but in a
    hedged plan the deal is one decision shared with the scenarios where it funds, so this scenario must not
    forbid it."""
    model, sets = build_model(data)
    minimum = data.partners["min_deal_usd"].to_dict() if len(data.partners) else {}
    for n, signed in model.A.items():
        if signed.ub == 0 and not minimum.get(n):
            signed.setub(1)
    return model, sets


@dataclass
class ScenarioModel:
    name: str
    probability: float
    model: pyo.ConcreteModel


def first_stage(block: pyo.Block, commit_quarters: int) -> dict[tuple, object]:
    """The here-and-now variables of one scenario's model: (variable name, index) -> VarData."""
    out: dict[tuple, object] = {}
    for name in FIRST_STAGE_BY_QUARTER:
        comp = block.component(name)
        if comp is None:
            continue
        for idx in comp:
            t = idx[-1] if isinstance(idx, tuple) else idx
            if t < commit_quarters:
                out[(name, idx)] = comp[idx]
    for name in FIRST_STAGE_ALWAYS:
        comp = block.component(name)
        if comp is not None:
            out.update(((name, idx), comp[idx]) for idx in comp)
    return out


def first_stage_values(block: pyo.Block, commit_quarters: int) -> dict[tuple, float]:
    return {k: (0.0 if v.value is None else float(v.value)) for k, v in first_stage(block, commit_quarters).items()}


def fix_first_stage(block: pyo.Block, values: dict[tuple, float], commit_quarters: int) -> list:
    """Fix this model's here-and-now variables to `values` (integers rounded); returns the variables fixed.
    A variable with no value in `values` stays free."""
    fixed = []
    for key, var in first_stage(block, commit_quarters).items():
        if key not in values or var.fixed:
            continue
        x = values[key]
        if var.is_integer() or var.is_binary():
            x = float(round(x))
        lb, ub = var.lb, var.ub
        x = max(x, lb) if lb is not None else x
        x = min(x, ub) if ub is not None else x
        var.fix(x)
        fixed.append(var)
    return fixed


def unfix(variables: list) -> None:
    for var in variables:
        var.unfix()


def scenario_cost(model: pyo.ConcreteModel):
    """cost_s: the scenario's own objective expression ($k)."""
    return model.total_cost.expr


def absent_commitments(models: list[pyo.Block], commit_quarters: int) -> set[tuple]:
    """Here-and-now keys some scenarios have and others not (a route, a qualification, a site one scenario adds):
    a decision one scenario cannot take is 0 in that scenario, so, one value for all, it is 0 in every one."""
    return keys_some_lack([set(first_stage(m, commit_quarters)) for m in models])


def keys_some_lack(keys: list[set]) -> set:
    """The keys some of the sets hold and others not."""
    return set().union(*keys) - set.intersection(*keys) if keys else set()


def _nonanticipative(ef, k):
    ref, var = ef._nonant_pairs[k]
    return var == 0 if ref is None else var - ref == 0


def _excess(ef, i):
    return ef.excess[i] >= ef.cost[i] - ef.eta


CVAR_TIE_BREAK = 1e-4  # the weight of expected cost kept at risk_weight 1
ZERO_PROBABILITY_WEIGHT = 1e-6  # the expected-cost weight of a scenario of probability 0


def objective_weights(probabilities: list[float]) -> list[float]:
    """Each scenario's weight in the expected cost: its probability, or ZERO_PROBABILITY_WEIGHT for one of
    probability 0. Such a scenario is in the set (stochastic.md: exactly the ScenarioWeights rows), so its
    constraints bind every commitment; the trace of weight lets its recourse be its cheapest, not any feasible one
    (its reported cost would otherwise be arbitrary). The reported expected cost uses the probabilities."""
    return [p if p > 0 else ZERO_PROBABILITY_WEIGHT for p in probabilities]


def build_extensive_form(scenarios: list[ScenarioModel], commit_quarters: int, risk_weight: float = 0.0,
                         risk_alpha: float = 0.9) -> pyo.ConcreteModel:
    """One model holding every scenario's model as block ``scenario[i]``, tied by nonanticipativity.

    risk_weight 1 is solved as 1 - CVAR_TIE_BREAK: CVaR alone leaves every scenario outside the tail free to cost
    anything (a session saw base pinned at the tail's cost, 81% served, 'optimal'); a trace of expected cost picks,
    among the plans of least CVaR, the cheapest on average."""
    risk_weight = min(risk_weight, 1.0 - CVAR_TIE_BREAK)
    ef = pyo.ConcreteModel(name="extensive form")
    n = len(scenarios)
    ef.SCENARIOS = pyo.Set(initialize=range(n), ordered=True)
    ef._scenario_names = [s.name for s in scenarios]
    ef._probabilities = [float(s.probability) for s in scenarios]
    ef._risk_alpha = risk_alpha
    ef._risk_weight = risk_weight
    refs: dict[tuple, object] = {}
    pairs = []  # (reference, variable): variable = reference; (None, variable): variable = 0
    absent = absent_commitments([s.model for s in scenarios], commit_quarters)
    for i, s in enumerate(scenarios):
        s.model.total_cost.deactivate()
        ef.add_component(f"scenario_{i}", s.model)
        for key, var in first_stage(s.model, commit_quarters).items():
            if key in absent:
                pairs.append((None, var))
                continue
            ref = refs.setdefault(key, var)
            if ref is not var:
                pairs.append((ref, var))
    ef._nonant_pairs = pairs
    ef._absent_first_stage = sorted(absent, key=str)
    ef._first_stage = refs
    ef.nonanticipativity = pyo.Constraint(range(len(pairs)), rule=_nonanticipative)
    ef.cost = pyo.Expression(ef.SCENARIOS, initialize={i: scenario_cost(s.model) for i, s in enumerate(scenarios)})
    p, w = ef._probabilities, objective_weights(ef._probabilities)
    ef.expected_cost = pyo.Expression(expr=sum(w[i] * ef.cost[i] for i in ef.SCENARIOS))
    objective = ef.expected_cost
    if risk_weight > 0:
        ef.eta = pyo.Var(domain=pyo.Reals, doc="value at risk of the cost ($k), first stage")
        ef.excess = pyo.Var(ef.SCENARIOS, domain=pyo.NonNegativeReals, doc="cost above eta, $k")
        ef.excess_def = pyo.Constraint(ef.SCENARIOS, rule=_excess)
        ef.cvar = pyo.Expression(expr=ef.eta + sum(p[i] * ef.excess[i] for i in ef.SCENARIOS) / (1.0 - risk_alpha))
        objective = (1.0 - risk_weight) * ef.expected_cost + risk_weight * ef.cvar
    ef.objective = pyo.Objective(expr=objective, sense=pyo.minimize)
    return ef


def seed_risk_variables(ef: pyo.ConcreteModel) -> None:
    """Give eta and excess the values that go with the scenarios' current values (a complete MIP start)."""
    if ef.component("eta") is None:
        return
    costs = [float(pyo.value(ef.cost[i], exception=False) or 0.0) for i in ef.SCENARIOS]
    order = sorted(range(len(costs)), key=costs.__getitem__)
    alpha = float(ef._risk_alpha)
    mass, eta = 0.0, costs[order[-1]]
    for i in order:  # eta = VaR_alpha: the smallest cost whose cumulative probability reaches alpha
        mass += ef._probabilities[i]
        if mass >= alpha - 1e-12:
            eta = costs[i]
            break
    ef.eta.set_value(eta)
    for i in ef.SCENARIOS:
        ef.excess[i].set_value(max(0.0, costs[i] - eta))


def scenario_block(ef: pyo.ConcreteModel, i: int) -> pyo.Block:
    return ef.component(f"scenario_{i}")


def cvar(costs: list[float], probabilities: list[float], alpha: float) -> float:
    """CVaR_alpha = min over eta of eta + 1/(1-alpha) sum_s p_s max(0, c_s - eta); the minimum of this convex
    piecewise-linear function of eta lies at one of the costs."""
    def at(eta: float) -> float:
        return eta + sum(p * max(0.0, c - eta) for c, p in zip(costs, probabilities)) / (1.0 - alpha)

    return min(at(c) for c in costs)


def risk_objective(costs: list[float], probabilities: list[float], risk_weight: float, alpha: float) -> float:
    """(1 - risk_weight) * E[cost] + risk_weight * CVaR_alpha(cost): the hedged objective of given scenario costs
    (with the first stage fixed, each scenario's recourse minimises its own cost: the objective rises with each)."""
    expected = sum(p * c for c, p in zip(costs, probabilities))
    if risk_weight <= 0:
        return expected
    return (1.0 - risk_weight) * expected + risk_weight * cvar(costs, probabilities, alpha)


# ---- the extensive form's standard form, assembled from the scenarios' own -----------------------------

class _Assembly:
    """Triplets, bounds and costs of the extensive form's standard form, block by block. Columns: the scenarios'
    in order, then any variable no scenario row uses (a here-and-now variable still appears in
    nonanticipativity), eta and excess; rows: the scenarios' in order, then nonanticipativity, then CVaR."""

    def __init__(self, forms: list[StandardForm]):
        self.vars = [v for form in forms for v in form.columns]
        self.index = {id(v): j for j, v in enumerate(self.vars)}
        self.extra_vars: list = []
        self.rows: list = []
        self.n_scenario_rows = sum(form.lp.num_row_ for form in forms)
        self.r: list = []  # extra rows' triplets (row, column, value) and bounds
        self.c: list = []
        self.v: list = []
        self.lo: list = []
        self.hi: list = []

    def column(self, var) -> int | None:
        """The column of `var`; None when it is fixed and used by no scenario row (a constant)."""
        j = self.index.get(id(var))
        if j is None and not var.fixed:
            j = self.index[id(var)] = len(self.vars)
            self.vars.append(var)
            self.extra_vars.append(var)
        return j

    def add_row(self, con, sense: int, terms, lower: float, upper: float) -> None:
        """One extra row: sum coef * column over `terms` ((column, coef)) within [lower, upper]."""
        r = self.n_scenario_rows + len(self.lo)
        for j, coef in terms:
            self.r.append(r), self.c.append(j), self.v.append(coef)
        self.lo.append(lower), self.hi.append(upper)
        self.rows.append((con, sense))


def _nonanticipativity_rows(ef: pyo.ConcreteModel, out: _Assembly) -> None:
    """``x_s[k] - x_ref[k] = 0`` (``x_s[k] = 0`` for a decision absent from another scenario); a fixed variable
    no row uses moves to the right-hand side."""
    for k, (ref, var) in enumerate(ef._nonant_pairs):
        rhs, terms = 0.0, []
        for v, sign in ((var, 1.0), (ref, -1.0)) if ref is not None else ((var, 1.0),):
            j = out.column(v)
            if j is None:
                rhs -= sign * float(v.value)
            else:
                terms.append((j, sign))
        out.add_row(ef.nonanticipativity[k], 0, terms, rhs, rhs)


def _cvar_rows(ef: pyo.ConcreteModel, forms: list[StandardForm], out: _Assembly) -> None:
    """``c_s x_s - excess_s - eta <= -offset_s`` (excess_s >= cost_s - eta with cost_s = c_s x_s + offset_s, the
    row as Pyomo writes it)."""
    eta = out.column(ef.eta)
    start = 0
    for i, form in enumerate(forms):
        cost = np.asarray(form.lp.col_cost_, dtype=float)
        nz = np.flatnonzero(cost)
        terms = list(zip((start + nz).tolist(), cost[nz].tolist())) + [(out.column(ef.excess[i]), -1.0), (eta, -1.0)]
        out.add_row(ef.excess_def[i], 1, terms, -INF, -float(form.offset))
        start += form.lp.num_col_


def _objective(ef: pyo.ConcreteModel, forms: list[StandardForm], out: _Assembly) -> tuple[np.ndarray, float]:
    """Costs ``(1 - risk_weight) p_s c_s`` on scenario s's columns, ``risk_weight`` on eta and
    ``risk_weight p_s / (1 - alpha)`` on excess_s; the offset ``(1 - risk_weight) sum_s p_s offset_s``."""
    risk = ef.component("eta") is not None
    rw = float(ef._risk_weight) if risk else 0.0
    p = ef._probabilities
    cost = np.zeros(len(out.vars))
    cost[:sum(f.lp.num_col_ for f in forms)] = np.concatenate(
        [(1.0 - rw) * p[i] * np.asarray(f.lp.col_cost_, dtype=float) for i, f in enumerate(forms)])
    if risk:
        cost[out.column(ef.eta)] = rw
        for i in ef.SCENARIOS:
            cost[out.column(ef.excess[i])] = rw * p[i] / (1.0 - float(ef._risk_alpha))
    return cost, (1.0 - rw) * sum(p[i] * f.offset for i, f in enumerate(forms))


def _block_triplets(forms: list[StandardForm]) -> tuple[list, list, list]:
    """(columns, rows, values) of the scenarios' matrices placed on the diagonal."""
    cols, rows, vals = [], [], []
    col_off = row_off = 0
    for form in forms:
        a = form.lp.a_matrix_
        start = np.asarray(a.start_, dtype=np.int64)
        cols.append(np.repeat(np.arange(form.lp.num_col_, dtype=np.int64), np.diff(start)) + col_off)
        rows.append(np.asarray(a.index_, dtype=np.int64) + row_off)
        vals.append(np.asarray(a.value_, dtype=float))
        col_off += form.lp.num_col_
        row_off += form.lp.num_row_
    return cols, rows, vals


def extensive_standard_form(ef: pyo.ConcreteModel, forms: list[StandardForm]) -> StandardForm:
    """The standard form of `ef` (build_extensive_form) from its scenarios' compiled forms (form i of block i,
    compiled while its own objective was active): the same rows, columns and objective as compiling `ef`, in
    another order, without compiling every scenario a second time (issue 18: at 200 scenarios that compile
    was most of the hand-off). tests/whatif/test_hedged.py checks it coefficient by coefficient."""
    sparse = import_scipy_sparse()
    out = _Assembly(forms)
    out.rows = [row for form in forms for row in form.rows]
    _nonanticipativity_rows(ef, out)
    if ef.component("eta") is not None:
        _cvar_rows(ef, forms, out)
    cost, offset = _objective(ef, forms, out)
    cols, rows, vals = _block_triplets(forms)
    n_rows, n_cols = out.n_scenario_rows + len(out.lo), len(out.vars)
    matrix = sparse.csc_array((np.concatenate(vals + [np.asarray(out.v, dtype=float)]),
                               (np.concatenate(rows + [np.asarray(out.r, dtype=np.int64)]),
                                np.concatenate(cols + [np.asarray(out.c, dtype=np.int64)]))), shape=(n_rows, n_cols))
    matrix.sum_duplicates()
    matrix.sort_indices()
    extra_lower, extra_upper, extra_integer = column_arrays(out.extra_vars, INF)
    integer = [np.isin(np.arange(f.lp.num_col_), f.integer_columns) for f in forms] + [extra_integer]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_, lp.offset_ = cost, offset
    lp.col_lower_ = np.concatenate([np.asarray(f.lp.col_lower_, dtype=float) for f in forms] + [extra_lower])
    lp.col_upper_ = np.concatenate([np.asarray(f.lp.col_upper_, dtype=float) for f in forms] + [extra_upper])
    lp.row_lower_ = np.concatenate([np.asarray(f.lp.row_lower_, dtype=float) for f in forms] + [np.asarray(out.lo)])
    lp.row_upper_ = np.concatenate([np.asarray(f.lp.row_upper_, dtype=float) for f in forms] + [np.asarray(out.hi)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(float)
    is_integer = np.concatenate(integer)
    if is_integer.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
                           for b in is_integer]
    return StandardForm(lp, out.vars, out.rows, np.flatnonzero(is_integer), offset)
