"""Turning Ctrl-C and SIGTERM into a clean stop (checkpoint, export) instead of a crash."""

from __future__ import annotations

import signal
import threading


class GracefulStop:
    """Context manager: while active, SIGINT/SIGTERM set ``requested`` instead of killing.

    A second Ctrl-C raises KeyboardInterrupt as usual, for when the clean stop itself hangs.
    Outside the main thread (where handlers cannot be installed) it does nothing.
    """

    def __init__(self):
        self.requested: str | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, signum, _frame) -> None:
        if self.requested is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name

    def __enter__(self) -> "GracefulStop":
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
