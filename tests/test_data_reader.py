"""tf.data input: shapes, dtypes, determinism, augmentation range and distribution sharding."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from data_pipelines.prepare import prepare_dataset
from data_pipelines.encodings.melody import transpose_tokens
from data_pipelines.reader import make_dataset
from midi_factory import make_midi, scale_notes, write
from musicvae_tf.config import load_config
from data_pipelines.errors import MusicVAEError


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("songs")
    for index in range(10):
        write(make_midi(scale_notes(first_pitch=40 + 3 * index, bars=8)), root / f"s{index}.mid")
    # a melody at the top of the range: only downward shifts are valid
    write(make_midi(scale_notes(first_pitch=93, bars=8)), root / "high.mid")
    out = tmp_path_factory.mktemp("data")
    config = load_config("cat-mel_2bar_small", ["data.eval_fraction=0.2", "data.test_fraction=0"])
    report = prepare_dataset(config, [str(root)], None, out, workers=1, num_shards=2,
                             progress=False)
    return out, config.data, report


def tokens_of(dataset, batches):
    return [tokens.numpy() for _, tokens in dataset.take(batches)]


def test_training_batches_shapes_dtypes_range_and_determinism(data):
    out, config, _ = data
    dataset = make_dataset(out, "train", config, 8, training=True, seed=3)
    one_hot, tokens = next(iter(dataset))
    assert one_hot.shape == (8, 32, 90) and one_hot.dtype == tf.float32
    assert tokens.shape == (8, 32) and tokens.dtype == tf.int32
    np.testing.assert_array_equal(tf.argmax(one_hot, -1).numpy(), tokens.numpy())
    first = tokens_of(make_dataset(out, "train", config, 8, training=True, seed=3), 12)
    again = tokens_of(make_dataset(out, "train", config, 8, training=True, seed=3), 12)
    other = tokens_of(make_dataset(out, "train", config, 8, training=True, seed=4), 12)
    assert all((a == b).all() for a, b in zip(first, again))
    assert any((a != b).any() for a, b in zip(first, other))
    stacked = np.concatenate(first)
    assert stacked.min() >= 0 and stacked.max() <= 89


def test_augmentation_changes_epochs_but_only_transposes(data):
    out, config, report = data
    plain = {tuple(t) for b in make_dataset(out, "train", config, 1, training=False).as_numpy_iterator()
             for t in b[1]}
    augmented = np.concatenate(tokens_of(make_dataset(out, "train", config, 8, training=True), 30))
    shifted = 0
    for window in augmented:
        notes = window >= 2
        matches = [k for k in range(-5, 6)
                   if tuple(np.where(notes, window - k, window)) in plain]
        assert matches, "an augmented window is not a transposed training window"
        shifted += 0 not in matches
    assert shifted > 0


def test_transposition_keeps_tokens_in_range_and_inverts():
    tokens = tf.constant([[2, 0, 1, 10, 0], [89, 0, 50, 1, 0], [0, 0, 1, 0, 0]], tf.int32)
    for fraction in (0.0, 0.5, 0.999):
        moved = transpose_tokens(tokens, tf.fill([3], fraction), -5, 5, 90)
        assert int(tf.reduce_min(moved)) >= 0 and int(tf.reduce_max(moved)) <= 89
        np.testing.assert_array_equal(moved.numpy()[:, [1, 2]] < 2, tokens.numpy()[:, [1, 2]] < 2)
        shift = (moved - tokens).numpy()
        first_row = shift[0][tokens.numpy()[0] >= 2]
        assert len(set(first_row)) == 1 and first_row[0] >= 0
    # a shift whose inverse is also valid: +3 then -3
    up = transpose_tokens(tokens[:1], tf.constant([0.75]), 3, 3, 90)
    down = transpose_tokens(up, tf.constant([0.0]), -3, -3, 90)
    np.testing.assert_array_equal(down.numpy(), tokens[:1].numpy())
    # no valid shift in [2, 5] for a window holding the highest pitch: fall back to 0
    np.testing.assert_array_equal(
        transpose_tokens(tokens[1:2], tf.constant([0.5]), 2, 5, 90).numpy(), tokens[1:2].numpy())


def test_eval_is_one_pass_in_file_order(data):
    out, config, report = data
    batches = tokens_of(make_dataset(out, "eval", config, 4, training=False), 100)
    assert sum(len(b) for b in batches) == report["windows"]["eval"]
    again = tokens_of(make_dataset(out, "eval", config, 4, training=False), 100)
    assert all((a == b).all() for a, b in zip(batches, again))


def test_input_context_shards_and_uses_per_replica_batches(data):
    out, config, report = data
    total = report["windows"]["train"]
    seen = []
    for pipeline in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline,
                                             num_replicas_in_sync=2)
        dataset = make_dataset(out, "eval", config, 8, training=False, input_context=context)
        batches = tokens_of(dataset, 100)
        assert max(len(b) for b in batches) <= 4
        seen.append(sum(len(b) for b in batches))
    assert sum(seen) == report["windows"]["eval"]
    context = tf.distribute.InputContext(2, 0, 2)
    _, tokens = next(iter(make_dataset(out, "train", config, 8, training=True, input_context=context)))
    assert tokens.shape == (4, 32) and total > 0


def test_incompatible_or_missing_data_is_a_one_line_error(data, tmp_path):
    out, config, _ = data
    with pytest.raises(MusicVAEError, match="num_bars"):
        make_dataset(out, "train", load_config("hierdec-mel_16bar").data, 8, training=True)
    with pytest.raises(MusicVAEError, match="musicvae-tf prepare"):
        make_dataset(tmp_path, "train", config, 8, training=True)


def test_shard_records_match_tensorflow_encoding():
    from data_pipelines.shards import crc32c, example_bytes, tfrecord

    assert crc32c(b"123456789") == 0xE3069283  # the standard CRC-32C check value
    payload = example_bytes([0, 1, 89, 300], "a.mid#2", 7)
    parsed = tf.train.Example.FromString(payload).features.feature
    assert list(parsed["tokens"].int64_list.value) == [0, 1, 89, 300]
    assert parsed["piece_id"].bytes_list.value == [b"a.mid#2"]
    assert list(parsed["bar_offset"].int64_list.value) == [7]
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".tfrecord") as handle:
        handle.write(tfrecord(payload) * 2)
        handle.flush()
        records = list(tf.data.TFRecordDataset(handle.name).as_numpy_iterator())
    assert records == [payload, payload]


def _epoch_records(max_per_piece, seed, input_context=None, epochs=3, pieces=6, per_piece=9):
    """Epochs of ``epoch_draws`` over synthetic windows whose first token names their piece."""
    from data_pipelines.reader import epoch_draws

    tokens = np.stack([[p, w] for p in range(pieces) for w in range(per_piece)]).astype(np.int32)
    keys = tokens[:, 0].astype(np.int64) * 7919  # any integer key per piece
    windows = tf.data.Dataset.from_tensor_slices((tokens, keys))
    stream = epoch_draws(windows, max_per_piece, seed, input_context)
    size = pieces * (min(max_per_piece, per_piece) if max_per_piece else per_piece)
    if input_context is not None:
        size //= input_context.num_input_pipelines
    flat = [tuple(t) for t in stream.take(epochs * size).as_numpy_iterator()]
    return [flat[i * size:(i + 1) * size] for i in range(epochs)]


def test_each_epoch_draws_at_most_the_cap_per_piece_afresh():
    epochs = _epoch_records(max_per_piece=3, seed=5)
    for epoch in epochs:
        counts = np.bincount([piece for piece, _ in epoch], minlength=6)
        assert (counts == 3).all() and len(set(epoch)) == len(epoch)
    assert epochs[0] != epochs[1]  # a fresh draw (and order) each epoch
    seen = set().union(*epochs)
    assert len(seen) > 6 * 3  # over epochs more than one epoch's windows are visited
    assert _epoch_records(max_per_piece=3, seed=5) == epochs  # deterministic per seed
    assert _epoch_records(max_per_piece=3, seed=6) != epochs


def test_without_a_cap_every_epoch_is_a_permutation_of_all_windows():
    epochs = _epoch_records(max_per_piece=0, seed=1)
    assert all(sorted(e) == sorted(epochs[0]) and len(e) == 54 for e in epochs)
    assert epochs[0] != epochs[1]


def test_input_pipelines_split_each_epoch_draw_between_them():
    whole = _epoch_records(max_per_piece=4, seed=2, epochs=1)[0]
    parts = [_epoch_records(max_per_piece=4, seed=2, epochs=1,
                            input_context=tf.distribute.InputContext(2, i, 2))[0]
             for i in range(2)]
    assert not set(parts[0]) & set(parts[1])
    assert sorted(parts[0] + parts[1]) == sorted(whole)


def test_training_reads_every_prepared_window_across_epochs(data):
    out, config, report = data
    plain = [tuple(t) for b in make_dataset(out, "train", config, 1, training=False)
             .as_numpy_iterator() for t in b[1]]
    assert len(plain) == report["windows"]["train"]
    untransposed = dataclasses.replace(config, transpose_range=(0, 0))
    seen = {tuple(b[1][0]) for b in make_dataset(out, "train", untransposed, 1, training=True,
                                                 seed=0).take(40 * len(plain))
            .as_numpy_iterator()}
    assert seen == set(plain)
