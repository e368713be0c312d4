"""What the closed quarter committed, for planner roll: the plan's decisions (read once, through the plan
reader, and checked to be a plan the planner wrote for this input) and the actuals that replace them.

Only reads; the roll steps (roll_steps.py) look values up through ClosedQuarter.value.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from models.data import PlanData
from planner.cycle.roll_notes import Note
from planner.input.convert import CellError, convert
from planner.input.guard import sheet_names
from planner.input.names import name_key, nearest_name
from planner.input.reader import normalise_header
from planner.output.contract import TIDY_BY_NAME, Col, is_planned
from planner.output.plan_reader import PlanReadError, plan_cell, read_plan, summary_values
from planner.quarters import parse_quarter, quarter_index

PLAN_SHEETS = ("Summary", "Inputs", "Wafers", "Chips", "HBM", "Deployments", "Partners", "Capex", "Power", "Packaging")
PLAN_NUMBERS = {  # plan sheet -> columns the roll (and the freeze) read as numbers
    "Chips": (Col.die_bank_end, Col.chip_inventory_end), "HBM": (Col.inventory_end, Col.bought), "Deployments": (Col.racks_deployed,),
    "Wafers": (Col.wafers, Col.good_dies_out), "Power": (Col.blocks_started,), "Packaging": (Col.blocks_started,),
    "Partners": (Col.funded_usd,)}
BOOL_TEXT = {"true", "false", "yes", "no", "1", "0", "y", "n", ""}
ACTUALS = {  # sheet -> (key columns, value columns)
    "Chips": ((Col.product,), (Col.die_bank_end, Col.chip_inventory_end)),
    "HBM": ((Col.vendor,), (Col.inventory_end,)),
    "Deployments": ((Col.product, Col.site), (Col.racks_deployed,)),
    "Wafers": ((Col.product, Col.fab), (Col.wafers, Col.good_dies_out, Col.arrival_quarter)),
    "Partners": ((Col.partner,), (Col.signed, Col.funded_usd)),
}
PLAN_COLUMNS_NEEDED = {  # plan sheet -> columns a roll reads (a summed-up long table lacks them)
    "Chips": (Col.product, Col.quarter, Col.die_bank_end, Col.chip_inventory_end),
    "Deployments": (Col.product, Col.site, Col.quarter, Col.racks_deployed),
    "Wafers": (Col.product, Col.fab, Col.quarter, Col.good_dies_out, Col.arrival_quarter),
    "HBM": (Col.vendor, Col.quarter, Col.inventory_end), "Partners": (Col.partner, Col.signed)}

Actuals = dict[str, dict[tuple, dict[str, "Value"]]]  # sheet -> key -> column -> value


class RollError(Exception):
    """The plan cannot be rolled forward; the message says why and what to do."""


@dataclass
class Value:
    """A number for the new workbook and where it came from."""
    value: float
    source: str


@dataclass
class ClosedQuarter:
    """The closed quarter's decisions: the plan's sheets and the actuals that override them key by key."""
    plan_path: Path
    quarter: str  # the closed quarter (the old start)
    plan: dict[str, pd.DataFrame]
    actuals: Actuals = field(default_factory=dict)

    def where(self, frame: pd.DataFrame, position: int, column: str, sheet: str) -> str:
        """'PLAN.xlsx Wafers!D5': the plan cell a value came from."""
        return plan_cell(self.plan_path, frame, position, column, sheet)

    def plan_value(self, sheet: str, keys: dict[str, str], column: str) -> Value | None:
        """The plan's `column` in the closed quarter's rows matching `keys`, summed; None when none match."""
        frame = self.plan.get(sheet)
        if frame is None or column not in frame.columns or not len(frame):
            return None
        mask = frame[Col.quarter].astype(str) == self.quarter if Col.quarter in frame.columns else \
            pd.Series(True, frame.index)
        for k, v in keys.items():
            mask &= frame[k].astype(str) == str(v)
        hits = [i for i, m in enumerate(mask.tolist()) if m]
        if not hits:
            return None
        total = float(pd.to_numeric(frame[column].iloc[hits], errors="coerce").fillna(0.0).sum())
        return Value(total, self.where(frame, hits[0], column, sheet))

    def actual(self, sheet: str, key: tuple, column: str) -> Value | None:
        return self.actuals.get(sheet, {}).get(key, {}).get(column)

    def value(self, sheet: str, key: tuple, keys: dict[str, str], column: str) -> Value | None:
        """The actual where given, else the plan's value."""
        actual = self.actual(sheet, key, column)
        if actual is not None:
            return Value(actual.value, f"actuals {actual.source}")
        return self.plan_value(sheet, keys, column)


