"""Checkpoints of the model, optimiser and global step in ``R/ckpt`` (tf.train.CheckpointManager)."""

from __future__ import annotations

import shutil
from pathlib import Path

import tensorflow as tf

from data_pipelines.errors import MusicVAEError


class CheckpointStore:
    """Saves and restores one training run.

    Under multi-worker training every worker must take part in a save; only the chief writes to
    ``directory``, the others write to a private scratch folder beside it that is removed at
    ``close()``. TensorFlow writes checkpoint files under temporary names and updates the
    ``checkpoint`` index file last, so a killed process leaves the previous checkpoint usable.
    """

    def __init__(self, directory: str | Path, *, keep: int, chief: bool = True,
                 worker_index: int = 0, **objects):
        directory = Path(directory)
        self.chief = chief
        self.directory = directory if chief else directory.parent / f".worker-{worker_index}-ckpt"
        self.checkpoint = tf.train.Checkpoint(**objects)
        try:  # reads the "checkpoint" index file of a run being resumed
            self.manager = tf.train.CheckpointManager(self.checkpoint, str(self.directory),
                                                      max_to_keep=max(1, keep))
        except (tf.errors.OpError, ValueError) as exc:  # ValueError: an index that is not text
            raise unreadable_checkpoint(str(self.directory / "checkpoint"), exc) from None

    @property
    def latest(self) -> str | None:
        """Path prefix of the newest checkpoint, or None."""
        return self.manager.latest_checkpoint

    def restore_latest(self) -> str | None:
        """Restore the newest checkpoint if there is one; return its path prefix (a one-line
        MusicVAEError when TensorFlow cannot read it)."""
        path = self.manager.latest_checkpoint
        if path:
            try:
                status = self.checkpoint.restore(path)
            except checkpoint_read_errors() as exc:
                raise unreadable_checkpoint(path, exc) from None
            status.assert_existing_objects_matched()
        return path

    def save(self, step: int) -> str:
        """Write a checkpoint numbered ``step`` and return its path prefix."""
        return self.manager.save(checkpoint_number=step)

    def close(self) -> None:
        """Remove a non-chief worker's scratch checkpoints."""
        if not self.chief:
            shutil.rmtree(self.directory, ignore_errors=True)


def checkpoint_read_errors() -> tuple:
    """What TensorFlow raises for a checkpoint it cannot read: OpError (checksum mismatch, data
    loss, a missing shard) and, from its C++ reader, IndexError (a truncated shard) or RuntimeError."""
    return tf.errors.OpError, IndexError, RuntimeError


def unreadable_checkpoint(checkpoint: str, exc: Exception) -> MusicVAEError:
    """The one-line error for a checkpoint TensorFlow cannot read (a damaged or truncated shard
    or index: "Checksum does not match", "Data loss", ...), naming the checkpoint."""
    reason = (getattr(exc, "message", "") or str(exc) or type(exc).__name__).strip().splitlines()[0]
    return MusicVAEError(f"cannot read checkpoint {checkpoint} (damaged or incomplete?): {reason}")
