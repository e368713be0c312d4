"""build_model(data): the fixed build order of the planning model (formulation.md)."""

from __future__ import annotations

import pyomo.environ as pyo

from models.data import PlanData
from models.gc_pause import paused_gc

from models import deployment, finance, manufacturing, memory, objective, packaging, power, serving
from models.sets import ModelSets, build_sets
from models.variables import add_variables

FAMILIES = (
    ("fab_capacity", manufacturing.add_fab_capacity),
    ("take_or_pay", manufacturing.add_take_or_pay),
    ("die_bank", manufacturing.add_die_bank),  # includes good dies (3)
    ("packaging_capacity", packaging.add_packaging_capacity),
    ("hbm_content", memory.add_hbm_content),
    ("hbm_supply", memory.add_hbm_supply),
    ("hbm_inventory", memory.add_hbm_inventory),
    ("hbm_take_or_pay", memory.add_hbm_take_or_pay),  # 17
    ("packaging_expansion", packaging.add_packaging_expansion),  # 19
    ("finished_chips", packaging.add_finished_chips),
    ("installed_racks", deployment.add_installed_racks),
    ("site_power", power.add_site_power),
    ("expansion_limit", power.add_expansion_limit),
    ("serving_capacity", serving.add_serving_capacity),
    ("demand", serving.add_demand),
    ("service_floor", serving.add_service_floor),
    ("capex", finance.add_capex),
    ("own_budget", finance.add_own_budget),
    ("partner_deals", finance.add_partner_deals),
    ("terminal_value", manufacturing.add_terminal_value),  # 20
    ("objective", objective.add_objective),
)


@paused_gc()
def build_model(data: PlanData) -> tuple[pyo.ConcreteModel, ModelSets]:
    """Build the Pyomo model of `data`. The model never reads Excel: only PlanData."""
    sets = build_sets(data)
    m = pyo.ConcreteModel(name=data.settings.plan_name)
    add_variables(m, data, sets)
    for _name, add in FAMILIES:
        add(m, data, sets)
    return m, sets
