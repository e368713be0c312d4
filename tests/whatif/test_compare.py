"""planner compare: the comparison workbook's contract (sheets, columns, KPI rows, charts), hand-worked numbers,
deltas against base, exit codes for invalid input and an infeasible scenario."""

import zipfile

import pytest
from openpyxl import load_workbook

from planner.cli import main
from tests.builders import minimal_sheets, write

HEADER = ["scenario", "sheet", "key", "column", "operation", "value"]
SHEETS = ["Compare", "Charts", "CompareByQuarter", "Moves", "Overrides"]
KPIS = ["status", "objective_usd", "cost_wafers_usd", "cost_own_capex_usd", "cost_unmet_penalty_usd",
        "service_level", "demand_tps", "served_tps", "unmet_tps", "wafers_started", "wafers_started F",
        "hbm_stacks_bought", "racks_deployed", "mw_added", "own_capex_usd", "partner_capex_usd", "deals_signed"]


def workbook(tmp_path, extra=()):
    """Base $1,100 (one rack serves 1,000 tok/s in both quarters). cheap: rack capex x 0.5 -> $600. dark: no
    power at S -> nothing served, 2,000 tok/s unmet -> $2,000."""
    sheets = minimal_sheets(2)
    sheets["Workloads"] = [["workload", "unmet_penalty_usd_per_tps", "min_service_level"], ["w", 1, 0]]
    sheets["Scenarios"] = [HEADER, ["cheap", "Products", "L1", "rack_capex_usd", "scale", 0.5],
                           ["dark", "SitePower", "S", "*", "set", 0], *extra]
    return write(tmp_path, sheets)


def rows(ws):
    return list(ws.iter_rows(values_only=True))


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compare")
    src = workbook(tmp)
    assert main(["-q", "compare", str(src)]) == 0
    out = src.with_name("in.compare.xlsx")  # default: INPUT.compare.xlsx beside the input
    return out


def test_sheets_and_columns(compared):
    wb = load_workbook(compared)
    assert wb.sheetnames == SHEETS
    compare = rows(wb["Compare"])
    assert list(compare[0]) == ["metric", "unit", "base", "cheap", "dark", "delta cheap", "delta dark"]
    metrics = [r[0] for r in compare[1:]]
    for kpi in KPIS:
        assert kpi in metrics, kpi
    assert list(rows(wb["CompareByQuarter"])[0]) == ["scenario", "quarter", "metric", "value"]
    assert list(rows(wb["Moves"])[0]) == ["scenario", "decision", "key", "unit", "base_value", "scenario_value",
                                          "change", "change_share", "first_quarter_changed"]
    assert list(rows(wb["Overrides"])[0]) == ["scenario", "override"]


def test_hand_worked_values_and_deltas(compared):
    compare = {r[0]: r[2:] for r in rows(load_workbook(compared)["Compare"])[1:]}
    assert compare["status"][:3] == ("optimal", "optimal", "optimal")
    base, cheap, dark, d_cheap, d_dark = compare["objective_usd"]
    assert (base, cheap, dark) == pytest.approx((1100, 600, 2000))
    assert (d_cheap, d_dark) == pytest.approx((-500, 900))
    assert compare["service_level"][:3] == pytest.approx((1.0, 1.0, 0.0))
    assert compare["unmet_tps"][:3] == pytest.approx((0, 0, 2000))
    assert compare["racks_deployed"] == pytest.approx((1, 1, 0, 0, -1))
    assert compare["own_capex_usd"] == pytest.approx((1000, 500, 0, -500, -1000))
    assert compare["cost_unmet_penalty_usd"][:3] == pytest.approx((0, 0, 2000))


