"""Sweep benchmark: per-draw overhead (everything but HiGHS's solve) against the per-draw solve time.

    python -m bench.sweep --sizes S,M --draws 8      # table on stdout; JSON lines in bench/out/sweep.jsonl

Each size's workbook gets an Uncertainty sheet (UNCERTAINTY: demand, site power, fab capacity, HBM supply and
rack capex factors: right-hand sides, bounds and matrix coefficients) and is swept in this process
(`run_sweep(workers=1)`, one solver thread). Per draw: `seconds` (the draw's wall time: copy and edit the input,
validate, build, hand-off, solve, extract) and HiGHS's own solve time (`frame.attrs["solver_seconds"]`); draw 0
also solves the base plan once for the process, so it is left out of the means.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

UNCERTAINTY = [
    ["sheet", "key", "column", "distribution", "p1", "p2", "p3"],
    ["Demand", "*", "*", "uniform", 0.85, 1.15, None],
    ["SitePower", "*", "*", "triangular", 0.8, 1.0, 1.1],
    ["FabCapacity", "*", "*", "uniform", 0.8, 1.1, None],
    ["HBMSupply", "*", "*", "uniform", 0.8, 1.2, None],
    ["Products", "*", "rack_capex_usd", "normal", 1.0, 0.05, None],
]


def with_uncertainty(path: Path, out: Path) -> Path:
    from openpyxl import load_workbook

    target = out / f"{path.stem}-sweep.xlsx"
    wb = load_workbook(path)
    if "Uncertainty" in wb.sheetnames:
        del wb["Uncertainty"]
    ws = wb.create_sheet("Uncertainty")
    for row in UNCERTAINTY:
        ws.append(row)
    wb.save(target)
    return target


def sweep_size(size: str, out: Path, draws: int, seed: int) -> dict:
    from bench.run import ensure_workbook
    from planner.whatif.sweep import run_sweep

    path, _meta = ensure_workbook(size, out, seed, regenerate=False)
    src = with_uncertainty(path, out)
    t0 = time.perf_counter()
    frame = run_sweep(src, draws, seed=seed, workers=1)
    wall = time.perf_counter() - t0
    seconds = [float(x) for x in frame["seconds"]]
    solver = [float(x or 0.0) for x in frame.attrs.get("solver_seconds", [None] * draws)]
    rest = list(range(1, draws))
    overhead = [seconds[d] - solver[d] for d in rest]
    mean_solve = statistics.mean(solver[d] for d in rest)
    mean_over = statistics.mean(overhead)
    return {"size": size.upper(), "draws": draws, "wall_s": round(wall, 2), "statuses": sorted(set(frame["status"])),
            "draw_seconds": [round(x, 3) for x in seconds], "solver_seconds": [round(x, 3) for x in solver],
            "mean_solve_s": round(mean_solve, 3), "mean_overhead_s": round(mean_over, 3),
            "median_overhead_s": round(statistics.median(overhead), 3),
            "overhead_over_solve": round(mean_over / mean_solve, 3) if mean_solve else None,
            "objectives": [None if x != x else float(x) for x in frame["objective_usd"]]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="per-draw overhead of planner sweep")
    parser.add_argument("--sizes", default="S,M")
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["| size | draws | mean HiGHS solve / draw | mean overhead / draw | median overhead | overhead / solve |",
             "|---|---|---|---|---|---|"]
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        rec = sweep_size(size, out, args.draws, args.seed)
        with open(out / "sweep.jsonl", "a") as f:
            f.write(json.dumps(rec) + "\n")
        print(json.dumps({k: rec[k] for k in ("size", "wall_s", "mean_solve_s", "mean_overhead_s",
                                              "overhead_over_solve", "statuses")}), flush=True)
        lines.append(f"| {rec['size']} | {rec['draws']} | {rec['mean_solve_s']:.2f} | {rec['mean_overhead_s']:.2f} | "
                     f"{rec['median_overhead_s']:.2f} | {rec['overhead_over_solve']:.0%} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
