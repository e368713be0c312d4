"""planner roll: next quarter's input workbook from a hand-checked 4-quarter plan, asserted cell by cell.

The plan (rolling_sheets, 2026Q1..2026Q4; tests/builders.py base: a rack = 10 chips, serves 1,000 tok/s):
* L1 racks: 10 kW, $1,000 capex, life 6 quarters, integer; 15 finished chips on hand; dies cost $0.5 and chips
  $1 per quarter to hold. Fab F: 10 good dies per wafer, $100, lead 2 quarters. Power $1/MWh and 1,000 hours a
  quarter: a rack costs $10 a quarter to run. Unmet demand costs $10 per tok/s per quarter (always served).
* Demand 2,000 / 1,000 / 2,000 / 3,000 tok/s. One installed rack retires in 2026Q2 (serves 2026Q1 only).
* Partner P funds up to $5,000 at 1% (own money costs 100%): min deal $1,500, signing fee $200 -> signed, and it
  funds every rack. HBM vendor V has 7 stacks on hand, nobody uses them.

Optimal plan, by hand: 2026Q1 deploy rack A from 10 of the 15 chips (5 left); 2026Q3 rack B from the 5 chips
and 5 dies of 0.5 wafer started 2026Q1; 2026Q4 rack C from 10 dies of 1 wafer started 2026Q2. Any other timing
holds more dies or chips, or runs racks earlier. Cost = wafers 150 + financing 30 + fee 200 + power
(2+1+2+3 rack-quarters) 80 + holding (5 chips x 2 quarters) 10 = $470.

Rolled to 2026Q2..2027Q1: chips 5, dies 0, HBM 7; rack A joins InstalledBase retiring 2027Q3 (2026Q1 + 6); the
retired row is dropped; the 5 dies of the 2026Q1 wafer arrive 2026Q3 as ScheduledReceipts; P's deal keeps
$5,000 - $1,000 = $4,000, minimum $1,500 - $1,000 = $500, fee 0 (paid).
"""

from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.table import Table

from planner.cli import main
from planner.cycle.roll import NOTES_SHEET, ROLL_AUTHOR, RollError, roll
from planner.cycle.stability import replan_edits
from planner.pipeline import RunOptions, run_plan
from planner.input.validate import validate_workbook
from tests.builders import minimal_sheets, write

NEW = ["2026Q2", "2026Q3", "2026Q4", "2027Q1"]


def rolling_sheets() -> dict:
    s = minimal_sheets(4, integer_racks=True, hours_per_quarter=1000)
    s["Products"] = [["product", "chips_per_rack", "rack_kw", "rack_capex_usd", "life_quarters",
                      "initial_chip_inventory", "die_holding_cost_usd", "chip_holding_cost_usd"],
                     ["L1", 10, 10, 1000, 6, 15, 0.5, 1]]
    s["Routes"] = [["product", "fab", "dies_per_wafer", "yield", "lead_quarters"], ["L1", "F", 10, 1, 2]]
    s["HBMVendors"] = [["vendor", "price_usd_per_stack", "initial_inventory"], ["V", 50, 7]]
    s["HBMSupply"] = [["vendor", "2026Q1", "2026Q2", "2026Q3", "2026Q4"], ["V", 0, 0, 0, 0]]
    s["Sites"] = [["site", "region", "pue", "power_price_usd_per_mwh"], ["S", "NA", 1, 1]]
    s["Workloads"] = [["workload", "unmet_penalty_usd_per_tps"], ["w", 10]]
    s["Demand"][1] = ["NA", "w", 2000, 1000, 2000, 3000]
    s["InstalledBase"] = [["product", "site", "racks", "retire_quarter"], ["L1", "S", 1, "2026Q2"]]
    s["Partners"] = [["partner", "commitment_usd", "min_deal_usd", "fixed_deal_cost_usd", "financing_cost_rate"],
                     ["P", 5000, 1500, 200, 0.01]]
    s["PartnerSites"] = [["partner", "site"], ["P", "S"]]
    return s


def planned(folder: Path, sheets: dict, name: str = "plan") -> tuple[Path, Path]:
    """(input, plan) of `sheets`, solved; the plan must be optimal."""
    source = write(folder, sheets, f"{name}.in.xlsx")
    plan = folder / f"{name}.xlsx"
    outcome = run_plan(source, plan)
    assert outcome.status == "optimal", outcome.message
    return source, plan


