"""The hierarchical MusicVAE decoder: a conductor LSTM over bars, a bar decoder within bars."""

from __future__ import annotations

import keras
import tensorflow as tf

from musicvae_tf.layers.autoregressive import DecoderCore, decode_autoregressively
from musicvae_tf.layers.lstm_stack import LSTMStack
from musicvae_tf.models.music_vae.decoder import Decoder, shift_right, split_states, with_controls


@keras.saving.register_keras_serializable(package="musicvae_tf")
class HierarchicalDecoder(Decoder):
    """z -> logits ``[B, U * S, sum(output_splits)]`` for U bars of S steps (SPEC §3).

    The conductor starts from ``tanh(Dense(z))``, reads a constant zero input (one feature) at
    each of its U steps and its top output ``c_u`` embeds bar u. With ``bar_latent_dim`` > 0 a
    linear ``bar_latent`` Dense maps each conductor output to an unbounded bar latent of that
    size, which then is ``c_u``: the shape of a one-bar MusicVAE's z, so that model's decoder
    loads into the bar decoder and the conductor can be taught its latents (staged training).
    With ``linear_skip`` a ``latent_skip`` Dense maps z straight to all U bar latents, added to
    the conductor's: a linear decoding of the bars that the conductor refines. The bar decoder starts every bar
    from ``tanh(Dense(c_u))`` (one Dense shared by all bars), sees ``c_u`` concatenated to every
    input, and its first input in bar u is the last token of bar u - 1 (zeros for bar 0).

    With several ``output_splits`` (tracks) there is one bar-decoder core per split, each with
    its own initial-state Dense, LSTM and logits, reading only its own split as teacher-forcing
    input and the same ``c_u`` (Magenta's ``SplitMultiOutLstmDecoder``); core 0 keeps the
    one-split layer names (``lstm``, ``initial_state_layer``, ``output_layer``) so that models
    saved before splits existed load unchanged, cores 1.. are in ``split_*`` lists. Controls of
    step t join every core's input at step t.

    Under teacher forcing all bars are decoded at once by folding them into the batch
    (``[B * U, S, ...]``), which is exact because a bar's inputs and initial state do not depend
    on the other bars' decoder states. Step-by-step decoding (sampling, and scheduled sampling
    during training) walks the bars in order, so bar u's first input is the token actually chosen
    at the last step of bar u - 1 (a sample or the ground truth, by the same per-step coin).
    """

    def __init__(self, conductor_units, units, latent_dim, num_classes, num_bars, steps_per_bar,
                 lstm_impl="auto", output_splits=None, control_depth=0, bar_latent_dim=0,
                 linear_skip=False, **kwargs):
        super().__init__(units, latent_dim, num_classes, lstm_impl, output_splits, control_depth,
                         **kwargs)
        self.conductor_units = [int(u) for u in conductor_units]
        self.num_bars = int(num_bars)
        self.steps_per_bar = int(steps_per_bar)
        self.bar_latent_dim = int(bar_latent_dim)
        self.embedding_dim = self.bar_latent_dim or self.conductor_units[-1]
        self.bar_latent_layer = keras.layers.Dense(
            self.bar_latent_dim, dtype="float32",
            name="bar_latent") if self.bar_latent_dim else None
        self.linear_skip = bool(linear_skip)
        if self.linear_skip and not self.bar_latent_dim:
            raise ValueError("a linear skip needs bar_latent_dim")
        self.latent_skip_layer = keras.layers.Dense(
            self.num_bars * self.bar_latent_dim, dtype="float32",
            name="latent_skip") if self.linear_skip else None
        self.conductor = LSTMStack(self.conductor_units, input_dim=1, impl=self.lstm_impl,
                                   name="conductor")
        self.conductor_initial_state_layer = keras.layers.Dense(
            2 * sum(self.conductor_units), activation="tanh", name="conductor_initial_state")
        cores = [self._core(size, "" if index == 0 else f"_{index}")
                 for index, size in enumerate(self.output_splits)]
        self.lstm, self.initial_state_layer, self.output_layer = cores[0]
        if len(cores) > 1:
            self.split_lstms = [core[0] for core in cores[1:]]
            self.split_initial_state_layers = [core[1] for core in cores[1:]]
            self.split_output_layers = [core[2] for core in cores[1:]]

    def _core(self, size: int, suffix: str):
        lstm = LSTMStack(self.units, input_dim=size + self.control_depth,
                         conditioning_dim=self.embedding_dim, impl=self.lstm_impl,
                         name=f"bar_lstm{suffix}")
        initial = keras.layers.Dense(2 * sum(self.units), activation="tanh",
                                     name=f"bar_initial_state{suffix}")
        output = keras.layers.Dense(size, dtype="float32", name=f"logits{suffix}")
        return lstm, initial, output

    def cores(self) -> list[tuple]:
        """``(lstm, initial_state_layer, output_layer)`` of each bar-decoder core, split order."""
        first = [(self.lstm, self.initial_state_layer, self.output_layer)]
        if len(self.output_splits) == 1:
            return first
        return first + list(zip(self.split_lstms, self.split_initial_state_layers,
                                self.split_output_layers))

    def build(self, input_shape=None):
        self.conductor.build()
        self.conductor_initial_state_layer.build((None, self.latent_dim))
        if self.bar_latent_layer is not None:
            self.bar_latent_layer.build((None, self.conductor_units[-1]))
        if self.latent_skip_layer is not None:
            self.latent_skip_layer.build((None, self.latent_dim))
        for lstm, initial, output in self.cores():
            lstm.build()
            initial.build((None, self.embedding_dim))
            output.build((None, self.units[-1]))
        self.built = True

    def bar_embeddings(self, z):
        """The bars' embeddings ``c_u`` ``[B, U, embedding_dim]``: the conductor's outputs, or
        their bar latents with ``bar_latent_dim``."""
        zeros = tf.zeros([tf.shape(z)[0], self.num_bars, 1], self.compute_dtype)
        states = split_states(self.conductor_initial_state_layer(z),
                              self.conductor.state_sizes())
        outputs, _ = self.conductor(zeros, initial_states=states)
        if self.bar_latent_layer is not None:
            outputs = self.bar_latent_layer(tf.cast(outputs, "float32"))
            if self.latent_skip_layer is not None:
                skip = self.latent_skip_layer(tf.cast(z, "float32"))
                outputs += tf.reshape(skip, [-1, self.num_bars, self.bar_latent_dim])
            outputs = tf.cast(outputs, self.compute_dtype)
        return tf.ensure_shape(outputs, [None, self.num_bars, self.embedding_dim])

    def call(self, z, targets_one_hot, controls=None, training=False):
        """Teacher-forced logits float32 ``[B, T, sum(output_splits)]``, all bars in parallel."""
        embeddings = self.bar_embeddings(z)
        batch = tf.shape(z)[0]
        folded_embeddings = tf.reshape(embeddings, [-1, self.embedding_dim])
        folded_controls = None if controls is None else tf.reshape(
            controls, [-1, self.steps_per_bar, self.control_depth])
        logits = []
        for (lstm, initial, output), split in zip(
                self.cores(), tf.split(shift_right(targets_one_hot), self.output_splits, -1)):
            inputs = with_controls(tf.reshape(split, [-1, self.steps_per_bar, split.shape[-1]]),
                                   folded_controls)
            states = split_states(initial(folded_embeddings), lstm.state_sizes())
            outputs, _ = lstm(inputs, conditioning=folded_embeddings, initial_states=states)
            logits.append(output(tf.cast(outputs, "float32")))
        logits = logits[0] if len(logits) == 1 else tf.concat(logits, axis=-1)
        return tf.reshape(logits, [batch, self.num_bars * self.steps_per_bar, self.num_classes])

    def decode_stepwise(self, z, targets=None, sampling_probability=1.0, temperature=1.0,
                        seed=None, controls=None):
        """Step-by-step decoding over all bars in order. Returns (logits, tokens)."""
        embeddings = self.bar_embeddings(z)
        cores = [DecoderCore(lstm, output, split_states(initial(embeddings), lstm.state_sizes()),
                             [size])
                 for (lstm, initial, output), size in zip(self.cores(), self.output_splits)]
        return decode_autoregressively(
            cores, embeddings, self.num_bars, self.steps_per_bar, controls=controls,
            targets=targets, sampling_probability=sampling_probability, temperature=temperature,
            seed=seed)

    def get_config(self):
        return {**super().get_config(), "conductor_units": self.conductor_units,
                "num_bars": self.num_bars, "steps_per_bar": self.steps_per_bar,
                "bar_latent_dim": self.bar_latent_dim, "linear_skip": self.linear_skip}
