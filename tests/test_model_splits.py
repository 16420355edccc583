"""Several output splits and per-step controls (the seam drums, trio and chords build on), on a
tiny fake two-track encoding defined here: shapes, teacher forcing = stepping, each hierarchical
core reading only its own split, controls of step t reaching step t, the summed loss, saving and
the Magenta layout."""

import numpy as np
import pytest
import tensorflow as tf

from data_pipelines.data_config import DataConfig
from data_pipelines.encodings.base import CONTROL, Encoding, RollLane, Track
from musicvae_tf.models.music_vae.losses import vae_losses
from musicvae_tf.models.music_vae.magenta_export import magenta_arrays
from musicvae_tf.models.music_vae.magenta_layout import magenta_layout
from musicvae_tf.models.music_vae.model import MusicVAE

DATA = DataConfig(num_bars=2, steps_per_bar=3)
BATCH = 3


class TwoTracks(Encoding):
    """Two categorical columns: two outputs, or an output and a control."""

    name = "two_tracks"

    def __init__(self, data_config, control: bool):
        super().__init__(data_config)
        self._tracks = (Track("a", 5), Track("b", 4, CONTROL if control else "output"))

    @property
    def tracks(self):
        return self._tracks

    def note_sequence_windows(self, note_sequence, source=""):
        raise NotImplementedError

    def to_note_sequence(self, tokens, qpm=120.0):
        raise NotImplementedError

    def from_note_sequence(self, note_sequence, num_steps=None):
        raise NotImplementedError

    def roll_lanes(self, tokens):
        return [RollLane(t.name, []) for t in self.tracks]


def model_for(encoding, decoder):
    model = MusicVAE(num_classes=sum(encoding.output_splits),
                     output_splits=list(encoding.output_splits),
                     input_depth=encoding.encoder_input_depth,
                     control_depth=encoding.control_depth, num_bars=DATA.num_bars,
                     steps_per_bar=DATA.steps_per_bar, encoder_units=[6], latent_dim=4,
                     decoder=decoder, decoder_units=[7, 5], conductor_units=[6],
                     lstm_impl="fused")
    model.build()
    return model


def batch(encoding, seed=0):
    rng = np.random.default_rng(seed)
    tokens = np.stack([rng.integers(0, t.num_classes, (BATCH, DATA.num_steps))
                       for t in encoding.tracks], axis=-1).astype(np.int32)
    return tf.constant(tokens)


@pytest.mark.parametrize("decoder", ["flat", "hierarchical"])
@pytest.mark.parametrize("control", [False, True])
def test_teacher_forcing_equals_stepping_and_sampling_draws_every_split(decoder, control):
    encoding = TwoTracks(DATA, control)
    model = model_for(encoding, decoder)
    tokens = batch(encoding)
    targets, output_tokens, controls = encoding.decoder_inputs(tokens)
    assert (controls is None) != control
    mu, _ = model.encode(encoding.encoder_inputs(tokens))
    assert model.encoder.input_dim == 9
    forced = model.decode_logits(mu, targets, controls=controls).numpy()
    assert forced.shape == (BATCH, DATA.num_steps, sum(encoding.output_splits))
    stepped = model.decode_logits(mu, targets, sampling_probability=tf.constant(1e-9), seed=1,
                                  controls=controls).numpy()
    np.testing.assert_allclose(stepped, forced, atol=1e-5)
    logits, sampled = model.sample(mu, temperature=1.0, seed=3, controls=controls)
    expected = (BATCH, DATA.num_steps) + ((2,) if not control else ())
    assert tuple(sampled.shape) == expected
    columns = sampled.numpy().reshape(BATCH, DATA.num_steps, -1)
    for k, size in enumerate(encoding.output_splits):
        assert columns[..., k].min() >= 0 and columns[..., k].max() < size
    greedy_logits, greedy = model.sample(mu, temperature=0.0, seed=3, controls=controls)
    fed_back = tf.concat([tf.one_hot(c, s) for c, s in zip(
        tf.unstack(tf.reshape(greedy, [BATCH, DATA.num_steps, -1]), axis=-1),
        encoding.output_splits)], axis=-1)
    np.testing.assert_allclose(model.decode_logits(mu, fed_back, controls=controls).numpy(),
                               greedy_logits.numpy(), atol=1e-5)
    assert output_tokens.shape[-1] == (2 if not control else DATA.num_steps)


