"""Time limits, gaps, unbounded and solver errors: right status, right exit code, a workbook that cannot be
mistaken for an optimal plan."""

import highspy
import pytest
from openpyxl import load_workbook

import models.solve as solve_module
from planner.pipeline import RunOptions, run_plan
from tests.builders import minimal_sheets, write

S = highspy.HighsModelStatus


class FakeInfo:
    def __init__(self, has_primal, objective=1.0, gap=0.0):
        self.primal_solution_status = 2 if has_primal else 0
        self.objective_function_value = objective
        self.mip_gap = gap


class FakeHighs:
    def __init__(self, status, has_primal, gap=0.0):
        self.status, self.info = status, FakeInfo(has_primal, gap=gap)

    def getModelStatus(self):
        return self.status

    def getInfo(self):
        return self.info

    def modelStatusToString(self, status):
        return str(status)


@pytest.mark.parametrize("status,has_primal,is_mip,gap,expected", [
    (S.kOptimal, True, False, 0.0, "optimal"),
    (S.kOptimal, True, True, 0.0, "optimal"),
    (S.kOptimal, True, True, 0.004, "feasible"),  # stopped at mip_rel_gap: not proven optimal
    (S.kTimeLimit, True, True, 0.2, "feasible"),
    (S.kTimeLimit, False, True, float("inf"), "error"),
    (S.kInfeasible, False, False, 0.0, "infeasible"),
    (S.kUnbounded, False, False, 0.0, "unbounded"),
    (S.kSolveError, False, False, 0.0, "error"),
])
def test_status_mapping(status, has_primal, is_mip, gap, expected):
    result = solve_module._read_status(FakeHighs(status, has_primal, gap), is_mip)
    assert result.status == expected
    if expected == "feasible":
        assert result.mip_gap == pytest.approx(gap) and "not proven optimal" in result.message


@pytest.mark.parametrize("status, words", [(S.kTimeLimit, "stopped at the time limit with gap 20.0000%"),
                                           (S.kInterrupt, "interrupted by the user with gap 20.0000%")])
def test_stop_reason_reads_naturally(status, words):
    result = solve_module._read_status(FakeHighs(status, True, 0.2), True)
    assert result.status == "feasible"
    assert result.message == f"{words}; best plan found is not proven optimal"


def _summary(path):
    return {r[0]: r[1] for r in load_workbook(path)["Summary"].iter_rows(min_row=2, values_only=True)}


def test_time_limit_without_incumbent(tmp_path):
    src = write(tmp_path, minimal_sheets(4, integer_racks=True))
    out = tmp_path / "plan.xlsx"
    outcome = run_plan(src, out, RunOptions(time_limit_s=1e-9))
    assert outcome.exit_code == 1 and outcome.status == "error"
    summary = _summary(out)
    assert summary["status"] == "error" and summary["objective_usd"] is None
    assert "before finding any feasible plan" in summary["status_message"]


@pytest.mark.parametrize("status,gap,code,word", [(S.kTimeLimit, 0.25, 0, "feasible"),
                                                  (S.kUnbounded, 0.0, 3, "unbounded"),
                                                  (S.kSolveError, 0.0, 1, "error")])
def test_faults_end_to_end(tmp_path, monkeypatch, status, gap, code, word):
    real = solve_module._read_status

    def fake(h, is_mip):
        if h.getModelStatus() == S.kOptimal and word != "feasible":
            return real(FakeHighs(status, False), is_mip)
        if word == "feasible":
            return real(FakeHighs(S.kTimeLimit, True, gap), True)
        return real(h, is_mip)

    monkeypatch.setattr(solve_module, "_read_status", fake)
    src = write(tmp_path, minimal_sheets(2))
    out = tmp_path / "plan.xlsx"
    outcome = run_plan(src, out)
    assert outcome.exit_code == code and outcome.status == word
    summary = _summary(out)
    assert summary["status"] == word
    wb = load_workbook(out)
    status_font = wb["Summary"]["B3"].font
    assert status_font.color.rgb.endswith("9C0006")  # shown in red: never looks optimal
    if word == "feasible":
        assert summary["mip_gap"] == pytest.approx(0.25)
    else:
        assert "Diagnosis" in wb.sheetnames and summary["objective_usd"] is None
