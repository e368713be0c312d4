"""Turn one raw cell value into a typed value, or say in a sentence why it cannot be."""

from __future__ import annotations

import datetime as dt
import math
import re

from planner.input.names import ZERO_WIDTH
from planner.quarters import parse_quarter

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


class CellError(ValueError):
    """The cell's value cannot be used; the message is written for a planner."""


def to_number(value: object) -> float | None:
    """A finite float, None for blank. Text like ' 12 ' is accepted; '1,000', '12%', TRUE are not."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellError("expected a number, found TRUE/FALSE")
    if isinstance(value, (int, float)):
        x = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not _NUMBER.match(text):
            hint = ""
            if "," in text:
                hint = " (remove the thousands separator)"
            elif text.endswith("%"):
                hint = " (write a fraction, e.g. 0.12 for 12%)"
            raise CellError(f"expected a number, found text '{text}'{hint}")
        x = float(text)
    elif isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        raise CellError(f"expected a number, found a date/time ({value})")
    else:
        raise CellError(f"expected a number, found {type(value).__name__}")
    if not math.isfinite(x):
        raise CellError("expected a finite number")
    return x


def to_int(value: object) -> int | None:
    x = to_number(value)
    if x is None:
        return None
    if not float(x).is_integer():
        raise CellError(f"expected a whole number, found {x:g}")
    return int(x)


def to_key(value: object) -> str | None:
    """Keys are text: 123 and '123' are the same key; 'NA' and 'None' are keys, not blanks."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CellError("a key cannot be NaN or infinite")
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        raise CellError(f"expected a name, found a date ({value}); format the cell as text")
    # zero-width characters (pasted from the web) are invisible in Excel: 'LPU-1\u200b' is LPU-1, so a copy of a
    # row with one is the duplicate it looks like, not a second product
    text = str(value).translate(ZERO_WIDTH).strip()
    if _CONTROL.search(text):
        raise CellError("the name contains control characters (a damaged or pasted cell?); retype it")
    return text or None


def to_bool(value: object) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise CellError(f"expected TRUE or FALSE, found {value!r}")


def to_quarter(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and not value.strip():
        return None
    q = parse_quarter(str(value))
    if q is None:
        raise CellError(f"expected a quarter like 2026Q1, found {_as_typed(value)}")
    return q


def _as_typed(value: object) -> str:
    """A cell's value as the planner typed it: a date is a date (Excel made '2027Q2' one), not Python's repr."""
    if isinstance(value, dt.datetime):
        return f"the date {value:%Y-%m-%d}" + (f" {value:%H:%M}" if (value.hour, value.minute) != (0, 0) else "") \
            + " (write the quarter as text, e.g. 2027Q2)"
    if isinstance(value, dt.date):
        return f"the date {value:%Y-%m-%d} (write the quarter as text, e.g. 2027Q2)"
    return repr(value)


def to_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


CONVERTERS = {"float": to_number, "int": to_int, "key": to_key, "bool": to_bool, "quarter": to_quarter,
              "text": to_text}


def convert(dtype: str, value: object):
    return CONVERTERS[dtype](value)
