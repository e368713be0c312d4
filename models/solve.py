"""Hand the Pyomo model to HiGHS in memory and bring back status, values and duals.

Route: Pyomo's LinearStandardFormCompiler (mixed form) -> one `highspy.Highs.passModel` call.
Measured (issue 3/7): this avoids the per-constraint hand-off of Pyomo's persistent HiGHS
interfaces, which dominates run time on large plans. No LP/MPS file is written.
Duals of a MIP come from the LP in which only the lumpy commitments (expansion blocks E, deals A, packaging
blocks K) are fixed at the MIP's values and racks / wafers are continuous (models/prices.py says why).
"""

from __future__ import annotations

import math
import os
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import highspy
import numpy as np
import pyomo.environ as pyo

from models.gc_pause import paused_gc
from models.handoff import column_arrays, compile_standard_form
from models.run_control import RUN

from models.prices import (DUALS_FROM_INTEGERS_FIXED, DUALS_FROM_LUMPY_FIXED, columns_named, continuous_copy,
                           lp_with_columns_fixed, lumpy_columns, one_more_unit)

INF = highspy.kHighsInf
PROVEN_ABS_GAP = 1e-5  # objective units ($k): a MIP within $0.01 of its bound is proven optimal
DUALS_MIN_S = 1.0  # the fixed-integer LP of a MIP stopped by its time limit still gets this long for its duals
PROGRESS_EVERY_S = 5.0  # a progress line (elapsed, best objective, bound, gap) this often during a solve


@dataclass(frozen=True)
class SolveOptions:
    time_limit_s: float = 600.0
    mip_rel_gap: float = 0.001
    threads: int = 0
    algorithm: str = "auto"  # auto | simplex | ipm
    random_seed: int = 0
    duals: bool = True
    mip_start: bool = False  # a MIP starts from the variables' current values (e.g. a known feasible plan)
    lumpy_start: bool = True  # a MIP with no start of its own starts from its lumpy-first plan (lumpy_first_start)
    # a given start competes with the lumpy-first plan, the cheaper one starts HiGHS (compare's base plan: measured
    # on the example's hbm_shortfall, 44 s to 0.50% from the base plan, 4.2 s to 0.39% from the cheaper). Off, a
    # given start goes alone: a re-plan from --previous is within its gap at once (0.5 s; with the stages 3.9 s)
    weigh_start: bool = False


@dataclass
class StandardForm:
    lp: highspy.HighsLp
    columns: list  # VarData per HiGHS column
    rows: list  # (ConstraintData, sense) per HiGHS row; sense 0 '=', 1 '<=', -1 '>='
    integer_columns: np.ndarray
    offset: float


@dataclass
class SolveResult:
    status: str  # optimal | feasible | infeasible | unbounded | error
    message: str
    objective: float | None = None  # objective units ($k, models.sets.USD_PER_OBJ)
    mip_gap: float | None = None
    is_mip: bool = False
    solver: str = ""
    highs_status: str = ""
    handoff_seconds: float = 0.0
    solve_seconds: float = 0.0
    dual_seconds: float = 0.0
    algorithm: str = ""
    algorithm_reason: str = ""
    numerics: dict = field(default_factory=dict)  # coefficient ranges of the matrix, costs and right-hand sides
    duals: dict = field(default_factory=dict)  # ConstraintData -> dual ($k per row unit; d objective / d rhs)
    duals_from: str = ""  # "LP" | models.prices.DUALS_FROM_LUMPY_FIXED | "LP with integers fixed" | ""
    # ConstraintData -> objective decrease ($k) of one more user unit of the limit, re-solved (models.prices)
    one_more_unit: dict = field(default_factory=dict)
    form: StandardForm | None = None
    basis: object = None  # HiGHS basis of an LP, to warm-start a re-plan of the same shape

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


