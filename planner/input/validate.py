"""Validate a raw workbook against the schema and build PlanData, collecting every issue at once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner.input.convert import CellError, convert, to_text
from models.data import PlanData, Settings
from planner.issues import Issues
from planner.quarters import horizon, horizon_problem, quarter_index
from planner.input.schema import OWN_CAPEX_ITEM, SETTING_BY_KEY, SETTINGS, SHEET_BY_NAME, ColumnSpec, SheetSpec
from planner.input.reader import RawSheet, RawWorkbook, ReadLimits, read_workbook


@dataclass
class Row:
    values: dict[str, object]
    excel_row: int
    cells: dict[str, str]  # column -> "Sheet!C3"
    ok: bool = True  # False when a non-key value is bad: the key still counts as known (no cascading errors)


MAX_MAGNITUDE = 1e12  # above this a number overflows the scaled model (costs x quantities x discounting)
MIN_MAGNITUDE = 1e-9  # a non-zero number below this is lost in the solver's tolerances


def sane_range_problem(column: str, x: float) -> str | None:
    """Every number of the workbook lies where the scaled model stays sane: |x| <= 1e12 and, when not 0,
    |x| >= 1e-9. None when `x` is fine."""
    if abs(x) > MAX_MAGNITUDE:
        return (f"{column} = {x:g} is too large to plan with (at most {MAX_MAGNITUDE:g}); check the unit and the "
                "number of zeros")
    if x != 0 and abs(x) < MIN_MAGNITUDE:
        return (f"{column} = {x:g} is too small to plan with (0, or at least {MIN_MAGNITUDE:g}); check the unit")
    return None


def _known(keys) -> str:
    keys = sorted(str(k) for k in keys if k is not None)
    shown = ", ".join(keys[:15]) + (f" ... ({len(keys)} in all)" if len(keys) > 15 else "")
    return shown or "none"


class _Validator:
    def __init__(self, raw: RawWorkbook, issues: Issues):
        self.raw = raw
        self.issues = issues
        self.cells: dict[tuple, str] = {}
        self.present: dict[str, set[tuple]] = {}
        self.quarters: list[str] = []

    # ---- generic readers -------------------------------------------------------------------------
    def _sheet(self, name: str) -> RawSheet | None:
        spec = SHEET_BY_NAME[name]
        sheet = self.raw.sheets.get(name)
        if sheet is None and spec.required:
            self.issues.error(name, "", "", None, f"required sheet '{name}' is missing ({spec.description})")
        if sheet is None:
            return None
        for col in spec.columns:
            if col.required and col.name not in sheet.columns:
                self.issues.error(name, f"{sheet.title}!{sheet.header_row}:{sheet.header_row}", col.name, None,
                                  f"required column '{col.name}' is missing from the header row "
                                  f"(found: {_known(sheet.columns)})")
        return sheet

    def _check_range(self, spec: SheetSpec, col: ColumnSpec, x: float, cell: str) -> bool:
        sane = sane_range_problem(col.name, x)
        if sane:
            self.issues.error(spec.name, cell, col.name, x, sane)
            return False
        bad = False
        if col.minimum is not None and (x < col.minimum or (col.min_exclusive and x <= col.minimum)):
            bad = True
        if col.maximum is not None and (x > col.maximum or (col.max_exclusive and x >= col.maximum)):
            bad = True
        if bad:
            what = {"yield": "yield must be in (0, 1]",
                    "mip_rel_gap": "mip_rel_gap is a fraction from 0 to 0.5; write 0.01 for 1%"}.get(
                col.name, f"{col.name} must be {col.range_text()}")
            if col.minimum == 0 and not col.min_exclusive and x < 0:
                what = f"{col.name} cannot be negative"
            self.issues.error(spec.name, cell, col.name, x, what)
        return not bad

    def _convert(self, spec: SheetSpec, col: ColumnSpec, raw: object, cell: str, required: bool,
                 reported: bool = False) -> tuple[object, bool]:
        """(typed value, ok). `reported`: the reader already named this cell's fault; say nothing more of it."""
        if reported:
            return None, False
        try:
            value = convert(col.dtype, raw)
        except CellError as exc:
            self.issues.error(spec.name, cell, col.name, raw, str(exc))
            return None, False
        if value is None:
            if required:
                self.issues.error(spec.name, cell, col.name, None, f"'{col.name}' is required and is blank")
                return None, False
            return col.default, True
        if col.dtype in ("float", "int") and not self._check_range(spec, col, float(value), cell):
            return None, False
        return value, True

    def _rows(self, spec: SheetSpec, sheet: RawSheet) -> list[Row]:
        known = set(spec.column_names)
        for name, letter in sheet.columns.items():
            if name not in known and not (spec.kind == "wide" and name[:4].isdigit()):
                self.issues.warning(spec.name, f"{sheet.title}!{letter}{sheet.header_row}", name, sheet.headers[name],
                                    f"column '{sheet.headers[name]}' is not part of sheet {spec.name}; ignored")
        rows: list[Row] = []
        if any(k not in sheet.columns for k in spec.keys):
            return rows  # the missing key column is already reported; no row can be identified
        complete = all(c.name in sheet.columns for c in spec.columns if c.required)
        for raw in sheet.rows:
            values: dict[str, object] = {}
            cells: dict[str, str] = {}
            ok = keys_ok = True
            for col in spec.columns:
                if col.name not in sheet.columns:
                    values[col.name] = col.default
                    continue
                cell = sheet.cell(col.name, raw.excel_row)
                cells[col.name] = cell
                value, good = self._convert(spec, col, raw.values.get(col.name), cell, col.required,
                                            col.name in raw.faulty)
                ok &= good
                if col.name in spec.keys:
                    keys_ok &= good
                values[col.name] = value
            if keys_ok:
                rows.append(Row(values, raw.excel_row, cells, ok and complete))
        return self._unique(spec, sheet, rows)

    def _unique(self, spec: SheetSpec, sheet: RawSheet, rows: list[Row]) -> list[Row]:
        if spec.name == "InstalledBase":  # each row is a cohort; several per (product, site) are allowed
            return rows
        seen: dict[tuple, Row] = {}
        out = []
        for row in rows:
            key = tuple(row.values[k] for k in spec.keys)
            if key in seen:
                first = seen[key]
                self.issues.error(spec.name, row.cells[spec.keys[0]], "/".join(spec.keys), "/".join(map(str, key)),
                                  f"duplicate key {'/'.join(map(str, key))}: already on row {first.excel_row}")
                continue
            seen[key] = row
            out.append(row)
        return out

    def _refs(self, spec: SheetSpec, rows: list[Row], known: dict[str, set]) -> list[Row]:
        out = []
        for row in rows:
            ok = True
            for col in spec.columns:
                if col.references is None or col.references[0] == "Products" and col.references[1] == "packaging_line":
                    continue
                if col.references[0] not in self.raw.sheets:
                    continue  # the missing sheet is reported once; its references are not checked against nothing
                value = row.values.get(col.name)
                pool = known.get(col.references[0], set())
                if value is not None and value not in pool:
                    self.issues.error(spec.name, row.cells.get(col.name, spec.name), col.name, value,
                                      f"unknown {col.name} '{value}': not in {col.references[0]} "
                                      f"(known: {_known(pool)})")
                    ok = False
            if ok:
                out.append(row)
        return out

    def _note_present(self, spec: SheetSpec, rows: list[Row]) -> None:
        """Keys of every row with valid keys, even where another cell is bad: cross-checks use these, so one
        bad cell is reported once and not again as a missing row elsewhere."""
        self.present[spec.name] = {tuple(row.values[k] for k in spec.keys) for row in rows}

    def _wide(self, name: str, known: dict[str, set]) -> list[tuple[tuple, dict[int, float | None], Row]]:
        """Rows of a wide sheet: (keys, {t: value or None for blank}, row)."""
        spec = SHEET_BY_NAME[name]
        sheet = self._sheet(name)
        if sheet is None:
            return []
        in_horizon = set(self.quarters)
        for name_, letter in sheet.columns.items():
            if name_[:4].isdigit() and name_ not in in_horizon and self.quarters:
                self.issues.warning(name, f"{sheet.title}!{letter}{sheet.header_row}", name_, name_,
                                    f"quarter {name_} is outside the plan horizon "
                                    f"{self.quarters[0]}..{self.quarters[-1]}; ignored")
        missing = [q for q in self.quarters if q not in sheet.columns]
        if missing and (spec.required or name == "PackagingCapacity") and sheet.rows:
            self.issues.error(name, f"{sheet.title}!{sheet.header_row}:{sheet.header_row}", ", ".join(missing), None,
                              f"quarter column(s) {', '.join(missing)} of the horizon are missing")
        rows = self._refs(spec, self._rows(spec, sheet), known)
        self._note_present(spec, rows)
        raw_by_row = {r.excel_row: r for r in sheet.rows}
        out = []
        for row in rows:
            keys = tuple(row.values[k] for k in spec.keys)
            series: dict[int, float | None] = {}
            raw = raw_by_row[row.excel_row]
            ok = True
            for t, q in enumerate(self.quarters):
                if q not in sheet.columns:
                    series[t] = None
                    continue
                cell = sheet.cell(q, row.excel_row)
                value, good = self._convert(spec, spec.value, raw.values.get(q), cell, required=False,
                                            reported=q in raw.faulty)
                ok &= good
                series[t] = value
                self.cells[(name, keys, q)] = cell
            for k in spec.keys:
                self.cells[(name, keys, k)] = row.cells.get(k, "")
            if ok and row.ok:
                out.append((keys, series, row))
        return out

    def _table(self, name: str, known: dict[str, set]) -> list[Row]:
        spec = SHEET_BY_NAME[name]
        sheet = self._sheet(name)
        if sheet is None:
            return []
        rows = self._refs(spec, self._rows(spec, sheet), known)
        self._note_present(spec, rows)
        for row in rows:
            keys = tuple(row.values[k] for k in spec.keys)
            for col, cell in row.cells.items():
                self.cells[(name, keys, col)] = cell
        return rows

    def _frame(self, name: str, rows: list[Row], index: list[str]) -> pd.DataFrame:
        spec = SHEET_BY_NAME[name]
        columns = list(spec.column_names)
        frame = pd.DataFrame([r.values for r in rows if r.ok], columns=columns)
        for col in spec.columns:
            if col.dtype in ("float",):
                frame[col.name] = frame[col.name].astype(float)
            elif col.dtype == "int":
                frame[col.name] = frame[col.name].astype("int64") if len(frame) else frame[col.name].astype("int64")
        if index:
            frame = frame.set_index(index).sort_index()
        return frame

    # ---- settings ----------------------------------------------------------------------------------
    def settings(self) -> Settings | None:
        sheet = self._sheet("Settings")
        values: dict[str, object] = {}
        where: dict[str, str] = {}
        if sheet is not None:
            spec = SHEET_BY_NAME["Settings"]
            for raw in sheet.rows:
                try:
                    key = convert("key", raw.values.get("key"))
                except CellError as exc:
                    self.issues.error("Settings", sheet.cell("key", raw.excel_row), "key", raw.values.get("key"), str(exc))
                    continue
                if key is None:
                    continue
                cell = sheet.cell("value", raw.excel_row)
                key_norm = key.strip().lower().replace(" ", "_")
                st = SETTING_BY_KEY.get(key_norm)
                if st is None:
                    self.issues.warning("Settings", sheet.cell("key", raw.excel_row), "key", key,
                                        f"unknown setting '{key}'; ignored (known: {_known(SETTING_BY_KEY)})")
                    continue
                if key_norm in values:
                    self.issues.error("Settings", sheet.cell("key", raw.excel_row), "key", key,
                                      f"setting '{key}' is given twice (first at {where[key_norm]})")
                    continue
                col = st.column()
                value, good = self._convert(spec, col, raw.values.get("value"), cell, required=st.required)
                if good:
                    values[key_norm] = value
                    where[key_norm] = cell
                    self.cells[("Settings", (key_norm,), "value")] = cell
        ok = True
        for st in SETTINGS:
            if st.key not in values:
                if st.required:
                    if sheet is not None and not any(i.sheet == "Settings" and i.column == st.key for i in self.issues):
                        self.issues.error("Settings", sheet.title, "key", st.key,
                                          f"required setting '{st.key}' is missing ({st.description})")
                    ok = False
                else:
                    values[st.key] = st.default
        if not ok:
            return None
        self._commit_within_horizon(values)
        return Settings(**values)

    def _commit_within_horizon(self, values: dict[str, object]) -> None:
        """Settings.commit_quarters (hedged plans) is between 1 and the horizon."""
        commit, quarters = values.get("commit_quarters"), values.get("quarters")
        if isinstance(commit, int) and isinstance(quarters, int) and commit > quarters:
            self.issues.error("Settings", self.cells.get(("Settings", ("commit_quarters",), "value"), "Settings"),
                              "commit_quarters", commit, f"commit_quarters must be between 1 and the horizon "
                              f"({quarters} quarters)")
            values["commit_quarters"] = quarters

    # ---- the whole workbook ------------------------------------------------------------------------
    def run(self) -> PlanData | None:
        settings = self.settings()
        if settings is not None and horizon_problem(settings.start_quarter, settings.quarters):
            self.issues.error("Settings", self.cells.get(("Settings", ("start_quarter",), "value"), "Settings"),
                              "start_quarter", settings.start_quarter,
                              horizon_problem(settings.start_quarter, settings.quarters))
            settings = None
        if settings is not None:
            self.quarters = horizon(settings.start_quarter, settings.quarters)
        T = len(self.quarters)
        issues = self.issues

        known: dict[str, set] = {}
        products_rows = self._table("Products", known)
        known["Products"] = {r.values["product"] for r in products_rows}
        fabs_rows = self._table("Fabs", known)
        known["Fabs"] = {r.values["fab"] for r in fabs_rows}
        vendor_rows = self._table("HBMVendors", known)
        known["HBMVendors"] = {r.values["vendor"] for r in vendor_rows}
        site_rows = self._table("Sites", known)
        known["Sites"] = {r.values["site"] for r in site_rows}
        workload_rows = self._table("Workloads", known)
        known["Workloads"] = {r.values["workload"] for r in workload_rows}
        partner_rows = self._table("Partners", known)
        known["Partners"] = {r.values["partner"] for r in partner_rows}

        def good(name: str) -> list[Row]:
            return [r for r in self._table(name, known) if r.ok]

        route_rows = good("Routes")
        qual_rows = good("HBMQualification")
        tp_rows = good("Throughput")
        link_rows = good("ServingLinks")
        exp_rows = good("SiteExpansion")
        base_rows = good("InstalledBase")
        psite_rows = good("PartnerSites")
        pexp_rows = good("PackagingExpansion")

        wide = {name: self._wide(name, known) for name in (
            "FabCapacity", "FabMinWafers", "FabWaferCost", "Yield", "ScheduledReceipts", "HBMSupply",
            "PackagingCapacity", "SitePower", "Demand", "Budget", "HBMMinStacks")}

        products = self._frame("Products", products_rows, ["product"])
        fabs = self._frame("Fabs", fabs_rows, ["fab"])
        routes = self._frame("Routes", route_rows, ["product", "fab"])
        vendors = self._frame("HBMVendors", vendor_rows, ["vendor"])
        sites = self._frame("Sites", site_rows, ["site"])
        expansion = self._frame("SiteExpansion", exp_rows, ["site"])
        workloads = self._frame("Workloads", workload_rows, ["workload"])
        partners = self._frame("Partners", partner_rows, ["partner"])
        qualified = sorted({(r.values["vendor"], r.values["product"]) for r in qual_rows})
        throughput = {(r.values["product"], r.values["workload"]): float(r.values["tokens_per_s_per_chip"])
                      for r in tp_rows}
        links = {(s, reg) for s, reg in zip(sites.index, sites["region"])}
        links |= {(r.values["site"], r.values["region"]) for r in link_rows}
        partner_sites = sorted({(r.values["partner"], r.values["site"]) for r in psite_rows})

        if T == 0:
            return None

        def series(name: str, default=0.0) -> dict[tuple, float]:
            out = {}
            for keys, values, _row in wide[name]:
                for t, v in values.items():
                    out[keys + (t,)] = default if v is None else float(v)
            return out

        fab_capacity = series("FabCapacity")
        fab_min = {k: v for k, v in series("FabMinWafers").items() if v}
        wafer_cost = {(f, t): float(fabs.at[f, "wafer_cost_usd"]) for f in fabs.index for t in range(T)}
        for (f,), values, _row in wide["FabWaferCost"]:
            for t, v in values.items():
                if v is not None:
                    wafer_cost[(f, t)] = float(v)
        route_keys = set(routes.index)
        yields = {(p, f, t): float(routes.at[(p, f), "yield"]) for (p, f) in routes.index for t in range(T)}
        for (p, f), values, row in wide["Yield"]:
            if (p, f) not in route_keys:
                issues.warning("Yield", row.cells["product"], "product/fab", f"{p}/{f}",
                               f"no route {p}/{f} in Routes; these yields are ignored")
                continue
            for t, v in values.items():
                if v is not None:
                    yields[(p, f, t)] = float(v)
        receipts = {k: v for k, v in series("ScheduledReceipts").items() if v}
        hbm_supply = series("HBMSupply")
        packaging_capacity = series("PackagingCapacity")
        site_power = series("SitePower")
        demand = series("Demand")
        budget: dict[int, float] = {t: 0.0 for t in range(T)}
        budget_rows = {("_".join(keys[0].split()).lower() if "_".join(keys[0].split()).lower() == OWN_CAPEX_ITEM
                        else keys[0]): (values, row) for keys, values, row in wide["Budget"]}
        if "Budget" in self.raw.sheets:
            if OWN_CAPEX_ITEM not in budget_rows:
                issues.error("Budget", self.raw.sheets["Budget"].title, "item", None,
                             f"Budget has no row '{OWN_CAPEX_ITEM}' (the own capex budget per quarter)")
            for item, (values, row) in budget_rows.items():
                if item != OWN_CAPEX_ITEM:
                    issues.warning("Budget", row.cells["item"], "item", item,
                                   f"budget item '{item}' is not used (only '{OWN_CAPEX_ITEM}')")
            if OWN_CAPEX_ITEM in budget_rows:
                budget = {t: (v or 0.0) for t, v in budget_rows[OWN_CAPEX_ITEM][0].items()}
                written = budget_rows[OWN_CAPEX_ITEM][1].values["item"]
                for q in self.quarters + ["item"]:  # cells also under the canonical item name
                    if ("Budget", (written,), q) in self.cells:
                        self.cells[("Budget", (OWN_CAPEX_ITEM,), q)] = self.cells[("Budget", (written,), q)]

        base = pd.DataFrame(
            [{"product": r.values["product"], "site": r.values["site"], "racks": float(r.values["racks"]),
              "retire_t": (quarter_index(r.values["retire_quarter"]) - quarter_index(self.quarters[0])
                           if r.values["retire_quarter"] else 10**9), "row": r.excel_row,
              "cell": r.cells.get("racks", "")} for r in base_rows],
            columns=["product", "site", "racks", "retire_t", "row", "cell"])
        for r in base_rows:
            rq = r.values["retire_quarter"]
            if rq and quarter_index(rq) <= quarter_index(self.quarters[0]):
                issues.warning("InstalledBase", r.cells["retire_quarter"], "retire_quarter", rq,
                               f"these racks retire at or before the plan start {self.quarters[0]}; they serve nothing")

        # partner windows
        first_t, last_t = [], []
        q0 = quarter_index(self.quarters[0])
        for p in partners.index:
            fq, lq = partners.at[p, "first_quarter"], partners.at[p, "last_quarter"]
            a = quarter_index(fq) - q0 if isinstance(fq, str) else 0
            b = quarter_index(lq) - q0 if isinstance(lq, str) else T - 1
            cell_f = self.cells.get(("Partners", (p,), "first_quarter"), "Partners")
            if a > b:
                issues.error("Partners", cell_f, "first_quarter", fq, f"partner {p}: first_quarter {fq} is after "
                             f"last_quarter {lq}")
            elif b < 0 or a > T - 1:
                issues.warning("Partners", cell_f, "first_quarter", fq, f"partner {p}'s window {fq}..{lq} lies outside "
                               f"the horizon {self.quarters[0]}..{self.quarters[-1]}; it can fund nothing")
            elif a < 0 or b > T - 1:
                issues.warning("Partners", cell_f, "first_quarter", fq, f"partner {p}'s window {fq}..{lq} extends "
                               f"beyond the horizon; only {self.quarters[max(a, 0)]}..{self.quarters[min(b, T - 1)]} "
                               "is planned")
            first_t.append(max(a, 0))
            last_t.append(min(b, T - 1))
            if partners.at[p, "min_deal_usd"] > partners.at[p, "commitment_usd"]:
                issues.warning("Partners", self.cells.get(("Partners", (p,), "min_deal_usd"), "Partners"),
                               "min_deal_usd", partners.at[p, "min_deal_usd"],
                               f"partner {p}: the minimum deal exceeds the commitment; the deal can never be signed")
            if not any(n == p for n, _s in partner_sites):
                issues.warning("Partners", self.cells.get(("Partners", (p,), "partner"), "Partners"), "partner", p,
                               f"partner {p} has no row in PartnerSites; it funds nothing")
        partners = partners.assign(first_t=first_t, last_t=last_t)
        qualified_from = self._qualified_from(qual_rows, T)
        packaging_expansion = self._packaging_expansion(pexp_rows, wide, products)
        hbm_min_stacks = {k: v for k, v in series("HBMMinStacks").items() if v}

        self._partner_sites = partner_sites
        self._expansion = expansion
        self._settings_carryover = settings.budget_carryover if settings else False
        self._budget_max = max(budget.values()) if budget else None
        self._cross_checks(products, routes, qualified, fabs, vendors, sites, workloads, throughput, links, demand,
                           wide, known)
        self.scenario_weights()
        if not issues.ok:
            return None
        return PlanData(
            settings=settings, quarters=self.quarters, products=products, fabs=fabs, routes=routes, vendors=vendors,
            qualified=qualified, sites=sites, expansion=expansion, installed_base=base, workloads=workloads,
            throughput=throughput, links=sorted(links), partners=partners, partner_sites=partner_sites,
            fab_capacity=fab_capacity, fab_min_wafers=fab_min, wafer_cost=wafer_cost, yields=yields,
            receipts=receipts, hbm_supply=hbm_supply, packaging_capacity=packaging_capacity, site_power=site_power,
            demand=demand, budget=budget, cells=self.cells, source=str(self.raw.path), sha256=self.raw.sha256,
            hbm_min_stacks=hbm_min_stacks, qualified_from=qualified_from, packaging_expansion=packaging_expansion)

    def _qualified_from(self, qual_rows: list[Row], T: int) -> dict[tuple[str, str], int]:
        """(18) HBMQualification.first_quarter as a quarter index: before the plan = 0, blank = 0 (not stored),
        after the horizon = T or more (never inside the plan, with a warning)."""
        out: dict[tuple[str, str], int] = {}
        q0 = quarter_index(self.quarters[0]) if self.quarters else 0
        for r in qual_rows:
            first = r.values.get("first_quarter")
            if not first:
                continue
            t0 = max(0, quarter_index(first) - q0)
            key = (r.values["vendor"], r.values["product"])
            out[key] = t0
            if t0 >= T:
                self.issues.warning("HBMQualification", r.cells.get("first_quarter", "HBMQualification"),
                                    "first_quarter", first, f"{key[0]} is qualified for {key[1]} from {first}, after "
                                    f"the horizon {self.quarters[0]}..{self.quarters[-1]}: never used in this plan")
        return out

    def _packaging_expansion(self, rows: list[Row], wide, products: pd.DataFrame) -> pd.DataFrame:
        """(19) PackagingExpansion rows whose line has a PackagingCapacity row (others are located errors)."""
        listed = {keys[0] for keys in self.present.get("PackagingCapacity", ())}
        used = set(products["packaging_line"]) if len(products) else set()
        kept = []
        for r in rows:
            k = r.values["packaging_line"]
            cell = r.cells.get("packaging_line", "PackagingExpansion")
            if k not in listed:
                self.issues.error("PackagingExpansion", cell, "packaging_line", k,
                                  f"packaging line '{k}' can expand only from a capacity: add its row to "
                                  f"PackagingCapacity (lines there: {_known(listed)})")
                continue
            if k not in used:
                self.issues.warning("PackagingExpansion", cell, "packaging_line", k,
                                    f"no product uses packaging line '{k}'; its expansion is never needed")
            kept.append(r)
        return self._frame("PackagingExpansion", kept, ["packaging_line"])

    def scenario_weights(self) -> dict[str, float] | None:
        return _weights_of(self)

    def _cross_checks(self, products, routes, qualified, fabs, vendors, sites, workloads, throughput, links, demand,
                      wide, known) -> None:
        issues = self.issues
        routed = {p for p, _f in self.present.get("Routes", ())}
        qualified_products = {p for _v, p in qualified}
        for p in products.index:
            cell = self.cells.get(("Products", (p,), "product"), "Products")
            if p not in routed:
                issues.warning("Products", cell, "product", p, f"product {p} has no route in Routes: no wafers can be "
                               "started for it (only its initial die bank and chips can be used)")
            if products.at[p, "stacks_per_chip"] > 0 and p not in qualified_products:
                issues.warning("Products", self.cells.get(("Products", (p,), "stacks_per_chip"), cell),
                               "stacks_per_chip", products.at[p, "stacks_per_chip"],
                               f"product {p} needs HBM but no vendor is qualified for it in HBMQualification: "
                               "it cannot be packaged")
        lines = set(products["packaging_line"]) if len(products) else set()
        for (k,), _values, row in wide["PackagingCapacity"]:
            if k not in lines:
                issues.warning("PackagingCapacity", row.cells["packaging_line"], "packaging_line", k,
                               f"no product uses packaging line '{k}' (lines in Products: {_known(lines)})")
        for sheet, pool, what in (("FabCapacity", set(fabs.index), "fab"), ("HBMSupply", set(vendors.index), "vendor"),
                                  ("SitePower", set(sites.index), "site")):
            if sheet not in self.raw.sheets:
                continue
            listed = {keys[0] for keys in self.present.get(sheet, ())}
            for key in sorted(pool - listed):
                issues.warning(sheet, self.raw.sheets[sheet].title, what, key,
                               f"{what} {key} has no row in {sheet}: its capacity is 0 in every quarter")
        servers = {w for (_p, w) in throughput}
        regions_served = {r for (_s, r) in links}
        region_pool = set(sites["region"]) | {keys[0] for keys, _v, _r in wide["Demand"]}
        funded_sites = {s for (_n, s) in self._partner_sites}
        if not self._settings_carryover and self._budget_max is not None:
            for s, row in self._expansion.iterrows():
                block_usd = float(row["block_mw"]) * float(row["capex_usd_per_mw"])
                if block_usd > self._budget_max and s not in funded_sites and row["max_blocks"] > 0:
                    issues.warning("SiteExpansion", self.cells.get(("SiteExpansion", (s,), "capex_usd_per_mw"),
                                                                   "SiteExpansion"), "capex_usd_per_mw",
                                   row["capex_usd_per_mw"],
                                   f"one expansion block at {s} costs ${block_usd:,.0f}, more than any quarter's own "
                                   f"budget (at most ${self._budget_max:,.0f}) and no partner funds {s}: it can never "
                                   "be started")
        if "Demand" in self.raw.sheets and not wide["Demand"]:
            issues.warning("Demand", self.raw.sheets["Demand"].title, "", None,
                           "no demand rows: the plan has nothing to serve")
        for keys, values, row in wide["Demand"]:
            r, w = keys
            total = sum(v or 0.0 for v in values.values())
            if total <= 0:
                continue
            if w not in servers:
                issues.warning("Demand", row.cells["workload"], "workload", w,
                               f"workload {w} has demand but no product can serve it (no Throughput row): "
                               "all of it will be unmet")
            if r not in regions_served:
                issues.warning("Demand", row.cells["region"], "region", r,
                               f"region {r} has demand but no site serves it (no site in that region, no "
                               f"ServingLinks row): all of it will be unmet (regions served: {_known(regions_served)})")
        for (s, r) in links:
            if r not in region_pool:
                issues.warning("ServingLinks", self.cells.get(("ServingLinks", (s, r), "region"), "ServingLinks"),
                               "region", r, f"region {r} has no demand and no site; the link is unused")


