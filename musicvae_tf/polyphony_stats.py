"""Statistics of polyphonic (pianotree) windows, the counterpart of ``melody_stats`` that
``musicvae-tf stats`` uses for ``data.encoding: pianotree``.

Over trees ``[N, T, max_notes, 2]``: ``in_scale_share`` (per window, the largest share of its
notes in one major scale, averaged over windows with notes), ``notes_per_bar``,
``silent_bar_share`` and ``pitch_range`` as for melodies, plus ``onsets_per_onset_step`` (notes
starting together) and ``mean_duration`` (steps).
"""

from __future__ import annotations

import numpy as np

from data_pipelines.encodings.pianotree import PAD
from musicvae_tf.melody_stats import _SCALES


def polyphony_statistics(trees: np.ndarray, steps_per_bar: int) -> dict:
    """The statistics above (means over windows) plus ``num_windows``."""
    trees = np.asarray(trees)
    if trees.ndim != 4 or trees.shape[0] == 0:
        return {"num_windows": 0}
    windows, steps = trees.shape[:2]
    num_bars = steps // steps_per_bar
    present = trees[..., 0] < PAD
    in_scale, ranges = [], []
    for tree, mask in zip(trees, present):
        pitches = tree[..., 0][mask]
        if pitches.size:
            in_scale.append(float((_SCALES @ np.bincount(pitches % 12, minlength=12)).max()
                                  / pitches.size))
            ranges.append(float(pitches.max() - pitches.min()))
    per_step = present.sum(-1)
    bars = per_step[:, :num_bars * steps_per_bar].reshape(windows, num_bars, steps_per_bar)
    return {
        "num_windows": int(windows),
        "in_scale_share": float(np.mean(in_scale)) if in_scale else 0.0,
        "notes_per_bar": float(present.sum() / (windows * num_bars)),
        "silent_bar_share": float((bars.sum(-1) == 0).mean()),
        "pitch_range": float(np.mean(ranges)) if ranges else 0.0,
        "onsets_per_onset_step": float(per_step[per_step > 0].mean()) if present.any() else 0.0,
        "mean_duration": float(trees[..., 1][present].mean() + 1) if present.any() else 0.0,
    }
