"""planner/issues.py: how an issue reads on the terminal."""

from planner.cli import main
from planner.issues import Issue
from tests.builders import minimal_sheets, write


def test_float_values_show_without_binary_noise():
    assert str(Issue("error", "S", "S!B2", "p", 0.6 + 0.5, "m")) == "ERROR   S!B2 [p] = 1.1: m"
    assert str(Issue("error", "S", "S!B2", "p", -50.0, "m")) == "ERROR   S!B2 [p] = -50: m"
    assert str(Issue("error", "S", "S!B2", "p", 1e-300, "m")) == "ERROR   S!B2 [p] = 1e-300: m"
    assert str(Issue("warning", "S", "S!B2", "p", 10500.0, "m")) == "WARNING S!B2 [p] = 10500: m"
    assert str(Issue("error", "S", "S!B2", "p", 1e300, "m")) == "ERROR   S!B2 [p] = 1e+300: m"
    assert str(Issue("error", "S", "S!B2", "p", "1,000", "m")) == "ERROR   S!B2 [p] = '1,000': m"


def test_scenario_weight_sum_reads_naturally(tmp_path, capsys):
    s = minimal_sheets(2)
    s["Scenarios"] = [["scenario", "sheet", "key", "column", "op", "value"], ["lo", "Demand", "NA/w", "*", "scale", 0.5],
                      ["hi", "Demand", "NA/w", "*", "scale", 1.5]]
    s["ScenarioWeights"] = [["scenario", "probability"], ["lo", 0.6], ["hi", 0.5]]
    assert main(["validate", str(write(tmp_path, s))]) == 2
    out = capsys.readouterr().out
    assert ("ERROR   ScenarioWeights!B2:B3 [probability] = 1.1: the probabilities add up to 1.1, not 1 (within 1e-6)"
            in out), out
    assert "1.0999" not in out
