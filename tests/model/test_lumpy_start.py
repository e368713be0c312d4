"""A MIP with blocks and whole racks starts from its lumpy-first plan (models/solve.py::lumpy_first_start): two
stages, then the full MIP, at the same optimum; above LUMPY_FIRST_MAX_COLUMNS columns stage (1) is an LP dive
(a MIP's root LP by simplex is longer than a stage's cap on bench's MIP-M)."""

import numpy as np
import pytest

from models import solve as msolve
from models.sets import USD_PER_OBJ
from tests.builders import solve_sheets
from tests.model.helpers import set_row
from tests.model.test_site_power import _sheets


def _solved_with_stages(tmp_path, monkeypatch, settings: dict | None = None, sheets_edit=None, **solve_options):
    """The site-power case with whole racks (and `settings`, and `sheets_edit` applied), solved; the label of
    each HiGHS run, in order."""
    labels = []
    run = msolve.run_with_progress
    monkeypatch.setattr(msolve, "run_with_progress",
                        lambda h, is_mip, label="solve", **kw: labels.append(label) or run(h, is_mip, label, **kw))
    sheets = _sheets(1)
    if sheets_edit is not None:
        sheets_edit(sheets)
    for key, value in {"integer_racks": True, **(settings or {})}.items():
        set_row(sheets, "Settings", key, value=value)
    return solve_sheets(tmp_path, sheets, **solve_options), labels


def test_blocks_and_whole_racks_start_from_the_lumpy_first_plan(tmp_path, monkeypatch):
    """The site-power case of test_site_power (one block started in Q1, racks 2, 0, 1: $8,600) with whole racks."""
    s, labels = _solved_with_stages(tmp_path, monkeypatch)
    assert labels == ["start 1/2", "start 2/2", "solve"]
    assert s.result.status == "optimal" and s.objective == pytest.approx(8600, rel=1e-6)
    assert "lumpy-first" in s.result.algorithm


def test_a_window_with_no_plan_in_it_falls_back_to_stage_2_without_a_window(tmp_path, monkeypatch):
    """Stage (2) searches whole racks near stage (1)'s continuous racks (RACK_WINDOW_NOTE). A window far from
    every plan (racks 1,000 above the relaxed ones: no power for them) holds none, so stage (2) runs again on
    all racks; the optimum is the MIP's own ($8,600)."""
    monkeypatch.setattr(msolve, "RACK_WINDOW", -1000)
    s, labels = _solved_with_stages(tmp_path, monkeypatch)
    assert labels == ["start 1/2", "start 2/2", "start 2/2", "solve"]
    assert s.result.status == "optimal" and s.objective == pytest.approx(8600, rel=1e-6)
    assert "lumpy-first" in s.result.algorithm


def test_only_racks_are_kept_in_the_window_integer_wafers_stay_free(tmp_path, monkeypatch):
    """With integer wafers too, stage (2)'s window bounds the rack columns (Y) only (RACK_WINDOW_NOTE); the
    optimum is the MIP's own ($8,600: the case's wafers are whole at its optimum)."""
    windows = []
    stage = msolve._racks_stage

    def spy(form, options, lumpy, relaxed, started, window):
        windows.append(None if window is None else {form.columns[j].parent_component().local_name for j in window})
        return stage(form, options, lumpy, relaxed, started, window)

    monkeypatch.setattr(msolve, "_racks_stage", spy)
    s, labels = _solved_with_stages(tmp_path, monkeypatch, {"integer_wafers": True})
    form = s.result.form
    assert {form.columns[j].parent_component().local_name for j in form.integer_columns} >= {"W", "Y", "E"}
    assert labels == ["start 1/2", "start 2/2", "solve"] and windows == [{"Y"}]
    assert s.result.status == "optimal" and s.objective == pytest.approx(8600, rel=1e-6)


