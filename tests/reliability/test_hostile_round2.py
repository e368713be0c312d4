"""Issue 17: hostile input and a hostile environment, round two. Every case ends with a located message or a
documented status, never a traceback, and no file a command reads is ever written."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from planner import cli
from planner.input.validate import validate_workbook
from planner.output.xlsx import is_read_only, new_file_mode, safe_save
from planner.cycle.freeze import FreezeEdit
from planner.pipeline import RunOptions, run_plan
from tests.builders import minimal_sheets, write

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inputs" / "example.xlsx"


def planner(*args, cwd=None, timeout=120, **kw):
    """The CLI in a fresh process: (returncode, stdout, stderr)."""
    p = subprocess.run([sys.executable, "-m", "planner.cli", *map(str, args)], capture_output=True, text=True,
                       cwd=cwd or ROOT, timeout=timeout, **kw)
    return p.returncode, p.stdout, p.stderr


def no_traceback(text: str) -> bool:
    return "Traceback" not in text and "Exception ignored" not in text


def errors_of(issues):
    return [str(i) for i in issues.errors]


# ---- data loss -------------------------------------------------------------------------------------------

def test_template_refuses_an_existing_file(tmp_path, capsys):
    src = write(tmp_path, minimal_sheets())
    before = src.read_bytes()
    assert cli.main(["template", str(src)]) == 2
    assert "already exists" in capsys.readouterr().err and src.read_bytes() == before
    assert cli.main(["template", str(src), "--force"]) == 0
    assert src.read_bytes() != before


@pytest.mark.parametrize("argv", [
    ["run", "{next}", "-o", "{plan}", "--previous", "{plan}", "--freeze", "1"],
    ["run", "{next}", "-o", "{next}"],
    ["roll", "{plan}", "{next}", "-o", "{actuals}", "--actuals", "{actuals}"],
    ["roll", "{plan}", "{next}", "-o", "{plan}"],
    ["diff", "{plan}", "{next}", "-o", "{plan}"],
    ["diff", "{plan}", "{plan}", "-o", "{plan}"],
    ["sweep", "{next}", "-o", "{next}"],
])
def test_a_file_read_is_never_an_output(tmp_path, capsys, argv):
    files = {k: write(tmp_path, minimal_sheets(), f"{k}.xlsx") for k in ("next", "plan", "actuals")}
    stamps = {k: p.read_bytes() for k, p in files.items()}
    argv = [a.format(**files) for a in argv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "is also read by this command" in err and no_traceback(err)
    assert len(err.splitlines()) == len(set(err.splitlines())), "each problem once"
    assert {k: p.read_bytes() for k, p in files.items()} == stamps


def test_diff_onto_old_is_refused_cleanly_in_a_process(tmp_path):
    old = write(tmp_path, minimal_sheets(), "old.xlsx")
    new = write(tmp_path, minimal_sheets(), "new.xlsx")
    rc, out, err = planner("diff", old, new, "-o", old)
    assert rc == 2 and "is also read" in err and no_traceback(err)


def test_output_mode_follows_the_umask(tmp_path):
    src = write(tmp_path, minimal_sheets())
    out = tmp_path / "plan.xlsx"
    old = os.umask(0o027)
    try:
        assert new_file_mode() == 0o640
        run_plan(src, out)
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640  # not mkstemp's 0600


def test_read_only_target_is_never_overwritten_even_by_root(tmp_path):
    from openpyxl import Workbook

    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"keep me")
    target.chmod(0o444)
    assert is_read_only(target)  # by mode bits: root passes os.access
    wb = Workbook(write_only=True)
    wb.create_sheet("x")
    written, note = safe_save(wb, target)
    assert written.name == "plan (1).xlsx" and "read-only" in note
    assert target.read_bytes() == b"keep me"


def test_disk_full_is_one_message_and_no_traceback(tmp_path):
    """ENOSPC while the workbook is saved: one clear message, no temporary file, no ZipFile.__del__ traceback."""
    src = write(tmp_path, minimal_sheets())
    code = f"""
import errno, sys, zipfile
real = zipfile.ZipFile.writestr
def full(self, *a, **k):
    if str(self.filename).endswith(".tmp"):  # the plan being written, not the input being read
        raise OSError(errno.ENOSPC, "No space left on device")
    return real(self, *a, **k)
zipfile.ZipFile.writestr = full
from planner import cli
sys.exit(cli.main(["-q", "run", {str(src)!r}, "-o", {str(tmp_path / 'plan.xlsx')!r}]))
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 1, p.stderr
    assert "disk is full" in p.stderr and no_traceback(p.stderr), p.stderr
    assert sorted(f.name for f in tmp_path.iterdir()) == ["in.xlsx"]


