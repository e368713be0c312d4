"""How the planner tells a misspelt name from a new one: sheet names, and keys a row refers to."""

from __future__ import annotations

import difflib
import re


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
