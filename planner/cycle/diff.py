"""planner diff OLD.xlsx NEW.xlsx -o DIFF.xlsx: what changed between two plans, and which input cells explain it.

Reads two plan workbooks (their contract sheets and the InputValues echo) and writes DIFF.xlsx:

* ``Summary``    the changes in plain language, first;
* ``KPIs``       the Summary keys of both plans side by side (objective, service level, capex, ...);
* ``Decisions``  decisions that changed, ranked by cost impact: wafers by fab, HBM bought by vendor, racks by
                 site and product, expansion blocks by site, deals signed and partner funding. The impact is
                 the change times the input price the new plan used (InputValues): wafer_cost_usd (or
                 FabWaferCost), price_usd_per_stack, rack_capex_usd, capex_usd_per_mw x block_mw,
                 fixed_deal_cost_usd, financing_cost_rate. Undiscounted: an approximation to rank by.
* ``Bottlenecks`` limits that started or stopped binding (the plans' Bottlenecks sheets);
* ``InputChanges`` every input value that differs (InputValues of both plans joined on sheet, key and column),
                 with the decisions and limits it bears on;
* ``OutsideOverlap`` decisions in quarters only one plan covers (after a roll the horizons differ by a quarter).

Quarters are compared by label, so a rolled plan (horizon shifted by one quarter) is compared on the quarters
both plans cover.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from models.registry import FAMILIES
from planner.quarters import parse_quarter, quarter_index
from planner.output.xlsx import check_target, safe_save, write_frame, write_key_values

EXIT_OK, EXIT_INVALID = 0, 2
TOL = 1e-6


class PlanReadError(Exception):
    """A plan workbook cannot be read; the message says which file and why."""


def _engine() -> str:
    """calamine reads plan workbooks several times faster; it is a test extra, openpyxl always works."""
    return "calamine" if importlib.util.find_spec("python_calamine") else "openpyxl"


def read_plan(path: str | Path, sheets: list[str] | tuple[str, ...] | None = None,
              required: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
    """The named sheets of a plan workbook as frames (all sheets when `sheets` is None).

    Keys stay text: 'NA' (a region) and 'None' are never read as missing values. A sheet the file lacks is
    left out, unless it is `required`, which raises PlanReadError."""
    path = Path(path)
    if not path.is_file():
        raise PlanReadError(f"the plan workbook {path} does not exist")
    try:
        book = pd.ExcelFile(path, engine=_engine())
    except Exception as exc:  # calamine / openpyxl raise many types on damaged files
        raise PlanReadError(f"{path.name} is not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from exc
    with book:
        names = book.sheet_names
        missing = [s for s in required if s not in names]
        if missing:
            raise PlanReadError(f"{path.name} is not a plan workbook: sheet(s) {', '.join(missing)} missing "
                                f"(it has {', '.join(names[:12])})")
        wanted = names if sheets is None else [s for s in sheets if s in names]
        frames = pd.read_excel(book, sheet_name=wanted, keep_default_na=False, na_values=[""]) if wanted else {}
    for frame in frames.values():
        frame.columns = [str(c) for c in frame.columns]
    return frames


def plan_cell(path: str | Path, frame: pd.DataFrame, position: int, column: str, sheet: str) -> str:
    """'PLAN.xlsx Wafers!D5': where row `position` (0-based, in file order) of a plan sheet's column lies."""
    col = list(frame.columns).index(column) + 1 if column in frame.columns else 1
    return f"{Path(path).name} {sheet}!{get_column_letter(col)}{position + 2}"


def summary_values(frames: dict[str, pd.DataFrame]) -> dict[str, object]:
    s = frames.get("Summary")
    if s is None or "key" not in s.columns:
        return {}
    return {str(k): v for k, v in zip(s["key"], s["value"])}


