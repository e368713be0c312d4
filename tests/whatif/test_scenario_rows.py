"""Scenarios add_row / remove_row: whole rows added (filled by the scenario's column/value rows) or dropped, then
validated like any input, with every problem located at its Scenarios cell.

Base (minimal_sheets, 2 quarters): a rack = 10 chips = 1 wafer ($100) + $1,000 capex = $1,100, serves 1,000 tok/s
in both quarters; unmet demand costs $1 per tok/s per quarter; no discounting, continuous racks."""

import pytest

from planner.input.reader import read_workbook
from planner.input.validate import validate_raw
from planner.whatif.scenarios import ScenarioEdit
from planner.pipeline import RunOptions, run_plan
from planner.whatif.scenarios import apply_named_scenario
from tests.builders import minimal_sheets, write

HEADER = ["scenario", "sheet", "key", "column", "operation", "value"]


def plan(tmp_path, sheets, scenario):
    src = write(tmp_path, sheets)
    return run_plan(src, tmp_path / f"{scenario}.plan.xlsx", RunOptions(input_edits=[ScenarioEdit(scenario)], mip_rel_gap=1e-9))


def applied(tmp_path, sheets, scenario):
    raw, issues = read_workbook(write(tmp_path, sheets, "raw.xlsx"))
    notes = apply_named_scenario(raw, scenario, issues)
    data, issues = validate_raw(raw, issues)
    return data, issues, notes


def test_add_a_qualification_pair(tmp_path):
    """L1 needs 1 HBM stack per chip; vendor V ($10) has supply but no qualification: nothing can be packaged,
    all 2 x 1,000 tok/s unmet = $2,000. Scenario `qualify`: add HBMQualification V/L1 from 2026Q2 (first_quarter:
    a column the sheet lacks). Q1 stays unmet ($1,000); a rack in Q2: $1,100 + 10 x $10 = $1,200 > $1,000 saved in
    one quarter -> still not worth it. Scenario `qualify_now` (no first_quarter): a Q1 rack serves both quarters,
    $1,200 < $2,000 -> objective $1,200."""
    sheets = minimal_sheets(2)
    sheets["Products"][0].append("stacks_per_chip")
    sheets["Products"][1].append(1)
    sheets["HBMVendors"] = [["vendor", "price_usd_per_stack"], ["V", 10]]
    sheets["HBMSupply"] = [["vendor", "2026Q1", "2026Q2"], ["V", 100, 100]]
    sheets["Scenarios"] = [HEADER, ["qualify", "HBMQualification", "V/L1", "first_quarter", "add_row", "2026Q2"],
                           ["qualify_now", "HBMQualification", "V/L1", None, "add_row", None]]
    assert plan(tmp_path, sheets, "base").objective_usd == pytest.approx(2000, rel=1e-9)
    assert plan(tmp_path, sheets, "qualify").objective_usd == pytest.approx(2000, rel=1e-9)
    data, issues, notes = applied(tmp_path, sheets, "qualify")
    assert data.qualified == [("V", "L1")] and data.qualified_from == {("V", "L1"): 1}
    assert notes == ["Scenarios!A2: HBMQualification V/L1 add_row (1 cell)"]


def test_add_row_of_the_key_alone(tmp_path):
    """Scenario `qualify_now` of the test above: one add_row row with a blank column and value adds the pair
    V/L1 qualified from the start: a Q1 rack serves both quarters, $1,100 + 10 x $10 = $1,200 < $2,000 saved."""
    sheets = minimal_sheets(2)
    sheets["Products"][0].append("stacks_per_chip")
    sheets["Products"][1].append(1)
    sheets["HBMVendors"] = [["vendor", "price_usd_per_stack"], ["V", 10]]
    sheets["HBMSupply"] = [["vendor", "2026Q1", "2026Q2"], ["V", 100, 100]]
    sheets["Scenarios"] = [HEADER, ["qualify_now", "HBMQualification", "V/L1", None, "add_row", None],
                           ["x", "ServingLinks", "S/EU", "region", "add_row", "EU"]]
    assert plan(tmp_path, sheets, "qualify_now").objective_usd == pytest.approx(1200, rel=1e-9)
    _data, issues, _notes = applied(tmp_path, sheets, "x")
    assert any(e.cell == "Scenarios!D3" and "key column" in e.message for e in issues.errors)


