"""Scenarios sheet: every operation on every kind of sheet applied exactly (hand-worked objectives on the minimal
workbook of tests/builders.py), bad overrides located by their Scenarios cell, and `planner run --scenario`.

Base (minimal_sheets): a rack = 10 chips = 1 wafer ($100) + $1,000 capex = $1,100, serves 1,000 tok/s for the
whole horizon; unmet demand costs $1 per tok/s per quarter; no discounting, continuous racks."""

import copy

import pytest
from openpyxl import load_workbook

from planner.cli import main
from planner.whatif.scenarios import ScenarioEdit
from planner.pipeline import RunOptions, run_plan
from planner.whatif.scenarios import apply_named_scenario, scenario_names
from planner.input.reader import read_workbook
from tests.builders import minimal_sheets, write

HEADER = ["scenario", "sheet", "key", "column", "operation", "value"]


def plan(tmp_path, sheets, scenario):
    src = write(tmp_path, sheets)
    out = tmp_path / f"{scenario}.plan.xlsx"
    return run_plan(src, out, RunOptions(input_edits=[ScenarioEdit(scenario)] if scenario else [], mip_rel_gap=1e-9))


def four_quarters():
    """Demand 1,000 / 1,000 / 3,000 / 3,000: one rack in Q1 ($1,100, saves $4,000) and two more in Q3 (each $1,100,
    saving $2,000): objective 3 x 1,100 = $3,300."""
    sheets = minimal_sheets(4)
    sheets["Demand"][1] = ["NA", "w", 1000, 1000, 3000, 3000]
    return sheets


def test_base_objective_is_the_hand_worked_one(tmp_path):
    sheets = four_quarters()
    sheets["Scenarios"] = [HEADER, ["noop", "Demand", "NA/w", "2026Q1", "scale", 1]]
    assert plan(tmp_path, sheets, "base").objective_usd == pytest.approx(3300, rel=1e-9)
    assert plan(tmp_path, sheets, "noop").objective_usd == pytest.approx(3300, rel=1e-9)


@pytest.mark.parametrize("operation, value, objective", [
    # rack capex $3,000: a rack costs $3,100 and saves only $2,000 over two quarters -> serve nothing: $2,000
    ("set", 3000, 2000),
    # rack capex x 0.5 = $500: a rack costs $600 < $2,000 -> buy it: $600
    ("scale", 0.5, 600),
    # rack capex + 400 = $1,400: a rack costs $1,500 < $2,000 -> buy it: $1,500
    ("add", 400, 1500),
])
def test_table_sheet(tmp_path, operation, value, objective):
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, ["x", "Products", "L1", "rack_capex_usd", operation, value]]
    outcome = plan(tmp_path, sheets, "x")
    assert outcome.exit_code == 0, [str(i) for i in outcome.issues]
    assert outcome.objective_usd == pytest.approx(objective, rel=1e-9)


@pytest.mark.parametrize("operation, column, value, objective", [
    # demand 1,000 / 1,000 / 5,000 / 5,000: racks 1 + 4 -> 5 x 1,100 = $5,500
    ("set", "2026Q3:2027Q4", 5000, 5500),
    # demand 1,000 / 2,000 / 6,000 / 3,000: a second rack in Q2 serves 3 quarters (saves $3,000): buy; a third in
    # Q3 serves Q3 and Q4 (saves $2,000): buy; more serve Q3 only ($1,000 < $1,100): 3,000 unmet in Q3
    # -> 3 x 1,100 + 3,000 = $6,300
    ("scale", "2026Q2:2026Q3", 2, 6300),
    # demand 1,000 / 1,000 / 3,000 / 3,500: half a rack in Q4 costs $550 for $500 -> leave it unmet: $3,800
    ("add", "2026Q4", 500, 3800),
])
def test_wide_sheet_quarter_range(tmp_path, operation, column, value, objective):
    sheets = four_quarters()
    sheets["Scenarios"] = [HEADER, ["x", "Demand", "NA/w", column, operation, value]]
    outcome = plan(tmp_path, sheets, "x")
    assert outcome.exit_code == 0, [str(i) for i in outcome.issues]
    assert outcome.objective_usd == pytest.approx(objective, rel=1e-9)


@pytest.mark.parametrize("operation, value, objective", [
    # 3 quarters: the Q3 racks serve one quarter and save $1,000 < $1,100 -> 1,100 + 2,000 unmet = $3,100
    ("set", 3, 3100),
    # 4 x 0.5 = 2 quarters: one rack, $1,100
    ("scale", 0.5, 1100),
    # 4 - 1 = 3 quarters: $3,100
    ("add", -1, 3100),
])
def test_settings(tmp_path, operation, value, objective):
    sheets = four_quarters()
    sheets["Scenarios"] = [HEADER, ["x", "Settings", "quarters", "value", operation, value]]
    outcome = plan(tmp_path, sheets, "x")
    assert outcome.exit_code == 0, [str(i) for i in outcome.issues]
    assert outcome.objective_usd == pytest.approx(objective, rel=1e-9)


