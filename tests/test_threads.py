"""Solves in one process may ask for different thread counts (a scenario changing Settings.threads)."""

from tests.builders import minimal_sheets, solve_sheets


def test_thread_count_can_change_between_solves(tmp_path):
    for i, threads in enumerate((1, 2, 0, 1)):
        (tmp_path / str(i)).mkdir()
        s = solve_sheets(tmp_path / str(i), minimal_sheets(2), threads=threads)
        assert s.result.status == "optimal", (threads, s.result.message)