def test_validate_into_a_closed_pipe_prints_no_broken_pipe(tmp_path):
    sheets = minimal_sheets()
    sheets["Products"] += [[f"P{i}", "x", 1, 1, 1] for i in range(3000)]  # thousands of error lines
    src = write(tmp_path, sheets)
    p = subprocess.Popen([sys.executable, "-m", "planner.cli", "validate", str(src)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=ROOT)
    p.stdout.readline()
    p.stdout.close()  # like `| head -1`
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert "BrokenPipeError" not in err and no_traceback(err), err


# ---- silent wrong answers: ranges, options ----------------------------------------------------------------

@pytest.mark.parametrize("sheet,row,col,value,cell", [
    ("Workloads", 1, 1, 1e308, "Workloads!B2"),
    ("Demand", 1, 2, 1e308, "Demand!C2"),
    ("Products", 1, 2, 1e308, "Products!C2"),
    ("Products", 1, 3, 1e15, "Products!D2"),
    ("Products", 1, 4, 1e308, "Products!E2"),  # life_quarters: an error, not an OverflowError
    ("Sites", 1, 2, 1e308, "Sites!C2"),
    ("Throughput", 1, 2, 1e-300, "Throughput!C2"),
])
def test_numbers_that_overflow_the_model_are_located_errors(tmp_path, sheet, row, col, value, cell):
    sheets = minimal_sheets()
    sheets[sheet][row][col] = value
    data, issues = validate_workbook(write(tmp_path, sheets))
    assert data is None
    assert any(cell in e and "too" in e for e in errors_of(issues)), errors_of(issues)


def test_hours_per_quarter_1e308_is_a_located_error(tmp_path):
    data, issues = validate_workbook(write(tmp_path, minimal_sheets(hours_per_quarter=1e308)))
    assert data is None and any("Settings!" in e and "hours_per_quarter" in e for e in errors_of(issues))


@pytest.mark.parametrize("flags,words", [
    (["--mip-gap", "-0.5"], "--mip-gap"),
    (["--mip-gap", "nan"], "--mip-gap"),
    (["--mip-gap", "1"], "write 0.01 for 1%"),
    (["--threads", "-1"], "--threads"),
    (["--threads", "100000"], "--threads"),
    (["--time-limit", "-5"], "--time-limit"),
    (["--time-limit", "nan"], "--time-limit"),
    (["--time-limit", "0"], "--time-limit"),
    (["--time-limit", "inf"], "--time-limit"),
    (["--freeze", "2"], "needs --previous"),
    (["--freeze", "-3", "--previous", "{src}"], "--freeze must be 0 or more"),
    (["--stochastic", "--draws", "-1"], "--draws must be 1 or more"),
    (["--stochastic", "--draws", "0"], "--draws must be 1 or more"),
    (["--stochastic", "--draws", "1000000000"], "--draws must be at most 2,000 here"),
    (["--stochastic", "--draws", "3", "--seed", "-1"], "--seed must be a whole number 0 or more"),
    (["--stochastic", "--scenario", "x"], "--scenario cannot be combined with --stochastic"),
    (["--stochastic", "--previous", "{src}"], "--previous cannot be combined with --stochastic"),
    (["--draws", "3"], "--draws applies to --stochastic only"),
    (["--engine", "ph", "--seed", "2"], "--seed, --engine apply to --stochastic only"),
    (["--stochastic", "--seed", "7"], "--seed 7 applies to sampled scenarios only: add --draws N"),
])
def test_cli_options_get_the_settings_ranges(tmp_path, capsys, flags, words):
    src = write(tmp_path, minimal_sheets())
    flags = [f.format(src=src) for f in flags]
    assert cli.main(["run", str(src), "-o", str(tmp_path / "p.xlsx"), *flags]) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "p.xlsx").exists()


@pytest.mark.parametrize("argv,words", [
    (["template", "{out}", "--quarters", "0"], "--quarters"),
    (["template", "{out}", "--quarters", "201"], "--quarters"),
    (["template", "{out}", "--quarters", "100000"], "--quarters"),
    (["template", "{out}", "--start", "2026Q5"], "--start"),
    (["template", "{out}", "--start", "0999Q1"], "--start"),
    (["template", "{out}", "--start", "9999Q3"], "9999Q4"),
    (["compare", "{src}", "--scenarios", "", "-o", "{out}"], "--scenarios takes scenario names separated by commas"),
    (["compare", "{src}", "--scenarios", "a,,", "-o", "{out}"], "not 'a,,' (an empty name)"),
    (["sweep", "{src}", "--seed", "-1", "-o", "{out}"], "--seed"),
])
def test_bad_command_arguments_are_clear_errors(tmp_path, capsys, argv, words):
    src = write(tmp_path, minimal_sheets())
    out = tmp_path / "out.xlsx"
    assert cli.main([a.format(src=src, out=out) for a in argv]) == 2
    err = capsys.readouterr().err
    assert words in err and "unexpected" not in err
    assert not out.exists()


@pytest.mark.parametrize("start", ["0999Q1", "9999Q2"])
def test_start_quarter_years_outside_1000_9999_are_located_errors(tmp_path, start):
    data, issues = validate_workbook(write(tmp_path, minimal_sheets(4, start="2026Q1", start_quarter=start)))
    assert data is None and any("Settings!" in e and "start_quarter" in e for e in errors_of(issues))


# ---- solver status ------------------------------------------------------------------------------------------

def test_pass_model_error_is_an_error_status_not_empty(tmp_path, monkeypatch):
    import highspy

    import models.solve as solve_module

    real = solve_module.new_highs

    def refusing():
        h = real()
        h.passModel = lambda lp: highspy.HighsStatus.kError
        return h

    monkeypatch.setattr(solve_module, "new_highs", refusing)
    src = write(tmp_path, minimal_sheets())
    outcome = run_plan(src, tmp_path / "p.xlsx")
    assert outcome.status == "error" and "passModel" in outcome.message and "Empty" not in outcome.message


def test_nan_objective_is_never_feasible():
    import highspy

    import models.solve as solve_module

    class Info:
        primal_solution_status = 2
        objective_function_value = float("nan")
        mip_gap = 0.0

    class H:
        getModelStatus = staticmethod(lambda: highspy.HighsModelStatus.kOptimal)
        getInfo = staticmethod(lambda: Info())
        modelStatusToString = staticmethod(lambda s: "Optimal")

    result = solve_module._read_status(H(), False)
    assert result.status == "error" and "nan" in result.message


