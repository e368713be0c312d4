"""Hostile inputs, round four (a session's trial of 468 cases): edits that used to plan something else than the
workbook says, or to fail with an unexpected error, are located errors."""

from __future__ import annotations

from planner import cli
from tests.builders import minimal_sheets, write


def test_partner_sites_without_a_partners_sheet_is_an_error_at_each_row_not_an_unexpected_failure(tmp_path, capsys):
    """PartnerSites names partner P but the Partners sheet was deleted (or renamed): validate used to call the
    workbook valid and run failed with KeyError 'P'. Each PartnerSites row is an error at its partner cell."""
    s = minimal_sheets(2)
    s["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    src = write(tmp_path, s)
    assert cli.main(["-q", "validate", str(src)]) == 2
    assert "PartnerSites!A2 [partner] = 'P': unknown partner 'P': not in Partners: the workbook has no Partners " \
           "sheet (add it, or delete this row)" in capsys.readouterr().out
    assert cli.main(["-q", "run", str(src), "-o", str(tmp_path / "plan.xlsx")]) == 2
    said = capsys.readouterr()
    assert "unexpected failure" not in said.out + said.err and "PartnerSites!A2" in said.out + said.err
    assert not (tmp_path / "plan.xlsx").exists()