# ---- the plan -------------------------------------------------------------------------------------------

def plan_value_problems(path: Path, plan: dict[str, pd.DataFrame]) -> list[str]:
    """Cells of a plan workbook that are not what the planner writes: text in a number column, a negative, endless
    or absurd number, a fractional block count, a `signed` that is not TRUE/FALSE, a row whose keys are listed
    twice. Each located, e.g. 'PLAN.xlsx Chips!D2: die_bank_end = 'abc' is not a number'."""
    bad = []
    for sheet, columns in PLAN_NUMBERS.items():
        frame = plan.get(sheet)
        if frame is None:
            continue
        for col in columns:
            if col in frame.columns:
                bad += [f"{plan_cell(path, frame, i, col, sheet)}: {col} = {_shown(v)} {problem}"
                        for i, v in enumerate(frame[col].tolist())
                        if (problem := _number_problem(v, col in PLAN_WHOLE_NUMBERS))]
    partners = plan.get("Partners")
    if partners is not None and Col.signed in partners.columns:
        for i, v in enumerate(partners[Col.signed].tolist()):
            if isinstance(v, str) and v.strip().lower() not in BOOL_TEXT:
                bad.append(f"{plan_cell(path, partners, i, 'signed', 'Partners')}: signed = {v!r} is not TRUE or "
                           "FALSE")
    return bad + _not_quarters(path, plan) + _duplicated_rows(path, plan)


def _not_quarters(path: Path, plan: dict[str, pd.DataFrame]) -> list[str]:
    """Quarter cells (a row's quarter, a wafer's arrival) that are no quarter label ('2026Q9', '20261', 'never'):
    the row would silently match no quarter, and its decision be lost in a roll or a freeze."""
    bad = []
    for sheet, frame in plan.items():
        if sheet not in PLAN_NUMBERS:  # the decision sheets (Bottlenecks' deal rows, say, have no quarter)
            continue
        for col in (Col.quarter, Col.arrival_quarter):
            if col not in frame.columns:
                continue
            bad += [f"{plan_cell(path, frame, i, col, sheet)}: {col} = {v!r} is not a quarter (like 2026Q3)"
                    for i, v in enumerate(frame[col].tolist())
                    if parse_quarter(str(v).strip()) != str(v)]  # ' 2026Q2 ' too: it would match no quarter
    return bad


def edited_cells_message(path: Path, bad: list[str], shown: int = 20) -> str:
    """'PLAN.xlsx has 2 cell(s) that are not what the planner wrote (edited by hand?):' and the first `shown`
    of plan_value_problems' cells, one per line."""
    more = f"\n  ... ({len(bad)} in all)" if len(bad) > shown else ""
    return (f"{path.name} has {len(bad)} cell(s) that are not what the planner wrote (edited by hand?):\n  "
            + "\n  ".join(bad[:shown]) + more)


PLAN_WHOLE_NUMBERS = (Col.blocks_started,)  # whole in every plan (racks are whole only with Settings.integer_racks)
PLAN_NUMBER_MAX = 1e15  # beyond any quantity or USD amount the input's ranges allow: a typo, not a plan


def _shown(value) -> str:
    """A cell's value as a planner reads it: text quoted, a number short (1e+300, not 300 digits)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{float(value):.12g}" if math.isfinite(float(value)) else str(value)
    return repr(value)


def _number_problem(value, whole: bool) -> str:
    """Why a plan's number cell is not one the planner writes ('' when it is)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or isinstance(value, bool):
        return ""
    try:
        number = convert("float", value)
    except CellError:
        return "is not a number"
    if not math.isfinite(number) or abs(number) > PLAN_NUMBER_MAX:
        return f"is out of range (a plan's quantities lie within 0..{PLAN_NUMBER_MAX:.0e})"
    if number < -1e-6:
        return "is negative (a plan never holds a negative quantity)"
    if whole and abs(number - round(number)) > 1e-6:
        return "is not a whole number"
    return ""