def test_by_quarter_moves_and_overrides(compared):
    wb = load_workbook(compared)
    long = rows(wb["CompareByQuarter"])[1:]
    served = {(s, q): v for s, q, m, v in long if m == "served_tps"}
    assert served == pytest.approx({("base", "2026Q1"): 1000, ("base", "2026Q2"): 1000, ("cheap", "2026Q1"): 1000,
                                    ("cheap", "2026Q2"): 1000, ("dark", "2026Q1"): 0, ("dark", "2026Q2"): 0})
    moves = rows(wb["Moves"])[1:]
    assert {(m[0], m[1], m[2]) for m in moves} == {("dark", "wafers by fab", "F"),
                                                   ("dark", "racks deployed by site", "S")}
    racks = next(m for m in moves if m[1] == "racks deployed by site")
    assert racks[4:9] == (1, 0, -1, -1, "2026Q1")
    overrides = rows(wb["Overrides"])[1:]
    assert ("cheap", "Scenarios!A2: Products L1 rack_capex_usd scale 0.5 (1 cell)") in overrides
    assert overrides[0][0] == "base"


def test_native_charts_point_at_compare(compared):
    with zipfile.ZipFile(compared) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        assert len(charts) >= 2
        text = " ".join(z.read(n).decode() for n in charts)
    assert "<f>'Compare'!$C$1:$E$1</f>" in text  # categories: the scenario names
    assert "'Compare'!$C$" in text and "strRef" in text
    assert "Service level per scenario" in text and "Capex per scenario" in text
    # the objective is charted as each scenario's delta against base (F:G), not as three bars of ~equal height
    assert "Objective vs base per scenario" in text and "<f>'Compare'!$F$1:$G$1</f>" in text
    assert "<f>'Compare'!$F$3:$G$3</f>" in text  # row 3: objective_usd


def test_subset_infeasible_scenario_and_status(tmp_path, capsys):
    src = workbook(tmp_path, extra=[["impossible", "SitePower", "S", "*", "set", 0],
                                    ["impossible", "Workloads", "w", "min_service_level", "set", 1]])
    out = tmp_path / "cmp.xlsx"
    assert main(["-q", "compare", str(src), "-o", str(out), "--scenarios", "impossible,cheap"]) == 3
    said = capsys.readouterr().out
    assert f"impossible: INFEASIBLE (why: planner run {src} --scenario impossible writes its Diagnosis)" in said
    compare = {r[0]: r[1:] for r in rows(load_workbook(out)["Compare"])}
    assert compare["metric"][1:] == ("base", "impossible", "cheap", "delta impossible", "delta cheap")
    assert compare["status"][1:4] == ("optimal", "infeasible", "optimal")
    base, impossible, cheap, d_impossible, d_cheap = compare["objective_usd"][1:]
    assert (base, cheap, d_cheap) == pytest.approx((1100, 600, -500))
    assert impossible is None and d_impossible is None


def test_invalid_scenario_writes_nothing(tmp_path, capsys):
    src = workbook(tmp_path, extra=[["broken", "Products", "L1", "rack_capex_usd", "scale", "half"]])
    out = tmp_path / "cmp.xlsx"
    assert main(["-q", "compare", str(src), "-o", str(out)]) == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "Scenarios!F4" in err and "broken" in err


def test_unknown_scenario_in_the_list(tmp_path, capsys):
    src = workbook(tmp_path)
    assert main(["-q", "compare", str(src), "-o", str(tmp_path / "c.xlsx"), "--scenarios", "cheap,nope"]) == 2
    assert "unknown scenario 'nope' (known: base, cheap, dark)" in capsys.readouterr().err


def test_objective_deltas_are_marked_against_the_solver_gap(compared):
    """Issue 13: each delta column says whether the objective's delta is inside the MIP gap (solver tolerance);
    the hand-worked scenarios are proven optimal (gap 0), so their deltas are real effects."""
    compare = {r[0]: r[2:] for r in rows(load_workbook(compared)["Compare"])[1:]}
    marks = compare["objective_delta_vs_gap"][3:]
    assert all(m.startswith("beyond solver tolerance") for m in marks)


