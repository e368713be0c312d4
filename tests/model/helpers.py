"""Small helpers for the hand-worked model tests: edit sheets of `minimal_sheets`, read one output row.

The economy of `tests.builders.minimal_sheets` (used by every test here unless a docstring says otherwise):
one product L1 (10 chips per rack, 10 kW, $1,000 capex, life 40 quarters, no HBM), made at fab F ($100 per
wafer, 10 dies per wafer, yield 1, lead 0, 1,000 wafers per quarter), one site S in region NA (PUE 1, power free,
100 MW), one workload w (100 tok/s per chip, unmet penalty $1 per tok/s per quarter), demand 1,000 tok/s each
quarter, budget $1e9 each quarter, no discounting, continuous racks. So one rack = 1 wafer ($100) + $1,000 capex
= $1,100, serves 1,000 tok/s and draws 0.01 MW.
"""

from __future__ import annotations

import math

from tests.builders import minimal_sheets, quarters

Q = quarters(8)  # 2026Q1 .. 2027Q4; Q[t] is the label of quarter t


def set_row(sheets: dict, sheet: str, key, **cols) -> None:
    """Set `cols` on the row of `sheet` whose first cell is `key` (adds the row and any missing header)."""
    rows = sheets[sheet]
    header = rows[0]
    for col in cols:
        if col not in header:
            header.append(col)
            for r in rows[1:]:
                r.append(None)
    matches = [r for r in rows[1:] if r[0] == key]
    if not matches:
        row = [key] + [None] * (len(header) - 1)
        rows.append(row)
        matches = [row]
    for r in matches:
        for col, v in cols.items():
            r[header.index(col)] = v


def add_row(sheets: dict, sheet: str, *values) -> None:
    """Append a row (padded to the header's width)."""
    header = sheets[sheet][0]
    row = list(values) + [None] * (len(header) - len(values))
    sheets[sheet].append(row)


def row(solved, table: str, **match) -> dict:
    """The single row of output `table` whose columns equal `match`."""
    frame = solved.table(table)
    mask = None
    for col, value in match.items():
        m = frame[col] == value
        mask = m if mask is None else mask & m
    hits = frame[mask]
    assert len(hits) == 1, f"{table} rows matching {match}: {len(hits)}"
    return hits.iloc[0].to_dict()


def is_blank(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def whole_racks(n: int = 1, demand: float = 4000) -> dict:
    """Whole racks, unmet penalty $5 per tok/s: one more rack (1,000 tok/s) saves $5,000 - $1,100."""
    sheets = minimal_sheets(n, integer_racks=True)
    set_row(sheets, "Workloads", "w", unmet_penalty_usd_per_tps=5)
    sheets["Demand"][1] = ["NA", "w"] + [demand] * n
    return sheets


def with_scarce_hbm(sheets: dict) -> dict:
    """L1 needs 1 HBM stack per chip (10 per rack) from vendor V at $10; HBMSupply 25 stacks = 2.5 racks."""
    sheets["Products"][0].append("stacks_per_chip")
    sheets["Products"][1].append(1)
    sheets["HBMVendors"].append(["V", 10])
    sheets["HBMSupply"].append(["V", 25])
    sheets["HBMQualification"].append(["V", "L1"])
    return sheets
