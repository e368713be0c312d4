"""Shadow prices that explain a MIP plan.

The textbook MIP dual (the LP with every integer fixed at its optimum) prices a site's power at 0 whenever
the racks are whole: with the racks fixed, one more MW cannot be used, so it is worth nothing, although one
more MW (and the rack it lets in) lowers the cost. Measured on the shipped example: all 18 near-full
site_power rows (99.6-99.99% used) had price 0 and the top-5 bottlenecks were all the budget.

So a MIP's prices come from the LP in which only the lumpy commitments are fixed at the MIP's values:
expansion blocks ``E``, partner deals ``A`` and packaging blocks ``K`` (the decisions that come in big
indivisible steps and are signed once), while racks and wafers are continuous. That LP is the plan's
"marginal economics given what is committed": a price is what one more unit of the limit saves when the
rack count may move by a fraction, i.e. the value per MW of the racks a MW lets in. It is feasible whenever
the MIP is (the MIP's plan satisfies it), and its optimum is a lower bound of the MIP with those commitments.

Summary's ``duals_from`` names the source: ``DUALS_FROM_LUMPY_FIXED`` or, should that LP fail, the
fixed-integer LP (``DUALS_FROM_INTEGERS_FIXED``). The LPs are solved by models/solve.py::mip_duals; this
module only builds them (it imports no solver driver).
"""

from __future__ import annotations

import time

import highspy
import numpy as np

from models.registry import FAMILIES

LUMPY_VARIABLES = ("E", "A", "K")  # expansion blocks, partner deals, packaging expansion blocks
DUALS_FROM_LUMPY_FIXED = "LP with blocks and deals fixed, racks continuous"
DUALS_FROM_INTEGERS_FIXED = "LP with integers fixed"


def columns_named(form, columns, variables: tuple[str, ...]) -> np.ndarray:
    """The `columns` (HiGHS column indices) whose variable's component name is in `variables`."""
    return np.array([j for j in columns if form.columns[j].parent_component().local_name in variables], dtype=int)


def lumpy_columns(form) -> np.ndarray:
    """Integer columns of the lumpy commitments (by the variable's component name)."""
    return columns_named(form, form.integer_columns, LUMPY_VARIABLES)


def lp_with_columns_fixed(form, x: np.ndarray, columns: np.ndarray, free_bounds: bool = False) -> highspy.HighsLp:
    """The LP relaxation of `form` with `columns` fixed at round(x). `free_bounds`: drop the upper bound of the
    other integer columns that are not pinned (lb < ub): those (models/variables.py::rack_bounds) are implied by
    the site-power rows for whole racks and would otherwise take the power row's price in the LP."""
    lp = continuous_copy(form.lp)
    lower = np.array(form.lp.col_lower_, dtype=float)
    upper = np.array(form.lp.col_upper_, dtype=float)
    if free_bounds:
        others = np.setdiff1d(form.integer_columns, columns)
        others = others[lower[others] < upper[others]]
        upper[others] = highspy.kHighsInf
    values = np.round(x[columns])
    lower[columns] = values
    upper[columns] = values
    lp.col_lower_, lp.col_upper_ = lower, upper
    return lp


def continuous_copy(lp: highspy.HighsLp) -> highspy.HighsLp:
    """The same LP without integrality (the LP relaxation; with integer bounds fixed, the fixed-integer LP)."""
    copy = highspy.HighsLp()
    for attr in ("num_col_", "num_row_", "col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_",
                 "offset_", "a_matrix_"):
        setattr(copy, attr, getattr(lp, attr))
    return copy


PROBED_ROWS = 12  # the most valuable limits whose step is measured (the Summary names five)
JOINT_GROUPS = 5  # the most valuable limits (family and key) whose step in every priced quarter is measured


