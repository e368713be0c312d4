"""planner sweep: factors sampled up front from one seed, so a sweep on a 2-worker Dask LocalCluster equals the
same sweep in one process, draw by draw; the Uncertainty sheet's errors are located by cell; the summary
workbook and the Parquet table."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from planner.cli import main
from planner.issues import InputError, Issues
from planner.whatif.sweep import run_sweep
from tests.builders import minimal_sheets, write

UNCERTAINTY = ["sheet", "key", "column", "distribution", "p1", "p2", "p3"]


def sweep_workbook(tmp_path, rows=None):
    """Three quarters, a fab short of wafers: the fab limit binds in some draws, demand is unmet in some."""
    sheets = minimal_sheets(3)
    sheets["FabCapacity"][1] = ["F", 2, 2, 2]
    sheets["Demand"][1] = ["NA", "w", 1500, 2500, 3000]
    sheets["Uncertainty"] = [UNCERTAINTY] + (rows if rows is not None else [
        ["Demand", "NA/w", "2026Q2:2026Q3", "uniform", 0.5, 1.5, None],
        ["FabCapacity", "F", "*", "triangular", 0.5, 1, 1.2],
        ["Products", "L1", "rack_capex_usd", "normal", 1, 0.2, None],
    ])
    return write(tmp_path, sheets)


def test_dask_local_cluster_equals_one_process_draw_by_draw(tmp_path):
    from dask.distributed import Client, LocalCluster

    src = sweep_workbook(tmp_path)
    one = run_sweep(src, 40, seed=11, workers=1)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        many = run_sweep(src, 40, seed=11, client=client)
        # the command connects to a scheduler by address (--scheduler tcp://HOST:PORT)
        out = tmp_path / "sweep.xlsx"
        assert main(["-q", "sweep", str(src), "--draws", "4", "--seed", "11", "--scheduler",
                     cluster.scheduler_address, "-o", str(out)]) == 0
    by_address = pd.read_parquet(tmp_path / "sweep.draws.parquet")
    pd.testing.assert_frame_equal(by_address.drop(columns=["seconds"]), one.head(4).drop(columns=["seconds"]),
                                  check_exact=True)
    assert len(one) == 40 and list(one["draw"]) == list(range(40))
    assert set(one["status"]) == {"optimal"}
    pd.testing.assert_frame_equal(one.drop(columns=["seconds"]), many.drop(columns=["seconds"]), check_exact=True)
    # the draws differ from one another, and some bind the fab limit while others do not
    assert one["objective_usd"].nunique() == 40
    assert 0 < one["binding"].str.contains("fab_capacity|F", regex=False).sum() < 40


def test_local_process_pool_equals_one_process(tmp_path):
    src = sweep_workbook(tmp_path)
    one = run_sweep(src, 6, seed=3, workers=1)
    pool = run_sweep(src, 6, seed=3, workers=2)
    pd.testing.assert_frame_equal(one.drop(columns=["seconds"]), pool.drop(columns=["seconds"]), check_exact=True)


def test_factors_are_sampled_from_the_seed_draw_by_draw(tmp_path):
    src = sweep_workbook(tmp_path)
    a = run_sweep(src, 6, seed=5, workers=1)
    b = run_sweep(src, 3, seed=5, workers=1)  # a shorter sweep is a prefix of a longer one
    factors = [c for c in a.columns if c.startswith("factor ")]
    assert factors == ["factor Demand|NA/w|2026Q2:2026Q3", "factor FabCapacity|F|*",
                       "factor Products|L1|rack_capex_usd"]
    pd.testing.assert_frame_equal(a.head(3).drop(columns=["seconds"]), b.drop(columns=["seconds"]), check_exact=True)
    rng = np.random.default_rng(5)
    expected = []
    for _ in range(6):
        expected.append([rng.uniform(0.5, 1.5), rng.triangular(0.5, 1, 1.2), max(0.0, rng.normal(1, 0.2))])
    assert a[factors].to_numpy().tolist() == expected
    c = run_sweep(src, 3, seed=6, workers=1)
    assert not np.allclose(c[factors].to_numpy(), b[factors].to_numpy())


def test_a_draw_is_the_scaled_plan(tmp_path):
    """A degenerate factor (uniform 2..2) doubles demand: the draw is the base plan with demand x 2."""
    src = sweep_workbook(tmp_path, rows=[["Demand", "*", "*", "uniform", 2, 2, None]])
    frame = run_sweep(src, 1, seed=0, workers=1)
    assert frame.loc[0, "factor Demand|*|*"] == 2.0
    assert frame.loc[0, "demand_tps"] == pytest.approx(2 * (1500 + 2500 + 3000))


@pytest.mark.parametrize("row, cell, words", [
    (["Demand", "NA/w", "*", "lognormal", 1, 0.1, None], "Uncertainty!D2", "unknown distribution"),
    (["Demand", "NA/w", "*", "uniform", 1.2, 0.8, None], "Uncertainty!F2", "below the low"),
    (["Demand", "NA/w", "*", "triangular", 0.5, 1, None], "Uncertainty!G2", "p3 is required"),
    (["Demand", "NA/w", "*", "triangular", 0.5, 1.5, 1.2], "Uncertainty!F2", "low p1 <= mode p2 <= high p3"),
    (["Demand", "NA/w", "*", "normal", 1, "wide", None], "Uncertainty!F2", "expected a number"),
    (["Demand", "NA/w", "*", "normal", -1, 0.1, None], "Uncertainty!E2", "cannot be negative"),
    (["Demand", "EU/w", "*", "normal", 1, 0.1, None], "Uncertainty!B2", "no row of Demand has key 'EU/w'"),
    (["Demands", "NA/w", "*", "normal", 1, 0.1, None], "Uncertainty!A2", "unknown sheet"),
    (["Demand", "NA/w", "2040Q1", "normal", 1, 0.1, None], "Uncertainty!C2", "not a column"),
    # a text column: the column is at fault, not the factor's p1
    (["Sites", "S", "region", "uniform", 0.9, 1.1, None], "Uncertainty!C2",
     "cannot scale 1 cell(s) that hold text, not numbers: Sites!B2"),
    # a whole-number column scaled by a varying factor: every draw fractional, so refused at the row
    (["Products", "L1", "life_quarters", "uniform", 0.5, 1.5, None], "Uncertainty!D2",
     "Products life_quarters is a whole number"),
    (["Settings", "quarters", "value", "triangular", 0.9, 1, 1.6], "Uncertainty!D2",
     "Settings quarters is a whole number"),
])
def test_bad_uncertainty_row_is_located_by_cell(tmp_path, row, cell, words):
    src = sweep_workbook(tmp_path, rows=[row])
    with pytest.raises(InputError) as info:
        run_sweep(src, 2, seed=0, workers=1)
    errors = [i for i in info.value.issues.errors if i.cell == cell]
    assert errors and words in errors[0].message, [str(i) for i in info.value.issues]


def test_a_whole_number_column_under_a_factor_that_cannot_vary_is_fine(tmp_path):
    """life_quarters x uniform(1, 1) stays whole: sampled and planned like any draw."""
    src = sweep_workbook(tmp_path, rows=[["Products", "L1", "life_quarters", "uniform", 1, 1, None]])
    frame = run_sweep(src, 2, seed=0, workers=1)
    assert len(frame) == 2


def test_no_uncertainty_sheet(tmp_path, capsys):
    src = write(tmp_path, minimal_sheets(2))
    assert main(["-q", "sweep", str(src), "--draws", "2", "--workers", "1", "-o", str(tmp_path / "s.xlsx")]) == 2
    assert "needs an Uncertainty sheet" in capsys.readouterr().err


def test_command_writes_parquet_and_summary(tmp_path, capsys):
    src = sweep_workbook(tmp_path)
    out = tmp_path / "sweep.xlsx"
    assert main(["-q", "sweep", str(src), "--draws", "8", "--seed", "2", "--workers", "1", "-o", str(out)]) == 0
    draws = pd.read_parquet(tmp_path / "sweep.draws.parquet")
    assert list(draws["draw"]) == list(range(8))
    for column in ("status", "objective_usd", "service_level", "unmet_tps", "own_capex_usd", "partner_capex_usd",
                   "binding", "factor FabCapacity|F|*"):
        assert column in draws.columns
    pd.testing.assert_frame_equal(draws.drop(columns=["seconds"]),
                                  run_sweep(src, 8, seed=2, workers=1).drop(columns=["seconds"]), check_exact=True)
    wb = load_workbook(out)
    assert wb.sheetnames == ["Summary", "Charts", "Distribution", "Histogram", "Binding", "Factors", "Draws"]
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    q = np.quantile(draws["service_level"], [0.1, 0.5, 0.9])
    assert [summary[f"service_level_p{p}"] for p in (10, 50, 90)] == pytest.approx(list(q))
    assert summary["unmet_tps_var_95"] == pytest.approx(np.quantile(draws["unmet_tps"], 0.95))
    assert summary["draws_planned"] == 8 and summary["seed"] == 2
    binding = {(r[0], r[1]): r[3] for r in wb["Binding"].iter_rows(min_row=2, values_only=True)}
    share = draws["binding"].str.contains("fab_capacity|F", regex=False).mean()
    assert binding.get(("fab_capacity", "F"), 0.0) == pytest.approx(share)
    dist = {r[0]: r[1:] for r in wb["Distribution"].iter_rows(values_only=True)}
    assert dist["metric"] == ("draws", "mean", "sd", "min", "p10", "p50", "p90", "max")
    assert dist["objective_usd"][5] == pytest.approx(draws["objective_usd"].median())
    assert "8/8 draws planned" in capsys.readouterr().out


def test_in_place_draws_equal_each_draw_planned_from_scratch(tmp_path):
    """A draw changing costs, bounds and right-hand sides updates the base's HiGHS model in place
    (models/resolve.py), a rack capex factor (matrix coefficients of the capex rows) one coefficient at a time.
    Either way each draw's plan is the one a fresh plan of the drawn workbook gives."""
    from planner import pipeline
    from planner.input.reader import read_workbook
    from planner.whatif import sweep
    from planner.whatif.scenarios import OverridesEdit
    from planner.whatif.uncertainty import read_uncertainty, sample_factors

    src = sweep_workbook(tmp_path, rows=[
        ["Demand", "NA/w", "*", "uniform", 0.5, 1.5, None],
        ["FabCapacity", "F", "*", "triangular", 0.5, 1, 1.2],
        ["Products", "L1", "rack_capex_usd", "normal", 1, 0.2, None],
        ["Budget", "*", "*", "uniform", 0.5, 2, None],
    ])
    sweep._SESSIONS.clear()
    sweep._BASE_RESULTS.clear()
    frame = run_sweep(src, 8, seed=4, workers=1)
    session = next(iter(sweep._SESSIONS.values()))
    assert (session.in_place, session.rebuilt) == (8, 0)
    assert len(frame.attrs["solver_seconds"]) == 8
    raw, issues = read_workbook(src)
    factors = read_uncertainty(raw, issues)
    matrix = sample_factors(factors, 8, seed=4)
    options = pipeline.RunOptions(threads=1)
    for d in range(8):
        edit = OverridesEdit([replace(f.override, value=float(x)) for f, x in zip(factors, matrix[d])])
        planned = pipeline.plan_prepared(pipeline.prepare(raw, Issues(), [edit]), options)
        assert frame.loc[d, "status"] == planned.status
        assert frame.loc[d, "objective_usd"] == pytest.approx(planned.solution.objective_usd, rel=1e-9)
        assert frame.loc[d, "service_level"] == pytest.approx(planned.solution.kpis["service_level"], abs=1e-9)


