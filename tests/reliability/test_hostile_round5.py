"""Hostile inputs, round five: what a session's trials found, each a located, plain-words answer."""

from __future__ import annotations

import zipfile

import pytest

from planner import cli
from tests.builders import minimal_sheets, write


def _rewrite_member(src, dst, member, edit):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, edit(data) if info.filename == member else data)


def test_a_workbook_with_damaged_xml_is_named_in_words_not_by_a_python_class(tmp_path, capsys):
    """A sheet's XML cut in half (a copy interrupted, a sync tool): the message said 'ExpatError: no element
    found'. It now says the XML inside is damaged and what to do."""
    src = write(tmp_path, minimal_sheets(1))
    damaged = tmp_path / "damaged.xlsx"
    _rewrite_member(src, damaged, "xl/worksheets/sheet1.xml", lambda b: b[: len(b) // 2])
    assert cli.main(["validate", str(damaged)]) == 2
    said = capsys.readouterr().out
    assert "not a valid .xlsx workbook (damaged XML inside: " in said
    assert "open it in Excel and save it again, or use a good copy" in said
    assert "Error" not in said.replace("ERROR", "")


def test_a_zip_member_with_a_bad_checksum_names_the_member(tmp_path, capsys):
    src = write(tmp_path, minimal_sheets(1))
    damaged = tmp_path / "crc.xlsx"
    _rewrite_member(src, damaged, "xl/worksheets/sheet1.xml", lambda b: b)
    data = bytearray(damaged.read_bytes())
    at = data.find(b"xl/worksheets/sheet1.xml") + 120  # inside the member's compressed bytes
    data[at] ^= 0xFF
    damaged.write_bytes(bytes(data))
    assert cli.main(["validate", str(damaged)]) == 2
    said = capsys.readouterr().out
    assert "not a valid .xlsx workbook (" in said and "BadZipFile" not in said and "zlib" not in said


def test_a_region_merely_like_a_served_one_is_planned_unmet_with_a_warning(tmp_path, capsys):
    """formulation.md: the regions are Demand's; one no site serves has its demand unmet. Region2 beside Region1
    is a valid workbook (it was refused as a typo of Region1): rack $1,100 for Region1's 1,000 tok/s, Region2's
    2 x 500 tok/s unmet at $1 = $2,100. The warning asks whether Region1 was meant. ('na' for NA stays an
    error: test_hostile_round4.)"""
    from tests.builders import solve_sheets

    s = minimal_sheets(2)
    s["Sites"][1] = ["S", "Region1", 1, 0]
    s["Demand"] = [["region", "workload", "2026Q1", "2026Q2"], ["Region1", "w", 1000, 1000],
                   ["Region2", "w", 500, 500]]
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 0
    assert "WARNING Demand!A3 [region] = 'Region2': region Region2 has demand but no site serves it; did you mean " \
           "'Region1'? (names must match exactly; as written, all of it is unmet)" in capsys.readouterr().out
    assert solve_sheets(tmp_path, s).objective == pytest.approx(2100, rel=1e-9)


def test_a_packaging_line_merely_like_a_limited_one_has_no_limit_with_a_warning(tmp_path, capsys):
    """workbook.md: a line not listed in PackagingCapacity has no limit. L1 on Line1 while only Line2 (used by
    no product, capacity 0) is listed: valid, $1,100 (it was refused as a typo of Line2)."""
    from tests.builders import solve_sheets

    s = minimal_sheets(2)
    s["Products"][0].append("packaging_line")
    s["Products"][1].append("Line1")
    s["PackagingCapacity"] = [["packaging_line", "2026Q1", "2026Q2"], ["Line2", 0, 0]]
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 0
    assert "packaging line 'Line1' has no PackagingCapacity row, so it has no limit; did you mean 'Line2'?" \
        in capsys.readouterr().out
    assert solve_sheets(tmp_path, s).objective == pytest.approx(1100, rel=1e-9)


def test_a_reversed_partner_window_funds_nothing_with_a_warning(tmp_path, capsys):
    """formulation.md: F only inside the partner's window; 2026Q3..2026Q2 holds no quarter. With no own budget the
    rack can only be partner-funded: reversed, nothing is built and 3 x 1,000 tok/s go unmet at $1 = $3,000 (it
    was refused as an error); the window 2026Q1..2026Q3 funds the rack's $1,000 (at financing rate 0 it costs the
    plan nothing): the wafer's $100."""
    from tests.builders import solve_sheets

    s = minimal_sheets(3)
    s["Budget"] = [["item", "2026Q1", "2026Q2", "2026Q3"], ["own_capex_usd", 0, 0, 0]]
    s["Partners"] = [["partner", "commitment_usd", "min_deal_usd", "fixed_deal_cost_usd", "financing_cost_rate",
                      "first_quarter", "last_quarter"], ["N1", 5000, 0, 0, 0, "2026Q3", "2026Q2"]]
    s["PartnerSites"] = [["partner", "site"], ["N1", "S"]]
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 0
    assert "Partners!F2 [first_quarter] = '2026Q3': partner N1: first_quarter 2026Q3 is after last_quarter 2026Q2: " \
           "the window holds no quarter, so the partner funds nothing" in capsys.readouterr().out
    assert solve_sheets(tmp_path, s).objective == pytest.approx(3000, rel=1e-9)
    s["Partners"][1][5:7] = ["2026Q1", "2026Q3"]
    assert solve_sheets(tmp_path, s).objective == pytest.approx(100, rel=1e-9)


def test_a_huge_limit_written_for_no_limit_is_read_as_no_practical_limit(tmp_path, capsys):
    """A budget of 1e15 and a fab capacity of 1e20, a planner's 'unlimited': read as 1e12 (no plan reaches it) with a
    warning, planned as minimal_sheets' $1,100; they were errors ('too large to plan with'). A demand of 1e15 tok/s
    is no limit but a quantity to serve: still an error."""
    from tests.builders import solve_sheets

    s = minimal_sheets(2)
    s["Budget"][1] = ["own_capex_usd", 1e15, 1e15]
    s["FabCapacity"][1] = ["F", 1e20, 1000]
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 0
    said = capsys.readouterr().out
    assert "Budget!B2 [2026Q1]" in said and "budget = 1e+15 is read as 1e+12, no practical limit" in said
    assert "FabCapacity!B2 [2026Q1]" in said and "capacity = 1e+20 is read as 1e+12" in said
    assert solve_sheets(tmp_path, s).objective == pytest.approx(1100, rel=1e-9)
    s["Demand"][1] = ["NA", "w", 1e15, 1000]
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 2
    assert "too large to plan with" in capsys.readouterr().out


def test_missing_quarter_columns_of_a_long_horizon_are_one_span_per_sheet(tmp_path, capsys):
    """quarters 40 on a 2-quarter workbook: each sheet listed 38 quarters one by one; now one span."""
    s = minimal_sheets(2)
    s["Settings"] = [r if r[0] != "quarters" else ["quarters", 40] for r in s["Settings"]]
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 2
    out = capsys.readouterr().out
    assert "ERROR   FabCapacity!1:1 [2026Q3..2035Q4]: quarter column(s) 2026Q3..2035Q4 of the horizon are missing" in out
    assert "2027Q1, 2027Q2" not in out


@pytest.mark.parametrize("header", ["utilization (fraction)", "Utilisation rate", "util", "Utilization %"])
def test_an_optional_columns_header_with_a_unit_or_a_word_added_is_an_error_not_the_default(tmp_path, capsys, header):
    """'utilization (fraction)' was ignored with a warning and every product took utilization 1.0: the example's
    capacity doubled, $234M instead of $1,086M, exit 0. A header that is a known column plus a unit, a word or a
    prefix of it is an error naming the column; a column of the planner's own ('comment') stays a warning."""
    s = minimal_sheets(1)
    s["Products"][0].append(header)
    s["Products"][1].append(0.5)
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 2
    assert f"column '{header}' is not part of sheet Products; did you mean 'utilization'?" in capsys.readouterr().out
    s["Products"][0][-1] = "comment"
    s["Products"][1][-1] = "owner: ops"
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 0


def _planner_in_shell(tmp_path, command: str, env: dict | None = None):
    import os
    import subprocess
    import sys

    return subprocess.run(["sh", "-c", f"{sys.executable} -m planner {command}"], cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300)


def test_closed_stdout_or_stderr_still_plans_with_the_documented_exit_code(tmp_path):
    """cron and daemons start the planner with a descriptor closed: `validate >&-` was a traceback and exit 1,
    `run >&-` wrote no plan (HiGHS's banner guard dups descriptor 1)."""
    src = write(tmp_path, minimal_sheets(1))
    assert _planner_in_shell(tmp_path, f"validate {src.name} >&-").returncode == 0
    done = _planner_in_shell(tmp_path, f"-q run {src.name} -o closed.xlsx >&-")
    assert done.returncode == 0 and (tmp_path / "closed.xlsx").exists(), done.stderr
    done = _planner_in_shell(tmp_path, f"-q run {src.name} -o closed2.xlsx 2>&-")
    assert done.returncode == 0 and (tmp_path / "closed2.xlsx").exists()


def test_a_terminal_that_cannot_show_a_key_gets_escapes_not_an_unexpected_failure(tmp_path):
    s = minimal_sheets(1)
    s["ServingLinks"] = [["site", "region"], ["\U0001f680 site", "NA"]]
    src = write(tmp_path, s)
    done = _planner_in_shell(tmp_path, f"validate {src.name}", env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 2 and "unexpected failure" not in done.stderr
    assert "unknown site '\\U0001f680 site'" in done.stdout


def test_a_symlink_loop_as_input_or_output_is_exit_2_naming_the_loop(tmp_path, capsys):
    """ln -s b a; ln -s a b: a RuntimeError traceback from Path.resolve() (run, diff, roll), and validate called
    it 'does not exist'."""
    (tmp_path / "a.xlsx").symlink_to(tmp_path / "b.xlsx")
    (tmp_path / "b.xlsx").symlink_to(tmp_path / "a.xlsx")
    src = write(tmp_path, minimal_sheets(1))
    loop = str(tmp_path / "a.xlsx")
    for argv in (["validate", loop], ["run", loop, "-o", str(tmp_path / "p.xlsx")], ["run", str(src), "-o", loop],
                 ["run", str(src), "-o", str(tmp_path / "p.xlsx"), "--previous", loop]):
        assert cli.main(["-q", *argv]) == 2, argv
        said = capsys.readouterr()
        assert "loop of symbolic links" in said.out + said.err and "Traceback" not in said.err


def test_a_scenarios_row_named_base_is_one_error_and_leaves_the_other_scenarios_usable(tmp_path, capsys):
    """A row 'BASE' (base is the workbook as it is) was reported under every scenario, 14 times, and made every
    valid scenario 'cannot be applied': --scenario refused them. Now: validate says it once, at its cell; the other
    scenarios plan; a plain run warns once."""
    s = minimal_sheets(1)
    s["Scenarios"] = [["scenario", "sheet", "key", "column", "operation", "value"],
                      ["hi", "Demand", "NA/w", "*", "scale", 2], ["BASE", "Demand", "NA/w", "*", "scale", 3]]
    src = write(tmp_path, s)
    assert cli.main(["validate", str(src)]) == 2
    out = capsys.readouterr().out
    assert out.count("Scenarios!A3 [scenario] = 'BASE'") == 1
    assert cli.main(["-q", "run", str(src), "--scenario", "hi", "-o", str(tmp_path / "hi.xlsx")]) == 0
    capsys.readouterr()
    assert cli.main(["run", str(src), "-o", str(tmp_path / "plain.xlsx")]) == 0
    said = capsys.readouterr()
    assert (said.out + said.err).count("Scenarios!A3") == 1 and "'hi' cannot be applied" not in said.out + said.err
    # compare: the row is the base workbook's, said once, not once more under each scenario
    s["Scenarios"].append(["lo", "Demand", "NA/w", "*", "scale", 0.5])
    src = write(tmp_path, s, "two.xlsx")
    assert cli.main(["compare", str(src), "-o", str(tmp_path / "cmp.xlsx")]) == 0
    said = capsys.readouterr()
    assert (said.out + said.err).count("Scenarios!A3") == 1


def test_a_throughput_below_a_hundredth_of_a_token_per_second_is_an_error_at_its_cell(tmp_path, capsys):
    """Throughput!C2 at 1e-5 tok/s per chip put 1e11 into the serving row: HiGHS called the example INFEASIBLE
    (a plan at 1e-7 fits it too), and at 1e-9 refused the model naming no cell. At least 0.01 tok/s (no row:
    the product cannot serve the workload)."""
    s = minimal_sheets(1)
    s["Throughput"][1] = ["L1", "w", 1e-5]
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 2
    assert "Throughput!C2 [tokens_per_s_per_chip] = 1e-05: tokens_per_s_per_chip must be >= 0.01" \
        in capsys.readouterr().out
    s["Throughput"][1] = ["L1", "w", 0.01]
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 0


def test_roll_refuses_an_input_replaced_after_it_was_validated(tmp_path):
    """roll reads the input a second time to copy it: a file swapped in between (a sync client, Excel's save by
    rename) was rolled with exit 0, though rolled directly it is refused as another input than the plan's."""
    from planner.cycle.roll_book import open_input_book
    from planner.cycle.roll_plan import RollError
    from planner.input.reader import read_workbook

    first = write(tmp_path, minimal_sheets(1), "first.xlsx")
    raw, _issues = read_workbook(first)
    other = minimal_sheets(1)
    other["Sites"][1] = ["S", "NA", 1.99, 0]
    swapped = write(tmp_path, other, "swapped.xlsx")
    with pytest.raises(RollError, match="changed while it was being rolled"):
        open_input_book(swapped, raw, [])
    open_input_book(first, raw, [])  # the same bytes: fine


def test_a_header_that_starts_like_a_year_but_is_no_quarter_says_so(tmp_path, capsys):
    """'2026.1' was 'quarter 2026.1 is outside the plan horizon 2026Q1..'; '2026Q1' with a zero-width space (or
    written full-width) is 2026Q1: headers are read NFKC-normalised, without invisible characters."""
    s = minimal_sheets(1)
    s["FabCapacity"][0][1] = 2026.1
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 2
    out = capsys.readouterr().out
    assert "is not a quarter (a number)" in out and "outside the plan horizon" not in out
    s["FabCapacity"][0][1] = "2026Q1\u200b"
    s["Products"][0][0] = "\uff50\uff52\uff4f\uff44\uff55\uff43\uff54"  # full-width 'product'
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 0


def test_roll_adds_racks_inside_an_installed_base_table_with_a_totals_row(tmp_path):
    """InstalledBase as an Excel Table with a totals row (README: fine): roll appended the closed quarter's racks
    after the totals row, so the rolled workbook did not validate and the new cohort was read as totals."""
    import openpyxl
    from openpyxl.worksheet.table import Table

    from planner.cycle.roll import roll
    from planner.input.validate import validate_workbook

    s = minimal_sheets(3)
    s["InstalledBase"] = [["product", "site", "racks", "retire_quarter"], ["L1", "S", 1, None], ["Total", None, None, None]]
    src = write(tmp_path, s)
    wb = openpyxl.load_workbook(src)
    table = Table(displayName="T_IB", ref="A1:D3")
    table.totalsRowCount = 1
    wb["InstalledBase"].add_table(table)
    wb["Demand"]["C2"], wb["Demand"]["D2"], wb["Demand"]["E2"] = 2000, 2000, 2000
    wb.save(src)
    plan = tmp_path / "plan.xlsx"
    assert cli.main(["-q", "run", str(src), "-o", str(plan)]) == 0
    nxt = roll(plan, src, tmp_path / "next.xlsx")
    data, issues = validate_workbook(nxt)
    assert data is not None, [str(i) for i in issues]
    ws = openpyxl.load_workbook(nxt)["InstalledBase"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[-1][0] == "Total" and [t.ref for t in ws.tables.values()] == [f"A1:D{len(rows)}"]
    assert data.installed_base["racks"].sum() == 2  # the base rack and the one deployed in the closed quarter


def test_a_route_refused_for_its_fab_is_not_reported_again_as_no_route(tmp_path, capsys):
    """README: a row dropped for a bad reference is not reported again as missing. A route to fab 'NOFAB' was its
    error at Routes!B2 and then 'product L1 has no route in Routes' too."""
    s = minimal_sheets(1)
    s["Routes"][1] = ["L1", "NOFAB", 10, 1, 0]
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 2
    out = capsys.readouterr().out
    assert "Routes!B2" in out and "has no route in Routes" not in out


def test_a_sheet_without_its_key_column_is_said_once_not_at_every_reference(tmp_path, capsys):
    """Products' key header unreadable: one 'required column' error there, and no 'unknown product 'L1': not in
    Products (known: none)' on Routes, Throughput and every sheet naming a product (24 on the example)."""
    s = minimal_sheets(1)
    s["Products"][0][0] = "item"
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 2
    out = capsys.readouterr().out
    assert "Products" in out and "known: none" not in out and "Routes!A2" not in out


def test_an_empty_scenario_name_is_refused_and_a_scenario_asked_twice_is_planned_once(tmp_path, capsys):
    """`run --scenario ''` planned the base without a word; `compare --scenarios hi,HI` planned hi twice."""
    from planner.input.reader import read_workbook
    from planner.whatif.compare import selected_names

    s = minimal_sheets(1)
    s["Scenarios"] = [["scenario", "sheet", "key", "column", "operation", "value"],
                      ["hi", "Demand", "NA/w", "*", "scale", 2]]
    src = write(tmp_path, s)
    assert cli.main(["-q", "run", str(src), "--scenario", "", "-o", str(tmp_path / "p.xlsx")]) == 2
    assert "--scenario needs a scenario name" in capsys.readouterr().err
    raw, _issues = read_workbook(src)
    assert selected_names(raw, "hi,HI, hi ") == ["base", "hi"]


def test_a_very_long_plan_name_keeps_page_headers_within_excels_limit():
    """A plan_name of 240+ characters made every page header longer than Excel's 255 (Excel rejects the file's
    headers)."""
    from openpyxl import Workbook

    from planner.output.xlsx import finish_pages

    wb = Workbook()
    finish_pages(wb, "R&D " * 150)
    header = wb.active.oddHeader
    assert len(str(header.left.text)) <= 200 and header.left.text.endswith("…")


def test_diff_of_a_csv_named_xlsx_says_what_validate_says(tmp_path, capsys):
    """'not a readable .xlsx workbook (CalamineError: Cannot detect file format)': the library's name leaked."""
    src = write(tmp_path, minimal_sheets(1))
    plan = tmp_path / "plan.xlsx"
    assert cli.main(["-q", "run", str(src), "-o", str(plan)]) == 0
    fake = tmp_path / "fake.xlsx"
    fake.write_text("a,b\n1,2\n")
    assert cli.main(["diff", str(plan), str(fake), "-o", str(tmp_path / "d.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "fake.xlsx: not a valid .xlsx workbook (not a zip container)" in err and "Calamine" not in err


def test_read_caps_from_the_environment_accept_1e9_and_name_the_sheet(tmp_path):
    """PLANNER_MAX_FILE_BYTES=1e9 was silently ignored (the default stayed); the row cap's error named the XML
    part ('xl/worksheets/sheet1.xml'), not the sheet nor the variable."""
    import os
    import subprocess
    import sys

    code = "from planner.input.reader import ReadLimits; print(ReadLimits().max_file_bytes)"
    env = {**os.environ, "PLANNER_MAX_FILE_BYTES": "1e9"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout.strip() == "1000000000"
    env["PLANNER_MAX_FILE_BYTES"] = "abc"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert "PLANNER_MAX_FILE_BYTES='abc' is not a whole number" in done.stderr

    from planner.input.reader import ReadLimits, read_workbook

    s = minimal_sheets(1)
    s["Fabs"] += [["G", 100], ["H", 100], ["K", 100]]
    _raw, issues = read_workbook(write(tmp_path, s), ReadLimits(max_rows_per_sheet=3))
    assert any(i.message.startswith("sheet Fabs declares 5 rows, above the limit of 3 (PLANNER_MAX_ROWS_PER_SHEET)")
               for i in issues.errors)


def test_an_output_under_a_file_or_named_only_dot_xlsx_is_said_plainly(tmp_path, capsys):
    """'-o x.xlsx/out.xlsx' said 'the output folder x.xlsx does not exist' (it exists, as a file); 'template .xlsx'
    said '.xlsx must end in .xlsx'."""
    src = write(tmp_path, minimal_sheets(1))
    assert cli.main(["-q", "run", str(src), "-o", str(src / "out.xlsx")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert cli.main(["template", str(tmp_path / ".xlsx")]) == 2
    assert "have a name before it" in capsys.readouterr().err


def test_a_key_with_a_zero_width_space_is_the_key_it_looks_like(tmp_path, capsys):
    """A Products row 'L1\u200b' (a copy of L1 with a zero-width space) was a second product; it is L1, so the copy
    is a duplicate key, as one with a no-break space already was."""
    s = minimal_sheets(1)
    s["Products"].append(["L1\u200b", 10, 10, 1000, 40])
    assert cli.main(["-q", "validate", str(write(tmp_path, s))]) == 2
    assert "Products!A3" in capsys.readouterr().out