def test_cells_changed_exactly_and_sentences(tmp_path):
    sheets = four_quarters()
    sheets["Fabs"].append([7, 80])
    sheets["FabCapacity"].append([7, 1, 2, 3, 4])
    sheets["Demand"].append(["EU", "w", 10, 20, 30, 40])
    sheets["Scenarios"] = [
        HEADER,
        ["x", "Demand", "NA/w", "2026Q2:2026Q3", "scale", 0.7],
        ["x", "Demand", "*/w", "2026Q4", "add", 5],
        ["x", "FabCapacity", 7.0, "*", "scale", 3],  # numeric key 7.0 is the key "7"
        ["x", " fabcapacity ", "  F ", "2026Q1", "set", "12"],  # sheet names ignore case; keys are stripped
        ["x", "Settings", "Discount Rate Annual", "*", "set", 0.05],
        ["x", "Products", "L1", "Rack Capex USD", "add", -250],
        ["other", "Demand", "*", "*", "set", 0],
    ]
    raw, issues = read_workbook(write(tmp_path, sheets))
    assert scenario_names(raw) == ["x", "other"]
    before = copy.deepcopy(raw)
    applied = apply_named_scenario(raw, "x", issues)
    assert issues.ok, [str(i) for i in issues]
    assert applied == [
        "Scenarios!A2: Demand NA/w 2026Q2..2026Q3 scale 0.7 (2 cells)",
        "Scenarios!A3: Demand */w 2026Q4 add 5 (2 cells)",
        "Scenarios!A4: FabCapacity 7 all quarters scale 3 (4 cells)",
        "Scenarios!A5: FabCapacity F 2026Q1 set 12 (1 cell)",
        "Scenarios!A6: Settings discount_rate_annual value set 0.05 (1 cell)",
        "Scenarios!A7: Products L1 rack_capex_usd add -250 (1 cell)",
    ]
    demand = {tuple(r.values[k] for k in ("region", "workload")): r.values for r in raw.sheets["Demand"].rows}
    assert [demand[("NA", "w")][q] for q in ("2026Q1", "2026Q2", "2026Q3", "2026Q4")] == [1000, 700, 2100, 3005]
    assert [demand[("EU", "w")][q] for q in ("2026Q1", "2026Q2", "2026Q3", "2026Q4")] == [10, 20, 30, 45]
    caps = {r.values["fab"]: r.values for r in raw.sheets["FabCapacity"].rows}
    assert [caps[7][q] for q in ("2026Q1", "2026Q2", "2026Q3", "2026Q4")] == [3, 6, 9, 12]
    assert caps["F"]["2026Q1"] == "12" and caps["F"]["2026Q2"] == 1000
    settings = {r.values["key"]: r.values["value"] for r in raw.sheets["Settings"].rows}
    assert settings["discount_rate_annual"] == 0.05
    assert raw.sheets["Products"].rows[0].values["rack_capex_usd"] == 750
    # nothing else moved
    for name, sheet in raw.sheets.items():
        if name not in ("Demand", "FabCapacity", "Settings", "Products"):
            assert [r.values for r in sheet.rows] == [r.values for r in before.sheets[name].rows], name


def test_blank_cells_use_their_meaning(tmp_path):
    sheets = minimal_sheets(2)
    sheets["Products"][0].append("utilization")  # blank = default 1.0
    sheets["Products"][1].append(None)
    sheets["FabMinWafers"] = [["fab", "2026Q1", "2026Q2"], ["F", None, 3]]  # blank = 0
    sheets["Scenarios"] = [HEADER, ["x", "Products", "L1", "utilization", "scale", 0.5],
                           ["x", "FabMinWafers", "F", "*", "add", 1]]
    raw, issues = read_workbook(write(tmp_path, sheets))
    apply_named_scenario(raw, "x", issues)
    assert issues.ok
    assert raw.sheets["Products"].rows[0].values["utilization"] == 0.5
    assert raw.sheets["FabMinWafers"].rows[0].values["2026Q1"] == 1
    assert raw.sheets["FabMinWafers"].rows[0].values["2026Q2"] == 4