@pytest.fixture(scope="module")
def rolled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("roll")
    source, plan = planned(folder, rolling_sheets())
    out = roll(plan, source, folder / "next.xlsx")
    return source, plan, out


def rows(ws):
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def test_plan_is_the_hand_checked_one(rolled):
    _source, plan, _out = rolled
    wb = load_workbook(plan)
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["objective_usd"] == pytest.approx(470)
    wafers = {(r[2]): r[3] for r in wb["Wafers"].iter_rows(min_row=2, values_only=True)}
    assert wafers == {"2026Q1": pytest.approx(0.5), "2026Q2": pytest.approx(1), "2026Q3": 0, "2026Q4": 0}
    racks = [r[3] for r in wb["Deployments"].iter_rows(min_row=2, values_only=True)]
    assert racks == [1, 0, 1, 1]


def test_horizon_and_quarter_columns(rolled):
    _source, _plan, out = rolled
    wb = load_workbook(out)
    settings = {r[0]: r[1] for r in wb["Settings"].iter_rows(min_row=2, values_only=True)}
    assert settings["start_quarter"] == "2026Q2" and settings["quarters"] == 4
    assert wb["Settings"]["B3"].value == "2026Q2"
    assert rows(wb["FabCapacity"]) == [("fab", *NEW), ("F", 1000, 1000, 1000, 1000)]
    assert rows(wb["Demand"]) == [("region", "workload", *NEW), ("NA", "w", 1000, 2000, 3000, 3000)]
    assert rows(wb["SitePower"]) == [("site", *NEW), ("S", 100, 100, 100, 100)]
    assert rows(wb["Budget"]) == [("item", *NEW), ("own_capex_usd", 1e9, 1e9, 1e9, 1e9)]
    assert rows(wb["HBMSupply"]) == [("vendor", *NEW), ("V", 0, 0, 0, 0)]
    # the new last quarter is marked for the planner; the others are not
    for sheet, cell in (("FabCapacity", "E1"), ("Demand", "F1"), ("Budget", "E1")):
        head = wb[sheet][cell]
        assert head.value == "2027Q1"
        assert head.comment is not None and head.comment.author == ROLL_AUTHOR and "2026Q4" in head.comment.text
        assert head.fill.fgColor.rgb.endswith("FFEB9C")
    assert wb["Demand"]["E1"].comment is None


def test_inventories_installed_base_receipts_and_deals(rolled):
    _source, _plan, out = rolled
    wb = load_workbook(out)
    products = wb["Products"]
    header = [c.value for c in products[1]]
    assert header[:8] == ["product", "chips_per_rack", "rack_kw", "rack_capex_usd", "life_quarters",
                          "initial_chip_inventory", "die_holding_cost_usd", "chip_holding_cost_usd"]
    assert products["F2"].value == 5  # Chips.chip_inventory_end of 2026Q1
    assert header[8] == "initial_die_bank" and products["I2"].value == 0  # column added: Chips.die_bank_end
    assert rows(wb["HBMVendors"]) == [("vendor", "price_usd_per_stack", "initial_inventory"), ("V", 50, 7)]
    # the 2026Q2-retiring row is gone; rack A (deployed 2026Q1, life 6) retires 2027Q3
    assert rows(wb["InstalledBase"]) == [("product", "site", "racks", "retire_quarter"), ("L1", "S", 1, "2027Q3")]
    assert "Deployments!D2" in wb["InstalledBase"]["C2"].comment.text
    # 0.5 wafer started 2026Q1 at F (lead 2) -> 5 good dies in 2026Q3; the new last quarter stays blank
    assert rows(wb["ScheduledReceipts"]) == [("product", *NEW), ("L1", None, 5, None, None)]
    assert rows(wb["Partners"]) == [
        ("partner", "commitment_usd", "min_deal_usd", "fixed_deal_cost_usd", "financing_cost_rate"),
        ("P", 4000, 500, 0, 0.01)]
    # sheets the roll does not concern are copied as they are
    assert rows(wb["Routes"]) == [("product", "fab", "dies_per_wafer", "yield", "lead_quarters"), ("L1", "F", 10, 1, 2)]
    assert rows(wb["PartnerSites"]) == [("partner", "site"), ("P", "S")]