def new_highs() -> highspy.Highs:
    """A silent Highs instance (its constructor prints a banner on the process's stdout)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


def solver_version() -> str:
    return f"HiGHS {highspy.Highs.version(new_highs())}" if hasattr(highspy.Highs, "version") else "HiGHS"


@paused_gc()
def to_standard_form(model: pyo.ConcreteModel) -> StandardForm:
    info = compile_standard_form(model)
    A = info.A.tocsc()
    n_cols = len(info.columns)
    n_rows = len(info.rows)
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.col_cost_ = np.asarray(info.c.toarray()).ravel() if n_cols else np.zeros(0)
    lp.offset_ = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    lower, upper, integer = column_arrays(info.columns, INF)
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    rhs = np.asarray(info.rhs, dtype=float)
    senses = np.array([s for (_c, s) in info.rows], dtype=int)
    lp.row_lower_ = np.where(senses == 1, -INF, rhs)
    lp.row_upper_ = np.where(senses == -1, INF, rhs)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    if integer.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integer]
    return StandardForm(lp, list(info.columns), list(info.rows), np.flatnonzero(integer), lp.offset_)


_threads_in_use: list[int] = []  # HiGHS sizes one thread pool per process, on its first solve


def reset_thread_pool() -> None:
    """Start a fresh HiGHS thread pool in this process (the next solve sizes it)."""
    reset = getattr(highspy.Highs, "resetGlobalScheduler", None)
    if reset is not None:
        reset(True)
    _threads_in_use.clear()


def _use_threads(threads: int) -> None:
    """A solve asking for another thread count than this process's pool fails with 'Not Set' unless the
    pool is reset first (seen when a scenario or sweep changes Settings.threads)."""
    if _threads_in_use and _threads_in_use[0] != threads:
        reset_thread_pool()
    _threads_in_use[:] = [threads]


def _highs(options: SolveOptions, algorithm: str, is_mip: bool) -> highspy.Highs:
    _use_threads(int(options.threads or 0))
    h = new_highs()
    h.setOptionValue("random_seed", int(options.random_seed))
    limit = time_left(options.time_limit_s)
    if limit and limit > 0:
        h.setOptionValue("time_limit", float(limit))
    if options.threads:
        h.setOptionValue("threads", int(options.threads))
    if is_mip:
        h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
    if algorithm == "ipm":
        h.setOptionValue("solver", "ipm")
        h.setOptionValue("run_crossover", "on")
    elif algorithm == "simplex":
        h.setOptionValue("solver", "simplex")
    return h


IPM_FROM_COLUMNS = 10_000


def choose_algorithm(form: StandardForm, options: SolveOptions) -> str:
    """Simplex for small LPs, interior point with crossover (exact duals) from 10k columns: measured on the
    100k-column benchmark plan M, dual simplex 136 s vs IPM + crossover 6.6 s (bench/RESULTS.md)."""
    if len(form.integer_columns):
        return options.algorithm if options.algorithm != "auto" else "simplex"
    return lp_algorithm(form.lp.num_col_, options)


def lp_algorithm(num_columns: int, options: SolveOptions) -> str:
    if options.algorithm != "auto":
        return options.algorithm
    return "ipm" if num_columns > IPM_FROM_COLUMNS else "simplex"


def solve(model: pyo.ConcreteModel, options: SolveOptions, warm: SolveResult | None = None,
          start: list | None = None, form: StandardForm | None = None) -> SolveResult:
    """Solve in memory. `warm`: the result of a previous solve of a model of the same shape (a re-plan after a
    data change); its basis warm-starts dual simplex (measured on plan M with demand +2%: 7.5 s warm vs 11.2 s
    cold interior point). `start`: (VarData, value) pairs, a (partial) plan handed to a MIP as its first incumbent
    (HiGHS completes a partial one); ignored for an LP. `form`: the model's standard form when the caller has
    assembled it (models/stochastic.py::extensive_standard_form); else it is compiled here."""
    t0 = time.perf_counter()
    try:
        form = form if form is not None else to_standard_form(model)
    except Exception as exc:  # e.g. a constant constraint that can never hold
        name = type(exc).__name__
        status = "infeasible" if "Infeasible" in name else "error"
        return SolveResult(status, f"{name}: {exc}", solver=solver_version(), handoff_seconds=time.perf_counter() - t0)
    is_mip = len(form.integer_columns) > 0
    algorithm = "branch-and-cut" if is_mip else choose_algorithm(form, options)
    can_warm = (warm is not None and warm.basis is not None and warm.form is not None and not is_mip
                and warm.form.lp.num_col_ == form.lp.num_col_ and warm.form.lp.num_row_ == form.lp.num_row_)
    if can_warm:
        algorithm = "simplex"
    h = _highs(options, algorithm, is_mip)
    passed = h.passModel(form.lp)
    if passed == highspy.HighsStatus.kError:
        numerics = coefficient_ranges(form)
        return SolveResult("error", "HiGHS refused the model (passModel returned an error): a coefficient, cost or "
                           f"bound is out of range{_largest_coefficient(numerics)} (the Run sheet lists the "
                           "coefficient ranges with their model rows and input cells)", is_mip=is_mip,
                           solver=f"HiGHS {h.version()}", highs_status="passModel error",
                           handoff_seconds=time.perf_counter() - t0, numerics=numerics, form=form)
    if can_warm:
        h.setBasis(warm.basis)
        algorithm = "simplex (warm start from the previous plan's basis)"
    given = completed_start(form, start, options) if is_mip and start else None
    if is_mip and options.mip_start and given is None:
        _set_start(h, form)
    started = bool(is_mip and options.mip_start and given is None)
    first_s, start_bound, quick_proof = 0.0, None, False
    if is_mip and not started and options.lumpy_start and (given is None or options.weigh_start):
        t_first = time.perf_counter()
        first, start_bound, start_proved = lumpy_first_start(form, options, since=t_first)
        first_s = time.perf_counter() - t_first  # solving, not hand-off: counted in solve_seconds
        limit = time_left(options.time_limit_s)
        if (first is not None or first_s > 0.5) and limit and limit > 0:  # one time limit for stages and full MIP
            h.setOptionValue("time_limit", max(float(limit) - first_s, 1e-3))
        if first is not None and (given is None or _cost(form, first) <= _cost(form, given)):
            h.setSolution(first)
            if not is_large_mip(form):  # a large MIP keeps HiGHS's restarts and LP choice: LARGE_RESTART_NOTE
                h.setOptionValue("mip_allow_restart", False)  # measured: see NO_RESTART_NOTE
            started, given, quick_proof = True, None, start_proved
            algorithm += " (started from the lumpy-first plan)"
    if given is not None:  # the caller's plan: --previous, or compare's base plan when cheaper than the lumpy-first
        h.setSolution(given)
        started = True
        algorithm += " (started from the given plan)"
    reason = _reason(form, options, is_mip, can_warm)
    t1 = time.perf_counter()
    ran = (run_proof_first(h, cap_s=max(QUICK_PROOF_MIN_S, first_s), since=t1 - first_s) if quick_proof
           else run_with_progress(h, is_mip, since=t1 - first_s))  # progress timed from the first stage on
    if started and ran != highspy.HighsStatus.kError and _misreported(h, form):
        # HiGHS 1.16 presolve with a user start: see completed_start
        h = _highs(options, algorithm, is_mip)
        h.passModel(form.lp)
        ran = run_with_progress(h, is_mip)
        algorithm += " (start dropped: HiGHS misreported its objective)"
    t2 = time.perf_counter()
    result = _read_status(h, is_mip)
    if ran == highspy.HighsStatus.kError and result.status != "error":
        result = SolveResult("error", f"HiGHS run() returned an error (model status '{result.highs_status}'); "
                             "the result is not used", is_mip=is_mip, highs_status=result.highs_status)
    if result.status == "feasible" and result.mip_gap is None:
        _gap_from_start_bound(result, start_bound)
    if RUN.stopped and result.status == "feasible":
        result.message = "interrupted (Ctrl-C): " + result.message.replace("interrupted by the user ", "stopped ")
    RUN.after_run()
    result.solver = f"HiGHS {h.version()}"
    result.handoff_seconds, result.solve_seconds, result.algorithm = t1 - t0 - first_s, t2 - t1 + first_s, algorithm
    result.algorithm_reason, result.numerics = reason, coefficient_ranges(form)
    result.form = form
    if result.has_solution:
        duals_options = options if options.duals else None
        if duals_options is not None and is_mip and options.time_limit_s:
            # a MIP's dual LPs get what is left of the time limit, at least DUALS_MIN_S
            left = max(remaining_time(options.time_limit_s, t1) or 0.0, DUALS_MIN_S)
            duals_options = replace(options, time_limit_s=left)
        load_solution(model, form, h, result, is_mip, duals_options)
    return result


def _gap_from_start_bound(result: SolveResult, bound: float | None) -> None:
    """A MIP stopped before its own bound (Ctrl-C at once after the start) still has one: stage (1) of the
    lumpy-first start is a relaxation (racks continuous), so its dual bound is valid for the whole MIP."""
    if bound is None or not math.isfinite(bound) or result.objective is None or not result.objective:
        return
    result.mip_gap = max(0.0, (result.objective - bound) / abs(result.objective))
    result.message = f"stopped with gap {result.mip_gap:.4%} (to the bound of the relaxation that started it); " \
                     "best plan found is not proven optimal"


def load_solution(model, form: StandardForm, h: highspy.Highs, result: SolveResult, is_mip: bool,
                  duals_options: SolveOptions | None) -> None:
    """The solution HiGHS holds into the Pyomo model (columns of `form`; every other variable 0), an LP's basis,
    and, unless `duals_options` is None, the duals (a MIP's from models/prices.py's LPs, solved with them)."""
    if not is_mip:
        result.basis = h.getBasis()
    x = np.asarray(h.getSolution().col_value, dtype=float)
    if is_mip:  # whole within HiGHS's integrality tolerance: 85 racks, not 84.99999999999993
        x[form.integer_columns] = np.round(x[form.integer_columns])
    for var, value in zip(form.columns, x):
        var.set_value(float(value), skip_validation=True)
    for var in model.component_data_objects(pyo.Var):
        if var.value is None:
            var.set_value(0.0, skip_validation=True)
    if duals_options is not None:
        t0 = time.perf_counter()
        if is_mip:
            result.duals, result.duals_from, result.one_more_unit = mip_duals(form, x, duals_options,
                                                                              result.solve_seconds)
        else:
            result.duals, result.duals_from = _row_duals(form, h.getSolution().row_dual), "LP"
            result.one_more_unit = one_more_unit(h, form, step_budget(result.solve_seconds))
        result.dual_seconds = time.perf_counter() - t0


def _misreported(h: highspy.Highs, form: StandardForm) -> bool:
    """HiGHS's objective for its incumbent differs from the incumbent's own cost (measured with a user start:
    'MIP start solution is feasible: objective value is 0.215 ... in the reduced space: 0.195', then 'optimal'
    at 0.195 although the optimum is 0.210)."""
    info = h.getInfo()
    if info.primal_solution_status != 2:
        return False
    x = np.asarray(h.getSolution().col_value, dtype=float)
    real = float(np.asarray(form.lp.col_cost_, dtype=float) @ x) + form.lp.offset_
    return abs(real - float(info.objective_function_value)) > 1e-7 * max(1.0, abs(real))


def _cost(form: StandardForm, solution: highspy.HighsSolution) -> float:
    return float(np.asarray(form.lp.col_cost_, dtype=float) @ np.asarray(solution.col_value, dtype=float))


def completed_start(form: StandardForm, start: list, options: SolveOptions) -> highspy.HighsSolution | None:
    """`start` ((VarData, value) pairs) completed into a full first incumbent: values on integer columns are fixed
    and the rest of the plan is solved for here (an LP, or a small MIP when some integers are not given); None
    when it does not fit. HiGHS 1.16 can misreport a user start's objective after presolve (measured: $195 in the
    reduced space for a $215 plan, then 'optimal' above the true $210); solve() checks the incumbent's own cost
    and re-solves without the start when they differ (`_misreported`)."""
    column = {id(v): j for j, v in enumerate(form.columns)}
    given = {column[id(v)]: float(x) for v, x in start if id(v) in column}
    if not given:
        return None
    lp = continuous_copy(form.lp)
    lower = np.array(form.lp.col_lower_, dtype=float)
    upper = np.array(form.lp.col_upper_, dtype=float)
    integer = set(form.integer_columns.tolist())
    for j, x in given.items():
        if j in integer:
            x = min(max(float(round(x)), lower[j]), upper[j])
            lower[j] = upper[j] = x
    lp.col_lower_, lp.col_upper_ = lower, upper
    free = [j for j in form.integer_columns if lower[j] < upper[j]]
    if free:
        kinds = [highspy.HighsVarType.kContinuous] * lp.num_col_
        for j in free:
            kinds[j] = highspy.HighsVarType.kInteger
        lp.integrality_ = kinds
    limit = min(10.0, 0.1 * options.time_limit_s) if options.time_limit_s else 10.0
    sub = _highs(SolveOptions(time_limit_s=limit, mip_rel_gap=options.mip_rel_gap, threads=options.threads),
                 "simplex", bool(free))
    sub.passModel(lp)
    sub.run()
    if sub.getInfo().primal_solution_status != 2:
        return None
    return sub.getSolution()


LUMPY_FIRST_SHARE = 0.1  # of the time limit, at most LUMPY_FIRST_MAX_S, for the first stage of lumpy_first_start
LUMPY_FIRST_MAX_S = 30.0
# NO_RESTART_NOTE: stage (1) and the full MIP from the lumpy-first plan run with mip_allow_restart off. Measured on
# the shipped example at 0.1%, seeds 0/1/2 (stages + full MIP): 12.7 / 11.7 / 11.9 s with restarts, 8.7 / 7.3 /
# 8.2 s without, same plans; stage (2) keeps them (without: 25 s instead of 4 s at seed 2).
LUMPY_FIRST_MAX_COLUMNS = 50_000  # larger MIPs: stage (1) is an LP dive (LARGE_START_NOTE)
# LARGE_START_NOTE: above LUMPY_FIRST_MAX_COLUMNS a MIP's root LP by dual simplex is slow (bench's MIP-M, 100,877
# columns: 60 s), and stage (1) as a MIP stopped at its 120 s cap 0.16% from its bound. The LP relaxation by
# interior point takes 11-13 s there; a dive on it (fix the lumpy column nearest a whole number, re-solve by warm
# dual simplex: 19 re-solves, 12 s) picks blocks and deals as good as stage (1)'s (10,892,289 $k against
# 10,892,821), and the window stage around it found a plan at 0.37% of the MIP's bound in 56 s. Stages and the
# full MIP from their plan (then with its root LP by interior point) reached 0.341% at 300 s, plain HiGHS 0.45%.
# The dive and the window share LARGE_START_SHARE of the time limit; the window gets no second, unwindowed try.
LARGE_START_SHARE = 0.35
# RACK_DIVE_NOTE: on a large MIP whose other integers are all racks, stage (2) is a second dive on the same LP
# (_rack_dive) instead of the window: quarter by quarter, earliest first, the fractional racks of the quarter
# nearest a whole number (RACK_DIVE_BATCH at a time) are fixed there, or at their floor when that LP is
# infeasible (then at their ceiling), and the LP re-solved from its basis. Earliest first because a quarter's rounding then moves chips and
# power to the quarters after it, which the LP still sees as continuous. Measured on bench's MIP-M (quiet machine
# but for one other solve; bench/RESULTS.md): ~1,600 re-solves (0.04-0.08 s each, a third infeasible), 90-107 s,
# plan 10,922,087-10,923,422 $k, against 10,940,526 from the window at 56 s and 10,933,497 the best plan the full
# MIP found from it in 300 s; fixing every fractional rack at once instead (nearest: infeasible; floor:
# 10,992,272), or one quarter at a time rounded product by product, 10,989,703: the LP has to re-fill each site's
# power after each rounding. Batches of 32 instead of 8: the same number of re-solves (a quarter seldom has more
# than 8 fractional racks at a time), 10,924,686; of 3, 10,930,401 in 121 s; of 1, 10,943,455 in 242 s.
RACK_DIVE_BATCH = 8
RACK_DIVE_SHARE = 0.45  # of the time limit, for both dives (LARGE_START_SHARE applies when the window follows)
LARGE_START_MAX_S = 300.0  # without a time limit
# LARGE_RESTART_NOTE: the full MIP of a large MIP from the dives' plan keeps HiGHS's restarts and its own LP choice
# (dual simplex). Session 30 ran it with restarts off and its root LP by interior point ("ipx", 14 s instead of
# 60 s), but then its bound never left the root cuts' (bench's MIP-M: 10,891,947 $k at 550 s, 0.29%): the restart
# that the dives' plan allows (2% of the integer columns fixed by reduced cost) is what moves HiGHS's bound.
# Measured on MIP-M (planner run, quiet machine): --time-limit 300, 0.289% either way (the bound's jump came after
# the limit); --time-limit 600, 0.22% at 301 s (bound 10,900,153) where restarts off stayed at 0.29%.
INTERRUPTED_START_S = 3.0  # after Ctrl-C in stage (1), stage (2) looks this long for a whole plan to write
INTERRUPTED_START_GAP = 0.05
# RACK_WINDOW_NOTE: stage (2) searches whole racks within RACK_WINDOW of stage (1)'s continuous racks. Measured on
# the shipped example at 0.1%, seeds 0-7 (stage (1), stage (2), the full MIP's proof): stage (2) without a window
# 1.7-3.3 s (its plan found by a sub-MIP at ~1.7 s), whole solve 4-12 s; window 1 (floor..ceil): 0.05-0.1 s but
# plans 0.1-0.25% dear; window 2: total 1.6-12 s (plans just inside 0.1%: slow proofs); window 3: 1.7-4.6 s;
# window 5: 1.8-2.9 s; window 8: up to 27 s. On the example's 14 compare scenarios (seeds 0 and 1, stage (1) at
# LUMPY_STAGE_GAP) window 4 took 1.1-4.1 s in every one, window 5 up to 45 s (new_site) and 23 s (demand_boom).
# Window 5 on bench's MIP-S seed 2: stage (2) 22 s, hence the cap of WINDOW_STAGE_FACTOR x stage (1)'s time.
# Only racks are windowed; integer wafers (Settings.integer_wafers) stay free in stage (2): the example with them,
# seeds 0-5: 1.8-14 s (mean 4.2), against 2.1-10 s (mean 5.7) with wafers in the window too.
RACK_WINDOW = 4
WINDOW_STAGE_FACTOR = 4.0
WINDOW_STAGE_MIN_S = 2.0
RACK_VARIABLES = ("Y",)  # racks deployed: the columns the window bounds
# Stage (1) is solved to LUMPY_STAGE_GAP (or the MIP's gap if tighter), not to the MIP's gap: any plan within 0.1%
# of the relaxation can carry other blocks and deals than its optimum, and the window then holds no plan within
# 0.1% (measured on the example's no_hbm_floor scenario, seed 0: stage (1) at 0.1% stopped 0.09% above the
# relaxation's optimum with other lumpy values; the window's plan was 0.14% above the MIP's, and the full MIP took
# 50 s to find a better one). At 1e-5 stage (1) takes about as long (0.1-0.4 s on the example).
LUMPY_STAGE_GAP = 1e-5
INTEGER_TOLERANCE = 1e-6  # a relaxed value this close to a whole number counts as whole


# IMPROVEMENT_HEURISTICS_NOTE: HiGHS's RINS and RENS sub-MIPs improve a plan. Stage (1) needs none (its racks are
# continuous: a plan is easy, the lumpy values are what it decides), nor does the full MIP when stage (2) proved
# its gap: that start is then within the gap of every plan with its lumpy values and racks in its window (in
# practice within the MIP's gap: RACK_WINDOW_NOTE), and what is left is the bound. Measured before the window:
# on the shipped example at 0.1%, seeds 0-7: stage (1) 0.6-1.1 s -> 0.2-0.4 s, same plan; the full MIP
# 2.0-3.7 s -> 1.2-2.8 s, same plans and gaps. Stage (2) needs them (without: 17-192 s instead of 2-4 s), and so
# does the full MIP from a start that is not within its gap (bench MIP-S seed 1: 107 s without, 29 s with),
# which is why the quick proof has a time cap and then goes on with them (run_proof_first).
NO_IMPROVEMENT_HEURISTICS = {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False}
# The quick proof also skips the root reduced-cost heuristic (a sub-MIP over the columns the root LP prices near
# 0): measured on the example, seeds 0-7, the proof from stage (2)'s plan 1.36 s -> 1.11 s mean (max 2.15 -> 1.99).
PROOF_FIRST_OPTIONS = {**NO_IMPROVEMENT_HEURISTICS, "mip_heuristic_run_root_reduced_cost": False}
QUICK_PROOF_MIN_S = 2.0  # the quick proof's cap: the time the stages took, at least this


def run_proof_first(h: highspy.Highs, cap_s: float, since: float) -> highspy.HighsStatus:
    """The full MIP from a start that stage (2) proved within its gap: first without the improvement heuristics
    (IMPROVEMENT_HEURISTICS_NOTE) for at most `cap_s` of its time limit; if that stops at the cap without
    reaching the gap, on from the best plan so far with them, for the rest of the limit. Ctrl-C stops both."""
    limit = float(h.getOptionValue("time_limit")[1])  # highspy returns (status, value)
    defaults = {name: h.getOptionValue(name)[1] for name in PROOF_FIRST_OPTIONS}
    for name, value in PROOF_FIRST_OPTIONS.items():
        h.setOptionValue(name, value)
    h.setOptionValue("time_limit", min(limit, cap_s))
    t0 = time.perf_counter()
    ran = run_with_progress(h, True, since=since)
    for name, value in defaults.items():
        h.setOptionValue(name, value)
    left = limit - (time.perf_counter() - t0)
    capped = h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit and cap_s < limit
    if not capped or RUN.stopped or left <= 0 or h.getInfo().primal_solution_status != 2:
        h.setOptionValue("time_limit", limit)
        return ran
    h.setOptionValue("time_limit", left)
    h.setSolution(h.getSolution())
    return run_with_progress(h, True, since=since)


def lumpy_first_start(form: StandardForm, options: SolveOptions,
                      since: float | None = None) -> tuple[highspy.HighsSolution | None, float | None, bool]:
    """A first incumbent for a MIP with both lumpy commitments (models/prices.py: blocks E, deals A, packaging
    blocks K) and other integers (whole racks, integer wafers), in two stages: (1) the MIP with only the lumpy
    columns integer (racks continuous), to LUMPY_STAGE_GAP, within LUMPY_FIRST_SHARE of the time limit;
    (2) the whole MIP with the lumpy columns fixed at (1)'s values and each rack column kept within RACK_WINDOW
    of (1)'s value (floor - RACK_WINDOW .. ceil + RACK_WINDOW; integer wafers stay free), for at most
    WINDOW_STAGE_FACTOR times stage (1)'s time (WINDOW_STAGE_MIN_S at least), to ``mip_rel_gap``: a
    neighbourhood search around the relaxed plan (RACK_WINDOW_NOTE). When that window holds no plan, (2) runs again without it. Bounds are changed on the
    integer model (measured on the example: the same sub-MIP with those columns made continuous instead took
    28-30 s, not 3 s). The full MIP then starts from (2)'s plan and still proves its gap on the whole model: this
    changes where its search starts, never its optimum.

    Why (issue 13, bench/RESULTS.md): on the shipped example HiGHS's bound is within ~0.1% of the optimum in a
    few seconds, but its own heuristics take 11-60+ s (by random seed) to find a plan within 0.1% of that bound.
    Returns (plan, stage (1)'s dual bound, valid for the whole MIP, whether stage (2) proved its gap: then the
    full MIP proves without the improvement heuristics first, run_proof_first); the plan is None when the MIP
    has no lumpy columns or no other integers, or a stage finds no plan. Ctrl-C in stage (1) still gets a whole
    plan: stage (2) then runs for at most INTERRUPTED_START_S to a 5% gap, and the interrupted MIP keeps it.

    Above LUMPY_FIRST_MAX_COLUMNS columns stage (1) is an LP dive instead (_lumpy_dive, LARGE_START_NOTE):
    stage (1) as a MIP solves its root LP by dual simplex, which on bench's MIP-M (100,877 columns) alone took
    49-60 s. On MIP-30K (22,394 columns) the MIP stages pay: 0.37% at 120 s with them, 0.50% without
    (bench/RESULTS.md). 50k lies between the two measured sizes; sizes in between were not measured. There,
    when every other integer is a rack, stage (2) is a dive on the same LP too (_rack_dive, RACK_DIVE_NOTE), both
    dives within RACK_DIVE_SHARE of the time limit; the window stage follows only when that dive ends without a
    whole plan (within what is left of the share)."""
    with ctrl_c_asks_to_stop():
        return _lumpy_first_stages(form, options, since)


def _lumpy_first_stages(form: StandardForm, options: SolveOptions,
                        since: float | None) -> tuple[highspy.HighsSolution | None, float | None, bool]:
    lumpy = lumpy_columns(form)
    others = np.setdiff1d(form.integer_columns, lumpy)
    if not len(lumpy) or not len(others):
        return None, None, False
    limit = time_left(options.time_limit_s)
    large = is_large_mip(form)
    if large:
        share = LARGE_START_SHARE * limit if limit else LARGE_START_MAX_S
    else:
        share = min(LUMPY_FIRST_MAX_S, LUMPY_FIRST_SHARE * limit) if limit else LUMPY_FIRST_MAX_S
    started = time.perf_counter() if since is None else since
    t_first = time.perf_counter()
    racks = columns_named(form, others, RACK_VARIABLES)
    dive_racks = large and len(racks) == len(others)  # every other integer is a rack: RACK_DIVE_NOTE
    if dive_racks:
        share = RACK_DIVE_SHARE * limit if limit else LARGE_START_MAX_S
    dive = _DiveLp(started, limit_at=time.perf_counter() + limit if limit else math.inf) if large else None
    relaxed, bound = (_lumpy_dive(form, options, lumpy, share, started, dive) if large
                      else _lumpy_stage(form, options, others, share, started))
    if relaxed is None:
        return None, bound, False
    if dive_racks and not RUN.stopped:
        whole = _rack_dive(form, lumpy, racks, dive)
        if whole is not None:
            return _whole_solution(form, whole), bound, False
    if dive_racks and RUN.stopped:
        whole = _whole_after_ctrl_c(form, lumpy, racks, dive)
        if whole is not None:
            return _whole_solution(form, whole), bound, False
    if RUN.stopped:  # Ctrl-C in stage (1), or in the dives without a plan from them: a whole plan the MIP keeps
        second = _racks_stage(form, replace(options, time_limit_s=min(share, INTERRUPTED_START_S),
                                            mip_rel_gap=INTERRUPTED_START_GAP), lumpy, relaxed, started, None)
        return (second.getSolution() if second.getInfo().primal_solution_status == 2 else None), bound, False
    first_s = time.perf_counter() - t_first
    window_s = min(share - first_s if large else share, max(WINDOW_STAGE_MIN_S, WINDOW_STAGE_FACTOR * first_s))
    if window_s <= 0:  # the dives took the whole share: the full MIP gets what is left
        return None, bound, False
    window = racks if len(racks) else None  # integer wafers stay free: see RACK_WINDOW_NOTE
    second = _racks_stage(form, replace(options, time_limit_s=window_s), lumpy, relaxed, started, window)
    if second.getInfo().primal_solution_status != 2 and not RUN.stopped and window is not None and not large:
        second = _racks_stage(form, replace(options, time_limit_s=share), lumpy, relaxed, started, None)
    if second.getInfo().primal_solution_status != 2:
        return None, bound, False
    return second.getSolution(), bound, second.getModelStatus() == highspy.HighsModelStatus.kOptimal


def is_large_mip(form: StandardForm) -> bool:
    """Above LUMPY_FIRST_MAX_COLUMNS the lumpy-first start's stage (1) is an LP dive (_lumpy_dive), not a MIP."""
    return form.lp.num_col_ > LUMPY_FIRST_MAX_COLUMNS