def test_add_a_site_with_its_power(tmp_path):
    """Demand 3,000 tok/s in both quarters; site S has only 0.01 MW (1 rack). Scenario `new_site` adds site T in
    NA (pue 1, free power) and its SitePower row (1 MW over 2026Q1:2026Q2): 3 racks, $3,300, nothing unmet
    (base: 1 rack + 2 x 2,000 unmet = $5,100)."""
    sheets = minimal_sheets(2)
    sheets["Demand"][1] = ["NA", "w", 3000, 3000]
    sheets["SitePower"][1] = ["S", 0.01, 0.01]
    sheets["Scenarios"] = [HEADER,
                           ["new_site", "Sites", "T", "region", "add_row", "NA"],
                           ["new_site", "Sites", "T", "pue", "add_row", 1],
                           ["new_site", "Sites", "T", "power_price_usd_per_mwh", "add_row", 0],
                           ["new_site", "SitePower", "T", "2026Q1:2026Q2", "add_row", 1]]
    assert plan(tmp_path, sheets, "base").objective_usd == pytest.approx(5100, rel=1e-9)
    outcome = plan(tmp_path, sheets, "new_site")
    assert outcome.exit_code == 0, [str(i) for i in outcome.issues]
    assert outcome.objective_usd == pytest.approx(3300, rel=1e-9)


def test_added_row_values_are_validated_at_their_scenarios_cell(tmp_path):
    """A new site with pue 0.5 (must be >= 1) and no power price (required): both errors name Scenarios cells."""
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, ["bad", "Sites", "T", "region", "add_row", "NA"],
                           ["bad", "Sites", "T", "pue", "add_row", 0.5]]
    data, issues, _ = applied(tmp_path, sheets, "bad")
    assert data is None
    cells = {(e.cell, e.column) for e in issues.errors}
    assert ("Scenarios!F3", "pue") in cells
    assert ("Scenarios!C2", "power_price_usd_per_mwh") in cells


def test_a_failed_remove_row_does_not_hide_the_other_rows_errors(tmp_path):
    """A new-user trial: a scenario adding a site without pue or power price, with a negative power, and removing
    a row that does not exist showed only the remove_row's error. Every error of the scenario is shown
    at once, each at its Scenarios cell (the same pipeline `planner validate` and `--scenario` use)."""
    from planner.input.reader import read_workbook as read
    from planner.pipeline import prepare
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, ["bad", "Sites", "T", "region", "add_row", "NA"],
                           ["bad", "SitePower", "T", "2026Q2", "add_row", -5],
                           ["bad", "Fabs", "Nobody", None, "remove_row", None]]
    raw, issues = read(write(tmp_path, sheets))
    prepared = prepare(raw, issues, [ScenarioEdit("bad")])
    assert prepared.data is None
    cells = {(e.cell, e.column): e.message for e in prepared.issues.errors}
    assert "no row of Fabs has key 'Nobody'" in cells[("Scenarios!C4", "key")]
    assert "required and is blank" in cells[("Scenarios!C2", "pue")]
    assert "cannot be negative" in cells[("Scenarios!F3", "2026Q2")]


def test_add_row_of_an_existing_key_is_an_error(tmp_path):
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, ["dup", "Sites", "S", "region", "add_row", "NA"]]
    _data, issues, _ = applied(tmp_path, sheets, "dup")
    [err] = issues.errors
    assert err.cell == "Scenarios!C2" and "already has a row S" in err.message


def test_add_row_creates_a_missing_sheet(tmp_path):
    """The minimal workbook has no PackagingExpansion (nor PackagingCapacity) sheet: the added row's line has no
    capacity row, which validation reports at the add_row's key cell."""
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER] + [["grow", "PackagingExpansion", "default", c, "add_row", v]
                                      for c, v in (("block_chips", 10), ("capex_usd_per_block", 5),
                                                   ("lead_quarters", 0), ("max_blocks", 1))]
    data, issues, notes = applied(tmp_path, sheets, "grow")
    assert data is None and notes == ["Scenarios!A2: PackagingExpansion default add_row (4 cells)"]
    [err] = issues.errors
    assert err.cell == "Scenarios!C2" and "add its row to PackagingCapacity" in err.message


def test_remove_a_product_needs_its_rows_removed_too(tmp_path):
    """Removing product L1 alone leaves Routes and Throughput rows naming it: located errors there. Removing its
    Routes (L1/*) and Throughput (L1/*) rows too gives a valid workbook with nothing to serve: 2 x $1,000 unmet."""
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, ["cancel", "Products", "L1", None, "remove_row", None],
                           ["cancel_all", "Products", "L1", None, "remove_row", None],
                           ["cancel_all", "Routes", "L1/*", "*", "remove_row", None],
                           ["cancel_all", "Throughput", "L1/*", None, "remove_row", None]]
    data, issues, notes = applied(tmp_path, sheets, "cancel")
    assert data is None and notes == ["Scenarios!A2: Products L1 remove_row (1 row)"]
    assert {e.cell for e in issues.errors} >= {"Routes!A2", "Throughput!A2"}
    outcome = plan(tmp_path, sheets, "cancel_all")
    assert outcome.exit_code == 0, [str(i) for i in outcome.issues]
    assert outcome.objective_usd == pytest.approx(2000, rel=1e-9)


