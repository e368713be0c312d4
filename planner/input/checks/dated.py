"""Rows dated in quarters, placed on the horizon: InstalledBase retirements, Partners windows, HBMQualification
first quarters. Each becomes a quarter index t (0 = the plan start); dates that make a row useless are warned."""

from __future__ import annotations

import pandas as pd

from planner.input.checks.rows import Row, ValidationContext
from planner.quarters import quarter_index

NEVER = 10**9  # retire_t of racks that do not retire


def installed_base(ctx: ValidationContext, rows: list[Row]) -> pd.DataFrame:
    """One row per cohort of racks, its retirement as retire_t; racks retired by the plan start are warned."""
    q0 = quarter_index(ctx.quarters[0])
    base = pd.DataFrame(
        [{"product": r.values["product"], "site": r.values["site"], "racks": float(r.values["racks"]),
          "retire_t": (quarter_index(r.values["retire_quarter"]) - q0 if r.values["retire_quarter"] else NEVER),
          "row": r.excel_row, "cell": r.cells.get("racks", "")} for r in rows],
        columns=["product", "site", "racks", "retire_t", "row", "cell"])
    for r in rows:
        rq = r.values["retire_quarter"]
        if rq and quarter_index(rq) <= q0:
            ctx.issues.warning("InstalledBase", r.cells["retire_quarter"], "retire_quarter", rq,
                               f"these racks retire at or before the plan start {ctx.quarters[0]}; they serve nothing")
    return base


def _check_partner_window(ctx: ValidationContext, p: str, fq: object, lq: object, a: int, b: int) -> None:
    """A window [a, b] (quarter indices) that is reversed holds no quarter (formulation.md: F only inside the
    window), and one off the horizon funds nothing there: warnings, the plan as written."""
    T, quarters = len(ctx.quarters), ctx.quarters
    fq, lq = (fq if isinstance(fq, str) else "(start)"), (lq if isinstance(lq, str) else "(open)")

    def at(column: str) -> tuple[str, str, str, str]:  # the cell of the end of the window that is off
        return "Partners", ctx.cells.get(("Partners", (p,), column), "Partners"), column, fq if column == \
            "first_quarter" else lq

    if a > b and fq != "(start)":  # a blank first_quarter is the plan start: a window ended before it is off
        ctx.issues.warning(*at("first_quarter"), f"partner {p}: first_quarter {fq} is after last_quarter {lq}: "
                           "the window holds no quarter, so the partner funds nothing (swap them if that is not "
                           "meant)")
    elif b < 0 or a > T - 1:
        ctx.issues.warning(*at("last_quarter" if b < 0 else "first_quarter"), f"partner {p}'s window {fq}..{lq} lies "
                           f"outside the horizon {quarters[0]}..{quarters[-1]}; it can fund nothing")
    elif a < 0 or b > T - 1:
        ctx.issues.warning(*at("first_quarter" if a < 0 else "last_quarter"), f"partner {p}'s window {fq}..{lq} "
                           f"extends beyond the horizon; only {quarters[max(a, 0)]}..{quarters[min(b, T - 1)]} is "
                           "planned")


def _check_partner_deal(ctx: ValidationContext, partners: pd.DataFrame, p: str,
                        partner_sites: list[tuple[str, str]]) -> None:
    """A deal that can never be signed or funds no site is warned, and so is a financing rate above 1 (a percent
    typed as a number: 13.5 for 13.5%)."""
    rate = partners.at[p, "financing_cost_rate"]
    if rate > 1:
        ctx.issues.warning("Partners", ctx.cells.get(("Partners", (p,), "financing_cost_rate"), "Partners"),
                           "financing_cost_rate", rate, f"partner {p}: each USD it funds costs ${rate:g}; the rate "
                           f"is a fraction: write {rate / 100:g} for {rate:g}%")
    if partners.at[p, "min_deal_usd"] > partners.at[p, "commitment_usd"]:
        ctx.issues.warning("Partners", ctx.cells.get(("Partners", (p,), "min_deal_usd"), "Partners"),
                           "min_deal_usd", partners.at[p, "min_deal_usd"],
                           f"partner {p}: the minimum deal exceeds the commitment; the deal can never be signed")
    rows = list(partner_sites) + list(ctx.dropped.get("PartnerSites", ()))  # a row with a bad site is a row
    if not any(n == p for n, _s in rows):
        ctx.issues.warning("Partners", ctx.cells.get(("Partners", (p,), "partner"), "Partners"), "partner", p,
                           f"partner {p} has no row in PartnerSites; it funds nothing")


def partner_windows(ctx: ValidationContext, partners: pd.DataFrame,
                    partner_sites: list[tuple[str, str]]) -> pd.DataFrame:
    """`partners` with first_t / last_t, each partner's window clipped to the horizon (blank = open-ended)."""
    T = len(ctx.quarters)
    q0 = quarter_index(ctx.quarters[0])
    first_t, last_t = [], []
    for p in partners.index:
        fq, lq = partners.at[p, "first_quarter"], partners.at[p, "last_quarter"]
        a = quarter_index(fq) - q0 if isinstance(fq, str) else 0
        b = quarter_index(lq) - q0 if isinstance(lq, str) else max(T - 1, a)  # blank: open-ended
        _check_partner_window(ctx, p, fq, lq, a, b)
        first_t.append(max(a, 0))
        last_t.append(min(b, T - 1))
        _check_partner_deal(ctx, partners, p, partner_sites)
    return partners.assign(first_t=first_t, last_t=last_t)


def qualified_from(ctx: ValidationContext, rows: list[Row]) -> dict[tuple[str, str], int]:
    """(18) HBMQualification.first_quarter as a quarter index: before the plan = 0, blank = 0 (not stored),
    after the horizon = T or more (never inside the plan, with a warning)."""
    T = len(ctx.quarters)
    out: dict[tuple[str, str], int] = {}
    q0 = quarter_index(ctx.quarters[0]) if ctx.quarters else 0
    for r in rows:
        first = r.values.get("first_quarter")
        if not first:
            continue
        t0 = max(0, quarter_index(first) - q0)
        key = (r.values["vendor"], r.values["product"])
        out[key] = t0
        if t0 >= T:
            ctx.issues.warning("HBMQualification", r.cells.get("first_quarter", "HBMQualification"),
                               "first_quarter", first, f"{key[0]} is qualified for {key[1]} from {first}, after "
                               f"the horizon {ctx.quarters[0]}..{ctx.quarters[-1]}: never used in this plan")
    return out
