"""Piano-roll PNGs from tokens and NoteSequences."""

import numpy as np
import pytest
from matplotlib.image import imread

from musicvae_tf.config import DataConfig
from musicvae_tf.plotting import plot_piano_roll, plot_token_grid

DC = DataConfig(num_bars=2)


def scale_tokens() -> np.ndarray:
    tokens = np.zeros(32, np.int32)
    tokens[::4] = 2 + np.array([60, 62, 64, 65, 67, 69, 71, 72]) - DC.min_pitch
    return tokens


def test_piano_roll_png_with_highlight(tmp_path):
    plain = plot_piano_roll(scale_tokens(), tmp_path / "plain.png", DC, title="scale")
    shaded = plot_piano_roll(scale_tokens(), tmp_path / "shaded.png", DC, title="scale", highlight_bars=[1])
    a, b = imread(plain), imread(shaded)
    assert a.ndim == 3 and a.shape == b.shape
    assert not np.array_equal(a, b)  # the shaded bar changes pixels
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.png", "shaded.png"]  # no temp files left


def test_piano_roll_of_note_sequence_matches_tokens(tmp_path):
    note_seq = pytest.importorskip("note_seq")
    sequence = note_seq.NoteSequence()
    sequence.tempos.add(qpm=120.0)
    for i, pitch in enumerate([60, 62, 64, 65, 67, 69, 71, 72]):
        sequence.notes.add(pitch=pitch, velocity=80, start_time=i * 0.5, end_time=(i + 1) * 0.5)
    sequence.total_time = 4.0
    from_tokens = imread(plot_piano_roll(scale_tokens(), tmp_path / "t.png", DC))
    from_sequence = imread(plot_piano_roll(sequence, tmp_path / "s.png", DC))
    assert np.array_equal(from_tokens, from_sequence)


def test_grid_has_one_panel_per_melody(tmp_path):
    two = imread(plot_token_grid([scale_tokens()] * 2, tmp_path / "two.png", DC, titles=["a", "b"]))
    five = imread(plot_token_grid([scale_tokens()] * 5, tmp_path / "five.png", DC))
    assert five.shape[0] > two.shape[0] and five.shape[1] == two.shape[1]
    with pytest.raises(ValueError):
        plot_token_grid([scale_tokens()], tmp_path / "bad.png", DC, titles=["a", "b"])
