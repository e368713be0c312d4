"""The ScenarioWeights sheet (stochastic.md): the weighted scenario set of a hedged plan."""

from __future__ import annotations

from planner.input.checks.rows import ValidationContext, known_text, read_table
from planner.input.convert import to_text
from planner.input.reader import RawSheet, RawWorkbook

BASE = "base"  # the workbook as it is, without a scenario's overrides


def scenario_names(raw: RawWorkbook) -> list[str]:
    """The scenarios of the Scenarios sheet, in their first order, each once."""
    sheet = raw.sheets.get("Scenarios")
    if sheet is None:
        return []
    names = (to_text(r.values.get("scenario")) for r in sheet.rows)
    return list(dict.fromkeys(n for n in names if n))


def _probability_range(sheet: RawSheet) -> str:
    """The probability cells as a range, where a total that is not 1 is reported."""
    letter = sheet.columns.get("probability", "B")
    last = max(sheet.header_row + 1, sheet.header_row + len(sheet.rows))
    return f"{sheet.title}!{letter}{sheet.header_row + 1}:{letter}{last}"


def check_scenario_weights(ctx: ValidationContext) -> dict[str, float] | None:
    """Each scenario is base or one of the Scenarios sheet (matched regardless of case), probabilities >= 0
    adding up to 1 within 1e-6. None without the sheet (or with no rows); every problem is a located error."""
    sheet = ctx.raw.sheets.get("ScenarioWeights")
    if sheet is None or not sheet.rows:  # an empty sheet (as in the template) is no scenario set
        return None
    rows = read_table(ctx, "ScenarioWeights", {})
    known = scenario_names(ctx.raw)
    by_fold: dict[str, list[str]] = {}
    for n in known:
        by_fold.setdefault(n.casefold(), []).append(n)
    weights: dict[str, float] = {}
    first_at: dict[str, str] = {}
    probabilities: list[float] = []  # of every row with a readable probability, whether its name is known or not
    for row in rows:
        name = str(row.values["scenario"])
        folded = by_fold.get(name.casefold(), [])
        canonical = BASE if name.casefold() == BASE else name if name in known else             folded[0] if len(folded) == 1 else None
        cell = row.cells["scenario"]
        if row.ok:
            probabilities.append(float(row.values["probability"]))
        if canonical is None and len(folded) > 1:
            ctx.issues.error("ScenarioWeights", cell, "scenario", name, f"scenario '{name}' could be any of "
                             f"{known_text(folded)} (names that differ only by case): write it as in the Scenarios "
                             "sheet")
        elif canonical is None:
            ctx.issues.error("ScenarioWeights", cell, "scenario", name,
                             f"unknown scenario '{name}': not in the Scenarios sheet and not base "
                             f"(known: {known_text([BASE] + known)})")
        elif canonical in first_at:
            ctx.issues.error("ScenarioWeights", cell, "scenario", name, f"scenario '{canonical}' is weighted twice "
                             f"(first at {first_at[canonical]}): one row per scenario")
        elif row.ok:
            weights[canonical] = float(row.values["probability"])
            if weights[canonical] == 0:
                ctx.issues.warning("ScenarioWeights", row.cells["probability"], "probability", 0.0,
                                   f"scenario '{canonical}' has probability 0: in a hedged plan its constraints "
                                   "still bind every commitment (the commitments must suit it too), its cost counts "
                                   "for nothing; delete the row to leave it out")
        if canonical is not None:
            first_at.setdefault(canonical, cell)
    total = sum(probabilities)
    # the total is only meaningful when every row gave a probability: a bad probability is reported already
    if len(probabilities) == len(rows) == len(sheet.rows) and abs(total - 1.0) > 1e-6:
        ctx.issues.error("ScenarioWeights", _probability_range(sheet), "probability", total,
                         f"the probabilities add up to {total:.6g}, not 1 (within 1e-6)")
    return weights
