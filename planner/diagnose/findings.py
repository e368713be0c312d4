"""What a diagnosis found, as plain tables: the writer reads this without importing the solver."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from planner.output.contract import Col


@dataclass
class Diagnosis:
    status: str
    summary: list[str] = field(default_factory=list)
    checks: pd.DataFrame = field(default_factory=pd.DataFrame)
    conflict: pd.DataFrame = field(default_factory=pd.DataFrame)
    repairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    alternatives: pd.DataFrame = field(default_factory=pd.DataFrame)
    conflict_of: str = ""  # which problem the conflict set is of


CHECK_COLUMNS = [Col.check, Col.sheet, Col.cell, Col.key, Col.quarter, Col.value, Col.limit, Col.message]
CONFLICT_COLUMNS = [Col.family, Col.spec, Col.key, Col.quarter, Col.cell, Col.limit, Col.bound, Col.meaning]
REPAIR_COLUMNS = [Col.family, Col.cell, Col.key, Col.quarter, Col.current, Col.repaired, Col.change, Col.unit, Col.action]
