"""MIP proof benchmark (issue 13, item 1): the planner to mip_rel_gap 0.1% against plain HiGHS to 0.5%.

For each size, in one run: the same model (build_model + to_standard_form) solved by a plain highspy.Highs with
default options and mip_rel_gap 0.005, timed around run() only; then the planner end to end (`run_plan`: read,
validate, build, hand-off, solve, duals, extract, write) at mip_rel_gap 0.001. ratio = planner wall / plain
HiGHS. Target: ratio < 1. One JSON line per size on stdout.

    python -m bench.mip --sizes S,MIP-S [--time-limit 600]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def workbook(size: str, out: Path) -> Path:
    if size == "S":
        return ROOT / "inputs" / "example.xlsx"
    from bench.run import ensure_workbook

    path, _meta = ensure_workbook(size, out, 0, False)
    return path


def plain_highs(path: Path, gap: float, time_limit: float) -> dict:
    from models.build import build_model
    from models.solve import new_highs, to_standard_form
    from planner.input.validate import validate_workbook

    data, _issues = validate_workbook(path)
    model, _sets = build_model(data)
    form = to_standard_form(model)
    h = new_highs()
    h.setOptionValue("mip_rel_gap", gap)
    h.setOptionValue("time_limit", time_limit)
    h.passModel(form.lp)
    t0 = time.perf_counter()
    h.run()
    info = h.getInfo()
    return {"seconds": time.perf_counter() - t0, "objective_k": info.objective_function_value,
            "bound_k": info.mip_dual_bound, "gap": info.mip_gap, "integers": int(len(form.integer_columns))}


def planner(path: Path, gap: float, time_limit: float) -> dict:
    from planner.pipeline import RunOptions, run_plan

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        outcome = run_plan(path, Path(tmp) / "plan.xlsx", RunOptions(mip_rel_gap=gap, time_limit_s=time_limit))
        wall = time.perf_counter() - t0
    return {"seconds": wall, "status": outcome.status, "objective_usd": outcome.objective_usd,
            "message": outcome.message, "phases": outcome.phases}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,MIP-S")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--time-limit", type=float, default=600.0)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for size in args.sizes.split(","):
        path = workbook(size, out)
        plain = plain_highs(path, 0.005, args.time_limit)
        ours = planner(path, 0.001, args.time_limit)
        record = {"size": size, "plain_highs_0.5%": plain, "planner_0.1%": ours,
                  "ratio": ours["seconds"] / plain["seconds"] if plain["seconds"] else None}
        print(json.dumps(record, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
