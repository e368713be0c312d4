"""The hand-off's compile step: Pyomo model -> linear standard form (issue 18).

Pyomo's LinearStandardFormCompiler takes its sparse-matrix classes from Pyomo's deferred `scipy` import, whose
first use imports every "key subpackage" of SciPy (`scipy.stats`, `scipy.integrate`, `scipy.spatial`): measured
1.2-2.8 s of a 30k-variable plan's hand-off, for nothing the planner uses. The compiler reads those classes from
class attributes it fills on first use; filling them here from `scipy.sparse` alone (0.1-0.3 s), imported past
Pyomo's import hook, keeps the compiler, its row and column order and its output exactly as they were. (Both are
Pyomo internals, checked against Pyomo 6.10; if they move, the compiler simply imports SciPy as before.)

The classes it is given are not even SciPy's: importing `scipy.sparse` costs 0.15-0.25 s of every run (its array
API layer clones NumPy, `numpy.f2py` included), and the compiler needs only a compressed-column matrix it can build
from rows, sum duplicates in, drop zeros from, slice by a column mask and multiply by a vector. `ColumnMatrix` is
that, in NumPy; its arrays are the ones SciPy gives (the same order, sums and dropped zeros; tested against
`scipy.sparse` in tests/model/test_handoff_matrix.py).
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


class ColumnMatrix:
    """A sparse matrix in compressed-column form (`data`, `indices` = row of each entry, `indptr`, `shape`), with
    the few operations Pyomo's standard-form compiler uses."""

    def __init__(self, arrays, shape):
        data, indices, indptr = arrays
        self.data = np.asarray(data, dtype=np.float64)
        self.indices = np.asarray(indices, dtype=np.int32)
        self.indptr = np.asarray(indptr, dtype=np.int32)
        self.shape = (int(shape[0]), int(shape[1]))

    @classmethod
    def from_rows(cls, arrays, shape) -> "ColumnMatrix":
        """From compressed rows (data, column of each entry, row pointers): the entries ordered by column, then by
        row (a stable sort: as SciPy's CSR-to-CSC), duplicates summed in that order, zeros dropped."""
        data, cols, row_ptr = (np.asarray(a) for a in arrays)
        n_rows, n_cols = int(shape[0]), int(shape[1])
        rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(row_ptr))
        order = np.lexsort((rows, cols))
        rows, cols, data = rows[order], cols[order].astype(np.int64), np.asarray(data, dtype=np.float64)[order]
        if len(data):
            first = np.ones(len(data), dtype=bool)
            first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
            starts = np.flatnonzero(first)
            summed = data[starts]
            ends = np.append(starts[1:], len(data))
            for i in np.flatnonzero(ends - starts > 1):  # rare (the compiler merges a row's terms): summed in order,
                total = 0.0  # left to right as SciPy does (np.add.reduceat does not)
                for value in data[starts[i]:ends[i]].tolist():
                    total += value
                summed[i] = total
            data, rows, cols = summed, rows[starts], cols[starts]
            kept = data != 0
            data, rows, cols = data[kept], rows[kept], cols[kept]
        indptr = np.zeros(n_cols + 1, dtype=np.int64)
        np.cumsum(np.bincount(cols, minlength=n_cols), out=indptr[1:])
        return cls((data, rows, indptr), (n_rows, n_cols))

    def tocsc(self) -> "ColumnMatrix":
        return self

    def toarray(self) -> np.ndarray:
        dense = np.zeros(self.shape)
        cols = np.repeat(np.arange(self.shape[1]), np.diff(self.indptr))
        np.add.at(dense, (self.indices, cols), self.data)
        return dense

    def __getitem__(self, key) -> "ColumnMatrix":
        """[:, mask]: the columns where the boolean `mask` holds."""
        rows, mask = key
        if rows != slice(None) or np.asarray(mask).dtype != bool:
            raise TypeError("ColumnMatrix supports [:, boolean mask] only")
        keep = np.flatnonzero(mask)
        starts = self.indptr[keep].astype(np.int64)
        lengths = self.indptr[keep + 1] - starts
        indptr = np.zeros(len(keep) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        take = np.arange(indptr[-1]) + np.repeat(starts - indptr[:-1], lengths)  # each kept column's entries
        return ColumnMatrix((self.data[take], self.indices[take], indptr), (self.shape[0], len(keep)))

    def __matmul__(self, x) -> np.ndarray:
        cols = np.repeat(np.arange(self.shape[1]), np.diff(self.indptr))
        out = np.zeros(self.shape[0])
        np.add.at(out, self.indices, self.data * np.asarray(x, dtype=np.float64)[cols])
        return out


class _RowMatrix:
    """What the compiler builds from rows and turns at once into columns (`tocsc`), summing duplicates and dropping
    zeros in place (already done by ColumnMatrix.from_rows)."""

    def __init__(self, arrays, shape):
        self.arrays, self.shape = arrays, shape

    def tocsc(self) -> "_CompiledColumns":
        return _CompiledColumns.from_rows(self.arrays, self.shape)


class _CompiledColumns(ColumnMatrix):
    def sum_duplicates(self) -> None: ...

    def eliminate_zeros(self) -> None: ...


def _seed_sparse_classes() -> None:
    impl = _LinearStandardFormCompiler_impl
    if impl._to_vector is None:
        impl._to_vector = np.fromiter
        impl._csc_matrix = ColumnMatrix
        impl._csr_matrix = _RowMatrix


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
