"""Property: whatever is done to a valid workbook, the planner plans or exits 2 with located errors
(never a traceback, never a write to the input)."""

import hashlib
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from planner.cli import main
from tests.builders import minimal_sheets
from planner.input.writer import write_input_workbook


def base_bytes(tmp_dir) -> bytes:
    sheets = minimal_sheets(3, integer_racks=True)
    sheets["Partners"] = [["partner", "commitment_usd", "min_deal_usd", "first_quarter"], ["P", 5000, 100, "2026Q2"]]
    sheets["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    sheets["SiteExpansion"] = [["site", "block_mw", "capex_usd_per_mw", "lead_quarters", "max_blocks"],
                               ["S", 0.01, 1000, 1, 2]]
    sheets["InstalledBase"] = [["product", "site", "racks", "retire_quarter"], ["L1", "S", 1, "2026Q2"]]
    sheets["Workloads"] = [["workload", "unmet_penalty_usd_per_tps", "min_service_level"], ["w", 1, 0.2]]
    path = write_input_workbook(tmp_dir / "base.xlsx", sheets)
    return path.read_bytes()


VALUES = st.sampled_from([None, "", "abc", -1, 0, 1, 2.5, 1e12, 1e-12, True, False, "#N/A", "#REF!", "=1+1",
                          "2026Q9", "2026Q2", "NA", "1,000", " 12 ", "12%", "L1", "F", "S", "w", "P", "inf"])
MUTATION = st.one_of(
    st.tuples(st.just("cell"), st.integers(0, 20), st.integers(1, 6), st.integers(1, 6), VALUES),
    st.tuples(st.just("delete_row"), st.integers(0, 20), st.integers(1, 4)),
    st.tuples(st.just("delete_col"), st.integers(0, 20), st.integers(1, 5)),
    st.tuples(st.just("delete_sheet"), st.integers(0, 20)),
    st.tuples(st.just("bytes"), st.integers(0, 10**6), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6)),
)


def mutate(data: bytes, mutations) -> bytes:
    cell_ops = [m for m in mutations if m[0] not in ("bytes", "truncate")]
    if cell_ops:
        wb = load_workbook(io.BytesIO(data))
        for m in cell_ops:
            if not wb.sheetnames:
                break
            ws = wb[wb.sheetnames[m[1] % len(wb.sheetnames)]]
            if m[0] == "cell":
                ws.cell(m[2], m[3]).value = m[4]
            elif m[0] == "delete_row":
                ws.delete_rows(m[2])
            elif m[0] == "delete_col":
                ws.delete_cols(m[2])
            elif m[0] == "delete_sheet" and len(wb.sheetnames) > 1:
                del wb[ws.title]
        buf = io.BytesIO()
        wb.save(buf)
        data = buf.getvalue()
    for m in mutations:
        if m[0] == "bytes":
            pos = m[1] % max(1, len(data))
            data = data[:pos] + m[2] + data[pos + len(m[2]):]
        elif m[0] == "truncate":
            data = data[: m[1] % max(1, len(data))]
    return data


def test_fuzzed_workbooks_never_crash(tmp_path_factory, capsys):
    tmp = tmp_path_factory.mktemp("fuzz")
    base = base_bytes(tmp)
    counter = {"n": 0, "codes": {}}

    @settings(max_examples=300, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(MUTATION, min_size=1, max_size=3))
    def check(mutations):
        counter["n"] += 1
        src = tmp / f"in{counter['n']}.xlsx"
        src.write_bytes(mutate(base, mutations))
        before = hashlib.sha256(src.read_bytes()).hexdigest()
        out = tmp / f"out{counter['n']}.xlsx"
        code = main(["-q", "run", str(src), "-o", str(out), "--time-limit", "20"])
        captured = capsys.readouterr()
        assert "unexpected failure" not in captured.err and "Traceback" not in captured.err, captured.err
        assert code in (0, 2, 3), (code, captured.out, captured.err)
        if code == 2:
            assert "ERROR" in captured.err
        assert hashlib.sha256(src.read_bytes()).hexdigest() == before
        counter["codes"][code] = counter["codes"].get(code, 0) + 1
        src.unlink()
        out.unlink(missing_ok=True)

    check()
    assert counter["n"] >= 300
    assert counter["codes"].get(0, 0) > 0 and counter["codes"].get(2, 0) > 0  # both paths exercised
