"""Gap splits, context views, piece windows, baselines and gap metrics (no training)."""

import numpy as np
import pytest

from musicvae_tf.config import DataConfig
from data_pipelines.errors import UsageError
from musicvae_tf.models.inpainting.baselines import (interpolation_latents, repeat_last_bar_latents,
                                              repeat_last_bar_tokens)
from musicvae_tf.models.inpainting.gap import PROTOCOL_A, GapSplit, SplitRange, context_views, gap_bars
from musicvae_tf.models.inpainting.metrics import GapMetrics, rhythm_classes
from data_pipelines.tokens import monophonic_tokens
from musicvae_tf.models.inpainting.piece import (PieceMelody, find_empty_gap, parse_bar_range,
                                          window_around_gap)


def test_training_splits_cover_the_issue_range():
    splits = SplitRange().all_splits()
    assert {s.gap for s in splits} == {2, 3, 4, 5, 6}
    assert all(s.num_bars == 16 and s.past >= 1 and s.future >= 1 for s in splits)
    assert len(splits) == len(set(splits)) == 13 + 12 + 11 + 10 + 9
    assert PROTOCOL_A in splits


def test_sampled_splits_stay_in_range_and_vary():
    import tensorflow as tf

    split_range = SplitRange()
    allowed = set(split_range.all_splits())
    rng = np.random.default_rng(0)
    drawn = {split_range.sample(rng) for _ in range(400)}
    assert drawn <= allowed and len(drawn) > 40
    tensor_drawn = set()
    for i in range(300):
        start, gap = split_range.sample_tensor(tf.constant([7, i], tf.int64)).numpy()
        tensor_drawn.add(GapSplit(int(start), int(gap), 16 - int(start) - int(gap)))
    assert tensor_drawn <= allowed and len(tensor_drawn) > 30
    again = split_range.sample_tensor(tf.constant([7, 3], tf.int64)).numpy()
    assert tuple(again) == tuple(split_range.sample_tensor(tf.constant([7, 3], tf.int64)).numpy())


def test_split_range_rejects_impossible_settings():
    with pytest.raises(UsageError):
        SplitRange(num_bars=8, max_gap=7)
    with pytest.raises(UsageError):
        SplitRange(min_context=0)
    with pytest.raises(UsageError):
        SplitRange(min_gap=4, max_gap=3)


@pytest.mark.parametrize("split", SplitRange().all_splits(), ids=lambda s: f"{s.past}-{s.gap}-{s.future}")
def test_context_views_for_every_split(split):
    rng = np.random.default_rng(split.past * 7 + split.gap)
    latents = rng.standard_normal((2, 16, 3)).astype(np.float32)
    views = {k: np.asarray(v) for k, v in context_views(latents, split.gap_start, split.gap, 6).items()}
    assert views["past"].shape == views["future"].shape == (2, 16, 3)
    assert views["past_mask"].shape == views["future_mask"].shape == (2, 16)
    assert views["gap_mask"].shape == (2, 6)
    assert views["past_mask"].sum(axis=1).tolist() == [split.past] * 2
    assert views["future_mask"].sum(axis=1).tolist() == [split.future] * 2
    assert views["gap_mask"].sum(axis=1).tolist() == [split.gap] * 2
    # Right-padded masks with the real bars first, nothing of the gap visible.
    np.testing.assert_array_equal(views["past"][:, :split.past], latents[:, :split.gap_start])
    np.testing.assert_array_equal(views["future"][:, :split.future], latents[:, split.gap_end:])
    assert not views["past"][:, split.past:].any() and not views["future"][:, split.future:].any()
    chosen = np.asarray(gap_bars(latents, split.gap_start, 6))
    np.testing.assert_array_equal(chosen[:, :split.gap], latents[:, split.gap_start:split.gap_end])


