"""Re-solve models of one shape in one HiGHS instance: a sweep draw updates costs, bounds and right-hand sides in
place instead of handing a new model to HiGHS (issue 18).

A `ResolveSession` holds the HiGHS model of a base plan. For each new model of the same family (the same input
with other numbers), `solve` compiles its standard form and compares it with the model HiGHS holds:

- same shape, sparsity pattern, row senses and integrality: only the costs, column bounds and row bounds that
  differ are changed (`changeColsCost`, `changeColsBounds`, `changeRowsBounds`), and the matrix values that
  differ (a rack capex or yield factor scales some coefficients) one by one (`changeCoeff`) while they are at most
  MAX_COEFFICIENT_CHANGES of the non-zeros; an LP is started from the base plan's basis (`setBasis`), exactly
  the start `solve(model, warm=base)` gives, whichever draw ran before in this process;
- otherwise (a row or column appears or disappears, or most coefficients change): the ordinary
  `models.solve.solve` of the new model, warm-started from the base when it is an LP of the same shape. The
  session keeps its held model for the next draw.

A MIP is solved in a fresh HiGHS instance from the updated arrays (one `passModel` of numpy arrays, no Pyomo):
HiGHS's branch-and-cut remembers cuts and incumbents between runs of one instance, so in place it could stop at
another plan within the gap than a fresh solve of the same draw.
"""

from __future__ import annotations

import time

import numpy as np

from models import solve as msolve
from models.solve import SolveOptions, SolveResult, StandardForm, to_standard_form


class ResolveSession:
    def __init__(self, base: SolveResult, options: SolveOptions):
        self.base = base
        self.form = base.form  # the arrays HiGHS holds (updated in place draw by draw)
        self.is_mip = len(base.form.integer_columns) > 0
        self.options = options
        self.highs = None
        self.in_place = 0  # draws solved by updating the held model
        self.rebuilt = 0  # draws that fell back to a full hand-off

    def solve(self, model, options: SolveOptions, warm: SolveResult | None = None, start=()) -> SolveResult:
        """`models.solve.solve(model, options, warm=base)`, updating the held model when only vectors differ.
        A draw is started from the base plan's basis, never from a `start` (a sweep hands none)."""
        t0 = time.perf_counter()
        try:
            form = to_standard_form(model)
        except Exception:
            form = None
        changed = self._changed_coefficients(form, options)
        if changed is None:
            self.rebuilt += 1
            return msolve.solve(model, options, warm=self.base if self.base.basis is not None else warm)
        self.in_place += 1
        h, algorithm = self._update(form, changed)
        _restart_time_limit(h, options)
        t1 = time.perf_counter()
        h.run()
        t2 = time.perf_counter()
        result = msolve._read_status(h, self.is_mip)
        result.solver = f"HiGHS {h.version()}"
        result.handoff_seconds, result.solve_seconds, result.algorithm = t1 - t0, t2 - t1, algorithm
        result.algorithm_reason = msolve._reason(form, options, self.is_mip, "warm start" in algorithm)
        result.numerics, result.form = msolve.coefficient_ranges(form), form
        if result.has_solution:
            msolve.load_solution(model, form, h, result, self.is_mip, options if options.duals else None)
        return result

    def _changed_coefficients(self, form: StandardForm | None, options: SolveOptions) -> np.ndarray | None:
        """Positions of the matrix values `form` changes against the held model; None: hand it over in full."""
        if form is None or options != self.options or not same_pattern(form, self.form):
            return None
        changed = changed_coefficients(self.form, form)
        if changed.size > MAX_COEFFICIENT_CHANGES * max(1, len(form.lp.a_matrix_.value_)):
            return None
        return changed

    def _update(self, form: StandardForm, changed: np.ndarray):
        """The HiGHS instance holding `form`'s arrays, ready to run, and the algorithm's description."""
        if self.is_mip:
            h = msolve._highs(self.options, "branch-and-cut", True)
            h.passModel(form.lp)
            self.form = form
            return h, "branch-and-cut"
        algorithm = msolve.choose_algorithm(form, self.options)
        if self.highs is None:
            self.highs = msolve._highs(self.options, algorithm, False)
            self.highs.passModel(self.form.lp)
        msolve._use_threads(int(self.options.threads or 0))
        apply_vector_changes(self.highs, self.form.lp, form.lp)
        apply_coefficient_changes(self.highs, form, changed)
        self.form = form
        if algorithm == "ipm":
            # measured on bench's M (100k columns, factors +-15%): dual simplex from the base basis took 23-547 s
            # a draw, a cold interior point 13.6-23 s; the draw is too far from the base for the basis to help
            self.highs.clearSolver()
            return self.highs, "interior point + crossover (model updated in place)"
        self.highs.setBasis(self.base.basis)
        return self.highs, "simplex (warm start from the base plan's basis, model updated in place)"


