"""What the closed quarter committed, carried into the next input, for planner roll: one function per step,
each editing the InputBook (and so noting every change) from the ClosedQuarter's values.

Every step has the same signature (book, data, closed, horizon); roll.py runs them in ROLL_STEPS order, after
the quarter columns moved (roll_quarters.py), so a step finds a wide sheet's columns in book.shifted.
"""

from __future__ import annotations

from openpyxl.utils import get_column_letter

from models.data import PlanData
from planner.cycle.roll_book import InputBook
from planner.cycle.roll_plan import ClosedQuarter, RollError, Value
from planner.cycle.roll_quarters import NextHorizon, next_quarter, roll_settings, shift_quarter_columns
from planner.input.convert import CellError, convert
from planner.output.plan_reader import numeric, truthy
from planner.quarters import parse_quarter, quarter_index, quarter_label
from planner.output.contract import Col

EPS = 1e-9
LAST_QUARTER = 4 * 9999 + 3  # quarter_index of 9999Q4, the last quarter a label can name

WaferStart = tuple[float, float, str, str]  # (wafers, good dies, arrival quarter, where from)


def tidy(x: float) -> float | int:
    """LP noise off: 4.9999999999 -> 5, -1e-12 -> 0; whole numbers as int (a neat cell)."""
    x = float(x)
    if abs(x) < EPS:
        return 0
    r = round(x, 6)
    if abs(r - round(r)) < 1e-9:
        return int(round(r))
    return r


def _number(value: object) -> float | int:
    """A cell's number, 0 for text, blanks and booleans."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


# ---- inventories --------------------------------------------------------------------------------------

def carry_inventories(book: InputBook, data: PlanData, closed: ClosedQuarter, horizon: NextHorizon) -> None:
    """Products.initial_die_bank / initial_chip_inventory and HBMVendors.initial_inventory: the closed
    quarter's ending stocks."""
    products = book.sheet("Products")
    for p in data.products.index:
        row = products.rows.get((p,))
        if row is None:
            continue
        for column, plan_col, what in (("initial_die_bank", Col.die_bank_end, "die bank at the new start"),
                                       ("initial_chip_inventory", Col.chip_inventory_end,
                                        "finished chips at the new start")):
            v = closed.value("Chips", (p,), {Col.product: p}, plan_col)
            if v is None:
                book.note(f"{what}: no value for {p} in the plan", "Products", "", None,
                          f"{closed.plan_path.name} Chips has no row {p}/{closed.quarter}; kept", "warning")
                continue
            book.set(products, row, column, tidy(v.value), f"{what} ({p})", v.source)
    book.touched.add(products.ws.title)
    vendors = book.sheet("HBMVendors")
    for vendor in data.vendors.index:
        row = vendors.rows.get((vendor,))
        v = closed.value("HBM", (vendor,), {Col.vendor: vendor}, Col.inventory_end)
        if row is None or v is None:
            continue
        book.set(vendors, row, "initial_inventory", tidy(v.value), f"HBM stacks at the new start ({vendor})",
                 v.source)
        book.touched.add(vendors.ws.title)


# ---- installed base -----------------------------------------------------------------------------------

def carry_installed_base(book: InputBook, data: PlanData, closed: ClosedQuarter, horizon: NextHorizon) -> None:
    """Racks deployed in the closed quarter join InstalledBase; cohorts retiring by the new start leave it."""
    life = data.products["life_quarters"].to_dict()
    cohorts = _deployed_cohorts(book, data, closed, horizon)
    header = [Col.product, Col.site, "racks", "retire_quarter"]
    sheet = book.sheet("InstalledBase", header if cohorts else None)
    if sheet is None:
        return
    ws = sheet.ws
    if sheet.raw is not None and "retire_quarter" in sheet.columns:
        _drop_retired_cohorts(book, sheet, horizon)
    for p, s, racks, retire, source in cohorts:
        row = book.append_row(sheet)
        ws.cell(row, book.column(sheet, "product"), p)
        ws.cell(row, book.column(sheet, "site"), s)
        book.set(sheet, row, "racks", racks, f"racks of {p} deployed at {s} in {closed.quarter}", source, comment=True)
        book.set(sheet, row, "retire_quarter", retire, f"{closed.quarter} + life_quarters {life[p]}",
                 f"Products {p} life_quarters")
    book.touched.add(ws.title)