def test_a_large_mip_starts_from_an_lp_dive_on_its_blocks(tmp_path, monkeypatch):
    """Above LUMPY_FIRST_MAX_COLUMNS (here 0) stage (1) is an LP dive, not a MIP (LARGE_START_NOTE). The case
    above with 3,400 tok/s in Q3 and two blocks allowed: the LP relaxation serves Q3 with 3.4 racks on 1.4 blocks
    started in Q1, 3.4 x $1,100 + 1.4 x $300 = $4,160 (its bound). The dive fixes the blocks at the whole number
    nearest 1.4, one; that LP has 3 racks in Q3 and 400 tok/s unmet: 3 x 1,100 + 300 + 400 x $5 = $5,600. Its
    racks are whole already, so the rack dive (RACK_DIVE_NOTE) has nothing to round and that plan is the start;
    the full MIP then finds the optimum the dive missed, two blocks and 4 racks: 4 x 1,100 + 2 x 300 = $5,000
    (the start changes where the search begins, never the optimum)."""
    monkeypatch.setattr(msolve, "LUMPY_FIRST_MAX_COLUMNS", 0)
    dives = []
    dive = msolve._lumpy_dive
    monkeypatch.setattr(msolve, "_lumpy_dive", lambda *a: dives.append(dive(*a)) or dives[-1])
    s, labels = _solved_with_stages(tmp_path, monkeypatch, {}, sheets_edit=_q3_demand_3400)
    (relaxed, bound), = dives
    form = s.result.form
    blocks = [j for j, v in enumerate(form.columns) if v.parent_component().local_name == "E"]
    assert bound * USD_PER_OBJ == pytest.approx(4160, rel=1e-6)  # the model counts $k
    assert [round(relaxed[j], 9) for j in blocks] == [1, 0, 0]
    assert labels == ["start 1/2", "start 1/2", "solve"]  # the LP, one re-solve, the MIP
    assert s.result.status == "optimal" and s.objective == pytest.approx(5000, rel=1e-6)
    assert s.value("E", "S", 0) == pytest.approx(2) and s.value("Y", "L1", "S", 2) == pytest.approx(2)
    assert "lumpy-first" in s.result.algorithm


def test_a_large_mip_rounds_its_racks_quarter_by_quarter_in_a_second_dive(tmp_path, monkeypatch):
    """Above LUMPY_FIRST_MAX_COLUMNS, with racks the only other integers, stage (2) is a dive on the racks too
    (RACK_DIVE_NOTE). The case above with 1,400 tok/s in Q1 and energy at $30 per rack and quarter (0.015 MW x
    1,000 h x $2/MWh). The relaxation: racks 1.4, 2, 3.4 installed, 1.4 blocks: 3.4 x 1,100 + 1.4 x 300 + 6.8 x
    30 = $4,364. The lumpy dive fixes one block: racks 1.4, 2, 3 and 400 tok/s unmet in Q3, $5,792. The rack dive
    fixes Q1's 1.4 racks at the nearest whole number, one; that LP serves Q2 with one more and Q3 with a third
    (the power of one block), all whole: 3 x 1,100 + 300 + (1 + 2 + 3) x 30 + 400 x $5 in Q1 and again in Q3 =
    $7,780, the full MIP's start. Its optimum deploys two racks in Q1 (the second is needed in Q2 anyway: $30 of
    energy against $2,000 unmet) and two blocks for a fourth rack in Q3 ($1,430 against $2,000):
    4 x 1,100 + 2 x 300 + (2 + 2 + 4) x 30 = $5,240."""
    monkeypatch.setattr(msolve, "LUMPY_FIRST_MAX_COLUMNS", 0)
    plans = []
    dive = msolve._rack_dive
    monkeypatch.setattr(msolve, "_rack_dive", lambda *a: plans.append(dive(*a)) or plans[-1])

    s, labels = _solved_with_stages(tmp_path, monkeypatch, {}, sheets_edit=_q1_demand_1400_and_energy)
    (whole,) = plans
    form = s.result.form
    racks = {form.columns[j].index(): round(whole[j], 9) for j in range(len(whole))
             if form.columns[j].parent_component().local_name == "Y"}
    assert racks == {("L1", "S", 0): 1, ("L1", "S", 1): 1, ("L1", "S", 2): 1}
    assert _plan_cost(form, whole) == pytest.approx(7780, rel=1e-6)
    assert labels == ["start 1/2", "start 1/2", "start 2/2", "solve"]  # LP, block re-solve, Q1's racks, the MIP
    assert s.result.status == "optimal" and s.objective == pytest.approx(5240, rel=1e-6)
    assert s.value("Y", "L1", "S", 0) == pytest.approx(2) and s.value("E", "S", 0) == pytest.approx(2)


