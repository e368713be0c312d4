"""The plan workbook as a reviewer reads it: Summary on one page with no text cut, the contract keys readable
wherever they stand, Run, pivots whose totals are the tidy sheets', unit economics worked by hand, Excel
Tables, formats by unit, and signed deals as yes/no that roll, freeze and diff still read."""

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries

from planner.cycle.diff import read_plan, summary_values, truthy
from planner.output.sheet_rows import LINE_POINTS, text_lines
from planner.output.unit_economics import unit_economics
from planner.pipeline import run_plan
from tests.builders import minimal_sheets, solve_sheets, write
from tests.test_example import EXAMPLE

CONTRACT_KEYS = ["plan_name", "status", "objective_usd", "mip_gap", "solve_seconds", "total_demand_tps",
                 "total_served_tps", "service_level", "own_capex_usd", "partner_capex_usd", "terminal_value_usd",
                 "input_sha256", "planner_version", "solver", "solved_at"]
SUMMARY_MAX_ROWS = 70


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    out = tmp_path_factory.mktemp("example") / "example.plan.xlsx"
    assert run_plan(EXAMPLE, out).exit_code == 0
    return out


def _width(ws, column: int) -> float:
    letter = get_column_letter(column)
    dim = ws.column_dimensions.get(letter)
    return dim.width if dim is not None and dim.width else 8.43


def _span(ws, c) -> tuple[float, int]:
    """Width (characters) of the cell, or of the merged range it starts, and the range's first column."""
    for rng in ws.merged_cells.ranges:
        if c.coordinate in rng:
            lo, _r1, hi, _r2 = range_boundaries(str(rng))
            return sum(_width(ws, j) for j in range(lo, hi + 1)), lo
    return _width(ws, c.column), c.column


def test_summary_is_one_page_and_no_text_is_cut(example):
    ws = load_workbook(example)["Summary"]
    assert ws.max_row <= SUMMARY_MAX_ROWS
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 1)
    for row in ws.iter_rows():
        for c in row:
            if not isinstance(c.value, str) or not c.value:
                continue
            width, _first = _span(ws, c)
            if c.alignment.wrap_text:
                lines = text_lines(c.value, width * 1.1 - 1)
                height = ws.row_dimensions[c.row].height or LINE_POINTS
                assert height >= LINE_POINTS * lines - 1, (c.coordinate, c.value, height, lines)
            else:
                assert len(c.value) <= width, (c.coordinate, c.value, width)


def test_summary_holds_the_contract_keys_wherever_they_stand(example):
    wb = load_workbook(example)
    by_a = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    values = summary_values(read_plan(example, ["Summary"]))
    for key in CONTRACT_KEYS:
        assert key in by_a and key in values, key
    # the example values what the plan leaves (Products.terminal_value_usd_per_die), so the credit is positive
    assert values["status"] in ("optimal", "feasible") and values["terminal_value_usd"] > 0
    assert values["service_level"] == pytest.approx(values["total_served_tps"] / values["total_demand_tps"])
    assert values["sram_vs_hbm_cost_ratio"] < 1 and values["sram_vs_hbm_energy_ratio"] < 1
    text = " ".join(str(v) for r in wb["Summary"].iter_rows(values_only=True) for v in r if isinstance(v, str))
    for forbidden in ("option_", "seconds_", "coefficient_"):
        assert forbidden not in text  # solver internals live on Run
    run = {r[0]: r[1] for r in wb["Run"].iter_rows(min_row=2, values_only=True)}
    assert {"option_mip_rel_gap", "seconds_solve", "coefficient_matrix_max", "version_highspy"} <= set(run)


def test_summary_keys_found_anywhere_by_the_reader():
    frame = pd.DataFrame([["Cost", None, "status", "optimal"], [None, "objective_usd", 12.5, None],
                          ["A title with spaces", 3, None, None]], columns=["key", "value", "x", "y"])
    assert summary_values({"Summary": frame}) == {"status": "optimal", "objective_usd": 12.5}