@dataclass
class _DiveLp:
    """The LP both dives of a large MIP's start work on (one Highs object, so the rack dive starts from the lumpy
    dive's basis), their common deadline, and the time of the last progress line they printed."""
    started: float
    h: highspy.Highs | None = None
    deadline: float = 0.0
    last: list = field(default_factory=list)
    note: str = ""  # what the progress lines of its re-solves say
    limit_at: float = math.inf  # when the whole solve's time limit ends
    objective: float = math.nan  # of the last LP solved to optimality ($k)
    optimal_x: np.ndarray | None = None  # its column values

    def resolve(self, label: str, interruptible: bool = True) -> highspy.HighsModelStatus | None:
        """Re-solve the LP from its basis within what is left of the deadline; None when no time is left or after
        Ctrl-C (also one pressed between runs: a short re-solve may end before any callback sees it), unless
        not `interruptible` (the whole plan made after Ctrl-C). An LP's time_limit counts every run() of its
        Highs object (HiGHS 1.16), so the limit is set on its running clock."""
        if interruptible and RUN.should_stop():
            RUN.stopped = True
            return None
        left = self.deadline - time.perf_counter()
        if left <= 0:
            return None
        self.h.setOptionValue("time_limit", self.h.getRunTime() + left)
        if interruptible:
            run_with_progress(self.h, False, label, since=self.started, last=self.last, note=self.note)
        else:  # no callback: after an interrupted run, HiGHS 1.16 stops the next one at its first callback
            with ctrl_c_asks_to_stop():
                self.h.run()
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            self.objective = float(self.h.getInfo().objective_function_value)
            self.optimal_x = self.values()
        return None if RUN.stopped and interruptible else status

    def values(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_value, dtype=float)

    def fix(self, columns: np.ndarray, values: np.ndarray) -> None:
        self.h.changeColsBounds(len(columns), columns.astype(np.int32), values.astype(float), values.astype(float))


