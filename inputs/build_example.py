"""Build the shipped example input workbook, `inputs/example.xlsx`.

    python inputs/build_example.py            # writes inputs/example.xlsx next to this script
    python inputs/build_example.py -o x.xlsx  # somewhere else

The story: an LPU company (SRAM-only inference chips) plans 12 quarters from 2026Q1. It makes
LPU-1 at GlobalFoundries 14nm, brings up LPU-2 at Samsung SF4X from 2027Q1, and also deploys an
HBM-based GPU-class accelerator (TSMC 4nm + CoWoS) whose HBM comes from SK hynix and Micron
(Samsung HBM3e is offered but not qualified). Four sites in three regions serve four demand regions;
Dallas is power-constrained and can add power blocks; Dammam is funded by a Saudi partner.

Every figure is illustrative, picked inside the public ranges of `shared/spec/example-data.md`
(see `inputs/README.md` and the workbook's README sheet). Nothing is random: the script is
deterministic, and the file it writes is byte-for-byte reproducible (fixed zip and document
timestamps), so the input_sha256 a plan reports for it is stable.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.styles import Alignment, Font

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # allow `python inputs/build_example.py` from a checkout
    sys.path.insert(0, str(ROOT))

from planner.input.writer import make_reproducible, settings_rows, write_input_workbook  # noqa: E402
from planner.quarters import horizon  # noqa: E402

START, N = "2026Q1", 12
Q = horizon(START, N)  # 2026Q1 .. 2028Q4
FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # zip entry and document timestamps: makes the file reproducible


def sig(x: float, digits: int = 4) -> float:
    """Round to `digits` significant figures (demand and supply look like planning numbers, not floats)."""
    if x == 0:
        return 0.0
    value = round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))
    return int(value) if float(value).is_integer() else value


def step(values: dict[str, float]) -> list[float]:
    """A step series over the horizon: {first quarter: value, ...}; before the first key, 0."""
    out, current = [], 0.0
    for q in Q:
        current = values.get(q, current)
        out.append(current)
    return out


def wide(keys: list[str], rows: list[list]) -> list[list]:
    return [keys + Q] + rows


# ------------------------------------------------------------------------------------------------
# Settings
# ------------------------------------------------------------------------------------------------
SETTINGS = settings_rows(
    plan_name="Example LPU company plan 2026-2028 (illustrative)",
    start_quarter=START,
    quarters=N,
    discount_rate_annual=0.10,
    integer_racks=True,
    integer_wafers=False,
    budget_carryover=False,
    hours_per_quarter=2190,
    capex_life_quarters=20,  # 5-year asset life: capex is charged at its in-plan share, no end-of-horizon dip
    mip_rel_gap=0.005,
    time_limit_s=120,
    threads=0,
)

# ------------------------------------------------------------------------------------------------
# Chips. LPU-1: 725 mm2 GF 14nm, 230 MB SRAM, ~250 W; 9 x 4U nodes of 8 cards = 72 chips per rack.
# LPU-2: Samsung SF4X, ~500 MB SRAM; die size not public, 650 mm2 assumed; 8 nodes of 8 = 64 per rack.
# GPU-4N: 814 mm2 TSMC 4nm-class die with 6 HBM3e stacks (H200-class), 72 per rack, NVL72-class rack.
# Throughput (THROUGHPUT below) is a chip's peak aggregate tok/s at serving batch sizes (GPU 70B: the
# MLPerf figure); utilization is the share of it a fleet sustains under latency targets and daily load swings.
# ------------------------------------------------------------------------------------------------
# Terminal value (formulation family 20): what a good die left in the die bank, a finished chip, or a die still in
# flight at the end of 2028Q4 is worth to the next plan. Assumed: its replacement cost, the 2028 wafer price per good
# die at mature yield (GF 5,180 / (73 x 0.53) = $134; SF4X 14,650 / (82 x 0.57) = $313; TSMC 18,820 / (63 x 0.55)
# = $543), plus ~10% for the lead time it saves. Without it the plan stops starting wafers well before the end.
TV = {"LPU-1": 148, "LPU-2": 345, "GPU-4N": 598}

PRODUCTS = [
    ["product", "chips_per_rack", "rack_kw", "rack_capex_usd", "life_quarters", "stacks_per_chip", "packaging_line",
     "packaging_cost_usd", "utilization", "initial_die_bank", "initial_chip_inventory", "die_holding_cost_usd",
     "chip_holding_cost_usd", "terminal_value_usd_per_die"],
    ["LPU-1", 72, 23.6, 612_000, 20, 0, "OSAT-FCBGA", 96, 0.55, 1_240, 576, 1.40, 6.80, TV["LPU-1"]],
    ["LPU-2", 64, 28.7, 868_000, 24, 0, "OSAT-FCBGA", 178, 0.58, 0, 0, 3.20, 11.50, TV["LPU-2"]],
    ["GPU-4N", 72, 118.5, 2_385_000, 20, 6, "CoWoS-S", 760, 0.42, 310, 144, 5.10, 38.50, TV["GPU-4N"]],
]

FABS = [
    ["fab", "wafer_cost_usd", "foundry", "node"],
    ["GF-14LPP", 5_180, "GlobalFoundries (Malta, NY)", "14nm"],
    ["SS-SF4X", 14_650, "Samsung Foundry", "SF4X (4nm)"],
    ["TSMC-N4", 17_400, "TSMC", "N4 / 4N-class (4nm)"],
]

# dies_per_wafer: gross dies on a 300 mm wafer, pi*r^2/A - pi*d/sqrt(2A): 725 mm2 -> 73, 650 mm2 -> 82,
# 814 mm2 -> 63 (edge exclusion ignored). Yield: defect-free at D0 ~0.09/cm2 plus some salvage.
ROUTES = [
    ["product", "fab", "dies_per_wafer", "yield", "lead_quarters"],
    ["LPU-1", "GF-14LPP", 73, 0.53, 2],
    ["LPU-2", "SS-SF4X", 82, 0.57, 2],
    ["GPU-4N", "TSMC-N4", 63, 0.55, 2],
]

# Wafer starts this company can get per quarter (its allocation, not the fab's total capacity).
FAB_CAPACITY = wide(["fab"], [
    ["GF-14LPP"] + [262, 271, 278, 286, 293, 297, 302, 305, 309, 312, 314, 317],
    ["SS-SF4X"] + step({"2027Q1": 64, "2027Q2": 118, "2027Q3": 176, "2027Q4": 228, "2028Q1": 265, "2028Q2": 296,
                        "2028Q3": 318, "2028Q4": 334}),
    ["TSMC-N4"] + [118, 124, 131, 137, 142, 148, 153, 158, 162, 165, 168, 171],
])

# Take-or-pay: the GF long-term agreement pays for 215 wafers a quarter through 2027, 170 in 2028.
FAB_MIN_WAFERS = wide(["fab"], [
    ["GF-14LPP"] + [215] * 8 + [170] * 4,
])

# TSMC price rises of ~4% a year (2027, 2028); other fabs use Fabs.wafer_cost_usd.
FAB_WAFER_COST = wide(["fab"], [
    ["TSMC-N4"] + [17_400] * 4 + [18_100] * 4 + [18_820] * 4,
])

# Yield ramp of the new SF4X route, by wafer-start quarter (blank: Routes.yield once mature).
YIELD = wide(["product", "fab"], [
    ["LPU-2", "SS-SF4X"] + [None] * 4 + [0.34, 0.41, 0.47, 0.51, 0.54, None, None, None],
])

# Good dies still arriving from wafers started in 2025H2 (lead 2 quarters).
SCHEDULED_RECEIPTS = wide(["product"], [
    ["LPU-1"] + [9_860, 10_420] + [None] * (N - 2),
    ["GPU-4N"] + [3_270, 3_480] + [None] * (N - 2),
])

# ------------------------------------------------------------------------------------------------
# HBM: 24 GB HBM3e stacks at ~$400-450. Samsung's HBM3e is offered but not yet qualified for GPU-4N.
# ------------------------------------------------------------------------------------------------
HBM_VENDORS = [
    ["vendor", "price_usd_per_stack", "initial_inventory", "holding_cost_usd"],
    ["SK hynix", 438, 2_150, 3.10],
    ["Samsung", 402, 0, 3.10],
    ["Micron", 447, 640, 3.10],
]

HBM_SUPPLY = wide(["vendor"], [
    ["SK hynix"] + [12_900, 12_100, 14_300, 15_400, 14_600, 17_200, 18_700, 18_100, 19_900, 21_000, 20_600, 22_100],
    ["Samsung"] + [9_800, 10_600, 11_900, 12_400, 13_800, 14_500, 15_200, 16_100, 16_900, 17_400, 18_200, 18_800],
    ["Micron"] + [3_150, 3_900, 5_200, 6_350, 7_400, 8_600, 9_450, 10_300, 11_200, 11_900, 12_800, 13_500],
])

# Samsung HBM3e passes qualification for GPU-4N in 2027Q2 (assumed; Samsung's HBM3e qualification at the largest
# GPU maker took from 2024 into 2025 in the press): its stacks can be used from that quarter (family 18).
HBM_QUALIFICATION = [
    ["vendor", "product", "first_quarter"],
    ["SK hynix", "GPU-4N", None],
    ["Micron", "GPU-4N", None],
    ["Samsung", "GPU-4N", "2027Q2"],
]

# SK hynix long-term agreement: take-or-pay on 9,000 stacks a quarter, 10,500 from 2027 (about 60% of the
# allocation; assumed, HBM was sold out a year ahead in 2024-2025 and bought on long-term contracts). Family 17.
HBM_MIN_STACKS = wide(["vendor"], [
    ["SK hynix"] + [9_000] * 4 + [10_500] * 8,
])

PACKAGING_BLOCK_CHIPS, PACKAGING_BLOCK_USD = 1_450, 900_000

# CoWoS-class interposer packaging allocated to GPU-4N (chips per quarter); OSAT-FCBGA is not limited.
PACKAGING_CAPACITY = wide(["packaging_line"], [
    ["CoWoS-S"] + [4_350, 4_600, 4_900, 5_250, 5_450, 5_450, 5_450, 5_450, 5_700, 5_950, 6_200, 6_450],
])

# CoWoS-S can be expanded (family 19) in blocks of 50 interposer wafers a quarter x ~29 packages = 1,450 chips a
# quarter, 2 quarters from order to output, at most 3 blocks. Capex per block (own money: reserved capacity and
# tooling at the OSAT partner line) assumed at $1.6M; no public figure.
PACKAGING_EXPANSION = [
    ["packaging_line", "block_chips", "capex_usd_per_block", "lead_quarters", "max_blocks"],
    ["CoWoS-S", PACKAGING_BLOCK_CHIPS, PACKAGING_BLOCK_USD, 2, 3],
]

# ------------------------------------------------------------------------------------------------
# Sites: Dallas is power-constrained (expansion blocks); BC is Bell-style AI Fabric power that
# grows on a fixed schedule; Dammam is funded by the Saudi partner.
# ------------------------------------------------------------------------------------------------
SITES = [
    ["site", "region", "pue", "power_price_usd_per_mwh"],
    ["Dallas-TX", "NA", 1.34, 58.70],
    ["Kamloops-BC", "NA", 1.19, 44.80],
    ["Helsinki-FI", "EU", 1.17, 84.60],
    ["Dammam-SA", "ME", 1.48, 47.50],
]

SITE_POWER = wide(["site"], [
    ["Dallas-TX"] + [16.8] * N,
    ["Kamloops-BC"] + step({"2026Q1": 7.0, "2026Q4": 12.8, "2027Q4": 26.0}),
    ["Helsinki-FI"] + step({"2026Q1": 11.2, "2027Q3": 16.8}),
    ["Dammam-SA"] + step({"2026Q1": 14.6, "2026Q3": 35.4, "2027Q2": 71.3}),
])

SITE_EXPANSION = [
    ["site", "block_mw", "capex_usd_per_mw", "lead_quarters", "max_blocks"],
    ["Dallas-TX", 4.8, 10_400_000, 3, 5],
]

INSTALLED_BASE = [
    ["product", "site", "racks", "retire_quarter"],
    ["LPU-1", "Dallas-TX", 148, "2027Q3"],  # first GroqRack-style cohort, off lease mid-2027
    ["LPU-1", "Dallas-TX", 96, None],
    ["GPU-4N", "Dallas-TX", 36, None],
    ["LPU-1", "Kamloops-BC", 160, None],
    ["LPU-1", "Helsinki-FI", 72, None],
    ["GPU-4N", "Helsinki-FI", 24, "2027Q1"],  # leased GPU racks handed back
    ["LPU-1", "Dammam-SA", 264, None],  # the first 19,000 LPUs (264 x 72 = 19,008 chips)
]

# ------------------------------------------------------------------------------------------------
# Workloads and demand. Penalty: lost revenue per tok/s per quarter (2190 h = 7.884M tokens per tok/s)
# at list prices of roughly $0.12 (8B), $0.80 (70B) and $1.20 (400B-class MoE) per million tokens.
# Floors: contracted service on the 8B and 70B APIs; the 400B-class tier is best effort.
# ------------------------------------------------------------------------------------------------
WORKLOADS = [
    ["workload", "unmet_penalty_usd_per_tps", "min_service_level"],
    ["llm-8b", 0.95, 0.75],
    ["llm-70b", 6.30, 0.60],
    ["llm-400b", 9.40, None],
]

THROUGHPUT = [
    ["product", "workload", "tokens_per_s_per_chip"],
    ["LPU-1", "llm-8b", 3_900],
    ["LPU-1", "llm-70b", 760],
    ["LPU-2", "llm-8b", 12_500],
    ["LPU-2", "llm-70b", 2_400],
    ["LPU-2", "llm-400b", 1_150],
    ["GPU-4N", "llm-8b", 16_800],
    ["GPU-4N", "llm-70b", 4_350],
    ["GPU-4N", "llm-400b", 2_150],
]

# 2026Q1 demand (tok/s, ~60M in all) and quarterly growth per region (~430M by 2028Q4); larger models
# grow faster. For scale: Microsoft ~19M tok/s (Mar 2025), OpenAI API ~100M, Google ~500M (Oct 2025).
DEMAND_START = {
    ("NA", "llm-8b"): 25.8e6, ("NA", "llm-70b"): 7.27e6, ("NA", "llm-400b"): 1.57e6,
    ("EU", "llm-8b"): 8.14e6, ("EU", "llm-70b"): 2.28e6, ("EU", "llm-400b"): 0.482e6,
    ("ME", "llm-8b"): 4.82e6, ("ME", "llm-70b"): 1.43e6, ("ME", "llm-400b"): 0.223e6,
    ("APAC", "llm-8b"): 5.83e6, ("APAC", "llm-70b"): 1.68e6, ("APAC", "llm-400b"): 0.439e6,
}
GROWTH = {"NA": 0.21, "EU": 0.17, "ME": 0.23, "APAC": 0.20}
MODEL_GROWTH = {"llm-8b": 0.90, "llm-70b": 1.00, "llm-400b": 1.25}
# a fixed quarter-to-quarter wobble (launches, holidays), the same for every row
WOBBLE = [1.000, 0.987, 1.012, 1.031, 0.996, 1.008, 0.991, 1.024, 1.003, 0.994, 1.017, 1.029]


def demand_rows() -> list[list]:
    rows = []
    for (region, workload), start in DEMAND_START.items():
        g = (1 + GROWTH[region]) ** MODEL_GROWTH[workload] - 1
        rows.append([region, workload] + [sig(start * (1 + g) ** t * WOBBLE[t]) for t in range(N)])
    return wide(["region", "workload"], rows)


SERVING_LINKS = [
    ["site", "region"],
    ["Kamloops-BC", "APAC"],
    ["Helsinki-FI", "ME"],
    ["Dammam-SA", "EU"],
    ["Dammam-SA", "APAC"],
]

# ------------------------------------------------------------------------------------------------
# Money: own capex per quarter, and the partners that fund deployments at their sites.
# ------------------------------------------------------------------------------------------------
BUDGET = wide(["item"], [
    ["own_capex_usd"] + [86e6, 82e6, 90e6, 96e6, 103e6, 99e6, 108e6, 113e6, 112e6, 109e6, 116e6, 121e6],
])

PARTNERS = [
    ["partner", "commitment_usd", "min_deal_usd", "fixed_deal_cost_usd", "financing_cost_rate", "first_quarter",
     "last_quarter"],
    ["Aramco Digital", 1_500_000_000, 420_000_000, 14_500_000, 0.135, "2026Q2", "2027Q4"],
    ["Bell AI Fabric", 380_000_000, 150_000_000, 4_200_000, 0.095, "2026Q3", "2028Q4"],
]

PARTNER_SITES = [
    ["partner", "site"],
    ["Aramco Digital", "Dammam-SA"],
    ["Bell AI Fabric", "Kamloops-BC"],
]

# What-ifs (planner run --scenario NAME, planner compare): cell overrides, and rows added or removed.
SCENARIOS = [
    ["scenario", "sheet", "key", "column", "operation", "value"],
    ["hbm_cut", "HBMSupply", "SK hynix", "2027Q1:2028Q4", "scale", 0.7],
    ["samsung_early", "HBMQualification", "Samsung/GPU-4N", "first_quarter", "set", "2026Q3"],
    ["samsung_never", "HBMQualification", "Samsung/GPU-4N", None, "remove_row", None],
    ["no_hbm_floor", "HBMMinStacks", "SK hynix", None, "remove_row", None],
    ["micron_floor", "HBMMinStacks", "Micron", "2027Q1:2028Q4", "add_row", 4_000],
    ["cowos_plus", "PackagingExpansion", "CoWoS-S", "max_blocks", "set", 6],
    ["new_site", "Sites", "Phoenix-AZ", "region", "add_row", "NA"],
    ["new_site", "Sites", "Phoenix-AZ", "pue", "add_row", 1.28],
    ["new_site", "Sites", "Phoenix-AZ", "power_price_usd_per_mwh", "add_row", 64.0],
    ["new_site", "SitePower", "Phoenix-AZ", "2027Q1:2028Q4", "add_row", 18.0],
    ["aramco_walks", "Partners", "Aramco Digital", None, "remove_row", None],
    ["aramco_walks", "PartnerSites", "Aramco Digital/*", None, "remove_row", None],
    ["cancel_lpu2", "Products", "LPU-2", None, "remove_row", None],
    ["cancel_lpu2", "Routes", "LPU-2/*", None, "remove_row", None],
    ["cancel_lpu2", "Yield", "LPU-2/*", None, "remove_row", None],
    ["cancel_lpu2", "Throughput", "LPU-2/*", None, "remove_row", None],
    ["no_terminal_value", "Products", "*", "terminal_value_usd_per_die", "set", 0],
]

# planner sweep: one random scale factor per row.
UNCERTAINTY = [
    ["sheet", "key", "column", "distribution", "p1", "p2", "p3"],
    ["Demand", "*", "*", "normal", 1.0, 0.12, None],
    ["HBMSupply", "Samsung", "2027Q2:2028Q4", "triangular", 0.4, 0.9, 1.0],
    ["HBMMinStacks", "SK hynix", "*", "uniform", 0.8, 1.2, None],
    ["PackagingExpansion", "CoWoS-S", "block_chips", "uniform", 0.7, 1.1, None],
    ["Products", "GPU-4N", "terminal_value_usd_per_die", "uniform", 0.6, 1.2, None],
]

README = [
    ["Example input workbook: an LPU company's 12-quarter capacity plan, 2026Q1-2028Q4"],
    [],
    ["ILLUSTRATIVE DATA. Every figure in this workbook is illustrative: it was picked inside public ranges "
     "(press, vendor pages, analyst estimates, 2020-2025) and is not any company's actual plan or cost."],
    ["Built by inputs/build_example.py; edit that script (or a copy of this file), not the planner."],
    [],
    ["The story"],
    ["LPU-1 (725 mm2, GF 14nm, SRAM only: no HBM) is the installed fleet; LPU-2 (Samsung SF4X) has wafers from "
     "2027Q1 with a yield ramp; GPU-4N (814 mm2, TSMC 4nm-class, 6 HBM3e stacks, CoWoS) covers the largest models."],
    ["HBM is scarce: SK hynix and Micron are qualified for GPU-4N; Samsung HBM3e passes qualification in 2027Q2 "
     "(HBMQualification.first_quarter: its stacks can be used from then on). SK hynix is bought on a take-or-pay "
     "agreement (HBMMinStacks: 9,000 stacks a quarter, 10,500 from 2027, paid whether bought or not)."],
    ["CoWoS-S packaging can be expanded (PackagingExpansion): blocks of 1,450 chips a quarter (50 interposer wafers "
     "x ~29 packages), 2 quarters from order to output, up to 3 blocks, $0.9M each, paid from the own budget."],
    ["Terminal value (Products.terminal_value_usd_per_die): dies and chips left at the end of 2028Q4, and dies of "
     "wafers still in flight, are worth their replacement cost plus ~10% (LPU-1 $148, LPU-2 $345, GPU-4N $598 per "
     "die), so the plan keeps starting wafers in its last quarters, as a plan rolled every quarter would."],
    ["Sites: Dallas-TX (NA, 16.8 MW, power-constrained: up to 5 blocks of 4.8 MW at $10.4M/MW, 3 quarters from "
     "start to power), Kamloops-BC (NA, hydro, 7 -> 26 MW on Bell's schedule), Helsinki-FI (EU), Dammam-SA (ME, "
     "partner-funded, 14.6 -> 71.3 MW). Sites also serve other regions (ServingLinks)."],
    ["Demand: 8B-, 70B- and 400B-class models in NA, EU, ME and APAC, ~60M tok/s in 2026Q1 growing ~20% a quarter; "
     "the 8B and 70B tiers have contracted floors (75%, 60%)."],
    ["Own capex is $82-121M a quarter (no carry-over); partners (an Aramco-like $1.5B commitment open until 2027Q4, "
     "a Bell-like $380M one) fund deployments at their sites for a financing cost and a one-off signing cost."],
    [],
    ["Sources (short)"],
    ["Chips: 725 mm2 GF 14nm LPU, 230 MB SRAM, 8 cards per 4U node, 64-72 chips per rack (groq.com, techpowerup, "
     "2020-2024); LPU v2 on Samsung SF4X, volume from 2026 (press 2023-2026)."],
    ["GPU: H100/H200-class 814 mm2 TSMC 4N die, 6 HBM3e stacks, MLPerf 4.1 Llama-2-70B ~4,000-4,500 tok/s per GPU "
     "(2023-2024); GB200 NVL72 rack 72 GPUs, ~120 kW, $2-3M (est., 2025)."],
    ["Wafers: gross dies per 300 mm wafer 725 mm2 73-75, 814 mm2 63-67; yield at D0 0.07-0.1/cm2 ~45-58%; wafer "
     "price GF 14nm ~$4-6k, TSMC N5 ~$13.5-17k (est. 2020-2024); ~2 quarters from wafer start to chip (Dec 2023)."],
    ["CoWoS ~$750 per package (est. 2025). HBM3e 24 GB stack ~$400-450 (est. 2025); vendor shares Q2 2025 "
     "SK hynix 62%, Samsung 17%, Micron 21% (TrendForce)."],
    ["Data centres: $9.3-15.0M per MW, avg $11.7M (Cushman & Wakefield, Dec 2024); PUE 1.58 average, new builds "
     "<= 1.3 (Uptime Institute); Bell Canada AI Fabric 7 MW sites, 2 x 26 MW planned 2026/27 (2025)."],
    ["Partner: Aramco, 19,000 LPUs (here 264 racks at Dammam), $1.5B follow-on commitment (2024-2025)."],
    ["Demand: tens of millions of tok/s (Google 185M tok/s May 2025, ~500M Oct 2025; OpenAI API ~100M Oct 2025; "
     "Microsoft ~19M Mar 2025), scaled to a company of this size."],
    [],
    ["Scenarios and Uncertainty"],
    ["Scenarios: hbm_cut (SK hynix -30% from 2027), samsung_early (qualified from 2026Q3), samsung_never (the pair "
     "removed), no_hbm_floor / micron_floor (take-or-pay removed / added as a new row), cowos_plus (6 CoWoS blocks), "
     "new_site (a Phoenix-AZ site and its SitePower row added), aramco_walks (the partner and its sites removed), "
     "cancel_lpu2 (the product and every row naming it removed), no_terminal_value. Try: planner compare "
     "example.xlsx -o compare.xlsx"],
    ["Uncertainty (planner sweep): demand +-12%, Samsung's supply after qualification, the SK hynix floor, the CoWoS "
     "block size and GPU-4N's terminal value."],
    [],
    ["Assumptions (no public figure)"],
    ["LPU tokens/s per chip (set so LPU-2 needs about half the capex and a third of the energy of GPU-4N per token, "
     "in the spirit of the founder's claims), LPU-2 die size (650 mm2) and SF4X wafer price (near TSMC N5), this "
     "company's allocations of wafers, HBM and CoWoS, budgets, partner terms other than Aramco's $1.5B, and demand; "
     "the SK hynix take-or-pay volumes, Samsung's qualification quarter, the CoWoS block size, cost and lead time, "
     "and the terminal values (replacement cost per good die plus ~10%)."],
    [],
    ["Units: money USD, site power MW, rack power kW, throughput and demand tokens per second (sustained), "
     "penalties USD per tok/s per quarter. See the planner's README for every sheet and column."],
]


def sheets() -> dict[str, list[list]]:
    return {
        "Settings": SETTINGS,
        "Products": PRODUCTS,
        "Fabs": FABS,
        "Routes": ROUTES,
        "FabCapacity": FAB_CAPACITY,
        "FabMinWafers": FAB_MIN_WAFERS,
        "FabWaferCost": FAB_WAFER_COST,
        "Yield": YIELD,
        "ScheduledReceipts": SCHEDULED_RECEIPTS,
        "HBMVendors": HBM_VENDORS,
        "HBMSupply": HBM_SUPPLY,
        "HBMQualification": HBM_QUALIFICATION,
        "HBMMinStacks": HBM_MIN_STACKS,
        "PackagingCapacity": PACKAGING_CAPACITY,
        "PackagingExpansion": PACKAGING_EXPANSION,
        "Sites": SITES,
        "SitePower": SITE_POWER,
        "SiteExpansion": SITE_EXPANSION,
        "InstalledBase": INSTALLED_BASE,
        "Workloads": WORKLOADS,
        "Throughput": THROUGHPUT,
        "Demand": demand_rows(),
        "ServingLinks": SERVING_LINKS,
        "Budget": BUDGET,
        "Partners": PARTNERS,
        "PartnerSites": PARTNER_SITES,
        "Scenarios": SCENARIOS,
        "Uncertainty": UNCERTAINTY,
        "README": README,
    }


# ------------------------------------------------------------------------------------------------
# Hedged plan (planner run --stochastic, stochastic.md): four weighted futures of the same workbook
# ------------------------------------------------------------------------------------------------
HEDGED_SCENARIOS = [
    ["scenario", "sheet", "key", "column", "operation", "value"],
    ["demand_boom", "Demand", "*", "2026Q2:2028Q4", "scale", 1.5],  # inference demand 50% above the forecast
    ["demand_bust", "Demand", "*", "2026Q2:2028Q4", "scale", 0.6],  # the bubble deflates: 40% below
    ["hbm_shortfall", "HBMSupply", "*", "2026Q2:2028Q4", "scale", 0.5],  # half the HBM the vendors offered
]
SCENARIO_WEIGHTS = [["scenario", "probability"], ["base", 0.4], ["demand_boom", 0.2], ["demand_bust", 0.2],
                    ["hbm_shortfall", 0.2]]


def add_hedged_plan(sheets: dict) -> dict:
    """The ScenarioWeights sheet and the Scenarios rows it weights (appended to any Scenarios sheet already there)."""
    scenarios = sheets.setdefault("Scenarios", [HEDGED_SCENARIOS[0]])
    known = {row[0] for row in scenarios[1:]}
    scenarios.extend(row for row in HEDGED_SCENARIOS[1:] if row[0] not in known)
    sheets["ScenarioWeights"] = SCENARIO_WEIGHTS
    return sheets


def _finish(path: Path) -> None:
    """README first, readable column widths, bold headers; then fix every timestamp in the file."""
    wb = load_workbook(path)
    readme = wb["README"]
    wb.move_sheet(readme, offset=-wb.index(readme))
    wb.active = 0
    readme.column_dimensions["A"].width = 150
    readme["A1"].font = Font(bold=True, size=13)
    for row in readme.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if cell.value in ("The story", "Sources (short)", "Assumptions (no public figure)",
                              "Scenarios and Uncertainty"):
                cell.font = Font(bold=True)
    for ws in wb.worksheets:
        if ws.title == "README":
            continue
        ws.freeze_panes = "A2"
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for column in ws.columns:
            width = max(len(str(c.value)) for c in column if c.value is not None) if any(
                c.value is not None for c in column) else 8
            ws.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 40)
    wb.save(path)
    _reproducible_zip(path)


def _reproducible_zip(path: Path) -> None:
    make_reproducible(path, FIXED_TIME)


def build(path: str | Path) -> Path:
    path = Path(path)
    write_input_workbook(path, add_hedged_plan(sheets()))
    _finish(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=str(Path(__file__).resolve().parent / "example.xlsx"))
    args = parser.parse_args(argv)
    print(f"wrote {build(args.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