def test_diagnosis_re_solves_share_the_time_limit(monkeypatch):
    import models.solve as solve_module

    with solve_module.time_budget(0.5):
        time.sleep(0.6)
        assert solve_module.time_left(600.0) == pytest.approx(1e-3)
    assert solve_module.time_left(600.0) == 600.0


# ---- signals ------------------------------------------------------------------------------------------------

def _start_long_solve(out: Path):
    """The shipped example at a 0% gap runs well past 20 s; returns the process once HiGHS is solving."""
    p = subprocess.Popen([sys.executable, "-m", "planner.cli", "run", str(EXAMPLE), "-o", str(out), "--mip-gap", "0",
                          "--time-limit", "120"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    lines = []
    for line in p.stderr:  # the first progress line: HiGHS is in branch-and-cut
        lines.append(line)
        if " best " in line and " bound " in line:
            break
    return p, lines


def _summary(path):
    return {r[0]: r[1] for r in load_workbook(path)["Summary"].iter_rows(min_row=2, values_only=True)}


def test_ctrl_c_during_the_solve_writes_the_best_plan_so_far(tmp_path):
    out = tmp_path / "plan.xlsx"
    p, _ = _start_long_solve(out)
    t0 = time.perf_counter()
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=60)
    assert time.perf_counter() - t0 < 20
    assert p.returncode == 0, stderr
    assert "interrupted" in stdout and "Ctrl-C" in stderr and no_traceback(stderr)
    summary = _summary(out)
    assert summary["status"] == "feasible" and summary["mip_gap"] is not None


def test_second_ctrl_c_aborts_without_writing(tmp_path):
    out = tmp_path / "plan.xlsx"
    p, _ = _start_long_solve(out)
    p.send_signal(signal.SIGINT)
    for line in p.stderr:
        if "Ctrl-C: stopping" in line:
            break
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 1 and no_traceback(stderr), stderr
    # the second press usually lands while HiGHS winds down: nothing written; if it came after the write,
    # the message says so instead of claiming nothing was written
    assert (not out.exists() and "nothing was written" in stderr) or "had already been written" in stderr


def test_sigterm_during_the_solve_writes_nothing(tmp_path):
    out = tmp_path / "plan.xlsx"
    p, _ = _start_long_solve(out)
    p.send_signal(signal.SIGTERM)
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 143 and "SIGTERM" in stderr and no_traceback(stderr)
    assert not out.exists() and not [f for f in tmp_path.iterdir()]


def test_sigterm_during_the_write_leaves_no_temporary_file(tmp_path):
    src = write(tmp_path, minimal_sheets())
    out = tmp_path / "plan.xlsx"
    code = f"""
import os, signal, sys
import openpyxl.workbook.workbook as wbmod
real = wbmod.Workbook.save
def save(self, filename):
    open(filename, "wb").write(b"half a plan")
    os.kill(os.getpid(), signal.SIGTERM)
    real(self, filename)
wbmod.Workbook.save = save
from planner import cli
sys.exit(cli.main(["-q", "run", {str(src)!r}, "-o", {str(out)!r}]))
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 143 and "SIGTERM" in p.stderr and no_traceback(p.stderr), p.stderr
    assert sorted(f.name for f in tmp_path.iterdir()) == ["in.xlsx"]


# ---- what the file is ---------------------------------------------------------------------------------------

def _ole2(payload_names: list[str]) -> bytes:
    """A minimal OLE2/CFB-looking file: the magic, then directory entry names in UTF-16-LE."""
    body = b"".join(n.encode("utf-16-le") + b"\0\0" for n in payload_names)
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + body + b"\0" * 1024


@pytest.mark.parametrize("content,words", [
    (_ole2(["Root Entry", "EncryptionInfo", "EncryptedPackage"]), "password-protected"),
    (_ole2(["Root Entry", "Workbook", "SummaryInformation"]), "Excel 97-2003"),
])
def test_encrypted_and_xls_files_say_what_they_are(tmp_path, content, words):
    path = tmp_path / "in.xlsx"
    path.write_bytes(content)
    data, issues = validate_workbook(path)
    assert data is None and any(words in e for e in errors_of(issues)), errors_of(issues)


def _rewrite(path: Path, edit) -> None:
    """Rewrite the members of an .xlsx: edit(name, bytes) -> bytes (or None to drop the member)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        members = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            new = edit(info.filename, data)
            if new is not None:
                z.writestr(info, new)


def test_strict_open_xml_says_how_to_save_it(tmp_path):
    path = write(tmp_path, minimal_sheets())
    _rewrite(path, lambda n, d: d.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                                          b"http://purl.oclc.org/ooxml/spreadsheetml/main"))
    data, issues = validate_workbook(path)
    errors = errors_of(issues)
    assert data is None and len(errors) == 1 and "Strict Open XML" in errors[0] and "Excel Workbook (.xlsx)" in errors[0]


@pytest.mark.parametrize("make,words", [
    (lambda d: d, "folder"),
    (lambda d: (os.mkfifo(d / "in.xlsx"), d / "in.xlsx")[1], "named pipe"),
    (lambda d: Path("/dev/zero"), "device"),
])
def test_only_regular_files_are_read(tmp_path, make, words):
    path = make(tmp_path)
    t0 = time.perf_counter()
    data, issues = validate_workbook(path)
    assert time.perf_counter() - t0 < 5
    assert data is None and any(words in e for e in errors_of(issues)), errors_of(issues)


