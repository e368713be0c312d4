"""What one more unit of a limit saves, re-solved (models.prices.one_more_unit), beside its shadow price: at a
degenerate optimum the price is the slope of one side only, and the Summary's sentence says the measured step."""

import pytest

from tests.builders import minimal_sheets, solve_sheets
from tests.model.helpers import set_row

from planner.output.summary import bottleneck_sentences


@pytest.mark.parametrize("integer_racks", [False, True])
def test_one_more_mw_in_a_quarter_whose_racks_must_stay_saves_nothing(tmp_path, integer_racks):
    """Two quarters, demand 2,000 tok/s each, penalty $5, site power 0.01 MW (one rack) in both; racks live 40
    quarters. The plan: one rack from 2026Q1 ($1,100), 1,000 tok/s unmet each quarter.
    One more MW in 2026Q2: one more rack there (demand caps it at one), 1,000 tok/s served: saves 5 x 1,000 -
    1,100 = $3,900. One more MW in 2026Q1 alone: a rack deployed then stays in 2026Q2, where there is no power for
    it: saves $0. One MW less in 2026Q1 would cost at least the row's shadow price (the LP's value is convex in the
    limit), and that price is what a rack's 0.01 MW is worth, far more per MW than the $0 step.
    One more MW in both quarters at once: a second rack from 2026Q1 serves 1,000 tok/s in each: saves
    2 x 5 x 1,000 - 1,100 = $8,900, the figure the Summary's sentence leads with."""
    sheets = minimal_sheets(2, integer_racks=integer_racks)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w", 2000, 2000]
    sheets["SitePower"][1] = ["S", 0.01, 0.01]
    s = solve_sheets(tmp_path, sheets)
    assert s.objective == pytest.approx(1100 + 2 * 5 * 1000, rel=1e-9)
    b = s.table("Bottlenecks")
    power = b[b["family"] == "site_power"].set_index("quarter")
    assert power.at["2026Q2", "one_more_unit_saves_usd"] == pytest.approx(3900, rel=1e-6)
    assert power.at["2026Q1", "one_more_unit_saves_usd"] == pytest.approx(0, abs=1e-6)
    assert power.at["2026Q2", "shadow_price"] > 3900  # the price of the first 0.01 MW, per MW
    assert power["one_more_unit_each_quarter_saves_usd"].tolist() == pytest.approx([8900, 8900], rel=1e-6)
    [sentence] = [x for x in bottleneck_sentences(s.solution) if x.startswith("Power at S")]
    assert ("one more MW in each of those 2 quarters saves $8,900 of discounted cost, re-solved; in 2026Q2 alone: "
            "$3,900") in sentence


def test_a_limit_whose_every_measured_step_saves_nothing_is_named_last():
    """Ranked by shadow price x limit, A ($900) comes before B ($500); but every measured step of A (one quarter,
    and all its priced quarters at once) saves $0: raising it lowers nothing, so the sentences name B first."""
    import pandas as pd
    from planner.output.summary import _ranked_limits
    b = pd.DataFrame({"family": ["site_power"] * 3, "key": ["A", "A", "B"], "value_usd": [500.0, 400.0, 500.0],
                      "one_more_unit_saves_usd": [0.0, None, 20.0],
                      "one_more_unit_each_quarter_saves_usd": [0.0, 0.0, None]})
    assert _ranked_limits(b) == [("site_power", "B"), ("site_power", "A")]
    b.loc[1, "one_more_unit_each_quarter_saves_usd"] = b.loc[0, "one_more_unit_each_quarter_saves_usd"] = 30.0
    assert _ranked_limits(b) == [("site_power", "A"), ("site_power", "B")]  # all quarters at once do save
