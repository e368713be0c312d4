"""Serving: rack throughput, demand balance, service floor. Throughput in M tok/s inside the model."""

from __future__ import annotations

import pyomo.environ as pyo

from models.data import PlanData

from models.costs import add_cost, discount_factor
from models.sets import TPS_PER_MTPS, USD_PER_OBJ, ModelSets


def add_serving_capacity(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(11) Serving capacity: ``sum_{r,w} Z[p,s,r,w,t] / tps[p,w] <= utilization[p] * chips_per_rack[p] * R[p,s,t]``
    [chips; Z in M tok/s, so each term is Z * 1e6 / tps]."""
    util = data.products["utilization"].to_dict()
    per_rack = data.products["chips_per_rack"].to_dict()
    tps = data.throughput

    def served_within_chip_capacity(m, p, s, t):
        chips_busy = sum(m.Z[p, s, r, w, t] * (TPS_PER_MTPS / tps[(p, w)]) for (r, w) in sets.serve_by_rack[(p, s)])
        return chips_busy <= util[p] * per_rack[p] * m.R[p, s, t]

    m.serving_capacity = pyo.Constraint([(p, s, t) for (p, s) in sorted(sets.serve_by_rack) for t in sets.T],
                                        rule=served_within_chip_capacity)


def add_demand(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(12) Demand: ``sum_{p,s} Z[p,s,r,w,t] + U[r,w,t] = Demand[r,w,t]``  [M tok/s]."""

    def served_plus_unmet_is_demand(m, r, w, t):
        served = sum(m.Z[p, s, r, w, t] for (p, s) in sets.serve_by_demand.get((r, w), ()))
        return served + m.U[r, w, t] == data.demand[(r, w, t)] / TPS_PER_MTPS

    m.demand = pyo.Constraint([(r, w, t) for (r, w) in sets.demand_rows for t in sets.T], rule=served_plus_unmet_is_demand)
    # penalty is USD per tok/s per quarter and U is in M tok/s: USD = penalty * 1e6 * U
    penalty = data.workloads["unmet_penalty_usd_per_tps"].to_dict()
    add_cost(m, "unmet_penalty", sum(discount_factor(data, t) * penalty[w] * (TPS_PER_MTPS / USD_PER_OBJ)
                                     * m.U[r, w, t] for (r, w) in sets.demand_rows for t in sets.T))


def add_service_floor(m: pyo.ConcreteModel, data: PlanData, sets: ModelSets) -> None:
    """(13) Service floor: ``U[r,w,t] <= (1 - min_service_level[w]) * Demand[r,w,t]``  [M tok/s].

    Rows only where the workload has a floor and the quarter has demand (else the demand row implies it)."""
    floor = data.workloads["min_service_level"].to_dict()
    index = [(r, w, t) for (r, w) in sets.demand_rows for t in sets.T
             if floor.get(w, 0.0) > 0 and data.demand[(r, w, t)] > 0]
    def unmet_within_floor(m, r, w, t):
        return m.U[r, w, t] <= (1 - floor[w]) * data.demand[(r, w, t)] / TPS_PER_MTPS

    m.service_floor = pyo.Constraint(index, rule=unmet_within_floor)
