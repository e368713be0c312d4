"""What a diagnosis found, as plain tables: the writer reads this without importing the solver."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Diagnosis:
    status: str
    summary: list[str] = field(default_factory=list)
    checks: pd.DataFrame = field(default_factory=pd.DataFrame)
    conflict: pd.DataFrame = field(default_factory=pd.DataFrame)
    repairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    alternatives: pd.DataFrame = field(default_factory=pd.DataFrame)
    conflict_of: str = ""  # which problem the conflict set is of


CHECK_COLUMNS = ["check", "sheet", "cell", "key", "quarter", "value", "limit", "message"]
CONFLICT_COLUMNS = ["family", "spec", "key", "quarter", "cell", "limit", "bound", "meaning"]
REPAIR_COLUMNS = ["family", "cell", "key", "quarter", "current", "repaired", "change", "unit", "action"]
