"""The Uncertainty sheet: one random scale factor per row (`sheet, key, column, distribution, p1, p2, p3`), read
with located errors and sampled draw by draw from one `numpy.random.default_rng(seed)` (planner sweep and the
hedged plan's --draws use the same draws). Free of the solver: `planner validate` checks the sheet without
importing Pyomo or HiGHS.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from planner.input.convert import CellError, to_number, to_text
from planner.input.reader import RawWorkbook
from planner.input.schema import SETTINGS
from planner.issues import Issues
from planner.whatif.overrides import resolve
from planner.whatif.scenarios import Override, apply_overrides

DISTRIBUTIONS = ("uniform", "normal", "triangular")
UNCERTAINTY_COLUMNS = ("sheet", "key", "column", "distribution", "p1", "p2")
MAX_FACTOR_PARAMETER = 1000.0  # a factor (or its spread) above 1,000x overflows the model's numbers


@dataclass
class Factor:
    """One row of the Uncertainty sheet: a random scale factor of some input cells."""

    name: str  # column of the draws table
    override: Override  # operation scale; value replaced by the sampled factor
    distribution: str
    p1: float
    p2: float
    p3: float | None
    cell: str  # the Uncertainty row's first cell

    def sample(self, rng: np.random.Generator) -> float:
        if self.distribution == "uniform":
            return float(rng.uniform(self.p1, self.p2))
        if self.distribution == "normal":
            return max(0.0, float(rng.normal(self.p1, self.p2)))
        if self.p1 == self.p3:
            rng.uniform()  # keep one number drawn per factor, whatever its parameters
            return float(self.p1)
        return float(rng.triangular(self.p1, self.p2, self.p3))


# ---- the Uncertainty sheet --------------------------------------------------------------------------

def read_uncertainty(raw: RawWorkbook, issues: Issues) -> list[Factor]:
    """The factors of the Uncertainty sheet, each checked (parameters, and its cells exist) and located."""
    sheet = raw.sheets.get("Uncertainty")
    if sheet is None:
        return []
    missing = [c for c in UNCERTAINTY_COLUMNS if c not in sheet.columns]
    if missing:
        issues.error(sheet="Uncertainty", cell=f"{sheet.title}!{sheet.header_row}:{sheet.header_row}",
                     column=", ".join(missing), value=None,
                     message=f"Uncertainty is missing column(s) {', '.join(missing)} "
                             f"(expected: sheet, key, column, distribution, p1, p2, p3)")
        return []
    factors: list[Factor] = []
    names: dict[str, int] = {}
    probe = copy.deepcopy(raw)
    for row in sheet.rows:
        v = row.values
        cells = {c: sheet.cell(c, row.excel_row) for c in ("sheet", "key", "column", "distribution", "p1", "p2", "p3")}
        ov = Override(v.get("sheet"), v.get("key"), v.get("column"), "scale", 1.0,
                      {"sheet": cells["sheet"], "key": cells["key"], "column": cells["column"],
                       "operation": cells["distribution"], "value": cells["p1"]}, cells["sheet"], "Uncertainty")
        ok = True
        dist = (to_text(v.get("distribution")) or "").lower()
        if dist not in DISTRIBUTIONS:
            issues.error(sheet="Uncertainty", cell=cells["distribution"], column="distribution",
                         value=v.get("distribution"), message="unknown distribution; write uniform, normal or triangular")
            ok = False
        params: dict[str, float | None] = {}
        for p in ("p1", "p2", "p3"):
            try:
                x = to_number(v.get(p))
            except CellError as exc:
                issues.error(sheet="Uncertainty", cell=cells[p], column=p, value=v.get(p), message=str(exc))
                ok = False
                continue
            if x is not None and x < 0:
                issues.error(sheet="Uncertainty", cell=cells[p], column=p, value=x,
                             message=f"{p} cannot be negative (factors scale input values)")
                ok = False
            params[p] = x
        if ok:
            ok = _check_parameters(dist, params, cells, issues)
        # the target must exist: apply the factor 1 to a scratch copy (errors are located at this row)
        before = len(issues.errors)
        apply_overrides(probe, [ov], issues)
        ok &= len(issues.errors) == before
        if ok:
            ok = _whole_targets_keep_whole(probe, ov, dist, params, cells, issues)
        if not ok:
            continue
        label = f"{to_text(v.get('sheet'))}|{to_text(v.get('key'))}|{to_text(v.get('column'))}"
        names[label] = names.get(label, 0) + 1
        if names[label] > 1:
            label += f"#{names[label]}"
        factors.append(Factor(f"factor {label}", ov, dist, params["p1"], params["p2"], params.get("p3"),
                              cells["sheet"]))
    return factors


def _whole_targets_keep_whole(raw: RawWorkbook, ov: Override, dist: str, p: dict[str, float | None],
                              cells: dict[str, str], issues: Issues) -> bool:
    """A whole-number column (max_blocks, lead_quarters, life_quarters, quarters, commit_quarters...) scaled by a
    sampled factor is fractional in (almost) every draw, so every draw would be refused: said here, at the row,
    unless the factor cannot vary (uniform a..a, normal with sd 0, triangular a..a)."""
    target = resolve(raw, ov, Issues())
    if target is None or _fixed_factor(dist, p):
        return True
    if target.spec.kind == "settings":
        keys = {str(r.values.get("key")).strip().lower() for r in target.rows}
        whole = [st.key for st in SETTINGS if st.key in keys and st.dtype == "int"]
    else:
        named = {col.name: col for col in target.spec.columns}
        whole = [c for c in target.columns if getattr(named.get(c, target.spec.value), "dtype", "") == "int"]
    if not whole:
        return True
    issues.error(sheet="Uncertainty", cell=cells["distribution"], column="distribution", value=dist,
                 message=f"{target.spec.name} {', '.join(whole)} is a whole number: scaled by a sampled factor it is "
                         "fractional in almost every draw, and every such draw would be refused; sample a column "
                         "that may be fractional, or list the cases as Scenarios rows")
    return False


def _fixed_factor(dist: str, p: dict[str, float | None]) -> bool:
    if dist == "normal":
        return not p.get("p2")
    return p.get("p1") == p.get("p2") and (dist != "triangular" or p.get("p3") in (None, p.get("p1")))


def _check_parameters(dist: str, p: dict[str, float | None], cells: dict[str, str], issues: Issues) -> bool:
    def err(name: str, message: str) -> bool:
        issues.error(sheet="Uncertainty", cell=cells[name], column=name, value=p.get(name), message=message)
        return False

    for name in ("p1", "p2") + (("p3",) if dist == "triangular" else ()):
        if p.get(name) is None:
            return err(name, f"{name} is required for a {dist} factor")
    for name in ("p1", "p2", "p3"):
        if p.get(name) is not None and p[name] > MAX_FACTOR_PARAMETER:
            return err(name, f"{name} = {p[name]:g} is too large for a scale factor (at most {MAX_FACTOR_PARAMETER:g}); "
                             "factors multiply input values (1.1 = +10%)")
    p1, p2, p3 = p["p1"], p["p2"], p.get("p3")
    if dist == "uniform" and p1 > p2:
        return err("p2", f"uniform: the high p2 ({p2:g}) is below the low p1 ({p1:g})")
    if dist == "triangular" and not p1 <= p2 <= p3:
        return err("p2", f"triangular: need low p1 <= mode p2 <= high p3 (found {p1:g}, {p2:g}, {p3:g})")
    return True


def sample_factors(factors: list[Factor], draws: int, seed: int) -> np.ndarray:
    """draws x factors matrix, sampled draw by draw from one default_rng(seed)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((draws, len(factors)))
    for d in range(draws):
        for j, f in enumerate(factors):
            out[d, j] = f.sample(rng)
    return out
