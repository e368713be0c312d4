"""Cross-check: the planner's own pipeline against an independent reference of formulation.md.

For each seed a small random workbook using every input sheet (`random_workbooks.random_sheets`) is written,
validated, planned by the planner (`tests.builders.solve_sheets`, i.e. `models/`) and solved again by
`reference_lp.reference_objective`, a sparse-matrix model built from the spec alone. Both must agree on the
status and, when optimal, on the objective in USD.
"""

from __future__ import annotations

import pytest

from planner.input.validate import validate_workbook
from tests.builders import solve_sheets, write
from tests.crosscheck.random_workbooks import random_sheets
from tests.crosscheck.reference_lp import reference_objective

# 30 consecutive seeds, plus seeds a wider scan (0..1499) found to disagree while the objective was in $M:
# 142, 340, 426: the planner returned a worse plan than the spec's optimum labelled optimal (by $0.38, $3,395
# and $12.52); 205: same objective, but 'feasible' instead of 'optimal'. The planner's own model solved with
# HiGHS presolve off or with its costs in USD gave the reference optimum: the cause was numerical ($1 costs at
# 1e-6), fixed by putting the objective in $k (models/sets.py USD_PER_OBJ).
KNOWN_DISAGREEMENTS = [142, 205, 340, 426]
# families 17-20 (issue 14): every seed draws HBM floors, qualification dates, packaging expansion and terminal
# values; a scan of seeds 0..199 found 0 disagreements, and packaging blocks are started in these seeds (of 0..29
# only in one), so they are checked too
PACKAGING_BLOCK_SEEDS = [44, 69, 77, 95, 133]
SEEDS = list(range(30)) + KNOWN_DISAGREEMENTS + PACKAGING_BLOCK_SEEDS


@pytest.mark.parametrize("seed", SEEDS)
def test_planner_matches_reference(tmp_path, seed):
    sheets = random_sheets(seed)
    data, issues = validate_workbook(write(tmp_path, sheets, "reference.xlsx"))
    assert data is not None, "\n".join(str(i) for i in issues)

    solved = solve_sheets(tmp_path, sheets, mip_rel_gap=1e-9)
    first_quarters = {(r[0], r[1]): r[2] for r in sheets["HBMQualification"][1:]}
    ref_status, ref_objective = reference_objective(data, integer=True, mip_gap=1e-9, first_quarters=first_quarters)

    assert solved.result.status == ref_status, (
        f"seed {seed}: planner status {solved.result.status!r}, reference {ref_status!r}")
    if ref_status == "optimal":
        assert solved.objective == pytest.approx(ref_objective, rel=1e-6, abs=1e-3), (
            f"seed {seed}: planner objective {solved.objective!r} USD, reference {ref_objective!r} USD")


def test_generator_is_deterministic_and_uses_every_sheet():
    from planner.input.schema import SHEETS

    a, b = random_sheets(7), random_sheets(7)
    assert a == b
    planning_sheets = {s.name for s in SHEETS if s.name not in ("Scenarios", "Uncertainty", "ScenarioWeights")}
    assert planning_sheets <= set(a)


def reduced_seed_340() -> dict[str, list[list]]:
    """Seed 340 reduced by hand-checked delta debugging to a case worked by hand (see the test below)."""
    Q = ["2026Q2", "2026Q3"]
    return {
        "Settings": [["key", "value"], ["plan_name", "reduced-340"], ["start_quarter", "2026Q2"], ["quarters", 2],
                     ["integer_wafers", True]],
        "Products": [["product", "chips_per_rack", "rack_kw", "rack_capex_usd", "life_quarters", "initial_die_bank",
                      "die_holding_cost_usd", "chip_holding_cost_usd"],
                     ["P1", 1, 0, 0, 1, 1, 1, None],
                     ["P2", 1, 0, 0, 1, None, 1, 1]],
        "Fabs": [["fab", "wafer_cost_usd"], ["F1", 0], ["F2", 0]],
        "Routes": [["product", "fab", "dies_per_wafer", "yield", "lead_quarters"],
                   ["P2", "F1", 16, 1, 0], ["P2", "F2", 1, 0.523, 0]],
        "FabCapacity": [["fab"] + Q, ["F1", 40, None], ["F2", None, 1]],
        "HBMVendors": [["vendor", "price_usd_per_stack"]],
        "HBMSupply": [["vendor"] + Q],
        "HBMQualification": [["vendor", "product"]],
        "PackagingCapacity": [["packaging_line"] + Q, ["default", None, 20]],
        "Sites": [["site", "region", "pue", "power_price_usd_per_mwh"], ["S1", "EU", 1, 0]],
        "SitePower": [["site"] + Q],
        "Workloads": [["workload", "unmet_penalty_usd_per_tps"]],
        "Throughput": [["product", "workload", "tokens_per_s_per_chip"]],
        "Demand": [["region", "workload"] + Q],
        "ServingLinks": [["site", "region"]],
        "Budget": [["item"] + Q, ["own_capex_usd", None, None]],
    }


def test_reduced_seed_340_by_hand(tmp_path):
    """Worked by hand from formulation.md: there is no demand and every wafer is free, but dies cost $1 per
    quarter in the die bank. P1's initial die cannot be packaged in 2026Q2 (line capacity 0), so it is held one
    quarter ($1 at df_0 = 1), then packaged and deployed in 2026Q3 at no cost. Starting any wafer only adds held
    dies, so W = 0 and the optimum is exactly $1.00. (Found by the cross-check: the planner started 40 wafers
    at F1 in 2026Q2 and reported $1,265.93 as optimal.)"""
    sheets = reduced_seed_340()
    data, issues = validate_workbook(write(tmp_path, sheets, "reference.xlsx"))
    assert data is not None, "\n".join(str(i) for i in issues)
    assert reference_objective(data) == ("optimal", pytest.approx(1.0, abs=1e-6))
    solved = solve_sheets(tmp_path, sheets, mip_rel_gap=1e-9)
    assert solved.result.status == "optimal"
    assert solved.objective == pytest.approx(1.0, abs=1e-3)
