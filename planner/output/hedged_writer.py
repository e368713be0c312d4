"""The hedged plan's workbook (stochastic.md): Summary with the spec's keys, a Scenarios sheet with a chart of cost
and service level per scenario beside the expected values, the committed decisions (Commitments), and the
contract's tidy sheets with every scenario's rows under a `scenario` column (`stage`: committed or recourse).

Reads the per-scenario SolutionTables (pandas) only; the sheet helpers are plan_writer's and xlsx's.
"""

from __future__ import annotations

import platform
from pathlib import Path

import pandas as pd
from openpyxl.chart import BarChart, LineChart, Reference

from models.sets import USD_PER_MUSD
from planner.issues import Issues
from planner.output.plan_writer import CONTRACT_SHEETS, STATUS_WORDS, inputs_echo
from planner.output.xlsx import (EXCEL_MAX_ROWS, ONE_DECIMAL, USD, WHOLE, YES_NO, atomic_write, safe_save,
                                 write_frame, write_key_values)
from planner.output.contract import Col
from planner.output.xml_rows import PlanWorkbook

SPEC_KEYS = ("expected_cost_usd", "cvar_cost_usd", Col.objective_usd, "vss_usd", "evpi_usd", "scenarios",
             "commit_quarters", "risk_weight", "risk_alpha", "engine")
MEANING = {"W": "wafers started", "WP": "wafers paid (take-or-pay)", "HB": "HBM stacks bought",
           "HP": "HBM stacks paid", "H": "HBM stacks used", "B": "dies packaged", "Y": "racks deployed",
           "E": "power blocks started", "K": "packaging blocks started", "O": "own capex, USD",
           "F": "partner-funded capex, USD", "A": "partner deal signed (yes / no; stored 1 / 0)"}
IN_USER_UNITS = {"O": USD_PER_MUSD, "F": USD_PER_MUSD}  # the model holds capex in $M; the reader reads USD
# each decision's number format: whole racks, blocks, stacks and deals; wafers and dies to one decimal; USD whole
DECISION_FORMATS = {"W": ONE_DECIMAL, "WP": ONE_DECIMAL, "B": ONE_DECIMAL, "O": USD, "F": USD, "A": YES_NO}
SCENARIO_COLUMNS = [Col.scenario, Col.probability, Col.cost_usd, Col.service_level, Col.unmet_tps, Col.own_capex_usd,
                    Col.partner_capex_usd, Col.status, Col.alone_cost_usd, Col.eev_cost_usd]


def scenario_frame(plan) -> pd.DataFrame:
    """One row per scenario, then the probability-weighted expected row."""
    rows = []
    for sc in plan.scenarios:
        sol = sc.solution
        k = sol.kpis if sol is not None else {}
        unmet = float(sol.tables["Serving"][Col.unmet_tps].sum()) if sol is not None else None
        rows.append({Col.scenario: sc.name, Col.probability: sc.probability,
                     Col.cost_usd: None if sc.cost is None else sc.cost * 1e3, Col.service_level: k.get(Col.service_level),
                     Col.unmet_tps: unmet, Col.own_capex_usd: k.get(Col.own_capex_usd),
                     Col.partner_capex_usd: k.get(Col.partner_capex_usd), Col.status: sc.status,
                     Col.alone_cost_usd: None if sc.alone_cost is None else sc.alone_cost * 1e3, Col.eev_cost_usd: None if sc.eev_cost is None else sc.eev_cost * 1e3})
    frame = pd.DataFrame(rows, columns=SCENARIO_COLUMNS)
    if len(frame) and frame[Col.cost_usd].notna().all():
        p = frame[Col.probability]
        mean = {c: float((frame[c].astype(float) * p).sum()) if frame[c].notna().all() else None
                for c in SCENARIO_COLUMNS[2:] if c != Col.status}
        # service level as Summary's: expected served / expected demand (not the mean of the scenarios' ratios)
        mean[Col.service_level] = expected_kpis(plan)[Col.service_level]
        expected = {Col.scenario: "expected", Col.probability: float(p.sum()),
                    Col.status: "probability-weighted (service level: expected served / expected demand)", **mean}
        frame = pd.concat([frame, pd.DataFrame([expected], columns=SCENARIO_COLUMNS)], ignore_index=True)
    return frame


