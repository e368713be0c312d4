"""The plan's numbers are feasible against the input: re-checked from the output workbook alone."""

from planner.pipeline import run_plan
from tests.builders import write
from tests.plan_checks import check_plan
from tests.reliability.test_determinism import rich_sheets


def test_rich_plan_rechecks_from_the_workbook(tmp_path):
    sheets = rich_sheets()
    sheets["Products"][0] += ["stacks_per_chip", "initial_die_bank", "initial_chip_inventory", "utilization"]
    sheets["Products"][1] += [0, 25, 12, 0.9]
    sheets["Products"][2] += [2, 0, 0, 1]
    sheets["HBMVendors"] = [["vendor", "price_usd_per_stack", "initial_inventory"], ["V", 5, 4]]
    sheets["HBMSupply"] = [sheets["HBMSupply"][0], ["V", 10, 20, 30, 40]]
    sheets["HBMQualification"] = [["vendor", "product"], ["V", "L2"]]
    sheets["Partners"] = [["partner", "commitment_usd", "min_deal_usd"], ["P", 3000, 500]]
    sheets["PartnerSites"] = [["partner", "site"], ["P", "T"]]
    sheets["Budget"][1] = ["own_capex_usd", 1500, 800, 800, 800]
    out = tmp_path / "plan.xlsx"
    outcome = run_plan(write(tmp_path, sheets), out)
    assert outcome.exit_code == 0, outcome.message
    assert check_plan(out) == []


def test_the_recheck_catches_a_tampered_plan(tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "plan.xlsx"
    assert run_plan(write(tmp_path, rich_sheets()), out).exit_code == 0
    wb = load_workbook(out)
    ws = wb["Serving"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("unmet_tps") + 1).value = 12345.0
    ws = wb["Fabs"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("wafers_started") + 1).value = 1e9
    wb.save(out)
    problems = check_plan(out)
    assert any(p.startswith("Serving") for p in problems) and any(p.startswith("Fabs") for p in problems)
