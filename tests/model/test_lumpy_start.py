"""A MIP with blocks and whole racks starts from its lumpy-first plan (models/solve.py::lumpy_first_start): two
stages, then the full MIP, at the same optimum; a MIP above LUMPY_FIRST_MAX_COLUMNS columns starts without it
(its stages would each pay the root LP by simplex, longer than a stage's cap on bench's MIP-M)."""

import pytest

from models import solve as msolve
from tests.builders import solve_sheets
from tests.model.helpers import set_row
from tests.model.test_site_power import _sheets


def _solved_with_stages(tmp_path, monkeypatch):
    labels = []
    run = msolve.run_with_progress
    monkeypatch.setattr(msolve, "run_with_progress",
                        lambda h, is_mip, label="solve", **kw: labels.append(label) or run(h, is_mip, label, **kw))
    sheets = _sheets(1)
    set_row(sheets, "Settings", "integer_racks", value=True)
    return solve_sheets(tmp_path, sheets), labels


def test_blocks_and_whole_racks_start_from_the_lumpy_first_plan(tmp_path, monkeypatch):
    """The site-power case of test_site_power (one block started in Q1, racks 2, 0, 1: $8,600) with whole racks."""
    s, labels = _solved_with_stages(tmp_path, monkeypatch)
    assert labels == ["start 1/2", "start 2/2", "solve"]
    assert s.result.status == "optimal" and s.objective == pytest.approx(8600, rel=1e-6)
    assert "lumpy-first" in s.result.algorithm


def test_a_large_mip_starts_without_the_stages(tmp_path, monkeypatch):
    monkeypatch.setattr(msolve, "LUMPY_FIRST_MAX_COLUMNS", 0)
    s, labels = _solved_with_stages(tmp_path, monkeypatch)
    assert labels == ["solve"]
    assert s.result.status == "optimal" and s.objective == pytest.approx(8600, rel=1e-6)