def _deployed_cohorts(book: InputBook, data: PlanData, closed: ClosedQuarter,
                      horizon: NextHorizon) -> list[tuple[str, str, float | int, str | None, str]]:
    """(product, site, racks, retire quarter or None for never, where from) of the racks deployed in the closed
    quarter that are still there at the new start (the others are noted, not carried)."""
    life = data.products["life_quarters"].to_dict()
    cohorts = []
    for p in data.products.index:
        for s in data.sites.index:
            v = closed.value("Deployments", (p, s), {Col.product: p, Col.site: s}, Col.racks_deployed)
            if v is None or tidy(v.value) == 0:
                continue
            retire = next_quarter(closed.quarter, min(int(life[p]), LAST_QUARTER - quarter_index(closed.quarter)))
            if int(life[p]) > LAST_QUARTER - quarter_index(closed.quarter):
                retire = None  # beyond 9999Q4: never retires within any plan
            if retire is not None and quarter_index(retire) <= quarter_index(horizon.start):
                book.note(f"racks of {p} at {s} deployed in {closed.quarter} retire at the new start", "InstalledBase",
                          "", tidy(v.value), f"{v.source}; life_quarters {life[p]}: not carried")
                continue
            cohorts.append((p, s, tidy(v.value), retire, v.source))
    return cohorts


def _drop_retired_cohorts(book: InputBook, sheet, horizon: NextHorizon) -> None:
    ws = sheet.ws
    col = sheet.columns["retire_quarter"]
    gone = []
    for r in sheet.raw.rows:
        try:
            rq = convert("quarter", r.values.get("retire_quarter"))
        except CellError:
            continue
        if rq and quarter_index(rq) <= quarter_index(horizon.start):
            gone.append((r.excel_row, rq, r.values.get("product"), r.values.get("site"), r.values.get("racks")))
    for excel_row, rq, p, s, racks in sorted(gone, reverse=True):  # bottom up: the rows above keep their number
        ws.delete_rows(excel_row)
        book.note("retired cohort dropped", ws.title, f"{ws.title}!{get_column_letter(col)}{excel_row}",
                  racks, f"{p} at {s} retire in {rq}, at or before the new start {horizon.start}")
    if gone:
        book.touched.add(ws.title)


# ---- wafers in flight ---------------------------------------------------------------------------------

def carry_receipts(book: InputBook, data: PlanData, closed: ClosedQuarter, horizon: NextHorizon) -> None:
    """Good dies of wafers started in the closed quarter that arrive later join ScheduledReceipts."""
    arrivals = _arrivals(book, closed, horizon, _wafers_started(book, data, closed))
    if not arrivals:
        return
    sheet = book.shifted.get("ScheduledReceipts") or \
        book.sheet("ScheduledReceipts", [Col.product] + horizon.quarters)
    ws = sheet.ws
    for (p, q), parts in sorted(arrivals.items()):
        row = sheet.rows.get((p,))
        if row is None:
            row = book.append_row(sheet)
            ws.cell(row, book.column(sheet, "product"), p)
            sheet.rows[(p,)] = row
        if q not in sheet.columns:
            book.column(sheet, q)
        cell = ws.cell(row, sheet.columns[q])
        before = _number(cell.value)
        dies = sum(d for d, _s in parts)
        text = "; ".join(s for _d, s in parts)
        book.set(sheet, row, q, tidy(before + dies), f"good dies of {p} arriving in {q} from wafers in flight",
                 text + (f"; plus {before} already scheduled" if before else ""), comment=True)
    book.touched.add(ws.title)


