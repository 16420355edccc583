"""The run-dir lock as the training commands take it: before any TensorFlow work."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path


def command_lock(args: argparse.Namespace, run_dir: Path):
    """Hold ``run_dir``'s training lock for the whole command, so a second ``train`` there fails
    within a second. Under ``--strategy multiworker`` every worker shares the run dir, so only
    the trainer's chief takes it."""
    from musicvae_tf.training.run_lock import run_dir_lock

    if args.strategy == "multiworker":
        return contextlib.nullcontext()
    return run_dir_lock(run_dir)
