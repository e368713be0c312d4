"""The sweep workbook: distributions of cost, service level and unmet demand over the draws, the probability
each limit binds, histograms; and the draws table as Parquet. Reads the draws frame only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef

from planner.output.contract import Col, PLANNED_STATUSES, is_planned
from planner.output.xlsx import PERCENT, WHOLE, printable, safe_save, write_frame, write_key_values
from planner.output.xml_rows import PlanWorkbook

METRICS = (Col.objective_usd, Col.service_level, Col.unmet_tps, Col.own_capex_usd, Col.partner_capex_usd)


# ---- summary -----------------------------------------------------------------------------------------

def quantiles(x: pd.Series) -> dict[str, float | None]:
    x = x.dropna().astype(float)
    if not len(x):
        return {k: None for k in (Col.mean, Col.sd, Col.min, Col.p10, Col.p50, Col.p90, Col.max)}
    q = np.quantile(x.to_numpy(), [0.1, 0.5, 0.9])
    return {Col.mean: float(x.mean()), Col.sd: float(x.std(ddof=1)) if len(x) > 1 else 0.0, Col.min: float(x.min()),
            Col.p10: float(q[0]), Col.p50: float(q[1]), Col.p90: float(q[2]), Col.max: float(x.max())}


def value_at_risk(x: pd.Series, level: float) -> tuple[float | None, float | None]:
    """(VaR, CVaR) of a loss: the `level` quantile, and the mean of the draws at or beyond it."""
    x = x.dropna().astype(float)
    if not len(x):
        return None, None
    var = float(np.quantile(x.to_numpy(), level))
    tail = x[x >= var - 1e-12 * max(1.0, abs(var))]
    return var, float(tail.mean())


def distribution(frame: pd.DataFrame) -> pd.DataFrame:
    planned = frame[frame[Col.status].isin(PLANNED_STATUSES)]
    rows = [{Col.metric: m, Col.draws: int(planned[m].notna().sum()), **quantiles(planned[m])} for m in METRICS]
    return pd.DataFrame(rows, columns=[Col.metric, Col.draws, Col.mean, Col.sd, Col.min, Col.p10, Col.p50, Col.p90, Col.max])


def histogram(frame: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    planned = frame[frame[Col.status].isin(PLANNED_STATUSES)]
    rows = []
    for metric in (Col.service_level, Col.objective_usd):
        x = planned[metric].dropna().astype(float).to_numpy()
        if not len(x):
            continue
        lo, hi = float(x.min()), float(x.max())
        if hi - lo < 1e-12 * max(1.0, abs(hi)):
            lo, hi = lo - 0.5 * max(abs(lo) * 1e-3, 1e-9), hi + 0.5 * max(abs(hi) * 1e-3, 1e-9)
        counts, edges = np.histogram(x, bins=bins, range=(lo, hi))
        for c, a, b in zip(counts, edges[:-1], edges[1:]):
            label = f"{a:.1%}..{b:.1%}" if metric == Col.service_level else f"{a:,.0f}..{b:,.0f}"
            rows.append({Col.metric: metric, Col.bin: label, Col.bin_low: float(a), Col.bin_high: float(b),
                         Col.draws: int(c), Col.draw_share: float(c) / len(x)})
    return pd.DataFrame(rows, columns=[Col.metric, Col.bin, Col.bin_low, Col.bin_high, Col.draws, Col.draw_share])


def binding_probability(frame: pd.DataFrame) -> pd.DataFrame:
    planned = frame[frame[Col.status].isin(PLANNED_STATUSES)]
    counts: dict[tuple[str, str], int] = {}
    for text in planned[Col.binding]:
        for item in filter(None, (s.strip() for s in str(text).split(";"))):
            family, _, key = item.partition("|")
            counts[(family, key)] = counts.get((family, key), 0) + 1
    n = len(planned)
    rows = [{Col.family: f, Col.key: k, Col.draws_binding: c, Col.probability: c / n if n else None}
            for (f, k), c in counts.items()]
    rows.sort(key=lambda r: (-r[Col.draws_binding], r[Col.family], r[Col.key]))
    return pd.DataFrame(rows, columns=[Col.family, Col.key, Col.draws_binding, Col.probability])


def _largest_gap(planned: pd.DataFrame) -> float | None:
    if Col.gap_to_bound not in planned.columns:
        return None
    gaps = pd.to_numeric(planned[Col.gap_to_bound], errors="coerce").dropna()
    return float(gaps.max()) if len(gaps) else None


def summary_rows(frame: pd.DataFrame, meta: dict) -> list[tuple[str, object, str]]:
    planned = frame[frame[Col.status].isin(PLANNED_STATUSES)]
    status_counts = frame[Col.status].value_counts().to_dict()
    rows: list[tuple[str, object, str]] = [
        ("input_file", meta.get("input_file"), ""),
        (Col.draws, len(frame), "sampled scenarios"),
        ("seed", meta.get("seed"), "numpy default_rng seed; same seed and draws = same factors"),
        ("runner", meta.get("runner"), "where the draws were planned"),
        ("draws_planned", len(planned), "optimal or feasible"),
        ("draws_max_mip_gap", _largest_gap(planned), "the largest MIP gap of a planned draw: its quantiles are "
         "known to within it (Draws sheet, column gap_to_bound)"),
    ]
    for status in sorted(status_counts):
        if not is_planned(status):
            rows.append((f"draws_{status}", status_counts[status], "see the Draws sheet, column message"))
    for m in METRICS:
        q = quantiles(planned[m])
        note = {Col.service_level: "served / demand", Col.objective_usd: "present-value cost",
                Col.unmet_tps: "tok/s, summed over rows and quarters"}.get(m, "cash, all quarters")
        rows += [(f"{m}_{p}", q[p], note) for p in (Col.p10, Col.p50, Col.p90)]
    for level in (0.90, 0.95):
        var, cvar = value_at_risk(planned[Col.unmet_tps], level)
        pct = int(round(level * 100))
        rows.append((f"unmet_tps_var_{pct}", var, f"value-at-risk: {pct}% of draws leave at most this much unmet"))
        rows.append((f"unmet_tps_cvar_{pct}", cvar, f"expected unmet in the worst {100 - pct}% of draws"))
    if len(planned):
        rows.append(("probability_any_unmet", float((planned[Col.unmet_tps] > 1e-6).mean()),
                     "share of draws with some unmet demand"))
    rows.append(("parquet", meta.get("parquet"), "every draw, one row each (tidy table beside this workbook)"))
    rows.append((Col.seconds, meta.get(Col.seconds), "wall clock of the sweep"))
    return rows


def write_summary(path: Path, frame: pd.DataFrame, meta: dict, input_path: Path) -> tuple[Path, str]:
    wb = PlanWorkbook()
    write_key_values(wb, "Summary", summary_rows(frame, meta),
                     bold_keys=frozenset({"service_level_p50", "objective_usd_p50", "unmet_tps_var_95"}))
    # a row per metric: each row's numbers in its metric's unit (cost in USD, service level in %, unmet in tok/s)
    write_frame(wb, "Distribution", distribution(frame), formats={Col.draws: WHOLE}, unit_from=Col.metric)
    hist = histogram(frame)
    hist_ws = write_frame(wb, "Histogram", hist, formats={Col.draws: WHOLE, Col.draw_share: PERCENT},
                          unit_from=Col.metric)
    _histogram_charts(wb, hist_ws, hist)
    write_frame(wb, "Binding", binding_probability(frame))
    write_frame(wb, "Factors", pd.DataFrame(frame.attrs.get("factors", []),
                                            columns=[Col.factor, Col.cell, Col.distribution, Col.p1, Col.p2, Col.p3]),
                highlight=False)
    write_frame(wb, "Draws", frame)
    return safe_save(wb, path, input_path)


def _histogram_charts(wb: Workbook, hist_ws, hist: pd.DataFrame) -> None:
    ws = wb.create_sheet("Charts", 1)
    printable(ws, landscape=False, repeat_header=False)  # the two charts one above the other, on one page
    ws.page_setup.fitToHeight = 1
    anchors = iter(("A1", "A18"))
    for metric, title in ((Col.service_level, "Service level across draws"), (Col.objective_usd, "Cost across draws")):
        idx = [i for i, m in enumerate(hist[Col.metric]) if m == metric]
        if not idx:
            continue
        first, last = idx[0] + 2, idx[-1] + 2
        chart = BarChart()
        chart.type = "col"
        chart.title, chart.y_axis.title = title, Col.draws
        chart.add_data(Reference(hist_ws, min_col=5, max_col=5, min_row=first, max_row=last), titles_from_data=False)
        chart.series[0].cat = AxDataSource(strRef=StrRef(f"'{hist_ws.title}'!$B${first}:$B${last}"))  # bin labels
        chart.legend = None
        chart.width, chart.height = 18, 8
        ws.add_chart(chart, next(anchors))


def write_parquet(frame: pd.DataFrame, target: Path) -> Path:
    """The draws table beside the workbook, atomically; an OS error is an OutputError, as for a workbook."""
    from planner.output.xlsx import OutputError, atomic_write, os_error_text

    out = frame.copy()
    out.attrs = {}
    try:
        return atomic_write(target, lambda tmp: out.to_parquet(tmp, index=False))
    except OSError as exc:
        raise OutputError(f"could not write {target} (folder {target.parent}): {os_error_text(exc)}") from None