def test_file_size_cap(tmp_path):
    from planner.input.reader import ReadLimits, read_workbook

    path = write(tmp_path, minimal_sheets())
    raw, issues = read_workbook(path, ReadLimits(max_file_bytes=1000))
    assert raw is None and any("PLANNER_MAX_FILE_BYTES" in e for e in errors_of(issues))


# ---- sheets -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,near", [("Installed Base", "InstalledBase"), ("SiteExpansions", "SiteExpansion"),
                                       ("Fab_Min_Wafers", "FabMinWafers")])
def test_a_misspelt_sheet_is_a_warning_with_the_nearest_name(tmp_path, name, near):
    sheets = minimal_sheets()
    sheets[name] = [["a"], [1]]
    data, issues = validate_workbook(write(tmp_path, sheets))
    assert data is not None
    assert any(name in str(w) and f"did you mean {near}?" in str(w) for w in issues.warnings), list(map(str, issues))


def test_two_sheets_differing_only_by_case_are_an_error(tmp_path):
    path = write(tmp_path, minimal_sheets())
    wb = load_workbook(path)
    ws = wb.copy_worksheet(wb["Products"])
    ws.title = "ProductsX"
    wb.save(path)
    _rewrite(path, lambda n, d: d.replace(b'name="ProductsX"', b'name="products"') if n == "xl/workbook.xml" else d)
    data, issues = validate_workbook(path)
    assert data is None
    assert any("'Products' and 'products'" in e and "differ only by case" in e for e in errors_of(issues))


def test_a_chart_sheet_named_like_an_input_sheet(tmp_path):
    from openpyxl.chart import BarChart, Reference

    sheets = minimal_sheets()
    sheets["Data"] = [["x"], [1], [2]]
    path = write(tmp_path, sheets)
    wb = load_workbook(path)
    cs = wb.create_chartsheet("PackagingCapacity")
    chart = BarChart()
    chart.add_data(Reference(wb["Data"], min_col=1, min_row=1, max_row=3))
    cs.add_chart(chart)
    wb.save(path)
    data, issues = validate_workbook(path)
    assert data is None and any("chart sheet" in e and "PackagingCapacity" in e for e in errors_of(issues))


