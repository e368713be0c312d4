"""How the planner tells a misspelt name from a new one: sheet names, and keys a row refers to."""

from __future__ import annotations

import difflib
import re


# zero-width characters (pasted from the web): invisible in Excel, so a name or header drops them
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def name_key(text: object) -> str:
    """'Kamloops BC', 'kamloops-bc' and 'Kamloops_BC' -> 'kamloopsbc': the name without case, spaces, _ and -."""
    return re.sub(r"[\s_\-]+", "", str(text)).casefold()


def nearest_name(text: object, names, cutoff: float = 0.8) -> str | None:
    """The one of `names` that `text` most likely means: the same name_key, else the closest by difflib."""
    by_key = {name_key(n): n for n in names if n is not None}
    key = name_key(text)
    if key in by_key:
        return by_key[key]
    near = difflib.get_close_matches(key, list(by_key), n=1, cutoff=cutoff)
    return by_key[near[0]] if near else None


def likely_column(header: object, absent) -> str | None:
    """The absent column a header most likely means, beyond nearest_name's spelling: a unit or note added
    ('utilization (fraction)', 'rack_kw [kW]'), a word added ('Utilisation rate'), a prefix ('util', 4 letters or
    more). None when nothing is that close (an extra column of the planner's own, 'comment')."""
    text = str(header)
    found = nearest_name(text, absent)
    if found is not None:
        return found
    bare = re.sub(r"[\(\[\{].*?[\)\]\}]|%", " ", text).strip()
    if bare and bare != text and (found := nearest_name(bare, absent)) is not None:
        return found
    key = name_key(bare or text)
    for column in absent:
        column_key = name_key(column)
        if len(column_key) >= 4 and column_key in key or len(key) >= 4 and column_key.startswith(key):
            return column
    words = re.split(r"[\s_\-]+", bare or text)
    for n in range(len(words) - 1, 0, -1):  # the header without its trailing words
        if (found := nearest_name(" ".join(words[:n]), absent)) is not None:
            return found
    return None