@pytest.mark.parametrize("row, cell, words", [
    (["x", "Nope", "*", "*", "set", 1], "Scenarios!B2", "unknown sheet 'Nope'"),
    (["x", "Partners", "*", "*", "set", 1], "Scenarios!B2", "not in this workbook"),
    (["x", "Products", "L9", "rack_kw", "set", 1], "Scenarios!C2", "no row of Products has key 'L9' (keys there: L1)"),
    (["x", "Demand", "NA", "2026Q1", "set", 1], "Scenarios!C2", "joined with /"),
    (["x", "Products", "L1", "rack_watts", "set", 1], "Scenarios!D2", "unknown column 'rack_watts'"),
    (["x", "Products", "L1", "product", "set", "L2"], "Scenarios!D2", "key column"),
    (["x", "Demand", "NA/w", "2031Q1", "set", 1], "Scenarios!D2", "quarter 2031Q1 is not a column"),
    (["x", "Demand", "NA/w", "2030Q1:2030Q4", "set", 1], "Scenarios!D2", "no quarter column"),
    (["x", "Demand", "NA/w", "2026Q2:2026Q1", "set", 1], "Scenarios!D2", "ends before it starts"),
    (["x", "Products", "L1", "2026Q1:2026Q2", "set", 1], "Scenarios!D2", "no quarter columns"),
    (["x", "Products", "L1", "min_service_level", "set", 1], "Scenarios!D2", "unknown column"),
    (["x", "Workloads", "w", "min_service_level", "set", 1], "Scenarios!D2", "add the column"),
    (["x", "Settings", "threads", "value", "set", 2], "Scenarios!C2", "not in the Settings sheet"),
    (["x", "Products", "L1", "rack_kw", "double", 2], "Scenarios!E2", "unknown operation"),
    (["x", "Products", "L1", "rack_kw", "scale", "lots"], "Scenarios!F2", "scale needs a number"),
    (["x", "Products", "L1", "rack_kw", "add", None], "Scenarios!F2", "the value is blank"),
    (["x", "Settings", "plan_name", "value", "scale", 2], "Scenarios!D2",
     "cannot scale 1 cell(s) that hold text, not numbers: Settings!B2"),
    (["base", "Products", "L1", "rack_kw", "set", 2], "Scenarios!A2", "'base' is the workbook as it is"),
])
def test_bad_override_is_located_by_cell(tmp_path, row, cell, words):
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, row, ["y", "Products", "L1", "rack_kw", "set", 2]]
    outcome = plan(tmp_path, sheets, "x" if row[0] != "base" else "y")
    if row[0] == "base":  # a row of no scenario: a warning, and scenario y still plans (hostile round 5)
        assert outcome.exit_code == 0
        assert any(i.cell == cell and words in i.message for i in outcome.issues.warnings)
        return
    assert outcome.exit_code == 2
    errors = [i for i in outcome.issues.errors if i.cell == cell]
    assert errors and words in errors[0].message, [str(i) for i in outcome.issues]
    assert errors[0].sheet == "Scenarios"


@pytest.mark.parametrize("names, asked, words", [
    (("low", "high"), "medium", "unknown scenario 'medium' (known: base, low, high)"),
    # two names that match but for case: ambiguous, not unknown
    (("Boom", "boom"), "BOOM", "scenario 'BOOM' could be any of Boom, boom (names that differ only by case)"),
])
def test_a_scenario_name_that_picks_no_one_scenario_is_an_error_on_the_scenarios_sheet(tmp_path, names, asked, words):
    """The name was asked for on the command line: the error names the sheet, not a cell (no cell holds it)."""
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, [names[0], "Products", "L1", "rack_kw", "set", 2],
                           [names[1], "Products", "L1", "rack_kw", "set", 20]]
    outcome = plan(tmp_path, sheets, asked)
    assert outcome.exit_code == 2
    [error] = outcome.issues.errors
    assert error.cell == "Scenarios" and words in error.message


def test_scenario_without_scenarios_sheet(tmp_path):
    outcome = plan(tmp_path, minimal_sheets(2), "x")
    assert outcome.exit_code == 2
    assert "no Scenarios sheet" in outcome.issues.errors[0].message


def test_overridden_value_out_of_range_names_the_overridden_cell(tmp_path):
    """Scenario x scales a yield of 1 by 1.5: the error is at Routes!D2, whose input value looks fine, so the
    message also names the Scenarios row that made the value (its value cell F2, scale 1.5)."""
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, ["x", "Routes", "L1/F", "yield", "scale", 1.5]]
    outcome = plan(tmp_path, sheets, "x")
    assert outcome.exit_code == 2
    assert [(i.cell, i.message) for i in outcome.issues.errors] == [
        ("Routes!D2", "yield must be in (0, 1] (the value after the scenario row Scenarios!F2 (scale 1.5); the input "
                      "cell holds another)")]


