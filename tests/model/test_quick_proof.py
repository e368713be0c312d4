"""The full MIP from a start that stage (2) proved within its gap runs first without HiGHS's improvement
heuristics, for a capped time, then on from its best plan with them (models/solve.py::run_proof_first,
IMPROVEMENT_HEURISTICS_NOTE). Either way the optimum is the MIP's own."""

import highspy
import numpy as np
import pytest

from models import solve as msolve
from tests.model.test_lumpy_start import _solved_with_stages


def _spy_runs(monkeypatch):
    """Each HiGHS run's label, time limit and RINS setting at its start, and its status at its end."""
    runs = []
    run = msolve.run_with_progress

    def spy(h, is_mip, label="solve", **kw):
        runs.append({"label": label, "time_limit": h.getOptionValue("time_limit")[1],
                     "rins": h.getOptionValue("mip_heuristic_run_rins")[1],
                     "gap": h.getOptionValue("mip_rel_gap")[1]})
        status = run(h, is_mip, label, **kw)
        runs[-1]["status"] = h.getModelStatus()
        return status

    monkeypatch.setattr(msolve, "run_with_progress", spy)
    return runs


def _knapsack() -> highspy.Highs:
    """max 5 a + 4 b + 3 c  s.t.  4 a + 3 b + 2 c <= 5, a, b, c in {0, 1}: by hand, b + c (weight 5) = 7 beats
    a alone (5) and a + c does not fit (6); so the optimum is -7 as a minimum. The start is the empty plan (0)."""
    h = msolve.new_highs()
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("presolve", "off")  # keeps the tiny MIP from being solved before the time limit is checked
    idx = np.arange(3, dtype=np.int32)
    h.addVars(3, np.zeros(3), np.ones(3))
    h.changeColsCost(3, idx, np.array([-5.0, -4.0, -3.0]))
    h.changeColsIntegrality(3, idx, np.array([highspy.HighsVarType.kInteger] * 3))
    h.addRow(-highspy.kHighsInf, 5.0, 3, idx, np.array([4.0, 3.0, 2.0]))
    start = highspy.HighsSolution()
    start.col_value, start.value_valid = [0.0, 0.0, 0.0], True
    h.setSolution(start)
    h.setOptionValue("time_limit", 60.0)
    return h


def test_a_proved_start_is_proven_without_the_improvement_heuristics(tmp_path, monkeypatch):
    """The site-power case ($8,600, one block, whole racks): stage (2) proves its gap, so the full MIP runs once,
    without RINS; stage (1) never has it, stage (2) does."""
    runs = _spy_runs(monkeypatch)
    s, _labels = _solved_with_stages(tmp_path, monkeypatch)
    assert [(r["label"], r["rins"]) for r in runs] == [("start 1/2", False), ("start 2/2", True), ("solve", False)]
    assert s.result.status == "optimal" and s.objective == pytest.approx(8600, rel=1e-6)


def test_a_quick_proof_stopped_by_its_cap_goes_on_with_them_from_its_best_plan(monkeypatch):
    runs = _spy_runs(monkeypatch)
    h = _knapsack()
    msolve.run_proof_first(h, cap_s=1e-9, since=0.0)
    assert [(r["rins"], r["status"]) for r in runs] == [
        (False, highspy.HighsModelStatus.kTimeLimit), (True, highspy.HighsModelStatus.kOptimal)]
    assert runs[0]["time_limit"] == 1e-9 and 59 < runs[1]["time_limit"] <= 60
    assert h.getInfo().objective_function_value == pytest.approx(-7.0)
    assert h.getOptionValue("mip_heuristic_run_rins")[1] is True


def test_a_quick_proof_that_gets_the_whole_time_limit_is_not_run_twice(monkeypatch):
    """A cap at or above the time limit: the one run is the whole solve, stopped or not."""
    runs = _spy_runs(monkeypatch)
    h = _knapsack()
    h.setOptionValue("time_limit", 1e-9)
    msolve.run_proof_first(h, cap_s=5.0, since=0.0)
    assert [(r["rins"], r["status"]) for r in runs] == [(False, highspy.HighsModelStatus.kTimeLimit)]
    assert h.getOptionValue("time_limit")[1] == 1e-9


def test_stage_1_goes_to_the_lumpy_stage_gap_and_the_others_to_the_plans(tmp_path, monkeypatch):
    """Stage (1) decides the blocks and deals: it is solved to LUMPY_STAGE_GAP (1e-5), not the plan's 0.1%, whose
    slack would let it pick other blocks and deals than the relaxation's optimum (RACK_WINDOW_NOTE); a plan asking
    for less than 1e-5 gets its own gap in every stage."""
    runs = _spy_runs(monkeypatch)
    s, _labels = _solved_with_stages(tmp_path, monkeypatch, mip_rel_gap=0.001)
    assert [(r["label"], r["gap"]) for r in runs] == [("start 1/2", 1e-5), ("start 2/2", 0.001), ("solve", 0.001)]
    assert s.objective == pytest.approx(8600, rel=1e-6)
    runs.clear()
    (tmp_path / "tight").mkdir()
    _solved_with_stages(tmp_path / "tight", monkeypatch, mip_rel_gap=1e-9)
    assert [r["gap"] for r in runs] == [1e-9, 1e-9, 1e-9]
