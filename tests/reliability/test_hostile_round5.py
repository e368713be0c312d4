"""Hostile inputs, round five: what a session's trials found, each a located, plain-words answer."""

from __future__ import annotations

import zipfile

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
