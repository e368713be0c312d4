"""Quarter labels `YYYYQn` and their arithmetic."""

from __future__ import annotations

import re

_QUARTER = re.compile(r"^\s*(\d{4})\s*[-_ ]?\s*[Qq]\s*([0-9])\s*$")
_QUARTER_FIRST = re.compile(r"^\s*[Qq]\s*([0-9])\s*[-_ ]?\s*(\d{4})\s*$")
# what a planner may write for a quarter, well formed or not ('2026Q5', 'Q3-26', "Q3 '26", '26Q3'): a header
# like this that is not a valid YYYYQn is an error at its cell, not an unknown column
_LOOKS_LIKE = re.compile(r"^\s*(\d{4}\s*[-_ ]?\s*[Qq]\s*\d+|[Qq]\s*\d+\s*[-_ ]?\s*\d{4}"
                         r"|[Qq]\s*\d\s*[-_ /']*\s*\d{2}|\d{2}\s*[-_ ]?\s*[Qq]\s*\d)\s*$")


MIN_YEAR, MAX_YEAR = 1000, 9999  # quarter labels are YYYYQn: four-digit years only


def parse_quarter(text: object) -> str | None:
    """Normalise '2026Q1', '2026 q1', 'Q1 2026' to '2026Q1'; None when not a valid quarter."""
    if not isinstance(text, str):
        return None
    m = _QUARTER.match(text)
    if m:
        year, q = m.group(1), m.group(2)
    else:
        m = _QUARTER_FIRST.match(text)
        if not m:
            return None
        q, year = m.group(1), m.group(2)
    if q not in "1234" or len(q) != 1 or not MIN_YEAR <= int(year) <= MAX_YEAR:
        return None
    return f"{year}Q{q}"


def looks_like_quarter(text: object) -> bool:
    return isinstance(text, str) and bool(_LOOKS_LIKE.match(text))


def quarter_index(label: str) -> int:
    return int(label[:4]) * 4 + int(label[5]) - 1


def quarter_label(index: int) -> str:
    return f"{index // 4}Q{index % 4 + 1}"


def horizon(start: str, count: int) -> list[str]:
    first = quarter_index(start)
    return [quarter_label(first + i) for i in range(count)]


def horizon_problem(start: str, count: int) -> str | None:
    """Why `count` quarters from `start` cannot be planned (a year beyond 9999), or None."""
    last = quarter_index(start) + int(count) - 1
    if last > MAX_YEAR * 4 + 3:
        return (f"{count} quarters from {start} run past {MAX_YEAR}Q4; quarters are YYYYQn with a four-digit "
                "year")
    return None


def quarter_spans(quarters: list[str], order: list[str]) -> str:
    """'2026Q1..2026Q3, 2027Q2': runs of consecutive quarters."""
    idx = sorted(order.index(q) for q in set(quarters) if q in order)
    runs, out = [], []
    for i in idx:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    for a, b in runs:
        out.append(order[a] if a == b else f"{order[a]}..{order[b]}")
    return ", ".join(out)