def _duplicated_rows(path: Path, plan: dict[str, pd.DataFrame]) -> list[str]:
    """Rows of a tidy plan sheet whose keys (product, site, quarter, ...) an earlier row already holds: the planner
    writes each once, so a copied row would count twice in a roll or a freeze."""
    bad = []
    for sheet, frame in plan.items():
        spec = TIDY_BY_NAME.get(sheet)
        if spec is None or not spec.keys or any(k not in frame.columns for k in spec.keys):
            continue  # a summed-up long table has no key columns
        keys = frame[list(spec.keys)].astype(str)
        first = {}
        for i, row in enumerate(keys.itertuples(index=False, name=None)):
            if row in first:
                bad.append(f"{plan_cell(path, frame, i, spec.keys[0], sheet)}: {'/'.join(row)} is listed twice "
                           f"(also on row {first[row] + 2})")
            else:
                first[row] = i
    return bad


def expansion_sheets_missing(frames: dict[str, pd.DataFrame], data: PlanData) -> list[str]:
    """Power / Packaging, when the input can expand sites / packaging lines but the plan lacks the sheet that holds
    the blocks started (deleted by hand: the blocks would be lost, not 0)."""
    return [sheet for sheet, rows in (("Power", data.expansion), ("Packaging", data.packaging_expansion))
            if len(rows) and sheet not in frames]


def read_rollable_plan(plan_path: Path, input_path: Path, data: PlanData) -> dict[str, pd.DataFrame]:
    """The plan's sheets a roll reads; RollError unless it is a plan the planner wrote, from this input."""
    plan = read_plan(plan_path, PLAN_SHEETS, required=("Summary", "Chips", "Deployments", "Wafers"),
                     as_written=True)
    lost = expansion_sheets_missing(plan, data)
    if lost:
        raise RollError(f"the plan {plan_path.name} has no {' or '.join(lost)} sheet, though the input can expand "
                        "(the blocks it started would be lost); roll the plan workbook as the planner wrote it")
    _check_plan_shape(plan_path, plan, data)
    bad = plan_value_problems(plan_path, plan)
    if bad:
        raise RollError(f"the plan {edited_cells_message(plan_path, bad)}")
    _check_same_input(plan_path, input_path, plan, data)
    return plan


def _check_plan_shape(plan_path: Path, plan: dict[str, pd.DataFrame], data: PlanData) -> None:
    """A plan with decisions, whose sheets hold the columns a roll reads."""
    summary = summary_values(plan)
    scenario = str(summary.get(Col.scenario) or "").strip()
    if scenario and scenario.lower() != "base":  # its decisions may name sites or products the input lacks
        raise RollError(f"the plan {plan_path.name} was made with --scenario {scenario}, on that scenario's data, "
                        "not on the input as it is: roll a plan of the input itself (planner run without "
                        "--scenario), or write the scenario into an input workbook and plan that")
    status = str(summary.get(Col.status, "")).strip()
    if not is_planned(status):
        raise RollError(f"the plan {plan_path.name} has status '{status or 'unknown'}': it holds no "
                        "decisions to roll forward; roll an optimal (or feasible) plan")
    for sheet, columns in PLAN_COLUMNS_NEEDED.items():
        frame = plan.get(sheet)
        lacking = [c for c in columns if frame is not None and c not in frame.columns]
        if lacking:
            raise RollError(f"the plan's {sheet} sheet has no column {', '.join(lacking)} (a table too long for "
                            "Excel is summed up in the plan workbook; its full table is in the file beside it): "
                            "the plan cannot be rolled from the workbook alone")
    uses = {"HBM": len(data.vendors), "Partners": len(data.partners), "Power": len(data.expansion),
            "Capex": len(data.partners)}
    deleted = [sheet for sheet, used in uses.items() if used and sheet not in plan]
    if deleted:
        raise RollError(f"the plan {plan_path.name} has no {', '.join(deleted)} sheet(s) (deleted?), which the "
                        "input needs to roll (inventories, deals, expansion blocks): roll the plan workbook as the "
                        "planner wrote it")


def _check_same_input(plan_path: Path, input_path: Path, plan: dict[str, pd.DataFrame], data: PlanData) -> None:
    """The plan starts where the input starts and records the input's sha256 (its Inputs sheet)."""
    other_input = ""
    chips = plan["Chips"]
    quarters = sorted({str(q) for q in chips.get(Col.quarter, [])}, key=quarter_index) if len(chips) else []
    inputs = plan.get("Inputs")
    if inputs is not None and Col.key in inputs.columns:
        echo = dict(zip(inputs[Col.key].astype(str), inputs[Col.value]))
        h = str(echo.get("horizon", ""))
        if ".." in h:
            quarters = [h.split("..")[0].strip()]
        files = inputs[inputs[Col.key].astype(str) == "input_file"]
        if len(files) and Col.note in inputs.columns:
            sha = str(files[Col.note].iloc[0])
            if sha and sha != data.sha256:
                other_input = (f"the plan {plan_path.name} was made from another input workbook (or another "
                               f"version of it): its Inputs sheet records input_sha256 {sha[:12]}... but "
                               f"{input_path.name} is {data.sha256[:12]}...; roll the plan with the input "
                               "it was made from")
    # the start is checked before the sha256: a plan of another horizon says so, not just "another input"
    if quarters and quarters[0] != data.quarters[0]:
        raise RollError(f"the plan {plan_path.name} starts in {quarters[0]} but the input "
                        f"{input_path.name} starts in {data.quarters[0]}: roll the input the plan "
                        "was made from")
    if other_input:
        raise RollError(other_input)


# ---- the actuals ----------------------------------------------------------------------------------------

def read_actuals(path: Path, data: PlanData, closed_quarter: ClosedQuarter, notes: list[Note]) -> Actuals:
    """The actuals workbook's values for the closed quarter, by sheet and key. Every bad cell of the workbook is
    found before any is reported: one RollError lists them all, each at its own cell. Rows of another quarter are
    skipped, with a note. A partner's funding is checked against the closed quarter's plan."""
    closed = closed_quarter.quarter
    try:
        frames = read_plan(path, list(ACTUALS))
    except PlanReadError as exc:
        raise RollError(f"actuals: {exc}") from exc
    known = {"Chips": [set(data.products.index)], "HBM": [set(data.vendors.index)],
             "Deployments": [set(data.products.index), set(data.sites.index)],
             "Wafers": [set(data.products.index), set(data.fabs.index)],
             "Partners": [set(data.partners.index)]}
    out: Actuals = {}
    problems: list[str] = _misnamed_actuals_sheets(path, set(frames))
    for sheet, frame in frames.items():
        routes = set(data.routes.index) if sheet == "Wafers" else None
        table, skipped = _actuals_sheet(path, sheet, frame, known[sheet], closed, problems, routes)
        if skipped:
            notes.append(Note(f"{skipped} row(s) of another quarter ignored", sheet, "", skipped,
                              f"actuals {path.name} {sheet}: only rows of {closed} are used"))
        out[sheet] = table
    _check_partner_funding(data, closed_quarter, out.get("Partners", {}), problems)
    if problems:
        raise RollError(f"the actuals workbook {path.name} has {len(problems)} error(s); nothing was written:\n  "
                        + "\n  ".join(problems))
    return out


def _misnamed_actuals_sheets(path: Path, found: set[str]) -> list[str]:
    """A sheet named like an actuals sheet the workbook lacks ('Deployment' for Deployments) would be ignored and
    the plan's values rolled as if nothing were reported: an error naming the sheet it likely means. An actuals
    workbook with none of the sheets is an error too (the input workbook given by mistake, say)."""
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n, _rid in sheet_names(z.read("xl/workbook.xml"))]
    except Exception:  # read_plan has read this file; a package this cannot list is left to it
        return []
    keys = {name_key(n) for n in names}
    if {name_key("Settings"), name_key("Products")} <= keys:
        return [f"actuals {path.name} is an input workbook (it has Settings and Products sheets), not an actuals "
                "workbook: give what happened in the closed quarter on sheets Chips, HBM, Deployments, Wafers or "
                "Partners, as in the plan workbook"]
    absent = [s for s in ACTUALS if s not in found]
    problems = []
    for name in names:
        meant = nearest_name(name, absent) if name_key(name) not in {name_key(s) for s in ACTUALS} else None
        if meant:
            problems.append(f"actuals {path.name} sheet '{name}': not an actuals sheet, so it would be ignored; "
                            f"did you mean {meant}? (rename the sheet)")
    if not found and not problems:
        problems.append(f"actuals {path.name} holds none of the actuals sheets ({', '.join(ACTUALS)}); it has "
                        f"{', '.join(names[:12]) or 'no sheet'}")
    return problems


