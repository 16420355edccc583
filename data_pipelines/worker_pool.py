"""Forked worker processes for prepare: results in input order, isolated from crashes and hangs.

Each worker owns a pipe and runs one chunk of items at a time. A worker that dies (a C extension
crash, the kernel's out-of-memory killer) or overruns its chunk's deadline is killed and replaced,
and the items of its chunk are retried one by one in fresh workers; an item that kills or hangs
its worker again gives ``on_lost(item, reason)`` instead of a result, so one bad piece never stops
the others. Workers ignore Ctrl-C (the parent stops them) and die with their parent: on Linux
through ``PR_SET_PDEATHSIG``, elsewhere through a thread that polls the parent's pid.
"""

from __future__ import annotations

import collections
import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from typing import Callable, Iterator

# Wall time a chunk may take beyond its items' own limits before its worker is killed.
_GRACE_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1


def ordered_map(func: Callable, items: list, workers: int, chunk_size: int,
                item_seconds: float, on_lost: Callable) -> Iterator:
    """Yield ``func(item)`` for every item, in order, computed in ``workers`` forked processes.

    ``item_seconds`` (0: no limit) bounds each item's wall time; a chunk is killed after
    ``len(chunk) * item_seconds`` plus a grace period. Lost items yield ``on_lost(item, reason)``
    with reason ``"worker crashed"`` or ``"timed out"``.
    """
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    tasks = collections.deque((start, items[start:start + chunk_size])
                              for start in range(0, len(items), chunk_size))
    results: dict[int, object] = {}
    idle: list[_Worker] = []
    busy: dict[object, _Worker] = {}
    emitted = 0
    try:
        while emitted < len(items):
            while tasks and (idle or len(busy) < workers):
                worker = idle.pop() if idle else _Worker(context, func)
                worker.start(*tasks.popleft(), item_seconds)
                busy[worker.conn] = worker
            deadline = min(w.deadline for w in busy.values())
            timeout = None if deadline == float("inf") else max(0.0, deadline - time.monotonic())
            ready = multiprocessing.connection.wait(list(busy), timeout=timeout)
            for conn in ready:
                worker = busy.pop(conn)
                try:
                    chunk_results = conn.recv()
                except (EOFError, OSError):
                    _retry_or_lose(worker, "worker crashed", tasks, results, on_lost)
                    continue
                results.update(zip(range(worker.start_index, worker.start_index
                                         + len(chunk_results)), chunk_results))
                idle.append(worker)
            now = time.monotonic()
            for conn, worker in list(busy.items()):
                if worker.deadline <= now:
                    del busy[conn]
                    _retry_or_lose(worker, "timed out", tasks, results, on_lost)
            while emitted in results:
                yield results.pop(emitted)
                emitted += 1
    finally:
        for worker in idle + list(busy.values()):
            worker.stop()


def _retry_or_lose(worker: "_Worker", reason: str, tasks: collections.deque, results: dict,
                   on_lost: Callable) -> None:
    """Kill ``worker``; retry its chunk's items one by one, or give up on a lone item."""
    worker.stop()
    if len(worker.items) == 1:
        results[worker.start_index] = on_lost(worker.items[0], reason)
        return
    for offset in reversed(range(len(worker.items))):
        tasks.appendleft((worker.start_index + offset, [worker.items[offset]]))


class _Worker:
    """One forked process that applies ``func`` to the chunks it receives on its pipe."""

    def __init__(self, context, func: Callable) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, func, os.getpid()),
                                       daemon=True)
        self.process.start()
        child.close()
        self.start_index, self.items, self.deadline = 0, [], float("inf")

    def start(self, start_index: int, items: list, item_seconds: float) -> None:
        """Send one chunk."""
        self.start_index, self.items = start_index, items
        self.deadline = (time.monotonic() + len(items) * item_seconds + _GRACE_SECONDS
                         if item_seconds > 0 else float("inf"))
        self.conn.send(items)

    def stop(self) -> None:
        """End the process (killing it if it is busy) and close the pipe."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


def _serve(conn, func: Callable, parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent_pid)
    try:
        while True:
            try:
                items = conn.recv()
            except (EOFError, OSError):
                return
            conn.send([func(item) for item in items])
    except BaseException:  # never a traceback from a worker: the parent reports the lost items
        os._exit(1)


def _die_with_parent(parent_pid: int) -> None:
    """Make this process exit as soon as ``parent_pid`` is gone."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
        else:
            if os.getppid() != parent_pid:  # the parent died before prctl took effect
                os._exit(1)
            return

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
