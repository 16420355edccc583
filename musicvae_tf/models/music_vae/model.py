"""MusicVAE: bidirectional LSTM encoder + flat or hierarchical LSTM decoder (SPEC §3)."""

from __future__ import annotations

import numbers

import keras
import tensorflow as tf

from musicvae_tf.layers.autoregressive import resolve_seed
from musicvae_tf.models.music_vae.encoder import BidirectionalLstmEncoder
from musicvae_tf.models.music_vae.flat_decoder import FlatDecoder
from musicvae_tf.models.music_vae.hierarchical_decoder import HierarchicalDecoder


@keras.saving.register_keras_serializable(package="musicvae_tf")
class MusicVAE(keras.Model):
    """A recurrent VAE over one-hot token sequences ``[B, T, C]``.

    ``model(one_hot, training, sampling_probability, seed)`` returns a dict with float32
    ``logits [B, T, C]``, ``mu``, ``sigma`` and ``z`` (a posterior sample when training, else mu).
    Teacher forcing runs whole sequences through the LSTM layers (``lstm_impl``: the fused CPU
    kernel, Keras's cuDNN-capable LSTM, or ``auto``; same weights); a sampling probability above
    zero (scheduled sampling) switches to step-by-step decoding.
    """

    def __init__(self, num_classes, num_bars, steps_per_bar, encoder_units, latent_dim,
                 decoder="flat", decoder_units=(256, 256), conductor_units=(), lstm_impl="auto",
                 mu_batch_norm=0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.num_bars = int(num_bars)
        self.steps_per_bar = int(steps_per_bar)
        self.num_steps = self.num_bars * self.steps_per_bar
        self.encoder_units = [int(u) for u in encoder_units]
        self.latent_dim = int(latent_dim)
        self.decoder_kind = str(decoder)
        self.decoder_units = [int(u) for u in decoder_units]
        self.conductor_units = [int(u) for u in conductor_units]
        self.lstm_impl = str(lstm_impl)
        self.mu_batch_norm = float(mu_batch_norm)
        self.encoder = BidirectionalLstmEncoder(self.encoder_units, self.latent_dim,
                                                self.num_classes, lstm_impl=self.lstm_impl,
                                                mu_batch_norm=self.mu_batch_norm, name="encoder")
        if self.decoder_kind == "flat":
            self.decoder = FlatDecoder(self.decoder_units, self.latent_dim, self.num_classes,
                                       self.num_steps, lstm_impl=self.lstm_impl, name="decoder")
        elif self.decoder_kind == "hierarchical":
            self.decoder = HierarchicalDecoder(self.conductor_units, self.decoder_units,
                                               self.latent_dim, self.num_classes, self.num_bars,
                                               self.steps_per_bar, lstm_impl=self.lstm_impl,
                                               name="decoder")
        else:
            raise ValueError(f"unknown decoder {decoder!r}")
        self._sample_function = tf.function(self._sample, reduce_retracing=True)

    def build(self, input_shape=None):
        """Create all weights without running the model."""
        self.encoder.build()
        self.decoder.build()
        self.built = True

    def encode(self, one_hot, training=False):
        """Posterior parameters ``(mu, sigma)``, each float32 ``[B, latent_dim]``."""
        return self.encoder(one_hot, training=training)

    def call(self, inputs, training=False, sampling_probability=0.0, seed=None):
        mu, sigma = self.encode(inputs, training=training)
        if training:
            shape = tf.shape(mu)
            if seed is None:
                noise = tf.random.normal(shape)
            else:
                noise = tf.random.stateless_normal(
                    shape, tf.random.experimental.stateless_fold_in(resolve_seed(seed), 1))
            z = mu + sigma * noise
        else:
            z = mu
        logits = self.decode_logits(z, inputs, sampling_probability=sampling_probability,
                                    seed=seed, training=training)
        return {"logits": logits, "mu": mu, "sigma": sigma, "z": z}

    def decode_logits(self, z, targets_one_hot, sampling_probability=0.0, seed=None,
                      training=False):
        """Logits float32 ``[B, T, C]`` for ``targets_one_hot`` given z.

        ``sampling_probability`` 0 is teacher forcing (all steps at once); above 0 each step's
        input is, per example, the model's own sample (temperature 1) with that probability.
        A tensor probability chooses between the two paths at run time.
        """
        z = tf.cast(z, "float32")

        def teacher_forced():
            return self.decoder(z, targets_one_hot, training=training)

        def scheduled():
            # An all-zero target row (token dropout) stays an all-zero input: index -1.
            targets = tf.where(tf.reduce_max(targets_one_hot, axis=-1) > 0,
                               tf.argmax(targets_one_hot, axis=-1, output_type=tf.int32), -1)
            logits, _ = self.decoder.decode_stepwise(
                z, targets=targets, sampling_probability=sampling_probability, temperature=1.0,
                seed=seed)
            return logits

        if isinstance(sampling_probability, numbers.Number):
            return teacher_forced() if sampling_probability <= 0 else scheduled()
        return tf.cond(tf.convert_to_tensor(sampling_probability) > 0, scheduled, teacher_forced)

    def _sample(self, z, temperature, seed):
        return self.decoder.decode_stepwise(z, temperature=temperature, seed=seed)

    def sample(self, z, temperature=1.0, seed=None):
        """Autoregressive decoding inside a ``tf.function``: ``(logits [B,T,C], tokens [B,T])``.

        Temperature 0 is argmax. The same seed gives the same tokens; None draws a fresh seed.
        """
        z = tf.convert_to_tensor(z, tf.float32)
        return self._sample_function(z, tf.constant(float(temperature), tf.float32),
                                     resolve_seed(seed))

    def sample_tokens(self, z, temperature=1.0, seed=None):
        """Autoregressive tokens int32 ``[B, T]`` (see :meth:`sample`)."""
        return self.sample(z, temperature=temperature, seed=seed)[1]

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, num_bars=self.num_bars,
                      steps_per_bar=self.steps_per_bar, encoder_units=self.encoder_units,
                      latent_dim=self.latent_dim, decoder=self.decoder_kind,
                      decoder_units=self.decoder_units, conductor_units=self.conductor_units,
                      lstm_impl=self.lstm_impl, mu_batch_norm=self.mu_batch_norm)
        return config