def _wafers_started(book: InputBook, data: PlanData, closed: ClosedQuarter) -> dict[tuple[str, str], WaferStart]:
    """(product, fab) -> the wafers started in the closed quarter: the plan's, replaced by the actuals'."""
    routes = data.routes
    started = {}
    frame = closed.plan.get("Wafers")
    if frame is not None and len(frame):
        frame = numeric(frame, Col.wafers, Col.good_dies_out)
        for i, r in enumerate(frame.to_dict("records")):
            if str(r[Col.quarter]) != closed.quarter:
                continue
            started[(str(r[Col.product]), str(r[Col.fab]))] = (
                r[Col.wafers], r[Col.good_dies_out], str(r[Col.arrival_quarter]),
                closed.where(frame, i, Col.good_dies_out, "Wafers"))
    for key, entry in closed.actuals.get("Wafers", {}).items():
        p, f = key
        if (p, f) not in routes.index:
            raise RollError(f"actuals {entry[next(iter(entry))].source}: no route {p}/{f} in Routes")
        wafers = entry.get(Col.wafers)
        plan = started.get(key)
        n = wafers.value if wafers else (plan[0] if plan else 0.0)
        # dies and arrival not reported: from Routes, as the model computes them
        dies = entry[Col.good_dies_out].value if Col.good_dies_out in entry else \
            n * float(routes.at[(p, f), "dies_per_wafer"]) * data.yields[(p, f, 0)]
        arrival = entry[Col.arrival_quarter].value if Col.arrival_quarter in entry else \
            next_quarter(closed.quarter, int(routes.at[(p, f), "lead_quarters"]))
        src = next(iter(entry.values())).source
        _warn_more_dies_than_wafers_hold(book, entry, n, float(routes.at[(p, f), "dies_per_wafer"]), (p, f))
        started[key] = (n, dies, arrival, f"actuals {src}")
    return started


def _warn_more_dies_than_wafers_hold(book: InputBook, entry: dict, wafers: float, dies_per_wafer: float,
                                     route: tuple[str, str]) -> None:
    """Reported good dies above the wafers' gross dies cannot have come out of them: most often the `wafers`
    and `good_dies_out` columns are swapped, or a wafer count is missing. Kept (the actuals are the planner's
    word), but said at the cell."""
    reported = entry.get(Col.good_dies_out)
    gross = wafers * dies_per_wafer
    if reported is None or tidy(reported.value) <= tidy(gross) * (1 + 1e-9):
        return
    p, f = route
    book.note(f"more good dies of {p} from {f} than its wafers hold", "Wafers", "", tidy(reported.value),
              f"actuals {reported.source}: {tidy(wafers):,} wafer(s) x {tidy(dies_per_wafer):,} gross dies "
              f"(Routes dies_per_wafer) = {tidy(gross):,}; are the wafers and good_dies_out columns swapped?",
              "warning")


def _arrivals(book: InputBook, closed: ClosedQuarter, horizon: NextHorizon,
              started: dict[tuple[str, str], WaferStart]) -> dict[tuple[str, str], list[tuple[float, str]]]:
    """(product, arrival quarter) -> [(good dies, what)] of the wafer starts arriving within the new horizon;
    those arriving after it are noted."""
    arrivals: dict[tuple[str, str], list[tuple[float, str]]] = {}
    last = quarter_index(horizon.quarters[-1])
    for (p, f), (n, dies, arrival, source) in sorted(started.items()):
        if tidy(dies) == 0 or not parse_quarter(arrival):
            continue
        a = quarter_index(arrival)
        if a <= quarter_index(closed.quarter):
            continue  # arrived in the closed quarter: in the die bank already
        if a > last:
            book.note(f"dies of {p} from {f} arrive after the new horizon", "ScheduledReceipts", "", tidy(dies),
                      f"{source}: arrive {arrival}; add a quarter column if the horizon grows")
            continue
        arrivals.setdefault((p, arrival), []).append((dies, f"{tidy(n)} wafer(s) of {p} started at {f} in "
                                                           f"{closed.quarter} ({source})"))
    return arrivals


# ---- expansion and packaging blocks -------------------------------------------------------------------

def carry_expansion_blocks(book: InputBook, data: PlanData, closed: ClosedQuarter, horizon: NextHorizon) -> None:
    """Blocks started in the closed quarter: their MW join SitePower from the quarter they arrive, and
    SiteExpansion.max_blocks falls by as many (they are no longer a choice)."""
    exp = data.expansion
    started = _blocks_started(closed) if len(exp) else {}
    if not started:
        return
    site_power = book.shifted.get("SitePower") or book.sheet("SitePower")
    expansion = book.sheet("SiteExpansion")
    for s, (n, src) in sorted(started.items()):
        if s not in exp.index:
            continue
        mw = n * float(exp.at[s, "block_mw"])
        lead = int(exp.at[s, "lead_quarters"])
        arrive = quarter_index(closed.quarter) + lead
        row = site_power.rows.get((s,)) if site_power is not None else None
        if row is None:
            row = book.append_row(site_power)
            site_power.ws.cell(row, book.column(site_power, "site"), s)
            site_power.rows[(s,)] = row
        for q in horizon.quarters:
            if quarter_index(q) < arrive:
                continue
            col = site_power.columns.get(q) or book.column(site_power, q)
            before = _number(site_power.ws.cell(row, col).value)
            book.set(site_power, row, q, tidy(before + mw), f"{tidy(n)} expansion block(s) started at {s} in "
                     f"{closed.quarter} add {tidy(mw)} MW from {quarter_label(arrive)}",
                     f"{src}; SiteExpansion block_mw {exp.at[s, 'block_mw']}, lead_quarters {lead}", comment=True)
        book.touched.add(site_power.ws.title)
        erow = expansion.rows.get((s,)) if expansion is not None else None
        if erow is not None:
            most = float(exp.at[s, "max_blocks"])
            book.set(expansion, erow, "max_blocks", tidy(max(0.0, most - n)),
                     f"expansion blocks left at {s} after {closed.quarter}",
                     f"{tidy(most)} - {tidy(n)} started in {closed.quarter} ({src})")
            book.touched.add(expansion.ws.title)


def _blocks_started(closed: ClosedQuarter) -> dict[str, tuple[float, str]]:
    """site -> (expansion blocks the plan started in the closed quarter, where from: the first row's cell)."""
    power = closed.plan.get("Power")
    if power is None or not len(power) or Col.blocks_started not in power.columns:
        return {}
    frame = numeric(power, Col.blocks_started)
    started: dict[str, tuple[float, str]] = {}
    for i, r in enumerate(frame.to_dict("records")):
        if str(r.get(Col.quarter)) == closed.quarter and r[Col.blocks_started] > EPS:
            s = str(r[Col.site])
            n, src = started.get(s, (0.0, closed.where(frame, i, Col.blocks_started, "Power")))
            started[s] = (n + float(r[Col.blocks_started]), src)
    return started


def carry_packaging_blocks(book: InputBook, data: PlanData, closed: ClosedQuarter, horizon: NextHorizon) -> None:
    """Packaging blocks started in the closed quarter (family 19) are committed: PackagingExpansion.max_blocks
    falls by them and PackagingCapacity gains block_chips x blocks from the quarter they come on line."""
    pexp = data.packaging_expansion
    expansion, capacity = book.sheet("PackagingExpansion"), book.shifted.get("PackagingCapacity")
    for k in pexp.index:
        v = closed.value("Packaging", (k,), {Col.packaging_line: k}, Col.blocks_started)
        if v is None or tidy(v.value) == 0 or expansion is None or capacity is None:
            continue
        blocks, row = tidy(v.value), expansion.rows.get((k,))
        if row is not None:
            book.set(expansion, row, "max_blocks", tidy(float(pexp.at[k, "max_blocks"]) - blocks),
                     f"packaging blocks on {k} left after {blocks:g} started in {closed.quarter}", v.source)
            book.touched.add(expansion.ws.title)
        on_line = next_quarter(closed.quarter, int(pexp.at[k, "lead_quarters"]))
        extra = blocks * float(pexp.at[k, "block_chips"])
        cap_row = capacity.rows.get((k,))
        for q in horizon.quarters:
            if cap_row is None or quarter_index(q) < quarter_index(on_line) or q not in capacity.columns:
                continue
            cell = capacity.ws.cell(cap_row, capacity.columns[q])
            before = float(cell.value or 0.0)
            book.set(capacity, cap_row, q, tidy(before + extra), f"{k} capacity with the {blocks:g} block(s) "
                     f"started in {closed.quarter} (+{extra:,.6g} chips)", v.source)
        book.touched.add(capacity.ws.title)