def test_rolled_workbook_validates_cleanly_and_explains_itself(rolled):
    source, _plan, out = rolled
    data, issues = validate_workbook(out)
    assert data is not None and not len(issues), [str(i) for i in issues]
    assert data.quarters == NEW
    assert data.receipts == {("L1", 1): 5.0}
    assert data.installed_base[["product", "site", "racks", "retire_t"]].values.tolist() == [["L1", "S", 1.0, 5]]
    wb = load_workbook(out)
    assert wb.sheetnames[0] == NOTES_SHEET and wb.active.title == NOTES_SHEET
    setup = wb[NOTES_SHEET].page_setup  # prints one page wide, landscape, its header row on every page
    assert (setup.orientation, setup.fitToWidth, wb[NOTES_SHEET].print_title_rows) == ("landscape", 1, "$4:$4")
    notes = {r[2]: r for r in wb[NOTES_SHEET].iter_rows(min_row=5, values_only=True) if r[2]}
    assert notes["Products!F2"][4].startswith("plan.xlsx Chips!G2")
    assert notes["ScheduledReceipts!C2"][3] == 5 and "Wafers!E2" in notes["ScheduledReceipts!C2"][4]
    assert notes["Demand!F1"][0] == "new quarter column"
    # the input is never written
    assert load_workbook(source)["Settings"]["B3"].value == "2026Q1"


def test_actuals_replace_the_plan_key_by_key(rolled, tmp_path):
    """Actually: 3 chips left (the die bank is not reported: the plan's 0 stays), 2 racks deployed, 0.8 wafer
    started (8 dies via Routes, 2026Q1 + lead 2 = 2026Q3), P funded $1,500 in 2026Q1."""
    source, plan, _out = rolled
    actuals = write(tmp_path, {
        "Chips": [["product", "quarter", "chip_inventory_end"], ["L1", "2026Q1", 3], ["L1", "2025Q4", 99]],
        "Deployments": [["product", "site", "racks_deployed"], ["L1", "S", 2]],
        "Wafers": [["product", "fab", "wafers"], ["L1", "F", 0.8]],
        "Partners": [["partner", "signed", "funded_usd"], ["P", True, 1500]],
    }, "actuals.xlsx")
    out = tmp_path / "next.xlsx"
    assert main(["-q", "roll", str(plan), str(source), "-o", str(out), "--actuals", str(actuals)]) == 0
    wb = load_workbook(out)
    assert wb["Products"]["F2"].value == 3 and wb["Products"]["I2"].value == 0
    assert rows(wb["InstalledBase"])[1:] == [("L1", "S", 2, "2027Q3")]
    assert rows(wb["ScheduledReceipts"])[1] == ("L1", None, 8, None, None)
    assert rows(wb["Partners"])[1] == ("P", 3500, 0, 0, 0.01)
    assert "actuals" in wb["InstalledBase"]["C2"].comment.text
    data, issues = validate_workbook(out)
    assert data is not None and not issues.errors


def test_longer_horizon_repeats_the_old_last_quarter(rolled, tmp_path):
    source, plan, _out = rolled
    out = roll(plan, source, tmp_path / "next6.xlsx", quarters=6)
    wb = load_workbook(out)
    six = NEW + ["2027Q2", "2027Q3"]
    assert rows(wb["Demand"]) == [("region", "workload", *six), ("NA", "w", 1000, 2000, 3000, 3000, 3000, 3000)]
    assert rows(wb["ScheduledReceipts"])[0] == ("product", *six)
    assert [wb["FabCapacity"].cell(1, c).comment is not None for c in range(2, 8)] == [False] * 3 + [True] * 3
    data, issues = validate_workbook(out)
    assert data is not None and data.T == 6 and not len(issues), [str(i) for i in issues]


def test_shorter_horizon_drops_the_quarters_left_out(rolled, tmp_path):
    source, plan, _out = rolled
    out = roll(plan, source, tmp_path / "next2.xlsx", quarters=2)
    wb = load_workbook(out)
    assert rows(wb["Demand"]) == [("region", "workload", "2026Q2", "2026Q3"), ("NA", "w", 1000, 2000)]
    assert rows(wb["ScheduledReceipts"]) == [("product", "2026Q2", "2026Q3"), ("L1", None, 5)]
    data, issues = validate_workbook(out)
    assert data is not None and data.T == 2 and not len(issues), [str(i) for i in issues]