def _pivot_sections(ws) -> dict[str, dict]:
    """title -> {'header': [...], 'rows': [[...], ...]} read from the Pivots sheet."""
    sections, current = {}, None
    for row in ws.iter_rows(values_only=True):
        if row and isinstance(row[0], str) and (len(row) < 3 or all(v is None for v in row[1:])) and row[0] != "total":
            current = sections.setdefault(row[0], {"header": None, "rows": []})
        elif current is not None and current["header"] is None and row and row[0] is not None:
            current["header"] = list(row)
        elif current is not None and row and row[0] is not None:
            current["rows"].append(list(row))
    return sections


def test_pivot_totals_equal_the_tidy_sheets(example):
    wb = load_workbook(example)
    sections = _pivot_sections(wb["Pivots"])
    frames = read_plan(example, ["Wafers", "HBM", "Deployments", "Capex", "Power"])

    def total_row(prefix):
        [title] = [t for t in sections if t.startswith(prefix)]
        sec = sections[title]
        [row] = [r for r in sec["rows"] if r[0] == "total"]
        return dict(zip(sec["header"], row))

    assert total_row("Wafers started")["plan total"] == pytest.approx(frames["Wafers"]["wafers"].sum())
    assert total_row("HBM stacks")["plan total"] == pytest.approx(frames["HBM"]["bought"].sum())
    assert total_row("Racks deployed")["plan total"] == pytest.approx(frames["Deployments"]["racks_deployed"].sum())
    assert total_row("Capex by site")["plan total"] == pytest.approx(frames["Capex"]["capex_usd"].sum())
    installed = frames["Deployments"].groupby("quarter")["racks_installed"].sum()
    used = frames["Power"].groupby("quarter")["mw_used"].sum()
    for q in installed.index:
        assert total_row("Racks installed")[q] == pytest.approx(installed[q])
        assert total_row("MW used")[q] == pytest.approx(used[q])


def test_tidy_sheets_are_tables_with_formats_by_unit(example):
    wb = load_workbook(example)
    names = [t for ws in wb.worksheets for t in ws.tables]
    assert len(names) == len(set(n.lower() for n in names))
    for sheet in ("Wafers", "Deployments", "Serving", "Partners", "Bottlenecks", "UnitEconomics"):
        assert wb[sheet].tables, sheet
    ws = wb["Deployments"]
    header = {c.value: c.column_letter for c in ws[1]}
    assert ws[f"{header['racks_deployed']}2"].number_format.startswith("#,##0;")  # whole racks (integer_racks)
    ws = wb["Wafers"]
    header = {c.value: c.column_letter for c in ws[1]}
    assert ws[f"{header['wafers']}2"].number_format.startswith("#,##0.0;")
    for ws in wb.worksheets:
        assert "&A" in ws.oddHeader.right.text and ws.oddHeader.left.text  # plan and sheet on every page
    for name in ("Wafers", "Serving", "Allocation"):
        assert wb[name].page_setup.fitToWidth == 1


def test_signed_reads_yes_no_and_scripts_read_it_back(example):
    ws = load_workbook(example)["Partners"]
    header = [c.value for c in ws[1]]
    assert "funds_quarters" in header
    signed = ws.cell(2, header.index("signed") + 1)
    assert signed.number_format == '"yes";"yes";"no"' and signed.value in (0, 1)
    frame = read_plan(example, ["Partners"])["Partners"]
    assert [truthy(v) for v in frame["signed"]] == [bool(v) for v in frame["signed"]]
    funded = frame.loc[frame["signed"].map(truthy), "funds_quarters"]
    assert all(q != "none" for q in funded)


