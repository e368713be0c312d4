"""Start-up (issue 18): the commands that do not solve import neither Pyomo nor HiGHS, and the hand-off does not
pull in scipy.stats (Pyomo's deferred SciPy import brings it on first use: 0.5-2.8 s)."""

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


def test_handoff_does_not_import_scipy_stats():
    code = (f"import sys\nfrom planner.input.validate import validate_workbook\nfrom models.build import build_model\n"
            f"from models.solve import to_standard_form\ndata, _ = validate_workbook(r'{EXAMPLE}')\n"
            f"form = to_standard_form(build_model(data)[0])\nassert form.lp.num_col_ > 0\n"
            f"assert 'scipy.stats' not in sys.modules, 'scipy.stats imported'")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