def test_rolling_twice_clears_the_last_marks(rolled, tmp_path):
    _source, _plan, out = rolled
    plan2 = tmp_path / "plan2.xlsx"
    assert run_plan(out, plan2).status == "optimal"
    out2 = roll(plan2, out, tmp_path / "next2.xlsx")
    wb = load_workbook(out2)
    assert [c.value for c in wb["Demand"][1]] == ["region", "workload", "2026Q3", "2026Q4", "2027Q1", "2027Q2"]
    assert wb["Demand"]["E1"].comment is None and wb["Demand"]["F1"].comment.author == ROLL_AUTHOR
    assert wb.sheetnames.count(NOTES_SHEET) == 1
    data, issues = validate_workbook(out2)
    assert data is not None and data.quarters[0] == "2026Q3", [str(i) for i in issues]


def test_excel_tables_are_kept_in_step(tmp_path):
    """A Demand sheet laid out as an Excel table: its range follows the columns (the reader reads only inside)."""
    sheets = rolling_sheets()
    source, plan = planned(tmp_path, sheets)
    wb = load_workbook(source)
    wb["Demand"].add_table(Table(displayName="DemandTable", ref="A1:F2"))
    wb.save(source)
    plan2 = tmp_path / "plan2.xlsx"
    assert run_plan(source, plan2).status == "optimal"
    out = roll(plan2, source, tmp_path / "next.xlsx")
    table = load_workbook(out)["Demand"].tables["DemandTable"]
    assert table.ref == "A1:F2" and [c.name for c in table.tableColumns] == ["region", "workload", *NEW]
    data, _issues = validate_workbook(out)
    assert data is not None and data.demand[("NA", "w", 3)] == 3000


def test_refuses_a_plan_of_another_horizon(rolled, tmp_path):
    _source, plan, out = rolled
    with pytest.raises(RollError, match="starts in 2026Q1 but the input"):
        roll(plan, out, tmp_path / "x.xlsx")
    assert main(["-q", "roll", str(plan), str(out), "-o", str(tmp_path / "x.xlsx")]) == 2
    assert not (tmp_path / "x.xlsx").exists()


def test_rolling_an_infeasible_plan_says_it_has_no_plan(tmp_path, capsys):
    """An infeasible run writes a Summary and a Diagnosis, no decisions: roll says the file has no plan (its
    status), not that sheets are missing; exit 2, nothing written."""
    sheets = minimal_sheets(1)
    sheets["InstalledBase"] = [["product", "site", "racks"], ["L1", "S", 10]]
    sheets["SitePower"][1] = ["S", 0.05]  # 10 installed racks need more power than the site has
    src = write(tmp_path, sheets)
    plan = tmp_path / "plan.xlsx"
    assert run_plan(src, plan).exit_code == 3
    capsys.readouterr()
    assert main(["-q", "roll", str(plan), str(src), "-o", str(tmp_path / "next.xlsx")]) == 2
    assert "has no plan (its Summary status is 'infeasible')" in capsys.readouterr().err
    assert not (tmp_path / "next.xlsx").exists()
    again = run_plan(src, tmp_path / "again.xlsx", RunOptions(model_edits=replan_edits(plan)))
    assert again.exit_code == 2 and any("has no plan" in i.message for i in again.issues.errors)


def test_an_existing_output_is_refused_unless_force(rolled, tmp_path, capsys):
    source, plan, _out = rolled
    out = tmp_path / "next.xlsx"
    out.write_bytes(b"next quarter's input, edited by hand")
    assert main(["-q", "roll", str(plan), str(source), "-o", str(out)]) == 2
    assert capsys.readouterr().err == (f"ERROR: {out} already exists; roll never overwrites a file (it may be next "
                                       "quarter's input, with your edits). Choose another name with -o, or pass "
                                       "--force to replace it\n")
    assert out.read_bytes() == b"next quarter's input, edited by hand"
    assert main(["-q", "roll", str(plan), str(source), "-o", str(out), "--force"]) == 0
    assert validate_workbook(out)[0] is not None


