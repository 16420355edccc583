"""TrainedModel: seeded sampling, shapes, multi-window encode, interpolation, similar, attribute vectors."""

import shutil

import numpy as np
import pytest

from generation_support import synthetic_melodies, trained_run_dir, write_melody_midi
from musicvae_tf.attributes import attribute_values, compute_attribute_vectors
from data_pipelines.errors import MusicVAEError, UsageError
from musicvae_tf.trained_model import TrainedModel

PENTATONIC = [60, 62, 64, 67, 69]  # 5 pitches cycled over 4-beat bars: every window differs


@pytest.fixture(scope="module")
def model():
    return TrainedModel.load(trained_run_dir())


@pytest.fixture(scope="module")
def four_bar_midi(tmp_path_factory):
    return write_melody_midi(tmp_path_factory.mktemp("midi") / "four_bars.mid", PENTATONIC, bars=4)


def test_load_from_run_dir_or_keras_file(model):
    run_dir = trained_run_dir()
    again = TrainedModel.load(run_dir / "model.keras")
    assert again.data_config == model.data_config and model.latent_dim == 8
    assert model.attributes_path == run_dir / "attributes.npz"


def test_sampling_is_seeded_and_shaped(model):
    first = model.sample_tokens(6, temperature=0.5, seed=3)
    assert first.shape == (6, model.data_config.num_steps) and first.dtype == np.int32
    assert first.min() >= 0 and first.max() < model.data_config.num_classes
    np.testing.assert_array_equal(first, model.sample_tokens(6, temperature=0.5, seed=3))
    assert not np.array_equal(first, model.sample_tokens(6, temperature=0.5, seed=4))
    sequences = model.sample(2, seed=3)
    assert len(sequences) == 2 and all(len(s.notes) > 0 for s in sequences)
    assert sequences[0].total_time == pytest.approx(4.0)  # 2 bars of 4/4 at 120 qpm


def test_decode_takes_any_batch_size(model):
    z = model.sample_latents(300, seed=0)  # more rows than one decode chunk
    tokens = model.decode_tokens(z, temperature=0.0)
    assert tokens.shape == (300, model.data_config.num_steps)
    np.testing.assert_array_equal(tokens[:5], model.decode_tokens(z[:5], temperature=0.0))
    assert model.decode_tokens(z[0], temperature=0.0).shape == (1, model.data_config.num_steps)


def test_encode_returns_every_window_with_its_bar(model, four_bar_midi):
    encoded = model.encode(str(four_bar_midi), seed=0)
    z, mu, sigma = encoded
    count = len(encoded)
    # Windows hop one bar: bars 0, 1, 2 (and 3 when the final note-off spills into a fifth bar).
    assert count >= 3 and [w.bar_offset for w in encoded.windows] == list(range(count))
    assert z.shape == mu.shape == sigma.shape == (count, 8)
    assert np.all(sigma > 0) and not np.allclose(mu[0], mu[1])
    assert encoded.tokens.shape == (count, 32)
    picked = model.encode(four_bar_midi, bar=2)  # bars count from 1: the window at offset 1
    assert len(picked) == 1 and picked.windows[0].bar_offset == 1
    picked_z, picked_mu, picked_sigma = picked
    assert picked[0] is picked_z and picked[1] is picked.mu is picked_mu and picked[-1] is picked_sigma
    np.testing.assert_allclose(picked.mu[0], mu[1], rtol=1e-5, atol=1e-6)
    with pytest.raises(MusicVAEError, match="no window starts at bar 7.*1, 2, 3"):
        model.encode(four_bar_midi, bar=7)


def test_encode_accepts_pretty_midi_and_note_sequences(model, four_bar_midi):
    import pretty_midi

    from data_pipelines.midi_source import read_midi_file

    from_path = model.encode(four_bar_midi).mu
    np.testing.assert_allclose(model.encode(pretty_midi.PrettyMIDI(str(four_bar_midi))).mu, from_path, atol=1e-5)
    np.testing.assert_allclose(model.encode(read_midi_file(str(four_bar_midi))).mu, from_path, atol=1e-5)


def test_encode_errors_name_the_reason(model, tmp_path):
    with pytest.raises(MusicVAEError, match="not found"):
        model.encode(tmp_path / "missing.mid")
    drums = write_melody_midi(tmp_path / "drums.mid", [36, 38], bars=4, is_drum=True)
    with pytest.raises(MusicVAEError, match="no melody"):
        model.encode(drums)
    waltz = write_melody_midi(tmp_path / "waltz.mid", PENTATONIC, bars=4, numerator=3)
    with pytest.raises(MusicVAEError, match="meter"):
        model.encode(waltz)
    short = write_melody_midi(tmp_path / "short.mid", PENTATONIC, bars=1, duration=0.25)
    with pytest.raises(MusicVAEError, match="too short"):
        model.encode(short)


