"""The expected data of a scenario set (stochastic.md's expected-value plan): every scenario-dependent input value
at its probability-weighted mean, computed on validated PlanData.

Valid when the scenarios only change values (the usual Scenarios-sheet and Uncertainty edits: scale, add, set a
number). Tables keep the first scenario's rows: a scenario that adds or removes rows (a route, a site, a partner)
is averaged over the rows the first scenario has, its extra rows are dropped (`notes` says so). Integer columns
(lead times, lives, max blocks) are rounded to the nearest whole number. The settings that are model data
(discount rate, hours per quarter, capex life) are averaged like any cell; the others (a switch such as
integer_racks, the horizon, solver options) are the first scenario's, and `notes` says when they differ.
"""

from __future__ import annotations

import copy
from dataclasses import fields, replace

import numpy as np
import pandas as pd

from models.data import PlanData

DICT_FIELDS = ("throughput", "fab_capacity", "fab_min_wafers", "wafer_cost", "yields", "receipts", "hbm_supply",
               "packaging_capacity", "site_power", "demand", "budget", "hbm_min_stacks")
# kept without their zeros (models.data): a cell one scenario lacks is 0 there, and the mean is over every key
ZERO_WHEN_ABSENT = ("fab_min_wafers", "receipts", "hbm_min_stacks")
FRAME_FIELDS = ("products", "fabs", "routes", "vendors", "sites", "expansion", "workloads", "partners",
                "installed_base", "packaging_expansion")


def _mean_dict(dicts: list[dict], weights: list[float], notes: list[str], name: str) -> dict:
    keys = list(dicts[0])
    known = set(keys)
    extra = [k for d in dicts[1:] for k in d if k not in known]
    if name in ZERO_WHEN_ABSENT:
        keys += list(dict.fromkeys(extra))
    elif extra:
        notes.append(f"{name}: some scenarios have rows the first has not; the mean uses the first's rows")
    return {k: float(sum(w * d.get(k, 0.0) for d, w in zip(dicts, weights))) for k in keys}


def _mean_frame(frames: list[pd.DataFrame], weights: list[float], notes: list[str], name: str) -> pd.DataFrame:
    out = frames[0].copy()
    if not len(out):
        return out
    numeric = [c for c in out.columns if pd.api.types.is_numeric_dtype(out[c]) and out[c].dtype != bool
               and c not in ("row", "first_t", "last_t", "retire_t")]
    if any(len(f) != len(out) or not f.index.equals(out.index) for f in frames[1:]):
        notes.append(f"{name}: the scenarios differ in rows; only the first scenario's rows are averaged")
    for c in numeric:
        values = np.zeros(len(out))
        for f, w in zip(frames, weights):
            aligned = f[c].reindex(out.index) if f.index.is_unique and out.index.is_unique else f[c]
            values = values + w * np.nan_to_num(np.asarray(aligned, dtype=float)[:len(out)])
        if pd.api.types.is_integer_dtype(out[c]):
            out[c] = np.rint(values).astype(out[c].dtype)
        else:
            out[c] = values
    return out


OWNER_OF = {"fab_min_wafers": "fabs", "hbm_min_stacks": "vendors", "receipts": "products"}  # key[0] names a row of


def _drop_rows_without_owner(values: dict, notes: list[str]) -> None:
    """A floor or receipt of a fab, vendor or product only some scenario has (added by add_row, or removed from
    the first): the mean data keeps the first scenario's tables, so it cannot hold that row."""
    for name, table in OWNER_OF.items():
        owners = set(values[table].index)
        lost = sorted({k[0] for k in values[name] if k[0] not in owners})
        if lost:
            values[name] = {k: v for k, v in values[name].items() if k[0] in owners}
            notes.append(f"{name}: {', '.join(map(str, lost))} is not in the first scenario's {table}; left out of "
                         "the mean")


# Settings that are data of the model, averaged like any input cell (stochastic.md: every scenario-dependent input
# cell at its probability-weighted mean); capex_life_quarters only when every scenario has one (blank = cash)
MEAN_SETTINGS = ("discount_rate_annual", "hours_per_quarter", "capex_life_quarters")


def _mean_settings(datas: list[PlanData], weights: list[float], notes: list[str]):
    first = datas[0].settings
    averaged = {}
    for name in MEAN_SETTINGS:
        values = [getattr(d.settings, name) for d in datas]
        if all(v == values[0] for v in values[1:]):
            continue
        if any(v is None for v in values):
            notes.append(f"Settings {name} is blank (cash) in some scenarios only; the first scenario's is used")
            continue
        averaged[name] = float(sum(w * float(v) for v, w in zip(values, weights)))
    settings = replace(first, **averaged)
    rest = [f.name for f in fields(first) if f.name not in MEAN_SETTINGS
            and any(getattr(d.settings, f.name) != getattr(first, f.name) for d in datas[1:])]
    if rest:
        notes.append(f"Settings {', '.join(rest)} differ between scenarios; the first scenario's are used")
    return settings


def expected_data(datas: list[PlanData], probabilities: list[float]) -> tuple[PlanData, list[str]]:
    """The probability-weighted mean PlanData of the scenarios, and notes on what could not be averaged."""
    total = sum(probabilities)
    weights = [p / total for p in probabilities] if total > 0 else [1.0 / len(datas)] * len(datas)
    notes: list[str] = []
    first = datas[0]
    values = {}
    for name in DICT_FIELDS:
        values[name] = _mean_dict([getattr(d, name) for d in datas], weights, notes, name)
    for name in FRAME_FIELDS:
        values[name] = _mean_frame([getattr(d, name) for d in datas], weights, notes, name)
    for f in fields(PlanData):
        if f.name not in values:
            values[f.name] = copy.copy(getattr(first, f.name))
            if f.name in ("qualified", "links", "partner_sites") and any(getattr(d, f.name) != values[f.name]
                                                                         for d in datas[1:]):
                notes.append(f"{f.name}: differs between scenarios; the first scenario's is used")
    _drop_rows_without_owner(values, notes)
    values["settings"] = _mean_settings(datas, weights, notes)
    return PlanData(**values), notes
