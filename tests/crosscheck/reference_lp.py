"""An independent reference implementation of the planning model.

Written from the contract `/work/shared/spec/formulation.md` only (never from `models/`, the implementation under
test). It takes the typed `PlanData` of `planner.input.validate.validate_workbook`, builds the LP/MIP of the spec as a
sparse matrix in plain USD and tokens/s (no scaling), and solves it with highspy directly.

Every variable of the spec's table is created (W, WP, B, HB, H, Y, Z, U, E, O, F, A, HP, K, ID, IC, IH); the installed
racks R of constraint 9 are substituted by their expansion (base + sum of Y) wherever they appear, and the
capex C of constraint 14 by its definition, so C = O + sum_n F becomes one equality row.
"""

from __future__ import annotations

import math
from collections import defaultdict

import highspy
import numpy as np
from scipy import sparse

INF = highspy.kHighsInf


class _Builder:
    """Columns (bounds, cost, integrality) and rows (coefficient dict, bounds)."""

    def __init__(self) -> None:
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.cost: list[float] = []
        self.integer: list[bool] = []
        self.names: list[tuple] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []
        self.offset = 0.0

    def var(self, name: tuple, lb: float = 0.0, ub: float = INF, integer: bool = False) -> int:
        self.lb.append(float(lb))
        self.ub.append(float(ub))
        self.cost.append(0.0)
        self.integer.append(bool(integer))
        self.names.append(name)
        return len(self.lb) - 1

    def add_cost(self, j: int, c: float) -> None:
        self.cost[j] += float(c)

    def row(self, coefs: dict[int, float], lo: float = -INF, hi: float = INF) -> None:
        self.rows.append((dict(coefs), float(lo), float(hi)))

    def to_highs(self) -> highspy.Highs:
        n, m = len(self.lb), len(self.rows)
        data, ri, ci = [], [], []
        for i, (coefs, _lo, _hi) in enumerate(self.rows):
            for j, a in coefs.items():
                if a != 0.0:
                    ri.append(i)
                    ci.append(j)
                    data.append(float(a))
        mat = sparse.csc_matrix((data, (ri, ci)), shape=(m, n))
        mat.sort_indices()
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = m
        lp.col_cost_ = np.array(self.cost, dtype=float)
        lp.col_lower_ = np.array(self.lb, dtype=float)
        lp.col_upper_ = np.array(self.ub, dtype=float)
        lp.row_lower_ = np.array([r[1] for r in self.rows], dtype=float)
        lp.row_upper_ = np.array([r[2] for r in self.rows], dtype=float)
        lp.offset_ = self.offset
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = mat.indptr.astype(np.int32)
        lp.a_matrix_.index_ = mat.indices.astype(np.int32)
        lp.a_matrix_.value_ = mat.data.astype(float)
        if any(self.integer):
            lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
                               for b in self.integer]
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.passModel(lp)
        return h


def _add(d: dict[int, float], j: int, a: float) -> None:
    d[j] = d.get(j, 0.0) + a


def _quarter_number(label: str) -> int:
    label = label.strip().upper()
    return int(label[:4]) * 4 + int(label[5]) - 1


def _partner_window(data, n: str) -> tuple[int, int]:
    """Quarter indices first..last a partner funds, from Partners.first_quarter/last_quarter (blank = the plan's
    first/last quarter); computed here rather than taken from the validator, so both are checked."""
    T = data.T
    q0 = _quarter_number(data.quarters[0])
    row = data.partners.loc[n]
    fq, lq = row.get("first_quarter"), row.get("last_quarter")
    t0 = _quarter_number(fq) - q0 if isinstance(fq, str) and fq.strip() else 0
    t1 = _quarter_number(lq) - q0 if isinstance(lq, str) and lq.strip() else T - 1
    return t0, t1


def _first_use(data, first_quarters: dict | None) -> dict[tuple[str, str], int]:
    """Family 18: the first quarter index each qualified pair may be used, from HBMQualification.first_quarter as
    written (`first_quarters`: (vendor, product) -> label or None, read from the workbook by the caller; computed
    here, not taken from the validator). Blank = 0; before the plan = 0; after the horizon = T (never)."""
    if first_quarters is None:
        return dict(getattr(data, "qualified_from", {}))
    q0 = _quarter_number(data.quarters[0])
    out = {}
    for pair, label in first_quarters.items():
        if isinstance(label, str) and label.strip():
            out[pair] = min(max(0, _quarter_number(label) - q0), data.T)
    return out


