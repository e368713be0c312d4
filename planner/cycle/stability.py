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

from models.data import PlanData
from models.stability import add_stability
from planner.cycle.diff import PlanReadError, numeric, read_plan, truthy

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
