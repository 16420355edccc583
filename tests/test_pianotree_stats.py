"""``musicvae-tf stats`` for polyphonic windows."""

from __future__ import annotations

import numpy as np
import pytest

from data_pipelines.encodings.pianotree import notes_to_tree
from musicvae_tf.polyphony_stats import polyphony_statistics


def test_polyphony_statistics_of_a_chord_and_a_silent_bar():
    tree = notes_to_tree([0, 0, 0, 4], [60, 64, 67, 61], [4, 4, 8, 2], 32, 14)
    stats = polyphony_statistics(tree[None], 16)
    assert stats == pytest.approx({"num_windows": 1, "in_scale_share": 0.75,
                                   "notes_per_bar": 2.0, "silent_bar_share": 0.5,
                                   "pitch_range": 7.0, "onsets_per_onset_step": 2.0,
                                   "mean_duration": 4.5})


def test_no_windows():
    assert polyphony_statistics(np.zeros((0, 32, 14, 2)), 16) == {"num_windows": 0}