def build_model(config) -> MusicVAE:
    """A built (weights created, not run) :class:`MusicVAE` for a :class:`Config`."""
    data, model_config = config.data, config.model
    model = MusicVAE(
        num_classes=data.num_classes, num_bars=data.num_bars, steps_per_bar=data.steps_per_bar,
        encoder_units=model_config.encoder_units, latent_dim=model_config.latent_dim,
        decoder=model_config.decoder, decoder_units=model_config.decoder_units,
        conductor_units=model_config.conductor_units, lstm_impl=model_config.lstm_impl,
        mu_batch_norm=model_config.mu_batch_norm, name="music_vae")
    model.build((None, data.num_steps, data.num_classes))
    return model


def config_mismatches(model, config) -> list[str]:
    """Fields on which a loaded MusicVAE and a :class:`Config` disagree, as ``name model/config``
    strings (empty when they agree, or when ``model`` is not a MusicVAE)."""
    if not isinstance(model, MusicVAE):
        return []
    data, sizes = config.data, config.model
    expected = dict(num_classes=data.num_classes, num_bars=data.num_bars,
                    steps_per_bar=data.steps_per_bar, encoder_units=list(sizes.encoder_units),
                    latent_dim=sizes.latent_dim, decoder=sizes.decoder,
                    decoder_units=list(sizes.decoder_units),
                    conductor_units=list(sizes.conductor_units))
    actual = model.get_config()
    found = {key: list(value) if isinstance(value, (list, tuple)) else value
             for key, value in actual.items() if key in expected}
    return [f"{key} {found[key]}/{value}" for key, value in expected.items()
            if key in found and found[key] != value]
