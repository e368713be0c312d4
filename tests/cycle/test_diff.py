"""planner diff OLD.xlsx NEW.xlsx: exactly the changed decisions, ranked by cost, with the inputs behind them.

Pair 1 (tests/test_roll.py's hand-checked plan, $470, against the same workbook with the 2026Q4 demand cut from
3,000 to 2,000 tok/s): rack C (2026Q4) and its wafer (2026Q2) are no longer needed, and P funds $1,000 less
in 2026Q4. By hand the new plan costs wafers 50 + financing 20 + fee 200 + power (2+1+2+2) x 10 + holding 10
= $350. Cost impact at input prices: rack -$1,000 (rack_capex_usd), wafer -$100, funding -$1,000 x 1% = -$10.

Pair 2 (tests/builders.py minimal_sheets(2): one wafer in 2026Q1 makes the one rack serving both quarters)
against FabCapacity 2026Q1 = 0.5: half a wafer and half a rack in 2026Q1 (a rack deployed in 2026Q2 would serve
one quarter only, $1,000 of demand for $1,100); fab capacity starts binding, one more wafer there being worth
$2,000 - $1,100 = $900.
"""

import pandas as pd
import pytest
from openpyxl import load_workbook

from planner.cli import main
from planner.cycle.diff import compare, diff, load_plan
from planner.cycle.roll import roll
from planner.cycle.freeze import FreezeEdit
from planner.pipeline import RunOptions, run_plan
from tests.builders import minimal_sheets
from tests.cycle.test_roll import planned, rolling_sheets


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("diff")
    _src, old = planned(folder, rolling_sheets(), "old")
    sheets = rolling_sheets()
    sheets["Demand"][1] = ["NA", "w", 2000, 1000, 2000, 2000]
    _src, new = planned(folder, sheets, "new")
    return folder, old, new


def decisions(result):
    return [(r.decision, r.key, r.detail, r.quarter, r.old, r.new) for r in result.decisions.itertuples()]


def test_lists_exactly_the_changed_decisions_ranked_by_cost(pair):
    _folder, old, new = pair
    result = compare(load_plan(old), load_plan(new))
    assert decisions(result) == [("racks", "S", "L1", "2026Q4", 1, 0), ("wafers", "F", "", "2026Q2", 1, 0),
                                 ("partner funding", "P", "", "2026Q4", 1000, 0)]
    assert result.decisions["cost_impact_usd"].tolist() == pytest.approx([-1000, -100, -10])
    assert result.decisions["rank"].tolist() == [1, 2, 3]
    changes = result.inputs[["sheet", "key", "column", "old", "new", "cell"]].values.tolist()
    assert changes == [["Demand", "NA/w", "2026Q4", 3000, 2000, "Demand!F2"]]
    assert all("Demand!F2" in text for text in result.decisions["input_changes"])
    assert not len(result.bottlenecks) and not len(result.outside)
    kpi = result.kpis.set_index("kpi")
    assert (kpi.at["objective_usd", "old"], kpi.at["objective_usd", "new"]) == (pytest.approx(470), pytest.approx(350))
    assert kpi.at["racks_deployed", "change"] == pytest.approx(-1)


