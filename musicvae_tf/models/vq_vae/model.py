"""The VQ-VAE over bars: MusicVAE's bidirectional LSTM bar encoder, a vector quantiser per bar
(``num_groups`` codes per bar from one codebook) and MusicVAE's hierarchical bar decoder with the
bar's code vector in place of the conductor's embedding (SPEC_MODELS §D3)."""

from __future__ import annotations

import keras
import tensorflow as tf

from musicvae_tf.layers.autoregressive import resolve_seed
from musicvae_tf.layers.lstm_stack import LSTMStack
from musicvae_tf.models.music_vae.encoder import final_states
from musicvae_tf.models.music_vae.hierarchical_decoder import HierarchicalDecoder
from musicvae_tf.models.music_vae.model import encoding_sizes
from musicvae_tf.models.vq_vae.config import vq_settings
from musicvae_tf.models.vq_vae.quantizer import VectorQuantizerEMA


@keras.saving.register_keras_serializable(package="musicvae_tf")
class CodeBarDecoder(HierarchicalDecoder):
    """MusicVAE's hierarchical decoder without a conductor: bar u is decoded from the code vector
    of bar u (``[B, U * latent_dim]`` or ``[B, U, latent_dim]``), which sets the bar LSTM's initial
    state through ``tanh(Dense)`` and joins every step's input; bar u's first input is bar u - 1's
    last token. Bars therefore share nothing but that token, so a bar's code says all about it."""

    def __init__(self, units, latent_dim, num_classes, num_bars, steps_per_bar, **kwargs):
        kwargs.pop("conductor_units", None)
        super().__init__([latent_dim], units, latent_dim, num_classes, num_bars, steps_per_bar,
                         **kwargs)

    def build(self, input_shape=None):
        for lstm, initial, output in self.cores():
            lstm.build()
            initial.build((None, self.latent_dim))
            output.build((None, self.units[-1]))
        self.built = True

    def bar_embeddings(self, z):
        """The per-bar code vectors ``[B, U, latent_dim]``."""
        return tf.reshape(tf.cast(z, self.compute_dtype), [-1, self.num_bars, self.latent_dim])

    def get_config(self):
        config = super().get_config()
        config.pop("conductor_units")
        return config