def _lumpy_dive(form: StandardForm, options: SolveOptions, lumpy: np.ndarray, share: float,
                started: float, dive: _DiveLp) -> tuple[np.ndarray | None, float | None]:
    """Stage (1) of lumpy_first_start on a large MIP (LARGE_START_NOTE): the LP relaxation (every integer
    continuous) by interior point with crossover, then a dive: the lumpy column nearest a whole number is fixed
    there (or, if that LP is infeasible, at the whole number on its other side) and the LP re-solved by dual
    simplex from its basis, until every lumpy column is whole. Returns (the last LP's column values, lumpy columns
    whole, racks continuous; None when the dive ends without one) and the relaxation's objective, a valid bound.
    After Ctrl-C the last LP's values are returned as they are, for _whole_after_ctrl_c or the interrupted stage
    (2) to round; Ctrl-C in the first LP (interior point: no values until it ends) leaves no start, as in a MIP
    stage (1) without a plan."""
    dive.deadline = time.perf_counter() + share
    h = dive.h = _highs(replace(options, time_limit_s=share), "ipm", False)
    h.setOptionValue("solver", "ipx")
    h.passModel(form.lp)
    integers = form.integer_columns.astype(np.int32)
    h.changeColsIntegrality(len(integers), integers, np.array([highspy.HighsVarType.kContinuous] * len(integers)))
    dive.last = [started]  # one progress line every PROGRESS_EVERY_S over the LP and all its re-solves
    run_with_progress(h, False, "start 1/2", since=started, last=dive.last)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None, None
    bound = dive.objective = float(h.getInfo().objective_function_value)
    dive.optimal_x = dive.values()
    h.setOptionValue("solver", "simplex")
    while True:
        x = dive.optimal_x
        off = np.abs(x[lumpy] - np.round(x[lumpy]))
        if RUN.stopped or not (off > INTEGER_TOLERANCE).any():  # Ctrl-C: stage (2) rounds what is left
            return x, bound
        j = int(lumpy[np.argmax(np.where(off > INTEGER_TOLERANCE, -off, -np.inf))])  # nearest a whole number
        nearest = float(np.round(x[j]))
        for value in (nearest, nearest + (1.0 if x[j] > nearest else -1.0)):
            h.changeColBounds(j, value, value)
            status = dive.resolve("start 1/2")
            if RUN.stopped:
                return x, bound
            if status == highspy.HighsModelStatus.kOptimal:
                break
            if status != highspy.HighsModelStatus.kInfeasible:  # a time limit, say: not a side that fails
                return None, bound
        else:
            return None, bound