def test_a_dangling_pivot_cache_is_a_clear_error(tmp_path):
    path = write(tmp_path, minimal_sheets())

    def edit(name, data):
        if name == "[Content_Types].xml":
            return data.replace(b"</Types>", b'<Override PartName="/xl/pivotTables/pivotTable1.xml" ContentType='
                                b'"application/vnd.openxmlformats-officedocument.spreadsheetml.pivotTable+xml"/></Types>')
        return data

    _rewrite(path, edit)
    import zipfile

    with zipfile.ZipFile(path, "a") as z:
        z.writestr("xl/pivotTables/pivotTable1.xml",
                   '<pivotTableDefinition xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   'name="P" cacheId="99" dataCaption="Values"><location ref="A1:B2" firstHeaderRow="1" '
                   'firstDataRow="1" firstDataCol="1"/></pivotTableDefinition>')
        z.writestr("xl/worksheets/_rels/sheet1.xml.rels",
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships/pivotTable" Target="../pivotTables/pivotTable1.xml"/></Relationships>')
    data, issues = validate_workbook(path)
    assert data is None and any("pivot" in e for e in errors_of(issues)), errors_of(issues)
    rc, out, err = planner("validate", path)
    assert rc == 2 and no_traceback(out + err) and "unexpected" not in out + err


def test_a_missing_required_sheet_is_reported_once(tmp_path):
    for name in ("Products", "Sites", "Settings", "Workloads"):
        sheets = minimal_sheets()
        del sheets[name]
        data, issues = validate_workbook(write(tmp_path, sheets, f"no-{name}.xlsx"))
        assert data is None
        errors = errors_of(issues)
        assert any(f"required sheet '{name}' is missing" in e for e in errors)
        assert len(errors) <= 2, errors  # the missing sheet, not a cascade over every sheet that refers to it


# ---- hangs and memory: large generated cases, built once per session ---------------------------------------

def _inject_rows(path: Path, sheet_title: str, rows_xml, dimension: str | None = "keep") -> None:
    """Append raw <row> XML (an iterable of bytes) to one sheet of an .xlsx, streaming."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        wb_xml = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(rf'<sheet[^>]*name="{sheet_title}"[^>]*r:id="([^"]+)"', wb_xml).group(1)
        target = re.search(rf'<Relationship[^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels) or \
            re.search(rf'<Relationship[^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels)
        member = "xl/" + target.group(1).lstrip("/").removeprefix("xl/")
        members = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for info, data in members:
            if info.filename != member:
                z.writestr(info, data)
                continue
            head, tail = data.split(b"</sheetData>")
            if dimension is None:
                head = re.sub(rb"<dimension[^>]*/>", b"", head)
            with z.open(zipfile.ZipInfo(member, date_time=info.date_time), "w") as f:
                f.write(head)
                for chunk in rows_xml:
                    f.write(chunk)
                f.write(b"</sheetData>" + tail)


def _styled_empty_rows(first: int, last: int, per: int = 20000):
    for start in range(first, last + 1, per):
        yield b"".join(b'<row r="%d" s="1" customFormat="1"><c r="A%d" s="1"/><c r="B%d" s="1"/></row>' % (r, r, r)
                       for r in range(start, min(start + per, last + 1)))


def _data_rows(first: int, last: int, per: int = 20000):
    for start in range(first, last + 1, per):
        yield b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>' % (r, r)
                       for r in range(start, min(start + per, last + 1)))


@pytest.fixture(scope="session")
def large_cases(tmp_path_factory):
    d = tmp_path_factory.mktemp("large")
    styled = write(d, minimal_sheets(), "styled.xlsx")  # 1,048,571 styled empty rows: admitted by the row cap
    _inject_rows(styled, "Products", _styled_empty_rows(6, 1_048_576))
    no_dim = write(d, minimal_sheets(), "nodim.xlsx")  # 3M rows and no <dimension>: refused while streaming
    _inject_rows(no_dim, "Demand", _data_rows(3, 3_000_000), dimension=None)
    return {"styled": styled, "no_dim": no_dim}


def _validate_in_child(path: Path, env=None):
    """Validate in a fresh process; (exit code, stdout, peak RSS in MB, seconds)."""
    code = f"""
import resource, sys
from planner import cli
rc = cli.main(["validate", {str(path)!r}])
print("RSS_MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
sys.exit(rc)
"""
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                       env={**os.environ, **(env or {})})
    rss = float(p.stdout.rsplit("RSS_MB", 1)[1]) if "RSS_MB" in p.stdout else float("nan")
    return p.returncode, p.stdout + p.stderr, rss, time.perf_counter() - t0


def test_a_million_styled_empty_rows_read_fast_in_little_memory(large_cases):
    rc, out, rss, seconds = _validate_in_child(large_cases["styled"])
    assert rc == 0 and no_traceback(out), out
    assert rss < 1024 and seconds < 30, (rss, seconds)


def test_rows_beyond_the_cap_without_a_dimension_are_refused_while_streaming(large_cases):
    rc, out, rss, seconds = _validate_in_child(large_cases["no_dim"])
    assert rc == 2 and ("PLANNER_MAX_ROWS_PER_SHEET" in out or "PLANNER_MAX_CELLS" in out) and no_traceback(out), out
    assert rss < 1024 and seconds < 30, (rss, seconds)


def test_rows_are_counted_while_streaming_whatever_the_dimension_says(large_cases):
    from planner.input.reader import ReadLimits, read_workbook

    raw, issues = read_workbook(large_cases["no_dim"], ReadLimits(max_cells=10_000_000))
    assert raw is None and any("PLANNER_MAX_ROWS_PER_SHEET" in e for e in errors_of(issues)), errors_of(issues)


def test_shared_strings_and_cells_are_capped(tmp_path):
    from planner.input.reader import ReadLimits, read_workbook

    import zipfile

    path = write(tmp_path, minimal_sheets())
    with zipfile.ZipFile(path, "a") as z:  # counted while streaming, before anything is parsed
        z.writestr("xl/sharedStrings.xml", '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                   + "".join(f"<si><t>note {i}</t></si>" for i in range(200)) + "</sst>")
    raw, issues = read_workbook(path, ReadLimits(max_shared_strings=100))
    assert raw is None and any("PLANNER_MAX_SHARED_STRINGS" in e for e in errors_of(issues)), errors_of(issues)
    raw, issues = read_workbook(path, ReadLimits(max_cells=20))
    assert raw is None and any("PLANNER_MAX_CELLS" in e for e in errors_of(issues))


# ---- roll and freeze --------------------------------------------------------------------------------------

def _expansion_sheets():
    """One site with 5 kW of power (no rack fits: a rack is 10 kW) and a 50 kW block (lead 1, $1,000/MW, 5 allowed):
    the plan starts one block in 2026Q1 so that racks serve from 2026Q2."""
    s = minimal_sheets(4)
    s["SitePower"] = [["site", "2026Q1", "2026Q2", "2026Q3", "2026Q4"], ["S", 0.005, 0.005, 0.005, 0.005]]
    s["SiteExpansion"] = [["site", "block_mw", "capex_usd_per_mw", "lead_quarters", "max_blocks"],
                          ["S", 0.05, 1000, 1, 5]]
    return s


@pytest.fixture(scope="module")
def plan_and_input(tmp_path_factory):
    folder = tmp_path_factory.mktemp("roll17")
    source = write(folder, _expansion_sheets(), "in.xlsx")
    plan = folder / "plan.xlsx"
    outcome = run_plan(source, plan)
    assert outcome.status in ("optimal", "feasible"), outcome.message
    return source, plan


def test_roll_carries_an_expansion_block_started_in_the_closed_quarter(plan_and_input, tmp_path):
    from planner.cycle.roll import roll

    source, plan = plan_and_input
    power = {r[1]: r[4] for r in load_workbook(plan)["Power"].iter_rows(min_row=2, values_only=True)}
    assert power["2026Q1"] == pytest.approx(1)
    nxt = roll(plan, source, tmp_path / "next.xlsx")
    wb = load_workbook(nxt)
    site_power = [tuple(r) for r in wb["SitePower"].iter_rows(values_only=True)]
    assert site_power[1][1:] == pytest.approx((0.055, 0.055, 0.055, 0.055))  # the block arrives in 2026Q2
    header = [c.value for c in wb["SiteExpansion"][1]]
    assert wb["SiteExpansion"].cell(2, header.index("max_blocks") + 1).value == 4
    outcome = run_plan(nxt, tmp_path / "next.plan.xlsx", RunOptions(model_edits=[FreezeEdit(plan, 2)]))
    assert outcome.status in ("optimal", "feasible"), outcome.message


def _tamper(plan: Path, out: Path, sheet: str, column: str, value) -> Path:
    wb = load_workbook(plan)
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index(column) + 1, value)
    wb.save(out)
    return out


@pytest.mark.parametrize("sheet,column,value", [("Chips", "die_bank_end", "abc"), ("Partners", "signed", "maybe"),
                                                ("Deployments", "racks_deployed", "lots")])
def test_roll_refuses_tampered_plan_values_at_their_cell(plan_and_input, tmp_path, sheet, column, value):
    from planner.cycle.roll import RollError, roll

    source, plan = plan_and_input
    if sheet == "Partners":
        wb = load_workbook(plan)
        if wb["Partners"].max_row < 2:
            ws = wb["Partners"]
            ws.append(["X"] + [None] * (ws.max_column - 1))
            wb.save(tmp_path / "p0.xlsx")
            plan = tmp_path / "p0.xlsx"
    bad = _tamper(plan, tmp_path / "bad.xlsx", sheet, column, value)
    with pytest.raises(RollError, match=rf"bad.xlsx {sheet}!\w+2: {column} = '{value}' is not"):
        roll(bad, source, tmp_path / "next.xlsx")


@pytest.mark.parametrize("value,words", [(-5, "= -5 is negative"), (1e300, "= 1e+300 is out of range")])
def test_negative_or_absurd_plan_values_are_refused_by_roll_freeze_and_previous(plan_and_input, tmp_path, value,
                                                                                 words):
    """A hand-edited racks_deployed of -5 (or 1e300) is not a plan's value: roll, --freeze and --previous name the
    cell instead of rolling it, pinning the model to it or handing HiGHS a bound it refuses."""
    from planner.cycle.roll import RollError, roll
    from planner.cycle.stability import replan_edits

    source, plan = plan_and_input
    bad = _tamper(plan, tmp_path / "bad.xlsx", "Deployments", "racks_deployed", value)
    with pytest.raises(RollError, match=rf"bad.xlsx Deployments!D2: racks_deployed {re.escape(words)}"):
        roll(bad, source, tmp_path / "next.xlsx")
    for freeze in (0, 1):
        outcome = run_plan(source, tmp_path / "p.xlsx", RunOptions(model_edits=replan_edits(bad, freeze)))
        assert outcome.status == "invalid" and not (tmp_path / "p.xlsx").exists()
        assert any("bad.xlsx Deployments!D2" in e and words in e for e in errors_of(outcome.issues))


def test_a_plan_row_copied_by_hand_is_refused_not_counted_twice(plan_and_input, tmp_path):
    """Deployments row 2 pasted again at the bottom: a roll would add its racks twice to the installed base."""
    from planner.cycle.roll import RollError, roll

    source, plan = plan_and_input
    wb = load_workbook(plan)
    ws = wb["Deployments"]
    ws.append([c.value for c in ws[2]])
    copied_row = ws.max_row
    wb.save(tmp_path / "dup.xlsx")
    with pytest.raises(RollError, match=rf"dup.xlsx Deployments!A{copied_row}: .* is listed twice \(also on row 2\)"):
        roll(tmp_path / "dup.xlsx", source, tmp_path / "next.xlsx")


def test_roll_refuses_a_plan_of_another_input(plan_and_input, tmp_path):
    from planner.cycle.roll import RollError, roll

    source, plan = plan_and_input
    sheets = _expansion_sheets()
    sheets["Fabs"][1][1] = 101
    other = write(tmp_path, sheets, "other.xlsx")
    with pytest.raises(RollError, match="another input workbook"):
        roll(plan, other, tmp_path / "next.xlsx")


def _actuals(tmp_path: Path, sheet_title: str, rows: list[list]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title
    for r in rows:
        ws.append(r)
    path = tmp_path / "actuals.xlsx"
    wb.save(path)
    return path


def test_actuals_sheet_names_are_matched_like_inputs(plan_and_input, tmp_path):
    from planner.cycle.roll import roll

    source, plan = plan_and_input
    actuals = _actuals(tmp_path, " chips ", [["Product", "Die Bank End"], ["L1", 7]])
    nxt = roll(plan, source, tmp_path / "next.xlsx", actuals)
    ws = load_workbook(nxt)["Products"]
    header = [c.value for c in ws[1]]
    assert ws.cell(2, header.index("initial_die_bank") + 1).value == 7


def test_duplicate_keys_in_actuals_are_errors(plan_and_input, tmp_path):
    from planner.cycle.roll import RollError, roll

    source, plan = plan_and_input
    actuals = _actuals(tmp_path, "Chips", [["product", "die_bank_end"], ["L1", 7], ["L1", 9]])
    with pytest.raises(RollError, match=r"actuals\.xlsx Chips!A3: L1 is listed twice"):
        roll(plan, source, tmp_path / "next.xlsx", actuals)


def test_text_in_a_frozen_plan_cell_is_a_located_error(plan_and_input, tmp_path):
    source, plan = plan_and_input
    bad = _tamper(plan, tmp_path / "bad.xlsx", "Wafers", "wafers", "ten")
    outcome = run_plan(source, tmp_path / "p.xlsx", RunOptions(model_edits=[FreezeEdit(bad, 1)]))
    assert outcome.status == "invalid"
    assert any("bad.xlsx Wafers!" in e and "'ten' is not a number" in e for e in errors_of(outcome.issues))


def test_a_previous_plan_without_its_partners_sheet_is_an_error(tmp_path):
    sheets = minimal_sheets(2)
    sheets["Partners"] = [["partner", "commitment_usd"], ["P", 5000]]
    sheets["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    source = write(tmp_path, sheets)
    plan = tmp_path / "plan.xlsx"
    assert run_plan(source, plan).status in ("optimal", "feasible")
    wb = load_workbook(plan)
    del wb["Partners"]
    wb.save(tmp_path / "nopartners.xlsx")
    outcome = run_plan(source, tmp_path / "p.xlsx", RunOptions(model_edits=[FreezeEdit(tmp_path / "nopartners.xlsx", 1)]))
    assert outcome.status == "invalid" and any("no Partners sheet" in e for e in errors_of(outcome.issues))


# ---- scenarios and sweeps -----------------------------------------------------------------------------------

UNCERTAINTY = ["sheet", "key", "column", "distribution", "p1", "p2", "p3"]
SCENARIOS = ["scenario", "sheet", "key", "column", "operation", "value"]


@pytest.mark.parametrize("name,words", [("base", "'base' is the workbook as it is"), ("", "scenario name is blank")])
def test_validate_reports_scenario_rows_named_base_or_blank(tmp_path, capsys, name, words):
    sheets = minimal_sheets()
    sheets["Scenarios"] = [SCENARIOS, [name, "Demand", "NA/w", "*", "scale", 2], ["up", "Demand", "NA/w", "*",
                                                                                  "scale", 1.5]]
    src = write(tmp_path, sheets)
    assert cli.main(["validate", str(src)]) == 2
    out = capsys.readouterr().out
    assert "Scenarios!A2" in out and words in out


@pytest.mark.parametrize("row,cell,words", [
    (["Demand", "NA/w", "*", "uniform", 1.2, 0.8, None], "Uncertainty!F2", "below the low"),
    (["Demand", "NA/w", "*", "triangular", 0.5, 1.5, 1.2], "Uncertainty!F2", "mode"),
    (["Demand", "NA/w", "*", "lognormal", 1, 0.1, None], "Uncertainty!D2", "unknown distribution"),
    (["Demand", "NA/w", "*", "normal", 1, 1e308, None], "Uncertainty!F2", "too large"),
])
def test_validate_checks_the_uncertainty_sheet(tmp_path, capsys, row, cell, words):
    sheets = minimal_sheets()
    sheets["Uncertainty"] = [UNCERTAINTY, row]
    src = write(tmp_path, sheets)
    assert cli.main(["validate", str(src)]) == 2
    out = capsys.readouterr().out
    assert cell in out and words in out


def test_sweep_with_a_huge_sd_is_refused_before_anything_is_written(tmp_path, capsys):
    sheets = minimal_sheets()
    sheets["Uncertainty"] = [UNCERTAINTY, ["Demand", "NA/w", "*", "normal", 1, 1e308, None]]
    src = write(tmp_path, sheets)
    assert cli.main(["-q", "sweep", str(src), "--draws", "2", "--workers", "1", "-o", str(tmp_path / "s.xlsx")]) == 2
    assert "too large" in capsys.readouterr().err
    assert sorted(f.name for f in tmp_path.iterdir()) == ["in.xlsx"]


def test_an_unreachable_scheduler_is_a_clear_error_quickly(tmp_path):
    import socket

    sheets = minimal_sheets()
    sheets["Uncertainty"] = [UNCERTAINTY, ["Demand", "NA/w", "*", "uniform", 0.9, 1.1, None]]
    src = write(tmp_path, sheets)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    rc, out, err = planner("-q", "sweep", src, "--draws", "2", "--scheduler", f"tcp://127.0.0.1:{port}", "-o",
                           tmp_path / "s.xlsx", timeout=60)
    assert time.perf_counter() - t0 < 25
    assert rc == 1 and "cannot reach the Dask scheduler" in err and no_traceback(err), err
    assert sorted(f.name for f in tmp_path.iterdir()) == ["in.xlsx"]


def test_roll_refuses_a_plan_with_a_deleted_sheet(plan_and_input, tmp_path):
    from planner.cycle.roll import RollError, roll

    source, plan = plan_and_input
    wb = load_workbook(plan)
    del wb["Power"]
    wb.save(tmp_path / "cut.xlsx")
    with pytest.raises(RollError, match="no Power sheet"):
        roll(tmp_path / "cut.xlsx", source, tmp_path / "next.xlsx")


def test_the_workbook_is_parsed_once_even_with_formulas(tmp_path, monkeypatch):
    import planner.input.reader as reader

    path = write(tmp_path, minimal_sheets())
    wb = load_workbook(path)
    wb["FabCapacity"]["B2"] = "=500*2"  # no cached value: still found, from the streamed XML
    wb.save(path)
    calls = []
    real = reader._load
    monkeypatch.setattr(reader, "_load", lambda *a, **k: calls.append(k) or real(*a, **k))
    data, issues = validate_workbook(path)
    assert len(calls) == 1
    assert any("FabCapacity!B2" in e and "no cached value" in e for e in errors_of(issues))


def test_an_infeasible_plan_diagnosis_gets_only_what_is_left_of_the_time_limit(tmp_path, monkeypatch):
    import models.solve as solve_module
    import planner.diagnose.diagnosis as diagnosis

    sheets = minimal_sheets()
    sheets["FabCapacity"][1] = ["F", 0, 0]
    sheets["Workloads"] = [["workload", "unmet_penalty_usd_per_tps", "min_service_level"], ["w", 1, 1]]
    src = write(tmp_path, sheets)
    real_run = solve_module.run_with_progress

    def slow_run(h, is_mip, **options):
        time.sleep(1.0)  # the plan's own solve uses up 1 s of the 1.5 s budget
        return real_run(h, is_mip, **options)

    limits = []
    real_new = diagnosis.new_highs

    def recording():
        h = real_new()
        original = h.setOptionValue

        def set_option(name, value):
            if name == "time_limit":
                limits.append(value)
            return original(name, value)

        h.setOptionValue = set_option
        return h

    monkeypatch.setattr(solve_module, "run_with_progress", slow_run)
    monkeypatch.setattr(diagnosis, "new_highs", recording)
    outcome = run_plan(src, tmp_path / "p.xlsx", RunOptions(time_limit_s=1.5))
    assert outcome.status == "infeasible"
    assert limits and max(limits) <= 0.5 + 1e-6, limits  # each re-solve: only what remains


def test_a_settings_gap_of_1_is_refused_like_the_option(tmp_path):
    data, issues = validate_workbook(write(tmp_path, minimal_sheets(mip_rel_gap=1)))
    assert data is None and any("Settings!" in e and "write 0.01 for 1%" in e for e in errors_of(issues))


def test_roll_past_year_9999_is_a_clear_error(tmp_path, capsys):
    source = write(tmp_path, minimal_sheets(4, start="9999Q1"))
    plan = tmp_path / "plan.xlsx"
    assert run_plan(source, plan).status in ("optimal", "feasible")
    assert cli.main(["roll", str(plan), str(source), "-o", str(tmp_path / "next.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "9999Q4" in err and "unexpected" not in err


def test_a_fifo_as_previous_plan_or_actuals_is_a_clear_error(tmp_path, capsys):
    src = write(tmp_path, minimal_sheets())
    fifo = tmp_path / "plan.xlsx"
    os.mkfifo(fifo)
    assert cli.main(["-q", "run", str(src), "-o", str(tmp_path / "p.xlsx"), "--previous", str(fifo),
                     "--freeze", "1"]) == 2
    assert "named pipe" in capsys.readouterr().err
    assert cli.main(["-q", "diff", str(fifo), str(src), "-o", str(tmp_path / "d.xlsx")]) == 2
    assert "named pipe" in capsys.readouterr().err


def test_sigterm_to_a_sweep_and_its_workers_leaves_no_traceback(tmp_path):
    sheets = minimal_sheets(4, integer_racks=True)
    sheets["Uncertainty"] = [UNCERTAINTY, ["Demand", "NA/w", "*", "uniform", 0.5, 1.5, None]]
    src = write(tmp_path, sheets)
    p = subprocess.Popen([sys.executable, "-m", "planner.cli", "-q", "sweep", str(src), "--draws", "2000", "--workers",
                          "2", "-o", str(tmp_path / "s.xlsx")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, cwd=ROOT, start_new_session=True)
    time.sleep(8)
    os.killpg(p.pid, signal.SIGTERM)  # the whole group, as a service manager does
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 143 and no_traceback(stderr), stderr
    assert sorted(f.name for f in tmp_path.iterdir()) == ["in.xlsx"]


def test_a_blank_template_validates_and_plans_as_an_empty_plan(tmp_path, capsys):
    """A blank template is valid (a warning: nothing to serve), so run must not call it a solver failure: the
    model has no decisions, the plan is optimal at $0, exit 0 (before: "HiGHS stopped with 'Empty'", exit 1)."""
    src, out = tmp_path / "t.xlsx", tmp_path / "p.xlsx"
    assert cli.main(["template", str(src)]) == 0
    assert cli.main(["validate", str(src)]) == 0
    assert cli.main(["-q", "run", str(src), "-o", str(out)]) == 0
    summary = {r[0]: r[1] for r in load_workbook(out)["Summary"].iter_rows(values_only=True) if r and r[0]}
    assert summary["status"] == "optimal" and summary["objective_usd"] == 0


@pytest.mark.parametrize("column,value", [("quarter", "2026Q9"), ("quarter", 20261), ("arrival_quarter", "never"),
                                          ("quarter", " 2026Q1 ")])
def test_a_plan_quarter_that_is_no_quarter_is_refused_not_dropped(plan_and_input, tmp_path, column, value):
    """Wafers!C2 edited to 2026Q9 (or 20261, " 2026Q1 ", or an arrival "never"): the row would match no quarter,
    its wafers would vanish from the roll's ScheduledReceipts and from a freeze; both name the cell instead."""
    from planner.cycle.roll import RollError, roll
    from planner.cycle.stability import replan_edits

    source, plan = plan_and_input
    bad = _tamper(plan, tmp_path / "bad.xlsx", "Wafers", column, value)
    with pytest.raises(RollError, match=rf"bad.xlsx Wafers!\w2: {column} = .* is not a quarter"):
        roll(bad, source, tmp_path / "next.xlsx")
    outcome = run_plan(source, tmp_path / "p.xlsx", RunOptions(model_edits=replan_edits(bad, 1)))
    assert outcome.status == "invalid" and any("is not a quarter" in e for e in errors_of(outcome.issues))


def test_roll_refuses_a_plan_made_with_a_scenario(tmp_path):
    """A plan of `--scenario ns` decided on that scenario's data (here: a site S2 the input lacks): rolled onto the
    input as it is, its racks at S2 would silently vanish, so roll says what the plan is."""
    from planner.cycle.roll import RollError, roll
    from planner.whatif.scenarios import ScenarioEdit

    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [["scenario", "sheet", "key", "column", "operation", "value"],
                           ["ns", "SitePower", "S", "*", "scale", 2]]
    source = write(tmp_path, sheets)
    plan = tmp_path / "ns.plan.xlsx"
    assert run_plan(source, plan, RunOptions(input_edits=[ScenarioEdit("ns")])).exit_code == 0
    with pytest.raises(RollError, match="was made with --scenario ns"):
        roll(plan, source, tmp_path / "next.xlsx")
