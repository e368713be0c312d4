"""Benchmark of hedged plans (planner run --stochastic) on bench's MIP-S with sampled scenarios.

    .venv/bin/python -m bench.hedged                          # EF at 10, 50, 200 draws; PH at 10 draws on 1 and 2
    .venv/bin/python -m bench.hedged --draws 10,50 --time-limit 60 --ph-draws 10 --ph-processes 1,2

The workbook is bench.generate's MIP-S (seed 0) plus an Uncertainty sheet: demand x uniform(0.7, 1.3) and HBM
supply x uniform(0.6, 1.1), every row, in the quarters after the first (the committed quarter's data are known:
with its HBM supply uncertain too, no PH candidate commitment was feasible in every draw). Per draw count the extensive form is built exactly as
`planner run --stochastic` builds it (input edit per draw, build_model per draw, the model edit joining them)
and reports its size (rows, columns, integers), the time to build and compile the scenario models (the command
has their forms from the wait-and-see solves), to build the EF model and assemble its standard form from the
scenarios' (models/stochastic.py::extensive_standard_form), the hand-off to HiGHS and the solve (stopped at
--time-limit), and build + hand-off over the solve with and without the scenarios' own build and compile. The wait-and-see and EEV solves of the full command are not
timed here. PH runs the full command (`--engine ph`, in a subprocess, under mpiexec for > 1 process) and reports
its wall time, bounds and gap.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNCERTAINTY = [["sheet", "key", "column", "distribution", "p1", "p2", "p3"],
               ["Demand", "*", "2026Q2:2028Q4", "uniform", 0.7, 1.3, None],
               ["HBMSupply", "*", "2026Q2:2028Q4", "uniform", 0.6, 1.1, None]]


def workbook(out: Path, size: str = "MIP-S") -> Path:
    from bench.generate import build_sheets, params_for
    from planner.input.writer import write_input_workbook

    path = out / f"{size}.hedged.xlsx"
    if not path.exists():
        sheets = build_sheets(params_for(size), 0)
        sheets["Uncertainty"] = UNCERTAINTY
        write_input_workbook(path, sheets)
    return path


def measure_ef(path: Path, draws: int, time_limit: float) -> dict:
    from models.build import build_model
    from models.solve import solve, to_standard_form
    from models.stochastic import ScenarioModel, build_extensive_form, extensive_standard_form
    from planner.input.reader import read_workbook
    from planner.whatif.hedged import HedgedOptions, prepare_all

    t0 = time.perf_counter()
    raw, issues = read_workbook(path)
    base, scenarios = prepare_all(raw, issues, HedgedOptions(draws=draws, seed=0))
    assert base is not None and issues.ok, [str(i) for i in issues.errors][:5]
    t1 = time.perf_counter()
    models = [ScenarioModel(sc.name, sc.probability, build_model(sc.data)[0]) for sc in scenarios]
    t2 = time.perf_counter()
    forms = [to_standard_form(s.model) for s in models]  # the command has them from the wait-and-see solves
    t3 = time.perf_counter()
    s = base.settings
    ef = build_extensive_form(models, s.commit_quarters, s.risk_weight, s.risk_alpha)
    t4 = time.perf_counter()
    form = extensive_standard_form(ef, forms)
    t5 = time.perf_counter()
    rows, cols, ints = form.lp.num_row_, form.lp.num_col_, len(form.integer_columns)
    options = replace(HedgedOptions().run.solve_options(base), time_limit_s=time_limit, duals=False)
    result = solve(ef, options, form=form)
    own = (t4 - t3) + (t5 - t4) + result.handoff_seconds  # the EF's own build and hand-off, scenarios aside
    every = (t2 - t1) + (t3 - t2) + own  # with the scenario models' build and compile
    return {"workbook": path.name, "draws": draws, "rows": rows, "columns": cols, "integers": ints,
            "validate_s": t1 - t0, "scenario_build_s": t2 - t1, "scenario_compile_s": t3 - t2, "ef_build_s": t4 - t3,
            "assemble_s": t5 - t4, "pass_s": result.handoff_seconds, "solve_s": result.solve_seconds,
            "ef_build_handoff_over_solve": own / result.solve_seconds,
            "all_build_handoff_over_solve": every / result.solve_seconds,
            "status": result.status, "mip_gap": result.mip_gap, "objective_usd": (result.objective or 0) * 1e3}


def measure_ph(path: Path, draws: int, processes: int, iterations: int, time_limit: float, out: Path,
               sub_limit: float) -> dict:
    target = out / f"{path.stem}.ph{processes}.xlsx"
    cmd = [sys.executable, "-m", "planner.cli", "-q", "run", str(path), "--stochastic", "--engine", "ph",
           "--draws", str(draws), "--time-limit", str(sub_limit), "-o", str(target)]
    if processes > 1:
        cmd = [str(Path(sys.executable).parent / "mpiexec"), "-n", str(processes)] + cmd
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PLANNER_PH_ITERATIONS": str(iterations),
           "PLANNER_PH_TIME_LIMIT": str(time_limit)}
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - t0
    rec = {"workbook": path.name, "draws": draws, "processes": processes, "wall_s": wall, "exit": done.returncode}
    if done.returncode == 0:
        from openpyxl import load_workbook

        summary = {r[0]: r[1] for r in load_workbook(target)["Summary"].iter_rows(min_row=2, values_only=True)}
        rec.update({k: summary.get(k) for k in ("ph_lower_bound_usd", "ph_upper_bound_usd", "ph_gap",
                                                 "ph_iterations", "seconds_ph", "seconds_xhat")})
    else:
        rec["error"] = (done.stdout + done.stderr)[-500:]
    return rec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="MIP-S", help="bench.generate size (MIP-S; S-GEN is its LP twin)")
    parser.add_argument("--draws", default="10,50,200")
    parser.add_argument("--time-limit", type=float, default=60.0, help="EF solver time limit per size, seconds")
    parser.add_argument("--ph-draws", type=int, default=10)
    parser.add_argument("--ph-processes", default="1,2")
    parser.add_argument("--ph-iterations", type=int, default=10)
    parser.add_argument("--ph-time-limit", type=float, default=120.0, help="PH stops iterating after this")
    parser.add_argument("--ph-sub-limit", type=float, default=10.0, help="HiGHS time limit per PH subproblem")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = workbook(out, args.size)
    for n in [int(x) for x in args.draws.split(",") if x]:
        print(json.dumps(measure_ef(path, n, args.time_limit)), flush=True)
    for k in [int(x) for x in args.ph_processes.split(",") if x]:
        print(json.dumps(measure_ph(path, args.ph_draws, k, args.ph_iterations, args.ph_time_limit, out,
                                    args.ph_sub_limit)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
