"""Re-plan churn benchmark (issue 13, item 4): roll the shipped example one quarter with nothing new and re-plan.

Plans the input, rolls it (`planner roll`), then plans the rolled input three ways: plain, `--previous PLAN`, and
`--previous PLAN --freeze 1`. For each re-plan, the share of the previous plan's volume that moved in the
quarters both plans cover, per decision (sum |new - old| / sum old over the matched rows of Deployments
racks_deployed, Wafers wafers, HBM bought), its cost against the plain re-plan and the gap of each. Target: at
most 5% moved, at a cost within the plain re-plan's gap. One JSON line per re-plan on stdout.

    python -m bench.churn [--input inputs/example.xlsx] [--gap 0.005] [--weight 0.01]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from planner.cycle.roll import roll
from planner.cycle.stability import replan_edits
from openpyxl import load_workbook
from planner.pipeline import RunOptions, run_plan

ROOT = Path(__file__).resolve().parents[1]
MOVES = (("Deployments", ["product", "site"], "racks_deployed"), ("Wafers", ["product", "fab"], "wafers"),
         ("HBM", ["vendor"], "bought"))


def volume_moved(old: Path, new: Path, sheet: str, keys: list[str], column: str) -> float:
    """sum |new - old| / sum old over the quarters both plans cover (a row one plan lacks counts as 0)."""
    a = pd.read_excel(old, sheet, engine="openpyxl").set_index(keys + ["quarter"])[column]
    b = pd.read_excel(new, sheet, engine="openpyxl").set_index(keys + ["quarter"])[column]
    both = set(a.index.get_level_values(-1)) & set(b.index.get_level_values(-1))
    a, b = a[a.index.get_level_values(-1).isin(both)], b[b.index.get_level_values(-1).isin(both)]
    j = pd.concat([a, b], axis=1, keys=["a", "b"]).fillna(0.0)
    return float((j["a"] - j["b"]).abs().sum() / max(j["a"].abs().sum(), 1e-9))


def with_setting(src: Path, out: Path, key: str, value) -> Path:
    """A copy of `src` with Settings `key` = value (the input is never written)."""
    wb = load_workbook(src)
    ws = wb["Settings"]
    row = next((r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == key), ws.max_row + 1)
    ws.cell(row, 1, key)
    ws.cell(row, 2, value)
    wb.save(out)
    return out


def summary_value(plan: Path, key: str):
    frame = pd.read_excel(plan, "Summary", header=None, engine="openpyxl")
    hit = frame[frame[0].astype(str) == key]
    return hit.iloc[0, 1] if len(hit) else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", default=str(ROOT / "inputs" / "example.xlsx"))
    ap.add_argument("--gap", type=float, default=None, help="mip_rel_gap of every plan (default: the input's)")
    ap.add_argument("--weight", type=float, default=None, help="Settings.stability_weight (default: the input's)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = Path(args.input)
        if args.weight is not None:
            src = with_setting(src, tmp / "input.xlsx", "stability_weight", args.weight)
        options = RunOptions(mip_rel_gap=args.gap)
        plan = tmp / "plan.xlsx"
        if run_plan(src, plan, options).exit_code != 0:
            print("the input does not plan", file=sys.stderr)
            return 1
        nxt = roll(plan, src, tmp / "next.xlsx")
        started = time.perf_counter()
        plain = run_plan(nxt, tmp / "plain.xlsx", options)
        rows = [("plain", plain, tmp / "plain.xlsx", time.perf_counter() - started)]
        for freeze in (0, 1):
            out = tmp / f"previous-freeze{freeze}.xlsx"
            started = time.perf_counter()
            outcome = run_plan(nxt, out, RunOptions(mip_rel_gap=args.gap, model_edits=replan_edits(plan, freeze)))
            rows.append((f"--previous --freeze {freeze}" if freeze else "--previous", outcome, out,
                         time.perf_counter() - started))
        for label, outcome, out, seconds in rows:
            moved = {column: round(volume_moved(plan, out, sheet, keys, column), 4) for sheet, keys, column in MOVES}
            print(json.dumps({"replan": label, "wall_s": round(seconds, 1), "objective_usd": outcome.objective_usd,
                              "vs_plain": round(outcome.objective_usd / plain.objective_usd - 1, 5),
                              "mip_gap": summary_value(out, "mip_gap"), "moved": moved}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
