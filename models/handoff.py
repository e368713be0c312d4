"""The hand-off's compile step: Pyomo model -> linear standard form (issue 18).

Pyomo's LinearStandardFormCompiler takes its sparse-matrix classes from Pyomo's deferred `scipy` import, whose
first use imports every "key subpackage" of SciPy (`scipy.stats`, `scipy.integrate`, `scipy.spatial`): measured
1.2-2.8 s of a 30k-variable plan's hand-off, for nothing the planner uses. The compiler reads those classes from
class attributes it fills on first use; filling them here from `scipy.sparse` alone (0.1-0.3 s), imported past
Pyomo's import hook, keeps the compiler, its row and column order and its output exactly as they were. (Both are
Pyomo internals, checked against Pyomo 6.10; if they move, the compiler simply imports SciPy as before.)
"""

from __future__ import annotations

import numpy as np
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler, _LinearStandardFormCompiler_impl


def import_scipy_sparse():
    """`scipy.sparse` without Pyomo's import hook: Pyomo registers a finder that, on the first `import scipy`
    anywhere, runs its callback importing scipy.stats & co. The hook is set aside for this one import."""
    from pyomo.common.dependencies import DeferredImportCallbackFinder

    callbacks = getattr(DeferredImportCallbackFinder, "_callbacks", {})
    saved = callbacks.pop("scipy", None)
    try:
        from scipy import sparse
    finally:
        if saved is not None:
            callbacks["scipy"] = saved
    return sparse


def _seed_sparse_classes() -> None:
    impl = _LinearStandardFormCompiler_impl
    if impl._to_vector is None:
        sparse = import_scipy_sparse()
        impl._to_vector = np.fromiter
        impl._csc_matrix = sparse.csc_array
        impl._csr_matrix = sparse.csr_array


def compile_standard_form(model):
    """Pyomo's mixed-form LinearStandardFormInfo of `model` (rows '=', '<=', '>=' as written)."""
    _seed_sparse_classes()
    return LinearStandardFormCompiler().write(model, mixed_form=True)


def column_arrays(columns: list, inf: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, is_integer) of the compiled columns, one pass: `bounds` once per column (not `lb` and `ub`,
    each resolving the domain's bounds again) and integrality once per domain object (a domain property)."""
    n = len(columns)
    lower, upper = np.empty(n), np.empty(n)
    integer = np.zeros(n, dtype=bool)
    integral: dict[int, bool] = {}
    for j, v in enumerate(columns):
        lb, ub = v.bounds
        lower[j] = -inf if lb is None else lb
        upper[j] = inf if ub is None else ub
        domain = v.domain
        kind = integral.get(id(domain))
        if kind is None:
            kind = integral[id(domain)] = bool(v.is_integer() or v.is_binary())
        integer[j] = kind
    return lower, upper, integer
