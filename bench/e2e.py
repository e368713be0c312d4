"""End to end: the `planner run` command in a fresh process against HiGHS's own solve and a plain-highspy build and
solve of the same model (bench/reference.py), run by run, so every ratio compares measurements of one moment.

    python -m bench.e2e --sizes 30K,M --repeat 3       # table on stdout; JSON lines in bench/out/e2e.jsonl

Per run: `python -m planner run IN -o OUT` wall clock (Python start-up, imports, read, validate, build, hand-off,
solve, extract and the workbook write) and peak RSS; HiGHS's own solve time as the plan's Summary records it
(`seconds_solver`); then `python -m bench.reference IN` (its build + solve, in-process timings). The optima must
agree (the reference's objective is printed beside the planner's).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _timed(cmd: list[str], log: Path) -> tuple[int, float, float]:
    """(exit code, wall seconds, peak RSS MB) of a child process."""
    t0 = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=str(ROOT), stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, wall, usage.ru_maxrss / 1024


def summary_values(plan: Path) -> dict[str, object]:
    """The plan's Summary and Run key/value rows (the phase timings are on Run since the one-page Summary)."""
    from openpyxl import load_workbook

    wb = load_workbook(plan, read_only=True, data_only=True)
    try:
        return {str(r[0]): r[1] for sheet in ("Summary", "Run") if sheet in wb.sheetnames
                for r in wb[sheet].iter_rows(values_only=True) if r and r[0] is not None}
    finally:
        wb.close()


def run_size(size: str, out: Path, seed: int, run_no: int) -> dict:
    from bench.run import ensure_workbook

    path, _meta = ensure_workbook(size, out, seed, regenerate=False)
    plan = out / f"{path.stem}-e2e-plan.xlsx"
    plan.unlink(missing_ok=True)
    rc, wall, rss = _timed([sys.executable, "-m", "planner", "-q", "run", str(path), "-o", str(plan)],
                           out / f"{path.stem}-e2e-run{run_no}.log")
    summary = summary_values(plan) if plan.exists() else {}
    ref_log = out / f"{path.stem}-e2e-ref{run_no}.log"
    _rc, ref_wall, _ = _timed([sys.executable, "-m", "bench.reference", str(path)], ref_log)
    ref = json.loads(ref_log.read_text().strip().splitlines()[-1])
    solver = float(summary.get("seconds_solver") or "nan")
    rec = {"size": size.upper(), "run": run_no, "exit_code": rc, "planner_wall_s": round(wall, 3),
           "planner_peak_rss_mb": round(rss, 1), "highs_solve_s": round(solver, 3),
           "phases": {k[len("seconds_"):]: v for k, v in summary.items() if k.startswith("seconds_")},
           "objective_usd": summary.get("objective_usd"), "reference": ref, "reference_wall_s": round(ref_wall, 3),
           "wall_over_solve": round(wall / solver, 2),
           "wall_over_reference": round(wall / ref["build_solve_s"], 2)}
    return rec


def table(rows: list[dict]) -> str:
    lines = ["| size | run | planner run wall | HiGHS solve (planner) | reference build + solve | wall / solve | "
             "wall / reference | peak RSS MB | objective planner / reference |", "|---|" + "---|" * 8]
    for r in rows:
        ref = r["reference"]
        obj = r.get("objective_usd")
        lines.append(f"| {r['size']} | {r['run']} | {r['planner_wall_s']:.2f} | {r['highs_solve_s']:.2f} | "
                     f"{ref['build_s']:.2f} + {ref['solve_s']:.2f} | {r['wall_over_solve']} | "
                     f"{r['wall_over_reference']} | {r['planner_peak_rss_mb']:.0f} | "
                     f"{obj if obj is None else f'{float(obj):,.0f}'} / {ref['objective_usd']:,.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="planner run end to end vs HiGHS and a plain-highspy reference")
    parser.add_argument("--sizes", default="30K")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for run_no in range(1, args.repeat + 1):  # sizes interleaved run by run: a busy minute hits every size
        for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
            rec = run_size(size, out, args.seed, run_no)
            rows.append(rec)
            with open(out / "e2e.jsonl", "a") as f:
                f.write(json.dumps(rec, default=str) + "\n")
            print(json.dumps({k: rec[k] for k in ("size", "run", "planner_wall_s", "highs_solve_s",
                                                  "wall_over_solve", "wall_over_reference")}), flush=True)
    print(table(rows))
    return 0 if all(r["exit_code"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
