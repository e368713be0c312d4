"""Tiny input workbooks for tests: a minimal valid plan, and a one-call solve of it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from models.build import build_model
from models.solve import SolveOptions, solve
from planner.input.writer import write_input_workbook
from planner.quarters import horizon
from planner.output.extract import extract
from planner.input.validate import validate_workbook


def quarters(n: int = 2, start: str = "2026Q1") -> list[str]:
    return horizon(start, n)


def minimal_sheets(n: int = 2, start: str = "2026Q1", **settings) -> dict[str, list[list]]:
    """One product L1 (no HBM) made at fab F (10 good dies per wafer, lead 0), one site S in region NA,
    one workload w. No discounting, continuous racks unless told. Every number is easy to work by hand:
    a rack = 10 chips = 1 wafer ($100) + $1,000 capex, serves 10 x 100 = 1,000 tok/s; unmet costs $1 per tok/s
    per quarter. Tests override single sheets."""
    Q = quarters(n, start)
    base_settings = dict(plan_name="test", start_quarter=start, quarters=n, discount_rate_annual=0,
                         integer_racks=False)
    base_settings.update(settings)
    return {
        "Settings": [["key", "value"]] + [[k, v] for k, v in base_settings.items()],
        "Products": [["product", "chips_per_rack", "rack_kw", "rack_capex_usd", "life_quarters"],
                     ["L1", 10, 10, 1000, 40]],
        "Fabs": [["fab", "wafer_cost_usd"], ["F", 100]],
        "Routes": [["product", "fab", "dies_per_wafer", "yield", "lead_quarters"], ["L1", "F", 10, 1, 0]],
        "FabCapacity": [["fab"] + Q, ["F"] + [1000] * n],
        "HBMVendors": [["vendor", "price_usd_per_stack"]],
        "HBMSupply": [["vendor"] + Q],
        "HBMQualification": [["vendor", "product"]],
        "Sites": [["site", "region", "pue", "power_price_usd_per_mwh"], ["S", "NA", 1, 0]],
        "SitePower": [["site"] + Q, ["S"] + [100] * n],
        "Workloads": [["workload", "unmet_penalty_usd_per_tps"], ["w", 1]],
        "Throughput": [["product", "workload", "tokens_per_s_per_chip"], ["L1", "w", 100]],
        "Demand": [["region", "workload"] + Q, ["NA", "w"] + [1000] * n],
        "ServingLinks": [["site", "region"]],
        "Budget": [["item"] + Q, ["own_capex_usd"] + [1e9] * n],
    }


@dataclass
class Solved:
    data: object
    model: object
    sets: object
    result: object
    solution: object

    @property
    def objective(self) -> float:
        return self.solution.objective_usd

    def table(self, name: str):
        return self.solution.tables[name]

    def value(self, var: str, *index) -> float:
        v = getattr(self.model, var)[index]
        return 0.0 if v.value is None else float(v.value)


def write(tmp_path: Path, sheets: dict, name: str = "in.xlsx") -> Path:
    return write_input_workbook(Path(tmp_path) / name, sheets)


def solve_sheets(tmp_path: Path, sheets: dict, **options) -> Solved:
    """Validate, build and solve; fails the test with every issue if the workbook is invalid."""
    path = write(tmp_path, sheets)
    data, issues = validate_workbook(path)
    assert data is not None, "\n".join(str(i) for i in issues)
    model, sets = build_model(data)
    opts = SolveOptions(mip_rel_gap=options.pop("mip_rel_gap", 1e-9), **options)
    result = solve(model, opts)
    solution = extract(model, sets, data, result) if result.has_solution else None
    return Solved(data, model, sets, result, solution)
