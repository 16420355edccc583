"""A wall-clock limit on one piece's work, raised inside the running code by SIGALRM.

The limit interrupts pure-Python loops (music21 can spend minutes re-barring a one-rest tune) but
not a single long C call, which it interrupts only when the call returns; prepare's worker pool
(``data_pipelines.worker_pool``) kills a worker that overruns anyway. ``PieceTimeout`` derives from
``BaseException`` so that the ``except Exception`` blocks of music21 and our readers cannot swallow
it, and the alarm re-fires every second until the block ends in case something does.
"""

from __future__ import annotations

import contextlib
import signal
import threading


class PieceTimeout(BaseException):
    """One piece took longer than ``data.max_seconds_per_piece``."""


def _raise_timeout(signum, frame):
    raise PieceTimeout()


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise PieceTimeout in the block after ``seconds`` of wall time (no limit when 0, off the
    main thread or without SIGALRM)."""
    usable = (seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
