"""The pitch / rhythm factorisation of a bar: exact round trip, and user rhythm patterns."""

from __future__ import annotations

import numpy as np
import pytest

from data_pipelines.errors import UsageError
from musicvae_tf.models.sketch_vae.factorise import (HOLD, ONSET, REST, compose_bars,
                                                     pattern_rhythm, pitch_row, rhythm_row)
from sketch_support import corpus_bars


def _random_bars(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, size=(count, 16), p=[0.5, 0.15, 0.35])
    return np.where(kind == 2, rng.integers(2, 90, size=(count, 16)), kind).astype(np.int32)


def test_round_trip_is_exact_on_random_bars_and_keeps_note_offs_apart_from_holds():
    bars = _random_bars(500)
    pitches, counts = pitch_row(bars)
    rhythm = np.asarray(rhythm_row(bars))
    assert np.array_equal(np.asarray(compose_bars(pitches, rhythm)), bars)
    assert np.array_equal(np.asarray(counts), (bars >= 2).sum(-1))
    assert set(np.unique(rhythm[bars == 1])) == {REST} and set(np.unique(rhythm[bars == 0])) == {HOLD}


def test_pitch_row_lists_onsets_in_order_padded_with_zeros():
    bar = np.array([[0, 40, 0, 1, 30, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 0]])
    pitches, counts = pitch_row(bar)
    assert np.asarray(pitches)[0, :4].tolist() == [40, 30, 50, 0] and int(counts[0]) == 3
    assert not np.asarray(pitches)[0, 3:].any()


def test_pattern_maps_rests_to_note_offs_only_where_a_note_sounded():
    row = pattern_rhythm("x--.x-..x-------", 16)
    assert row.tolist()[:8] == [ONSET, HOLD, HOLD, REST, ONSET, HOLD, REST, HOLD]
    assert pattern_rhythm("..x-------------", 16).tolist()[:3] == [REST, HOLD, ONSET]
    bars = corpus_bars()
    patterns = ["x---x---x---x---", "x-x-x-x-x---x---", "x---....x-x-x---"]
    for bar, pattern in zip(bars, patterns):
        assert np.array_equal(pattern_rhythm(pattern, 16), np.asarray(rhythm_row(bar)))


@pytest.mark.parametrize("pattern, message", [("x---", "has 4 steps"), ("x--o" * 4, "unknown"),
                                              ("x.-" + "-" * 13, "holds a rest")])
def test_bad_patterns_are_usage_errors(pattern, message):
    with pytest.raises(UsageError, match=message):
        pattern_rhythm(pattern, 16)