def test_workbook_summary_first_in_plain_language(pair):
    folder, old, new = pair
    out = diff(old, new, folder / "diff.xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames == ["Summary", "KPIs", "Decisions", "Bottlenecks", "InputChanges", "OutsideOverlap"]
    lines = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert lines["headline"].startswith("The new plan costs $120 less")
    assert lines["decisions"].startswith("3 decision(s) changed")
    assert lines["decision_1"].startswith("L1 racks deployed at S in 2026Q4: 1 → 0")
    assert "Demand NA/w 2026Q4: 3,000 → 2,000 (Demand!F2)" == lines["input_1"]
    header = [c.value for c in wb["Decisions"][1]]
    assert header[:8] == ["rank", "decision", "key", "detail", "quarter", "old", "new", "change"]
    assert wb["Decisions"].max_row == 4


def test_identical_plans_have_no_changes(pair):
    _folder, old, _new = pair
    result = compare(load_plan(old), load_plan(old))
    assert not len(result.decisions) and not len(result.inputs) and not len(result.bottlenecks)
    assert dict((k, v) for k, v, _n in result.summary)["decisions"] == "No decision changed."


def test_limits_that_start_and_stop_binding(tmp_path):
    _src, old = planned(tmp_path, minimal_sheets(2), "base")
    sheets = minimal_sheets(2)
    sheets["FabCapacity"][1] = ["F", 0.5, 1000]
    _src, new = planned(tmp_path, sheets, "cut")
    result = compare(load_plan(old), load_plan(new))
    assert decisions(result) == [("racks", "S", "L1", "2026Q1", 1, 0.5), ("wafers", "F", "", "2026Q1", 1, 0.5)]
    [b] = result.bottlenecks.itertuples()
    assert (b.change, b.family, b.key, b.quarter, b.input_cell) == ("started binding", "fab_capacity", "F", "2026Q1",
                                                                   "FabCapacity!B2")
    assert b.input_change == "FabCapacity F 2026Q1: 1,000 → 0.5 (FabCapacity!B2)"
    assert b.new_shadow_price == pytest.approx(900)
    back = compare(load_plan(new), load_plan(old))
    assert back.bottlenecks["change"].tolist() == ["stopped binding"]


def rolled_and_replanned(tmp_path):
    """The $470 plan against its re-plan after a roll (2026Q2..2027Q1), 2026Q4 demand cut to 2,000 and the first
    two quarters frozen to the old plan: the diff of the two."""
    source, old = planned(tmp_path, rolling_sheets())
    nxt = roll(old, source, tmp_path / "next.xlsx")
    wb = load_workbook(nxt)
    wb["Demand"]["E2"] = 2000
    wb.save(nxt)
    new = tmp_path / "replan.xlsx"
    assert run_plan(nxt, new, RunOptions(model_edits=[FreezeEdit(old, 2)])).status == "optimal"
    return compare(load_plan(old), load_plan(new))


def test_rolled_plans_compare_on_shared_quarters(tmp_path):
    """The $470 plan against its frozen re-plan after a roll (2026Q2..2027Q1, 2026Q4 demand cut to 2,000):
    in the shared quarters only rack C moved out of 2026Q4 (to 2027Q1, outside the old horizon)."""
    result = rolled_and_replanned(tmp_path)
    assert decisions(result) == [("racks", "S", "L1", "2026Q4", 1, 0), ("partner funding", "P", "", "2026Q4", 1000, 0)]
    outside = {(r.plan, r.decision, r.quarter) for r in result.outside.itertuples()}
    assert ("old only", "wafers", "2026Q1") in outside and ("new only", "racks", "2027Q1") in outside
    lines = dict((k, v) for k, v, _n in result.summary)
    assert "3 shared quarter(s) 2026Q2..2026Q4" in lines["horizon"]
    changed = set(zip(result.inputs["sheet"], result.inputs["column"]))
    assert ("Demand", "2026Q4") in changed and ("Products", "initial_chip_inventory") in changed
    assert ("Demand", "2026Q1") not in changed and ("Demand", "2027Q1") not in changed


def test_cli(pair, capsys):
    folder, old, new = pair
    out = folder / "cli.diff.xlsx"
    assert main(["-q", "diff", str(old), str(new), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 decision(s) changed" in printed and f"wrote {out}" in printed
    assert main(["-q", "diff", str(old), str(folder / "missing.xlsx"), "-o", str(folder / "x.xlsx")]) == 2
    assert main(["-q", "diff", str(old), str(new), "-o", str(new)]) == 2  # never overwrites a plan it reads (issue 17: exit 2)


def test_plans_of_different_horizons_compare_on_the_quarters_both_cover(tmp_path):
    """2026Q1..2026Q3 (1,000 tok/s a quarter: one rack, $1,100, in 2026Q1) against 2026Q2..2026Q4 (2,000 tok/s:
    two racks in 2026Q2). The headline compares 2026Q2..2026Q3 only: capex $0 -> $2,000, racks 0 -> 2; the
    objectives cover different horizons and are not compared as a cost change."""
    _src, old = planned(tmp_path, minimal_sheets(3), "q1")
    sheets = minimal_sheets(3, start="2026Q2")
    sheets["Demand"][1] = ["NA", "w", 2000, 2000, 2000]
    _src, new = planned(tmp_path, sheets, "q2")
    result = compare(load_plan(old), load_plan(new))
    lines = dict((k, v) for k, v, _n in result.summary)
    headline = lines["headline"]
    assert headline.startswith("On the 2 quarter(s) both plans cover (2026Q2..2026Q3): capex $0 → $2,000")
    assert "racks deployed 0 → 2" in headline and "not compared" in headline and "costs $" not in headline
    assert "2 shared quarter(s) 2026Q2..2026Q3" in lines["horizon"]
    kpi = result.kpis.set_index("kpi")
    assert kpi.at["capex_usd in 2026Q2..2026Q3", "new"] == pytest.approx(2000)
    assert "e+" not in " ".join(str(v) for _k, v, _n in result.summary)


def test_roll_carry_overs_are_shown_as_such(tmp_path):
    result = rolled_and_replanned(tmp_path)
    cause = {(r.sheet, r.column): r.cause for r in result.inputs.itertuples()}
    assert cause[("Products", "initial_chip_inventory")] == "roll carry-over"
    assert cause[("Demand", "2026Q4")] == "input edit"
    lines = dict((k, v) for k, v, _n in result.summary)
    assert "of the kind a roll rewrites by itself" in lines["inputs"]
    assert lines["input_1"].startswith("Demand NA/w 2026Q4")  # the edit first, carry-overs after
    for text in result.decisions["input_changes"]:
        edits = text.split("; ")
        assert "carried over" not in edits[0]


def test_a_frozen_quarters_limits_are_not_compared(tmp_path):
    """The frozen re-plan above froze 2026Q2..2026Q3: its Summary says so, and the diff compares no limit of those
    quarters (their decisions are fixed, so the re-plan prices nothing there) and says why."""
    result = rolled_and_replanned(tmp_path)
    frozen = {"2026Q2", "2026Q3"}
    assert not set(result.bottlenecks["quarter"]) & frozen
    lines = dict((k, v) for k, v, _n in result.summary)
    assert lines["limits_frozen"].startswith("Limits of 2026Q2, 2026Q3 are not compared")
    assert "frozen_quarters" not in set(result.kpis["kpi"])


def test_the_diff_workbook_reads_as_numbers_and_says_when_nothing_changed(pair, tmp_path):
    """KPIs: each row's numbers in its own unit (objective in whole USD, service level in %), a KPI only one plan
    has still a number; an empty table says so under its header instead of a bare header row."""
    from openpyxl import load_workbook

    from planner.cycle.diff import diff

    folder, old, _new = pair
    out = diff(old, old, tmp_path / "same.diff.xlsx")
    wb = load_workbook(out)
    kpis = {r[0].value: r for r in wb["KPIs"].iter_rows(min_row=2)}
    assert kpis["objective_usd"][1].number_format.startswith("#,##0") and "." not in kpis["objective_usd"][1].number_format.split(";")[0]
    assert "%" in kpis["service_level"][1].number_format
    assert wb["Decisions"]["A2"].value == "No decision changed in the quarters both plans cover."
    assert wb["Bottlenecks"]["A2"].value == "No limit started or stopped binding."
    from planner.cycle.diff import _number_or_text

    assert _number_or_text("4.864659786107949e-11") == pytest.approx(4.864659786107949e-11)
    assert _number_or_text("optimal") == "optimal" and _number_or_text(None) is None


@pytest.mark.parametrize("value,words", [("lots", "is not a number"), (-3, "is negative")])
def test_a_hand_edited_plan_is_refused_at_its_cell_not_diffed(pair, capsys, value, words):
    """old's Wafers!D2 edited to 'lots' (read as 0) or -3: a diff would report the edit as a decision change
    ('-3 -> 1 wafers, about $400'); it names the cell instead, as roll and --freeze do (exit 2, nothing written)."""
    folder, old, new = pair
    wb = load_workbook(old)
    ws = wb["Wafers"]
    ws.cell(2, [c.value for c in ws[1]].index("wafers") + 1, value)
    edited = folder / f"edited_{value}.xlsx"
    wb.save(edited)
    out = folder / f"edited_{value}.diff.xlsx"
    assert main(["-q", "diff", str(edited), str(new), "-o", str(out)]) == 2 and not out.exists()
    err = capsys.readouterr().err
    assert f"edited_{value}.xlsx Wafers!D2: wafers" in err and words in err


def test_the_rolls_new_plan_name_is_a_carry_over_not_an_edit():
    """roll renames a plan named after its horizon ('Plan 2026Q1-2026Q4' -> 'Plan 2026Q2-2027Q1'): diffing the plans
    of a roll, that Settings change is the roll's own, not '1 edited'; in plans of one start it is an edit."""
    from pathlib import Path

    from planner.cycle.diff import ROLL_CAUSE, carry_over
    from planner.output.plan_reader import Plan

    old = Plan(Path("a.xlsx"), {}, quarters=["2026Q1", "2026Q2"])
    rolled = Plan(Path("b.xlsx"), {}, quarters=["2026Q2", "2026Q3"])
    assert carry_over("Settings", "value", old, rolled, "plan_name") == ROLL_CAUSE
    assert carry_over("Settings", "value", old, old, "plan_name") == "input edit"


def test_a_workbook_another_command_wrote_is_refused_by_its_kind(pair, tmp_path, capsys):
    """A sweep, comparison or diff workbook given where a plan is expected: one error naming what it is (the
    sweep's Summary has no status: it used to read as 'a diagnosis' with status 'None', and diff went on)."""
    from openpyxl import Workbook

    folder, old, _new = pair
    books = {"sweep": ["Summary", "Charts", "Distribution", "Histogram", "Binding", "Factors", "Draws"],
             "compare": ["Compare", "Charts", "CompareByQuarter", "Moves", "Overrides"]}
    for kind, titles in books.items():
        wb = Workbook()
        wb.active.title = titles[0]
        wb.active.append(["key", "value", "note"])
        wb.active.append(["draws", 4, ""])
        for t in titles[1:]:
            wb.create_sheet(t)
        wb.save(tmp_path / f"{kind}.xlsx")
    made = diff(old, old, tmp_path / "d.xlsx")
    for other, words in (("sweep.xlsx", "a sweep workbook (planner sweep)"),
                         ("compare.xlsx", "a comparison workbook (planner compare)"),
                         (made.name, "a diff workbook (planner diff)")):
        for argv in (["diff", str(tmp_path / other), str(old), "-o", str(tmp_path / "x.xlsx")],
                     ["roll", str(tmp_path / other), str(folder / "old.in.xlsx"), "-o", str(tmp_path / "next.xlsx")]):
            assert main(["-q", *argv]) == 2
            err = capsys.readouterr().err
            assert f"{other} is {words}, not a plan workbook" in err and "None" not in err
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "next.xlsx").exists()


def test_headline_numbers_say_small_changes_plainly():
    """A 0.02% change keeps its digits, float noise is no change, and a cost change inside the plans' MIP gap
    says so (a what-if as large as the gap is not a finding)."""
    from pathlib import Path

    from planner.cycle.diff import _kpi_row, _objective_headline, share_text
    from planner.output.plan_reader import Plan

    assert share_text(0.0001863) == "(+0.019%)" and share_text(-0.012) == "(-1.2%)"
    assert share_text(1e-7) == "(+<0.001%)"
    noise = _kpi_row("capex_usd", 2_425_195_000.0, 2_425_195_000.0 - 2.38e-06)
    assert (noise["change"], noise["changed"]) == (0.0, False)
    small = _kpi_row("objective_usd", 2_400_000_000.0, 2_400_002_000.0)  # within diff's TOL, but no noise
    assert (small["change"], small["changed"]) == (2000.0, False)

    def plan(name, objective, gap, status="feasible"):
        return Plan(Path(name), {}, {"objective_usd": objective, "mip_gap": gap, "status": status})

    inside = _objective_headline(plan("a.xlsx", 1_085_610_001, 0.0024), plan("b.xlsx", 1_085_812_212, 0.0024))
    assert "costs $202,211 more (+0.019%)" in inside
    assert "within the plans' MIP gap ($2,605,949)" in inside  # 0.24% of $1,085,812,212
    beyond = _objective_headline(plan("a.xlsx", 1_085_610_001, 0.0024), plan("b.xlsx", 1_095_016_663, 0.0024))
    assert "MIP gap" not in beyond and "(+0.87%)" not in beyond and "(+0.9%)" in beyond
    none = _objective_headline(plan("a.xlsx", 1_085_610_001, 0.0024), plan("inf.xlsx", None, None, "infeasible"))
    assert "$1,085,610,001 → none (inf.xlsx has no plan: status infeasible)" in none


def test_a_plan_given_as_the_input_is_named_as_a_plan(pair, tmp_path, capsys):
    """planner roll INPUT PLAN (swapped) or planner validate PLAN: one error saying it is a plan workbook, not the
    48 missing-sheet errors of an input workbook."""
    folder, old, _new = pair
    assert main(["-q", "roll", str(folder / "old.in.xlsx"), str(old), "-o", str(tmp_path / "next.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "old.xlsx is a plan workbook (planner run), not an input workbook" in err
    assert "takes PLAN.xlsx first, then INPUT.xlsx" in err and "required sheet" not in err
    assert main(["-q", "validate", str(old)]) == 2
    said = capsys.readouterr()
    assert "old.xlsx is a plan workbook (planner run)" in said.out + said.err and "1 error(s)" in said.out + said.err


def test_a_priced_limit_with_a_little_slack_still_binds_for_diff():
    """Whole racks leave half a wafer (or $63k of a $99M budget) unused while the limit is still priced at $45k a
    wafer: diff called that 'stopped binding' at an unchanged price. A limit binds when at its limit or priced."""
    from planner.cycle.diff import _binds

    assert _binds({"binding": False, "shadow_price": 45_156.48})
    assert _binds({"binding": True, "shadow_price": 0.0})
    assert not _binds({"binding": False, "shadow_price": 0.0})
    assert not _binds({})


def test_the_kpis_of_the_shared_quarters_are_in_their_units(tmp_path):
    """'service_level in 2026Q2..2026Q4' was written under #,##0.### (0.954, not 95.4%) and every change_share
    under 0.0% (a +0.019% change read 0.0%)."""
    from planner.cycle.diff import write_diff

    result = rolled_and_replanned(tmp_path)
    out = write_diff(result, tmp_path / "diff.xlsx", tmp_path / "plan.xlsx")
    ws = load_workbook(out)["KPIs"]
    header = [c.value for c in ws[1]]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    shared = next(k for k in rows if str(k).startswith("service_level in "))
    assert rows[shared][header.index("old")].number_format.endswith("%")
    assert rows["objective_usd"][header.index("change_share")].number_format == "+0.0##%;-0.0##%;0.0%"


def _hbm_sheets(penalty, demand=2000, floor=None):
    """test_hbm_take_or_pay's case: a rack = 10 chips = 1 wafer ($100) + 10 stacks from V ($10 each) + $1,000
    capex and serves 1,000 tok/s; unmet demand costs `penalty` per tok/s."""
    from tests.model.test_hbm_take_or_pay import _sheets
    from tests.model.helpers import Q, set_row
    sheets = _sheets()
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=penalty)
    sheets["Demand"][1] = ["NA", "w", demand]
    if floor is not None:
        sheets["HBMMinStacks"] = [["vendor", Q[0]], ["V", floor]]
    return sheets


def test_hbm_bought_and_paid_alike_is_one_decision_counted_once(tmp_path):
    """No floor: paid = bought in both plans. At $1.15 per tok/s a rack ($1,200) does not pay; at $1.25 both
    racks do (2 x 10 stacks). The diff lists the stacks once, at $10 each: +20 stacks, +$200 (it listed a
    'paid' row too, counting the $200 twice)."""
    _s, old = planned(tmp_path, _hbm_sheets(1.15), "old")
    _s, new = planned(tmp_path, _hbm_sheets(1.25), "new")
    result = compare(load_plan(old), load_plan(new))
    hbm = result.decisions[result.decisions["decision"].str.startswith("hbm")]
    assert hbm[["decision", "key", "old", "new", "cost_impact_usd"]].values.tolist() == \
        [["hbm", "V", 0, 20, pytest.approx(200)]]


def test_stacks_bought_under_a_floor_move_no_money(tmp_path):
    """Floor 10 stacks: the old plan builds one rack (its 10 stacks are the floor's, test_hbm_take_or_pay), the
    new one, with no demand, builds none: bought 10 -> 0, paid 10 -> 10. The bought row has no cost impact
    (the money is on stacks paid, which did not move); the rack's -$1,000 is the only money."""
    _s, old = planned(tmp_path, _hbm_sheets(1.15, floor=10), "old")
    _s, new = planned(tmp_path, _hbm_sheets(1.15, demand=0, floor=10), "new")
    result = compare(load_plan(old), load_plan(new))
    rows = {r.decision: r for r in result.decisions.itertuples()}
    assert (rows["hbm"].old, rows["hbm"].new) == (10, 0) and "hbm paid" not in rows
    assert pd.isna(rows["hbm"].cost_impact_usd) and "stacks paid" in rows["hbm"].price_from
    assert rows["racks"].cost_impact_usd == pytest.approx(-1000)


def test_two_plans_of_the_same_file_name_are_named_by_their_paths(pair, tmp_path):
    """diff a/p.xlsx b/p.xlsx named both 'p.xlsx' (which was not proven optimal?): each is named by its path."""
    import shutil
    _folder, old, new = pair
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = shutil.copy(old, tmp_path / "a" / "p.xlsx"), shutil.copy(new, tmp_path / "b" / "p.xlsx")
    out = diff(a, b, tmp_path / "d.xlsx")
    summary = {r[0]: r[1] for r in load_workbook(out)["Summary"].iter_rows(values_only=True)}
    assert (summary["old_plan"], summary["new_plan"]) == (str(a), str(b))