MAX_COEFFICIENT_CHANGES = 0.05  # share of the matrix's non-zeros changed one by one; more: a full hand-off


def _restart_time_limit(h, options: SolveOptions) -> None:
    """HiGHS counts `time_limit` on its run clock, which keeps running across the runs of one instance
    (measured: the third draw of M stopped at 600 s in all); each draw gets the whole limit."""
    if options.time_limit_s and options.time_limit_s > 0:
        h.setOptionValue("time_limit", float(h.getRunTime()) + float(options.time_limit_s))


def same_pattern(a: StandardForm, b: StandardForm) -> bool:
    """Same shape, sparsity pattern, row senses and integer columns (coefficients may differ)."""
    la, lb = a.lp, b.lp
    if la.num_col_ != lb.num_col_ or la.num_row_ != lb.num_row_:
        return False
    ma, mb = la.a_matrix_, lb.a_matrix_
    return (np.array_equal(ma.start_, mb.start_) and np.array_equal(ma.index_, mb.index_)
            and np.array_equal(a.integer_columns, b.integer_columns)
            and [s for _c, s in a.rows] == [s for _c, s in b.rows])


def changed_coefficients(a: StandardForm, b: StandardForm) -> np.ndarray:
    """Positions (in the column-wise arrays) of the non-zeros whose values differ between two same-pattern forms."""
    return np.flatnonzero(np.asarray(a.lp.a_matrix_.value_) != np.asarray(b.lp.a_matrix_.value_))


def apply_coefficient_changes(h, form: StandardForm, positions: np.ndarray) -> None:
    """`changeCoeff` for each changed non-zero (row, column, new value) of `form`."""
    matrix = form.lp.a_matrix_
    cols = np.searchsorted(np.asarray(matrix.start_), positions, side="right") - 1
    rows, values = np.asarray(matrix.index_)[positions], np.asarray(matrix.value_)[positions]
    for i, j, v in zip(rows.tolist(), cols.tolist(), values.tolist()):
        h.changeCoeff(i, j, v)


def apply_vector_changes(h, held, new) -> None:
    """Change in `h` (holding the arrays of `held`) the costs, bounds and offset that differ in `new`."""
    cost_old, cost_new = np.asarray(held.col_cost_), np.asarray(new.col_cost_)
    idx = np.flatnonzero(cost_old != cost_new).astype(np.int32)
    if idx.size:
        h.changeColsCost(idx.size, idx, cost_new[idx])
    for kind, change in (("col", h.changeColsBounds), ("row", h.changeRowsBounds)):
        lo_old, up_old = np.asarray(getattr(held, f"{kind}_lower_")), np.asarray(getattr(held, f"{kind}_upper_"))
        lo_new, up_new = np.asarray(getattr(new, f"{kind}_lower_")), np.asarray(getattr(new, f"{kind}_upper_"))
        idx = np.flatnonzero((lo_old != lo_new) | (up_old != up_new)).astype(np.int32)
        if idx.size:
            change(idx.size, idx, lo_new[idx], up_new[idx])
    if float(held.offset_) != float(new.offset_):
        h.changeObjectiveOffset(float(new.offset_))
