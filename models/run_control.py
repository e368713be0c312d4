"""The switchboard between a running solve and the process's signal handlers (planner/signals.py).

Its own module, free of the solver, so the CLI installs its handlers without importing HiGHS or Pyomo
(`planner validate` and `planner template` start in well under a second).
"""

from __future__ import annotations


class _RunControl:
    """Read by the solver's callbacks: `should_stop()` interrupts HiGHS (set by planner.signals on Ctrl-C or
    SIGTERM); `after_run()` is called once the solve returned (it may raise to stop the run)."""

    def __init__(self):
        self.running = False
        self.stopped = False  # the last run was interrupted by should_stop()
        self.should_stop = lambda: False
        self.after_run = lambda: None
        self.progress = None  # callable(str) for progress lines; None: the "planner" logger


RUN = _RunControl()
