"""MusicVAE: bidirectional LSTM encoder + flat or hierarchical LSTM decoder (SPEC §3)."""

from __future__ import annotations

import numbers

import keras
import tensorflow as tf

from data_pipelines.encodings import encoding_for
from musicvae_tf.layers.autoregressive import resolve_seed
from musicvae_tf.models.music_vae.encoder import BidirectionalLstmEncoder, HierarchicalLstmEncoder
from musicvae_tf.models.music_vae.flat_decoder import FlatDecoder
from musicvae_tf.models.music_vae.hierarchical_decoder import HierarchicalDecoder


@keras.saving.register_keras_serializable(package="musicvae_tf")
class MusicVAE(keras.Model):
    """A recurrent VAE over token sequences, sized by an encoding (``data_pipelines.encodings``).

    The encoder reads ``input_depth`` features per step (the encoding's ``encoder_inputs``, which
    hold the one-hot controls too); the decoder predicts ``output_splits`` (one softmax per
    track, ``num_classes`` = their sum) from the one-hots of the previous targets and, with
    ``control_depth`` > 0, the controls of each step. One split without controls is the melody
    model (input depth = num_classes = 90).

    ``model(one_hot, training, sampling_probability, seed)`` (encoder inputs that are also the
    decoder targets, as for a melody) returns a dict with float32 ``logits [B, T, num_classes]``,
    ``mu``, ``sigma`` and ``z`` (a posterior sample when training, else mu). Teacher forcing runs
    whole sequences through the LSTM layers (``lstm_impl``: the fused CPU kernel, Keras's
    cuDNN-capable LSTM, or ``auto``; same weights); a sampling probability above zero (scheduled
    sampling) switches to step-by-step decoding.
    """

    def __init__(self, num_classes, num_bars, steps_per_bar, encoder_units, latent_dim,
                 decoder="flat", decoder_units=(256, 256), conductor_units=(), lstm_impl="auto",
                 mu_batch_norm=0.0, output_splits=None, input_depth=None, control_depth=0,
                 encoder="flat", bar_latent_dim=0, linear_skip=False, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.output_splits = [int(s) for s in (output_splits or [self.num_classes])]
        if sum(self.output_splits) != self.num_classes:
            raise ValueError(f"output_splits {self.output_splits} do not sum to {num_classes}")
        self.input_depth = int(self.num_classes if input_depth is None else input_depth)
        self.control_depth = int(control_depth)
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
        self.encoder_kind = str(encoder)
        self.bar_latent_dim = int(bar_latent_dim)
        self.linear_skip = bool(linear_skip)
        encoder_sizes = dict(lstm_impl=self.lstm_impl, mu_batch_norm=self.mu_batch_norm,
                             name="encoder")
        if self.encoder_kind == "flat":
            self.encoder = BidirectionalLstmEncoder(self.encoder_units, self.latent_dim,
                                                    self.input_depth, **encoder_sizes)
        elif self.encoder_kind == "hierarchical":
            self.encoder = HierarchicalLstmEncoder(
                self.encoder_units, self.latent_dim, self.input_depth, self.steps_per_bar,
                bar_latent_dim=self.bar_latent_dim if self.linear_skip else 0,
                num_bars=self.num_bars, **encoder_sizes)
        else:
            raise ValueError(f"unknown encoder {encoder!r}")
        sizes = dict(lstm_impl=self.lstm_impl, output_splits=self.output_splits,
                     control_depth=self.control_depth, name="decoder")
        if self.decoder_kind == "flat":
            self.decoder = FlatDecoder(self.decoder_units, self.latent_dim, self.num_classes,
                                       self.num_steps, **sizes)
        elif self.decoder_kind == "hierarchical":
            self.decoder = HierarchicalDecoder(self.conductor_units, self.decoder_units,
                                               self.latent_dim, self.num_classes, self.num_bars,
                                               self.steps_per_bar,
                                               bar_latent_dim=self.bar_latent_dim,
                                               linear_skip=self.linear_skip, **sizes)
        else:
            raise ValueError(f"unknown decoder {decoder!r}")
        self._sample_function = tf.function(self._sample, reduce_retracing=True)

    def build(self, input_shape=None):
        """Create all weights without running the model."""
        self.encoder.build()
        self.decoder.build()
        self.built = True

    def encode(self, inputs, training=False):
        """Posterior parameters ``(mu, sigma)`` of encoder inputs ``[B, T, input_depth]``, each
        float32 ``[B, latent_dim]``."""
        return self.encoder(inputs, training=training)

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
                      training=False, controls=None, stepwise=False):
        """Logits float32 ``[B, T, num_classes]`` for ``targets_one_hot`` (the splits' one-hots,
        concatenated) given z and, for a model with controls, ``controls [B, T, control_depth]``.

        ``sampling_probability`` 0 is teacher forcing (all steps at once); above 0 each step's
        input is, per example, the model's own sample (temperature 1) with that probability.
        A tensor probability chooses between the two paths at run time, unless ``stepwise``
        takes the step-by-step path whatever its value (XLA cannot compile the run-time choice
        around the step loop; at probability 0 both paths give the same logits).
        """
        z = tf.cast(z, "float32")

        def teacher_forced():
            return self.decoder(z, targets_one_hot, controls, training=training)

        def scheduled():
            # An all-zero target row (token dropout) stays an all-zero input: index -1.
            targets = tf.stack([
                tf.where(tf.reduce_max(split, axis=-1) > 0,
                         tf.argmax(split, axis=-1, output_type=tf.int32), -1)
                for split in tf.split(targets_one_hot, self.output_splits, axis=-1)], axis=-1)
            logits, _ = self.decoder.decode_stepwise(
                z, targets=targets, sampling_probability=sampling_probability, temperature=1.0,
                seed=seed, controls=controls)
            return logits

        if isinstance(sampling_probability, numbers.Number):
            return teacher_forced() if sampling_probability <= 0 else scheduled()
        if stepwise:
            return scheduled()
        return tf.cond(tf.convert_to_tensor(sampling_probability) > 0, scheduled, teacher_forced)

    def _sample(self, z, temperature, seed, controls=None):
        return self.decoder.decode_stepwise(z, temperature=temperature, seed=seed,
                                            controls=controls)

    def sample(self, z, temperature=1.0, seed=None, controls=None):
        """Autoregressive decoding inside a ``tf.function``: ``(logits [B, T, num_classes],
        tokens [B, T])``, tokens ``[B, T, splits]`` with several output splits; a model with
        controls needs ``controls [B, T, control_depth]``.

        Temperature 0 is argmax. The same seed gives the same tokens; None draws a fresh seed.
        """
        z = tf.convert_to_tensor(z, tf.float32)
        arguments = (z, tf.constant(float(temperature), tf.float32), resolve_seed(seed))
        if controls is not None:
            arguments += (tf.convert_to_tensor(controls, tf.float32),)
        return self._sample_function(*arguments)

    def sample_tokens(self, z, temperature=1.0, seed=None, controls=None):
        """Autoregressive tokens int32 (see :meth:`sample`)."""
        return self.sample(z, temperature=temperature, seed=seed, controls=controls)[1]

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, num_bars=self.num_bars,
                      steps_per_bar=self.steps_per_bar, encoder_units=self.encoder_units,
                      latent_dim=self.latent_dim, decoder=self.decoder_kind,
                      decoder_units=self.decoder_units, conductor_units=self.conductor_units,
                      lstm_impl=self.lstm_impl, mu_batch_norm=self.mu_batch_norm,
                      output_splits=self.output_splits, input_depth=self.input_depth,
                      control_depth=self.control_depth, encoder=self.encoder_kind,
                      bar_latent_dim=self.bar_latent_dim, linear_skip=self.linear_skip)
        return config