def test_a_sweep_of_a_whole_rack_plan_plans_every_draw(tmp_path):
    """Whole racks (a MIP): each draw of a degenerate demand factor 2..2 is planned, with its prices from the
    LP with blocks and deals fixed (as any MIP plan): demand doubles to 2 x 7,000 tok/s."""
    sheets = minimal_sheets(3, integer_racks=True)
    sheets["FabCapacity"][1] = ["F", 2, 2, 2]
    sheets["Demand"][1] = ["NA", "w", 1500, 2500, 3000]
    sheets["Uncertainty"] = [UNCERTAINTY, ["Demand", "*", "*", "uniform", 2, 2, None]]
    frame = run_sweep(write(tmp_path, sheets), 2, seed=0, workers=1)
    assert list(frame["status"]) == ["optimal", "optimal"]
    assert frame.loc[1, "demand_tps"] == pytest.approx(2 * 7000)
    gaps = frame["gap_to_bound"].astype(float)  # a MIP draw's gap is a number (within the default 0.1%)
    assert gaps.notna().all() and (gaps <= 0.001 + 1e-12).all()


def test_the_bar_is_the_progress_no_draw_prints_its_phases(tmp_path):
    """In one process a draw is a whole plan, whose phase lines ('build ...', 'solve done in') would break the
    bar line after line: during the draws only the bar (and warnings) reach stderr."""
    import subprocess
    import sys
    from pathlib import Path

    src = sweep_workbook(tmp_path)
    done = subprocess.run([sys.executable, "-m", "planner", "sweep", str(src), "--draws", "3", "--workers", "1",
                           "-o", str(tmp_path / "s.xlsx")], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    after_bar = done.stderr[done.stderr.index("sweep:"):]
    assert "3/3" in after_bar and "build" not in after_bar and "solve" not in after_bar, after_bar


def test_a_draws_table_that_cannot_be_written_is_a_message_not_a_crash(tmp_path, capsys, monkeypatch):
    """A folder the user cannot write to (simulated: root may write anywhere): exit 1, the reason, no traceback."""
    import planner.output.xlsx as xlsx

    src = sweep_workbook(tmp_path)

    def refuse(target, _write):
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(xlsx, "atomic_write", refuse)
    assert main(["-q", "sweep", str(src), "--draws", "2", "--workers", "1", "-o", str(tmp_path / "s.xlsx")]) == 1
    err = capsys.readouterr().err
    assert "could not write" in err and "permission denied" in err and "unexpected failure" not in err


def test_sweep_workbook_reads_in_its_units_and_prints(tmp_path):
    """What a reviewer sees: Summary statistics in their quantity's unit (cost in USD without decimals, service
    level in %, unmet in tok/s, a probability in %), Distribution rows each in its metric's unit, the two charts one
    above the other on one page, and the 20-odd columns of Draws over several readable pages, first column repeated."""
    from planner.output.sweep_report import write_summary
    from planner.output.xlsx import PERCENT, TPS, USD

    frame = pd.DataFrame({"draw": [0, 1], "status": ["optimal", "optimal"], "message": ["", ""],
                          "objective_usd": [100.4, 120.6], "service_level": [0.95, 0.97], "unmet_tps": [10.0, 5.0],
                          "demand_tps": [200.0, 200.0], "own_capex_usd": [1.0, 2.0], "partner_capex_usd": [0.0, 0.0],
                          "binding": ["", ""], **{f"factor X|k{i}|*": [1.0, 1.1] for i in range(14)}})
    src = write(tmp_path, minimal_sheets())
    out, _ = write_summary(tmp_path / "s.xlsx", frame, {"seed": 0, "draws": 2}, src)
    wb = load_workbook(out)
    formats = {r[0].value: r[1].number_format for r in wb["Summary"].iter_rows(min_row=2)}
    assert formats["objective_usd_p50"] == USD and formats["service_level_p10"] == PERCENT
    assert formats["unmet_tps_cvar_95"] == TPS and formats["probability_any_unmet"] == PERCENT
    dist = {r[0].value: r[3].number_format for r in wb["Distribution"].iter_rows(min_row=2)}  # column C: mean
    assert dist["objective_usd"] == USD and dist["service_level"] == PERCENT and dist["unmet_tps"] == TPS
    charts = wb["Charts"]
    assert [c.anchor._from.col for c in charts._charts] == [0, 0] and charts.page_setup.fitToHeight == 1
    draws = wb["Draws"]
    assert draws.page_setup.fitToWidth > 1 and draws.print_title_cols == "$A:$A"
    assert wb["Summary"].page_setup.fitToWidth == 1


def test_the_draws_file_follows_the_output_rules(tmp_path, capsys, monkeypatch):
    """Hostile round 5: a read-only SWEEP.draws.parquet was overwritten (the kept read-only SWEEP.xlsx then named
    another sweep's draws); a failed workbook write left the parquet behind 'Nothing was written'; a folder named
    like it was found only after every draw was solved."""
    import os

    src = sweep_workbook(tmp_path)
    out = tmp_path / "sw.xlsx"
    argv = ["-q", "sweep", str(src), "--draws", "2", "--seed", "1", "--workers", "1", "-o", str(out)]
    assert main(argv) == 0
    first = (tmp_path / "sw.draws.parquet").read_bytes()
    os.chmod(tmp_path / "sw.draws.parquet", 0o444)
    if os.access(tmp_path / "sw.draws.parquet", os.W_OK) and os.geteuid() != 0:
        pytest.skip("cannot make a read-only file here")
    assert main(argv) == 0
    assert (tmp_path / "sw.draws.parquet").read_bytes() == first  # left alone
    assert (tmp_path / "sw (1).xlsx").exists() and (tmp_path / "sw (1).draws.parquet").exists()
    summary = {r[0]: r[1] for r in load_workbook(tmp_path / "sw (1).xlsx")["Summary"].iter_rows(values_only=True)}
    assert summary["parquet"] == "sw (1).draws.parquet"

    from planner.output import sweep_report

    def failing(*_a, **_k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(sweep_report, "write_summary", failing)
    fresh = ["-q", "sweep", str(src), "--draws", "1", "--workers", "1", "-o", str(tmp_path / "full.xlsx")]
    assert main(fresh) != 0
    assert not list(tmp_path.glob("full*")) and not list(tmp_path.glob(".full*"))
    monkeypatch.undo()
    (tmp_path / "dir.draws.parquet").mkdir()
    assert main(["-q", "sweep", str(src), "--draws", "1", "--workers", "1", "-o", str(tmp_path / "dir.xlsx")]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_a_draw_not_proven_optimal_carries_its_gap_as_a_number(tmp_path):
    """Each draw's MIP gap is a column (it was only inside the message text) and the Summary states the largest."""
    src = sweep_workbook(tmp_path)
    wb_path = tmp_path / "gap.xlsx"
    assert main(["-q", "sweep", str(src), "--draws", "2", "--workers", "1", "-o", str(wb_path)]) == 0
    draws = pd.read_parquet(tmp_path / "gap.draws.parquet")
    assert "gap_to_bound" in draws.columns
    summary = {r[0]: r[1] for r in load_workbook(wb_path)["Summary"].iter_rows(values_only=True)}
    assert "draws_max_mip_gap" in summary