def _unit_sheets():
    """One L1 rack (10 chips) serves the 1,000 tok/s of both quarters; hours_per_quarter = 1,000;
    capex_life_quarters = 4, so a_0 = min(1, (2 - 0) / 4) = 0.5; PUE 1.5, power $50/MWh; packaging $2 a chip."""
    sheets = minimal_sheets(2, hours_per_quarter=1000, capex_life_quarters=4)
    sheets["Products"] = [["product", "chips_per_rack", "rack_kw", "rack_capex_usd", "life_quarters",
                           "packaging_cost_usd"], ["L1", 10, 10, 1000, 40, 2]]
    sheets["Sites"][1] = ["S", "NA", 1.5, 50]
    sheets["Workloads"][1] = ["w", 10]
    return sheets


def test_unit_economics_by_hand(tmp_path):
    """Tokens: 2 quarters x 1,000 tok/s x 1,000 h x 3,600 s = 7.2e9 tokens = 7,200 million tokens.
    Cost: capex 1,000 x a_0 0.5 = $500; power 2 quarters x 10 kW x 1.5 x 1,000 h = 30,000 kWh = 30 MWh x $50
    = $1,500; one wafer $100; 10 chips packaged x $2 = $20. Total $2,120 -> $2,120 / 7,200 = $0.29444 per
    million tokens. Energy 30,000 kWh / 7,200 = 4.1667 kWh per million tokens. Capacity of a rack: 10 chips x
    utilization 1 x 100 tok/s = 1,000 tok/s, so capex $1,000 / 1,000 = $1 per tok/s; busy the whole time: 100%."""
    s = solve_sheets(tmp_path, _unit_sheets())
    ue = unit_economics(s.data, s.solution)
    [row] = ue.by_product.to_dict("records")
    assert row["tokens_served"] == pytest.approx(7.2e9)
    assert (row["capex_usd"], row["power_usd"], row["wafers_usd"], row["packaging_usd"], row["hbm_usd"]) == \
        pytest.approx((500, 1500, 100, 20, 0))
    assert row["cost_usd_per_mtok"] == pytest.approx(2120 / 7200)
    assert row["energy_kwh"] == pytest.approx(30_000)
    assert row["kwh_per_mtok"] == pytest.approx(30_000 / 7200)
    assert row["capex_usd_per_tps"] == pytest.approx(1.0)
    assert row["utilization"] == pytest.approx(1.0)
    [site] = ue.by_site.to_dict("records")
    assert site["site"] == "S" and site["cost_usd_per_mtok"] == pytest.approx(2120 / 7200)
    assert ue.sram_vs_hbm == {}  # no HBM product to compare with


def test_unit_economics_sheet_in_the_plan(tmp_path):
    out = tmp_path / "plan.xlsx"
    assert run_plan(write(tmp_path, _unit_sheets()), out).exit_code == 0
    ws = load_workbook(out)["UnitEconomics"]
    rows = list(ws.iter_rows(values_only=True))
    assert any(isinstance(r[0], str) and "undiscounted" in r[0] for r in rows)  # the note says what is in it
    header = next(r for r in rows if r[0] == "product")
    first = rows[rows.index(header) + 1]
    assert dict(zip(header, first))["cost_usd_per_mtok"] == pytest.approx(2120 / 7200)


def test_infeasible_summary_keeps_the_keys_and_says_what_is_wrong(tmp_path):
    sheets = minimal_sheets(1)
    sheets["FabCapacity"][1] = ["F", 1]
    sheets["Demand"][1] = ["NA", "w", 2000]
    sheets["Workloads"] = [["workload", "unmet_penalty_usd_per_tps", "min_service_level"], ["w", 1, 1]]
    out = tmp_path / "plan.xlsx"
    assert run_plan(write(tmp_path, sheets), out).status == "infeasible"
    values = summary_values(read_plan(out, ["Summary"]))
    assert set(CONTRACT_KEYS) <= set(values) and values["objective_usd"] is None
    texts = [r[0] for r in load_workbook(out)["Summary"].iter_rows(values_only=True) if isinstance(r[0], str)]
    assert any(t.startswith("Smallest change that makes the plan feasible") for t in texts)