def test_a_rack_nearer_the_whole_number_above_is_rounded_up(tmp_path, monkeypatch):
    """As above with 1,600 tok/s in Q1: the LP deploys 1.6 racks there, the dive fixes two (the nearest whole
    number, not the floor; power for two), and the LP needs none in Q2 and one in Q3: racks 2, 0, 1, installed
    2, 2, 3, 400 tok/s unmet in Q3: 3 x 1,100 + 300 + (2 + 2 + 3) x 30 + 400 x $5 = $5,810. The optimum is
    the case's own ($5,240)."""
    monkeypatch.setattr(msolve, "LUMPY_FIRST_MAX_COLUMNS", 0)
    plans = []
    dive = msolve._rack_dive
    monkeypatch.setattr(msolve, "_rack_dive", lambda *a: plans.append(dive(*a)) or plans[-1])

    def edit(sheets):
        _q1_demand_1400_and_energy(sheets)
        sheets["Demand"][1] = ["NA", "w", 1600, 2000, 3400]

    s, _labels = _solved_with_stages(tmp_path, monkeypatch, {}, sheets_edit=edit)
    form = s.result.form
    racks = {form.columns[j].index(): round(plans[0][j], 9) for j in range(len(plans[0]))
             if form.columns[j].parent_component().local_name == "Y"}
    assert racks == {("L1", "S", 0): 2, ("L1", "S", 1): 0, ("L1", "S", 2): 1}
    assert _plan_cost(form, plans[0]) == pytest.approx(5810, rel=1e-6)
    assert s.result.status == "optimal" and s.objective == pytest.approx(5240, rel=1e-6)


def _q1_demand_1400_and_energy(sheets):
    _q3_demand_3400(sheets)
    sheets["Demand"][1] = ["NA", "w", 1400, 2000, 3400]
    sheets["Sites"][1] = ["S", "NA", 1.5, 2]
    set_row(sheets, "Settings", "hours_per_quarter", value=1000)


def _plan_cost(form, x) -> float:
    return float(np.dot(form.lp.col_cost_, x) + form.offset) * USD_PER_OBJ


def test_a_rack_dive_out_of_time_floors_the_running_totals_of_the_racks_left(tmp_path, monkeypatch):
    """The rack dive's deadline comes before Q1's racks are whole (here: at once): in one re-solve each quarter's
    racks bring the running total to the floor of the lumpy dive's LP, racks deployed 1.4, 0.6, 1 (totals 1.4, 2,
    3) -> 1, 1, 1: the dive's own plan, $7,780. Each column at its floor instead would deploy 1, 0, 1 (1, 1, 2
    installed, 2,800 tok/s unmet: 2 x 1,100 + 300 + (1 + 1 + 2) x 30 + 2,800 x $5 = $16,620). The full MIP still
    finds its optimum ($5,240)."""
    monkeypatch.setattr(msolve, "LUMPY_FIRST_MAX_COLUMNS", 0)
    plans = []
    dive = msolve._rack_dive

    def out_of_time(form, lumpy, racks, lp):
        lp.deadline = 0.0
        plans.append(dive(form, lumpy, racks, lp))
        return plans[-1]

    monkeypatch.setattr(msolve, "_rack_dive", out_of_time)
    s, labels = _solved_with_stages(tmp_path, monkeypatch, {}, sheets_edit=_q1_demand_1400_and_energy)
    assert _plan_cost(s.result.form, plans[0]) == pytest.approx(7780, rel=1e-6)
    assert labels == ["start 1/2", "start 1/2", "start 2/2", "solve"]
    assert s.result.status == "optimal" and s.objective == pytest.approx(5240, rel=1e-6)


def test_out_of_time_with_no_room_for_the_running_totals_each_rack_is_floored(tmp_path, monkeypatch):
    """As above, with an own-capex budget of $600 in Q2 (the LP's 0.6 racks there): the running totals' one rack
    in Q2 costs $1,000, so that LP is infeasible and each column goes to its floor, 1, 0, 1: $16,620. The MIP's
    optimum deploys nothing in Q2 and is unchanged ($5,240)."""
    monkeypatch.setattr(msolve, "LUMPY_FIRST_MAX_COLUMNS", 0)
    plans, statuses = [], []
    dive = msolve._rack_dive

    def out_of_time(form, lumpy, racks, lp):
        lp.deadline = 0.0
        resolve = lp.resolve
        lp.resolve = lambda *a, **kw: statuses.append(resolve(*a, **kw)) or statuses[-1]
        plans.append(dive(form, lumpy, racks, lp))
        return plans[-1]

    def edit(sheets):
        _q1_demand_1400_and_energy(sheets)
        sheets["Budget"][1] = ["own_capex_usd", 1e9, 600, 1e9]

    monkeypatch.setattr(msolve, "_rack_dive", out_of_time)
    s, _labels = _solved_with_stages(tmp_path, monkeypatch, {}, sheets_edit=edit)
    assert statuses == [msolve.highspy.HighsModelStatus.kInfeasible, msolve.highspy.HighsModelStatus.kOptimal]
    assert _plan_cost(s.result.form, plans[0]) == pytest.approx(16620, rel=1e-6)
    assert s.result.status == "optimal" and s.objective == pytest.approx(5240, rel=1e-6)


def test_ctrl_c_during_the_rack_dive_still_gets_a_whole_plan(tmp_path, monkeypatch):
    """Ctrl-C in the rack dive's first re-solve (Q1's racks fixed at one): the whole plan comes from that LP,
    racks 1, 1, 1 ($7,780, the dive's own plan here), in a re-solve that ignores the press; no window stage."""
    monkeypatch.setattr(msolve, "LUMPY_FIRST_MAX_COLUMNS", 0)
    stages, plans = [], []
    _ctrl_c_after_the_run(monkeypatch, lambda labels: labels.count("start 2/2") == 1 and labels[-1] == "start 2/2")
    _spy_on_the_plans_after_ctrl_c(monkeypatch, stages, plans)
    s, _labels = _solved_with_stages(tmp_path, monkeypatch, {}, sheets_edit=_q1_demand_1400_and_energy)
    assert stages == [] and [_plan_cost(s.result.form, x) for x in plans] == [pytest.approx(7780, rel=1e-6)]
    assert s.result.has_solution and "lumpy-first" in s.result.algorithm


