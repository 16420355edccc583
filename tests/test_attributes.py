"""Attribute functions on token melodies and attribute vectors from latents."""

import numpy as np
import pytest

from musicvae_tf.attributes import (
    ATTRIBUTES, AttributeVectors, average_interval, c_diatonic, compute_attribute_vectors, melody_notes,
    note_density, syncopation_8th, syncopation_16th)
from musicvae_tf.config import DataConfig
from data_pipelines.errors import UsageError

DC = DataConfig(num_bars=1)


def melody(onsets: dict[int, int], length: int = 16, offs: tuple[int, ...] = ()) -> np.ndarray:
    """Tokens with note-ons {step: midi pitch} and note-offs at ``offs``."""
    tokens = np.zeros(length, np.int32)
    for step, pitch in onsets.items():
        tokens[step] = 2 + pitch - DC.min_pitch
    for step in offs:
        tokens[step] = 1
    return tokens


def test_melody_notes_follow_the_token_rules():
    tokens = melody({0: 60, 4: 62, 12: 64}, offs=(8,))
    assert melody_notes(tokens, DC) == [(0, 4, 60), (4, 8, 62), (12, 16, 64)]


def test_note_density_counts_onsets_per_step():
    assert note_density(melody({0: 60, 4: 62, 8: 64, 12: 65}), DC) == 4 / 16
    assert note_density(np.zeros(16, int), DC) == 0.0


def test_average_interval_is_mean_absolute_semitone_step():
    assert average_interval(melody({0: 60, 4: 67, 8: 64}), DC) == pytest.approx((7 + 3) / 2)
    assert np.isnan(average_interval(melody({0: 60}), DC))


def test_c_diatonic_share():
    assert c_diatonic(melody({0: 60, 4: 61, 8: 62, 12: 66}), DC) == 0.5
    assert np.isnan(c_diatonic(np.zeros(16, int), DC))


def test_syncopation_positions():
    on_beats = melody({0: 60, 4: 62, 8: 64, 12: 65})
    off_8ths = melody({2: 60, 6: 62, 10: 64, 14: 65})
    odd_16ths = melody({1: 60, 3: 62, 5: 64, 7: 65})
    for tokens, expected_8th, expected_16th in [(on_beats, 0, 0), (off_8ths, 1, 0), (odd_16ths, 0, 1)]:
        assert syncopation_8th(tokens, DC) == expected_8th
        assert syncopation_16th(tokens, DC) == expected_16th
    # Positions count within the bar: step 18 of a 2-bar melody is the off-beat 8th at bar step 2.
    two_bars = np.concatenate([melody({0: 60}), melody({2: 62})])
    assert syncopation_8th(two_bars, DataConfig(num_bars=2)) == 0.5


def test_attribute_vector_is_high_minus_low_quartile_mean(tmp_path):
    rng = np.random.default_rng(0)
    num = 40
    densities = rng.integers(1, 9, size=num)
    tokens = np.stack([melody({2 * i: 60 + (i % 3) for i in range(d)}) for d in densities])
    direction = np.zeros(4, np.float32)
    direction[1] = 1.0
    latents = rng.normal(scale=0.1, size=(num, 4)) + densities[:, None] * direction
    vectors = compute_attribute_vectors(latents, tokens, DC)
    assert set(vectors.vectors) <= set(ATTRIBUTES)
    density = vectors.vectors["note_density"]
    assert density.vector[1] > 3 and np.all(np.abs(density.vector[[0, 2, 3]]) < 0.3)
    assert density.high_mean > density.low_mean and density.low_count >= 10 and density.high_count >= 10
    path = vectors.save(tmp_path / "attributes.npz")
    loaded = AttributeVectors.load(path)
    assert loaded.num_examples == num and set(loaded.vectors) == set(vectors.vectors)
    np.testing.assert_array_equal(loaded.vector("note_density"), density.vector)
    assert loaded.vectors["note_density"].high_threshold == density.high_threshold
    with pytest.raises(UsageError, match="unknown attribute"):
        loaded.vector("loudness")


def test_constant_attribute_gets_no_vector():
    tokens = np.stack([melody({0: 60, 8: 62})] * 10)
    vectors = compute_attribute_vectors(np.random.default_rng(0).normal(size=(10, 3)), tokens, DC)
    assert "note_density" not in vectors.vectors