def _rack_dive(form: StandardForm, lumpy: np.ndarray, racks: np.ndarray, dive: _DiveLp) -> np.ndarray | None:
    """Stage (2) of lumpy_first_start on a large MIP whose other integers are all racks (RACK_DIVE_NOTE), on the
    lumpy dive's LP: the lumpy columns fixed at their whole values, then quarter by quarter, earliest first, the
    (at most RACK_DIVE_BATCH) fractional rack columns of the quarter nearest a whole number are fixed there
    (_fix_batch: else at their floors, else their ceilings) and the LP re-solved from its basis, until the
    quarter's racks are whole and fixed. When the deadline comes first, the racks left go to the floors of their
    running totals (_floor_the_rest). Returns the whole plan's column values; None after Ctrl-C, or when no LP
    is left."""
    x = dive.optimal_x
    dive.fix(lumpy, np.round(x[lumpy]))
    by_quarter: dict = {}
    for j in racks:
        by_quarter.setdefault(_quarter_of(form.columns[j]), []).append(j)
    for done, quarter in enumerate(sorted(by_quarter)):
        columns = np.array(by_quarter[quarter], dtype=int)
        while True:
            x = dive.optimal_x
            dive.note = (f"racks whole in {done} of {len(by_quarter)} quarters, LP "
                         f"{_fmt(dive.objective)} ($k)")
            off = np.abs(x[columns] - np.round(x[columns]))
            fractional = columns[off > INTEGER_TOLERANCE]
            if not len(fractional):
                break
            if time.perf_counter() >= dive.deadline:
                return _floor_the_rest(form, racks, dive)
            batch = fractional[np.argsort(off[off > INTEGER_TOLERANCE], kind="stable")[:RACK_DIVE_BATCH]]
            status = _fix_batch(dive, batch, x[batch])
            if RUN.stopped:
                return None
            if status == highspy.HighsModelStatus.kInfeasible:  # nearest, floor and ceiling all infeasible
                return None
            if status != highspy.HighsModelStatus.kOptimal:  # the deadline came, or HiGHS stopped for another reason
                return _floor_the_rest(form, racks, dive)
        dive.fix(columns, np.round(x[columns]))
    return dive.optimal_x


