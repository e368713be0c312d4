"""The output contract knows every column a command writes: one vocabulary (Col) holding exactly the declared
sheets' columns, and the example's plan written with exactly the declared columns per sheet, in order."""

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from planner.output import contract
from planner.output.contract import ALL_SHEETS, PLAN_SHEETS, TIDY_SHEETS, Col
from planner.pipeline import run_plan

EXAMPLE = Path(__file__).resolve().parents[2] / "inputs" / "example.xlsx"
QUARTER = re.compile(r"^\d{4}Q[1-4]$")


def test_col_holds_exactly_the_declared_columns():
    names = {k: v for k, v in vars(Col).items() if not k.startswith("_")}
    assert all(k == v for k, v in names.items()), [k for k, v in names.items() if k != v]
    declared = {c for s in ALL_SHEETS for c in s.all_columns}
    assert set(names) - declared == set(), "orphan Col names"
    assert declared - set(names) == set(), "declared columns missing from Col"


def test_limits_and_decisions_shown_name_declared_columns():
    for family, shown in contract.LIMITS_SHOWN.items():
        cols = contract.TIDY_BY_NAME[shown.sheet].all_columns
        assert {c for c in (shown.key, shown.limit, shown.used, shown.price) if c} <= set(cols), family
    for variable, shown in contract.DECISIONS_SHOWN.items():
        assert {*shown.keys, shown.column} <= set(contract.TIDY_BY_NAME[shown.sheet].all_columns), variable


@pytest.fixture(scope="module")
def example_plan(tmp_path_factory):
    out = tmp_path_factory.mktemp("contract") / "plan.xlsx"
    outcome = run_plan(EXAMPLE, out)
    assert outcome.exit_code == 0, outcome.message
    return load_workbook(out, read_only=True)


def _header(ws) -> list[str]:
    row = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
    return [c for c in row if c is not None]


def test_example_plan_has_exactly_the_declared_columns(example_plan):
    partners = [str(r[0]) for r in example_plan["Partners"].iter_rows(min_row=2, values_only=True) if r[0]]
    for sheet in TIDY_SHEETS:
        header = _header(example_plan[sheet.name])
        dynamic = partners if sheet.name == "Capex" else []
        assert header == list(sheet.all_columns) + dynamic, sheet.name
    for sheet in PLAN_SHEETS:
        if sheet.name.startswith(("Diagnosis", "Warnings")) or sheet.name not in example_plan.sheetnames:
            continue  # written only when the plan fails or the input has warnings
        header = _header(example_plan[sheet.name])
        if sheet.name == "Summary":
            header = header[:len(sheet.all_columns)]  # the plan on a page: tables below the key/value rows
        if sheet.dynamic:
            header = [c for c in header if not QUARTER.match(str(c))]
        assert header == list(sheet.all_columns), sheet.name
