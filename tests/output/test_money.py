"""Dollars are written one way everywhere (models/money.py): separators, a leading minus, never '$-0' or 8.6e+07."""

import re
from pathlib import Path

from models.money import money

ROOT = Path(__file__).resolve().parents[2]


def test_money_in_words():
    assert money(86_000_000) == "$86,000,000"
    assert money(1234.4) == "$1,234" and money(-1234.6) == "-$1,235"
    assert money(-0.4) == "$0" and money(0) == "$0"
    assert money(None) == "n/a"


def test_no_module_writes_dollars_its_own_way():
    own_way = re.compile(r"\$\{[^{}]*:,\.0f\}")
    found = [f"{p.relative_to(ROOT)}:{n}" for folder in ("planner", "models") for p in (ROOT / folder).rglob("*.py")
             if p.name != "money.py" for n, line in enumerate(p.read_text().splitlines(), 1) if own_way.search(line)]
    assert found == [], "write dollars with models.money.money: " + ", ".join(found)
