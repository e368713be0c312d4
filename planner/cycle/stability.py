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
from models.sets import USD_PER_OBJ
from models.solve import solve
from models.stability import add_stability, solve_with_stability
from planner.cycle.freeze import FreezeEdit
from planner.issues import Issues
from planner.output.plan_reader import PlanReadError, numeric, read_plan, truthy

# plan sheet -> (model variable, key columns, value column)
DECISIONS = {"Deployments": ("Y", ("product", "site"), "racks_deployed"),
             "Wafers": ("W", ("product", "fab"), "wafers"),
             "HBM": ("HB", ("vendor",), "bought"),
             "Power": ("E", ("site",), "blocks_started")}


def previous_decisions(path: Path, data: PlanData, model) -> dict[tuple[str, tuple], float]:
    """(variable, model index) -> the previous plan's value, for every index of the model whose quarter the
    previous plan covers (a covered index the plan has no row for is 0); the signed deals as ('A', (n,))."""
    frames = read_plan(path, ["Summary", *DECISIONS, "Partners"], required=("Summary",))
    t_of = {q: t for t, q in enumerate(data.quarters)}
    out: dict[tuple[str, tuple], float] = {}
    for sheet, (name, keys, column) in DECISIONS.items():
        frame = frames.get(sheet)
        if frame is None or column not in frame.columns or "quarter" not in frame.columns:
            continue
        frame = numeric(frame, column)
        covered = {t_of[q] for q in frame["quarter"].astype(str) if q in t_of}
        var = getattr(model, name)
        for idx in var:
            if idx[-1] in covered:
                out[(name, idx)] = 0.0
        for row in frame.to_dict("records"):
            q = str(row["quarter"])
            idx = tuple(str(row[k]) for k in keys) + (t_of.get(q, -1),)
            if (name, idx) in out:
                out[(name, idx)] = float(row[column])
    partners = frames.get("Partners")
    if partners is not None and "signed" in partners.columns:
        for n, signed in zip(partners["partner"].astype(str), partners["signed"]):
            if n in model.A:
                out[("A", (n,))] = 1.0 if truthy(signed) else 0.0
    return out


def mip_start(model, previous: dict[tuple[str, tuple], float]) -> list:
    """(VarData, value) pairs: the previous plan's decisions on the model's variables (whole where integer)."""
    start = []
    for (name, idx), value in previous.items():
        v = getattr(model, name)[idx[0] if name == "A" else idx]
        start.append((v, float(round(value)) if (v.is_integer() or v.is_binary()) else value))
    return start


def apply_stability(model, data: PlanData, previous_plan: Path, issues) -> tuple[dict, dict]:
    """Add the stability term and build the MIP start. Returns (start, summary facts); a previous plan that
    cannot be read is a warning (the plan is made without it)."""
    weight = float(getattr(data.settings, "stability_weight", 0.0) or 0.0)
    try:
        previous = previous_decisions(Path(previous_plan), data, model)
    except PlanReadError as exc:
        issues.warning("", Path(previous_plan).name, "", str(previous_plan), f"--previous: {exc}; planned without "
                       "the stability term")
        return [], {}
    covered = add_stability(model, data, previous, weight)
    facts = {"stability_weight": weight, "stability_decisions": covered}
    return mip_start(model, previous), facts


class StabilityEdit:
    """Model edit of `--previous PLAN`: the stability term toward the previous plan and a MIP start from it; the
    plan is solved by models/stability.py::solve_with_stability (plan A kept when within the gap)."""

    def __init__(self, previous_plan: Path):
        self.previous_plan = Path(previous_plan)
        self.start: list = []
        self.facts: dict = {}

    def apply(self, model, sets, data: PlanData, issues: Issues) -> None:
        self.start, self.facts = apply_stability(model, data, self.previous_plan, issues)

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