def test_remove_row_errors_are_located(tmp_path):
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, ["x", "Sites", "Nowhere", None, "remove_row", None],
                           ["x", "Sites", "S", "pue", "remove_row", None],
                           ["x", "Settings", "plan_name", None, "remove_row", None],
                           ["x", "Demand", "NA/w", None, "remove_row", 0.5]]
    _data, issues, _ = applied(tmp_path, sheets, "x")
    cells = {e.cell: e.message for e in issues.errors}
    assert "no row of Sites has key 'Nowhere'" in cells["Scenarios!C2"]
    assert "leave the column blank" in cells["Scenarios!D3"]
    assert "required and cannot be removed" in cells["Scenarios!C4"]
    assert "takes no value: leave the value blank" in cells["Scenarios!F5"]  # a value meant for set or add_row


def test_add_a_setting_row(tmp_path):
    """Settings has no capex_life_quarters row: add_row adds it (key = the setting, column value)."""
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, ["life", "Settings", "capex_life_quarters", "value", "add_row", 8]]
    data, issues, notes = applied(tmp_path, sheets, "life")
    assert data is not None, [str(i) for i in issues]
    assert data.settings.capex_life_quarters == 8
    assert notes == ["Scenarios!A2: Settings capex_life_quarters add_row (1 cell)"]


def _fab_named_with_a_slash() -> dict:
    """The base with its fab named TSMC/N4: a rack = 1 wafer ($100) + $1,000 capex serves both quarters' 1,000 tok/s."""
    sheets = minimal_sheets(2)
    for name in ("Fabs", "Routes", "FabCapacity"):
        sheets[name] = [[("TSMC/N4" if v == "F" else v) for v in row] for row in sheets[name]]
    return sheets


def test_keys_holding_a_slash_are_addressed_on_two_key_sheets(tmp_path):
    """Routes is keyed by product/fab; the fab is TSMC/N4, so its route is written L1/TSMC/N4. Scenario `half`
    scales its yield by 0.5: 2 wafers per rack, $1,200. Scenario `rerouted` removes the route and adds it back with
    yield 0.5 (L1/TSMC/N4 reads as L1 + TSMC/N4, the names the workbook uses): $1,200 too. Base: $1,100."""
    sheets = _fab_named_with_a_slash()
    sheets["Scenarios"] = [HEADER, ["half", "Routes", "L1/TSMC/N4", "yield", "scale", 0.5],
                           ["rerouted", "Routes", "L1/TSMC/N4", None, "remove_row", None],
                           *[["rerouted", "Routes", "L1/TSMC/N4", column, "add_row", value]
                             for column, value in (("dies_per_wafer", 10), ("yield", 0.5), ("lead_quarters", 0))]]
    assert plan(tmp_path, sheets, "base").objective_usd == pytest.approx(1100, rel=1e-9)
    assert plan(tmp_path, sheets, "half").objective_usd == pytest.approx(1200, rel=1e-9)
    assert plan(tmp_path, sheets, "rerouted").objective_usd == pytest.approx(1200, rel=1e-9)
    data, _issues, _notes = applied(tmp_path, sheets, "rerouted")
    assert list(data.routes.index) == [("L1", "TSMC/N4")] and data.routes["yield"].tolist() == [0.5]


def test_add_row_writing_one_cell_twice_is_an_error(tmp_path):
    """Two add_row rows fill the new route's yield (0.5, then 0.9): which one the planner means is not for it to
    guess, so the second is an error at its column cell."""
    sheets = minimal_sheets(2)
    sheets["Fabs"].append(["G", 100])
    sheets["FabCapacity"].append(["G", 1000, 1000])
    sheets["Scenarios"] = [HEADER, *[["x", "Routes", "L1/G", column, "add_row", value] for column, value in
                                     (("dies_per_wafer", 10), ("yield", 0.5), ("lead_quarters", 0), ("yield", 0.9))]]
    _data, issues, _notes = applied(tmp_path, sheets, "x")
    assert any(e.cell == "Scenarios!D5" and "yield is already filled by Scenarios!F3" in e.message
               for e in issues.errors), [str(e) for e in issues.errors]


def test_a_row_a_scenario_removed_is_named_in_the_sheets_error(tmp_path):
    """Scenario nob removes the required Budget row own_capex_usd: the error 'Budget has no row own_capex_usd' is
    at the sheet (the row is gone), so it names the scenario row that removed it; the input sheet looks fine."""
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, ["nob", "Budget", "own_capex_usd", None, "remove_row", None]]
    _data, issues, _notes = applied(tmp_path, sheets, "nob")
    [error] = issues.errors
    assert error.cell == "Budget" and "has no row 'own_capex_usd'" in error.message
    assert error.message.endswith("(the scenario row Scenarios!C2 (remove_row own_capex_usd) removed rows from this "
                                  "sheet)")


