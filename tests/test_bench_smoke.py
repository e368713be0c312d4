"""Size smoke test (no timing assertions; timings live in bench/): a generated plan validates, its model has
the variable count the generator predicts, and it plans end to end."""

import pyomo.environ as pyo

from bench.generate import count_variables, generate, read_sheets
from models.build import build_model
from planner.pipeline import run_plan
from planner.input.validate import validate_workbook


def test_generated_plan_size_and_run(tmp_path):
    path = tmp_path / "S-GEN.xlsx"
    generate("S-GEN", path, seed=0)
    data, issues = validate_workbook(path)
    assert data is not None and not issues.errors
    model, _ = build_model(data)
    built = sum(len(v) for v in model.component_objects(pyo.Var))
    assert built == count_variables(read_sheets(path))["total"]
    assert 4_000 <= built <= 6_500
    outcome = run_plan(path, tmp_path / "plan.xlsx")
    assert outcome.exit_code == 0 and outcome.status == "optimal"
