"""The discounted cost (formulation.md, Objective): the sum of the cost terms the families added, in $k.

One named expression per cost component (``cost_wafers``, ``cost_hbm``, ...), so the breakdown the
plan reports adds up to the objective by construction.
"""

from __future__ import annotations

import pyomo.environ as pyo

from models.costs import COST_COMPONENTS, cost_terms
from models.data import PlanData
from models.sets import ModelSets


def add_objective(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """Minimise ``sum_c cost_c``, each ``cost_c`` the sum of the terms families added to component c."""
    terms = cost_terms(m)
    for component in COST_COMPONENTS:
        m.add_component("cost_" + component, pyo.Expression(expr=sum(terms.get(component, ()))))
    m.total_cost = pyo.Objective(expr=sum(getattr(m, "cost_" + c) for c in COST_COMPONENTS), sense=pyo.minimize)