def encoding_sizes(data_config) -> dict:
    """The model sizes an encoding fixes: ``num_classes``, ``output_splits``, ``input_depth`` and
    ``control_depth``."""
    encoding = encoding_for(data_config)
    return dict(num_classes=sum(encoding.output_splits),
                output_splits=list(encoding.output_splits),
                input_depth=encoding.encoder_input_depth, control_depth=encoding.control_depth)


def build_model(config) -> MusicVAE:
    """A built (weights created, not run) :class:`MusicVAE` for a :class:`Config`, its sizes
    taken from the config's encoding."""
    data, model_config = config.data, config.model
    sizes = encoding_sizes(data)
    model = MusicVAE(
        **sizes, num_bars=data.num_bars, steps_per_bar=data.steps_per_bar,
        encoder_units=model_config.encoder_units, latent_dim=model_config.latent_dim,
        decoder=model_config.decoder, decoder_units=model_config.decoder_units,
        conductor_units=model_config.conductor_units, lstm_impl=model_config.lstm_impl,
        mu_batch_norm=model_config.mu_batch_norm, encoder=model_config.encoder,
        bar_latent_dim=model_config.bar_latent_dim, linear_skip=model_config.linear_skip,
        name="music_vae")
    model.build((None, data.num_steps, sizes["input_depth"]))
    return model


def config_mismatches(model, config) -> list[str]:
    """Fields on which a loaded MusicVAE and a :class:`Config` disagree, as ``name model/config``
    strings (empty when they agree, or when ``model`` is not a MusicVAE)."""
    if not isinstance(model, MusicVAE):
        return []
    data, sizes = config.data, config.model
    expected = dict(**encoding_sizes(data), num_bars=data.num_bars,
                    steps_per_bar=data.steps_per_bar, encoder_units=list(sizes.encoder_units),
                    latent_dim=sizes.latent_dim, encoder=sizes.encoder, decoder=sizes.decoder,
                    decoder_units=list(sizes.decoder_units),
                    conductor_units=list(sizes.conductor_units),
                    bar_latent_dim=sizes.bar_latent_dim, linear_skip=sizes.linear_skip)
    actual = model.get_config()
    found = {key: list(value) if isinstance(value, (list, tuple)) else value
             for key, value in actual.items() if key in expected}
    return [f"{key} {found[key]}/{value}" for key, value in expected.items()
            if key in found and found[key] != value]
