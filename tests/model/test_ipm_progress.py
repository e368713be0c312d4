"""Progress lines of a long LP by interior point (issue 13 item 5: 'iteration and residual for an interior point').
HiGHS's interrupt callbacks carry no iteration count from the interior point's inner loops (-1 in 99% of them;
bench's L printed 'iterations -1' for ten minutes): the line comes from its own log, read through the logging
callback, and the console stays silent."""

import highspy
import numpy as np

import models.solve as solve_module
from models.run_control import RUN
from models.solve import new_highs, run_with_progress


def _transport_lp(m: int = 300, n: int = 300) -> highspy.HighsLp:
    rng = np.random.default_rng(0)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m * n, m + n
    lp.col_cost_ = rng.uniform(1, 10, m * n)
    lp.col_lower_, lp.col_upper_ = np.zeros(m * n), np.full(m * n, highspy.kHighsInf)
    lp.row_lower_ = np.concatenate([np.full(m, -highspy.kHighsInf), rng.uniform(5, 10, n)])
    lp.row_upper_ = np.concatenate([rng.uniform(10, 20, m), np.full(n, highspy.kHighsInf)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, 2 * m * n + 1, 2)
    lp.a_matrix_.index_ = np.array([[i, m + j] for i in range(m) for j in range(n)]).ravel()
    lp.a_matrix_.value_ = np.ones(2 * m * n)
    return lp


def test_an_interior_point_lp_reports_its_iteration_and_residuals(monkeypatch, capfd):
    h = new_highs()
    h.setOptionValue("solver", "ipm")
    h.passModel(_transport_lp())
    lines = []
    monkeypatch.setattr(solve_module, "PROGRESS_EVERY_S", 0.0)
    monkeypatch.setattr(RUN, "progress", lines.append)
    run_with_progress(h, is_mip=False)
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    ipm = [x for x in lines if "interior point iteration" in x]
    assert ipm and "residuals primal" in ipm[0] and not any("iterations -1" in x for x in lines)
    assert h.getOptionValue("output_flag")[1] is False  # the log was on for the run only
    out, err = capfd.readouterr()
    assert "Iter" not in out + err  # and never on the console


def test_the_crossover_after_the_interior_point_is_said():
    from types import SimpleNamespace
    from models.solve import _IpxIterations
    ipx = _IpxIterations(None)
    ipx.on_log(SimpleNamespace(message="  17   1.07e+04   1.30e+03   2.50e-14   5.90e-03  1.57e+00       0.3"))
    assert ipx.latest == "interior point iteration 17, residuals primal 2.5e-14 dual 5.9e-03"
    ipx.on_log(SimpleNamespace(message="Running crossover as requested\n"))
    assert ipx.latest == "crossover, after interior point iteration 17, residuals primal 2.5e-14 dual 5.9e-03"