def test_each_hierarchical_core_reads_only_its_own_split():
    encoding = TwoTracks(DATA, control=False)
    model = model_for(encoding, "hierarchical")
    assert len(model.decoder.cores()) == 2
    tokens = batch(encoding)
    targets, _, _ = encoding.decoder_inputs(tokens)
    z = tf.random.stateless_normal([BATCH, 4], seed=[0, 2])
    changed = tf.concat([targets[..., :5], tf.roll(targets[..., 5:], 1, axis=1)], axis=-1)
    before, after = model.decode_logits(z, targets).numpy(), model.decode_logits(z, changed).numpy()
    np.testing.assert_array_equal(before[..., :5], after[..., :5])
    assert not np.allclose(before[..., 5:], after[..., 5:])


@pytest.mark.parametrize("decoder", ["flat", "hierarchical"])
def test_the_control_of_step_t_reaches_step_t_and_not_before(decoder):
    encoding = TwoTracks(DATA, control=True)
    model = model_for(encoding, decoder)
    tokens = batch(encoding)
    targets, _, controls = encoding.decoder_inputs(tokens)
    z = tf.random.stateless_normal([BATCH, 4], seed=[0, 3])
    step = 4
    moved = tf.tensor_scatter_nd_update(
        controls, [[b, step] for b in range(BATCH)],
        tf.roll(controls[:, step], 1, axis=-1))
    before = model.decode_logits(z, targets, controls=controls).numpy()
    after = model.decode_logits(z, targets, controls=moved).numpy()
    np.testing.assert_array_equal(before[:, :step], after[:, :step])
    assert not np.allclose(before[:, step], after[:, step])


def test_split_loss_is_the_sum_of_each_splits_cross_entropy():
    logits = tf.random.stateless_normal([2, 6, 9], seed=[1, 1])
    tokens = tf.constant(np.stack([np.arange(12).reshape(2, 6) % 5,
                                   np.arange(12).reshape(2, 6) % 4], -1), tf.int32)
    mu = sigma = tf.ones([2, 3])
    terms = vae_losses(logits, tokens, mu, sigma, 0.0, 0.0, [5, 4])
    expected = sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tokens[..., k], logits=part)
                   for k, part in enumerate(tf.split(logits, [5, 4], axis=-1)))
    np.testing.assert_allclose(float(terms["reconstruction"]),
                               float(tf.reduce_mean(tf.reduce_sum(expected, -1))), rtol=1e-6)


@pytest.mark.parametrize("control", [False, True])
def test_saving_and_the_magenta_layout_keep_every_weight(tmp_path, control):
    import keras

    encoding = TwoTracks(DATA, control)
    model = model_for(encoding, "hierarchical")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    names = {variable.name for variable in magenta_layout(model)}
    prefixes = (["core_decoder/decoder/"] if control
                else ["core_decoder/core_decoder_0/decoder/", "core_decoder/core_decoder_1/"])
    assert all(any(n.startswith(p) for n in names) for p in prefixes)
    arrays = magenta_arrays(model)
    fresh = model_for(encoding, "hierarchical")
    for variable in magenta_layout(fresh):
        for piece in variable.pieces:
            piece.weight.assign(piece.from_magenta(arrays[variable.name]))
    for a, b in zip(model.weights, fresh.weights):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)
    if control:
        kernel = arrays["core_decoder/decoder/multi_rnn_cell/cell_0/lstm_cell/kernel"]
        ours = np.asarray(model.decoder.lstm.cell_weights[0][0][0])
        # Magenta rows [token 5, z 6, control 4]; ours [token 5, control 4, z 6] (gates reordered).
        np.testing.assert_allclose(np.sort(kernel[5:11].ravel()), np.sort(ours[9:15].ravel()))


def test_evaluation_counts_every_split_and_feeds_the_controls():
    from musicvae_tf.models.music_vae.evaluation import evaluate_model

    for control in (False, True):
        encoding = TwoTracks(DATA, control)
        model = model_for(encoding, "hierarchical")
        tokens = batch(encoding)
        result = evaluate_model(model, [(encoding.encoder_inputs(tokens), tokens)],
                                num_bars=DATA.num_bars, encoding=encoding)
        assert result["num_sequences"] == BATCH
        assert 0.0 <= result["teacher_forced_accuracy"] <= 1.0
        assert np.isfinite(result["reconstruction_nll"]) and result["reconstruction_nll"] > 0
