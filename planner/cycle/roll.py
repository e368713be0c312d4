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

from pathlib import Path

from models.data import PlanData
from planner.cycle.roll_book import ROLL_AUTHOR, InputBook, open_input_book
from planner.cycle.roll_notes import NOTES_SHEET, Note, save_rolled
from planner.cycle.roll_plan import (ACTUALS, BOOL_TEXT, PLAN_NUMBERS, PLAN_SHEETS, ClosedQuarter, RollError, Value,
                                     plan_value_problems, note_stock_not_given, read_actuals, read_rollable_plan)
from planner.cycle.roll_quarters import NextHorizon, next_horizon, next_quarter
from planner.cycle.roll_steps import ROLL_STEPS, tidy
from planner.input.reader import RawWorkbook, read_workbook
from planner.input.validate import validate_raw
from planner.output.xlsx import OutputError, check_target

# the roll is split by concern (roll_plan: the closed quarter read; roll_book: the workbook edited; roll_quarters
# and roll_steps: the edits; roll_notes: RollNotes and the save); its names stay importable from here
__all__ = ["ACTUALS", "BOOL_TEXT", "NOTES_SHEET", "PLAN_NUMBERS", "PLAN_SHEETS", "ROLL_AUTHOR", "Note", "RollError",
           "Value", "next_quarter", "plan_value_problems", "roll", "tidy"]


def roll(plan_path: str | Path, input_path: str | Path, output_path: str | Path,
         actuals_path: str | Path | None = None, quarters: int | None = None,
         notes: list[Note] | None = None, replace: bool = True) -> Path:
    """Write next quarter's input workbook (see the module docstring). Returns the path written.

    `notes`, when given, receives every change made (also written to the RollNotes sheet)."""
    recorded: list[Note] = []
    path = _roll(Path(plan_path), Path(input_path), Path(output_path),
                 Path(actuals_path) if actuals_path else None, quarters, recorded, replace)
    if notes is not None:  # only a roll that wrote its workbook hands its notes on
        notes.extend(recorded)
    return path


def _roll(plan_path: Path, input_path: Path, output_path: Path, actuals_path: Path | None, quarters: int | None,
          notes: list[Note], replace: bool = True) -> Path:
    check_target(output_path, input_path)
    if output_path.exists() and output_path.resolve() == plan_path.resolve():
        raise OutputError(f"the output {output_path} is the plan workbook; choose another name with -o")
    raw, data = _read_valid_input(input_path)
    plan = read_rollable_plan(plan_path, input_path, data)
    horizon = next_horizon(data, quarters)
    closed = ClosedQuarter(plan_path, horizon.closed, plan)
    if actuals_path:
        closed.actuals = read_actuals(actuals_path, data, closed, notes)
        note_stock_not_given(data, closed, notes)
    book = open_input_book(input_path, raw, notes)
    _edit(book, data, closed, horizon)
    headline = (f"Rolled from {plan_path.name} and {input_path.name}"
                + (f" with actuals {actuals_path.name}" if actuals_path else "")
                + f": {horizon.closed} has closed; the horizon is now {horizon.quarters[0]}..{horizon.quarters[-1]}.")
    return save_rolled(book.wb, notes, headline, output_path, input_path, replace=replace)


def _read_valid_input(input_path: Path) -> tuple[RawWorkbook, PlanData]:
    """The input workbook as read (where its cells are) and validated; RollError unless it is valid."""
    raw, issues = read_workbook(input_path)
    data = None
    if raw is not None and issues.ok:
        data, issues = validate_raw(raw, issues)
    if data is None:
        shown = "\n  ".join(str(i) for i in issues.errors[:10])
        raise RollError(f"the input workbook {input_path.name} has {len(issues.errors)} error(s); "
                        f"fix them (planner validate) before rolling:\n  {shown}")
    return raw, data


def _edit(book: InputBook, data: PlanData, closed: ClosedQuarter, horizon: NextHorizon) -> None:
    for step in ROLL_STEPS:
        step(book, data, closed, horizon)
    book.fit_touched_tables()