def note_stock_not_given(data: PlanData, closed: ClosedQuarter, notes: list[Note]) -> None:
    """Actual racks deployed that differ from the plan's while the product's chip stock is not given as an actual:
    the rolled chip inventory is then the plan's, so the chips of the racks that did or did not go out are
    counted twice or lost (a new-user trial: 360 chips counted twice, 72 missing). A warning note per product."""
    deployed = closed.actuals.get("Deployments", {})
    chips_given = closed.actuals.get("Chips", {})
    moved: dict[str, float] = {}
    for (p, s), values in deployed.items():
        actual = values.get(Col.racks_deployed)
        planned = closed.plan_value("Deployments", {Col.product: p, Col.site: s}, Col.racks_deployed)
        if actual is not None:
            moved[p] = moved.get(p, 0.0) + actual.value - (planned.value if planned else 0.0)
    for p, racks in sorted(moved.items()):
        if abs(racks) > 1e-9 and Col.chip_inventory_end not in chips_given.get((p,), {}):
            chips = racks * float(data.products.at[p, "chips_per_rack"]) if p in data.products.index else 0.0
            notes.append(Note("actual racks differ from the plan, chip stock not given", "Products", "", p,
                              f"{p}: {racks:+,.6g} racks deployed in {closed.quarter} against the plan ({chips:+,.6g} "
                              "chips), but the actuals give no Chips chip_inventory_end for it: the rolled "
                              "initial_chip_inventory is the plan's; give the actual stock in the actuals' Chips "
                              "sheet", "warning"))


def _check_partner_funding(data: PlanData, closed: ClosedQuarter, partners: dict[tuple, dict[str, Value]],
                           problems: list[str]) -> None:
    """A partner's `funded_usd` in the actuals is what it funded in the closed quarter, which a signed deal's
    remaining commitment is reduced by: more than its commitment, funding outside its window, funding of a deal
    reported unsigned, and the plan's own whole-horizon Partners.funded_usd copied as it stands (the README's
    "an edited copy of the plan's own sheets" trap) are refused at the cell, since each would silently cut the
    commitment the next plan may use."""
    for (partner,), entry in partners.items():
        funded = entry.get(Col.funded_usd)
        if funded is None or funded.value <= 0:
            continue
        at = f"actuals {funded.source}: {partner} funded {funded.value:,.0f} in {closed.quarter}"
        signed = entry.get(Col.signed)
        if signed is not None and not signed.value:
            problems.append(f"{at}, but its deal is reported unsigned ({signed.source}); an unsigned deal funds nothing")
        commitment = float(data.partners.at[partner, Col.commitment_usd])
        if funded.value > commitment * (1 + 1e-9) + 0.5:
            problems.append(f"{at}, above its commitment of {commitment:,.0f} (input Partners)")
        first, last = int(data.partners.at[partner, "first_t"]), int(data.partners.at[partner, "last_t"])
        if not first <= 0 <= last:
            problems.append(f"{at}, outside its window ({data.partners.at[partner, 'first_quarter'] or 'start'}.."
                            f"{data.partners.at[partner, 'last_quarter'] or 'end'}): it could fund nothing then")
        whole = closed.plan_value("Partners", {Col.partner: partner}, Col.funded_usd)  # no quarter column: all of it
        in_closed = closed.plan_value("Capex", {}, str(partner))
        in_closed_usd = in_closed.value if in_closed is not None else 0.0
        if whole is not None and abs(funded.value - whole.value) <= 0.5 and abs(whole.value - in_closed_usd) > 0.5:
            problems.append(f"{at}: that is the plan's funding over its whole horizon (its Partners sheet); the "
                            f"actuals give what was funded in {closed.quarter} alone (the plan's: "
                            f"{in_closed_usd:,.0f}, its Capex sheet)")


