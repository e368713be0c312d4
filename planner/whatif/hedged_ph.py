"""--engine ph: the hedged plan by progressive hedging on mpi-sppy, on one process or many under MPI.

    mpiexec -n K planner run INPUT.xlsx --stochastic --engine ph -o PLAN.xlsx

Every rank reads and validates the workbook and its scenarios (cheap next to the solves); mpi-sppy spreads the
scenarios over the ranks. Each scenario is ``models.build.build_model`` on its data with
``sputils.attach_root_node`` on the here-and-now variables of ``models.stochastic.first_stage``.

- HiGHS (``appsi_highs``) gets no quadratic: ``linearize_proximal_terms``.
- rho from the cost coefficients: rho_i = max(|c_i|, a tenth of the mean |c| of the costed first-stage
  variables), c_i the variable's coefficient in the scenario's cost ($k per unit); racks and blocks carry their
  cost through the capex rows (c = 0), so they get the floor.
- Bounds: the lower bound is mpi-sppy's post-solve Lagrangian bound with PH's final weights (valid when every
  subproblem is solved to optimality; with integer recourse it is only as good as the MIP gaps). The upper bound
  is the cost of a real plan: candidate commitments (PH's consensus xbar, integers rounded; then the first
  scenarios' own first stage, as mpi-sppy's xhat-shuffle does) fixed in every scenario, each scenario's recourse
  solved alone (spread over the ranks); the best feasible candidate is the plan written. gap = (UB - LB) / |UB|.
- risk_weight > 0 is refused: CVaR couples the scenarios through eta and is not decomposed here; use ef.
Only rank 0 writes the workbook and prints.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import pyomo.environ as pyo

from models.build import build_model
from models.sets import USD_PER_OBJ, build_sets
from models.solve import SolveOptions, SolveResult, solve
from models.stochastic import build_scenario_model, first_stage, fix_first_stage, objective_weights, unfix

from planner.issues import Issues
from planner.exitcodes import EXIT_OK
from planner.pipeline import PlanOutcome, Timer
from models.money import money
from planner.whatif.hedged import (HedgedPlan, _invalid, _meta, alone_options, expected_value_plan, prepare_all,
                                    summarize, TOLERANCE_MARK)
from planner.output.contract import Col

log = logging.getLogger("planner")
PH_PROVEN_GAP = 1e-6  # PH bounds this close (relative) prove the plan optimal


class PHUnavailable(RuntimeError):
    pass


class _ProgressToStderr(io.TextIOBase):
    """mpi-sppy's progress lines, moved to stderr beside the planner's own (stdout holds the result alone), less
    its caution that Lagrangian bounds may be wrong with integer recourse: the planner's lower bound for MIP
    scenarios is the wait-and-see bound instead (`wait_and_see_bound`), so the caution does not apply to it."""

    def __init__(self, target):
        self.target, self.pending = target, ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            if not line.startswith("Warning: Lagrangian bounds might not be correct"):
                self.target.write(line + "\n")
        return len(text)


class _AbortedWithSolution(logging.Filter):
    """Pyomo warns 'Loading a SolverResults object with an 'aborted' status, but containing a solution' whenever
    a PH subproblem stops at its time limit with a plan: that plan is used as it is (its gap is kept), and the
    warning reads like a failure a planner cannot act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "with an 'aborted' status, but containing a solution" not in record.getMessage()


logging.getLogger("pyomo.core").addFilter(_AbortedWithSolution())


def _silent_unless_progress():
    """mpi-sppy prints its progress on stdout; -q (the planner logger above INFO) means no progress lines."""
    quiet = not log.isEnabledFor(logging.INFO)
    return contextlib.redirect_stdout(io.StringIO() if quiet else _ProgressToStderr(sys.stderr))


def comm_world():
    try:
        from mpi4py import MPI
        with _silent_unless_progress():  # mpi-sppy announces itself on import
            import mpisppy.opt.ph  # noqa: F401
    except ImportError as exc:
        raise PHUnavailable(f"--engine ph needs mpi-sppy and mpi4py ({exc}); install them with "
                            "pip install -e '.[stochastic]'") from exc
    return MPI.COMM_WORLD