def test_ctrl_c_between_the_rack_dives_re_solves_is_not_lost(tmp_path, monkeypatch):
    """Ctrl-C pressed while the dive is in Python between two re-solves (planner/signals.py counts it, as the
    whole start keeps RUN.running: ctrl_c_asks_to_stop; without it the press raises KeyboardInterrupt and nothing
    is written) stops the dive at its next re-solve, and the interrupted stage (2) finds a whole plan from the
    lumpy dive's LP (blocks 1, racks 1.4, 0.6, 1: running totals floored 1, 1, 1, $7,780), as after a press
    inside a run; the full MIP then stops at once and keeps it."""
    monkeypatch.setattr(msolve, "LUMPY_FIRST_MAX_COLUMNS", 0)
    seen, stages, plans = [], [], []
    dive = msolve._rack_dive

    def pressed_before_the_first_resolve(form, lumpy, racks, lp):
        seen.append(msolve.RUN.running)
        monkeypatch.setattr(msolve.RUN, "should_stop", lambda: True)
        return dive(form, lumpy, racks, lp)

    _spy_on_the_plans_after_ctrl_c(monkeypatch, stages, plans)
    monkeypatch.setattr(msolve, "_rack_dive", pressed_before_the_first_resolve)
    s, _labels = _solved_with_stages(tmp_path, monkeypatch, {}, sheets_edit=_q1_demand_1400_and_energy)
    assert seen == [True] and not msolve.RUN.running  # kept for the whole start, restored after
    assert stages == [] and [_plan_cost(s.result.form, x) for x in plans] == [pytest.approx(7780, rel=1e-6)]
    assert s.result.message.startswith("interrupted (Ctrl-C)")
    assert s.objective == pytest.approx(7780, rel=1e-6)  # the MIP stopped at once: the plan written is that one


def test_a_real_interrupt_of_a_rack_dive_re_solve_still_gets_the_whole_plan(tmp_path, monkeypatch):
    """Ctrl-C seen by HiGHS's own callback during the rack dive's first re-solve (that run ends 'Interrupted by
    user'): the whole plan's re-solve on the same LP runs without callbacks, since HiGHS 1.16 would stop it at its
    first one too (measured on MIP-M: no plan was written). The last LP solved to optimality is the lumpy dive's
    (racks 1.4, 0.6, 1): running totals floored, 1, 1, 1, $7,780."""
    monkeypatch.setattr(msolve, "LUMPY_FIRST_MAX_COLUMNS", 0)
    stages, plans, statuses = [], [], []
    run = msolve.run_with_progress

    def pressed_as_the_rack_dive_runs(h, is_mip, label="solve", **kw):
        if label == "start 2/2":
            monkeypatch.setattr(msolve.RUN, "should_stop", lambda: True)
        out = run(h, is_mip, label, **kw)
        statuses.append((label, h.getModelStatus()))
        return out

    _spy_on_the_plans_after_ctrl_c(monkeypatch, stages, plans)
    monkeypatch.setattr(msolve, "run_with_progress", pressed_as_the_rack_dive_runs)
    s, _labels = _solved_with_stages(tmp_path, monkeypatch, {}, sheets_edit=_q1_demand_1400_and_energy)
    assert ("start 2/2", msolve.highspy.HighsModelStatus.kInterrupt) in statuses
    assert stages == [] and [_plan_cost(s.result.form, x) for x in plans] == [pytest.approx(7780, rel=1e-6)]
    assert s.result.message.startswith("interrupted (Ctrl-C)") and s.objective == pytest.approx(7780, rel=1e-6)


def test_a_large_mip_with_integer_wafers_keeps_the_window_stage(tmp_path, monkeypatch):
    """The rack dive makes racks whole, not wafers: with integer wafers too, a large MIP's stage (2) is the window
    around the lumpy dive's racks, as on a small one; the optimum is the MIP's own ($5,000, the case above)."""
    monkeypatch.setattr(msolve, "LUMPY_FIRST_MAX_COLUMNS", 0)
    monkeypatch.setattr(msolve, "_rack_dive", lambda *a: pytest.fail("the rack dive ran"))
    s, labels = _solved_with_stages(tmp_path, monkeypatch, {"integer_wafers": True}, sheets_edit=_q3_demand_3400)
    assert labels == ["start 1/2", "start 1/2", "start 2/2", "solve"]  # LP, block re-solve, the window, the MIP
    assert s.result.status == "optimal" and s.objective == pytest.approx(5000, rel=1e-6)


def _q3_demand_3400(sheets):
    sheets["Demand"][1] = ["NA", "w", 2000, 2000, 3400]
    set_row(sheets, "SiteExpansion", "S", max_blocks=2)


