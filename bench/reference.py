"""Plain HiGHS build and solve of the same model, independent of models/: the yardstick of bench's ratios.

    python -m bench.reference bench/out/30K-seed0.xlsx     # one JSON line: build, solve, objective, timings

The LP is built by the independent implementation of the spec in tests/crosscheck/reference_lp.py (written from
formulation.md only, never from models/): plain USD, the installed racks substituted by their expansion, one
sparse matrix handed to highspy in one `passModel`. For the benchmark the objective is divided by 1e3 (the
planner's $k; a uniform cost scale changes no optimum) and the algorithm is the planner's: interior point with
crossover above 10k LP columns, dual simplex below. Reading and validating go through the planner's reader
(both sides start from the same PlanData); `build_s` and `solve_s` are this builder's and HiGHS's own times.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COST_SCALE = 1e-3  # USD -> $k, as the planner's objective


def build(data):
    """(highspy.Highs with the model passed, n_cols, n_rows, is_mip)."""
    import numpy as np

    from tests.crosscheck.reference_lp import build_reference

    b = build_reference(data, integer=True)
    b.cost = list(np.asarray(b.cost, dtype=float) * COST_SCALE)
    b.offset *= COST_SCALE
    h = b.to_highs()
    return h, len(b.lb), len(b.rows), any(b.integer)


def solve_reference(data, threads: int | None = None, time_limit_s: float | None = None) -> dict:
    """Build and solve; timings and the optimum in USD."""
    t0 = time.perf_counter()
    h, n_cols, n_rows, is_mip = build(data)
    t1 = time.perf_counter()
    if not is_mip and n_cols > 10_000:
        h.setOptionValue("solver", "ipm")
        h.setOptionValue("run_crossover", "on")
    if is_mip:
        h.setOptionValue("mip_rel_gap", float(data.settings.mip_rel_gap))
    if threads:
        h.setOptionValue("threads", int(threads))
    h.setOptionValue("time_limit", float(time_limit_s or data.settings.time_limit_s))
    h.setOptionValue("random_seed", 0)
    h.run()
    t2 = time.perf_counter()
    status = h.modelStatusToString(h.getModelStatus())
    objective = float(h.getInfo().objective_function_value) / COST_SCALE
    return {"build_s": round(t1 - t0, 3), "solve_s": round(t2 - t1, 3), "build_solve_s": round(t2 - t0, 3),
            "cols": n_cols, "rows": n_rows, "is_mip": is_mip, "status": status, "objective_usd": objective}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Plain-highspy build and solve of a workbook's model.")
    parser.add_argument("input")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    from planner.input.validate import validate_workbook

    data, issues = validate_workbook(args.input)
    if data is None:
        print(json.dumps({"status": "invalid", "errors": len(issues.errors)}))
        return 2
    read_s = time.perf_counter() - t0
    rec = solve_reference(data, args.threads)
    rec["read_validate_s"] = round(read_s, 3)
    print(json.dumps(rec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