def cost_coefficients(model, commit: int) -> dict[tuple, float]:
    """Linear cost coefficient ($k per unit) of each here-and-now variable in the scenario's own cost."""
    from pyomo.repn import generate_standard_repn

    repn = generate_standard_repn(model.total_cost.expr, compute_values=True, quadratic=False)
    coef = {id(v): float(c) for v, c in zip(repn.linear_vars, repn.linear_coefs)}
    return {k: coef.get(id(v), 0.0) for k, v in first_stage(model, commit).items()}


RHO_FACTOR = float(os.environ.get("PLANNER_PH_RHO_FACTOR", "0.1"))


def rho_values(costs: dict[tuple, float]) -> dict[tuple, float]:
    nonzero = [abs(c) for c in costs.values() if abs(c) > 1e-12]
    floor = 0.1 * (sum(nonzero) / len(nonzero)) if nonzero else 1.0
    return {k: RHO_FACTOR * max(abs(c), floor) for k, c in costs.items()}


def implied_bounds(model, data) -> None:
    """Upper bounds no optimal plan exceeds, so PH's Lagrangian subproblems stay bounded (a paid variable has only
    lower rows; a negative PH weight would drive it to infinity): wafers paid are max(started, floor) and
    started <= capacity, so WP[f,t] <= max(FabCapacity[f,t], FabMinWafers[f,t]); likewise HBM stacks paid,
    HP[v,t] <= max(HBMSupply[v,t], HBMMinStacks[v,t])."""
    for paid, limit, floor in ((model.WP, data.fab_capacity, data.fab_min_wafers),
                               (model.HP, data.hbm_supply, data.hbm_min_stacks)):
        for key, var in paid.items():
            if var.ub is None:
                var.setub(max(limit.get(key, 0.0), floor.get(key, 0.0)))


def absent_across(comm, scenarios, commit: int) -> set[tuple]:
    """models.stochastic.absent_commitments over every rank's scenarios: the here-and-now keys some scenarios lack
    (0 in all). Scenarios with equal index sets have equal keys; only otherwise are models built, spread over the
    ranks, for their keys alone."""
    sets = [build_sets(sc.data) for sc in scenarios]
    if all(x == sets[0] for x in sets[1:]) and all(sc.data.partners.index.equals(scenarios[0].data.partners.index)
                                                    for sc in scenarios[1:]):
        return set()
    mine = [set(first_stage(build_model(sc.data)[0], commit)) for sc in scenarios[comm.rank::comm.size]]
    keys = [k for part in comm.allgather(mine) for k in part]
    return set().union(*keys) - set.intersection(*keys)


def _creator(by_name: dict, commit: int, absent: set[tuple]):
    import mpisppy.utils.sputils as sputils

    raw = dict(zip(by_name, objective_weights([sc.probability for sc in by_name.values()])))
    weights = {name: w / sum(raw.values()) for name, w in raw.items()}  # mpi-sppy wants them to add up to 1

    def scenario_creator(name: str, **_kwargs):
        sc = by_name[name]
        model, _sets = build_scenario_model(sc.data)
        model.name = name  # mpi-sppy names a scenario by its model's name in its messages
        implied_bounds(model, sc.data)
        nonants = first_stage(model, commit)
        for key in absent & set(nonants):  # a decision another scenario cannot take: 0 here, not hedged
            nonants.pop(key).fix(0.0)
        model._ph_keys = list(nonants)
        model._ph_rho = rho_values(cost_coefficients(model, commit))
        sputils.attach_root_node(model, 0.0, list(nonants.values()))
        model._mpisppy_probability = weights[name]
        return model
    return scenario_creator


def _rho_setter(model):
    hedged = set(model._ph_keys)
    return [(id(var), model._ph_rho[key]) for key, var in first_stage(model, model._ph_commit).items()
            if key in hedged]


