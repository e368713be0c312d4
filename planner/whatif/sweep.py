"""planner sweep: plan N sampled scenarios from the Uncertainty sheet, locally or on a Dask cluster.

The optional `Uncertainty` sheet has one random factor per row: `sheet, key, column, distribution, p1, p2, p3`,
with `sheet, key, column` written as in the Scenarios sheet. Each factor is a SCALE factor applied to the
cells it names like a `scale` override:

- `uniform`: between p1 and p2;
- `normal`: mean p1, standard deviation p2 (a draw below 0 is taken as 0);
- `triangular`: low p1, mode p2, high p3.

Every factor of every draw is sampled up front, in the parent, from `numpy.random.default_rng(seed)`,
draw by draw (draw 0's factors, then draw 1's, ...): the same workbook, draws and seed give the same
factors, and so the same plans, whether the draws run in one process, on a local process pool or on a
Dask distributed cluster; N draws are the first N of any longer sweep with the same seed. Each solve uses
one solver thread unless --threads says otherwise (many draws run side by side, and a single-threaded
HiGHS is deterministic). A solver time limit that stops a draw early can make that draw differ between runs.
Each draw's Pyomo model is built afresh (the model's data are constants, not mutable parameters) and compiled
to its standard form, but not handed to a new HiGHS instance: each worker process holds the base plan's HiGHS
model (models/resolve.py) and a draw that changes only costs, bounds and right-hand sides updates those in
place; an LP draw is started from the base plan's basis (solved once per worker process): the same start
whichever worker runs the draw, so results stay identical with 1 or many workers. A draw that changes matrix
coefficients (a yield, dies-per-wafer or throughput factor) is handed to HiGHS in full, as before.

Workers receive the already-read RawWorkbook once (pool initializer / Dask scatter) and, per draw, the
sampled factors; they never re-read the file.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import contextlib
import logging
import multiprocessing
import os
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from models.costs import COST_COMPONENTS
from models.resolve import ResolveSession
from models.solve import reset_thread_pool

from planner.output.contract import Col, is_planned
from planner.issues import InputError, Issues
from planner import pipeline
from planner.pipeline import RunOptions
from planner.whatif.scenarios import OverridesEdit
from planner.input.reader import RawWorkbook, read_workbook
from planner.whatif.uncertainty import (DISTRIBUTIONS, MAX_FACTOR_PARAMETER, UNCERTAINTY_COLUMNS,  # noqa: F401
                                        Factor, read_uncertainty, sample_factors)

log = logging.getLogger("planner")

SCHEDULER_TIMEOUT_S = 10  # an unreachable --scheduler is an error after this long


# ---- one draw (runs in a worker) ---------------------------------------------------------------------

def plan_draw(raw: RawWorkbook, factors: list[Factor], draw: int, values: list[float],
              options: RunOptions) -> dict:
    """Apply the draw's factors to a copy of `raw`, validate, build, solve and extract; one record.

    Never raises: a failure becomes the draw's status ('invalid' or 'error') and message."""
    t0 = time.perf_counter()
    record: dict[str, object] = {Col.draw: draw}
    record.update({f.name: float(x) for f, x in zip(factors, values)})
    record.update({Col.status: "error", Col.message: "", Col.gap_to_bound: None, Col.objective_usd: None,
                   Col.service_level: None,
                   Col.unmet_tps: None, Col.demand_tps: None, Col.own_capex_usd: None, Col.partner_capex_usd: None})
    record.update({f"cost_{c}_usd": None for c in COST_COMPONENTS})
    record[Col.binding] = ""
    try:
        edit = OverridesEdit([replace(f.override, value=float(x)) for f, x in zip(factors, values)])
        prepared = pipeline.prepare(raw, Issues(), [edit])
        if not prepared.valid:
            errors = prepared.issues.errors
            record[Col.status] = "invalid"
            record[Col.message] = "; ".join(str(i) for i in errors[:3]) + (f" (+{len(errors) - 3} more)"
                                                                        if len(errors) > 3 else "")
        else:
            session = _session(raw, options)
            planned = pipeline.plan_prepared(prepared, options, warm=_base_solution(raw, options),
                                             diagnose_failures=False, solver=session.solve if session else None)
            record.update(_draw_record(planned, options))
            record["solver_seconds"] = planned.result.solve_seconds
    except Exception as exc:  # one draw's failure never stops the sweep
        record[Col.status], record[Col.message] = "error", f"{type(exc).__name__}: {exc}"
    record[Col.seconds] = time.perf_counter() - t0
    return record


_WORKER_RAW: RawWorkbook | None = None
_BASE_RESULTS: dict[str, tuple] = {}  # input sha256 -> (the base plan's SolveResult or None, its SolveOptions)
_SESSIONS: dict[str, ResolveSession | None] = {}  # input sha256 -> the HiGHS model of the base, updated per draw
IN_PLACE = True  # False: every draw hands its model to a new HiGHS instance (as before issue 18; bench compares)


