"""The README's exit-code table holds for every command: an output in a folder that does not exist, an output
that is not .xlsx and a malformed --scheduler are bad options (exit 2), refused before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner import cli
from tests.builders import minimal_sheets, write

COMMANDS = [
    ["run", "{input}", "-o", "{out}"],
    ["diagnose", "{input}", "-o", "{out}"],
    ["run", "{input}", "--stochastic", "-o", "{out}"],
    ["compare", "{input}", "-o", "{out}"],
    ["sweep", "{input}", "--draws", "2", "-o", "{out}"],
    ["roll", "{plan}", "{input}", "-o", "{out}"],
    ["diff", "{plan}", "{input}", "-o", "{out}"],
    ["template", "{out}"],
]


@pytest.fixture
def files(tmp_path, monkeypatch):
    """An input and a 'plan' (any readable workbook: nothing may get as far as reading it), and no solver."""
    import planner.pipeline

    def no_work(*_a, **_k):
        raise AssertionError("the command did work before refusing its output")

    monkeypatch.setattr(planner.pipeline, "read", no_work)
    monkeypatch.setattr(planner.pipeline, "prepare", no_work)
    return {"input": write(tmp_path, minimal_sheets()), "plan": write(tmp_path, minimal_sheets(), "plan.xlsx")}


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_an_output_folder_that_does_not_exist_is_exit_2_before_any_work(tmp_path, capsys, files, argv):
    out = tmp_path / "nodir" / "out.xlsx"
    assert cli.main(["-q"] + [a.format(out=out, **files) for a in argv]) == 2
    err = capsys.readouterr().err
    assert f"ERROR: the output folder {out.parent} does not exist (for {out})" in err, err
    assert err.count("ERROR") == 1 and not (tmp_path / "nodir").exists()


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_an_output_that_is_not_xlsx_is_exit_2(tmp_path, capsys, files, argv):
    out = tmp_path / "out.txt"
    assert cli.main(["-q"] + [a.format(out=out, **files) for a in argv]) == 2
    assert capsys.readouterr().err == f"ERROR: the output {out} must end in .xlsx\n"
    assert not out.exists()


@pytest.mark.parametrize("address, why", [("foo:bar", "port 'bar' is not 1-65535"), ("10.0.0.5", "no port"),
                                          ("http://10.0.0.5:8786", "unknown scheme 'http'"),
                                          ("tcp://h:70000", "port '70000' is not 1-65535"), ("tcp://a b:1", "")])
def test_a_malformed_scheduler_is_a_bad_option(tmp_path, capsys, files, address, why):
    out = tmp_path / "s.xlsx"
    assert cli.main(["-q", "sweep", str(files["input"]), "--scheduler", address, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ERROR: --scheduler takes a Dask scheduler address tcp://HOST:PORT") and \
        f"not '{address}'" in err and why in err, err
    assert not out.exists()


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "127.0.0.1:8786", "tls://sched.example:8786",
                                     "tcp://[::1]:8786", "inproc://10.0.0.5/123/1"])
def test_well_formed_scheduler_addresses_pass_the_check(address):
    from planner.cli_checks import scheduler_problems

    assert scheduler_problems(address) == []


@pytest.mark.parametrize("argv, role", [
    (["run", "{missing}", "-o", "{out}"], "input workbook"),
    (["run", "{input}", "--previous", "{missing}", "--freeze", "1", "-o", "{out}"], "previous plan (--previous)"),
    (["roll", "{missing}", "{input}", "-o", "{out}"], "plan workbook"),
    (["roll", "{plan}", "{input}", "--actuals", "{missing}", "-o", "{out}"], "actuals workbook (--actuals)"),
    (["diff", "{plan}", "{missing}", "-o", "{out}"], "new plan"),
], ids=lambda a: " ".join(a) if isinstance(a, list) else a)
def test_a_file_to_read_that_is_not_there_is_named_by_its_role_before_any_work(tmp_path, capsys, files, argv, role):
    """Every file a command reads is checked before any work (a missing --previous was found after the model was
    built, and an actuals file was called 'the plan workbook'): one error, naming its role."""
    missing, out = tmp_path / "gone.xlsx", tmp_path / "out.xlsx"
    assert cli.main(["-q"] + [a.format(out=out, missing=missing, **files) for a in argv]) == 2
    assert capsys.readouterr().err == f"ERROR: the {role} {missing} does not exist\n"
    assert not out.exists()


@pytest.mark.parametrize("argv, said", [
    (["run", "{example}", "-o", "{long}"], "ERROR: the output {long} cannot be written: File name too long"),
    (["validate", "{long}"], "ERROR: the input workbook {long} cannot be read: File name too long"),
    (["template", "{long}"], "ERROR: the output {long} cannot be written: File name too long"),
], ids=["run -o", "validate", "template"])
def test_a_file_name_longer_than_the_file_system_allows_is_one_error_not_a_traceback(tmp_path, capsys, argv, said):
    """A name of 300 characters (Linux allows 255 per path component): exit 2 and one line naming the file."""
    long = tmp_path / ("p" * 300 + ".xlsx")
    example = Path(__file__).resolve().parents[2] / "inputs" / "example.xlsx"
    assert cli.main(["-q"] + [a.format(long=long, example=example) for a in argv]) == 2
    assert capsys.readouterr().err.strip() == said.format(long=long)


def test_a_misspelt_option_is_refused_with_the_commands_usage_and_the_nearest_option(capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["run", "in.xlsx", "--time-limt", "5"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "planner run: error: unrecognized arguments: --time-limt 5 (did you mean --time-limit?)" in err
    assert "usage: planner run" in err


def test_a_folder_as_the_output_is_named_as_a_folder(tmp_path, capsys):
    assert cli.main(["-q", "run", str(write(tmp_path, minimal_sheets(2))), "-o", str(tmp_path)]) == 2
    assert f"the output {tmp_path} is a folder; name the workbook to write" in capsys.readouterr().err


def test_an_output_folder_that_is_not_writable_is_refused_before_the_solve(tmp_path, capsys, monkeypatch):
    """A read-only output folder was found only after the whole solve (exit 1). It is a bad option now: exit 2,
    before any work. (The check is os.access, which root passes: simulated here, as CI runs as root.)"""
    import os

    from planner import cli_checks

    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(cli_checks.os, "access", lambda p, mode: False if Path(p) == locked else real(p, mode))
    example = Path(__file__).resolve().parents[2] / "inputs" / "example.xlsx"
    assert cli.main(["-q", "run", str(example), "-o", str(locked / "plan.xlsx")]) == 2
    assert capsys.readouterr().err.strip() == (f"ERROR: the output folder {locked} is not writable for you (for "
                                               f"{locked / 'plan.xlsx'}); choose another path with -o")