def ph_options(hopts, solve_options: SolveOptions) -> dict:
    """PH options. Measured on the two-scenario test (tests/whatif/test_hedged.py): a proximal linearization
    tolerance of 1e-3 stalls PH away from the optimum (own capex is in $M, ~1e-3 per rack), 1e-6 does not;
    rho x 0.1 gives a Lagrangian bound within 1.7% where x 1 and x 10 give none better than the trivial one.
    PLANNER_PH_ITERATIONS / PLANNER_PH_TIME_LIMIT / PLANNER_PH_RHO_FACTOR override for experiments."""
    iterations = int(os.environ.get("PLANNER_PH_ITERATIONS", hopts.ph_iterations))
    limit = float(os.environ.get("PLANNER_PH_TIME_LIMIT", hopts.ph_time_limit_s))
    solver = {"mip_rel_gap": solve_options.mip_rel_gap, "time_limit": solve_options.time_limit_s,
              "output_flag": False}  # HiGHS's own log would flood the terminal: one per subproblem solve
    return {"solver_name": "appsi_highs", "PHIterLimit": iterations, "defaultPHrho": 1.0, "convthresh": 1e-8,
            "verbose": False, "display_progress": False, "display_timing": False,
            "display_convergence_detail": False, "linearize_proximal_terms": True,
            "proximal_linearization_tolerance": 1e-6, "time_limit": limit, "smoothed": 0,
            "solver_options_layers": [{"when": "default", "options": solver}]}  # mpi-sppy 0.14's form


def _progress_extension():
    """An mpi-sppy extension that prints a progress line after PH's iteration 0 and each later iteration (rank 0):
    a new-user trial saw 93 s of silence between 'Entering solve loop' and the time limit."""
    from mpisppy.extensions.extension import Extension

    class PHProgress(Extension):
        def __init__(self, ph):
            super().__init__(ph)
            self.started = time.perf_counter()

        def _say(self, what: str) -> None:
            if self.opt.cylinder_rank == 0:
                log.info("solve     PH %s (%.0f s)", what, time.perf_counter() - self.started)

        def post_iter0(self):
            self._say("iteration 0: every scenario solved alone")

        def enditer(self):
            conv = self.opt.conv
            self._say(f"iteration {self.opt._PHIter}" + (f", convergence {conv:.3g}" if conv is not None else ""))

    return PHProgress


def run_hub(scenarios, commit: int, hopts, solve_options: SolveOptions, absent: set[tuple]):
    """PH on this communicator; returns (ph, lower bound $k, trivial bound $k, iterations)."""
    by_name = {sc.name: sc for sc in scenarios}
    creator = _creator(by_name, commit, absent)

    def create(name, **kwargs):
        model = creator(name, **kwargs)
        model._ph_commit = commit
        return model

    with _silent_unless_progress():
        from mpisppy.opt.ph import PH  # deferred: an optional extra (imported by comm_world already)

        ph = PH(ph_options(hopts, solve_options), [sc.name for sc in scenarios], create, rho_setter=_rho_setter,
                extensions=_progress_extension())
        ph.PH_Prep(attach_prox=True, attach_smooth=0)
        trivial = ph.Iter0()
        alone = candidates(ph, 2)[1:]  # scenarios' own first stage when planned alone (xhat-looper's iteration 0)
        ph.iterk_loop()
        ph.post_loops(ph.extensions)
        iterations = ph._PHIter
        ph._planner_candidates = _distinct(candidates(ph, 1) + alone)  # before the bound solves overwrite them
        lower = ph.post_solve_bound()
    if not math.isfinite(lower) or lower < trivial:  # the trivial bound (every scenario alone) is valid too
        lower = trivial
    return ph, lower, trivial, iterations