def test_a_row_naming_no_cell_does_not_hide_a_bad_value_of_the_same_scenario(tmp_path, capsys):
    """Scenario x has a row naming a column Products lacks (F2 cannot apply) and a row setting a yield of 1.5: both
    are reported at once, by run --scenario and by validate, the yield at the cell it lands in, naming its row.
    The rack_kw row that applied cleanly adds nothing (its value is fine)."""
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, ["x", "Products", "L1", "yield", "set", 1],
                           ["x", "Routes", "L1/F", "yield", "set", 1.5],
                           ["x", "Products", "L1", "rack_kw", "set", 2]]
    outcome = plan(tmp_path, sheets, "x")
    assert outcome.exit_code == 2
    assert [i.cell for i in outcome.issues.errors] == ["Scenarios!D2", "Routes!D2"]
    assert "Scenarios!F3 (set 1.5)" in outcome.issues.errors[1].message
    assert main(["validate", str(tmp_path / "in.xlsx")]) == 2
    out = capsys.readouterr().out
    assert "scenario 'x': 2 error(s)" in out and "Routes!D2" in out


def test_every_match_blank_is_a_warning(tmp_path):
    sheets = minimal_sheets(2)
    sheets["FabWaferCost"] = [["fab", "2026Q1", "2026Q2"], ["F", None, None]]  # blank = Fabs.wafer_cost_usd
    sheets["Scenarios"] = [HEADER, ["x", "FabWaferCost", "F", "*", "scale", 2]]
    raw, issues = read_workbook(write(tmp_path, sheets))
    applied = apply_named_scenario(raw, "x", issues)
    assert issues.ok and applied == ["Scenarios!A2: FabWaferCost F all quarters scale 2 (0 cells; 2 blank cells left "
                                     "blank (Fabs.wafer_cost_usd))"]
    assert [w.cell for w in issues.warnings] == ["Scenarios!A2"]


def test_base_applies_nothing(tmp_path):
    sheets = minimal_sheets(2)
    raw, issues = read_workbook(write(tmp_path, sheets))
    assert apply_named_scenario(raw, "base", issues) == [] and issues.ok
    assert scenario_names(raw) == []


def test_run_scenario_summary_lists_scenario_and_overrides(tmp_path):
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, ["cheap racks", "Products", "L1", "rack_capex_usd", "scale", 0.5],
                           ["cheap racks", "Fabs", "F", "wafer_cost_usd", "set", 50]]
    src = write(tmp_path, sheets)
    out = tmp_path / "plan.xlsx"
    assert main(["-q", "run", str(src), "--scenario", "cheap racks", "-o", str(out)]) == 0
    summary = {r[0]: r[1] for r in load_workbook(out)["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["scenario"] == "cheap racks"
    assert summary["override_1"] == "Scenarios!A2: Products L1 rack_capex_usd scale 0.5 (1 cell)"
    assert summary["override_2"] == "Scenarios!A3: Fabs F wafer_cost_usd set 50 (1 cell)"
    assert "override_3" not in summary
    assert summary["objective_usd"] == pytest.approx(550, rel=1e-9)  # $50 wafer + $500 capex
    out_base = tmp_path / "base.xlsx"
    assert main(["-q", "run", str(src), "-o", str(out_base)]) == 0
    summary = {r[0]: r[1] for r in load_workbook(out_base)["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["scenario"] == "base" and "override_1" not in summary


def test_scenarios_and_uncertainty_are_optional_schema_sheets():
    from planner.input.schema import SHEET_BY_NAME

    assert not SHEET_BY_NAME["Scenarios"].required and not SHEET_BY_NAME["Uncertainty"].required
    assert SHEET_BY_NAME["Scenarios"].column_names == tuple(HEADER)


def test_validate_checks_every_scenario(tmp_path, capsys):
    from planner.cli import main
    from tests.builders import minimal_sheets, write

    sheets = minimal_sheets()
    sheets["Scenarios"] = [["scenario", "sheet", "key", "column", "operation", "value"],
                           ["ok", "Demand", "NA/w", "*", "scale", 2],
                           ["bad", "Routes", "L1/F", "yield", "set", 1.5]]
    assert main(["validate", str(write(tmp_path, sheets))]) == 2
    out = capsys.readouterr().out
    assert "scenario 'bad'" in out and "Routes!D2" in out and "scenario 'ok'" not in out
    assert out.splitlines()[-1].endswith("the base workbook is valid, but 1 scenario(s) cannot be applied (listed "
                                         "above)")  # a verdict, as for an invalid base ('N error(s)')

