"""One training per run dir: an advisory lock on ``R/train.lock`` that holds its owner's PID.

The lock is ``fcntl.flock`` on the file, so the kernel drops it when the owner exits in any way
(kill -9 included): a lock file left by a dead process is simply taken over. Within one process
the lock is re-entrant, so the command line can hold it around a call of the trainer that takes
it again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

from data_pipelines.errors import MusicVAEError

LOCK_FILE = "train.lock"

# Resolved lock path -> (open file, how many holders in this process).
_held: dict[Path, tuple[object, int]] = {}


class RunDirBusy(MusicVAEError):
    """Another process is training in this run dir."""


@contextlib.contextmanager
def run_dir_lock(run_dir: str | os.PathLike) -> Iterator[Path]:
    """Hold the run dir's lock for the block (creating the run dir if needed).

    Raises RunDirBusy, naming the owner's PID, when another process holds it.
    """
    path = (Path(run_dir) / LOCK_FILE).resolve()
    if path in _held:
        handle, count = _held[path]
        _held[path] = (handle, count + 1)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = _acquire(path, run_dir)
        _held[path] = (handle, 1)
    try:
        yield path
    finally:
        handle, count = _held[path]
        if count > 1:
            _held[path] = (handle, count - 1)
        else:
            del _held[path]
            handle.close()  # closing the descriptor releases the flock


def _acquire(path: Path, run_dir) -> object:
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        handle.close()
        raise RunDirBusy(f"run dir {run_dir} is in use by another training (PID {owner}); wait "
                         "for it to finish or use another --run-dir") from None
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle
