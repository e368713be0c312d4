"""planner roll PLAN.xlsx INPUT.xlsx -o NEXT.xlsx [--actuals ACTUALS.xlsx] [--quarters N]: next quarter's input.

When a quarter closes, its decisions have happened. The next input workbook is this one, one quarter on:

* **Horizon.** Settings.start_quarter moves on by one quarter; Settings.quarters stays (or becomes --quarters).
* **Quarter columns** of every time-phased sheet: the closed quarter's column is dropped, the others move one
  column left, and each quarter the new horizon adds at the end is a copy of the old last quarter, its header
  coloured and commented ("review and edit"). ScheduledReceipts is the exception: a new quarter starts blank.
* **Inventories.** Products.initial_die_bank / initial_chip_inventory and HBMVendors.initial_inventory become the
  plan's end-of-quarter values of the closed quarter (Chips.die_bank_end, Chips.chip_inventory_end,
  HBM.inventory_end), or the actuals where given.
* **Installed base.** Racks deployed in the closed quarter (Deployments.racks_deployed) become InstalledBase rows
  retiring at deploy quarter + Products.life_quarters. Rows that retire at or before the new start are dropped.
* **Wafers in flight.** Good dies of wafers started in the closed quarter that arrive later (Wafers.good_dies_out
  at arrival_quarter) are added to ScheduledReceipts.
* **Signed deals.** A partner signed in the plan keeps its deal: commitment_usd and min_deal_usd fall by what it
  funded in the closed quarter (Capex, the partner's column), fixed_deal_cost_usd becomes 0 (paid). Plan with
  ``planner run --previous PLAN.xlsx --freeze N`` (N >= 1) so the deal stays signed.
  A partner window that began before the new start begins at the new start.
* **Packaging blocks.** Blocks started on a packaging line in the closed quarter (Packaging.blocks_started) are
  committed: PackagingExpansion.max_blocks falls by them and PackagingCapacity gains block_chips x blocks from
  the quarter they come on line (closed quarter + lead_quarters).
* Everything else is copied as it is: other sheets, columns, formats, comments. Formulas are replaced by their
  cached values (openpyxl cannot compute them; the planner reads values). Every change is listed, with the
  cell it went to and where the value came from, on a first sheet ``RollNotes``.

The input workbook is only read; the new workbook is written to a temporary file and moved into place.

Actuals (``--actuals ACTUALS.xlsx``): what really happened in the closed quarter, replacing the plan's values
key by key (a key not listed keeps the plan's value; list it with 0 to say nothing happened). Every sheet is
optional; headers in row 1, named as in the plan workbook, so an edited copy of the plan's own sheets works:

| sheet | keys | values (any of) |
|---|---|---|
| Chips | product | die_bank_end, chip_inventory_end |
| HBM | vendor | inventory_end |
| Deployments | product, site | racks_deployed |
| Wafers | product, fab | wafers (started in the closed quarter); good_dies_out, arrival_quarter (default: from Routes) |
| Partners | partner | signed (TRUE/FALSE), funded_usd (partner money spent in the closed quarter) |

A ``quarter`` column is optional; where present only rows of the closed quarter are used.
"""

from __future__ import annotations

import io
import logging
import warnings
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries

from planner.cycle.roll_notes import NOTES_SHEET, Note, save_rolled
from planner.cycle.roll_plan import (ACTUALS, BOOL_TEXT, PLAN_NUMBERS, PLAN_SHEETS, ClosedQuarter, RollError,
                                     Value, plan_value_problems, read_actuals, read_rollable_plan)
from planner.input.convert import CellError, convert
from planner.output.plan_reader import numeric, plan_cell, truthy
from planner.quarters import horizon, horizon_problem, parse_quarter, quarter_index, quarter_label
from planner.output.xlsx import OutputError, check_target
from planner.input.schema import SHEET_BY_NAME, SHEETS
from planner.input.validate import validate_raw
from planner.input.reader import RawSheet, normalise_header, read_workbook

log = logging.getLogger("planner")

__all__ = ["ACTUALS", "BOOL_TEXT", "NOTES_SHEET", "PLAN_NUMBERS", "PLAN_SHEETS", "ROLL_AUTHOR", "Note", "RollError",
           "Value", "next_quarter", "plan_value_problems", "roll", "tidy"]  # roll.py's names, wherever they live