def _draw_record(planned: pipeline.Planned, options: RunOptions) -> dict:
    """A draw's status, KPIs, cost breakdown and binding limits."""
    result = planned.result
    # a draw not proven optimal says so with its gap, as a number (it was only inside the message's text)
    record: dict[str, object] = {Col.status: result.status, Col.message: result.message,
                                 Col.gap_to_bound: result.mip_gap if result.is_mip else None}
    if result.status == "error" and result.highs_status == "Not Set" and options.threads:
        record[Col.message] += (f" (HiGHS refused threads={options.threads}: this process's solver already "
                              "runs with another thread count; pass --threads to match it)")
    solution = planned.solution
    if solution is not None:
        k = solution.kpis
        record.update({Col.objective_usd: solution.objective_usd, Col.service_level: k[Col.service_level],
                       Col.unmet_tps: float(solution.tables["Serving"][Col.unmet_tps].sum()),
                       Col.demand_tps: k["total_demand_tps"], Col.own_capex_usd: k[Col.own_capex_usd],
                       Col.partner_capex_usd: k[Col.partner_capex_usd]})
        record.update({f"cost_{c}_usd": v for c, v in solution.cost_breakdown_usd.items()})
        b = solution.tables["Bottlenecks"]
        record[Col.binding] = "; ".join(sorted({f"{r.family}|{r.key}" for r in b.itertuples() if r.binding}))
    return record


def _base_result(raw: RawWorkbook, options: RunOptions) -> tuple:
    """(the base workbook's SolveResult, its SolveOptions), solved once per process; (None, None) without a plan."""
    if raw.sha256 not in _BASE_RESULTS:
        _BASE_RESULTS[raw.sha256] = (None, None)
        prepared = pipeline.prepare(copy.deepcopy(raw), Issues())
        if prepared.valid:
            base = pipeline.plan_prepared(prepared, options, diagnose_failures=False).result
            if base.has_solution and base.form is not None:
                _BASE_RESULTS[raw.sha256] = (base, options.solve_options(prepared.data))
    return _BASE_RESULTS[raw.sha256]


def _base_solution(raw: RawWorkbook, options: RunOptions):
    """The base workbook's LP solution (its basis warm-starts every draw); None for MIPs or without a plan."""
    base, _options = _base_result(raw, options)
    return base if base is not None and base.basis is not None else None


def _session(raw: RawWorkbook, options: RunOptions) -> ResolveSession | None:
    """This process's HiGHS model of the base plan, updated in place by each draw (None: plan as before)."""
    if not IN_PLACE:
        return None
    if raw.sha256 not in _SESSIONS:
        base, solve_options = _base_result(raw, options)
        _SESSIONS[raw.sha256] = ResolveSession(base, solve_options) if base is not None else None
    return _SESSIONS[raw.sha256]


def _init_worker(raw: RawWorkbook) -> None:
    global _WORKER_RAW
    _WORKER_RAW = raw
    logging.getLogger("planner").setLevel(logging.WARNING)


def _pool_draw(factors: list[Factor], draw: int, values: list[float], options: RunOptions) -> dict:
    return plan_draw(_WORKER_RAW, factors, draw, values, options)


# ---- the sweep -------------------------------------------------------------------------------------

def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="sweep", unit="draw", file=sys.stderr, disable=not enabled, dynamic_ncols=True)


class SchedulerError(Exception):
    """The Dask scheduler cannot be reached; the message says which and what to check."""


def run_sweep(input_path: str | Path, draws: int, seed: int = 0, client=None, workers: int = 0,
              scheduler: str | None = None, time_limit: float | None = None, mip_gap: float | None = None,
              threads: int | None = None, algorithm: str = "auto", progress: bool = False) -> pd.DataFrame:
    """Plan `draws` sampled scenarios of `input_path`; one row per draw, sorted by draw.

    Runs on the Dask `client` when given (or a Client connected to `scheduler`), else on `workers` local
    processes (0 = one per core; 1 = in this process). Raises InputError when the workbook (base or
    Uncertainty sheet) is invalid. The frame's attrs hold `factors` (one dict per factor) and `seed`."""
    if draws < 1:
        raise ValueError("--draws must be at least 1")
    raw, issues = read_workbook(input_path)
    if raw is None:
        raise InputError(issues)
    base = pipeline.prepare(copy.deepcopy(raw), issues)  # the base workbook as `planner validate` sees it
    if not base.valid:
        raise InputError(base.issues)
    issues = base.issues
    factors = read_uncertainty(raw, issues)
    if "Uncertainty" not in raw.sheets:
        issues.error(sheet="Uncertainty", cell="", column="", value=None,
                     message="planner sweep needs an Uncertainty sheet (sheet, key, column, distribution, p1, p2, p3)")
    elif not factors and issues.ok:
        issues.error(sheet="Uncertainty", cell=raw.sheets["Uncertainty"].title, column="", value=None,
                     message="the Uncertainty sheet has no factor rows")
    if not issues.ok:
        raise InputError(issues)
    options = RunOptions(time_limit_s=time_limit, mip_rel_gap=mip_gap, threads=1 if threads is None else threads,
                         algorithm=algorithm or "auto")
    matrix = sample_factors(factors, draws, seed)
    tasks = [(d, [float(x) for x in matrix[d]]) for d in range(draws)]
    bar = _progress(draws, progress)
    with _draws_quiet(progress):
        try:
            records = _run_draws(client, scheduler, workers, raw, factors, tasks, options, bar)
        finally:
            bar.close()
    records = sorted(records, key=lambda r: r[Col.draw])
    solver_seconds = [r.pop("solver_seconds", None) for r in records]  # timing: in attrs, not a column
    frame = pd.DataFrame(records)
    frame[Col.status] = frame[Col.status].astype(str)
    frame.attrs["factors"] = [{Col.factor: f.name, Col.cell: f.cell, Col.distribution: f.distribution, Col.p1: f.p1,
                               Col.p2: f.p2, Col.p3: f.p3} for f in factors]
    frame.attrs["seed"] = seed
    frame.attrs["solver_seconds"] = solver_seconds  # HiGHS's own solve time per draw (bench: overhead per draw)
    return frame


