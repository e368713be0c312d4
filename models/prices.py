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
fixed-integer LP (``DUALS_FROM_INTEGERS_FIXED``).
"""

from __future__ import annotations

import highspy
import numpy as np

LUMPY_VARIABLES = ("E", "A", "K")  # expansion blocks, partner deals, packaging expansion blocks
DUALS_FROM_LUMPY_FIXED = "LP with blocks and deals fixed, racks continuous"
DUALS_FROM_INTEGERS_FIXED = "LP with integers fixed"


def lumpy_columns(form) -> np.ndarray:
    """Integer columns of the lumpy commitments (by the variable's component name)."""
    names = [form.columns[j].parent_component().local_name for j in form.integer_columns]
    return np.array([j for j, n in zip(form.integer_columns, names) if n in LUMPY_VARIABLES], dtype=int)


def lp_with_columns_fixed(form, x: np.ndarray, columns: np.ndarray, free_bounds: bool = False) -> highspy.HighsLp:
    """The LP relaxation of `form` with `columns` fixed at round(x). `free_bounds`: drop the upper bound of the
    other integer columns that are not pinned (lb < ub): those (models/variables.py::rack_bounds) are implied by
    the site-power rows for whole racks and would otherwise take the power row's price in the LP."""
    from models.solve import INF, continuous_copy

    lp = continuous_copy(form.lp)
    lower = np.array(form.lp.col_lower_, dtype=float)
    upper = np.array(form.lp.col_upper_, dtype=float)
    if free_bounds:
        others = np.setdiff1d(form.integer_columns, columns)
        others = others[lower[others] < upper[others]]
        upper[others] = INF
    values = np.round(x[columns])
    lower[columns] = values
    upper[columns] = values
    lp.col_lower_, lp.col_upper_ = lower, upper
    return lp


def solve_dual_lp(lp: highspy.HighsLp, form, options) -> dict | None:
    """Row duals of `lp` by dual simplex, or None when it is not solved to optimality."""
    from models.solve import _highs, _row_duals

    h = _highs(options, "simplex", is_mip=False)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return _row_duals(form, h.getSolution().row_dual)


def mip_duals(form, x: np.ndarray, options) -> tuple[dict, str]:
    """(duals, duals_from) of a MIP solved at `x`: the lumpy-fixed LP, else the fixed-integer LP."""
    duals = solve_dual_lp(lp_with_columns_fixed(form, x, lumpy_columns(form), free_bounds=True), form, options)
    if duals is not None:
        return duals, DUALS_FROM_LUMPY_FIXED
    duals = solve_dual_lp(lp_with_columns_fixed(form, x, form.integer_columns), form, options)
    return (duals, DUALS_FROM_INTEGERS_FIXED) if duals is not None else ({}, "")