@pytest.mark.parametrize("stages_find_a_plan, started_from", [(True, "lumpy-first plan"), (False, "given plan")])
def test_a_given_start_is_weighed_against_the_lumpy_first_plan(tmp_path, monkeypatch, stages_find_a_plan,
                                                              started_from):
    """`planner compare` hands each scenario the base plan as a start (weigh_start). The case above ($8,600) given a plan of no
    racks and no block (every tok/s unmet: dearer than the lumpy-first plan) starts from the lumpy-first plan;
    when the stages find no plan, from the given one. The optimum is the same either way (measured on the
    example's hbm_shortfall scenario in compare: 44 s to 0.50% from the base plan alone, 4.2 s to 0.39% now)."""
    import pyomo.environ as pyo

    s, _labels = _solved_with_stages(tmp_path, monkeypatch)
    if not stages_find_a_plan:
        monkeypatch.setattr(msolve, "lumpy_first_start", lambda form, options, since=None: (None, None, False))
    start = [(v, 0.0) for v in s.model.component_data_objects(pyo.Var) if v.is_integer()]
    result = msolve.solve(s.model, msolve.SolveOptions(mip_rel_gap=1e-9, weigh_start=True), start=start)
    assert result.status == "optimal" and result.objective * 1e3 == pytest.approx(8600, rel=1e-6)
    assert f"(started from the {started_from})" in result.algorithm


def test_a_given_start_without_weighing_goes_alone(tmp_path, monkeypatch):
    """--previous: the previous plan is the start, with no stages (a re-plan is within its gap at once)."""
    import pyomo.environ as pyo

    s, labels = _solved_with_stages(tmp_path, monkeypatch)
    labels.clear()
    start = [(v, float(v.value)) for v in s.model.component_data_objects(pyo.Var) if v.is_integer()]
    result = msolve.solve(s.model, msolve.SolveOptions(mip_rel_gap=1e-9), start=start)
    assert labels == ["solve"] and "(started from the given plan)" in result.algorithm
    assert result.status == "optimal" and result.objective * 1e3 == pytest.approx(8600, rel=1e-6)


@pytest.mark.parametrize("integer_wafers", [False, True])
def test_ctrl_c_during_the_dive_still_gets_a_whole_plan_from_what_it_has(tmp_path, monkeypatch, integer_wafers):
    """Ctrl-C during the dive's re-solve (one block fixed). With racks the only other integers, a whole plan
    comes from the last LP in one re-solve that ignores the press (_whole_after_ctrl_c): blocks at the nearest
    whole number, racks at the floors of their running totals, here the LP's own 2, 0, 1: 3 x 1,100 + 300 + 400 x
    $5 = $5,600. With integer wafers too, the dive returns the LP it had (1.4 blocks) and the interrupted stage
    (2) rounds it (one block) and looks, without a window, for a whole plan to keep (INTERRUPTED_START_S)."""
    monkeypatch.setattr(msolve, "LUMPY_FIRST_MAX_COLUMNS", 0)
    stages, plans = [], []
    _ctrl_c_after_the_run(monkeypatch, lambda labels: labels == ["start 1/2", "start 1/2"])
    _spy_on_the_plans_after_ctrl_c(monkeypatch, stages, plans)
    s, _labels = _solved_with_stages(tmp_path, monkeypatch, {"integer_wafers": integer_wafers},
                                     sheets_edit=_q3_demand_3400)
    if integer_wafers:
        assert stages == [(None, msolve.INTERRUPTED_START_S, [1.4, 0, 0])] and plans == []
    else:
        assert stages == [] and [_plan_cost(s.result.form, x) for x in plans] == [pytest.approx(5600, rel=1e-6)]
    assert s.result.has_solution and "lumpy-first" in s.result.algorithm