ROLL_AUTHOR = "planner roll"
NEW_FILL = PatternFill("solid", fgColor="FFEB9C")  # Excel's "neutral" yellow: look at me
NOT_REPEATED = frozenset({"ScheduledReceipts"})  # a new quarter of these starts blank
EPS = 1e-9


def tidy(x: float) -> float | int:
    """LP noise off: 4.9999999999 -> 5, -1e-12 -> 0; whole numbers as int (a neat cell)."""
    x = float(x)
    if abs(x) < EPS:
        return 0
    r = round(x, 6)
    if abs(r - round(r)) < 1e-9:
        return int(round(r))
    return r


def next_quarter(label: str, k: int = 1) -> str:
    return quarter_label(quarter_index(label) + k)


def roll(plan_path: str | Path, input_path: str | Path, output_path: str | Path,
         actuals_path: str | Path | None = None, quarters: int | None = None,
         notes: list[Note] | None = None) -> Path:
    """Write next quarter's input workbook (see the module docstring). Returns the path written.

    `notes`, when given, receives every change made (also written to the RollNotes sheet)."""
    roller = _Roller(Path(plan_path), Path(input_path), Path(output_path),
                     Path(actuals_path) if actuals_path else None, quarters)
    path = roller.run()
    if notes is not None:
        notes.extend(roller.notes)
    return path


# ---- the roll --------------------------------------------------------------------------------------------

@dataclass
class _Sheet:
    """An input sheet being edited: its worksheet and where its header and columns are."""
    ws: object
    raw: RawSheet | None
    header_row: int
    columns: dict[str, int]  # normalised header -> column index (1-based)
    keys: tuple[str, ...]
    rows: dict[tuple, int] = field(default_factory=dict)  # key tuple -> Excel row


class _Roller:
    def __init__(self, plan_path: Path, input_path: Path, output_path: Path, actuals_path: Path | None,
                 quarters: int | None):
        self.plan_path, self.input_path, self.output_path = plan_path, input_path, output_path
        self.actuals_path = actuals_path
        self.quarters = quarters
        self.notes: list[Note] = []
        self.touched: set[str] = set()
        self.shifted: dict[str, _Sheet] = {}

    def note(self, what: str, sheet: str, cell: str, value: object, source: str, level: str = "info") -> None:
        self.notes.append(Note(what, sheet, cell, value, source, level))

    # ---- reading ------------------------------------------------------------------------------------------
    def run(self) -> Path:
        check_target(self.output_path, self.input_path)
        if self.output_path.exists() and self.output_path.resolve() == self.plan_path.resolve():
            raise OutputError(f"the output {self.output_path} is the plan workbook; choose another name with -o")
        raw, issues = read_workbook(self.input_path)
        data = None
        if raw is not None and issues.ok:
            data, issues = validate_raw(raw, issues)
        if data is None:
            shown = "\n  ".join(str(i) for i in issues.errors[:10])
            raise RollError(f"the input workbook {self.input_path.name} has {len(issues.errors)} error(s); "
                            f"fix them (planner validate) before rolling:\n  {shown}")
        self.raw, self.data = raw, data
        self.plan = read_rollable_plan(self.plan_path, self.input_path, data)
        q0 = data.quarters[0]
        self.q0 = q0
        self.new_start = next_quarter(q0)
        T = data.T if self.quarters is None else int(self.quarters)
        if not 1 <= T <= 200:
            raise RollError(f"--quarters must be between 1 and 200, not {T}")
        if horizon_problem(self.new_start, T):
            raise RollError(f"cannot roll past {q0}: {horizon_problem(self.new_start, T)}")
        self.new_quarters = horizon(self.new_start, T)
        self.old_last = data.quarters[-1]
        actuals = read_actuals(self.actuals_path, data, q0, self.notes) if self.actuals_path else {}
        self.closed = ClosedQuarter(self.plan_path, q0, self.plan, actuals)

        data_bytes = self.input_path.read_bytes()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.wb = load_workbook(io.BytesIO(data_bytes), data_only=True, keep_links=False)
        self._note_formulas(data_bytes)
        self._settings()
        for spec in SHEETS:
            if spec.kind == "wide" and spec.name in raw.sheets:
                self._shift(spec.name)
        self._inventories()
        self._installed_base()
        self._receipts()
        self._expansion_blocks()
        self._partners()
        self._packaging_blocks()
        for title in self.touched:
            _fit_tables(self.wb[title])
        headline = (f"Rolled from {self.plan_path.name} and {self.input_path.name}"
                    + (f" with actuals {self.actuals_path.name}" if self.actuals_path else "")
                    + f": {self.q0} has closed; the horizon is now {self.new_quarters[0]}..{self.new_quarters[-1]}.")
        return save_rolled(self.wb, self.notes, headline, self.output_path, self.input_path)

    def _note_formulas(self, data_bytes: bytes) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fwb = load_workbook(io.BytesIO(data_bytes), read_only=True, data_only=False, keep_links=False)
        try:
            for name, sheet in self.raw.sheets.items():
                count = 0
                for row in fwb[sheet.title].iter_rows():
                    for c in row:
                        v = getattr(c, "value", None)
                        if isinstance(v, str) and v.startswith("=") and getattr(c, "data_type", "") == "f":
                            count += 1
                if count:
                    self.note("formulas replaced by their values", sheet.title, "", count,
                              "openpyxl cannot recompute formulas: the new workbook holds the values the input's "
                              "formulas had", "warning")
        finally:
            fwb.close()

    # ---- sheets -------------------------------------------------------------------------------------------
    def _sheet(self, name: str, create_header: list[str] | None = None) -> _Sheet | None:
        spec = SHEET_BY_NAME[name]
        raw = self.raw.sheets.get(name)
        if raw is None:
            if create_header is None:
                return None
            ws = self._create_sheet(name, create_header)
            return _Sheet(ws, None, 1, {h: i for i, h in enumerate(create_header, start=1)}, spec.keys)
        ws = self.wb[raw.title]
        columns = {n: column_index_from_string(letter) for n, letter in raw.columns.items()}
        sheet = _Sheet(ws, raw, raw.header_row, columns, spec.keys)
        for r in raw.rows:
            try:
                key = tuple(convert("key", r.values.get(k)) for k in spec.keys)
            except CellError:
                continue
            if all(k is not None for k in key):
                sheet.rows.setdefault(key, r.excel_row)
        return sheet

    def _create_sheet(self, name: str, header: list[str]):
        order = [s.name for s in SHEETS]
        after = [s for s in order[: order.index(name)] if s in self.raw.sheets]
        index = self.wb.sheetnames.index(self.raw.sheets[after[-1]].title) + 1 if after else len(self.wb.sheetnames)
        ws = self.wb.create_sheet(name, index)
        for j, h in enumerate(header, start=1):
            c = ws.cell(1, j, h)
            c.font = Font(bold=True)
        ws.freeze_panes = "B2"
        self.note("sheet created", name, f"{name}!A1", name, "the rolled plan needs it")
        self.touched.add(name)
        return ws

    def _column(self, sheet: _Sheet, name: str) -> int:
        """The column of `name`, added after the last header if the sheet lacks it."""
        if name in sheet.columns:
            return sheet.columns[name]
        last = max([c for c in range(1, sheet.ws.max_column + 1)
                    if sheet.ws.cell(sheet.header_row, c).value not in (None, "")], default=0)
        col = last + 1
        cell = sheet.ws.cell(sheet.header_row, col, name)
        if last:
            cell._style = copy(sheet.ws.cell(sheet.header_row, last)._style)
        sheet.columns[name] = col
        self.touched.add(sheet.ws.title)
        self.note("column added", sheet.ws.title, f"{sheet.ws.title}!{cell.coordinate}", name, "needed for a rolled value")
        return col

    def _set(self, sheet: _Sheet, row: int, column: str, value: object, what: str, source: str,
             comment: bool = False) -> None:
        col = self._column(sheet, column)
        cell = sheet.ws.cell(row, col)
        old = cell.value
        cell.value = value
        if comment:
            cell.comment = Comment(f"{what}\nfrom {source}", ROLL_AUTHOR, width=300, height=80)
        self.note(what, sheet.ws.title, f"{sheet.ws.title}!{cell.coordinate}", value,
                  f"{source}" + (f" (was {old})" if old not in (None, "") and old != value else ""))

    def _append_row(self, sheet: _Sheet) -> int:
        ws = sheet.ws
        key_cols = [sheet.columns[k] for k in sheet.keys if k in sheet.columns] or [1]
        last = sheet.header_row
        for r in range(sheet.header_row + 1, ws.max_row + 1):
            if any(ws.cell(r, c).value not in (None, "") for c in key_cols):
                last = r
        return last + 1

    def _settings(self) -> None:
        sheet = self._sheet("Settings")
        rows = {}
        for r in sheet.raw.rows:
            key = r.values.get("key")
            if isinstance(key, str):
                rows[key.strip().lower().replace(" ", "_")] = r.excel_row
        self._set(sheet, rows["start_quarter"], "value", self.new_start, "horizon moves on one quarter",
                  f"{self.plan_path.name}: {self.q0} has closed")
        if self.quarters is not None and self.quarters != self.data.T:
            self._set(sheet, rows["quarters"], "value", len(self.new_quarters), "horizon length", "--quarters")
        self.touched.add(sheet.ws.title)

    def _shift(self, name: str) -> None:
        sheet = self._sheet(name)
        qcols = {q: c for q, c in sheet.columns.items() if parse_quarter(q) == q}
        if not qcols:
            return
        added, placed = _shift_quarters(sheet.ws, sheet.header_row, qcols, self.old_last, self.new_quarters,
                                        repeat=name not in NOT_REPEATED)
        self.touched.add(sheet.ws.title)
        ws = sheet.ws
        sheet.columns = {normalise_header(ws.cell(sheet.header_row, c).value): c for c in range(1, ws.max_column + 1)
                         if ws.cell(sheet.header_row, c).value not in (None, "")}
        self.shifted[name] = sheet
        dropped = sorted((q for q in qcols if q not in placed), key=quarter_index)
        if dropped:
            self.note("quarter column(s) dropped", sheet.ws.title, "", ", ".join(dropped),
                      "outside the new horizon (the values stay in the input workbook)")
        for q in added:
            col = placed[q]
            ref = f"{sheet.ws.title}!{get_column_letter(col)}{sheet.header_row}"
            if name in NOT_REPEATED:
                self.note("new quarter column", sheet.ws.title, ref, q, "blank (no receipts known yet) except dies "
                          "of wafers in flight: review")
            else:
                self.note("new quarter column", sheet.ws.title, ref, q, f"values copied from {self.old_last}: "
                          "review and edit them")

    def _packaging_blocks(self) -> None:
        """Packaging blocks started in the closed quarter (family 19) are committed: PackagingExpansion.max_blocks
        falls by them and PackagingCapacity gains block_chips x blocks from the quarter they come on line."""
        pexp = self.data.packaging_expansion
        expansion, capacity = self._sheet("PackagingExpansion"), self.shifted.get("PackagingCapacity")
        for k in pexp.index:
            v = self.closed.value("Packaging", (k,), {"packaging_line": k}, "blocks_started")
            if v is None or tidy(v.value) == 0 or expansion is None or capacity is None:
                continue
            blocks, row = tidy(v.value), expansion.rows.get((k,))
            if row is not None:
                self._set(expansion, row, "max_blocks", tidy(float(pexp.at[k, "max_blocks"]) - blocks),
                          f"packaging blocks on {k} left after {blocks:g} started in {self.q0}", v.source)
                self.touched.add(expansion.ws.title)
            on_line = next_quarter(self.q0, int(pexp.at[k, "lead_quarters"]))
            extra = blocks * float(pexp.at[k, "block_chips"])
            cap_row = capacity.rows.get((k,))
            for q in self.new_quarters:
                if cap_row is None or quarter_index(q) < quarter_index(on_line) or q not in capacity.columns:
                    continue
                cell = capacity.ws.cell(cap_row, capacity.columns[q])
                before = float(cell.value or 0.0)
                self._set(capacity, cap_row, q, tidy(before + extra), f"{k} capacity with the {blocks:g} block(s) "
                          f"started in {self.q0} (+{extra:,.6g} chips)", v.source)
            self.touched.add(capacity.ws.title)

    def _inventories(self) -> None:
        products = self._sheet("Products")
        for p in self.data.products.index:
            row = products.rows.get((p,))
            if row is None:
                continue
            for column, plan_col, what in (("initial_die_bank", "die_bank_end", "die bank at the new start"),
                                           ("initial_chip_inventory", "chip_inventory_end",
                                            "finished chips at the new start")):
                v = self.closed.value("Chips", (p,), {"product": p}, plan_col)
                if v is None:
                    self.note(f"{what}: no value for {p} in the plan", "Products", "", None,
                              f"{self.plan_path.name} Chips has no row {p}/{self.q0}; kept", "warning")
                    continue
                self._set(products, row, column, tidy(v.value), f"{what} ({p})", v.source)
        self.touched.add(products.ws.title)
        vendors = self._sheet("HBMVendors")
        for vendor in self.data.vendors.index:
            row = vendors.rows.get((vendor,))
            v = self.closed.value("HBM", (vendor,), {"vendor": vendor}, "inventory_end")
            if row is None or v is None:
                continue
            self._set(vendors, row, "initial_inventory", tidy(v.value), f"HBM stacks at the new start ({vendor})",
                      v.source)
            self.touched.add(vendors.ws.title)

    def _installed_base(self) -> None:
        life = self.data.products["life_quarters"].to_dict()
        cohorts = []
        for p in self.data.products.index:
            for s in self.data.sites.index:
                v = self.closed.value("Deployments", (p, s), {"product": p, "site": s}, "racks_deployed")
                if v is None or tidy(v.value) == 0:
                    continue
                retire = next_quarter(self.q0, min(int(life[p]), 4 * 9999 + 3 - quarter_index(self.q0)))
                if int(life[p]) > 4 * 9999 + 3 - quarter_index(self.q0):
                    retire = None  # beyond 9999Q4: never retires within any plan
                if retire is not None and quarter_index(retire) <= quarter_index(self.new_start):
                    self.note(f"racks of {p} at {s} deployed in {self.q0} retire at the new start", "InstalledBase",
                              "", tidy(v.value), f"{v.source}; life_quarters {life[p]}: not carried")
                    continue
                cohorts.append((p, s, tidy(v.value), retire, v.source))
        header = ["product", "site", "racks", "retire_quarter"]
        sheet = self._sheet("InstalledBase", header if cohorts else None)
        if sheet is None:
            return
        ws = sheet.ws
        if sheet.raw is not None and "retire_quarter" in sheet.columns:
            col = sheet.columns["retire_quarter"]
            gone = []
            for r in sheet.raw.rows:
                try:
                    rq = convert("quarter", r.values.get("retire_quarter"))
                except CellError:
                    continue
                if rq and quarter_index(rq) <= quarter_index(self.new_start):
                    gone.append((r.excel_row, rq, r.values.get("product"), r.values.get("site"), r.values.get("racks")))
            for excel_row, rq, p, s, racks in sorted(gone, reverse=True):
                ws.delete_rows(excel_row)
                self.note("retired cohort dropped", ws.title, f"{ws.title}!{get_column_letter(col)}{excel_row}",
                          racks, f"{p} at {s} retire in {rq}, at or before the new start {self.new_start}")
            if gone:
                self.touched.add(ws.title)
        for p, s, racks, retire, source in cohorts:
            row = self._append_row(sheet)
            ws.cell(row, self._column(sheet, "product"), p)
            ws.cell(row, self._column(sheet, "site"), s)
            self._set(sheet, row, "racks", racks, f"racks of {p} deployed at {s} in {self.q0}", source, comment=True)
            self._set(sheet, row, "retire_quarter", retire, f"{self.q0} + life_quarters {life[p]}",
                      f"Products {p} life_quarters")
        self.touched.add(ws.title)

    def _receipts(self) -> None:
        arrivals: dict[tuple[str, str], list[tuple[float, str]]] = {}
        routes = self.data.routes
        started = {}
        frame = self.plan.get("Wafers")
        if frame is not None and len(frame):
            frame = numeric(frame, "wafers", "good_dies_out")
            for i, r in enumerate(frame.to_dict("records")):
                if str(r["quarter"]) != self.q0:
                    continue
                started[(str(r["product"]), str(r["fab"]))] = (
                    r["wafers"], r["good_dies_out"], str(r["arrival_quarter"]),
                    plan_cell(self.plan_path, frame, i, "good_dies_out", "Wafers"))
        for key, entry in self.closed.actuals.get("Wafers", {}).items():
            p, f = key
            if (p, f) not in routes.index:
                raise RollError(f"actuals {entry[next(iter(entry))].source}: no route {p}/{f} in Routes")
            wafers = entry.get("wafers")
            plan = started.get(key)
            n = wafers.value if wafers else (plan[0] if plan else 0.0)
            dies = entry["good_dies_out"].value if "good_dies_out" in entry else \
                n * float(routes.at[(p, f), "dies_per_wafer"]) * self.data.yields[(p, f, 0)]
            arrival = entry["arrival_quarter"].value if "arrival_quarter" in entry else \
                next_quarter(self.q0, int(routes.at[(p, f), "lead_quarters"]))
            src = next(iter(entry.values())).source
            started[key] = (n, dies, arrival, f"actuals {src}")
        last = quarter_index(self.new_quarters[-1])
        for (p, f), (n, dies, arrival, source) in sorted(started.items()):
            if tidy(dies) == 0 or not parse_quarter(arrival):
                continue
            a = quarter_index(arrival)
            if a <= quarter_index(self.q0):
                continue  # arrived in the closed quarter: in the die bank already
            if a > last:
                self.note(f"dies of {p} from {f} arrive after the new horizon", "ScheduledReceipts", "", tidy(dies),
                          f"{source}: arrive {arrival}; add a quarter column if the horizon grows")
                continue
            arrivals.setdefault((p, arrival), []).append((dies, f"{tidy(n)} wafer(s) of {p} started at {f} in "
                                                               f"{self.q0} ({source})"))
        if not arrivals:
            return
        sheet = self.shifted.get("ScheduledReceipts") or \
            self._sheet("ScheduledReceipts", ["product"] + self.new_quarters)
        ws = sheet.ws
        for (p, q), parts in sorted(arrivals.items()):
            row = sheet.rows.get((p,))
            if row is None:
                row = self._append_row(sheet)
                ws.cell(row, self._column(sheet, "product"), p)
                sheet.rows[(p,)] = row
            if q not in sheet.columns:
                self._column(sheet, q)
            cell = ws.cell(row, sheet.columns[q])
            before = cell.value if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool) else 0
            dies = sum(d for d, _s in parts)
            text = "; ".join(s for _d, s in parts)
            self._set(sheet, row, q, tidy(before + dies), f"good dies of {p} arriving in {q} from wafers in flight",
                      text + (f"; plus {before} already scheduled" if before else ""), comment=True)
        self.touched.add(ws.title)

    def _expansion_blocks(self) -> None:
        """Blocks started in the closed quarter: their MW join SitePower from the quarter they arrive, and
        SiteExpansion.max_blocks falls by as many (they are no longer a choice)."""
        power = self.plan.get("Power")
        exp = self.data.expansion
        if power is None or not len(power) or "blocks_started" not in power.columns or not len(exp):
            return
        frame = numeric(power, "blocks_started")
        started: dict[str, tuple[float, str]] = {}
        for i, r in enumerate(frame.to_dict("records")):
            if str(r.get("quarter")) == self.q0 and r["blocks_started"] > EPS:
                s = str(r["site"])
                n, src = started.get(s, (0.0, plan_cell(self.plan_path, frame, i, "blocks_started", "Power")))
                started[s] = (n + float(r["blocks_started"]), src)
        if not started:
            return
        site_power = self.shifted.get("SitePower") or self._sheet("SitePower")
        expansion = self._sheet("SiteExpansion")
        for s, (n, src) in sorted(started.items()):
            if s not in exp.index:
                continue
            mw = n * float(exp.at[s, "block_mw"])
            lead = int(exp.at[s, "lead_quarters"])
            arrive = quarter_index(self.q0) + lead
            row = site_power.rows.get((s,)) if site_power is not None else None
            if row is None:
                row = self._append_row(site_power)
                site_power.ws.cell(row, self._column(site_power, "site"), s)
                site_power.rows[(s,)] = row
            for q in self.new_quarters:
                if quarter_index(q) < arrive:
                    continue
                col = site_power.columns.get(q) or self._column(site_power, q)
                cell = site_power.ws.cell(row, col)
                before = cell.value if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool) else 0
                self._set(site_power, row, q, tidy(before + mw), f"{tidy(n)} expansion block(s) started at {s} in "
                          f"{self.q0} add {tidy(mw)} MW from {quarter_label(arrive)}",
                          f"{src}; SiteExpansion block_mw {exp.at[s, 'block_mw']}, lead_quarters {lead}", comment=True)
            self.touched.add(site_power.ws.title)
            erow = expansion.rows.get((s,)) if expansion is not None else None
            if erow is not None:
                most = float(exp.at[s, "max_blocks"])
                self._set(expansion, erow, "max_blocks", tidy(max(0.0, most - n)),
                          f"expansion blocks left at {s} after {self.q0}",
                          f"{tidy(most)} - {tidy(n)} started in {self.q0} ({src})")
                self.touched.add(expansion.ws.title)

    def _partners(self) -> None:
        if not len(self.data.partners):
            return
        sheet = self._sheet("Partners")
        capex = self.plan.get("Capex")
        partners_plan = self.plan.get("Partners")
        for n in self.data.partners.index:
            row = sheet.rows.get((n,))
            if row is None:
                continue
            signed_actual = self.closed.actual("Partners", (n,), "signed")
            if signed_actual is not None:
                signed, signed_src = bool(signed_actual.value), f"actuals {signed_actual.source}"
            else:
                signed, signed_src = False, ""
                if partners_plan is not None and len(partners_plan):
                    hits = [i for i, v in enumerate(partners_plan["partner"].astype(str)) if v == str(n)]
                    if hits:
                        signed = truthy(partners_plan["signed"].iloc[hits[0]])
                        signed_src = plan_cell(self.plan_path, partners_plan, hits[0], "signed", "Partners")
            first = self.data.partners.at[n, "first_quarter"]
            if isinstance(first, str) and quarter_index(first) < quarter_index(self.new_start):
                self._set(sheet, row, "first_quarter", self.new_start, f"partner {n}'s window starts at the new start",
                          f"was {first}, now closed")
            last = self.data.partners.at[n, "last_quarter"]
            if isinstance(last, str) and quarter_index(last) < quarter_index(self.new_start):
                self.note(f"partner {n}'s window has ended", sheet.ws.title, "", last, "it can fund nothing more",
                          "warning")
            if not signed:
                continue
            funded = self.closed.actual("Partners", (n,), "funded_usd")
            if funded is not None:
                spent, src = funded.value, f"actuals {funded.source}"
            elif capex is not None and str(n) in capex.columns and len(capex):
                mask = capex["quarter"].astype(str) == self.q0
                spent = float(pd.to_numeric(capex.loc[mask, str(n)], errors="coerce").fillna(0.0).sum())
                hits = [i for i, m in enumerate(mask.tolist()) if m]
                src = (plan_cell(self.plan_path, capex, hits[0], str(n), "Capex") + " and below") if hits else \
                    f"{self.plan_path.name} Capex"
            else:
                spent, src = 0.0, f"{self.plan_path.name} has no Capex column for {n}: nothing funded assumed"
            commitment = float(self.data.partners.at[n, "commitment_usd"])
            minimum = float(self.data.partners.at[n, "min_deal_usd"])
            self._set(sheet, row, "commitment_usd", tidy(max(0.0, commitment - spent)),
                      f"signed deal {n}: commitment left after {self.q0}",
                      f"{commitment:,.0f} - {spent:,.0f} funded in {self.q0} ({src}); signed: {signed_src}")
            if minimum > 0:
                self._set(sheet, row, "min_deal_usd", tidy(max(0.0, minimum - spent)),
                          f"signed deal {n}: minimum left after {self.q0}", f"{minimum:,.0f} - {spent:,.0f} ({src})")
            if float(self.data.partners.at[n, "fixed_deal_cost_usd"]) > 0:
                self._set(sheet, row, "fixed_deal_cost_usd", 0, f"signed deal {n}: signing cost already paid",
                          signed_src)
        self.touched.add(sheet.ws.title)