def candidates(ph, limit: int = 1) -> list[dict[tuple, float]]:
    """Commitments to try as the plan: PH's consensus xbar (integers rounded by fix_first_stage), then the first
    `limit` local scenarios' own here-and-now decisions."""
    out = []
    models = [ph.local_scenarios[n] for n in ph.local_scenario_names]
    if not models:
        return out
    first = models[0]
    keys = first._ph_keys
    out.append({k: float(first._mpisppy_model.xbars[("ROOT", i)].value) for i, k in enumerate(keys)})
    for m in models[:limit]:
        out.append({k: float(m._mpisppy_data.nonant_indices[("ROOT", i)].value or 0.0) for i, k in enumerate(keys)})
    return out


def _distinct(cands: list[dict]) -> list[dict]:
    out: list[dict] = []
    for c in cands:
        if not any(all(abs(c[k] - d.get(k, float("nan"))) <= 1e-9 for k in c) for d in out):
            out.append(c)
    return out


class Evaluator:
    """Each rank plans the recourse of its own scenarios with a commitment fixed (fresh models, own objective)."""

    def __init__(self, comm, scenarios, local_names: list[str], commit: int, options: SolveOptions,
                 absent: set[tuple]):
        self.comm, self.commit, self.options = comm, commit, options
        self.local = [sc for sc in scenarios if sc.name in set(local_names)]
        self.built = {sc.name: build_scenario_model(sc.data) for sc in self.local}
        self.absent = dict.fromkeys(absent, 0.0)

    def fix(self, model, values: dict[tuple, float]) -> list:
        """`values` fixed in `model`, and the decisions some scenario cannot take at 0."""
        return fix_first_stage(model, {**self.absent, **values}, self.commit)

    def has_integers(self) -> bool:
        """Whether any rank's scenario model has integer variables (then mpi-sppy's bounds are not valid)."""
        mine = any(v.is_integer() or v.is_binary() for sc in self.local
                   for v in self.built[sc.name][0].component_data_objects(pyo.Var))
        return any(self.comm.allgather(mine))

    def alone(self) -> dict[str, tuple[float, float] | None]:
        """Every scenario planned alone, nothing fixed (gathered to every rank): name -> (its cost $k, its MIP's
        bound $k), None without a plan."""
        mine = {}
        for sc in self.local:
            r = solve(self.built[sc.name][0], alone_options(self.options))
            mine[sc.name] = (r.objective, r.objective - (r.mip_gap or 0.0) * abs(r.objective)) if r.has_solution \
                else None
        merged = {}
        for part in self.comm.allgather(mine):
            merged.update(part)
        return merged


    def costs(self, values: dict[tuple, float]) -> dict[str, SolveResult]:
        """Gathered to every rank: scenario name -> (status, objective $k)."""
        mine = {}
        for sc in self.local:
            model, _sets = self.built[sc.name]
            fixed = self.fix(model, values)
            try:
                r = solve(model, replace(self.options, duals=False))
            finally:
                unfix(fixed)
            mine[sc.name] = (r.status, r.objective)
        merged = {}
        for part in self.comm.allgather(mine):
            merged.update(part)
        return merged

    def solutions(self, values: dict[tuple, float]) -> dict[str, tuple]:
        """The recourse tables of every scenario with `values` fixed, gathered on rank 0."""
        from planner.output.extract import extract

        mine = {}
        for sc in self.local:
            model, sets = self.built[sc.name]
            fixed = self.fix(model, values)
            try:
                r = solve(model, self.options)
                table = extract(model, sets, sc.data, r) if r.has_solution else None
            finally:
                unfix(fixed)
            mine[sc.name] = (r.status, r.objective, table, r.message)
        merged = {}
        for part in self.comm.gather(mine, root=0) or []:
            merged.update(part)
        return merged


def wait_and_see_bound(scenarios, alone: dict[str, tuple[float, float] | None]) -> float:
    """A valid lower bound ($k) of the hedged optimum for MIP scenarios: sum_s p_s x the best bound of scenario
    s planned alone (WS <= RP, and each MIP's bound <= its optimum). mpi-sppy's Lagrangian and trivial bounds
    take the subproblems' incumbents, which a MIP stopped at its gap or time limit overstates (measured on
    the example: a 'lower' bound 22% above the plan's cost)."""
    if any(alone.get(sc.name) is None for sc in scenarios):
        return -math.inf  # a scenario without a plan alone bounds nothing
    return sum(sc.probability * alone[sc.name][1] for sc in scenarios)