def test_tolerance_mark_for_a_delta_inside_the_gap():
    from types import SimpleNamespace

    import pandas as pd

    from planner.whatif.compare import _mark_tolerance

    plan = lambda name, obj, gap: SimpleNamespace(name=name, mip_gap=gap, data=None,
                                                  solution=SimpleNamespace(objective_usd=obj))
    frame = _mark_tolerance(pd.DataFrame({"metric": ["objective_usd"], "unit": ["USD"]}),
                            [plan("base", 1_000_000, 0.001), plan("hbm_cut", 1_000_400, 0.0005)])
    assert frame.iloc[-1]["delta hbm_cut"] == "within solver tolerance (|delta| < gap $1,000)"


def test_a_scenarios_own_warning_names_the_scenario(tmp_path, capsys):
    """moved: site S is set in region EU, so NA's demand has no site: a warning only that scenario has, printed
    under its name (not as though the base workbook had it); the plan still runs (2,000 tok/s unmet -> $2,000)."""
    src = workbook(tmp_path, extra=[["moved", "Sites", "S", "region", "set", "EU"]])
    out = tmp_path / "cmp.xlsx"
    assert main(["-q", "compare", str(src), "-o", str(out), "--scenarios", "moved"]) == 0
    err = capsys.readouterr().err
    line = next(t for t in err.splitlines() if "no site serves it" in t)
    assert line.startswith("scenario 'moved': ") and "region NA" in line
    compare = {r[0]: r[1:] for r in rows(load_workbook(out)["Compare"])}
    assert compare["objective_usd"][1:3] == pytest.approx((1100, 2000))


def test_progress_lines_name_the_scenario_they_validate(tmp_path, caplog):
    """compare validates every scenario before it solves any: 'validate ...' alone, 14 times, says nothing."""
    src = workbook(tmp_path)
    with caplog.at_level("INFO", logger="planner"):
        assert main(["compare", str(src), "-o", str(tmp_path / "c.xlsx")]) == 0
    lines = [r.getMessage() for r in caplog.records]
    for name in ("base", "cheap", "dark"):
        assert f"scenario {name}: validate  ..." in lines
    assert not [line for line in lines if line.startswith("validate")]


def test_a_misspelt_scenario_gets_the_nearest_name_and_no_cell(tmp_path, capsys):
    """The name came from --scenarios, not from a cell: no Scenarios!A1, and the nearest scenario is offered."""
    src = workbook(tmp_path)
    assert main(["-q", "compare", str(src), "-o", str(tmp_path / "c.xlsx"), "--scenarios", "cheap,chaep"]) == 2
    err = capsys.readouterr().err
    assert "unknown scenario 'chaep' (did you mean cheap? known: base, cheap, dark)" in err
    assert "Scenarios!A1" not in err


def test_a_scenario_over_another_horizon_is_shown_but_not_compared(tmp_path, capsys):
    """'short' sets Settings quarters to 1 against a 2-quarter base: its objective is half the base's because it
    plans half the quarters, not because of an effect. Its delta column is blank, objective_delta_vs_gap says
    'not compared' with both horizons, Moves has no row of it, and the terminal warns."""
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, ["short", "Settings", "quarters", "value", "set", 1]]
    src = write(tmp_path, sheets)
    out = tmp_path / "cmp.xlsx"
    assert main(["-q", "compare", str(src), "-o", str(out)]) == 0
    said = capsys.readouterr()
    assert "scenario short plans 2026Q1..2026Q1 where base plans 2026Q1..2026Q2" in said.out + said.err
    wb = load_workbook(out)
    table = rows(wb["Compare"])
    header = table[0]
    delta = header.index("delta short")
    by_metric = {r[0]: r for r in table[1:]}
    assert by_metric["objective_usd"][delta] is None
    assert by_metric["objective_delta_vs_gap"][delta] == "not compared: short plans 2026Q1..2026Q1, base 2026Q1..2026Q2"
    assert all(r[0] != "short" for r in rows(wb["Moves"])[1:])