class Steps(dict):
    """{ConstraintData: objective decrease} of one more unit of each probed row, and in `joint`
    {(family, key parts): (objective decrease, quarters)} of one more unit in every quarter a limit is priced in at
    once (a site's power in all its full quarters: racks deployed in one stay into the next, so one quarter alone
    can save nothing while all of them save much)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.joint: dict[tuple, tuple[float, tuple[int, ...]]] = {}


def _limit_of(con) -> tuple[tuple, int | None]:
    """(family, key parts) and the quarter index of a limit's row: a family's rows of one key over the quarters
    are one limit (its trailing integer index is the quarter)."""
    idx = con.index()
    parts = tuple(idx) if isinstance(idx, tuple) else (idx,)
    if parts and isinstance(parts[-1], int):
        return (con.parent_component().local_name, parts[:-1]), parts[-1]
    return (con.parent_component().local_name, parts), None


def one_more_unit(h: highspy.Highs, form, budget_s: float) -> dict:
    """{ConstraintData: objective decrease} of relaxing each of the most valuable input limits by one unit of the
    user's (formulation.md's families with an input cell: one more MW, wafer, stack, USD; one tok/s less of a
    floor), measured by re-solving the solved LP `h` from its basis with that row's active bound moved out by the
    step, then put back. Why: a shadow price is the slope at the plan, and at a degenerate optimum it holds for
    no step at all (the shipped example: Kamloops' 2028Q4 power is priced $10.2M per MW, HiGHS's ranging says the
    price holds for 0 MW upward, and one more MW saves $2.2M). Rows are taken by |dual x bound| (the value
    Bottlenecks ranks by) until PROBED_ROWS are measured or `budget_s` seconds pass."""
    start = time.perf_counter()
    steps = Steps()
    if not h.getBasis().valid:  # no basis (interior point without crossover): each re-solve would start from nothing
        return steps
    lp = h.getLp()
    dual = np.asarray(h.getSolution().row_dual, dtype=float)
    base = h.getInfo().objective_function_value
    lower, upper = np.asarray(lp.row_lower_, dtype=float), np.asarray(lp.row_upper_, dtype=float)
    candidates = []
    for i, (con, sense) in enumerate(form.rows):
        family = FAMILIES.get(con.parent_component().local_name)
        if family is None or not family.repair or sense == 0 or abs(dual[i]) < 1e-12:
            continue
        bound = upper[i] if sense == 1 else lower[i]
        candidates.append((-abs(dual[i] * bound), i, sense, 1.0 / family.scale, con))
    candidates.sort(key=lambda c: c[:2])
    h.setOptionValue("solver", "simplex")  # from the basis: a few dual simplex iterations per step
    # a presolve per step would redo the whole LP's (bench's L, 1M columns: the 5 s budget went to one re-solve)
    h.setOptionValue("presolve", "off")
    deadline = start + budget_s
    for _value, i, sense, step, con in candidates[:PROBED_ROWS]:
        saving = _relaxed_saving(h, [(i, sense, step)], lower, upper, base, deadline)
        if saving is None and time.perf_counter() >= deadline:
            break
        if saving is not None:
            steps[con] = saving
    groups: dict[tuple, list] = {}
    for value, i, sense, step, con in candidates:
        limit, t = _limit_of(con)
        groups.setdefault(limit, []).append((value, i, sense, step, t))
    ranked = sorted(groups.items(), key=lambda g: sum(r[0] for r in g[1]))  # values are negated: dearest first
    for limit, rows in [g for g in ranked if len(g[1]) > 1][:JOINT_GROUPS]:
        saving = _relaxed_saving(h, [(i, sense, step) for _v, i, sense, step, _t in rows], lower, upper, base, deadline)
        if saving is None and time.perf_counter() >= deadline:
            break
        if saving is not None:
            steps.joint[limit] = (saving, tuple(sorted(t for *_r, t in rows if t is not None)))
    return steps


def _relaxed_saving(h: highspy.Highs, rows: list[tuple[int, int, float]], lower: np.ndarray, upper: np.ndarray,
                    base: float, deadline: float) -> float | None:
    """The objective decrease of re-solving `h` with each row's active bound moved out by its step (then put
    back); None when the time is up or the re-solve did not reach an optimum."""
    left = deadline - time.perf_counter()
    if left <= 0:
        return None
    h.setOptionValue("time_limit", float(left))  # one long re-solve (a large LP) stops at the budget too
    for i, sense, step in rows:
        if sense == 1:
            h.changeRowBounds(i, lower[i], upper[i] + step)
        else:
            h.changeRowBounds(i, lower[i] - step, upper[i])
    h.run()
    saving = max(0.0, base - h.getInfo().objective_function_value) \
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal else None
    for i, _sense, _step in rows:
        h.changeRowBounds(i, lower[i], upper[i])
    return saving