def build_reference(data, integer: bool = True, first_quarters: dict | None = None) -> _Builder:
    """The model of formulation.md for `data` (a `PlanData`). `integer=False` relaxes every integrality."""
    st = data.settings
    T = data.T
    P = list(data.products.index)
    Fb = list(data.fabs.index)
    V = list(data.vendors.index)
    S = list(data.sites.index)
    N = list(data.partners.index)
    prod = data.products
    routes = data.routes
    rate = float(st.discount_rate_annual)
    df = [(1.0 + rate) ** (-t / 4.0) for t in range(T)]
    life = st.capex_life_quarters
    if life is None or (isinstance(life, float) and math.isnan(life)):
        a = [1.0] * T
    elif float(life) <= 0:
        a = [1.0] * T  # (T - t) / 0 is +inf: min(1, inf) = 1
    else:
        a = [min(1.0, (T - t) / float(life)) for t in range(T)]
    hours = float(st.hours_per_quarter)
    int_racks = integer and bool(st.integer_racks)
    int_wafers = integer and bool(st.integer_wafers)

    b = _Builder()

    # ---------------- variables ----------------
    route_keys = [tuple(k) for k in routes.index]
    W = {(p, f, t): b.var(("W", p, f, t), integer=int_wafers) for (p, f) in route_keys for t in range(T)}
    WP = {(f, t): b.var(("WP", f, t)) for f in Fb for t in range(T)}
    B = {(p, t): b.var(("B", p, t)) for p in P for t in range(T)}
    HB = {(v, t): b.var(("HB", v, t), ub=float(data.hbm_supply.get((v, t), 0.0))) for v in V for t in range(T)}
    qualified = [(v, p) for (v, p) in data.qualified if v in V and p in P]
    first_use = _first_use(data, first_quarters)
    H = {(v, p, t): b.var(("H", v, p, t)) for (v, p) in qualified for t in range(T) if t >= first_use.get((v, p), 0)}
    # 17. stacks paid, every vendor; the floor HBMMinStacks is its lower bound
    HP = {(v, t): b.var(("HP", v, t), lb=float(getattr(data, "hbm_min_stacks", {}).get((v, t), 0.0)))
          for v in V for t in range(T)}
    # 19. packaging blocks on lines listed in PackagingExpansion and PackagingCapacity
    pexp = getattr(data, "packaging_expansion", None)
    capacity_lines = {k for (k, _t) in data.packaging_capacity}
    Kl = [k for k in (pexp.index if pexp is not None else []) if k in capacity_lines]
    K = {(k, t): b.var(("K", k, t), integer=integer) for k in Kl for t in range(T)}
    Y = {(p, s, t): b.var(("Y", p, s, t), integer=int_racks) for p in P for s in S for t in range(T)}
    links = set(tuple(x) for x in data.links) | {(s, data.sites.at[s, "region"]) for s in S}
    demand_rows = sorted({(r, w) for (r, w, _t) in data.demand})
    tps = {k: float(v) for k, v in data.throughput.items()}
    Z = {}
    for (r, w) in demand_rows:
        for (p, w2) in sorted(tps):
            if w2 != w:
                continue
            for s in S:
                if (s, r) in links:
                    for t in range(T):
                        Z[(p, s, r, w, t)] = b.var(("Z", p, s, r, w, t))
    U = {}
    for (r, w) in demand_rows:
        msl = float(data.workloads.at[w, "min_service_level"]) if w in data.workloads.index else 0.0
        if msl != msl:  # NaN = blank
            msl = 0.0
        for t in range(T):
            d = float(data.demand.get((r, w, t), 0.0))
            U[(r, w, t)] = b.var(("U", r, w, t), ub=(1.0 - msl) * d)
    exp = data.expansion
    Xs = [s for s in exp.index if s in S]
    E = {(s, t): b.var(("E", s, t), integer=integer) for s in Xs for t in range(T)}
    O = {(s, t): b.var(("O", s, t)) for s in S for t in range(T)}
    F = {}
    for (n, s) in data.partner_sites:
        if n not in N or s not in S:
            continue
        t0, t1 = _partner_window(data, n)
        for t in range(max(t0, 0), min(t1, T - 1) + 1):
            F[(n, s, t)] = b.var(("F", n, s, t))
    A = {n: b.var(("A", n), ub=1.0, integer=integer) for n in N}
    ID = {(p, t): b.var(("ID", p, t)) for p in P for t in range(T)}
    IC = {(p, t): b.var(("IC", p, t)) for p in P for t in range(T)}
    IH = {(v, t): b.var(("IH", v, t)) for v in V for t in range(T)}

    # installed base: base[p,s,t]
    base = defaultdict(float)
    for _i, row in data.installed_base.iterrows():
        for t in range(T):
            if t < int(row["retire_t"]):
                base[(row["product"], row["site"], t)] += float(row["racks"])

    def R_expr(p: str, s: str, t: int) -> tuple[dict[int, float], float]:
        """Installed racks (constraint 9): (coefficients on Y, constant base)."""
        L = int(prod.at[p, "life_quarters"])
        coefs = {Y[(p, s, tau)]: 1.0 for tau in range(max(0, t - L + 1), t + 1)}
        return coefs, base[(p, s, t)]

    # ---------------- constraints ----------------
    # 1. fab capacity, 2. take-or-pay
    for f in Fb:
        for t in range(T):
            ws = {W[(p, f2, t)]: 1.0 for (p, f2) in route_keys if f2 == f}
            b.row(ws, -INF, float(data.fab_capacity.get((f, t), 0.0)))
            row = dict(ws)
            row[WP[(f, t)]] = -1.0
            b.row(row, -INF, 0.0)  # sum W - WP <= 0
            b.lb[WP[(f, t)]] = max(b.lb[WP[(f, t)]], float(data.fab_min_wafers.get((f, t), 0.0)))

    # 3. good dies, 4. die bank (ID_t - ID_{t-1} - G_t + B_t = 0)
    for p in P:
        for t in range(T):
            row: dict[int, float] = {ID[(p, t)]: 1.0, B[(p, t)]: 1.0}
            rhs = float(data.receipts.get((p, t), 0.0))
            if t == 0:
                rhs += float(prod.at[p, "initial_die_bank"])
            else:
                _add(row, ID[(p, t - 1)], -1.0)
            for (p2, f) in route_keys:
                if p2 != p:
                    continue
                L = int(routes.at[(p, f), "lead_quarters"])
                t0 = t - L
                if t0 < 0:
                    continue
                good = float(routes.at[(p, f), "dies_per_wafer"]) * float(data.yields[(p, f, t0)])
                _add(row, W[(p, f, t0)], -good)
            b.row(row, rhs, rhs)

    # 5. packaging capacity (only listed lines)
    lines = defaultdict(list)
    for p in P:
        lines[prod.at[p, "packaging_line"]].append(p)
    listed = sorted({k for (k, _t) in data.packaging_capacity})
    for k in listed:
        for t in range(T):
            row = {B[(p, t)]: 1.0 for p in lines.get(k, [])}
            if k in Kl:  # 19. + block_chips * sum_{tau <= t - lead} K[k,tau]
                for tau in range(0, t - int(pexp.at[k, "lead_quarters"]) + 1):
                    _add(row, K[(k, tau)], -float(pexp.at[k, "block_chips"]))
            b.row(row, -INF, float(data.packaging_capacity.get((k, t), 0.0)))
    for k in Kl:
        b.row({K[(k, t)]: 1.0 for t in range(T)}, -INF, float(pexp.at[k, "max_blocks"]))

    # 17. HP - HB >= 0
    for (v, t), j in HP.items():
        b.row({j: 1.0, HB[(v, t)]: -1.0}, 0.0, INF)

    # 6. HBM content: sum_v H[v,p,t] - spc * B[p,t] = 0
    for p in P:
        spc = float(prod.at[p, "stacks_per_chip"])
        for t in range(T):
            row = {H[(v, p2, t)]: 1.0 for (v, p2) in qualified if p2 == p and (v, p2, t) in H}
            _add(row, B[(p, t)], -spc)
            b.row(row, 0.0, 0.0)

    # 7. HBM supply (bound on HB) and inventory
    for v in V:
        for t in range(T):
            row = {IH[(v, t)]: 1.0, HB[(v, t)]: -1.0}
            for (v2, p) in qualified:
                if v2 == v and (v, p, t) in H:
                    _add(row, H[(v, p, t)], 1.0)
            rhs = 0.0
            if t == 0:
                rhs = float(data.vendors.at[v, "initial_inventory"])
            else:
                _add(row, IH[(v, t - 1)], -1.0)
            b.row(row, rhs, rhs)

    # 8. finished chips
    for p in P:
        cpr = float(prod.at[p, "chips_per_rack"])
        for t in range(T):
            row = {IC[(p, t)]: 1.0, B[(p, t)]: -1.0}
            for s in S:
                _add(row, Y[(p, s, t)], cpr)
            rhs = 0.0
            if t == 0:
                rhs = float(prod.at[p, "initial_chip_inventory"])
            else:
                _add(row, IC[(p, t - 1)], -1.0)
            b.row(row, rhs, rhs)

    # 10. site power
    for s in S:
        pue = float(data.sites.at[s, "pue"])
        for t in range(T):
            row: dict[int, float] = {}
            const = 0.0
            for p in P:
                kw = float(prod.at[p, "rack_kw"])
                coefs, bse = R_expr(p, s, t)
                for j, c in coefs.items():
                    _add(row, j, c * kw * pue / 1000.0)
                const += bse * kw * pue / 1000.0
            if s in Xs:
                bmw = float(exp.at[s, "block_mw"])
                lead = int(exp.at[s, "lead_quarters"])
                for tau in range(0, t - lead + 1):
                    _add(row, E[(s, tau)], -bmw)
            b.row(row, -INF, float(data.site_power.get((s, t), 0.0)) - const)
        if s in Xs:
            b.row({E[(s, t)]: 1.0 for t in range(T)}, -INF, float(exp.at[s, "max_blocks"]))

    # 11. serving capacity: sum Z/tps - util*cpr*R <= util*cpr*base
    zs_by_pst = defaultdict(list)
    for (p, s, r, w, t), j in Z.items():
        zs_by_pst[(p, s, t)].append((j, tps[(p, w)]))
    for p in P:
        k = float(prod.at[p, "utilization"]) * float(prod.at[p, "chips_per_rack"])
        for s in S:
            for t in range(T):
                zs = zs_by_pst.get((p, s, t), [])
                if not zs:
                    continue
                row = {j: 1.0 / tp for j, tp in zs}
                coefs, bse = R_expr(p, s, t)
                for j, c in coefs.items():
                    _add(row, j, -k * c)
                b.row(row, -INF, k * bse)

    # 12. demand (13. service floor is the bound of U)
    zs_by_rwt = defaultdict(list)
    for (p, s, r, w, t), j in Z.items():
        zs_by_rwt[(r, w, t)].append(j)
    for (r, w) in demand_rows:
        for t in range(T):
            d = float(data.demand.get((r, w, t), 0.0))
            row = {j: 1.0 for j in zs_by_rwt.get((r, w, t), [])}
            _add(row, U[(r, w, t)], 1.0)
            b.row(row, d, d)

    # 14. capex: sum_p capex*Y + capex_per_mw*block_mw*E - O - sum_n F = 0
    F_by_st = defaultdict(list)
    for (n, s, t), j in F.items():
        F_by_st[(s, t)].append(j)
    for s in S:
        for t in range(T):
            row = {Y[(p, s, t)]: float(prod.at[p, "rack_capex_usd"]) for p in P}
            if s in Xs:
                _add(row, E[(s, t)], float(exp.at[s, "capex_usd_per_mw"]) * float(exp.at[s, "block_mw"]))
            _add(row, O[(s, t)], -1.0)
            for j in F_by_st.get((s, t), []):
                _add(row, j, -1.0)
            b.row(row, 0.0, 0.0)

    # 15. own budget (+ packaging expansion capex, family 19)
    for t in range(T):
        quarters = range(t + 1) if st.budget_carryover else (t,)
        row = {O[(s, tau)]: 1.0 for s in S for tau in quarters}
        for k in Kl:
            for tau in quarters:
                _add(row, K[(k, tau)], float(pexp.at[k, "capex_usd_per_block"]))
        hi = sum(float(data.budget.get(tau, 0.0)) for tau in quarters)
        b.row(row, -INF, hi)

    # 16. partner deals
    for n in N:
        fs = [j for (n2, _s, _t), j in F.items() if n2 == n]
        row = {j: 1.0 for j in fs}
        row_hi = dict(row)
        _add(row_hi, A[n], -float(data.partners.at[n, "commitment_usd"]))
        b.row(row_hi, -INF, 0.0)
        row_lo = dict(row)
        _add(row_lo, A[n], -float(data.partners.at[n, "min_deal_usd"]))
        b.row(row_lo, 0.0, INF)

    # ---------------- objective ----------------
    for t in range(T):
        d = df[t]
        for f in Fb:
            b.add_cost(WP[(f, t)], d * float(data.wafer_cost[(f, t)]))
        for v in V:  # 17. the HBM cost is on stacks paid
            b.add_cost(HP[(v, t)], d * float(data.vendors.at[v, "price_usd_per_stack"]))
            b.add_cost(IH[(v, t)], d * float(data.vendors.at[v, "holding_cost_usd"]))
        for p in P:
            b.add_cost(B[(p, t)], d * float(prod.at[p, "packaging_cost_usd"]))
            b.add_cost(ID[(p, t)], d * float(prod.at[p, "die_holding_cost_usd"]))
            b.add_cost(IC[(p, t)], d * float(prod.at[p, "chip_holding_cost_usd"]))
        for s in S:
            b.add_cost(O[(s, t)], d * a[t])
            pue = float(data.sites.at[s, "pue"])
            price = float(data.sites.at[s, "power_price_usd_per_mwh"])
            for p in P:
                unit = float(prod.at[p, "rack_kw"]) * pue * hours * price / 1000.0
                coefs, bse = R_expr(p, s, t)
                for j, c in coefs.items():
                    b.add_cost(j, d * unit * c)
                b.offset += d * unit * bse
        for (r, w) in demand_rows:
            b.add_cost(U[(r, w, t)], d * float(data.workloads.at[w, "unmet_penalty_usd_per_tps"]))
    for (n, s, t), j in F.items():
        b.add_cost(j, df[t] * a[t] * float(data.partners.at[n, "financing_cost_rate"]))
    for n in N:
        b.add_cost(A[n], float(data.partners.at[n, "fixed_deal_cost_usd"]))
    for (k, t), j in K.items():  # 19. packaging expansion capex, own, at a_t
        b.add_cost(j, df[t] * a[t] * float(pexp.at[k, "capex_usd_per_block"]))
    _terminal_value(b, data, W, ID, IC, df)
    return b