def numeric(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Coerce columns to floats (blank -> 0); a sheet with no rows reads as text."""
    frame = frame.copy()
    for c in columns:
        if c in frame.columns:
            frame[c] = pd.to_numeric(frame[c], errors="coerce").fillna(0.0).astype(float)
    return frame


def truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "y")
    try:
        return bool(value) and not (isinstance(value, float) and math.isnan(value))
    except (TypeError, ValueError):
        return False


# ---- what a plan decided ---------------------------------------------------------------------------------

DECISION_COLUMNS = ["decision", "key", "detail", "quarter", "value", "unit"]
KPI_SKIP_PREFIXES = ("seconds_", "option_", "override_", "bottleneck_", "detail_file", "unmet_reason_")
KPI_SKIP = frozenset({"solve_seconds", "solved_at", "input_sha256", "planner_version", "solver", "input_file",
                      "status_message", "duals_from"})
# input sheet -> decisions it bears on directly: (decision, which part of the input key names the decision key /
# detail); None = every decision of that kind
RELATED = {
    "FabCapacity": [("wafers", 0, None)], "FabMinWafers": [("wafers", 0, None)], "FabWaferCost": [("wafers", 0, None)],
    "Fabs": [("wafers", 0, None)], "Routes": [("wafers", 1, None), ("racks", None, 0)],
    "Yield": [("wafers", 1, None), ("racks", None, 0)], "ScheduledReceipts": [("racks", None, 0), ("wafers", None, None)],
    "HBMSupply": [("hbm", 0, None)], "HBMVendors": [("hbm", 0, None)],
    "SitePower": [("racks", 0, None), ("blocks", 0, None)], "Sites": [("racks", 0, None), ("blocks", 0, None)],
    "SiteExpansion": [("blocks", 0, None), ("racks", 0, None)], "InstalledBase": [("racks", 1, 0)],
    "Products": [("racks", None, 0), ("wafers", None, None), ("hbm", None, None)],
    "Partners": [("deal signed", 0, None), ("partner funding", 0, None)],
}
GLOBAL = frozenset({"Demand", "Workloads", "Throughput", "Budget", "PackagingCapacity"})


@dataclass
class Plan:
    path: Path
    frames: dict[str, pd.DataFrame]
    summary: dict[str, object] = field(default_factory=dict)
    quarters: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "unknown"))


def load_plan(path: str | Path) -> Plan:
    frames = read_plan(path, required=("Summary",))
    plan = Plan(Path(path), frames, summary_values(frames))
    inputs = frames.get("Inputs")
    quarters: set[str] = set()
    if inputs is not None and "key" in inputs.columns:
        echo = dict(zip(inputs["key"].astype(str), inputs["value"].astype(str)))
        h = echo.get("horizon", "")
        if ".." in h:
            a, b = (x.strip() for x in h.split(".."))
            if parse_quarter(a) and parse_quarter(b):
                quarters = {f"{i // 4}Q{i % 4 + 1}" for i in range(quarter_index(a), quarter_index(b) + 1)}
    for name in ("Wafers", "Chips", "Deployments", "Serving", "Budget"):
        frame = frames.get(name)
        if frame is not None and "quarter" in frame.columns:
            quarters |= {str(q) for q in frame["quarter"] if parse_quarter(str(q)) == str(q)}
    plan.quarters = sorted(quarters, key=quarter_index)
    return plan


def decisions(plan: Plan) -> pd.DataFrame:
    """The decisions a plan made, one row per (decision, key, detail, quarter): wafers by fab, HBM stacks bought
    by vendor, racks by site and product, expansion blocks by site, deals signed, partner funding by quarter."""
    f = plan.frames
    parts = []

    def grouped(sheet, keys, column, decision, unit, detail=None):
        frame = f.get(sheet)
        cols = keys + ([detail] if detail else []) + ["quarter"]
        if frame is None or not len(frame) or any(c not in frame.columns for c in [column, *cols]):
            return  # no plan, or a table summed up for Excel (its full table is in the file beside the plan)
        frame = numeric(frame, column)
        g = frame.groupby([frame[c].astype(str) for c in cols], sort=True)[column].sum().reset_index()
        parts.append(pd.DataFrame({"decision": decision, "key": g[keys[0]].astype(str),
                                   "detail": g[detail].astype(str) if detail else "", "quarter": g["quarter"],
                                   "value": g[column].astype(float), "unit": unit}))

    grouped("Wafers", ["fab"], "wafers", "wafers", "wafers")
    grouped("HBM", ["vendor"], "bought", "hbm", "stacks")
    grouped("Deployments", ["site"], "racks_deployed", "racks", "racks", detail="product")
    grouped("Power", ["site"], "blocks_started", "blocks", "blocks")
    partners = f.get("Partners")
    if partners is not None and len(partners) and "partner" in partners.columns:
        names = partners["partner"].astype(str).tolist()
        parts.append(pd.DataFrame({"decision": "deal signed", "key": names, "detail": "", "quarter": "",
                                   "value": [1.0 if truthy(v) else 0.0 for v in partners["signed"]], "unit": "signed"}))
        capex = f.get("Capex")
        if capex is not None and len(capex):
            for n in names:
                if n in capex.columns:
                    c = numeric(capex, n)
                    g = c.groupby(c["quarter"].astype(str))[n].sum()
                    parts.append(pd.DataFrame({"decision": "partner funding", "key": n, "detail": "",
                                               "quarter": g.index.astype(str), "value": g.values.astype(float),
                                               "unit": "USD"}))
    if not parts:
        return pd.DataFrame(columns=DECISION_COLUMNS)
    return pd.concat(parts, ignore_index=True)[DECISION_COLUMNS]


def input_values(plan: Plan) -> pd.DataFrame:
    """InputValues, one row per (sheet, key, column): InstalledBase cohorts of one product/site are summed."""
    frame = plan.frames.get("InputValues")
    if frame is None or not len(frame):
        return pd.DataFrame(columns=["sheet", "key", "column", "value", "cell"])
    frame = frame.copy()
    for c in ("sheet", "key", "column"):
        frame[c] = frame[c].astype(str)
    frame["cell"] = frame["cell"].map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    dup = frame.duplicated(["sheet", "key", "column"], keep=False)
    if dup.any():
        def combine(g):
            nums = pd.to_numeric(g["value"], errors="coerce")
            value = float(nums.sum()) if nums.notna().all() else g["value"].iloc[0]
            return pd.Series({"value": value, "cell": ", ".join(x for x in g["cell"] if x)})
        merged = frame[dup].groupby(["sheet", "key", "column"], sort=False).apply(combine, include_groups=False)
        frame = pd.concat([frame[~dup], merged.reset_index()], ignore_index=True)
    return frame[["sheet", "key", "column", "value", "cell"]]


def _same(a: object, b: object) -> bool:
    na = a is None or (isinstance(a, float) and math.isnan(a))
    nb = b is None or (isinstance(b, float) and math.isnan(b))
    if na or nb:
        return na and nb
    try:
        x, y = float(a), float(b)
        return abs(x - y) <= TOL * max(1.0, abs(x), abs(y))
    except (TypeError, ValueError):
        return str(a) == str(b)


def _num(v: object) -> float | None:
    try:
        x = float(v)
        return None if math.isnan(x) else x
    except (TypeError, ValueError):
        return None


def _fmt(v: object) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    x = _num(v)
    if x is None:
        return "blank" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    return f"{x:,.6g}"


def _label(decision: str, key: str, detail: str, quarter: str) -> str:
    return {"wafers": f"wafers started at {key} in {quarter}", "hbm": f"HBM stacks bought from {key} in {quarter}",
            "racks": f"{detail} racks deployed at {key} in {quarter}",
            "blocks": f"expansion blocks started at {key} in {quarter}", "deal signed": f"deal {key} signed",
            "partner funding": f"partner {key} funding in {quarter}"}.get(decision, f"{decision} {key} {quarter}")


# ---- comparing -----------------------------------------------------------------------------------------

@dataclass
class DiffResult:
    summary: list[tuple[str, object, str]]
    kpis: pd.DataFrame
    decisions: pd.DataFrame
    bottlenecks: pd.DataFrame
    inputs: pd.DataFrame
    outside: pd.DataFrame


class _Prices:
    """Unit prices (USD) from the InputValues echo: the new plan's, else the old one's."""

    def __init__(self, *tables: pd.DataFrame):
        self.values: dict[tuple[str, str, str], tuple[float, str]] = {}
        for t in reversed(tables):
            for r in t.itertuples(index=False):
                x = _num(r.value)
                if x is not None:
                    self.values[(r.sheet, r.key, r.column)] = (x, r.cell)

    def get(self, sheet: str, key: str, column: str) -> tuple[float | None, str]:
        return self.values.get((sheet, key, column), (None, ""))

    def of(self, decision: str, key: str, detail: str, quarter: str) -> tuple[float | None, str]:
        if decision == "wafers":
            price, cell = self.get("FabWaferCost", key, quarter)
            return (price, f"FabWaferCost {cell}") if price is not None else \
                self._named("Fabs", key, "wafer_cost_usd")
        if decision == "hbm":
            return self._named("HBMVendors", key, "price_usd_per_stack")
        if decision == "racks":
            return self._named("Products", detail, "rack_capex_usd")
        if decision == "blocks":
            usd, c1 = self.get("SiteExpansion", key, "capex_usd_per_mw")
            mw, c2 = self.get("SiteExpansion", key, "block_mw")
            return (usd * mw, f"SiteExpansion capex_usd_per_mw x block_mw ({c1}, {c2})") if usd is not None and \
                mw is not None else (None, "")
        if decision == "deal signed":
            return self._named("Partners", key, "fixed_deal_cost_usd")
        if decision == "partner funding":
            return self._named("Partners", key, "financing_cost_rate")
        return None, ""

    def _named(self, sheet, key, column):
        price, cell = self.get(sheet, key, column)
        return price, f"{sheet} {column}" + (f" ({cell})" if cell else " (default)")


def compare(old: Plan, new: Plan) -> DiffResult:
    shared = [q for q in new.quarters if q in set(old.quarters)]
    shared_set = set(shared) | {""}
    old_in, new_in = input_values(old), input_values(new)
    prices = _Prices(new_in, old_in)

    # inputs
    joined = old_in.merge(new_in, on=["sheet", "key", "column"], how="outer", suffixes=("_old", "_new"),
                          indicator=True)
    is_quarter = joined["column"].map(lambda c: parse_quarter(str(c)) == str(c))
    in_overlap = ~is_quarter | joined["column"].isin(shared_set)
    changed_inputs = joined[in_overlap & ~joined.apply(lambda r: _same(r["value_old"], r["value_new"]), axis=1)]
    inputs = pd.DataFrame({
        "sheet": changed_inputs["sheet"], "key": changed_inputs["key"], "column": changed_inputs["column"],
        "old": changed_inputs["value_old"], "new": changed_inputs["value_new"],
        "change": [(_num(b) - _num(a)) if _num(a) is not None and _num(b) is not None else None
                   for a, b in zip(changed_inputs["value_old"], changed_inputs["value_new"])],
        "cell": [n if isinstance(n, str) and n else (o if isinstance(o, str) else "")
                 for o, n in zip(changed_inputs["cell_old"], changed_inputs["cell_new"])],
        "cell_old": changed_inputs["cell_old"].fillna(""),
    }).reset_index(drop=True)
    inputs["what"] = [f"{r.sheet} {r.key} {r.column}: {_fmt(r.old)} → {_fmt(r.new)}" + (f" ({r.cell})" if r.cell else "")
                      for r in inputs.itertuples()]

    # decisions
    d_old, d_new = decisions(old), decisions(new)
    keys = ["decision", "key", "detail", "quarter"]
    dj = d_old.merge(d_new, on=keys, how="outer", suffixes=("_old", "_new"))
    dj["unit"] = dj["unit_new"].fillna(dj["unit_old"])
    dj["quarter"] = dj["quarter"].fillna("").astype(str)
    overlap = dj["quarter"].isin(shared_set)
    both = dj[overlap].copy()
    both["old"] = both["value_old"].fillna(0.0).astype(float)
    both["new"] = both["value_new"].fillna(0.0).astype(float)
    both["change"] = both["new"] - both["old"]
    both = both[(both["change"].abs() > TOL * both[["old", "new"]].abs().max(axis=1).clip(lower=1.0))]
    rows = []
    for r in both.itertuples(index=False):
        price, basis = prices.of(r.decision, r.key, r.detail, r.quarter)
        rows.append({"decision": r.decision, "key": r.key, "detail": r.detail, "quarter": r.quarter,
                     "old": r.old, "new": r.new, "change": r.change, "unit": r.unit,
                     "unit_price_usd": price, "cost_impact_usd": r.change * price if price is not None else None,
                     "price_from": basis, "what": _label(r.decision, r.key, r.detail, r.quarter)})
    dec = pd.DataFrame(rows, columns=["decision", "key", "detail", "quarter", "old", "new", "change", "unit",
                                      "unit_price_usd", "cost_impact_usd", "price_from", "what"])
    if len(dec):
        dec["_rank"] = dec["cost_impact_usd"].abs().fillna(0.0)
        dec["_abs"] = dec["change"].abs()
        dec = dec.sort_values(["_rank", "_abs", "decision", "key", "quarter"], ascending=[False, False, True, True, True],
                              kind="mergesort").drop(columns=["_rank", "_abs"]).reset_index(drop=True)
    dec.insert(0, "rank", range(1, len(dec) + 1))
    dec["input_changes"], inputs["bears_on"] = _link(dec, inputs)

    outside = dj[~overlap].copy()
    outside["plan"] = ["old only" if q in set(old.quarters) else "new only" for q in outside["quarter"]]
    outside["value"] = outside["value_old"].where(outside["plan"] == "old only", outside["value_new"]).fillna(0.0)
    outside = outside[outside["value"].abs() > TOL]
    outside = outside.assign(what=[_label(r.decision, r.key, r.detail, r.quarter) for r in outside.itertuples()])
    outside = outside[["plan", "decision", "key", "detail", "quarter", "value", "unit", "what"]].sort_values(
        ["plan", "decision", "key", "quarter"], kind="mergesort").reset_index(drop=True)

    bottlenecks = _binding_changes(old, new, shared_set, inputs)
    kpis = _kpis(old, new)
    result = DiffResult([], kpis, dec, bottlenecks, inputs, outside)
    result.summary = _summary(old, new, shared, result)
    return result


def _relation(input_row, dec_row) -> int:
    """How directly an input change bears on a decision: 3 its own key, 2 every decision of its kind,
    1 everything (demand, budget, throughput, ...), 0 not at all; +1 in the same quarter."""
    parts = str(input_row.key).split("/")
    score = 1 if input_row.sheet in GLOBAL else 0
    for decision, key_part, detail_part in RELATED.get(input_row.sheet, ()):
        if decision != dec_row.decision:
            continue
        ok = (key_part is None or (key_part < len(parts) and parts[key_part] == dec_row.key)) and \
            (detail_part is None or (detail_part < len(parts) and parts[detail_part] == dec_row.detail))
        if ok:
            score = max(score, 3 if key_part is not None or detail_part is not None else 2)
    if score and str(input_row.column) == dec_row.quarter:
        score += 1
    return score


def _link(dec: pd.DataFrame, inputs: pd.DataFrame, limit: int = 4) -> tuple[list[str], list[str]]:
    """For each decision the input changes that bear on it (most direct first), and for each input change
    the decisions it bears on directly (its own key or kind, not merely 'everything')."""
    scores = [[_relation(i, d) for i in inputs.itertuples()] for d in dec.itertuples()]
    to_inputs = []
    for d, row in enumerate(scores):
        ranked = sorted((-s, j) for j, s in enumerate(row) if s > 0)
        shown = [inputs["what"].iloc[j] for _s, j in ranked[:limit]]
        to_inputs.append("; ".join(shown) + (f"; and {len(ranked) - limit} more" if len(ranked) > limit else ""))
    to_decisions = []
    for j in range(len(inputs)):
        if len(inputs) and inputs["sheet"].iloc[j] in GLOBAL and not RELATED.get(inputs["sheet"].iloc[j]):
            to_decisions.append("every decision" if len(dec) else "")
            continue
        hits = [dec["what"].iloc[d] for d in range(len(dec)) if scores[d][j] >= 2]
        to_decisions.append("; ".join(hits[:limit]) + (f"; and {len(hits) - limit} more" if len(hits) > limit else ""))
    return to_inputs, to_decisions


def _binding_changes(old: Plan, new: Plan, shared: set[str], inputs: pd.DataFrame) -> pd.DataFrame:
    columns = ["change", "family", "key", "quarter", "what", "old_shadow_price", "new_shadow_price", "old_limit",
               "new_limit", "input_cell", "input_change"]

    def table(plan: Plan) -> dict[tuple, dict]:
        b = plan.frames.get("Bottlenecks")
        if b is None or not len(b):
            return {}
        out = {}
        for r in b.to_dict("records"):
            out[(str(r["family"]), str(r["key"]), str(r["quarter"]))] = r
        return out

    a, b = table(old), table(new)
    rows = []
    for k in sorted(set(a) | set(b)):
        if k[2] not in shared:
            continue
        was, now = truthy(a.get(k, {}).get("binding")), truthy(b.get(k, {}).get("binding"))
        if was == now:
            continue
        r = b.get(k) or a.get(k)
        sheet = FAMILIES[k[0]].input_sheet if k[0] in FAMILIES else ""
        related = inputs[(inputs["sheet"] == sheet) & (inputs["key"] == k[1]) & (inputs["column"] == k[2])] \
            if sheet else inputs.iloc[0:0]
        rows.append({"change": "started binding" if now else "stopped binding", "family": k[0], "key": k[1],
                     "quarter": k[2], "what": r.get("what", ""),
                     "old_shadow_price": _num(a.get(k, {}).get("shadow_price")),
                     "new_shadow_price": _num(b.get(k, {}).get("shadow_price")),
                     "old_limit": _num(a.get(k, {}).get("limit")), "new_limit": _num(b.get(k, {}).get("limit")),
                     "input_cell": str(r.get("input_cell", "") if r.get("input_cell") is not None else ""),
                     "input_change": "; ".join(related["what"])})
    frame = pd.DataFrame(rows, columns=columns)
    for c in ("old_shadow_price", "new_shadow_price", "old_limit", "new_limit"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    if len(frame):
        frame["_v"] = frame[["old_shadow_price", "new_shadow_price"]].abs().max(axis=1).fillna(0.0)
        frame = frame.sort_values(["change", "_v"], ascending=[False, False], kind="mergesort").drop(columns="_v")
    return frame.reset_index(drop=True)


def _kpis(old: Plan, new: Plan) -> pd.DataFrame:
    rows = []
    keys = list(old.summary) + [k for k in new.summary if k not in old.summary]
    for k in keys:
        if k in KPI_SKIP or k.startswith(KPI_SKIP_PREFIXES):
            continue
        a, b = old.summary.get(k), new.summary.get(k)
        x, y = _num(a), _num(b)
        if x is not None and y is not None:
            rows.append({"kpi": k, "old": x, "new": y, "change": y - x,
                         "change_share": (y - x) / abs(x) if abs(x) > 1e-12 else None, "changed": not _same(x, y)})
        else:
            rows.append({"kpi": k, "old": None if a is None else str(a), "new": None if b is None else str(b),
                         "change": None, "change_share": None, "changed": not _same(a, b)})
    return pd.DataFrame(rows, columns=["kpi", "old", "new", "change", "change_share", "changed"])


def _money(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"-${-x:,.0f}" if x < 0 else f"${x:,.0f}"


def _summary(old: Plan, new: Plan, shared: list[str], r: DiffResult) -> list[tuple[str, object, str]]:
    lines: list[tuple[str, object, str]] = [
        ("old_plan", old.name, f"status {old.status}, {old.quarters[0]}..{old.quarters[-1]}" if old.quarters else
         f"status {old.status}"),
        ("new_plan", new.name, f"status {new.status}, {new.quarters[0]}..{new.quarters[-1]}" if new.quarters else
         f"status {new.status}"),
    ]
    for plan in (old, new):
        if plan.status not in ("optimal", "feasible"):
            lines.append(("warning", f"{plan.name} has no plan (status {plan.status}): its decisions count as 0",
                          "see its Diagnosis sheet"))
        elif plan.status == "feasible":
            gap = _num(plan.summary.get("mip_gap"))
            lines.append(("warning", f"{plan.name} is not proven optimal" + (f" (MIP gap {gap:.2%})" if gap else "")
                          + ": some decision changes may be the solver's choice among near-equal plans, not a "
                          "consequence of the inputs", "tighten mip_rel_gap to compare closely"))
    a, b = _num(old.summary.get("objective_usd")), _num(new.summary.get("objective_usd"))
    if a is not None and b is not None:
        share = f" ({(b - a) / abs(a):+.1%})" if abs(a) > 1e-9 else ""
        verb = "more" if b > a else "less"
        text = (f"The new plan costs {_money(abs(b - a))} {verb}{share}: {_money(a)} → {_money(b)} (present value)."
                if not _same(a, b) else f"The cost is unchanged at {_money(b)}.")
    else:
        text = f"Objective {_fmt(old.summary.get('objective_usd'))} → {_fmt(new.summary.get('objective_usd'))}."
    sa, sb = _num(old.summary.get("service_level")), _num(new.summary.get("service_level"))
    if sa is not None and sb is not None:
        text += f" Service level {sa:.1%} → {sb:.1%}."
    lines.append(("headline", text, "KPIs sheet"))
    if old.quarters != new.quarters:
        span = f"{shared[0]}..{shared[-1]}" if shared else "none"
        lines.append(("horizon", f"The horizons differ; decisions and inputs are compared on the {len(shared)} shared "
                      f"quarter(s) {span}.", "OutsideOverlap sheet: decisions in the other quarters"))
    dec = r.decisions
    total = dec["cost_impact_usd"].sum(min_count=1) if len(dec) else None
    lines.append(("decisions", f"{len(dec)} decision(s) changed" + (
        f", worth about {_money(float(total))} at input prices" if total is not None and not pd.isna(total) else "")
        + "." if len(dec) else "No decision changed.", "Decisions sheet, ranked by cost impact"))
    for i, row in enumerate(dec.head(5).itertuples(), start=1):
        impact = f", about {_money(row.cost_impact_usd)}" if row.cost_impact_usd is not None and \
            not pd.isna(row.cost_impact_usd) else ""
        why = f"; inputs: {row.input_changes}" if row.input_changes else ""
        lines.append((f"decision_{i}", f"{row.what}: {_fmt(row.old)} → {_fmt(row.new)} {row.unit} "
                      f"({row.change:+,.6g}{impact})", why.lstrip("; ")))
    bn = r.bottlenecks
    started = bn[bn["change"] == "started binding"] if len(bn) else bn
    stopped = bn[bn["change"] == "stopped binding"] if len(bn) else bn
    if len(bn):
        def names(frame):
            return "; ".join(f"{x.what or x.family + ' ' + x.key} in {x.quarter}" for x in frame.head(5).itertuples())
        text = []
        if len(started):
            text.append(f"{len(started)} limit(s) started binding: {names(started)}")
        if len(stopped):
            text.append(f"{len(stopped)} stopped binding: {names(stopped)}")
        lines.append(("limits", ". ".join(text) + ".", "Bottlenecks sheet"))
    else:
        lines.append(("limits", "No limit started or stopped binding.", "Bottlenecks sheet"))
    inputs = r.inputs
    if len(inputs):
        explaining = inputs[inputs["bears_on"] != ""]
        lines.append(("inputs", f"{len(inputs)} input value(s) changed"
                      + (f", {len(explaining)} of them bearing directly on the changed decisions" if len(dec) else "")
                      + ".", "InputChanges sheet"))
        ordered = pd.concat([explaining, inputs[inputs["bears_on"] == ""]])
        for i, row in enumerate(ordered.head(5).itertuples(), start=1):
            lines.append((f"input_{i}", row.what, f"bears on: {row.bears_on}" if row.bears_on else ""))
    else:
        lines.append(("inputs", "No input value changed" + (" in the shared quarters" if old.quarters != new.quarters
                                                             else "") + ".", "InputChanges sheet"))
    return lines


def diff(old_plan: str | Path, new_plan: str | Path, output: str | Path) -> Path:
    """Compare two plan workbooks and write DIFF.xlsx (see the module docstring). Returns the path written."""
    old_plan, new_plan, output = Path(old_plan), Path(new_plan), Path(output)
    check_target(output, new_plan)
    return write_diff(compare(load_plan(old_plan), load_plan(new_plan)), output, old_plan)


def write_diff(result: DiffResult, output: Path, old_plan: Path) -> Path:
    wb = Workbook(write_only=True)
    write_key_values(wb, "Summary", result.summary, bold_keys=frozenset({"headline", "decisions", "limits", "inputs"}),
                     red_keys=frozenset({"warning"}))
    write_frame(wb, "KPIs", result.kpis, formats={"change_share": "0.0%"})
    write_frame(wb, "Decisions", result.decisions)
    write_frame(wb, "Bottlenecks", result.bottlenecks)
    write_frame(wb, "InputChanges", result.inputs, highlight=False)
    write_frame(wb, "OutsideOverlap", result.outside)
    path, _note = safe_save(wb, output, old_plan)
    return path


def cmd_diff(args) -> int:
    try:
        check_target(Path(args.output), Path(args.new))
        old, new = load_plan(args.old), load_plan(args.new)
        result = compare(old, new)
        path = write_diff(result, Path(args.output), Path(args.old))
    except PlanReadError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return EXIT_INVALID
    for key, value, _note in result.summary:
        if key in ("headline", "horizon", "decisions", "limits", "inputs", "warning") or key.startswith("decision_"):
            print(value)
    print(f"wrote {path}")
    return EXIT_OK
