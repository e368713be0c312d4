"""Synthetic, plausible input workbooks for benchmarks, from a few thousand to about a million variables.

    python -m bench.generate --size M -o bench/out/M.xlsx          # write, print the variable estimate
    python -m bench.generate --size M -o bench/out/M.xlsx --check  # also validate and build the model
    python -m bench.generate --list                                # the sizes and their targets

The story is an AI-chip company at global scale: SRAM-only inference chips (LPU-n) and HBM accelerators
(GPU-n) made at several fabs (routes with lead times of 1-3 quarters, yield ramps on new routes), HBM from
three vendors with qualifications, CoWoS / OSAT packaging lines with capacity, many data-centre sites in many
regions that also serve neighbouring regions (ServingLinks on a ring of regions), an installed fleet, workloads
from 1B to 1T-parameter models with demand growing every quarter, an own capex budget and, in the MIP sizes,
power expansion blocks and capex partners with minimum deals.

Sizes (see SIZES): `S` is a copy of inputs/example.xlsx when it exists (else `S-GEN`); `M` ~100k and `L` ~1M
variables are pure LPs (integer_racks FALSE, no SiteExpansion and no Partners sheet, every min_service_level 0,
so a plan always exists: unmet demand absorbs what cannot be served); `MIP-S` / `MIP-M` add integer racks,
expansion blocks and partner deals. The number of Demand rows is chosen so the model lands on the size's
variable target; `count_variables` counts the variables from the tables exactly as models/sets.py builds them.
Everything is drawn from `random.Random` seeded by (size, seed): the same call writes the same tables.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import shutil
import sys
import zlib
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from planner.input.writer import make_reproducible, write_input_workbook  # noqa: E402
from planner.quarters import horizon, quarter_index  # noqa: E402

EXAMPLE = ROOT / "inputs" / "example.xlsx"
GENERATOR_VERSION = 3  # bump when the tables a (size, seed) produces change
FIXED_TIME = (2026, 1, 1, 0, 0, 0)
DENSE_RACKS = True  # models/sets.py: Y[p,s,t] on every (product, site) (commit fd39dc0; before: pruned pairs)
RACKS_VARIABLE = True  # models/deployment.py: installed racks R[p,s,t] are variables on the rack pairs (06bd914)


@dataclass(frozen=True)
class Params:
    name: str
    target_variables: int  # demand rows are added until the model reaches this many variables
    quarters: int
    regions: int
    sites_per_region: float  # mean; each region gets 0.5x .. 1.5x
    links: int  # mean number of neighbouring regions a site also serves
    workloads: int
    products_sram: int
    products_hbm: int
    servers_per_workload: float  # mean number of products with Throughput on a workload
    fabs: int
    vendors: int = 3
    integer_racks: bool = False
    expansion_share: float = 0.0  # share of sites with a SiteExpansion row (0: no sheet)
    partners: int = 0  # 0: no Partners / PartnerSites sheets
    installed_share: float = 0.4  # share of sites with an installed fleet
    time_limit_s: float = 600.0
    mip_rel_gap: float = 0.005
    start: str = "2026Q1"

    @property
    def is_mip(self) -> bool:
        return self.integer_racks or self.expansion_share > 0 or self.partners > 0


SIZES: dict[str, Params] = {
    "S-GEN": Params("S-GEN", 5_000, quarters=12, regions=6, sites_per_region=3, links=1, workloads=5,
                    products_sram=2, products_hbm=1, servers_per_workload=2.5, fabs=3),
    "30K": Params("30K", 30_000, quarters=12, regions=6, sites_per_region=3.3, links=2, workloads=10,
                  products_sram=3, products_hbm=2, servers_per_workload=3.5, fabs=4),
    "M": Params("M", 100_000, quarters=16, regions=12, sites_per_region=5, links=2, workloads=10,
                products_sram=3, products_hbm=3, servers_per_workload=4, fabs=5),
    "L": Params("L", 1_000_000, quarters=24, regions=32, sites_per_region=10, links=2, workloads=28,
                products_sram=5, products_hbm=6, servers_per_workload=5, fabs=8, time_limit_s=1800.0),
    "MIP-S": Params("MIP-S", 5_000, quarters=12, regions=6, sites_per_region=3, links=1, workloads=5,
                    products_sram=2, products_hbm=1, servers_per_workload=2.5, fabs=3, integer_racks=True,
                    expansion_share=0.3, partners=2, time_limit_s=300.0),
    "MIP-30K": Params("MIP-30K", 30_000, quarters=12, regions=6, sites_per_region=3.3, links=2, workloads=10,
                      products_sram=3, products_hbm=2, servers_per_workload=3.5, fabs=4, integer_racks=True,
                      expansion_share=0.3, partners=2, time_limit_s=300.0),
    "MIP-M": Params("MIP-M", 100_000, quarters=16, regions=12, sites_per_region=5, links=2, workloads=10,
                    products_sram=3, products_hbm=3, servers_per_workload=4, fabs=5, integer_racks=True,
                    expansion_share=0.25, partners=3, time_limit_s=600.0, mip_rel_gap=0.01),
}
SIZE_NAMES = ("S",) + tuple(SIZES)

REGION_NAMES = [  # roughly in geographic order, so neighbours on the ring are neighbours on the map
    "us-east", "us-central", "us-south", "us-west", "ca-west", "ca-east", "mx-central", "br-south", "cl-central",
    "za-north", "eg-north", "uk-south", "ie-east", "eu-west", "fr-central", "nl-west", "de-central", "eu-north",
    "pl-central", "eu-south", "il-central", "me-gulf", "sa-east", "in-west", "in-south", "th-central", "my-west",
    "sg-central", "id-west", "au-south", "au-east", "nz-north", "ph-central", "vn-south", "hk-central", "tw-north",
    "kr-central", "jp-west", "jp-east",
]
REGION_WEIGHT = {"us": 3.0, "ca": 1.2, "eu": 1.5, "uk": 1.3, "de": 1.3, "fr": 1.1, "jp": 1.4, "in": 1.3, "sg": 1.2}
WORKLOAD_BASE = [("llm-8b", 8), ("llm-70b", 70), ("llm-405b", 405), ("moe-671b", 671), ("code-32b", 32),
                 ("reason-120b", 120), ("embed-1b", 1), ("vision-14b", 14), ("speech-3b", 3), ("agent-235b", 235)]
WORKLOAD_FAMILIES = ["llm", "chat", "code", "reason", "moe", "embed", "vision", "speech", "agent", "search", "video",
                     "translate", "rerank", "tts"]
WORKLOAD_SIZES = [1, 3, 8, 14, 32, 70, 120, 235, 405, 671, 1000]
FABS = [  # (fab, wafer_cost_usd, foundry, node)
    ("TSMC-N4", 17_400, "TSMC", "N4 (4nm)"), ("GF-14LPP", 5_180, "GlobalFoundries", "14nm"),
    ("SS-SF4X", 14_650, "Samsung Foundry", "SF4X (4nm)"), ("TSMC-N3", 20_500, "TSMC", "N3E (3nm)"),
    ("Intel-18A", 19_000, "Intel Foundry", "18A"), ("TSMC-N5", 16_000, "TSMC", "N5 (5nm)"),
    ("SS-SF2", 21_000, "Samsung Foundry", "SF2 (2nm)"), ("TSMC-N2", 28_000, "TSMC", "N2 (2nm)"),
    ("GF-12LP+", 6_000, "GlobalFoundries", "12LP+"), ("Rapidus-2N", 26_000, "Rapidus", "2nm"),
    ("UMC-14FFC", 4_800, "UMC", "14FFC"), ("TSMC-N6", 10_500, "TSMC", "N6 (6nm)"),
]
VENDORS = [("SK hynix", 438, 0.55), ("Samsung", 402, 0.25), ("Micron", 447, 0.20), ("CXMT", 360, 0.10),
           ("Nanya", 380, 0.08)]
PARTNER_NAMES = ["Gulf Sovereign AI", "Northern Hydro Fabric", "Pacific Infra Fund", "Atlas Power Capital",
                 "Sakura Compute", "Andes Digital"]


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def sig(x: float, digits: int = 4) -> float:
    """Round to `digits` significant figures (planning numbers, not floats)."""
    if x == 0 or not math.isfinite(x):
        return 0
    value = round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))
    return int(value) if float(value).is_integer() else value


def gross_dies(area_mm2: float) -> int:
    """Gross dies on a 300 mm wafer: pi r^2 / A - pi d / sqrt(2A)."""
    return int(math.pi * 150 ** 2 / area_mm2 - math.pi * 300 / math.sqrt(2 * area_mm2))


def _rng(name: str, seed: int) -> random.Random:
    return random.Random(zlib.crc32(name.encode()) * 1_000_003 + seed)


def params_for(size: str) -> Params:
    key = size.upper()
    if key == "S":
        key = "S-GEN"
    if key not in SIZES:
        raise SystemExit(f"unknown size {size!r}; known: {', '.join(SIZE_NAMES)}")
    return SIZES[key]


# ------------------------------------------------------------------------------------------------
# counting variables from the tables, exactly as models/sets.py + models/variables.py build them
# ------------------------------------------------------------------------------------------------
def _records(rows: Sequence[Sequence[object]] | None) -> list[dict[str, object]]:
    if not rows:
        return []
    header = [str(h).strip().lower() if not re.match(r"^\d{4}Q\d$", str(h).strip()) else str(h).strip()
              for h in rows[0]]
    out = []
    for row in rows[1:]:
        if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        rec = {h: (v.strip() if isinstance(v, str) else v) for h, v in zip(header, row)}
        out.append(rec)
    return out


def count_variables(sheets: Mapping[str, Sequence[Sequence[object]]],
                    dense_racks: bool | None = None) -> dict[str, int]:
    """Variables per Pyomo component (W, WP, B, HB, H, Y, Z, U, E, O, F, A, ID, IC, IH), `total` and
    `integer`, counted from the input tables as models/sets.py builds the sparse index sets.

    `dense_racks` (default DENSE_RACKS): racks Y on every (product, site), as models/sets.py has done since
    fd39dc0; False counts the older pruned rule (pairs that can serve a demand row, plus installed base).
    R (installed racks) is counted on the same pairs while RACKS_VARIABLE (models/deployment.py since 06bd914).
    The model changes under active development: `check` builds it and reports any mismatch."""
    dense_racks = DENSE_RACKS if dense_racks is None else dense_racks
    settings = {str(r["key"]).strip(): r["value"] for r in _records(sheets.get("Settings"))}
    T = int(settings["quarters"])
    start = quarter_index(str(settings["start_quarter"]).strip())
    products = {str(r["product"]): r for r in _records(sheets.get("Products"))}
    fabs = {str(r["fab"]) for r in _records(sheets.get("Fabs"))}
    vendors = {str(r["vendor"]) for r in _records(sheets.get("HBMVendors"))}
    routes = {(str(r["product"]), str(r["fab"])) for r in _records(sheets.get("Routes"))}
    stacks = {p: float(r.get("stacks_per_chip") or 0) for p, r in products.items()}
    hbm_pairs = {(str(r["vendor"]), str(r["product"])) for r in _records(sheets.get("HBMQualification"))
                 if stacks.get(str(r["product"]), 0) > 0}
    site_region = {str(r["site"]): str(r["region"]) for r in _records(sheets.get("Sites"))}
    links = set(site_region.items()) | {(str(r["site"]), str(r["region"]))
                                        for r in _records(sheets.get("ServingLinks"))}
    sites_of_region: dict[str, set[str]] = defaultdict(set)
    for s, r in links:
        sites_of_region[r].add(s)
    servers: dict[str, set[str]] = defaultdict(set)
    for r in _records(sheets.get("Throughput")):
        servers[str(r["workload"])].add(str(r["product"]))
    demand_rows = {(str(r["region"]), str(r["workload"])) for r in _records(sheets.get("Demand"))}
    serve = 0
    rack_pairs: set[tuple[str, str]] = set()
    for (r, w) in demand_rows:
        ss, ps = sites_of_region.get(r, set()), servers.get(w, set())
        serve += len(ss) * len(ps)
        if not dense_racks:
            rack_pairs.update((p, s) for s in ss for p in ps)
    if dense_racks:
        rack_pairs = {(p, s) for p in products for s in site_region}
    else:
        for rec in _records(sheets.get("InstalledBase")):
            rq = rec.get("retire_quarter")
            retire_t = quarter_index(str(rq).strip()) - start if rq else 10 ** 9
            if retire_t > 0:
                rack_pairs.add((str(rec["product"]), str(rec["site"])))
    expansion = {str(r["site"]) for r in _records(sheets.get("SiteExpansion"))} & set(site_region)
    capex_sites = {s for (_p, s) in rack_pairs} | expansion
    partners = {str(r["partner"]): r for r in _records(sheets.get("Partners"))}
    funding = 0
    for rec in _records(sheets.get("PartnerSites")):
        n, s = str(rec["partner"]), str(rec["site"])
        if s not in capex_sites or n not in partners:
            continue
        fq, lq = partners[n].get("first_quarter"), partners[n].get("last_quarter")
        a = max(0, quarter_index(str(fq).strip()) - start) if fq else 0
        b = min(T - 1, quarter_index(str(lq).strip()) - start) if lq else T - 1
        funding += max(0, b - a + 1)
    P, V = len(products), len(vendors)
    counts = {"W": len(routes) * T, "WP": len(fabs) * T, "B": P * T, "HB": V * T, "H": len(hbm_pairs) * T,
              "Y": len(rack_pairs) * T, "R": len(rack_pairs) * T if RACKS_VARIABLE else 0, "Z": serve * T, "U": len(demand_rows) * T, "E": len(expansion) * T,
              "O": len(capex_sites) * T, "F": funding, "A": len(partners), "ID": P * T, "IC": P * T, "IH": V * T}
    counts["total"] = sum(counts.values())
    counts["integer"] = (counts["Y"] if _truthy(settings.get("integer_racks", True)) else 0) \
        + (counts["W"] if _truthy(settings.get("integer_wafers", False)) else 0) + counts["E"] + counts["A"]
    return counts


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "y", "t")
    return bool(value)


def read_sheets(path: str | Path) -> dict[str, list[list[object]]]:
    """The cell values of every sheet of a workbook (row 1 = header), for count_variables on an existing file."""
    from openpyxl import load_workbook
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


# ------------------------------------------------------------------------------------------------
# the generator
# ------------------------------------------------------------------------------------------------
def build_sheets(params: Params, seed: int = 0) -> dict[str, list[list[object]]]:
    """The input tables of a synthetic plan (sheet -> rows, first row the header)."""
    rng = _rng(params.name, seed)
    T = params.quarters
    Q = horizon(params.start, T)
    wobble = [1.0] + [round(rng.uniform(0.97, 1.035), 3) for _ in range(T - 1)]

    # ---- regions (a ring: neighbours on the list are neighbours on the map) and sites --------------------
    n_reg = params.regions
    regions = []
    for i in range(n_reg):
        base = REGION_NAMES[(i * len(REGION_NAMES)) // n_reg] if n_reg <= len(REGION_NAMES) else \
            REGION_NAMES[i % len(REGION_NAMES)]
        name = base if n_reg <= len(REGION_NAMES) else f"{base}-{i // len(REGION_NAMES) + 1}"
        regions.append(name)
    region_weight = {r: REGION_WEIGHT.get(r.split("-")[0], 1.0) * rng.lognormvariate(0, 0.35) for r in regions}
    region_power_price = {r: rng.uniform(38, 105) for r in regions}

    sites: list[tuple[str, str]] = []  # (site, region)
    for r in regions:
        k = max(1, round(params.sites_per_region * rng.uniform(0.5, 1.5)))
        sites += [(f"{r}-dc{j + 1:02d}", r) for j in range(k)]
    region_pos = {r: i for i, r in enumerate(regions)}
    link_rows = []
    for s, r in sites:
        k = min(n_reg - 1, max(0, params.links + rng.choice((-1, 0, 0, 1))))
        i = region_pos[r]
        ring = []
        for d in range(1, n_reg):
            pair = [regions[(i + d) % n_reg], regions[(i - d) % n_reg]]
            rng.shuffle(pair)
            ring += [x for x in pair if x != r and x not in ring]
        link_rows += [[s, x] for x in ring[:k]]
    sites_of_region: dict[str, list[str]] = defaultdict(list)
    for s, r in sites:
        sites_of_region[r].append(s)
    for s, x in link_rows:
        sites_of_region[x].append(s)

    # ---- workloads --------------------------------------------------------------------------------------
    workloads: list[tuple[str, int]] = list(WORKLOAD_BASE[:params.workloads])
    used = {w for w, _ in workloads}
    combos = [(f"{f}-{z}b", z) for f in WORKLOAD_FAMILIES for z in WORKLOAD_SIZES if f"{f}-{z}b" not in used]
    rng.shuffle(combos)
    workloads += combos[:max(0, params.workloads - len(workloads))]
    workload_rows = [["workload", "unmet_penalty_usd_per_tps", "min_service_level"]]
    for w, size in workloads:
        usd_per_mtok = 0.12 * (size / 8) ** 0.75 * rng.uniform(0.8, 1.25)
        workload_rows.append([w, sig(usd_per_mtok * 2190 * 3600 / 1e6, 3), 0])

    # ---- products ---------------------------------------------------------------------------------------
    products = []  # dicts
    for i in range(params.products_sram):
        products.append(dict(
            product=f"LPU-{i + 1}", hbm=False, gen=i, chips_per_rack=rng.choice((64, 72)),
            rack_kw=sig(22 + 3.5 * i + rng.uniform(-1, 1), 3), rack_capex_usd=sig(600_000 * 1.25 ** i * rng.uniform(0.95, 1.1), 3),
            life_quarters=rng.choice((20, 20, 24)), stacks_per_chip=0,
            packaging_line="OSAT-FCBGA" if i % 3 != 2 else "OSAT-2.5D", packaging_cost_usd=sig(90 + 45 * i, 3),
            utilization=round(rng.uniform(0.74, 0.86), 2), area=rng.uniform(600, 760),
            s8=3_900 * 1.8 ** i, max_size=70 * 3 ** i, die_hold=round(1.4 + 0.6 * i, 2), chip_hold=round(6.8 + 2.5 * i, 2)))
    for j in range(params.products_hbm):
        products.append(dict(
            product=f"GPU-{j + 1}", hbm=True, gen=j, chips_per_rack=72,
            rack_kw=sig(118 + 6 * j + rng.uniform(-3, 3), 3), rack_capex_usd=sig(2_400_000 * 1.3 ** j * rng.uniform(0.95, 1.1), 3),
            life_quarters=20, stacks_per_chip=6 if j % 2 == 0 else 8, packaging_line="CoWoS-S" if j % 2 == 0 else "CoWoS-L",
            packaging_cost_usd=sig(760 + 120 * j, 3), utilization=round(rng.uniform(0.68, 0.8), 2),
            area=rng.uniform(760, 830), s8=16_800 * 1.5 ** j, max_size=10 ** 9,
            die_hold=round(5.1 + 1.5 * j, 2), chip_hold=round(38.5 + 10 * j, 2)))
    by_name = {p["product"]: p for p in products}

    # ---- throughput: each workload is served by a few eligible products ------------------------------
    throughput: dict[tuple[str, str], float] = {}
    for w, size in workloads:
        eligible = [p["product"] for p in products if p["max_size"] >= size]
        k = min(len(eligible), max(1, round(params.servers_per_workload * rng.uniform(0.7, 1.3))))
        for p in rng.sample(eligible, k):
            throughput[(p, w)] = sig(max(5.0, by_name[p]["s8"] * (8 / size) ** 0.7 * rng.uniform(0.85, 1.15)), 3)
    for p in products:  # every product serves at least one workload
        if not any(pp == p["product"] for pp, _ in throughput):
            w, size = min(workloads, key=lambda x: x[1])
            throughput[(p["product"], w)] = sig(p["s8"] * (8 / size) ** 0.7, 3)
    servers: dict[str, list[str]] = defaultdict(list)
    for (p, w) in sorted(throughput):
        servers[w].append(p)

    # ---- fabs, routes -----------------------------------------------------------------------------------
    n_fabs = min(params.fabs, len(FABS))
    fabs = FABS[:n_fabs]
    route_rows = [["product", "fab", "dies_per_wafer", "yield", "lead_quarters"]]
    routes: list[tuple[str, str, int, float, int]] = []
    for k, p in enumerate(products):
        primary = fabs[k % n_fabs][0]
        chosen = [primary]
        if n_fabs > 1 and rng.random() < 0.4:
            chosen.append(rng.choice([f for f, *_ in fabs if f != primary]))
        for f in chosen:
            dpw = gross_dies(p["area"] * rng.uniform(0.97, 1.03))
            y = round(rng.uniform(0.45, 0.65), 2)
            lead = rng.choice((1, 2, 2, 3))
            routes.append((p["product"], f, dpw, y, lead))
            route_rows.append([p["product"], f, dpw, y, lead])
    fabs_used = {f for (_p, f, *_r) in routes}
    fabs = [x for x in fabs if x[0] in fabs_used]
    routes_of: dict[str, list[tuple]] = defaultdict(list)
    for r in routes:
        routes_of[r[0]].append(r)

    # ---- installed fleet (gen-0 products at a share of sites) -------------------------------------------
    gen0 = [p["product"] for p in products if p["gen"] == 0]
    installed_sites = rng.sample([s for s, _ in sites], max(1, round(params.installed_share * len(sites))))
    base_plan: list[tuple[str, str, float, str | None]] = []  # (product, site, weight, retire)
    for s in sorted(installed_sites):
        for p in rng.sample(gen0, rng.choice((1, len(gen0))) if len(gen0) > 1 else 1):
            retire = Q[rng.randrange(max(1, T // 3), T)] if rng.random() < 0.3 and T > 3 else None
            base_plan.append((p, s, rng.uniform(0.5, 1.5), retire))

    # ---- expansion and partners (MIP sizes only) --------------------------------------------------------
    expansion_sites = sorted(rng.sample([s for s, _ in sites], round(params.expansion_share * len(sites)))) \
        if params.expansion_share > 0 else []

    # ---- demand rows: every region and workload once, then more rows until the target size ---------------
    fixed = _fixed_counts(params, products, routes, len(fabs), len(sites))
    all_pairs = [(r, w) for r in regions for w, _ in workloads]
    rng.shuffle(all_pairs)
    must: list[tuple[str, str]] = []
    wl_names = [w for w, _ in workloads]
    for i, r in enumerate(regions):  # each region gets a row; each workload appears at least once
        must.append((r, wl_names[i % len(wl_names)]))
    for j, w in enumerate(wl_names[len(regions):]):
        must.append((regions[j % n_reg], w))
    chosen_rows: list[tuple[str, str]] = []
    seen_rows: set[tuple[str, str]] = set()
    if DENSE_RACKS:
        rack_pairs = {(p["product"], s) for p in products for s, _r in sites}
    else:
        rack_pairs = {(p, s) for (p, s, _w, rq) in base_plan}
    capex_sites = {s for (_p, s) in rack_pairs} | set(expansion_sites)
    serve = 0
    per_pair = 2 if RACKS_VARIABLE else 1  # Y (and R) per rack pair and quarter
    total = fixed + T * (per_pair * len(rack_pairs) + len(capex_sites))
    for pair in must + all_pairs:
        if pair in seen_rows:
            continue
        if total >= params.target_variables and pair not in must:
            continue
        r, w = pair
        seen_rows.add(pair)
        chosen_rows.append(pair)
        new_pairs = set() if DENSE_RACKS else {(p, s) for s in sites_of_region[r] for p in servers[w]} - rack_pairs
        new_sites = {s for (_p, s) in new_pairs} - capex_sites
        rack_pairs |= new_pairs
        capex_sites |= new_sites
        add = len(sites_of_region[r]) * len(servers[w])
        serve += add
        total += T * (1 + add + per_pair * len(new_pairs) + len(new_sites))
    chosen_rows.sort(key=lambda x: (region_pos[x[0]], wl_names.index(x[1])))

    # ---- demand values ----------------------------------------------------------------------------------
    popularity = {w: (30 / (size + 10)) ** 0.5 * rng.lognormvariate(0, 0.4) for w, size in workloads}
    demand: dict[tuple[str, str], list[float]] = {}
    for (r, w) in chosen_rows:
        d0 = 4e6 * region_weight[r] * popularity[w] * rng.lognormvariate(0, 0.3)
        g = rng.uniform(0.03, 0.09)
        launch = rng.randrange(1, max(2, T // 2)) if rng.random() < 0.2 else 0
        demand[(r, w)] = [0 if t < launch else sig(d0 * (1 + g) ** t * wobble[t]) for t in range(T)]

    # chips needed to serve all demand in quarter t, at the mean effective throughput of a row's servers
    def eff_tps(w: str) -> float:
        return sum(throughput[(p, w)] * by_name[p]["utilization"] for p in servers[w]) / len(servers[w])

    need = [sum(v[t] / eff_tps(w) for (r, w), v in demand.items()) for t in range(T)]
    # each product's share of output: newer generations get more; HBM parts a bit more than SRAM ones
    weight = {p["product"]: (1.0 + 0.5 * p["gen"]) * (1.2 if p["hbm"] else 1.0) for p in products}
    wsum = sum(weight.values())
    lead_max = max(r[4] for r in routes)
    chips_per_quarter = max(1.0, (0.8 * need[-1] - 0.35 * need[0]) / max(1, T - lead_max))
    chips_of = {p: chips_per_quarter * weight[p] / wsum for p in weight}
    ramp = [0.7 + 0.6 * t / max(1, T - 1) for t in range(T)]  # capacity grows from 70% to 130% of the mean

    # ---- installed base racks: about 35% of the chips quarter 0 needs ---------------------------------------
    base_chips = 0.35 * need[0]
    wtot = sum(x[2] for x in base_plan)
    base_rows = [["product", "site", "racks", "retire_quarter"]]
    base_mw_of: dict[str, float] = defaultdict(float)
    site_pue = {s: round(rng.uniform(1.1, 1.5), 2) for s, _ in sites}
    for (p, s, wt, retire) in base_plan:
        racks = max(1, round(base_chips * wt / wtot / by_name[p]["chips_per_rack"]))
        base_rows.append([p, s, racks, retire])
        base_mw_of[s] += racks * by_name[p]["rack_kw"] * site_pue[s] / 1000

    # ---- fab capacity, take-or-pay, prices, yield ramps, receipts ------------------------------------------
    wafers_of_fab: dict[str, float] = defaultdict(float)
    for p, rs in routes_of.items():
        for k, (_p, f, dpw, y, _lead) in enumerate(rs):
            share = 1.0 if k == 0 else 0.3
            wafers_of_fab[f] += share * chips_of[p] / (dpw * y)
    fab_rows = [["fab", "wafer_cost_usd", "foundry", "node"]] + [list(x) for x in fabs]
    cap_rows = [["fab"] + Q]
    min_rows = [["fab"] + Q]
    cost_rows = [["fab"] + Q]
    for f, cost, _foundry, node in fabs:
        wafers = wafers_of_fab[f]
        cap = [sig(max(10.0, wafers * ramp[t] * rng.uniform(0.97, 1.03)), 3) for t in range(T)]
        cap_rows.append([f] + cap)
        if "14" in node or "12" in node or rng.random() < 0.25:  # older nodes: a take-or-pay agreement
            min_rows.append([f] + [sig(0.6 * c, 3) if t < (2 * T) // 3 else sig(0.45 * c, 3) for t, c in enumerate(cap)])
        if rng.random() < 0.5:  # price rises of ~4% a year
            cost_rows.append([f] + [sig(cost * 1.04 ** (t // 4), 4) for t in range(T)])
    yield_rows = [["product", "fab"] + Q]
    receipt_rows = [["product"] + Q]
    for p in products:
        rs = routes_of.get(p["product"], [])
        if not rs:
            continue
        _p, f, dpw, y, lead = rs[0]
        if p["gen"] > 0:  # a new route ramps its yield over its first quarters
            start = rng.randrange(0, max(1, T // 3))
            n = rng.randint(3, 6)
            ramp_y = [None] * T
            for t in range(start, min(T, start + n)):
                ramp_y[t] = round(y * (0.6 + 0.4 * (t - start) / n), 3)
            yield_rows.append([p["product"], f] + ramp_y)
        else:  # wafers started before the plan still arriving
            receipt_rows.append([p["product"]] + [sig(chips_of[p["product"]] * 0.8 * rng.uniform(0.9, 1.1))
                                                  if t < lead else None for t in range(T)])

    # ---- HBM vendors, supply, qualification -----------------------------------------------------------
    vendors = VENDORS[:max(1, params.vendors)]
    stacks_needed = sum(chips_of[p["product"]] * p["stacks_per_chip"] for p in products if p["hbm"])
    vshare = sum(v[2] for v in vendors)
    vendor_rows = [["vendor", "price_usd_per_stack", "initial_inventory", "holding_cost_usd"]]
    supply_rows = [["vendor"] + Q]
    for k, (v, price, share) in enumerate(vendors):
        vendor_rows.append([v, price, sig(0.2 * stacks_needed * share / vshare) if k != 1 else 0, 3.1])
        supply_rows.append([v] + [sig(max(100.0, 0.9 * stacks_needed * share / vshare * ramp[t] * rng.uniform(0.93, 1.07)))
                                  for t in range(T)])
    qual_rows = [["vendor", "product"]]
    hbm_products = [p for p in products if p["hbm"]]
    qualified: set[tuple[str, str]] = set()
    for p in hbm_products:
        qualified.add((vendors[0][0], p["product"]))
        for v, *_ in vendors[1:]:
            if rng.random() < 0.55:
                qualified.add((v, p["product"]))
    for k, (v, *_r) in enumerate(vendors):  # every vendor qualified for something
        if hbm_products and not any(vv == v for vv, _ in qualified):
            qualified.add((v, hbm_products[k % len(hbm_products)]["product"]))
    qual_rows += [[v, p] for (v, p) in sorted(qualified)]

    # ---- packaging lines ------------------------------------------------------------------------------
    line_chips: dict[str, float] = defaultdict(float)
    for p in products:
        line_chips[p["packaging_line"]] += chips_of[p["product"]]
    pack_rows = [["packaging_line"] + Q]
    for line in sorted(line_chips):
        factor = 0.95 if line.startswith("CoWoS") else 1.3
        pack_rows.append([line] + [sig(line_chips[line] * factor * ramp[t], 3) for t in range(T)])

    # ---- sites, power ---------------------------------------------------------------------------------
    mean_kw = sum(p["rack_kw"] * chips_of[p["product"]] / p["chips_per_rack"] for p in products) / chips_per_quarter
    fleet_mw = (0.8 * need[-1]) * mean_kw / 1000 * 1.3  # the fleet serving 80% of final demand, at mean PUE
    demand_of_region: dict[str, float] = defaultdict(float)
    for (r, _w), v in demand.items():
        demand_of_region[r] += v[-1]
    total_region = sum(demand_of_region.values()) or 1.0
    site_rows = [["site", "region", "pue", "power_price_usd_per_mwh"]]
    power_rows = [["site"] + Q]
    for s, r in sites:
        site_rows.append([s, r, site_pue[s], sig(region_power_price[r] * rng.uniform(0.9, 1.1), 3)])
        final = 0.85 * fleet_mw * max(demand_of_region[r], 0.05 * total_region / n_reg) / total_region \
            / len([x for x in sites if x[1] == r]) * rng.uniform(0.6, 1.4)
        floor = 1.15 * base_mw_of[s]
        level = max(floor, 0.5 * final)
        steps = sorted(rng.sample(range(1, T), min(T - 1, rng.randint(1, 3)))) if T > 1 else []
        values, current = [], level
        for t in range(T):
            if t in steps:
                current = max(current, level + (final - level) * (steps.index(t) + 1) / len(steps))
            values.append(sig(max(current, floor) + 0.5, 3))
        power_rows.append([s] + values)
    exp_rows = [["site", "block_mw", "capex_usd_per_mw", "lead_quarters", "max_blocks"]]
    for s in expansion_sites:
        exp_rows.append([s, rng.choice((5, 7.5, 10, 12.5, 20)), sig(rng.uniform(9.3e6, 15e6), 3),
                         rng.randint(2, 4), rng.randint(2, 6)])

    # ---- money -----------------------------------------------------------------------------------------
    mean_capex = sum(p["rack_capex_usd"] * chips_of[p["product"]] / p["chips_per_rack"] for p in products)
    budget_rows = [["item"] + Q, ["own_capex_usd"] + [sig(1.1 * mean_capex * ramp[t], 3) for t in range(T)]]
    partner_rows = [["partner", "commitment_usd", "min_deal_usd", "fixed_deal_cost_usd", "financing_cost_rate",
                     "first_quarter", "last_quarter"]]
    psite_rows = [["partner", "site"]]
    for k in range(params.partners):
        name = PARTNER_NAMES[k % len(PARTNER_NAMES)] + ("" if k < len(PARTNER_NAMES) else f" {k + 1}")
        commitment = sig(mean_capex * rng.uniform(1.5, 5), 3)
        first = rng.randrange(0, max(1, T // 3))
        last = rng.randrange(max(first, (2 * T) // 3), T)
        partner_rows.append([name, commitment, sig(commitment * rng.uniform(0.25, 0.4), 3),
                             sig(commitment * rng.uniform(0.008, 0.015), 3), round(rng.uniform(0.08, 0.14), 3),
                             Q[first], Q[last]])
        funded = sorted(rng.sample(sorted(capex_sites), min(len(capex_sites), rng.randint(2, 6))))
        psite_rows += [[name, s] for s in funded]

    # ---- products table ---------------------------------------------------------------------------------
    product_rows = [["product", "chips_per_rack", "rack_kw", "rack_capex_usd", "life_quarters", "stacks_per_chip",
                     "packaging_line", "packaging_cost_usd", "utilization", "initial_die_bank",
                     "initial_chip_inventory", "die_holding_cost_usd", "chip_holding_cost_usd"]]
    for p in products:
        first = p["gen"] == 0
        product_rows.append([p["product"], p["chips_per_rack"], p["rack_kw"], p["rack_capex_usd"], p["life_quarters"],
                             p["stacks_per_chip"], p["packaging_line"], p["packaging_cost_usd"], p["utilization"],
                             sig(0.1 * chips_of[p["product"]]) if first else 0,
                             sig(0.05 * chips_of[p["product"]]) if first else 0, p["die_hold"], p["chip_hold"]])

    settings = [["key", "value"],
                ["plan_name", f"Benchmark {params.name} (synthetic, seed {seed})"],
                ["start_quarter", params.start], ["quarters", T], ["discount_rate_annual", 0.10],
                ["integer_racks", params.integer_racks], ["integer_wafers", False], ["budget_carryover", False],
                ["hours_per_quarter", 2190], ["capex_life_quarters", 20], ["mip_rel_gap", params.mip_rel_gap],
                ["time_limit_s", params.time_limit_s], ["threads", 0]]

    sheets: dict[str, list[list[object]]] = {
        "Settings": settings,
        "Products": product_rows,
        "Fabs": fab_rows,
        "Routes": route_rows,
        "FabCapacity": cap_rows,
        "HBMVendors": vendor_rows,
        "HBMSupply": supply_rows,
        "HBMQualification": qual_rows,
        "PackagingCapacity": pack_rows,
        "Sites": site_rows,
        "SitePower": power_rows,
        "InstalledBase": base_rows,
        "Workloads": workload_rows,
        "Throughput": [["product", "workload", "tokens_per_s_per_chip"]]
        + [[p, w, v] for (p, w), v in sorted(throughput.items())],
        "Demand": [["region", "workload"] + Q] + [[r, w] + demand[(r, w)] for (r, w) in chosen_rows],
        "ServingLinks": [["site", "region"]] + link_rows,
        "Budget": budget_rows,
    }
    for name, rows in (("FabMinWafers", min_rows), ("FabWaferCost", cost_rows), ("Yield", yield_rows),
                       ("ScheduledReceipts", receipt_rows)):
        if len(rows) > 1:
            sheets[name] = rows
    if len(exp_rows) > 1:
        sheets["SiteExpansion"] = exp_rows
    if params.partners:
        sheets["Partners"] = partner_rows
        sheets["PartnerSites"] = psite_rows
    return sheets


def _fixed_counts(params: Params, products: list[dict], routes: list, n_fabs: int, n_sites: int) -> int:
    """Variables that do not depend on the demand rows (approximate: partner funding is left out)."""
    T = params.quarters
    n_hbm = sum(1 for p in products if p["hbm"])
    return T * (len(routes) + n_fabs + 3 * len(products) + 2 * params.vendors + n_hbm * 2
                + round(params.expansion_share * n_sites)) + params.partners


# ------------------------------------------------------------------------------------------------
# writing
# ------------------------------------------------------------------------------------------------
def _reproducible_zip(path: Path) -> None:
    make_reproducible(path, FIXED_TIME)


def generate(size: str, path: str | Path, seed: int = 0) -> dict[str, object]:
    """Write the input workbook of `size` to `path`. Returns {size, source, path, seed, params, variables}
    where `variables` is count_variables of the tables written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if size.upper() == "S" and EXAMPLE.exists():
        shutil.copyfile(EXAMPLE, path)
        return {"size": "S", "source": str(EXAMPLE.relative_to(ROOT)), "path": str(path), "seed": None,
                "params": None, "variables": count_variables(read_sheets(path))}
    params = params_for(size)
    sheets = build_sheets(params, seed)
    write_input_workbook(path, sheets)
    _reproducible_zip(path)
    return {"size": size.upper(), "source": f"bench.generate {params.name} v{GENERATOR_VERSION}", "path": str(path),
            "seed": seed, "params": asdict(params), "variables": count_variables(sheets)}