def _fix_batch(dive: _DiveLp, batch: np.ndarray, values: np.ndarray) -> highspy.HighsModelStatus | None:
    """Fix the batch at the nearest whole numbers, or if that LP is infeasible at their floors, or then at their
    ceilings (a service floor may need the racks a floor takes away); the last re-solve's status."""
    tried = []
    for whole in (np.round(values), np.floor(values + INTEGER_TOLERANCE), np.ceil(values - INTEGER_TOLERANCE)):
        if any(np.array_equal(whole, before) for before in tried):
            continue
        tried.append(whole)
        dive.fix(batch, whole)
        status = dive.resolve("start 2/2")
        if status != highspy.HighsModelStatus.kInfeasible:
            return status
    return highspy.HighsModelStatus.kInfeasible


RACK_DIVE_FINISH_S = 10.0  # the rack dive's last re-solves (the racks left at a floor) may run past its share


def _whole_after_ctrl_c(form: StandardForm, lumpy: np.ndarray, racks: np.ndarray, dive: _DiveLp) -> np.ndarray | None:
    """Ctrl-C in a large MIP's dives: a whole plan from the last LP solved to optimality in a few re-solves that
    ignore the press, the lumpy columns at their nearest whole numbers (at their ceilings if that is infeasible),
    the racks as in _floor_the_rest. The interrupted window stage's few seconds found no plan on bench's MIP-M
    (its root LP alone takes longer), so `planner run` wrote none. None when there is no such LP or both fail."""
    x = dive.optimal_x
    if x is None:
        return None
    for whole in (np.round(x[lumpy]), np.ceil(x[lumpy] - INTEGER_TOLERANCE)):
        dive.fix(lumpy, whole)
        plan = _floor_the_rest(form, racks, dive, interruptible=False)
        if plan is not None:
            return plan
    return None


def _floor_the_rest(form: StandardForm, racks: np.ndarray, dive: _DiveLp,
                    interruptible: bool = True) -> np.ndarray | None:
    """The rack dive out of time, in one re-solve: each rack column of a (product, site) deploys what brings the
    racks deployed there so far to the floor of their running total in the last LP solved to optimality (LP 0.6
    a quarter: 0, 1, 1, 2, ...; whole columns stay as they are). Racks installed then never exceed the LP's, so
    power and chips fit; the floor of each column alone loses a rack of every pair in every quarter (measured on
    MIP-M at a 60 s limit, the dive one quarter in: 11,298,178 $k, 3.7% above the relaxation; each column at its
    floor 11,527,116, 5.8%). When that LP is infeasible (a budget of one quarter, say, or racks that retire inside
    the plan: their installed racks can then exceed the LP's), each column at its floor. Both re-solves share
    RACK_DIVE_FINISH_S past the share, never past the time limit."""
    x = dive.optimal_x
    running = {}
    whole = np.empty(len(racks))
    for k in sorted(range(len(racks)), key=lambda k: _quarter_of(form.columns[racks[k]])):
        pair = _pair_of(form.columns[racks[k]])
        lp_total, deployed = running.get(pair, (0.0, 0.0))
        lp_total += x[racks[k]]
        whole[k] = max(np.floor(lp_total + INTEGER_TOLERANCE) - deployed, 0.0)
        running[pair] = (lp_total, deployed + whole[k])
    dive.deadline = min(max(dive.deadline, time.perf_counter() + RACK_DIVE_FINISH_S), dive.limit_at)
    for values in (whole, np.floor(x[racks] + INTEGER_TOLERANCE)):
        dive.fix(racks, values)
        status = dive.resolve("start 2/2", interruptible)
        if status == highspy.HighsModelStatus.kOptimal:
            return dive.optimal_x
        if status != highspy.HighsModelStatus.kInfeasible:
            return None
    return None


def _pair_of(variable) -> tuple:
    """A rack column's component and index without its quarter (Y[p, s, t] -> (Y, p, s)): a hedged plan's
    extensive form has one Y per scenario."""
    index = variable.index()
    return (id(variable.parent_component()),) + (tuple(index[:-1]) if isinstance(index, tuple) else ())


def _quarter_of(variable) -> int:
    """The quarter of a rack column: the last entry of its index (Y[p, s, t])."""
    index = variable.index()
    last = index[-1] if isinstance(index, tuple) else index
    return last if isinstance(last, int) else 0


def _whole_solution(form: StandardForm, x: np.ndarray) -> highspy.HighsSolution:
    """A dive's LP values as a MIP start, its integer columns exactly whole."""
    values = x.copy()
    values[form.integer_columns] = np.round(values[form.integer_columns])
    start = highspy.HighsSolution()
    start.col_value = values.tolist()
    start.value_valid = True
    return start


def _lumpy_stage(form: StandardForm, options: SolveOptions, others: np.ndarray, share: float,
                 started: float) -> tuple[np.ndarray | None, float]:
    """Stage (1) of lumpy_first_start: the MIP with `others` continuous. Returns (its plan's column values or
    None, its dual bound: a valid bound for the whole MIP, which it relaxes)."""
    first = _highs(replace(options, time_limit_s=share, mip_rel_gap=min(options.mip_rel_gap, LUMPY_STAGE_GAP)),
                   "branch-and-cut", True)
    first.passModel(form.lp)
    first.changeColsIntegrality(len(others), others.astype(np.int32),
                                np.array([highspy.HighsVarType.kContinuous] * len(others)))
    first.setOptionValue("mip_allow_restart", False)  # NO_RESTART_NOTE
    for name, value in NO_IMPROVEMENT_HEURISTICS.items():
        first.setOptionValue(name, value)
    run_with_progress(first, True, "start 1/2", since=started)
    bound = float(first.getInfo().mip_dual_bound)
    if first.getInfo().primal_solution_status != 2:
        return None, bound
    return np.asarray(first.getSolution().col_value, dtype=float), bound


def _racks_stage(form: StandardForm, options: SolveOptions, lumpy: np.ndarray, relaxed: np.ndarray,
                 started: float, window: np.ndarray | None) -> highspy.Highs:
    """Stage (2) of lumpy_first_start: the whole MIP with the `lumpy` columns fixed at stage (1)'s values and,
    when `window` (integer columns) is given, each of those within RACK_WINDOW of its value in `relaxed`."""
    second = _highs(options, "branch-and-cut", True)
    second.passModel(form.lp)
    values = np.round(relaxed[lumpy])
    second.changeColsBounds(len(lumpy), lumpy.astype(np.int32), values, values)
    if window is not None:
        lower = np.asarray(form.lp.col_lower_, dtype=float)[window]
        upper = np.asarray(form.lp.col_upper_, dtype=float)[window]
        near = relaxed[window]
        lower = np.maximum(lower, np.floor(near + INTEGER_TOLERANCE) - RACK_WINDOW)
        upper = np.minimum(upper, np.ceil(near - INTEGER_TOLERANCE) + RACK_WINDOW)
        second.changeColsBounds(len(window), window.astype(np.int32), lower, np.maximum(lower, upper))
    run_with_progress(second, True, "start 2/2", since=started, interruptible=not RUN.stopped)
    return second


def _set_start(h: highspy.Highs, form: StandardForm) -> None:
    """Hand HiGHS the model's current variable values as a MIP start (HiGHS checks it; a bad one is ignored)."""
    start = highspy.HighsSolution()
    start.col_value = [0.0 if v.value is None else float(v.value) for v in form.columns]
    start.value_valid = True
    h.setSolution(start)