def _shown(value: float, fmt: str) -> str:
    """About what a spreadsheet shows for `value` in number format `fmt` (first section)."""
    import re
    section = fmt.split(";")[0]
    literal = "".join(re.findall(r'"([^"]*)"', section))
    bare = re.sub(r'"[^"]*"', "", section)
    decimals = len(bare.split(".")[1].rstrip("%,")) if "." in bare else 0
    x = value * 100 if "%" in bare else value / 1e6 if bare.rstrip().endswith(",,") else value
    return f"{x:,.{decimals}f}" + literal + ("%" if "%" in bare else "")


def test_no_number_shows_as_hashes(example):
    """PlanByQuarter, Pivots and UnitEconomics: every number, as formatted, fits its column (no ###)."""
    wb = load_workbook(example)
    for name in ("PlanByQuarter", "Pivots", "UnitEconomics", "Summary"):
        ws = wb[name]
        merged = {c for rng in ws.merged_cells.ranges for row in ws[str(rng)] for c in [x.coordinate for x in row]}
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, (int, float)) and not isinstance(c.value, bool) and c.coordinate not in merged:
                    text = _shown(float(c.value), c.number_format)
                    assert len(text) + 1 <= _width(ws, c.column), (name, c.coordinate, text, _width(ws, c.column))


def test_a_key_shown_twice_on_summary_has_one_value(example):
    """own_capex_usd stands in the headline and as the decisions table's plan total: the same number (racks, site
    blocks and packaging blocks; the table once left the packaging block out, $900k apart on the example)."""
    ws = load_workbook(example)["Summary"]
    seen: dict[str, list] = {}
    for key, value, *_rest in ws.iter_rows(min_row=2, values_only=True):
        if isinstance(key, str) and key and isinstance(value, (int, float)):
            seen.setdefault(key, []).append(value)
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    assert "own_capex_usd" in twice
    for key, values in twice.items():
        assert max(values) - min(values) <= 1e-6 * max(1.0, abs(max(values))), (key, values)


def test_a_bottleneck_sentence_gives_the_dearest_binding_quarter_and_only_the_quarters_it_binds_in():
    """Fab F's wafer limit: 2026Q1 binds at $1.2M a wafer, 2026Q2 at $1.0M, 2026Q3 is 99.7% used but not binding
    ($0.44M of value there, the largest: it ranked first in the table). The sentence says 'binds in 2026Q1..2026Q2',
    'saves up to $1,200,000' (whole dollars), 'most in 2026Q1' and 2026Q1's input cell, not 2026Q3's price or quarter."""
    import pandas as pd
    from types import SimpleNamespace

    from planner.output.contract import Col
    from planner.output.summary import bottleneck_sentences

    rows = [("2026Q3", 440_000.0, False, "FabCapacity!D2", 900_000.0),
            ("2026Q1", 1_200_000.0, True, "FabCapacity!B2", 600_000.0),
            ("2026Q2", 1_000_000.0, True, "FabCapacity!C2", 500_000.0)]
    b = pd.DataFrame([{Col.family: "fab_capacity", Col.key: "F", Col.quarter: q, Col.shadow_price: price,
                       Col.binding: binding, Col.input_cell: cell, Col.value_usd: value, Col.unit: "USD per wafer",
                       Col.what: "wafer starts at F", Col.utilization: 1.0} for q, price, binding, cell, value in rows])
    budget = pd.DataFrame({Col.quarter: ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]})
    [line] = bottleneck_sentences(SimpleNamespace(tables={"Bottlenecks": b, "Budget": budget}))
    assert line.startswith("Wafer starts at F binds in 2026Q1..2026Q2: one more wafer saves up to $1,200,000 of")
    assert "most in 2026Q1, input FabCapacity!B2" in line and "2026Q3" not in line


def test_a_region_short_of_full_service_never_reads_100_percent():
    from planner.output.summary import _share_short_of_all

    assert _share_short_of_all(0.98912) == "98.9%"
    assert _share_short_of_all(0.99976) == "99.98%"  # APAC with 48,904 tok/s unmet
    assert _share_short_of_all(0.9999996) == ">99.99%"
    assert _share_short_of_all(1.0) == "100.0%"
