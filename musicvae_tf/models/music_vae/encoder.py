"""The MusicVAE encoders: a stacked bidirectional LSTM over all steps (flat) or one over the steps
of each bar and one over the bar embeddings (hierarchical), to a diagonal Gaussian posterior."""

from __future__ import annotations

import keras
import tensorflow as tf

from musicvae_tf.layers.lstm_stack import LSTMStack


@keras.saving.register_keras_serializable(package="musicvae_tf")
class BidirectionalLstmEncoder(keras.layers.Layer):
    """Sequence ``[B, T, input_dim]`` -> ``(mu, sigma)`` each ``[B, latent_dim]`` (SPEC §3).

    The posterior input is ``concat(final forward h, final backward h)`` of the top layer;
    ``mu = Dense(h)``, ``sigma = softplus(Dense(h))`` with kernels drawn from N(0, 0.001^2).
    Both Dense layers run in float32 under mixed-precision policies. With ``mu_batch_norm`` > 0
    the mean is batch-normalised (no learned scale, a learned shift) and multiplied by that
    fixed scale, so each dimension's batch variance is ``mu_batch_norm ** 2`` (BN-VAE).
    """

    def __init__(self, units, latent_dim, input_dim, lstm_impl="auto", mu_batch_norm=0.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.units = [int(u) for u in units]
        self.latent_dim = int(latent_dim)
        self.input_dim = int(input_dim)
        self.lstm_impl = str(lstm_impl)
        self.mu_batch_norm = float(mu_batch_norm)
        self.lstm = LSTMStack(self._first_stack_units(), input_dim=self.input_dim,
                              bidirectional=True, impl=self.lstm_impl, name="lstm")
        init = keras.initializers.RandomNormal(stddev=0.001)
        self.mu_layer = keras.layers.Dense(self.latent_dim, kernel_initializer=init,
                                           dtype="float32", name="mu")
        self.sigma_layer = keras.layers.Dense(self.latent_dim, kernel_initializer=init,
                                              activation="softplus", dtype="float32",
                                              name="sigma")
        # A tiny epsilon: the N(0, 0.001^2) kernels start the means with a variance near 1e-6.
        self.mu_norm = keras.layers.BatchNormalization(
            scale=False, epsilon=1e-8, momentum=0.9, dtype="float32",
            name="mu_norm") if self.mu_batch_norm > 0 else None

    def build(self, input_shape=None):
        self.lstm.build()
        features = 2 * self.units[-1]
        self.mu_layer.build((None, features))
        self.sigma_layer.build((None, features))
        if self.mu_norm is not None:
            self.mu_norm.build((None, self.latent_dim))
        self.built = True

    def _first_stack_units(self) -> list[int]:
        return self.units

    def call(self, inputs, training=False):
        return self.posterior(final_states(self.lstm, inputs), training=training)

    def posterior(self, h, training=False, skip=None):
        """``(mu, sigma)`` of the final encoder features ``h [B, 2 * units[-1]]``; ``skip`` (a
        linear code of the bars) is added to the mean."""
        h = tf.cast(h, "float32")
        mu = self.mu_layer(h)
        if skip is not None:
            mu = mu + skip
        if self.mu_norm is not None:
            mu = self.mu_norm(mu, training=training) * self.mu_batch_norm
        return mu, self.sigma_layer(h)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, latent_dim=self.latent_dim, input_dim=self.input_dim,
                      lstm_impl=self.lstm_impl, mu_batch_norm=self.mu_batch_norm)
        return config


@keras.saving.register_keras_serializable(package="musicvae_tf")
class HierarchicalLstmEncoder(BidirectionalLstmEncoder):
    """Magenta's hierarchical encoder (``hier-*`` configs, level lengths [steps_per_bar, bars]):
    a bidirectional LSTM (``units[0]``) reads each bar on its own, and a second one (``units[1]``)
    reads the bars' embeddings (final forward and backward h); its final states give the
    posterior as in the flat encoder.

    The gradient from the posterior reaches a step through at most ``steps_per_bar + num_bars``
    recurrent steps instead of the whole sequence, and the bars run as one batch.

    With ``bar_latent_dim`` > 0 (a linear skip) each bar embedding also goes through a
    ``bar_latent`` Dense (a one-bar MusicVAE's mean layer: the bar's latent) and a ``latent_skip``
    Dense maps the ``num_bars`` bar latents together straight to the mean, added to the top
    level's: a linear code of the bars (staged training starts it at their whitened principal
    components) that the top LSTM refines.
    """

    def __init__(self, units, latent_dim, input_dim, steps_per_bar=16, bar_latent_dim=0,
                 num_bars=0, **kwargs):
        self.steps_per_bar = int(steps_per_bar)
        super().__init__(units, latent_dim, input_dim, **kwargs)
        if len(self.units) != 2:
            raise ValueError(f"a hierarchical encoder has 2 levels, got units {self.units}")
        self.top_lstm = LSTMStack(self.units[1:], input_dim=2 * self.units[0], bidirectional=True,
                                  impl=self.lstm_impl, name="top_lstm")
        self.bar_latent_dim = int(bar_latent_dim)
        self.num_bars = int(num_bars)
        if self.bar_latent_dim and self.num_bars < 1:
            raise ValueError("a linear skip needs num_bars")
        self.bar_latent_layer = keras.layers.Dense(
            self.bar_latent_dim, dtype="float32", name="bar_latent") if self.bar_latent_dim else None
        self.skip_layer = keras.layers.Dense(
            self.latent_dim, dtype="float32", name="latent_skip") if self.bar_latent_dim else None

    def _first_stack_units(self) -> list[int]:
        return self.units[:1]

    def build(self, input_shape=None):
        super().build()
        self.top_lstm.build()
        if self.bar_latent_layer is not None:
            self.bar_latent_layer.build((None, 2 * self.units[0]))
            self.skip_layer.build((None, self.num_bars * self.bar_latent_dim))

    def call(self, inputs, training=False):
        batch, depth = tf.shape(inputs)[0], inputs.shape[-1]
        bars = tf.reshape(inputs, [-1, self.steps_per_bar, depth])
        embeddings = final_states(self.lstm, bars)
        if self.bar_latent_layer is None:
            embeddings = tf.reshape(embeddings, [batch, -1, 2 * self.units[0]])
            return self.posterior(final_states(self.top_lstm, embeddings), training=training)
        bar_latents = self.bar_latent_layer(tf.cast(embeddings, "float32"))
        skip = self.skip_layer(tf.reshape(bar_latents, [batch, self.num_bars * self.bar_latent_dim]))
        embeddings = tf.reshape(embeddings, [batch, -1, 2 * self.units[0]])
        return self.posterior(final_states(self.top_lstm, embeddings), training=training,
                              skip=skip)

    def get_config(self):
        config = super().get_config()
        config.update(steps_per_bar=self.steps_per_bar, bar_latent_dim=self.bar_latent_dim,
                      num_bars=self.num_bars)
        return config


def final_states(lstm: LSTMStack, inputs):
    """``concat(final forward h, final backward h)`` of a bidirectional stack's top layer."""
    _, states = lstm(inputs)
    # states: [h_fw, c_fw, h_bw, c_bw] per layer.
    return tf.concat([states[-4], states[-2]], axis=-1)
