import pytest

from tests.builders import minimal_sheets, solve_sheets


def test_minimal_plan_hand_worked(tmp_path):
    """Demand 1,000 then 2,000 tok/s. One rack (1,000 tok/s) costs $100 wafer + $1,000 capex = $1,100 and saves
    $1,000 of unmet penalty in each of two quarters: buy it. A second rack in Q2 costs $1,100 and saves $1,000:
    don't. Objective = 1,100 + 1,000 (1,000 tok/s unmet in Q2) = $2,100."""
    sheets = minimal_sheets(2)
    sheets["Demand"][1] = ["NA", "w", 1000, 2000]
    s = solve_sheets(tmp_path, sheets)
    assert s.result.status == "optimal"
    assert s.objective == pytest.approx(2100, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(1.0)
    assert s.value("Y", "L1", "S", 1) == pytest.approx(0.0, abs=1e-9)


def test_cost_breakdown_adds_up_to_the_solver_objective(tmp_path):
    """The Summary's components (computed from the plan) equal HiGHS's objective ($k, offset included)."""
    from tests.reliability.test_determinism import rich_sheets

    s = solve_sheets(tmp_path, rich_sheets())
    assert sum(s.solution.cost_breakdown_usd.values()) == pytest.approx(s.objective, rel=1e-12)
    assert s.objective == pytest.approx(s.result.objective * 1e3, rel=1e-7)  # objective in $k


def test_quiet_goes_before_or_after_the_command(tmp_path, capsys):
    """`planner run IN -q` and `planner -q run IN` both plan without progress lines on stderr."""
    from planner.cli import main
    from tests.builders import minimal_sheets, write

    src = write(tmp_path, minimal_sheets())
    for argv in (["run", str(src), "-q", "-o", str(tmp_path / "a.xlsx")], ["-q", "run", str(src), "-o",
                                                                           str(tmp_path / "b.xlsx")]):
        assert main(argv) == 0
        assert "solve" not in capsys.readouterr().err
