"""Checks on output paths made before any work, so a bad ``--out`` costs a second, not a run."""

from __future__ import annotations

import os
from pathlib import Path

from data_pipelines.errors import MusicVAEError


def check_output_dir(path: str | os.PathLike, option: str = "--out") -> Path:
    """``path`` must be a folder that exists or can be created, and be writable.

    Raises a one-line MusicVAEError when it is a file, lies under a file or cannot be written.
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise MusicVAEError(f"{option} {target} is a file, not a folder")
    _check_writable_parent(target, option)
    return target


def check_output_file(path: str | os.PathLike, option: str = "--out") -> Path:
    """``path`` must be a file (new or to be replaced) in a folder that can be written."""
    target = Path(path)
    if target.is_dir():
        raise MusicVAEError(f"{option} {target} is a folder; give a file name")
    _check_writable_parent(target.parent if str(target.parent) else Path("."), option, target)
    return target


def _check_writable_parent(folder: Path, option: str, target: Path | None = None) -> None:
    """The nearest existing folder of ``folder`` (itself included) must be a writable folder."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    shown = target or folder
    if not existing.is_dir():
        raise MusicVAEError(f"{option} {shown}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise MusicVAEError(f"{option} {shown}: no permission to write in {existing}")
