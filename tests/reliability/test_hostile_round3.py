"""Hostile inputs, round three (a session's trial of ~390 commands): tampered plans read by roll, --previous and
diff are located errors or read right, never an unexpected failure."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from planner import cli
from tests.builders import minimal_sheets, write


@pytest.fixture
def plan(tmp_path):
    src = write(tmp_path, minimal_sheets(2), "in.xlsx")
    out = tmp_path / "plan.xlsx"
    assert cli.main(["-q", "run", str(src), "-o", str(out)]) == 0
    return src, out


def _tampered(plan_path, tmp_path, edit, name="tampered.xlsx"):
    wb = load_workbook(plan_path)
    edit(wb)
    target = tmp_path / name
    wb.save(target)
    return target


@pytest.mark.parametrize("command", ["roll", "previous", "diff"])
def test_a_plan_with_a_renamed_contract_header_is_a_located_error(plan, tmp_path, capsys, command):
    src, out = plan
    bad = _tampered(out, tmp_path, lambda wb: wb["Wafers"].cell(1, 4, "wafer_count"))
    argv = {"roll": ["roll", str(bad), str(src), "-o", str(tmp_path / "next.xlsx")],
            "previous": ["run", str(src), "--previous", str(bad), "-o", str(tmp_path / "p2.xlsx")],
            "diff": ["diff", str(bad), str(out), "-o", str(tmp_path / "d.xlsx")]}[command]
    assert cli.main(["-q", *argv]) == 2
    err = capsys.readouterr().err
    assert "Wafers!1:1 lacks column(s) wafers" in err and "unexpected failure" not in err


def test_a_diff_with_a_product_only_one_plan_has_is_no_crash(plan, tmp_path, capsys):
    """A Deployments row of a product the input does not know has no price: listed, without a cost impact."""
    _src, out = plan
    bad = _tampered(out, tmp_path, lambda wb: wb["Deployments"].append(["ZZ", "S", "2026Q2", 7, 8, 64]))
    assert cli.main(["-q", "diff", str(bad), str(out), "-o", str(tmp_path / "d.xlsx")]) == 0
    printed = capsys.readouterr()
    assert "ZZ racks deployed at S in 2026Q2: 7 → 0" in printed.out and "unexpected failure" not in printed.err


@pytest.mark.parametrize("command", ["roll", "freeze"])
def test_a_plan_without_its_power_sheet_is_refused_when_the_input_can_expand(tmp_path, capsys, command):
    """The Power sheet holds the blocks started: deleted by hand, a roll or a freeze would lose them silently."""
    sheets = minimal_sheets(2)
    sheets["SiteExpansion"] = [["site", "block_mw", "capex_usd_per_mw", "lead_quarters", "max_blocks"],
                               ["S", 0.01, 100, 0, 3]]
    src = write(tmp_path, sheets, "in.xlsx")
    out = tmp_path / "plan.xlsx"
    assert cli.main(["-q", "run", str(src), "-o", str(out)]) == 0
    bad = _tampered(out, tmp_path, lambda wb: wb.remove(wb["Power"]))
    argv = ["roll", str(bad), str(src), "-o", str(tmp_path / "next.xlsx")] if command == "roll" else \
        ["run", str(src), "--previous", str(bad), "--freeze", "1", "-o", str(tmp_path / "p2.xlsx")]
    assert cli.main(["-q", *argv]) == 2
    err = capsys.readouterr().err
    assert "has no Power sheet, though the" in err and "unexpected failure" not in err


def test_a_repair_at_a_cell_a_scenario_set_names_the_scenario_row(tmp_path, capsys):
    """Scenario `inf` sets FabCapacity F 2026Q1 to 0 under a 100% floor: the repair raises FabCapacity!B2, whose
    input value is 1,000; the diagnosis says the 0 comes from the scenario row (Scenarios!F2)."""
    sheets = minimal_sheets(1)
    sheets["Workloads"] = [["workload", "unmet_penalty_usd_per_tps", "min_service_level"], ["w", 1, 1]]
    sheets["Scenarios"] = [["scenario", "sheet", "key", "column", "operation", "value"],
                           ["inf", "FabCapacity", "F", "2026Q1", "set", 0]]
    src = write(tmp_path, sheets, "in.xlsx")
    assert cli.main(["-q", "run", str(src), "--scenario", "inf", "-o", str(tmp_path / "p.xlsx")]) == 3
    text = " ".join(str(r[0]) for r in load_workbook(tmp_path / "p.xlsx")["Diagnosis"].iter_rows(values_only=True)
                    if r and r[0])
    assert "FabCapacity!B2 (as set by the scenario row Scenarios!F2" in text


def test_roll_to_a_shorter_horizon_keeps_commit_quarters_inside_it(plan, tmp_path, capsys):
    """commit_quarters 2 and roll --quarters 1: the rolled workbook would not validate; it commits 1 quarter."""
    src, _out = plan
    sheets = minimal_sheets(2, commit_quarters=2)
    src = write(tmp_path, sheets, "in2.xlsx")
    out = tmp_path / "plan2.xlsx"
    assert cli.main(["-q", "run", str(src), "-o", str(out)]) == 0
    nxt = tmp_path / "next.xlsx"
    assert cli.main(["-q", "roll", str(out), str(src), "-o", str(nxt), "--quarters", "1"]) == 0
    settings = {r[0]: r[1] for r in load_workbook(nxt)["Settings"].iter_rows(min_row=2, values_only=True)}
    assert settings["commit_quarters"] == 1 and settings["quarters"] == 1


def test_a_hedged_plans_infeasible_scenario_names_the_scenario_row_too(tmp_path):
    sheets = minimal_sheets(1, commit_quarters=1)
    sheets["Workloads"] = [["workload", "unmet_penalty_usd_per_tps", "min_service_level"], ["w", 1, 1]]
    sheets["Scenarios"] = [["scenario", "sheet", "key", "column", "operation", "value"],
                           ["inf", "FabCapacity", "F", "2026Q1", "set", 0], ["ok", "Demand", "NA/w", "*", "scale", 1]]
    src = write(tmp_path, sheets, "in.xlsx")
    assert cli.main(["-q", "run", str(src), "--stochastic", "-o", str(tmp_path / "h.xlsx")]) == 3
    text = " ".join(str(r[0]) for r in load_workbook(tmp_path / "h.xlsx")["Diagnosis"].iter_rows(values_only=True)
                    if r and r[0])
    assert "(as set by the scenario row Scenarios!F2" in text