def expected_kpis(plan) -> dict[str, float | None]:
    """The contract's Summary keys of the hedged plan: probability-weighted over the scenarios."""
    out: dict[str, float | None] = {}
    for key in ("total_demand_tps", "total_served_tps", Col.own_capex_usd, Col.partner_capex_usd):
        vals = [(sc.probability, sc.solution.kpis.get(key)) for sc in plan.scenarios if sc.solution is not None]
        out[key] = sum(p * v for p, v in vals) if vals and all(v is not None for _p, v in vals) else None
    d, s = out["total_demand_tps"], out["total_served_tps"]
    out[Col.service_level] = s / d if d and s is not None else None
    return out


def _cents(value):
    """A difference of two costs below half a cent is 0 (VSS = EEV - RP of the same plan: -2e-7, shown as '-0')."""
    return 0.0 if isinstance(value, float) and abs(value) < 5e-3 else value


# a hedged plan with a scenario that has no plan alone, or none once the commitments other scenarios lack are 0,
# is written as that scenario's diagnosis (hedged.py): an infeasible one here has a plan for every scenario alone
HEDGED_INFEASIBLE = ("INFEASIBLE: every scenario can be planned alone, but no one set of here-and-now commitments "
                     "suits them all; see status_message")


def summary_rows(plan, meta: dict, phases: dict[str, float]) -> list[tuple[str, object, str]]:
    result = plan.result
    status = result.status if result is not None else "error"
    rows: list[tuple[str, object, str]] = [
        ("plan_name", plan.base.settings.plan_name, "hedged plan (planner run --stochastic)"),
        (Col.status, status, HEDGED_INFEASIBLE if status == "infeasible" else STATUS_WORDS.get(status, "").replace(
            "mip_gap", "ph_gap" if plan.engine == "ph" else "mip_gap")),
        ("status_message", result.message if result is not None else "", ""),
    ]
    rows += [(k, _cents(plan.summary.get(k)), plan.notes.get(k, "")) for k in SPEC_KEYS]
    for key in ("wait_and_see_usd", "eev_usd", "ph_lower_bound_usd", "ph_upper_bound_usd", "ph_gap",
                "ph_iterations", "ph_processes"):
        if key in plan.summary:
            rows.append((key, plan.summary[key], plan.notes.get(key, "")))
    kpis = expected_kpis(plan)
    rows += [(k, v, "expected served / expected demand over the scenarios (not the mean of their ratios)"
              if k == Col.service_level else "probability-weighted over the scenarios") for k, v in kpis.items()]
    rows += [("mip_gap", plan.summary.get("mip_gap"), "relative gap of the extensive form (0 for an LP)"),
             ("solve_seconds", result.solve_seconds if result is not None else None,
              "progressive hedging's whole run: its iterations, then the candidate and bound solves" if plan.engine == "ph"
              else "HiGHS's own solve time")]
    rows += [(k, plan.notes[k], "") for k in plan.notes if k == "expected_value_plan"]
    rows += [("input_file", meta["input_file"], ""), ("input_sha256", meta["input_sha256"], ""),
             ("planner_version", meta["planner_version"], ""), ("solver", meta["solver"], ""),
             ("solved_at", meta["solved_at"], "UTC")]
    return rows


def run_rows(meta: dict, phases: dict[str, float]) -> list[tuple[str, object, str]]:
    """How the hedged plan was made (solver options, phase times): the Run sheet, not the Summary a reader
    reads first (as in every plan workbook)."""
    rows = [(f"option_{k}", v, "") for k, v in meta["options"].items()]
    rows += [(f"seconds_{k.replace(' ', '_')}", v, "phase time, wall clock") for k, v in phases.items()]
    return rows + [("input_file", meta["input_file"], ""), ("input_sha256", meta["input_sha256"], ""),
                   ("planner_version", meta["planner_version"], ""), ("solver", meta["solver"], ""),
                   ("python", platform.python_version(), "")]