def _shift_quarters(ws, header_row: int, qcols: dict[str, int], old_last: str, new_quarters: list[str],
                    repeat: bool) -> tuple[list[str], dict[str, int]]:
    """Lay the quarter columns of a wide sheet out for the new horizon, in the slots the old quarter columns held.

    Columns before the new start are dropped; quarters the new horizon adds after `old_last` are copies of the
    `old_last` column (blank when not `repeat`), their header marked. Returns (added quarters, quarter -> column)."""
    start, end = quarter_index(new_quarters[0]), quarter_index(new_quarters[-1])
    old_end = quarter_index(old_last)
    # kept: the new horizon's quarters, and quarters the planner typed beyond the old horizon (ignored with a
    # warning, as before); dropped: the closed quarter(s), and old-horizon quarters a shorter --quarters leaves out
    layout = [(q, c, False) for q, c in qcols.items()
              if quarter_index(q) >= start and (quarter_index(q) <= end or quarter_index(q) > old_end)]
    present = {q for q, _c, _n in layout}
    added = []
    if old_last in qcols:
        for q in new_quarters:
            if quarter_index(q) > old_end and q not in present:
                layout.append((q, qcols[old_last], True))
                added.append(q)
    layout.sort(key=lambda x: quarter_index(x[0]))
    slots = sorted(qcols.values())
    max_row = max(ws.max_row, header_row)
    rows = range(header_row, max_row + 1)
    snapshot = {c: [(ws.cell(r, c).value, copy(ws.cell(r, c)._style), ws.cell(r, c).comment) for r in rows]
                for c in set(qcols.values())}
    plain_header = next((snapshot[c][0][1] for _q, c, _n in layout
                         if not (snapshot[c][0][2] and snapshot[c][0][2].author == ROLL_AUTHOR)), None)
    if len(layout) > len(slots):
        k = len(layout) - len(slots)
        ws.insert_cols(slots[-1] + 1, k)
        slots += list(range(slots[-1] + 1, slots[-1] + 1 + k))
    elif len(layout) < len(slots):
        for c in sorted(slots[len(layout):], reverse=True):
            ws.delete_cols(c)
        slots = slots[: len(layout)]
    placed = {}
    for (q, src, new), col in zip(layout, slots):
        for i, r in enumerate(rows):
            value, style, comment = snapshot[src][i]
            cell = ws.cell(r, col)
            cell._style = copy(style)
            if i == 0:
                cell.value = q
                if comment is not None and comment.author == ROLL_AUTHOR:  # last roll's mark: cleared
                    comment = None
                    if plain_header is not None:
                        cell._style = copy(plain_header)
                cell.comment = comment
            else:
                cell.value = value if (repeat or not new) else None
                cell.comment = comment if not new else None
        if new:
            head = ws.cell(header_row, col)
            head.fill = NEW_FILL
            what = (f"values copied from {old_last}" if repeat else "blank: no receipts known yet")
            head.comment = Comment(f"New quarter {q}, added by planner roll: {what}. Review and edit, then clear "
                                   "this colour.", ROLL_AUTHOR, width=300, height=90)
        placed[q] = col
    return added, placed


def _fit_tables(ws) -> None:
    """Excel tables (ListObjects) on an edited sheet: span the header run and every data row again."""
    for table in ws.tables.values():
        min_col, min_row, _max_col, _max_row = range_boundaries(table.ref)
        max_col = min_col
        while ws.cell(min_row, max_col + 1).value not in (None, ""):
            max_col += 1
        max_row = min_row + 1
        for r in range(min_row + 1, ws.max_row + 1):
            if any(ws.cell(r, c).value not in (None, "") for c in range(min_col, max_col + 1)):
                max_row = r
        ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{max_row}"
        table.ref = ref
        if table.autoFilter is not None:
            table.autoFilter.ref = ref
        table.tableColumns = []  # re-read from the header cells when saved