def _actuals_sheet(path: Path, sheet: str, frame: pd.DataFrame, known: list[set], closed: str,
                   problems: list[str], routes: set | None = None) -> tuple[dict[tuple, dict[str, Value]], int]:
    """One actuals sheet: (key -> column -> value, rows of another quarter skipped). Every problem (a missing
    column, an unknown or repeated key, a (product, fab) not in `routes`, a cell that does not parse) is added to
    `problems`, located at its cell."""
    keys, values = ACTUALS[sheet]
    original = list(frame.columns)
    frame.columns = [normalise_header(c) for c in original]
    missing = [k for k in keys if k not in frame.columns]
    present = [c for c in values if c in frame.columns]
    if missing or not present:
        problems.append(f"actuals {path.name} {sheet}!1:1: " + (  # the header row
            f"key column(s) {', '.join(missing)} missing (found in row 1: "
            f"{', '.join(str(c) for c in original if not str(c).startswith('Unnamed: ')) or 'nothing'}; row 1 "
            "must hold the headers, a title above them is not read in an actuals workbook)" if missing else
            f"none of the columns {', '.join(values)}"))
        return {}, 0
    table: dict[tuple, dict[str, Value]] = {}
    first_row: dict[tuple, str] = {}
    skipped = 0
    for i, row in enumerate(frame.to_dict("records")):
        where = lambda col: plan_cell(path, frame, i, col, sheet)  # noqa: E731
        if Col.quarter in frame.columns and not pd.isna(row[Col.quarter]) and str(row[Col.quarter]).strip():
            quarter = parse_quarter(str(row[Col.quarter]).strip())
            if quarter is None:  # not silently 'another quarter': the row may be the closed quarter's
                problems.append(f"actuals {where(Col.quarter)}: {str(row[Col.quarter]).strip()!r} is not a quarter "
                                f"(write {closed}, or leave the cell blank)")
                continue
            if quarter != closed:
                skipped += 1
                continue
        key = _actual_key(row, keys, known, where, problems)
        entry: dict[str, Value] = {}
        for col in present:
            v = row[col]
            if v is None or (isinstance(v, float) and pd.isna(v)) or (isinstance(v, str) and not v.strip()):
                continue
            try:
                entry[col] = Value(_actual_cell(col, v), where(col))
            except CellError as exc:
                problems.append(f"actuals {where(col)}: {exc}")
                continue
            if col == Col.arrival_quarter and quarter_index(entry[col].value) < quarter_index(closed):
                problems.append(f"actuals {where(col)}: dies cannot arrive in {entry[col].value}, before the wafers "
                                f"were started in {closed}")
        if key is None:
            continue
        if key in table:
            problems.append(f"actuals {where(keys[0])}: {'/'.join(key)} is listed twice in {sheet} (first at "
                            f"{first_row[key]}); keep one row per key")
            continue
        first_row[key] = where(keys[0])
        table[key] = entry
        if routes is not None and key not in routes:
            problems.append(f"actuals {where(keys[0])}: no route {'/'.join(key)} in Routes")
    return table, skipped


def _actual_key(row: dict, keys: tuple, known: list[set], where, problems: list[str]) -> tuple | None:
    """The row's key; None when a key cell is blank (the row is skipped), does not parse or is not in the input
    workbook (each of those a problem at its own cell)."""
    key, bad = [], False
    for k, pool in zip(keys, known):
        try:
            value = convert("key", None if pd.isna(row[k]) else row[k])
        except CellError as exc:
            problems.append(f"actuals {where(k)}: {exc}")
            bad = True
            continue
        if value is not None and value not in pool:
            problems.append(f"actuals {where(k)}: unknown key '{value}' (not in the input workbook)")
            bad = True
        key.append(value)
    if bad or any(k is None for k in key):
        return None
    return tuple(key)


def _actual_cell(col: str, v: object) -> object:
    """A non-blank actuals cell parsed for its column; CellError when it does not parse."""
    if col == Col.signed:
        return convert("bool", v)
    if col == Col.arrival_quarter:
        return convert("quarter", str(v))
    parsed = convert("float", v)
    if parsed < 0:
        raise CellError(f"{col} cannot be negative")
    if parsed > PLAN_NUMBER_MAX:
        raise CellError(f"{col} = {parsed:g} is beyond any quantity or amount a plan holds (at most "
                        f"{PLAN_NUMBER_MAX:g}): a typo?")
    return parsed