def _reason(form: StandardForm, options: SolveOptions, is_mip: bool, warm: bool) -> str:
    n = form.lp.num_col_
    if is_mip:
        return (f"MIP with {len(form.integer_columns):,} integer of {n:,} columns: HiGHS branch-and-cut to "
                f"mip_rel_gap {options.mip_rel_gap:g}; duals from the LP with blocks and deals fixed, racks "
                "continuous")
    if warm:
        return "LP of the same shape as the previous solve: dual simplex from its basis"
    if options.algorithm != "auto":
        return f"LP, algorithm {options.algorithm} asked for"
    if n > IPM_FROM_COLUMNS:
        return f"LP with {n:,} columns (>= 10k): interior point with crossover (measured faster; exact duals)"
    return f"LP with {n:,} columns (< 10k): dual simplex"


def _largest_coefficient(numerics: dict) -> str:
    """', e.g. 1e+15 in row serving_capacity[...]': the matrix's largest coefficient and its row, or ''."""
    value, con, _var = numerics.get("matrix_max", (None, None, None))
    return f", e.g. the coefficient {value:g} in row {con.name}" if value is not None and con is not None else ""


def coefficient_ranges(form: StandardForm) -> dict:
    """Smallest and largest absolute non-zero matrix coefficient, cost and right-hand side, with the row or
    column where each occurs (so a badly scaled input can be traced to its cell)."""
    lp = form.lp
    out: dict = {}
    values = np.abs(np.asarray(lp.a_matrix_.value_, dtype=float))
    if values.size:
        starts = np.asarray(lp.a_matrix_.start_)
        rows = np.asarray(lp.a_matrix_.index_)
        cols = np.repeat(np.arange(lp.num_col_), np.diff(starts))
        nz = values > 0
        for label, pick in (("matrix_min", np.argmin), ("matrix_max", np.argmax)):
            k = int(np.flatnonzero(nz)[pick(values[nz])])
            out[label] = (float(values[k]), form.rows[int(rows[k])][0], form.columns[int(cols[k])])
    costs = np.abs(np.asarray(lp.col_cost_, dtype=float))
    if (costs > 0).any():
        idx = np.flatnonzero(costs > 0)
        out["cost_min"] = (float(costs[idx].min()), None, form.columns[int(idx[np.argmin(costs[idx])])])
        out["cost_max"] = (float(costs[idx].max()), None, form.columns[int(idx[np.argmax(costs[idx])])])
    rhs = np.concatenate([np.where(np.isfinite(lp.row_lower_) & (np.abs(lp.row_lower_) < INF), lp.row_lower_, 0),
                          np.where(np.isfinite(lp.row_upper_) & (np.abs(lp.row_upper_) < INF), lp.row_upper_, 0)])
    rhs = np.abs(rhs)
    if (rhs > 0).any():
        idx = np.flatnonzero(rhs > 0)
        k_min, k_max = int(idx[np.argmin(rhs[idx])]), int(idx[np.argmax(rhs[idx])])
        out["rhs_min"] = (float(rhs[k_min]), form.rows[k_min % lp.num_row_][0], None)
        out["rhs_max"] = (float(rhs[k_max]), form.rows[k_max % lp.num_row_][0], None)
    return out


def _row_duals(form: StandardForm, row_dual) -> dict:
    duals: dict = {}
    for (con, _sense), y in zip(form.rows, row_dual):
        duals[con] = duals.get(con, 0.0) + float(y)
    return duals


def step_budget(solve_seconds: float) -> float:
    """Seconds the one-more-unit re-solves may take: 0.25 s plus 1% of the solve, at most 5 s. Measured: the
    example's PROBED_ROWS take ~0.05 s; bench's M (an 8.4 s LP) used 0.69 s of 0.5 s + 2%, 0.29 s of this budget;
    bench's L (a 641 s LP) reaches the 5 s cap (0.8% of its solve)."""
    return min(5.0, 0.25 + 0.01 * max(0.0, solve_seconds))


def mip_duals(form: StandardForm, x: np.ndarray, options: SolveOptions,
              solve_seconds: float = 0.0) -> tuple[dict, str, dict]:
    """(duals, duals_from, one more unit) of a MIP solved at `x`: the LP with blocks and deals fixed and racks
    continuous, else the LP with every integer fixed (models/prices.py says why), else none. Each LP by the
    algorithm an LP of its size gets (measured on bench's MIP-M, 100k columns: dual simplex had not solved the first
    LP in 30 s, so its prices came from the fixed-integer LP; interior point + crossover solves it in ~10 s).
    The one-more-unit steps are measured on the LP with blocks and deals fixed only (with racks fixed too, no
    step could use the unit)."""
    for lp, source in ((lp_with_columns_fixed(form, x, lumpy_columns(form), free_bounds=True), DUALS_FROM_LUMPY_FIXED),
                       (lp_with_columns_fixed(form, x, form.integer_columns), DUALS_FROM_INTEGERS_FIXED)):
        h = _highs(options, lp_algorithm(lp.num_col_, options), is_mip=False)
        if h.passModel(lp) == highspy.HighsStatus.kError or h.run() == highspy.HighsStatus.kError:
            continue
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            duals = _row_duals(form, h.getSolution().row_dual)
            steps = one_more_unit(h, form, step_budget(solve_seconds)) if source == DUALS_FROM_LUMPY_FIXED else {}
            return duals, source, steps
    return {}, "", {}


def _early_stops() -> dict:
    """HiGHS statuses that stop a solve before it proves optimality (a plan found is kept), in words."""
    S = highspy.HighsModelStatus
    reasons = {S.kTimeLimit: "stopped at the time limit", S.kInterrupt: "interrupted by the user",
               S.kIterationLimit: "stopped at the iteration limit", S.kSolutionLimit: "stopped at the solution limit"}
    for name, words in (("kObjectiveBound", "stopped at the objective bound"),
                        ("kObjectiveTarget", "stopped at the objective target")):
        if hasattr(S, name):
            reasons[getattr(S, name)] = words
    return reasons


def _read_status(h: highspy.Highs, is_mip: bool) -> SolveResult:
    status = h.getModelStatus()
    info = h.getInfo()
    text = h.modelStatusToString(status)
    S = highspy.HighsModelStatus
    has_primal = info.primal_solution_status == 2  # kSolutionStatusFeasible
    objective = float(info.objective_function_value) if has_primal else None
    if objective is not None and not math.isfinite(objective):
        return SolveResult("error", f"HiGHS reported an objective of {objective} ('{text}'): the model's numbers "
                           "overflow; check the input ranges", is_mip=is_mip, highs_status=text)
    gap = float(info.mip_gap) if is_mip and has_primal and math.isfinite(info.mip_gap) else (0.0 if not is_mip else None)
    if status == S.kOptimal:
        bound = getattr(info, "mip_dual_bound", None)
        abs_gap = abs(objective - bound) if (is_mip and objective is not None and bound is not None
                                             and math.isfinite(bound)) else None
        if is_mip and gap is not None and gap > 1e-6 and not (abs_gap is not None and abs_gap <= PROVEN_ABS_GAP):
            return SolveResult("feasible", f"MIP gap {gap:.4%} reached (mip_rel_gap); not proven optimal",
                               objective, gap, is_mip, highs_status=text)
        return SolveResult("optimal", "optimal", objective, gap, is_mip, highs_status=text)
    if status == S.kModelEmpty:  # nothing to decide (a blank template): the empty plan is optimal at cost 0
        return SolveResult("optimal", "optimal (the model has no decisions: nothing to plan)", 0.0,
                           0.0 if not is_mip else None, is_mip, highs_status=text)
    if status == S.kInfeasible:
        return SolveResult("infeasible", "the hard limits cannot all hold", is_mip=is_mip, highs_status=text)
    if status in (S.kUnbounded, S.kUnboundedOrInfeasible):
        kind = "unbounded" if status == S.kUnbounded else "infeasible"
        msg = "the cost can fall without limit" if kind == "unbounded" else "infeasible or unbounded (HiGHS could " \
              "not tell which)"
        return SolveResult(kind, msg, is_mip=is_mip, highs_status=text)
    early = _early_stops()
    if has_primal and status in early:
        gap_text = f" with gap {gap:.4%}" if gap is not None else ""
        return SolveResult("feasible", f"{early[status]}{gap_text}; best plan found is not proven optimal",
                           objective, gap, is_mip, highs_status=text)
    return SolveResult("error", f"no plan: HiGHS stopped with '{text}'"
                       + (" before finding any feasible plan" if not has_primal else ""), is_mip=is_mip,
                       highs_status=text)


# ---- one time budget, interruption and progress ---------------------------------------------------------

_deadline: list[float] = []  # perf_counter() deadline of the running time budget (planner.pipeline)


def remaining_time(limit: float | None, started: float) -> float | None:
    """What is left of `limit` seconds since perf_counter() `started` (at least 1 ms; None: no limit)."""
    if not limit or limit <= 0:
        return None
    return max(float(limit) - (time.perf_counter() - started), 1e-3)


class time_budget:
    """`with time_budget(seconds):` every solve inside (the plan, its duals, the diagnosis re-solves) shares
    one budget: each gets only what remains of it."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds

    def __enter__(self):
        if self.seconds and self.seconds > 0 and math.isfinite(self.seconds):
            _deadline.append(time.perf_counter() + float(self.seconds))
            self.pushed = True
        else:
            self.pushed = False
        return self

    def __exit__(self, *exc):
        if self.pushed:
            _deadline.pop()
        return False


def time_left(limit: float | None) -> float | None:
    """The time limit for the next solve: `limit`, or less if the running budget has less left (at least 1 ms,
    never 0 or negative)."""
    if not _deadline:
        return limit
    left = max(_deadline[-1] - time.perf_counter(), 1e-3)
    return left if not limit or limit <= 0 else min(float(limit), left)


def run_with_progress(h: highspy.Highs, is_mip: bool, label: str = "solve", since: float | None = None,
                      interruptible: bool = True, last: list[float] | None = None, note: str = ""):
    """h.run() with interrupt callbacks (stop on request) and a progress line every PROGRESS_EVERY_S seconds,
    elapsed from `since` (default: now; a stage of the MIP start and the MIP after it share one clock). A run
    that is not `interruptible` ignores Ctrl-C (it is short: the quick whole plan after an interrupted start).
    `last`: [time of the last progress line], shared by runs that follow each other (a dive's re-solves), so
    they print one line every PROGRESS_EVERY_S between them, not one each. `note`: an LP's line says that instead
    of the run's own objective and iterations (a dive's re-solve: how far the dive is)."""
    import logging

    log = logging.getLogger("planner")
    say = RUN.progress or (lambda text: log.info("%s", text))
    t0 = time.perf_counter() if since is None else since
    last = [t0] if last is None else last
    label = f"{label:<9}"

    def on_interrupt(event):
        if interruptible and RUN.should_stop():
            RUN.stopped = True
            event.interrupt()
        now = time.perf_counter()
        if now - last[0] < PROGRESS_EVERY_S:
            return
        last[0] = now
        out = event.data_out
        if is_mip:
            best, bound = out.mip_primal_bound, out.mip_dual_bound
            gap = out.mip_gap
            say(f"{label} {now - t0:7.1f} s  best {_fmt(best)}  bound {_fmt(bound)} ($k)  "
                f"gap {gap:.2%}" if math.isfinite(gap) and abs(best) < INF else
                f"{label} {now - t0:7.1f} s  best {_fmt(best)}  bound {_fmt(bound)} ($k)  gap -")
        elif note:
            say(f"{label} {now - t0:7.1f} s  {note}")
        elif ipx.latest:  # the interior point's own iteration line: its iteration and residuals
            say(f"{label} {now - t0:7.1f} s  {ipx.latest}")
        elif out.simplex_iteration_count >= 0:
            say(f"{label} {now - t0:7.1f} s  objective {_fmt(out.objective_function_value)} ($k)  "
                f"simplex iterations {out.simplex_iteration_count:,}")
        else:  # presolve, or the interior point before its first iteration (its inner loops report no count)
            say(f"{label} {now - t0:7.1f} s  working (no iteration yet)")

    ipx = _IpxIterations(h) if not is_mip and not note else None
    subscribed = [(hook, on_interrupt) for hook in _subscribe(h, ("cbMipInterrupt", "cbSimplexInterrupt",
                                                                  "cbIpmInterrupt"), on_interrupt)]
    if ipx is not None:
        subscribed += [(hook, ipx.on_log) for hook in _subscribe(h, ("cbLogging",), ipx.on_log)]
    else:
        ipx = _IpxIterations(None)
    if interruptible:
        RUN.stopped = False
    try:
        with ctrl_c_asks_to_stop():
            return h.run()
    finally:
        for hook, fn in subscribed:
            _unsubscribe([hook], fn)
        ipx.close()


class _IpxIterations:
    """The interior point's latest iteration, read from its log lines through HiGHS's logging callback (its
    interrupt callbacks carry no iteration count from its inner loops, and no residuals at all): the log is turned
    on for the run, to the callback only (never the console), and put back after. Its objectives are those of the
    presolved problem, so the line gives the iteration and the primal and dual residuals, not an objective."""

    LINE = re.compile(r"^\s*(\d+)\*?\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$")

    def __init__(self, h: highspy.Highs | None):
        self.h, self.latest, self.saved = h, "", None
        if h is not None:
            self.saved = (h.getOptionValue("output_flag")[1], h.getOptionValue("log_to_console")[1])
            h.setOptionValue("log_to_console", False)
            h.setOptionValue("output_flag", True)

    def on_log(self, event) -> None:
        try:
            message = event.message or ""
        except AttributeError:  # a callback event of another kind: no log line
            return
        if message.startswith("Running crossover"):  # a basis from the interior point's solution: can be long
            self.latest = f"crossover, after {self.latest}" if self.latest else "crossover"
            return
        m = self.LINE.match(message)
        if m is None:
            return
        try:
            pinf, dinf = float(m.group(4)), float(m.group(5))
        except ValueError:
            return
        self.latest = f"interior point iteration {int(m.group(1))}, residuals primal {pinf:.1e} dual {dinf:.1e}"

    def close(self) -> None:
        if self.h is not None and self.saved is not None:
            self.h.setOptionValue("output_flag", self.saved[0])
            self.h.setOptionValue("log_to_console", self.saved[1])


def _subscribe(h: highspy.Highs, names: tuple[str, ...], fn) -> list:
    hooks = []
    for name in names:
        hook = getattr(h, name, None)
        if hook is not None:
            try:
                hook.subscribe(fn)
                hooks.append(hook)
            except Exception:  # an older highspy without the callback: solve without progress
                pass
    return hooks


@contextmanager
def ctrl_c_asks_to_stop():
    """Within it, Ctrl-C asks the solver to stop (planner/signals.py counts the press; the next interrupt callback
    or RUN.should_stop() check acts on it) instead of raising KeyboardInterrupt wherever Python is. Nested: a
    dive of ~1,600 re-solves keeps it between its runs, where its Python work is (MIP-M: about a tenth of it)."""
    was = RUN.running
    RUN.running = True
    try:
        yield
    finally:
        RUN.running = was


def _unsubscribe(subscribed: list, on_interrupt) -> None:
    for hook in subscribed:
        try:
            hook.unsubscribe(on_interrupt)
        except Exception:
            pass


def _fmt(x: float) -> str:
    if x is None or not math.isfinite(x) or abs(x) >= INF:
        return "-"
    return f"{x:,.2f}"