def _terminal_value(b: _Builder, data, W: dict, ID: dict, IC: dict, df: list[float]) -> None:
    """20. TV = df_{T-1} * sum_p tv[p] * (ID[p,T-1] + IC[p,T-1] + sum_f sum_{t : t + L >= T} W * dpw * yield),
    subtracted from the cost."""
    T = data.T
    prod, routes = data.products, data.routes
    if "terminal_value_usd_per_die" not in prod.columns:
        return
    for p in prod.index:
        tv = float(prod.at[p, "terminal_value_usd_per_die"])
        if not tv or tv != tv:
            continue
        credit = -df[T - 1] * tv
        b.add_cost(ID[(p, T - 1)], credit)
        b.add_cost(IC[(p, T - 1)], credit)
        for (p2, f) in routes.index:
            if p2 != p:
                continue
            L = int(routes.at[(p, f), "lead_quarters"])
            for t in range(T):
                if t + L >= T:
                    good = float(routes.at[(p, f), "dies_per_wafer"]) * float(data.yields[(p, f, t)])
                    b.add_cost(W[(p, f, t)], credit * good)


_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible",  # every cost >= 0: never unbounded
    highspy.HighsModelStatus.kUnbounded: "unbounded",
}


def reference_objective(data, integer: bool = True, mip_gap: float = 1e-9, time_limit: float = 60.0,
                        first_quarters: dict | None = None) -> tuple[str, float | None]:
    """(status, objective in USD) of the formulation.md model of `data`, solved with HiGHS."""
    b = build_reference(data, integer=integer, first_quarters=first_quarters)
    h = b.to_highs()
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("time_limit", float(time_limit))
    h.run()
    ms = h.getModelStatus()
    status = _STATUS.get(ms, str(ms))
    if status != "optimal":
        return status, None
    return status, float(h.getInfo().objective_function_value)


def reference_solution(data, integer: bool = True, mip_gap: float = 1e-9) -> tuple[str, float | None, dict]:
    """Like `reference_objective`, plus {variable name tuple: value} (for debugging disagreements)."""
    b = build_reference(data, integer=integer)
    h = b.to_highs()
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.run()
    ms = h.getModelStatus()
    status = _STATUS.get(ms, str(ms))
    if status != "optimal":
        return status, None, {}
    x = h.getSolution().col_value
    return status, float(h.getInfo().objective_function_value), {n: x[i] for i, n in enumerate(b.names)}
