"""Run: how the plan was made, for whoever checks it (moved out of Summary): status detail, solver and its
strategy, where the shadow prices come from, options, time per phase, coefficient ranges, versions."""

from __future__ import annotations

import importlib.metadata
import platform
from pathlib import Path
from typing import TYPE_CHECKING
from planner.output.contract import Col

if TYPE_CHECKING:  # the report reads the solver result, never Pyomo
    from models.solve import SolveResult


PACKAGES = ("pyomo", "highspy", "pandas", "openpyxl")


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _highs_words(result: SolveResult) -> str:
    """HiGHS calls a MIP stopped within mip_rel_gap 'Optimal'; the plan says feasible with its gap: say why."""
    text = f"HiGHS model status: {result.highs_status}"
    if result.status == "feasible" and result.highs_status == "Optimal":
        text += " (HiGHS's word for within mip_rel_gap; the plan is proven only to its mip_gap)"
    return text


def run_rows(result: SolveResult, meta: dict, phases: dict[str, float], detail: list[Path]) -> list[tuple]:
    rows: list[tuple[str, object, str]] = [
        (Col.status, result.status, _highs_words(result)),
        ("status_message", result.message, ""),
        ("mip_gap", result.mip_gap if result.has_solution else None, "relative gap to the best bound (0 for an LP)"),
        ("solve_seconds", result.solve_seconds, "HiGHS's own solve time"),
        ("solver", meta["solver"], result.algorithm),
        ("solver_strategy", result.algorithm, result.algorithm_reason),
        ("duals_from", result.duals_from, "shadow prices: present-value USD per unit of the limit"),
    ]
    rows += [(f"option_{k}", v, "used for this run (Settings or command line)") for k, v in meta["options"].items()]
    rows += [(f"seconds_{k.replace(' ', '_')}", v, "phase time, wall clock") for k, v in phases.items()]
    for key, (value, where) in meta.get("numerics", {}).items():
        rows.append((f"coefficient_{key}", value, f"model units (objective $k, capex $M, M tok/s): {where}"))
    rows += [("planner_version", meta["planner_version"], ""), ("python", platform.python_version(), "")]
    rows += [(f"version_{p}", _version(p), "") for p in PACKAGES]
    rows += [("input_file", meta["input_file"], ""), ("input_sha256", meta["input_sha256"], ""),
             ("solved_at", meta["solved_at"], "UTC")]
    rows += [("detail_file", p.name, "full table beside this workbook") for p in detail]
    return rows
