"""Time the planner per phase on synthetic workbooks of several sizes.

    python -m bench.run --sizes S,M                 # generate (cached in bench/out/), run, print tables
    python -m bench.run --sizes L --timeout 2400    # one size, killed after 40 minutes
    python -m bench.run --sizes M --repeat 3 --out /tmp/bench

Each run is a fresh subprocess (`python -m bench.run --worker ...`), so peak memory
(`ru_maxrss`) is that run's alone. The worker calls `planner.pipeline.run_plan` with
`WriteOptions(max_sheet_rows=200_000)` (longer tables go to parquet files beside the workbook) and
measures the phases run_plan reports: read, validate, build, handoff (Pyomo -> HiGHS standard form),
solver (HiGHS run), duals, extract, write; plus `load` (the rest of the solve phase: solution values
back into Pyomo) and `other` (wall time not in any phase). Model size and memory per phase come through the
pipeline's own hooks (planner.pipeline.Hooks); nothing is patched. A JSON line per run, with machine info, is appended to <out>/results.jsonl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PHASES = ("read", "validate", "build", "handoff", "solver", "duals", "load", "extract", "write", "other")
MAX_SHEET_ROWS = 200_000


# ------------------------------------------------------------------------------------------------
# worker: one run_plan in this process
# ------------------------------------------------------------------------------------------------
def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _maxrss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / (1024 * 1024) if sys.platform == "darwin" else kb / 1024  # bytes on macOS, KiB on Linux


def worker(input_path: str, output_path: str, result_path: str, time_limit_s: float | None,
           threads: int | None) -> int:
    import logging

    import pyomo.environ as pyo

    import models.solve as msolve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")  # phases -> the run's log
    import planner.pipeline as prun
    from planner.output.plan_writer import WriteOptions

    captured: dict[str, object] = {}
    phase_peaks: dict[str, float] = {}
    phase_rss: dict[str, float] = {}

    class Measure(prun.Hooks):  # the pipeline's own hooks: peak and current RSS per phase, the model and result
        def phase_done(self, name, seconds):
            phase_peaks[name] = round(_maxrss_mb(), 1)
            phase_rss[name] = round(_rss_mb(), 1)

        def built(self, model, sets, data):
            captured["model"] = model

        def solved(self, result):
            captured["result"] = result

        def extracted(self, solution):
            captured["solution"] = solution

    baseline_mb = _maxrss_mb()
    options = prun.RunOptions(time_limit_s=time_limit_s, threads=threads)
    write_options = WriteOptions(max_sheet_rows=MAX_SHEET_ROWS)
    t0 = time.perf_counter()
    error = None
    try:
        outcome = prun.run_plan(input_path, output_path, options, write_options=write_options, hooks=Measure())
    except Exception as exc:  # report it as a failed run, not a crash of the benchmark
        import traceback
        traceback.print_exc()
        outcome, error = None, f"{type(exc).__name__}: {exc}"
    wall = time.perf_counter() - t0
    peak_mb = _maxrss_mb()

    rec: dict[str, object] = {"wall_s": wall, "peak_rss_mb": round(peak_mb, 1),
                              "baseline_rss_mb": round(baseline_mb, 1), "phase_peak_rss_mb": phase_peaks,
                              "phase_rss_mb": phase_rss, "error": error}
    if outcome is not None:
        ph = dict(outcome.phases)
        rec.update(status=outcome.status, exit_code=outcome.exit_code, message=outcome.message,
                   objective_usd=outcome.objective_usd, raw_phases=ph,
                   issues=len(outcome.issues) if outcome.issues is not None else None,
                   detail_files=[str(p) for p in write_options.detail_files])
    else:
        rec.update(status="crash", exit_code=None, raw_phases={})
    model = captured.get("model")
    if model is not None:
        rec["variables"] = sum(len(v) for v in model.component_objects(pyo.Var))
        rec["constraints"] = sum(len(c) for c in model.component_objects(pyo.Constraint, active=True))
        rec["by_var"] = {v.local_name: len(v) for v in model.component_objects(pyo.Var)}
    result = captured.get("result")
    if result is not None:
        rec["algorithm"] = result.algorithm
        rec["mip_gap"] = result.mip_gap
        rec["solver"] = result.solver
        form = result.form
        if form is not None:
            rec["highs_cols"] = int(form.lp.num_col_)
            rec["highs_rows"] = int(form.lp.num_row_)
            rec["highs_nnz"] = int(len(form.lp.a_matrix_.index_))
            rec["integer_variables"] = int(len(form.integer_columns))
    solution = captured.get("solution")
    if solution is not None:
        rec["service_level"] = solution.kpis.get("service_level")
        rec["total_demand_tps"] = solution.kpis.get("total_demand_tps")
    rec["versions"] = {"highspy": _version("highspy"), "pyomo": _version("pyomo"), "solver": msolve.solver_version()}
    Path(result_path).write_text(json.dumps(rec, default=str))
    return 0


# ------------------------------------------------------------------------------------------------
# parent: generate, spawn workers, summarise
# ------------------------------------------------------------------------------------------------
def _version(package: str) -> str | None:
    try:
        from importlib.metadata import version
        return version(package)
    except Exception:
        return None


def machine_info() -> dict[str, object]:
    mem_gb = None
    try:
        with open("/proc/meminfo") as f:
            mem_gb = round(int(f.readline().split()[1]) / 1024 ** 2, 1)
    except OSError:
        pass
    cpu_model = None
    try:
        with open("/proc/cpuinfo") as f:
            cpu_model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), None)
    except OSError:
        pass
    commit = None
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "planner", "models"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        if commit and dirty:
            commit += "+dirty"
    except Exception:
        pass
    return {"platform": platform.platform(), "machine": platform.machine(), "cpu": cpu_model,
            "cpu_count": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else None, "mem_gb": mem_gb, "python": platform.python_version(), "pyomo": _version("pyomo"),
            "highspy": _version("highspy"), "pandas": _version("pandas"), "openpyxl": _version("openpyxl"),
            "numpy": _version("numpy"), "git": commit,
            "date": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_workbook(size: str, out: Path, seed: int, regenerate: bool) -> tuple[Path, dict]:
    """The input workbook of `size` in `out`, generated unless a cached one from the same generator exists."""
    from bench import generate as gen
    size = size.upper()
    stem = size if size == "S" else f"{size}-seed{seed}"
    path = out / f"{stem}.xlsx"
    meta_path = out / f"{stem}.json"
    stamp = {"size": size, "seed": seed, "generator_version": gen.GENERATOR_VERSION,
             "generator_sha256": _sha256(Path(gen.__file__))}
    if size != "S" and not regenerate and path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if all(meta.get(k) == v for k, v in stamp.items()):
            return path, meta
    t0 = time.perf_counter()
    info = gen.generate(size, path, seed)
    meta = {**stamp, **info, "generate_s": round(time.perf_counter() - t0, 2), "input_sha256": _sha256(path)}
    meta_path.write_text(json.dumps(meta, indent=1, default=str))
    return path, meta


def run_one(size: str, path: Path, out: Path, run_no: int, timeout: float | None, time_limit_s: float | None,
            threads: int | None) -> dict:
    stem = path.stem
    output = out / f"{stem}-plan.xlsx"
    result_path = out / f"{stem}-run{run_no}.result.json"
    log_path = out / f"{stem}-run{run_no}.log"
    result_path.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench.run", "--worker", str(path), "--worker-output", str(output),
           "--worker-result", str(result_path)]
    if time_limit_s is not None:
        cmd += ["--time-limit", str(time_limit_s)]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    t0 = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = None
    elapsed = time.perf_counter() - t0
    if result_path.exists():
        rec = json.loads(result_path.read_text())
    else:
        tail = log_path.read_text()[-2000:] if log_path.exists() else ""
        rec = {"status": "timeout" if rc is None else "crash", "exit_code": rc, "raw_phases": {},
               "error": (f"killed after {timeout:.0f} s" if rc is None else f"worker exit {rc}") + "\n" + tail}
    rec["process_s"] = round(elapsed, 2)
    rec["worker_rc"] = rc
    rec["log"] = str(log_path)
    return rec


def derive(rec: dict) -> dict:
    """Per-phase seconds (including load and other), total, shares and ratios."""
    ph = rec.get("raw_phases") or {}
    if not ph:
        return {}
    phases = {k: float(ph.get(k, 0.0)) for k in ("read", "validate", "build", "handoff", "solver", "duals",
                                                 "extract", "write")}
    solve = float(ph.get("solve", 0.0))
    phases["load"] = max(0.0, solve - phases["handoff"] - phases["solver"] - phases["duals"])
    total = float(rec.get("wall_s") or 0.0)
    accounted = sum(float(ph.get(k, 0.0)) for k in ("read", "validate", "build", "solve", "extract", "write"))
    phases["other"] = max(0.0, total - accounted)
    solver = phases["solver"]
    return {
        "phases_s": {k: round(phases[k], 3) for k in PHASES},
        "share": {k: round(phases[k] / total, 4) if total else None for k in PHASES},
        "total_s": round(total, 3),
        "total_over_solver": round(total / solver, 2) if solver else None,
        "total_excl_write_over_solver": round((total - phases["write"]) / solver, 2) if solver else None,
    }


def _fmt_int(x) -> str:
    return f"{x:,}" if isinstance(x, int) else ""


def _fmt_s(x) -> str:
    if x is None:
        return ""
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def print_tables(rows: list[dict]) -> str:
    lines = ["| size | run | variables | integer | constraints | HiGHS rows x cols (nnz) | status | objective USD | "
             "service level | algorithm | peak RSS MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        rec = r["rec"]
        highs = (f"{rec['highs_rows']:,} x {rec['highs_cols']:,} ({rec['highs_nnz']:,})"
                 if "highs_rows" in rec else "")
        obj = rec.get("objective_usd")
        sl = rec.get("service_level")
        lines.append(f"| {r['size']} | {r['run']} | {_fmt_int(rec.get('variables'))} | "
                     f"{_fmt_int(rec.get('integer_variables'))} | {_fmt_int(rec.get('constraints'))} | {highs} | "
                     f"{rec.get('status')} | {'' if obj is None else f'{obj:,.0f}'} | "
                     f"{'' if sl is None else f'{sl:.1%}'} | {rec.get('algorithm', '')} | "
                     f"{rec.get('peak_rss_mb', '')} |")
    lines += ["", "Seconds per phase (share of total):", "",
              "| size | " + " | ".join(PHASES) + " | total | total/solver | (total-write)/solver |",
              "|---|" + "---|" * (len(PHASES) + 3)]
    for r in rows:
        d = r["derived"]
        if not d:
            lines.append(f"| {r['size']} | " + " | ".join("" for _ in PHASES)
                         + f" | {r['rec'].get('process_s', '')} | | |")
            continue
        cells = [f"{_fmt_s(d['phases_s'][k])} ({d['share'][k]:.0%})" for k in PHASES]
        lines.append(f"| {r['size']} | " + " | ".join(cells) + f" | {_fmt_s(d['total_s'])} | "
                     f"{d['total_over_solver'] or ''} | {d['total_excl_write_over_solver'] or ''} |")
    text = "\n".join(lines)
    print(text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the planner per phase on synthetic workbooks.")
    parser.add_argument("--sizes", default="S,M", help="comma-separated: S, S-GEN, 30K, M, L, MIP-S, MIP-30K, MIP-M")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=None, help="kill a run after this many seconds")
    parser.add_argument("--time-limit", type=float, default=None, help="solver time limit (default: Settings)")
    parser.add_argument("--threads", type=int, default=None, help="solver threads (default: Settings)")
    parser.add_argument("--regenerate", action="store_true", help="write the workbooks again even if cached")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-output", help=argparse.SUPPRESS)
    parser.add_argument("--worker-result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        return worker(args.worker, args.worker_output, args.worker_result, args.time_limit, args.threads)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not (out / ".gitignore").exists():  # generated workbooks, plans and logs stay out of git
        (out / ".gitignore").write_text("*\n")
    machine = machine_info()
    print(f"machine: {machine['platform']}, {machine['cpu']}, {machine['cpu_count']} CPUs, {machine['mem_gb']} GB; "
          f"python {machine['python']}, pyomo {machine['pyomo']}, highspy {machine['highspy']}; git {machine['git']}",
          flush=True)
    rows = []
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        path, meta = ensure_workbook(size, out, args.seed, args.regenerate)
        est = meta.get("variables", {}).get("total")
        print(f"{size}: {path} ({meta.get('source')}), estimated variables {est:,}", flush=True)
        for run_no in range(1, args.repeat + 1):
            rec = run_one(size, path, out, run_no, args.timeout, args.time_limit, args.threads)
            derived = derive(rec)
            rows.append({"size": size.upper(), "run": run_no, "rec": rec, "derived": derived})
            line = {"machine": machine, "size": size.upper(), "run": run_no, "seed": meta.get("seed"),
                    "input": str(path), "input_sha256": meta.get("input_sha256"), "source": meta.get("source"),
                    "estimated_variables": est, "timeout_s": args.timeout, "time_limit_s": args.time_limit,
                    "threads": args.threads, **derived,
                    **{k: v for k, v in rec.items() if k not in ("raw_phases",)}, "raw_phases": rec.get("raw_phases")}
            with open(out / "results.jsonl", "a") as f:
                f.write(json.dumps(line, default=str) + "\n")
            status = rec.get("status")
            print(f"  run {run_no}: {status} in {rec.get('process_s')} s"
                  + (f" ({rec.get('error').splitlines()[0]})" if rec.get("error") else ""), flush=True)
    print()
    print_tables(rows)
    return 0 if all(r["rec"].get("status") in ("optimal", "feasible") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
