"""The cost terms families add to the objective (formulation.md, Objective), in $k.

Families meet the objective only here: each family calls ``add_cost(m, component, expr)`` for the
cost its own variables carry (GenX's ``eObj``, switch's cost components); ``objective.py`` sums the
components. Discounting and the in-plan capex share live here so every family uses the same ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.data import PlanData

if TYPE_CHECKING:  # the report reads discounting from here without importing Pyomo
    import pyomo.environ as pyo

# the order the cost breakdown is reported in; a family adds to one of these
COST_COMPONENTS = ("wafers", "hbm", "packaging", "own_capex", "partner_financing", "partner_deal_costs", "power",
                   "holding", "unmet_penalty", "terminal_value")  # terminal_value: minus TV (family 20)


def discount_factor(data: PlanData, t: int) -> float:
    """``df_t = (1 + discount_rate_annual) ** (-t / 4)``."""
    return (1.0 + data.settings.discount_rate_annual) ** (-t / 4.0)


def capex_share(data: PlanData, t: int) -> float:
    """``a_t = min(1, (T - t) / capex_life_quarters)``; 1 (cash) when capex_life_quarters is blank."""
    life = data.settings.capex_life_quarters
    if not life:
        return 1.0
    return min(1.0, (data.T - t) / life)


def add_cost(m: pyo.ConcreteModel, component: str, expr) -> None:
    """Add `expr` ($k, already discounted) to cost component `component` of the objective."""
    if component not in COST_COMPONENTS:
        raise KeyError(f"unknown cost component {component!r}; add it to COST_COMPONENTS")
    if not hasattr(m, "_cost_terms"):
        m._cost_terms = {}
    m._cost_terms.setdefault(component, []).append(expr)


def cost_terms(m: pyo.ConcreteModel) -> dict[str, list]:
    return getattr(m, "_cost_terms", {})
