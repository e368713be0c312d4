"""SIGTERM, SIGINT and a closed stdout, for the command line.

- SIGTERM (and SIGHUP) at any time: stop, remove the temporary files being written, write nothing, exit
  128 + signal (143 for SIGTERM) with a message. During the solve the solver is stopped first.
- SIGINT (Ctrl-C) during the HiGHS solve: the solver is asked to stop (its interrupt callbacks see
  `solve_should_stop()`), and the best plan found so far is written as `feasible` with its gap. A second
  Ctrl-C aborts without writing. Outside the solve, Ctrl-C is KeyboardInterrupt (nothing is written).

The handlers never raise while the solver runs (an exception inside a HiGHS callback would unwind through
C++): they set flags that the callbacks of `models.solve.run_with_progress` read, and `raise_if_stopped`
acts on them once the solve returned.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from models.run_control import RUN


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM/SIGHUP). A BaseException, so `except Exception` never hides it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        try:
            self.name = signal.Signals(signum).name
        except ValueError:
            self.name = f"signal {signum}"


class _State:
    keep_best = True  # one Ctrl-C during the solve keeps the best plan (run, diagnose); else it aborts
    interrupts = 0  # Ctrl-C presses during the current solve
    presses = 0  # Ctrl-C presses since the handlers were installed
    terminate: int | None = None  # signal number of a SIGTERM received during the solve


state = _State()


def _solving() -> bool:
    return RUN.running


def solve_should_stop() -> bool:
    """Read by the solver's interrupt callbacks (models.run_control.RUN.should_stop)."""
    return state.interrupts > 0 or state.terminate is not None


def raise_if_stopped() -> None:
    """Called once the solver returned (models.run_control.RUN.after_run): a SIGTERM or a second Ctrl-C received
    during the solve stops the run now; one Ctrl-C lets it go on with the best plan found."""
    if state.terminate is not None:
        signum, state.terminate = state.terminate, None
        state.interrupts = 0
        raise Terminated(signum)
    if state.interrupts > 1 or (state.interrupts == 1 and not state.keep_best):
        state.interrupts = 0
        raise KeyboardInterrupt
    state.interrupts = 0


def _on_terminate(signum, frame):
    if _solving():
        state.terminate = signum
        return
    from planner.output.xlsx import remove_pending_temps

    remove_pending_temps()
    raise Terminated(signum)


def interrupted() -> bool:
    """Ctrl-C was pressed since the handlers were installed (a library's error after it is its consequence)."""
    return state.presses > 0


def _on_interrupt(signum, frame):
    state.presses += 1
    if _solving():
        state.interrupts += 1
        if state.interrupts == 1 and not state.keep_best:
            _say("\nCtrl-C: stopping; nothing will be written")
        elif state.interrupts == 1:
            _say("\nCtrl-C: stopping the solver; the best plan found so far will be written "
                 "(press Ctrl-C again to abort without writing)")
        else:
            _say("\nCtrl-C again: aborting; nothing will be written")
        return
    raise KeyboardInterrupt


def _say(text: str) -> None:
    try:
        os.write(2, (text + "\n").encode())
    except OSError:
        pass


def install_handlers(keep_best: bool = True):
    """Install the handlers (main thread only; a no-op elsewhere). `keep_best`: one Ctrl-C during the solve
    keeps the best plan found (planner run / diagnose); otherwise (compare, sweep, ...) Ctrl-C aborts. Returns
    a function that restores the previous handlers (the CLI can be called in-process, e.g. by tests)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    state.keep_best = keep_best
    state.presses = 0
    wanted = {signal.SIGTERM: _on_terminate, signal.SIGINT: _on_interrupt}
    if hasattr(signal, "SIGHUP"):
        wanted[signal.SIGHUP] = _on_terminate
    previous = {signum: signal.signal(signum, handler) for signum, handler in wanted.items()}
    hooks = (RUN.should_stop, RUN.after_run)
    RUN.should_stop, RUN.after_run = solve_should_stop, raise_if_stopped

    def restore():
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        RUN.should_stop, RUN.after_run = hooks

    return restore


def stdout_closed() -> int:
    """stdout's reader went away (`planner validate ... | head`): silence further writes (including the flush at
    exit) and return the conventional exit code 128 + SIGPIPE."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 128 + getattr(signal, "SIGPIPE", 13)


def discard_unfinished() -> None:
    """After an abort (Ctrl-C, SIGTERM) in the middle of building a workbook: collect the half-built write-only
    sheets now, without the 'Exception ignored in generator' noise their finalisers print."""
    import gc

    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        gc.collect()
    finally:
        sys.unraisablehook = hook
