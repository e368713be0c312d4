"""Every input value the plan used, with its cell: the plan workbook's InputValues sheet (for diff and review)."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from models.data import PlanData
from planner.input.schema import OWN_CAPEX_ITEM
from planner.output.contract import Col

WIDE = {"FabCapacity": "fab_capacity", "FabMinWafers": "fab_min_wafers", "ScheduledReceipts": "receipts",
        "HBMSupply": "hbm_supply", "PackagingCapacity": "packaging_capacity", "SitePower": "site_power",
        "Demand": "demand", "HBMMinStacks": "hbm_min_stacks"}
TABLES = {"Products": "products", "Fabs": "fabs", "Routes": "routes", "HBMVendors": "vendors", "Sites": "sites",
          "SiteExpansion": "expansion", "Workloads": "workloads", "Partners": "partners",
          "PackagingExpansion": "packaging_expansion"}


def input_values(data: PlanData) -> pd.DataFrame:
    """Long table: sheet, key (joined with '/'), column (a column name or a quarter), value, cell."""
    rows = []
    Q = data.quarters
    for sheet, attr in WIDE.items():
        for key, value in getattr(data, attr).items():
            keys, t = key[:-1], key[-1]
            rows.append((sheet, "/".join(keys), Q[t], value, data.cell(sheet, keys, Q[t])))
    for (f, t), value in data.wafer_cost.items():
        cell = data.cell("FabWaferCost", (f,), Q[t])
        if cell:
            rows.append(("FabWaferCost", f, Q[t], value, cell))
    for (p, f, t), value in data.yields.items():
        cell = data.cell("Yield", (p, f), Q[t])
        if cell:
            rows.append(("Yield", f"{p}/{f}", Q[t], value, cell))
    for t, value in data.budget.items():
        rows.append(("Budget", OWN_CAPEX_ITEM, Q[t], value, data.cell("Budget", (OWN_CAPEX_ITEM,), Q[t])))
    for sheet, attr in TABLES.items():
        frame = getattr(data, attr)
        for index, record in zip(frame.index, frame.to_dict("records")):
            keys = index if isinstance(index, tuple) else (index,)
            for column, value in record.items():
                if column in ("first_t", "last_t"):
                    continue
                rows.append((sheet, "/".join(map(str, keys)), column, value, data.cell(sheet, keys, column)))
    for (p, w), value in sorted(data.throughput.items()):
        rows.append(("Throughput", f"{p}/{w}", "tokens_per_s_per_chip", value,
                     data.cell("Throughput", (p, w), "tokens_per_s_per_chip")))
    for row in data.installed_base.itertuples(index=False):
        rows.append(("InstalledBase", f"{row.product}/{row.site}", "racks", row.racks, row.cell))
    for (v, p), t in sorted(data.qualified_from.items()):
        label = Q[t] if t < len(Q) else "after the plan"
        rows.append(("HBMQualification", f"{v}/{p}", "first_quarter", label,
                     data.cell("HBMQualification", (v, p), "first_quarter")))
    for key, value in asdict(data.settings).items():
        rows.append(("Settings", key, Col.value, value, data.cell("Settings", (key,), "value")))
    frame = pd.DataFrame(rows, columns=[Col.sheet, Col.key, Col.column, Col.value, Col.cell])
    frame[Col.value] = frame[Col.value].map(lambda v: None if v is None or (isinstance(v, float) and v != v) else v)
    return frame
