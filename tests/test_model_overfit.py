"""A tiny MusicVAE memorises a few sequences (flat and hierarchical decoders)."""

import pytest
import tensorflow as tf
import keras

from musicvae_tf.models.music_vae.losses import vae_losses
from musicvae_tf.training.gradient_clip import clip_or_skip
from model_support import random_tokens, tiny_model


@pytest.mark.parametrize("hierarchical", [False, True])
def test_tiny_model_overfits(hierarchical):
    keras.utils.set_random_seed(0)
    config, model = tiny_model(hierarchical, "model.encoder_units=[32]", "model.latent_dim=8",
                               "model.decoder_units=[48]", "model.conductor_units=[16]")
    tokens = random_tokens(config, batch=4, seed=1)
    one_hot = tf.one_hot(tokens, config.data.num_classes)
    optimizer = keras.optimizers.Adam(0.01)

    @tf.function
    def step(seed):
        with tf.GradientTape() as tape:
            out = model(one_hot, training=True, seed=seed)
            terms = vae_losses(out["logits"], tokens, out["mu"], out["sigma"], 0.01, 0.0)
        grads, _, _ = clip_or_skip(tape.gradient(terms["loss"], model.trainable_variables),
                                   1.0, 1e4)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return terms

    first = step(tf.constant([0, 0]))
    for i in range(1, 80):
        last = step(tf.constant([i, 0]))
    assert float(last["reconstruction"]) < 0.2 * float(first["reconstruction"])
    assert float(last["accuracy"]) > 0.9
