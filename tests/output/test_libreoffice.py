"""The plan opens and converts cleanly in a real spreadsheet program (LibreOffice headless); page 1 is the
Summary. Runs when `soffice` is installed (.ci/run installs it when it can)."""

import shutil
import subprocess

import pytest

from planner.pipeline import run_plan
from tests.builders import minimal_sheets, write

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_plan_converts_to_pdf_with_summary_first(tmp_path):
    out = tmp_path / "plan.xlsx"
    assert run_plan(write(tmp_path, minimal_sheets(3)), out).exit_code == 0
    profile = tmp_path / "lo-profile"
    proc = subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
                          capture_output=True, text=True, timeout=180)
    pdf = tmp_path / "plan.pdf"
    assert proc.returncode == 0 and pdf.exists() and pdf.stat().st_size > 1000, proc.stderr
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed: converted, first page not inspected")
    first = subprocess.run(["pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True,
                           text=True, timeout=60).stdout
    assert "plan_name" in first and "status" in first and "optimal" in first and "objective_usd" in first
    # the plan on a page: headline, costs, decisions by quarter, bottlenecks, all on page 1, named in its header
    for text in ("service_level", "Where the money goes", "The key decisions", "2026Q3", "bottleneck_1",
                 "input_sha256", "Summary", "page 1 of"):
        assert text in first, text
    second = subprocess.run(["pdftotext", "-layout", "-f", "2", "-l", "2", str(pdf), "-"], capture_output=True,
                            text=True, timeout=60).stdout
    assert "Charts" in second and "input_sha256" not in second  # Summary did not spill onto page 2
