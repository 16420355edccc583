"""The training-curves picture ``R/training_curves.png`` drawn from ``R/metrics.jsonl``."""

from __future__ import annotations

import math
from pathlib import Path

from data_pipelines.io_utils import atomic_path
from musicvae_tf.training.metrics_log import read_metrics

# Panels in this order when present; other scalars fill the remaining panels.
PREFERRED = ("loss", "reconstruction", "kl_bits", "accuracy", "active_units", "z_shuffle_gap",
             "beta", "learning_rate")
SKIPPED = ("step", "time", "steps_per_sec", "skipped")
MAX_PANELS = 9


def plot_training_curves(metrics_path: str | Path, png_path: str | Path,
                         title: str | None = None) -> Path | None:
    """Draw one panel per logged scalar against the step; return the PNG path (None if no rows)."""
    rows = read_metrics(metrics_path) if Path(metrics_path).exists() else []
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in PREFERRED if any(k in row for row in rows)]
    numeric = {k for row in rows for k, v in row.items() if isinstance(v, (int, float))}
    others = sorted(numeric - set(keys) - set(SKIPPED))
    keys = (keys + others)[:MAX_PANELS]
    columns = 3
    lines = max(1, math.ceil(len(keys) / columns))
    figure, axes = plt.subplots(lines, columns, figsize=(4.2 * columns, 2.8 * lines),
                                squeeze=False)
    for axis, key in zip(axes.flat, keys):
        points = [(row["step"], row[key]) for row in rows
                  if isinstance(row.get(key), (int, float))]
        if points:
            axis.plot(*zip(*points), linewidth=1.2)
        axis.set_title(key.replace("_", " "))
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
        if key == "learning_rate":
            axis.set_yscale("log")
    for axis in list(axes.flat)[len(keys):]:
        axis.set_visible(False)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    with atomic_path(png_path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)
    return Path(png_path)