def wait_and_see(scenarios, alone: dict[str, tuple[float, float] | None] | None, trivial: float) -> float:
    """WS ($k): sum_s p_s x the cheapest plan known for s alone (planned alone, or its recourse under the hedged or
    the expected-value commitments: each is a plan of s), as the extensive form reports it. PH's trivial bound is
    WS only when no decision is held at 0 for a scenario that lacks it and every subproblem is an LP."""
    if alone is None or any(alone.get(sc.name) is None for sc in scenarios):
        return trivial
    known = [[c for c in (alone[sc.name][0], sc.cost, sc.eev_cost) if c is not None] for sc in scenarios]
    return sum(sc.probability * min(costs) for sc, costs in zip(scenarios, known))


def _expected(costs: dict[str, tuple], scenarios) -> float | None:
    if any(costs[sc.name][0] not in ("optimal", "feasible") for sc in scenarios):
        return None
    return sum(sc.probability * costs[sc.name][1] for sc in scenarios)


def best_candidate(evaluator: Evaluator, cands: list[dict], scenarios, known: list[tuple[dict, dict]] = ()
                   ) -> tuple[dict | None, float | None]:
    """The candidate commitments of least expected cost, and that cost ($k). `known`: (commitments, their
    scenario costs already solved), which compete after PH's own candidates."""
    best, best_k = None, None
    for values, costs in [(c, None) for c in cands] + list(known):
        k = _expected(costs if costs is not None else evaluator.costs(values), scenarios)
        if k is not None and (best_k is None or k < best_k - 1e-9):
            best, best_k = values, k
    return best, best_k


def _committed(evaluator: Evaluator, values: dict[tuple, float]) -> list[tuple]:
    """The commitment as fixed (integers rounded), from this rank's first model."""
    if not evaluator.local:
        return [(name, idx, v) for (name, idx), v in values.items()]
    model, _sets = evaluator.built[evaluator.local[0].name]
    fixed = evaluator.fix(model, values)
    out = [(name, idx, float(var.value)) for (name, idx), var in first_stage(model, evaluator.commit).items()]
    unfix(fixed)
    return out


def ph_proof(lower: float, upper: float, statuses: set[str]) -> tuple[str, float | None, str]:
    """(status, gap, words) of a PH plan from its bounds. Proven only when the bounds meet; a "lower" bound above
    the plan's actual cost is no bound (MIP subproblems stopped at their gap or time limit, so mpi-sppy used
    their incumbents; or a subproblem failed): then no gap is claimed at all."""
    if upper and lower > upper + PH_PROVEN_GAP * abs(upper):
        return "feasible", None, ("PH's lower bound is not valid here (MIP subproblems not solved to optimality): "
                                  "no gap is claimed, not proven optimal; --engine ef proves a gap")
    gap = max(0.0, (upper - lower) / abs(upper)) if upper else 0.0
    if statuses == {"optimal"} and gap <= PH_PROVEN_GAP:
        return "optimal", gap, "bounds meet: proven optimal"
    return "feasible", gap, f"PH gap {gap:.3%} between its lower and upper bounds: not proven optimal"


def _bounds(plan, lower: float, upper: float, ws: float, iterations: int, size: int) -> None:
    gap = plan.result.mip_gap  # None when the lower bound is not valid (see plan_ph)
    plan.summary.update({"ph_lower_bound_usd": lower * USD_PER_OBJ if gap is not None else None,
                         "ph_upper_bound_usd": upper * USD_PER_OBJ,
                         "ph_gap": gap, "ph_iterations": iterations, "ph_processes": size,
                         "wait_and_see_usd": ws * USD_PER_OBJ, "mip_gap": None})
    plan.notes.update({
        "mip_gap": "not defined for progressive hedging: ph_gap is this plan's gap to the bound",
        "ph_lower_bound_usd": "no plan costs less: PH's Lagrangian bound (LP scenarios), or every scenario planned "
                              "alone at its MIP bound (whole racks, blocks or deals)",
        "ph_upper_bound_usd": "cost of the plan written: its commitments fixed, every scenario's recourse solved",
        "ph_gap": "(upper - lower) / upper: the hedged optimum lies between the bounds",
        "ph_iterations": "PH iterations run", "ph_processes": "MPI processes",
        "wait_and_see_usd": "WS: every scenario planned alone (the cheapest plan known for it)"})


def _value_of_information(plan, upper: float, ws: float, eev: float | None) -> None:
    plan.summary["eev_usd"] = None if eev is None else eev * USD_PER_OBJ
    plan.summary["vss_usd"] = None if eev is None else (eev - upper) * USD_PER_OBJ
    plan.summary["evpi_usd"] = (upper - ws) * USD_PER_OBJ
    plan.notes["eev_usd"] = "EEV: the objective when the expected-value plan's commitments are fixed"
    lower = plan.summary.get("ph_lower_bound_usd")
    # a wait-and-see bound is -inf when a scenario alone found no plan: then no range is known
    lower = lower / USD_PER_OBJ if lower is not None and math.isfinite(lower) else None

    def span(value_at) -> str:
        """RP lies between PH's bounds, so the value lies between these; VSS and EVPI are never negative (EEV >= RP
        >= WS at the optimum), so a range reaching below 0 starts at 0 and the value is within PH's tolerance."""
        if lower is None:
            return ""
        low, high = sorted((value_at(upper), value_at(lower)))
        text = (f"; with RP anywhere between PH's bounds it lies between {money(max(low, 0.0) * USD_PER_OBJ)} and "
                f"{money(max(high, 0.0) * USD_PER_OBJ)}")
        return text + (f"; {TOLERANCE_MARK}: PH's gap is worth more than this value, so it is not significant"
                       if low <= 0 else "")

    plan.notes["vss_usd"] = ("a plan that ignores the spread of the scenarios would cost "
                             f"{money(plan.summary['vss_usd'])} more (EEV - RP, RP = this plan's cost)"
                             + span(lambda rp: eev - rp)
                             if eev is not None else "not defined: the expected-value plan leaves a scenario unplanned")
    plan.notes["evpi_usd"] = (f"knowing the future would be worth {money(plan.summary['evpi_usd'])} "
                              "(RP - WS, RP = this plan's cost)" + span(lambda rp: rp - ws))


def _assemble(base, scenarios, sols: dict, eev: dict) -> None:
    for sc in scenarios:
        status, objective, table, _message = sols[sc.name]
        sc.status, sc.cost, sc.solution = status, objective, table
        sc.eev_cost = eev[sc.name][1] if sc.name in eev else None


def _refuse_risk(base, issues: Issues) -> bool:
    if base.settings.risk_weight > 0:
        issues.error("Settings", base.cell("Settings", ("risk_weight",), "value") or "Settings", "risk_weight",
                     base.settings.risk_weight, "--engine ph plans risk-neutral hedged plans only (CVaR couples the "
                     "scenarios through its value at risk); use --engine ef, or risk_weight 0")
        return True
    return False


def plan_ph(input_path: Path, output: Path, options, comm) -> tuple[PlanOutcome, object]:
    """Every rank runs this; rank 0 returns the plan and writes it."""
    from planner.input.reader import read_workbook
    from planner.output.xlsx import check_target

    check_target(output, input_path)
    timer = Timer()
    with timer.phase("read"):
        raw, issues = read_workbook(input_path)
    base, scenarios = (None, [])
    if raw is not None:
        with timer.phase("validate"):
            base, scenarios = prepare_all(raw, issues, options)
    if base is None or not issues.ok or _refuse_risk(base, issues):
        return _invalid(issues, timer), None
    solve_options = options.run.solve_options(base)
    commit = base.settings.commit_quarters
    t0 = time.perf_counter()
    with timer.phase("ph"):
        absent = absent_across(comm, scenarios, commit)
        ph, lower, trivial, iterations = run_hub(scenarios, commit, options, solve_options, absent)
    evaluator = Evaluator(comm, scenarios, list(ph.local_scenario_names), commit, solve_options, absent)
    alone = None
    integers = evaluator.has_integers()
    if integers or absent:  # PH's iteration 0 held the absent decisions at 0: not each scenario alone
        with timer.phase("bound"):
            alone = evaluator.alone()
    if integers:
        lower = wait_and_see_bound(scenarios, alone)
    cands = comm.bcast(ph._planner_candidates if comm.rank == 0 else None, root=0)
    log.debug("PH candidates: %s", [{k: v for k, v in c.items() if k[0] == "Y"} for c in cands])
    with timer.phase("ev plan"):
        ev_values, _notes = expected_value_plan(scenarios, commit, solve_options, absent) if comm.rank == 0 \
            else (None, [])
        ev_values = comm.bcast(ev_values, root=0)
        eev_costs = evaluator.costs(ev_values) if ev_values is not None else {}
    with timer.phase("xhat"):
        # the mean-value plan's commitments are a hedged plan too: the plan written is never dearer (VSS >= 0)
        best, upper = best_candidate(evaluator, cands, scenarios,
                                     known=[(ev_values, eev_costs)] if ev_values is not None else [])
    if best is None:
        result = SolveResult("infeasible", "no PH candidate commitment leaves every scenario a plan; try --engine ef")
        return PlanOutcome(3, result.status, result.message, issues=issues, phases=timer.phases), None
    with timer.phase("extract"):
        sols = evaluator.solutions(best)
        committed = _committed(evaluator, best)
    if comm.rank != 0:
        return PlanOutcome(EXIT_OK, "optimal", "", issues=issues, phases=timer.phases), None
    _assemble(base, scenarios, sols, eev_costs)
    plan = HedgedPlan(base, scenarios, "ph", committed=committed)
    status, gap, proof = ph_proof(lower, upper, {sc.status for sc in scenarios})
    plan.result = SolveResult(status, f"progressive hedging, {iterations} iteration{'' if iterations == 1 else 's'} on "
                              f"{comm.size} process{'' if comm.size == 1 else 'es'}; "
                              f"{proof}", objective=upper, mip_gap=gap, solver="mpi-sppy PH + HiGHS (appsi_highs)",
                              solve_seconds=time.perf_counter() - t0)
    summarize(plan, upper, "progressive hedging on mpi-sppy (HiGHS subproblems)")
    ws = wait_and_see(scenarios, alone, trivial)
    for sc in scenarios if alone is not None else ():  # the Scenarios sheet's alone_cost_usd, as the EF writes it
        known = [c for c in ((alone.get(sc.name) or (None,))[0], sc.cost, sc.eev_cost) if c is not None]
        sc.alone_cost = min(known) if known else None
    _bounds(plan, lower, upper, ws, iterations, comm.size)
    _value_of_information(plan, upper, ws, _expected(eev_costs, scenarios) if eev_costs else None)
    plan.phases = timer.phases
    from planner.output.hedged_writer import write_hedged_plan

    with timer.phase("write"):
        written, note = write_hedged_plan(output, plan, _meta(base, plan.result, options.run, input_path),
                                          timer.phases, issues, input_path)
    if note:
        log.warning(note)
    return PlanOutcome(EXIT_OK, status, plan.result.message, written, issues, plan.summary[Col.objective_usd],
                       timer.phases), plan


def plan_hedged_ph(input_path: str | Path, output_path: str | Path, options) -> tuple[PlanOutcome, HedgedPlan | None]:
    """The hedged plan by progressive hedging on the MPI world this process runs in (one process without MPI)."""
    return plan_ph(Path(input_path), Path(output_path), options, comm_world())