# ---- partners -----------------------------------------------------------------------------------------

def carry_partners(book: InputBook, data: PlanData, closed: ClosedQuarter, horizon: NextHorizon) -> None:
    """A window that began before the new start begins at it; a signed deal keeps what is left of its
    commitment and minimum after the closed quarter's funding, its signing cost paid."""
    if not len(data.partners):
        return
    sheet = book.sheet("Partners")
    for n in data.partners.index:
        row = sheet.rows.get((n,))
        if row is None:
            continue
        signed, signed_src = _signed(closed, n)
        first = data.partners.at[n, "first_quarter"]
        if isinstance(first, str) and quarter_index(first) < quarter_index(horizon.start):
            book.set(sheet, row, "first_quarter", horizon.start, f"partner {n}'s window starts at the new start",
                     f"was {first}, now closed")
        last = data.partners.at[n, "last_quarter"]
        if isinstance(last, str) and quarter_index(last) < quarter_index(horizon.start):
            book.note(f"partner {n}'s window has ended", sheet.ws.title, "", last, "it can fund nothing more",
                      "warning")
        if not signed:
            continue
        funded = _funded(closed, n)
        spent, src = funded.value, funded.source
        commitment = float(data.partners.at[n, "commitment_usd"])
        minimum = float(data.partners.at[n, "min_deal_usd"])
        book.set(sheet, row, "commitment_usd", tidy(max(0.0, commitment - spent)),
                 f"signed deal {n}: commitment left after {closed.quarter}",
                 f"{commitment:,.0f} - {spent:,.0f} funded in {closed.quarter} ({src}); signed: {signed_src}")
        if minimum > 0:
            book.set(sheet, row, "min_deal_usd", tidy(max(0.0, minimum - spent)),
                     f"signed deal {n}: minimum left after {closed.quarter}", f"{minimum:,.0f} - {spent:,.0f} ({src})")
        if float(data.partners.at[n, "fixed_deal_cost_usd"]) > 0:
            book.set(sheet, row, "fixed_deal_cost_usd", 0, f"signed deal {n}: signing cost already paid",
                     signed_src)
    book.touched.add(sheet.ws.title)


def _signed(closed: ClosedQuarter, partner: str) -> tuple[bool, str]:
    """(did the deal get signed, where that is from): the actuals, else the plan's Partners row."""
    actual = closed.actual("Partners", (partner,), Col.signed)
    if actual is not None:
        return bool(actual.value), f"actuals {actual.source}"
    partners_plan = closed.plan.get("Partners")
    if partners_plan is not None and len(partners_plan):
        hits = [i for i, v in enumerate(partners_plan[Col.partner].astype(str)) if v == str(partner)]
        if hits:
            return (truthy(partners_plan[Col.signed].iloc[hits[0]]),
                    closed.where(partners_plan, hits[0], Col.signed, "Partners"))
    return False, ""


def _funded(closed: ClosedQuarter, partner: str) -> Value:
    """What the partner funded in the closed quarter: the actuals, else the plan's Capex column of it."""
    actual = closed.actual("Partners", (partner,), Col.funded_usd)
    if actual is not None:
        return Value(actual.value, f"actuals {actual.source}")
    capex = closed.plan.get("Capex")
    if capex is None or str(partner) not in capex.columns or not len(capex):
        return Value(0.0, f"{closed.plan_path.name} has no Capex column for {partner}: nothing funded assumed")
    spent = closed.plan_value("Capex", {}, str(partner))
    return Value(spent.value, spent.source + " and below") if spent is not None else \
        Value(0.0, f"{closed.plan_path.name} Capex")


# the order the steps run in (and note in): the horizon first, then what the closed quarter committed
ROLL_STEPS = (roll_settings, shift_quarter_columns, carry_inventories, carry_installed_base, carry_receipts,
              carry_expansion_blocks, carry_partners, carry_packaging_blocks)
