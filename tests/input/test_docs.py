from pathlib import Path

from planner.input.docs import render


def test_readme_sheet_reference_is_generated_from_the_schema():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert render(readme) == readme, "run: python -m planner.input.docs README.md"


def test_template_is_well_formed_and_validates(tmp_path):
    from planner.cli import main
    from planner.input.validate import validate_workbook
    from openpyxl import load_workbook

    out = tmp_path / "template.xlsx"
    assert main(["-q", "template", str(out), "--start", "2026Q3", "--quarters", "6"]) == 0
    data, issues = validate_workbook(out)
    assert data is not None and not issues.errors
    assert data.quarters[0] == "2026Q3" and data.T == 6
    wb = load_workbook(out)
    assert wb.sheetnames[0] == "README"
    routes = wb["Routes"]
    assert routes["C1"].comment is not None and "dies" in routes["C1"].comment.text.lower()
    assert routes.freeze_panes == "A2"
    assert any("Products!$A$2" in dv.formula1 for dv in routes.data_validations.dataValidation)
    assert [c.value for c in wb["Demand"][1]][2:] == ["2026Q3", "2026Q4", "2027Q1", "2027Q2", "2027Q3", "2027Q4"]
    assert all(c.comment is not None for c in wb["Settings"][1])  # every header says what it holds, Settings' too


def test_template_cell_checks_are_as_strict_as_validate(tmp_path):
    """Excel's checks in the template hold the schema's ranges, open ends included: a yield must be > 0 and
    <= 1 (validate refuses 0), dies_per_wafer > 0; they cover 10,000 rows."""
    from openpyxl import load_workbook

    from planner.cli import main

    out = tmp_path / "template.xlsx"
    assert main(["-q", "template", str(out)]) == 0
    formulas = {str(dv.sqref): dv.formula1 for dv in load_workbook(out)["Routes"].data_validations.dataValidation}
    assert formulas["D2:D10000"] == "AND(ISNUMBER(D2),D2>0,D2<=1)"  # yield
    assert formulas["C2:C10000"] == "AND(ISNUMBER(C2),C2>0)"  # dies_per_wafer
