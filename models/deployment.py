"""Installed racks: deployments within their lifetime plus the installed base until it retires."""

from __future__ import annotations

import pyomo.environ as pyo

from models.data import PlanData

from models.sets import ModelSets


def add_installed_racks(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(9) Installed racks: ``R[p,s,t] = base[p,s,t] + sum_{tau = max(0, t-life[p]+1) .. t} Y[p,s,tau]``  [racks].

    A rack deployed in tau serves in tau .. tau+life-1; base[p,s,t] is InstalledBase.racks for quarters
    before its retire_quarter (never retired where blank). Written as the equivalent recursion
    ``R[p,s,t] = R[p,s,t-1] + Y[p,s,t] - Y[p,s,t-life] + base[p,s,t] - base[p,s,t-1]`` (R[p,s,-1] = 0), so
    each row has at most four terms and R enters power, serving and cost rows as one variable instead of a
    sum over the whole lifetime (measured: fewer non-zeros, faster hand-off and interior point)."""
    life = data.products["life_quarters"].to_dict()
    m.R = pyo.Var([(p, s, t) for (p, s) in sets.rack_pairs for t in sets.T], domain=pyo.NonNegativeReals,
                  doc="racks of product p installed at site s in t")
    base = sets.base_racks

    def racks_in_service(m, p, s, t):
        retired = m.Y[p, s, t - int(life[p])] if t - int(life[p]) >= 0 else 0.0
        previous = m.R[p, s, t - 1] if t > 0 else 0.0
        base_change = base.get((p, s, t), 0.0) - (base.get((p, s, t - 1), 0.0) if t > 0 else 0.0)
        return m.R[p, s, t] == previous + m.Y[p, s, t] - retired + base_change

    m.installed_racks = pyo.Constraint([(p, s, t) for (p, s) in sets.rack_pairs for t in sets.T], rule=racks_in_service)