def test_add_remove_add_of_one_key_takes_effect_in_order(tmp_path):
    """Scenario s adds site S2 (pue 1.5), removes it, and adds it again (pue 1.2): the operations take effect in
    their order, so S2 is there once, with the second row's pue 1.2 (the two add_rows were merged into one group
    before the remove, which then dropped the site)."""
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, ["s", "Sites", "S2", "region", "add_row", "NA"],
                           ["s", "Sites", "S2", "pue", "add_row", 1.5],
                           ["s", "Sites", "S2", "power_price_usd_per_mwh", "add_row", 0],
                           ["s", "Sites", "S2", None, "remove_row", None],
                           ["s", "Sites", "S2", "region", "add_row", "NA"],
                           ["s", "Sites", "S2", "pue", "add_row", 1.2],
                           ["s", "Sites", "S2", "power_price_usd_per_mwh", "add_row", 0]]
    data, issues, notes = applied(tmp_path, sheets, "s")
    assert data is not None, [str(i) for i in issues]
    assert list(data.sites.index) == ["S", "S2"] and data.sites.at["S2", "pue"] == pytest.approx(1.2)
    assert len(notes) == 3


def test_a_remove_row_pattern_ends_only_the_add_rows_it_matches(tmp_path):
    """Scenario g adds fab G and the route L1/G over three rows, with remove_row '*/F' (every route at F) between
    them: the pattern does not match L1/G, so its add_row rows stay one new row (dies 10, yield 1, lead 0), and
    L1 is made at G only."""
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, ["g", "Fabs", "G", "wafer_cost_usd", "add_row", 100],
                           ["g", "Routes", "L1/G", "dies_per_wafer", "add_row", 10],
                           ["g", "Routes", "*/F", None, "remove_row", None],
                           ["g", "Routes", "L1/G", "yield", "add_row", 1],
                           ["g", "Routes", "L1/G", "lead_quarters", "add_row", 0]]
    data, issues, _notes = applied(tmp_path, sheets, "g")
    assert data is not None, [str(i) for i in issues]
    assert list(data.routes.index) == [("L1", "G")]
    assert data.routes.loc[("L1", "G"), "dies_per_wafer"] == 10


def test_a_change_of_the_new_row_between_its_add_rows_is_an_error_at_the_later_add_row(tmp_path):
    """add_row T region, add_row T price, set T pue 1.3, add_row T pue 1.2: the add_row rows are one new row, built
    before the set, so the set would win over the later add_row row against the sheet order. Refused at E5 (the
    later add_row), naming E4. With the set after every add_row row, the set wins as written (pue 1.3)."""
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER, ["x", "Sites", "T", "region", "add_row", "NA"],
                           ["x", "Sites", "T", "power_price_usd_per_mwh", "add_row", 60],
                           ["x", "Sites", "T", "pue", "set", 1.3],
                           ["x", "Sites", "T", "pue", "add_row", 1.2]]
    data, issues, _ = applied(tmp_path, sheets, "x")
    assert data is None
    [error] = [e for e in issues.errors if e.cell == "Scenarios!E5"]
    assert "comes after Scenarios!E4 (set) changed the new row" in error.message
    sheets["Scenarios"] = [HEADER, sheets["Scenarios"][1], sheets["Scenarios"][2], sheets["Scenarios"][4],
                           sheets["Scenarios"][3]]
    data, issues, _ = applied(tmp_path, sheets, "x")
    assert data is not None, [str(i) for i in issues]
    assert float(data.sites.at["T", "pue"]) == pytest.approx(1.3)


def test_a_quarter_an_add_row_adds_outside_the_horizon_is_warned_at_its_scenarios_cell(tmp_path):
    """The new site's SitePower row over 2026Q1:2026Q3 on a 2-quarter plan: 2026Q3 is ignored, with the warning at
    the Scenarios cell whose range added it (the sheet has no such header cell). The plan is the new_site one of
    test_add_a_site_with_its_power."""
    sheets = minimal_sheets(2)
    sheets["Scenarios"] = [HEADER,
                           ["new_site", "Sites", "T", "region", "add_row", "NA"],
                           ["new_site", "Sites", "T", "pue", "add_row", 1],
                           ["new_site", "Sites", "T", "power_price_usd_per_mwh", "add_row", 0],
                           ["new_site", "SitePower", "T", "2026Q1:2026Q3", "add_row", 1]]
    data, issues, _ = applied(tmp_path, sheets, "new_site")
    assert data is not None
    [warning] = [w for w in issues.warnings if "outside the plan horizon" in w.message]
    assert warning.cell == "Scenarios!D5" and warning.value == "2026Q3"