def _ctrl_c_after_the_run(monkeypatch, pressed) -> None:
    """Ctrl-C as the interrupt callback reports it (RUN.stopped) at the end of the HiGHS run after which
    `pressed(labels of the runs so far)` holds."""
    labels = []
    run = msolve.run_with_progress

    def run_then_maybe_press(h, is_mip, label="solve", **kw):
        labels.append(label)
        out = run(h, is_mip, label, **kw)
        if pressed(labels):
            msolve.RUN.stopped = True
        return out

    monkeypatch.setattr(msolve, "run_with_progress", run_then_maybe_press)


def _spy_on_the_plans_after_ctrl_c(monkeypatch, stages: list, plans: list) -> None:
    """Record the interrupted window stage's calls (window, time limit, lumpy values) in `stages` and the whole
    plans _whole_after_ctrl_c makes in `plans`."""
    stage, whole = msolve._racks_stage, msolve._whole_after_ctrl_c
    monkeypatch.setattr(msolve, "_racks_stage", lambda form, options, lumpy, relaxed, started, window: stages.append(
        (window, options.time_limit_s, [round(relaxed[j], 6) for j in lumpy])) or stage(
        form, options, lumpy, relaxed, started, window))
    monkeypatch.setattr(msolve, "_whole_after_ctrl_c", lambda *a: plans.append(whole(*a)) or plans[-1])


def test_the_dives_resolves_get_their_time_on_the_lps_running_clock(tmp_path, monkeypatch):
    """An LP's time_limit counts every run() of its Highs object (HiGHS 1.16): a re-solve given only 'what is
    left' stops at once when the clock already passed it (on MIP-M, once half the share has gone). Here the LP's
    clock is made to read 1,000 s more than it ran: the re-solve's limit is still past it, by what is left of
    the share (both dives': RACK_DIVE_SHARE of the 600 s default limit)."""
    monkeypatch.setattr(msolve, "LUMPY_FIRST_MAX_COLUMNS", 0)
    limits = []
    make = msolve._highs

    def clock_ahead(options, algorithm, is_mip):
        h = make(options, algorithm, is_mip)
        if is_mip:
            return h
        run_time, set_option = h.getRunTime, h.setOptionValue
        h.getRunTime = lambda: run_time() + 1000.0
        h.setOptionValue = lambda name, value: (limits.append(value) if name == "time_limit" else None,
                                                set_option(name, value))[1]
        return h

    monkeypatch.setattr(msolve, "_highs", clock_ahead)
    monkeypatch.setattr(msolve, "one_more_unit", lambda h, form, budget: {})  # its re-solves' limits come last
    s, labels = _solved_with_stages(tmp_path, monkeypatch, {}, sheets_edit=_q3_demand_3400)
    assert labels[:2] == ["start 1/2", "start 1/2"]
    resolve_limit = limits[-1]
    assert 1000.0 + 0.9 * msolve.RACK_DIVE_SHARE * 600 < resolve_limit <= 1000.0 + msolve.RACK_DIVE_SHARE * 600 + 1
    assert s.objective == pytest.approx(5000, rel=1e-6)


def test_the_rack_dives_progress_lines_say_how_far_it_is(tmp_path, monkeypatch):
    """A re-solve's own objective and iteration count say nothing about a dive of hundreds of them: the rack
    dive's progress lines say how many quarters' racks are whole and the LP's objective (here, in the one
    re-solve of the case above: none yet, $5,792 in $k)."""
    monkeypatch.setattr(msolve, "LUMPY_FIRST_MAX_COLUMNS", 0)
    monkeypatch.setattr(msolve, "PROGRESS_EVERY_S", 0.0)
    lines = []
    monkeypatch.setattr(msolve.RUN, "progress", lines.append)
    _solved_with_stages(tmp_path, monkeypatch, {}, sheets_edit=_q1_demand_1400_and_energy)
    dive = [line for line in lines if line.startswith("start 2/2")]
    assert dive and all(line.endswith("racks whole in 0 of 3 quarters, LP 5.79 ($k)") for line in dive)
