"""Start-up (issue 18): the commands that do not solve import neither Pyomo nor HiGHS, and the hand-off does not
pull in SciPy (Pyomo's deferred SciPy import brings scipy.stats & co. on first use: 0.5-2.8 s)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "inputs" / "example.xlsx"


def _modules_after(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint(' '.join(sorted(m for m in sys.modules if '.' not in m)))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split()[-400:]) if out.stdout else set()


def test_validate_imports_neither_pyomo_nor_highs():
    loaded = _modules_after(f"from planner.cli import main\nmain(['-q', 'validate', r'{EXAMPLE}'])")
    assert not loaded & {"pyomo", "highspy", "scipy", "dask"}


def test_template_imports_neither_pyomo_nor_highs_nor_pandas(tmp_path):
    loaded = _modules_after(f"from planner.cli import main\nmain(['-q', 'template', r'{tmp_path / 't.xlsx'}'])")
    assert not loaded & {"pyomo", "highspy", "scipy", "dask", "pandas"}


def test_handoff_does_not_import_scipy():
    """Not even scipy.sparse (0.15-0.25 s): the compiler gets models.handoff's own column matrix."""
    code = (f"import sys\nfrom planner.input.validate import validate_workbook\nfrom models.build import build_model\n"
            f"from models.solve import to_standard_form\ndata, _ = validate_workbook(r'{EXAMPLE}')\n"
            f"form = to_standard_form(build_model(data)[0])\nassert form.lp.num_col_ > 0\n"
            f"assert 'scipy' not in sys.modules, 'scipy imported'")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def test_the_command_exits_at_once_yet_says_and_writes_everything(tmp_path):
    """`planner run` ends with os._exit (no freeing of the model object by object): the exit code, every printed
    line (through a pipe, which buffers) and the plan are all there, and the exit handlers still ran."""
    from tests.builders import minimal_sheets, write

    src = write(tmp_path, minimal_sheets())
    probe = tmp_path / "handler_ran"
    code = (f"import atexit, pathlib, sys\natexit.register(lambda: pathlib.Path(r'{probe}').write_text('yes'))\n"
            f"sys.argv = ['planner', 'run', r'{src}', '-o', r'{tmp_path / 'plan.xlsx'}']\n"
            "from planner.cli import entry\nentry()\nprint('not reached')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"wrote {tmp_path / 'plan.xlsx'}" and "not reached" not in done.stdout
    assert probe.read_text() == "yes"
    from openpyxl import load_workbook

    assert "Summary" in load_workbook(tmp_path / "plan.xlsx", read_only=True).sheetnames
    bad = subprocess.run([sys.executable, "-m", "planner", "validate", str(tmp_path / "missing.xlsx")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "does not exist" in bad.stdout + bad.stderr
