"""SketchVAE and SketchNet: overfitting a tiny corpus, sketches obeyed, ``.keras`` round trip."""

from __future__ import annotations

import numpy as np
import pytest

from musicvae_tf.models.inpainting.gap import GapSplit
from musicvae_tf.models.sketch_vae.factorise import ONSET, pattern_rhythm, pitch_row, rhythm_row
from sketch_support import corpus_bars, corpus_windows, net_config, overfit_sketch_vae, vae_config


@pytest.fixture(scope="module")
def sketchnet():
    """An untrained tiny SketchNet: sketches are obeyed by construction, trained or not."""
    import keras

    from musicvae_tf.models.sketch_vae.model import build_sketch_vae
    from musicvae_tf.models.sketchnet.inpaint import SketchNetInpainter
    from musicvae_tf.models.sketchnet.model import build_sketchnet

    keras.utils.set_random_seed(0)
    config = net_config()
    return SketchNetInpainter(build_sketchnet(config, build_sketch_vae(vae_config())), config)


@pytest.mark.slow
def test_sketch_vae_reconstructs_the_corpus_it_overfits():
    """About 40 s: 300 Adam steps on six bars of different rhythms and pitches."""
    vae = overfit_sketch_vae()
    bars = corpus_bars()
    assert np.array_equal(vae.sample_tokens(vae.latents(bars)), bars)
    assert not np.array_equal(vae.sample_tokens(vae.latents(bars[::-1])), bars)
    from musicvae_tf.models.sketchnet.inpaint import SketchNetInpainter
    from musicvae_tf.models.sketchnet.model import build_sketchnet
    from musicvae_tf.models.sketchnet.sketches import Sketch

    inpainter = SketchNetInpainter(build_sketchnet(net_config(), vae), net_config(),
                                   {0: Sketch(rhythm=np.asarray(rhythm_row(bars[3])))})
    window = corpus_windows(1)[0].reshape(16, 16)
    filled = inpainter.gap_tokens(window, GapSplit(6, 4, 6), num_outputs=1, temperature=0.0)
    assert np.array_equal(np.asarray(rhythm_row(filled[0, 0])), np.asarray(rhythm_row(bars[3])))


def test_a_rhythm_sketch_is_obeyed_and_pitches_follow_in_order(sketchnet):
    from musicvae_tf.models.sketchnet.sketches import Sketch

    window = corpus_windows(1)[0].reshape(16, 16)
    pattern = "x-x.x---..x-xxx-"
    truth_onsets = np.flatnonzero(np.asarray(rhythm_row(window[7])) == ONSET)
    assert not np.array_equal(truth_onsets, np.flatnonzero(np.array(list(pattern)) == "x"))
    sketchnet.sketches = {1: Sketch(rhythm=pattern_rhythm(pattern, 16)),
                          2: Sketch(pitches=(40, 42, 44))}
    tokens = sketchnet.gap_tokens(window, GapSplit(6, 4, 6), num_outputs=2, temperature=1.0, seed=3)
    for output in tokens:
        assert np.array_equal(np.asarray(rhythm_row(output[1])), pattern_rhythm(pattern, 16))
        onsets = output[2][output[2] >= 2]
        assert onsets.tolist() == [40, 42, 44]
    sketchnet.sketches = {}


def test_a_true_rhythm_sketch_moves_the_latents_to_the_true_bars(sketchnet):
    """Scored as latents only (no constraint), the true rhythm's z_rhythm reaches the decoder
    in place of the connector's output, and z_pitch stays the connector's."""
    windows = corpus_windows(4, seed=1)
    bars = windows.reshape(4, 16, 16)[:, 6:10]
    latents = sketchnet.model.bar_latents(windows.reshape(4, 16, 16))
    sketch, mask = sketchnet.sketch_latents(4, 4, rhythm=np.asarray(rhythm_row(bars)))
    gap = np.asarray(sketchnet.model.gap_latents(latents, 6, 4, sketch, mask))
    true = np.asarray(sketchnet.model.bar_latents(bars))
    pitch = sketchnet.model.vae.pitch_latent
    assert np.allclose(gap[..., pitch:], true[..., pitch:], atol=1e-4)
    assert mask[..., pitch:].all() and not mask[..., :pitch].any()


def test_sketchnet_keras_round_trip(sketchnet, tmp_path):
    from musicvae_tf.models.loading import load_keras_file

    path = tmp_path / "sketchnet.keras"
    sketchnet.model.save(path)
    loaded = load_keras_file(path)
    windows = corpus_windows(2, seed=2).reshape(2, 16, 16)
    pitches = np.asarray(pitch_row(windows[:, 7:9])[0])
    sketch, mask = sketchnet.sketch_latents(2, 2, pitches=pitches)
    before, after = (np.asarray(model.gap_latents(model.bar_latents(windows), 7, 2, sketch, mask))
                     for model in (sketchnet.model, loaded))
    assert np.allclose(before, after, atol=1e-5) and mask[..., :8].all()
    bars = corpus_bars()
    assert np.array_equal(loaded.vae.sample_tokens(loaded.vae.latents(bars)),
                          sketchnet.model.vae.sample_tokens(sketchnet.model.vae.latents(bars)))
