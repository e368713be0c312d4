"""Packaging blocks (family 19) through the quarterly cycle: a rolled plan carries the blocks started in the
closed quarter, a re-plan freezes them like site blocks, and diff lists them as decisions.

The plan (tests/model/test_packaging_expansion.py): two quarters, demand 1,000 then 3,000 tok/s, penalty $2;
line `default` packages 10 chips a quarter; one block of 10 chips ($500, lead 1 quarter, max 1) is started in
2026Q1, so 2026Q2 packages 20 chips. HBM vendor V (used by nobody) has a take-or-pay floor of 3 and 4 stacks at
$10: $70 paid. Objective $3,870."""

import pytest
from openpyxl import load_workbook

from planner.cycle.diff import decisions, load_plan
from planner.cycle.roll import roll
from planner.cycle.freeze import FreezeEdit
from planner.pipeline import RunOptions, run_plan
from tests.builders import minimal_sheets, write

Q = ["2026Q1", "2026Q2"]


def sheets(max_blocks=1):
    s = minimal_sheets(2)
    s["HBMVendors"] = [["vendor", "price_usd_per_stack"], ["V", 10]]
    s["HBMSupply"] = [["vendor"] + Q, ["V", 0, 0]]
    s["HBMMinStacks"] = [["vendor"] + Q, ["V", 3, 4]]  # nobody uses V: 3 + 4 stacks paid, $70
    s["Workloads"] = [["workload", "unmet_penalty_usd_per_tps"], ["w", 2]]
    s["Demand"][1] = ["NA", "w", 1000, 3000]
    s["PackagingCapacity"] = [["packaging_line"] + Q, ["default", 10, 10]]
    s["PackagingExpansion"] = [["packaging_line", "block_chips", "capex_usd_per_block", "lead_quarters",
                                "max_blocks"], ["default", 10, 500, 1, max_blocks]]
    return s


@pytest.fixture
def planned(tmp_path):
    source = write(tmp_path, sheets(), "in.xlsx")
    plan = tmp_path / "plan.xlsx"
    outcome = run_plan(source, plan, RunOptions(mip_rel_gap=1e-9))
    assert outcome.status == "optimal" and outcome.objective_usd == pytest.approx(3870, rel=1e-6)
    return source, plan


def test_roll_carries_the_blocks_started(planned, tmp_path):
    """Rolled to 2026Q2..2026Q3: the block is committed, max_blocks 1 -> 0, and PackagingCapacity gains 10 chips
    from 2026Q2 (2026Q1 + lead 1): 2026Q2 = 10 + 10 = 20; the new 2026Q3 is a copy of 2026Q2 (10) + 10 = 20."""
    source, plan = planned
    out = roll(plan, source, tmp_path / "next.xlsx")
    wb = load_workbook(out, data_only=True)
    cap = {c.value: wb["PackagingCapacity"].cell(2, c.column).value for c in wb["PackagingCapacity"][1]}
    assert cap["2026Q2"] == 20 and cap["2026Q3"] == 20
    assert wb["PackagingExpansion"]["E2"].value == 0
    floor = {c.value: wb["HBMMinStacks"].cell(2, c.column).value for c in wb["HBMMinStacks"][1]}
    assert floor == {"vendor": "V", "2026Q2": 4, "2026Q3": 4}  # time-phased: shifted, last quarter copied


def test_freeze_keeps_the_block(planned, tmp_path):
    """Re-plan the same input with the block made dearer ($5,000: not worth it on its own) but 2026Q1 frozen to
    the previous plan: the block stays started (blocks_started 1 in 2026Q1)."""
    _source, plan = planned
    dear = sheets()
    dear["PackagingExpansion"][1][2] = 5000
    out = tmp_path / "frozen.xlsx"
    outcome = run_plan(write(tmp_path, dear, "dear.xlsx"), out, RunOptions(model_edits=[FreezeEdit(plan, 1)],
                                                                           mip_rel_gap=1e-9))
    assert outcome.status == "optimal"
    wb = load_workbook(out, read_only=True)
    rows = [r for r in wb["Packaging"].iter_rows(min_row=2, values_only=True) if r[1] == "2026Q1"]
    header = [c.value for c in next(wb["Packaging"].iter_rows(max_row=1))]
    assert rows[0][header.index("blocks_started")] == 1
    free = run_plan(write(tmp_path, dear, "dear2.xlsx"), tmp_path / "free.xlsx", RunOptions(mip_rel_gap=1e-9))
    assert free.objective_usd == pytest.approx(4270, rel=1e-6)  # unfrozen, the $5,000 block is not started


def test_diff_lists_packaging_blocks_and_hbm_paid(planned):
    _source, plan = planned
    found = decisions(load_plan(plan))
    blocks = found[found["decision"] == "packaging blocks"]
    assert list(blocks["value"]) == [1.0, 0.0] and list(blocks["key"]) == ["default", "default"]
    paid = found[found["decision"] == "hbm paid"]
    assert list(paid["value"]) == [3.0, 4.0]


def test_diff_calls_the_rolled_block_a_carry_over(planned, tmp_path):
    """The plan started the packaging block in 2026Q1; the roll adds its 10 chips to PackagingCapacity and takes
    max_blocks 1 -> 0. Diffing the plan against the re-plan of the rolled input, those input changes are the
    roll's own carry-over, not edits by the planner."""
    from planner.cycle.diff import compare

    source, plan = planned
    nxt = roll(plan, source, tmp_path / "next.xlsx")
    new = tmp_path / "replan.xlsx"
    assert run_plan(nxt, new, RunOptions(mip_rel_gap=1e-9)).exit_code == 0
    result = compare(load_plan(plan), load_plan(new))
    causes = {(r.sheet, r.column): r.cause for r in result.inputs.itertuples()
              if r.sheet in ("PackagingCapacity", "PackagingExpansion")}
    assert causes and set(causes.values()) == {"roll carry-over"}, causes
    assert causes[("PackagingExpansion", "max_blocks")] == "roll carry-over"
