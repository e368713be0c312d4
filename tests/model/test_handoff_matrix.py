"""The hand-off's own compressed-column matrix (models/handoff.py::ColumnMatrix) gives Pyomo's standard-form
compiler exactly what scipy.sparse gave it: the same entries in the same order, duplicates summed, zeros dropped,
column masks and products alike, and so the same compiled plan, array for array."""

import numpy as np
import pytest
from scipy import sparse

from models.build import build_model
from models.handoff import ColumnMatrix, _RowMatrix
from models.solve import to_standard_form
from planner.input.validate import validate_workbook
from tests.builders import minimal_sheets, write


def random_rows(seed: int, n_rows: int = 40, n_cols: int = 30):
    """Compressed rows with repeated columns in a row (duplicates) and explicit zeros, as a compiler can emit."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 8, n_rows)
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    cols = rng.integers(0, n_cols, indptr[-1]).astype(np.int32)
    data = rng.choice([0.0, 1.0, -2.5, 3.25, 1e-7], indptr[-1])
    return (data, cols, indptr), (n_rows, n_cols)


@pytest.mark.parametrize("seed", range(8))
def test_rows_to_columns_as_scipy_does(seed):
    arrays, shape = random_rows(seed)
    mine = _RowMatrix(arrays, shape).tocsc()
    mine.sum_duplicates()
    mine.eliminate_zeros()
    theirs = sparse.csr_array(arrays, shape).tocsc()
    theirs.sum_duplicates()
    theirs.eliminate_zeros()
    assert mine.shape == theirs.shape
    assert np.array_equal(mine.indptr, theirs.indptr) and np.array_equal(mine.indices, theirs.indices)
    assert np.array_equal(mine.data, theirs.data)
    assert np.array_equal(mine.toarray(), theirs.toarray())


@pytest.mark.parametrize("seed", range(4))
def test_column_mask_and_product_as_scipy_does(seed):
    arrays, shape = random_rows(seed)
    mine, theirs = _RowMatrix(arrays, shape).tocsc(), sparse.csr_array(arrays, shape).tocsc()
    theirs.sum_duplicates()
    theirs.eliminate_zeros()
    mask = np.random.default_rng(seed).random(shape[1]) < 0.4
    x = np.arange(mask.sum(), dtype=float) + 0.5
    assert np.allclose(mine[:, mask] @ x, theirs[:, mask] @ x, rtol=0, atol=1e-12)
    assert np.array_equal(mine[:, mask].toarray(), theirs[:, mask].toarray())
    rebuilt = ColumnMatrix((mine.data, mine.indices, mine.indptr[np.concatenate([mask, [True]])]),
                           (shape[0], int(mask.sum())))
    assert rebuilt.shape == (shape[0], int(mask.sum()))


def _scipy_form(model):
    """The same model compiled with scipy.sparse's classes (as before ColumnMatrix)."""
    from pyomo.repn.plugins.standard_form import _LinearStandardFormCompiler_impl as impl

    saved = impl._csc_matrix, impl._csr_matrix, impl._to_vector
    impl._csc_matrix, impl._csr_matrix, impl._to_vector = sparse.csc_array, sparse.csr_array, np.fromiter
    try:
        return to_standard_form(model)
    finally:
        impl._csc_matrix, impl._csr_matrix, impl._to_vector = saved


def _same_form(a, b):
    for name in ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_"):
        assert np.array_equal(np.asarray(getattr(a.lp, name)), np.asarray(getattr(b.lp, name))), name
    for name in ("start_", "index_", "value_"):
        assert np.array_equal(np.asarray(getattr(a.lp.a_matrix_, name)), np.asarray(getattr(b.lp.a_matrix_, name)))
    assert [c.name for c in a.columns] == [c.name for c in b.columns] and a.offset == b.offset


def test_the_example_compiles_to_the_same_standard_form():
    from pathlib import Path

    data, _ = validate_workbook(Path(__file__).resolve().parents[2] / "inputs" / "example.xlsx")
    model = build_model(data)[0]
    _same_form(to_standard_form(model), _scipy_form(model))


def test_fixed_columns_move_to_the_right_hand_side_the_same_way(tmp_path):
    """A fixed variable (as a hedged plan's shared first stage fixes them) leaves the matrix; its column times its
    value moves into the rows' bounds and the objective's offset, as with scipy."""
    data, issues = validate_workbook(write(tmp_path, minimal_sheets(3)))
    model = build_model(data)[0]
    fixed = [v for v in model.component_data_objects(ctype=__import__("pyomo.environ").environ.Var)][:5]
    for v in fixed:
        v.fix(1.0)
    _same_form(to_standard_form(model), _scipy_form(model))