def _run_draws(client, scheduler: str | None, workers: int, raw, factors, tasks, options: RunOptions, bar) -> list[dict]:
    """Every draw's record: on the Dask `client` or `scheduler`, on a local process pool, or in this process."""
    records: list[dict] = []
    if client is None and scheduler:
        from dask.distributed import Client

        try:
            own = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerError(f"cannot reach the Dask scheduler {scheduler} within {SCHEDULER_TIMEOUT_S} s "
                                 f"({type(exc).__name__}: {exc}); check the address (tcp://HOST:8786) and that "
                                 "the scheduler is running") from None
        with own:
            records = _run_dask(own, raw, factors, tasks, options, bar)
    elif client is not None:
        records = _run_dask(client, raw, factors, tasks, options, bar)
    else:
        n = workers if workers and workers > 0 else (os.cpu_count() or 1)
        n = min(n, len(tasks))
        if n <= 1:
            _reset_solver_threads(options)
            for d, values in tasks:
                records.append(plan_draw(raw, factors, d, values, options))
                _tick(bar, records[-1])
        else:
            records = _run_pool(n, raw, factors, tasks, options, bar)
    return records


@contextlib.contextmanager
def _draws_quiet(progress: bool):
    """While the bar shows the sweep's progress, the draws planned in this process say nothing below WARNING (as
    pool workers do: _init_worker) and a warning is printed above the bar, not through it."""
    logger = logging.getLogger("planner")
    level = logger.level
    if not progress:
        yield
        return
    from tqdm.contrib.logging import logging_redirect_tqdm

    logger.setLevel(logging.WARNING)
    try:
        with logging_redirect_tqdm(loggers=[logging.root, logger]):
            yield
    finally:
        logger.setLevel(level)


def _reset_solver_threads(options: RunOptions) -> None:
    """Before this process plans the draws itself with an explicit thread count, start a fresh HiGHS pool
    (nothing else solves in it meanwhile). Pool and Dask workers are fresh processes that only plan draws."""
    if options.threads:
        reset_thread_pool()


def _tick(bar, record: dict) -> None:
    bar.update(1)
    if not is_planned(record[Col.status]):
        bar.write(f"draw {record['draw']}: {record['status']} ({record['message']})", file=sys.stderr)


def _run_pool(n: int, raw, factors, tasks, options, bar) -> list[dict]:
    records = []
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
    hook = threading.excepthook
    try:
        with cf.ProcessPoolExecutor(max_workers=n, mp_context=context, initializer=_init_worker,
                                    initargs=(raw,)) as pool:
            futures = [pool.submit(_pool_draw, factors, d, values, options) for d, values in tasks]
            try:
                for future in cf.as_completed(futures):
                    records.append(future.result())
                    _tick(bar, records[-1])
            except BaseException:
                # stopped (Ctrl-C, SIGTERM): stop the workers now; the pool's manager thread then finds cancelled
                # futures and would print an InvalidStateError traceback (Python 3.11) - silence that one
                threading.excepthook = _quiet_aborted_pool(hook)
                for future in futures:
                    future.cancel()
                for proc in list((getattr(pool, "_processes", None) or {}).values()):
                    try:
                        proc.terminate()
                    except Exception:
                        pass
                raise
    finally:
        threading.excepthook = hook
    return records


def _quiet_aborted_pool(hook):
    def quiet(args):
        if isinstance(args.exc_value, (cf.InvalidStateError, cf.process.BrokenProcessPool)):
            return
        hook(args)

    return quiet


def _run_dask(client, raw, factors, tasks, options, bar) -> list[dict]:
    from dask.distributed import as_completed

    raw_future = client.scatter(raw, broadcast=True)
    futures = [client.submit(plan_draw, raw_future, factors, d, values, options, pure=False) for d, values in tasks]
    records = []
    try:
        for future in as_completed(futures):
            records.append(future.result())
            _tick(bar, records[-1])
    except BaseException:
        client.cancel(futures)
        raise
    return records