def check(path: str | Path, build: bool = True) -> dict[str, object]:
    """Validate `path` (and build the model): issue counts, Pyomo variable / integer / constraint counts."""
    import time

    from planner.input.validate import validate_workbook
    t0 = time.perf_counter()
    data, issues = validate_workbook(path)
    out: dict[str, object] = {"errors": len(issues.errors), "warnings": len(issues.warnings),
                              "validate_s": round(time.perf_counter() - t0, 2)}
    for issue in list(issues)[:20]:
        print(f"  {issue}", file=sys.stderr)
    if data is None or not build:
        return out
    import pyomo.environ as pyo

    from models.build import build_model
    t0 = time.perf_counter()
    model, _sets = build_model(data)
    out["build_s"] = round(time.perf_counter() - t0, 2)
    out["variables"] = sum(len(v) for v in model.component_objects(pyo.Var))
    out["integer_variables"] = sum(1 for v in model.component_data_objects(pyo.Var) if v.is_integer() or v.is_binary())
    out["constraints"] = sum(len(c) for c in model.component_objects(pyo.Constraint, active=True))
    out["by_var"] = {v.local_name: len(v) for v in model.component_objects(pyo.Var)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic benchmark input workbook.")
    parser.add_argument("--size", default="M", help=f"one of {', '.join(SIZE_NAMES)}")
    parser.add_argument("-o", "--output", help="workbook to write (default bench/out/<size>.xlsx)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="validate and build the model; print its counts")
    parser.add_argument("--list", action="store_true", help="list the sizes")
    args = parser.parse_args(argv)
    if args.list:
        print(f"S: copy of {EXAMPLE.relative_to(ROOT)}" + ("" if EXAMPLE.exists() else " (missing: S-GEN instead)"))
        for p in SIZES.values():
            print(f"{p.name}: ~{p.target_variables:,} variables, {p.quarters} quarters, {p.regions} regions, "
                  f"{'MIP' if p.is_mip else 'LP'}")
        return 0
    out = Path(args.output or ROOT / "bench" / "out" / f"{args.size.upper()}.xlsx")
    info = generate(args.size, out, args.seed)
    v = info["variables"]
    target = info["params"]["target_variables"] if info["params"] else None
    print(f"wrote {out} ({info['source']})")
    print(f"estimated variables: {v['total']:,}" + (f" (target {target:,}, {v['total'] / target - 1:+.1%})" if target else "")
          + f"; integer {v['integer']:,}")
    print("  " + ", ".join(f"{k}={n:,}" for k, n in v.items() if k not in ("total", "integer")))
    if args.check:
        c = check(out)
        print("check: " + ", ".join(f"{k}={n:,}" if isinstance(n, int) else f"{k}={n}" for k, n in c.items()
                                    if k != "by_var"))
        if "variables" in c and c["variables"] != v["total"]:
            print(f"  MISMATCH: estimate {v['total']:,} != model {c['variables']:,}: {c['by_var']}")
        if c["errors"]:
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