def commitments_frame(plan) -> pd.DataFrame:
    Q = plan.base.quarters
    rows = []
    for name, idx, value in plan.committed:
        idx = idx if isinstance(idx, tuple) else (idx,)
        quarter = Q[idx[-1]] if name != "A" and isinstance(idx[-1], int) else ""
        keys = idx[:-1] if name != "A" else idx
        rows.append({Col.decision: MEANING.get(name, name), Col.keys: "/".join(map(str, keys)), Col.quarter: quarter,
                     Col.value: value * IN_USER_UNITS.get(name, 1.0), Col.model_variable: name})
    return pd.DataFrame(rows, columns=[Col.decision, Col.keys, Col.quarter, Col.value, Col.model_variable])


RECOURSE_ONLY = frozenset({"Serving", "Allocation"})  # tok/s served and unmet: per scenario, in every quarter


def scenario_tables(plan, name: str) -> pd.DataFrame:
    """The contract sheet `name` of every scenario, under `scenario` and `stage` columns."""
    committed = set(plan.base.quarters[:plan.base.settings.commit_quarters])
    frames = []
    for sc in plan.scenarios:
        if sc.solution is None:
            continue
        frame = sc.solution.tables[name].copy()
        if name in RECOURSE_ONLY:
            stage = "recourse"
        elif Col.quarter in frame.columns:
            stage = frame[Col.quarter].map(lambda q: "committed" if q in committed else "recourse")
        else:
            stage = "committed" if name == "Partners" else "recourse"
        frame.insert(0, Col.stage, stage)
        frame.insert(0, Col.scenario, sc.name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[Col.scenario, Col.stage])


def add_scenario_chart(ws, n_rows: int) -> None:
    """Cost per scenario (bars) and service level (line, right axis), the expected row last."""
    bars = BarChart()
    bars.type, bars.title = "col", "Cost and service level per scenario (last: expected)"
    bars.y_axis.title = "cost, USD (present value)"
    bars.add_data(Reference(ws, min_col=3, min_row=1, max_row=n_rows + 1), titles_from_data=True)
    bars.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n_rows + 1))
    line = LineChart()
    line.add_data(Reference(ws, min_col=4, min_row=1, max_row=n_rows + 1), titles_from_data=True)
    line.y_axis.axId, line.y_axis.title = 200, "service level"
    line.y_axis.crosses = "max"
    bars += line
    bars.width, bars.height = 22, 10
    ws.add_chart(bars, f"A{n_rows + 4}")  # below the table: beside it, the page shrank to fit both


def _sized(name: str, frame: pd.DataFrame, path: Path, detail: list[Path]) -> pd.DataFrame:
    if len(frame) < EXCEL_MAX_ROWS - 1:
        return frame
    target = path.with_name(f"{path.stem}.{name}.parquet")
    detail.append(atomic_write(target, lambda tmp: frame.to_parquet(tmp, index=False)))
    return frame.head(EXCEL_MAX_ROWS - 2)


def write_hedged_plan(path: Path, plan, meta: dict, phases: dict[str, float], issues: Issues,
                      input_path: Path) -> tuple[Path, str]:
    path = Path(path)
    wb = PlanWorkbook()
    write_key_values(wb, "Summary", summary_rows(plan, meta, phases),
                     bold_keys=frozenset({Col.status, Col.objective_usd, "expected_cost_usd", "vss_usd", "evpi_usd"}))
    scen = scenario_frame(plan)
    ws = write_frame(wb, "Scenarios", scen)
    if len(scen):
        add_scenario_chart(ws, len(scen))
    write_frame(wb, "Commitments", commitments_frame(plan), unit_from=Col.model_variable,
                unit_formats={name: DECISION_FORMATS.get(name, WHOLE) for name in MEANING})
    detail: list[Path] = []
    if any(sc.solution is not None for sc in plan.scenarios):
        for name in CONTRACT_SHEETS:
            write_frame(wb, name, _sized(name, scenario_tables(plan, name), path, detail))
    write_key_values(wb, "Run", run_rows(meta, phases))
    write_key_values(wb, "Inputs", inputs_echo(plan.base, meta))
    if len(issues):
        write_frame(wb, "Warnings", pd.DataFrame(
            [{Col.severity: i.severity, Col.sheet: i.sheet, Col.cell: i.cell, Col.column: i.column,
              Col.value: None if i.value is None else str(i.value), Col.message: i.message} for i in issues],
            columns=[Col.severity, Col.sheet, Col.cell, Col.column, Col.value, Col.message]))
    return safe_save(wb, path, input_path)