def test_every_problem_of_the_actuals_is_reported_at_once_at_its_own_cell(rolled, tmp_path, capsys):
    """A negative die bank, an unknown site (column B), text in a number, `signed` neither TRUE nor FALSE, a key
    listed twice, an unknown fab and a sheet without its key column: one run, every cell."""
    source, plan, _out = rolled
    actuals = write(tmp_path, {
        "Chips": [["product", "die_bank_end"], ["L1", -5]],
        "Deployments": [["product", "site", "racks_deployed"], ["L1", "S", 1], ["L1", "S", 2], ["L1", "Atlantis", "x"]],
        "Wafers": [["product", "fab", "wafers"], ["L1", "G", 1]],
        "HBM": [["inventory_end"], [3]],
        "Partners": [["partner", "signed"], ["P", "maybe"]],
    }, "actuals.xlsx")
    out = tmp_path / "next.xlsx"
    assert main(["-q", "roll", str(plan), str(source), "-o", str(out), "--actuals", str(actuals)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "ERROR: the actuals workbook actuals.xlsx has 7 error(s); nothing was written:",
        "  actuals actuals.xlsx Chips!B2: die_bank_end cannot be negative",
        "  actuals actuals.xlsx HBM!1:1: key column(s) vendor missing (found in row 1: inventory_end; row 1 must "
        "hold the headers, a title above them is not read in an actuals workbook)",
        "  actuals actuals.xlsx Deployments!A3: L1/S is listed twice in Deployments (first at actuals.xlsx "
        "Deployments!A2); keep one row per key",
        "  actuals actuals.xlsx Deployments!B4: unknown key 'Atlantis' (not in the input workbook)",
        "  actuals actuals.xlsx Deployments!C4: expected a number, found text 'x'",
        "  actuals actuals.xlsx Wafers!B2: unknown key 'G' (not in the input workbook)",
        "  actuals actuals.xlsx Partners!B2: expected TRUE or FALSE, found 'maybe'",
    ], err
    assert not out.exists()


def test_a_wafer_start_without_a_route_is_located_with_the_other_problems(tmp_path):
    from planner.cycle.roll_plan import ClosedQuarter, read_actuals

    s = rolling_sheets()
    s["Fabs"].append(["G", 100])  # a fab no route uses
    data, issues = validate_workbook(write(tmp_path, s))
    assert data is not None, [str(i) for i in issues]
    actuals = write(tmp_path, {"Wafers": [["product", "fab", "wafers"], ["L1", "G", 1], ["L1", "F", "lots"]]},
                    "actuals.xlsx")
    with pytest.raises(RollError) as caught:
        read_actuals(actuals, data, ClosedQuarter(tmp_path / "plan.xlsx", "2026Q1", {}), [])
    assert str(caught.value).splitlines() == [
        "the actuals workbook actuals.xlsx has 2 error(s); nothing was written:",
        "  actuals actuals.xlsx Wafers!A2: no route L1/G in Routes",
        "  actuals actuals.xlsx Wafers!C3: expected a number, found text 'lots'"]


@pytest.mark.parametrize("name,rolled_name", [("plan 2026Q1..2026Q4", "plan 2026Q2..2027Q1"),
                                              ("Plan 2026-2026 (draft)", "Plan 2026-2027 (draft)"),
                                              ("test", "test")])
def test_the_rolled_plan_name_names_the_new_horizon(tmp_path, name, rolled_name):
    """The horizon 2026Q1..2026Q4 rolls to 2026Q2..2027Q1: a plan_name naming the old quarters or years names the new
    ones (the next plan's header would otherwise name the closed quarter); any other name is kept."""
    sheets = rolling_sheets()
    sheets["Settings"] = [r if r[0] != "plan_name" else ["plan_name", name] for r in sheets["Settings"]]
    source, plan = planned(tmp_path, sheets)
    settings = {r[0]: r[1] for r in load_workbook(roll(plan, source, tmp_path / "next.xlsx"))["Settings"]
                .iter_rows(min_row=2, values_only=True)}
    assert settings["plan_name"] == rolled_name


def test_more_good_dies_than_the_wafers_hold_is_warned_at_the_actuals_cell(rolled, tmp_path, capsys):
    """Fab F gives 10 gross dies per wafer: 0.8 wafer cannot yield 80 good dies. The columns were swapped by hand
    (wafers 0.8 belongs to good_dies_out's place and back); the actuals are kept as written, with a warning that
    names the cell and the arithmetic. 1 wafer giving its 10 dies is not warned."""
    source, plan, _out = rolled
    swapped = write(tmp_path, {"Wafers": [["product", "fab", "wafers", "good_dies_out"], ["L1", "F", 0.8, 80]]},
                    "swapped.xlsx")
    out = tmp_path / "next.xlsx"
    assert main(["roll", str(plan), str(source), "-o", str(out), "--actuals", str(swapped)]) == 0
    printed = capsys.readouterr()
    said = printed.out + printed.err
    assert "more good dies of L1 from F than its wafers hold" in said
    assert "swapped.xlsx Wafers!D2" in said and "0.8 wafer(s) x 10 gross dies" in said and "= 8" in said
    assert rows(load_workbook(out)["ScheduledReceipts"])[1] == ("L1", None, 80, None, None)

    exact = write(tmp_path, {"Wafers": [["product", "fab", "wafers", "good_dies_out"], ["L1", "F", 1, 10]]},
                  "exact.xlsx")
    assert main(["roll", str(plan), str(source), "-o", str(tmp_path / "n2.xlsx"), "--actuals", str(exact)]) == 0
    printed = capsys.readouterr()
    assert "than its wafers hold" not in printed.out + printed.err


def test_partner_funding_that_would_silently_cut_the_commitment_is_refused_at_its_cell(rolled, tmp_path, capsys):
    """P's actuals funded_usd is what P funded in 2026Q1 (the plan's: $1,000, racks A's capex). Refused, each at
    its cell, all at once: the plan's own Partners sheet copied (funded_usd $3,000 = the whole plan's funding),
    funding above the $5,000 commitment, and funding of a deal reported unsigned. Nothing is written."""
    source, plan, _out = rolled
    total = next(r[2] for r in rows(load_workbook(plan)["Partners"]) if r[0] == "P")
    assert total == pytest.approx(3000)  # racks A, B, C, each $1,000, all funded by P
    for name, row, words in [("copied", ["P", True, total], "that is the plan's funding over its whole horizon"),
                             ("above", ["P", True, 6000], "above its commitment of 5,000"),
                             ("unsigned", ["P", False, 100], "reported unsigned")]:
        actuals = write(tmp_path, {"Partners": [["partner", "signed", "funded_usd"], row]}, f"{name}.xlsx")
        out = tmp_path / f"{name}.next.xlsx"
        assert main(["-q", "roll", str(plan), str(source), "-o", str(out), "--actuals", str(actuals)]) == 2
        said = capsys.readouterr()
        assert f"actuals {name}.xlsx Partners!C2: P funded" in said.out + said.err and words in said.out + said.err
        assert not out.exists()


def test_a_quarter_cell_that_is_no_quarter_and_an_arrival_before_the_start_are_errors_at_their_cells(rolled,
                                                                                                   tmp_path, capsys):
    """Chips row quarter 'xx' was silently skipped as 'another quarter' (the plan's chips kept); wafers started in
    2026Q1 arriving 2025Q1 silently vanished; 1e20 stacks were written to the rolled workbook and refused there.
    All are errors at their actuals cells, together, and nothing is written."""
    source, plan, _out = rolled
    actuals = write(tmp_path, {
        "Chips": [["product", "quarter", "chip_inventory_end"], ["L1", "xx", 3]],
        "HBM": [["vendor", "inventory_end"], ["V", 1e20]],
        "Wafers": [["product", "fab", "wafers", "arrival_quarter"], ["L1", "F", 1, "2025Q1"]]}, "a.xlsx")
    out = tmp_path / "next.xlsx"
    assert main(["-q", "roll", str(plan), str(source), "-o", str(out), "--actuals", str(actuals)]) == 2
    said = "".join(capsys.readouterr())
    assert "actuals a.xlsx Chips!B2: 'xx' is not a quarter" in said
    assert "actuals a.xlsx HBM!B2: inventory_end = 1e+20 is beyond any quantity" in said  # not at the rolled cell
    assert "actuals a.xlsx Wafers!D2: dies cannot arrive in 2025Q1, before the wafers were started in 2026Q1" in said
    assert not out.exists()


def _with_cached_values(path: Path, cached: dict[str, str]) -> None:
    """Give formula cells a cached value as a spreadsheet program would on save: openpyxl's '<f>1+1</f><v />'
    becomes '<f>1+1</f><v>2</v>', and the request to recalculate on opening (fullCalcOnLoad) is cleared."""
    import zipfile

    parts = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            parts[name] = z.read(name)
    for name, part in parts.items():
        if name.startswith("xl/worksheets/"):
            for formula, value in cached.items():
                part = part.replace(f"<f>{formula}</f><v />".encode(), f"<f>{formula}</f><v>{value}</v>".encode())
            parts[name] = part
        if name == "xl/workbook.xml":
            parts[name] = part.replace(b'fullCalcOnLoad="1"', b"")
    with zipfile.ZipFile(path, "w") as z:
        for name, part in parts.items():
            z.writestr(name, part)


def test_a_formula_with_no_cached_value_in_the_actuals_is_refused_at_its_cell(rolled, tmp_path, capsys):
    """Actuals written by a script (openpyxl computes no formula): '=1+1' racks would read as blank, silently
    keeping the plan's racks. Refused at Deployments!C2, nothing written; the same file saved with its values
    (cached 2) rolls, with the 2 racks deployed."""
    source, plan, _out = rolled
    actuals = write(tmp_path, {"Deployments": [["product", "site", "racks_deployed"], ["L1", "S", 0]]},
                    "scripted.xlsx")
    book = load_workbook(actuals)
    book["Deployments"]["C2"] = "=1+1"  # openpyxl stores a formula, and no value for it
    book.save(actuals)
    out = tmp_path / "next.xlsx"
    assert main(["roll", str(plan), str(source), "-o", str(out), "--actuals", str(actuals)]) == 2
    said = capsys.readouterr().err
    assert "1 formula cell(s) with no computed value" in said and "Deployments!C2 (=1+1)" in said
    assert not out.exists()

    _with_cached_values(actuals, {"1+1": "2"})
    assert main(["-q", "roll", str(plan), str(source), "-o", str(out), "--actuals", str(actuals)]) == 0
    assert rows(load_workbook(out)["InstalledBase"])[1:] == [("L1", "S", 2, "2027Q3")]


def test_actual_racks_without_an_actual_chip_stock_are_warned(rolled, tmp_path):
    """2 racks deployed actually (the plan: 1) but no Chips actual: the rolled chip stock stays the plan's, so the
    10 chips of the extra rack are counted twice (new-user trial). A warning note names the product and the
    chips; with a Chips actual (test above) there is none."""
    from planner.cycle.roll import roll

    source, plan, _out = rolled
    actuals = write(tmp_path, {"Deployments": [["product", "site", "racks_deployed"], ["L1", "S", 2]]}, "act.xlsx")
    notes = []
    roll(plan, source, tmp_path / "next.xlsx", actuals, notes=notes)
    [warning] = [n for n in notes if n.what == "actual racks differ from the plan, chip stock not given"]
    assert warning.level == "warning" and warning.value == "L1"
    assert "+1 racks deployed in 2026Q1 against the plan (+10 chips)" in warning.source


def test_a_misnamed_actuals_sheet_is_an_error_not_ignored(rolled, tmp_path, capsys):
    """A hostile trial: actuals on a sheet 'Deployment' (for Deployments) rolled as if nothing were reported, exit
    0. It is an error naming the sheet meant; an actuals workbook with no actuals sheet at all (the input workbook
    given by mistake) is an error too. Nothing is written."""
    source, plan, _out = rolled
    typo = write(tmp_path, {"Deployment": [["product", "site", "racks_deployed"], ["L1", "S", 5]]}, "typo.xlsx")
    out = tmp_path / "next.xlsx"
    assert main(["-q", "roll", str(plan), str(source), "-o", str(out), "--actuals", str(typo)]) == 2
    assert "sheet 'Deployment': not an actuals sheet, so it would be ignored; did you mean Deployments?" in \
        capsys.readouterr().err
    assert main(["-q", "roll", str(plan), str(source), "-o", str(out), "--actuals", str(source)]) == 2
    assert "is an input workbook (it has Settings and Products sheets), not an actuals workbook" in \
        capsys.readouterr().err
    notes = write(tmp_path, {"Notes": [["what"], ["nothing"]]}, "notes.xlsx")
    assert main(["-q", "roll", str(plan), str(source), "-o", str(out), "--actuals", str(notes)]) == 2
    assert "holds none of the actuals sheets (Chips, HBM, Deployments, Wafers, Partners)" in capsys.readouterr().err
    assert not out.exists()