@keras.saving.register_keras_serializable(package="musicvae_tf")
class VQVAE(keras.Model):
    """Encoder inputs ``[B, U * S, input_depth]`` -> per-bar vectors ``z_e [B, U, G, D]``
    (``D = latent_dim / G``; batch-normalised with ``batch_norm``) -> codes ``[B, U, G]`` ->
    logits ``[B, U * S, num_classes]``.

    ``encode`` and ``sample_tokens`` take the flat pre-quantisation vectors ``[B, U * latent_dim]``
    (what ``TrainedModel`` calls z): decoding snaps each group to its nearest code first.
    """

    def __init__(self, num_classes, num_bars, steps_per_bar, encoder_units, latent_dim,
                 num_groups, codebook_size, decoder_units=(512, 512), lstm_impl="auto",
                 decay=0.99, epsilon=1e-5, commitment=0.25, dead_threshold=1.0,
                 batch_norm=True, output_splits=None, input_depth=None, control_depth=0,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.output_splits = [int(s) for s in (output_splits or [self.num_classes])]
        self.input_depth = int(self.num_classes if input_depth is None else input_depth)
        self.control_depth = int(control_depth)
        self.num_bars, self.steps_per_bar = int(num_bars), int(steps_per_bar)
        self.encoder_units = [int(u) for u in encoder_units]
        self.latent_dim = int(latent_dim)
        self.num_groups = int(num_groups)
        self.code_dim = self.latent_dim // self.num_groups
        self.codebook_size = int(codebook_size)
        self.decoder_units = [int(u) for u in decoder_units]
        self.lstm_impl = str(lstm_impl)
        self.bar_encoder = LSTMStack(self.encoder_units, input_dim=self.input_depth,
                                     bidirectional=True, impl=self.lstm_impl, name="bar_encoder")
        self.projection = keras.layers.Dense(self.latent_dim, dtype="float32", name="pre_quantize")
        self.batch_norm = bool(batch_norm)
        self.normalization = keras.layers.BatchNormalization(
            center=False, scale=False, momentum=0.9, dtype="float32",
            name="pre_quantize_norm") if self.batch_norm else None
        self.quantizer = VectorQuantizerEMA(self.codebook_size, self.code_dim, decay, epsilon,
                                            commitment, dead_threshold, name="quantizer")
        self.decoder = CodeBarDecoder(self.decoder_units, self.latent_dim, self.num_classes,
                                      self.num_bars, self.steps_per_bar, lstm_impl=self.lstm_impl,
                                      output_splits=self.output_splits,
                                      control_depth=self.control_depth, name="decoder")
        self._sample_function = tf.function(self._sample, reduce_retracing=True)

    def build(self, input_shape=None):
        self.bar_encoder.build()
        self.projection.build((None, 2 * self.encoder_units[-1]))
        if self.normalization is not None:
            self.normalization.build((None, self.latent_dim))
        self.quantizer.build()
        self.decoder.build()
        self.built = True

    def encode_bars(self, inputs, training=False):
        """Pre-quantisation vectors float32 ``[B, U, G, D]``, each bar encoded on its own."""
        bars = tf.reshape(inputs, [-1, self.steps_per_bar, inputs.shape[-1]])
        z_e = self.projection(tf.cast(final_states(self.bar_encoder, bars), tf.float32))
        if self.normalization is not None:
            z_e = self.normalization(z_e, training=training)
        return tf.reshape(z_e, [-1, self.num_bars, self.num_groups, self.code_dim])

    def quantize_bars(self, z_e):
        """``(z_q [B, U, latent_dim] straight-through, codes [B, U, G], commitment loss)``."""
        z_q, codes, commitment = self.quantizer(
            tf.reshape(z_e, [-1, self.num_bars, self.num_groups, self.code_dim]))
        return tf.reshape(z_q, [-1, self.num_bars, self.latent_dim]), codes, commitment

    def codes(self, inputs):
        """Code indices int32 ``[B, U, G]`` of encoder inputs."""
        return self.quantizer.nearest(self.encode_bars(inputs))

    def code_vectors(self, codes):
        """Flat code vectors float32 ``[B, U * latent_dim]`` of indices ``[B, U, G]``."""
        vectors = self.quantizer.lookup(tf.convert_to_tensor(codes, tf.int32))
        return tf.reshape(vectors, [-1, self.num_bars * self.latent_dim])

    def encode(self, inputs, training=False):
        """``(z_e, zeros)`` flat ``[B, U * latent_dim]``: the pre-quantisation vectors as a
        posterior of zero width, so that ``TrainedModel.encode`` works unchanged."""
        z_e = tf.reshape(self.encode_bars(inputs, training), [-1, self.num_bars * self.latent_dim])
        return z_e, tf.zeros_like(z_e)

    def call(self, inputs, training=False):
        z_e = self.encode_bars(inputs, training)
        z_q, codes, commitment = self.quantize_bars(z_e)
        logits = self.decode_logits(z_q, inputs, training=training)
        return {"logits": logits, "codes": codes, "z_e": z_e, "commitment": commitment}

    def decode_logits(self, z_q, targets_one_hot, training=False, controls=None):
        """Teacher-forced logits float32 ``[B, T, num_classes]`` from code vectors ``z_q``."""
        return self.decoder(z_q, targets_one_hot, controls, training=training)

    def _sample(self, z, temperature, seed, controls=None):
        z_q = tf.reshape(self.quantizer.lookup(self.quantizer.nearest(
            tf.reshape(z, [-1, self.num_bars, self.num_groups, self.code_dim]))),
            [-1, self.num_bars * self.latent_dim])
        return self.decoder.decode_stepwise(z_q, temperature=temperature, seed=seed,
                                            controls=controls)

    def sample(self, z, temperature=1.0, seed=None, controls=None):
        """``(logits, tokens)`` decoded step by step from flat vectors ``z [B, U * latent_dim]``,
        each group snapped to its nearest code; temperature 0 is argmax."""
        arguments = (tf.convert_to_tensor(z, tf.float32),
                     tf.constant(float(temperature), tf.float32), resolve_seed(seed))
        if controls is not None:
            arguments += (tf.convert_to_tensor(controls, tf.float32),)
        return self._sample_function(*arguments)

    def sample_tokens(self, z, temperature=1.0, seed=None, controls=None):
        """Tokens int32 decoded from flat vectors (see :meth:`sample`)."""
        return self.sample(z, temperature=temperature, seed=seed, controls=controls)[1]

    def get_config(self):
        config = super().get_config()
        quantizer = self.quantizer
        config.update(num_classes=self.num_classes, num_bars=self.num_bars,
                      steps_per_bar=self.steps_per_bar, encoder_units=self.encoder_units,
                      latent_dim=self.latent_dim, num_groups=self.num_groups,
                      codebook_size=self.codebook_size, decoder_units=self.decoder_units,
                      lstm_impl=self.lstm_impl, decay=quantizer.decay,
                      epsilon=quantizer.epsilon, commitment=quantizer.commitment,
                      dead_threshold=quantizer.dead_threshold, batch_norm=self.batch_norm,
                      output_splits=self.output_splits, input_depth=self.input_depth,
                      control_depth=self.control_depth)
        return config


def build_model(config) -> VQVAE:
    """A built :class:`VQVAE` for a vq_vae :class:`Config`."""
    data, sizes, vq = config.data, config.model, vq_settings(config)
    model = VQVAE(**encoding_sizes(data), num_bars=data.num_bars,
                  steps_per_bar=data.steps_per_bar, encoder_units=sizes.encoder_units,
                  latent_dim=sizes.latent_dim, num_groups=vq.num_groups,
                  codebook_size=vq.codebook_size, decoder_units=sizes.decoder_units,
                  lstm_impl=sizes.lstm_impl, decay=vq.decay, epsilon=vq.epsilon,
                  commitment=vq.commitment, dead_threshold=vq.dead_threshold,
                  batch_norm=vq.batch_norm, name="vq_vae")
    model.build()
    return model


def config_mismatches(model, config) -> list[str]:
    """Fields on which a loaded :class:`VQVAE` and a config disagree (``name model/config``)."""
    if not isinstance(model, VQVAE):
        return [f"class {type(model).__name__}/VQVAE"]
    vq = vq_settings(config)
    expected = dict(num_bars=config.data.num_bars, steps_per_bar=config.data.steps_per_bar,
                    latent_dim=config.model.latent_dim, num_groups=vq.num_groups,
                    codebook_size=vq.codebook_size, encoder_units=list(config.model.encoder_units),
                    decoder_units=list(config.model.decoder_units))
    actual = model.get_config()
    return [f"{key} {actual[key]}/{value}" for key, value in expected.items()
            if actual[key] != value]
