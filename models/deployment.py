"""Installed racks: deployments within their lifetime plus the installed base until it retires."""

from __future__ import annotations

import pyomo.environ as pyo

from planner.data import PlanData

from .sets import ModelSets


def add_installed_racks(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(9) Installed racks: ``R[p,s,t] = base[p,s,t] + sum_{tau = max(0, t-life[p]+1) .. t} Y[p,s,tau]``  [racks].

    A rack deployed in tau serves in tau .. tau+life-1; base[p,s,t] is InstalledBase.racks for quarters
    before its retire_quarter (never retired where blank). R is an expression, not a variable."""
    life = data.products["life_quarters"].to_dict()

    def rule(m, p, s, t):
        first = max(0, t - int(life[p]) + 1)
        return sets.base_racks.get((p, s, t), 0.0) + sum(m.Y[p, s, tau] for tau in range(first, t + 1))

    m.R = pyo.Expression([(p, s, t) for (p, s) in sets.rack_pairs for t in sets.T], rule=rule)