def test_window_around_gap_prefers_six_past_bars_and_keeps_the_gap():
    assert window_around_gap(40, 20, 4) == (14, GapSplit(6, 4, 6))
    assert window_around_gap(12, 8, 2) == (0, GapSplit(8, 2, 2))  # short future: more past
    assert window_around_gap(30, 2, 3) == (0, GapSplit(2, 3, 11))  # short past: more future
    assert window_around_gap(10, 3, 2) == (0, GapSplit(3, 2, 5))  # whole short piece


@pytest.mark.parametrize("start, length, message", [
    (0, 3, "no context before"), (17, 3, "no context after"), (18, 4, "out of range"),
    (3, 15, "too long")])
def test_window_around_gap_errors(start, length, message):
    with pytest.raises(UsageError, match=message):
        window_around_gap(20, start, length)


def test_parse_bar_range():
    assert parse_bar_range("9-12") == (8, 4)
    assert parse_bar_range(" 5 ") == (4, 1)
    for bad in ("0-3", "5-4", "a-b", "9-"):
        with pytest.raises(UsageError):
            parse_bar_range(bad)


def _piece(bars):
    return PieceMelody(np.asarray(bars, np.int32).reshape(-1), 120.0, 4)


def test_find_empty_gap_takes_the_longest_interior_silence():
    note, hold, off, rest = 50, 0, 1, 0
    bars = [[rest] * 4, [note, hold, hold, off], [rest] * 4, [note, off, rest, rest],
            [rest] * 4, [rest] * 4, [note, hold, hold, hold], [hold] * 4, [note, off, 0, 0]]
    # Bar 0 is a leading rest (not interior); bar 7 holds a note (not silent).
    assert find_empty_gap(_piece(bars)) == (4, 2)
    with pytest.raises(UsageError, match="no --bars"):
        find_empty_gap(_piece([[note, off, 0, 0], [note, hold, hold, off]]))


def test_monophonic_tokens_is_highest_first_and_bar_padded():
    data = DataConfig(steps_per_bar=4, steps_per_quarter=1, min_pitch=21)
    tokens = monophonic_tokens([(0, 2, 60), (0, 1, 64), (2, 6, 62), (3, 5, 67)], data)
    assert tokens.tolist() == [2 + 64 - 21, 1, 2 + 62 - 21, 2 + 67 - 21, 0, 1, 0, 0]


def test_interpolation_and_repeat_baselines():
    latents = np.zeros((1, 8, 2), np.float32)
    latents[0, 1] = [0.0, 0.0]
    latents[0, 5] = [4.0, -4.0]
    split = GapSplit(2, 3, 3)
    np.testing.assert_allclose(interpolation_latents(latents, split)[0],
                               [[1, -1], [2, -2], [3, -3]])
    np.testing.assert_array_equal(repeat_last_bar_latents(latents, split)[0], [[0, 0]] * 3)
    bar_tokens = np.arange(8 * 4).reshape(1, 8, 4)
    np.testing.assert_array_equal(repeat_last_bar_tokens(bar_tokens, split)[0], [[4, 5, 6, 7]] * 3)


def test_gap_metrics_separate_pitch_and_rhythm():
    assert rhythm_classes(np.array([0, 1, 2, 60])).tolist() == [0, 1, 2, 2]
    targets = np.array([[40, 0, 1, 50]])
    generated = np.array([[41, 0, 0, 50]])  # wrong pitch at 0, wrong rhythm at 2
    logits = np.full((1, 4, 90), -10.0)
    logits[0, np.arange(4), targets[0]] = 10.0
    metrics = GapMetrics()
    metrics.add(targets, generated, logits)
    result = metrics.result()
    assert result["accuracy"] == 0.5
    assert result["rhythm_accuracy"] == 0.75
    assert result["pitch_accuracy"] == 0.5
    assert result["accuracy_teacher_forced"] == 1.0
    assert 0 < result["nll"] < 1e-3
    assert result["gap_tokens"] == 4