def test_unknown_model_path_is_a_clear_error(tmp_path):
    with pytest.raises(MusicVAEError, match="model not found"):
        TrainedModel.load(tmp_path / "nope")
    with pytest.raises(MusicVAEError, match="not a training run dir"):
        TrainedModel.load(tmp_path)


def test_interpolation_endpoints_decode_to_the_reconstructions(model, four_bar_midi, tmp_path):
    other = write_melody_midi(tmp_path / "other.mid", [72, 71, 69, 67, 65, 64, 62], bars=2)
    result = model.interpolate_tokens(four_bar_midi, other, num_steps=5, method="slerp", temperature=0.0)
    assert result.latents.shape == (5, 8) and result.tokens.shape == (5, 32)
    start, end = model.encode_one(four_bar_midi), model.encode_one(other)
    np.testing.assert_allclose(result.latents[0], start.mu[0], rtol=1e-6)
    np.testing.assert_allclose(result.latents[-1], end.mu[0], rtol=1e-6)
    np.testing.assert_array_equal(result.tokens[0], model.decode_tokens(start.mu, temperature=0.0)[0])
    np.testing.assert_array_equal(result.tokens[-1], model.decode_tokens(end.mu, temperature=0.0)[0])
    assert len(model.interpolate(four_bar_midi, other, num_steps=3, method="lerp", seed=1)) == 3


def test_interpolating_a_melody_with_itself_is_finite_and_constant(model, four_bar_midi):
    result = model.interpolate_tokens(four_bar_midi, four_bar_midi, num_steps=4, temperature=0.0)
    assert np.all(np.isfinite(result.latents))
    assert all(np.array_equal(row, result.tokens[0]) for row in result.tokens)


def test_similar_latents_mix_mu_and_noise_as_magenta_js(model, four_bar_midi):
    mu = model.encode_one(four_bar_midi).mu[0]
    noise = np.random.default_rng(0).standard_normal((16, mu.size)).astype(np.float32)
    np.testing.assert_allclose(model.similar_latents(mu, 16, 0.8, seed=0), 0.8 * mu + 0.2 * noise,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.similar_latents(mu, 2, 1.0, seed=0), np.stack([mu, mu]), atol=1e-6)
    with pytest.raises(UsageError, match=r"\[0, 1\]"):
        model.similar_latents(mu, 2, -0.5)


def test_cosine_latents_have_the_requested_cosine_similarity(model, four_bar_midi):
    mu = model.encode_one(four_bar_midi).mu[0]
    z = model.cosine_latents(mu, 16, 0.8, seed=0)
    cosine = z @ mu / (np.linalg.norm(z, axis=1) * np.linalg.norm(mu))
    np.testing.assert_allclose(cosine, 0.8, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), np.linalg.norm(mu), rtol=1e-5)
    tokens = model.similar_tokens(four_bar_midi, 3, 0.9, seed=2)
    assert tokens.shape == (3, 32)
    np.testing.assert_array_equal(tokens, model.similar_tokens(four_bar_midi, 3, 0.9, seed=2))


def test_note_density_vector_raises_decoded_density(model):
    data_config = model.data_config
    tokens = synthetic_melodies(512, data_config, seed=7)
    _, mu, _ = model.encode_tokens(tokens)
    model._attribute_vectors = compute_attribute_vectors(mu, tokens, data_config)
    z = model.sample_latents(256, seed=1)
    plain = attribute_values(model.decode_tokens(z, 0.5, seed=2), data_config)["note_density"]
    denser = attribute_values(model.decode_tokens(model.shift(z, "note_density", 1.0), 0.5, seed=2),
                              data_config)["note_density"]
    sparser = attribute_values(model.decode_tokens(model.shift(z, "note_density", -1.0), 0.5, seed=2),
                               data_config)["note_density"]
    assert denser.mean() > plain.mean() + 0.05
    assert sparser.mean() < plain.mean() - 0.05


def test_attribute_vectors_are_saved_beside_the_model(tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(trained_run_dir(), run_dir)
    model = TrainedModel.load(run_dir)
    with pytest.raises(MusicVAEError, match="no attribute vectors"):
        model.sample_tokens(2, seed=0, attribute="note_density", amount=1.0)
    tokens = synthetic_melodies(128, model.data_config, seed=3)
    model._attribute_vectors = compute_attribute_vectors(model.encode_tokens(tokens)[1], tokens,
                                                         model.data_config)
    assert model.save_attribute_vectors() == run_dir / "attributes.npz"
    reloaded = TrainedModel.load(run_dir)
    np.testing.assert_array_equal(reloaded.attribute_vectors.vector("note_density"),
                                  model.attribute_vectors.vector("note_density"))
    shifted = reloaded.sample_tokens(4, seed=0, attribute="note_density", amount=2.0)
    assert shifted.shape == (4, 32)
