"""Findings about an input workbook: every one located by sheet, cell and column."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    severity: Severity
    sheet: str
    cell: str  # "Routes!D7", "Routes" for a whole sheet, "" for the file
    column: str
    value: object
    message: str

    def __str__(self) -> str:
        where = self.cell or self.sheet or "workbook"
        col = f" [{self.column}]" if self.column else ""
        val = "" if self.value is None or self.value == "" else f" = {_shown(self.value)}"
        return f"{self.severity.upper():7s} {where}{col}{val}: {self.message}"


def _shown(value: object) -> str:
    """A cell value as the issue shows it: its repr, a float without binary noise (a sum of 0.6 and 0.5 shows
    1.1, not 1.0999999999999999) and a whole one as a whole number (10500; text shows quoted: '10500')."""
    if isinstance(value, float) and math.isfinite(value):
        if value == int(value) and abs(value) < 1e15:  # a whole number as typed: 10500, not 10500.0
            return str(int(value))
        return repr(float(f"{value:.15g}"))
    return repr(value)


@dataclass
class Issues:
    items: list[Issue] = field(default_factory=list)

    def error(self, sheet: str, cell: str, column: str, value: object, message: str) -> None:
        self.items.append(Issue("error", sheet, cell, column, value, message))

    def warning(self, sheet: str, cell: str, column: str, value: object, message: str) -> None:
        self.items.append(Issue("warning", sheet, cell, column, value, message))

    def extend(self, other: "Issues") -> None:
        self.items.extend(other.items)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.items if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.items if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class InputError(Exception):
    """Raised when a workbook cannot be planned; carries every issue found."""

    def __init__(self, issues: Issues):
        super().__init__(f"{len(issues.errors)} error(s) in the input workbook")
        self.issues = issues
