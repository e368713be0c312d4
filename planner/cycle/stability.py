"""`planner run NEXT --previous PLAN`: keep the previous plan's decisions wherever they are still optimal.

Two things, both from the previous plan's workbook, matched by quarter label on the quarters both plans cover:

* the stability term of models/stability.py on rack deployments, wafer starts and HBM purchases, weighted by
  Settings.stability_weight (0 switches it off);
* a MIP start: the previous plan's racks, wafers, HBM, expansion blocks and signed deals on those quarters,
  handed to HiGHS as a partial solution (HiGHS completes the rest of the plan), so a plan within the gap of
  the previous one is found first and kept.

Works with or without --freeze (frozen decisions are pinned by bounds and not counted in the term).
"""

from __future__ import annotations

from pathlib import Path

import pyomo.environ as pyo

from models.data import PlanData
from models.registry import PLAN_DECISIONS
from models.sets import USD_PER_OBJ
from models.solve import solve
from models.stability import add_stability, solve_with_stability
from planner.cycle.freeze import FreezeEdit
from planner.cycle.roll_plan import plan_value_problems
from planner.issues import Issues
from planner.output.contract import Col, DECISIONS_SHOWN
from planner.output.plan_reader import PlanReadError, numeric, read_plan, truthy

STARTED_FROM = ("Y", "W", "HB", "E")  # the stability term covers Y, W, HB (models/stability.py); the start also E
# plan sheet -> (model variable, key columns, value column): the registry's plan decisions where the contract shows them
DECISIONS = {DECISIONS_SHOWN[d.variable].sheet: (d.variable, DECISIONS_SHOWN[d.variable].keys,
                                                 DECISIONS_SHOWN[d.variable].column)
             for d in PLAN_DECISIONS if d.variable in STARTED_FROM}


REQUIRED_SHEETS = ("Summary", "Deployments", "Wafers", "HBM")  # Power is optional: a plan may have no site expansion


def previous_decisions(frames: dict, data: PlanData, model) -> tuple[dict[tuple[str, tuple], float], int]:
    """(variable, model index) -> the previous plan's value, for every index of the model whose quarter the
    previous plan covers (a covered index the plan has no row for is 0); the signed deals as ('A', (n,)). Also
    how many of the plan's non-zero decision rows in those quarters name no index of this model."""
    t_of = {q: t for t, q in enumerate(data.quarters)}
    out: dict[tuple[str, tuple], float] = {}
    unmatched = 0
    for sheet, (name, keys, column) in DECISIONS.items():
        frame = frames.get(sheet)
        if frame is None or column not in frame.columns or Col.quarter not in frame.columns:
            continue
        frame = numeric(frame, column)
        covered = {t_of[q] for q in frame[Col.quarter].astype(str) if q in t_of}
        var = getattr(model, name)
        for idx in var:
            if idx[-1] in covered:
                out[(name, idx)] = 0.0
        for row in frame.to_dict("records"):
            q = str(row[Col.quarter])
            idx = tuple(str(row[k]) for k in keys) + (t_of.get(q, -1),)
            if (name, idx) in out:
                out[(name, idx)] = float(row[column])
            elif q in t_of and abs(float(row[column])) > 1e-9:
                unmatched += 1
    partners = frames.get("Partners")
    if partners is not None and Col.signed in partners.columns:
        for n, signed in zip(partners[Col.partner].astype(str), partners[Col.signed]):
            if n in model.A:
                out[("A", (n,))] = 1.0 if truthy(signed) else 0.0
    return out, unmatched


def mip_start(model, previous: dict[tuple[str, tuple], float]) -> list:
    """(VarData, value) pairs: the previous plan's decisions on the model's variables (whole where integer)."""
    start = []
    for (name, idx), value in previous.items():
        v = getattr(model, name)[idx[0] if name == "A" else idx]
        start.append((v, float(round(value)) if (v.is_integer() or v.is_binary()) else value))
    return start


