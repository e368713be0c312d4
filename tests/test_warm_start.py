"""A re-plan after a small data change reuses the previous basis and reaches the same optimum as a cold solve."""

import pytest

from models.build import build_model
from models.solve import SolveOptions, solve
from planner.input.validate import validate_workbook
from tests.builders import minimal_sheets, write


def test_warm_replan_equals_cold(tmp_path):
    sheets = minimal_sheets(4)
    sheets["Demand"][1] = ["NA", "w", 900, 1800, 2700, 3600]
    data, _ = validate_workbook(write(tmp_path, sheets))
    first = solve(build_model(data)[0], SolveOptions())
    assert first.basis is not None
    for key in data.demand:
        data.demand[key] *= 1.1
    warm = solve(build_model(data)[0], SolveOptions(), warm=first)
    cold = solve(build_model(data)[0], SolveOptions())
    assert "warm start" in warm.algorithm
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
