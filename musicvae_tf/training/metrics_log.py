"""Training scalars written to ``R/metrics.jsonl`` and TensorBoard event files in ``R/logs``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import tensorflow as tf

from data_pipelines.io_utils import atomic_write_bytes


class MetricsLog:
    """Appends one JSON object per logged step and mirrors the scalars to TensorBoard.

    When a run resumes at step ``s``, rows after ``s`` (written before a crash, not covered by the
    checkpoint) are dropped so that the file describes one consistent history. That rewrite
    replaces the file, so only the run dir's lock holder (see ``run_lock``) may open one.
    """

    def __init__(self, jsonl_path: str | Path, tensorboard_dir: str | Path, resume_step: int = 0):
        self.path = Path(jsonl_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            kept = [row for row in read_metrics(self.path) if row.get("step", 0) <= resume_step]
            text = "".join(json.dumps(row) + "\n" for row in kept)
            atomic_write_bytes(self.path, text.encode())
        self._file = self.path.open("a")
        self._writer = tf.summary.create_file_writer(str(tensorboard_dir))

    def write(self, step: int, scalars: dict) -> None:
        """Record ``scalars`` for ``step`` (a list value, e.g. KL per latent dimension, is kept as
        a JSON list and becomes a TensorBoard histogram)."""
        row = {"step": int(step)}
        row.update({k: _json_value(v) for k, v in scalars.items()})
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        with self._writer.as_default(step=int(step)):
            for key, value in scalars.items():
                if isinstance(value, (list, tuple)):
                    tf.summary.histogram(key, value)
                else:
                    tf.summary.scalar(key, value)
        self._writer.flush()

    def close(self) -> None:
        """Flush and close both outputs."""
        self._file.close()
        self._writer.close()


def _json_value(value):
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    value = float(value)
    return value if math.isfinite(value) else str(value)


def read_metrics(path: str | Path) -> list[dict]:
    """Rows of a metrics.jsonl file; a torn last line (from a killed process) is ignored."""
    rows = []
    for line in Path(path).read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows
