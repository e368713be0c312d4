"""The plan workbook: Summary first, then Diagnosis or the contract sheets, then Inputs and Warnings."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from models.solve import SolveResult

from .data import PlanData
from .diagnose import Diagnosis
from .issues import Issues
from .report import CONTRACT_SHEETS, safe_save, write_cell, write_frame, write_key_values
from .results import SolutionTables

STATUS_WORDS = {
    "optimal": "OPTIMAL: proven best plan for this input",
    "feasible": "FEASIBLE, NOT PROVEN OPTIMAL: a valid plan, but a better one may exist (see mip_gap)",
    "infeasible": "INFEASIBLE: no plan meets every hard limit; see the Diagnosis sheet",
    "unbounded": "UNBOUNDED: the cost can fall without limit; see the Diagnosis sheet",
    "error": "ERROR: the solver returned no plan; see status_message",
}


def summary_rows(data: PlanData, result: SolveResult, solution: SolutionTables | None, meta: dict,
                 phases: dict[str, float]) -> list[tuple[str, object, str]]:
    rows: list[tuple[str, object, str]] = [
        ("plan_name", data.settings.plan_name, ""),
        ("status", result.status, STATUS_WORDS.get(result.status, "")),
        ("status_message", result.message, f"HiGHS model status: {result.highs_status}"),
        ("objective_usd", solution.objective_usd if solution else None,
         "discounted total cost (present value, USD); blank when there is no plan"),
        ("mip_gap", result.mip_gap if result.has_solution else None,
         "relative gap between this plan and the best bound (0 for an LP)"),
        ("solve_seconds", result.solve_seconds, "HiGHS's own solve time"),
    ]
    if solution is not None:
        k = solution.kpis
        rows += [
            ("total_demand_tps", k["total_demand_tps"], "sum over demand rows and quarters, tok/s"),
            ("total_served_tps", k["total_served_tps"], "sum over demand rows and quarters, tok/s"),
            ("service_level", k["service_level"], "served / demand"),
            ("own_capex_usd", k["own_capex_usd"], "cash, all quarters"),
            ("partner_capex_usd", k["partner_capex_usd"], "cash, all quarters"),
        ]
        rows += [(f"cost_{c}_usd", v, "objective component (present value)") for c, v in
                 solution.cost_breakdown_usd.items()]
        rows += [
            ("wafers_started", k["wafers_started"], ""), ("hbm_stacks_bought", k["hbm_stacks_bought"], ""),
            ("racks_deployed", k["racks_deployed"], ""), ("mw_added", k["mw_added"], "MW of expansion blocks started"),
            ("deals_signed", k["deals_signed"], ""),
            ("duals_from", result.duals_from, "shadow prices: present-value USD per unit of the limit"),
        ]
    else:
        rows += [("total_demand_tps", sum(data.demand.values()), "sum over demand rows and quarters, tok/s"),
                 ("total_served_tps", None, "no plan"), ("service_level", None, "no plan"),
                 ("own_capex_usd", None, "no plan"), ("partner_capex_usd", None, "no plan")]
    rows += [
        ("input_file", meta["input_file"], ""), ("input_sha256", meta["input_sha256"], ""),
        ("planner_version", meta["planner_version"], ""), ("solver", meta["solver"], result.algorithm),
        ("solved_at", meta["solved_at"], "UTC"),
    ]
    rows += [(f"option_{k}", v, "") for k, v in meta["options"].items()]
    rows += [(f"seconds_{k}", v, "phase time") for k, v in phases.items()]
    return rows


def inputs_echo(data: PlanData) -> list[tuple[str, object, str]]:
    rows = [(k, v, data.cell("Settings", (k,), "value") or "default") for k, v in asdict(data.settings).items()]
    rows.append(("horizon", f"{data.quarters[0]}..{data.quarters[-1]}", f"{data.T} quarters"))
    return rows


def write_plan(path: Path, data: PlanData, result: SolveResult, solution: SolutionTables | None,
               diagnosis: Diagnosis | None, meta: dict, phases: dict[str, float], issues: Issues,
               input_path: Path) -> tuple[Path, str]:
    wb = Workbook()
    wb.remove(wb.active)
    write_key_values(wb, "Summary", summary_rows(data, result, solution, meta, phases))
    status_cell = wb["Summary"]["B3"]
    status_cell.font = Font(bold=True, color="006100" if result.status == "optimal" else "9C0006")
    if diagnosis is not None:
        write_diagnosis(wb, diagnosis)
    if solution is not None:
        for name in CONTRACT_SHEETS:
            write_frame(wb, name, solution.tables[name])
    write_key_values(wb, "Inputs", inputs_echo(data))
    if len(issues):
        write_frame(wb, "Warnings", pd.DataFrame(
            [{"severity": i.severity, "sheet": i.sheet, "cell": i.cell, "column": i.column,
              "value": None if i.value is None else str(i.value), "message": i.message} for i in issues]))
    return safe_save(wb, path, input_path)


def write_diagnosis(wb: Workbook, diag: Diagnosis) -> None:
    ws = wb.create_sheet("Diagnosis")
    row = 1
    write_cell(ws, row, 1, "What is wrong, in words").font = Font(bold=True, size=13)
    for line in diag.summary:
        row += 1
        write_cell(ws, row, 1, line)
    ws.column_dimensions["A"].width = 40
    for title, frame in (("Conflict set: " + (diag.conflict_of or "none computed"), diag.conflict),
                         ("Smallest repair (least relative change of the input limits)", diag.repairs),
                         ("Pre-solve checks", diag.checks)):
        row += 2
        write_cell(ws, row, 1, title).font = Font(bold=True)
        row += 1
        for j, col in enumerate(frame.columns, start=1):
            write_cell(ws, row, j, col).font = Font(bold=True)
        for values in frame.itertuples(index=False, name=None):
            row += 1
            for j, value in enumerate(values, start=1):
                write_cell(ws, row, j, value)
        if not len(frame):
            row += 1
            write_cell(ws, row, 1, "(none)")
    for letter in "BCDEFGH":
        ws.column_dimensions[letter].width = 18
    ws.column_dimensions["H"].width = 90