def _scenario_names(raw: RawWorkbook) -> list[str]:
    sheet = raw.sheets.get("Scenarios")
    if sheet is None:
        return []
    names = (to_text(r.values.get("scenario")) for r in sheet.rows)
    return list(dict.fromkeys(n for n in names if n))


def _weights_of(v: "_Validator") -> dict[str, float] | None:
    """ScenarioWeights (stochastic.md): each scenario is base or one of the Scenarios sheet, probabilities >= 0
    adding up to 1 within 1e-6. None without the sheet (or with no rows); every problem is a located error."""
    sheet = v.raw.sheets.get("ScenarioWeights")
    if sheet is None or not sheet.rows:  # an empty sheet (as in the template) is no scenario set
        return None
    rows = v._table("ScenarioWeights", {})
    known = _scenario_names(v.raw)
    by_fold = {n.casefold(): n for n in known}
    weights: dict[str, float] = {}
    for row in rows:
        name = str(row.values["scenario"])
        canonical = "base" if name.casefold() == "base" else name if name in known else by_fold.get(name.casefold())
        if canonical is None:
            v.issues.error("ScenarioWeights", row.cells["scenario"], "scenario", name,
                           f"unknown scenario '{name}': not in the Scenarios sheet and not base "
                           f"(known: {_known(['base'] + known)})")
        elif row.ok:
            weights[canonical] = float(row.values["probability"])
    total = sum(weights.values())
    rng = f"{sheet.title}!{sheet.columns.get('probability', 'B')}{sheet.header_row + 1}:" \
          f"{sheet.columns.get('probability', 'B')}{max(sheet.header_row + 1, sheet.header_row + len(sheet.rows))}"
    if len(weights) == len(rows) == len(sheet.rows) and abs(total - 1.0) > 1e-6:
        v.issues.error("ScenarioWeights", rng, "probability", total,
                       f"the probabilities add up to {total:.6g}, not 1 (within 1e-6)")
    return weights


def scenario_weights(raw: RawWorkbook, issues: Issues) -> dict[str, float] | None:
    """The weighted scenario set of the ScenarioWeights sheet (None without the sheet); errors go to `issues`."""
    return _weights_of(_Validator(raw, issues))


def validate_workbook(path: str | Path, limits: ReadLimits | None = None) -> tuple[PlanData | None, Issues]:
    """Read and validate `path`; PlanData only when there is no error. Never raises on a bad workbook."""
    raw, issues = read_workbook(path, limits)
    if raw is None:
        return None, issues
    return validate_raw(raw, issues)


def validate_raw(raw: RawWorkbook, issues: Issues) -> tuple[PlanData | None, Issues]:
    """Validate an already-read workbook (issues from reading are kept and extended)."""
    data = _Validator(raw, issues).run()
    if data is None and issues.ok:
        issues.error("Settings", "", "", None, "the plan horizon is not defined (start_quarter, quarters)")
    return data, issues
