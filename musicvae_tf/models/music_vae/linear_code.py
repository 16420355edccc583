"""Start a hierarchical MusicVAE's linear skip at the bars' whitened principal components.

The one-bar model encodes every bar of the training windows; each window becomes the vector of
its ``num_bars`` bar latents, each dimension divided by the bar model's average posterior sigma
(so that a dimension counts by how precisely the bar model knows it). The top ``latent_dim``
principal components of those vectors, whitened to unit variance, are a linear encoder whose
codes are distributed like the VAE's N(0, I) prior on the training data; the matching linear
decoder maps them back to the bar latents. Both go into the model's skip layers, the conductor's
bar-latent layer starts at zero, so before any training step z = the principal code and the bar
latents = its reconstruction (on the folk data, 512 components of 16 x 64 bar latents decode back
to nearly the bar model's own accuracy).
"""

from __future__ import annotations

import numpy as np

from data_pipelines.errors import MusicVAEError


def bar_latent_matrix(bar_model, batches, steps_per_bar: int, num_bars: int):
    """``(means [N, num_bars * Z], mean sigma per dimension [Z])`` of the windows in
    ``batches`` (``(one_hot, tokens)``), encoded bar by bar by ``bar_model``."""
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def encode(one_hot):
        bars = tf.reshape(one_hot, [-1, steps_per_bar, one_hot.shape[-1]])
        mu, sigma = bar_model.encode(bars, training=False)
        return tf.cast(mu, tf.float32), tf.reduce_sum(tf.cast(sigma, tf.float32), axis=0)

    means, sigma_sum, count = [], 0.0, 0
    for one_hot, _ in batches:
        mu, sigma = encode(one_hot)
        means.append(mu.numpy().reshape(-1, num_bars * mu.shape[-1]))
        sigma_sum = sigma_sum + sigma.numpy()
        count += int(mu.shape[0])
    if not means:
        raise MusicVAEError("no training windows to fit the linear code on")
    return np.concatenate(means), sigma_sum / count


def whitened_components(vectors: np.ndarray, scale: np.ndarray, size: int):
    """The linear code of ``vectors`` ``[N, D]`` (each dimension divided by ``scale`` ``[D]``):
    ``(encoder kernel [D, size], encoder bias [size], decoder kernel [size, D], decoder bias
    [D], explained share of the scaled variance)`` with ``code = x @ K_enc + b_enc`` white on
    ``vectors`` and ``x ~ code @ K_dec + b_dec``. Components beyond the data's rank get zero
    weight."""
    scaled = vectors / scale
    mean = scaled.mean(axis=0)
    _, singular, components = np.linalg.svd(scaled - mean, full_matrices=False)
    variances = singular ** 2 / max(1, len(scaled) - 1)
    keep = min(size, int((variances > 1e-9 * variances.max()).sum()))
    spread = np.sqrt(variances[:keep])
    basis = components[:keep]
    encoder = np.zeros((vectors.shape[1], size))
    encoder[:, :keep] = (basis / spread[:, None] / scale[None, :]).T
    decoder = np.zeros((size, vectors.shape[1]))
    decoder[:keep] = spread[:, None] * basis * scale[None, :]
    encoder_bias = -encoder.T @ (mean * scale)
    explained = float(variances[:keep].sum() / max(variances.sum(), 1e-12))
    return (encoder.astype(np.float32), encoder_bias.astype(np.float32),
            decoder.astype(np.float32), (mean * scale).astype(np.float32), explained)


def set_linear_code(model, bar_model, batches) -> dict:
    """Fit the whitened principal code on ``batches`` and write it into ``model``'s skip layers
    (in place); returns ``{"windows", "explained_variance"}`` for the log."""
    if not model.linear_skip:
        raise MusicVAEError("the model has no linear skip (model.linear_skip) to start")
    vectors, sigma = bar_latent_matrix(bar_model, batches, model.steps_per_bar, model.num_bars)
    scale = np.tile(np.maximum(sigma, 1e-3), model.num_bars)
    encoder, encoder_bias, decoder, decoder_bias, explained = whitened_components(
        vectors, scale, model.latent_dim)
    model.encoder.skip_layer.set_weights([encoder, encoder_bias])
    model.decoder.latent_skip_layer.set_weights([decoder, decoder_bias])
    conductor_out = model.decoder.bar_latent_layer
    conductor_out.set_weights([np.zeros_like(w) for w in conductor_out.get_weights()])
    return {"windows": int(len(vectors)), "explained_variance": explained}