def apply_stability(model, data: PlanData, previous_plan: Path, issues) -> tuple[list, dict]:
    """Add the stability term and build the MIP start. Returns (start, summary facts). A previous plan that
    cannot be read, is not a plan or holds hand-edited values is an error at its cell; one whose decisions name
    none of this input's products, sites, fabs or vendors is a warning (planned without the term)."""
    path = Path(previous_plan)
    weight = float(getattr(data.settings, "stability_weight", 0.0) or 0.0)
    try:
        frames = read_plan(path, [*REQUIRED_SHEETS, *DECISIONS, "Partners"], required=REQUIRED_SHEETS, as_written=True)
    except PlanReadError as exc:
        issues.error("", path.name, "", str(path), f"--previous: {exc}")
        return [], {}
    problems = plan_value_problems(path, {k: v for k, v in frames.items() if k in DECISIONS or k == "Partners"})
    for problem in problems:
        where, _sep, text = problem.partition(": ")
        issues.error("", where, "", None, f"--previous: {text} (the plan was edited by hand?); fix or remove it")
    if problems:
        return [], {}
    previous, unmatched = previous_decisions(frames, data, model)
    if unmatched and not any(abs(v) > 1e-9 for (name, _i), v in previous.items() if name != "A"):
        issues.warning("", path.name, "", None, f"--previous: none of the previous plan's {unmatched} decision(s) "
                       "in this horizon names a product, site, fab or vendor of this input (a plan of another "
                       "workbook?); planned without the stability term")
        return [], {}
    covered = add_stability(model, data, previous, weight)
    return mip_start(model, previous), {"stability_weight": weight, "stability_decisions": covered}


class StabilityEdit:
    """Model edit of `--previous PLAN`: the stability term toward the previous plan and a MIP start from it; the
    plan is solved by models/stability.py::solve_with_stability (plan A kept when within the gap)."""

    def __init__(self, previous_plan: Path):
        self.previous_plan = Path(previous_plan)
        self.start: list = []
        self.facts: dict = {}
        self.failure_message = ""  # set when the previous plan cannot be used (pipeline.run_plan prints it)

    def apply(self, model, sets, data: PlanData, issues: Issues) -> None:
        if not issues.ok:  # e.g. the freeze could not read the same plan: said once, there
            return
        before = len(issues.errors)
        self.start, self.facts = apply_stability(model, data, self.previous_plan, issues)
        if len(issues.errors) > before:
            self.failure_message = "the previous plan cannot be used (see its errors)"

    def solve(self, model, options, warm=None, start=()):
        if self.facts.get("stability_decisions"):
            return solve_with_stability(model, options, list(start))
        return solve(model, options, warm=warm, start=list(start))

    def summary_rows(self, model) -> list[tuple[str, object, str]]:
        """Summary rows of the stability term: its weight, the decisions it covers, its cost at this plan."""
        if not self.facts:
            return []
        cost = pyo.value(model.cost_stability) * USD_PER_OBJ if hasattr(model, "cost_stability") else 0.0
        return [("stability_weight", self.facts["stability_weight"], "Settings: share of a decision's unit cost "
                 "charged per unit it moves from the previous plan"),
                ("stability_decisions", self.facts["stability_decisions"], "racks, wafers and HBM purchases of the "
                 "quarters the previous plan covers"),
                ("stability_cost_usd", cost, "the stability term at this plan (weight x unit cost x units moved); "
                 "not in objective_usd")]


def replan_edits(previous_plan: Path, freeze_quarters: int = 0) -> list:
    """The model edits of `--previous PLAN [--freeze N]`: the freeze first (frozen decisions are then not in
    the stability term), then the stability term and the MIP start."""
    edits: list = [FreezeEdit(Path(previous_plan), freeze_quarters)] if freeze_quarters > 0 else []
    return edits + [StabilityEdit(Path(previous_plan))]
