"""An invalid base workbook: compare, sweep and run --scenario print exactly what `planner validate` prints (every
error and warning of the workbook, once, nothing per scenario), exit 2 and write nothing. A scenario that breaks a
valid workbook prints only the errors it introduces, under its name, once."""

from __future__ import annotations

import pytest

from planner.cli import main
from tests.builders import minimal_sheets, write

HEADER = ["scenario", "sheet", "key", "column", "operation", "value"]
UNCERTAINTY = ["sheet", "key", "column", "distribution", "p1", "p2", "p3"]


def broken_base(tmp_path):
    """Read-time errors (a malformed quarter header), validation errors (text, negative), a sheet renamed by a
    typo (a warning and a missing required sheet), and scenarios and factors that name the missing sheet."""
    s = minimal_sheets(2)
    s["Products"][1][3] = "lots"
    s["FabCapacity"][1][1] = -50
    s["Demand"][0][3] = "2026Q5"
    s["HBMSuply"] = s.pop("HBMSupply")
    s["Scenarios"] = [HEADER, *[[f"s{i}", "HBMSupply", "V", "*", "set", 0] for i in range(3)],
                      ["cheap", "Products", "L1", "rack_capex_usd", "scale", 0.5]]
    s["Uncertainty"] = [UNCERTAINTY, ["HBMSupply", "V", "*", "uniform", 0.5, 1.5, None]]
    return write(tmp_path, s)


@pytest.mark.parametrize("argv", [["compare"], ["compare", "--scenarios", "cheap"], ["sweep", "--draws", "2"],
                                  ["run", "--scenario", "s0"], ["run", "--scenario", "cheap"], ["run"],
                                  ["diagnose"]], ids=" ".join)
def test_every_command_prints_validates_issues_once(tmp_path, capsys, argv):
    src = broken_base(tmp_path)
    assert main(["validate", str(src)]) == 2
    expected = capsys.readouterr().out
    assert expected.count("ERROR") == 5 and "did you mean HBMSupply?" in expected
    assert "required sheet 'HBMSupply' is missing" in expected and "Demand!D1" in expected
    out = tmp_path / "out.xlsx"
    assert main(["-q", argv[0], str(src), *argv[1:], "-o", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err == expected and captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.xlsx"]


EDITED = " (the value after the scenario row Scenarios!{}; the input cell holds another)"  # names the edit


def valid_base_bad_scenario(tmp_path):
    s = minimal_sheets(2)
    s["Products"].append(["L2", 10, 10, 1000, 40])  # a warning: no route
    s["Scenarios"] = [HEADER, ["cheap", "Products", "L1", "rack_capex_usd", "scale", 0.5],
                      ["broken", "Products", "L1", "rack_capex_usd", "set", "half"],
                      ["broken", "FabCapacity", "F", "*", "set", -1]]
    return write(tmp_path, s)


@pytest.mark.parametrize("argv", [["compare"], ["run", "--scenario", "broken"]], ids=" ".join)
def test_a_scenarios_own_errors_print_once_under_its_name(tmp_path, capsys, argv):
    src = valid_base_bad_scenario(tmp_path)
    out = tmp_path / "out.xlsx"
    assert main(["-q", argv[0], str(src), *argv[1:], "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "WARNING Products!A3 [product] = 'L2': product L2 has no route in Routes: no wafers can be started for it "
        "(only its initial die bank and chips can be used)",
        "scenario 'broken': 3 error(s)",
        "  ERROR   Products!D2 [rack_capex_usd] = 'half': expected a number, found text 'half'" + EDITED.format("F3 (set half)"),
        "  ERROR   FabCapacity!B2 [2026Q1] = -1: capacity cannot be negative" + EDITED.format("F4 (set -1)"),
        "  ERROR   FabCapacity!C2 [2026Q2] = -1: capacity cannot be negative" + EDITED.format("F4 (set -1)")]
    assert not out.exists()
    assert main(["validate", str(src)]) == 2
    said = capsys.readouterr().out.splitlines()  # validate says the same, then its verdict
    assert said[:-1] == err.splitlines()
    assert said[-1] == f"INVALID: {src}: the base workbook is valid, but 1 scenario(s) cannot be applied (listed above)"
